//! The call's signalling as a pure machine: a server message (or the
//! terminal's Join, or the state of our devices) in, [`Action`]s out. It
//! owns who is in the call and on which tile, whether we asked to join and
//! were accepted, and what the other side was last told about our camera
//! and microphone. It opens no socket and starts no media: the call task
//! (`task.rs`) does what the actions say, so every signalling rule is
//! tested here by pushing messages.
//!
//! The person's side offers to every visitor; a visitor's side (the lobby)
//! answers the person. A (re)joined peer knows nothing of our lost devices,
//! so every join says again which of them do not work.

use std::collections::BTreeMap;

use protocol::signal::{
    ClientMessage, IceServer, MediaDevice, PeerInfo, SdpKind, ServerMessage, Side,
};
use uuid::Uuid;

use super::CallEvent;

/// What the call task must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Tell the terminal (its screen).
    Emit(CallEvent),
    /// Send this to the server.
    Send(ClientMessage),
    /// A peer is in the call: keep its media record (its tile is ours).
    Add(Uuid),
    /// Offer a session to this peer (the person's side): always a fresh
    /// one when `fresh`, otherwise only if it has none.
    Offer { peer: Uuid, fresh: bool },
    /// Answer this peer's offer with a fresh session (the visitor's side).
    Answer { peer: Uuid, sdp: String },
    /// Apply this peer's answer to its session.
    ApplyAnswer { peer: Uuid, sdp: String },
    /// A network candidate for this peer's session.
    Ice {
        peer: Uuid,
        candidate: String,
        mline: u32,
    },
    /// The peer left: close its session.
    Remove(Uuid),
    /// The server accepted our first Join (setup time counts from here).
    FirstJoin,
    /// The call is over: report and close.
    End,
}

/// A peer of the other side and its place on the screen.
#[derive(Debug, Clone)]
struct Seat {
    info: PeerInfo,
    tile: usize,
}

const DEVICES: [MediaDevice; 2] = [MediaDevice::Camera, MediaDevice::Microphone];

/// The signalling state of one call.
#[derive(Debug, Default)]
pub struct Signalling {
    side: Option<Side>,
    ice_servers: Vec<IceServer>,
    want_join: bool,
    joined: bool,
    seats: BTreeMap<Uuid, Seat>,
    /// Whether our camera and microphone work now (`None` until the
    /// capture started), and what the other side was last told.
    devices: Option<[bool; 2]>,
    announced: [bool; 2],
    /// Our own peer id in the call (`Welcome.you`).
    you: Option<Uuid>,
}

impl Signalling {
    pub fn new() -> Signalling {
        Signalling {
            announced: [true; 2],
            ..Signalling::default()
        }
    }

    pub fn side(&self) -> Option<Side> {
        self.side
    }

    pub fn joined(&self) -> bool {
        self.joined
    }

    /// Our own peer id in the call, once welcomed.
    pub fn you(&self) -> Option<Uuid> {
        self.you
    }

    pub fn ice_servers(&self) -> &[IceServer] {
        &self.ice_servers
    }

    /// Whether the other side was last told our camera / microphone works.
    pub fn announced(&self) -> [bool; 2] {
        self.announced
    }

    /// A peer's tile and name.
    pub fn seat(&self, peer: Uuid) -> Option<(usize, Option<&str>)> {
        self.seats
            .get(&peer)
            .map(|s| (s.tile, s.info.name.as_deref()))
    }

    /// The peers in the call.
    pub fn peers(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.seats.keys().copied()
    }

    /// The terminal asked to join; `connected`: a socket is open now (if
    /// not, the Join goes out once the server welcomes us).
    pub fn join(&mut self, connected: bool) -> Vec<Action> {
        self.want_join = true;
        if connected {
            vec![Action::Send(ClientMessage::Join)]
        } else {
            Vec::new()
        }
    }

    /// Our devices now (after the capture started, or a device changed):
    /// tell the other side what changed.
    pub fn devices(&mut self, present: [bool; 2]) -> Vec<Action> {
        self.devices = Some(present);
        self.announce()
    }

    /// One message from the server.
    pub fn handle(&mut self, m: ServerMessage) -> Vec<Action> {
        match m {
            ServerMessage::Welcome {
                side,
                you,
                ice_servers,
                status,
                ..
            } => {
                self.side = Some(side);
                self.you = Some(you);
                self.ice_servers = ice_servers;
                let mut out = vec![Action::Emit(CallEvent::Connected { side, status })];
                if self.want_join {
                    out.push(Action::Send(ClientMessage::Join));
                }
                out
            }
            ServerMessage::Joined { peers, .. } => self.on_joined(peers),
            ServerMessage::PeerJoined { side, id, name } => {
                self.on_peer_joined(PeerInfo { id, side, name })
            }
            ServerMessage::PeerLeft { side, id } => self.on_peer_left(side, id),
            ServerMessage::Sdp { kind, sdp, from } => self.on_sdp(kind, sdp, from),
            ServerMessage::Ice {
                candidate,
                sdp_mline_index,
                from,
            } => vec![Action::Ice {
                peer: from,
                candidate,
                mline: sdp_mline_index,
            }],
            ServerMessage::PeerDevice {
                device, available, ..
            } => vec![Action::Emit(CallEvent::PeerDevice { device, available })],
            ServerMessage::Status { status } => vec![Action::Emit(CallEvent::Status(status))],
            ServerMessage::Warning { minutes_left } => {
                vec![Action::Emit(CallEvent::Warning(minutes_left))]
            }
            ServerMessage::Ended { reason } => {
                vec![Action::Emit(CallEvent::Ended(reason)), Action::End]
            }
            ServerMessage::Error { message } => {
                if self.want_join && !self.joined {
                    self.want_join = false;
                    vec![Action::Emit(CallEvent::JoinRefused(message))]
                } else {
                    tracing::warn!(message, "the server reported an error");
                    Vec::new()
                }
            }
        }
    }

    fn on_joined(&mut self, peers: Vec<PeerInfo>) -> Vec<Action> {
        let mut out = Vec::new();
        if !self.joined {
            out.push(Action::FirstJoin);
        }
        self.joined = true;
        out.push(Action::Emit(CallEvent::Joined));
        // Whatever was queued before we (re)joined was refused: say again
        // which of our devices do not work.
        self.announced = [true; 2];
        out.extend(self.announce());
        let mine = self.side;
        for p in peers.into_iter().filter(|p| Some(p.side) != mine) {
            let id = p.id;
            out.extend(self.seat_peer(p));
            if mine == Some(Side::Person) {
                out.push(Action::Offer {
                    peer: id,
                    fresh: false,
                });
            }
        }
        out
    }

    fn on_peer_joined(&mut self, info: PeerInfo) -> Vec<Action> {
        if Some(info.side) == self.side {
            return Vec::new(); // Visitors' own mesh is the browsers' affair.
        }
        let mut out = vec![Action::Emit(CallEvent::PeerJoined)];
        // A (re)joined peer knows nothing of our lost devices yet.
        self.announced = [true; 2];
        out.extend(self.announce());
        let id = info.id;
        out.extend(self.seat_peer(info));
        if self.side == Some(Side::Person) {
            // A (re)joined peer has no session: offer a fresh one.
            out.push(Action::Offer {
                peer: id,
                fresh: true,
            });
        }
        out
    }

    fn on_peer_left(&mut self, side: Side, id: Uuid) -> Vec<Action> {
        if Some(side) == self.side {
            return Vec::new();
        }
        let mut out = Vec::new();
        if self.seats.remove(&id).is_some() {
            out.push(Action::Remove(id));
            out.push(Action::Emit(CallEvent::Tiles(self.tiles())));
        }
        if self.seats.is_empty() {
            out.push(Action::Emit(CallEvent::PeerLeft));
        }
        out
    }

    fn on_sdp(&mut self, kind: SdpKind, sdp: String, from: Uuid) -> Vec<Action> {
        match (kind, self.side) {
            (SdpKind::Offer, Some(Side::Visitor)) => {
                let mut out = Vec::new();
                if !self.seats.contains_key(&from) {
                    out.extend(self.seat_peer(PeerInfo {
                        id: from,
                        side: Side::Person,
                        name: None,
                    }));
                }
                out.push(Action::Answer { peer: from, sdp });
                out
            }
            (SdpKind::Answer, Some(Side::Person)) => vec![Action::ApplyAnswer { peer: from, sdp }],
            _ => {
                tracing::warn!(peer = %from, "unexpected description ignored");
                Vec::new()
            }
        }
    }

    /// Give a peer a seat (the first free tile), or update a seated one.
    fn seat_peer(&mut self, info: PeerInfo) -> Vec<Action> {
        if let Some(s) = self.seats.get_mut(&info.id) {
            s.info = info;
            return Vec::new();
        }
        let tile = (0..)
            .find(|t| !self.seats.values().any(|s| s.tile == *t))
            .unwrap_or(0);
        let id = info.id;
        self.seats.insert(id, Seat { info, tile });
        vec![
            Action::Add(id),
            Action::Emit(CallEvent::Tiles(self.tiles())),
        ]
    }

    /// The tiles' names, by tile (a tile left empty by a departed peer
    /// shows no name).
    fn tiles(&self) -> Vec<String> {
        let n = self.seats.values().map(|s| s.tile + 1).max().unwrap_or(0);
        let mut names = vec![String::new(); n];
        for s in self.seats.values() {
            names[s.tile] = s.info.name.clone().unwrap_or_default();
        }
        names
    }

    /// Tell the other side when our camera or microphone stops or works
    /// again (only once we are in the call: before, the server refuses).
    fn announce(&mut self) -> Vec<Action> {
        let Some(present) = self.devices else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, device) in DEVICES.into_iter().enumerate() {
            if present[i] != self.announced[i] {
                self.announced[i] = present[i];
                if self.joined {
                    out.push(Action::Send(ClientMessage::Device {
                        device,
                        available: present[i],
                    }));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
