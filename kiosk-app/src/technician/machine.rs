//! The technician screen's state as a pure machine: corner taps open a PIN
//! prompt, the right PIN opens the diagnostics, and it closes on Close or
//! after a while untouched. Wrong PINs count towards the same lockout as
//! the visitors' pad ([`crate::checkin::Lockout`]: 5 wrong, 60 s, doubling).
//!
//! No IO and no clock: `now` comes in, [`Effect`]s go out (start and stop
//! the live self-view and meter, play the tone). Checking the PIN against
//! its Argon2id hash is computation only, so it happens here.

use chrono::{DateTime, Duration, Utc};

use crate::checkin::Lockout;

/// Tunables.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Taps on the attract screen's corner that open the PIN prompt...
    pub taps: usize,
    /// ...within this long.
    pub tap_window: Duration,
    /// The PIN prompt untouched this long goes away.
    pub prompt_idle: Duration,
    /// The diagnostics untouched this long close.
    pub idle: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            taps: 5,
            tap_window: Duration::seconds(3),
            prompt_idle: Duration::seconds(30),
            idle: Duration::seconds(120),
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A tap on the hidden corner of the attract screen.
    CornerTap,
    Digit(u8),
    Backspace,
    Submit,
    /// "Cancel" on the PIN prompt.
    Cancel,
    /// "Close" on the diagnostics.
    Close,
    /// "Test speaker".
    Tone,
    /// Any other touch on the diagnostics (keeps it open).
    Touch,
    /// Time passes.
    Tick,
}

/// What the program must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The right PIN: start the self-view and the level meter.
    Start,
    /// Closed (or timed out): stop them, release the devices.
    Stop,
    /// Play the test tone on the speaker.
    Tone,
}

/// Which screen is up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Not showing: the terminal's own screens are up.
    Closed,
    /// The PIN prompt.
    Pin,
    /// The diagnostics.
    Open,
}

/// Shown on the PIN prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinMessage {
    None,
    /// "Wrong PIN. N attempts left."
    Wrong {
        attempts_left: u8,
    },
    /// "Too many attempts. Try again in N s." (keys disabled)
    Locked {
        seconds_left: u32,
    },
    /// No `pin_hash` in the configuration: the screen cannot be opened.
    NotConfigured,
}

/// Longest PIN the prompt takes.
const MAX_DIGITS: usize = *super::pin::LENGTHS.end();

#[derive(Debug, Clone)]
pub struct Machine {
    policy: Policy,
    pin_hash: Option<String>,
    phase: Phase,
    digits: String,
    wrong: bool,
    lockout: Lockout,
    taps: Vec<DateTime<Utc>>,
    last_touch: DateTime<Utc>,
}

impl Machine {
    /// `pin_hash`: the configured Argon2id hash; `None` leaves the screen shut.
    pub fn new(policy: Policy, pin_hash: Option<String>, now: DateTime<Utc>) -> Machine {
        let visitors = crate::checkin::Policy::default();
        Machine {
            policy,
            pin_hash,
            phase: Phase::Closed,
            digits: String::new(),
            wrong: false,
            lockout: Lockout::new(visitors.max_attempts, visitors.lock_base),
            taps: Vec::new(),
            last_touch: now,
        }
    }

    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// Whether the technician screens are up (the terminal's are not).
    pub fn showing(&self) -> bool {
        self.phase != Phase::Closed
    }

    pub fn digits_entered(&self) -> u8 {
        self.digits.len() as u8
    }

    /// What the PIN prompt says now.
    pub fn message(&self, now: DateTime<Utc>) -> PinMessage {
        if self.pin_hash.is_none() {
            return PinMessage::NotConfigured;
        }
        match self.lockout.seconds_left(now) {
            Some(seconds_left) => PinMessage::Locked { seconds_left },
            None if self.wrong => PinMessage::Wrong {
                attempts_left: self.lockout.attempts_left(),
            },
            None => PinMessage::None,
        }
    }

    /// Seconds until the diagnostics close by themselves.
    pub fn closes_in(&self, now: DateTime<Utc>) -> u32 {
        (self.policy.idle - (now - self.last_touch))
            .num_seconds()
            .max(0) as u32
    }

    fn close(&mut self) -> Vec<Effect> {
        let was_open = self.phase == Phase::Open;
        self.phase = Phase::Closed;
        self.digits.clear();
        self.wrong = false;
        if was_open { vec![Effect::Stop] } else { vec![] }
    }

    pub fn handle(&mut self, input: Input, now: DateTime<Utc>) -> Vec<Effect> {
        if input != Input::Tick && input != Input::CornerTap {
            self.last_touch = now;
        }
        match (&self.phase, input) {
            (Phase::Closed, Input::CornerTap) => {
                self.taps.retain(|t| now - *t < self.policy.tap_window);
                self.taps.push(now);
                if self.taps.len() >= self.policy.taps {
                    self.taps.clear();
                    self.phase = Phase::Pin;
                    self.last_touch = now;
                    tracing::info!("technician PIN prompt opened");
                }
                vec![]
            }
            (Phase::Pin, Input::Digit(d))
                if d <= 9 && self.pin_hash.is_some() && !self.lockout.locked(now) =>
            {
                self.wrong = false;
                if self.digits.len() < MAX_DIGITS {
                    self.digits.push(char::from(b'0' + d));
                }
                vec![]
            }
            (Phase::Pin, Input::Backspace) => {
                self.digits.pop();
                vec![]
            }
            (Phase::Pin, Input::Submit)
                if !self.lockout.locked(now)
                    && super::pin::LENGTHS.contains(&self.digits.len()) =>
            {
                let pin = std::mem::take(&mut self.digits);
                let hash = self.pin_hash.as_deref().unwrap_or("");
                if super::pin::verify(&pin, hash) {
                    self.lockout.right();
                    self.wrong = false;
                    self.phase = Phase::Open;
                    tracing::info!("technician screen opened");
                    vec![Effect::Start]
                } else {
                    let locked = self.lockout.wrong(now) == crate::checkin::Wrong::Locked;
                    self.wrong = !locked;
                    tracing::warn!(
                        locked,
                        attempts_left = self.lockout.attempts_left(),
                        "wrong technician PIN"
                    );
                    vec![]
                }
            }
            (Phase::Pin, Input::Cancel) | (Phase::Open, Input::Close) => {
                tracing::info!("technician screen closed");
                self.close()
            }
            (Phase::Open, Input::Tone) => vec![Effect::Tone],
            (Phase::Pin, Input::Tick) if now - self.last_touch >= self.policy.prompt_idle => {
                self.close()
            }
            (Phase::Open, Input::Tick) if now - self.last_touch >= self.policy.idle => {
                tracing::info!("technician screen closed after being left idle");
                self.close()
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::LazyLock;

    static HASH: LazyLock<String> = LazyLock::new(|| super::super::pin::hash("482193").unwrap());

    fn t0() -> DateTime<Utc> {
        "2026-11-19T15:00:00Z".parse().unwrap()
    }

    fn machine() -> Machine {
        Machine::new(Policy::default(), Some(HASH.clone()), t0())
    }

    fn type_pin(m: &mut Machine, pin: &str, now: DateTime<Utc>) -> Vec<Effect> {
        for b in pin.bytes() {
            m.handle(Input::Digit(b - b'0'), now);
        }
        m.handle(Input::Submit, now)
    }

    fn open_prompt(m: &mut Machine, now: DateTime<Utc>) {
        for _ in 0..5 {
            m.handle(Input::CornerTap, now);
        }
        assert_eq!(m.phase(), &Phase::Pin);
    }

    #[test]
    fn five_quick_corner_taps_open_the_prompt_slow_ones_do_not() {
        let mut m = machine();
        for i in 0..5 {
            m.handle(Input::CornerTap, t0() + Duration::seconds(i));
        }
        assert_eq!(m.phase(), &Phase::Closed, "taps spread over 4 s");
        for i in 0..5 {
            m.handle(
                Input::CornerTap,
                t0() + Duration::seconds(10) + Duration::milliseconds(300 * i),
            );
        }
        assert_eq!(m.phase(), &Phase::Pin);
    }

    #[test]
    fn the_right_pin_opens_a_wrong_one_says_so_and_locks_like_the_visitors_pad() {
        let mut m = machine();
        open_prompt(&mut m, t0());
        assert!(type_pin(&mut m, "111111", t0()).is_empty());
        assert_eq!(m.phase(), &Phase::Pin);
        assert_eq!(m.message(t0()), PinMessage::Wrong { attempts_left: 4 });
        for _ in 0..4 {
            type_pin(&mut m, "111111", t0());
        }
        assert_eq!(m.message(t0()), PinMessage::Locked { seconds_left: 60 });
        // Locked: even the right PIN does nothing, and digits are not taken.
        assert!(type_pin(&mut m, "482193", t0() + Duration::seconds(30)).is_empty());
        assert_eq!(m.digits_entered(), 0);
        let later = t0() + Duration::seconds(61);
        assert_eq!(type_pin(&mut m, "482193", later), vec![Effect::Start]);
        assert_eq!(m.phase(), &Phase::Open);
    }

    #[test]
    fn close_and_idle_stop_the_live_devices() {
        let mut m = machine();
        open_prompt(&mut m, t0());
        type_pin(&mut m, "482193", t0());
        assert_eq!(m.handle(Input::Tone, t0()), vec![Effect::Tone]);
        assert_eq!(m.handle(Input::Close, t0()), vec![Effect::Stop]);
        assert!(!m.showing());

        open_prompt(&mut m, t0());
        type_pin(&mut m, "482193", t0());
        let t = t0() + Duration::seconds(100);
        m.handle(Input::Touch, t);
        assert_eq!(m.closes_in(t), 120);
        assert!(m.handle(Input::Tick, t + Duration::seconds(119)).is_empty());
        assert_eq!(
            m.handle(Input::Tick, t + Duration::seconds(120)),
            vec![Effect::Stop]
        );
        assert!(!m.showing());
    }

    #[test]
    fn an_abandoned_prompt_goes_away_and_no_pin_hash_means_no_way_in() {
        let mut m = machine();
        open_prompt(&mut m, t0());
        m.handle(Input::Digit(4), t0());
        m.handle(Input::Tick, t0() + Duration::seconds(31));
        assert!(!m.showing());

        let mut m = Machine::new(Policy::default(), None, t0());
        open_prompt(&mut m, t0());
        assert_eq!(m.message(t0()), PinMessage::NotConfigured);
        assert!(type_pin(&mut m, "482193", t0()).is_empty());
        assert_eq!(m.phase(), &Phase::Pin);
    }
}
