//! The call task: one WebSocket to visit-server (reconnected if it drops),
//! and the media sessions it negotiates. The person's side offers; a new
//! offer replaces the session on both sides. When no media has come for a
//! while although both sides are in the call, the person's side starts a
//! fresh session: that is how the call survives a network cut.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use protocol::ErrorBody;
use protocol::signal::{ClientMessage, MediaDevice, SdpKind, ServerMessage, Side};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{self, Message, client::IntoClientRequest};

use super::bitrate::Controller;
use super::media::{self, Input, MediaEvent, MediaSession};
use super::stats::{Change, Recorder, percentile};
use super::{CallCommand, CallEvent, CallParams, Snapshot};

/// The person's side restarts the session after this long without media.
const RESTART_AFTER: Duration = Duration::from_secs(3);
/// ...but not more often than this.
const RESTART_EVERY: Duration = Duration::from_secs(6);

struct State {
    p: CallParams,
    devices: hal::Devices,
    side: Option<Side>,
    ice_servers: Vec<protocol::signal::IceServer>,
    want_join: bool,
    joined: bool,
    peer_joined: bool,
    session: Option<MediaSession>,
    session_started: Instant,
    media_tx: mpsc::UnboundedSender<MediaEvent>,
    rec: Recorder,
    epoch: Instant,
    controller: Controller,
    events: mpsc::UnboundedSender<CallEvent>,
    outbox: Vec<ClientMessage>,
    /// When the server accepted our Join (monotonic µs).
    joined_us: Option<u64>,
    /// Whether the other side was last told that our camera / microphone works.
    announced: [bool; 2],
    /// Moving frames received in sessions before the current one.
    moved_before: u64,
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

    /// Start a fresh media session (dropping any old one).
    fn new_session(&mut self, offer_sdp: Option<&str>) {
        self.moved_before += self.moved_now();
        self.session = None;
        let codec = match offer_sdp {
            None => media::offer_codec(self.p.cfg.video_codec),
            Some(sdp) => media::answer_codec(self.p.cfg.video_codec, sdp),
        };
        match MediaSession::start(
            &self.p.cfg,
            &self.devices,
            codec,
            offer_sdp.is_none(),
            &self.ice_servers,
            self.p.screens.clone(),
            self.media_tx.clone(),
        ) {
            Ok(s) => {
                s.set_video_kbps(self.controller.kbps());
                if let Some(sdp) = offer_sdp
                    && let Err(e) = s.set_remote(SdpKind::Offer, sdp)
                {
                    tracing::warn!(visit_id = %self.p.visit_id, error = %e, "cannot use the offer");
                }
                self.rec.new_session(codec.name());
                tracing::info!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, codec = codec.name(), offerer = offer_sdp.is_none(), session = self.rec.sessions, "media session started");
                self.session = Some(s);
                self.session_started = Instant::now();
                self.announce_devices();
            }
            Err(e) => {
                tracing::error!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, error = %format!("{e:#}"), "cannot start the media session");
            }
        }
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
            ServerMessage::Joined { peer_present } => {
                if !self.joined {
                    self.rec.joined(self.ms());
                    self.joined_us = Some(super::stamp::now_micros());
                }
                self.joined = true;
                self.peer_joined = peer_present;
                self.emit(CallEvent::Joined);
                if peer_present && self.side == Some(Side::Person) && self.session.is_none() {
                    self.new_session(None);
                }
            }
            ServerMessage::PeerJoined { .. } => {
                self.peer_joined = true;
                // A (re)joined peer knows nothing of our lost devices yet.
                self.announced = [true; 2];
                self.announce_devices();
                self.emit(CallEvent::PeerJoined);
                if self.side == Some(Side::Person) {
                    // A (re)joined peer has no session: offer a fresh one.
                    self.new_session(None);
                }
            }
            ServerMessage::PeerLeft { .. } => {
                self.peer_joined = false;
                self.emit(CallEvent::PeerLeft);
            }
            ServerMessage::Sdp { kind, sdp } => match (kind, self.side) {
                (SdpKind::Offer, Some(Side::Visitor)) => self.new_session(Some(&sdp)),
                (SdpKind::Answer, Some(Side::Person)) => {
                    if let Some(s) = &self.session
                        && let Err(e) = s.set_remote(SdpKind::Answer, &sdp)
                    {
                        tracing::warn!(visit_id = %self.p.visit_id, error = %e, "cannot use the answer");
                    }
                }
                _ => tracing::warn!(visit_id = %self.p.visit_id, "unexpected description ignored"),
            },
            ServerMessage::Ice {
                candidate,
                sdp_mline_index,
            } => {
                if let Some(s) = &self.session {
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

    fn on_media(&mut self, e: MediaEvent) {
        match e {
            MediaEvent::LocalSdp { kind, sdp } => self.send(ClientMessage::Sdp { kind, sdp }),
            MediaEvent::LocalIce { candidate, mline } => self.send(ClientMessage::Ice {
                candidate,
                sdp_mline_index: mline,
            }),
            MediaEvent::Latency(us) => self.rec.latency(us),
            MediaEvent::DeviceFailed(input) => {
                if let Some(s) = &self.session {
                    s.local(input).detach();
                }
                self.announce_devices();
            }
            MediaEvent::Error(e) => {
                tracing::warn!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, error = e, "media error; the session will be replaced");
                self.session = None;
            }
        }
    }

    /// A device went away or came back (hal): the session's source follows.
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
        if let Some(s) = &self.session {
            let local = s.local(input);
            if back {
                let source = match input {
                    Input::Camera => self.devices.camera.source(hal::VideoMode {
                        width: self.p.cfg.width,
                        height: self.p.cfg.height,
                        fps: self.p.cfg.fps,
                    }),
                    Input::Microphone => self.devices.microphone.source(),
                };
                local.attach(source);
            } else {
                local.detach();
            }
        }
        self.announce_devices();
    }

    /// Tell the other side when our camera or microphone stops or works again.
    fn announce_devices(&mut self) {
        let Some(s) = &self.session else { return };
        let mut changes = Vec::new();
        for (i, (input, device)) in INPUTS.into_iter().enumerate() {
            let available = s.local(input).device_present();
            if available != self.announced[i] {
                self.announced[i] = available;
                changes.push(ClientMessage::Device { device, available });
            }
        }
        for m in changes {
            if self.joined {
                self.send(m);
            }
        }
    }

    /// Every quarter second: media gaps, and once a second the statistics.
    fn on_tick(&mut self, n: u64) {
        let (frames, audio) = self.session.as_ref().map_or((0, 0), |s| {
            (
                s.counters.frames.load(std::sync::atomic::Ordering::Relaxed),
                s.counters.audio.load(std::sync::atomic::Ordering::Relaxed),
            )
        });
        let wall = chrono::Utc::now();
        match self.rec.observe(self.ms(), wall, frames, audio) {
            Some(Change::Flowing) => {
                let first = self.session.as_ref().map_or(0, |s| {
                    s.counters
                        .first_frame_us
                        .load(std::sync::atomic::Ordering::Relaxed)
                });
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
            if let Some(sample) = self.session.as_ref().and_then(|s| s.stats()) {
                self.rec.sample(sample);
                if let Some(f) = sample.remote_fraction_lost {
                    let k = self.controller.update(f, sample.rtt_ms);
                    if let Some(s) = &self.session {
                        s.set_video_kbps(k);
                    }
                }
            }
            if self.rec.flowing() || self.joined {
                self.emit(CallEvent::Quality(self.rec.quality()));
            }
        }
        // Recovery: the person's side replaces a session that has gone quiet.
        let quiet = !self.rec.flowing() && self.session_started.elapsed() >= RESTART_AFTER;
        if self.side == Some(Side::Person)
            && self.joined
            && self.peer_joined
            && quiet
            && self.session_started.elapsed() >= RESTART_EVERY.max(RESTART_AFTER)
        {
            tracing::info!(visit_id = %self.p.visit_id, terminal_id = %self.p.terminal_id, "no media: starting a fresh session");
            self.new_session(None);
        }
    }

    fn snapshot(&self) -> Snapshot {
        let lat = self.rec.latencies_us();
        let ms = |v: Option<u64>| v.map(|u| u as f64 / 1000.0);
        let r = self.rec.report(self.ms());
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
            video_kbps_target: self.controller.kbps(),
            median_kbps: r.median_video_kbps,
            median_rtt_ms: r.median_rtt_ms,
            latency_samples: lat.len(),
            latency_p50_ms: ms(percentile(lat, 50)),
            latency_p99_ms: ms(percentile(lat, 99)),
            moving_frames: self.moved_before + self.moved_now(),
            camera: self.announced[0],
            microphone: self.announced[1],
        }
    }

    /// Moving frames received in the current session.
    fn moved_now(&self) -> u64 {
        self.session.as_ref().map_or(0, |s| {
            s.counters
                .changed
                .load(std::sync::atomic::Ordering::Relaxed)
        })
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
    tracing::info!(visit_id = %p.visit_id, terminal_id = %p.terminal_id, devices = ?devices, "call opened");
    let max = p.cfg.max_kbps.max(200);
    let mut st = State {
        controller: Controller::new(max.min(2000), 150, max),
        p,
        devices,
        side: None,
        ice_servers: Vec::new(),
        want_join: false,
        joined: false,
        peer_joined: false,
        session: None,
        session_started: Instant::now(),
        media_tx,
        rec: Recorder::default(),
        epoch: Instant::now(),
        events,
        outbox: Vec::new(),
        joined_us: None,
        announced: [true; 2],
        moved_before: 0,
    };
    // Devices leaving and coming back, from hal's threads into this task.
    let (device_tx, mut device_rx) = mpsc::unbounded_channel();
    st.devices.subscribe(move |e| {
        let _ = device_tx.send(*e);
    });
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
                Some(e) = media_rx.recv() => st.on_media(e),
                Some(e) = device_rx.recv() => st.on_device(e),
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
    st.session = None;
}

/// The call ended: send the report while the server still listens.
async fn finish<S>(st: &mut State, sink: &mut S)
where
    S: futures_util::Sink<Message> + Unpin,
{
    st.session = None;
    let report = st.rec.report(st.ms());
    let text = serde_json::to_string(&ClientMessage::CallReport { report })
        .expect("client messages serialise");
    let _ = sink.send(Message::Text(text.into())).await;
    let _ = sink.close().await;
}
