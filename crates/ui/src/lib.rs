//! The lobby terminal's touchscreen UI: an attract screen, the PIN pad and
//! the check-in result, in English and Spanish, written in Slint.
//!
//! The UI shows state and reports touches; it never decides anything.
//! `kiosk-app`'s check-in state machine builds a [`LobbyView`] (plain Rust,
//! see [`view`]), hands it to [`LobbyUi::show`], and receives every touch as a
//! [`UiInput`] through [`LobbyUi::on_input`]. Between the two sits the `Api`
//! global of `ui/api.slint`, the only part of the .slint code Rust touches.
//!
//! Until the terminal is enrolled, the same window shows the technician's
//! enrolment screen instead: [`LobbyUi::show_enrolment`] with an
//! [`EnrolView`], touches arriving as [`EnrolInput`] through
//! [`LobbyUi::on_enrol_input`], kept apart from the check-in's.
//!
//! Spanish strings are compiled in from `translations/es/LC_MESSAGES/ui.po`
//! (see `build.rs`), so switching language needs no files on the device.
//!
//! [`screenshots`] renders every screen to PNG without a display, for review
//! and for tests.

slint::include_modules!();

mod lobby_ui;
pub mod screenshots;
pub mod view;

pub use lobby_ui::LobbyUi;
pub use view::*;
