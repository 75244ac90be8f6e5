//! Call signalling over a WebSocket: `GET /api/v1/signal/{visit_id}`.
//!
//! Each visit's call has two sides: the incarcerated person (a housing-unit
//! terminal) and the visitor (a lobby terminal for on-site visits). The
//! server pairs them, relays SDP and ICE candidates untouched, turns their
//! presence into the visit status, warns before the scheduled end and ends
//! the call at it (a late start is not extended), and relays a staff
//! termination. Messages are JSON text frames, tagged by `type`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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

/// Offer or answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SdpKind {
    /// The first description.
    Offer,
    /// The reply to an offer.
    Answer,
}

/// From a participant to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// A session description for the other side.
    Sdp {
        /// Offer or answer.
        kind: SdpKind,
        /// The SDP text.
        sdp: String,
    },
    /// An ICE candidate for the other side.
    Ice {
        /// The candidate line.
        candidate: String,
        /// Its m-line index.
        sdp_mline_index: u32,
    },
    /// Media flows both ways on this side (used for the visit record).
    MediaFlowing,
    /// This side hangs up (the red X).
    HangUp,
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
        /// Whether the other side is already here (then it waits for your offer
        /// if you are the visitor, or sends one if you are the person).
        peer_present: bool,
        /// STUN/TURN servers to use (empty: host candidates only).
        ice_servers: Vec<IceServer>,
        /// When the call will be ended.
        ends_at: DateTime<Utc>,
        /// The visit's status now.
        status: VisitStatus,
    },
    /// The other side joined (or rejoined after a network cut).
    PeerJoined {
        /// Its side.
        side: Side,
    },
    /// The other side's connection dropped; it may come back.
    PeerLeft {
        /// Its side.
        side: Side,
    },
    /// A session description from the other side.
    Sdp {
        /// Offer or answer.
        kind: SdpKind,
        /// The SDP text.
        sdp: String,
    },
    /// An ICE candidate from the other side.
    Ice {
        /// The candidate line.
        candidate: String,
        /// Its m-line index.
        sdp_mline_index: u32,
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
