//! Events posted by terminals: check-ins, sign-ins and call events.
//!
//! Terminals post from an outbox and retry until acknowledged, so the same
//! event may arrive many times: its client-made id is the primary key, and a
//! repeat is answered `Duplicate` without touching the visit. An event that
//! cannot apply (the visit was cancelled meanwhile) is still recorded and
//! acknowledged as `Refused`, so the terminal stops retrying and the history
//! shows what the terminal saw.

use protocol::TerminalRole;
use protocol::terminal::{EventOutcome, EventResult, TerminalEvent, TerminalEventKind};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::json;

use super::terminals::TerminalIdentity;
use super::{Ctx, Error, Result, facilities, people, uuid_at, visits};
use crate::db::ts;
use crate::domain::Refusal;
use crate::domain::policy::Kind;
use crate::domain::status::{Status, Trigger};

/// Most events accepted in one batch.
pub const MAX_BATCH: usize = 500;

fn kind_name(k: &TerminalEventKind) -> &'static str {
    match k {
        TerminalEventKind::CheckIn => "check_in",
        TerminalEventKind::SignIn { .. } => "sign_in",
        TerminalEventKind::CallStarted => "call_started",
        TerminalEventKind::CallInterrupted { .. } => "call_interrupted",
        TerminalEventKind::CallRecovered => "call_recovered",
        TerminalEventKind::CallEnded { .. } => "call_ended",
        TerminalEventKind::RecordingStarted => "recording_started",
        TerminalEventKind::RecordingProblem { .. } => "recording_problem",
    }
}

/// Apply a batch in order, each event in its own transaction.
pub fn apply_batch(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    terminal: &TerminalIdentity,
    events: &[TerminalEvent],
) -> Result<Vec<EventResult>> {
    if events.len() > MAX_BATCH {
        return Err(Error::Invalid(format!(
            "at most {MAX_BATCH} events per request, got {}",
            events.len()
        )));
    }
    events
        .iter()
        .map(|e| apply_one(conn, ctx, terminal, e))
        .collect()
}

fn apply_one(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    terminal: &TerminalIdentity,
    e: &TerminalEvent,
) -> Result<EventResult> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let seen = tx
        .query_row(
            "SELECT terminal_id FROM terminal_events WHERE id = ?1",
            [e.id.to_string()],
            |r| uuid_at(r, 0),
        )
        .optional()?;
    if let Some(owner) = seen {
        let outcome = if owner == terminal.id {
            EventOutcome::Duplicate
        } else {
            EventOutcome::Refused {
                reason: "this event id was already used by another terminal".into(),
            }
        };
        tracing::debug!(terminal_id = %terminal.id, event_id = %e.id, visit_id = %e.visit_id, "duplicate event");
        return Ok(EventResult {
            id: e.id,
            outcome,
            visit_status: status_now(&tx, e),
        });
    }
    let outcome = outcome_of(decide(&tx, ctx, terminal, e))?;
    if let EventOutcome::Refused { reason } = &outcome {
        record_refusal(&tx, ctx, terminal, e, reason)?;
    }
    insert_event(&tx, ctx, terminal, e, &outcome)?;
    let visit_status = status_now(&tx, e);
    tx.commit()?;
    Ok(EventResult {
        id: e.id,
        outcome,
        visit_status,
    })
}

/// The event's visit's status, for the terminal to catch up with.
fn status_now(conn: &Connection, e: &TerminalEvent) -> Option<protocol::VisitStatus> {
    visits::get_row(conn, e.visit_id)
        .ok()
        .map(|v| v.status.to_wire())
}

/// What the terminal is told: a rule's no, an unknown visit or a
/// forbidden event is a `Refused` outcome (acknowledged, not retried);
/// any other error fails the batch.
fn outcome_of(decided: Result<()>) -> Result<EventOutcome> {
    Ok(match decided {
        Ok(()) => EventOutcome::Applied,
        Err(Error::Refused(r)) => EventOutcome::Refused {
            reason: r.to_string(),
        },
        Err(Error::NotFound { what, id }) => EventOutcome::Refused {
            reason: format!("{what} {id} does not exist"),
        },
        Err(Error::Forbidden(reason)) => EventOutcome::Refused { reason },
        Err(other) => return Err(other),
    })
}

/// A refused event still goes into its visit's history (if the visit
/// exists), so the history shows what the terminal saw.
fn record_refusal(
    conn: &Connection,
    ctx: &Ctx<'_>,
    terminal: &TerminalIdentity,
    e: &TerminalEvent,
    reason: &str,
) -> Result<()> {
    let kind = kind_name(&e.event);
    tracing::warn!(terminal_id = %terminal.id, event_id = %e.id, visit_id = %e.visit_id, kind, reason, "terminal event refused");
    if visits::get_row(conn, e.visit_id).is_ok() {
        visits::record(
            conn,
            ctx,
            e.visit_id,
            &format!("refused_{kind}"),
            (None, None),
            json!({ "event_id": e.id, "terminal_time": e.occurred_at, "reason": reason }),
        )?;
    }
    Ok(())
}

/// Keep the event under its client-made id, with what was answered.
fn insert_event(
    conn: &Connection,
    ctx: &Ctx<'_>,
    terminal: &TerminalIdentity,
    e: &TerminalEvent,
    outcome: &EventOutcome,
) -> Result<()> {
    conn.execute(
        "INSERT INTO terminal_events (id, terminal_id, visit_id, kind, occurred_at, received_at,
            body, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            e.id.to_string(),
            terminal.id.to_string(),
            e.visit_id.to_string(),
            kind_name(&e.event),
            ts(e.occurred_at),
            ts(ctx.now),
            serde_json::to_string(&e.event).expect("events serialise"),
            serde_json::to_string(outcome).expect("outcomes serialise")
        ],
    )?;
    Ok(())
}

/// The history detail of an event: its id and terminal time, plus `extra`.
fn detail(e: &TerminalEvent, extra: serde_json::Value) -> serde_json::Value {
    let mut d = json!({ "event_id": e.id, "terminal_time": e.occurred_at });
    if let (Some(d), Some(x)) = (d.as_object_mut(), extra.as_object()) {
        d.extend(x.clone());
    }
    d
}

/// Apply one new event to its visit.
fn decide(
    tx: &Connection,
    ctx: &Ctx<'_>,
    terminal: &TerminalIdentity,
    e: &TerminalEvent,
) -> Result<()> {
    let visit = visits::get_row(tx, e.visit_id)?;
    if visit.facility_id != terminal.facility_id {
        return Err(Error::Forbidden(
            "the visit belongs to another facility".into(),
        ));
    }
    let kind = kind_name(&e.event);
    let (trigger, extra) = match &e.event {
        TerminalEventKind::CheckIn => return check_in(tx, ctx, terminal, e, &visit),
        TerminalEventKind::SignIn { person_number } => {
            check_sign_in(tx, terminal, &visit, person_number)?;
            (Trigger::PersonSignedIn, json!({}))
        }
        TerminalEventKind::CallStarted => (Trigger::CallStarted, json!({})),
        TerminalEventKind::CallEnded { reason } => {
            let extra = json!({ "reason": reason });
            if visit.status != Status::InProgress {
                // The clock or staff already ended it: keep the terminal's account.
                return visits::record(tx, ctx, visit.id, kind, (None, None), detail(e, extra));
            }
            (Trigger::CallEnded, extra)
        }
        TerminalEventKind::CallInterrupted { reason } => {
            let extra = json!({ "reason": reason });
            visits::record(tx, ctx, visit.id, kind, (None, None), detail(e, extra))?;
            tracing::warn!(visit_id = %visit.id, terminal_id = %terminal.id, reason, "call interrupted");
            return Ok(());
        }
        TerminalEventKind::CallRecovered | TerminalEventKind::RecordingStarted => {
            return visits::record(tx, ctx, visit.id, kind, (None, None), detail(e, json!({})));
        }
        TerminalEventKind::RecordingProblem { reason } => {
            let extra = json!({ "reason": reason });
            visits::record(tx, ctx, visit.id, kind, (None, None), detail(e, extra))?;
            tracing::warn!(visit_id = %visit.id, terminal_id = %terminal.id, reason, "recording problem");
            return Ok(());
        }
    };
    visits::transition(tx, ctx, &visit, trigger, kind, detail(e, extra))?;
    Ok(())
}

/// A visitor checked in at a lobby terminal (on-site visits only).
fn check_in(
    tx: &Connection,
    ctx: &Ctx<'_>,
    terminal: &TerminalIdentity,
    e: &TerminalEvent,
    visit: &visits::VisitRow,
) -> Result<()> {
    if terminal.role != TerminalRole::Lobby || visit.kind != Kind::Onsite {
        return Err(Error::Forbidden(
            "visitors check in at a lobby terminal for on-site visits only".into(),
        ));
    }
    if !visit.status.is_active() {
        return Err(Refusal::InvalidTransition {
            status: visit.status.label(),
            action: "checked in to",
        }
        .into());
    }
    let kind = kind_name(&e.event);
    visits::record(tx, ctx, visit.id, kind, (None, None), detail(e, json!({})))?;
    // The unit terminal shows whether the visitor has checked in.
    facilities::bump_schedule(tx, visit.facility_id)?;
    tracing::info!(visit_id = %visit.id, terminal_id = %terminal.id, event_id = %e.id, "visitor checked in");
    Ok(())
}

/// The person signs in at a terminal of their own unit, with their number.
fn check_sign_in(
    tx: &Connection,
    terminal: &TerminalIdentity,
    visit: &visits::VisitRow,
    person_number: &str,
) -> Result<()> {
    let person = people::get_person(tx, visit.person_id)?;
    if terminal.role != TerminalRole::Unit
        || terminal.housing_unit_id != Some(person.housing_unit_id)
    {
        return Err(Error::Forbidden(
            "the person signs in at a terminal of their own housing unit".into(),
        ));
    }
    if person.number != person_number {
        return Err(Error::Forbidden(
            "the person number does not match the visit".into(),
        ));
    }
    Ok(())
}
