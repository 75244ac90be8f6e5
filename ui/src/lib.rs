//! The lobby terminal's touchscreen UI: an attract screen, the PIN pad, the
//! check-in result and the video call (waiting, in call, ended), in English
//! and Spanish, written in Slint.
//!
//! The UI shows state and reports touches; it never decides anything.
//! `kiosk-app`'s check-in state machine builds a [`TerminalView`] (plain Rust,
//! see [`view`]), hands it to [`TerminalUi::show`], and receives every touch as a
//! [`UiInput`] through [`TerminalUi::on_input`]. Between the two sits the `Api`
//! global of `ui/api.slint`, the only part of the .slint code Rust touches.
//!
//! Until the terminal is enrolled, the same window shows the technician's
//! enrolment screen instead: [`TerminalUi::show_enrolment`] with an
//! [`EnrolView`], touches arriving as [`EnrolInput`] through
//! [`TerminalUi::on_enrol_input`], kept apart from the check-in's.
//!
//! The call's video does not go through the view: `kiosk-app` hands each
//! decoded frame to [`TerminalUi::set_remote_frame`] and
//! [`TerminalUi::set_self_frame`] on the event loop's thread, and
//! [`TerminalUi::clear_video`] when the call is over.
//!
//! Spanish strings are compiled in from `translations/es/LC_MESSAGES/ui.po`
//! (see `build.rs`), so switching language needs no files on the device.
//!
//! [`screenshots`] renders every screen to PNG without a display, for review
//! and for tests.

slint::include_modules!();

mod call_ui;
mod checkin_ui;
mod enrol_ui;
mod samples;
pub mod screenshots;
mod technician_ui;
mod terminal_ui;
mod unit_samples;
mod unit_ui;
pub mod unit_view;
pub mod view;

pub use terminal_ui::TerminalUi;
pub use unit_view::*;
pub use view::*;
