//! A lobby view as one line of English text: what headless mode prints, and
//! what the demo shows when there is no display.

use ui::{LobbyView, Message, Screen, StatusText};

pub fn describe(v: &LobbyView) -> String {
    let status = |s: &StatusText| match s {
        StatusText::Scheduled => "the visit has not started yet",
        StatusText::Pending => "waiting for the other side",
        StatusText::Ready => "ready to start",
        StatusText::InProgress => "in progress",
    };
    let text = match (&v.screen, &v.message) {
        (Screen::Attract, _) => format!("[attract] {} {} Touch to start", v.facility_name, v.clock),
        (Screen::PinEntry, Message::NotRecognized { attempts_left }) => {
            format!("[pin] PIN not recognized. {attempts_left} attempts left.")
        }
        (Screen::PinEntry, Message::Locked { seconds_left }) => {
            format!("[pin] Too many attempts. Try again in {seconds_left} s.")
        }
        (Screen::PinEntry, _) => format!(
            "[pin] {}{}",
            "•".repeat(v.digits_entered.into()),
            "_".repeat(v.pin_length.saturating_sub(v.digits_entered).into())
        ),
        (Screen::Result, Message::TooEarly { start, opens }) => {
            format!("[result] Your visit starts at {start}. Check-in opens at {opens}.")
        }
        (Screen::Result, Message::Ended) => "[result] This visit has ended.".into(),
        (Screen::Result, Message::Cancelled) => "[result] This visit was cancelled.".into(),
        (Screen::Result, Message::Terminated { .. }) => {
            "[result] This visit was ended by staff.".into()
        }
        (Screen::Result, Message::CheckedIn { person, status: s }) => {
            format!(
                "[result] Checked in. Waiting for {person} to join. ({})",
                status(s)
            )
        }
        (Screen::Result, _) => "[result]".into(),
    };
    if v.offline {
        format!("{text} (offline)")
    } else {
        text
    }
}
