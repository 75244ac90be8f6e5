//! A visit's recording on the wire: the segments a housing-unit terminal
//! records and uploads, resumably, to `visit-server`.
//!
//! A terminal records every stream of a visit (its own, and each visitor's
//! as received) in short Matroska segments, each closed and synced before
//! it is declared. It declares a segment (`POST
//! /api/v1/terminal/recordings`, a [`SegmentMeta`]), then sends its bytes
//! from the offset the server reports (`PUT
//! /api/v1/terminal/recordings/{id}?offset=N`), asking again (`GET
//! /api/v1/terminal/recordings/{id}`) when it does not know where the
//! server is. The server checks the SHA-256 once it has every byte and
//! answers `complete: true` exactly when the segment is stored; only then
//! does the terminal remove its copy.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Whose stream a segment holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    /// The incarcerated person (the recording terminal's own camera and
    /// microphone, as sent).
    Person,
    /// A visitor (as received): a remote visitor's browser or the lobby
    /// terminal of an on-site visit.
    Visitor,
}

/// One closed segment of a visit's recording, declared before its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SegmentMeta {
    /// Made by the terminal when the segment was closed; the idempotency key.
    pub id: Uuid,
    /// The visit recorded.
    pub visit_id: Uuid,
    /// Whose stream.
    pub role: PartyRole,
    /// The participant's id in the call's signalling (`Welcome.you` for the
    /// terminal's own side, `PeerJoined.peer` for a visitor): a remote
    /// visitor's id, or the visit's id for an on-site visit's lobby seat.
    pub party: Uuid,
    /// Which recording of that party's stream: a new track starts when the
    /// media session is replaced (after a network cut) or the recorder
    /// restarts.
    pub track: u32,
    /// The segment's number within its track, from 0.
    pub index: u32,
    /// Wall-clock time (corrected by the terminal's known offset) of the
    /// segment's first frame. Kept to the millisecond (finer is dropped).
    pub started_at: DateTime<Utc>,
    /// Its length in milliseconds (0 when unknown: a segment cut short by a
    /// crash and recovered afterwards).
    pub duration_ms: u64,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes, lower-case hex.
    pub sha256: String,
    /// The container: always `video/x-matroska` today.
    pub media_type: String,
    /// False for a segment recovered after a crash (not closed by the
    /// recorder: playable up to where it was cut).
    #[serde(default = "yes")]
    pub closed: bool,
}

fn yes() -> bool {
    true
}

/// How much of a segment the server holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SegmentStatus {
    /// The segment.
    pub id: Uuid,
    /// Bytes received so far: the offset the next `PUT` starts at.
    pub received: u64,
    /// Every byte arrived and matched the declared SHA-256: the segment is
    /// stored, and the terminal may remove its copy.
    pub complete: bool,
}

/// The most bytes one `PUT` of a segment may carry.
pub const MAX_CHUNK_BYTES: usize = 4 * 1024 * 1024;
/// The largest segment a server accepts.
pub const MAX_SEGMENT_BYTES: u64 = 256 * 1024 * 1024;
