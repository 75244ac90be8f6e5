//! The housing-unit screens for `kiosk-app screenshots` and the UI tests.

use crate::unit_view::{JoinState, SignInStep, UnitStatus, UnitView, UnitVisit};
use crate::view::{Message, Screen, TerminalView};

/// Sign-in (number, PIN, a wrong pair, the lockout) and the visit list
/// (Join open, the visitor not checked in yet, no visits), named for the
/// file each becomes.
pub fn unit_samples(base: &TerminalView) -> Vec<(&'static str, TerminalView)> {
    let mut samples = sign_in_samples(base);
    samples.extend(visit_list_samples(base));
    samples
}

/// The sign-in screen: the number, the PIN, a wrong pair and the lockout.
fn sign_in_samples(base: &TerminalView) -> Vec<(&'static str, TerminalView)> {
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
    ]
}

/// The visit list: Join open, the visitor not checked in yet, no visits.
fn visit_list_samples(base: &TerminalView) -> Vec<(&'static str, TerminalView)> {
    let list = |visits| TerminalView {
        screen: Screen::UnitVisits,
        unit: UnitView {
            person: "James S.".into(),
            visits,
            ..UnitView::default()
        },
        ..base.clone()
    };
    let onsite = |join| {
        let times = ("10:00", "12:00");
        visit(
            times,
            "Maria S., Emily S.",
            false,
            UnitStatus::Pending,
            join,
        )
    };
    let remote = visit(
        ("14:00", "14:30"),
        "Linda J.",
        true,
        UnitStatus::Scheduled,
        JoinState::OpensAt("13:58".into()),
    );
    let ended = visit(
        ("08:00", "08:30"),
        "Carlos L.",
        true,
        UnitStatus::Ended,
        JoinState::Closed,
    );
    vec![
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

/// One row of the visit list, from `(starts_at, ends_at)`.
fn visit(
    (starts_at, ends_at): (&str, &str),
    visitors: &str,
    remote: bool,
    status: UnitStatus,
    join: JoinState,
) -> UnitVisit {
    UnitVisit {
        starts_at: starts_at.into(),
        ends_at: ends_at.into(),
        visitors: visitors.into(),
        remote,
        status,
        join,
    }
}
