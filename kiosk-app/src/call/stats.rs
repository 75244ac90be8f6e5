//! What a call measured, turned into facts: when media flowed, every gap,
//! and the medians of the per-second statistics, summarised in the visit's
//! record as a [`CallReport`]. Pure: the call task feeds it counters and
//! clock readings.

use chrono::{DateTime, Utc};
use protocol::signal::{CallReport, Interruption};
use ui::Quality;

/// No remote frame for this long counts as an interruption.
pub const GAP_MS: u64 = 1000;

/// One second's statistics from webrtcbin, as cumulative counters.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sample {
    pub video_bytes_received: u64,
    pub packets_received: u64,
    pub packets_lost: u64,
    pub rtt_ms: Option<f64>,
    /// The share of our packets the other side lost lately (RTCP), 0..1.
    pub remote_fraction_lost: Option<f64>,
}

/// A change worth telling the server and the screen about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The first remote frame, or frames again after a gap.
    Flowing,
    /// No remote frame for [`GAP_MS`].
    Interrupted,
}

#[derive(Debug, Default)]
pub struct Recorder {
    joined_ms: Option<u64>,
    setup_ms: Option<u64>,
    flowing_since: Option<u64>,
    connected_ms: u64,
    last_frame_ms: Option<u64>,
    frames: u64,
    audio: u64,
    interruptions: Vec<Interruption>,
    open_gap: Option<(DateTime<Utc>, u64)>,
    kbps: Vec<u32>,
    rtts: Vec<u32>,
    last_sample: Option<Sample>,
    last_fps: u32,
    frames_at_last_sample: u64,
    pub sessions: u32,
    pub video_codec: String,
    latencies_us: Vec<u64>,
    received: u64,
    lost: u64,
    session_frames: u64,
}

fn median<T: Copy + Ord>(v: &[T]) -> Option<T> {
    let mut s = v.to_vec();
    s.sort_unstable();
    s.get(s.len() / 2).copied()
}

/// The p-th percentile (0..=100) of a list.
pub fn percentile(v: &[u64], p: usize) -> Option<u64> {
    let mut s = v.to_vec();
    s.sort_unstable();
    if s.is_empty() {
        return None;
    }
    Some(s[((s.len() - 1) * p).div_ceil(100).min(s.len() - 1)])
}

impl Recorder {
    /// The side joined the call (setup time counts from here).
    pub fn joined(&mut self, now_ms: u64) {
        self.joined_ms.get_or_insert(now_ms);
    }

    /// Counters read every quarter second: frames decoded and audio buffers
    /// played so far in the current session (they restart at 0 with a new session).
    pub fn observe(
        &mut self,
        now_ms: u64,
        wall: DateTime<Utc>,
        frames: u64,
        audio: u64,
        sound_only: bool,
    ) -> Option<Change> {
        // Sound only (video refused): sound is what flows.
        let new_frames = frames > self.frames_in_session() || (sound_only && audio > self.audio);
        self.frames_total_add(frames);
        self.audio = self.audio.max(audio);
        if new_frames {
            self.last_frame_ms = Some(now_ms);
            if self.flowing_since.is_none() {
                self.flowing_since = Some(now_ms);
                if self.setup_ms.is_none() {
                    self.setup_ms = self.joined_ms.map(|j| now_ms.saturating_sub(j));
                }
                if let Some((from, started)) = self.open_gap.take() {
                    self.interruptions.push(Interruption {
                        from,
                        duration_ms: Some(now_ms.saturating_sub(started)),
                    });
                }
                return Some(Change::Flowing);
            }
        } else if let (Some(since), Some(last)) = (self.flowing_since, self.last_frame_ms)
            && now_ms.saturating_sub(last) >= GAP_MS
        {
            self.connected_ms += last.saturating_sub(since);
            self.flowing_since = None;
            let gap_start = wall - chrono::Duration::milliseconds((now_ms - last) as i64);
            self.open_gap = Some((gap_start, last));
            return Some(Change::Interrupted);
        }
        None
    }

    // Frame counters restart with each session; keep a running total.
    fn frames_in_session(&self) -> u64 {
        self.session_frames
    }
    fn frames_total_add(&mut self, session_frames: u64) {
        if session_frames >= self.session_frames {
            self.frames += session_frames - self.session_frames;
        }
        self.session_frames = session_frames;
    }

    /// One more session (of several, to several peers) whose counters the
    /// caller adds into running totals, so nothing restarts here.
    pub fn count_session(&mut self, codec: &str) {
        self.sessions += 1;
        self.video_codec = codec.to_string();
    }

    /// A new media session starts (counters restart).
    pub fn new_session(&mut self, codec: &str) {
        self.sessions += 1;
        self.session_frames = 0;
        self.last_sample = None;
        self.video_codec = codec.to_string();
    }

    /// Once a second: webrtcbin's statistics.
    pub fn sample(&mut self, s: Sample) {
        if let Some(prev) = self.last_sample {
            let bytes = s
                .video_bytes_received
                .saturating_sub(prev.video_bytes_received);
            self.kbps.push((bytes * 8 / 1000) as u32);
            self.received += s.packets_received.saturating_sub(prev.packets_received);
            self.lost += s.packets_lost.saturating_sub(prev.packets_lost);
        }
        if let Some(r) = s.rtt_ms {
            self.rtts.push(r.round() as u32);
        }
        self.last_fps = (self.frames - self.frames_at_last_sample) as u32;
        self.frames_at_last_sample = self.frames;
        self.last_sample = Some(s);
    }

    /// A glass-to-glass latency measurement (stamped frames only).
    pub fn latency(&mut self, micros: u64) {
        if self.latencies_us.len() < 100_000 {
            self.latencies_us.push(micros);
        }
    }

    pub fn latencies_us(&self) -> &[u64] {
        &self.latencies_us
    }

    /// Frames decoded in the last second.
    pub fn fps(&self) -> u32 {
        self.last_fps
    }

    pub fn frames(&self) -> u64 {
        self.frames
    }

    pub fn audio_buffers(&self) -> u64 {
        self.audio
    }

    /// A precise setup time, measured at the display sink (the quarter-second
    /// observation only bounds it).
    pub fn set_setup_ms(&mut self, ms: u64) {
        self.setup_ms = Some(ms);
    }

    pub fn setup_ms(&self) -> Option<u64> {
        self.setup_ms
    }

    pub fn flowing(&self) -> bool {
        self.flowing_since.is_some()
    }

    /// The mark on the in-call screen.
    pub fn quality(&self) -> Quality {
        if self.open_gap.is_some() {
            return Quality::Reconnecting;
        }
        let loss = self.recent_loss();
        match (self.last_fps, loss) {
            (f, l) if f >= 20 && l < 0.02 => Quality::Good,
            (f, l) if f >= 10 && l < 0.10 => Quality::Fair,
            _ => Quality::Poor,
        }
    }

    fn recent_loss(&self) -> f64 {
        let total = self.received + self.lost;
        if total == 0 {
            0.0
        } else {
            self.lost as f64 / total as f64
        }
    }

    /// The summary for the visit record.
    pub fn report(&self, now_ms: u64) -> CallReport {
        let mut interruptions = self.interruptions.clone();
        if let Some((from, _)) = self.open_gap {
            interruptions.push(Interruption {
                from,
                duration_ms: None,
            });
        }
        CallReport {
            connected_ms: self.connected_ms
                + self.flowing_since.map_or(0, |s| {
                    self.last_frame_ms.unwrap_or(now_ms).saturating_sub(s)
                }),
            setup_ms: self.setup_ms,
            interruptions,
            sessions: self.sessions,
            frames_decoded: self.frames,
            median_video_kbps: median(&self.kbps).unwrap_or(0),
            median_rtt_ms: median(&self.rtts),
            loss: self.recent_loss() as f32,
            video_codec: self.video_codec.clone(),
            audio_packets: self.audio,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_gap_is_one_interruption_with_its_length_and_connected_time_excludes_it() {
        let wall0 = Utc.with_ymd_and_hms(2026, 11, 16, 10, 0, 0).unwrap();
        let wall = |ms: u64| wall0 + chrono::Duration::milliseconds(ms as i64);
        let mut r = Recorder::default();
        r.new_session("H264");
        r.joined(0);
        assert_eq!(r.observe(250, wall(250), 0, 0, false), None);
        assert_eq!(
            r.observe(500, wall(500), 5, 10, false),
            Some(Change::Flowing)
        );
        assert_eq!(r.setup_ms(), Some(500));
        // Frames until 10 s, then nothing for 5 s: one interruption, seen after 1 s.
        let mut frames = 5;
        for t in (750..=10_000).step_by(250) {
            frames += 7;
            assert_eq!(r.observe(t, wall(t), frames, 10, false), None);
        }
        assert_eq!(r.observe(10_750, wall(10_750), frames, 10, false), None);
        assert_eq!(
            r.observe(11_000, wall(11_000), frames, 10, false),
            Some(Change::Interrupted)
        );
        assert_eq!(r.quality(), Quality::Reconnecting);
        // A new session restarts the frame counter.
        r.new_session("H264");
        assert_eq!(
            r.observe(15_000, wall(15_000), 3, 10, false),
            Some(Change::Flowing)
        );
        let rep = r.report(20_000);
        assert_eq!(rep.sessions, 2);
        assert_eq!(rep.interruptions.len(), 1);
        assert_eq!(rep.interruptions[0].from, wall(10_000));
        assert_eq!(rep.interruptions[0].duration_ms, Some(5_000));
        assert_eq!(rep.connected_ms, 9_500);
        assert_eq!(rep.frames_decoded, frames + 3);
    }

    #[test]
    fn percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), Some(51));
        assert_eq!(percentile(&v, 99), Some(100));
        assert_eq!(percentile(&[], 50), None);
    }
}
