//! What `visit-server demo` hands to `kiosk-app demo`: where the server is,
//! and the demo facility's codes and PINs. Demo data only; the file is
//! written readable by its owner alone.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{TerminalRole, VisitKind};

/// The demo facility, as a terminal needs to try it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoSummary {
    /// Base URL of the server, e.g. `http://127.0.0.1:8080`.
    pub server_url: String,
    /// Facility name.
    pub facility: String,
    /// IANA time zone of the facility.
    pub time_zone: String,
    /// Terminals with their one-time enrolment codes.
    pub terminals: Vec<DemoTerminal>,
    /// Booked visits with their PINs.
    pub visits: Vec<DemoVisit>,
}

/// A demo terminal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoTerminal {
    /// Where it stands.
    pub location: String,
    /// Lobby or unit.
    pub role: TerminalRole,
    /// One-time enrolment code.
    pub code: String,
}

/// A demo visit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoVisit {
    /// Visit id.
    pub id: Uuid,
    /// On-site or remote.
    pub kind: VisitKind,
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// The incarcerated person's initials.
    pub person: String,
    /// The PIN from the confirmation.
    pub pin: String,
    /// A remote visit's join link for its first visitor (what their
    /// confirmation carries); absent for on-site visits.
    #[serde(default)]
    pub join_url: Option<String>,
}
