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
