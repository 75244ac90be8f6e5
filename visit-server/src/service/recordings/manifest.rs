//! A visit's manifest: its complete segments in the order they were
//! stored, each chained to the one before (see `domain::recording`), kept
//! in the database and written beside the segments as `manifest.json`.
//! [`verify`] recomputes each file's SHA-256 and the chain and says what,
//! if anything, is missing, altered or out of chain.

use std::fs::{self, File};
use std::io::Write;

use chrono::{DateTime, Utc};
use protocol::recording::SegmentMeta;
use rusqlite::{Connection, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::super::{Ctx, Result, visits};
use super::upload::sync_dir;
use super::{SegmentRow, Store, io_failed, segments_of};
use crate::db::ts;
use crate::domain::recording::{CHAIN_START, chain_next, file_name};

/// One entry of `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Its place in the chain, from 1.
    pub seq: i64,
    /// The file beside the manifest.
    pub file: String,
    /// `SHA-256(previous chain || canonical JSON of meta)`, hex.
    pub chain: String,
    /// The segment as the terminal declared it (its SHA-256 included).
    pub meta: SegmentMeta,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub visit_id: Uuid,
    /// The chain's value before the first entry.
    pub chain_start: String,
    pub entries: Vec<Entry>,
}

/// Chain a segment whose file is in place into its visit's manifest, mark
/// it complete, and rewrite `manifest.json`. The file is written inside the
/// transaction: SQLite's write lock orders concurrent appends, so the last
/// file written is the newest manifest.
pub(super) fn append(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    store: &Store,
    row: &SegmentRow,
) -> Result<()> {
    let meta = &row.meta;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let (seq, previous): (i64, Option<String>) = tx.query_row(
        "SELECT COALESCE(MAX(manifest_seq), 0),
                (SELECT chain FROM recording_segments WHERE visit_id = ?1
                 ORDER BY manifest_seq DESC LIMIT 1)
         FROM recording_segments WHERE visit_id = ?1 AND complete",
        [meta.visit_id.to_string()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let chain = chain_next(previous.as_deref().unwrap_or(CHAIN_START), meta);
    let first_of_track: bool = tx.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM recording_segments
             WHERE visit_id = ?1 AND party = ?2 AND track = ?3 AND complete)",
        params![
            meta.visit_id.to_string(),
            meta.party.to_string(),
            meta.track
        ],
        |r| r.get(0),
    )?;
    tx.execute(
        "UPDATE recording_segments SET complete = 1, received = size, stored_at = ?2,
             manifest_seq = ?3, chain = ?4 WHERE id = ?1 AND NOT complete",
        params![meta.id.to_string(), ts(ctx.now), seq + 1, chain],
    )?;
    if first_of_track {
        visits::record(
            &tx,
            ctx,
            meta.visit_id,
            "recording_stored",
            (None, None),
            json!({ "party": meta.party, "role": meta.role, "track": meta.track,
                    "terminal_id": row.terminal_id, "segment_id": meta.id }),
        )?;
    }
    write_file(store, &tx, meta.visit_id)?;
    tx.commit()?;
    Ok(())
}

/// The manifest's entries as the database holds them, by sequence.
pub fn entries(conn: &Connection, visit: Uuid) -> Result<Vec<Entry>> {
    let mut rows: Vec<SegmentRow> = segments_of(conn, visit)?
        .into_iter()
        .filter(|r| r.complete)
        .collect();
    rows.sort_by_key(|r| r.manifest_seq);
    Ok(rows
        .into_iter()
        .map(|r| Entry {
            seq: r.manifest_seq.unwrap_or(0),
            file: file_name(&r.meta),
            chain: r.chain.unwrap_or_default(),
            meta: r.meta,
        })
        .collect())
}

/// The manifest as JSON (what `manifest.json` holds).
pub fn manifest_json(conn: &Connection, visit: Uuid) -> Result<Vec<u8>> {
    let m = Manifest {
        visit_id: visit,
        chain_start: CHAIN_START.into(),
        entries: entries(conn, visit)?,
    };
    Ok(serde_json::to_vec_pretty(&m).expect("the manifest serialises"))
}

/// Write `manifest.json` whole: a temporary file, synced, renamed over it.
fn write_file(store: &Store, conn: &Connection, visit: Uuid) -> Result<()> {
    let dir = store.visit_dir(visit);
    let body = manifest_json(conn, visit)?;
    let tmp = dir.join(".manifest.json.tmp");
    let path = dir.join("manifest.json");
    File::create(&tmp)
        .and_then(|mut f| f.write_all(&body).and_then(|_| f.sync_all()))
        .and_then(|_| fs::rename(&tmp, &path))
        .and_then(|_| sync_dir(&dir))
        .map_err(io_failed("writing the manifest", &path))
}

/// What is wrong with one part of a stored recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The segment's file is gone.
    Missing { file: String },
    /// The file's bytes are not the ones stored.
    Altered { file: String },
    /// The segment's metadata no longer matches its link in the chain.
    OutOfChain { file: String },
    /// `manifest.json` is missing or differs from the manifest stored.
    ManifestFile,
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Complete segments checked.
    pub segments: usize,
    pub problems: Vec<Problem>,
    pub checked_at: DateTime<Utc>,
}

impl Verification {
    /// Every file is there, unaltered, and the chain holds.
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Recompute every stored segment's hash and the chain of a visit's
/// recording. A removed recording (retention) has nothing to check.
pub fn verify(
    conn: &Connection,
    store: &Store,
    visit: Uuid,
    now: DateTime<Utc>,
) -> Result<Verification> {
    let rows: Vec<SegmentRow> = segments_of(conn, visit)?
        .into_iter()
        .filter(|r| r.complete && r.removed_at.is_none())
        .collect();
    if rows.is_empty() {
        return Ok(Verification {
            segments: 0,
            problems: Vec::new(),
            checked_at: now,
        });
    }
    let entries = entries(conn, visit)?;
    let mut problems = Vec::new();
    let mut previous = CHAIN_START.to_string();
    for e in &entries {
        if chain_next(&previous, &e.meta) != e.chain {
            problems.push(Problem::OutOfChain {
                file: e.file.clone(),
            });
        }
        previous = e.chain.clone();
        let path = store.visit_dir(visit).join(&e.file);
        match store.hash_of(&path) {
            Ok(h) if h == e.meta.sha256 => {}
            Ok(_) => problems.push(Problem::Altered {
                file: e.file.clone(),
            }),
            Err(_) => problems.push(Problem::Missing {
                file: e.file.clone(),
            }),
        }
    }
    let on_disk = fs::read(store.visit_dir(visit).join("manifest.json")).ok();
    if on_disk.as_deref() != Some(manifest_json(conn, visit)?.as_slice()) {
        problems.push(Problem::ManifestFile);
    }
    if !problems.is_empty() {
        tracing::warn!(visit_id = %visit, problems = ?problems, "recording does not verify");
    }
    Ok(Verification {
        segments: rows.len(),
        problems,
        checked_at: now,
    })
}
