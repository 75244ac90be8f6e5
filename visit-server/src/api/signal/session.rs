//! What one signalling socket's messages do, with no socket in sight.
//!
//! A [`Session`] is a participant's seat in its room plus what the socket
//! has done so far (joined, reported, media events counted). The IO loop in
//! `signal/mod.rs` hands it each text message ([`Session::receive`]) and
//! stops when told; everything the session says goes out through the same
//! channel the room uses, so replies and relayed messages keep their order.

use protocol::signal::{ClientMessage, EndReason, ServerMessage, Side};
use tokio::sync::mpsc;

use crate::api::error::ApiError;
use crate::rooms::{Me, Refused, Seat};
use crate::service::calls::{self, Admission, CallEvent};
use crate::state::AppState;

/// Largest text message read; a call report is a few KiB, an SDP ~10 KiB.
const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Media events recorded per socket at most.
const MAX_MEDIA_EVENTS: u32 = 100;

/// Whether the socket should go on reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flow {
    Continue,
    Stop,
}

/// One socket's state beyond its seat in the room.
pub(super) struct Session {
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
    was_joined: bool,
    /// It said `HangUp` (rather than just going away).
    hung_up: bool,
}

impl Session {
    /// Seat the socket, waiting, and greet it with `Welcome`; refused when
    /// another socket took the last seat since the admission check.
    pub(super) async fn open(
        st: AppState,
        a: Admission,
        tx: mpsc::UnboundedSender<ServerMessage>,
    ) -> Result<Self, Refused> {
        let seated = st.rooms().connect(
            a.visit_id,
            a.peer.clone(),
            a.ends_at,
            a.max_visitors,
            tx.clone(),
        )?;
        let _ = tx.send(ServerMessage::Welcome {
            side: a.side,
            you: a.peer.id,
            peer_present: seated.peer_joined,
            ice_servers: a.ice_servers.clone(),
            ends_at: a.ends_at,
            status: a.status.to_wire(),
        });
        let s = Session {
            actor: a.holder.actor(),
            me: Me {
                side: a.side,
                id: a.peer.id,
            },
            st,
            a,
            conn: seated.conn,
            tx,
            reported: false,
            media_flowing: None,
            media_events: 0,
            was_joined: false,
            hung_up: false,
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
        Ok(s)
    }

    /// One text message from the socket: checked for size and shape, then
    /// [`Session::handle`]d.
    pub(super) async fn receive(&mut self, text: &str) -> Flow {
        if self.seat() == Seat::Gone {
            // Replaced by the side's newer socket, or the call is over: only
            // the side's final call report is still taken.
            if self.was_joined
                && let Ok(ClientMessage::CallReport { report }) =
                    serde_json::from_str::<ClientMessage>(text)
            {
                self.record(CallEvent::Report(Box::new(report))).await;
            }
            return Flow::Stop;
        }
        if text.len() > MAX_TEXT_BYTES {
            self.error("message too large (64 KiB at most); ignored");
            return Flow::Continue;
        }
        match serde_json::from_str::<ClientMessage>(text) {
            Ok(m) => self.handle(m).await,
            Err(e) => {
                self.error(format!("not a signalling message: {e}"));
                Flow::Continue
            }
        }
    }

    /// What one signalling message does.
    pub(super) async fn handle(&mut self, m: ClientMessage) -> Flow {
        let from = self.me.id;
        let (to, relayed) = match m {
            ClientMessage::Sdp { kind, sdp, to } => (to, ServerMessage::Sdp { kind, sdp, from }),
            ClientMessage::Ice {
                candidate,
                sdp_mline_index,
                to,
            } => (
                to,
                ServerMessage::Ice {
                    candidate,
                    sdp_mline_index,
                    from,
                },
            ),
            ClientMessage::Join => {
                self.join().await;
                return Flow::Continue;
            }
            ClientMessage::MediaFlowing => return self.recorded(CallEvent::MediaFlowing).await,
            ClientMessage::MediaInterrupted => {
                return self.recorded(CallEvent::MediaInterrupted).await;
            }
            ClientMessage::MediaProblem { problem } => {
                return self.recorded(CallEvent::Problem(problem)).await;
            }
            ClientMessage::Device { device, available } => {
                self.record(CallEvent::Device(device, available)).await;
                let m = ServerMessage::PeerDevice {
                    side: self.a.side,
                    from,
                    device,
                    available,
                };
                self.st
                    .rooms()
                    .tell_others(self.a.visit_id, &self.me, self.conn, &m);
                return Flow::Continue;
            }
            ClientMessage::CallReport { report } => {
                return self.recorded(CallEvent::Report(Box::new(report))).await;
            }
            ClientMessage::HangUp => {
                self.hung_up = true;
                return Flow::Stop;
            }
        };
        if let Err(e) = self
            .st
            .rooms()
            .relay(self.a.visit_id, &self.me, self.conn, to, relayed)
        {
            self.error(e.to_string());
        }
        Flow::Continue
    }

    /// The socket is done (closed, failed, or hung up): leave the room and
    /// the call. The person hanging up ends the call for everyone, and so
    /// does the last visitor (or the lobby); a visitor leaving while another
    /// stays only leaves. A waiting socket's hang-up is only leaving.
    pub(super) async fn close(self) {
        let rooms = self.st.rooms();
        let (v, side) = (self.a.visit_id, self.a.side);
        let hung_up = self.hung_up && self.seat() == Seat::Joined;
        let ends_call = hung_up && (side == Side::Person || rooms.joined_visitors(v) <= 1);
        if ends_call {
            rooms.end(v, EndReason::HungUp { by: side });
        }
        if rooms.leave(v, &self.me, self.conn) == Some(true) || ends_call {
            let a = self.a.clone();
            let _ = self
                .st
                .run(self.actor.clone(), move |c, ctx| {
                    calls::left(c, ctx, &a, ends_call)
                })
                .await;
        }
    }

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
    async fn join(&mut self) {
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
            Err(e) => return self.error(ApiError::from(e).message),
        };
        let rooms = self.st.rooms();
        let v = self.a.visit_id;
        let Some(peers) = rooms.join(v, &self.me, self.conn) else {
            return;
        };
        let peer_present = peers.iter().any(|p| p.side != self.a.side);
        self.was_joined = true;
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
            self.start_call().await;
        }
    }

    /// Both sides are in: the visit goes InProgress, and everyone hears it.
    async fn start_call(&self) {
        let v = self.a.visit_id;
        let both = self
            .st
            .run(self.actor.clone(), move |c, ctx| {
                calls::both_present(c, ctx, v)
            })
            .await;
        match both {
            Ok((status, true)) => self.st.rooms().broadcast(
                v,
                &ServerMessage::Status {
                    status: status.to_wire(),
                },
            ),
            Ok((_, false)) => {}
            Err(e) => tracing::warn!(error = %e, "could not start the call"),
        }
    }

    async fn recorded(&mut self, event: CallEvent) -> Flow {
        self.record(event).await;
        Flow::Continue
    }

    /// Media events and the call report of a joined side, within the limits.
    async fn record(&mut self, event: CallEvent) {
        let final_report = matches!(event, CallEvent::Report(_)) && self.was_joined;
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
            tracing::warn!(error = %e, "could not record a call event");
        }
    }
}
