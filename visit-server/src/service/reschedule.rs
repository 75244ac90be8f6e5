//! Moving a booked visit to another start, under the booking's rules (the
//! visitors' eligibility, the hours and block grid, the advance window, no
//! double booking, a free lobby terminal), with a new PIN and new join
//! links sent to the visitors as for a booking.

use protocol::admin::{BookedVisit, NewVisit, Reschedule, VisitPurpose};
use rusqlite::{Connection, TransactionBehavior, params};
use serde_json::json;
use uuid::Uuid;

use super::booking::{self, booked};
use super::letters::Booked;
use super::{Ctx, Result, facilities, in_scope, letters, visits};
use crate::db::ts;
use crate::domain::Refusal;
use crate::domain::status::Status;

/// Move a scheduled visit to `req.start`. The old PIN and join links stop
/// working; the answer carries the new ones, as a booking's does.
pub fn reschedule(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    id: Uuid,
    req: &Reschedule,
) -> Result<BookedVisit> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let row = visits::get_row(&tx, id)?;
    in_scope(scope, row.facility_id, "visit", id)?;
    if row.status != Status::Scheduled {
        return Err(Refusal::InvalidTransition {
            status: row.status.as_db(),
            action: "rescheduled",
        }
        .into());
    }
    let moved = NewVisit {
        person_id: row.person_id,
        visitor_ids: visits::visitor_ids(&tx, id)?,
        kind: row.kind.to_wire(),
        start: req.start,
        purpose: VisitPurpose::Social,
    };
    let checked = booking::check_rules(&tx, ctx, &moved, Some(id))?;
    let (pin, pin_hash) = booking::check_conflicts_and_pin(&tx, ctx, &checked)?;
    tx.execute(
        "UPDATE visits SET starts_at = ?2, ends_at = ?3, local_date = ?4, pin_hash = ?5,
             updated_at = ?6 WHERE id = ?1",
        params![
            id.to_string(),
            ts(req.start),
            ts(checked.end),
            checked.visit_date.to_string(),
            pin_hash,
            ts(ctx.now)
        ],
    )?;
    // The old links must not open the moved visit.
    tx.execute(
        "DELETE FROM join_tokens WHERE visit_id = ?1",
        [id.to_string()],
    )?;
    visits::record(
        &tx,
        ctx,
        id,
        "rescheduled",
        (None, None),
        json!({ "from": row.start, "to": req.start, "end": checked.end }),
    )?;
    let told = Booked {
        confidential: row.confidential,
        ..booked(&checked, id)
    };
    let letters = letters::rescheduled(&told, row.start, checked.visitors.len());
    let join_tokens = booking::queue_confirmations(&tx, ctx, &checked, id, &pin, &letters)?;
    facilities::bump_schedule(&tx, row.facility_id)?;
    let visit = visits::get(&tx, id)?;
    tx.commit()?;
    tracing::info!(visit_id = %id, facility_id = %row.facility_id, from = %row.start, to = %req.start, actor = ctx.actor, "visit rescheduled");
    Ok(BookedVisit {
        visit,
        pin,
        join_tokens,
    })
}
