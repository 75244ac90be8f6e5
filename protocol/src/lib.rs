//! Wire types shared by the visitation terminals and `visit-server`.
//!
//! Everything that crosses the network between a terminal, the server and an
//! administrator's tools is defined here and only here, so both ends agree by
//! construction. These are serde types and nothing more: the server and the
//! terminal keep their own domain types and convert at the edge, which lets
//! either side change its internals without changing the wire.
//!
//! Times on the wire are UTC (RFC 3339); calendar dates are the facility's
//! local dates (`YYYY-MM-DD`), because "today" at a jail is the jail's today.

pub mod admin;
pub mod demo;
pub mod error;
pub mod recording;
pub mod signal;
pub mod terminal;
pub mod visit;

pub use error::ErrorBody;
pub use visit::{TerminalRole, VisitKind, VisitStatus};

/// The path prefix of version 1 of the HTTP API.
pub const API_V1: &str = "/api/v1";
