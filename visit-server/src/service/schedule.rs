//! The day schedule a terminal caches to work offline.
//!
//! Today and tomorrow in the facility's time zone; a lobby sees the on-site
//! visits with initials only, a unit terminal the visits of its own housing
//! unit. The ETag is derived from the facility's schedule version, the local
//! date and the terminal's scope, so an unchanged schedule is recognised with
//! one indexed read and answered `304 Not Modified`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{Days, NaiveDate};
use protocol::TerminalRole;
use protocol::terminal::{
    JoinPolicy, Schedule, ScheduleDay, ScheduleFacility, SchedulePerson, ScheduledVisit,
};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::facilities::FacilityRow;
use super::terminals::TerminalIdentity;
use super::{Ctx, Error, Result, facilities, uuid_at};
use crate::db::from_ts;
use crate::domain::names::{first_and_initial, initials};
use crate::domain::policy::Kind;
use crate::domain::status::Status;

/// What a terminal may see of its facility.
fn scope(t: &TerminalIdentity) -> String {
    match (t.role, t.housing_unit_id) {
        (TerminalRole::Unit, Some(unit)) => format!("unit:{unit}"),
        _ => "lobby".into(),
    }
}

/// The facility-local date of today.
pub fn local_today(tz: chrono_tz::Tz, ctx: &Ctx<'_>) -> NaiveDate {
    ctx.now.with_timezone(&tz).date_naive()
}

/// The ETag of a terminal's schedule for a facility version and day.
pub fn etag(t: &TerminalIdentity, version: i64, today: NaiveDate) -> String {
    let digest = Sha256::digest(format!("{}|{version}|{today}|{}", t.facility_id, scope(t)));
    format!("\"{}\"", &B64.encode(digest)[..22])
}

/// The current ETag without building the schedule (the poll fast path):
/// one indexed read of the facility's version and time zone.
pub fn current_etag(conn: &Connection, ctx: &Ctx<'_>, t: &TerminalIdentity) -> Result<String> {
    let (version, tz): (i64, String) = conn
        .query_row(
            "SELECT schedule_version, time_zone FROM facilities WHERE id = ?1",
            [t.facility_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| Error::not_found("facility", t.facility_id))?;
    let tz: chrono_tz::Tz = tz
        .parse()
        .map_err(|_| Error::Invalid("the facility's time zone is not valid".into()))?;
    Ok(etag(t, version, local_today(tz, ctx)))
}

/// Build the schedule in one read transaction, so version and visits agree.
pub fn build(conn: &mut Connection, ctx: &Ctx<'_>, t: &TerminalIdentity) -> Result<Schedule> {
    let tx = conn.transaction()?;
    let facility = facilities::get(&tx, t.facility_id)?;
    let today = local_today(facility.tz, ctx);
    let lobby = scope(t) == "lobby";
    let days = scheduled_days(&tx, ctx, &facility, t, today)?;
    let persons = match (lobby, t.housing_unit_id) {
        (false, Some(unit)) => unit_persons(&tx, unit)?,
        _ => Vec::new(),
    };
    let version = etag(t, facility.schedule_version, today);
    tx.finish()?;
    Ok(Schedule {
        version,
        generated_at: ctx.now,
        facility: schedule_facility(&facility),
        days: days.into(),
        persons,
    })
}

/// Today's and tomorrow's visits in the terminal's scope (a lobby: the
/// on-site visits; a unit: its persons' visits), with each day's PIN key.
fn scheduled_days(
    conn: &Connection,
    ctx: &Ctx<'_>,
    facility: &FacilityRow,
    t: &TerminalIdentity,
    today: NaiveDate,
) -> Result<[ScheduleDay; 2]> {
    let tomorrow = today + Days::new(1);
    let lobby = scope(t) == "lobby";
    let mut stmt = conn.prepare_cached(
        "SELECT v.id, v.kind, v.starts_at, v.ends_at, v.status, v.pin_hash, v.local_date, p.name,
                (SELECT group_concat(vi.name, char(31)) FROM
                    (SELECT vis.name FROM visit_visitors vv JOIN visitors vis ON vis.id = vv.visitor_id
                     WHERE vv.visit_id = v.id ORDER BY vv.position) vi),
                p.id,
                EXISTS (SELECT 1 FROM visit_history h WHERE h.visit_id = v.id AND h.event = 'check_in'),
                v.confidential
         FROM visits v JOIN persons p ON p.id = v.person_id
         WHERE v.facility_id = ?1 AND v.local_date IN (?2, ?3)
           AND ((?4 AND v.kind = 'onsite') OR (NOT ?4 AND p.housing_unit_id = ?5))
         ORDER BY v.starts_at, v.id",
    )?;
    let unit = t.housing_unit_id.map(|u| u.to_string()).unwrap_or_default();
    let mut days = [today, tomorrow].map(|date| ScheduleDay {
        date,
        pin_key: B64.encode(ctx.keys.day_key(facility.id, date)),
        visits: Vec::new(),
    });
    let rows = stmt.query_map(
        params![
            facility.id.to_string(),
            today.to_string(),
            tomorrow.to_string(),
            lobby,
            unit
        ],
        |r| scheduled_visit(r, lobby),
    )?;
    for row in rows {
        let (date, visit) = row?;
        days[usize::from(date != today.to_string())]
            .visits
            .push(visit);
    }
    Ok(days)
}

/// One row of [`scheduled_days`]' query, with names as the terminal may
/// show them: initials in a lobby, first name and initial in a unit.
fn scheduled_visit(
    r: &rusqlite::Row<'_>,
    lobby: bool,
) -> rusqlite::Result<(String, ScheduledVisit)> {
    let bad = |i: usize| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            "bad value".into(),
        )
    };
    let show = |name: &str| {
        if lobby {
            initials(name)
        } else {
            first_and_initial(name)
        }
    };
    let kind = Kind::from_db(&r.get::<_, String>(1)?).ok_or_else(|| bad(1))?;
    let status = Status::from_db(&r.get::<_, String>(4)?).ok_or_else(|| bad(4))?;
    let visitors: Option<String> = r.get(8)?;
    Ok((
        r.get(6)?,
        ScheduledVisit {
            id: uuid_at(r, 0)?,
            kind: kind.to_wire(),
            start: from_ts(r.get(2)?),
            end: from_ts(r.get(3)?),
            status: status.to_wire(),
            person_display: show(&r.get::<_, String>(7)?),
            visitor_display: visitors
                .unwrap_or_default()
                .split('\u{1f}')
                .filter(|s| !s.is_empty())
                .map(show)
                .collect(),
            pin_verifier: r.get(5)?,
            person_id: if lobby { None } else { Some(uuid_at(r, 9)?) },
            visitor_checked_in: r.get(10)?,
            confidential: r.get(11)?,
        },
    ))
}

/// The facility as a terminal needs it: name, zone, PIN length, and how
/// early each side may join.
fn schedule_facility(facility: &FacilityRow) -> ScheduleFacility {
    let policy = |kind: Kind| {
        let p = facility.policy(kind);
        JoinPolicy {
            kind: kind.to_wire(),
            visitor_early_minutes: p.visitor_early.num_minutes() as u32,
            person_early_minutes: p.person_early.num_minutes() as u32,
        }
    };
    ScheduleFacility {
        id: facility.id,
        name: facility.name.clone(),
        time_zone: facility.tz.name().to_string(),
        pin_length: facility.pin_length,
        policies: vec![policy(Kind::Onsite), policy(Kind::Remote)],
    }
}

/// The persons of a housing unit with their sign-in PIN verifiers, for that
/// unit's terminals only. The verifier is the Argon2id hash the server
/// itself checks (salted, about 20 ms a guess): a PIN cannot be read from
/// it, only guessed one Argon2 run at a time (see ARCHITECTURE.md).
fn unit_persons(conn: &Connection, unit: uuid::Uuid) -> Result<Vec<SchedulePerson>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, number, name, pin_hash FROM persons WHERE housing_unit_id = ?1 ORDER BY number",
    )?;
    let rows = stmt.query_map([unit.to_string()], |r| {
        Ok(SchedulePerson {
            id: uuid_at(r, 0)?,
            number: r.get(1)?,
            display: first_and_initial(&r.get::<_, String>(2)?),
            pin_verifier: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
