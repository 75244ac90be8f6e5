//! The visit's recording, on the housing-unit terminal only (the person's
//! side holds every stream) and never for a confidential visit (the
//! terminal then gives the call no [`RecordParams`]).
//!
//! Nothing is encoded twice: what is sent and what arrives is muxed as it
//! is. Each media session records up to two tracks ([`track`]): the
//! peer's streams as received (webrtcbin's RTP, tapped before decodebin in
//! `receive.rs`), and, for the session of tile 0 only, our own (tapped
//! right after the session's video encoder and Opus encoder in
//! `media.rs`): one encoder runs per peer, and one copy of our side is
//! enough. A replaced session starts new tracks.
//!
//! A track is a `splitmuxsink` writing 6 s Matroska segments to
//! `<data_dir>/recordings/<visit>/<party>-<track>-<index>.mkv`. Its
//! messages (segment opened, closed, an error) come from the bus's sync
//! handler (`capture.rs`) to the track, which hands them to the [`worker`]
//! thread: syncing, hashing and registering a segment never runs on a
//! streaming thread. A power cut loses at most the open segment (~6 s);
//! [`recover`] registers what a crash left behind at the next start.
//!
//! The recording must never stall or end the call: leaky queues in front
//! of every track, a failed track drops everything it is given, and its
//! error is a "recording problem" (logged, told to the server), not a
//! session error. A session's tracks are finished (end of stream, so the
//! last segment is closed properly) on a thread of their own; the call
//! waits for them only when it ends, before the pipeline stops.

pub mod recover;
pub mod tap;
pub mod track;
pub mod worker;

use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use protocol::recording::PartyRole;
use uuid::Uuid;

use crate::store::Store;
pub use track::{Kind, Track};
use worker::{Note, TrackKey, Worker};

/// The terminal's clock, corrected by the server's offset.
pub type Now = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// What a call needs to record: given only on a unit terminal, for a visit
/// that is not confidential.
#[derive(Clone)]
pub struct RecordParams {
    pub data_dir: PathBuf,
    pub store: Arc<Store>,
    pub now: Now,
    /// Below this much free space no track starts.
    pub min_free_bytes: u64,
}

/// Whether a terminal records a visit: only a unit terminal (the
/// person's side holds every stream), and never a confidential visit.
pub fn records(role: protocol::TerminalRole, confidential: bool) -> bool {
    role == protocol::TerminalRole::Unit && !confidential
}

/// Where a visit's segments are written.
pub fn visit_dir(data_dir: &std::path::Path, visit: Uuid) -> PathBuf {
    data_dir.join("recordings").join(visit.to_string())
}

/// Tracks being finished, on their own threads.
#[derive(Clone, Default)]
pub struct Finishing(Arc<Mutex<Vec<JoinHandle<()>>>>);

impl Finishing {
    /// Finish `track` (already out of its session, in `pipeline`) on a
    /// thread; `done` runs after.
    pub fn finish(
        &self,
        track: Arc<Track>,
        pipeline: gst::Pipeline,
        done: impl FnOnce() + Send + 'static,
    ) {
        let span = tracing::Span::current();
        let h = std::thread::Builder::new()
            .name("rec-finish".into())
            .spawn(move || {
                let _g = span.enter();
                track.finish(&pipeline, Duration::from_secs(5));
                done();
            });
        match h {
            Ok(h) => self.0.lock().unwrap_or_else(|e| e.into_inner()).push(h),
            Err(e) => tracing::error!(error = %e, "no thread to finish a recording track"),
        }
    }

    /// Wait for every track being finished.
    pub fn wait(&self) {
        let handles: Vec<_> = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
            .collect();
        for h in handles {
            let _ = h.join();
        }
    }
}

/// A session's tracks: the peer's as received, and ours when this session
/// records our side.
#[derive(Clone, Default)]
pub struct SessionTracks {
    pub own: Option<Arc<Track>>,
    pub peer: Option<Arc<Track>>,
    pub finishing: Finishing,
}

/// One call's recorder: hands out tracks, and owns the worker.
pub struct Recorder {
    p: RecordParams,
    visit: Uuid,
    dir: PathBuf,
    notes: Sender<Note>,
    finishing: Finishing,
    /// The disk was found full (said once).
    disk_full: bool,
}

impl Recorder {
    /// Start the worker for `visit`.
    pub fn start(p: RecordParams, visit: Uuid, terminal: Uuid) -> Recorder {
        let (notes, rx) = std::sync::mpsc::channel();
        let w = Worker::new(p.store.clone(), terminal, visit);
        let span = tracing::Span::current();
        let spawned = std::thread::Builder::new()
            .name("rec-worker".into())
            .spawn(move || {
                let _g = span.enter();
                w.run(rx)
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "no thread for the recorder");
        }
        Recorder {
            dir: visit_dir(&p.data_dir, visit),
            p,
            visit,
            notes,
            finishing: Finishing::default(),
            disk_full: false,
        }
    }

    /// The tracks of a new session with `peer` on `tile`; `own` is our
    /// party id (`Welcome.you`), recorded from tile 0's session only.
    pub fn session(&mut self, own: Option<Uuid>, peer: Uuid, tile: usize) -> SessionTracks {
        let own = own
            .filter(|_| tile == 0)
            .and_then(|me| self.track(PartyRole::Person, me));
        SessionTracks {
            own,
            peer: self.track(PartyRole::Visitor, peer),
            finishing: self.finishing.clone(),
        }
    }

    fn track(&mut self, role: PartyRole, party: Uuid) -> Option<Arc<Track>> {
        let key = |track| TrackKey {
            visit: self.visit,
            role,
            party,
            track,
        };
        if let Err(e) = std::fs::create_dir_all(&self.dir) {
            self.problem(
                key(0),
                format!("cannot create the recording directory: {e}"),
            );
            return None;
        }
        let free = crate::disk::free_bytes(&self.dir).unwrap_or(u64::MAX);
        if free < self.p.min_free_bytes {
            if !std::mem::replace(&mut self.disk_full, true) {
                tracing::error!(
                    free_bytes = free,
                    "the data partition is almost full: not recording"
                );
                self.problem(key(0), "disk_full".into());
            }
            return None;
        }
        let n = match self.p.store.next_track(self.visit, party) {
            Ok(n) => n,
            Err(e) => {
                self.problem(key(0), format!("recorder_failed: {e:#}"));
                return None;
            }
        };
        match Track::new(key(n), &self.dir, self.notes.clone(), self.p.now.clone()) {
            Ok(t) => {
                tracing::info!(party = %party, role = ?role, track = n, "recording track started");
                Some(t)
            }
            Err(e) => {
                self.problem(key(n), format!("recorder_failed: {e:#}"));
                None
            }
        }
    }

    fn problem(&self, key: TrackKey, reason: String) {
        let _ = self.notes.send(Note::Failed { key, reason });
    }

    /// The call ends: wait (at most a few seconds) until every track
    /// being finished has closed its last segment.
    pub fn close(&self) {
        let started = Instant::now();
        self.finishing.wait();
        tracing::info!(
            waited_ms = started.elapsed().as_millis() as u64,
            "recording closed"
        );
    }
}

#[cfg(test)]
mod tests {
    use protocol::TerminalRole;
    use protocol::terminal::TerminalEventKind;

    use super::*;

    /// Too little free space: no track starts (the call goes on), and the
    /// visit's history is told once, `disk_full`.
    #[test]
    fn a_nearly_full_disk_records_nothing_and_says_so_once() {
        let data = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(data.path()).unwrap());
        let params = RecordParams {
            data_dir: data.path().to_path_buf(),
            store: store.clone(),
            now: Arc::new(Utc::now),
            min_free_bytes: u64::MAX,
        };
        let (visit, me, peer) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let mut r = Recorder::start(params, visit, me);
        for _ in 0..2 {
            let t = r.session(Some(me), peer, 0);
            assert!(t.own.is_none() && t.peer.is_none());
        }
        drop(r);
        // The worker queues it; give it a moment, then count.
        let until = Instant::now() + Duration::from_secs(5);
        while store.pending(10).unwrap().is_empty() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100));
        let events = store.pending(10).unwrap();
        let kinds: Vec<_> = events.iter().map(|e| e.event.clone()).collect();
        assert_eq!(
            kinds,
            [TerminalEventKind::RecordingProblem {
                reason: "disk_full".into()
            }]
        );
        assert_eq!(events[0].visit_id, visit);
        assert!(
            !visit_dir(data.path(), visit)
                .read_dir()
                .unwrap()
                .any(|_| true)
        );
    }

    #[test]
    fn only_a_unit_terminal_records_and_never_a_confidential_visit() {
        assert!(super::records(TerminalRole::Unit, false));
        assert!(!super::records(TerminalRole::Unit, true));
        assert!(!super::records(TerminalRole::Lobby, false));
        assert!(!super::records(TerminalRole::Lobby, true));
    }
}
