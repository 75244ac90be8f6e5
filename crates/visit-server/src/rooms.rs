//! The calls under way: for each visit, the two sides' sockets (as message
//! queues), so the server can relay between them, tell them of status
//! changes, warn before the end, end the call at its scheduled time and
//! relay a staff termination.
//!
//! A socket is *waiting* when it connects and *joined* once the server has
//! accepted its `Join`. Every socket hears status changes, warnings and the
//! end; only joined sockets exchange SDP and ICE and hear of each other
//! (`PeerJoined`, `PeerLeft`).
//!
//! A side that reconnects (after a network cut) replaces its old socket;
//! the connection id tells a stale socket's messages and departure from the
//! new one's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use protocol::signal::{EndReason, ServerMessage, Side};
use tokio::sync::mpsc::UnboundedSender;
use uuid::Uuid;

struct Peer {
    conn: u64,
    joined: bool,
    tx: UnboundedSender<ServerMessage>,
}

struct Room {
    ends_at: DateTime<Utc>,
    person: Option<Peer>,
    visitor: Option<Peer>,
    warned: Vec<u32>,
}

impl Room {
    fn slot(&mut self, side: Side) -> &mut Option<Peer> {
        match side {
            Side::Person => &mut self.person,
            Side::Visitor => &mut self.visitor,
        }
    }
    /// The side's socket if it is `conn` (not a replaced one).
    fn current(&mut self, side: Side, conn: u64) -> Option<&mut Peer> {
        self.slot(side).as_mut().filter(|p| p.conn == conn)
    }
    /// The side's socket if it has joined.
    fn joined(&mut self, side: Side) -> Option<&mut Peer> {
        self.slot(side).as_mut().filter(|p| p.joined)
    }
    fn send_all(&self, m: &ServerMessage) {
        for p in [&self.person, &self.visitor].into_iter().flatten() {
            let _ = p.tx.send(m.clone());
        }
    }
}

pub fn other(side: Side) -> Side {
    match side {
        Side::Person => Side::Visitor,
        Side::Visitor => Side::Person,
    }
}

/// A socket seated in its room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connected {
    /// Its connection id.
    pub conn: u64,
    /// Whether the other side has joined.
    pub peer_joined: bool,
    /// Whether it replaced a joined socket of the same side (a reconnect
    /// mid-call: that socket has left the call).
    pub replaced_joined: bool,
}

/// Where a socket stands in its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seat {
    /// Replaced by a newer socket of its side, or the call is over.
    Gone,
    Waiting,
    Joined,
}

/// Every call under way.
#[derive(Clone, Default)]
pub struct Rooms {
    inner: Arc<Mutex<(u64, HashMap<Uuid, Room>)>>,
}

impl Rooms {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, HashMap<Uuid, Room>)> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Seat a side's new socket, waiting. A socket it replaces is forgotten;
    /// if that one had joined, the other side (if joined) hears `PeerLeft`.
    pub fn connect(
        &self,
        visit: Uuid,
        side: Side,
        ends_at: DateTime<Utc>,
        tx: UnboundedSender<ServerMessage>,
    ) -> Connected {
        let mut g = self.lock();
        g.0 += 1;
        let conn = g.0;
        let room = g.1.entry(visit).or_insert_with(|| Room {
            ends_at,
            person: None,
            visitor: None,
            warned: Vec::new(),
        });
        let old = room.slot(side).replace(Peer {
            conn,
            joined: false,
            tx,
        });
        let replaced_joined = old.is_some_and(|p| p.joined);
        let peer = room.joined(other(side));
        if let (true, Some(p)) = (replaced_joined, &peer) {
            let _ = p.tx.send(ServerMessage::PeerLeft { side });
        }
        Connected {
            conn,
            peer_joined: peer.is_some(),
            replaced_joined,
        }
    }

    /// Where socket `conn` of `side` stands.
    pub fn seat(&self, visit: Uuid, side: Side, conn: u64) -> Seat {
        let mut g = self.lock();
        match g.1.get_mut(&visit).and_then(|r| r.current(side, conn)) {
            None => Seat::Gone,
            Some(p) if p.joined => Seat::Joined,
            Some(_) => Seat::Waiting,
        }
    }

    /// Mark a side's socket joined and tell the other side if it has joined.
    /// Returns whether the other side has joined, or `None` if `conn` is no
    /// longer the side's socket.
    pub fn join(&self, visit: Uuid, side: Side, conn: u64) -> Option<bool> {
        let mut g = self.lock();
        let room = g.1.get_mut(&visit)?;
        room.current(side, conn)?.joined = true;
        let peer = room.joined(other(side));
        if let Some(p) = &peer {
            let _ = p.tx.send(ServerMessage::PeerJoined { side });
        }
        Some(peer.is_some())
    }

    /// Relay a message from a joined socket to the other side, if it has
    /// joined. Returns false if the sender has not joined (or was replaced).
    pub fn relay(&self, visit: Uuid, from: Side, conn: u64, m: ServerMessage) -> bool {
        let mut g = self.lock();
        let Some(room) = g.1.get_mut(&visit) else {
            return false;
        };
        if !room.current(from, conn).is_some_and(|p| p.joined) {
            return false;
        }
        if let Some(p) = room.joined(other(from)) {
            let _ = p.tx.send(m);
        }
        true
    }

    /// Tell every socket of the visit, waiting or joined (a status change).
    pub fn broadcast(&self, visit: Uuid, m: &ServerMessage) {
        if let Some(room) = self.lock().1.get(&visit) {
            room.send_all(m);
        }
    }

    /// A socket closed. Returns `None` if it was not the side's current
    /// socket (replaced, or the call ended), else whether it had joined; a
    /// joined side's departure is told to the other side if it has joined.
    pub fn leave(&self, visit: Uuid, side: Side, conn: u64) -> Option<bool> {
        let mut g = self.lock();
        let room = g.1.get_mut(&visit)?;
        let joined = room.current(side, conn)?.joined;
        *room.slot(side) = None;
        if let (true, Some(p)) = (joined, room.joined(other(side))) {
            let _ = p.tx.send(ServerMessage::PeerLeft { side });
        }
        if room.person.is_none() && room.visitor.is_none() {
            g.1.remove(&visit);
        }
        Some(joined)
    }

    /// End a call: tell every socket why, and forget it (their sockets close).
    pub fn end(&self, visit: Uuid, reason: EndReason) {
        if let Some(room) = self.lock().1.remove(&visit) {
            room.send_all(&ServerMessage::Ended { reason });
        }
    }

    /// Warnings at 5 and 1 minutes before the end, and the end itself.
    pub fn tick(&self, now: DateTime<Utc>) -> Vec<Uuid> {
        let mut ended = Vec::new();
        let mut g = self.lock();
        for (visit, room) in g.1.iter_mut() {
            if now >= room.ends_at {
                room.send_all(&ServerMessage::Ended {
                    reason: EndReason::TimeExpired,
                });
                ended.push(*visit);
                continue;
            }
            let left = room.ends_at - now;
            let due = if left <= Duration::minutes(1) {
                Some(1u32)
            } else if left <= Duration::minutes(5) {
                Some(5)
            } else {
                None
            };
            // Only the nearest warning, once (a late joiner is not told "5" after "1").
            if let Some(m) = due.filter(|m| !room.warned.contains(m)) {
                room.warned.extend([m, 5]);
                room.send_all(&ServerMessage::Warning { minutes_left: m });
            }
        }
        for v in &ended {
            g.1.remove(v);
        }
        ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

    fn socket() -> (
        UnboundedSender<ServerMessage>,
        UnboundedReceiver<ServerMessage>,
    ) {
        unbounded_channel()
    }

    fn drain(rx: &mut UnboundedReceiver<ServerMessage>) -> Vec<ServerMessage> {
        std::iter::from_fn(|| rx.try_recv().ok()).collect()
    }

    fn sdp() -> ServerMessage {
        ServerMessage::Sdp {
            kind: protocol::signal::SdpKind::Offer,
            sdp: "v=0".into(),
        }
    }

    #[test]
    fn only_joined_sides_relay_and_hear_of_each_other() {
        let rooms = Rooms::default();
        let v = Uuid::from_u128(1);
        let end = DateTime::<Utc>::MAX_UTC;
        let (ptx, mut prx) = socket();
        let (vtx, mut vrx) = socket();
        let p = rooms.connect(v, Side::Person, end, ptx);
        let w = rooms.connect(v, Side::Visitor, end, vtx);
        assert!(!w.peer_joined);
        assert_eq!(rooms.join(v, Side::Person, p.conn), Some(false));
        assert!(
            drain(&mut vrx).is_empty(),
            "a waiting side hears no PeerJoined"
        );
        assert!(!rooms.relay(v, Side::Visitor, w.conn, sdp()));
        assert!(drain(&mut prx).is_empty());
        assert_eq!(rooms.join(v, Side::Visitor, w.conn), Some(true));
        assert_eq!(
            drain(&mut prx),
            [ServerMessage::PeerJoined {
                side: Side::Visitor
            }]
        );
        assert!(rooms.relay(v, Side::Visitor, w.conn, sdp()));
        assert_eq!(drain(&mut prx), [sdp()]);

        // The visitor reconnects: the person hears it left; the stale socket
        // can no longer relay, and its close changes nothing.
        let (v2tx, _v2rx) = socket();
        let w2 = rooms.connect(v, Side::Visitor, end, v2tx);
        assert!(w2.replaced_joined && w2.peer_joined);
        assert_eq!(
            drain(&mut prx),
            [ServerMessage::PeerLeft {
                side: Side::Visitor
            }]
        );
        assert_eq!(rooms.seat(v, Side::Visitor, w.conn), Seat::Gone);
        assert!(!rooms.relay(v, Side::Visitor, w.conn, sdp()));
        assert_eq!(rooms.leave(v, Side::Visitor, w.conn), None);
        assert_eq!(rooms.seat(v, Side::Visitor, w2.conn), Seat::Waiting);
        // A waiting side's departure is not news to the person.
        assert_eq!(rooms.leave(v, Side::Visitor, w2.conn), Some(false));
        assert!(drain(&mut prx).is_empty());
    }
}
