//! The lobby terminal's touchscreen UI: an attract screen, the PIN pad, the
//! check-in result and the video call (waiting, in call, ended), in English
//! and Spanish, written in Slint.
//!
//! The UI shows state and reports touches; it never decides anything.
//! `kiosk-app`'s check-in state machine builds a [`TerminalView`] (plain Rust,
//! see [`view`]), hands it to [`TerminalUi::show`], and receives every touch as a
//! [`UiInput`] through [`TerminalUi::on_input`].
//!
//! Between the two sit the exported Slint globals, the only part of the
//! .slint code Rust touches: one per family of screens, declared beside its
//! screens, and one for what the whole window shares. Each has a Rust module
//! that writes it and turns its callbacks into inputs; [`TerminalUi`] only
//! sets the window's and delegates the rest:
//!
//! | global (`ui/*.slint`) | screens | Rust side |
//! |---|---|---|
//! | `TerminalApi` (`terminal_api.slint`) | the screen up, language, status bar | `terminal_ui` |
//! | `CheckinApi` (`checkin_api.slint`) | attract, PIN pad, result | `checkin_ui` |
//! | `CallApi` (`call_api.slint`) | waiting, in call, call ended | `call_ui` |
//! | `EnrolApi` (`enrol_api.slint`) | enrolment | `enrol_ui` |
//! | `TechnicianApi` (`technician_api.slint`) | technician PIN, diagnostics, the hidden corner | `technician_ui` |
//! | `UnitApi` (`unit_api.slint`) | housing-unit sign-in and visits | `unit_ui` |
//!
//! Enums more than one family reads (`MessageKind`, `VisitStatus`) are in
//! `types.slint`.
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
