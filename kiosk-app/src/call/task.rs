//! The call task: one WebSocket to visit-server (reconnected if it drops),
//! and the media sessions it negotiates, one per peer. The person's side
//! offers to every visitor (up to the facility's limit, each a tile); a
//! visitor's side (the lobby) answers the person. A new offer replaces the
//! session with its sender on both sides. When no media has come from a
//! peer for a while although it is in the call, the person's side starts a
//! fresh session with it: that is how the call survives a network cut.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use protocol::ErrorBody;
use protocol::signal::{
    ClientMessage, MediaDevice, MediaProblem, PeerInfo, SdpKind, ServerMessage, Side,
};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest};
use uuid::Uuid;

use super::backoff::Backoff;
use super::bitrate::Controller;
use super::codec::{self, Codec};
use super::media::{Input, LocalMedia, MediaEvent, MediaSession, PeerEvents, VideoPlan};
use super::sdp::{self, VideoAnswer};
use super::stats::{Change, Recorder, Sample, percentile};
use super::{CallCommand, CallEvent, CallParams, PeerSnapshot, Snapshot};

/// The person's side restarts a peer's session after this long without media.
const RESTART_AFTER: Duration = Duration::from_secs(3);
/// ...but not more often than this.
const RESTART_EVERY: Duration = Duration::from_secs(6);
/// Media that has not flowed this long after a peer came into the call
/// gets a reason on the screen and in the visit's history.
const EXPLAIN_AFTER: Duration = Duration::from_secs(10);

/// One peer of the call and our session with it.
struct PeerCall {
    info: PeerInfo,
    /// Its place on the screen (0 first), kept while it stays.
    tile: usize,
    session: Option<MediaSession>,
    started: Instant,
    controller: Controller,
    /// Totals over its sessions, and what the current session had counted.
    frames: u64,
    audio: u64,
    seen: (u64, u64),
    last_progress: Instant,
    /// Frames that differed from the one before, and the session's count so far.
    moving: u64,
    seen_moving: u64,
    /// The codecs our next offer to it lists (the person's side), and
    /// whether the one retry with another codec after a refusal is spent.
    offer: Vec<Codec>,
    retried: bool,
    /// Video was refused (by it, or by us: no format in common): the
    /// session carries sound only, and sound is what counts as flowing.
    sound_only: bool,
    /// When it came into the call, whether ICE ever reached it, and the
    /// problem last told about it.
    since: Instant,
    ice_ok: bool,
    problem: Option<MediaProblem>,
}

impl PeerCall {
    /// Add what the current session counted since the last look.
    fn count(&mut self) {
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

    fn flowing(&self) -> bool {
        let any = if self.sound_only {
            self.audio > 0
        } else {
            self.frames > 0
        };
        any && self.last_progress.elapsed() < Duration::from_secs(1)
    }

    /// Why nothing (or no picture) has come from it since it came into the
    /// call `EXPLAIN_AFTER` ago; `None` while there is nothing to explain.
    fn problem(&self) -> Option<MediaProblem> {
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

struct State {
    p: CallParams,
    devices: hal::Devices,
    side: Option<Side>,
    ice_servers: Vec<protocol::signal::IceServer>,
    want_join: bool,
    joined: bool,
    local: Option<LocalMedia>,
    peers: BTreeMap<Uuid, PeerCall>,
    /// Frames and audio buffers from peers that have left (totals stay
    /// monotonic for the recorder).
    rec_gone: (u64, u64),
    media_tx: mpsc::UnboundedSender<(Uuid, MediaEvent)>,
    rec: Recorder,
    epoch: Instant,
    max_kbps: u32,
    events: mpsc::UnboundedSender<CallEvent>,
    outbox: Vec<ClientMessage>,
    /// When the server accepted our Join (monotonic µs).
    joined_us: Option<u64>,
    /// Moving frames from peers that have left.
    moving_gone: u64,
    /// Whether the other side was last told that our camera / microphone works.
    announced: [bool; 2],
    /// Devices whose element failed (from GStreamer's threads into this task).
    device_tx: mpsc::UnboundedSender<hal::DeviceEvent>,
    /// Per input without its device: when it was last tried, and the wait.
    retry: [Option<(Instant, Duration)>; 2],
    /// Starting the camera and microphone, and a media session, when they
    /// keep failing: retried with a growing wait, each cause logged once.
    local_backoff: Backoff,
    session_backoff: Backoff,
    /// Where the handset is (no hook switch: always on its hook), and its
    /// devices, opened when it is first lifted.
    hook: hal::HookState,
    handset: Option<hal::Devices>,
}

const INPUTS: [(Input, MediaDevice); 2] = [
    (Input::Camera, MediaDevice::Camera),
    (Input::Microphone, MediaDevice::Microphone),
];

impl State {
    fn ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn emit(&self, e: CallEvent) {
        let _ = self.events.send(e);
    }

    fn send(&mut self, m: ClientMessage) {
        self.outbox.push(m);
    }

    /// The tiles' names, by tile (a tile left empty by a departed peer
    /// shows no name).
    fn tiles(&self) -> Vec<String> {
        let n = self.peers.values().map(|p| p.tile + 1).max().unwrap_or(0);
        let mut names = vec![String::new(); n];
        for p in self.peers.values() {
            names[p.tile] = p.info.name.clone().unwrap_or_default();
        }
        names
    }

    /// A peer is in the call: give it a tile (the first free one).
    fn add_peer(&mut self, info: PeerInfo) {
        if let Some(p) = self.peers.get_mut(&info.id) {
            p.info = info;
            return;
        }
        let tile = (0..)
            .find(|t| !self.peers.values().any(|p| p.tile == *t))
            .unwrap_or(0);
        let max = self.max_kbps;
        self.peers.insert(
            info.id,
            PeerCall {
                info,
                tile,
                session: None,
                started: Instant::now(),
                controller: Controller::new(max.min(2000), 150, max),
                frames: 0,
                audio: 0,
                seen: (0, 0),
                last_progress: Instant::now(),
                moving: 0,
                seen_moving: 0,
                offer: codec::preference(self.p.cfg.video_codec),
                retried: false,
                sound_only: false,
                since: Instant::now(),
                ice_ok: false,
                problem: None,
            },
        );
        self.emit(CallEvent::Tiles(self.tiles()));
    }

    fn remove_peer(&mut self, id: Uuid) {
        if let Some(mut p) = self.peers.remove(&id) {
            p.count();
            self.rec_gone.0 += p.frames;
            self.rec_gone.1 += p.audio;
            self.moving_gone += p.moving;
            tracing::info!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, peer = %id, frames = p.frames, "peer left the call");
            self.emit(CallEvent::Tiles(self.tiles()));
        }
    }

    /// Start a fresh media session with `peer` (dropping any old one).
    fn new_session(&mut self, peer: Uuid, offer_sdp: Option<&str>) {
        if self.local.is_none() {
            if !self.local_backoff.ready(Instant::now()) {
                return;
            }
            let tx = self.device_tx.clone();
            let failed = move |input| {
                let kind = match input {
                    Input::Camera => hal::DeviceKind::Camera,
                    Input::Microphone => hal::DeviceKind::Microphone,
                };
                let _ = tx.send(hal::DeviceEvent::Lost(kind));
            };
            match LocalMedia::start(
                &self.p.cfg,
                &self.devices,
                self.p.screens.own.clone(),
                failed,
            ) {
                Ok(l) => {
                    if self.local_backoff.succeeded() {
                        tracing::info!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, "the camera and microphone started after all");
                    }
                    self.local = Some(l);
                    self.announce_devices();
                }
                Err(e) => {
                    let cause = format!("{e:#}");
                    if self.local_backoff.failed(Instant::now(), &cause) {
                        tracing::error!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, error = %cause, "cannot start the camera and microphone; trying again with a growing wait");
                    }
                    return;
                }
            }
        }
        let Some(local) = &self.local else { return };
        if !self.session_backoff.ready(Instant::now()) {
            return;
        }
        let Some(pc) = self.peers.get_mut(&peer) else {
            return;
        };
        pc.count();
        pc.session = None;
        pc.seen = (0, 0);
        pc.seen_moving = 0;
        let plan = match offer_sdp {
            None => VideoPlan::Offer(pc.offer.clone()),
            Some(sdp) => VideoPlan::Answer(sdp::answer_format(
                &codec::preference(self.p.cfg.video_codec),
                sdp,
            )),
        };
        // An answer without video: nothing in common with the offer.
        pc.sound_only = plan == VideoPlan::Answer(None);
        let codec_name = match &plan {
            VideoPlan::Answer(Some(f)) => f.codec.name(),
            VideoPlan::Answer(None) => "none",
            VideoPlan::Offer(_) => "offered",
        };
        let events = PeerEvents {
            peer,
            tx: self.media_tx.clone(),
        };
        match MediaSession::start(
            local,
            &self.p.cfg,
            plan,
            &self.ice_servers,
            self.p.screens.remote.clone(),
            pc.tile,
            events,
        ) {
            Ok(s) => {
                self.session_backoff.succeeded();
                s.set_video_kbps(pc.controller.kbps());
                if let Some(sdp) = offer_sdp
                    && let Err(e) = s.set_remote(SdpKind::Offer, sdp)
                {
                    tracing::warn!(visit_id = %self.p.visit_id, error = %e, "cannot use the offer");
                }
                self.rec.count_session(codec_name);
                tracing::info!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, peer = %peer, tile = pc.tile, codec = codec_name, offerer = offer_sdp.is_none(), session = self.rec.sessions, "media session started");
                pc.session = Some(s);
                pc.started = Instant::now();
            }
            Err(e) => {
                let cause = format!("{e:#}");
                if self.session_backoff.failed(Instant::now(), &cause) {
                    tracing::error!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, peer = %peer, error = %cause, "cannot start the media session; trying again with a growing wait");
                }
            }
        }
    }

    /// The person's side offers to a visitor who is (or has just come) in.
    fn offer_to(&mut self, info: PeerInfo) {
        let id = info.id;
        self.add_peer(info);
        self.new_session(id, None);
    }

    fn on_server(&mut self, m: ServerMessage) -> bool {
        match m {
            ServerMessage::Welcome {
                side,
                ice_servers,
                status,
                ..
            } => {
                self.side = Some(side);
                self.ice_servers = ice_servers;
                self.emit(CallEvent::Connected { side, status });
                if self.want_join {
                    self.send(ClientMessage::Join);
                }
            }
            ServerMessage::Joined { peers, .. } => {
                if !self.joined {
                    self.rec.joined(self.ms());
                    self.joined_us = Some(super::stamp::now_micros());
                }
                self.joined = true;
                self.emit(CallEvent::Joined);
                // Whatever was queued before we (re)joined was refused:
                // say again which of our devices do not work.
                self.announced = [true; 2];
                self.announce_devices();
                let mine = self.side;
                for p in peers.into_iter().filter(|p| Some(p.side) != mine) {
                    if mine == Some(Side::Person) {
                        if self.peers.get(&p.id).is_none_or(|c| c.session.is_none()) {
                            self.offer_to(p);
                        }
                    } else {
                        self.add_peer(p);
                    }
                }
            }
            ServerMessage::PeerJoined { side, id, name } => {
                if Some(side) == self.side {
                    return false; // Visitors' own mesh is the browsers' affair.
                }
                self.emit(CallEvent::PeerJoined);
                // A (re)joined peer knows nothing of our lost devices yet.
                self.announced = [true; 2];
                self.announce_devices();
                let info = PeerInfo { id, side, name };
                if self.side == Some(Side::Person) {
                    // A (re)joined peer has no session: offer a fresh one.
                    self.offer_to(info);
                } else {
                    self.add_peer(info);
                }
            }
            ServerMessage::PeerLeft { side, id } => {
                if Some(side) == self.side {
                    return false;
                }
                self.remove_peer(id);
                if self.peers.is_empty() {
                    self.emit(CallEvent::PeerLeft);
                }
            }
            ServerMessage::Sdp { kind, sdp, from } => match (kind, self.side) {
                (SdpKind::Offer, Some(Side::Visitor)) => {
                    if !self.peers.contains_key(&from) {
                        self.add_peer(PeerInfo {
                            id: from,
                            side: Side::Person,
                            name: None,
                        });
                    }
                    self.new_session(from, Some(&sdp));
                }
                (SdpKind::Answer, Some(Side::Person)) => {
                    if let Some(s) = self.peers.get(&from).and_then(|p| p.session.as_ref())
                        && let Err(e) = s.set_remote(SdpKind::Answer, &sdp)
                    {
                        tracing::warn!(visit_id = %self.p.visit_id, peer = %from, error = %e, "cannot use the answer");
                    }
                }
                _ => {
                    tracing::warn!(visit_id = %self.p.visit_id, peer = %from, "unexpected description ignored")
                }
            },
            ServerMessage::Ice {
                candidate,
                sdp_mline_index,
                from,
            } => {
                if let Some(s) = self.peers.get(&from).and_then(|p| p.session.as_ref()) {
                    s.add_ice(&candidate, sdp_mline_index);
                }
            }
            ServerMessage::PeerDevice {
                device, available, ..
            } => {
                tracing::info!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, ?device, available, "the other side's device changed");
                self.emit(CallEvent::PeerDevice { device, available });
            }
            ServerMessage::Status { status } => self.emit(CallEvent::Status(status)),
            ServerMessage::Warning { minutes_left } => self.emit(CallEvent::Warning(minutes_left)),
            ServerMessage::Ended { reason } => {
                tracing::info!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, reason = ?reason, "the call ended");
                self.emit(CallEvent::Ended(reason));
                return true;
            }
            ServerMessage::Error { message } => {
                if self.want_join && !self.joined {
                    self.want_join = false;
                    self.emit(CallEvent::JoinRefused(message));
                } else {
                    tracing::warn!(visit_id = %self.p.visit_id, message, "the server reported an error");
                }
            }
        }
        false
    }

    fn on_media(&mut self, peer: Uuid, e: MediaEvent) {
        let to = Some(peer);
        match e {
            MediaEvent::LocalSdp { kind, sdp } => self.send(ClientMessage::Sdp { kind, sdp, to }),
            MediaEvent::LocalIce { candidate, mline } => self.send(ClientMessage::Ice {
                candidate,
                sdp_mline_index: mline,
                to,
            }),
            MediaEvent::Latency(us) => self.rec.latency(us),
            MediaEvent::Answered { session, video } => self.on_answered(peer, &session, video),
            MediaEvent::Error(e) => {
                tracing::warn!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, peer = %peer, error = e, "media error; the session will be replaced");
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.count();
                    p.session = None;
                }
            }
        }
    }

    /// The other side's answer is applied: send our video as it chose, or,
    /// when it refused video, try once more offering another codec alone,
    /// then go on with sound only.
    fn on_answered(&mut self, peer: Uuid, name: &str, video: VideoAnswer) {
        let Some(pc) = self.peers.get_mut(&peer) else {
            return;
        };
        // A session replaced since: its answer no longer matters.
        let Some(session) = pc.session.as_mut().filter(|s| s.name() == name) else {
            return;
        };
        match video {
            VideoAnswer::Chosen { format, send } => {
                self.rec.video_codec = format.codec.name().to_string();
                tracing::info!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, peer = %peer, codec = format.codec.name(), send, "the answer chose a video codec");
                if send && let Err(e) = session.send_video(format) {
                    tracing::warn!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, peer = %peer, error = %format!("{e:#}"), "cannot send video; the session will be replaced");
                    pc.count();
                    pc.session = None;
                }
            }
            VideoAnswer::Rejected => {
                let offered: Vec<&str> = pc.offer.iter().map(|c| c.name()).collect();
                tracing::warn!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, peer = %peer, offered = ?offered, "the answer refused our video");
                // Another codec alone: VP8 (what every browser decodes),
                // or the next one when VP8 was all we offered.
                let all = codec::preference(self.p.cfg.video_codec);
                let other = all
                    .iter()
                    .copied()
                    .find(|c| *c == Codec::Vp8 && pc.offer != [Codec::Vp8])
                    .or_else(|| all.iter().copied().find(|c| !pc.offer.contains(c)));
                match other {
                    Some(c) if !pc.retried => {
                        pc.retried = true;
                        pc.offer = vec![c];
                        tracing::info!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, peer = %peer, codec = c.name(), "offering video once more, with another codec");
                        self.new_session(peer, None);
                    }
                    _ => {
                        pc.sound_only = true;
                        self.rec.video_codec = "none".into();
                    }
                }
            }
        }
    }

    /// A device went away or came back (hal, or its element failed): the
    /// call's source follows.
    fn on_device(&mut self, e: hal::DeviceEvent) {
        let (kind, back) = match e {
            hal::DeviceEvent::Lost(k) => (k, false),
            hal::DeviceEvent::Back(k) => (k, true),
        };
        let input = match kind {
            hal::DeviceKind::Camera => Input::Camera,
            hal::DeviceKind::Microphone => Input::Microphone,
            _ => return,
        };
        tracing::info!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, device = kind.name(), back, "device event during the call");
        if let Some(l) = &self.local {
            let local = l.local(input);
            if back {
                let source = match input {
                    Input::Camera => self.devices.camera.source(hal::VideoMode {
                        width: self.p.cfg.width,
                        height: self.p.cfg.height,
                        fps: self.p.cfg.fps,
                    }),
                    Input::Microphone => self.audio_devices().microphone.source(),
                };
                local.attach(source);
            } else {
                local.detach();
            }
        }
        self.announce_devices();
    }

    /// A device whose element failed without being unplugged (a USB hiccup)
    /// gets no `Back` from hal: try it again now and then (5 s, doubling
    /// to a minute). One that is really gone just fails to open again.
    fn retry_devices(&mut self) {
        let Some(l) = &self.local else { return };
        let now = Instant::now();
        let mut changed = false;
        for (i, (input, _)) in INPUTS.into_iter().enumerate() {
            let local = l.local(input);
            if local.device_present() {
                self.retry[i] = None;
                continue;
            }
            let (at, wait) = *self.retry[i].get_or_insert((now, Duration::from_secs(5)));
            if now < at + wait {
                continue;
            }
            self.retry[i] = Some((now, (wait * 2).min(Duration::from_secs(60))));
            let source = match input {
                Input::Camera => self.devices.camera.source(hal::VideoMode {
                    width: self.p.cfg.width,
                    height: self.p.cfg.height,
                    fps: self.p.cfg.fps,
                }),
                Input::Microphone => self.audio_devices().microphone.source(),
            };
            changed |= local.attach(source);
        }
        if changed {
            self.announce_devices();
        }
    }

    /// The devices sound goes through now: the handset's while it is lifted.
    fn audio_devices(&self) -> &hal::Devices {
        match (self.hook, &self.handset) {
            (hal::HookState::OffHook, Some(h)) => h,
            _ => &self.devices,
        }
    }

    /// The handset was lifted or put down: the call's microphone and
    /// speaker follow, without a new session.
    fn on_hook(&mut self, state: hal::HookState) {
        if state == self.hook {
            return;
        }
        self.hook = state;
        if state == hal::HookState::OffHook && self.handset.is_none() {
            self.handset = Some(hal::open(self.p.cfg.handset_hal()));
        }
        tracing::info!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, ?state, "hook switch: the call's sound follows");
        let Some(l) = &self.local else { return };
        let d = self.audio_devices();
        let mic = l.local(Input::Microphone);
        mic.detach();
        mic.attach(d.microphone.source());
        match d.speaker.sink() {
            Ok(sink) => {
                if let Err(e) = l.set_speaker(sink) {
                    tracing::warn!(visit_id = %self.p.visit_id, error = %format!("{e:#}"), "cannot switch the speaker");
                }
            }
            Err(e) => {
                tracing::warn!(visit_id = %self.p.visit_id, error = %e, "the speaker for this hook position is unavailable")
            }
        }
        self.announce_devices();
    }

    /// Tell the other side when our camera or microphone stops or works again.
    fn announce_devices(&mut self) {
        let Some(l) = &self.local else { return };
        let mut changes = Vec::new();
        for (i, (input, device)) in INPUTS.into_iter().enumerate() {
            let available = l.local(input).device_present();
            if available != self.announced[i] {
                self.announced[i] = available;
                changes.push(ClientMessage::Device { device, available });
            }
        }
        if self.joined {
            self.outbox.extend(changes);
        }
    }

    /// Every quarter second: media gaps, and once a second the statistics.
    fn on_tick(&mut self, n: u64) {
        self.retry_devices();
        for p in self.peers.values_mut() {
            p.count();
        }
        self.explain();
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
                tracing::info!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, setup_ms = ?self.rec.setup_ms(), "media flowing");
                self.send(ClientMessage::MediaFlowing);
                self.emit(CallEvent::Flowing);
            }
            Some(Change::Interrupted) => {
                tracing::warn!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, "media interrupted");
                self.send(ClientMessage::MediaInterrupted);
                self.emit(CallEvent::Interrupted);
            }
            None => {}
        }
        if n.is_multiple_of(4) {
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
            if self.rec.flowing() || self.joined {
                self.emit(CallEvent::Quality(self.rec.quality()));
            }
        }
        // Recovery: the person's side replaces a session that has gone quiet.
        if self.side == Some(Side::Person) && self.joined {
            let quiet: Vec<Uuid> = self
                .peers
                .values()
                .filter(|p| {
                    !p.flowing()
                        && p.last_progress.elapsed() >= RESTART_AFTER
                        && p.started.elapsed() >= RESTART_EVERY.max(RESTART_AFTER)
                })
                .map(|p| p.info.id)
                .collect();
            for id in quiet {
                tracing::info!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, peer = %id, "no media: starting a fresh session");
                self.new_session(id, None);
            }
        }
    }

    /// Say why media does not flow from a peer (no video format in common,
    /// a network that blocks the call, no picture), on the screen and in
    /// the visit's history; once per change.
    fn explain(&mut self) {
        let mut changed = false;
        let mut told = Vec::new();
        for p in self.peers.values_mut() {
            let now = if p.session.is_some() {
                p.problem()
            } else {
                p.problem
            };
            if now != p.problem {
                p.problem = now;
                changed = true;
                if let Some(problem) = now {
                    told.push((p.info.id, problem, p.ice_ok));
                }
            }
        }
        for (peer, problem, ice_ok) in told {
            tracing::warn!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, peer = %peer, ?problem, ice_connected = ice_ok, "media problem");
            if self.joined {
                self.send(ClientMessage::MediaProblem { problem });
            }
        }
        if changed {
            let shown = self.peers.values().find_map(|p| p.problem);
            self.emit(CallEvent::Problem(shown));
        }
    }

    /// Every session first, then the capture.
    fn close_media(&mut self) {
        for p in self.peers.values_mut() {
            p.count();
            p.session = None;
        }
        self.local = None;
    }

    fn snapshot(&self) -> Snapshot {
        let lat = self.rec.latencies_us();
        let ms = |v: Option<u64>| v.map(|u| u as f64 / 1000.0);
        let r = self.rec.report(self.ms());
        let peers = self
            .peers
            .values()
            .map(|p| PeerSnapshot {
                id: p.info.id,
                name: p.info.name.clone(),
                tile: p.tile,
                frames: p.frames,
                audio_buffers: p.audio,
                flowing: p.flowing(),
                codec: p
                    .session
                    .as_ref()
                    .and_then(|s| s.codec())
                    .map(|c| c.name().to_string()),
            })
            .collect();
        Snapshot {
            joined: self.joined,
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
            peers,
            moving_frames: self.moving_gone + self.peers.values().map(|p| p.moving).sum::<u64>(),
            handset: self.hook == hal::HookState::OffHook,
            camera: self.announced[0],
            microphone: self.announced[1],
        }
    }
}

fn ws_url(server: &str, visit: uuid::Uuid) -> String {
    let base = if let Some(rest) = server.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = server.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        server.to_string()
    };
    format!("{base}/api/v1/signal/{visit}")
}

/// Why a connection attempt failed: for good (refused) or for now.
enum ConnectError {
    Refused(String),
    Retry(String),
}

async fn connect(
    p: &CallParams,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    ConnectError,
> {
    let mut req = ws_url(&p.server_url, p.visit_id)
        .into_client_request()
        .map_err(|e| ConnectError::Refused(format!("bad server URL: {e}")))?;
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {}", p.credential)
            .parse()
            .map_err(|_| ConnectError::Refused("unusable credential".into()))?,
    );
    match tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async(req),
    )
    .await
    {
        Err(_) => Err(ConnectError::Retry("timed out".into())),
        Ok(Ok((ws, _))) => Ok(ws),
        Ok(Err(tungstenite::Error::Http(resp))) => {
            let status = resp.status().as_u16();
            let message = resp
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice::<ErrorBody>(b).ok())
                .map(|e| e.message)
                .unwrap_or_else(|| format!("HTTP {status}"));
            if (400..500).contains(&status) {
                Err(ConnectError::Refused(message))
            } else {
                Err(ConnectError::Retry(message))
            }
        }
        Ok(Err(e)) => Err(ConnectError::Retry(e.to_string())),
    }
}

pub async fn run(
    p: CallParams,
    mut commands: mpsc::UnboundedReceiver<CallCommand>,
    events: mpsc::UnboundedSender<CallEvent>,
    snapshot: Arc<Mutex<Snapshot>>,
) {
    if let Err(e) = gst::init() {
        tracing::error!(visit_id = %p.visit_id, error = %e, "GStreamer cannot start");
        let _ = events.send(CallEvent::Failed(format!("GStreamer cannot start: {e}")));
        return;
    }
    let (media_tx, mut media_rx) = mpsc::unbounded_channel();
    let devices = hal::open(p.cfg.hal());
    // Devices leaving and coming back, from hal's threads into this task.
    let (device_tx, mut device_rx) = mpsc::unbounded_channel();
    let tx = device_tx.clone();
    devices.subscribe(move |e| {
        let _ = tx.send(*e);
    });
    tracing::info!(visit_id = %p.visit_id, terminal_id = %p.terminal_id, devices = ?devices, "call opened");
    let mut st = State {
        max_kbps: p.cfg.max_kbps.max(200),
        p,
        devices,
        side: None,
        ice_servers: Vec::new(),
        want_join: false,
        joined: false,
        local: None,
        peers: BTreeMap::new(),
        rec_gone: (0, 0),
        media_tx,
        rec: Recorder::default(),
        epoch: Instant::now(),
        events,
        outbox: Vec::new(),
        joined_us: None,
        moving_gone: 0,
        announced: [true; 2],
        device_tx,
        retry: [None; 2],
        local_backoff: Backoff::default(),
        session_backoff: Backoff::default(),
        hook: hal::HookState::OnHook,
        handset: None,
    };
    // The handset's hook switch, if the terminal has one.
    let (hook_tx, mut hook_rx) = mpsc::unbounded_channel();
    let _hook_watch = match hal::hook::watch(&st.p.cfg.hook, move |s| {
        let _ = hook_tx.send(s);
    }) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(visit_id = %st.p.visit_id, error = %e, "the hook switch cannot be watched; sound stays on the speaker");
            None
        }
    };
    let mut backoff = Duration::from_millis(250);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut n = 0u64;
    'connection: loop {
        let ws = tokio::select! {
            r = connect(&st.p) => r,
            c = commands.recv() => match c {
                Some(CallCommand::Join) => { st.want_join = true; continue 'connection; }
                Some(CallCommand::HangUp) | None => break 'connection,
            },
        };
        let ws = match ws {
            Ok(ws) => ws,
            Err(ConnectError::Refused(m)) => {
                tracing::warn!(visit_id = %st.p.visit_id, terminal_id = %st.p.terminal_id, message = m, "the server refused this terminal for the call");
                st.emit(CallEvent::Failed(m));
                break 'connection;
            }
            Err(ConnectError::Retry(m)) => {
                tracing::info!(visit_id = %st.p.visit_id, message = m, "signalling unreachable; retrying");
                st.emit(CallEvent::ConnectionLost);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue 'connection;
            }
        };
        backoff = Duration::from_millis(250);
        let (mut sink, mut stream) = ws.split();
        loop {
            // Everything queued goes out first, in order.
            for m in std::mem::take(&mut st.outbox) {
                let text = serde_json::to_string(&m).expect("client messages serialise");
                if sink.send(Message::Text(text.into())).await.is_err() {
                    st.emit(CallEvent::ConnectionLost);
                    continue 'connection;
                }
            }
            tokio::select! {
                m = stream.next() => match m {
                    Some(Ok(Message::Text(t))) => match serde_json::from_str::<ServerMessage>(&t) {
                        Ok(m) => {
                            if st.on_server(m) {
                                finish(&mut st, &mut sink).await;
                                break 'connection;
                            }
                        }
                        Err(e) => tracing::warn!(visit_id = %st.p.visit_id, error = %e, "unreadable signalling message ignored"),
                    },
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => {
                        // The media may well go on peer to peer; reconnect the signalling.
                        st.emit(CallEvent::ConnectionLost);
                        continue 'connection;
                    }
                },
                c = commands.recv() => match c {
                    Some(CallCommand::Join) => {
                        st.want_join = true;
                        st.send(ClientMessage::Join);
                    }
                    Some(CallCommand::HangUp) => {
                        st.send(ClientMessage::CallReport { report: st.rec.report(st.ms()) });
                        st.send(ClientMessage::HangUp);
                        for m in std::mem::take(&mut st.outbox) {
                            let text = serde_json::to_string(&m).expect("client messages serialise");
                            let _ = sink.send(Message::Text(text.into())).await;
                        }
                        let _ = sink.close().await;
                        break 'connection;
                    }
                    None => {
                        let _ = sink.close().await;
                        break 'connection;
                    }
                },
                Some((peer, e)) = media_rx.recv() => st.on_media(peer, e),
                Some(e) = device_rx.recv() => st.on_device(e),
                Some(h) = hook_rx.recv() => st.on_hook(h),
                _ = tick.tick() => {
                    n += 1;
                    st.on_tick(n);
                    if n.is_multiple_of(4) {
                        *snapshot.lock().unwrap_or_else(|e| e.into_inner()) = st.snapshot();
                    }
                }
            }
        }
    }
    *snapshot.lock().unwrap_or_else(|e| e.into_inner()) = st.snapshot();
    let r = st.rec.report(st.ms());
    tracing::info!(visit_id = %st.p.visit_id, terminal_id = %st.p.terminal_id, connected_ms = r.connected_ms, interruptions = r.interruptions.len(), sessions = r.sessions, frames = r.frames_decoded, "call closed");
    st.close_media();
    // Simulated devices: say whether every scripted fault happened.
    if let Some(f) = st.devices.fault_report() {
        let unfired = f.unfired();
        if unfired.is_empty() {
            tracing::info!(visit_id = %st.p.visit_id, "every scripted device fault happened");
        } else {
            let list: Vec<String> = unfired.iter().map(|f| f.to_string()).collect();
            tracing::warn!(visit_id = %st.p.visit_id, unfired = ?list, "scripted device faults did not happen");
        }
    }
}

/// The call ended: send the report while the server still listens.
async fn finish<S>(st: &mut State, sink: &mut S)
where
    S: futures_util::Sink<Message> + Unpin,
{
    st.close_media();
    let report = st.rec.report(st.ms());
    let text = serde_json::to_string(&ClientMessage::CallReport { report })
        .expect("client messages serialise");
    let _ = sink.send(Message::Text(text.into())).await;
    let _ = sink.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(since: Duration, frames: u64, audio: u64, sound_only: bool) -> PeerCall {
        PeerCall {
            info: PeerInfo {
                id: Uuid::nil(),
                side: Side::Visitor,
                name: None,
            },
            tile: 0,
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
