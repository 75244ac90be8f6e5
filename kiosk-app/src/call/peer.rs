//! One peer of the call as the media side sees it: its current session,
//! what came from it over all its sessions, its encoder's rate, which
//! codecs the next offer lists, and why nothing (or no picture) comes.
//! Who the peer is and on which tile is `signalling`'s; this is the rest.

use std::time::{Duration, Instant};

use protocol::signal::MediaProblem;

use super::bitrate::Controller;
use super::codec::Codec;
use super::media::MediaSession;

/// Media that has not flowed this long after a peer came into the call
/// gets a reason on the screen and in the visit's history.
const EXPLAIN_AFTER: Duration = Duration::from_secs(10);

/// One peer of the call and our session with it.
pub struct PeerCall {
    pub session: Option<MediaSession>,
    pub started: Instant,
    pub controller: Controller,
    /// Totals over its sessions, and what the current session had counted.
    pub frames: u64,
    pub audio: u64,
    pub seen: (u64, u64),
    pub last_progress: Instant,
    /// Frames that differed from the one before, and the session's count so far.
    pub moving: u64,
    pub seen_moving: u64,
    /// The codecs our next offer to it lists (the person's side), and
    /// whether the one retry with another codec after a refusal is spent.
    pub offer: Vec<Codec>,
    pub retried: bool,
    /// Video was refused (by it, or by us: no format in common): the
    /// session carries sound only, and sound is what counts as flowing.
    pub sound_only: bool,
    /// When it came into the call, whether ICE ever reached it, and the
    /// problem last told about it.
    pub since: Instant,
    pub ice_ok: bool,
    pub problem: Option<MediaProblem>,
}

impl PeerCall {
    /// A peer that has just come into the call: no session yet, the
    /// encoder at its starting rate, our codecs in the configured order.
    pub fn new(max_kbps: u32, offer: Vec<Codec>) -> PeerCall {
        PeerCall {
            session: None,
            started: Instant::now(),
            controller: Controller::new(max_kbps.min(2000), 150, max_kbps),
            frames: 0,
            audio: 0,
            seen: (0, 0),
            last_progress: Instant::now(),
            moving: 0,
            seen_moving: 0,
            offer,
            retried: false,
            sound_only: false,
            since: Instant::now(),
            ice_ok: false,
            problem: None,
        }
    }

    /// Add what the current session counted since the last look.
    pub fn count(&mut self) {
        let Some(s) = &self.session else { return };
        let f = s.counters.frames.load(std::sync::atomic::Ordering::Relaxed);
        let a = s.counters.audio.load(std::sync::atomic::Ordering::Relaxed);
        if f > self.seen.0 {
            self.last_progress = Instant::now();
        }
        if self.sound_only && a > self.seen.1 {
            self.last_progress = Instant::now();
        }
        self.frames += f.saturating_sub(self.seen.0);
        self.audio += a.saturating_sub(self.seen.1);
        self.seen = (f, a);
        let m = s
            .counters
            .changed
            .load(std::sync::atomic::Ordering::Relaxed);
        self.moving += m.saturating_sub(self.seen_moving);
        self.seen_moving = m;
        self.ice_ok |= s.ice_connected();
    }

    pub fn flowing(&self) -> bool {
        let any = if self.sound_only {
            self.audio > 0
        } else {
            self.frames > 0
        };
        any && self.last_progress.elapsed() < Duration::from_secs(1)
    }

    /// Why nothing (or no picture) has come from it since it came into the
    /// call `EXPLAIN_AFTER` ago; `None` while there is nothing to explain.
    pub fn problem(&self) -> Option<MediaProblem> {
        if self.sound_only {
            return Some(MediaProblem::NoCommonVideo);
        }
        if self.since.elapsed() < EXPLAIN_AFTER || self.frames > 0 {
            return None;
        }
        if self.audio > 0 {
            Some(MediaProblem::NoPicture)
        } else {
            Some(MediaProblem::NetworkBlocked)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(since: Duration, frames: u64, audio: u64, sound_only: bool) -> PeerCall {
        PeerCall {
            session: None,
            started: Instant::now(),
            controller: Controller::new(1000, 150, 2000),
            frames,
            audio,
            seen: (0, 0),
            last_progress: Instant::now(),
            moving: 0,
            seen_moving: 0,
            offer: vec![Codec::H264],
            retried: false,
            sound_only,
            since: Instant::now() - since,
            ice_ok: false,
            problem: None,
        }
    }

    #[test]
    fn what_a_family_is_told_when_media_does_not_flow() {
        let s = Duration::from_secs;
        // Nothing to explain during the first 10 s, nor once pictures come.
        assert_eq!(peer(s(5), 0, 0, false).problem(), None);
        assert_eq!(peer(s(30), 300, 500, false).problem(), None);
        // Nothing at all after 10 s: the network; sound without pictures:
        // their camera.
        assert_eq!(
            peer(s(11), 0, 0, false).problem(),
            Some(MediaProblem::NetworkBlocked)
        );
        assert_eq!(
            peer(s(11), 0, 400, false).problem(),
            Some(MediaProblem::NoPicture)
        );
        // Video refused: said at once, and sound counts as flowing.
        let p = peer(s(1), 0, 40, true);
        assert_eq!(p.problem(), Some(MediaProblem::NoCommonVideo));
        assert!(p.flowing());
        assert!(!peer(s(1), 0, 40, false).flowing());
    }
}
