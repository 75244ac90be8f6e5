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

use crate::checkin::Keypad;
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
    phase: Phase,
    /// The ID number, once typed (the keypad then takes the PIN).
    number: String,
    lang: Lang,
    /// What is being typed, the lockout, the idle clock.
    keypad: Keypad,
    /// When the last wrong attempt was made.
    last_wrong: Option<DateTime<Utc>>,
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
            phase: Phase::Number,
            number: String::new(),
            lang,
            keypad: Keypad::new(policy, now),
            last_wrong: None,
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
        self.keypad.clear();
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
                let busy = self.phase != Phase::Number || !self.keypad.entry().is_empty();
                if busy && self.keypad.idle(now) {
                    return self.sign_out(SignOutReason::Idle);
                }
                vec![]
            }
            Input::CallClosed => {
                self.keypad.touched(now);
                vec![]
            }
            Input::Ui(ui) => {
                self.keypad.touched(now);
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
        match (&self.phase, ui) {
            (_, UiInput::Language(l)) => self.lang = l,
            (Phase::Number, UiInput::Digit(_) | UiInput::Backspace) => {
                self.keypad.edit(ui, MAX_NUMBER_DIGITS, now);
            }
            (Phase::Pin, UiInput::Digit(_) | UiInput::Backspace) => {
                self.keypad.edit(ui, MAX_PIN_DIGITS, now);
            }
            (Phase::Number, UiInput::Cancel) => self.keypad.clear(),
            (Phase::Number, UiInput::Submit) => {
                if let Some(number) = self.keypad.submit(now, |n| n > 0) {
                    self.number = number;
                    self.phase = Phase::Pin;
                }
            }
            (Phase::Pin, UiInput::Cancel) => {
                // Back to the number, to correct it.
                self.keypad.clear();
                self.keypad.restore(std::mem::take(&mut self.number));
                self.phase = Phase::Number;
            }
            (Phase::Pin, UiInput::Submit) => {
                if let Some(pin) = self.keypad.submit(now, |n| n >= MIN_PIN_DIGITS) {
                    return self.submit(&pin, now, schedule);
                }
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
                self.keypad.forget_wrong();
            }
            self.last_wrong = Some(now);
            let locked = self.keypad.wrong(now);
            // Start over from the number: it may be the part that was wrong.
            self.phase = Phase::Number;
            self.number.clear();
            return vec![Effect::NotRecognized { locked }];
        };
        // Not `keypad.right()`: see the module doc.
        self.number.clear();
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
        let message = match self.person() {
            None => self.keypad.message(now),
            Some(_) => Message::None,
        };
        let (screen, unit) = match &self.phase {
            Phase::Number => (
                Screen::UnitSignIn,
                UnitView {
                    step: SignInStep::Number,
                    number: self.keypad.entry().to_string(),
                    ..UnitView::default()
                },
            ),
            Phase::Pin => (
                Screen::UnitSignIn,
                UnitView {
                    step: SignInStep::Pin,
                    number: self.number.clone(),
                    pin_entered: self.keypad.entry().len() as u8,
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
