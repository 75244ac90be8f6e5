//! The unit screens as one line of English text (headless mode).

use ui::{JoinState, Message, Screen, SignInStep, TerminalView, UnitStatus};

/// `None` when `v` is not a unit screen.
pub fn describe(v: &TerminalView) -> Option<String> {
    let u = &v.unit;
    let message = match v.message {
        Message::NotRecognized { attempts_left } => {
            format!(" ID number or PIN not recognized. {attempts_left} attempts left.")
        }
        Message::Locked { seconds_left } => {
            format!(" Too many attempts. Try again in {seconds_left} s.")
        }
        _ => String::new(),
    };
    Some(match v.screen {
        Screen::UnitSignIn => match u.step {
            SignInStep::Number => format!(
                "[sign-in] {} {} ID number: {}_{message}",
                v.facility_name, v.clock, u.number
            ),
            SignInStep::Pin => format!(
                "[sign-in] {} {} PIN: {}_{message}",
                v.facility_name,
                v.clock,
                "•".repeat(u.pin_entered.into())
            ),
        },
        Screen::UnitVisits if u.visits.is_empty() => {
            format!("[visits] {}: No visits today. [Sign out]", u.person)
        }
        Screen::UnitVisits => {
            let rows: Vec<String> = u
                .visits
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let status = match r.status {
                        UnitStatus::Scheduled => "scheduled",
                        UnitStatus::Pending => "waiting for you",
                        UnitStatus::Ready => "ready",
                        UnitStatus::InProgress => "in progress",
                        UnitStatus::Ended => "ended",
                        UnitStatus::Cancelled => "cancelled",
                        UnitStatus::Terminated => "ended by staff",
                        UnitStatus::NoShow => "missed",
                    };
                    let join = match &r.join {
                        JoinState::Open => format!(" [Join {}]", i + 1),
                        JoinState::OpensAt(t) => format!(" join from {t}"),
                        JoinState::VisitorNotCheckedIn => {
                            " Your visitor has not checked in yet.".into()
                        }
                        JoinState::Closed => String::new(),
                    };
                    format!(
                        "{}. {}-{} {} with {} ({status}){join}",
                        i + 1,
                        r.starts_at,
                        r.ends_at,
                        if r.remote { "remote" } else { "on-site" },
                        r.visitors
                    )
                })
                .collect();
            format!("[visits] {}: {} [Sign out]", u.person, rows.join("; "))
        }
        _ => return None,
    })
}
