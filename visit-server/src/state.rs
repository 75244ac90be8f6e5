//! What every request handler, the clock tick and the mailer share: the
//! database pool, the keys, the clock, the schedule cache and the calls
//! under way.
//!
//! Its own module so that `api` (which reads it) and `server` (which builds
//! the router and the background tasks around it) each depend on it rather
//! than on each other. It speaks `service` errors; `api` turns them into
//! HTTP answers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use rusqlite::Connection;

use crate::clock::Clock;
use crate::db::Db;
use crate::keys::Keys;
use crate::rooms::Rooms;
use crate::service::recordings::Store;
use crate::service::{self, Ctx, Error, audit};

/// A built schedule body, shared by every terminal with the same scope.
#[derive(Clone)]
pub struct CachedSchedule {
    pub etag: String,
    pub body: Bytes,
}

struct Inner {
    db: Arc<Db>,
    keys: Arc<Keys>,
    clock: Arc<dyn Clock>,
    /// Keyed by facility and scope; replaced when the ETag changes.
    schedules: Mutex<HashMap<String, CachedSchedule>>,
    rooms: Rooms,
    /// Where visit recordings are kept.
    recordings: Arc<Store>,
    /// `true` once the server is shutting down: long-lived answers (the
    /// console's live board) end, so the shutdown does not wait on them.
    closing: tokio::sync::watch::Sender<bool>,
}

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

impl AppState {
    /// The state of a server; recordings go to `recordings/` beside the
    /// database unless [`Self::with_recordings_dir`] says otherwise.
    pub fn new(db: Arc<Db>, keys: Arc<Keys>, clock: Arc<dyn Clock>) -> Self {
        let beside = db
            .path()
            .parent()
            .map(|d| d.join("recordings"))
            .unwrap_or_else(|| "recordings".into());
        Self {
            inner: Arc::new(Inner {
                recordings: Arc::new(Store::new(beside)),
                db,
                keys,
                clock,
                schedules: Mutex::new(HashMap::new()),
                rooms: Rooms::default(),
                closing: tokio::sync::watch::Sender::new(false),
            }),
        }
    }

    /// Keep recordings in `dir` (called before the state is shared).
    pub fn with_recordings_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        let inner = Arc::get_mut(&mut self.inner).expect("set before the state is shared");
        inner.recordings = Arc::new(Store::new(dir));
        self
    }

    /// Where recordings are kept.
    pub fn recordings(&self) -> Arc<Store> {
        self.inner.recordings.clone()
    }

    /// Run a service call on a blocking thread with a pooled connection.
    /// A task that panicked is logged and answered as [`Error::Internal`].
    pub async fn run<T, F>(&self, actor: impl Into<String>, f: F) -> service::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Ctx<'_>) -> service::Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        let actor = actor.into();
        // The blocking thread logs inside the caller's span (the request,
        // the signalling session), so service lines say whose call they are.
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _in_span = span.enter();
            let mut conn = inner.db.conn()?;
            let ctx = Ctx {
                keys: &inner.keys,
                now: inner.clock.now(),
                actor: &actor,
            };
            f(&mut conn, &ctx)
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "request task failed");
            Error::Internal
        })?
    }

    /// Run a change made by staff and append its audit line: the target's
    /// row before and after, and the outcome (`done`, or `refused: ...`
    /// with the reason the caller is given). The change runs in its own
    /// transaction; the line is appended right after it.
    pub async fn run_audited<T, F>(
        &self,
        who: audit::Who,
        action: &'static str,
        target: audit::Target,
        f: F,
    ) -> service::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Ctx<'_>) -> service::Result<T> + Send + 'static,
    {
        let known = target.clone();
        self.audited(who, action, Some(known), move |c, ctx| {
            f(c, ctx).map(|v| (v, target))
        })
        .await
    }

    /// [`Self::run_audited`] for a change whose target is known only after
    /// it (a creation): the closure returns it.
    pub async fn run_audited_create<T, F>(
        &self,
        who: audit::Who,
        action: &'static str,
        f: F,
    ) -> service::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Ctx<'_>) -> service::Result<(T, audit::Target)>
            + Send
            + 'static,
    {
        self.audited(who, action, None, f).await
    }

    async fn audited<T, F>(
        &self,
        who: audit::Who,
        action: &'static str,
        known: Option<audit::Target>,
        f: F,
    ) -> service::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Ctx<'_>) -> service::Result<(T, audit::Target)>
            + Send
            + 'static,
    {
        let actor = who.actor.clone();
        self.run(actor, move |c, ctx| {
            let before = match &known {
                Some(t) => audit::snapshot(c, t)?,
                None => None,
            };
            let result = f(c, ctx);
            // A refused change keeps no row: the refusal may be a scope
            // check, and another facility's row must not land in this
            // facility's log.
            let before = if result.is_ok() { before } else { None };
            let (outcome, target, after) = match &result {
                Ok((_, target)) => (
                    "done".to_string(),
                    target.clone(),
                    audit::snapshot(c, target)?,
                ),
                Err(e) => (
                    format!("refused: {e}"),
                    known.unwrap_or(audit::Target::None),
                    None,
                ),
            };
            // An admin token is not tied to a facility: its line goes to the
            // facility of what it changed, so that facility's log shows it.
            let mut who = who;
            if who.facility.is_none() {
                who.facility = audit::facility_of(&target, before.as_ref().or(after.as_ref()));
            }
            audit::record(
                c,
                ctx.now,
                &audit::Line {
                    who: &who,
                    action,
                    target: &target,
                    outcome,
                    before,
                    after,
                },
            )?;
            result.map(|(v, _)| v)
        })
        .await
    }

    /// Say the server is shutting down.
    pub fn close(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Whether the server is shutting down.
    pub fn is_closing(&self) -> bool {
        *self.inner.closing.borrow()
    }

    /// The calls under way.
    pub fn rooms(&self) -> Rooms {
        self.inner.rooms.clone()
    }

    /// Server time.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.clock.now()
    }

    pub fn cached_schedule(&self, key: &str) -> Option<CachedSchedule> {
        let cache = self
            .inner
            .schedules
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        cache.get(key).cloned()
    }

    pub fn store_schedule(&self, key: String, entry: CachedSchedule) {
        let mut cache = self
            .inner
            .schedules
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        cache.insert(key, entry);
    }
}
