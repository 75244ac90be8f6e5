//! The call: signalling with visit-server over a WebSocket, and the media
//! sessions (GStreamer `webrtcbin`) it negotiates.
//!
//! One call runs on its own thread (a current-thread tokio runtime), so the
//! blocking parts of GStreamer never stall the schedule sync. The terminal
//! talks to it through [`CallHandle`]: commands in, [`CallEvent`]s out, and
//! a [`Snapshot`] of the figures for `stats` and the benchmark.
//!
//! - [`flow`]: what the screen shows (pure state machine);
//!   [`signalling`]: who is in the call, on which tile, and what to do
//!   about each server message (pure state machine).
//! - `task`: the I/O loop around the signalling machine (one WebSocket,
//!   reconnected; `connect` opens it with `sync::client`'s credential and
//!   error reading); `sessions`: one media session per peer (`peer`: what
//!   came from it and why nothing does); `follower`: the capture follows
//!   the devices (borrowed camera, retries, hook switch); `tick`: flow,
//!   statistics, recovery and the figures.
//! - [`media`]: one `webrtcbin` session per peer; `capture`: the shared
//!   capture and mixer (`LocalMedia`); `negotiate`: offer and answer
//!   through one path; `receive`: what a session receives; [`frames`]: the
//!   RGB appsink and the `Frame`s it lends (the self-views use it too);
//!   [`local`]: camera and microphone sources that outlive their devices;
//!   [`nice`]: ICE local addresses.
//! - [`codec`]: the video codecs offered, in the configured order, with
//!   their payloaders; `encoder`: each encoder factory's real-time settings
//!   and bitrate; [`sdp`]: what an offer lists and an answer chose (pure);
//!   `backoff`: retries of what keeps failing, each cause logged once.
//! - [`stats`]: interruptions and medians for the visit record (pure);
//!   [`stats_gst`] reads webrtcbin's statistics; [`bitrate`]: congestion control.
//! - [`stamp`]: the latency timestamp written into pixels.
//! - [`record`]: the visit's recording on a unit terminal (what is sent
//!   and received, muxed without a second encode, in closed segments).

mod backoff;
pub mod bitrate;
mod capture;
pub mod codec;
mod connect;
mod encoder;
pub mod flow;
mod follower;
pub mod frames;
pub mod local;
pub mod media;
mod negotiate;
mod nice;
mod peer;
mod receive;
pub mod record;
pub mod sdp;
mod sessions;
pub mod signalling;
pub mod stamp;
pub mod stats;
mod stats_gst;
mod task;
mod tick;

use std::sync::{Arc, Mutex};

use protocol::VisitStatus;
use protocol::signal::{EndReason, Side};
use serde::Serialize;
use tokio::sync::mpsc;
use tracing::Instrument;
use uuid::Uuid;

use crate::config::CallConfig;
use crate::devices::DeviceOwner;
pub use media::{Frame, FrameSink, Screens};

/// What the call tells the terminal.
#[derive(Debug, Clone, PartialEq)]
pub enum CallEvent {
    /// Connected to the server (again): our side and the visit's status.
    Connected {
        side: Side,
        status: VisitStatus,
    },
    /// The server cannot be reached; retrying.
    ConnectionLost,
    Status(VisitStatus),
    /// The server accepted our Join.
    Joined,
    /// The server refused our Join (too early...).
    JoinRefused(String),
    /// A peer of the other side joined.
    PeerJoined,
    /// The last peer of the other side left.
    PeerLeft,
    /// The remote pictures on screen: each tile's name, by tile.
    Tiles(Vec<String>),
    /// Remote media flows (first time, or again after a gap).
    Flowing,
    /// No remote media for a second.
    Interrupted,
    Quality(ui::Quality),
    /// The other side's camera or microphone stopped working, or works again.
    PeerDevice {
        device: protocol::signal::MediaDevice,
        available: bool,
    },
    /// Why media does not flow (or carries no picture); `None`: nothing to explain.
    Problem(Option<protocol::signal::MediaProblem>),
    Warning(u32),
    Ended(EndReason),
    /// The server refused this terminal for the visit, for good.
    Failed(String),
}

/// What the terminal asks of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallCommand {
    Join,
    HangUp,
}

/// Figures for `stats` (headless) and the benchmark.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Snapshot {
    pub joined: bool,
    pub flowing: bool,
    pub fps: u32,
    pub frames: u64,
    pub audio_buffers: u64,
    pub setup_ms: Option<u64>,
    pub sessions: u32,
    pub interruptions: usize,
    pub codec: String,
    pub video_kbps_target: u32,
    /// Median received bitrate (kbit/s) and round-trip time so far.
    pub median_kbps: u32,
    pub median_rtt_ms: Option<u32>,
    pub latency_samples: usize,
    pub latency_p50_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    /// Each peer of the other side in the call (a visitor, or the person).
    pub peers: Vec<PeerSnapshot>,
    /// Received frames that differ from the one before (a still picture
    /// such as "camera unavailable" does not count).
    pub moving_frames: u64,
    /// Whether the call's sound goes through the lifted handset.
    pub handset: bool,
    /// Whether our camera and microphone feed the call (not a stand-in).
    pub camera: bool,
    pub microphone: bool,
}

/// One peer's figures: what the terminal decoded and played from it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PeerSnapshot {
    pub id: Uuid,
    pub name: Option<String>,
    pub tile: usize,
    pub frames: u64,
    pub audio_buffers: u64,
    pub flowing: bool,
    pub codec: Option<String>,
}

/// Everything a call needs to start.
#[derive(Clone)]
pub struct CallParams {
    pub server_url: String,
    pub credential: String,
    pub terminal_id: Uuid,
    pub visit_id: Uuid,
    pub cfg: CallConfig,
    /// The terminal's devices, lent to the call.
    pub devices: DeviceOwner,
    pub screens: Screens,
    /// Record the visit (a unit terminal, a visit that is not
    /// confidential); `None`: nothing is recorded.
    pub record: Option<record::RecordParams>,
}

/// A running call. Dropping it leaves the call (the thread winds down).
pub struct CallHandle {
    commands: mpsc::UnboundedSender<CallCommand>,
    events: mpsc::UnboundedReceiver<CallEvent>,
    pub snapshot: Arc<Mutex<Snapshot>>,
    pub visit_id: Uuid,
    gone: bool,
}

impl CallHandle {
    pub fn start(p: CallParams) -> CallHandle {
        let (ctx, crx) = mpsc::unbounded_channel();
        let (etx, erx) = mpsc::unbounded_channel();
        let snapshot = Arc::new(Mutex::new(Snapshot::default()));
        let visit_id = p.visit_id;
        let snap = snapshot.clone();
        // Every line the call logs carries its visit and terminal.
        let span =
            tracing::info_span!("call", visit_id = %p.visit_id, terminal_id = %p.terminal_id);
        std::thread::Builder::new()
            .name("call".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the call");
                rt.block_on(task::run(p, crx, etx, snap).instrument(span));
            })
            .expect("a thread for the call");
        CallHandle {
            commands: ctx,
            events: erx,
            snapshot,
            visit_id,
            gone: false,
        }
    }

    pub fn send(&self, c: CallCommand) {
        let _ = self.commands.send(c);
    }

    /// The next event, if any. A call thread that died (it should not) is
    /// reported once as a failure, so the screen never waits for nothing.
    pub fn try_event(&mut self) -> Option<CallEvent> {
        match self.events.try_recv() {
            Ok(e) => Some(e),
            Err(mpsc::error::TryRecvError::Empty) => None,
            Err(mpsc::error::TryRecvError::Disconnected) if !self.gone => {
                self.gone = true;
                Some(CallEvent::Failed("the call stopped".into()))
            }
            Err(_) => None,
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        self.snapshot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
