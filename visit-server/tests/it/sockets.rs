//! Signalling sockets for the tests: connect as a terminal or a browser,
//! read and send `protocol::signal` messages, and the set-ups most call
//! tests share (a waiting socket, a joined one, both sides in the call).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use protocol::VisitStatus;
use protocol::signal::{ClientMessage, ServerMessage, Side};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use uuid::Uuid;

use crate::util::*;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn signal_url(s: &TestServer, visit: Uuid) -> String {
    format!(
        "{}/api/v1/signal/{visit}",
        s.base.replace("http://", "ws://")
    )
}

/// Connect as a terminal (Authorization header): the socket, or the
/// refusal's status and body.
pub async fn connect(s: &TestServer, visit: Uuid, credential: &str) -> Result<Ws, (u16, Value)> {
    let mut req = signal_url(s, visit).into_client_request().unwrap();
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {credential}").parse().unwrap(),
    );
    open(req).await
}

/// Connect as a browser (`?token=`: a join token or a browser token).
pub async fn connect_token(s: &TestServer, visit: Uuid, token: &str) -> Result<Ws, (u16, Value)> {
    let req = format!("{}?token={token}", signal_url(s, visit))
        .into_client_request()
        .unwrap();
    open(req).await
}

async fn open(
    req: tokio_tungstenite::tungstenite::handshake::client::Request,
) -> Result<Ws, (u16, Value)> {
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(res)) => {
            let body = res
                .body()
                .as_ref()
                .map(|b| serde_json::from_slice(b).unwrap())
                .unwrap_or(Value::Null);
            Err((res.status().as_u16(), body))
        }
        Err(e) => panic!("{e}"),
    }
}

/// Connect as a terminal and read past the welcome.
pub async fn connected(s: &TestServer, visit: Uuid, credential: &str) -> Ws {
    let mut ws = connect(s, visit, credential).await.unwrap();
    next(&mut ws).await;
    ws
}

/// Connect as a terminal, read the welcome, and check its side, peer and status.
pub async fn waiting(
    s: &TestServer,
    visit: Uuid,
    credential: &str,
    want: (Side, bool, VisitStatus),
) -> Ws {
    let mut ws = connect(s, visit, credential).await.unwrap();
    match next(&mut ws).await {
        ServerMessage::Welcome {
            side,
            peer_present,
            status,
            ..
        } => assert_eq!((side, peer_present, status), want),
        other => panic!("{other:?}"),
    }
    ws
}

/// The next message (within 5 s).
pub async fn next(ws: &mut Ws) -> ServerMessage {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message within 5 s")
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(t) = m {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

/// Skip messages until one matches (e.g. past the clock's status changes).
pub async fn until(ws: &mut Ws, want: impl Fn(&ServerMessage) -> bool) -> ServerMessage {
    loop {
        let m = next(ws).await;
        if want(&m) {
            return m;
        }
    }
}

/// Nothing arrives for a moment (a message that must not be relayed).
pub async fn quiet(ws: &mut Ws) {
    if let Ok(m) = tokio::time::timeout(Duration::from_millis(200), ws.next()).await {
        panic!("unexpected {m:?}");
    }
}

pub fn status(status: VisitStatus) -> ServerMessage {
    ServerMessage::Status { status }
}

pub async fn send(ws: &mut Ws, m: &ClientMessage) {
    ws.send(Message::Text(serde_json::to_string(m).unwrap().into()))
        .await
        .unwrap();
}

/// Send `Join` and read the answer: it must be `Joined`, with the other
/// side present or not as said.
pub async fn joins(ws: &mut Ws, peer_present: bool) {
    send(ws, &ClientMessage::Join).await;
    match next(ws).await {
        ServerMessage::Joined {
            peer_present: present,
            ..
        } => assert_eq!(present, peer_present, "the other side present"),
        other => panic!("{other:?}"),
    }
}

/// Send `Join` and skip to the `Joined` answer.
pub async fn join(ws: &mut Ws) -> ServerMessage {
    send(ws, &ClientMessage::Join).await;
    until(ws, |m| matches!(m, ServerMessage::Joined { .. })).await
}

/// The next message is an error; its text.
pub async fn error(ws: &mut Ws) -> String {
    match next(ws).await {
        ServerMessage::Error { message } => message,
        other => panic!("{other:?}"),
    }
}

/// An on-site visit between a lobby and a unit terminal.
pub struct Call {
    pub visit: Uuid,
    pub lobby: String,
    pub unit: String,
    pub f: Facility,
}

/// James (Pod A) has an on-site visit on Thursday 10:00-12:00.
pub async fn call(s: &TestServer) -> Call {
    let f = s.facility(1).await;
    let james = s
        .person(&f, "A-1001", "James Smith", f.unit_a, json!([]))
        .await;
    let maria = s.approved_adult(james, "Maria Smith").await;
    let (visit, _) = s
        .book_ok(james, &[maria], "onsite", local(2026, 11, 19, 10, 0))
        .await;
    let lobby = s.enrol(&f.lobbies[0].1).await;
    let unit = s.enrol(&f.unit_a_terminal.1).await;
    Call {
        visit,
        lobby,
        unit,
        f,
    }
}

/// Both sides of `c` connected and joined, the visit in progress:
/// (unit, lobby).
pub async fn in_call(s: &TestServer, c: &Call) -> (Ws, Ws) {
    let mut unit = connect(s, c.visit, &c.unit).await.unwrap();
    let mut lobby = connect(s, c.visit, &c.lobby).await.unwrap();
    send(&mut unit, &ClientMessage::Join).await;
    send(&mut lobby, &ClientMessage::Join).await;
    for ws in [&mut unit, &mut lobby] {
        until(ws, |m| *m == status(VisitStatus::InProgress)).await;
    }
    (unit, lobby)
}

/// The join link in a remote visitor's confirmation: (visit id, token).
pub fn join_link(mail: &str) -> (Uuid, String) {
    let start = mail
        .find("https://visits.test/join/")
        .unwrap_or_else(|| panic!("no join link in {mail}"));
    let rest = &mail[start + "https://visits.test/join/".len()..];
    let (visit, rest) = rest.split_once("?token=").unwrap();
    let token: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert!(token.len() >= 22, "at least 128 bits: {token}");
    (visit.parse().unwrap(), token)
}
