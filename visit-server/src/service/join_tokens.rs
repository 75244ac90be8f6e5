//! Join tokens: how a remote visitor's browser is let into a call.
//!
//! Booking a remote visit makes one token per visitor (32 random bytes,
//! base64url), valid until the visit's end. It is shown once, in that
//! visitor's confirmation (sealed in the outbox until sent), and stored only
//! as a keyed hash, like terminal credentials. A browser cannot set headers
//! on a WebSocket, so the token travels as `?token=` on the signalling URL;
//! the API never logs it.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::{Ctx, Error, Result, uuid_at};
use crate::db::{from_ts, ts};
use crate::keys::random_token;

/// `secret_hash` purpose, so a token can never pass as another secret.
const PURPOSE: &str = "join-token";

/// Make `visitor`'s token for `visit`, valid until `expires_at`; returns it
/// (the only time it exists in clear).
pub fn create(
    conn: &Connection,
    ctx: &Ctx<'_>,
    visit: Uuid,
    visitor: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<String> {
    let token = random_token();
    conn.execute(
        "INSERT INTO join_tokens (token_hash, visit_id, visitor_id, expires_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            ctx.keys.secret_hash(PURPOSE, &token),
            visit.to_string(),
            visitor.to_string(),
            ts(expires_at),
            ts(ctx.now)
        ],
    )?;
    Ok(token)
}

/// The visitor holding `token` for `visit`. Unknown, other-visit and
/// expired tokens get the same answer, so a guesser learns nothing.
pub fn authenticate(conn: &Connection, ctx: &Ctx<'_>, visit: Uuid, token: &str) -> Result<Uuid> {
    let found = conn
        .query_row(
            "SELECT visit_id, visitor_id, expires_at FROM join_tokens WHERE token_hash = ?1",
            [ctx.keys.secret_hash(PURPOSE, token)],
            |r| Ok((uuid_at(r, 0)?, uuid_at(r, 1)?, from_ts(r.get(2)?))),
        )
        .optional()?;
    match found {
        Some((v, visitor, expires)) if v == visit && ctx.now < expires => Ok(visitor),
        _ => {
            tracing::warn!(visit_id = %visit, "signalling with an unknown, expired or other visit's join token");
            Err(Error::Unauthorized(
                "this join link is not valid for this visit, or the visit is over".into(),
            ))
        }
    }
}
