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
use futures_util::{SinkExt, StreamExt};
use protocol::ErrorBody;
use protocol::signal::{ClientMessage, EndReason, ServerMessage, Side};
use serde::Deserialize;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::auth::TerminalAuth;
use super::error::{ApiError, ApiPath, ApiQuery};
use crate::rooms::{Me, Refused, Seat};
use crate::server::AppState;
use crate::service::browser_tokens;
use crate::service::calls::{self, Admission, CallEvent, Caller};

/// Largest text message read; a call report is a few KiB, an SDP ~10 KiB.
const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Largest message the WebSocket layer buffers before giving up on the socket.
const MAX_WS_MESSAGE_BYTES: usize = 256 * 1024;
/// Media events recorded per socket at most.
const MAX_MEDIA_EVENTS: u32 = 100;

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
    if let Err(r) = st
        .rooms()
        .check(visit_id, &admission.peer, admission.max_visitors)
    {
        tracing::warn!(visit_id = %visit_id, terminal_id = %admission.holder.terminal_id(), visitor_id = %admission.holder.visitor_id(), error = %r, "connection to the call refused");
        return Err(refused(r));
    }
    Ok(ws
        .max_message_size(MAX_WS_MESSAGE_BYTES)
        .on_upgrade(move |socket| session(st, admission, socket)))
}

fn refused(r: Refused) -> ApiError {
    let code = match r {
        Refused::Full(_) => "visit_full",
        Refused::PersonTaken => "person_connected_elsewhere",
    };
    ApiError::new(StatusCode::CONFLICT, code, r.to_string())
}

/// One socket's state beyond its seat in the room.
struct Session {
    st: AppState,
    a: Admission,
    me: Me,
    actor: String,
    conn: u64,
    tx: mpsc::UnboundedSender<ServerMessage>,
    reported: bool,
    media_flowing: Option<bool>,
    media_events: u32,
    /// This socket took part in the call (its final report is still welcome
    /// after the call ended).
    was_joined: std::sync::atomic::AtomicBool,
}

impl Session {
    fn reply(&self, m: ServerMessage) {
        let _ = self.tx.send(m);
    }

    fn error(&self, message: impl Into<String>) {
        self.reply(ServerMessage::Error {
            message: message.into(),
        });
    }

    fn seat(&self) -> Seat {
        self.st.rooms().seat(self.a.visit_id, &self.me, self.conn)
    }

    /// `Join`: check the window, record it, seat the socket as joined, tell
    /// the other side, and move the visit along (Ready, then InProgress).
    async fn join(&self) {
        match self.seat() {
            Seat::Gone => return,
            Seat::Joined => return self.error("you have already joined this call"),
            Seat::Waiting => {}
        }
        let a = self.a.clone();
        let (before, after) = match self
            .st
            .run(self.actor.clone(), move |c, ctx| calls::join(c, ctx, &a))
            .await
        {
            Ok(change) => change,
            Err(e) => return self.error(e.message),
        };
        let rooms = self.st.rooms();
        let v = self.a.visit_id;
        let Some(peers) = rooms.join(v, &self.me, self.conn) else {
            return;
        };
        let peer_present = peers.iter().any(|p| p.side != self.a.side);
        self.was_joined
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.reply(ServerMessage::Joined {
            peer_present,
            peers,
        });
        if after != before {
            rooms.broadcast(
                v,
                &ServerMessage::Status {
                    status: after.to_wire(),
                },
            );
        }
        if peer_present {
            let both = self
                .st
                .run(self.actor.clone(), move |c, ctx| {
                    calls::both_present(c, ctx, v)
                })
                .await;
            match both {
                Ok((status, true)) => rooms.broadcast(
                    v,
                    &ServerMessage::Status {
                        status: status.to_wire(),
                    },
                ),
                Ok((_, false)) => {}
                Err(e) => {
                    tracing::warn!(visit_id = %v, error = %e.message, "could not start the call")
                }
            }
        }
    }

    /// Media events and the call report of a joined side, within the limits.
    async fn record(&mut self, event: CallEvent) {
        let final_report = matches!(event, CallEvent::Report(_))
            && self.was_joined.load(std::sync::atomic::Ordering::Relaxed);
        if self.seat() != Seat::Joined && !final_report {
            return self.error("join the call first");
        }
        match &event {
            CallEvent::Report(_) if self.reported => {
                return self.error("this connection's call report is already recorded");
            }
            CallEvent::Report(_) => self.reported = true,
            CallEvent::Device(..) | CallEvent::Problem(_) => {
                if self.media_events >= MAX_MEDIA_EVENTS {
                    return;
                }
                self.media_events += 1;
            }
            CallEvent::MediaFlowing | CallEvent::MediaInterrupted => {
                let flowing = matches!(event, CallEvent::MediaFlowing);
                if self.media_flowing == Some(flowing) || self.media_events >= MAX_MEDIA_EVENTS {
                    return;
                }
                self.media_flowing = Some(flowing);
                self.media_events += 1;
            }
        }
        let a = self.a.clone();
        if let Err(e) = self
            .st
            .run(self.actor.clone(), move |c, ctx| {
                calls::record_event(c, ctx, &a, &event)
            })
            .await
        {
            tracing::warn!(visit_id = %self.a.visit_id, error = %e.message, "could not record a call event");
        }
    }
}

async fn session(st: AppState, a: Admission, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<ServerMessage>();
    let rooms = st.rooms();
    let me = Me {
        side: a.side,
        id: a.peer.id,
    };
    let seated = match rooms.connect(
        a.visit_id,
        a.peer.clone(),
        a.ends_at,
        a.max_visitors,
        tx.clone(),
    ) {
        Ok(s) => s,
        Err(r) => {
            // Another socket took the last seat since the check.
            tracing::warn!(visit_id = %a.visit_id, visitor_id = %a.holder.visitor_id(), error = %r, "connection to the call refused");
            let m = ServerMessage::Error {
                message: r.to_string(),
            };
            let text = serde_json::to_string(&m).expect("server messages serialise");
            let _ = sink.send(Message::Text(text.into())).await;
            let _ = sink.close().await;
            return;
        }
    };
    let _ = tx.send(ServerMessage::Welcome {
        side: a.side,
        you: a.peer.id,
        peer_present: seated.peer_joined,
        ice_servers: a.ice_servers.clone(),
        ends_at: a.ends_at,
        status: a.status.to_wire(),
    });
    let mut s = Session {
        actor: a.holder.actor(),
        st,
        a,
        me,
        conn: seated.conn,
        tx,
        reported: false,
        media_flowing: None,
        media_events: 0,
        was_joined: Default::default(),
    };
    if seated.replaced_joined {
        // The side's previous socket had joined; this one has not (yet).
        let a = s.a.clone();
        let _ =
            s.st.run(s.actor.clone(), move |c, ctx| {
                calls::left(c, ctx, &a, false)
            })
            .await;
    }
    let writer = tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            let last = matches!(m, ServerMessage::Ended { .. });
            let text = serde_json::to_string(&m).expect("server messages serialise");
            if sink.send(Message::Text(text.into())).await.is_err() || last {
                let _ = sink.close().await;
                break;
            }
        }
    });
    let mut hung_up = false;
    while let Some(Ok(msg)) = stream.next().await {
        let text = match msg {
            Message::Text(t) => t,
            Message::Close(_) => break,
            _ => continue,
        };
        if s.seat() == Seat::Gone {
            // Replaced by the side's newer socket, or the call is over: only
            // the side's final call report is still taken.
            if s.was_joined.load(std::sync::atomic::Ordering::Relaxed)
                && let Ok(ClientMessage::CallReport { report }) =
                    serde_json::from_str::<ClientMessage>(&text)
            {
                s.record(CallEvent::Report(Box::new(report))).await;
            }
            break;
        }
        if text.len() > MAX_TEXT_BYTES {
            s.error("message too large (64 KiB at most); ignored");
            continue;
        }
        let from = s.me.id;
        let relayed = match serde_json::from_str::<ClientMessage>(&text) {
            Ok(ClientMessage::Sdp { kind, sdp, to }) => {
                Some((to, ServerMessage::Sdp { kind, sdp, from }))
            }
            Ok(ClientMessage::Ice {
                candidate,
                sdp_mline_index,
                to,
            }) => Some((
                to,
                ServerMessage::Ice {
                    candidate,
                    sdp_mline_index,
                    from,
                },
            )),
            Ok(ClientMessage::Join) => {
                s.join().await;
                None
            }
            Ok(ClientMessage::MediaFlowing) => {
                s.record(CallEvent::MediaFlowing).await;
                None
            }
            Ok(ClientMessage::MediaInterrupted) => {
                s.record(CallEvent::MediaInterrupted).await;
                None
            }
            Ok(ClientMessage::MediaProblem { problem }) => {
                s.record(CallEvent::Problem(problem)).await;
                None
            }
            Ok(ClientMessage::Device { device, available }) => {
                s.record(CallEvent::Device(device, available)).await;
                let m = ServerMessage::PeerDevice {
                    side: s.a.side,
                    from,
                    device,
                    available,
                };
                rooms.tell_others(s.a.visit_id, &s.me, s.conn, &m);
                None
            }
            Ok(ClientMessage::CallReport { report }) => {
                s.record(CallEvent::Report(Box::new(report))).await;
                None
            }
            Ok(ClientMessage::HangUp) => {
                hung_up = true;
                break;
            }
            Err(e) => {
                s.error(format!("not a signalling message: {e}"));
                None
            }
        };
        if let Some((to, m)) = relayed
            && let Err(e) = rooms.relay(s.a.visit_id, &s.me, s.conn, to, m)
        {
            s.error(e.to_string());
        }
    }
    let (v, side, me) = (s.a.visit_id, s.a.side, s.me);
    // The person hanging up ends the call for everyone, and so does the
    // last visitor (or the lobby); a visitor leaving while another stays
    // only leaves. A waiting socket's hang-up is only leaving.
    let hung_up = hung_up && s.seat() == Seat::Joined;
    let ends_call = hung_up && (side == Side::Person || rooms.joined_visitors(v) <= 1);
    if ends_call {
        rooms.end(v, EndReason::HungUp { by: side });
    }
    if rooms.leave(v, &me, s.conn) == Some(true) || ends_call {
        let a = s.a.clone();
        let _ =
            s.st.run(s.actor.clone(), move |c, ctx| {
                calls::left(c, ctx, &a, ends_call)
            })
            .await;
    }
    drop(s);
    let _ = writer.await;
}
