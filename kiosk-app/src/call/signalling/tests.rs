//! The signalling rules, pushed message by message.

use chrono::Utc;
use protocol::VisitStatus;
use protocol::signal::{ClientMessage, MediaDevice, PeerInfo, SdpKind, ServerMessage, Side};
use uuid::Uuid;

use super::{Action, Signalling};
use crate::call::CallEvent;

fn welcome(side: Side) -> ServerMessage {
    ServerMessage::Welcome {
        side,
        you: Uuid::new_v4(),
        peer_present: false,
        ice_servers: Vec::new(),
        ends_at: Utc::now(),
        status: VisitStatus::Ready,
    }
}

fn visitor(n: u128, name: &str) -> PeerInfo {
    PeerInfo {
        id: Uuid::from_u128(n),
        side: Side::Visitor,
        name: Some(name.into()),
    }
}

fn joined(peers: Vec<PeerInfo>) -> ServerMessage {
    ServerMessage::Joined {
        peer_present: !peers.is_empty(),
        peers,
    }
}

fn sent(actions: &[Action]) -> Vec<ClientMessage> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_join_asked_before_the_welcome_goes_out_with_it() {
    let mut s = Signalling::new();
    assert!(s.join(false).is_empty(), "no socket yet: nothing sent");
    let out = s.handle(welcome(Side::Person));
    assert_eq!(sent(&out), vec![ClientMessage::Join]);
    assert!(out.contains(&Action::Emit(CallEvent::Connected {
        side: Side::Person,
        status: VisitStatus::Ready
    })));
}

#[test]
fn the_person_offers_to_each_visitor_already_in_and_seats_them_in_order() {
    let mut s = Signalling::new();
    s.handle(welcome(Side::Person));
    s.join(true);
    let out = s.handle(joined(vec![visitor(1, "Ana"), visitor(2, "Luis")]));
    assert_eq!(out[0], Action::FirstJoin);
    let offers: Vec<_> = out
        .iter()
        .filter(|a| matches!(a, Action::Offer { fresh: false, .. }))
        .collect();
    assert_eq!(offers.len(), 2, "one offer per visitor: {out:?}");
    assert!(out.contains(&Action::Emit(CallEvent::Tiles(vec![
        "Ana".into(),
        "Luis".into()
    ]))));
    assert_eq!(s.seat(Uuid::from_u128(2)), Some((1, Some("Luis"))));
    // A rejoin is not a first join.
    let again = s.handle(joined(vec![visitor(1, "Ana")]));
    assert!(!again.contains(&Action::FirstJoin));
}

#[test]
fn a_visitor_who_leaves_frees_the_tile_for_the_next_one() {
    let mut s = Signalling::new();
    s.handle(welcome(Side::Person));
    s.handle(joined(vec![visitor(1, "Ana"), visitor(2, "Luis")]));
    let out = s.handle(ServerMessage::PeerLeft {
        side: Side::Visitor,
        id: Uuid::from_u128(1),
    });
    assert!(out.contains(&Action::Remove(Uuid::from_u128(1))));
    assert!(
        !out.contains(&Action::Emit(CallEvent::PeerLeft)),
        "Luis is still there"
    );
    let v = visitor(3, "Eva");
    let out = s.handle(ServerMessage::PeerJoined {
        side: v.side,
        id: v.id,
        name: v.name.clone(),
    });
    assert_eq!(s.seat(v.id), Some((0, Some("Eva"))), "the free tile 0");
    assert!(out.contains(&Action::Offer {
        peer: v.id,
        fresh: true
    }));
    let out = s.handle(ServerMessage::PeerLeft {
        side: Side::Visitor,
        id: Uuid::from_u128(2),
    });
    assert!(!out.contains(&Action::Emit(CallEvent::PeerLeft)));
    let out = s.handle(ServerMessage::PeerLeft {
        side: Side::Visitor,
        id: v.id,
    });
    assert!(
        out.contains(&Action::Emit(CallEvent::PeerLeft)),
        "the last one left"
    );
}

#[test]
fn the_lobby_answers_the_persons_offer_and_ignores_other_visitors() {
    let mut s = Signalling::new();
    s.handle(welcome(Side::Visitor));
    let person = Uuid::from_u128(9);
    let out = s.handle(ServerMessage::Sdp {
        kind: SdpKind::Offer,
        sdp: "v=0".into(),
        from: person,
    });
    assert!(out.contains(&Action::Add(person)));
    assert_eq!(
        out.last(),
        Some(&Action::Answer {
            peer: person,
            sdp: "v=0".into()
        })
    );
    let other = visitor(4, "Eva");
    let out = s.handle(ServerMessage::PeerJoined {
        side: other.side,
        id: other.id,
        name: other.name,
    });
    assert!(out.is_empty(), "the visitors' mesh is the browsers' affair");
    // An answer is for the offering side only.
    let out = s.handle(ServerMessage::Sdp {
        kind: SdpKind::Answer,
        sdp: "v=0".into(),
        from: person,
    });
    assert!(out.is_empty());
}

#[test]
fn a_lost_camera_is_told_once_joined_and_again_after_each_rejoin() {
    let mut s = Signalling::new();
    s.handle(welcome(Side::Person));
    // The camera is lost before we are in the call: nothing is sent yet.
    assert!(sent(&s.devices([false, true])).is_empty());
    let lost = ClientMessage::Device {
        device: MediaDevice::Camera,
        available: false,
    };
    assert_eq!(sent(&s.handle(joined(vec![]))), vec![lost.clone()]);
    assert!(
        sent(&s.devices([false, true])).is_empty(),
        "no change, no message"
    );
    assert_eq!(sent(&s.handle(joined(vec![]))), vec![lost]);
    assert_eq!(
        sent(&s.devices([true, true])),
        vec![ClientMessage::Device {
            device: MediaDevice::Camera,
            available: true
        }]
    );
    assert_eq!(s.announced(), [true, true]);
}

#[test]
fn a_refused_join_is_shown_and_a_later_error_only_logged() {
    let mut s = Signalling::new();
    s.handle(welcome(Side::Person));
    s.join(true);
    let out = s.handle(ServerMessage::Error {
        message: "too early".into(),
    });
    assert_eq!(
        out,
        vec![Action::Emit(CallEvent::JoinRefused("too early".into()))]
    );
    assert!(
        s.handle(ServerMessage::Error {
            message: "again".into()
        })
        .is_empty()
    );
}

#[test]
fn the_end_of_the_call_is_shown_and_ends_the_task() {
    let mut s = Signalling::new();
    let out = s.handle(ServerMessage::Ended {
        reason: protocol::signal::EndReason::TimeExpired,
    });
    assert_eq!(out.last(), Some(&Action::End));
}
