//! Confidential visits (e.g. with clergy, as the facility decides per
//! visit): never recorded nor monitored. Staff mark a visit so, or undo
//! it, only before it is in progress; terminals learn it from their
//! schedule (`ScheduledVisit::confidential`), and a unit terminal's upload
//! of such a visit is refused (`recordings::declare`).

use protocol::admin::Visit;
use rusqlite::{Connection, TransactionBehavior, params};
use serde_json::json;
use uuid::Uuid;

use super::{Ctx, Error, Result, facilities, in_scope, visits};
use crate::db::ts;
use crate::domain::Refusal;
use crate::domain::recording::may_change_confidential;

/// Mark a visit confidential (or not). Saying what it already is changes
/// nothing and writes no history.
pub fn set(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    id: Uuid,
    confidential: bool,
) -> Result<Visit> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let row = visits::get_row(&tx, id)?;
    in_scope(scope, row.facility_id, "visit", id)?;
    if row.confidential == confidential {
        return visits::get(&tx, id);
    }
    if !may_change_confidential(row.status) {
        return Err(Error::Refused(Refusal::InvalidTransition {
            status: row.status.as_db(),
            action: "marked or unmarked as confidential",
        }));
    }
    let recorded: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM recording_segments WHERE visit_id = ?1)",
        [id.to_string()],
        |r| r.get(0),
    )?;
    if confidential && recorded {
        // The call began (its first segments arrived before the terminal's
        // word that it started): too late to keep it unrecorded.
        return Err(Error::Refused(Refusal::InvalidTransition {
            status: "recorded",
            action: "marked as confidential",
        }));
    }
    tx.execute(
        "UPDATE visits SET confidential = ?2, updated_at = ?3 WHERE id = ?1",
        params![id.to_string(), confidential, ts(ctx.now)],
    )?;
    let event = if confidential {
        "marked_confidential"
    } else {
        "unmarked_confidential"
    };
    visits::record(&tx, ctx, id, event, (None, None), json!({}))?;
    // Terminals show it, and the unit terminal must not record.
    facilities::bump_schedule(&tx, row.facility_id)?;
    let visit = visits::get(&tx, id)?;
    tx.commit()?;
    tracing::info!(visit_id = %id, confidential, actor = ctx.actor, "visit confidentiality changed");
    Ok(visit)
}

/// Whether a visit is confidential.
pub fn is_confidential(conn: &Connection, id: Uuid) -> Result<bool> {
    Ok(visits::get_row(conn, id)?.confidential)
}
