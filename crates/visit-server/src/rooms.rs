//! The calls under way: for each visit, the two sides' sockets (as message
//! queues), so the server can relay between them, warn before the end, end
//! the call at its scheduled time and relay a staff termination.
//!
//! A side that reconnects (after a network cut) replaces its old socket;
//! the connection id tells a stale socket's departure from the new one's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use protocol::signal::{EndReason, ServerMessage, Side};
use tokio::sync::mpsc::UnboundedSender;
use uuid::Uuid;

struct Peer {
    conn: u64,
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
    fn send_all(&self, m: &ServerMessage) {
        for p in [&self.person, &self.visitor].into_iter().flatten() {
            let _ = p.tx.send(m.clone());
        }
    }
}

fn other(side: Side) -> Side {
    match side {
        Side::Person => Side::Visitor,
        Side::Visitor => Side::Person,
    }
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

    /// Seat a side; returns its connection id and whether the other side is present.
    pub fn join(
        &self,
        visit: Uuid,
        side: Side,
        ends_at: DateTime<Utc>,
        tx: UnboundedSender<ServerMessage>,
    ) -> (u64, bool) {
        let mut g = self.lock();
        g.0 += 1;
        let conn = g.0;
        let room = g.1.entry(visit).or_insert_with(|| Room {
            ends_at,
            person: None,
            visitor: None,
            warned: Vec::new(),
        });
        if let Some(old) = room.slot(side).replace(Peer { conn, tx }) {
            // A reconnect: the old socket is told nothing; it is simply dropped.
            drop(old);
        }
        let peer = room.slot(other(side)).as_ref();
        if let Some(p) = peer {
            let _ = p.tx.send(ServerMessage::PeerJoined { side });
        }
        (conn, peer.is_some())
    }

    /// Relay a message to the other side, if it is there.
    pub fn relay(&self, visit: Uuid, from: Side, m: ServerMessage) -> bool {
        let mut g = self.lock();
        let Some(room) = g.1.get_mut(&visit) else {
            return false;
        };
        match room.slot(other(from)) {
            Some(p) => p.tx.send(m).is_ok(),
            None => false,
        }
    }

    /// Tell both sides something (a status change).
    pub fn broadcast(&self, visit: Uuid, m: &ServerMessage) {
        if let Some(room) = self.lock().1.get(&visit) {
            room.send_all(m);
        }
    }

    /// A socket closed. Returns true if it was the side's current socket.
    pub fn leave(&self, visit: Uuid, side: Side, conn: u64) -> bool {
        let mut g = self.lock();
        let Some(room) = g.1.get_mut(&visit) else {
            return false;
        };
        if room.slot(side).as_ref().is_none_or(|p| p.conn != conn) {
            return false;
        }
        *room.slot(side) = None;
        if let Some(p) = room.slot(other(side)) {
            let _ = p.tx.send(ServerMessage::PeerLeft { side });
        }
        if room.person.is_none() && room.visitor.is_none() {
            g.1.remove(&visit);
        }
        true
    }

    /// End a call: tell both sides why, and forget it (their sockets close).
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
