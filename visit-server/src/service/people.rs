//! Incarcerated persons, registered visitors and approved-visitor lists.

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use chrono::NaiveDate;
use protocol::admin::{
    Approval, NewApproval, NewPerson, NewVisitor, Person, PhotoIdCheck, Restriction, Visitor,
};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::{Ctx, Error, Result, facilities, json_at, uuid_at};
use crate::db::{from_ts, ts};

/// Hash a sign-in PIN with Argon2id. A sign-in PIN lives for months, so it
/// gets a slow salted hash; unit terminals will verify it offline.
fn hash_sign_in_pin(pin: &str) -> String {
    Argon2::default()
        .hash_password(pin.as_bytes(), &SaltString::generate(&mut OsRng))
        .expect("Argon2 with default parameters cannot fail")
        .to_string()
}

/// Check a sign-in PIN against its stored hash.
pub fn verify_sign_in_pin(stored: &str, pin: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(pin.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

pub fn create_person(
    conn: &Connection,
    ctx: &Ctx<'_>,
    facility_id: Uuid,
    req: &NewPerson,
) -> Result<Person> {
    facilities::get(conn, facility_id)?;
    if facilities::housing_unit_facility(conn, req.housing_unit_id)? != facility_id {
        return Err(Error::Invalid(
            "the housing unit belongs to another facility".into(),
        ));
    }
    let number = req.number.trim();
    let name = req.name.trim();
    if number.is_empty() || name.is_empty() {
        return Err(Error::Invalid("a person needs a number and a name".into()));
    }
    if !(4..=10).contains(&req.pin.len()) || !req.pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Invalid(
            "the sign-in PIN must be 4 to 10 digits".into(),
        ));
    }
    let id = Uuid::new_v4();
    let inserted = conn.execute(
        "INSERT INTO persons (id, facility_id, number, name, housing_unit_id, pin_hash,
            restrictions, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (facility_id, number) DO NOTHING",
        params![
            id.to_string(),
            facility_id.to_string(),
            number,
            name,
            req.housing_unit_id.to_string(),
            hash_sign_in_pin(&req.pin),
            serde_json::to_string(&req.restrictions).expect("restrictions serialise"),
            ts(ctx.now)
        ],
    )?;
    if inserted == 0 {
        return Err(Error::Conflict(format!(
            "person number {number} already exists at this facility"
        )));
    }
    // The housing unit's terminals carry the unit's persons for offline sign-in.
    facilities::bump_schedule(conn, facility_id)?;
    tracing::info!(facility_id = %facility_id, person_id = %id, actor = ctx.actor, "person registered");
    get_person(conn, id)
}

pub fn get_person(conn: &Connection, id: Uuid) -> Result<Person> {
    conn.query_row(
        &format!("SELECT {PERSON_COLUMNS} FROM persons p WHERE p.id = ?1"),
        [id.to_string()],
        person_from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found("person", id))
}

pub fn has_restriction(p: &Person, r: Restriction) -> bool {
    p.restrictions.contains(&r)
}

pub(crate) fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub fn create_visitor(conn: &Connection, ctx: &Ctx<'_>, req: &NewVisitor) -> Result<Visitor> {
    let name = req.name.trim();
    let email = req.email.trim();
    if name.is_empty() {
        return Err(Error::Invalid("a visitor needs a name".into()));
    }
    if !valid_email(email) {
        return Err(Error::Invalid(format!(
            "'{email}' is not an email address; confirmations are sent there"
        )));
    }
    if req.date_of_birth > ctx.now.date_naive() {
        return Err(Error::Invalid("the date of birth is in the future".into()));
    }
    let id = Uuid::new_v4();
    conn.execute(
        "INSERT INTO visitors (id, name, email, date_of_birth, photo_id_verified, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id.to_string(),
            name,
            email,
            req.date_of_birth.to_string(),
            req.photo_id_verified,
            ts(ctx.now)
        ],
    )?;
    tracing::info!(visitor_id = %id, actor = ctx.actor, "visitor registered");
    get_visitor(conn, id)
}

/// The columns [`visitor_from_row`] reads, for `SELECT ... FROM visitors v`.
pub(crate) const VISITOR_COLUMNS: &str =
    "v.id, v.name, v.email, v.date_of_birth, v.photo_id_verified, v.photo_id_denied_reason";

pub(crate) fn visitor_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Visitor> {
    let dob: String = r.get(3)?;
    Ok(Visitor {
        id: uuid_at(r, 0)?,
        name: r.get(1)?,
        email: r.get(2)?,
        date_of_birth: NaiveDate::parse_from_str(&dob, "%Y-%m-%d").map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, e.into())
        })?,
        photo_id_verified: r.get(4)?,
        photo_id_denied_reason: r.get(5)?,
    })
}

pub fn get_visitor(conn: &Connection, id: Uuid) -> Result<Visitor> {
    conn.query_row(
        &format!("SELECT {VISITOR_COLUMNS} FROM visitors v WHERE v.id = ?1"),
        [id.to_string()],
        visitor_from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found("visitor", id))
}

/// The columns [`person_from_row`] reads, for `SELECT ... FROM persons p`.
pub(crate) const PERSON_COLUMNS: &str =
    "p.id, p.facility_id, p.number, p.name, p.housing_unit_id, p.restrictions";

pub(crate) fn person_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Person> {
    Ok(Person {
        id: uuid_at(r, 0)?,
        facility_id: uuid_at(r, 1)?,
        number: r.get(2)?,
        name: r.get(3)?,
        housing_unit_id: uuid_at(r, 4)?,
        restrictions: json_at(r, 5)?,
    })
}

pub fn set_photo_id(
    conn: &Connection,
    ctx: &Ctx<'_>,
    visitor_id: Uuid,
    req: &PhotoIdCheck,
) -> Result<Visitor> {
    let n = conn.execute(
        // A verified ID clears an earlier refusal.
        "UPDATE visitors SET photo_id_verified = ?2,
             photo_id_denied_reason = CASE WHEN ?2 THEN NULL ELSE photo_id_denied_reason END
         WHERE id = ?1",
        params![visitor_id.to_string(), req.verified],
    )?;
    if n == 0 {
        return Err(Error::not_found("visitor", visitor_id));
    }
    tracing::info!(visitor_id = %visitor_id, verified = req.verified, actor = ctx.actor, "photo ID check recorded");
    get_visitor(conn, visitor_id)
}

pub fn approve(conn: &Connection, ctx: &Ctx<'_>, req: &NewApproval) -> Result<Approval> {
    get_person(conn, req.person_id)?;
    get_visitor(conn, req.visitor_id)?;
    conn.execute(
        "INSERT INTO approvals (person_id, visitor_id, approved_at) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
        params![
            req.person_id.to_string(),
            req.visitor_id.to_string(),
            ts(ctx.now)
        ],
    )?;
    let approved_at = conn.query_row(
        "SELECT approved_at FROM approvals WHERE person_id = ?1 AND visitor_id = ?2",
        params![req.person_id.to_string(), req.visitor_id.to_string()],
        |r| r.get::<_, i64>(0),
    )?;
    tracing::info!(person_id = %req.person_id, visitor_id = %req.visitor_id, actor = ctx.actor, "visitor approved");
    Ok(Approval {
        person_id: req.person_id,
        visitor_id: req.visitor_id,
        approved_at: from_ts(approved_at),
    })
}

pub fn is_approved(conn: &Connection, person_id: Uuid, visitor_id: Uuid) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM approvals WHERE person_id = ?1 AND visitor_id = ?2",
            params![person_id.to_string(), visitor_id.to_string()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_pins_are_salted_and_verifiable() {
        let a = hash_sign_in_pin("1234");
        let b = hash_sign_in_pin("1234");
        assert_ne!(a, b, "salted");
        assert!(!a.contains("1234"));
        assert!(verify_sign_in_pin(&a, "1234"));
        assert!(!verify_sign_in_pin(&a, "1235"));
        assert!(!verify_sign_in_pin("garbage", "1234"));
    }

    #[test]
    fn email_check_catches_obvious_mistakes() {
        assert!(valid_email("maria@example.org"));
        assert!(!valid_email("maria.example.org"));
        assert!(!valid_email("maria@localhost"));
        assert!(!valid_email("ma ria@example.org"));
    }
}
