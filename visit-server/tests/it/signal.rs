//! Call signalling over WebSocket: waiting and joining, relay between
//! joined sides, join windows, remote visitors' join links, the call's
//! record in the history, warnings, the scheduled end and staff termination.

use std::time::Duration;

use futures_util::SinkExt;
use protocol::VisitStatus;
use protocol::signal::{
    CallReport, ClientMessage, EndReason, Interruption, SdpKind, ServerMessage, Side,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::sockets::*;
use crate::util::*;

#[tokio::test]
async fn a_waiting_lobby_hears_the_person_join_then_joins_and_both_are_in_progress() {
    let s = TestServer::start().await;
    let c = call(&s).await;
    // An on-site visit's lobby seat is the visit's own (whichever lobby
    // terminal takes it): its peer id is the visit id.
    let (lobby_id, unit_id) = (c.visit, c.f.unit_a_terminal.0);
    assert_ne!(lobby_id, c.f.lobbies[0].0);
    // Connecting is allowed any time before the end: it only waits.
    s.clock.set(local(2026, 11, 19, 9, 30));
    let mut lobby = waiting(
        &s,
        c.visit,
        &c.lobby,
        (Side::Visitor, false, VisitStatus::Scheduled),
    )
    .await;
    let mut unit = connect(&s, c.visit, &c.unit).await.unwrap();
    match next(&mut unit).await {
        ServerMessage::Welcome {
            side,
            you,
            peer_present,
            ice_servers,
            ends_at,
            status,
        } => {
            assert_eq!(
                (side, you, peer_present, status),
                (Side::Person, unit_id, false, VisitStatus::Scheduled)
            );
            assert!(ice_servers.is_empty(), "no STUN/TURN unless configured");
            assert_eq!(ends_at, local(2026, 11, 19, 12, 0));
        }
        other => panic!("{other:?}"),
    }

    s.clock.set(local(2026, 11, 19, 9, 58));
    joins(&mut unit, false).await;
    assert_eq!(next(&mut unit).await, status(VisitStatus::Ready));
    assert_eq!(next(&mut lobby).await, status(VisitStatus::Ready));
    assert_eq!(s.visit_status(c.visit).await, "ready");

    s.clock.set(local(2026, 11, 19, 9, 59));
    joins(&mut lobby, true).await;
    assert_eq!(
        next(&mut unit).await,
        ServerMessage::PeerJoined {
            side: Side::Visitor,
            id: lobby_id,
            name: None,
        }
    );
    for ws in [&mut unit, &mut lobby] {
        assert_eq!(next(ws).await, status(VisitStatus::InProgress));
    }

    // Joined sides exchange SDP and ICE.
    send(
        &mut unit,
        &ClientMessage::Sdp {
            kind: SdpKind::Offer,
            sdp: "v=0 offer".into(),
            to: None,
        },
    )
    .await;
    assert_eq!(
        next(&mut lobby).await,
        ServerMessage::Sdp {
            kind: SdpKind::Offer,
            sdp: "v=0 offer".into(),
            from: unit_id,
        }
    );
    send(
        &mut lobby,
        &ClientMessage::Ice {
            candidate: "candidate:1 1 UDP 1 127.0.0.1 5000 typ host".into(),
            sdp_mline_index: 0,
            to: Some(unit_id),
        },
    )
    .await;
    assert_eq!(
        next(&mut unit).await,
        ServerMessage::Ice {
            candidate: "candidate:1 1 UDP 1 127.0.0.1 5000 typ host".into(),
            sdp_mline_index: 0,
            from: lobby_id,
        }
    );
    lobby.send(Message::Text("not json".into())).await.unwrap();
    error(&mut lobby).await;
    assert_eq!(s.visit_status(c.visit).await, "in_progress");

    // The visitor's connection drops: the person is told, the visit goes on.
    drop(lobby);
    assert_eq!(
        next(&mut unit).await,
        ServerMessage::PeerLeft {
            side: Side::Visitor,
            id: lobby_id,
        }
    );
    assert_eq!(s.visit_status(c.visit).await, "in_progress");
    s.stop().await;
}

#[tokio::test]
async fn a_join_before_the_window_is_refused_and_the_same_socket_joins_later() {
    let s = TestServer::start().await;
    let c = call(&s).await;
    // The person may join 2 minutes early, the visitor 1 minute.
    s.clock.set(local(2026, 11, 19, 9, 57));
    let mut unit = waiting(
        &s,
        c.visit,
        &c.unit,
        (Side::Person, false, VisitStatus::Scheduled),
    )
    .await;
    send(&mut unit, &ClientMessage::Join).await;
    let message = error(&mut unit).await;
    assert!(message.contains("too early"), "{message}");
    // 09:58 in Chicago, said in UTC.
    assert!(message.contains("15:58"), "{message}");
    assert_eq!(s.visit_status(c.visit).await, "scheduled");

    s.clock.set(local(2026, 11, 19, 9, 58));
    let mut lobby = waiting(
        &s,
        c.visit,
        &c.lobby,
        (Side::Visitor, false, VisitStatus::Scheduled),
    )
    .await;
    send(&mut lobby, &ClientMessage::Join).await;
    error(&mut lobby).await;
    joins(&mut unit, false).await;
    assert_eq!(next(&mut lobby).await, status(VisitStatus::Ready));

    s.clock.set(local(2026, 11, 19, 9, 59));
    joins(&mut lobby, true).await;
    s.wait_for_status(c.visit, "in_progress").await;
    s.stop().await;
}

#[tokio::test]
async fn sdp_from_a_waiting_socket_is_not_relayed_and_waiting_sockets_hear_the_clock() {
    let s = TestServer::start().await;
    let c = call(&s).await;
    s.clock.set(local(2026, 11, 19, 9, 50));
    let mut unit = waiting(
        &s,
        c.visit,
        &c.unit,
        (Side::Person, false, VisitStatus::Scheduled),
    )
    .await;
    let mut lobby = waiting(
        &s,
        c.visit,
        &c.lobby,
        (Side::Visitor, false, VisitStatus::Scheduled),
    )
    .await;
    // The start comes: both waiting sockets hear the visit is pending.
    s.clock.set(local(2026, 11, 19, 10, 0));
    for ws in [&mut unit, &mut lobby] {
        assert_eq!(next(ws).await, status(VisitStatus::Pending));
    }
    joins(&mut unit, false).await;
    assert_eq!(next(&mut unit).await, status(VisitStatus::Ready));
    assert_eq!(next(&mut lobby).await, status(VisitStatus::Ready));

    // The lobby has not joined: its SDP and ICE go nowhere, and it is told.
    send(
        &mut lobby,
        &ClientMessage::Sdp {
            kind: SdpKind::Offer,
            sdp: "v=0 offer".into(),
            to: None,
        },
    )
    .await;
    let message = error(&mut lobby).await;
    assert!(message.contains("join"), "{message}");
    send(&mut lobby, &ClientMessage::MediaFlowing).await;
    error(&mut lobby).await;
    quiet(&mut unit).await;
    // A waiting side that leaves is not news to the person.
    drop(lobby);
    quiet(&mut unit).await;
    s.stop().await;
}

#[tokio::test]
async fn a_remote_visitors_join_link_admits_them_as_the_visitor_until_the_end() {
    let (s, mut inbox) = with_inbox().await;
    let f = s.facility(1).await;
    let james = s
        .person(&f, "A-1001", "James Smith", f.unit_a, json!([]))
        .await;
    let maria = s.approved_adult(james, "Maria Smith").await;
    let unit = s.enrol(&f.unit_a_terminal.1).await;
    let (st, booked) = s
        .book(james, &[maria], "remote", local(2026, 11, 19, 10, 0))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{booked}");
    let visit = id(&booked["visit"]);
    let end: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(booked["visit"]["end"].clone()).unwrap();
    let mail = next_mail(&mut inbox).await;
    assert!(mail.contains("To: maria.smith@example.org"), "{mail}");
    let (linked, token) = join_link(&mail);
    assert_eq!(linked, visit);
    // The admin outbox never shows it; the server keeps only a keyed hash.
    let (_, outbox) = s.admin_get("/api/v1/admin/outbox").await;
    assert!(!outbox.to_string().contains(&token));
    let hashes: Vec<String> = s
        .sql()
        .prepare("SELECT token_hash FROM join_tokens WHERE visit_id = ?1")
        .unwrap()
        .query_map([visit.to_string()], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(hashes.len(), 1);
    assert_ne!(hashes[0], token);

    s.clock.set(local(2026, 11, 19, 10, 0));
    s.wait_for_status(visit, "pending").await;
    let mut browser = connect_token(&s, visit, &token).await.unwrap();
    assert!(matches!(
        next(&mut browser).await,
        ServerMessage::Welcome {
            side: Side::Visitor,
            peer_present: false,
            ..
        }
    ));
    assert!(matches!(
        join(&mut browser).await,
        ServerMessage::Joined {
            peer_present: false,
            ..
        }
    ));
    let mut unit = connected(&s, visit, &unit).await;
    joins(&mut unit, true).await;
    s.wait_for_status(visit, "in_progress").await;
    let (_, rec) = s.admin_get(&format!("/api/v1/admin/visits/{visit}")).await;
    let joined: Vec<_> = rec["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["event"] == "joined_call")
        .collect();
    assert_eq!(joined.len(), 2, "{rec}");
    assert_eq!(joined[0]["actor"], format!("visitor:{maria}"));
    assert_eq!(joined[0]["detail"]["side"], "visitor");

    // A wrong token, and the right one on another visit, are refused.
    let (st, body) = connect_token(&s, visit, "not-the-token")
        .await
        .err()
        .unwrap();
    assert_eq!((st, body["error"].as_str().unwrap()), (401, "unauthorized"));
    let (st, _) = connect_token(&s, Uuid::new_v4(), &token)
        .await
        .err()
        .unwrap();
    assert_eq!(st, 401);
    // Once the visit's end has come, the token is worth nothing.
    s.clock.set(end);
    let (st, body) = connect_token(&s, visit, &token).await.err().unwrap();
    assert_eq!((st, body["error"].as_str().unwrap()), (401, "unauthorized"));
    s.stop().await;
}

#[tokio::test]
async fn media_events_and_call_reports_are_kept_in_the_visit_history() {
    let s = TestServer::start().await;
    let c = call(&s).await;
    s.clock.set(local(2026, 11, 19, 10, 0));
    s.wait_for_status(c.visit, "pending").await;
    let (mut unit, mut lobby) = in_call(&s, &c).await;
    send(&mut lobby, &ClientMessage::MediaFlowing).await;
    send(&mut lobby, &ClientMessage::MediaInterrupted).await;
    // A repeat changes nothing and is not recorded again.
    send(&mut lobby, &ClientMessage::MediaInterrupted).await;
    let report = CallReport {
        connected_ms: 65_000,
        setup_ms: Some(1_200),
        interruptions: vec![Interruption {
            from: local(2026, 11, 19, 10, 1),
            duration_ms: Some(4_000),
        }],
        sessions: 2,
        frames_decoded: 1_900,
        median_video_kbps: 850,
        median_rtt_ms: Some(40),
        loss: 0.01,
        video_codec: "H264".into(),
        audio_packets: 3_200,
    };
    send(
        &mut unit,
        &ClientMessage::CallReport {
            report: report.clone(),
        },
    )
    .await;
    // One report per connection.
    send(
        &mut unit,
        &ClientMessage::CallReport {
            report: report.clone(),
        },
    )
    .await;
    let message = error(&mut unit).await;
    assert!(message.contains("already"), "{message}");
    // A report too large to be honest is refused unread.
    let huge = serde_json::to_string(&ClientMessage::CallReport {
        report: CallReport {
            video_codec: "x".repeat(70_000),
            ..CallReport::default()
        },
    })
    .unwrap();
    lobby.send(Message::Text(huge.into())).await.unwrap();
    let message = error(&mut lobby).await;
    assert!(message.contains("too large"), "{message}");

    // Each socket's messages are handled in order, so the errors above mean
    // everything before them is recorded.
    let (_, rec) = s
        .admin_get(&format!("/api/v1/admin/visits/{}", c.visit))
        .await;
    let of = |side: &str| -> Vec<Value> {
        rec["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| {
                h["detail"]["side"] == side
                    && ["media_flowing", "media_interrupted", "call_report"]
                        .contains(&h["event"].as_str().unwrap())
            })
            .cloned()
            .collect()
    };
    let (visitor, person) = (of("visitor"), of("person"));
    let events = |h: &[Value]| -> Vec<String> {
        h.iter()
            .map(|e| e["event"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        events(&visitor),
        ["media_flowing", "media_interrupted"],
        "{rec}"
    );
    assert_eq!(events(&person), ["call_report"], "{rec}");
    let lobby_id = c.f.lobbies[0].0;
    assert_eq!(visitor[1]["detail"]["terminal_id"], lobby_id.to_string());
    assert_eq!(visitor[1]["actor"], format!("terminal:{lobby_id}"));
    assert_eq!(
        person[0]["detail"]["terminal_id"],
        c.f.unit_a_terminal.0.to_string()
    );
    let recorded: CallReport =
        serde_json::from_value(person[0]["detail"]["report"].clone()).unwrap();
    assert_eq!(recorded, report);
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
    s.wait_for_status(c.visit, "pending").await;
    let (mut unit, mut lobby) = in_call(&s, &c).await;
    s.clock.set(local(2026, 11, 19, 11, 55));
    for ws in [&mut unit, &mut lobby] {
        assert_eq!(next(ws).await, ServerMessage::Warning { minutes_left: 5 });
    }
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
    // Over: nobody can connect again.
    let (status, _) = connect(&s, c.visit, &c.unit).await.err().unwrap();
    assert_eq!(status, 422);
    s.stop().await;
}

#[tokio::test]
async fn a_waiting_socket_is_warned_and_ended_too() {
    let s = TestServer::start().await;
    let c = call(&s).await;
    s.clock.set(local(2026, 11, 19, 11, 50));
    s.wait_for_status(c.visit, "pending").await;
    let mut lobby = waiting(
        &s,
        c.visit,
        &c.lobby,
        (Side::Visitor, false, VisitStatus::Pending),
    )
    .await;
    s.clock.set(local(2026, 11, 19, 11, 59));
    assert_eq!(
        next(&mut lobby).await,
        ServerMessage::Warning { minutes_left: 1 }
    );
    s.clock.set(local(2026, 11, 19, 12, 0));
    assert_eq!(
        next(&mut lobby).await,
        ServerMessage::Ended {
            reason: EndReason::TimeExpired
        }
    );
    s.wait_for_status(c.visit, "no_show").await;
    s.stop().await;
}

#[tokio::test]
async fn a_staff_termination_ends_joined_and_waiting_sockets_at_once_with_the_reason() {
    let s = TestServer::start().await;
    let c = call(&s).await;
    s.clock.set(local(2026, 11, 19, 10, 5));
    s.wait_for_status(c.visit, "pending").await;
    let mut unit = connected(&s, c.visit, &c.unit).await;
    let mut lobby = connected(&s, c.visit, &c.lobby).await;
    // The person joins; the visitor is still waiting in the lobby.
    send(&mut unit, &ClientMessage::Join).await;
    assert_eq!(next(&mut lobby).await, status(VisitStatus::Ready));
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
        let m = until(ws, |m| matches!(m, ServerMessage::Ended { .. })).await;
        assert_eq!(m, want);
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    s.stop().await;
}

#[tokio::test]
async fn several_visitors_are_addressed_one_by_one_up_to_the_limit_and_only_while_eligible() {
    let (s, mut inbox) = with_inbox().await;
    let f = s
        .facility_with(1, json!({"max_visitors_per_visit": 2}))
        .await;
    let james = s
        .person(&f, "A-1001", "James Smith", f.unit_a, json!([]))
        .await;
    let maria = s.approved_adult(james, "Maria Smith").await;
    let ana = s.approved_adult(james, "Ana Lopez").await;
    let carl = s.approved_adult(james, "Carl Smith").await;
    let unit = s.enrol(&f.unit_a_terminal.1).await;
    let unit_id = f.unit_a_terminal.0;
    // A third visitor is beyond this facility's limit of two.
    let (st, body) = s
        .book(
            james,
            &[maria, ana, carl],
            "remote",
            local(2026, 11, 19, 10, 0),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (st, booked) = s
        .book(james, &[maria, ana], "remote", local(2026, 11, 19, 10, 0))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{booked}");
    let visit = id(&booked["visit"]);
    let mut tokens = std::collections::HashMap::new();
    for _ in 0..2 {
        let mail = next_mail(&mut inbox).await;
        let who = if mail.contains("To: maria.smith@") {
            maria
        } else {
            ana
        };
        tokens.insert(who, join_link(&mail).1);
    }

    s.clock.set(local(2026, 11, 19, 10, 0));
    let mut unit = connected(&s, visit, &unit).await;
    join(&mut unit).await;
    let mut a = connect_token(&s, visit, &tokens[&maria]).await.unwrap();
    match next(&mut a).await {
        ServerMessage::Welcome { you, side, .. } => assert_eq!((you, side), (maria, Side::Visitor)),
        other => panic!("{other:?}"),
    }
    join(&mut a).await;
    assert_eq!(
        until(&mut unit, |m| matches!(m, ServerMessage::PeerJoined { .. })).await,
        ServerMessage::PeerJoined {
            side: Side::Visitor,
            id: maria,
            name: Some("Maria S.".into()),
        },
        "the unit's tile is named with first name and last initial"
    );
    let mut b = connect_token(&s, visit, &tokens[&ana]).await.unwrap();
    next(&mut b).await;
    match join(&mut b).await {
        ServerMessage::Joined {
            peer_present,
            peers,
        } => {
            assert!(peer_present);
            let ids: Vec<_> = peers.iter().map(|p| (p.id, p.side)).collect();
            assert_eq!(ids, [(unit_id, Side::Person), (maria, Side::Visitor)]);
            assert_eq!(peers[0].name.as_deref(), Some("James S."));
        }
        other => panic!("{other:?}"),
    }
    until(
        &mut a,
        |m| matches!(m, ServerMessage::PeerJoined { id, .. } if *id == ana),
    )
    .await;
    until(
        &mut unit,
        |m| matches!(m, ServerMessage::PeerJoined { id, .. } if *id == ana),
    )
    .await;

    // The person must say which visitor; the offer reaches only Ana.
    let offer = |to| ClientMessage::Sdp {
        kind: SdpKind::Offer,
        sdp: "v=0 offer".into(),
        to,
    };
    send(&mut unit, &offer(None)).await;
    match until(&mut unit, |m| matches!(m, ServerMessage::Error { .. })).await {
        ServerMessage::Error { message } => assert!(message.contains("which"), "{message}"),
        other => panic!("{other:?}"),
    }
    send(&mut unit, &offer(Some(ana))).await;
    assert_eq!(
        until(&mut b, |m| matches!(m, ServerMessage::Sdp { .. })).await,
        ServerMessage::Sdp {
            kind: SdpKind::Offer,
            sdp: "v=0 offer".into(),
            from: unit_id,
        }
    );
    // Visitor to visitor (their audio), stamped with the sender.
    send(
        &mut b,
        &ClientMessage::Ice {
            candidate: "candidate:1 1 UDP 1 127.0.0.1 5000 typ host".into(),
            sdp_mline_index: 0,
            to: Some(maria),
        },
    )
    .await;
    assert!(matches!(
        until(&mut a, |m| matches!(m, ServerMessage::Sdp { .. } | ServerMessage::Ice { .. })).await,
        ServerMessage::Ice { from, .. } if from == ana
    ));

    // Maria hangs up: the others hear she left, the visit goes on.
    send(&mut a, &ClientMessage::HangUp).await;
    let left = ServerMessage::PeerLeft {
        side: Side::Visitor,
        id: maria,
    };
    assert_eq!(
        until(&mut unit, |m| matches!(m, ServerMessage::PeerLeft { .. })).await,
        left
    );
    assert_eq!(
        until(&mut b, |m| matches!(m, ServerMessage::PeerLeft { .. })).await,
        left
    );
    assert_eq!(s.visit_status(visit).await, "in_progress");

    // Maria comes back to the waiting room, then is sanctioned: her open
    // socket cannot join, and her link no longer lets her in.
    let mut a2 = connect_token(&s, visit, &tokens[&maria]).await.unwrap();
    let (st, body) = s
        .admin_post(
            "/api/v1/admin/sanctions",
            json!({"visitor_id": maria, "reason": "showed a weapon on camera"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    send(&mut a2, &ClientMessage::Join).await;
    match until(&mut a2, |m| {
        matches!(
            m,
            ServerMessage::Error { .. } | ServerMessage::Joined { .. }
        )
    })
    .await
    {
        ServerMessage::Error { message } => assert!(message.contains("restricted"), "{message}"),
        m => panic!("a sanctioned visitor joined: {m:?}"),
    }
    let (st, body) = connect_token(&s, visit, &tokens[&maria])
        .await
        .err()
        .unwrap();
    assert_eq!(st, 403, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("restricted"),
        "{body}"
    );
    s.stop().await;
}
