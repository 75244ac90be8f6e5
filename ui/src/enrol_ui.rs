//! The enrolment screen as far as Rust is concerned: an [`EnrolView`] into
//! the `EnrolApi` global, and its keys into [`EnrolInput`]s, apart from the
//! visitors' so that neither can reach the other's state machine.

use std::rc::Rc;

use slint::ComponentHandle;

use crate::terminal_ui::key_digit;
use crate::view::{EnrolInput, EnrolMessage, EnrolView};
use crate::{EnrolApi, EnrolMessageKind, TerminalWindow};

/// Digits in an enrolment code; `ui/enrol.slint` enables "Enrol" at this
/// many.
const ENROL_CODE_LEN: usize = 12;

/// Sets every `EnrolApi` property from `v`.
pub(crate) fn show(window: &TerminalWindow, v: &EnrolView) {
    let api = window.global::<EnrolApi>();
    let (shown, typed) = grouped_code(&v.code);
    api.set_code(shown.into());
    api.set_digits(typed as i32);
    api.set_role(v.role_label.as_str().into());
    api.set_server_url(v.server_url.as_str().into());
    api.set_message(match v.message {
        EnrolMessage::None => EnrolMessageKind::None,
        EnrolMessage::Invalid => EnrolMessageKind::Invalid,
        EnrolMessage::Expired => EnrolMessageKind::Expired,
        EnrolMessage::Unreachable => EnrolMessageKind::Unreachable,
        EnrolMessage::WrongRole => EnrolMessageKind::WrongRole,
        EnrolMessage::Working => EnrolMessageKind::Working,
    });
}

/// Hands the enrolment screen's keys to `f`.
pub(crate) fn on_input(window: &TerminalWindow, f: Rc<dyn Fn(EnrolInput)>) {
    let api = window.global::<EnrolApi>();
    let g = f.clone();
    api.on_backspace(move || g(EnrolInput::Backspace));
    let g = f.clone();
    api.on_submit(move || g(EnrolInput::Submit));
    api.on_digit(move |d| {
        if let Some(d) = key_digit(d) {
            f(EnrolInput::Digit(d));
        }
    });
}

/// `code`'s digits (at most [`ENROL_CODE_LEN`]) in groups of four, with `_`
/// for each digit still to type ("4821 09__ ____"), and how many were typed.
fn grouped_code(code: &str) -> (String, usize) {
    let digits: Vec<char> = code
        .chars()
        .filter(char::is_ascii_digit)
        .take(ENROL_CODE_LEN)
        .collect();
    let mut shown = String::with_capacity(ENROL_CODE_LEN + 2);
    for i in 0..ENROL_CODE_LEN {
        if i > 0 && i % 4 == 0 {
            shown.push(' ');
        }
        shown.push(digits.get(i).copied().unwrap_or('_'));
    }
    (shown, digits.len())
}
