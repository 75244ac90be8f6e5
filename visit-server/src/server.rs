//! The running server: background tasks (the clock tick, which also
//! removes recordings past their retention, and mail), the listener, and the signal that
//! stops it. The state handlers share is [`crate::state`] (re-exported
//! here for callers that start a server); the routes are [`crate::api`].
//!
//! The listener and the shutdown signal are injected, so tests bind
//! `127.0.0.1:0` and stop the server whenever they like.

use std::future::Future;
use std::time::Duration;

use protocol::signal::{EndReason, ServerMessage};
use tokio::net::TcpListener;

use crate::api;
use crate::config::SmtpConfig;
use crate::mail;
use crate::service::{recordings, visits};
pub use crate::state::{AppState, CachedSchedule};

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
        let mut last_sweep = None;
        loop {
            every.tick().await;
            advance(&clock_state).await;
            sweep_recordings(&clock_state, &mut last_sweep).await;
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
    let closing = state.clone();
    let shutdown = async move {
        shutdown.await;
        closing.close();
    };
    let result = axum::serve(
        listener,
        api::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    for t in tasks {
        t.abort();
    }
    tracing::info!("visit-server stopped");
    Ok(result?)
}

/// Move visits and calls along with the clock.
async fn advance(state: &AppState) {
    // Calls first: both sides hear "time is up" at the scheduled end.
    for visit in state.rooms().tick(state.now()) {
        tracing::info!(visit_id = %visit, "call ended at its scheduled time");
    }
    match state.run("clock", visits::advance_clock).await {
        // Sockets waiting for (or in) these calls hear the new status; a
        // visit the clock ended ends its call (if the rooms' tick above
        // read the clock just before the end).
        Ok(changed) => {
            let rooms = state.rooms();
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
        Err(e) => tracing::warn!(error = %e, "could not advance visit statuses"),
    }
}

/// How often recordings past their retention are looked for: it is a
/// matter of days, and the query reads every stored segment's visit.
const SWEEP_EVERY: chrono::Duration = chrono::Duration::hours(1);

/// Remove recordings past their facility's retention, at most once per
/// [`SWEEP_EVERY`] of the server's clock (and again if the clock went back).
async fn sweep_recordings(state: &AppState, last: &mut Option<chrono::DateTime<chrono::Utc>>) {
    let now = state.now();
    if last.is_some_and(|t| now >= t && now - t < SWEEP_EVERY) {
        return;
    }
    *last = Some(now);
    let store = state.recordings();
    match state
        .run("system", move |c, ctx| recordings::sweep(c, ctx, &store))
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(visits = n, "recordings past their retention removed"),
        Err(e) => tracing::warn!(error = %e, "could not remove recordings past their retention"),
    }
}

/// Ctrl-C or SIGTERM (systemd stop).
pub async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
}
