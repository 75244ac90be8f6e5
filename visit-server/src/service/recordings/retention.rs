//! Removing recordings the facility no longer keeps: those of visits that
//! ended more than the facility's `recording_retention_days` ago. Run from
//! the clock tick (at most hourly). Files first, then the rows are marked
//! removed (never deleted: the history of what was recorded stays), with a
//! history line and an audit line (actor `system`) per visit.

use std::fs;

use rusqlite::{Connection, TransactionBehavior, params};
use serde_json::json;
use uuid::Uuid;

use super::super::audit::{self, Target};
use super::super::{Ctx, Result, uuid_at, visits};
use super::Store;
use crate::db::ts;

/// One visit whose recording is due for removal.
struct Due {
    visit: Uuid,
    facility: Uuid,
    days: u32,
    segments: u32,
}

/// Remove every recording past its retention; how many visits' were removed.
pub fn sweep(conn: &mut Connection, ctx: &Ctx<'_>, store: &Store) -> Result<usize> {
    let due = due(conn, ctx)?;
    for d in &due {
        let dir = store.visit_dir(d.visit);
        match fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                // Keep the rows as they are: the next sweep tries again.
                tracing::error!(visit_id = %d.visit, error = %e, dir = %dir.display(), "could not remove a recording past its retention");
                continue;
            }
        }
        store.forget(d.visit);
        mark_removed(conn, ctx, d)?;
        tracing::info!(visit_id = %d.visit, facility_id = %d.facility, segments = d.segments, days = d.days, "recording removed after the retention");
    }
    Ok(due.len())
}

/// Visits with segments not yet removed that ended longer ago than their
/// facility keeps recordings.
fn due(conn: &Connection, ctx: &Ctx<'_>) -> Result<Vec<Due>> {
    let mut stmt = conn.prepare(
        "SELECT v.id, v.facility_id, f.recording_retention_days, COUNT(*)
         FROM recording_segments s
         JOIN visits v ON v.id = s.visit_id
         JOIN facilities f ON f.id = v.facility_id
         WHERE s.removed_at IS NULL
           AND v.ends_at + f.recording_retention_days * 86400000 < ?1
         GROUP BY v.id",
    )?;
    let rows = stmt.query_map([ts(ctx.now)], |r| {
        Ok(Due {
            visit: uuid_at(r, 0)?,
            facility: uuid_at(r, 1)?,
            days: r.get(2)?,
            segments: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn mark_removed(conn: &mut Connection, ctx: &Ctx<'_>, d: &Due) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "UPDATE recording_segments SET removed_at = ?2 WHERE visit_id = ?1 AND removed_at IS NULL",
        params![d.visit.to_string(), ts(ctx.now)],
    )?;
    let detail = json!({ "segments": d.segments, "retention_days": d.days });
    visits::record(
        &tx,
        ctx,
        d.visit,
        "recording_removed",
        (None, None),
        detail.clone(),
    )?;
    let who = audit::Who {
        actor: "system".into(),
        facility: Some(d.facility),
        origin: "retention".into(),
    };
    audit::record(
        &tx,
        ctx.now,
        &audit::Line {
            who: &who,
            action: "recording_removed",
            target: &Target::Visit(d.visit),
            outcome: "done".into(),
            before: None,
            after: Some(detail),
        },
    )?;
    tx.commit()?;
    Ok(())
}
