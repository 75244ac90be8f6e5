//! Why a booking or an action was refused, in words a visitor understands.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A rule said no. The `Display` text is shown to the person who asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "Attorney/client visits are not held by video; please arrange an in-person legal visit."
    )]
    LegalVisit,
    #[error("A visit needs at least one visitor.")]
    NoVisitors,
    #[error("A visitor is listed twice.")]
    DuplicateVisitor,
    #[error("At most {max} visitors may join one visit.")]
    TooManyVisitors { max: u8 },
    #[error(
        "Visitor {visitor} has not had their photo ID verified; registration must be completed before booking."
    )]
    PhotoIdNotVerified { visitor: Uuid },
    #[error("Visitor {visitor} is not on this person's approved visitor list.")]
    NotApproved { visitor: Uuid },
    #[error("Visitor {visitor} is under a visiting restriction{}.", until.map(|u| format!(" until {}", u.format("%Y-%m-%d %H:%M UTC"))).unwrap_or_else(|| " with no end date".into()))]
    Sanctioned {
        visitor: Uuid,
        until: Option<DateTime<Utc>>,
    },
    #[error("This person may not have visits that include a minor.")]
    ChildContactRestricted,
    #[error("Visits must be booked at least {hours} hours ahead; the earliest bookable start is {earliest}.", hours = min_advance_minutes / 60, earliest = earliest.format("%Y-%m-%d %H:%M UTC"))]
    TooLateToBook {
        min_advance_minutes: u32,
        earliest: DateTime<Utc>,
    },
    #[error("That time is outside the facility's visiting hours for this kind of visit.")]
    OutsideHours,
    #[error(
        "Visits start on {block_minutes}-minute block boundaries; pick one of the offered times."
    )]
    NotOnBlockBoundary { block_minutes: u32 },
    #[error("The incarcerated person already has a visit at that time.")]
    PersonBusy,
    #[error("Visitor {visitor} already has a visit at that time.")]
    VisitorBusy { visitor: Uuid },
    #[error("Every lobby terminal is booked at that time.")]
    LobbyFull,
    #[error("This facility has no lobby terminals, so on-site visits cannot be booked.")]
    NoLobbyTerminals,
    #[error("No free PIN is left for that day; raise the facility's PIN length.")]
    NoPinAvailable,
    #[error("It is too early to join this call; it opens at {}.", opens.format("%H:%M UTC"))]
    TooEarlyToJoin { opens: DateTime<Utc> },
    #[error("The visit is {status} and can no longer be {action}.")]
    InvalidTransition {
        status: &'static str,
        action: &'static str,
    },
}

impl Refusal {
    /// Stable machine-readable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::LegalVisit => "legal_visit_not_by_video",
            Self::NoVisitors => "no_visitors",
            Self::DuplicateVisitor => "duplicate_visitor",
            Self::TooManyVisitors { .. } => "too_many_visitors",
            Self::PhotoIdNotVerified { .. } => "photo_id_not_verified",
            Self::NotApproved { .. } => "not_approved",
            Self::Sanctioned { .. } => "visitor_sanctioned",
            Self::ChildContactRestricted => "child_contact_restricted",
            Self::TooLateToBook { .. } => "too_late_to_book",
            Self::OutsideHours => "outside_visiting_hours",
            Self::NotOnBlockBoundary { .. } => "not_on_block_boundary",
            Self::PersonBusy => "person_busy",
            Self::VisitorBusy { .. } => "visitor_busy",
            Self::LobbyFull => "lobby_full",
            Self::NoLobbyTerminals => "no_lobby_terminals",
            Self::NoPinAvailable => "no_pin_available",
            Self::TooEarlyToJoin { .. } => "too_early_to_join",
            Self::InvalidTransition { .. } => "invalid_status_transition",
        }
    }
}
