//! Console sessions: a random token in a `Secure; HttpOnly;
//! SameSite=Strict` cookie, stored only as a keyed hash. A session ends
//! after [`IDLE`] without a request, after [`MAX_AGE`] in any case, at
//! sign-out, or when its account signs out everywhere, changes its password
//! or is disabled.

use chrono::Duration;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::{Ctx, Result, staff, uuid_at};
use crate::db::ts;
use crate::keys::random_token;

/// Inactivity that ends a session.
pub const IDLE: Duration = Duration::minutes(30);
/// The longest a session lasts, active or not.
pub const MAX_AGE: Duration = Duration::hours(12);

/// Start a session; the token goes in the cookie and nowhere else.
pub fn start(conn: &Connection, ctx: &Ctx<'_>, staff: Uuid, origin: &str) -> Result<String> {
    let token = random_token();
    conn.execute(
        "INSERT INTO staff_sessions (token_hash, staff_id, created_at, last_seen_at, origin) \
         VALUES (?1, ?2, ?3, ?3, ?4)",
        params![
            ctx.keys.secret_hash("staff_session", &token),
            staff.to_string(),
            ts(ctx.now),
            origin
        ],
    )?;
    Ok(token)
}

/// The signed-in member behind a cookie's token, if the session is still
/// open; with `touch`, marks it used now (a request a person made, not the
/// live board refreshing itself).
pub fn resume(
    conn: &Connection,
    ctx: &Ctx<'_>,
    token: &str,
    touch: bool,
) -> Result<Option<staff::Member>> {
    let hash = ctx.keys.secret_hash("staff_session", token);
    let row = conn
        .query_row(
            "SELECT s.staff_id FROM staff_sessions s JOIN staff m ON m.id = s.staff_id \
             WHERE s.token_hash = ?1 AND s.last_seen_at > ?2 AND s.created_at > ?3 \
             AND m.disabled_at IS NULL",
            params![hash, ts(ctx.now - IDLE), ts(ctx.now - MAX_AGE)],
            |r| uuid_at(r, 0),
        )
        .optional()?;
    let Some(id) = row else {
        return Ok(None);
    };
    if !touch {
        return Ok(Some(staff::get(conn, id)?));
    }
    conn.execute(
        "UPDATE staff_sessions SET last_seen_at = ?2 WHERE token_hash = ?1",
        params![hash, ts(ctx.now)],
    )?;
    Ok(Some(staff::get(conn, id)?))
}

/// Whether a session is still open, without marking it used (a live
/// board left open does not keep a session alive).
pub fn is_live(conn: &Connection, ctx: &Ctx<'_>, token: &str) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM staff_sessions s JOIN staff m ON m.id = s.staff_id \
             WHERE s.token_hash = ?1 AND s.last_seen_at > ?2 AND s.created_at > ?3 \
             AND m.disabled_at IS NULL",
            params![
                ctx.keys.secret_hash("staff_session", token),
                ts(ctx.now - IDLE),
                ts(ctx.now - MAX_AGE)
            ],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// End one session (sign-out).
pub fn end(conn: &Connection, ctx: &Ctx<'_>, token: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM staff_sessions WHERE token_hash = ?1",
        [ctx.keys.secret_hash("staff_session", token)],
    )?;
    Ok(())
}

/// End every session of an account (sign-out everywhere); how many ended.
pub fn end_all(conn: &Connection, staff: Uuid) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM staff_sessions WHERE staff_id = ?1",
        [staff.to_string()],
    )?)
}

/// Forget sessions that can no longer be resumed.
pub fn purge(conn: &Connection, ctx: &Ctx<'_>) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM staff_sessions WHERE last_seen_at <= ?1 OR created_at <= ?2",
        params![ts(ctx.now - IDLE), ts(ctx.now - MAX_AGE)],
    )?)
}
