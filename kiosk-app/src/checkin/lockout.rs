//! The PIN lockout shared by the lobby's check-in, the housing unit's
//! sign-in and the technician screen: after `max_attempts` wrong PINs in a row the keys lock for
//! `base`, and each further lock doubles (60 s, 120 s, 240 s...). A right
//! PIN forgets both the count and the doubling. Pure: the caller passes `now`.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockout {
    max_attempts: u8,
    base: Duration,
    wrong_in_a_row: u8,
    lockouts: u32,
    locked_until: Option<DateTime<Utc>>,
}

/// What a wrong attempt led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrong {
    /// This many attempts are left before the lock.
    AttemptsLeft(u8),
    /// The keys are locked now.
    Locked,
}

impl Lockout {
    pub fn new(max_attempts: u8, base: Duration) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            base,
            wrong_in_a_row: 0,
            lockouts: 0,
            locked_until: None,
        }
    }

    pub fn locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|t| now < t)
    }

    /// Whole seconds until the keys unlock (rounded up), while locked.
    pub fn seconds_left(&self, now: DateTime<Utc>) -> Option<u32> {
        self.locked_until
            .filter(|&t| now < t)
            .map(|t| ((t - now).num_milliseconds() + 999).div_euclid(1000) as u32)
    }

    /// Attempts left before the next lock.
    pub fn attempts_left(&self) -> u8 {
        self.max_attempts - self.wrong_in_a_row
    }

    /// Count a wrong PIN at `now`.
    pub fn wrong(&mut self, now: DateTime<Utc>) -> Wrong {
        self.wrong_in_a_row += 1;
        if self.wrong_in_a_row < self.max_attempts {
            return Wrong::AttemptsLeft(self.attempts_left());
        }
        let factor = 1i32 << self.lockouts.min(10);
        self.locked_until = Some(now + self.base * factor);
        self.lockouts += 1;
        self.wrong_in_a_row = 0;
        Wrong::Locked
    }

    /// A right PIN: start afresh.
    pub fn right(&mut self) {
        self.wrong_in_a_row = 0;
        self.lockouts = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_wrong_lock_for_the_base_then_double() {
        let t0 = Utc::now();
        let mut l = Lockout::new(5, Duration::seconds(60));
        for left in (1..5).rev() {
            assert_eq!(l.wrong(t0), Wrong::AttemptsLeft(left));
        }
        assert_eq!(l.wrong(t0), Wrong::Locked);
        assert_eq!(l.seconds_left(t0), Some(60));
        assert!(!l.locked(t0 + Duration::seconds(60)));
        let t1 = t0 + Duration::seconds(60);
        for _ in 0..5 {
            l.wrong(t1);
        }
        assert_eq!(l.seconds_left(t1), Some(120));
        l.right();
        let t2 = t1 + Duration::seconds(120);
        for _ in 0..5 {
            l.wrong(t2);
        }
        assert_eq!(
            l.seconds_left(t2),
            Some(60),
            "a right PIN forgets the doubling"
        );
    }
}
