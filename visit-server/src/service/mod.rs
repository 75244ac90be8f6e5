//! Operations on the database that enforce the facility's rules.
//!
//! Each function takes a connection and a [`Ctx`] (keys, "now", who is
//! acting), does its work in one transaction and returns wire types or a
//! typed [`Error`]. The HTTP API and the CLI are thin layers over these.

pub mod admin_tokens;
pub mod approvals;
pub mod audit;
pub mod board;
pub mod booking;
pub mod browser_tokens;
pub mod calls;
pub mod confidential;
pub mod console_admin;
pub mod console_queries;
pub mod directory;
pub mod events;
pub mod facilities;
pub mod join_tokens;
pub mod letters;
pub mod outbox;
pub mod people;
pub mod photos;
pub mod recordings;
pub mod records;
pub mod reschedule;
pub mod sanctions;
pub mod schedule;
pub mod sessions;
pub mod slots;
pub mod staff;
pub mod terminals;
pub mod visits;

use chrono::{DateTime, Utc};
use rusqlite::types::Type;
use uuid::Uuid;

use crate::domain::Refusal;
use crate::keys::Keys;

/// Who acts, with which keys, at what time.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub keys: &'a Keys,
    pub now: DateTime<Utc>,
    /// Recorded in visit history: `admin:<name>`, `terminal:<id>`, `clock`.
    pub actor: &'a str,
}

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A facility rule said no.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The id does not name anything.
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    /// A value is malformed or out of range.
    #[error("{0}")]
    Invalid(String),
    /// It exists already, or clashes with something that does.
    #[error("{0}")]
    Conflict(String),
    /// Credentials missing, wrong or expired.
    #[error("{0}")]
    Unauthorized(String),
    /// An enrolment code that was right but is past its expiry: told apart
    /// from [`Error::Unauthorized`] so the terminal can say "ask for a new
    /// code" rather than "check the code".
    #[error("this enrolment code has expired; ask the administrator for a new one")]
    EnrolmentCodeExpired,
    /// The caller is authenticated but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// A recording segment's id, or its place in the visit (party, track,
    /// index), was declared before with other contents.
    #[error("{0}")]
    SegmentConflict(String),
    /// A segment's bytes sent from another offset than the server holds.
    #[error("the server holds {received} bytes of this segment; send from offset {received}")]
    SegmentOffset { received: u64 },
    /// Every byte of a segment arrived but they do not match its SHA-256.
    #[error(
        "the segment's bytes do not match its declared SHA-256; the server dropped them: send it again from offset 0"
    )]
    SegmentHashMismatch,
    /// The visit is not to be recorded (confidential), or not by this terminal.
    #[error("{0}")]
    RecordingRefused(String),
    /// Not enough room left where recordings are kept: try again later
    /// (the terminal keeps its copy); the server's operator must act.
    #[error("{0}")]
    StorageFull(String),
    #[error("database error: {0}")]
    Db(#[from] rusqlite::Error),
    /// A fault of ours outside the database (a service call panicked); it
    /// is logged where it happened.
    #[error("the service call failed")]
    Internal,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        Error::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

/// Which rows of a list: `limit` (default 50, at most 200) from `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub offset: u32,
}

impl Page {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 200;

    /// The page asked for; a limit above the maximum is cut to it.
    pub fn new(limit: Option<u32>, offset: Option<u32>) -> Self {
        Page {
            limit: limit.unwrap_or(Self::DEFAULT_LIMIT).min(Self::MAX_LIMIT),
            offset: offset.unwrap_or(0),
        }
    }
}

impl Default for Page {
    fn default() -> Self {
        Page::new(None, None)
    }
}

/// A caller tied to one facility (`scope`) sees only that facility's rows:
/// anything else answers "does not exist", as if it did not.
pub fn in_scope(
    scope: Option<Uuid>,
    facility_id: Uuid,
    what: &'static str,
    id: impl ToString,
) -> Result<()> {
    match scope {
        Some(s) if s != facility_id => Err(Error::not_found(what, id)),
        _ => Ok(()),
    }
}

/// A `LIKE` pattern matching `q` anywhere, with `%`, `_` and `\` escaped
/// (use with `ESCAPE '\'`); SQLite's `LIKE` ignores ASCII case.
pub(crate) fn contains_pattern(q: &str) -> String {
    let mut out = String::from("%");
    for c in q.trim().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Read a UUID stored as text.
pub(crate) fn uuid_at(row: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<Uuid> {
    let s: String = row.get(idx)?;
    Uuid::parse_str(&s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, e.into()))
}

/// Read an optional UUID stored as text.
pub(crate) fn opt_uuid_at(row: &rusqlite::Row<'_>, idx: usize) -> rusqlite::Result<Option<Uuid>> {
    let s: Option<String> = row.get(idx)?;
    s.map(|s| Uuid::parse_str(&s))
        .transpose()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, e.into()))
}

/// Read a JSON column.
pub(crate) fn json_at<T: serde::de::DeserializeOwned>(
    row: &rusqlite::Row<'_>,
    idx: usize,
) -> rusqlite::Result<T> {
    let s: String = row.get(idx)?;
    serde_json::from_str(&s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_matches_itself_only_and_pages_are_bounded() {
        assert_eq!(contains_pattern(" 50%_off "), "%50\\%\\_off%");
        assert_eq!(contains_pattern(""), "%%");
        assert_eq!(
            Page::new(None, None),
            Page {
                limit: 50,
                offset: 0
            }
        );
        assert_eq!(Page::new(Some(10_000), Some(7)).limit, 200);
    }
}
