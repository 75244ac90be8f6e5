//! Sanctions on visitors (seed 001): 90 days for a first offense, permanent
//! for a second. A new sanction cancels the visitor's booked visits that fall
//! inside it, as a facility cancellation (never charged, visitor notified).

use chrono::{DateTime, Utc};
use protocol::admin::{CancelVisit, CancelledBy, NewSanction, Sanction};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{Ctx, Error, Result, opt_uuid_at, people, uuid_at, visits};
use crate::db::{from_ts, ts};
use crate::domain::sanction::{is_active, next_sanction};

/// If a sanction restricts the visitor at any of `instants`, its end
/// (`Some(None)` when permanent).
pub fn restriction(
    conn: &Connection,
    visitor_id: Uuid,
    instants: &[DateTime<Utc>],
) -> Result<Option<Option<DateTime<Utc>>>> {
    let all = list(conn, visitor_id)?;
    Ok(all
        .iter()
        .filter(|s| {
            instants
                .iter()
                .any(|t| is_active(s.starts_at, effective_end(s), *t))
        })
        // A permanent sanction outranks any dated one.
        .map(effective_end)
        .max_by_key(|e| e.map_or(i64::MAX, |t| t.timestamp_millis())))
}

/// When a sanction stops restricting: its end, or when it was lifted if
/// that came first.
fn effective_end(s: &Sanction) -> Option<DateTime<Utc>> {
    match (s.ends_at, s.lifted_at) {
        (Some(e), Some(l)) => Some(e.min(l)),
        (e, l) => e.or(l),
    }
}

/// All sanctions of a visitor, oldest first.
pub fn list(conn: &Connection, visitor_id: Uuid) -> Result<Vec<Sanction>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, visitor_id, offense, starts_at, ends_at, reason, visit_id, lifted_at,
                lifted_by, lift_reason FROM sanctions
         WHERE visitor_id = ?1 ORDER BY offense",
    )?;
    let rows = stmt.query_map([visitor_id.to_string()], |r| {
        Ok(Sanction {
            id: uuid_at(r, 0)?,
            visitor_id: uuid_at(r, 1)?,
            offense: r.get(2)?,
            starts_at: from_ts(r.get(3)?),
            ends_at: r.get::<_, Option<i64>>(4)?.map(from_ts),
            reason: r.get(5)?,
            visit_id: opt_uuid_at(r, 6)?,
            cancelled_visits: vec![],
            lifted_at: r.get::<_, Option<i64>>(7)?.map(from_ts),
            lifted_by: r.get(8)?,
            lift_reason: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn create(conn: &mut Connection, ctx: &Ctx<'_>, req: &NewSanction) -> Result<Sanction> {
    let reason = req.reason.trim();
    if reason.is_empty() {
        return Err(Error::Invalid(
            "a sanction needs the violation as its reason".into(),
        ));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    people::get_visitor(&tx, req.visitor_id)?;
    if let Some(vid) = req.visit_id {
        visits::get_row(&tx, vid)?;
    }
    let earlier = list(&tx, req.visitor_id)?.len() as u32;
    let (offense, ends_at) = next_sanction(earlier, ctx.now);
    let id = Uuid::new_v4();
    tx.execute(
        "INSERT INTO sanctions (id, visitor_id, offense, starts_at, ends_at, reason, visit_id,
            created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?4)",
        params![
            id.to_string(),
            req.visitor_id.to_string(),
            offense,
            ts(ctx.now),
            ends_at.map(ts),
            reason,
            req.visit_id.map(|v| v.to_string()),
            ctx.actor
        ],
    )?;
    // Booked visits that start inside the sanction are cancelled by the facility.
    let affected: Vec<Uuid> = {
        let mut stmt = tx.prepare(
            "SELECT v.id FROM visits v JOIN visit_visitors vv ON vv.visit_id = v.id
             WHERE vv.visitor_id = ?1 AND v.status IN ('scheduled', 'pending', 'ready')
               AND v.starts_at >= ?2 AND (?3 IS NULL OR v.starts_at < ?3)
             ORDER BY v.starts_at",
        )?;
        stmt.query_map(
            params![req.visitor_id.to_string(), ts(ctx.now), ends_at.map(ts)],
            |r| uuid_at(r, 0),
        )?
        .collect::<rusqlite::Result<_>>()?
    };
    let cancel = CancelVisit {
        by: CancelledBy::Facility,
        reason: format!("a visitor's visiting privileges are restricted ({reason})"),
    };
    for vid in &affected {
        visits::cancel_in(&tx, ctx, *vid, &cancel)?;
    }
    tx.commit()?;
    tracing::warn!(visitor_id = %req.visitor_id, offense, permanent = ends_at.is_none(), cancelled = affected.len(), actor = ctx.actor, "visitor sanctioned");
    Ok(Sanction {
        id,
        visitor_id: req.visitor_id,
        offense,
        starts_at: ctx.now,
        ends_at,
        reason: reason.to_string(),
        visit_id: req.visit_id,
        cancelled_visits: affected,
        lifted_at: None,
        lifted_by: None,
        lift_reason: None,
    })
}
/// Lift a sanction early, with the reason: the row stays (the offense
/// still counts), marked lifted, and restricts nothing from now on, so the
/// visitor may book again.
pub fn lift(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    sanction_id: Uuid,
    reason: &str,
) -> Result<Sanction> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::Invalid("say why the sanction is lifted".into()));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let visitor_id = tx
        .query_row(
            "SELECT visitor_id FROM sanctions WHERE id = ?1",
            [sanction_id.to_string()],
            |r| uuid_at(r, 0),
        )
        .optional()?
        .ok_or_else(|| Error::not_found("sanction", sanction_id))?;
    super::directory::visitor_in_scope(&tx, scope, visitor_id)
        .map_err(|_| Error::not_found("sanction", sanction_id))?;
    let current = list(&tx, visitor_id)?
        .into_iter()
        .find(|s| s.id == sanction_id)
        .ok_or_else(|| Error::not_found("sanction", sanction_id))?;
    if current.lifted_at.is_some() {
        return Err(Error::Conflict("this sanction was already lifted".into()));
    }
    if current.ends_at.is_some_and(|e| e <= ctx.now) {
        return Err(Error::Conflict(
            "this sanction has already ended; there is nothing to lift".into(),
        ));
    }
    tx.execute(
        "UPDATE sanctions SET lifted_at = ?2, lifted_by = ?3, lift_reason = ?4 WHERE id = ?1",
        params![sanction_id.to_string(), ts(ctx.now), ctx.actor, reason],
    )?;
    let lifted = list(&tx, visitor_id)?
        .into_iter()
        .find(|s| s.id == sanction_id)
        .ok_or_else(|| Error::not_found("sanction", sanction_id))?;
    tx.commit()?;
    tracing::info!(visitor_id = %visitor_id, sanction_id = %sanction_id, actor = ctx.actor, "sanction lifted");
    Ok(lifted)
}
