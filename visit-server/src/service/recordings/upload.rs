//! `PUT /api/v1/terminal/recordings/{id}?offset=N`: a segment's bytes, in
//! chunks, from the offset the server holds. The last chunk completes it:
//! the whole file is hashed, and only a match is kept (synced, renamed into
//! place, chained into the manifest). A mismatch drops everything received,
//! so the terminal sends it again from 0.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use protocol::recording::SegmentStatus;
use rusqlite::{Connection, params};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::super::terminals::TerminalIdentity;
use super::super::{Ctx, Error, Result, visits};
use super::{SegmentRow, Store, find, io_failed, manifest, refused_for};
use crate::domain::recording::hex;

/// Take `bytes` of segment `id` at `offset`; its status afterwards.
pub fn put_chunk(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    store: &Store,
    terminal: &TerminalIdentity,
    id: Uuid,
    offset: u64,
    bytes: &[u8],
) -> Result<SegmentStatus> {
    // One upload of a segment at a time: a second PUT waits, then sees the
    // offset the first one left (and is told so if it differs).
    let _held = store.lock(id);
    let row = find(conn, id)?
        .filter(|r| r.terminal_id == terminal.id)
        .ok_or_else(|| Error::not_found("recording segment", id))?;
    if row.complete {
        return Ok(row.status());
    }
    let visit = visits::get_row(conn, row.meta.visit_id)?;
    let refused = match row.removed_at {
        Some(_) => Some("this visit's recording was removed after the facility's retention period"),
        None => refused_for(conn, &visit, ctx.now)?,
    };
    if let Some(why) = refused {
        let _ = fs::remove_file(store.partial_path(&row.meta));
        tracing::warn!(visit_id = %row.meta.visit_id, terminal_id = %terminal.id, segment_id = %id, why, "recording bytes refused");
        return Err(Error::RecordingRefused(why.into()));
    }
    if offset != row.received {
        return Err(Error::SegmentOffset {
            received: row.received,
        });
    }
    let end = offset + bytes.len() as u64;
    if end > row.meta.size {
        return Err(Error::Invalid(format!(
            "these bytes end at {end}, beyond the segment's declared size of {}",
            row.meta.size
        )));
    }
    if !bytes.is_empty() {
        write_at(&store.partial_path(&row.meta), offset, bytes)?;
        conn.execute(
            "UPDATE recording_segments SET received = ?2 WHERE id = ?1",
            params![id.to_string(), end as i64],
        )?;
    }
    if end < row.meta.size {
        tracing::debug!(visit_id = %row.meta.visit_id, terminal_id = %terminal.id, segment_id = %id, received = end, "recording chunk stored");
        return Ok(SegmentStatus {
            id,
            received: end,
            complete: false,
        });
    }
    finish(conn, ctx, store, &row)
}

/// Write a chunk at its offset, dropping anything past it first (bytes a
/// crash left after the last acknowledged offset), and sync it: the offset
/// the server reports afterwards is on disk.
fn write_at(path: &Path, offset: u64, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io_failed("creating the upload directory", dir))?;
    }
    let mut f = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(path)
        .map_err(io_failed("opening a partial segment", path))?;
    f.set_len(offset)
        .and_then(|_| f.seek(SeekFrom::Start(offset)))
        .and_then(|_| f.write_all(bytes))
        .and_then(|_| f.sync_data())
        .map_err(io_failed("writing a partial segment", path))
}

/// Every byte is there: keep the segment if its hash matches.
fn finish(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    store: &Store,
    row: &SegmentRow,
) -> Result<SegmentStatus> {
    let meta = &row.meta;
    let partial = store.partial_path(meta);
    let target = store.final_path(meta);
    // After a crash between the rename and the manifest, the file is
    // already in place: hash it there.
    let source = if partial.exists() { &partial } else { &target };
    let digest = match hash_file(source) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(segment_id = %meta.id, error = %e, "recording segment missing when complete");
            String::new()
        }
    };
    if digest != meta.sha256 {
        let _ = fs::remove_file(&partial);
        conn.execute(
            "UPDATE recording_segments SET received = 0 WHERE id = ?1",
            [meta.id.to_string()],
        )?;
        tracing::warn!(visit_id = %meta.visit_id, terminal_id = %row.terminal_id, segment_id = %meta.id, "recording segment's hash did not match; dropped");
        return Err(Error::SegmentHashMismatch);
    }
    if source == &partial {
        File::open(&partial)
            .and_then(|f| f.sync_all())
            .and_then(|_| fs::rename(&partial, &target))
            .map_err(io_failed("moving a segment into place", &target))?;
        // `complete` lets the terminal delete its copy: the new name (and
        // the visit's directory itself) must survive a power cut first.
        let dir = store.visit_dir(meta.visit_id);
        sync_dir(&dir)
            .and_then(|_| sync_dir(store.dir()))
            .map_err(io_failed("syncing the recording's directory", &dir))?;
    }
    manifest::append(conn, ctx, store, row)?;
    tracing::info!(visit_id = %meta.visit_id, terminal_id = %row.terminal_id, segment_id = %meta.id, track = meta.track, index = meta.index, size = meta.size, "recording segment stored");
    Ok(SegmentStatus {
        id: meta.id,
        received: meta.size,
        complete: true,
    })
}

/// SHA-256 of a file, read in 1 MiB pieces, as lower-case hex.
pub(super) fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(hex(&h.finalize()));
        }
        h.update(&buf[..n]);
    }
}

/// Make a rename (or a new entry) in `dir` durable.
pub(super) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir).and_then(|d| d.sync_all())
}
