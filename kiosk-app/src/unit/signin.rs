//! Sign-in and the visit list as a pure state machine.
//!
//! The ID number is typed as its digits (`A-1001` is `1001`), then the PIN.
//! Whether the number exists is never said: an unknown number and a wrong
//! PIN are the same "not recognized", and both count towards the lockout
//! (5 wrong, 60 s, doubling), so numbers cannot be probed. Unlike the
//! lobby's, a right PIN does not clear the count: everyone at a unit
//! terminal has a right PIN, and clearing would let a person guess another's
//! PIN four at a time between their own sign-ins. The count is forgotten
//! after [`FORGET_WRONG_AFTER`] without a wrong attempt. Once signed in
//! the person sees today's visits; each row offers "Join" inside the
//! person's [`crate::schedule::JoinWindow`] (on-site visits only once the
//! visitor has checked in), the same window the waiting screen keeps. No
//! touch for `idle_timeout` signs the person out, but the terminal does not
//! tick this machine during a call, and tells it when the call is closed
//! ([`Input::CallClosed`]).

use chrono::{DateTime, Duration, Utc};
use protocol::signal::Side;
use protocol::{VisitKind, VisitStatus};
use ui::{
    JoinState, Lang, Message, Screen, SignInStep, TerminalView, UiInput, UnitStatus, UnitView,
    UnitVisit,
};
use uuid::Uuid;

use crate::checkin::{Lockout, Wrong};
use crate::schedule::{ScheduleIndex, VisitEntry};

/// Longest ID number and PIN the keypad takes.
pub const MAX_NUMBER_DIGITS: usize = 12;
pub const MAX_PIN_DIGITS: usize = 10;
/// Shortest sign-in PIN (the server enforces 4 to 10 digits).
pub const MIN_PIN_DIGITS: usize = 4;
/// Wrong attempts (and the lockout's doubling) are forgotten after this
/// long without one.
pub const FORGET_WRONG_AFTER: Duration = Duration::minutes(15);

/// The lobby's tunables: the same lockout; `idle_timeout` here is how long
/// without a touch, signed in or half-way through typing, signs out.
pub use crate::checkin::Policy;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Ui(UiInput),
    /// Time passes (idle sign-out, lock countdown). Not sent during a call.
    Tick,
    /// The call screen closed: back to the list, the idle clock restarted.
    CallClosed,
}

/// Why the person was signed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignOutReason {
    Button,
    Idle,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Take the sign-in photo and queue it for the person's visits.
    SignedIn {
        person: Uuid,
        number: String,
        at: DateTime<Utc>,
    },
    /// Record the sign-in for this visit and open its call.
    Join {
        visit: Uuid,
        number: String,
        at: DateTime<Utc>,
    },
    SignedOut {
        person: Uuid,
        why: SignOutReason,
    },
    /// A number and PIN that match nobody (logged: repeated refusals are
    /// someone guessing).
    NotRecognized {
        locked: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Number,
    Pin,
    SignedIn { person: Uuid, number: String },
}

#[derive(Debug, Clone)]
pub struct SignIn {
    policy: Policy,
    phase: Phase,
    number: String,
    pin: String,
    lang: Lang,
    lockout: Lockout,
    /// When the last wrong attempt was made.
    last_wrong: Option<DateTime<Utc>>,
    show_not_recognized: bool,
    last_touch: DateTime<Utc>,
}

/// What a visit's row offers at `now`.
pub fn join_state(v: &VisitEntry, now: DateTime<Utc>) -> JoinState {
    let active = matches!(
        v.status,
        VisitStatus::Scheduled
            | VisitStatus::Pending
            | VisitStatus::Ready
            | VisitStatus::InProgress
    );
    let window = v.join_window(Side::Person);
    if !active || now >= window.closes {
        JoinState::Closed
    } else if now < window.opens {
        JoinState::OpensAt(String::new())
    } else if v.kind == VisitKind::Onsite && !v.visitor_checked_in {
        JoinState::VisitorNotCheckedIn
    } else {
        JoinState::Open
    }
}

fn status_text(s: VisitStatus) -> UnitStatus {
    match s {
        VisitStatus::Scheduled => UnitStatus::Scheduled,
        VisitStatus::Pending => UnitStatus::Pending,
        VisitStatus::Ready => UnitStatus::Ready,
        VisitStatus::InProgress => UnitStatus::InProgress,
        VisitStatus::Ended => UnitStatus::Ended,
        VisitStatus::Cancelled => UnitStatus::Cancelled,
        VisitStatus::Terminated => UnitStatus::Terminated,
        VisitStatus::NoShow => UnitStatus::NoShow,
    }
}

impl SignIn {
    pub fn new(policy: Policy, lang: Lang, now: DateTime<Utc>) -> Self {
        Self {
            lockout: Lockout::new(policy.max_attempts, policy.lock_base),
            last_wrong: None,
            policy,
            phase: Phase::Number,
            number: String::new(),
            pin: String::new(),
            lang,
            show_not_recognized: false,
            last_touch: now,
        }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The signed-in person, if any.
    pub fn person(&self) -> Option<Uuid> {
        match &self.phase {
            Phase::SignedIn { person, .. } => Some(*person),
            _ => None,
        }
    }

    fn today<'a>(
        &self,
        person: Uuid,
        now: DateTime<Utc>,
        s: &'a ScheduleIndex,
    ) -> Vec<&'a VisitEntry> {
        s.visits_of(person, now.with_timezone(&s.tz).date_naive())
    }

    fn sign_out(&mut self, why: SignOutReason) -> Vec<Effect> {
        let effects = match &self.phase {
            Phase::SignedIn { person, .. } => vec![Effect::SignedOut {
                person: *person,
                why,
            }],
            _ => vec![],
        };
        self.phase = Phase::Number;
        self.number.clear();
        self.pin.clear();
        self.show_not_recognized = false;
        effects
    }

    pub fn handle(
        &mut self,
        input: Input,
        now: DateTime<Utc>,
        schedule: Option<&ScheduleIndex>,
    ) -> Vec<Effect> {
        match input {
            Input::Tick => {
                let busy = self.phase != Phase::Number || !self.number.is_empty();
                if busy && now - self.last_touch >= self.policy.idle_timeout {
                    return self.sign_out(SignOutReason::Idle);
                }
                vec![]
            }
            Input::CallClosed => {
                self.last_touch = now;
                vec![]
            }
            Input::Ui(ui) => {
                self.last_touch = now;
                self.on_touch(ui, now, schedule)
            }
        }
    }

    fn on_touch(
        &mut self,
        ui: UiInput,
        now: DateTime<Utc>,
        schedule: Option<&ScheduleIndex>,
    ) -> Vec<Effect> {
        let locked = self.lockout.locked(now);
        match (&self.phase, ui) {
            (_, UiInput::Language(l)) => self.lang = l,
            (Phase::Number, UiInput::Digit(d)) if d <= 9 && !locked => {
                self.show_not_recognized = false;
                if self.number.len() < MAX_NUMBER_DIGITS {
                    self.number.push(char::from(b'0' + d));
                }
            }
            (Phase::Number, UiInput::Backspace) => {
                self.number.pop();
            }
            (Phase::Number, UiInput::Cancel) => {
                self.number.clear();
                self.show_not_recognized = false;
            }
            (Phase::Number, UiInput::Submit) if !locked && !self.number.is_empty() => {
                self.show_not_recognized = false;
                self.phase = Phase::Pin;
            }
            (Phase::Pin, UiInput::Digit(d)) if d <= 9 && !locked => {
                self.show_not_recognized = false;
                if self.pin.len() < MAX_PIN_DIGITS {
                    self.pin.push(char::from(b'0' + d));
                }
            }
            (Phase::Pin, UiInput::Backspace) => {
                self.pin.pop();
            }
            (Phase::Pin, UiInput::Cancel) => {
                // Back to the number, to correct it.
                self.pin.clear();
                self.phase = Phase::Number;
            }
            (Phase::Pin, UiInput::Submit) if !locked && self.pin.len() >= MIN_PIN_DIGITS => {
                let pin = std::mem::take(&mut self.pin);
                return self.submit(&pin, now, schedule);
            }
            (Phase::SignedIn { .. }, UiInput::SignOut) => {
                return self.sign_out(SignOutReason::Button);
            }
            (Phase::SignedIn { person, number }, UiInput::JoinVisit(row)) => {
                let Some(s) = schedule else { return vec![] };
                let visits = self.today(*person, now, s);
                if let Some(v) = visits.get(usize::from(row))
                    && join_state(v, now) == JoinState::Open
                {
                    return vec![Effect::Join {
                        visit: v.id,
                        number: number.clone(),
                        at: now,
                    }];
                }
            }
            _ => {}
        }
        vec![]
    }

    fn submit(
        &mut self,
        pin: &str,
        now: DateTime<Utc>,
        schedule: Option<&ScheduleIndex>,
    ) -> Vec<Effect> {
        // Two persons whose numbers share digits and PIN cannot be told
        // apart: better neither than the wrong one.
        let found = schedule.and_then(|s| {
            let mut matching = s
                .persons_numbered(&self.number)
                .filter(|p| p.pin_matches(pin));
            match (matching.next(), matching.next()) {
                (Some(p), None) => Some((p.id, p.number.clone())),
                _ => None,
            }
        });
        let Some((person, number)) = found else {
            if self
                .last_wrong
                .is_some_and(|t| now - t >= FORGET_WRONG_AFTER)
            {
                self.lockout = Lockout::new(self.policy.max_attempts, self.policy.lock_base);
            }
            self.last_wrong = Some(now);
            let locked = self.lockout.wrong(now) == Wrong::Locked;
            self.show_not_recognized = !locked;
            // Start over from the number: it may be the part that was wrong.
            self.phase = Phase::Number;
            self.number.clear();
            return vec![Effect::NotRecognized { locked }];
        };
        // Not `lockout.right()`: see the module doc.
        self.number.clear();
        self.show_not_recognized = false;
        self.phase = Phase::SignedIn {
            person,
            number: number.clone(),
        };
        vec![Effect::SignedIn {
            person,
            number,
            at: now,
        }]
    }

    /// What the screen shows.
    pub fn view(
        &self,
        now: DateTime<Utc>,
        schedule: Option<&ScheduleIndex>,
        offline: bool,
    ) -> TerminalView {
        let tz = schedule.map_or(chrono_tz::UTC, |s| s.tz);
        let hhmm = |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M").to_string();
        let message = match self.lockout.seconds_left(now) {
            Some(seconds_left) if self.person().is_none() => Message::Locked { seconds_left },
            None if self.show_not_recognized => Message::NotRecognized {
                attempts_left: self.lockout.attempts_left(),
            },
            _ => Message::None,
        };
        let (screen, unit) = match &self.phase {
            Phase::Number | Phase::Pin => (
                Screen::UnitSignIn,
                UnitView {
                    step: if self.phase == Phase::Pin {
                        SignInStep::Pin
                    } else {
                        SignInStep::Number
                    },
                    number: self.number.clone(),
                    pin_entered: self.pin.len() as u8,
                    ..UnitView::default()
                },
            ),
            Phase::SignedIn { person, .. } => {
                let visits = schedule
                    .map(|s| {
                        self.today(*person, now, s)
                            .into_iter()
                            .map(|v| UnitVisit {
                                starts_at: hhmm(v.start),
                                ends_at: hhmm(v.end),
                                visitors: v.visitor_display.join(", "),
                                remote: v.kind == VisitKind::Remote,
                                status: status_text(v.status),
                                join: match join_state(v, now) {
                                    JoinState::OpensAt(_) => {
                                        JoinState::OpensAt(hhmm(v.join_window(Side::Person).opens))
                                    }
                                    j => j,
                                },
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (
                    Screen::UnitVisits,
                    UnitView {
                        person: schedule
                            .and_then(|s| s.person(*person))
                            .map(|p| p.display.clone())
                            .unwrap_or_default(),
                        visits,
                        ..UnitView::default()
                    },
                )
            }
        };
        TerminalView {
            screen,
            facility_name: schedule
                .map(|s| s.facility_name().to_string())
                .unwrap_or_default(),
            clock: hhmm(now),
            lang: self.lang,
            pin_length: 0,
            digits_entered: 0,
            message,
            offline,
            call: Default::default(),
            unit,
        }
    }
}
