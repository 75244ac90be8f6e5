//! The running server: shared state, background tasks, and the listener.
//!
//! The listener and the shutdown signal are injected, so tests bind
//! `127.0.0.1:0` and stop the server whenever they like.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use protocol::signal::{EndReason, ServerMessage};
use rusqlite::Connection;
use tokio::net::TcpListener;

use crate::api::{self, error::ApiError};
use crate::clock::Clock;
use crate::config::SmtpConfig;
use crate::db::Db;
use crate::keys::Keys;
use crate::mail;
use crate::rooms::Rooms;
use crate::service::{self, Ctx, visits};

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
}

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

impl AppState {
    pub fn new(db: Arc<Db>, keys: Arc<Keys>, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                keys,
                clock,
                schedules: Mutex::new(HashMap::new()),
                rooms: Rooms::default(),
            }),
        }
    }

    /// Run a service call on a blocking thread with a pooled connection.
    pub async fn run<T, F>(&self, actor: impl Into<String>, f: F) -> Result<T, ApiError>
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
            ApiError::internal()
        })?
        .map_err(ApiError::from)
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

/// Background work besides requests.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// How often visits are moved along with the clock.
    pub tick: Duration,
    /// Where confirmations go by mail, if anywhere.
    pub smtp: Option<SmtpConfig>,
    /// The base of join links in mail (`{public_url}/join/{visit}?token=`).
    pub public_url: String,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(5),
            smtp: None,
            public_url: "http://127.0.0.1:8080".into(),
        }
    }
}

/// Serve the API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let mut tasks = Vec::new();
    let clock_state = state.clone();
    tasks.push(tokio::spawn(async move {
        let mut every = tokio::time::interval(options.tick);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            // Calls first: both sides hear "time is up" at the scheduled end.
            for visit in clock_state.rooms().tick(clock_state.now()) {
                tracing::info!(visit_id = %visit, "call ended at its scheduled time");
            }
            match clock_state.run("clock", visits::advance_clock).await {
                // Sockets waiting for (or in) these calls hear the new
                // status; a visit the clock ended ends its call (if the
                // rooms' tick above read the clock just before the end).
                Ok(changed) => {
                    let rooms = clock_state.rooms();
                    for (visit, status) in changed {
                        if status.is_active() {
                            rooms.broadcast(
                                visit,
                                &ServerMessage::Status {
                                    status: status.to_wire(),
                                },
                            );
                        } else {
                            rooms.end(visit, EndReason::TimeExpired);
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e.message, "could not advance visit statuses"),
            }
        }
    }));
    if let Some(smtp) = options.smtp.clone() {
        tasks.push(tokio::spawn(mail::run(
            state.clone(),
            smtp,
            options.public_url.clone(),
        )));
    }
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "visit-server listening");
    let result = axum::serve(listener, api::router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    for t in tasks {
        t.abort();
    }
    tracing::info!("visit-server stopped");
    Ok(result?)
}
