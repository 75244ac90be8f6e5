//! Terminals: registration, one-time enrolment codes, credentials, heartbeats.
//!
//! An administrator registers a terminal and gets a one-time code; a
//! technician types it on the device, which trades it for a long random
//! credential. Both are stored only as keyed hashes.

use chrono::{DateTime, Duration, Utc};
use protocol::TerminalRole;
use protocol::admin::{EnrolmentCode, NewTerminal, Terminal};
use protocol::terminal::{EnrolRequest, EnrolResponse, Heartbeat, HeartbeatAck};
use rand::Rng;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{Ctx, Error, Page, Result, facilities, json_at, opt_uuid_at, uuid_at};
use crate::db::{from_ts, ts};
use crate::keys::random_token;

/// A terminal is online when its last heartbeat is at most this old.
pub const ONLINE_WINDOW: Duration = Duration::minutes(2);

/// How long an enrolment code works.
pub const ENROLMENT_CODE_LIFETIME: Duration = Duration::hours(72);

/// An authenticated terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalIdentity {
    pub id: Uuid,
    pub facility_id: Uuid,
    pub role: TerminalRole,
    pub housing_unit_id: Option<Uuid>,
}

fn role_db(role: TerminalRole) -> &'static str {
    match role {
        TerminalRole::Lobby => "lobby",
        TerminalRole::Unit => "unit",
    }
}

fn role_from_db(s: &str) -> TerminalRole {
    if s == "unit" {
        TerminalRole::Unit
    } else {
        TerminalRole::Lobby
    }
}

/// 12 digits in groups of four: easy to type on a touchscreen keypad.
fn new_code() -> String {
    let mut rng = rand::rng();
    let digits: String = (0..12)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect();
    format!("{}-{}-{}", &digits[0..4], &digits[4..8], &digits[8..12])
}

/// Codes are compared on their digits only, so dashes and spaces do not matter.
fn normalise_code(code: &str) -> String {
    code.chars().filter(char::is_ascii_digit).collect()
}

pub fn create(
    conn: &Connection,
    ctx: &Ctx<'_>,
    facility_id: Uuid,
    req: &NewTerminal,
) -> Result<EnrolmentCode> {
    facilities::get(conn, facility_id)?;
    let location = req.location.trim();
    if location.is_empty() {
        return Err(Error::Invalid(
            "a terminal needs a location label, e.g. 'Lobby monitor 2'".into(),
        ));
    }
    match (req.role, req.housing_unit_id) {
        (TerminalRole::Unit, None) => {
            return Err(Error::Invalid(
                "a unit terminal needs housing_unit_id".into(),
            ));
        }
        (TerminalRole::Lobby, Some(_)) => {
            return Err(Error::Invalid(
                "a lobby terminal has no housing unit".into(),
            ));
        }
        (_, Some(unit)) => {
            if facilities::housing_unit_facility(conn, unit)? != facility_id {
                return Err(Error::Invalid(
                    "the housing unit belongs to another facility".into(),
                ));
            }
        }
        (TerminalRole::Lobby, None) => {}
    }
    let id = Uuid::new_v4();
    conn.execute(
        "INSERT INTO terminals (id, facility_id, role, location, housing_unit_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id.to_string(),
            facility_id.to_string(),
            role_db(req.role),
            location,
            req.housing_unit_id.map(|u| u.to_string()),
            ts(ctx.now)
        ],
    )?;
    // A lobby terminal adds on-site capacity, which terminals do not show,
    // but a unit terminal's arrival changes nothing either: no schedule bump.
    tracing::info!(facility_id = %facility_id, terminal_id = %id, role = role_db(req.role), actor = ctx.actor, "terminal registered");
    new_enrolment_code(conn, ctx, id)
}

/// Issue a fresh one-time code for (re-)enrolling a terminal. The terminal's
/// current credential keeps working until the code is used.
pub fn new_enrolment_code(
    conn: &Connection,
    ctx: &Ctx<'_>,
    terminal_id: Uuid,
) -> Result<EnrolmentCode> {
    let code = new_code();
    let expires_at = ctx.now + ENROLMENT_CODE_LIFETIME;
    let n = conn.execute(
        "UPDATE terminals SET enrolment_code_hash = ?2, enrolment_expires_at = ?3 WHERE id = ?1",
        params![
            terminal_id.to_string(),
            ctx.keys.secret_hash("enrol", &normalise_code(&code)),
            ts(expires_at)
        ],
    )?;
    if n == 0 {
        return Err(Error::not_found("terminal", terminal_id));
    }
    tracing::info!(terminal_id = %terminal_id, expires_at = %expires_at, actor = ctx.actor, "enrolment code issued");
    Ok(EnrolmentCode {
        terminal: get(conn, terminal_id, ctx.now)?,
        code,
        expires_at,
    })
}

/// Trade a one-time code for a credential.
pub fn enrol(conn: &mut Connection, ctx: &Ctx<'_>, req: &EnrolRequest) -> Result<EnrolResponse> {
    let digits = normalise_code(&req.code);
    let wrong = || {
        Error::Unauthorized(
            "this enrolment code is not valid; check it, or ask for a new one".into(),
        )
    };
    if digits.len() != 12 {
        return Err(wrong());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let row = tx
        .query_row(
            "SELECT id, enrolment_expires_at FROM terminals WHERE enrolment_code_hash = ?1",
            [ctx.keys.secret_hash("enrol", &digits)],
            |r| Ok((uuid_at(r, 0)?, r.get::<_, Option<i64>>(1)?)),
        )
        .optional()?;
    let Some((id, expires)) = row else {
        tracing::warn!("enrolment refused: unknown code");
        return Err(wrong());
    };
    if expires.is_none_or(|e| from_ts(e) <= ctx.now) {
        tracing::warn!(terminal_id = %id, "enrolment refused: code expired");
        return Err(Error::EnrolmentCodeExpired);
    }
    let credential = random_token();
    tx.execute(
        "UPDATE terminals SET credential_hash = ?2, enrolment_code_hash = NULL,
             enrolment_expires_at = NULL, enrolled_at = ?3, last_seen_at = ?3,
             software_version = ?4, revoked_at = NULL
         WHERE id = ?1",
        params![
            id.to_string(),
            ctx.keys.secret_hash("terminal", &credential),
            ts(ctx.now),
            req.software_version
        ],
    )?;
    tx.commit()?;
    let t = get(conn, id, ctx.now)?;
    tracing::info!(terminal_id = %id, facility_id = %t.facility_id, version = %req.software_version, "terminal enrolled");
    Ok(EnrolResponse {
        terminal_id: id,
        facility_id: t.facility_id,
        role: t.role,
        location: t.location,
        credential,
    })
}

/// Who holds this credential, if anyone. A revoked terminal's credential
/// is refused with a message saying so.
pub fn authenticate(
    conn: &Connection,
    ctx: &Ctx<'_>,
    credential: &str,
) -> Result<Option<TerminalIdentity>> {
    let found = conn
        .query_row(
            "SELECT id, facility_id, role, housing_unit_id, revoked_at FROM terminals
             WHERE credential_hash = ?1",
            [ctx.keys.secret_hash("terminal", credential)],
            |r| {
                Ok((
                    TerminalIdentity {
                        id: uuid_at(r, 0)?,
                        facility_id: uuid_at(r, 1)?,
                        role: role_from_db(&r.get::<_, String>(2)?),
                        housing_unit_id: opt_uuid_at(r, 3)?,
                    },
                    r.get::<_, Option<i64>>(4)?,
                ))
            },
        )
        .optional()?;
    match found {
        Some((t, Some(revoked))) => {
            tracing::warn!(terminal_id = %t.id, "call from a revoked terminal refused");
            Err(Error::Unauthorized(format!(
                "this terminal was revoked by an administrator on {}; it must be enrolled \
                 again with a new code",
                from_ts(revoked).format("%Y-%m-%d %H:%M UTC")
            )))
        }
        Some((t, None)) => Ok(Some(t)),
        None => Ok(None),
    }
}

const TERMINAL_COLUMNS: &str = "id, facility_id, role, location, housing_unit_id, enrolled_at, \
     last_seen_at, software_version, devices, outbox_pending, revoked_at, recordings_pending, \
     recordings_pending_bytes, recordings_pending_since, data_free_bytes";

fn terminal_from_row(r: &rusqlite::Row<'_>, now: DateTime<Utc>) -> rusqlite::Result<Terminal> {
    let last_seen_at = r.get::<_, Option<i64>>(6)?.map(from_ts);
    let revoked_at = r.get::<_, Option<i64>>(10)?.map(from_ts);
    Ok(Terminal {
        id: uuid_at(r, 0)?,
        facility_id: uuid_at(r, 1)?,
        role: role_from_db(&r.get::<_, String>(2)?),
        location: r.get(3)?,
        housing_unit_id: opt_uuid_at(r, 4)?,
        enrolled_at: r.get::<_, Option<i64>>(5)?.map(from_ts),
        last_seen_at,
        software_version: r.get(7)?,
        devices: json_at(r, 8)?,
        online: revoked_at.is_none() && last_seen_at.is_some_and(|t| now - t <= ONLINE_WINDOW),
        outbox_pending: r.get(9)?,
        revoked_at,
        recordings_pending: r.get(11)?,
        recordings_pending_bytes: r.get::<_, Option<i64>>(12)?.map(|b| b as u64),
        recordings_pending_since: r.get::<_, Option<i64>>(13)?.map(from_ts),
        data_free_bytes: r.get::<_, Option<i64>>(14)?.map(|b| b as u64),
    })
}

/// A terminal as administrators see it; `now` decides whether it is online.
pub fn get(conn: &Connection, id: Uuid, now: DateTime<Utc>) -> Result<Terminal> {
    conn.query_row(
        &format!("SELECT {TERMINAL_COLUMNS} FROM terminals WHERE id = ?1"),
        [id.to_string()],
        |r| terminal_from_row(r, now),
    )
    .optional()?
    .ok_or_else(|| Error::not_found("terminal", id))
}

/// A facility's terminals by location; `scope` (the caller's facility, if
/// it is tied to one) hides another facility's.
pub fn list(
    conn: &Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    facility_id: Uuid,
    page: Page,
) -> Result<Vec<Terminal>> {
    super::in_scope(scope, facility_id, "facility", facility_id)?;
    facilities::get(conn, facility_id)?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {TERMINAL_COLUMNS} FROM terminals WHERE facility_id = ?1
         ORDER BY location, id LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(
        params![facility_id.to_string(), page.limit, page.offset],
        |r| terminal_from_row(r, ctx.now),
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Revoke a terminal: its credential and any pending enrolment code stop
/// working at once. A new enrolment code brings it back when it is used.
pub fn revoke(conn: &Connection, ctx: &Ctx<'_>, scope: Option<Uuid>, id: Uuid) -> Result<Terminal> {
    let t = get(conn, id, ctx.now)?;
    super::in_scope(scope, t.facility_id, "terminal", id)?;
    if t.revoked_at.is_some() {
        return Err(Error::Conflict("this terminal is already revoked".into()));
    }
    conn.execute(
        "UPDATE terminals SET revoked_at = ?2, enrolment_code_hash = NULL,
             enrolment_expires_at = NULL WHERE id = ?1",
        params![id.to_string(), ts(ctx.now)],
    )?;
    tracing::warn!(terminal_id = %id, facility_id = %t.facility_id, actor = ctx.actor, "terminal revoked");
    get(conn, id, ctx.now)
}

/// Number of lobby terminals not revoked: the facility's on-site capacity.
pub fn lobby_count(conn: &Connection, facility_id: Uuid) -> Result<usize> {
    Ok(conn.query_row(
        "SELECT count(*) FROM terminals WHERE facility_id = ?1 AND role = 'lobby'
           AND revoked_at IS NULL",
        [facility_id.to_string()],
        |r| r.get::<_, i64>(0),
    )? as usize)
}

/// Record a heartbeat and answer with the server time.
pub fn heartbeat(
    conn: &Connection,
    ctx: &Ctx<'_>,
    terminal: &TerminalIdentity,
    hb: &Heartbeat,
) -> Result<HeartbeatAck> {
    conn.execute(
        "UPDATE terminals SET last_seen_at = ?2, software_version = ?3, devices = ?4,
             outbox_pending = ?5, recordings_pending = ?6, recordings_pending_bytes = ?7,
             data_free_bytes = ?8,
             -- Since when a backlog has been reported, kept while it lasts.
             recordings_pending_since = CASE WHEN ?6 = 0 THEN NULL
                 ELSE COALESCE(recordings_pending_since, ?2) END
         WHERE id = ?1",
        params![
            terminal.id.to_string(),
            ts(ctx.now),
            hb.software_version,
            serde_json::to_string(&hb.devices).expect("devices serialise"),
            hb.outbox_pending,
            hb.recordings_pending,
            hb.recordings_pending_bytes as i64,
            hb.data_free_bytes.map(|b| b as i64)
        ],
    )?;
    let offset_ms = (hb.terminal_time - ctx.now).num_milliseconds();
    let failing: Vec<&str> = hb
        .devices
        .iter()
        .filter(|d| d.state != protocol::terminal::DeviceState::Ok)
        .map(|d| d.device.as_str())
        .collect();
    if failing.is_empty() {
        tracing::debug!(terminal_id = %terminal.id, offset_ms, outbox = hb.outbox_pending, recordings = hb.recordings_pending, "heartbeat");
    } else {
        tracing::warn!(terminal_id = %terminal.id, offset_ms, outbox = hb.outbox_pending, devices = ?failing, "heartbeat reports device problems");
    }
    Ok(HeartbeatAck {
        server_time: ctx.now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_twelve_digits_and_forgiving_to_type() {
        let c = new_code();
        assert_eq!(c.len(), 14);
        assert_eq!(normalise_code(&c).len(), 12);
        assert_eq!(normalise_code(" 1234 5678-9012 "), "123456789012");
    }
}
