//! `POST /api/v1/terminal/recordings`: a terminal declares a closed segment
//! before sending its bytes. Idempotent by the segment's id; a second,
//! different declaration of the same id or of the same place in the visit
//! (party, track, index) is a conflict, so nothing is ever stored twice.

use protocol::TerminalRole;
use protocol::recording::{SegmentMeta, SegmentStatus};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::json;

use super::super::terminals::TerminalIdentity;
use super::super::{Ctx, Error, Result, in_scope, people, visits};
use super::{find, role_db};
use crate::db::ts;
use crate::domain::recording::check_meta;

/// Declare a segment: its status (new: nothing received yet).
pub fn declare(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    terminal: &TerminalIdentity,
    meta: &SegmentMeta,
) -> Result<SegmentStatus> {
    check_meta(meta).map_err(Error::Invalid)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(row) = find(&tx, meta.id)? {
        if row.meta == *meta && row.terminal_id == terminal.id {
            return Ok(row.status());
        }
        return Err(Error::SegmentConflict(format!(
            "segment {} was declared before with other contents",
            meta.id
        )));
    }
    let visit = visits::get_row(&tx, meta.visit_id)?;
    in_scope(
        Some(terminal.facility_id),
        visit.facility_id,
        "visit",
        meta.visit_id,
    )?;
    may_record(&tx, terminal, visit.person_id)?;
    if visit.confidential {
        note_refusal(&tx, ctx, terminal, meta)?;
        tx.commit()?;
        tracing::warn!(visit_id = %meta.visit_id, terminal_id = %terminal.id, segment_id = %meta.id, "recording of a confidential visit refused");
        return Err(Error::RecordingRefused(
            "this visit is confidential: it is never recorded; drop what was recorded of it".into(),
        ));
    }
    let taken: Option<String> = tx
        .query_row(
            "SELECT id FROM recording_segments
             WHERE visit_id = ?1 AND party = ?2 AND track = ?3 AND idx = ?4",
            params![
                meta.visit_id.to_string(),
                meta.party.to_string(),
                meta.track,
                meta.index
            ],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(other) = taken {
        return Err(Error::SegmentConflict(format!(
            "segment {} of track {} of this party was already declared as {other}",
            meta.index, meta.track
        )));
    }
    insert(&tx, ctx, terminal, meta)?;
    tx.commit()?;
    tracing::info!(visit_id = %meta.visit_id, terminal_id = %terminal.id, segment_id = %meta.id, track = meta.track, index = meta.index, size = meta.size, "recording segment declared");
    Ok(SegmentStatus {
        id: meta.id,
        received: 0,
        complete: false,
    })
}

/// Only a housing-unit terminal of the person's own unit records a visit
/// (the unit where the person sits), as with sign-in photos.
fn may_record(conn: &Connection, terminal: &TerminalIdentity, person: uuid::Uuid) -> Result<()> {
    let unit = people::get_person(conn, person)?.housing_unit_id;
    match (terminal.role, terminal.housing_unit_id) {
        (TerminalRole::Unit, Some(u)) if u == unit => Ok(()),
        _ => {
            tracing::warn!(terminal_id = %terminal.id, person_id = %person, "recording refused: not a terminal of the person's unit");
            Err(Error::RecordingRefused(
                "only a housing-unit terminal of the person's own unit records this visit".into(),
            ))
        }
    }
}

/// One `recording_refused` line in the visit's history, however many
/// segments the terminal tries.
fn note_refusal(
    conn: &Connection,
    ctx: &Ctx<'_>,
    terminal: &TerminalIdentity,
    meta: &SegmentMeta,
) -> Result<()> {
    let told: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM visit_history WHERE visit_id = ?1 AND event = 'recording_refused')",
        [meta.visit_id.to_string()],
        |r| r.get(0),
    )?;
    if told {
        return Ok(());
    }
    visits::record(
        conn,
        ctx,
        meta.visit_id,
        "recording_refused",
        (None, None),
        json!({ "terminal_id": terminal.id, "reason": "confidential" }),
    )
}

fn insert(
    conn: &Connection,
    ctx: &Ctx<'_>,
    terminal: &TerminalIdentity,
    m: &SegmentMeta,
) -> Result<()> {
    conn.execute(
        "INSERT INTO recording_segments (id, visit_id, terminal_id, role, party, track, idx,
             started_at, duration_ms, size, sha256, media_type, closed, declared_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            m.id.to_string(),
            m.visit_id.to_string(),
            terminal.id.to_string(),
            role_db(m.role),
            m.party.to_string(),
            m.track,
            m.index,
            ts(m.started_at),
            m.duration_ms as i64,
            m.size as i64,
            m.sha256,
            m.media_type,
            m.closed,
            ts(ctx.now)
        ],
    )?;
    Ok(())
}
