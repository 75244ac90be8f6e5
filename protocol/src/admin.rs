//! The administrator API: facilities, people, approvals, visits, sanctions.
//! Searching, editing and the review queues are in [`manage`], re-exported here.

mod manage;
pub use manage::*;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::visit::{TerminalRole, VisitKind, VisitStatus};

/// A local time range within a day, `"08:00"` to `"17:30"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeRange {
    /// Start, `HH:MM`, facility-local.
    pub start: String,
    /// End, `HH:MM`, facility-local; a visit must end by then.
    pub end: String,
}

/// Bookable hours for each weekday; a missing day means no visits that day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeeklyHours {
    /// Monday.
    #[serde(default)]
    pub mon: Vec<TimeRange>,
    /// Tuesday.
    #[serde(default)]
    pub tue: Vec<TimeRange>,
    /// Wednesday.
    #[serde(default)]
    pub wed: Vec<TimeRange>,
    /// Thursday.
    #[serde(default)]
    pub thu: Vec<TimeRange>,
    /// Friday.
    #[serde(default)]
    pub fri: Vec<TimeRange>,
    /// Saturday.
    #[serde(default)]
    pub sat: Vec<TimeRange>,
    /// Sunday.
    #[serde(default)]
    pub sun: Vec<TimeRange>,
}

/// The rules for one kind of visit at a facility.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KindRules {
    /// Length of a visit; starts fall on multiples of it from the start of a range.
    pub block_minutes: u32,
    /// Bookable hours.
    pub hours: WeeklyHours,
    /// How long before the start a visit must be booked.
    pub min_advance_minutes: u32,
    /// A visitor's cancellation at least this long before the start gets credit.
    pub cancel_credit_minutes: u32,
    /// How early the visitor may join.
    pub visitor_early_minutes: u32,
    /// How early the incarcerated person may join.
    pub person_early_minutes: u32,
    /// Price of one block in cents (0 for free visits).
    pub price_cents: u32,
}

/// `POST /api/v1/admin/facilities`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewFacility {
    /// Display name.
    pub name: String,
    /// IANA time zone, e.g. `America/Chicago`.
    pub time_zone: String,
    /// Digits in a visit PIN (4 to 10); default 6.
    pub pin_length: Option<u8>,
    /// Most visitors in one visit; default 3.
    pub max_visitors_per_visit: Option<u8>,
    /// On-site rules; default: the state policy's 2-hour blocks and the county jail's hours.
    pub onsite: Option<KindRules>,
    /// Remote rules; default: 30-minute blocks at $7.95 and the county jail's hours.
    pub remote: Option<KindRules>,
    /// STUN/TURN servers handed to calls; default none (host candidates only).
    #[serde(default)]
    pub ice_servers: Vec<crate::signal::IceServer>,
}

/// A facility and its rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Facility {
    /// Id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// IANA time zone.
    pub time_zone: String,
    /// Digits in a visit PIN.
    pub pin_length: u8,
    /// Most visitors in one visit.
    pub max_visitors_per_visit: u8,
    /// On-site rules.
    pub onsite: KindRules,
    /// Remote rules.
    pub remote: KindRules,
    /// STUN/TURN servers handed to calls.
    pub ice_servers: Vec<crate::signal::IceServer>,
    /// Languages offered to visitors and on terminals (`en`, `es`).
    #[serde(default)]
    pub languages: Vec<String>,
    /// Whether staff administrators must sign in with a second factor.
    #[serde(default)]
    pub require_totp_for_admins: bool,
    /// Days a visit's recording is kept after the visit ended.
    #[serde(default = "default_retention_days")]
    pub recording_retention_days: u32,
}

fn default_retention_days() -> u32 {
    90
}

/// `POST /api/v1/admin/facilities/{id}/housing-units`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewHousingUnit {
    /// Name, unique within the facility, e.g. "Pod B".
    pub name: String,
}

/// A housing unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HousingUnit {
    /// Id.
    pub id: Uuid,
    /// Facility.
    pub facility_id: Uuid,
    /// Name.
    pub name: String,
}

/// `POST /api/v1/admin/facilities/{id}/terminals`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewTerminal {
    /// Lobby or unit.
    pub role: TerminalRole,
    /// Where it stands, e.g. "Lobby monitor 2".
    pub location: String,
    /// The housing unit, required for unit terminals.
    pub housing_unit_id: Option<Uuid>,
}

/// A terminal as administrators see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Terminal {
    /// Id.
    pub id: Uuid,
    /// Facility.
    pub facility_id: Uuid,
    /// Lobby or unit.
    pub role: TerminalRole,
    /// Where it stands.
    pub location: String,
    /// Housing unit of a unit terminal.
    pub housing_unit_id: Option<Uuid>,
    /// When it last enrolled, if ever.
    pub enrolled_at: Option<DateTime<Utc>>,
    /// Last heartbeat or call.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Software version from the last heartbeat.
    pub software_version: Option<String>,
    /// Devices from the last heartbeat.
    pub devices: Vec<crate::terminal::DeviceHealth>,
    /// Whether it sent a heartbeat within the last two minutes.
    #[serde(default)]
    pub online: bool,
    /// Events waiting in its outbox, from the last heartbeat.
    #[serde(default)]
    pub outbox_pending: Option<u32>,
    /// Recording segments waiting on it to be uploaded, from the last
    /// heartbeat.
    #[serde(default)]
    pub recordings_pending: Option<u32>,
    /// Their size in bytes.
    #[serde(default)]
    pub recordings_pending_bytes: Option<u64>,
    /// Since when its heartbeats have reported a recording backlog (none
    /// while it reports none).
    #[serde(default)]
    pub recordings_pending_since: Option<DateTime<Utc>>,
    /// Free bytes on its data partition, from the last heartbeat.
    #[serde(default)]
    pub data_free_bytes: Option<u64>,
    /// When an administrator revoked it; a revoked terminal is refused
    /// until it enrols again.
    #[serde(default)]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A one-time enrolment code for a terminal. Shown once; only its hash is kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolmentCode {
    /// The terminal.
    pub terminal: Terminal,
    /// The code a technician types at the terminal.
    pub code: String,
    /// After this the code no longer works.
    pub expires_at: DateTime<Utc>,
}

/// A restriction on an incarcerated person's visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Restriction {
    /// No visit may include a visitor under 18.
    NoChildContact,
}

/// `POST /api/v1/admin/facilities/{id}/persons`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewPerson {
    /// The person's number, unique within the facility.
    pub number: String,
    /// Full name.
    pub name: String,
    /// Where the person is housed.
    pub housing_unit_id: Uuid,
    /// Sign-in PIN for unit terminals (digits); only a hash is kept.
    pub pin: String,
    /// Restrictions, e.g. no child contact.
    #[serde(default)]
    pub restrictions: Vec<Restriction>,
}

/// An incarcerated person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    /// Id.
    pub id: Uuid,
    /// Facility.
    pub facility_id: Uuid,
    /// Number.
    pub number: String,
    /// Full name.
    pub name: String,
    /// Housing unit.
    pub housing_unit_id: Uuid,
    /// Restrictions.
    pub restrictions: Vec<Restriction>,
}

/// `POST /api/v1/admin/visitors`: a registered visitor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewVisitor {
    /// Full name.
    pub name: String,
    /// Where confirmations are sent.
    pub email: String,
    /// Date of birth, to know who is a minor.
    pub date_of_birth: NaiveDate,
    /// Whether staff checked the photo and government ID.
    pub photo_id_verified: bool,
}

/// A registered visitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Visitor {
    /// Id.
    pub id: Uuid,
    /// Full name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Photo ID checked.
    pub photo_id_verified: bool,
    /// Why staff refused the photo ID, if they did (the visitor was told).
    #[serde(default)]
    pub photo_id_denied_reason: Option<String>,
}

/// `POST /api/v1/admin/visitors/{id}/photo-id`: record the result of an ID check.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhotoIdCheck {
    /// Whether the photo and ID were verified.
    pub verified: bool,
}

/// `POST /api/v1/admin/approvals`: put a visitor on a person's approved list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewApproval {
    /// The incarcerated person.
    pub person_id: Uuid,
    /// The visitor.
    pub visitor_id: Uuid,
}

/// An entry of an approved-visitor list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Approval {
    /// The incarcerated person.
    pub person_id: Uuid,
    /// The visitor.
    pub visitor_id: Uuid,
    /// When approved.
    pub approved_at: DateTime<Utc>,
}

/// Why a visit is requested; only social visits may use video.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VisitPurpose {
    /// Family and friends.
    #[default]
    Social,
    /// Attorney/client; these stay in-person visits.
    Legal,
}

/// `POST /api/v1/admin/visits`: book a visit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewVisit {
    /// The incarcerated person.
    pub person_id: Uuid,
    /// The visitors; the first receives the confirmation.
    pub visitor_ids: Vec<Uuid>,
    /// On-site or remote.
    pub kind: VisitKind,
    /// Start; the end follows from the facility's block length.
    pub start: DateTime<Utc>,
    /// Social (default) or legal.
    #[serde(default)]
    pub purpose: VisitPurpose,
}

/// Whether and how a visit is paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Charge {
    /// Free (on-site).
    Free,
    /// Charged at booking.
    Charged,
    /// Cancelled early enough: the price was credited back.
    Credited,
    /// Cancelled by the visitor too late: no credit.
    Forfeited,
    /// Cancelled by the facility: never charged.
    Waived,
}

/// A visit as administrators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Visit {
    /// Id.
    pub id: Uuid,
    /// Facility.
    pub facility_id: Uuid,
    /// The incarcerated person.
    pub person_id: Uuid,
    /// The visitors.
    pub visitor_ids: Vec<Uuid>,
    /// On-site or remote.
    pub kind: VisitKind,
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// Facility-local date of the start.
    pub local_date: NaiveDate,
    /// Current status.
    pub status: VisitStatus,
    /// Price in cents.
    pub price_cents: u32,
    /// Payment state.
    pub charge: Charge,
    /// Confidential (e.g. with clergy, as the facility decides): never
    /// recorded or monitored.
    #[serde(default)]
    pub confidential: bool,
}

/// The answer to a booking: the PIN appears here and in the confirmation, never again.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookedVisit {
    /// The visit.
    pub visit: Visit,
    /// The PIN to type at the lobby monitor.
    pub pin: String,
    /// Remote visits: each visitor's join token, shown only here and in
    /// their confirmation (the link is `{public_url}/join/{visit}?token=`).
    #[serde(default)]
    pub join_tokens: Vec<JoinToken>,
}

/// A remote visitor's own join token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JoinToken {
    /// Whose it is.
    pub visitor_id: Uuid,
    /// The token (secret).
    pub token: String,
}

/// One line of a visit's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    /// When the server recorded it.
    pub at: DateTime<Utc>,
    /// What happened, e.g. `booked`, `status`, `check_in`, `terminated`.
    pub event: String,
    /// Status before, when it changed.
    pub from_status: Option<VisitStatus>,
    /// Status after, when it changed.
    pub to_status: Option<VisitStatus>,
    /// Who: `admin:<token name>`, `terminal:<id>`, `clock`.
    pub actor: String,
    /// Details (reasons, terminal time, statistics).
    pub detail: serde_json::Value,
}

/// A visit with its full history.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitRecord {
    /// The visit.
    pub visit: Visit,
    /// Everything that happened to it, oldest first.
    pub history: Vec<HistoryEntry>,
}

/// Who cancels a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CancelledBy {
    /// The visitor: credit only when early enough.
    Visitor,
    /// The facility: never charged, and the visitor is notified.
    Facility,
}

/// `POST /api/v1/admin/visits/{id}/cancel`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CancelVisit {
    /// Who cancels.
    pub by: CancelledBy,
    /// Why, for the record and the notification.
    pub reason: String,
}

/// `POST /api/v1/admin/visits/{id}/terminate`: staff end a visit for a violation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TerminateVisit {
    /// The violation, shown to both sides.
    pub reason: String,
}

/// `POST /api/v1/admin/sanctions`: sanction a visitor for a violation.
/// The first offense restricts visits for 90 days, the second permanently.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewSanction {
    /// The visitor.
    pub visitor_id: Uuid,
    /// The violation.
    pub reason: String,
    /// The visit where it happened, if any.
    pub visit_id: Option<Uuid>,
}

/// A sanction; the history is kept even after it ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sanction {
    /// Id.
    pub id: Uuid,
    /// The visitor.
    pub visitor_id: Uuid,
    /// 1 for the first offense, 2 for the second...
    pub offense: u32,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End; `null` means permanent.
    pub ends_at: Option<DateTime<Utc>>,
    /// The violation.
    pub reason: String,
    /// The visit where it happened.
    pub visit_id: Option<Uuid>,
    /// Future visits of the visitor cancelled because of it.
    pub cancelled_visits: Vec<Uuid>,
    /// When staff lifted it early, if they did; it restricts nothing after.
    #[serde(default)]
    pub lifted_at: Option<DateTime<Utc>>,
    /// Who lifted it.
    #[serde(default)]
    pub lifted_by: Option<String>,
    /// Why it was lifted.
    #[serde(default)]
    pub lift_reason: Option<String>,
}

/// A message waiting in, or sent from, the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxMessage {
    /// Id.
    pub id: Uuid,
    /// `confirmation` or `cancellation`.
    pub kind: String,
    /// The visit it is about.
    pub visit_id: Option<Uuid>,
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Body. A PIN is never shown here: it is kept sealed until sent by mail.
    pub body: String,
    /// When queued.
    pub created_at: DateTime<Utc>,
    /// When handed to the mail server, if it was.
    pub sent_at: Option<DateTime<Utc>>,
    /// The last delivery error, if any.
    pub last_error: Option<String>,
}
