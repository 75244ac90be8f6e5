//! Uploading the visit recordings' segments, oldest first, after the event
//! outbox in each sync round: declare the segment (`POST`), then send its
//! bytes in chunks from where the server is (`PUT ?offset=`), asking again
//! (`GET`) when the offsets disagree. A file is deleted only once the server
//! said `complete` (or refused the visit's recording): every step is
//! idempotent, so a kill between any two costs at most a repeated request.
//!
//! **Pacing during a call.** The unit terminal's uplink carries the call
//! itself, whose encoders adapt to what is left. While a call is in
//! progress a chunk is at most [`CALL_CHUNK`] (64 KiB) and is followed by
//! [`CALL_PAUSE`] (1 s): at most ~0.5 Mbit/s on average, in short bursts
//! that the call's congestion control absorbs, instead of 4 MiB bursts that
//! would fill the uplink's queue for seconds and freeze the picture. The
//! backlog then drains at full speed once the call is over.

use std::io::{Read, Seek, SeekFrom};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use protocol::error::codes;
use protocol::recording::{MAX_CHUNK_BYTES, SegmentStatus};
use uuid::Uuid;

use super::Sync;
use super::client::SyncError;
use crate::store::{QueuedSegment, SegmentState};

/// A chunk's size while a call is in progress.
pub const CALL_CHUNK: usize = 64 * 1024;
/// The pause after each chunk while a call is in progress.
pub const CALL_PAUSE: Duration = Duration::from_secs(1);
/// How many times a round sends a segment again whose hash the server
/// found different.
const MAX_RESENDS: u32 = 3;
/// How long one sync round uploads, during a call and between calls: the
/// round's heartbeat, schedule and events wait for it, so a long backlog is
/// sent over many rounds rather than holding one for the whole call.
const ROUND_BUDGET: (Duration, Duration) = (Duration::from_secs(3), Duration::from_secs(30));
/// Segments a round looks at (one refused for now does not hold up the others).
const ROUND_SEGMENTS: usize = 64;

/// How one segment's upload ended this round.
enum Outcome {
    /// Stored by the server: delete it here.
    Stored,
    /// The server refuses the visit's recording: drop all of it.
    Refused,
    /// Set aside (it can never be sent as it is); go on with the next.
    Skip,
    /// Try again next round; go on with the next segment.
    Later,
    /// The round's time is up: the rest waits for the next round.
    Paused,
}

/// An error of the store or the file, as the round reports it.
fn local(e: impl std::fmt::Display) -> SyncError {
    SyncError::Malformed(format!("recording store: {e}"))
}

fn code_of(e: &SyncError) -> Option<&str> {
    match e {
        SyncError::Server { code, .. } => Some(code.as_str()),
        _ => None,
    }
}

impl Sync {
    /// Upload what waits, oldest first. Only an unreachable server fails
    /// the round (the usual backoff); a refusal this terminal cannot act on
    /// (say, a server without the endpoints yet) stops the uploads until
    /// the next round, with a log line.
    pub(super) async fn push_recordings(&self) -> Result<(), SyncError> {
        let mut resends = 0;
        let budget = if self.shared.in_call.load(Ordering::Relaxed) {
            ROUND_BUDGET.0
        } else {
            ROUND_BUDGET.1
        };
        let until = Instant::now() + budget;
        let mut refused = Vec::new();
        for seg in self.store.pending_segments(ROUND_SEGMENTS).map_err(local)? {
            let (id, visit) = (seg.meta.id, seg.meta.visit_id);
            if refused.contains(&visit) {
                continue; // dropped with its visit a moment ago
            }
            match self.upload(&seg, &mut resends, until).await? {
                Outcome::Stored => self.stored(&seg)?,
                Outcome::Refused => {
                    self.refused(visit)?;
                    refused.push(visit);
                }
                Outcome::Skip => {
                    self.store
                        .set_segment_state(id, SegmentState::Mismatch)
                        .map_err(local)?;
                }
                Outcome::Later => {}
                Outcome::Paused => return Ok(()),
            }
            if Instant::now() >= until {
                return Ok(());
            }
        }
        Ok(())
    }

    /// One segment: declare it, then send what the server lacks.
    async fn upload(
        &self,
        seg: &QueuedSegment,
        resends: &mut u32,
        until: Instant,
    ) -> Result<Outcome, SyncError> {
        let id = seg.meta.id;
        if seg.state == SegmentState::Uploaded {
            return Ok(Outcome::Stored);
        }
        let mut status = match self.client.declare_segment(&seg.meta).await {
            Ok(s) => s,
            Err(e) => return self.refusal(seg, e),
        };
        loop {
            if status.complete {
                return Ok(Outcome::Stored);
            }
            let chunk = match read_chunk(seg, status.received, self.chunk_size()) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(segment = %id, visit_id = %seg.meta.visit_id, file = %seg.path.display(), error = %e, "a recording segment cannot be read; it is kept and set aside");
                    return Ok(Outcome::Skip);
                }
            };
            if chunk.is_empty() {
                // Every byte is there and not complete: ask once more.
                let s = self.client.segment_status(id).await?;
                if !s.complete {
                    tracing::warn!(segment = %id, received = s.received, "the server has every byte of a segment but not stored it; trying again later");
                    return Ok(Outcome::Later);
                }
                status = s;
                continue;
            }
            let sent = self
                .client
                .put_segment_chunk(id, status.received, chunk)
                .await;
            status = match sent {
                Ok(s) => s,
                Err(e) if code_of(&e) == Some(codes::SEGMENT_OFFSET) => {
                    let s = self.client.segment_status(id).await?;
                    tracing::info!(segment = %id, from = s.received, "resuming a segment where the server is");
                    s
                }
                Err(e) if code_of(&e) == Some(codes::SEGMENT_HASH_MISMATCH) => {
                    match self.resend(seg, resends) {
                        Ok(s) => s,
                        Err(outcome) => return Ok(outcome),
                    }
                }
                Err(e) => return self.refusal(seg, e),
            };
            if status.complete {
                continue;
            }
            if Instant::now() >= until {
                return Ok(Outcome::Paused);
            }
            if self.shared.in_call.load(Ordering::Relaxed) {
                tokio::time::sleep(CALL_PAUSE).await;
            }
        }
    }

    /// The server dropped a segment whose hash differed: send it again
    /// from 0 if the file still matches its row (a few times a round, then
    /// next round). A file changed on disk is set aside, never deleted.
    fn resend(&self, seg: &QueuedSegment, resends: &mut u32) -> Result<SegmentStatus, Outcome> {
        let (id, visit) = (seg.meta.id, seg.meta.visit_id);
        let same = crate::disk::sha256_file(&seg.path)
            .is_ok_and(|(size, hash)| size == seg.meta.size && hash == seg.meta.sha256);
        if !same {
            tracing::error!(segment = %id, visit_id = %visit, file = %seg.path.display(), "a recording segment no longer matches its hash; it is kept and not sent");
            return Err(Outcome::Skip);
        }
        *resends += 1;
        if *resends > MAX_RESENDS {
            tracing::warn!(segment = %id, visit_id = %visit, "a segment's hash mismatched again; trying again next round");
            return Err(Outcome::Later);
        }
        tracing::warn!(segment = %id, visit_id = %visit, "the server found a segment's hash different; sending it again from the start");
        Ok(SegmentStatus {
            id,
            received: 0,
            complete: false,
        })
    }

    /// What an error answer means for this segment.
    fn refusal(&self, seg: &QueuedSegment, e: SyncError) -> Result<Outcome, SyncError> {
        let (id, visit) = (seg.meta.id, seg.meta.visit_id);
        match &e {
            SyncError::Server { code, .. } if code == codes::RECORDING_REFUSED => {
                Ok(Outcome::Refused)
            }
            SyncError::Server { code, message, .. } if code == codes::SEGMENT_CONFLICT => {
                tracing::error!(segment = %id, visit_id = %visit, message, "the server holds other contents under this segment; it is kept and set aside");
                Ok(Outcome::Skip)
            }
            SyncError::Server { status, .. }
                if (*status < 500 && *status != 429) || *status == 507 =>
            {
                // Said once per answer, not every round (a server without
                // the endpoints yet answers 404 to each; one whose disk is
                // full, 507 `storage_full`: the terminal is not offline).
                let said = format!("{id} {e}");
                let mut last = self
                    .recordings_said
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                if last.as_deref() != Some(said.as_str()) {
                    tracing::warn!(segment = %id, visit_id = %visit, error = %e, "the server did not take a recording segment; trying again each round");
                    *last = Some(said);
                }
                Ok(Outcome::Later)
            }
            _ => Err(e),
        }
    }

    /// The server stored it: mark, delete the file, delete the row (each
    /// step harmless to repeat after a kill).
    fn stored(&self, seg: &QueuedSegment) -> Result<(), SyncError> {
        let id = seg.meta.id;
        self.store
            .set_segment_state(id, SegmentState::Uploaded)
            .map_err(local)?;
        remove_file(&seg.path)?;
        self.store
            .remove_segment(id, seg.meta.visit_id, "stored by the server")
            .map_err(local)?;
        tracing::info!(segment = %id, visit_id = %seg.meta.visit_id, size = seg.meta.size, "recording segment uploaded");
        Ok(())
    }

    /// The server refuses the visit's recording (confidential, or not this
    /// terminal's): every file and row of it goes.
    fn refused(&self, visit: Uuid) -> Result<(), SyncError> {
        let segs = self.store.visit_segments(visit).map_err(local)?;
        for s in &segs {
            remove_file(&s.path)?;
            self.store
                .remove_segment(s.meta.id, visit, "recording refused by the server")
                .map_err(local)?;
        }
        tracing::warn!(visit_id = %visit, segments = segs.len(), "the server refuses this visit's recording; its segments are deleted here");
        Ok(())
    }

    fn chunk_size(&self) -> usize {
        if self.shared.in_call.load(Ordering::Relaxed) {
            CALL_CHUNK
        } else {
            MAX_CHUNK_BYTES
        }
    }
}

/// Remove a file that may already be gone.
fn remove_file(path: &std::path::Path) -> Result<(), SyncError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(local(format!("removing {}: {e}", path.display()))),
    }
}

/// Up to `max` bytes of the segment's file from `offset` (empty at its end).
fn read_chunk(seg: &QueuedSegment, offset: u64, max: usize) -> std::io::Result<Vec<u8>> {
    let mut f = std::fs::File::open(&seg.path)?;
    let len = f.metadata()?.len().min(seg.meta.size);
    if offset >= len {
        return Ok(Vec::new());
    }
    f.seek(SeekFrom::Start(offset))?;
    let n = ((len - offset) as usize).min(max);
    let mut buf = vec![0u8; n];
    f.read_exact(&mut buf)?;
    Ok(buf)
}
