//! The signalling WebSocket: `GET /api/v1/signal/{visit_id}`.
//!
//! Admission (participant, join window) is checked before the upgrade, so a
//! refusal is an ordinary JSON error. After it, the socket relays SDP and ICE
//! to the other side and carries the server's status changes, warnings and
//! the end of the call. Message types: `protocol::signal`.

use axum::extract::State;
use axum::extract::ws::{
    Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::http::StatusCode;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use protocol::ErrorBody;
use protocol::signal::{ClientMessage, EndReason, ServerMessage};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::auth::TerminalAuth;
use super::error::{ApiError, ApiPath};
use crate::server::AppState;
use crate::service::calls::{self, Admission};

/// Join a visit's call (WebSocket). Terminals authenticate with their credential.
#[utoipa::path(get, path = "/api/v1/signal/{visit_id}", tag = "terminal",
    security(("terminal" = [])),
    params(("visit_id" = Uuid, Path)),
    responses(
        (status = 101, description = "WebSocket of JSON `protocol::signal` messages"),
        (status = 400, body = ErrorBody, description = "Not a WebSocket upgrade"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "Not a participant"),
        (status = 422, body = ErrorBody, description = "Too early, or the visit is over")))]
pub async fn signal(
    State(st): State<AppState>,
    TerminalAuth(t): TerminalAuth,
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
    let actor = format!("terminal:{}", t.id);
    let admission = st
        .run(actor.clone(), move |c, ctx| {
            calls::admit(c, ctx, &t, visit_id)
        })
        .await?;
    Ok(ws.on_upgrade(move |socket| session(st, admission, actor, socket)))
}

async fn session(st: AppState, a: Admission, actor: String, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<ServerMessage>();
    let rooms = st.rooms();
    let (conn, peer_present) = rooms.join(a.visit_id, a.side, a.ends_at, tx.clone());
    let _ = tx.send(ServerMessage::Welcome {
        side: a.side,
        peer_present,
        ice_servers: a.ice_servers.clone(),
        ends_at: a.ends_at,
        status: a.status.to_wire(),
    });
    if peer_present {
        let v = a.visit_id;
        if let Ok(status) = st
            .run(actor.clone(), move |c, ctx| calls::both_present(c, ctx, v))
            .await
        {
            rooms.broadcast(
                v,
                &ServerMessage::Status {
                    status: status.to_wire(),
                },
            );
        }
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
        let relayed = match serde_json::from_str::<ClientMessage>(&text) {
            Ok(ClientMessage::Sdp { kind, sdp }) => Some(ServerMessage::Sdp { kind, sdp }),
            Ok(ClientMessage::Ice {
                candidate,
                sdp_mline_index,
            }) => Some(ServerMessage::Ice {
                candidate,
                sdp_mline_index,
            }),
            Ok(
                ClientMessage::MediaFlowing
                | ClientMessage::Join
                | ClientMessage::MediaInterrupted
                | ClientMessage::CallReport { .. },
            ) => None,
            Ok(ClientMessage::HangUp) => {
                hung_up = true;
                break;
            }
            Err(e) => {
                let _ = tx.send(ServerMessage::Error {
                    message: format!("not a signalling message: {e}"),
                });
                None
            }
        };
        if let Some(m) = relayed {
            rooms.relay(a.visit_id, a.side, m);
        }
    }
    let v = a.visit_id;
    let side = a.side;
    if hung_up {
        rooms.end(v, EndReason::HungUp { by: side });
    }
    if rooms.leave(v, side, conn) || hung_up {
        let _ = st
            .run(actor, move |c, ctx| calls::left(c, ctx, v, side, hung_up))
            .await;
    }
    drop(tx);
    let _ = writer.await;
}
