//! Wrong PINs in a row lock a PIN pad for a while, longer each time: the
//! visitors' pad and the technician's share this rule (5 wrong, 60 s,
//! doubling). Pure: the caller passes `now`.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone)]
pub struct Lockout {
    max_attempts: u8,
    base: Duration,
    wrong_in_a_row: u8,
    lockouts: u32,
    locked_until: Option<DateTime<Utc>>,
}

impl Lockout {
    /// `max_attempts` wrong in a row lock for `base`, then twice as long...
    pub fn new(max_attempts: u8, base: Duration) -> Self {
        Lockout {
            max_attempts,
            base,
            wrong_in_a_row: 0,
            lockouts: 0,
            locked_until: None,
        }
    }

    pub fn locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|t| now < t)
    }

    /// Whole seconds until the pad opens again, rounded up; `None` if open.
    pub fn seconds_left(&self, now: DateTime<Utc>) -> Option<u32> {
        match self.locked_until {
            Some(until) if now < until => {
                Some(((until - now).num_milliseconds() + 999).div_euclid(1000) as u32)
            }
            _ => None,
        }
    }

    /// Wrong PINs still allowed before the next lock.
    pub fn attempts_left(&self) -> u8 {
        self.max_attempts - self.wrong_in_a_row
    }

    /// A wrong PIN. Returns whether it locked the pad.
    pub fn wrong(&mut self, now: DateTime<Utc>) -> bool {
        self.wrong_in_a_row += 1;
        if self.wrong_in_a_row < self.max_attempts {
            return false;
        }
        let factor = 1i32 << self.lockouts.min(10);
        self.locked_until = Some(now + self.base * factor);
        self.lockouts += 1;
        self.wrong_in_a_row = 0;
        true
    }

    /// A right PIN: the count starts again.
    pub fn right(&mut self) {
        self.wrong_in_a_row = 0;
        self.lockouts = 0;
    }
}
