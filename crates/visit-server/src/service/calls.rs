//! Who may join a visit's call, and how presence moves the visit along.
//!
//! A lobby terminal is the visitor's side of an on-site visit of its
//! facility; a housing-unit terminal is the person's side of the visits of
//! people housed in its unit. Each side may join from its early log-in
//! window (visitor 1 minute, person 2 minutes by default) until the end.

use chrono::{DateTime, Utc};
use protocol::TerminalRole;
use protocol::signal::{IceServer, Side};
use serde_json::json;
use uuid::Uuid;

use super::terminals::TerminalIdentity;
use super::{Ctx, Error, Result, facilities, people, visits};
use crate::domain::Refusal;
use crate::domain::policy::Kind;
use crate::domain::status::{Status, Trigger};

/// A terminal let into a call.
#[derive(Debug, Clone)]
pub struct Admission {
    pub visit_id: Uuid,
    pub side: Side,
    pub ends_at: DateTime<Utc>,
    pub status: Status,
    pub ice_servers: Vec<IceServer>,
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Person => "person",
        Side::Visitor => "visitor",
    }
}

/// Check that `t` is a participant and may join now, and record that it joined.
pub fn admit(
    conn: &mut rusqlite::Connection,
    ctx: &Ctx<'_>,
    t: &TerminalIdentity,
    visit_id: Uuid,
) -> Result<Admission> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let v = visits::get_row(&tx, visit_id)?;
    let not_yours = || Error::Forbidden("this terminal is not part of this visit".into());
    if v.facility_id != t.facility_id {
        return Err(not_yours());
    }
    let side = match t.role {
        TerminalRole::Lobby if v.kind == Kind::Onsite => Side::Visitor,
        TerminalRole::Unit
            if t.housing_unit_id == Some(people::get_person(&tx, v.person_id)?.housing_unit_id) =>
        {
            Side::Person
        }
        _ => return Err(not_yours()),
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
    let facility = facilities::get(&tx, v.facility_id)?;
    let policy = facility.policy(v.kind);
    let opens = v.start
        - match side {
            Side::Person => policy.person_early,
            Side::Visitor => policy.visitor_early,
        };
    if ctx.now < opens {
        return Err(Refusal::TooEarlyToJoin { opens }.into());
    }
    let status = if side == Side::Person {
        visits::transition(
            &tx,
            ctx,
            &v,
            Trigger::PersonSignedIn,
            "joined_call",
            json!({ "side": "person" }),
        )?
    } else {
        visits::record(
            &tx,
            ctx,
            v.id,
            "joined_call",
            (None, None),
            json!({ "side": "visitor" }),
        )?;
        v.status
    };
    tx.commit()?;
    tracing::info!(visit_id = %v.id, terminal_id = %t.id, side = side_name(side), "joined the call");
    Ok(Admission {
        visit_id,
        side,
        ends_at: v.end,
        status,
        ice_servers: facility.ice_servers,
    })
}

/// Both sides are connected: the visit is in progress.
pub fn both_present(
    conn: &mut rusqlite::Connection,
    ctx: &Ctx<'_>,
    visit_id: Uuid,
) -> Result<Status> {
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
    Ok(status)
}

/// A side left (network cut or closed) or hung up.
pub fn left(
    conn: &mut rusqlite::Connection,
    ctx: &Ctx<'_>,
    visit_id: Uuid,
    side: Side,
    hung_up: bool,
) -> Result<Status> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let v = visits::get_row(&tx, visit_id)?;
    let detail = json!({ "side": side_name(side) });
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
    Ok(status)
}
