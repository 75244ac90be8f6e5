//! The calls under way: for each visit, its participants' sockets (as
//! message queues), so the server can relay between them, tell them of
//! status changes, warn before the end, end the call at its scheduled time
//! and relay a staff termination.
//!
//! A room has one person seat and up to the facility's limit of visitor
//! seats, each keyed by the peer's id (a terminal's id, or a remote
//! visitor's id). A socket is *waiting* when it connects and *joined* once
//! the server has accepted its `Join`. Every socket hears status changes,
//! warnings and the end; only joined sockets exchange SDP and ICE (addressed
//! to one peer) and hear of each other (`PeerJoined`, `PeerLeft`).
//!
//! A peer that reconnects (after a network cut) replaces its old socket;
//! the connection id tells a stale socket's messages and departure from the
//! new one's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use protocol::signal::{EndReason, PeerInfo, ServerMessage, Side};
use tokio::sync::mpsc::UnboundedSender;
use uuid::Uuid;

struct Peer {
    info: PeerInfo,
    conn: u64,
    joined: bool,
    tx: UnboundedSender<ServerMessage>,
}

struct Room {
    ends_at: DateTime<Utc>,
    person: Option<Peer>,
    /// In order of arrival.
    visitors: Vec<Peer>,
    warned: Vec<u32>,
}

impl Room {
    fn all(&self) -> impl Iterator<Item = &Peer> {
        self.person.iter().chain(self.visitors.iter())
    }
    fn find(&mut self, side: Side, id: Uuid) -> Option<&mut Peer> {
        match side {
            Side::Person => self.person.as_mut().filter(|p| p.info.id == id),
            Side::Visitor => self.visitors.iter_mut().find(|p| p.info.id == id),
        }
    }
    /// The peer's socket if it is `conn` (not a replaced one).
    fn current(&mut self, me: &Me, conn: u64) -> Option<&mut Peer> {
        self.find(me.side, me.id).filter(|p| p.conn == conn)
    }
    /// Every joined peer but `me`.
    fn others_joined(&self, me: &Me) -> impl Iterator<Item = &Peer> {
        let me = *me;
        self.all()
            .filter(move |p| p.joined && !(p.info.side == me.side && p.info.id == me.id))
    }
    fn send_all(&self, m: &ServerMessage) {
        for p in self.all() {
            let _ = p.tx.send(m.clone());
        }
    }
    fn is_empty(&self) -> bool {
        self.person.is_none() && self.visitors.is_empty()
    }
}

/// Who a socket is: its side and peer id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Me {
    pub side: Side,
    pub id: Uuid,
}

/// A socket seated in its room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connected {
    /// Its connection id.
    pub conn: u64,
    /// Whether a peer of the other side has joined.
    pub peer_joined: bool,
    /// Whether it replaced a joined socket of the same peer (a reconnect
    /// mid-call: that socket has left the call).
    pub replaced_joined: bool,
}

/// Why a socket could not be seated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("this visit already has its {0} visitors in the call; nobody else can join it")]
    Full(usize),
    #[error("the person's side of this visit is already connected from another terminal")]
    PersonTaken,
}

/// Why a message was not relayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    #[error("join the call before sending SDP or ICE")]
    NotJoined,
    #[error("that peer is not in the call (it may have left)")]
    NoSuchPeer,
    #[error("several peers are in the call: say which one (`to`)")]
    WhichPeer,
}

/// Where a socket stands in its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seat {
    /// Replaced by a newer socket of its peer, or the call is over.
    Gone,
    Waiting,
    Joined,
}

/// Whether `who` may be seated in `room` (none yet: yes).
fn admits(room: Option<&Room>, who: &PeerInfo, max_visitors: usize) -> Result<(), Refused> {
    let Some(room) = room else {
        return Ok(());
    };
    match who.side {
        Side::Visitor
            if !room.visitors.iter().any(|p| p.info.id == who.id)
                && room.visitors.len() >= max_visitors =>
        {
            Err(Refused::Full(max_visitors))
        }
        Side::Person if room.person.as_ref().is_some_and(|p| p.info.id != who.id) => {
            Err(Refused::PersonTaken)
        }
        _ => Ok(()),
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

    /// Whether `who` could be seated now (checked before the WebSocket
    /// upgrade, so a refusal is an ordinary HTTP error).
    pub fn check(&self, visit: Uuid, who: &PeerInfo, max_visitors: usize) -> Result<(), Refused> {
        admits(self.lock().1.get(&visit), who, max_visitors)
    }

    /// Seat a peer's new socket, waiting, if there is room: a visit takes
    /// at most `max_visitors` visitors and one person's terminal. A socket
    /// it replaces is forgotten; if that one had joined, the joined peers
    /// hear `PeerLeft`.
    pub fn connect(
        &self,
        visit: Uuid,
        who: PeerInfo,
        ends_at: DateTime<Utc>,
        max_visitors: usize,
        tx: UnboundedSender<ServerMessage>,
    ) -> Result<Connected, Refused> {
        let mut g = self.lock();
        // Checked under the same lock as the seating: two sockets arriving
        // at once cannot both take the last seat.
        admits(g.1.get(&visit), &who, max_visitors)?;
        g.0 += 1;
        let conn = g.0;
        let room = g.1.entry(visit).or_insert_with(|| Room {
            ends_at,
            person: None,
            visitors: Vec::new(),
            warned: Vec::new(),
        });
        let me = Me {
            side: who.side,
            id: who.id,
        };
        let new = Peer {
            info: who,
            conn,
            joined: false,
            tx,
        };
        let replaced_joined = match room.find(me.side, me.id) {
            Some(old) => std::mem::replace(old, new).joined,
            None => {
                match me.side {
                    Side::Person => room.person = Some(new),
                    Side::Visitor => room.visitors.push(new),
                }
                false
            }
        };
        if replaced_joined {
            let left = ServerMessage::PeerLeft {
                side: me.side,
                id: me.id,
            };
            for p in room.others_joined(&me) {
                let _ = p.tx.send(left.clone());
            }
        }
        let peer_joined = room.others_joined(&me).any(|p| p.info.side != me.side);
        Ok(Connected {
            conn,
            peer_joined,
            replaced_joined,
        })
    }

    /// Where socket `conn` of `me` stands.
    pub fn seat(&self, visit: Uuid, me: &Me, conn: u64) -> Seat {
        let mut g = self.lock();
        match g.1.get_mut(&visit).and_then(|r| r.current(me, conn)) {
            None => Seat::Gone,
            Some(p) if p.joined => Seat::Joined,
            Some(_) => Seat::Waiting,
        }
    }

    /// Mark a peer's socket joined and tell the joined peers. Returns the
    /// peers already joined, or `None` if `conn` is no longer the peer's
    /// socket.
    pub fn join(&self, visit: Uuid, me: &Me, conn: u64) -> Option<Vec<PeerInfo>> {
        let mut g = self.lock();
        let room = g.1.get_mut(&visit)?;
        let p = room.current(me, conn)?;
        p.joined = true;
        let news = ServerMessage::PeerJoined {
            side: me.side,
            id: me.id,
            name: p.info.name.clone(),
        };
        let mut present = Vec::new();
        for p in room.others_joined(me) {
            let _ = p.tx.send(news.clone());
            present.push(p.info.clone());
        }
        Some(present)
    }

    /// Relay a message from a joined socket to the joined peer `to`, or,
    /// without `to`, to the only joined peer of the other side.
    pub fn relay(
        &self,
        visit: Uuid,
        from: &Me,
        conn: u64,
        to: Option<Uuid>,
        m: ServerMessage,
    ) -> Result<(), RelayError> {
        let mut g = self.lock();
        let room = g.1.get_mut(&visit).ok_or(RelayError::NotJoined)?;
        if !room.current(from, conn).is_some_and(|p| p.joined) {
            return Err(RelayError::NotJoined);
        }
        let target = match to {
            Some(id) => room
                .others_joined(from)
                .find(|p| p.info.id == id)
                .ok_or(RelayError::NoSuchPeer)?,
            None => {
                let mut other = room
                    .others_joined(from)
                    .filter(|p| p.info.side != from.side);
                match (other.next(), other.next()) {
                    (Some(p), None) => p,
                    (None, _) => return Err(RelayError::NoSuchPeer),
                    (Some(_), Some(_)) => return Err(RelayError::WhichPeer),
                }
            }
        };
        let _ = target.tx.send(m);
        Ok(())
    }

    /// Tell every other joined peer (a device of `from` stopped or came
    /// back). Returns whether `from` is joined.
    pub fn tell_others(&self, visit: Uuid, from: &Me, conn: u64, m: &ServerMessage) -> bool {
        let mut g = self.lock();
        let Some(room) = g.1.get_mut(&visit) else {
            return false;
        };
        if !room.current(from, conn).is_some_and(|p| p.joined) {
            return false;
        }
        for p in room.others_joined(from) {
            let _ = p.tx.send(m.clone());
        }
        true
    }

    /// Tell every socket of the visit, waiting or joined (a status change).
    pub fn broadcast(&self, visit: Uuid, m: &ServerMessage) {
        if let Some(room) = self.lock().1.get(&visit) {
            room.send_all(m);
        }
    }

    /// A socket closed. Returns `None` if it was not the peer's current
    /// socket (replaced, or the call ended), else whether it had joined; a
    /// joined peer's departure is told to the joined peers.
    pub fn leave(&self, visit: Uuid, me: &Me, conn: u64) -> Option<bool> {
        let mut g = self.lock();
        let room = g.1.get_mut(&visit)?;
        let joined = room.current(me, conn)?.joined;
        match me.side {
            Side::Person => room.person = None,
            Side::Visitor => room.visitors.retain(|p| p.info.id != me.id),
        }
        if joined {
            let left = ServerMessage::PeerLeft {
                side: me.side,
                id: me.id,
            };
            for p in room.others_joined(me) {
                let _ = p.tx.send(left.clone());
            }
        }
        if room.is_empty() {
            g.1.remove(&visit);
        }
        Some(joined)
    }

    /// How many visitors have joined the call.
    pub fn joined_visitors(&self, visit: Uuid) -> usize {
        self.lock()
            .1
            .get(&visit)
            .map_or(0, |r| r.visitors.iter().filter(|p| p.joined).count())
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
    use protocol::signal::SdpKind;
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

    fn sdp(from: Uuid) -> ServerMessage {
        ServerMessage::Sdp {
            kind: SdpKind::Offer,
            sdp: "v=0".into(),
            from,
        }
    }

    fn info(side: Side, n: u128) -> PeerInfo {
        PeerInfo {
            id: Uuid::from_u128(n),
            side,
            name: Some(format!("peer {n}")),
        }
    }

    fn me(i: &PeerInfo) -> Me {
        Me {
            side: i.side,
            id: i.id,
        }
    }

    const END: DateTime<Utc> = DateTime::<Utc>::MAX_UTC;

    #[test]
    fn only_joined_sides_relay_and_hear_of_each_other() {
        let rooms = Rooms::default();
        let v = Uuid::from_u128(1);
        let (pi, vi) = (info(Side::Person, 10), info(Side::Visitor, 20));
        let (ptx, mut prx) = socket();
        let (vtx, mut vrx) = socket();
        let p = rooms.connect(v, pi.clone(), END, 3, ptx).unwrap();
        let w = rooms.connect(v, vi.clone(), END, 3, vtx).unwrap();
        assert!(!w.peer_joined);
        assert_eq!(rooms.join(v, &me(&pi), p.conn), Some(vec![]));
        assert!(
            drain(&mut vrx).is_empty(),
            "a waiting side hears no PeerJoined"
        );
        assert_eq!(
            rooms.relay(v, &me(&vi), w.conn, None, sdp(vi.id)),
            Err(RelayError::NotJoined)
        );
        assert!(drain(&mut prx).is_empty());
        assert_eq!(rooms.join(v, &me(&vi), w.conn), Some(vec![pi.clone()]));
        assert_eq!(
            drain(&mut prx),
            [ServerMessage::PeerJoined {
                side: Side::Visitor,
                id: vi.id,
                name: vi.name.clone(),
            }]
        );
        // With one peer on the other side, `to` may be left out.
        assert_eq!(rooms.relay(v, &me(&vi), w.conn, None, sdp(vi.id)), Ok(()));
        assert_eq!(drain(&mut prx), [sdp(vi.id)]);

        // The visitor reconnects: the person hears it left; the stale socket
        // can no longer relay, and its close changes nothing.
        let (v2tx, _v2rx) = socket();
        let w2 = rooms.connect(v, vi.clone(), END, 3, v2tx).unwrap();
        assert!(w2.replaced_joined && w2.peer_joined);
        assert_eq!(
            drain(&mut prx),
            [ServerMessage::PeerLeft {
                side: Side::Visitor,
                id: vi.id,
            }]
        );
        assert_eq!(rooms.seat(v, &me(&vi), w.conn), Seat::Gone);
        assert!(rooms.relay(v, &me(&vi), w.conn, None, sdp(vi.id)).is_err());
        assert_eq!(rooms.leave(v, &me(&vi), w.conn), None);
        assert_eq!(rooms.seat(v, &me(&vi), w2.conn), Seat::Waiting);
        // A waiting side's departure is not news to the person.
        assert_eq!(rooms.leave(v, &me(&vi), w2.conn), Some(false));
        assert!(drain(&mut prx).is_empty());
    }

    #[test]
    fn several_visitors_are_addressed_one_by_one_and_hear_each_other_arrive() {
        let rooms = Rooms::default();
        let v = Uuid::from_u128(1);
        let pi = info(Side::Person, 10);
        let (ai, bi) = (info(Side::Visitor, 20), info(Side::Visitor, 30));
        let (ptx, mut prx) = socket();
        let (atx, mut arx) = socket();
        let (btx, mut brx) = socket();
        let p = rooms.connect(v, pi.clone(), END, 3, ptx).unwrap();
        let a = rooms.connect(v, ai.clone(), END, 3, atx).unwrap();
        let b = rooms.connect(v, bi.clone(), END, 3, btx).unwrap();
        rooms.join(v, &me(&pi), p.conn).unwrap();
        rooms.join(v, &me(&ai), a.conn).unwrap();
        assert_eq!(
            rooms.join(v, &me(&bi), b.conn),
            Some(vec![pi.clone(), ai.clone()]),
            "the newcomer learns who is there (and offers to the visitors)"
        );
        let joined_b = ServerMessage::PeerJoined {
            side: Side::Visitor,
            id: bi.id,
            name: bi.name.clone(),
        };
        assert_eq!(drain(&mut arx), std::slice::from_ref(&joined_b));
        assert_eq!(
            drain(&mut prx)[1..],
            [joined_b],
            "the person heard A, then B"
        );

        // The person must say which visitor; each message reaches only it.
        assert_eq!(
            rooms.relay(v, &me(&pi), p.conn, None, sdp(pi.id)),
            Err(RelayError::WhichPeer)
        );
        rooms
            .relay(v, &me(&pi), p.conn, Some(bi.id), sdp(pi.id))
            .unwrap();
        assert_eq!(drain(&mut brx), [sdp(pi.id)]);
        assert!(drain(&mut arx).is_empty());
        // Visitor to visitor (their audio mesh).
        rooms
            .relay(v, &me(&bi), b.conn, Some(ai.id), sdp(bi.id))
            .unwrap();
        assert_eq!(drain(&mut arx), [sdp(bi.id)]);
        assert_eq!(
            rooms.relay(v, &me(&bi), b.conn, Some(Uuid::from_u128(99)), sdp(bi.id)),
            Err(RelayError::NoSuchPeer)
        );

        // B leaves: the person and A hear it, with B's id.
        assert_eq!(rooms.leave(v, &me(&bi), b.conn), Some(true));
        let left_b = ServerMessage::PeerLeft {
            side: Side::Visitor,
            id: bi.id,
        };
        assert_eq!(drain(&mut prx), std::slice::from_ref(&left_b));
        assert_eq!(drain(&mut arx), [left_b]);
    }

    #[test]
    fn visitors_beyond_the_limit_and_a_second_person_terminal_are_refused() {
        let rooms = Rooms::default();
        let v = Uuid::from_u128(1);
        let mut keep = Vec::new();
        for n in 0..2 {
            let (tx, rx) = socket();
            keep.push(rx);
            rooms
                .connect(v, info(Side::Visitor, 20 + n), END, 2, tx)
                .unwrap();
        }
        let third = info(Side::Visitor, 40);
        assert_eq!(rooms.check(v, &third, 2), Err(Refused::Full(2)));
        let (tx, _rx) = socket();
        assert_eq!(rooms.connect(v, third, END, 2, tx), Err(Refused::Full(2)));
        // A visitor already seated may reconnect.
        let (tx, _rx2) = socket();
        assert!(
            rooms
                .connect(v, info(Side::Visitor, 21), END, 2, tx)
                .is_ok()
        );
        let (tx, _rx3) = socket();
        rooms
            .connect(v, info(Side::Person, 10), END, 2, tx)
            .unwrap();
        assert_eq!(
            rooms.check(v, &info(Side::Person, 11), 2),
            Err(Refused::PersonTaken)
        );
    }
}
