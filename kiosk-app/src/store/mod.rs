//! The terminal's own SQLite files, in its data directory.
//!
//! - `schedule.db`: the last good schedule (and the server clock offset).
//!   Losing its last write to a power cut costs one re-download, so it runs
//!   with `synchronous=NORMAL`.
//! - `outbox.db`: events waiting for the server, which check-ins are
//!   recorded in, sign-in photos waiting for upload, the visit's
//!   recording segments waiting for upload (`segments.rs`), and the local
//!   event log. A visitor was told "Checked in": that must survive a power cut,
//!   so `synchronous=FULL`.
//!
//! Both are WAL, both have versioned migrations.

mod migrations;
mod segments;

pub use segments::{QueuedSegment, SegmentState};

use std::path::Path;
use std::sync::Mutex;

use anyhow::Context;
use chrono::{DateTime, Utc};
use protocol::terminal::{Schedule, TerminalEvent, TerminalEventKind};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

/// A sign-in photo waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedPhoto {
    pub id: Uuid,
    pub person_number: String,
    pub taken_at: DateTime<Utc>,
    pub jpeg: Vec<u8>,
}

pub struct Store {
    schedule: Mutex<Connection>,
    outbox: Mutex<Connection>,
}

fn open(path: &Path, synchronous: &str, migrations: &[&str]) -> anyhow::Result<Connection> {
    let mut conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", synchronous)?;
    migrations::apply(&mut conn, migrations)
        .with_context(|| format!("migrating {}", path.display()))?;
    Ok(conn)
}

fn lock(m: &Mutex<Connection>) -> std::sync::MutexGuard<'_, Connection> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Store {
    pub fn open(dir: &Path) -> anyhow::Result<Store> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating data directory {}", dir.display()))?;
        Ok(Store {
            schedule: Mutex::new(open(
                &dir.join("schedule.db"),
                "NORMAL",
                migrations::SCHEDULE,
            )?),
            outbox: Mutex::new(open(&dir.join("outbox.db"), "FULL", migrations::OUTBOX)?),
        })
    }

    /// Replace the cached schedule (already validated) in one transaction.
    pub fn save_schedule(&self, s: &Schedule) -> anyhow::Result<()> {
        let mut c = lock(&self.schedule);
        let tx = c.transaction()?;
        tx.execute(
            "INSERT INTO schedule (id, etag, body, saved_at) VALUES (1, ?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET etag = ?1, body = ?2, saved_at = ?3",
            params![
                s.version,
                serde_json::to_string(s)?,
                Utc::now().timestamp_millis()
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The last schedule saved, if any (and if it still parses).
    pub fn load_schedule(&self) -> anyhow::Result<Option<Schedule>> {
        let c = lock(&self.schedule);
        let body: Option<String> = c
            .query_row("SELECT body FROM schedule WHERE id = 1", [], |r| r.get(0))
            .optional()?;
        Ok(body.and_then(|b| serde_json::from_str(&b).ok()))
    }

    pub fn save_clock_offset(&self, offset_ms: i64) -> anyhow::Result<()> {
        lock(&self.schedule).execute(
            "INSERT INTO clock (id, offset_ms) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET offset_ms = ?1",
            [offset_ms],
        )?;
        Ok(())
    }

    pub fn clock_offset(&self) -> anyhow::Result<i64> {
        Ok(lock(&self.schedule)
            .query_row("SELECT offset_ms FROM clock WHERE id = 1", [], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }

    /// Record a check-in and queue it for the server, durably, once per visit.
    /// Returns the queued event, or `None` if this visit was already checked in here.
    pub fn record_check_in(
        &self,
        visit: Uuid,
        at: DateTime<Utc>,
    ) -> anyhow::Result<Option<TerminalEvent>> {
        let mut c = lock(&self.outbox);
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let done: Option<String> = tx
            .query_row(
                "SELECT event_id FROM checkins WHERE visit_id = ?1",
                [visit.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if done.is_some() {
            return Ok(None);
        }
        let event = TerminalEvent {
            id: Uuid::new_v4(),
            occurred_at: at,
            visit_id: visit,
            event: TerminalEventKind::CheckIn,
        };
        tx.execute(
            "INSERT INTO outbox (event_id, body, created_at) VALUES (?1, ?2, ?3)",
            params![
                event.id.to_string(),
                serde_json::to_string(&event)?,
                at.timestamp_millis()
            ],
        )?;
        tx.execute(
            "INSERT INTO checkins (visit_id, event_id, at) VALUES (?1, ?2, ?3)",
            params![
                visit.to_string(),
                event.id.to_string(),
                at.timestamp_millis()
            ],
        )?;
        tx.execute(
            "INSERT INTO log (at, kind, visit_id, detail) VALUES (?1, 'check_in', ?2, ?3)",
            params![
                at.timestamp_millis(),
                visit.to_string(),
                event.id.to_string()
            ],
        )?;
        tx.commit()?;
        Ok(Some(event))
    }

    /// Queue any other event (call events, sign-ins).
    pub fn queue(&self, event: &TerminalEvent) -> anyhow::Result<()> {
        lock(&self.outbox).execute(
            "INSERT INTO outbox (event_id, body, created_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![event.id.to_string(), serde_json::to_string(event)?, event.occurred_at.timestamp_millis()],
        )?;
        Ok(())
    }

    /// The oldest events not yet acknowledged, in order.
    pub fn pending(&self, limit: u32) -> anyhow::Result<Vec<TerminalEvent>> {
        let c = lock(&self.outbox);
        let mut stmt = c.prepare_cached("SELECT body FROM outbox ORDER BY seq LIMIT ?1")?;
        let rows = stmt.query_map([limit], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for body in rows {
            out.push(serde_json::from_str(&body?).context("an outbox entry does not parse")?);
        }
        Ok(out)
    }

    /// Events and photos still to deliver.
    pub fn pending_count(&self) -> anyhow::Result<u32> {
        Ok(lock(&self.outbox).query_row(
            "SELECT (SELECT count(*) FROM outbox) + (SELECT count(*) FROM photos)",
            [],
            |r| r.get(0),
        )?)
    }

    /// Queue a sign-in photo for upload, durably.
    pub fn queue_photo(&self, photo: &QueuedPhoto) -> anyhow::Result<()> {
        let c = lock(&self.outbox);
        c.execute(
            "INSERT INTO photos (photo_id, person_number, taken_at, jpeg) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
            params![
                photo.id.to_string(),
                photo.person_number,
                photo.taken_at.timestamp_millis(),
                photo.jpeg
            ],
        )?;
        c.execute(
            "INSERT INTO log (at, kind, visit_id, detail) VALUES (?1, 'sign_in_photo', NULL, ?2)",
            params![
                photo.taken_at.timestamp_millis(),
                format!("{} ({} bytes)", photo.id, photo.jpeg.len())
            ],
        )?;
        Ok(())
    }

    /// The oldest photo not yet delivered.
    pub fn next_photo(&self) -> anyhow::Result<Option<QueuedPhoto>> {
        let c = lock(&self.outbox);
        c.query_row(
            "SELECT photo_id, person_number, taken_at, jpeg FROM photos ORDER BY seq LIMIT 1",
            [],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                ))
            },
        )
        .optional()?
        .map(|(id, person_number, taken_at, jpeg)| {
            Ok(QueuedPhoto {
                id: id.parse().context("a queued photo's id does not parse")?,
                person_number,
                taken_at: DateTime::from_timestamp_millis(taken_at)
                    .context("a queued photo's time is out of range")?,
                jpeg,
            })
        })
        .transpose()
    }

    /// The server answered for this photo (stored, or refused for good).
    pub fn photo_done(&self, id: Uuid, outcome: &str) -> anyhow::Result<()> {
        let mut c = lock(&self.outbox);
        let tx = c.transaction()?;
        tx.execute("DELETE FROM photos WHERE photo_id = ?1", [id.to_string()])?;
        tx.execute(
            "INSERT INTO log (at, kind, visit_id, detail) VALUES (?1, 'photo_delivered', NULL, ?2)",
            params![Utc::now().timestamp_millis(), format!("{id}: {outcome}")],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The server acknowledged these events: drop them from the outbox.
    pub fn acknowledge(
        &self,
        ids: &[Uuid],
        outcome: impl Fn(Uuid) -> String,
    ) -> anyhow::Result<()> {
        let mut c = lock(&self.outbox);
        let tx = c.transaction()?;
        let now = Utc::now().timestamp_millis();
        for id in ids {
            tx.execute("DELETE FROM outbox WHERE event_id = ?1", [id.to_string()])?;
            tx.execute(
                "INSERT INTO log (at, kind, visit_id, detail) VALUES (?1, 'acknowledged', NULL, ?2)",
                params![now, format!("{id}: {}", outcome(*id))],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Append a line to the local event log.
    pub fn log(&self, kind: &str, visit: Option<Uuid>, detail: &str) -> anyhow::Result<()> {
        lock(&self.outbox).execute(
            "INSERT INTO log (at, kind, visit_id, detail) VALUES (?1, ?2, ?3, ?4)",
            params![
                Utc::now().timestamp_millis(),
                kind,
                visit.map(|v| v.to_string()),
                detail
            ],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_in_is_queued_once_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let visit = Uuid::from_u128(5);
        {
            let s = Store::open(dir.path()).unwrap();
            let e = s.record_check_in(visit, Utc::now()).unwrap().unwrap();
            assert_eq!(e.visit_id, visit);
            assert!(s.record_check_in(visit, Utc::now()).unwrap().is_none());
        }
        let s = Store::open(dir.path()).unwrap();
        let pending = s.pending(10).unwrap();
        assert_eq!(pending.len(), 1);
        s.acknowledge(&[pending[0].id], |_| "applied".into())
            .unwrap();
        assert_eq!(s.pending_count().unwrap(), 0);
        // Acknowledged is not forgotten: the visit stays checked in here.
        assert!(s.record_check_in(visit, Utc::now()).unwrap().is_none());
    }

    #[test]
    fn a_photo_waits_across_restarts_until_the_server_answers() {
        let dir = tempfile::tempdir().unwrap();
        let photo = QueuedPhoto {
            id: Uuid::from_u128(3),
            person_number: "A-1001".into(),
            taken_at: DateTime::from_timestamp_millis(1_700_000_000_000).unwrap(),
            jpeg: vec![0xFF, 0xD8, 0xFF, 0xD9],
        };
        {
            let s = Store::open(dir.path()).unwrap();
            s.queue_photo(&photo).unwrap();
            s.queue_photo(&photo).unwrap(); // once only
            assert_eq!(s.pending_count().unwrap(), 1);
        }
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.next_photo().unwrap(), Some(photo.clone()));
        s.photo_done(photo.id, "applied").unwrap();
        assert_eq!(s.next_photo().unwrap(), None);
        assert_eq!(s.pending_count().unwrap(), 0);
    }

    #[test]
    fn the_schedule_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        assert!(s.load_schedule().unwrap().is_none());
        let sched =
            crate::schedule::tests::sample(&[("123456", 10, 30, protocol::VisitStatus::Scheduled)]);
        s.save_schedule(&sched).unwrap();
        assert_eq!(s.load_schedule().unwrap().unwrap(), sched);
        s.save_clock_offset(-1500).unwrap();
        assert_eq!(s.clock_offset().unwrap(), -1500);
    }
}
