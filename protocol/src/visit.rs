//! Vocabulary shared by every message: visit kinds, statuses, terminal roles.

use serde::{Deserialize, Serialize};

/// Where the visitor sits during the visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    /// The visitor uses a lobby terminal at the facility (free, 2-hour blocks by default).
    Onsite,
    /// The visitor joins from their own device (paid, 30-minute blocks by default).
    Remote,
}

/// The life of a visit, as the family and staff see it.
///
/// `Scheduled -> Pending -> Ready -> InProgress -> Ended`, with `Terminated`,
/// `Cancelled` and `NoShow` as the other ways a visit can finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VisitStatus {
    /// Booked; the start time has not come yet.
    Scheduled,
    /// The start time has come; waiting for the incarcerated person to sign in.
    Pending,
    /// The incarcerated person has signed in; the visitor may join.
    Ready,
    /// Both sides are connected.
    InProgress,
    /// The visit ran until its scheduled end or a party hung up.
    Ended,
    /// Staff ended the visit early for a rule violation.
    Terminated,
    /// The visitor or the facility cancelled before the visit took place.
    Cancelled,
    /// The block ended without the visit ever starting.
    NoShow,
}

impl VisitStatus {
    /// True once nothing more can happen to the visit.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Ended | Self::Terminated | Self::Cancelled | Self::NoShow
        )
    }
}

/// What a terminal is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TerminalRole {
    /// A monitor in the public lobby where visitors check in with their PIN.
    Lobby,
    /// A terminal in a housing unit used by incarcerated people.
    Unit,
}
