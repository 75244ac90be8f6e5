//! The keypad both PIN pads share: the lobby's check-in and the housing
//! unit's sign-in. It owns what is being typed, the [`Lockout`], the "not
//! recognized" message after a wrong entry and the idle clock; each machine
//! keeps its own phases and what a submitted entry means. Pure: the caller
//! passes `now`.

use chrono::{DateTime, Utc};
use ui::{Message, UiInput};

use super::{Lockout, Policy, Wrong};

#[derive(Debug, Clone)]
pub struct Keypad {
    policy: Policy,
    /// The digits typed so far (a PIN, or the unit's ID number).
    entry: String,
    lockout: Lockout,
    /// Set after a wrong entry until the next digit.
    show_not_recognized: bool,
    last_touch: DateTime<Utc>,
}

impl Keypad {
    pub fn new(policy: Policy, now: DateTime<Utc>) -> Self {
        Self {
            lockout: Lockout::new(policy.max_attempts, policy.lock_base),
            policy,
            entry: String::new(),
            show_not_recognized: false,
            last_touch: now,
        }
    }

    /// A touch (or a call closing): the idle clock starts again.
    pub fn touched(&mut self, now: DateTime<Utc>) {
        self.last_touch = now;
    }

    /// No touch for the policy's `idle_timeout`.
    pub fn idle(&self, now: DateTime<Utc>) -> bool {
        now - self.last_touch >= self.policy.idle_timeout
    }

    pub fn locked(&self, now: DateTime<Utc>) -> bool {
        self.lockout.locked(now)
    }

    pub fn entry(&self) -> &str {
        &self.entry
    }

    /// A digit (ignored while locked, or past `max` digits) or Backspace;
    /// any other input is left to the machine.
    pub fn edit(&mut self, ui: UiInput, max: usize, now: DateTime<Utc>) {
        match ui {
            UiInput::Digit(d) if d <= 9 && !self.locked(now) => {
                self.show_not_recognized = false;
                if self.entry.len() < max {
                    self.entry.push(char::from(b'0' + d));
                }
            }
            UiInput::Backspace => {
                self.entry.pop();
            }
            _ => {}
        }
    }

    /// OK: the entry, taken off the pad, unless the keys are locked or
    /// `complete` refuses its length.
    pub fn submit(
        &mut self,
        now: DateTime<Utc>,
        complete: impl Fn(usize) -> bool,
    ) -> Option<String> {
        if self.locked(now) || !complete(self.entry.len()) {
            return None;
        }
        self.show_not_recognized = false;
        Some(std::mem::take(&mut self.entry))
    }

    /// Put back an entry to correct it (the unit's number, from the PIN step).
    pub fn restore(&mut self, entry: String) {
        self.entry = entry;
    }

    /// Start over: the entry and the message go, the lockout stays.
    pub fn clear(&mut self) {
        self.entry.clear();
        self.show_not_recognized = false;
    }

    /// A wrong entry counts towards the lockout; "not recognized" shows
    /// unless it locked the keys. Returns whether it did.
    pub fn wrong(&mut self, now: DateTime<Utc>) -> bool {
        let locked = self.lockout.wrong(now) == Wrong::Locked;
        self.show_not_recognized = !locked;
        locked
    }

    /// A right entry: the lockout starts afresh.
    pub fn right(&mut self) {
        self.lockout.right();
    }

    /// Forget the wrong attempts and the doubling, as if none were made.
    pub fn forget_wrong(&mut self) {
        self.lockout = Lockout::new(self.policy.max_attempts, self.policy.lock_base);
    }

    /// What the pad says: the lock's countdown, "not recognized" with the
    /// attempts left, or nothing.
    pub fn message(&self, now: DateTime<Utc>) -> Message {
        match self.lockout.seconds_left(now) {
            Some(seconds_left) => Message::Locked { seconds_left },
            None if self.show_not_recognized => Message::NotRecognized {
                attempts_left: self.lockout.attempts_left(),
            },
            None => Message::None,
        }
    }
}
