//! The terminal API: enrolment, the day schedule, events and heartbeats.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::visit::{TerminalRole, VisitKind, VisitStatus};

/// `POST /api/v1/terminal/enrol`: a technician typed the one-time code.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolRequest {
    /// The one-time enrolment code shown when the terminal was registered.
    pub code: String,
    /// The terminal's software version, for the record.
    pub software_version: String,
}

/// The terminal's identity and the credential for every later call.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrolResponse {
    /// This terminal's id.
    pub terminal_id: Uuid,
    /// The facility the terminal belongs to.
    pub facility_id: Uuid,
    /// What the terminal is for.
    pub role: TerminalRole,
    /// Where it stands, e.g. "Lobby monitor 2".
    pub location: String,
    /// Bearer credential; the server keeps only its hash, so store it safely.
    pub credential: String,
}

/// `GET /api/v1/terminal/schedule`: what a terminal needs to work offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Schedule {
    /// Same value as the `ETag` header; send it back as `If-None-Match`.
    pub version: String,
    /// Server time when this schedule was built.
    pub generated_at: DateTime<Utc>,
    /// The facility and its join policy.
    pub facility: ScheduleFacility,
    /// Today and tomorrow in the facility's time zone, in that order.
    pub days: Vec<ScheduleDay>,
    /// The persons of the terminal's housing unit, with what is needed to
    /// check their sign-in PIN offline. Unit terminals only: a lobby
    /// terminal always gets an empty list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub persons: Vec<SchedulePerson>,
}

/// An incarcerated person as their housing unit's terminal knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SchedulePerson {
    /// Person id, as in [`ScheduledVisit::person_id`].
    pub id: Uuid,
    /// The facility's number for the person, e.g. `A-1001`; typed at sign-in
    /// as its digits.
    pub number: String,
    /// How the screen greets them, e.g. "James S.".
    pub display: String,
    /// The sign-in PIN's verifier: an Argon2id hash in PHC string format
    /// (salted, parameters inside). Never the PIN itself.
    pub pin_verifier: String,
}

/// The facility part of a schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleFacility {
    /// Facility id.
    pub id: Uuid,
    /// Name shown on the attract screen.
    pub name: String,
    /// IANA time zone, e.g. `America/Chicago`.
    pub time_zone: String,
    /// Number of digits in a visit PIN.
    pub pin_length: u8,
    /// Join windows per kind of visit.
    pub policies: Vec<JoinPolicy>,
}

/// How early each side may join a kind of visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JoinPolicy {
    /// The kind of visit this applies to.
    pub kind: VisitKind,
    /// Minutes before the start a visitor may check in or join.
    pub visitor_early_minutes: u32,
    /// Minutes before the start the incarcerated person may join.
    pub person_early_minutes: u32,
}

/// One local calendar day of the schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleDay {
    /// The facility-local date.
    pub date: NaiveDate,
    /// Key for this day's PIN verifiers (base64url, no padding). A verifier
    /// is `HMAC-SHA256(key, pin)` in base64url; the key changes every day.
    pub pin_key: String,
    /// The visits of this day this terminal may see, ordered by start.
    pub visits: Vec<ScheduledVisit>,
}

/// A visit as a terminal sees it: no more personal data than the screen needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduledVisit {
    /// Visit id.
    pub id: Uuid,
    /// On-site or remote.
    pub kind: VisitKind,
    /// Scheduled start.
    pub start: DateTime<Utc>,
    /// Scheduled end; the visit is never extended past it.
    pub end: DateTime<Utc>,
    /// Status when the schedule was built.
    pub status: VisitStatus,
    /// The incarcerated person as this terminal may show them ("J. S." in a lobby).
    pub person_display: String,
    /// The visitors as this terminal may show them.
    pub visitor_display: Vec<String>,
    /// Offline PIN check: `HMAC-SHA256(day pin_key, pin)`, base64url.
    pub pin_verifier: String,
    /// The incarcerated person's id (unit terminals only; see
    /// [`Schedule::persons`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<Uuid>,
    /// A visitor has checked in at a lobby terminal for this visit (on-site
    /// visits; always false for remote ones).
    #[serde(default)]
    pub visitor_checked_in: bool,
    /// A confidential visit (e.g. with clergy, as the facility decides):
    /// never recorded or monitored; the screens say so.
    #[serde(default)]
    pub confidential: bool,
}

/// One thing that happened at a terminal, posted with a client-made id so that
/// posting it twice is harmless.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TerminalEvent {
    /// Made by the terminal when the event happened; the idempotency key.
    pub id: Uuid,
    /// The terminal's clock when it happened (corrected by its known offset).
    pub occurred_at: DateTime<Utc>,
    /// The visit it concerns.
    pub visit_id: Uuid,
    /// What happened.
    pub event: TerminalEventKind,
}

/// What happened at a terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TerminalEventKind {
    /// A visitor typed a matching PIN at a lobby terminal.
    CheckIn,
    /// The incarcerated person signed in at a unit terminal for this visit.
    SignIn {
        /// The person's number as typed.
        person_number: String,
    },
    /// Media is flowing both ways.
    CallStarted,
    /// The call was interrupted (network, device) and is being re-established.
    CallInterrupted {
        /// Why, in a few words.
        reason: String,
    },
    /// The call came back after an interruption.
    CallRecovered,
    /// The call ended at this terminal.
    CallEnded {
        /// Why: `time_expired`, `hung_up`, ...
        reason: String,
    },
    /// The terminal started recording the visit (the first segment of a
    /// track is open).
    RecordingStarted,
    /// The terminal could not record, or stopped recording, part of the
    /// visit: the call went on.
    RecordingProblem {
        /// Why, in a few words (`disk_full`, `recorder_failed: ...`).
        reason: String,
    },
}

/// `POST /api/v1/terminal/events`: a batch from the terminal's outbox, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventBatch {
    /// At most 500 events.
    pub events: Vec<TerminalEvent>,
}

/// The server's answer to each event in a batch, in the same order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventBatchResult {
    /// One entry per posted event. Every listed event is acknowledged: the
    /// terminal may delete it from its outbox whatever the outcome.
    pub results: Vec<EventResult>,
}

/// The outcome of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventResult {
    /// The event's id.
    pub id: Uuid,
    /// What the server did with it.
    pub outcome: EventOutcome,
    /// The visit's status after the event, when the visit is known.
    pub visit_status: Option<VisitStatus>,
}

/// What the server did with an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventOutcome {
    /// Recorded and applied to the visit.
    Applied,
    /// This id was already recorded; nothing changed.
    Duplicate,
    /// Recorded but not applied, with the reason (e.g. the visit was cancelled).
    Refused {
        /// Why, in plain words.
        reason: String,
    },
}

/// `POST /api/v1/terminal/photos`: the still taken when a person signed in
/// at a unit terminal, queued like an event and posted with a client-made id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInPhoto {
    /// Made by the terminal when the photo was taken; the idempotency key.
    pub id: Uuid,
    /// When it was taken (the terminal's corrected clock). The server
    /// attaches it to the person's visits of that facility-local day.
    pub taken_at: DateTime<Utc>,
    /// The number of the person who signed in, e.g. `A-1001`.
    pub person_number: String,
    /// The JPEG, base64 (standard alphabet, padded). At most 200 KiB decoded.
    pub jpeg: String,
}

/// What the server did with a sign-in photo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInPhotoResult {
    /// The photo's id.
    pub id: Uuid,
    /// Stored, or already stored (a retry).
    pub outcome: EventOutcome,
    /// The visits whose history now shows it.
    pub visits: Vec<Uuid>,
}

/// `POST /api/v1/terminal/heartbeat`: the terminal is alive, and how it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Heartbeat {
    /// Software version running on the terminal.
    pub software_version: String,
    /// Seconds since the terminal program started.
    pub uptime_secs: u64,
    /// The terminal's own clock, to estimate its offset.
    pub terminal_time: DateTime<Utc>,
    /// Events still waiting in the terminal's outbox.
    pub outbox_pending: u32,
    /// State of each device the terminal depends on.
    pub devices: Vec<DeviceHealth>,
    /// Recording segments waiting to be uploaded (a backlog the console
    /// shows: the terminal never deletes what the server does not have).
    #[serde(default)]
    pub recordings_pending: u32,
    /// Their size in bytes.
    #[serde(default)]
    pub recordings_pending_bytes: u64,
    /// Free bytes on the terminal's data partition, where the segments wait.
    #[serde(default)]
    pub data_free_bytes: Option<u64>,
}

/// The health of one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceHealth {
    /// `camera`, `microphone`, `speaker`, `touchscreen`, `disk`...
    pub device: String,
    /// Whether it works.
    pub state: DeviceState,
    /// Optional detail for support, e.g. the device name or the error.
    pub detail: Option<String>,
}

/// Whether a device works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// Present and working.
    Ok,
    /// Working but degraded (e.g. lower resolution than expected).
    Degraded,
    /// Not found.
    Missing,
    /// Present but failing.
    Failed,
}

/// The server's answer to a heartbeat.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeartbeatAck {
    /// Server time when the heartbeat was handled; the terminal uses it to
    /// estimate its clock offset.
    pub server_time: DateTime<Utc>,
}

/// A housing-unit terminal's short-lived token that lets a browser on that
/// terminal be the person's side of one visit (the web page in person
/// mode, as a browser-based kiosk would run it). Valid until the visit's
/// end, and only while the terminal keeps its credential.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BrowserToken {
    /// The token, for the page's `?token=` (never logged).
    pub token: String,
    /// When it stops working (the visit's end).
    pub expires_at: DateTime<Utc>,
    /// The page to open, token included (relative to the server).
    pub page: String,
}
