//! Visits as stored, their status changes, cancellation and termination.
//! Booking is [`super::booking`] (re-exported here as [`book`]); the words
//! of the mail sent are [`super::letters`].
//!
//! Every change appends to `visit_history` in the same transaction, and bumps
//! the facility's schedule version when terminals would see it. The history
//! alone reconstructs what happened to a visit.

use chrono::{DateTime, NaiveDate, Utc};
use protocol::admin::{
    CancelVisit, CancelledBy, Charge, HistoryEntry, TerminateVisit, Visit, VisitRecord,
};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde_json::json;
use uuid::Uuid;

pub use super::booking::book;
use super::letters::{self, Cancelled};
use super::{Ctx, Error, Result, facilities, outbox, people, uuid_at};
use crate::db::{from_ts, ts};
use crate::domain::cancel::charge_after_cancel;
use crate::domain::policy::Kind;
use crate::domain::status::{Status, Trigger};

/// A visit as stored.
#[derive(Debug, Clone)]
pub struct VisitRow {
    pub id: Uuid,
    pub facility_id: Uuid,
    pub person_id: Uuid,
    pub kind: Kind,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub local_date: NaiveDate,
    pub status: Status,
    pub price_cents: u32,
    pub charge: Charge,
    /// Never recorded or monitored.
    pub confidential: bool,
}

pub(crate) fn charge_db(c: Charge) -> &'static str {
    match c {
        Charge::Free => "free",
        Charge::Charged => "charged",
        Charge::Credited => "credited",
        Charge::Forfeited => "forfeited",
        Charge::Waived => "waived",
    }
}

fn charge_from_db(s: &str) -> Charge {
    match s {
        "charged" => Charge::Charged,
        "credited" => Charge::Credited,
        "forfeited" => Charge::Forfeited,
        "waived" => Charge::Waived,
        _ => Charge::Free,
    }
}

pub(crate) const VISIT_COLUMNS: &str = "id, facility_id, person_id, kind, starts_at, ends_at, local_date, \
                             status, price_cents, charge, confidential";

pub(crate) fn visit_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VisitRow> {
    let bad = |idx: usize, what: String| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, what.into())
    };
    let kind: String = r.get(3)?;
    let date: String = r.get(6)?;
    let status: String = r.get(7)?;
    Ok(VisitRow {
        id: uuid_at(r, 0)?,
        facility_id: uuid_at(r, 1)?,
        person_id: uuid_at(r, 2)?,
        kind: Kind::from_db(&kind).ok_or_else(|| bad(3, kind.clone()))?,
        start: from_ts(r.get(4)?),
        end: from_ts(r.get(5)?),
        local_date: date.parse().map_err(|_| bad(6, date.clone()))?,
        status: Status::from_db(&status).ok_or_else(|| bad(7, status.clone()))?,
        price_cents: r.get(8)?,
        charge: charge_from_db(&r.get::<_, String>(9)?),
        confidential: r.get(10)?,
    })
}

pub fn get_row(conn: &Connection, id: Uuid) -> Result<VisitRow> {
    conn.query_row(
        &format!("SELECT {VISIT_COLUMNS} FROM visits WHERE id = ?1"),
        [id.to_string()],
        visit_from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found("visit", id))
}

/// The visitors of a visit, booking visitor first.
pub fn visitor_ids(conn: &Connection, visit_id: Uuid) -> Result<Vec<Uuid>> {
    let mut stmt = conn.prepare_cached(
        "SELECT visitor_id FROM visit_visitors WHERE visit_id = ?1 ORDER BY position",
    )?;
    let ids = stmt.query_map([visit_id.to_string()], |r| uuid_at(r, 0))?;
    Ok(ids.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn to_wire(conn: &Connection, v: &VisitRow) -> Result<Visit> {
    Ok(Visit {
        id: v.id,
        facility_id: v.facility_id,
        person_id: v.person_id,
        visitor_ids: visitor_ids(conn, v.id)?,
        kind: v.kind.to_wire(),
        start: v.start,
        end: v.end,
        local_date: v.local_date,
        status: v.status.to_wire(),
        price_cents: v.price_cents,
        charge: v.charge,
        confidential: v.confidential,
    })
}

pub fn get(conn: &Connection, id: Uuid) -> Result<Visit> {
    to_wire(conn, &get_row(conn, id)?)
}

/// Append one line to a visit's history.
pub fn record(
    conn: &Connection,
    ctx: &Ctx<'_>,
    visit_id: Uuid,
    event: &str,
    change: (Option<Status>, Option<Status>),
    detail: serde_json::Value,
) -> Result<()> {
    conn.execute(
        "INSERT INTO visit_history (visit_id, at, event, from_status, to_status, actor, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            visit_id.to_string(),
            ts(ctx.now),
            event,
            change.0.map(Status::as_db),
            change.1.map(Status::as_db),
            ctx.actor,
            detail.to_string()
        ],
    )?;
    Ok(())
}

/// Apply a trigger to a visit inside `tx`: validate, update, record, bump.
/// Returns the new status.
pub fn transition(
    tx: &Connection,
    ctx: &Ctx<'_>,
    visit: &VisitRow,
    trigger: Trigger,
    event: &str,
    detail: serde_json::Value,
) -> Result<Status> {
    let next = visit.status.next(trigger)?;
    if next != visit.status {
        tx.execute(
            "UPDATE visits SET status = ?2, updated_at = ?3 WHERE id = ?1",
            params![visit.id.to_string(), next.as_db(), ts(ctx.now)],
        )?;
        facilities::bump_schedule(tx, visit.facility_id)?;
        tracing::info!(visit_id = %visit.id, facility_id = %visit.facility_id, from = visit.status.as_db(), to = next.as_db(), event, actor = ctx.actor, "visit status changed");
    }
    let change = if next != visit.status {
        (Some(visit.status), Some(next))
    } else {
        (None, None)
    };
    record(tx, ctx, visit.id, event, change, detail)?;
    Ok(next)
}

/// A visit with its whole history.
pub fn record_of(conn: &Connection, id: Uuid) -> Result<VisitRecord> {
    let visit = get(conn, id)?;
    let mut stmt = conn.prepare(
        "SELECT at, event, from_status, to_status, actor, detail FROM visit_history
         WHERE visit_id = ?1 ORDER BY seq",
    )?;
    let status = |s: Option<String>| s.and_then(|s| Status::from_db(&s)).map(Status::to_wire);
    let history = stmt
        .query_map([id.to_string()], |r| {
            Ok(HistoryEntry {
                at: from_ts(r.get(0)?),
                event: r.get(1)?,
                from_status: status(r.get(2)?),
                to_status: status(r.get(3)?),
                actor: r.get(4)?,
                detail: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or_default(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(VisitRecord { visit, history })
}

/// All visits of a facility on a local date, by start.
pub fn list_day(conn: &Connection, facility_id: Uuid, date: NaiveDate) -> Result<Vec<Visit>> {
    facilities::get(conn, facility_id)?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {VISIT_COLUMNS} FROM visits WHERE facility_id = ?1 AND local_date = ?2
         ORDER BY starts_at, id"
    ))?;
    let rows = stmt
        .query_map(
            params![facility_id.to_string(), date.to_string()],
            visit_from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.iter().map(|v| to_wire(conn, v)).collect()
}

/// Cancel a visit. The facility's cancellations are never charged and the
/// visitors are told; a visitor's gets credit only far enough ahead.
pub fn cancel(conn: &mut Connection, ctx: &Ctx<'_>, id: Uuid, req: &CancelVisit) -> Result<Visit> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let v = cancel_in(&tx, ctx, id, req)?;
    tx.commit()?;
    Ok(v)
}

/// [`cancel`] inside a caller's transaction (sanctions cancel several visits at once).
pub fn cancel_in(
    tx: &Transaction<'_>,
    ctx: &Ctx<'_>,
    id: Uuid,
    req: &CancelVisit,
) -> Result<Visit> {
    let reason = req.reason.trim();
    if reason.is_empty() {
        return Err(Error::Invalid("say why the visit is cancelled".into()));
    }
    let row = get_row(tx, id)?;
    let facility = facilities::get(tx, row.facility_id)?;
    let charge = charge_after_cancel(
        req.by,
        row.price_cents,
        row.start,
        ctx.now,
        facility.policy(row.kind).cancel_credit,
    );
    let by = match req.by {
        CancelledBy::Visitor => "visitor",
        CancelledBy::Facility => "facility",
    };
    transition(
        tx,
        ctx,
        &row,
        Trigger::Cancel,
        "cancelled",
        json!({ "by": by, "reason": reason, "charge": charge_db(charge) }),
    )?;
    tx.execute(
        "UPDATE visits SET charge = ?2 WHERE id = ?1",
        params![id.to_string(), charge_db(charge)],
    )?;
    let letter = letters::cancellation(&Cancelled {
        visit_id: id,
        by: req.by,
        reason,
        facility_name: &facility.name,
        tz: facility.tz,
        start: row.start,
        price_cents: row.price_cents,
        charge,
    });
    for to in cancellation_recipients(tx, id, req.by)? {
        outbox::queue(
            tx,
            ctx,
            outbox::NewMessage {
                kind: "cancellation",
                visit_id: Some(id),
                to: &to,
                subject: &letter.subject,
                body: &letter.body,
                pin: None,
                token: None,
            },
        )?;
    }
    tracing::info!(visit_id = %id, facility_id = %row.facility_id, by, charge = charge_db(charge), actor = ctx.actor, "visit cancelled");
    to_wire(tx, &get_row(tx, id)?)
}

/// Who is told of a cancellation: every visitor when the facility
/// cancels, the booking visitor when a visitor does.
fn cancellation_recipients(conn: &Connection, id: Uuid, by: CancelledBy) -> Result<Vec<String>> {
    let ids = visitor_ids(conn, id)?;
    let told = match by {
        CancelledBy::Facility => ids.len(),
        CancelledBy::Visitor => ids.len().min(1),
    };
    ids.into_iter()
        .take(told)
        .map(|vid| people::get_visitor(conn, vid).map(|v| v.email))
        .collect()
}

/// Staff end a visit in progress (or about to start) for a rule violation.
pub fn terminate(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    id: Uuid,
    req: &TerminateVisit,
) -> Result<Visit> {
    let reason = req.reason.trim();
    if reason.is_empty() {
        return Err(Error::Invalid(
            "a termination needs the reason shown to both sides".into(),
        ));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let row = get_row(&tx, id)?;
    transition(
        &tx,
        ctx,
        &row,
        Trigger::Terminate,
        "terminated",
        json!({ "reason": reason }),
    )?;
    let v = to_wire(&tx, &get_row(&tx, id)?)?;
    tx.commit()?;
    tracing::warn!(visit_id = %id, facility_id = %row.facility_id, reason, actor = ctx.actor, "visit terminated by staff");
    Ok(v)
}

/// Move visits along with the clock: started ones to Pending, finished ones
/// to Ended or NoShow. Returns the visits that changed, with their new status.
pub fn advance_clock(conn: &mut Connection, ctx: &Ctx<'_>) -> Result<Vec<(Uuid, Status)>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = ts(ctx.now);
    let mut changed = Vec::new();
    let ending = {
        let mut stmt = tx.prepare(&format!(
            "SELECT {VISIT_COLUMNS} FROM visits WHERE status IN {} AND ends_at <= ?1",
            Status::ACTIVE_SQL
        ))?;
        stmt.query_map([now], visit_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?
    };
    for v in ending {
        let status = transition(&tx, ctx, &v, Trigger::EndReached, "end_reached", json!({}))?;
        changed.push((v.id, status));
    }
    let starting = {
        let mut stmt = tx.prepare(&format!(
            "SELECT {VISIT_COLUMNS} FROM visits WHERE status = 'scheduled' AND starts_at <= ?1"
        ))?;
        stmt.query_map([now], visit_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?
    };
    for v in starting {
        let status = transition(
            &tx,
            ctx,
            &v,
            Trigger::StartReached,
            "start_reached",
            json!({}),
        )?;
        changed.push((v.id, status));
    }
    tx.commit()?;
    Ok(changed)
}
