//! The unit's sign-in and visit list with a fixed clock: sign-in, wrong
//! PINs and the lockout's doubling, idle sign-out, the join window to the
//! minute, no visits, and the visitor not checked in yet.

use argon2::password_hash::{PasswordHasher, SaltString};
use chrono::{DateTime, Duration, TimeZone, Utc};
use protocol::signal::Side;
use protocol::terminal::{Schedule, SchedulePerson};
use protocol::{VisitKind, VisitStatus};
use ui::{JoinState, Lang, Message, Screen, SignInStep, UiInput, UnitStatus};
use uuid::Uuid;

use super::signin::*;
use crate::call::CallEvent;
use crate::call::flow::CallFlow;
use crate::schedule::ScheduleIndex;
use crate::schedule::tests::sample;

const JAMES: Uuid = Uuid::from_u128(7);
const CARL: Uuid = Uuid::from_u128(8);

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    chrono_tz::America::Chicago
        .with_ymd_and_hms(2026, 11, 19, h, m, s)
        .unwrap()
        .with_timezone(&Utc)
}

/// A cheap Argon2id verifier (the server's are costlier; the format is the same).
fn verifier(pin: &str) -> String {
    let params = argon2::Params::new(1024, 1, 1, None).unwrap();
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(
            pin.as_bytes(),
            &SaltString::from_b64("c2FsdHNhbHRzYWx0").unwrap(),
        )
        .unwrap()
        .to_string()
}

/// James (A-1001, PIN 2468) has an on-site visit at 10:00 (visitor checked
/// in or not) and a remote one at 14:00; Carl (B-1002, PIN 1357) has none.
fn schedule(checked_in: bool) -> ScheduleIndex {
    ScheduleIndex::new(wire(checked_in)).unwrap()
}

/// [`schedule`] as the server sends it.
fn wire(checked_in: bool) -> Schedule {
    let mut s = sample(&[
        ("111111", 10, 0, VisitStatus::Scheduled),
        ("222222", 14, 0, VisitStatus::Scheduled),
    ]);
    let visits = &mut s.days[0].visits;
    for v in visits.iter_mut() {
        v.person_id = Some(JAMES);
        v.person_display = "James S.".into();
        v.visitor_display = vec!["Maria S.".into()];
    }
    visits[0].visitor_checked_in = checked_in;
    visits[1].kind = VisitKind::Remote;
    visits[1].end = visits[1].start + Duration::minutes(30);
    s.persons = vec![
        SchedulePerson {
            id: JAMES,
            number: "A-1001".into(),
            display: "James S.".into(),
            pin_verifier: verifier("2468"),
        },
        SchedulePerson {
            id: CARL,
            number: "B-1002".into(),
            display: "Carl L.".into(),
            pin_verifier: verifier("1357"),
        },
    ];
    s
}

fn machine(now: DateTime<Utc>) -> SignIn {
    SignIn::new(Policy::default(), Lang::En, now)
}

fn keys(m: &mut SignIn, s: &ScheduleIndex, digits: &str, now: DateTime<Utc>) {
    for c in digits.chars() {
        m.handle(
            Input::Ui(UiInput::Digit(c.to_digit(10).unwrap() as u8)),
            now,
            Some(s),
        );
    }
}

/// Type the number, OK, the PIN, OK.
fn sign_in(
    m: &mut SignIn,
    s: &ScheduleIndex,
    number: &str,
    pin: &str,
    now: DateTime<Utc>,
) -> Vec<Effect> {
    keys(m, s, number, now);
    m.handle(Input::Ui(UiInput::Submit), now, Some(s));
    keys(m, s, pin, now);
    m.handle(Input::Ui(UiInput::Submit), now, Some(s))
}

#[test]
fn the_right_number_and_pin_sign_in_and_list_todays_visits() {
    let s = schedule(false);
    let now = at(9, 0, 0);
    let mut m = machine(now);
    let v = m.view(now, Some(&s), false);
    assert_eq!(v.screen, Screen::UnitSignIn);
    assert_eq!(v.unit.step, SignInStep::Number);
    keys(&mut m, &s, "1001", now);
    assert_eq!(m.view(now, Some(&s), false).unit.number, "1001");
    m.handle(Input::Ui(UiInput::Submit), now, Some(&s));
    keys(&mut m, &s, "246", now);
    let v = m.view(now, Some(&s), false);
    assert_eq!((v.unit.step, v.unit.pin_entered), (SignInStep::Pin, 3));
    // Three digits are too few for a PIN: OK does nothing yet.
    assert!(
        m.handle(Input::Ui(UiInput::Submit), now, Some(&s))
            .is_empty()
    );
    keys(&mut m, &s, "8", now);
    let effects = m.handle(Input::Ui(UiInput::Submit), now, Some(&s));
    assert_eq!(
        effects,
        vec![Effect::SignedIn {
            person: JAMES,
            number: "A-1001".into(),
            at: now
        }]
    );
    let v = m.view(now, Some(&s), false);
    assert_eq!(v.screen, Screen::UnitVisits);
    assert_eq!(v.unit.person, "James S.");
    assert_eq!(v.unit.visits.len(), 2);
    let first = &v.unit.visits[0];
    assert_eq!(
        (first.starts_at.as_str(), first.ends_at.as_str()),
        ("10:00", "12:00")
    );
    assert_eq!(first.visitors, "Maria S.");
    assert!(!first.remote && v.unit.visits[1].remote);
    assert_eq!(first.status, UnitStatus::Scheduled);
    assert_eq!(first.join, JoinState::OpensAt("09:58".into()));
    // The PIN is gone from the machine once checked.
    assert_eq!(v.unit.pin_entered, 0);
}

#[test]
fn a_wrong_pin_or_unknown_number_is_not_recognized_and_starts_over() {
    let s = schedule(false);
    let now = at(9, 0, 0);
    let mut m = machine(now);
    assert_eq!(
        sign_in(&mut m, &s, "1001", "1357", now),
        vec![Effect::NotRecognized { locked: false }],
        "Carl's PIN is not James's"
    );
    let v = m.view(now, Some(&s), false);
    assert_eq!(v.screen, Screen::UnitSignIn);
    assert_eq!(v.unit.step, SignInStep::Number);
    assert_eq!(v.message, Message::NotRecognized { attempts_left: 4 });
    // An unknown number reads the same (numbers cannot be probed).
    assert_eq!(
        sign_in(&mut m, &s, "9999", "2468", now),
        vec![Effect::NotRecognized { locked: false }]
    );
    assert_eq!(
        m.view(now, Some(&s), false).message,
        Message::NotRecognized { attempts_left: 3 }
    );
    // Typing again clears the message; the right pair signs in.
    assert_eq!(sign_in(&mut m, &s, "1002", "1357", now).len(), 1);
    assert_eq!(m.person(), Some(CARL));
}

#[test]
fn a_right_pin_does_not_wipe_the_wrong_attempts_before_it() {
    // Carl guesses James's PIN four times, signs in as himself and out, and
    // guesses again: the fifth wrong guess still locks the keypad.
    let s = schedule(false);
    let t0 = at(9, 0, 0);
    let mut m = machine(t0);
    for pin in ["0000", "1111", "2222", "3333"] {
        sign_in(&mut m, &s, "1001", pin, t0);
    }
    assert_eq!(sign_in(&mut m, &s, "1002", "1357", t0).len(), 1);
    m.handle(Input::Ui(UiInput::SignOut), t0, Some(&s));
    sign_in(&mut m, &s, "1001", "4444", t0);
    assert_eq!(
        m.view(t0, Some(&s), false).message,
        Message::Locked { seconds_left: 60 }
    );
    // A quarter of an hour without a wrong attempt forgets them.
    let later = t0 + FORGET_WRONG_AFTER + Duration::seconds(60);
    for pin in ["0000", "1111", "2222", "3333"] {
        sign_in(&mut m, &s, "1001", pin, later);
    }
    assert_eq!(
        m.view(later, Some(&s), false).message,
        Message::NotRecognized { attempts_left: 1 }
    );
}

#[test]
fn five_wrong_lock_the_keypad_for_60_seconds_then_120() {
    let s = schedule(false);
    let t0 = at(9, 0, 0);
    let mut m = machine(t0);
    for _ in 0..5 {
        sign_in(&mut m, &s, "1001", "0000", t0);
    }
    let v = m.view(t0, Some(&s), false);
    assert_eq!(v.message, Message::Locked { seconds_left: 60 });
    // Locked: even the right pair does nothing, and keys are ignored.
    assert!(sign_in(&mut m, &s, "1001", "2468", t0 + Duration::seconds(59)).is_empty());
    assert_eq!(m.view(t0, Some(&s), false).unit.number, "");
    assert_eq!(
        m.view(t0 + Duration::seconds(59), Some(&s), false).message,
        Message::Locked { seconds_left: 1 }
    );
    // Unlocked after 60 s; five more wrong lock for 120 s.
    let t1 = t0 + Duration::seconds(60);
    assert_eq!(m.view(t1, Some(&s), false).message, Message::None);
    for _ in 0..5 {
        sign_in(&mut m, &s, "1001", "0000", t1);
    }
    assert_eq!(
        m.view(t1, Some(&s), false).message,
        Message::Locked { seconds_left: 120 }
    );
    let t2 = t1 + Duration::seconds(120);
    assert_eq!(sign_in(&mut m, &s, "1001", "2468", t2).len(), 1);
}

#[test]
fn sixty_idle_seconds_sign_out_but_not_during_a_call() {
    let s = schedule(true);
    let t0 = at(9, 59, 0);
    let mut m = machine(t0);
    sign_in(&mut m, &s, "1001", "2468", t0);
    assert!(
        m.handle(Input::Tick, t0 + Duration::seconds(59), Some(&s))
            .is_empty()
    );
    assert_eq!(m.person(), Some(JAMES));
    // A call closes at 10:30 (the terminal sent no ticks during it): the
    // idle clock starts again from there.
    let back = at(10, 30, 0);
    m.handle(Input::CallClosed, back, Some(&s));
    assert!(
        m.handle(Input::Tick, back + Duration::seconds(59), Some(&s))
            .is_empty()
    );
    let effects = m.handle(Input::Tick, back + Duration::seconds(60), Some(&s));
    assert_eq!(
        effects,
        vec![Effect::SignedOut {
            person: JAMES,
            why: SignOutReason::Idle
        }]
    );
    assert_eq!(m.view(back, Some(&s), false).screen, Screen::UnitSignIn);
    // Half a number typed and left: cleared too.
    keys(&mut m, &s, "10", back);
    m.handle(Input::Tick, back + Duration::seconds(60), Some(&s));
    assert_eq!(m.view(back, Some(&s), false).unit.number, "");
}

#[test]
fn sign_out_button() {
    let s = schedule(true);
    let now = at(9, 0, 0);
    let mut m = machine(now);
    sign_in(&mut m, &s, "1001", "2468", now);
    assert_eq!(
        m.handle(Input::Ui(UiInput::SignOut), now, Some(&s)),
        vec![Effect::SignedOut {
            person: JAMES,
            why: SignOutReason::Button
        }]
    );
    assert_eq!(m.person(), None);
}

#[test]
fn join_opens_two_minutes_before_the_start_and_closes_at_the_end() {
    let s = schedule(true);
    let mut m = machine(at(9, 0, 0));
    sign_in(&mut m, &s, "1001", "2468", at(9, 0, 0));
    let join =
        |m: &mut SignIn, row: u8, now| m.handle(Input::Ui(UiInput::JoinVisit(row)), now, Some(&s));
    let row = |m: &SignIn, i: usize, now| m.view(now, Some(&s), false).unit.visits[i].join.clone();
    // On-site at 10:00: closed at 09:57:59, open at 09:58:00.
    assert_eq!(
        row(&m, 0, at(9, 57, 59)),
        JoinState::OpensAt("09:58".into())
    );
    assert!(join(&mut m, 0, at(9, 57, 59)).is_empty());
    assert_eq!(row(&m, 0, at(9, 58, 0)), JoinState::Open);
    assert_eq!(
        join(&mut m, 0, at(9, 58, 0)),
        vec![Effect::Join {
            visit: Uuid::from_u128(100),
            number: "A-1001".into(),
            at: at(9, 58, 0)
        }]
    );
    // Still open a second before the end (12:00), closed at it.
    assert_eq!(row(&m, 0, at(11, 59, 59)), JoinState::Open);
    assert_eq!(row(&m, 0, at(12, 0, 0)), JoinState::Closed);
    assert!(join(&mut m, 0, at(12, 0, 0)).is_empty());
    // Remote at 14:00 for 30 minutes: no check-in needed.
    assert_eq!(
        row(&m, 1, at(13, 57, 59)),
        JoinState::OpensAt("13:58".into())
    );
    assert_eq!(row(&m, 1, at(13, 58, 0)), JoinState::Open);
    assert_eq!(row(&m, 1, at(14, 30, 0)), JoinState::Closed);
    // No such row: nothing.
    assert!(join(&mut m, 5, at(13, 59, 0)).is_empty());
}

#[test]
fn the_visit_list_and_the_waiting_screen_open_join_at_the_same_minute() {
    // This facility lets persons join five minutes early.
    let mut w = wire(true);
    for p in &mut w.facility.policies {
        p.person_early_minutes = 5;
    }
    let s = ScheduleIndex::new(w).unwrap();
    let mut m = machine(at(9, 0, 0));
    sign_in(&mut m, &s, "1001", "2468", at(9, 0, 0));
    let visit = s.visit(Uuid::from_u128(100)).unwrap();
    let mut waiting = CallFlow::new(
        Side::Person,
        "Maria S.".into(),
        visit.join_window(Side::Person),
        "10:00".into(),
        "12:00".into(),
    );
    waiting.handle_event(
        CallEvent::Connected {
            side: Side::Person,
            status: VisitStatus::Scheduled,
        },
        at(9, 50, 0),
    );
    let list = |now| m.view(now, Some(&s), false).unit.visits[0].join.clone();
    // Six minutes before the 10:00 start: neither offers Join.
    assert_eq!(list(at(9, 54, 0)), JoinState::OpensAt("09:55".into()));
    assert!(!waiting.view(at(9, 54, 0)).can_join);
    // Five minutes before: both do.
    assert_eq!(list(at(9, 55, 0)), JoinState::Open);
    assert!(waiting.view(at(9, 55, 0)).can_join);
}

#[test]
fn an_onsite_visit_waits_for_the_visitor_to_check_in() {
    let s = schedule(false);
    let now = at(9, 59, 0);
    let mut m = machine(now);
    sign_in(&mut m, &s, "1001", "2468", now);
    let v = m.view(now, Some(&s), false);
    assert_eq!(v.unit.visits[0].join, JoinState::VisitorNotCheckedIn);
    assert!(
        m.handle(Input::Ui(UiInput::JoinVisit(0)), now, Some(&s))
            .is_empty()
    );
    // The next schedule says the visitor checked in: Join appears.
    let s = schedule(true);
    assert_eq!(
        m.view(now, Some(&s), false).unit.visits[0].join,
        JoinState::Open
    );
}

#[test]
fn a_person_without_visits_today_sees_an_empty_list() {
    let s = schedule(false);
    let now = at(9, 0, 0);
    let mut m = machine(now);
    sign_in(&mut m, &s, "1002", "1357", now);
    let v = m.view(now, Some(&s), false);
    assert_eq!(v.screen, Screen::UnitVisits);
    assert_eq!(v.unit.person, "Carl L.");
    assert!(v.unit.visits.is_empty());
}

#[test]
fn finished_and_cancelled_visits_show_their_status_and_no_join() {
    let mut wire = sample(&[("111111", 10, 0, VisitStatus::Cancelled)]);
    wire.days[0].visits[0].person_id = Some(JAMES);
    wire.persons = vec![SchedulePerson {
        id: JAMES,
        number: "A-1001".into(),
        display: "James S.".into(),
        pin_verifier: verifier("2468"),
    }];
    let s = ScheduleIndex::new(wire).unwrap();
    let now = at(10, 0, 0);
    let mut m = machine(now);
    sign_in(&mut m, &s, "1001", "2468", now);
    let v = m.view(now, Some(&s), true);
    assert!(v.offline);
    assert_eq!(v.unit.visits[0].status, UnitStatus::Cancelled);
    assert_eq!(v.unit.visits[0].join, JoinState::Closed);
}

#[test]
fn without_a_schedule_nobody_is_recognized() {
    let now = at(9, 0, 0);
    let mut m = machine(now);
    keys(&mut m, &schedule(false), "1001", now);
    m.handle(Input::Ui(UiInput::Submit), now, None);
    for d in [2, 4, 6, 8] {
        m.handle(Input::Ui(UiInput::Digit(d)), now, None);
    }
    assert_eq!(
        m.handle(Input::Ui(UiInput::Submit), now, None),
        vec![Effect::NotRecognized { locked: false }]
    );
    assert_eq!(
        m.view(now, None, false).message,
        Message::NotRecognized { attempts_left: 4 }
    );
}

#[test]
fn a_schedule_with_a_bad_or_costly_verifier_is_rejected_whole() {
    let mut wire = sample(&[]);
    wire.persons = vec![SchedulePerson {
        id: JAMES,
        number: "A-1001".into(),
        display: "James S.".into(),
        pin_verifier: "2468".into(),
    }];
    assert!(
        ScheduleIndex::new(wire.clone()).is_err(),
        "a plain PIN is no verifier"
    );
    let costly = argon2::Params::new(512 * 1024, 1, 1, None).unwrap();
    wire.persons[0].pin_verifier = format!(
        "$argon2id$v=19$m={},t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
        costly.m_cost()
    );
    assert!(ScheduleIndex::new(wire).unwrap_err().0.contains("costly"));
}
