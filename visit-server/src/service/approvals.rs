//! Requests to be on a person's approved-visitor list: made (for now by
//! staff; later by families), listed while pending, approved (the visitor
//! is put on the list as `people::approve` does) or denied with a reason
//! the visitor is sent.

use chrono::NaiveDate;
use protocol::admin::{
    Approval, ApprovalRequest, ApprovalRequestStatus, NewApproval, NewApprovalRequest,
    PendingApprovalRequest,
};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::directory::person_in_scope;
use super::records::queue_letter;
use super::{Ctx, Error, Page, Result, facilities, in_scope, letters, people, uuid_at};
use crate::db::{from_ts, ts};

fn status_db(s: ApprovalRequestStatus) -> &'static str {
    match s {
        ApprovalRequestStatus::Pending => "pending",
        ApprovalRequestStatus::Approved => "approved",
        ApprovalRequestStatus::Denied => "denied",
    }
}

fn status_from_db(s: &str) -> ApprovalRequestStatus {
    match s {
        "approved" => ApprovalRequestStatus::Approved,
        "denied" => ApprovalRequestStatus::Denied,
        _ => ApprovalRequestStatus::Pending,
    }
}

const REQUEST_COLUMNS: &str =
    "r.id, r.person_id, r.visitor_id, r.status, r.reason, r.created_at, r.decided_at, r.decided_by";

fn request_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApprovalRequest> {
    Ok(ApprovalRequest {
        id: uuid_at(r, 0)?,
        person_id: uuid_at(r, 1)?,
        visitor_id: uuid_at(r, 2)?,
        status: status_from_db(&r.get::<_, String>(3)?),
        reason: r.get(4)?,
        created_at: from_ts(r.get(5)?),
        decided_at: r.get::<_, Option<i64>>(6)?.map(from_ts),
        decided_by: r.get(7)?,
    })
}

/// An approval request, if a scoped caller may see it.
pub fn get(conn: &Connection, scope: Option<Uuid>, id: Uuid) -> Result<ApprovalRequest> {
    let r = conn
        .query_row(
            &format!("SELECT {REQUEST_COLUMNS} FROM approval_requests r WHERE r.id = ?1"),
            [id.to_string()],
            request_from_row,
        )
        .optional()?
        .ok_or_else(|| Error::not_found("approval request", id))?;
    let p = people::get_person(conn, r.person_id)?;
    in_scope(scope, p.facility_id, "approval request", id)?;
    Ok(r)
}

/// Ask for a visitor to be put on a person's list. One pending request per
/// pair; a visitor already on the list needs none.
pub fn create(
    conn: &Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    req: &NewApprovalRequest,
) -> Result<ApprovalRequest> {
    person_in_scope(conn, scope, req.person_id)?;
    people::get_visitor(conn, req.visitor_id)?;
    if people::is_approved(conn, req.person_id, req.visitor_id)? {
        return Err(Error::Conflict(
            "the visitor is already on this person's approved list".into(),
        ));
    }
    let pending = conn
        .query_row(
            "SELECT 1 FROM approval_requests
             WHERE person_id = ?1 AND visitor_id = ?2 AND status = 'pending'",
            params![req.person_id.to_string(), req.visitor_id.to_string()],
            |_| Ok(()),
        )
        .optional()?;
    if pending.is_some() {
        return Err(Error::Conflict(
            "a request for this visitor and person is already pending".into(),
        ));
    }
    let id = Uuid::new_v4();
    conn.execute(
        "INSERT INTO approval_requests (id, person_id, visitor_id, status, created_at)
         VALUES (?1, ?2, ?3, 'pending', ?4)",
        params![
            id.to_string(),
            req.person_id.to_string(),
            req.visitor_id.to_string(),
            ts(ctx.now)
        ],
    )?;
    tracing::info!(request_id = %id, person_id = %req.person_id, visitor_id = %req.visitor_id, actor = ctx.actor, "approval requested");
    get(conn, None, id)
}

/// A facility's pending requests, oldest first, with what staff need to decide.
pub fn pending(
    conn: &Connection,
    _ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    facility_id: Uuid,
    page: Page,
) -> Result<Vec<PendingApprovalRequest>> {
    in_scope(scope, facility_id, "facility", facility_id)?;
    facilities::get(conn, facility_id)?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {REQUEST_COLUMNS}, v.name, v.date_of_birth, v.photo_id_verified,
                v.photo_id_denied_reason, p.name, p.number
         FROM approval_requests r
         JOIN persons p ON p.id = r.person_id JOIN visitors v ON v.id = r.visitor_id
         WHERE p.facility_id = ?1 AND r.status = 'pending'
         ORDER BY r.created_at, r.rowid LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(
        params![facility_id.to_string(), page.limit, page.offset],
        |r| {
            let dob: String = r.get(9)?;
            Ok(PendingApprovalRequest {
                request: request_from_row(r)?,
                visitor_name: r.get(8)?,
                visitor_date_of_birth: NaiveDate::parse_from_str(&dob, "%Y-%m-%d").map_err(
                    |e| {
                        rusqlite::Error::FromSqlConversionFailure(
                            9,
                            rusqlite::types::Type::Text,
                            e.into(),
                        )
                    },
                )?,
                visitor_photo_id_verified: r.get(10)?,
                visitor_photo_id_denied_reason: r.get(11)?,
                person_name: r.get(12)?,
                person_number: r.get(13)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn decide(
    conn: &Connection,
    ctx: &Ctx<'_>,
    id: Uuid,
    status: ApprovalRequestStatus,
    reason: Option<&str>,
) -> Result<()> {
    conn.execute(
        "UPDATE approval_requests SET status = ?2, reason = ?3, decided_at = ?4, decided_by = ?5
         WHERE id = ?1",
        params![
            id.to_string(),
            status_db(status),
            reason,
            ts(ctx.now),
            ctx.actor
        ],
    )?;
    Ok(())
}

fn pending_one(conn: &Connection, scope: Option<Uuid>, id: Uuid) -> Result<ApprovalRequest> {
    let r = get(conn, scope, id)?;
    if r.status != ApprovalRequestStatus::Pending {
        return Err(Error::Conflict(format!(
            "this request was already {}",
            status_db(r.status)
        )));
    }
    Ok(r)
}

/// Approve a pending request: the visitor goes on the person's list.
pub fn approve(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    id: Uuid,
) -> Result<(ApprovalRequest, Approval)> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let r = pending_one(&tx, scope, id)?;
    let approval = people::approve(
        &tx,
        ctx,
        &NewApproval {
            person_id: r.person_id,
            visitor_id: r.visitor_id,
        },
    )?;
    decide(&tx, ctx, id, ApprovalRequestStatus::Approved, None)?;
    let r = get(&tx, scope, id)?;
    tx.commit()?;
    tracing::info!(request_id = %id, actor = ctx.actor, "approval request approved");
    Ok((r, approval))
}

/// Deny a pending request; the visitor is sent the reason.
pub fn deny(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    id: Uuid,
    reason: &str,
) -> Result<ApprovalRequest> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::Invalid(
            "say why the request is denied; the visitor is told".into(),
        ));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let r = pending_one(&tx, scope, id)?;
    let person = people::get_person(&tx, r.person_id)?;
    let facility = facilities::get(&tx, person.facility_id)?;
    let visitor = people::get_visitor(&tx, r.visitor_id)?;
    decide(&tx, ctx, id, ApprovalRequestStatus::Denied, Some(reason))?;
    let letter = letters::approval_denied(&visitor.name, &person.name, &facility.name, reason);
    queue_letter(&tx, ctx, "approval_denied", &visitor.email, &letter)?;
    let r = get(&tx, scope, id)?;
    tx.commit()?;
    tracing::info!(request_id = %id, actor = ctx.actor, "approval request denied");
    Ok(r)
}
