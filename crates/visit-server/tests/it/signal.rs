//! Call signalling over WebSocket: pairing, relay, join windows, warnings,
//! the scheduled end and staff termination.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use protocol::VisitStatus;
use protocol::signal::{ClientMessage, EndReason, SdpKind, ServerMessage, Side};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use uuid::Uuid;

use crate::util::*;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(s: &TestServer, visit: Uuid, credential: &str) -> Result<Ws, (u16, Value)> {
    let url = format!(
        "{}/api/v1/signal/{visit}",
        s.base.replace("http://", "ws://")
    );
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {credential}").parse().unwrap(),
    );
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

async fn next(ws: &mut Ws) -> ServerMessage {
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

async fn send(ws: &mut Ws, m: &ClientMessage) {
    ws.send(Message::Text(serde_json::to_string(m).unwrap().into()))
        .await
        .unwrap();
}

struct Call {
    visit: Uuid,
    lobby: String,
    unit: String,
    f: Facility,
}

/// James (Pod A) has an on-site visit on Thursday 10:00-12:00.
async fn call(s: &TestServer) -> Call {
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

#[tokio::test]
async fn the_two_sides_are_paired_within_their_join_windows_and_messages_relayed() {
    let s = TestServer::start().await;
    let c = call(&s).await;

    // The person may join 2 minutes early, the visitor 1 minute.
    s.clock.set(local(2026, 11, 19, 9, 57));
    assert_eq!(
        connect(&s, c.visit, &c.unit).await.err().unwrap().1["error"],
        "too_early_to_join"
    );
    s.clock.set(local(2026, 11, 19, 9, 58));
    let mut unit = connect(&s, c.visit, &c.unit).await.unwrap();
    match next(&mut unit).await {
        ServerMessage::Welcome {
            side,
            peer_present,
            ice_servers,
            ends_at,
            status,
        } => {
            assert_eq!(
                (side, peer_present, status),
                (Side::Person, false, VisitStatus::Ready)
            );
            assert!(ice_servers.is_empty(), "no STUN/TURN unless configured");
            assert_eq!(ends_at, local(2026, 11, 19, 12, 0));
        }
        other => panic!("{other:?}"),
    }
    let (status, body) = connect(&s, c.visit, &c.lobby).await.err().unwrap();
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (422, "too_early_to_join")
    );

    s.clock.set(local(2026, 11, 19, 9, 59));
    let mut lobby = connect(&s, c.visit, &c.lobby).await.unwrap();
    assert!(matches!(
        next(&mut lobby).await,
        ServerMessage::Welcome {
            side: Side::Visitor,
            peer_present: true,
            ..
        }
    ));
    assert_eq!(
        next(&mut unit).await,
        ServerMessage::PeerJoined {
            side: Side::Visitor
        }
    );
    assert_eq!(
        next(&mut unit).await,
        ServerMessage::Status {
            status: VisitStatus::InProgress
        }
    );
    assert_eq!(
        next(&mut lobby).await,
        ServerMessage::Status {
            status: VisitStatus::InProgress
        }
    );

    send(
        &mut lobby,
        &ClientMessage::Sdp {
            kind: SdpKind::Offer,
            sdp: "v=0 offer".into(),
        },
    )
    .await;
    assert_eq!(
        next(&mut unit).await,
        ServerMessage::Sdp {
            kind: SdpKind::Offer,
            sdp: "v=0 offer".into()
        }
    );
    send(
        &mut unit,
        &ClientMessage::Ice {
            candidate: "candidate:1 1 UDP 1 127.0.0.1 5000 typ host".into(),
            sdp_mline_index: 0,
        },
    )
    .await;
    assert_eq!(
        next(&mut lobby).await,
        ServerMessage::Ice {
            candidate: "candidate:1 1 UDP 1 127.0.0.1 5000 typ host".into(),
            sdp_mline_index: 0
        }
    );
    lobby.send(Message::Text("not json".into())).await.unwrap();
    assert!(matches!(
        next(&mut lobby).await,
        ServerMessage::Error { .. }
    ));
    assert_eq!(s.visit_status(c.visit).await, "in_progress");

    // The visitor's connection drops: the person is told, the visit goes on.
    drop(lobby);
    assert_eq!(
        next(&mut unit).await,
        ServerMessage::PeerLeft {
            side: Side::Visitor
        }
    );
    s.stop().await;
}

#[tokio::test]
async fn only_the_visits_participants_may_join() {
    let s = TestServer::start().await;
    let c = call(&s).await;
    let david = s
        .person(&c.f, "B-2002", "David Brown", c.f.unit_b, json!([]))
        .await;
    let jen = s.approved_adult(david, "Jen Brown").await;
    let (pod_b_visit, _) = s
        .book_ok(david, &[jen], "onsite", local(2026, 11, 19, 12, 0))
        .await;
    s.clock.set(local(2026, 11, 19, 10, 0));
    let other = s.facility(1).await;
    let stranger = s.enrol(&other.lobbies[0].1).await;
    let (status, body) = connect(&s, c.visit, &stranger).await.err().unwrap();
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (403, "forbidden")
    );
    let (status, _) = connect(&s, c.visit, "not-a-credential")
        .await
        .err()
        .unwrap();
    assert_eq!(status, 401);
    let (status, _) = connect(&s, Uuid::new_v4(), &c.lobby).await.err().unwrap();
    assert_eq!(status, 404);
    // A housing-unit terminal takes the person's side only for its own unit's people.
    s.clock.set(local(2026, 11, 19, 12, 0));
    let (status, _) = connect(&s, pod_b_visit, &c.unit).await.err().unwrap();
    assert_eq!(status, 403);
    s.stop().await;
}

#[tokio::test]
async fn the_call_is_warned_and_ended_at_its_scheduled_end() {
    let s = TestServer::start().await;
    let c = call(&s).await;
    s.clock.set(local(2026, 11, 19, 10, 30));
    let mut unit = connect(&s, c.visit, &c.unit).await.unwrap();
    let mut lobby = connect(&s, c.visit, &c.lobby).await.unwrap();
    for ws in [&mut unit, &mut lobby] {
        loop {
            if let ServerMessage::Status {
                status: VisitStatus::InProgress,
            } = next(ws).await
            {
                break;
            }
        }
    }
    s.clock.set(local(2026, 11, 19, 11, 55));
    assert_eq!(
        next(&mut unit).await,
        ServerMessage::Warning { minutes_left: 5 }
    );
    assert_eq!(
        next(&mut lobby).await,
        ServerMessage::Warning { minutes_left: 5 }
    );
    s.clock.set(local(2026, 11, 19, 11, 59));
    for ws in [&mut unit, &mut lobby] {
        assert_eq!(next(ws).await, ServerMessage::Warning { minutes_left: 1 });
    }
    s.clock.set(local(2026, 11, 19, 12, 0));
    for ws in [&mut unit, &mut lobby] {
        assert_eq!(
            next(ws).await,
            ServerMessage::Ended {
                reason: EndReason::TimeExpired
            }
        );
    }
    s.wait_for_status(c.visit, "ended").await;
    // Over: nobody can rejoin.
    let (status, _) = connect(&s, c.visit, &c.unit).await.err().unwrap();
    assert_eq!(status, 422);
    s.stop().await;
}

#[tokio::test]
async fn a_staff_termination_ends_both_sides_at_once_with_the_reason() {
    let s = TestServer::start().await;
    let c = call(&s).await;
    s.clock.set(local(2026, 11, 19, 10, 5));
    let mut unit = connect(&s, c.visit, &c.unit).await.unwrap();
    let mut lobby = connect(&s, c.visit, &c.lobby).await.unwrap();
    next(&mut unit).await;
    next(&mut lobby).await;
    let started = std::time::Instant::now();
    let (st, _) = s
        .admin_post(
            &format!("/api/v1/admin/visits/{}/terminate", c.visit),
            json!({"reason": "use of a cell phone"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let want = ServerMessage::Ended {
        reason: EndReason::Terminated {
            reason: "use of a cell phone".into(),
        },
    };
    for ws in [&mut unit, &mut lobby] {
        loop {
            let m = next(ws).await;
            if matches!(m, ServerMessage::Ended { .. }) {
                assert_eq!(m, want);
                break;
            }
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    s.stop().await;
}
