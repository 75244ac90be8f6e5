//! The facility's day board: each visit of a day with its parties, the
//! terminal it is on, its check-in time and, while it runs, how long it
//! has been connected and how the call is going. Read from the visits and
//! their history alone, so the board says what the records say.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use protocol::visit::VisitStatus;
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::{Result, uuid_at};
use crate::db::from_ts;
use crate::domain::status::Status;

/// How a call is going, from its last media event.
#[derive(Debug, Clone, PartialEq)]
pub enum Quality {
    /// No media event yet.
    Unknown,
    /// Media flowing.
    Good,
    /// The last event was an interruption.
    Interrupted,
    /// A side said why it has no picture or no media.
    Problem(String),
    /// The last call report's figures.
    Report { loss: f64, rtt_ms: Option<u64> },
}

/// One visit on the board.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub kind: String,
    pub status: VisitStatus,
    pub person: String,
    pub person_number: String,
    pub housing_unit_id: Uuid,
    pub housing_unit: String,
    pub visitors: Vec<String>,
    /// Where the visit is (the lobby terminal that checked in, the unit
    /// terminal that joined).
    pub terminals: Vec<String>,
    pub checked_in_at: Option<DateTime<Utc>>,
    pub connected_since: Option<DateTime<Utc>>,
    pub quality: Quality,
}

/// A day's visits of a facility, by start time.
pub fn day(conn: &Connection, facility: Uuid, date: NaiveDate) -> Result<Vec<Row>> {
    let mut stmt = conn.prepare(
        "SELECT v.id, v.starts_at, v.ends_at, v.kind, v.status, p.name, p.number, h.id, h.name \
         FROM visits v JOIN persons p ON p.id = v.person_id \
         JOIN housing_units h ON h.id = p.housing_unit_id \
         WHERE v.facility_id = ?1 AND v.local_date = ?2 ORDER BY v.starts_at, p.name",
    )?;
    let mut rows: Vec<Row> = stmt
        .query_map(params![facility.to_string(), date.to_string()], |r| {
            let status: String = r.get(4)?;
            Ok(Row {
                id: uuid_at(r, 0)?,
                start: from_ts(r.get(1)?),
                end: from_ts(r.get(2)?),
                kind: r.get(3)?,
                status: Status::from_db(&status)
                    .map(|s| s.to_wire())
                    .unwrap_or(VisitStatus::Scheduled),
                person: r.get(5)?,
                person_number: r.get(6)?,
                housing_unit_id: uuid_at(r, 7)?,
                housing_unit: r.get(8)?,
                visitors: Vec::new(),
                terminals: Vec::new(),
                checked_in_at: None,
                connected_since: None,
                quality: Quality::Unknown,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let index: HashMap<Uuid, usize> = rows.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    let mut stmt = conn.prepare(
        "SELECT vv.visit_id, vi.name FROM visit_visitors vv JOIN visitors vi ON vi.id = vv.visitor_id \
         JOIN visits v ON v.id = vv.visit_id WHERE v.facility_id = ?1 AND v.local_date = ?2 \
         ORDER BY vv.position",
    )?;
    for r in stmt.query_map(params![facility.to_string(), date.to_string()], |r| {
        Ok((uuid_at(r, 0)?, r.get::<_, String>(1)?))
    })? {
        let (visit, name) = r?;
        if let Some(&i) = index.get(&visit) {
            rows[i].visitors.push(name);
        }
    }
    let locations = terminal_locations(conn, facility)?;
    let mut stmt = conn.prepare(
        "SELECT h.visit_id, h.at, h.event, h.actor, h.detail FROM visit_history h \
         JOIN visits v ON v.id = h.visit_id WHERE v.facility_id = ?1 AND v.local_date = ?2 \
         ORDER BY h.seq",
    )?;
    for r in stmt.query_map(params![facility.to_string(), date.to_string()], |r| {
        Ok((
            uuid_at(r, 0)?,
            from_ts(r.get(1)?),
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
        ))
    })? {
        let (visit, at, event, actor, detail) = r?;
        if let Some(&i) = index.get(&visit) {
            apply(&mut rows[i], at, &event, &actor, &detail, &locations);
        }
    }
    Ok(rows)
}

fn terminal_locations(conn: &Connection, facility: Uuid) -> Result<HashMap<String, String>> {
    let mut stmt = conn.prepare("SELECT id, location FROM terminals WHERE facility_id = ?1")?;
    let map = stmt
        .query_map([facility.to_string()], |r| {
            Ok((format!("terminal:{}", r.get::<_, String>(0)?), r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(map)
}

/// Fold one history line into the row.
fn apply(
    row: &mut Row,
    at: DateTime<Utc>,
    event: &str,
    actor: &str,
    detail: &str,
    locations: &HashMap<String, String>,
) {
    if let Some(place) = locations.get(actor)
        && !row.terminals.contains(place)
    {
        row.terminals.push(place.clone());
    }
    match event {
        "check_in" => {
            row.checked_in_at.get_or_insert(at);
        }
        "media_flowing" => {
            row.connected_since.get_or_insert(at);
            row.quality = Quality::Good;
        }
        "media_interrupted" => row.quality = Quality::Interrupted,
        "media_problem" => {
            let v: serde_json::Value = serde_json::from_str(detail).unwrap_or_default();
            let cause = v["problem"]["cause"]
                .as_str()
                .or_else(|| v["problem"].as_str())
                .unwrap_or("media problem")
                .to_string();
            row.quality = Quality::Problem(cause);
        }
        "call_report" => {
            let v: serde_json::Value = serde_json::from_str(detail).unwrap_or_default();
            row.quality = Quality::Report {
                loss: v["report"]["loss"].as_f64().unwrap_or(0.0),
                rtt_ms: v["report"]["median_rtt_ms"].as_u64(),
            };
        }
        _ => {}
    }
}

/// A number that changes whenever anything the board shows for that day
/// changes: the SSE stream compares it.
pub fn version(conn: &Connection, facility: Uuid, date: NaiveDate) -> Result<(i64, i64)> {
    Ok(conn.query_row(
        "SELECT (SELECT schedule_version FROM facilities WHERE id = ?1), \
         (SELECT IFNULL(MAX(h.seq), 0) FROM visits v JOIN visit_history h ON h.visit_id = v.id \
          WHERE v.facility_id = ?1 AND v.local_date = ?2)",
        params![facility.to_string(), date.to_string()],
        |r| Ok((r.get::<_, Option<i64>>(0)?.unwrap_or(0), r.get(1)?)),
    )?)
}
