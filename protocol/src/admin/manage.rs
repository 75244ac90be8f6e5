//! Editing records, lifting and revoking, rescheduling, free slots and the
//! review queues (approval requests, photo-ID checks).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{KindRules, Restriction};

/// `PATCH /api/v1/admin/facilities/{id}`: the fields to change; the others
/// stay. Changes apply to bookings made afterwards.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FacilityUpdate {
    /// Display name.
    pub name: Option<String>,
    /// Most visitors in one visit (1 to 10).
    pub max_visitors_per_visit: Option<u8>,
    /// On-site rules: hours, block length, advance and cancellation rules.
    pub onsite: Option<KindRules>,
    /// Remote rules.
    pub remote: Option<KindRules>,
    /// STUN/TURN servers handed to calls.
    pub ice_servers: Option<Vec<crate::signal::IceServer>>,
    /// Languages offered: a non-empty list of `en` and `es`.
    pub languages: Option<Vec<String>>,
    /// Whether staff administrators must use a second factor.
    pub require_totp_for_admins: Option<bool>,
    /// Days a visit's recording is kept after the visit ended (1 to 3650).
    #[serde(default)]
    pub recording_retention_days: Option<u32>,
}

/// `PATCH /api/v1/admin/persons/{id}`: the fields to change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PersonUpdate {
    /// Full name.
    pub name: Option<String>,
    /// The housing unit the person moves to (same facility).
    pub housing_unit_id: Option<Uuid>,
    /// The whole new list of restrictions.
    pub restrictions: Option<Vec<Restriction>>,
}

/// `PATCH /api/v1/admin/visitors/{id}`: the fields to change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VisitorUpdate {
    /// Full name.
    pub name: Option<String>,
    /// Where confirmations are sent.
    pub email: Option<String>,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
}

/// A reason given for a decision (lifting a sanction, denying a request or
/// a photo ID); the visitor is told when it concerns them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reason {
    /// Why, in words the visitor understands.
    pub reason: String,
}

/// `POST /api/v1/admin/visits/{id}/reschedule`: move a visit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reschedule {
    /// The new start; the booking rules apply to it.
    pub start: DateTime<Utc>,
}

/// A start time that may be booked now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FreeSlot {
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
}

/// Where an approval request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApprovalRequestStatus {
    /// Waiting for staff.
    Pending,
    /// The visitor was put on the approved list.
    Approved,
    /// Refused; the visitor was told why.
    Denied,
}

/// `POST /api/v1/admin/approval-requests`: ask for a visitor to be put on a
/// person's approved list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewApprovalRequest {
    /// The incarcerated person.
    pub person_id: Uuid,
    /// The visitor.
    pub visitor_id: Uuid,
}

/// A request to be on a person's approved list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalRequest {
    /// Id.
    pub id: Uuid,
    /// The incarcerated person.
    pub person_id: Uuid,
    /// The visitor.
    pub visitor_id: Uuid,
    /// Where it stands.
    pub status: ApprovalRequestStatus,
    /// Why it was denied.
    pub reason: Option<String>,
    /// When made.
    pub created_at: DateTime<Utc>,
    /// When decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Who decided.
    pub decided_by: Option<String>,
}

/// A pending request with what staff need to decide it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PendingApprovalRequest {
    /// The request.
    pub request: ApprovalRequest,
    /// The visitor's name.
    pub visitor_name: String,
    /// The visitor's date of birth.
    pub visitor_date_of_birth: NaiveDate,
    /// Whether the visitor's photo ID is verified.
    pub visitor_photo_id_verified: bool,
    /// Why the visitor's photo ID was refused, if it was.
    pub visitor_photo_id_denied_reason: Option<String>,
    /// The person's name.
    pub person_name: String,
    /// The person's number.
    pub person_number: String,
}

/// An admin token as listed: never its secret or hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminToken {
    /// Id.
    pub id: Uuid,
    /// Who holds it.
    pub name: String,
    /// When made.
    pub created_at: DateTime<Utc>,
    /// When revoked; a revoked token is refused.
    pub revoked_at: Option<DateTime<Utc>>,
}
