//! Stills taken when a person signs in at a housing-unit terminal. They
//! deter shared PINs: staff see who actually sat at the terminal.
//!
//! A photo is posted with a client-made id from the terminal's outbox (it
//! may arrive late, or twice); it is stored once, and each of the person's
//! visits on the facility-local day it was taken gets a `sign_in_photo`
//! line in its history naming the photo, so the visit record shows it and
//! staff fetch it by that id.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::NaiveDate;
use protocol::TerminalRole;
use protocol::terminal::{EventOutcome, SignInPhoto, SignInPhotoResult};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::json;
use uuid::Uuid;

use super::terminals::TerminalIdentity;
use super::{Ctx, Error, Result, facilities, uuid_at, visits};
use crate::db::ts;

/// Largest JPEG accepted; a 640x480 still is 20-60 KiB.
pub const MAX_JPEG_BYTES: usize = 150 * 1024;

/// Check that `bytes` look like one whole JPEG (start and end markers).
fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.len() > 4 && bytes.starts_with(&[0xFF, 0xD8, 0xFF]) && bytes.ends_with(&[0xFF, 0xD9])
}

/// Store a sign-in photo and attach it to the person's visits of that day.
pub fn store(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    terminal: &TerminalIdentity,
    photo: &SignInPhoto,
) -> Result<SignInPhotoResult> {
    let jpeg = checked_jpeg(ctx, photo)?;
    let (TerminalRole::Unit, Some(unit)) = (terminal.role, terminal.housing_unit_id) else {
        return Err(Error::Forbidden(
            "sign-in photos come from housing-unit terminals only".into(),
        ));
    };
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let seen: Option<(Uuid, Uuid)> = tx
        .query_row(
            "SELECT terminal_id, person_id FROM sign_in_photos WHERE id = ?1",
            [photo.id.to_string()],
            |r| Ok((uuid_at(r, 0)?, uuid_at(r, 1)?)),
        )
        .optional()?;
    let facility = facilities::get(&tx, terminal.facility_id)?;
    let day = photo.taken_at.with_timezone(&facility.tz).date_naive();
    let person_id = person_of_unit(&tx, terminal, unit, &photo.person_number)?;
    let visit_ids = visits_on(&tx, person_id, day)?;
    if let Some((owner, _)) = seen {
        if owner != terminal.id {
            return Err(Error::Conflict(
                "this photo id was already used by another terminal".into(),
            ));
        }
        return Ok(SignInPhotoResult {
            id: photo.id,
            outcome: EventOutcome::Duplicate,
            visits: visit_ids,
        });
    }
    insert(&tx, ctx, terminal, photo, person_id, &jpeg, &visit_ids)?;
    tx.commit()?;
    tracing::info!(terminal_id = %terminal.id, person_id = %person_id, photo_id = %photo.id, visits = visit_ids.len(), bytes = jpeg.len(), "sign-in photo stored");
    Ok(SignInPhotoResult {
        id: photo.id,
        outcome: EventOutcome::Applied,
        visits: visit_ids,
    })
}

/// The photo's JPEG bytes, if it is one whole JPEG of an acceptable size
/// taken at a believable time.
fn checked_jpeg(ctx: &Ctx<'_>, photo: &SignInPhoto) -> Result<Vec<u8>> {
    let jpeg = STANDARD
        .decode(photo.jpeg.as_bytes())
        .map_err(|_| Error::Invalid("the photo is not valid base64".into()))?;
    if jpeg.len() > MAX_JPEG_BYTES {
        return Err(Error::Invalid(format!(
            "the photo is {} bytes; at most {MAX_JPEG_BYTES} are accepted",
            jpeg.len()
        )));
    }
    if !is_jpeg(&jpeg) {
        return Err(Error::Invalid("the photo is not a JPEG".into()));
    }
    // A photo is about today's sign-in: not from the future (beyond clock
    // drift), nor older than a terminal's outbox keeps anything.
    if photo.taken_at > ctx.now + chrono::Duration::minutes(10)
        || photo.taken_at < ctx.now - chrono::Duration::days(7)
    {
        return Err(Error::Invalid(format!(
            "the photo's time {} is too far from the server's {}",
            photo.taken_at, ctx.now
        )));
    }
    Ok(jpeg)
}

/// The person with this number, who must live in the terminal's unit.
fn person_of_unit(
    conn: &Connection,
    terminal: &TerminalIdentity,
    unit: Uuid,
    number: &str,
) -> Result<Uuid> {
    let person: Option<(Uuid, Uuid)> = conn
        .query_row(
            "SELECT id, housing_unit_id FROM persons WHERE facility_id = ?1 AND number = ?2",
            params![terminal.facility_id.to_string(), number],
            |r| Ok((uuid_at(r, 0)?, uuid_at(r, 1)?)),
        )
        .optional()?;
    let Some((person_id, person_unit)) = person else {
        return Err(Error::not_found("person", number));
    };
    if person_unit != unit {
        return Err(Error::Forbidden(
            "the person signs in at a terminal of their own housing unit".into(),
        ));
    }
    Ok(person_id)
}

/// The person's visits on a facility-local day, by start.
fn visits_on(conn: &Connection, person_id: Uuid, day: NaiveDate) -> Result<Vec<Uuid>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM visits WHERE person_id = ?1 AND local_date = ?2 ORDER BY starts_at",
    )?;
    let ids = stmt
        .query_map(params![person_id.to_string(), day.to_string()], |r| {
            uuid_at(r, 0)
        })?
        .collect::<rusqlite::Result<Vec<Uuid>>>()?;
    Ok(ids)
}

/// Keep the photo and name it in the history of each of the day's visits.
fn insert(
    conn: &Connection,
    ctx: &Ctx<'_>,
    terminal: &TerminalIdentity,
    photo: &SignInPhoto,
    person_id: Uuid,
    jpeg: &[u8],
    visit_ids: &[Uuid],
) -> Result<()> {
    conn.execute(
        "INSERT INTO sign_in_photos (id, terminal_id, person_id, taken_at, received_at, jpeg)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            photo.id.to_string(),
            terminal.id.to_string(),
            person_id.to_string(),
            ts(photo.taken_at),
            ts(ctx.now),
            jpeg
        ],
    )?;
    for v in visit_ids {
        visits::record(
            conn,
            ctx,
            *v,
            "sign_in_photo",
            (None, None),
            json!({
                "photo_id": photo.id,
                "terminal_id": terminal.id,
                "taken_at": photo.taken_at,
                "bytes": jpeg.len(),
            }),
        )?;
    }
    Ok(())
}

/// A stored photo's JPEG bytes.
pub fn get(conn: &Connection, id: Uuid) -> Result<Vec<u8>> {
    conn.query_row(
        "SELECT jpeg FROM sign_in_photos WHERE id = ?1",
        [id.to_string()],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| Error::not_found("photo", id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_jpegs_pass() {
        assert!(is_jpeg(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0xFF, 0xD9]));
        assert!(!is_jpeg(b"\x89PNG\r\n\x1a\n"));
        assert!(!is_jpeg(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0])); // cut short
    }
}
