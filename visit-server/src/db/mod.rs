//! The SQLite file: connections, pragmas and a small pool.
//!
//! WAL lets terminals' schedule reads run while a booking writes;
//! `synchronous=FULL` because a booking or a check-in that was acknowledged
//! must survive a power cut. Write transactions use `BEGIN IMMEDIATE` so two
//! writers queue on the lock instead of failing half-way.

mod migrations;

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use rusqlite::Connection;

pub use migrations::SCHEMA_VERSION;

/// A SQLite database file and a pool of open connections to it.
pub struct Db {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// A connection borrowed from the pool; returned when dropped.
pub struct PooledConn<'a> {
    db: &'a Db,
    conn: Option<Connection>,
}

impl Deref for PooledConn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("connection present until drop")
    }
}

impl DerefMut for PooledConn<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("connection present until drop")
    }
}

impl Drop for PooledConn<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // A connection left inside a transaction (a panic mid-write) is
            // discarded rather than handed to the next caller.
            if conn.is_autocommit() {
                let mut idle = self.db.idle.lock().unwrap_or_else(|e| e.into_inner());
                if idle.len() < 8 {
                    idle.push(conn);
                }
            }
        }
    }
}

fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

impl Db {
    /// Open (or create) the database at `path` and bring its schema up to date.
    pub fn open(path: &Path) -> anyhow::Result<Arc<Db>> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating database directory {}", dir.display()))?;
        }
        let mut conn = open_connection(path)
            .with_context(|| format!("opening database {}", path.display()))?;
        migrations::migrate(&mut conn)
            .with_context(|| format!("migrating database {}", path.display()))?;
        Ok(Arc::new(Db {
            path: path.to_owned(),
            idle: Mutex::new(vec![conn]),
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Borrow a connection.
    pub fn conn(&self) -> rusqlite::Result<PooledConn<'_>> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(c) => c,
            None => open_connection(&self.path)?,
        };
        Ok(PooledConn {
            db: self,
            conn: Some(conn),
        })
    }
}

/// Timestamps are stored as UTC milliseconds since the epoch: they sort and
/// compare as integers in SQL.
pub fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// The inverse of [`ts`].
pub fn from_ts(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
