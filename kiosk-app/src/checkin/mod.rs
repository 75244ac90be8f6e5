//! The lobby check-in as a pure state machine: inputs in, effects out.
//!
//! No IO and no clock: every call gets `now` and the schedule to check
//! against, and returns what the program must do (record a check-in). The
//! same machine runs behind the touchscreen and in headless mode, online and
//! offline alike, so a visitor sees the same thing whatever the network does.
//! The pad itself (what is typed, the lockout, the idle clock) is
//! [`keypad`], shared with the unit's sign-in; this machine owns the phases
//! and what a PIN leads to.

use chrono::{DateTime, Duration, Utc};
use protocol::VisitStatus;
use protocol::signal::Side;
use ui::{Lang, Message, Screen, StatusText, TerminalView, UiInput};
use uuid::Uuid;

use crate::schedule::ScheduleIndex;

pub mod keypad;
pub mod lockout;
pub use keypad::Keypad;
pub use lockout::{Lockout, Wrong};

/// Tunables from the issue and the state policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Wrong PINs in a row before the pad locks.
    pub max_attempts: u8,
    /// First lock; each further lock doubles it.
    pub lock_base: Duration,
    /// No touch for this long: back to the attract screen, digits cleared.
    pub idle_timeout: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            lock_base: Duration::seconds(60),
            idle_timeout: Duration::seconds(60),
        }
    }
}

/// What happened, as the machine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A touch on the screen (or its headless equivalent).
    Ui(UiInput),
    /// Time passes (idle timeout, lock countdown).
    Tick,
    /// The server reported a visit's status after an upload.
    Status { visit: Uuid, status: VisitStatus },
}

/// What the program must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Record the check-in durably and send it to the server.
    CheckIn { visit: Uuid, at: DateTime<Utc> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    TooEarly {
        start: DateTime<Utc>,
        opens: DateTime<Utc>,
    },
    Ended,
    Cancelled,
    Terminated,
    CheckedIn {
        visit: Uuid,
        person: String,
        status: VisitStatus,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Attract,
    Entering,
    Showing(Outcome),
}

/// The lobby's check-in state.
#[derive(Debug, Clone)]
pub struct Checkin {
    phase: Phase,
    lang: Lang,
    /// The PIN typed, the lockout, the idle clock.
    keypad: Keypad,
}

impl Checkin {
    pub fn new(policy: Policy, lang: Lang, now: DateTime<Utc>) -> Self {
        Self {
            phase: Phase::Attract,
            lang,
            keypad: Keypad::new(policy, now),
        }
    }

    fn back_to_attract(&mut self) {
        self.phase = Phase::Attract;
        self.keypad.clear();
    }

    /// Feed one input; returns the effects to carry out.
    pub fn handle(
        &mut self,
        input: Input,
        now: DateTime<Utc>,
        schedule: Option<&ScheduleIndex>,
    ) -> Vec<Effect> {
        match input {
            Input::Tick => {
                if self.phase != Phase::Attract && self.keypad.idle(now) {
                    self.back_to_attract();
                }
                Vec::new()
            }
            Input::Status { visit, status } => {
                if let Phase::Showing(Outcome::CheckedIn {
                    visit: v,
                    status: s,
                    ..
                }) = &mut self.phase
                    && *v == visit
                {
                    *s = status;
                }
                Vec::new()
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
        let pin_length = schedule.map_or(6, ScheduleIndex::pin_length) as usize;
        match (&self.phase, ui) {
            (_, UiInput::Language(l)) => self.lang = l,
            (Phase::Attract, UiInput::TouchStart | UiInput::Digit(_)) => {
                self.phase = Phase::Entering;
                if let UiInput::Digit(d) = ui {
                    return self.on_touch(UiInput::Digit(d), now, schedule);
                }
            }
            (Phase::Entering, UiInput::Digit(_) | UiInput::Backspace) => {
                self.keypad.edit(ui, pin_length, now);
            }
            (Phase::Entering, UiInput::Submit) => {
                if let Some(pin) = self.keypad.submit(now, |n| n == pin_length) {
                    return self.submit(&pin, now, schedule);
                }
            }
            (Phase::Entering | Phase::Showing(_), UiInput::Cancel)
            | (Phase::Showing(_), UiInput::TouchStart) => {
                self.back_to_attract();
            }
            _ => {}
        }
        Vec::new()
    }

    fn submit(
        &mut self,
        pin: &str,
        now: DateTime<Utc>,
        schedule: Option<&ScheduleIndex>,
    ) -> Vec<Effect> {
        let found = schedule.and_then(|s| s.find(pin, now.with_timezone(&s.tz).date_naive()));
        let Some(v) = found else {
            self.keypad.wrong(now);
            return Vec::new();
        };
        self.keypad.right();
        // The visitor checks in from when they may join.
        let opens = v.join_window(Side::Visitor).opens;
        let (outcome, effects) = match v.status {
            VisitStatus::Cancelled => (Outcome::Cancelled, vec![]),
            VisitStatus::Terminated => (Outcome::Terminated, vec![]),
            VisitStatus::Ended | VisitStatus::NoShow => (Outcome::Ended, vec![]),
            _ if now >= v.end => (Outcome::Ended, vec![]),
            _ if now < opens => (
                Outcome::TooEarly {
                    start: v.start,
                    opens,
                },
                vec![],
            ),
            status => (
                Outcome::CheckedIn {
                    visit: v.id,
                    person: v.person_display.clone(),
                    status,
                },
                vec![Effect::CheckIn {
                    visit: v.id,
                    at: now,
                }],
            ),
        };
        self.phase = Phase::Showing(outcome);
        effects
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// What the screen shows now.
    pub fn view(
        &self,
        now: DateTime<Utc>,
        schedule: Option<&ScheduleIndex>,
        offline: bool,
    ) -> TerminalView {
        let tz = schedule.map_or(chrono_tz::UTC, |s| s.tz);
        let hhmm = |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M").to_string();
        let (screen, message) = match &self.phase {
            Phase::Attract => (Screen::Attract, Message::None),
            Phase::Entering => (Screen::PinEntry, self.keypad.message(now)),
            Phase::Showing(o) => (
                Screen::Result,
                match o {
                    Outcome::TooEarly { start, opens } => Message::TooEarly {
                        start: hhmm(*start),
                        opens: hhmm(*opens),
                    },
                    Outcome::Ended => Message::Ended,
                    Outcome::Cancelled => Message::Cancelled,
                    Outcome::Terminated => Message::Terminated {
                        reason: String::new(),
                    },
                    Outcome::CheckedIn { person, status, .. } => Message::CheckedIn {
                        person: person.clone(),
                        status: match status {
                            VisitStatus::Pending => StatusText::Pending,
                            VisitStatus::Ready => StatusText::Ready,
                            VisitStatus::InProgress => StatusText::InProgress,
                            _ => StatusText::Scheduled,
                        },
                    },
                },
            ),
        };
        TerminalView {
            screen,
            facility_name: schedule
                .map(|s| s.facility_name().to_string())
                .unwrap_or_default(),
            clock: hhmm(now),
            lang: self.lang,
            pin_length: schedule.map_or(6, ScheduleIndex::pin_length),
            digits_entered: self.keypad.entry().len() as u8,
            message,
            offline,
            call: Default::default(),
            unit: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests;
