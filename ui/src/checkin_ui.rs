//! The lobby's check-in screens (attract, PIN pad, result) as far as Rust
//! is concerned: a [`TerminalView`]'s PIN and message into the `CheckinApi`
//! global, and its callbacks into [`UiInput`]s.

use std::rc::Rc;

use slint::ComponentHandle;

use crate::terminal_ui::key_digit;
use crate::view::{Message, StatusText, TerminalView, UiInput};
use crate::{CheckinApi, MessageKind, TerminalWindow, VisitStatus};

/// Sets every `CheckinApi` property from `v`.
pub(crate) fn show(window: &TerminalWindow, v: &TerminalView) {
    let api = window.global::<CheckinApi>();
    api.set_pin_length(v.pin_length.into());
    api.set_digits_entered(v.digits_entered.into());
    let p = MessageParams::from(&v.message);
    api.set_message(p.kind);
    api.set_message_count(p.count);
    api.set_message_start(p.start.into());
    api.set_message_opens(p.opens.into());
    api.set_message_reason(p.reason.into());
    api.set_message_person(p.person.into());
    api.set_visit_status(p.status);
}

/// Hands the check-in screens' touches to `f`.
pub(crate) fn on_input(window: &TerminalWindow, f: Rc<dyn Fn(UiInput)>) {
    let api = window.global::<CheckinApi>();
    let send = |input: UiInput| {
        let f = f.clone();
        move || f(input)
    };
    api.on_touch_start(send(UiInput::TouchStart));
    api.on_backspace(send(UiInput::Backspace));
    api.on_submit(send(UiInput::Submit));
    api.on_cancel(send(UiInput::Cancel));
    api.on_digit(move |d| {
        if let Some(d) = key_digit(d) {
            f(UiInput::Digit(d));
        }
    });
}

pub(crate) fn visit_status(status: StatusText) -> VisitStatus {
    match status {
        StatusText::Scheduled => VisitStatus::Scheduled,
        StatusText::Pending => VisitStatus::Pending,
        StatusText::Ready => VisitStatus::Ready,
        StatusText::InProgress => VisitStatus::InProgress,
    }
}

/// A [`Message`] flattened into the `message-*` properties of `CheckinApi`
/// (and, for a wrong PIN or a lockout, of `UnitApi`); fields a message does
/// not use stay empty.
pub(crate) struct MessageParams<'a> {
    pub(crate) kind: MessageKind,
    pub(crate) count: i32,
    start: &'a str,
    opens: &'a str,
    reason: &'a str,
    person: &'a str,
    status: VisitStatus,
}

impl<'a> From<&'a Message> for MessageParams<'a> {
    fn from(m: &'a Message) -> Self {
        let none = MessageParams {
            kind: MessageKind::None,
            count: 0,
            start: "",
            opens: "",
            reason: "",
            person: "",
            status: VisitStatus::Scheduled,
        };
        match m {
            Message::None => none,
            Message::NotRecognized { attempts_left } => MessageParams {
                kind: MessageKind::NotRecognized,
                count: (*attempts_left).into(),
                ..none
            },
            Message::Locked { seconds_left } => MessageParams {
                kind: MessageKind::Locked,
                count: i32::try_from(*seconds_left).unwrap_or(i32::MAX),
                ..none
            },
            Message::TooEarly { start, opens } => MessageParams {
                kind: MessageKind::TooEarly,
                start,
                opens,
                ..none
            },
            Message::Ended => MessageParams {
                kind: MessageKind::Ended,
                ..none
            },
            Message::Cancelled => MessageParams {
                kind: MessageKind::Cancelled,
                ..none
            },
            Message::Terminated { reason } => MessageParams {
                kind: MessageKind::Terminated,
                // The sentence adds its own full stop.
                reason: reason.trim().trim_end_matches('.'),
                ..none
            },
            Message::CheckedIn { person, status } => MessageParams {
                kind: MessageKind::CheckedIn,
                person,
                status: visit_status(*status),
                ..none
            },
        }
    }
}
