//! Visit recordings: the segments housing-unit terminals upload, where
//! they are kept, the chained manifest that makes them tamper-evident, and
//! their removal after the facility's retention.
//!
//! A terminal declares a segment (`declare`: its [`SegmentMeta`], stored
//! once, refused for a confidential visit or a terminal that may not record
//! it), then sends its bytes from the offset the server holds (`upload`).
//! Bytes go to `<dir>/<visit>/.partial/<segment>`; once every byte is there
//! the file is hashed, and on a match synced, renamed to
//! `<dir>/<visit>/<party>-<track>-<index>.mkv` and appended to the visit's
//! manifest (`manifest`), which is also written beside the segments as
//! `manifest.json`. Only then is the segment `complete`, and only then
//! does the terminal drop its copy. `verify` recomputes every file's hash
//! and the chain. `retention` removes recordings the facility no longer
//! keeps; `view` and `archive` are what the console shows and downloads.
//!
//! The database is the source of truth for what was declared, received and
//! chained; a segment's file is written outside any transaction (a 4 MiB
//! chunk or a whole-file hash should not hold SQLite's write lock), and
//! the uploads of one segment are serialised by [`Store::lock`].

mod archive;
mod declare;
mod manifest;
mod retention;
mod upload;
mod view;

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use protocol::recording::{PartyRole, SegmentMeta, SegmentStatus};
use rusqlite::{Connection, OptionalExtension};
use uuid::Uuid;

pub use archive::{Archive, contents as archive_contents, write_tar};
pub use declare::declare;
pub use manifest::{Entry, Manifest, Problem, Verification, verify};
pub use retention::sweep;
pub use upload::put_chunk;
pub use view::{Party, PlaySegment, Summary, segment_file, summary};

use super::{Error, Result, uuid_at};
use crate::db::from_ts;
use crate::domain::recording::file_name;

/// How many locks the segments' uploads are spread over.
const LOCK_STRIPES: usize = 64;

/// Where recordings are kept, and the locks that serialise one segment's
/// uploads (striped by id: two segments rarely share one, and then only
/// wait for each other).
pub struct Store {
    dir: PathBuf,
    locks: Vec<Mutex<()>>,
    /// Hashes of stored files, with the stamp they had when hashed.
    hashes: Mutex<HashMap<PathBuf, (Stamp, String)>>,
}

/// What changes whenever a file's bytes do: its inode, size, and change
/// time. The change time (ctime) is set by the kernel on every write and
/// cannot be set back from user space, unlike the modification time, so a
/// file rewritten with its old mtime restored is still hashed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    ino: u64,
    size: u64,
    ctime: i64,
    ctime_nsec: i64,
}

impl Stamp {
    fn of(path: &Path) -> std::io::Result<Stamp> {
        let m = std::fs::metadata(path)?;
        Ok(Stamp {
            ino: m.ino(),
            size: m.size(),
            ctime: m.ctime(),
            ctime_nsec: m.ctime_nsec(),
        })
    }
}

impl Store {
    /// Recordings under `dir` (created when the first segment arrives).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            locks: (0..LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
            hashes: Mutex::new(HashMap::new()),
        }
    }

    /// The directory of every recording.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// One visit's directory.
    pub fn visit_dir(&self, visit: Uuid) -> PathBuf {
        self.dir.join(visit.to_string())
    }

    fn partial_path(&self, meta: &SegmentMeta) -> PathBuf {
        self.visit_dir(meta.visit_id)
            .join(".partial")
            .join(meta.id.to_string())
    }

    fn final_path(&self, meta: &SegmentMeta) -> PathBuf {
        self.visit_dir(meta.visit_id).join(file_name(meta))
    }

    /// A stored file's SHA-256, read again only when the file changed
    /// since it was last hashed (see [`Stamp`]): the visit's page verifies
    /// its recording each time it is shown, and a long visit is hundreds
    /// of megabytes.
    fn hash_of(&self, path: &Path) -> std::io::Result<String> {
        let stamp = Stamp::of(path)?;
        let known = self
            .hashes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .cloned();
        if let Some((_, hash)) = known.filter(|(s, _)| *s == stamp) {
            return Ok(hash);
        }
        let hash = upload::hash_file(path)?;
        // Kept only for a file unchanged for a while: the kernel's change
        // time is coarse (a few ms), so a write just after the one stamped
        // could share its stamp (git's "racily clean" files). Stamped as
        // before the read, so a write during it is seen next time.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        if now - stamp.ctime >= 2 {
            self.hashes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(path.to_owned(), (stamp, hash.clone()));
        }
        Ok(hash)
    }

    /// Forget the hashes of a visit's files (its recording was removed).
    fn forget(&self, visit: Uuid) {
        let dir = self.visit_dir(visit);
        self.hashes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|p, _| !p.starts_with(&dir));
    }

    /// Held while a segment's bytes are written, hashed and moved.
    fn lock(&self, id: Uuid) -> MutexGuard<'_, ()> {
        let stripe = (id.as_u128() % LOCK_STRIPES as u128) as usize;
        self.locks[stripe].lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A declared segment as stored.
#[derive(Debug, Clone)]
pub struct SegmentRow {
    pub meta: SegmentMeta,
    pub terminal_id: Uuid,
    pub received: u64,
    pub complete: bool,
    pub stored_at: Option<DateTime<Utc>>,
    pub manifest_seq: Option<i64>,
    pub chain: Option<String>,
    pub removed_at: Option<DateTime<Utc>>,
}

impl SegmentRow {
    /// What the terminal is told. A segment removed after the retention
    /// was stored: it stays complete.
    pub fn status(&self) -> SegmentStatus {
        SegmentStatus {
            id: self.meta.id,
            received: if self.complete {
                self.meta.size
            } else {
                self.received
            },
            complete: self.complete,
        }
    }
}

fn role_db(role: PartyRole) -> &'static str {
    match role {
        PartyRole::Person => "person",
        PartyRole::Visitor => "visitor",
    }
}

const COLUMNS: &str = "id, visit_id, role, party, track, idx, started_at, duration_ms, size, \
     sha256, media_type, closed, terminal_id, received, complete, stored_at, manifest_seq, chain, \
     removed_at";

fn row_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<SegmentRow> {
    let role: String = r.get(2)?;
    Ok(SegmentRow {
        meta: SegmentMeta {
            id: uuid_at(r, 0)?,
            visit_id: uuid_at(r, 1)?,
            role: if role == "person" {
                PartyRole::Person
            } else {
                PartyRole::Visitor
            },
            party: uuid_at(r, 3)?,
            track: r.get(4)?,
            index: r.get(5)?,
            started_at: from_ts(r.get(6)?),
            duration_ms: r.get::<_, i64>(7)? as u64,
            size: r.get::<_, i64>(8)? as u64,
            sha256: r.get(9)?,
            media_type: r.get(10)?,
            closed: r.get(11)?,
        },
        terminal_id: uuid_at(r, 12)?,
        received: r.get::<_, i64>(13)? as u64,
        complete: r.get(14)?,
        stored_at: r.get::<_, Option<i64>>(15)?.map(from_ts),
        manifest_seq: r.get(16)?,
        chain: r.get(17)?,
        removed_at: r.get::<_, Option<i64>>(18)?.map(from_ts),
    })
}

/// A declared segment, if there is one with this id.
pub fn find(conn: &Connection, id: Uuid) -> Result<Option<SegmentRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM recording_segments WHERE id = ?1"),
            [id.to_string()],
            row_of,
        )
        .optional()?)
}

/// Every segment declared for a visit, by start time (then track, index).
pub fn segments_of(conn: &Connection, visit: Uuid) -> Result<Vec<SegmentRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM recording_segments WHERE visit_id = ?1
         ORDER BY started_at, party, track, idx"
    ))?;
    let rows = stmt.query_map([visit.to_string()], row_of)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// `GET /api/v1/terminal/recordings/{id}`: how much of a segment this
/// terminal declared the server holds.
pub fn status(conn: &Connection, terminal: Uuid, id: Uuid) -> Result<SegmentStatus> {
    find(conn, id)?
        .filter(|r| r.terminal_id == terminal)
        .map(|r| r.status())
        .ok_or_else(|| Error::not_found("recording segment", id))
}

/// A filesystem failure: logged with what was being done, answered as the
/// server's fault (the terminal keeps its copy and retries).
fn io_failed<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |e| {
        tracing::error!(error = %e, path = %path.display(), "recordings: {what} failed");
        Error::Internal
    }
}

/// Why a visit's segments are no longer taken, if they are not: a
/// confidential visit, or one whose recording the facility no longer keeps
/// (its retention is over: what arrives now would be removed at once).
pub(super) fn refused_for(
    conn: &Connection,
    visit: &super::visits::VisitRow,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<&'static str>> {
    if visit.confidential {
        return Ok(Some(
            "this visit is confidential: it is never recorded; drop what was recorded of it",
        ));
    }
    let days: u32 = conn.query_row(
        "SELECT recording_retention_days FROM facilities WHERE id = ?1",
        [visit.facility_id.to_string()],
        |r| r.get(0),
    )?;
    if crate::domain::recording::retention_over(visit.end, days, now) {
        return Ok(Some(
            "this visit's recording is past the facility's retention period and is not kept",
        ));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_rewritten_with_its_old_modification_time_is_hashed_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let path = dir.path().join("segment.mkv");
        std::fs::write(&path, b"first bytes").unwrap();
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        let first = store.hash_of(&path).unwrap();
        std::fs::write(&path, b"other bytes").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        assert_ne!(store.hash_of(&path).unwrap(), first);
        assert_eq!(
            store.hash_of(&path).unwrap(),
            upload::hash_file(&path).unwrap()
        );
    }
}
