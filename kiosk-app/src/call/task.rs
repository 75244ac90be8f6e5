//! The call task: the I/O around the pure [`Signalling`] machine. It holds
//! one WebSocket to visit-server (reconnected if it drops), does what the
//! machine's actions say, and keeps the media sessions, one per peer
//! (`sessions.rs`), the capture that follows the devices (`follower.rs`),
//! and the quarter-second tick that measures, recovers and explains
//! (`tick.rs`). Every log line of a call is inside its `call` span, which
//! carries the visit and the terminal.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use protocol::signal::{ClientMessage, SdpKind, ServerMessage};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use super::backoff::Backoff;
use super::connect::{ConnectError, Socket, connect};
use super::follower::Follower;
use super::media::{LocalMedia, MediaEvent};
use super::peer::PeerCall;
use super::signalling::{Action, Signalling};
use super::stats::Recorder;
use super::{CallCommand, CallEvent, CallParams, Snapshot};
use crate::sync::client::Client;

/// One call: the signalling machine and everything it drives.
pub(super) struct Call {
    pub(super) p: CallParams,
    pub(super) sig: Signalling,
    pub(super) follower: Follower,
    pub(super) local: Option<LocalMedia>,
    pub(super) peers: BTreeMap<Uuid, PeerCall>,
    /// Frames and audio buffers from peers that have left (totals stay
    /// monotonic for the recorder), and their moving frames.
    pub(super) rec_gone: (u64, u64),
    pub(super) moving_gone: u64,
    pub(super) media_tx: mpsc::UnboundedSender<(Uuid, MediaEvent)>,
    pub(super) rec: Recorder,
    pub(super) epoch: Instant,
    pub(super) max_kbps: u32,
    pub(super) events: mpsc::UnboundedSender<CallEvent>,
    pub(super) outbox: Vec<ClientMessage>,
    /// When the server accepted our Join (monotonic µs).
    pub(super) joined_us: Option<u64>,
    /// Devices whose element failed (from GStreamer's threads into this task).
    pub(super) device_tx: mpsc::UnboundedSender<hal::DeviceEvent>,
    /// Starting the camera and microphone, and a media session, when they
    /// keep failing: retried with a growing wait, each cause logged once.
    pub(super) local_backoff: Backoff,
    pub(super) session_backoff: Backoff,
    /// The visit's recorder (unit terminals, visits not confidential).
    pub(super) recorder: Option<super::record::Recorder>,
}

/// What the loop hears from besides the server.
struct Inputs {
    commands: mpsc::UnboundedReceiver<CallCommand>,
    media: mpsc::UnboundedReceiver<(Uuid, MediaEvent)>,
    devices: mpsc::UnboundedReceiver<hal::DeviceEvent>,
    hook: mpsc::UnboundedReceiver<hal::HookState>,
    tick: tokio::time::Interval,
    n: u64,
}

/// How one connection ended.
enum Next {
    Reconnect,
    Stop,
}

impl Call {
    pub(super) fn ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    pub(super) fn emit(&self, e: CallEvent) {
        let _ = self.events.send(e);
    }

    pub(super) fn send(&mut self, m: ClientMessage) {
        self.outbox.push(m);
    }

    /// Do what the signalling machine decided. Returns whether the call is over.
    fn apply(&mut self, actions: Vec<Action>) -> bool {
        let mut over = false;
        for a in actions {
            match a {
                Action::Emit(e) => self.emit(e),
                Action::Send(m) => self.send(m),
                Action::Add(peer) => {
                    let offer = super::codec::preference(self.p.cfg.video_codec);
                    self.peers
                        .entry(peer)
                        .or_insert_with(|| PeerCall::new(self.max_kbps, offer));
                }
                Action::Offer { peer, fresh } => {
                    if fresh || self.peers.get(&peer).is_none_or(|c| c.session.is_none()) {
                        self.new_session(peer, None);
                    }
                }
                Action::Answer { peer, sdp } => self.new_session(peer, Some(&sdp)),
                Action::ApplyAnswer { peer, sdp } => {
                    if let Some(s) = self.peers.get(&peer).and_then(|p| p.session.as_ref())
                        && let Err(e) = s.set_remote(SdpKind::Answer, &sdp)
                    {
                        tracing::warn!(peer = %peer, error = %e, "cannot use the answer");
                    }
                }
                Action::Ice {
                    peer,
                    candidate,
                    mline,
                } => {
                    if let Some(s) = self.peers.get(&peer).and_then(|p| p.session.as_ref()) {
                        s.add_ice(&candidate, mline);
                    }
                }
                Action::Remove(peer) => self.remove_peer(peer),
                Action::FirstJoin => {
                    self.rec.joined(self.ms());
                    self.joined_us = Some(super::stamp::now_micros());
                }
                Action::End => over = true,
            }
        }
        over
    }

    /// Tell the machine our devices now; it says what the other side hears.
    pub(super) fn devices_changed(&mut self) {
        if let Some(l) = &self.local {
            let actions = self.sig.devices(Follower::present(l));
            self.apply(actions);
        }
    }

    fn remove_peer(&mut self, id: Uuid) {
        if let Some(mut p) = self.peers.remove(&id) {
            p.count();
            self.rec_gone.0 += p.frames;
            self.rec_gone.1 += p.audio;
            self.moving_gone += p.moving;
            tracing::info!(peer = %id, frames = p.frames, "peer left the call");
        }
    }

    fn on_server(&mut self, m: ServerMessage) -> bool {
        match &m {
            ServerMessage::PeerDevice {
                device, available, ..
            } => tracing::info!(?device, available, "the other side's device changed"),
            ServerMessage::Ended { reason } => tracing::info!(?reason, "the call ended"),
            _ => {}
        }
        let actions = self.sig.handle(m);
        self.apply(actions)
    }

    fn on_device(&mut self, e: hal::DeviceEvent) {
        if self.follower.on_device(e, self.local.as_ref()) {
            self.devices_changed();
        }
    }

    fn on_hook(&mut self, state: hal::HookState) {
        if self.follower.on_hook(state, self.local.as_ref()) {
            self.devices_changed();
        }
    }

    /// The call ended or was left: the report, then nothing more.
    fn hang_up_messages(&mut self) {
        let report = self.rec.report(self.ms());
        self.send(ClientMessage::CallReport { report });
        self.send(ClientMessage::HangUp);
    }

    /// Send everything queued, in order. `false`: the socket is gone.
    async fn flush<S>(&mut self, sink: &mut S) -> bool
    where
        S: futures_util::Sink<Message> + Unpin,
    {
        for m in std::mem::take(&mut self.outbox) {
            let text = serde_json::to_string(&m).expect("client messages serialise");
            if sink.send(Message::Text(text.into())).await.is_err() {
                return false;
            }
        }
        true
    }

    /// One connection's life: until it drops (reconnect) or the call ends.
    async fn converse(
        &mut self,
        ws: Socket,
        inputs: &mut Inputs,
        snapshot: &Mutex<Snapshot>,
    ) -> Next {
        let (mut sink, mut stream) = ws.split();
        loop {
            // Everything queued goes out first, in order.
            if !self.flush(&mut sink).await {
                self.emit(CallEvent::ConnectionLost);
                return Next::Reconnect;
            }
            tokio::select! {
                m = stream.next() => match m {
                    Some(Ok(Message::Text(t))) => match serde_json::from_str::<ServerMessage>(&t) {
                        Ok(m) => {
                            if self.on_server(m) {
                                self.finish(&mut sink).await;
                                return Next::Stop;
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "unreadable signalling message ignored"),
                    },
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => {
                        // The media may well go on peer to peer; reconnect the signalling.
                        self.emit(CallEvent::ConnectionLost);
                        return Next::Reconnect;
                    }
                },
                c = inputs.commands.recv() => match c {
                    Some(CallCommand::Join) => {
                        let actions = self.sig.join(true);
                        self.apply(actions);
                    }
                    Some(CallCommand::HangUp) => {
                        self.hang_up_messages();
                        self.flush(&mut sink).await;
                        let _ = sink.close().await;
                        return Next::Stop;
                    }
                    None => {
                        let _ = sink.close().await;
                        return Next::Stop;
                    }
                },
                Some((peer, e)) = inputs.media.recv() => self.on_media(peer, e),
                Some(e) = inputs.devices.recv() => self.on_device(e),
                Some(h) = inputs.hook.recv() => self.on_hook(h),
                _ = inputs.tick.tick() => {
                    inputs.n += 1;
                    self.on_tick(inputs.n);
                    if inputs.n.is_multiple_of(4) {
                        *snapshot.lock().unwrap_or_else(|e| e.into_inner()) = self.snapshot();
                    }
                }
            }
        }
    }

    /// The call ended: send the report while the server still listens.
    async fn finish<S>(&mut self, sink: &mut S)
    where
        S: futures_util::Sink<Message> + Unpin,
    {
        self.close_media();
        let report = self.rec.report(self.ms());
        self.send(ClientMessage::CallReport { report });
        self.flush(sink).await;
        let _ = sink.close().await;
    }

    /// Connect, and connect again while the call goes on.
    async fn connections(&mut self, inputs: &mut Inputs, snapshot: &Mutex<Snapshot>) {
        let api = Client::new(&self.p.server_url, Some(self.p.credential.clone()));
        let mut backoff = Duration::from_millis(250);
        loop {
            let ws = tokio::select! {
                r = connect(&api, self.p.visit_id) => r,
                c = inputs.commands.recv() => match c {
                    Some(CallCommand::Join) => {
                        let actions = self.sig.join(false);
                        self.apply(actions);
                        continue;
                    }
                    Some(CallCommand::HangUp) | None => return,
                },
            };
            let ws = match ws {
                Ok(ws) => ws,
                Err(ConnectError::Refused(m)) => {
                    tracing::warn!(message = m, "the server refused this terminal for the call");
                    self.emit(CallEvent::Failed(m));
                    return;
                }
                Err(ConnectError::Retry(m)) => {
                    tracing::info!(message = m, "signalling unreachable; retrying");
                    self.emit(CallEvent::ConnectionLost);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            backoff = Duration::from_millis(250);
            if let Next::Stop = self.converse(ws, inputs, snapshot).await {
                return;
            }
        }
    }

    /// The figures on the way out, and whether the scripted faults happened.
    fn close(&mut self, snapshot: &Mutex<Snapshot>) {
        *snapshot.lock().unwrap_or_else(|e| e.into_inner()) = self.snapshot();
        let r = self.rec.report(self.ms());
        tracing::info!(
            connected_ms = r.connected_ms,
            interruptions = r.interruptions.len(),
            sessions = r.sessions,
            frames = r.frames_decoded,
            "call closed"
        );
        self.close_media();
        // Simulated devices: say whether every scripted fault happened.
        if let Some(f) = self.follower.owner().devices().fault_report() {
            let unfired = f.unfired();
            if unfired.is_empty() {
                tracing::info!("every scripted device fault happened");
            } else {
                let list: Vec<String> = unfired.iter().map(|f| f.to_string()).collect();
                tracing::warn!(unfired = ?list, "scripted device faults did not happen");
            }
        }
    }
}

pub async fn run(
    p: CallParams,
    commands: mpsc::UnboundedReceiver<CallCommand>,
    events: mpsc::UnboundedSender<CallEvent>,
    snapshot: Arc<Mutex<Snapshot>>,
) {
    if let Err(e) = gst::init() {
        tracing::error!(error = %e, "GStreamer cannot start");
        let _ = events.send(CallEvent::Failed(format!("GStreamer cannot start: {e}")));
        return;
    }
    let (media_tx, media) = mpsc::unbounded_channel();
    // Devices leaving and coming back, from hal's threads into this task.
    let (device_tx, devices) = mpsc::unbounded_channel();
    p.devices.listen(device_tx.clone());
    tracing::info!(devices = ?p.devices, "call opened");
    // The handset's hook switch, if the terminal has one.
    let (hook_tx, hook) = mpsc::unbounded_channel();
    let _hook_watch = match hal::hook::watch(&p.devices.config().hook, move |s| {
        let _ = hook_tx.send(s);
    }) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "the hook switch cannot be watched; sound stays on the speaker");
            None
        }
    };
    let recorder = p
        .record
        .clone()
        .map(|r| super::record::Recorder::start(r, p.visit_id, p.terminal_id));
    if recorder.is_none() {
        tracing::info!("this call is not recorded here");
    }
    let mut call = Call {
        recorder,
        max_kbps: p.cfg.max_kbps.max(200),
        follower: Follower::new(p.devices.clone(), p.cfg.mode()),
        p,
        sig: Signalling::new(),
        local: None,
        peers: BTreeMap::new(),
        rec_gone: (0, 0),
        moving_gone: 0,
        media_tx,
        rec: Recorder::default(),
        epoch: Instant::now(),
        events,
        outbox: Vec::new(),
        joined_us: None,
        device_tx,
        local_backoff: Backoff::default(),
        session_backoff: Backoff::default(),
    };
    let mut inputs = Inputs {
        commands,
        media,
        devices,
        hook,
        tick: tokio::time::interval(Duration::from_millis(250)),
        n: 0,
    };
    call.connections(&mut inputs, &snapshot).await;
    call.close(&snapshot);
}
