//! A lobby view as one line of English text: what headless mode prints, and
//! what the demo shows when there is no display.

use ui::{CallEnd, CallProblem, Message, PeerNotice, Quality, Screen, StatusText, TerminalView};

pub fn describe(v: &TerminalView) -> String {
    if let Some(text) = crate::unit::describe::describe(v) {
        return if v.offline {
            format!("{text} (offline)")
        } else {
            text
        };
    }
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
        (Screen::Waiting, _) => {
            let c = &v.call;
            format!(
                "[waiting] Visit with {} {}-{} ({}){}{}",
                c.peer,
                c.starts_at,
                c.ends_at,
                c.status.as_ref().map_or("not started", status),
                if c.connecting { " Connecting…" } else { "" },
                if c.can_join { " [Join]" } else { "" },
            )
        }
        (Screen::InCall, _) => {
            let c = &v.call;
            let mut s = format!("[call] with {}, {} min left", c.peer, c.minutes_left);
            if c.connecting {
                s.push_str(", connecting");
            }
            match c.quality {
                Quality::Good => {}
                Quality::Fair => s.push_str(", quality fair"),
                Quality::Poor => s.push_str(", quality poor"),
                Quality::Reconnecting => s.push_str(", reconnecting"),
            }
            match c.problem {
                Some(CallProblem::NoCommonVideo) => {
                    s.push_str(", sound only: no video format in common")
                }
                Some(CallProblem::NetworkBlocked) => {
                    s.push_str(", the network is blocking the call")
                }
                Some(CallProblem::NoPicture) => s.push_str(", no picture from them"),
                None => {}
            }
            match c.peer_notice {
                Some(PeerNotice::CameraUnavailable) => s.push_str(", their camera is not working"),
                Some(PeerNotice::MicrophoneUnavailable) => {
                    s.push_str(", their microphone is not working")
                }
                None => {}
            }
            if let Some(m) = c.warning {
                s.push_str(&format!(", warning: {m} min left"));
            }
            if c.confirm_end {
                s.push_str(", End the visit? [End visit] [Keep talking]");
            }
            s
        }
        (Screen::UnitSignIn | Screen::UnitVisits, _) => "[unit]".into(),
        (Screen::CallEnded, _) => match &v.call.ended {
            Some(CallEnd::ByStaff { reason }) => format!("[ended] Visit ended by staff: {reason}"),
            Some(CallEnd::HungUpHere) => "[ended] You ended the visit.".into(),
            Some(CallEnd::HungUpOther) => format!("[ended] {} ended the visit.", v.call.peer),
            Some(CallEnd::Failed) => "[ended] The visit could not continue.".into(),
            Some(CallEnd::TimeUp) | None => "[ended] Visit ended. Time is up.".into(),
        },
    };
    if v.offline {
        format!("{text} (offline)")
    } else {
        text
    }
}
