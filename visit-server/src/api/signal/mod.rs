//! The signalling WebSocket: `GET /api/v1/signal/{visit_id}`.
//!
//! Admission (a participant of an active visit that is not over) is checked
//! before the upgrade, so a refusal is an ordinary JSON error; so is a
//! visitor beyond the facility's limit (the visit's visitors are already
//! connected) or a second terminal for the person's side. The socket
//! then *waits*: it hears the visit's status changes, the warnings and the
//! end. After the server accepts its `Join` (from the side's early window),
//! it relays SDP and ICE to the joined peer they are addressed to (`to`,
//! stamped with the sender as `from`), and its media events and call report
//! go into the visit's history. Message types: `protocol::signal`.
//!
//! This module is the socket's IO (admission, the read loop, the writer
//! task); what each message does is [`session::Session::handle`]. One
//! tracing span per socket names the visit and the participant.
//!
//! Abuse limits, per socket: a text message over 64 KiB is refused unread;
//! one call report is recorded (later ones are refused); `media_flowing` and
//! `media_interrupted` are recorded only when they change the side's state,
//! and at most 100 times.

use axum::extract::ws::{
    Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::Response;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use protocol::ErrorBody;
use protocol::signal::ServerMessage;
use serde::Deserialize;
use tokio::sync::mpsc;
use tracing::Instrument;
use uuid::Uuid;

use super::auth::TerminalAuth;
use super::error::{ApiError, ApiPath, ApiQuery};
use crate::rooms::Refused;
use crate::service::browser_tokens;
use crate::service::calls::{self, Admission, Caller, Holder};
use crate::state::AppState;
use session::{Flow, Session};

mod session;

/// Largest message the WebSocket layer buffers before giving up on the socket.
const MAX_WS_MESSAGE_BYTES: usize = 256 * 1024;

/// `?token=`: a remote visitor's join token, or a unit terminal's browser
/// token for the person's side (never logged).
#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// A terminal's credential (`Authorization: Bearer`) or, without that
/// header, a remote visitor's join token (`?token=`), which browsers must
/// use because they cannot set headers on a WebSocket.
pub struct SignalAuth(Caller);

impl FromRequestParts<AppState> for SignalAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            let TerminalAuth(t) = TerminalAuth::from_request_parts(parts, state).await?;
            return Ok(SignalAuth(Caller::Terminal(t)));
        }
        let ApiQuery(q) = ApiQuery::<TokenQuery>::from_request_parts(parts, state).await?;
        match q.token.filter(|t| !t.is_empty() && t.len() <= 256) {
            Some(token) => Ok(SignalAuth(Caller::Token(token))),
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this endpoint needs `Authorization: Bearer <credential>` or the join link's `?token=`",
            )),
        }
    }
}

/// Connect to a visit's call (WebSocket). Terminals authenticate with their
/// credential; a remote visitor's browser with the join token from its
/// confirmation. The socket waits until it sends `join`.
#[utoipa::path(get, path = "/api/v1/signal/{visit_id}", tag = "terminal",
    security(("terminal" = []), ("join_token" = [])),
    params(("visit_id" = Uuid, Path),
        ("token" = Option<String>, Query,
         description = "A remote visitor's join token, from the confirmation's join link, or a \
                        housing-unit terminal's browser token (the person's side); \
                        used only without an Authorization header")),
    responses(
        (status = 101, description = "WebSocket of JSON `protocol::signal` messages"),
        (status = 400, body = ErrorBody, description = "Not a WebSocket upgrade"),
        (status = 401, body = ErrorBody, description = "No, or a wrong, credential or join token (a token also fails for another visit or once the visit has ended)"),
        (status = 403, body = ErrorBody, description = "Not a participant"),
        (status = 404, body = ErrorBody, description = "No such visit"),
        (status = 409, body = ErrorBody, description = "The visit already has its limit of visitors connected, or its person's side is connected from another terminal"),
        (status = 422, body = ErrorBody, description = "The visit is over or was cancelled")))]
pub async fn signal(
    State(st): State<AppState>,
    SignalAuth(caller): SignalAuth,
    ApiPath(visit_id): ApiPath<Uuid>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let ws = ws.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "not_websocket",
            "this endpoint speaks WebSocket only",
        )
    })?;
    // A browser token (a unit terminal's browser as the person's side)
    // speaks for its terminal.
    let caller = match caller {
        Caller::Token(t) if browser_tokens::is_browser_token(&t) => Caller::Terminal(
            st.run("browser".to_string(), move |c, ctx| {
                browser_tokens::authenticate(c, ctx, visit_id, &t)
            })
            .await?,
        ),
        c => c,
    };
    let actor = match &caller {
        Caller::Terminal(t) => format!("terminal:{}", t.id),
        Caller::Token(_) => "visitor".to_string(),
    };
    let admission = st
        .run(actor, move |c, ctx| calls::admit(c, ctx, &caller, visit_id))
        .await?;
    // Everything logged about this socket from here on carries who it is.
    let span = match admission.holder {
        Holder::Terminal(id) => tracing::info_span!("signal", %visit_id, terminal_id = %id),
        Holder::Visitor(id) => tracing::info_span!("signal", %visit_id, visitor_id = %id),
    };
    if let Err(r) = st
        .rooms()
        .check(visit_id, &admission.peer, admission.max_visitors)
    {
        span.in_scope(|| tracing::warn!(error = %r, "connection to the call refused"));
        return Err(refused(r));
    }
    Ok(ws
        .max_message_size(MAX_WS_MESSAGE_BYTES)
        .on_upgrade(move |socket| run(st, admission, socket).instrument(span)))
}

fn refused(r: Refused) -> ApiError {
    let code = match r {
        Refused::Full(_) => "visit_full",
        Refused::PersonTaken => "person_connected_elsewhere",
    };
    ApiError::new(StatusCode::CONFLICT, code, r.to_string())
}

/// The socket's IO: seat it, pump the room's messages out through a
/// writer task, hand each text message to the [`Session`], and close.
async fn run(st: AppState, a: Admission, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (tx, rx) = mpsc::unbounded_channel::<ServerMessage>();
    let mut s = match Session::open(st, a, tx).await {
        Ok(s) => s,
        Err(r) => {
            // Another socket took the last seat since the check.
            tracing::warn!(error = %r, "connection to the call refused");
            let m = ServerMessage::Error {
                message: r.to_string(),
            };
            let _ = sink.send(text(&m)).await;
            let _ = sink.close().await;
            return;
        }
    };
    let writer = tokio::spawn(write_all(sink, rx));
    while let Some(Ok(msg)) = stream.next().await {
        let text = match msg {
            Message::Text(t) => t,
            Message::Close(_) => break,
            _ => continue,
        };
        if s.receive(&text).await == Flow::Stop {
            break;
        }
    }
    // Closing drops the session's sender, so the writer ends once the room
    // has forgotten this socket.
    s.close().await;
    let _ = writer.await;
}

/// Send the room's messages to the socket until the sender goes away, the
/// socket fails, or the call has ended.
async fn write_all(
    mut sink: SplitSink<WebSocket, Message>,
    mut rx: mpsc::UnboundedReceiver<ServerMessage>,
) {
    while let Some(m) = rx.recv().await {
        let last = matches!(m, ServerMessage::Ended { .. });
        if sink.send(text(&m)).await.is_err() || last {
            let _ = sink.close().await;
            break;
        }
    }
}

fn text(m: &ServerMessage) -> Message {
    Message::Text(
        serde_json::to_string(m)
            .expect("server messages serialise")
            .into(),
    )
}
