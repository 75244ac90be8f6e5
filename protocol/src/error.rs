//! The error body every failed HTTP call returns.

use serde::{Deserialize, Serialize};

/// A machine-readable code plus a sentence a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable snake_case code, e.g. `not_approved` or `invalid_json`.
    pub error: String,
    /// What went wrong and what to do about it, in plain words.
    pub message: String,
}

/// The `error` codes a client acts on by code rather than by showing the
/// message. Clients must match these, never the message text, which is
/// for people and may change.
pub mod codes {
    /// A terminal's enrolment code was right but is past its expiry: ask
    /// the administrator for a new one (as opposed to `unauthorized`, a
    /// code that is wrong or already used).
    pub const ENROLMENT_CODE_EXPIRED: &str = "enrolment_code_expired";
    /// A recording segment's id was declared before with other contents.
    pub const SEGMENT_CONFLICT: &str = "segment_conflict";
    /// A segment's bytes were sent from another offset than the server's:
    /// ask where it is (`GET`) and go on from there.
    pub const SEGMENT_OFFSET: &str = "segment_offset";
    /// Every byte of a segment arrived but its SHA-256 differs from the
    /// declared one: the server dropped what it had; send it again from 0.
    pub const SEGMENT_HASH_MISMATCH: &str = "segment_hash_mismatch";
    /// The visit is confidential (or not this terminal's to record): it is
    /// never recorded; the terminal drops what it has of it.
    pub const RECORDING_REFUSED: &str = "recording_refused";
}
