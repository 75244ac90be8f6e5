//! A lobby view as one line of English text: what headless mode prints, and
//! what the demo shows when there is no display.

use ui::{
    CallEnd, CallProblem, CallView, Message, PeerNotice, Quality, Screen, StatusText, TerminalView,
};

pub fn describe(v: &TerminalView) -> String {
    let text = crate::unit::describe::describe(v).unwrap_or_else(|| screen(v));
    if v.offline {
        format!("{text} (offline)")
    } else {
        text
    }
}

/// A lobby or call screen, one arm per screen.
fn screen(v: &TerminalView) -> String {
    match v.screen {
        Screen::Attract => format!("[attract] {} {} Touch to start", v.facility_name, v.clock),
        Screen::PinEntry => pin_entry(v),
        Screen::Result => result(&v.message),
        Screen::Waiting => waiting(&v.call),
        Screen::InCall => in_call(&v.call),
        Screen::UnitSignIn | Screen::UnitVisits => "[unit]".into(),
        Screen::CallEnded => ended(&v.call),
    }
}

fn status(s: &StatusText) -> &'static str {
    match s {
        StatusText::Scheduled => "the visit has not started yet",
        StatusText::Pending => "waiting for the other side",
        StatusText::Ready => "ready to start",
        StatusText::InProgress => "in progress",
    }
}

/// The PIN pad: its message, or a dot per digit typed and a blank per digit left.
fn pin_entry(v: &TerminalView) -> String {
    match &v.message {
        Message::NotRecognized { attempts_left } => {
            format!("[pin] PIN not recognized. {attempts_left} attempts left.")
        }
        Message::Locked { seconds_left } => {
            format!("[pin] Too many attempts. Try again in {seconds_left} s.")
        }
        _ => format!(
            "[pin] {}{}",
            "•".repeat(v.digits_entered.into()),
            "_".repeat(v.pin_length.saturating_sub(v.digits_entered).into())
        ),
    }
}

/// What a PIN led to.
fn result(message: &Message) -> String {
    match message {
        Message::TooEarly { start, opens } => {
            format!("[result] Your visit starts at {start}. Check-in opens at {opens}.")
        }
        Message::Ended => "[result] This visit has ended.".into(),
        Message::Cancelled => "[result] This visit was cancelled.".into(),
        Message::Terminated { .. } => "[result] This visit was ended by staff.".into(),
        Message::CheckedIn { person, status: s } => {
            format!(
                "[result] Checked in. Waiting for {person} to join. ({})",
                status(s)
            )
        }
        _ => "[result]".into(),
    }
}

fn waiting(c: &CallView) -> String {
    format!(
        "[waiting] Visit with {} {}-{} ({}){}{} | {}",
        c.peer,
        c.starts_at,
        c.ends_at,
        c.status.as_ref().map_or("not started", status),
        if c.connecting { " Connecting…" } else { "" },
        if c.can_join { " [Join]" } else { "" },
        recorded(c),
    )
}

/// What everyone is told about the recording (the screens say the same).
fn recorded(c: &CallView) -> &'static str {
    if c.confidential {
        "This visit is confidential: it is not recorded or monitored."
    } else {
        "This visit is recorded and may be monitored."
    }
}

/// The call: time left, then whatever is worth saying about it.
fn in_call(c: &CallView) -> String {
    let mut s = format!("[call] with {}, {} min left", c.peer, c.minutes_left);
    if c.connecting {
        s.push_str(", connecting");
    }
    s.push_str(match c.quality {
        Quality::Good => "",
        Quality::Fair => ", quality fair",
        Quality::Poor => ", quality poor",
        Quality::Reconnecting => ", reconnecting",
    });
    s.push_str(match c.problem {
        Some(CallProblem::NoCommonVideo) => ", sound only: no video format in common",
        Some(CallProblem::NetworkBlocked) => ", the network is blocking the call",
        Some(CallProblem::NoPicture) => ", no picture from them",
        None => "",
    });
    s.push_str(match c.peer_notice {
        Some(PeerNotice::CameraUnavailable) => ", their camera is not working",
        Some(PeerNotice::MicrophoneUnavailable) => ", their microphone is not working",
        None => "",
    });
    if let Some(m) = c.warning {
        s.push_str(&format!(", warning: {m} min left"));
    }
    if c.confirm_end {
        s.push_str(", End the visit? [End visit] [Keep talking]");
    }
    s.push_str(" | ");
    s.push_str(recorded(c));
    s
}

fn ended(c: &CallView) -> String {
    match &c.ended {
        Some(CallEnd::ByStaff { reason }) => format!("[ended] Visit ended by staff: {reason}"),
        Some(CallEnd::HungUpHere) => "[ended] You ended the visit.".into(),
        Some(CallEnd::HungUpOther) => format!("[ended] {} ended the visit.", c.peer),
        Some(CallEnd::Failed) => "[ended] The visit could not continue.".into(),
        Some(CallEnd::TimeUp) | None => "[ended] Visit ended. Time is up.".into(),
    }
}
