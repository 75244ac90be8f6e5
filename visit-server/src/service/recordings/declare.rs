//! `POST /api/v1/terminal/recordings`: a terminal declares a closed segment
//! before sending its bytes. Idempotent by the segment's id; a second,
//! different declaration of the same id or of the same place in the visit
//! (party, track, index) is a conflict, so nothing is ever stored twice.

use protocol::TerminalRole;
use protocol::recording::{PartyRole, SegmentMeta, SegmentStatus};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::json;

use super::super::terminals::TerminalIdentity;
use super::super::{Ctx, Error, Result, in_scope, people, visits};
use super::{Store, find, refused_for, role_db};
use crate::db::ts;
use crate::domain::recording::check_meta;

/// Declare a segment: its status (new: nothing received yet).
pub fn declare(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    store: &Store,
    terminal: &TerminalIdentity,
    meta: &SegmentMeta,
) -> Result<SegmentStatus> {
    check_meta(meta).map_err(Error::Invalid)?;
    // Times are kept to the millisecond: a repeated declaration with finer
    // ones is the same declaration, and the chain hashes what is stored.
    let meta = &SegmentMeta {
        started_at: chrono::SubsecRound::trunc_subsecs(meta.started_at, 3),
        ..meta.clone()
    };
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
    if let Some(why) = refused_for(&tx, &visit, ctx.now)? {
        note_refusal(&tx, ctx, terminal, meta, visit.confidential)?;
        tx.commit()?;
        tracing::warn!(visit_id = %meta.visit_id, terminal_id = %terminal.id, segment_id = %meta.id, why, "recording segment refused");
        return Err(Error::RecordingRefused(why.into()));
    }
    check_party(&tx, terminal, &visit, meta)?;
    check_budget(&tx, &visit, meta)?;
    check_room(store, meta)?;
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

/// The party is one of the call's: the person's seat is the recording
/// terminal's own id, a visitor's a visitor of the visit or (an on-site
/// visit's lobby seat) the visit's id.
fn check_party(
    conn: &Connection,
    terminal: &TerminalIdentity,
    visit: &visits::VisitRow,
    meta: &SegmentMeta,
) -> Result<()> {
    let ok = match meta.role {
        PartyRole::Person => meta.party == terminal.id,
        PartyRole::Visitor => {
            meta.party == visit.id || visits::visitor_ids(conn, visit.id)?.contains(&meta.party)
        }
    };
    if ok {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "party {} is not a participant of this visit in the role {:?}",
        meta.party, meta.role
    )))
}

/// Bytes a visit's recording may take, per second of its scheduled length
/// (16 Mbit/s for all parties together, several times what a visit sends),
/// plus ten minutes' worth: a terminal cannot fill the server's disk
/// through one visit.
const BUDGET_BYTES_PER_SECOND: i64 = 2_000_000;

fn check_budget(conn: &Connection, visit: &visits::VisitRow, meta: &SegmentMeta) -> Result<()> {
    let declared: i64 = conn.query_row(
        "SELECT COALESCE(SUM(size), 0) FROM recording_segments WHERE visit_id = ?1",
        [visit.id.to_string()],
        |r| r.get(0),
    )?;
    let seconds = (visit.end - visit.start).num_seconds().max(0) + 600;
    let budget = seconds * BUDGET_BYTES_PER_SECOND;
    if declared + meta.size as i64 > budget {
        tracing::warn!(visit_id = %visit.id, declared, budget, "recording over the visit's budget refused");
        return Err(Error::Invalid(format!(
            "this visit's recording would exceed {budget} bytes, far more than its length can hold"
        )));
    }
    Ok(())
}

/// Room left where recordings are kept, after this segment, that a
/// declaration must leave (the database often shares the disk).
const RESERVE_BYTES: u64 = 1 << 30;

fn check_room(store: &Store, meta: &SegmentMeta) -> Result<()> {
    // The directory may not exist yet: its nearest ancestor that does.
    let dir = store.dir().ancestors().find(|d| d.exists());
    let Some(stat) = dir.and_then(|d| rustix::fs::statvfs(d).ok()) else {
        return Ok(()); // not knowable: the writes themselves will tell
    };
    let free = stat.f_bavail.saturating_mul(stat.f_frsize);
    if free < meta.size.saturating_add(RESERVE_BYTES) {
        return Err(Error::StorageFull(format!(
            "only {free} bytes are free where recordings are kept; the segment waits on the terminal until there is room"
        )));
    }
    Ok(())
}

/// One `recording_refused` line in the visit's history, however many
/// segments the terminal tries.
fn note_refusal(
    conn: &Connection,
    ctx: &Ctx<'_>,
    terminal: &TerminalIdentity,
    meta: &SegmentMeta,
    confidential: bool,
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
        json!({
            "terminal_id": terminal.id,
            "reason": if confidential { "confidential" } else { "past_retention" },
        }),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_that_would_leave_too_little_room_waits_on_the_terminal() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("recordings").join("not-yet"));
        let meta = |size| SegmentMeta {
            id: uuid::Uuid::from_u128(1),
            visit_id: uuid::Uuid::from_u128(2),
            role: PartyRole::Person,
            party: uuid::Uuid::from_u128(3),
            track: 0,
            index: 0,
            started_at: chrono::Utc::now(),
            duration_ms: 6000,
            size,
            sha256: "0".repeat(64),
            media_type: "video/x-matroska".into(),
            closed: true,
        };
        assert!(check_room(&store, &meta(1000)).is_ok());
        assert!(matches!(
            check_room(&store, &meta(u64::MAX / 2)),
            Err(Error::StorageFull(_))
        ));
    }
}
