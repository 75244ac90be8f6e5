//! The visit's recording segments in `outbox.db`: one row per closed (or
//! recovered) segment file, written once the file is synced, holding what
//! is declared to the server ([`SegmentMeta`]) and how far its upload got.
//!
//! A row, and its file, leave only when the server said the segment is
//! stored (`complete`) or refused the visit's recording: nothing the
//! server does not hold is ever deleted here.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use protocol::recording::{PartyRole, SegmentMeta};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use uuid::Uuid;

use super::{Store, lock};

/// How far a segment's upload got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentState {
    /// Not yet stored by the server.
    Pending,
    /// The server said `complete`; the file and row are being removed.
    Uploaded,
    /// The file no longer matches its hash: kept, not sent again.
    Mismatch,
}

impl SegmentState {
    fn as_str(self) -> &'static str {
        match self {
            SegmentState::Pending => "pending",
            SegmentState::Uploaded => "uploaded",
            SegmentState::Mismatch => "mismatch",
        }
    }

    fn parse(s: &str) -> SegmentState {
        match s {
            "uploaded" => SegmentState::Uploaded,
            "mismatch" => SegmentState::Mismatch,
            _ => SegmentState::Pending,
        }
    }
}

/// A segment waiting in the outbox: what the server is told, the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedSegment {
    pub meta: SegmentMeta,
    pub path: PathBuf,
    pub state: SegmentState,
}

fn role_str(r: PartyRole) -> &'static str {
    match r {
        PartyRole::Person => "person",
        PartyRole::Visitor => "visitor",
    }
}

const COLUMNS: &str = "segment_id, visit_id, role, party, track, idx, started_at, duration_ms, \
                       size, sha256, closed, path, state";

/// A row of `COLUMNS` as a segment.
fn from_row(r: &Row<'_>) -> rusqlite::Result<QueuedSegment> {
    let uuid = |i: usize| -> rusqlite::Result<Uuid> {
        r.get::<_, String>(i)?.parse().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    let started_ms: i64 = r.get(6)?;
    Ok(QueuedSegment {
        meta: SegmentMeta {
            id: uuid(0)?,
            visit_id: uuid(1)?,
            role: if r.get::<_, String>(2)? == "person" {
                PartyRole::Person
            } else {
                PartyRole::Visitor
            },
            party: uuid(3)?,
            track: r.get(4)?,
            index: r.get(5)?,
            started_at: DateTime::<Utc>::from_timestamp_millis(started_ms).unwrap_or_default(),
            duration_ms: r.get::<_, i64>(7)? as u64,
            size: r.get::<_, i64>(8)? as u64,
            sha256: r.get(9)?,
            media_type: "video/x-matroska".into(),
            closed: r.get(10)?,
        },
        path: PathBuf::from(r.get::<_, String>(11)?),
        state: SegmentState::parse(&r.get::<_, String>(12)?),
    })
}

impl Store {
    /// Register a synced segment file, durably. `false`: it was already
    /// registered (by path or id).
    pub fn add_segment(&self, meta: &SegmentMeta, path: &Path) -> anyhow::Result<bool> {
        let c = lock(&self.outbox);
        let n = c.execute(
            &format!("INSERT INTO segments ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'pending') ON CONFLICT DO NOTHING"),
            params![
                meta.id.to_string(),
                meta.visit_id.to_string(),
                role_str(meta.role),
                meta.party.to_string(),
                meta.track,
                meta.index,
                meta.started_at.timestamp_millis(),
                meta.duration_ms as i64,
                meta.size as i64,
                meta.sha256,
                meta.closed,
                path.to_string_lossy(),
            ],
        )?;
        Ok(n == 1)
    }

    /// A new track number for `party` in `visit` (0, 1, ...): never one
    /// given before, across restarts.
    pub fn next_track(&self, visit: Uuid, party: Uuid) -> anyhow::Result<u32> {
        let mut c = lock(&self.outbox);
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (v, p) = (visit.to_string(), party.to_string());
        let next: u32 = tx
            .query_row(
                "SELECT next_track FROM tracks WHERE visit_id = ?1 AND party = ?2",
                params![v, p],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        tx.execute(
            "INSERT INTO tracks (visit_id, party, next_track) VALUES (?1, ?2, ?3)
             ON CONFLICT (visit_id, party) DO UPDATE SET next_track = ?3",
            params![v, p, next + 1],
        )?;
        tx.commit()?;
        Ok(next)
    }

    /// The oldest segment still to upload (or to finish removing), skipping
    /// those whose file no longer matches.
    pub fn next_segment(&self) -> anyhow::Result<Option<QueuedSegment>> {
        let c = lock(&self.outbox);
        let row = c
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM segments WHERE state != 'mismatch' ORDER BY seq LIMIT 1"
                ),
                [],
                from_row,
            )
            .optional()?;
        Ok(row)
    }

    /// Up to `limit` segments waiting to be sent, oldest first.
    pub fn pending_segments(&self, limit: usize) -> anyhow::Result<Vec<QueuedSegment>> {
        let c = lock(&self.outbox);
        let mut stmt = c.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM segments WHERE state != 'mismatch' ORDER BY seq LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit as i64], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every segment of `visit`, in order.
    pub fn visit_segments(&self, visit: Uuid) -> anyhow::Result<Vec<QueuedSegment>> {
        let c = lock(&self.outbox);
        let mut stmt = c.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM segments WHERE visit_id = ?1 ORDER BY seq"
        ))?;
        let rows = stmt.query_map([visit.to_string()], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Set how far a segment's upload got.
    pub fn set_segment_state(&self, id: Uuid, state: SegmentState) -> anyhow::Result<()> {
        lock(&self.outbox).execute(
            "UPDATE segments SET state = ?2 WHERE segment_id = ?1",
            params![id.to_string(), state.as_str()],
        )?;
        Ok(())
    }

    /// The segment's file is gone (stored by the server, or refused): drop
    /// its row, with a line in the local log.
    pub fn remove_segment(&self, id: Uuid, visit: Uuid, outcome: &str) -> anyhow::Result<()> {
        let mut c = lock(&self.outbox);
        let tx = c.transaction()?;
        tx.execute(
            "DELETE FROM segments WHERE segment_id = ?1",
            [id.to_string()],
        )?;
        tx.execute(
            "INSERT INTO log (at, kind, visit_id, detail) VALUES (?1, 'segment_done', ?2, ?3)",
            params![
                Utc::now().timestamp_millis(),
                visit.to_string(),
                format!("{id}: {outcome}")
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The files of every registered segment.
    pub fn segment_paths(&self) -> anyhow::Result<HashSet<PathBuf>> {
        let c = lock(&self.outbox);
        let mut stmt = c.prepare_cached("SELECT path FROM segments")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|r| Ok(PathBuf::from(r?))).collect()
    }

    /// Segments not yet stored by the server, and their bytes (the
    /// heartbeat's backlog).
    pub fn segments_pending(&self) -> anyhow::Result<(u32, u64)> {
        let (n, bytes): (u32, i64) = lock(&self.outbox).query_row(
            "SELECT count(*), coalesce(sum(size), 0) FROM segments WHERE state != 'uploaded'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((n, bytes as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: u128, visit: u128, index: u32) -> SegmentMeta {
        SegmentMeta {
            id: Uuid::from_u128(id),
            visit_id: Uuid::from_u128(visit),
            role: PartyRole::Person,
            party: Uuid::from_u128(9),
            track: 0,
            index,
            started_at: DateTime::from_timestamp_millis(1_700_000_000_000).unwrap(),
            duration_ms: 6000,
            size: 100,
            sha256: "ab".into(),
            media_type: "video/x-matroska".into(),
            closed: true,
        }
    }

    /// Segments wait oldest first across restarts; one whose file no
    /// longer matches is kept but not offered; a track number is never
    /// given twice, even after a restart.
    #[test]
    fn segments_wait_in_order_and_track_numbers_are_never_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (meta(1, 5, 0), meta(2, 5, 1));
        {
            let s = Store::open(dir.path()).unwrap();
            assert!(s.add_segment(&a, Path::new("/r/a.mkv")).unwrap());
            assert!(!s.add_segment(&a, Path::new("/r/a.mkv")).unwrap(), "once");
            assert!(s.add_segment(&b, Path::new("/r/b.mkv")).unwrap());
            assert_eq!(s.next_track(a.visit_id, a.party).unwrap(), 0);
            assert_eq!(s.next_track(a.visit_id, a.party).unwrap(), 1);
        }
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.next_track(a.visit_id, a.party).unwrap(), 2);
        assert_eq!(s.next_segment().unwrap().unwrap().meta, a);
        assert_eq!(s.segments_pending().unwrap(), (2, 200));
        s.set_segment_state(a.id, SegmentState::Mismatch).unwrap();
        assert_eq!(s.next_segment().unwrap().unwrap().meta, b);
        s.set_segment_state(b.id, SegmentState::Uploaded).unwrap();
        assert_eq!(s.segments_pending().unwrap(), (1, 100));
        s.remove_segment(b.id, b.visit_id, "stored").unwrap();
        assert_eq!(s.next_segment().unwrap(), None);
        assert_eq!(s.visit_segments(a.visit_id).unwrap().len(), 1);
    }
}
