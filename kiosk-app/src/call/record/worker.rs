//! The recorder's worker thread: what the tracks note on GStreamer's
//! threads (a segment opened, closed, a track failed) is done here, away
//! from the streaming threads: a closed segment's file and directory are
//! synced, hashed and registered in `outbox.db`; the visit's history hears
//! that recording started, or that part of it could not be recorded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Receiver;

use chrono::{DateTime, Utc};
use protocol::recording::{PartyRole, SegmentMeta};
use protocol::terminal::{TerminalEvent, TerminalEventKind};
use uuid::Uuid;

use crate::disk;
use crate::store::Store;

/// Which track a segment belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackKey {
    pub visit: Uuid,
    pub role: PartyRole,
    pub party: Uuid,
    pub track: u32,
}

/// What happened to a track.
#[derive(Debug)]
pub enum Note {
    /// A segment file was opened; `at` is the wall time (server-corrected).
    Opened {
        key: TrackKey,
        location: PathBuf,
        running_ns: u64,
        at: DateTime<Utc>,
    },
    /// A segment file was closed (finished, or the track ended).
    Closed { location: PathBuf, running_ns: u64 },
    /// A track failed (or could not start): the call goes on without it.
    Failed { key: TrackKey, reason: String },
}

/// The worker's state: the segments open now, and whether the visit's
/// history was told recording started.
pub(super) struct Worker {
    pub store: Arc<Store>,
    pub terminal: Uuid,
    pub visit: Uuid,
    open: HashMap<PathBuf, (TrackKey, u64, DateTime<Utc>)>,
    started: bool,
}

impl Worker {
    pub fn new(store: Arc<Store>, terminal: Uuid, visit: Uuid) -> Worker {
        Worker {
            store,
            terminal,
            visit,
            open: HashMap::new(),
            started: false,
        }
    }

    /// Run until every sender is gone.
    pub fn run(mut self, notes: Receiver<Note>) {
        for n in notes {
            self.handle(n);
        }
        // Segments never closed (their track failed): the call is over and
        // nothing writes them any more; kept as cut short, like a crash's.
        for (location, (key, _, at)) in std::mem::take(&mut self.open) {
            let kept = seal(&location, &key, at, 0, false).and_then(|m| {
                m.map_or(Ok(()), |m| self.store.add_segment(&m, &location).map(drop))
            });
            match kept {
                Ok(()) => {
                    tracing::warn!(visit_id = %self.visit, terminal_id = %self.terminal, file = %location.display(), "a recording segment its track never closed is kept as cut short")
                }
                Err(e) => {
                    tracing::error!(visit_id = %self.visit, terminal_id = %self.terminal, file = %location.display(), error = %format!("{e:#}"), "a recording segment could not be kept")
                }
            }
        }
        tracing::debug!(visit_id = %self.visit, terminal_id = %self.terminal, "recorder worker done");
    }

    fn handle(&mut self, n: Note) {
        match n {
            Note::Opened {
                key,
                location,
                running_ns,
                at,
            } => {
                if !self.started {
                    self.started = true;
                    self.event(at, TerminalEventKind::RecordingStarted);
                    tracing::info!(visit_id = %self.visit, terminal_id = %self.terminal, "recording started");
                }
                self.open.insert(location, (key, running_ns, at));
            }
            Note::Closed {
                location,
                running_ns,
            } => {
                let Some((key, opened_ns, at)) = self.open.remove(&location) else {
                    return;
                };
                let duration_ms = running_ns.saturating_sub(opened_ns) / 1_000_000;
                if let Err(e) = self.register(&key, &location, at, duration_ms) {
                    let reason = problem_reason(&format!("{e:#}"));
                    tracing::error!(visit_id = %self.visit, terminal_id = %self.terminal, file = %location.display(), error = %format!("{e:#}"), "a recording segment could not be kept");
                    self.event(Utc::now(), TerminalEventKind::RecordingProblem { reason });
                }
            }
            Note::Failed { key, reason } => {
                let reason = problem_reason(&reason);
                tracing::error!(visit_id = %self.visit, terminal_id = %self.terminal, party = %key.party, track = key.track, reason, "recording problem; the call goes on");
                self.event(Utc::now(), TerminalEventKind::RecordingProblem { reason });
            }
        }
    }

    /// Sync, hash and register a closed segment (an empty one is removed).
    fn register(
        &self,
        key: &TrackKey,
        file: &Path,
        started_at: DateTime<Utc>,
        duration_ms: u64,
    ) -> anyhow::Result<()> {
        let meta = seal(file, key, started_at, duration_ms, true)?;
        let Some(meta) = meta else {
            return Ok(());
        };
        self.store.add_segment(&meta, file)?;
        tracing::info!(visit_id = %self.visit, terminal_id = %self.terminal, segment = %meta.id, party = %key.party, track = key.track, index = meta.index, duration_ms, size = meta.size, "recording segment closed");
        Ok(())
    }

    fn event(&self, at: DateTime<Utc>, event: TerminalEventKind) {
        let e = TerminalEvent {
            id: Uuid::new_v4(),
            occurred_at: at,
            visit_id: self.visit,
            event,
        };
        if let Err(err) = self.store.queue(&e) {
            tracing::error!(visit_id = %self.visit, terminal_id = %self.terminal, error = %err, "cannot queue a recording event");
        }
    }
}

/// Make a segment file durable and describe it (`None`: it was empty, and
/// is removed). Used for closed segments and for those recovered after a
/// crash.
pub fn seal(
    file: &Path,
    key: &TrackKey,
    started_at: DateTime<Utc>,
    duration_ms: u64,
    closed: bool,
) -> anyhow::Result<Option<SegmentMeta>> {
    use anyhow::Context;
    let (size, sha256) = disk::sha256_file(file).context("reading the segment")?;
    if size == 0 {
        std::fs::remove_file(file).context("removing an empty segment")?;
        return Ok(None);
    }
    disk::sync_file_and_dir(file).context("syncing the segment")?;
    Ok(Some(SegmentMeta {
        id: Uuid::new_v4(),
        visit_id: key.visit,
        role: key.role,
        party: key.party,
        track: key.track,
        index: parse_name(file).map_or(0, |(_, _, i)| i),
        started_at,
        duration_ms,
        size,
        sha256,
        media_type: "video/x-matroska".into(),
        closed,
    }))
}

/// `<party>-<track>-<index>.mkv` -> its three parts.
pub fn parse_name(file: &Path) -> Option<(Uuid, u32, u32)> {
    let stem = file.file_name()?.to_str()?.strip_suffix(".mkv")?;
    let mut parts = stem.rsplitn(3, '-');
    let index = parts.next()?.parse().ok()?;
    let track = parts.next()?.parse().ok()?;
    let party = parts.next()?.parse().ok()?;
    Some((party, track, index))
}

/// The event's reason: a full disk is said as such.
fn problem_reason(error: &str) -> String {
    let lower = error.to_lowercase();
    if lower.contains("no space") || lower.contains("space left") {
        "disk_full".into()
    } else if error.starts_with("recorder_failed") || error == "disk_full" {
        error.into()
    } else {
        format!("recorder_failed: {error}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_file_name_gives_party_track_and_index() {
        let p = Uuid::from_u128(7);
        let f = PathBuf::from(format!("/d/recordings/v/{p}-2-13.mkv"));
        assert_eq!(parse_name(&f), Some((p, 2, 13)));
        assert_eq!(parse_name(Path::new("/d/x.mkv")), None);
    }

    #[test]
    fn a_full_disk_is_reported_as_such() {
        assert_eq!(
            problem_reason("Error while writing to file: No space left on device"),
            "disk_full"
        );
        assert_eq!(problem_reason("boom"), "recorder_failed: boom");
    }
}
