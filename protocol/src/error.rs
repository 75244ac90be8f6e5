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
}
