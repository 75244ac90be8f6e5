//! What the staff console's administration pages need beyond the API's
//! service calls: the same changes, but scoped to the member's facility, so
//! another facility's rows answer "not found".

use protocol::admin::{EnrolmentCode, PhotoIdCheck, Visitor};
use rusqlite::Connection;
use uuid::Uuid;

use super::staff::{self, Member};
use super::{Ctx, Result, directory, in_scope, people, terminals};

/// Record a visitor's photo ID as checked, if the facility may see them.
pub fn verify_photo_id(
    conn: &Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    visitor_id: Uuid,
) -> Result<Visitor> {
    directory::visitor_in_scope(conn, scope, visitor_id)?;
    people::set_photo_id(conn, ctx, visitor_id, &PhotoIdCheck { verified: true })
}

/// A fresh enrolment code for one of the facility's terminals.
pub fn new_enrolment_code(
    conn: &Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    terminal_id: Uuid,
) -> Result<EnrolmentCode> {
    let t = terminals::get(conn, terminal_id, ctx.now)?;
    in_scope(scope, t.facility_id, "terminal", terminal_id)?;
    terminals::new_enrolment_code(conn, ctx, terminal_id)
}

/// A staff account, if it belongs to the facility.
pub fn staff_in_scope(conn: &Connection, scope: Option<Uuid>, id: Uuid) -> Result<Member> {
    let m = staff::get(conn, id)?;
    in_scope(scope, m.facility_id, "staff member", id)?;
    Ok(m)
}

/// Reset a facility member's password (their sessions end).
pub fn set_staff_password(
    conn: &Connection,
    scope: Option<Uuid>,
    id: Uuid,
    password: &str,
) -> Result<()> {
    staff_in_scope(conn, scope, id)?;
    staff::set_password(conn, id, password)
}

/// Disable or re-enable a facility member's account.
pub fn set_staff_disabled(
    conn: &Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    id: Uuid,
    disabled: bool,
) -> Result<()> {
    staff_in_scope(conn, scope, id)?;
    staff::set_disabled(conn, ctx, id, disabled)
}
