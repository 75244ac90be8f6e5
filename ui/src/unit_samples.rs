//! The housing-unit screens for `kiosk-app screenshots` and the UI tests.

use crate::unit_view::{JoinState, SignInStep, UnitStatus, UnitView, UnitVisit};
use crate::view::{Message, Screen, TerminalView};

/// Sign-in (number, PIN, a wrong pair, the lockout) and the visit list
/// (Join open, the visitor not checked in yet, no visits), named for the
/// file each becomes.
pub fn unit_samples(base: &TerminalView) -> Vec<(&'static str, TerminalView)> {
    let sign_in = |step, number: &str, pin_entered, message| TerminalView {
        screen: Screen::UnitSignIn,
        message,
        unit: UnitView {
            step,
            number: number.into(),
            pin_entered,
            ..UnitView::default()
        },
        ..base.clone()
    };
    let list = |visits| TerminalView {
        screen: Screen::UnitVisits,
        unit: UnitView {
            person: "James S.".into(),
            visits,
            ..UnitView::default()
        },
        ..base.clone()
    };
    let onsite = |join| UnitVisit {
        starts_at: "10:00".into(),
        ends_at: "12:00".into(),
        visitors: "Maria S., Emily S.".into(),
        remote: false,
        status: UnitStatus::Pending,
        join,
    };
    let remote = UnitVisit {
        starts_at: "14:00".into(),
        ends_at: "14:30".into(),
        visitors: "Linda J.".into(),
        remote: true,
        status: UnitStatus::Scheduled,
        join: JoinState::OpensAt("13:58".into()),
    };
    let ended = UnitVisit {
        starts_at: "08:00".into(),
        ends_at: "08:30".into(),
        visitors: "Carlos L.".into(),
        remote: true,
        status: UnitStatus::Ended,
        join: JoinState::Closed,
    };
    vec![
        (
            "unit-sign-in",
            sign_in(SignInStep::Number, "1001", 0, Message::None),
        ),
        (
            "unit-sign-in-pin",
            sign_in(SignInStep::Pin, "1001", 3, Message::None),
        ),
        (
            "unit-not-recognized",
            sign_in(
                SignInStep::Number,
                "",
                0,
                Message::NotRecognized { attempts_left: 3 },
            ),
        ),
        (
            "unit-locked",
            sign_in(
                SignInStep::Number,
                "",
                0,
                Message::Locked { seconds_left: 45 },
            ),
        ),
        (
            "unit-visits",
            list(vec![ended.clone(), onsite(JoinState::Open), remote.clone()]),
        ),
        (
            "unit-visitor-not-checked-in",
            list(vec![onsite(JoinState::VisitorNotCheckedIn), remote]),
        ),
        ("unit-no-visits", list(vec![])),
    ]
}
