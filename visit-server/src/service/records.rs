//! Editing a person's or a visitor's record, refusing a photo ID, and
//! taking a visitor off a person's approved list.

use protocol::admin::{Person, PersonUpdate, Visitor, VisitorUpdate};
use rusqlite::{Connection, TransactionBehavior, params};
use uuid::Uuid;

use super::directory::{person_in_scope, visitor_in_scope};
use super::{Ctx, Error, Result, facilities, letters, outbox, people};

/// Change a person's name, housing unit or restrictions; what is not given
/// stays. The unit terminals' schedules follow (they carry the unit's
/// persons).
pub fn update_person(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    id: Uuid,
    req: &PersonUpdate,
) -> Result<Person> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut p = person_in_scope(&tx, scope, id)?;
    if let Some(name) = &req.name {
        p.name = name.trim().to_string();
        if p.name.is_empty() {
            return Err(Error::Invalid("a person needs a name".into()));
        }
    }
    if let Some(unit) = req.housing_unit_id {
        if facilities::housing_unit_facility(&tx, unit)? != p.facility_id {
            return Err(Error::Invalid(
                "the housing unit belongs to another facility".into(),
            ));
        }
        p.housing_unit_id = unit;
    }
    if let Some(r) = &req.restrictions {
        p.restrictions = r.clone();
        p.restrictions.dedup();
    }
    tx.execute(
        "UPDATE persons SET name = ?2, housing_unit_id = ?3, restrictions = ?4 WHERE id = ?1",
        params![
            id.to_string(),
            p.name,
            p.housing_unit_id.to_string(),
            serde_json::to_string(&p.restrictions).expect("restrictions serialise")
        ],
    )?;
    facilities::bump_schedule(&tx, p.facility_id)?;
    tx.commit()?;
    tracing::info!(person_id = %id, facility_id = %p.facility_id, actor = ctx.actor, "person updated");
    Ok(p)
}

/// Change a visitor's name, e-mail or date of birth; what is not given stays.
pub fn update_visitor(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    id: Uuid,
    req: &VisitorUpdate,
) -> Result<Visitor> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut v = people::get_visitor(&tx, id)?;
    visitor_in_scope(&tx, scope, id)?;
    if let Some(name) = &req.name {
        v.name = name.trim().to_string();
        if v.name.is_empty() {
            return Err(Error::Invalid("a visitor needs a name".into()));
        }
    }
    if let Some(email) = &req.email {
        v.email = email.trim().to_string();
        if !people::valid_email(&v.email) {
            return Err(Error::Invalid(format!(
                "'{}' is not an email address; confirmations are sent there",
                v.email
            )));
        }
    }
    if let Some(dob) = req.date_of_birth {
        if dob > ctx.now.date_naive() {
            return Err(Error::Invalid("the date of birth is in the future".into()));
        }
        v.date_of_birth = dob;
    }
    tx.execute(
        "UPDATE visitors SET name = ?2, email = ?3, date_of_birth = ?4 WHERE id = ?1",
        params![id.to_string(), v.name, v.email, v.date_of_birth.to_string()],
    )?;
    tx.commit()?;
    tracing::info!(visitor_id = %id, actor = ctx.actor, "visitor updated");
    Ok(v)
}

/// Refuse a visitor's photo ID, with the reason, which the visitor is sent.
/// Until it is verified (`people::set_photo_id`) they cannot be booked.
pub fn deny_photo_id(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    id: Uuid,
    reason: &str,
) -> Result<Visitor> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::Invalid(
            "say why the photo ID is refused; the visitor is told".into(),
        ));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let v = people::get_visitor(&tx, id)?;
    visitor_in_scope(&tx, scope, id)?;
    tx.execute(
        "UPDATE visitors SET photo_id_verified = 0, photo_id_denied_reason = ?2 WHERE id = ?1",
        params![id.to_string(), reason],
    )?;
    let letter = letters::photo_id_denied(&v.name, reason);
    queue_letter(&tx, ctx, "photo_id_denied", &v.email, &letter)?;
    let v = people::get_visitor(&tx, id)?;
    tx.commit()?;
    tracing::info!(visitor_id = %id, actor = ctx.actor, "photo ID refused");
    Ok(v)
}

/// Queue a letter that carries no secret and concerns no visit.
pub(crate) fn queue_letter(
    conn: &Connection,
    ctx: &Ctx<'_>,
    kind: &str,
    to: &str,
    letter: &letters::Letter,
) -> Result<()> {
    outbox::queue(
        conn,
        ctx,
        outbox::NewMessage {
            kind,
            visit_id: None,
            to,
            subject: &letter.subject,
            body: &letter.body,
            pin: None,
            token: None,
        },
    )?;
    Ok(())
}

/// Take a visitor off a person's approved list. Visits already booked stay;
/// the visitor can no longer join them (admission checks the list) nor
/// book new ones.
pub fn remove_approval(
    conn: &Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    person_id: Uuid,
    visitor_id: Uuid,
) -> Result<()> {
    person_in_scope(conn, scope, person_id)?;
    people::get_visitor(conn, visitor_id)?;
    let n = conn.execute(
        "DELETE FROM approvals WHERE person_id = ?1 AND visitor_id = ?2",
        params![person_id.to_string(), visitor_id.to_string()],
    )?;
    if n == 0 {
        return Err(Error::not_found(
            "approval",
            format!("{person_id}/{visitor_id}"),
        ));
    }
    tracing::info!(person_id = %person_id, visitor_id = %visitor_id, actor = ctx.actor, "approval removed");
    Ok(())
}
