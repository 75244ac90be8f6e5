//! Who may connect to a visit's call, when each side may join, and how
//! joining moves the visit along; also the call's own record (media
//! flowing, interruptions, each side's report) in the visit's history.
//!
//! A lobby terminal is the visitor's side of an on-site visit of its
//! facility; a housing-unit terminal is the person's side of the visits of
//! people housed in its unit; a remote visitor holds the visit's join token.
//! Any of them may connect (and wait) while the visit is active and not
//! over; each side may *join* from its early log-in window (visitor 1
//! minute, person 2 minutes by default) until the end.

use chrono::{DateTime, Utc};
use protocol::TerminalRole;
use protocol::signal::{CallReport, IceServer, MediaDevice, MediaProblem, PeerInfo, Side};
use serde_json::json;
use uuid::Uuid;

use super::terminals::TerminalIdentity;
use super::{Ctx, Error, Result, facilities, join_tokens, people, sanctions, visits};
use crate::domain::Refusal;
use crate::domain::names::first_and_initial;
use crate::domain::policy::Kind;
use crate::domain::status::{Status, Trigger};

/// Who is asking to connect. (No `Debug`: it may hold a token.)
pub enum Caller {
    /// A terminal with its credential.
    Terminal(TerminalIdentity),
    /// A remote visitor's browser with a join token (checked here, since a
    /// token is only valid for its own visit).
    Token(String),
}

/// Who holds a connection, for the history and the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Terminal(Uuid),
    Visitor(Uuid),
}

impl Holder {
    /// How the holder appears as the actor in visit history.
    pub fn actor(self) -> String {
        match self {
            Holder::Terminal(id) => format!("terminal:{id}"),
            Holder::Visitor(id) => format!("visitor:{id}"),
        }
    }

    /// The holder as history details.
    fn detail(self, side: Side) -> serde_json::Value {
        match self {
            Holder::Terminal(id) => json!({ "side": side_name(side), "terminal_id": id }),
            Holder::Visitor(id) => json!({ "side": side_name(side), "visitor_id": id }),
        }
    }

    /// The holder's peer id in the call.
    pub fn id(self) -> Uuid {
        match self {
            Holder::Terminal(id) | Holder::Visitor(id) => id,
        }
    }

    /// For log lines: the terminal id, or `-` for a remote visitor.
    pub fn terminal_id(self) -> String {
        match self {
            Holder::Terminal(id) => id.to_string(),
            Holder::Visitor(_) => "-".into(),
        }
    }

    /// For log lines: the visitor id, or `-` for a terminal.
    pub fn visitor_id(self) -> String {
        match self {
            Holder::Terminal(_) => "-".into(),
            Holder::Visitor(id) => id.to_string(),
        }
    }
}

/// A connection let in (waiting; it takes part after [`join`]).
#[derive(Debug, Clone)]
pub struct Admission {
    pub visit_id: Uuid,
    pub side: Side,
    pub holder: Holder,
    pub ends_at: DateTime<Utc>,
    pub status: Status,
    pub ice_servers: Vec<IceServer>,
    /// How the others see this participant (id, side, tile name).
    pub peer: PeerInfo,
    /// The facility's limit of visitors in one visit.
    pub max_visitors: usize,
}

pub fn side_name(side: Side) -> &'static str {
    match side {
        Side::Person => "person",
        Side::Visitor => "visitor",
    }
}

/// A remote visitor may still take part: on the visit, approved, not
/// sanctioned. The booking checked these; they are checked again on
/// connecting and on joining, because a visitor may be removed from the
/// list or sanctioned since.
fn still_allowed(
    conn: &rusqlite::Connection,
    ctx: &Ctx<'_>,
    visit_id: Uuid,
    person_id: Uuid,
    visitor: Uuid,
) -> Result<()> {
    let on_visit = visits::visitor_ids(conn, visit_id)?.contains(&visitor);
    if !on_visit || !people::is_approved(conn, person_id, visitor)? {
        tracing::warn!(visit_id = %visit_id, visitor_id = %visitor, "a visitor no longer approved tried to take part");
        return Err(Error::Forbidden(
            "you are not on this person's approved visitor list for this visit".into(),
        ));
    }
    if sanctions::restriction(conn, visitor, &[ctx.now])?.is_some() {
        tracing::warn!(visit_id = %visit_id, visitor_id = %visitor, "a sanctioned visitor tried to take part");
        return Err(Error::Forbidden(
            "your visiting privileges are restricted; you cannot join this visit".into(),
        ));
    }
    Ok(())
}

/// Check that the caller is a participant of an active visit that is not
/// over. Nothing is recorded: connecting is only waiting.
pub fn admit(
    conn: &mut rusqlite::Connection,
    ctx: &Ctx<'_>,
    caller: &Caller,
    visit_id: Uuid,
) -> Result<Admission> {
    let (holder, side, v, name) = match caller {
        Caller::Token(token) => {
            let visitor = join_tokens::authenticate(conn, ctx, visit_id, token)?;
            let v = visits::get_row(conn, visit_id)?;
            still_allowed(conn, ctx, visit_id, v.person_id, visitor)?;
            let name = first_and_initial(&people::get_visitor(conn, visitor)?.name);
            (Holder::Visitor(visitor), Side::Visitor, v, Some(name))
        }
        Caller::Terminal(t) => {
            let v = visits::get_row(conn, visit_id)?;
            let not_yours = || Error::Forbidden("this terminal is not part of this visit".into());
            if v.facility_id != t.facility_id {
                return Err(not_yours());
            }
            let side = match t.role {
                TerminalRole::Lobby if v.kind == Kind::Onsite => Side::Visitor,
                TerminalRole::Unit
                    if t.housing_unit_id
                        == Some(people::get_person(conn, v.person_id)?.housing_unit_id) =>
                {
                    Side::Person
                }
                _ => return Err(not_yours()),
            };
            // The visitors' tiles name the person; a lobby shows no name.
            let name = match side {
                Side::Person => Some(first_and_initial(
                    &people::get_person(conn, v.person_id)?.name,
                )),
                Side::Visitor => None,
            };
            (Holder::Terminal(t.id), side, v, name)
        }
    };
    if !v.status.is_active() || ctx.now >= v.end {
        return Err(Refusal::InvalidTransition {
            status: if v.status.is_active() {
                "over"
            } else {
                v.status.label()
            },
            action: "joined",
        }
        .into());
    }
    let facility = facilities::get(conn, v.facility_id)?;
    tracing::info!(visit_id = %v.id, terminal_id = %holder.terminal_id(), visitor_id = %holder.visitor_id(), side = side_name(side), "connected to the call (waiting)");
    Ok(Admission {
        visit_id,
        side,
        holder,
        ends_at: v.end,
        status: v.status,
        ice_servers: facility.ice_servers,
        peer: PeerInfo {
            // An on-site visit has one lobby seat, whichever lobby terminal
            // takes it (a newer socket replaces the older), never a second
            // visitor tile: its peer id is the visit's.
            id: match (holder, side) {
                (Holder::Terminal(_), Side::Visitor) => v.id,
                _ => holder.id(),
            },
            side,
            name,
        },
        max_visitors: usize::from(facility.max_visitors),
    })
}

/// A side takes part in the call, if its window is open: the person's join
/// makes the visit Ready. Returns the status before and after.
pub fn join(
    conn: &mut rusqlite::Connection,
    ctx: &Ctx<'_>,
    a: &Admission,
) -> Result<(Status, Status)> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let v = visits::get_row(&tx, a.visit_id)?;
    if !v.status.is_active() || ctx.now >= v.end {
        return Err(Refusal::InvalidTransition {
            status: if v.status.is_active() {
                "over"
            } else {
                v.status.label()
            },
            action: "joined",
        }
        .into());
    }
    let facility = facilities::get(&tx, v.facility_id)?;
    let policy = facility.policy(v.kind);
    let opens = v.start
        - match a.side {
            Side::Person => policy.person_early,
            Side::Visitor => policy.visitor_early,
        };
    if ctx.now < opens {
        return Err(Refusal::TooEarlyToJoin { opens }.into());
    }
    if let Holder::Visitor(visitor) = a.holder {
        still_allowed(&tx, ctx, v.id, v.person_id, visitor)?;
    }
    let detail = a.holder.detail(a.side);
    // A person rejoining a call in progress (after a network cut) changes
    // nothing; otherwise their join is the sign-in that makes the visit Ready.
    let status = if a.side == Side::Person && v.status != Status::InProgress {
        visits::transition(&tx, ctx, &v, Trigger::PersonSignedIn, "joined_call", detail)?
    } else {
        visits::record(&tx, ctx, v.id, "joined_call", (None, None), detail)?;
        v.status
    };
    tx.commit()?;
    tracing::info!(visit_id = %v.id, terminal_id = %a.holder.terminal_id(), visitor_id = %a.holder.visitor_id(), side = side_name(a.side), "joined the call");
    Ok((v.status, status))
}

/// Both sides have joined: the visit is in progress. Returns the status
/// and whether it changed.
pub fn both_present(
    conn: &mut rusqlite::Connection,
    ctx: &Ctx<'_>,
    visit_id: Uuid,
) -> Result<(Status, bool)> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let v = visits::get_row(&tx, visit_id)?;
    let status = match v.status {
        Status::Ready => visits::transition(
            &tx,
            ctx,
            &v,
            Trigger::CallStarted,
            "call_connected",
            json!({}),
        )?,
        other => other,
    };
    tx.commit()?;
    Ok((status, status != v.status))
}

/// What a joined side reports about its call.
#[derive(Debug, Clone)]
pub enum CallEvent {
    MediaFlowing,
    MediaInterrupted,
    /// A side's camera or microphone stopped working (`false`) or came back.
    Device(MediaDevice, bool),
    /// Why a side has no picture or no media.
    Problem(MediaProblem),
    Report(Box<CallReport>),
}

impl CallEvent {
    /// The history event name.
    pub fn name(&self) -> &'static str {
        match self {
            CallEvent::MediaFlowing => "media_flowing",
            CallEvent::MediaInterrupted => "media_interrupted",
            CallEvent::Device(_, false) => "device_lost",
            CallEvent::Device(_, true) => "device_back",
            CallEvent::Problem(_) => "media_problem",
            CallEvent::Report(_) => "call_report",
        }
    }
}

/// Record a joined side's call event in the visit's history, so the call
/// can be reconstructed from the server alone.
pub fn record_event(
    conn: &mut rusqlite::Connection,
    ctx: &Ctx<'_>,
    a: &Admission,
    event: &CallEvent,
) -> Result<()> {
    let mut detail = a.holder.detail(a.side);
    match event {
        CallEvent::Report(r) => detail["report"] = serde_json::to_value(r).unwrap_or_default(),
        CallEvent::Device(d, _) => detail["device"] = serde_json::to_value(d).unwrap_or_default(),
        CallEvent::Problem(p) => detail["problem"] = serde_json::to_value(p).unwrap_or_default(),
        CallEvent::MediaFlowing | CallEvent::MediaInterrupted => {}
    }
    visits::record(conn, ctx, a.visit_id, event.name(), (None, None), detail)?;
    tracing::info!(visit_id = %a.visit_id, terminal_id = %a.holder.terminal_id(), visitor_id = %a.holder.visitor_id(), side = side_name(a.side), event = event.name(), "call event");
    Ok(())
}

/// A joined side left (network cut, closed, or replaced by a reconnect) or
/// hung up.
pub fn left(
    conn: &mut rusqlite::Connection,
    ctx: &Ctx<'_>,
    a: &Admission,
    hung_up: bool,
) -> Result<Status> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let v = visits::get_row(&tx, a.visit_id)?;
    let detail = a.holder.detail(a.side);
    let status = if hung_up && v.status == Status::InProgress {
        visits::transition(&tx, ctx, &v, Trigger::CallEnded, "hung_up", detail)?
    } else {
        visits::record(
            &tx,
            ctx,
            v.id,
            if hung_up { "hung_up" } else { "left_call" },
            (None, None),
            detail,
        )?;
        v.status
    };
    tx.commit()?;
    tracing::info!(visit_id = %a.visit_id, terminal_id = %a.holder.terminal_id(), visitor_id = %a.holder.visitor_id(), side = side_name(a.side), hung_up, "left the call");
    Ok(status)
}
