//! The call's quarter-second tick: count what came from each peer, tell
//! when media starts flowing or stops, sample the statistics once a second
//! (each peer's encoder follows that peer's network), replace a session
//! that has gone quiet (the person's side), say why media does not flow,
//! and the figures for `stats` and the benchmark.

use std::time::Duration;

use protocol::signal::{ClientMessage, Side};
use uuid::Uuid;

use super::stats::{Change, Sample, percentile};
use super::task::Call;
use super::{CallEvent, PeerSnapshot, Snapshot};

/// The person's side restarts a peer's session after this long without media.
const RESTART_AFTER: Duration = Duration::from_secs(3);
/// ...but not more often than this.
const RESTART_EVERY: Duration = Duration::from_secs(6);

impl Call {
    /// Every quarter second: media gaps, and once a second the statistics.
    pub(super) fn on_tick(&mut self, n: u64) {
        self.retry_devices();
        for p in self.peers.values_mut() {
            p.count();
        }
        self.explain();
        self.observe_flow();
        if n.is_multiple_of(4) {
            self.sample();
        }
        // Recovery: the person's side replaces a session that has gone quiet.
        if self.sig.side() == Some(Side::Person) && self.sig.joined() {
            self.recover();
        }
    }

    /// Media started flowing, or stopped: the screen and the server hear.
    fn observe_flow(&mut self) {
        let frames = self.peers.values().map(|p| p.frames).sum::<u64>() + self.rec_gone.0;
        let audio = self.peers.values().map(|p| p.audio).sum::<u64>() + self.rec_gone.1;
        let sound_only = !self.peers.is_empty() && self.peers.values().all(|p| p.sound_only);
        let wall = chrono::Utc::now();
        match self.rec.observe(self.ms(), wall, frames, audio, sound_only) {
            Some(Change::Flowing) => {
                let first = self
                    .peers
                    .values()
                    .filter_map(|p| p.session.as_ref())
                    .map(|s| {
                        s.counters
                            .first_frame_us
                            .load(std::sync::atomic::Ordering::Relaxed)
                    })
                    .filter(|f| *f > 0)
                    .min()
                    .unwrap_or(0);
                if let Some(j) = self.joined_us.take()
                    && first > j
                {
                    self.rec.set_setup_ms((first - j) / 1000);
                }
                tracing::info!(setup_ms = ?self.rec.setup_ms(), "media flowing");
                self.send(ClientMessage::MediaFlowing);
                self.emit(CallEvent::Flowing);
            }
            Some(Change::Interrupted) => {
                tracing::warn!("media interrupted");
                self.send(ClientMessage::MediaInterrupted);
                self.emit(CallEvent::Interrupted);
            }
            None => {}
        }
    }

    /// Once a second: webrtcbin's statistics, and each peer's bitrate.
    fn sample(&mut self) {
        let mut total = Sample::default();
        let mut any = false;
        for p in self.peers.values_mut() {
            let Some(sample) = p.session.as_ref().and_then(|s| s.stats()) else {
                continue;
            };
            any = true;
            total.video_bytes_received += sample.video_bytes_received;
            total.packets_received += sample.packets_received;
            total.packets_lost += sample.packets_lost;
            total.rtt_ms = match (total.rtt_ms, sample.rtt_ms) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            // Each peer's encoder follows that peer's network.
            if let Some(f) = sample.remote_fraction_lost {
                let k = p.controller.update(f, sample.rtt_ms);
                if let Some(s) = &p.session {
                    s.set_video_kbps(k);
                }
            }
        }
        if any {
            self.rec.sample(total);
        }
        if self.rec.flowing() || self.sig.joined() {
            self.emit(CallEvent::Quality(self.rec.quality()));
        }
    }

    /// Start a fresh session with each peer gone quiet.
    fn recover(&mut self) {
        let quiet: Vec<Uuid> = self
            .peers
            .iter()
            .filter(|(_, p)| {
                !p.flowing()
                    && p.last_progress.elapsed() >= RESTART_AFTER
                    && p.started.elapsed() >= RESTART_EVERY.max(RESTART_AFTER)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in quiet {
            tracing::info!(peer = %id, "no media: starting a fresh session");
            self.new_session(id, None);
        }
    }

    /// Say why media does not flow from a peer (no video format in common,
    /// a network that blocks the call, no picture), on the screen and in
    /// the visit's history; once per change.
    fn explain(&mut self) {
        let mut changed = false;
        let mut told = Vec::new();
        for (id, p) in self.peers.iter_mut() {
            let now = if p.session.is_some() {
                p.problem()
            } else {
                p.problem
            };
            if now != p.problem {
                p.problem = now;
                changed = true;
                if let Some(problem) = now {
                    told.push((*id, problem, p.ice_ok));
                }
            }
        }
        for (peer, problem, ice_ok) in told {
            tracing::warn!(peer = %peer, ?problem, ice_connected = ice_ok, "media problem");
            if self.sig.joined() {
                self.send(ClientMessage::MediaProblem { problem });
            }
        }
        if changed {
            let shown = self.peers.values().find_map(|p| p.problem);
            self.emit(CallEvent::Problem(shown));
        }
    }

    pub(super) fn snapshot(&self) -> Snapshot {
        let lat = self.rec.latencies_us();
        let ms = |v: Option<u64>| v.map(|u| u as f64 / 1000.0);
        let r = self.rec.report(self.ms());
        let [camera, microphone] = self.sig.announced();
        Snapshot {
            joined: self.sig.joined(),
            flowing: self.rec.flowing(),
            fps: self.rec.fps(),
            frames: self.rec.frames(),
            audio_buffers: self.rec.audio_buffers(),
            setup_ms: self.rec.setup_ms(),
            sessions: self.rec.sessions,
            interruptions: r.interruptions.len(),
            codec: self.rec.video_codec.clone(),
            video_kbps_target: self
                .peers
                .values()
                .map(|p| p.controller.kbps())
                .max()
                .unwrap_or(0),
            median_kbps: r.median_video_kbps,
            median_rtt_ms: r.median_rtt_ms,
            latency_samples: lat.len(),
            latency_p50_ms: ms(percentile(lat, 50)),
            latency_p99_ms: ms(percentile(lat, 99)),
            peers: self.peer_snapshots(),
            moving_frames: self.moving_gone + self.peers.values().map(|p| p.moving).sum::<u64>(),
            handset: self.follower.handset_on(),
            camera,
            microphone,
        }
    }

    fn peer_snapshots(&self) -> Vec<PeerSnapshot> {
        self.peers
            .iter()
            .map(|(id, p)| {
                let (tile, name) = self.sig.seat(*id).unwrap_or((0, None));
                PeerSnapshot {
                    id: *id,
                    name: name.map(str::to_string),
                    tile,
                    frames: p.frames,
                    audio_buffers: p.audio,
                    flowing: p.flowing(),
                    codec: p
                        .session
                        .as_ref()
                        .and_then(|s| s.codec())
                        .map(|c| c.name().to_string()),
                }
            })
            .collect()
    }
}
