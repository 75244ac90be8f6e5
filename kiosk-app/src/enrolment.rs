//! Enrolment on the touchscreen as a pure machine: the technician types
//! the 12-digit code, submits it, and the answer (from a worker thread that
//! the window runs) comes back as an input. While enrolling the keys do
//! nothing; a refusal is shown in words from its kind (the server's error
//! code, not its message text: `terminal::EnrolError`) and the code is
//! cleared for another try.

use protocol::TerminalRole;
use ui::{EnrolInput, EnrolMessage, EnrolView, Lang};

use crate::terminal::EnrolError;

/// The length of an enrolment code, in digits.
pub const CODE_DIGITS: usize = 12;

/// What the enrolment screen is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A touch on its keypad.
    Touch(EnrolInput),
    /// The server's answer to the code submitted.
    Done(Result<(), EnrolError>),
}

/// What the window must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Trade this code for a credential (on a worker thread).
    Enrol(String),
    /// Enrolled: start the terminal.
    Enrolled,
}

/// The enrolment screen's state.
#[derive(Debug, Clone)]
pub struct Enrolment {
    view: EnrolView,
}

/// The words for why a code did not work.
pub fn message(e: &EnrolError) -> EnrolMessage {
    match e {
        EnrolError::Invalid => EnrolMessage::Invalid,
        EnrolError::Expired => EnrolMessage::Expired,
        EnrolError::Unreachable(_) => EnrolMessage::Unreachable,
        EnrolError::WrongRole(..) => EnrolMessage::WrongRole,
        EnrolError::Other(_) => EnrolMessage::Unreachable,
    }
}

impl Enrolment {
    /// The screen for a terminal of `role` enrolling at `server_url`;
    /// `first` says why a configured code did not work, if one did not.
    pub fn new(server_url: &str, role: TerminalRole, lang: Lang, first: EnrolMessage) -> Self {
        Enrolment {
            view: EnrolView {
                code: String::new(),
                server_url: server_url.to_string(),
                role_label: match role {
                    TerminalRole::Lobby => "Lobby terminal".into(),
                    TerminalRole::Unit => "Housing-unit terminal".into(),
                },
                message: first,
                lang,
            },
        }
    }

    pub fn view(&self) -> &EnrolView {
        &self.view
    }

    pub fn handle(&mut self, input: Input) -> Option<Effect> {
        let v = &mut self.view;
        match input {
            Input::Done(Ok(())) => {
                v.message = EnrolMessage::None;
                Some(Effect::Enrolled)
            }
            Input::Done(Err(e)) => {
                v.message = message(&e);
                v.code.clear();
                None
            }
            // Enrolling: the keys wait for the answer.
            Input::Touch(_) if v.message == EnrolMessage::Working => None,
            Input::Touch(EnrolInput::Digit(d)) if d <= 9 && v.code.len() < CODE_DIGITS => {
                v.code.push(char::from(b'0' + d));
                v.message = EnrolMessage::None;
                None
            }
            Input::Touch(EnrolInput::Backspace) => {
                v.code.pop();
                None
            }
            Input::Touch(EnrolInput::Submit) if v.code.len() == CODE_DIGITS => {
                v.message = EnrolMessage::Working;
                Some(Effect::Enrol(v.code.clone()))
            }
            Input::Touch(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen() -> Enrolment {
        Enrolment::new("http://s", TerminalRole::Unit, Lang::En, EnrolMessage::None)
    }

    fn type_code(e: &mut Enrolment, code: &str) {
        for d in code.bytes() {
            e.handle(Input::Touch(EnrolInput::Digit(d - b'0')));
        }
    }

    #[test]
    fn twelve_digits_are_submitted_and_the_keys_wait_for_the_answer() {
        let mut e = screen();
        assert_eq!(e.view().role_label, "Housing-unit terminal");
        type_code(&mut e, "12345678901");
        assert_eq!(
            e.handle(Input::Touch(EnrolInput::Submit)),
            None,
            "11 digits"
        );
        type_code(&mut e, "29");
        assert_eq!(e.view().code, "123456789012", "a 13th digit is ignored");
        assert_eq!(
            e.handle(Input::Touch(EnrolInput::Submit)),
            Some(Effect::Enrol("123456789012".into()))
        );
        assert_eq!(e.view().message, EnrolMessage::Working);
        e.handle(Input::Touch(EnrolInput::Backspace));
        assert_eq!(e.view().code.len(), 12, "no editing while enrolling");
        assert_eq!(e.handle(Input::Done(Ok(()))), Some(Effect::Enrolled));
    }

    #[test]
    fn an_expired_code_is_shown_as_expired_and_cleared() {
        let mut e = screen();
        type_code(&mut e, "123456789012");
        e.handle(Input::Touch(EnrolInput::Submit));
        assert_eq!(e.handle(Input::Done(Err(EnrolError::Expired))), None);
        assert_eq!(e.view().message, EnrolMessage::Expired);
        assert!(e.view().code.is_empty());
        type_code(&mut e, "1");
        assert_eq!(
            e.view().message,
            EnrolMessage::None,
            "typing again clears it"
        );
    }
}
