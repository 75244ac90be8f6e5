//! Something that keeps failing (the camera and microphone that will not
//! start, a session that cannot be built): tried again after a wait that
//! doubles from one second to a minute, and logged once per cause, not at
//! every attempt. Pure: the caller passes the time.

use std::time::{Duration, Instant};

const FIRST: Duration = Duration::from_secs(1);
const LAST: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
pub struct Backoff {
    /// Not before this (None: now).
    next: Option<Instant>,
    wait: Duration,
    /// The cause last logged.
    said: Option<String>,
}

impl Backoff {
    /// May it be tried now?
    pub fn ready(&self, now: Instant) -> bool {
        self.next.is_none_or(|t| now >= t)
    }

    /// It failed for `cause`: wait longer. Returns whether to log it (a
    /// cause not logged before).
    pub fn failed(&mut self, now: Instant, cause: &str) -> bool {
        self.wait = (self.wait * 2).clamp(FIRST, LAST);
        self.next = Some(now + self.wait);
        let new = self.said.as_deref() != Some(cause);
        self.said = Some(cause.to_string());
        new
    }

    /// It worked: try at once next time. Returns whether it had failed
    /// before (worth a line: it recovered).
    pub fn succeeded(&mut self) -> bool {
        let had_failed = self.said.is_some();
        *self = Backoff::default();
        had_failed
    }

    /// The wait after the last failure.
    #[cfg(test)]
    pub fn wait(&self) -> Duration {
        self.wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_to_a_minute_and_a_cause_is_said_once() {
        let t0 = Instant::now();
        let mut b = Backoff::default();
        assert!(b.ready(t0));
        assert!(b.failed(t0, "no element textoverlay"));
        assert!(!b.ready(t0 + Duration::from_millis(250)));
        assert!(b.ready(t0 + FIRST));
        let mut now = t0;
        let mut said = 0;
        let mut tries = 0;
        // Ten minutes of a failure that does not go away.
        while now < t0 + Duration::from_secs(600) {
            if b.ready(now) {
                tries += 1;
                said += b.failed(now, "no element textoverlay") as u32;
            }
            now += Duration::from_millis(250);
        }
        assert_eq!(said, 0, "the same cause is not logged again");
        assert!(tries <= 16, "{tries} attempts in ten minutes");
        assert_eq!(b.wait(), LAST);
        assert!(b.failed(now, "the camera is busy"), "a new cause is logged");
        assert!(b.succeeded());
        assert!(b.ready(now));
        assert!(!b.succeeded());
    }
}
