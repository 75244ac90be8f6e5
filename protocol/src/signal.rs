//! Call signalling over a WebSocket: `GET /api/v1/signal/{visit_id}`.
//!
//! Each visit's call has two sides: the incarcerated person (a housing-unit
//! terminal) and the visitors (a lobby terminal for an on-site visit; for a
//! remote visit, up to the facility's limit of visitors, each from their own
//! browser with their own join link). Every participant is a *peer* with an
//! id; SDP and ICE are addressed (`to`) and the server stamps the sender
//! (`from`), so the person's side holds one session per visitor and the
//! visitors' browsers one with each other (for audio). The server relays
//! SDP and ICE candidates untouched, turns their
//! presence into the visit status, warns before the scheduled end and ends
//! the call at it (a late start is not extended), and relays a staff
//! termination. Messages are JSON text frames, tagged by `type`.
//!
//! Who may connect: a terminal with its credential (`Authorization: Bearer`),
//! or a remote visitor with the visit's join token (`?token=` in the URL,
//! since browsers cannot set headers on a WebSocket). A connected socket is
//! *waiting*: it receives the visit's status changes. It takes part in the
//! call only after it sends [`ClientMessage::Join`], which the server accepts
//! from the side's early log-in window (person 2 minutes, visitor 1 minute
//! before the start). The person's join makes the visit Ready; both joined
//! makes it InProgress. The person's side always makes the offer to each
//! visitor; between two visitors, the one who joined later offers. Every new
//! offer starts a fresh session with its sender (this is also how a call
//! recovers from a network cut).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::VisitStatus;

/// Which side of the call a participant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The incarcerated person.
    Person,
    /// The visitor.
    Visitor,
}

/// A STUN or TURN server, from the facility's configuration (none by default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IceServer {
    /// `stun:` or `turn:` URLs.
    pub urls: Vec<String>,
    /// TURN user name.
    #[serde(default)]
    pub username: Option<String>,
    /// TURN credential.
    #[serde(default)]
    pub credential: Option<String>,
}

/// A participant of the call, as the others see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeerInfo {
    /// The peer's id in this call (a terminal's id, or a remote visitor's id).
    pub id: Uuid,
    /// Its side.
    pub side: Side,
    /// The name its tile shows (a visitor's first name and last initial),
    /// if known.
    #[serde(default)]
    pub name: Option<String>,
}

/// Offer or answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SdpKind {
    /// The first description.
    Offer,
    /// The reply to an offer.
    Answer,
}

/// A device whose loss the other side is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MediaDevice {
    /// The camera (the other side sees a "camera unavailable" picture).
    Camera,
    /// The microphone (the other side hears nothing: it is told why).
    Microphone,
}

/// Why a side has no picture or no media, in words a family understands
/// on its screen (and recorded in the visit's history).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MediaProblem {
    /// The two sides have no video format in common: sound only.
    NoCommonVideo,
    /// Nothing got through in 10 s: the network blocks the call.
    NetworkBlocked,
    /// Sound arrives but no picture: the other side's camera is off.
    NoPicture,
}

/// From a participant to the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// A session description for another peer.
    Sdp {
        /// Offer or answer.
        kind: SdpKind,
        /// The SDP text.
        sdp: String,
        /// The peer it is for. Absent: the other side, when that is one
        /// peer (a visitor's message goes to the person).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<Uuid>,
    },
    /// An ICE candidate for another peer.
    Ice {
        /// The candidate line.
        candidate: String,
        /// Its m-line index.
        sdp_mline_index: u32,
        /// The peer it is for (as for `Sdp`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<Uuid>,
    },
    /// Take part in the call (the "Join" button). Refused with an `Error`
    /// before the side's join window opens.
    Join,
    /// Media flows both ways on this side (recorded in the visit's history).
    MediaFlowing,
    /// No media from the other side for a while (recorded; the call tries to recover).
    MediaInterrupted,
    /// Why this side has no picture or no media (recorded in the visit's
    /// history).
    MediaProblem {
        /// What is wrong.
        problem: MediaProblem,
    },
    /// One of this side's devices stopped working, or works again
    /// (relayed to the other side and recorded in the visit's history).
    Device {
        /// Which device.
        device: MediaDevice,
        /// `false`: lost; `true`: back.
        available: bool,
    },
    /// This side's call statistics, sent when the call ends on it (recorded).
    CallReport {
        /// The summary.
        report: CallReport,
    },
    /// This side hangs up (the red X).
    HangUp,
}

/// One interruption of the media during a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Interruption {
    /// When no more media arrived.
    pub from: DateTime<Utc>,
    /// How long until it flowed again (milliseconds); absent if it never did.
    pub duration_ms: Option<u64>,
}

/// What one side measured during a call, sampled each second: enough to
/// answer "the visit never worked" with facts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallReport {
    /// Time with media flowing from the other side (milliseconds).
    pub connected_ms: u64,
    /// From joining to the first remote frame (milliseconds), if one came.
    pub setup_ms: Option<u64>,
    /// Every gap in the media.
    pub interruptions: Vec<Interruption>,
    /// Sessions set up (1 without interruptions; more after recoveries).
    pub sessions: u32,
    /// Video frames decoded from the other side.
    pub frames_decoded: u64,
    /// Median received video bitrate (kbit/s).
    pub median_video_kbps: u32,
    /// Median round-trip time (milliseconds), if measured.
    pub median_rtt_ms: Option<u32>,
    /// Fraction of packets lost from the other side (0..1).
    pub loss: f32,
    /// Video codec used ("H264", "VP8").
    pub video_codec: String,
    /// Audio packets received from the other side.
    pub audio_packets: u64,
}

/// Why a call ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EndReason {
    /// The scheduled end came.
    TimeExpired,
    /// Staff ended the visit.
    Terminated {
        /// The violation, as staff wrote it.
        reason: String,
    },
    /// The other side hung up.
    HungUp {
        /// Who hung up.
        by: Side,
    },
}

/// From the server to a participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Joined: who you are in this call and how to connect.
    Welcome {
        /// Your side.
        side: Side,
        /// Your peer id in this call (others address you with it).
        you: Uuid,
        /// Whether the other side has already joined (only meaningful once
        /// you join: see `PeerJoined`).
        peer_present: bool,
        /// STUN/TURN servers to use (empty: host candidates only).
        ice_servers: Vec<IceServer>,
        /// When the call will be ended.
        ends_at: DateTime<Utc>,
        /// The visit's status now.
        status: VisitStatus,
    },
    /// You joined (the server accepted your `Join`): media may start.
    Joined {
        /// Whether the other side has joined too (then the person offers).
        peer_present: bool,
        /// Every other peer already joined (the person offers to each
        /// visitor; a visitor offers to each visitor here).
        #[serde(default)]
        peers: Vec<PeerInfo>,
    },
    /// Another peer joined (or rejoined after a network cut).
    PeerJoined {
        /// Its side.
        side: Side,
        /// Its peer id.
        id: Uuid,
        /// Its name, if known.
        #[serde(default)]
        name: Option<String>,
    },
    /// Another peer's connection dropped; it may come back.
    PeerLeft {
        /// Its side.
        side: Side,
        /// Its peer id.
        id: Uuid,
    },
    /// A session description from another peer.
    Sdp {
        /// Offer or answer.
        kind: SdpKind,
        /// The SDP text.
        sdp: String,
        /// The sender's peer id.
        from: Uuid,
    },
    /// An ICE candidate from another peer.
    Ice {
        /// The candidate line.
        candidate: String,
        /// Its m-line index.
        sdp_mline_index: u32,
        /// The sender's peer id.
        from: Uuid,
    },
    /// One of the other side's devices stopped working, or works again.
    PeerDevice {
        /// Its side.
        side: Side,
        /// Which peer.
        from: Uuid,
        /// Which device.
        device: MediaDevice,
        /// `false`: lost; `true`: back.
        available: bool,
    },
    /// The visit's status changed.
    Status {
        /// The new status.
        status: VisitStatus,
    },
    /// The call ends in this many minutes (sent at 5 and at 1).
    Warning {
        /// Minutes left.
        minutes_left: u32,
    },
    /// The call is over; the server closes the socket after this.
    Ended {
        /// Why.
        reason: EndReason,
    },
    /// A message could not be handled.
    Error {
        /// What was wrong.
        message: String,
    },
}
