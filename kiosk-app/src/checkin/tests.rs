//! Every message of the lobby, the lockout, and the windows to the minute.

use chrono::{Duration, TimeZone, Utc};
use protocol::VisitStatus;
use ui::{Lang, Message, Screen, StatusText, UiInput};
use uuid::Uuid;

use super::*;
use crate::schedule::ScheduleIndex;
use crate::schedule::tests::sample;

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    chrono_tz::America::Chicago
        .with_ymd_and_hms(2026, 11, 19, h, m, s)
        .unwrap()
        .with_timezone(&Utc)
}

fn schedule() -> ScheduleIndex {
    ScheduleIndex::new(sample(&[
        ("123456", 10, 30, VisitStatus::Scheduled),
        ("222222", 8, 0, VisitStatus::Cancelled),
        ("333333", 8, 0, VisitStatus::Terminated),
        ("444444", 8, 0, VisitStatus::NoShow),
    ]))
    .unwrap()
}

/// Touch to start, type `pin`, press OK at `now`.
fn enter(m: &mut Checkin, s: &ScheduleIndex, pin: &str, now: DateTime<Utc>) -> Vec<Effect> {
    m.handle(Input::Ui(UiInput::TouchStart), now, Some(s));
    for c in pin.chars() {
        m.handle(
            Input::Ui(UiInput::Digit(c.to_digit(10).unwrap() as u8)),
            now,
            Some(s),
        );
    }
    m.handle(Input::Ui(UiInput::Submit), now, Some(s))
}

fn machine(now: DateTime<Utc>) -> Checkin {
    Checkin::new(Policy::default(), Lang::En, now)
}

#[test]
fn check_in_opens_one_minute_before_the_start() {
    let s = schedule();
    let mut m = machine(at(10, 0, 0));
    assert!(enter(&mut m, &s, "123456", at(10, 28, 59)).is_empty());
    let v = m.view(at(10, 28, 59), Some(&s), false);
    assert_eq!(v.screen, Screen::Result);
    assert_eq!(
        v.message,
        Message::TooEarly {
            start: "10:30".into(),
            opens: "10:29".into()
        }
    );

    m.handle(Input::Ui(UiInput::Cancel), at(10, 29, 0), Some(&s));
    let effects = enter(&mut m, &s, "123456", at(10, 29, 0));
    assert_eq!(
        effects,
        vec![Effect::CheckIn {
            visit: Uuid::from_u128(100),
            at: at(10, 29, 0)
        }]
    );
    let v = m.view(at(10, 29, 0), Some(&s), false);
    assert_eq!(
        v.message,
        Message::CheckedIn {
            person: "J. S.".into(),
            status: StatusText::Scheduled
        }
    );
}

#[test]
fn check_in_closes_at_the_end() {
    let s = schedule();
    let mut m = machine(at(12, 0, 0));
    assert_eq!(enter(&mut m, &s, "123456", at(12, 29, 59)).len(), 1);
    m.handle(Input::Ui(UiInput::Cancel), at(12, 30, 0), Some(&s));
    assert!(enter(&mut m, &s, "123456", at(12, 30, 0)).is_empty());
    assert_eq!(
        m.view(at(12, 30, 0), Some(&s), false).message,
        Message::Ended
    );
}

#[test]
fn cancelled_terminated_and_finished_visits_are_refused_with_the_reason() {
    let s = schedule();
    for (pin, want) in [
        ("222222", Message::Cancelled),
        (
            "333333",
            Message::Terminated {
                reason: String::new(),
            },
        ),
        ("444444", Message::Ended),
    ] {
        let mut m = machine(at(8, 30, 0));
        assert!(enter(&mut m, &s, pin, at(8, 30, 0)).is_empty(), "{pin}");
        assert_eq!(m.view(at(8, 30, 0), Some(&s), false).message, want);
    }
}

#[test]
fn wrong_pins_count_down_then_lock_for_60_seconds_doubling() {
    let s = schedule();
    let t0 = at(10, 0, 0);
    let mut m = machine(t0);
    for left in [4, 3, 2, 1] {
        assert!(enter(&mut m, &s, "999999", t0).is_empty());
        let v = m.view(t0, Some(&s), false);
        assert_eq!(
            (v.screen, v.message),
            (
                Screen::PinEntry,
                Message::NotRecognized {
                    attempts_left: left
                }
            )
        );
        assert_eq!(v.digits_entered, 0, "a wrong PIN clears the pad");
    }
    enter(&mut m, &s, "999999", t0);
    assert_eq!(
        m.view(t0, Some(&s), false).message,
        Message::Locked { seconds_left: 60 }
    );
    // Locked: digits and OK are ignored, even the right PIN.
    assert!(enter(&mut m, &s, "123456", t0 + Duration::seconds(30)).is_empty());
    let v = m.view(t0 + Duration::milliseconds(59_500), Some(&s), false);
    assert_eq!(
        (v.message, v.digits_entered),
        (Message::Locked { seconds_left: 1 }, 0)
    );
    // Unlocked after 60 s: five more wrong lock for 120 s.
    let t1 = t0 + Duration::seconds(60);
    assert_eq!(m.view(t1, Some(&s), false).message, Message::None);
    for _ in 0..5 {
        enter(&mut m, &s, "999999", t1);
    }
    assert_eq!(
        m.view(t1, Some(&s), false).message,
        Message::Locked { seconds_left: 120 }
    );
    let t2 = t1 + Duration::seconds(120);
    for _ in 0..5 {
        enter(&mut m, &s, "999999", t2);
    }
    assert_eq!(
        m.view(t2, Some(&s), false).message,
        Message::Locked { seconds_left: 240 }
    );
}

#[test]
fn a_recognised_pin_resets_the_count_and_the_doubling() {
    let s = schedule();
    let t0 = at(10, 0, 0);
    let mut m = machine(t0);
    for _ in 0..5 {
        enter(&mut m, &s, "999999", t0);
    }
    let t1 = t0 + Duration::seconds(60);
    enter(&mut m, &s, "222222", t1);
    m.handle(Input::Ui(UiInput::Cancel), t1, Some(&s));
    for _ in 0..4 {
        enter(&mut m, &s, "999999", t1);
    }
    assert_eq!(
        m.view(t1, Some(&s), false).message,
        Message::NotRecognized { attempts_left: 1 }
    );
    enter(&mut m, &s, "999999", t1);
    assert_eq!(
        m.view(t1, Some(&s), false).message,
        Message::Locked { seconds_left: 60 }
    );
}

#[test]
fn the_pad_takes_digits_only_up_to_the_pin_length_and_shows_them_masked() {
    let s = schedule();
    let t = at(10, 0, 0);
    let mut m = machine(t);
    m.handle(Input::Ui(UiInput::TouchStart), t, Some(&s));
    for d in [1, 2, 3, 4, 5, 6, 7, 42] {
        m.handle(Input::Ui(UiInput::Digit(d)), t, Some(&s));
    }
    let v = m.view(t, Some(&s), false);
    assert_eq!(
        (v.screen, v.digits_entered, v.pin_length),
        (Screen::PinEntry, 6, 6)
    );
    m.handle(Input::Ui(UiInput::Backspace), t, Some(&s));
    assert_eq!(m.view(t, Some(&s), false).digits_entered, 5);
    // OK with too few digits does nothing.
    assert!(m.handle(Input::Ui(UiInput::Submit), t, Some(&s)).is_empty());
    assert_eq!(m.view(t, Some(&s), false).message, Message::None);
}

#[test]
fn sixty_idle_seconds_return_to_the_attract_screen_and_clear_the_digits() {
    let s = schedule();
    let t = at(10, 0, 0);
    let mut m = machine(t);
    m.handle(Input::Ui(UiInput::TouchStart), t, Some(&s));
    m.handle(Input::Ui(UiInput::Digit(1)), t, Some(&s));
    m.handle(Input::Tick, t + Duration::seconds(59), Some(&s));
    assert_eq!(m.view(t, Some(&s), false).screen, Screen::PinEntry);
    m.handle(Input::Tick, t + Duration::seconds(60), Some(&s));
    let v = m.view(t + Duration::seconds(60), Some(&s), false);
    assert_eq!((v.screen, v.digits_entered), (Screen::Attract, 0));
    // A result screen times out as well.
    enter(&mut m, &s, "222222", t);
    m.handle(Input::Tick, t + Duration::seconds(60), Some(&s));
    assert_eq!(m.view(t, Some(&s), false).screen, Screen::Attract);
}

#[test]
fn the_checked_in_screen_follows_the_status_the_server_reports() {
    let s = schedule();
    let t = at(10, 29, 30);
    let mut m = machine(t);
    enter(&mut m, &s, "123456", t);
    m.handle(
        Input::Status {
            visit: Uuid::from_u128(7),
            status: VisitStatus::Ready,
        },
        t,
        Some(&s),
    );
    assert!(matches!(
        m.view(t, Some(&s), false).message,
        Message::CheckedIn {
            status: StatusText::Scheduled,
            ..
        }
    ));
    m.handle(
        Input::Status {
            visit: Uuid::from_u128(100),
            status: VisitStatus::Ready,
        },
        t,
        Some(&s),
    );
    assert_eq!(
        m.view(t, Some(&s), true).message,
        Message::CheckedIn {
            person: "J. S.".into(),
            status: StatusText::Ready
        }
    );
}

#[test]
fn without_any_schedule_every_pin_is_unrecognised() {
    let t = at(10, 0, 0);
    let mut m = machine(t);
    m.handle(Input::Ui(UiInput::TouchStart), t, None);
    for _ in 0..6 {
        m.handle(Input::Ui(UiInput::Digit(1)), t, None);
    }
    assert!(m.handle(Input::Ui(UiInput::Submit), t, None).is_empty());
    assert_eq!(
        m.view(t, None, true).message,
        Message::NotRecognized { attempts_left: 4 }
    );
}

#[test]
fn language_and_offline_mark_are_shown_on_every_screen() {
    let s = schedule();
    let t = at(10, 0, 0);
    let mut m = machine(t);
    m.handle(Input::Ui(UiInput::Language(Lang::Es)), t, Some(&s));
    let v = m.view(t, Some(&s), true);
    assert_eq!(
        (v.lang, v.offline, v.screen),
        (Lang::Es, true, Screen::Attract)
    );
    assert_eq!(v.facility_name, "Test County Jail");
    assert_eq!(v.clock, "10:00");
}
