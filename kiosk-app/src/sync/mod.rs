//! Background sync with the server, on its own tokio runtime so the screen
//! never waits for the network.
//!
//! Each round: a heartbeat when due (which also measures the clock offset),
//! the schedule with its ETag, then the outbox in order until empty, then
//! the sign-in photos one by one, then the recording segments
//! (`recordings.rs`). Any
//! failure marks the terminal offline and retries with a growing pause; the
//! last good schedule stays in use, and a schedule that fails validation is
//! rejected whole.

pub mod client;
mod recordings;

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use protocol::VisitStatus;
use protocol::terminal::{DeviceHealth, EventOutcome, Heartbeat};
use tokio::sync::{Notify, mpsc};
use tracing::Instrument;
use uuid::Uuid;

use crate::schedule::ScheduleIndex;
use crate::store::Store;
use client::{Client, SyncError};

/// What the sync task shares with the screen.
#[derive(Default)]
pub struct Shared {
    schedule: Mutex<Option<ScheduleIndex>>,
    online: AtomicBool,
    offset_ms: AtomicI64,
    /// When the server last answered a heartbeat, and a schedule request
    /// (terminal clock), for the technician screen.
    last_heartbeat: Mutex<Option<DateTime<Utc>>>,
    last_sync: Mutex<Option<DateTime<Utc>>>,
    /// Set to wake the sync task at once (a new event in the outbox).
    pub wake: Notify,
    /// A call is in progress: recording uploads are paced (see
    /// `recordings.rs`).
    pub in_call: AtomicBool,
}

impl Shared {
    pub fn new(schedule: Option<ScheduleIndex>, offset_ms: i64) -> Arc<Self> {
        let s = Self::default();
        *s.schedule.lock().unwrap_or_else(|e| e.into_inner()) = schedule;
        s.offset_ms.store(offset_ms, Ordering::Relaxed);
        Arc::new(s)
    }

    /// Borrow the current schedule.
    pub fn with_schedule<R>(&self, f: impl FnOnce(Option<&mut ScheduleIndex>) -> R) -> R {
        let mut g = self.schedule.lock().unwrap_or_else(|e| e.into_inner());
        f(g.as_mut())
    }

    pub fn online(&self) -> bool {
        self.online.load(Ordering::Relaxed)
    }

    /// When the server last answered a heartbeat (terminal clock).
    pub fn last_heartbeat(&self) -> Option<DateTime<Utc>> {
        *self
            .last_heartbeat
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// When the schedule was last checked with the server (terminal clock).
    pub fn last_sync(&self) -> Option<DateTime<Utc>> {
        *self.last_sync.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Server time as best known: the local clock corrected by the offset
    /// measured at the last heartbeat.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }
}

/// Told to the screen: a visit's status as the server reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusReport {
    pub visit: Uuid,
    pub status: VisitStatus,
}

/// Timing of the sync loop.
#[derive(Debug, Clone)]
pub struct Timing {
    pub poll: Duration,
    pub heartbeat: Duration,
    pub max_backoff: Duration,
}

pub struct Sync {
    pub client: Client,
    pub store: Arc<Store>,
    pub shared: Arc<Shared>,
    pub reports: mpsc::UnboundedSender<StatusReport>,
    pub timing: Timing,
    pub terminal_id: Uuid,
    pub started: Instant,
    /// The state of the terminal's devices, for each heartbeat (see
    /// `diagnose::health_source`). Runs on a blocking thread: checking a
    /// camera asks the device for its modes.
    pub devices: Arc<dyn Fn() -> Vec<DeviceHealth> + Send + std::marker::Sync>,
    /// The data directory (its partition's free space is in each heartbeat).
    pub data_dir: std::path::PathBuf,
    /// The last refusal of a recording upload logged (said once).
    pub recordings_said: Mutex<Option<String>>,
}

impl Sync {
    async fn heartbeat(&self) -> Result<(), SyncError> {
        let devices = self.devices.clone();
        let devices = tokio::task::spawn_blocking(move || devices())
            .await
            .unwrap_or_default();
        let (recordings_pending, recordings_pending_bytes) =
            self.store.segments_pending().unwrap_or((0, 0));
        let sent = Utc::now();
        let hb = Heartbeat {
            software_version: env!("CARGO_PKG_VERSION").to_string(),
            uptime_secs: self.started.elapsed().as_secs(),
            terminal_time: sent,
            outbox_pending: self.store.pending_count().unwrap_or(0),
            devices,
            recordings_pending,
            recordings_pending_bytes,
            data_free_bytes: crate::disk::free_bytes(&self.data_dir),
        };
        let ack = self.client.heartbeat(&hb).await?;
        let received = Utc::now();
        *self
            .shared
            .last_heartbeat
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(received);
        let midpoint = sent + (received - sent) / 2;
        let offset = (ack.server_time - midpoint).num_milliseconds();
        let old = self.shared.offset_ms.swap(offset, Ordering::Relaxed);
        if (old - offset).abs() > 1000 {
            tracing::info!(offset_ms = offset, "server clock offset changed");
        }
        if let Err(e) = self.store.save_clock_offset(offset) {
            tracing::warn!(error = %e, "cannot save the clock offset");
        }
        Ok(())
    }

    async fn schedule(&self) -> Result<(), SyncError> {
        let etag = self
            .shared
            .with_schedule(|s| s.map(|s| s.wire.version.clone()));
        let fresh = self.client.schedule(etag.as_deref()).await?;
        *self
            .shared
            .last_sync
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(Utc::now());
        let Some(fresh) = fresh else {
            return Ok(());
        };
        let index =
            ScheduleIndex::new(fresh.clone()).map_err(|e| SyncError::Malformed(e.to_string()))?;
        if let Err(e) = self.store.save_schedule(&fresh) {
            tracing::error!(error = %e, "cannot save the schedule; keeping it in memory");
        }
        tracing::info!(version = %fresh.version, visits = index.visit_count(), "schedule updated");
        *self
            .shared
            .schedule
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(index);
        Ok(())
    }

    async fn push(&self) -> Result<(), SyncError> {
        loop {
            let pending = self
                .store
                .pending(100)
                .map_err(|e| SyncError::Malformed(e.to_string()))?;
            if pending.is_empty() {
                return Ok(());
            }
            let result = self.client.post_events(pending.clone()).await?;
            let mut acked = Vec::new();
            for r in &result.results {
                if !pending.iter().any(|p| p.id == r.id) {
                    continue;
                }
                acked.push(r.id);
                let visit = pending.iter().find(|p| p.id == r.id).map(|p| p.visit_id);
                match &r.outcome {
                    EventOutcome::Refused { reason } => {
                        tracing::warn!(event_id = %r.id, visit_id = ?visit, reason, "server refused an event")
                    }
                    _ => {
                        tracing::info!(event_id = %r.id, visit_id = ?visit, "event delivered")
                    }
                }
                if let (Some(visit), Some(status)) = (visit, r.visit_status) {
                    self.shared
                        .with_schedule(|s| s.map(|s| s.set_status(visit, status)));
                    let _ = self.reports.send(StatusReport { visit, status });
                }
            }
            if acked.is_empty() {
                return Err(SyncError::Malformed(
                    "the server acknowledged none of the events".into(),
                ));
            }
            let outcome = |id: Uuid| {
                result
                    .results
                    .iter()
                    .find(|r| r.id == id)
                    .map(|r| format!("{:?}", r.outcome))
                    .unwrap_or_default()
            };
            self.store
                .acknowledge(&acked, outcome)
                .map_err(|e| SyncError::Malformed(e.to_string()))?;
        }
    }

    /// Upload queued sign-in photos, oldest first. A photo the server
    /// refuses (4xx: not a JPEG, unknown person) is dropped with a log
    /// line, since sending it again cannot help; anything else keeps it.
    async fn push_photos(&self) -> Result<(), SyncError> {
        use base64::Engine;
        loop {
            let Some(p) = self
                .store
                .next_photo()
                .map_err(|e| SyncError::Malformed(e.to_string()))?
            else {
                return Ok(());
            };
            let wire = protocol::terminal::SignInPhoto {
                id: p.id,
                taken_at: p.taken_at,
                person_number: p.person_number.clone(),
                jpeg: base64::engine::general_purpose::STANDARD.encode(&p.jpeg),
            };
            let outcome = match self.client.post_photo(&wire).await {
                Ok(r) => {
                    tracing::info!(photo_id = %p.id, visits = ?r.visits, outcome = ?r.outcome, "sign-in photo delivered");
                    format!("{:?}", r.outcome)
                }
                // Refusals for good; not 401 (a credential problem) nor 429.
                Err(SyncError::Server {
                    status, message, ..
                }) if matches!(status, 400 | 403 | 404 | 409 | 413 | 422) => {
                    tracing::warn!(photo_id = %p.id, status, message, "server refused a sign-in photo");
                    format!("refused {status}: {message}")
                }
                Err(e) => return Err(e),
            };
            self.store
                .photo_done(p.id, &outcome)
                .map_err(|e| SyncError::Malformed(e.to_string()))?;
        }
    }

    fn set_online(&self, online: bool, why: Option<&SyncError>) {
        let was = self.shared.online.swap(online, Ordering::Relaxed);
        match (was, online, why) {
            (false, true, _) => {
                tracing::info!("server reachable again")
            }
            (true, false, Some(e)) => {
                tracing::warn!(error = %e, "working offline")
            }
            _ => {}
        }
    }

    /// One round: heartbeat when due, schedule, events, photos.
    async fn round(&self, next_heartbeat: &mut Instant) -> Result<(), SyncError> {
        let mut round = Ok(());
        if Instant::now() >= *next_heartbeat {
            round = self.heartbeat().await;
            if round.is_ok() {
                *next_heartbeat = Instant::now() + self.timing.heartbeat;
            }
        }
        if round.is_ok() {
            round = self.schedule().await;
        }
        // Events go out even when the schedule answer was garbage.
        let pushed = self.push().await;
        let photos = self.push_photos().await;
        // Recordings last: the smallest, most urgent things go first.
        let recordings = match (&pushed, &photos) {
            (Ok(()), Ok(())) => self.push_recordings().await,
            _ => Ok(()),
        };
        round.and(pushed).and(photos).and(recordings)
    }

    /// Run forever. Every line a round logs is inside its `sync` span,
    /// which carries the terminal and the round's number.
    pub async fn run(self) {
        let mut failures: u32 = 0;
        let mut next_heartbeat = Instant::now();
        let terminal_id = self.terminal_id;
        for n in 1u64.. {
            let span = tracing::info_span!("sync", %terminal_id, round = n);
            let round = self
                .round(&mut next_heartbeat)
                .instrument(span.clone())
                .await;
            let pause = span.in_scope(|| match &round {
                Ok(()) => {
                    failures = 0;
                    self.set_online(true, None);
                    self.timing.poll
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    self.set_online(false, Some(e));
                    tracing::debug!(error = %e, failures, "sync round failed");
                    let backoff = Duration::from_millis(250u64 << failures.min(8));
                    backoff
                        .min(self.timing.max_backoff)
                        .min(self.timing.poll.max(Duration::from_millis(250)))
                }
            });
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = self.shared.wake.notified() => {}
            }
        }
    }
}
