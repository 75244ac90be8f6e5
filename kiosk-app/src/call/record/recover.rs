//! At start-up, what a crash (a power cut, a SIGKILL mid-visit) left in
//! `recordings/`: a segment file that was open, never registered. Each is
//! synced and registered as not closed (`closed: false`, length unknown),
//! to be uploaded like any other; an empty one is removed. Nothing else
//! is touched: a file leaves only once the server has it.

use std::path::Path;

use chrono::{DateTime, Utc};
use protocol::recording::PartyRole;
use uuid::Uuid;

use super::worker::{TrackKey, parse_name, seal};
use crate::store::Store;

/// Register every unregistered segment under `data_dir`; returns how many.
/// `terminal` is our own party id (the person's seat is the terminal's).
pub fn recover(data_dir: &Path, store: &Store, terminal: Uuid) -> anyhow::Result<usize> {
    let root = data_dir.join("recordings");
    let Ok(visits) = std::fs::read_dir(&root) else {
        return Ok(0);
    };
    let known = store.segment_paths()?;
    let mut n = 0;
    for v in visits.flatten() {
        let Some(visit) = v.file_name().to_str().and_then(|s| s.parse::<Uuid>().ok()) else {
            continue;
        };
        for f in std::fs::read_dir(v.path())?.flatten() {
            let path = f.path();
            if known.contains(&path) {
                continue;
            }
            let Some((party, track, _)) = parse_name(&path) else {
                continue;
            };
            let key = TrackKey {
                visit,
                role: if party == terminal {
                    PartyRole::Person
                } else {
                    PartyRole::Visitor
                },
                party,
                track,
            };
            let started: DateTime<Utc> = f
                .metadata()
                .and_then(|m| m.created().or_else(|_| m.modified()))
                .map(DateTime::<Utc>::from)
                .unwrap_or_else(|_| Utc::now());
            match seal(&path, &key, started, 0, false)? {
                Some(meta) => {
                    store.add_segment(&meta, &path)?;
                    tracing::warn!(visit_id = %visit, terminal_id = %terminal, file = %path.display(), size = meta.size, "a recording segment cut short by a crash was recovered");
                    n += 1;
                }
                None => {
                    tracing::info!(visit_id = %visit, terminal_id = %terminal, file = %path.display(), "an empty recording segment was removed");
                }
            }
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kill mid-visit leaves an open segment and an empty one: at the
    /// next start the first is registered (not closed, hash of its bytes),
    /// the empty one is gone, and a registered one is left alone.
    #[test]
    fn a_segment_left_by_a_kill_is_registered_once_and_an_empty_one_removed() {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(data.path()).unwrap();
        let (me, visitor, visit) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let dir = super::super::visit_dir(data.path(), visit);
        std::fs::create_dir_all(&dir).unwrap();
        let cut = dir.join(format!("{visitor}-0-4.mkv"));
        std::fs::write(&cut, b"partial matroska").unwrap();
        let empty = dir.join(format!("{me}-1-0.mkv"));
        std::fs::write(&empty, b"").unwrap();

        assert_eq!(recover(data.path(), &store, me).unwrap(), 1);
        assert!(!empty.exists(), "the empty segment is removed");
        let s = store.next_segment().unwrap().unwrap();
        assert_eq!(s.path, cut);
        assert!(!s.meta.closed);
        assert_eq!(s.meta.duration_ms, 0);
        assert_eq!((s.meta.party, s.meta.track, s.meta.index), (visitor, 0, 4));
        assert_eq!(s.meta.role, PartyRole::Visitor);
        assert_eq!(s.meta.size, 16);
        assert_eq!(
            s.meta.sha256,
            crate::disk::sha256_file(&cut).unwrap().1,
            "the registered hash is the file's"
        );
        // Started again: nothing new, nothing deleted.
        drop(store);
        let store = Store::open(data.path()).unwrap();
        assert_eq!(recover(data.path(), &store, me).unwrap(), 0);
        assert!(cut.exists());
        assert_eq!(store.segments_pending().unwrap(), (1, 16));
    }
}
