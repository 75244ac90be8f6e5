//! Administrator tokens: created on the command line, kept as keyed hashes.

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use protocol::admin::AdminToken;

use super::{Ctx, Error, Page, Result, uuid_at};
use crate::db::{from_ts, ts};
use crate::keys::random_token;

/// Create a token for `name` and return it; it is shown only this once.
pub fn create(conn: &Connection, ctx: &Ctx<'_>, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 {
        return Err(Error::Invalid(
            "an admin token needs a name of 1 to 64 characters (who holds it)".into(),
        ));
    }
    let token = random_token();
    conn.execute(
        "INSERT INTO admin_tokens (id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            Uuid::new_v4().to_string(),
            name,
            ctx.keys.secret_hash("admin", &token),
            ts(ctx.now)
        ],
    )?;
    tracing::info!(name, actor = ctx.actor, "admin token created");
    Ok(token)
}

/// The name of the token's holder, if the token is valid and not revoked.
pub fn authenticate(conn: &Connection, ctx: &Ctx<'_>, token: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT name FROM admin_tokens WHERE token_hash = ?1 AND revoked_at IS NULL",
            [ctx.keys.secret_hash("admin", token)],
            |r| r.get(0),
        )
        .optional()?)
}

fn token_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AdminToken> {
    Ok(AdminToken {
        id: uuid_at(r, 0)?,
        name: r.get(1)?,
        created_at: from_ts(r.get(2)?),
        revoked_at: r.get::<_, Option<i64>>(3)?.map(from_ts),
    })
}

/// Every admin token by name: id, holder and dates, never the hash.
pub fn list(conn: &Connection, page: Page) -> Result<Vec<AdminToken>> {
    let mut stmt = conn.prepare(
        "SELECT id, name, created_at, revoked_at FROM admin_tokens
         ORDER BY name, created_at LIMIT ?1 OFFSET ?2",
    )?;
    let rows = stmt.query_map(params![page.limit, page.offset], token_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Revoke a token: it is refused from its next call on.
pub fn revoke(conn: &Connection, ctx: &Ctx<'_>, id: Uuid) -> Result<AdminToken> {
    let get = |c: &Connection| {
        c.query_row(
            "SELECT id, name, created_at, revoked_at FROM admin_tokens WHERE id = ?1",
            [id.to_string()],
            token_from_row,
        )
        .optional()?
        .ok_or_else(|| Error::not_found("admin token", id))
    };
    if get(conn)?.revoked_at.is_some() {
        return Err(Error::Conflict(
            "this admin token is already revoked".into(),
        ));
    }
    conn.execute(
        "UPDATE admin_tokens SET revoked_at = ?2 WHERE id = ?1",
        params![id.to_string(), ts(ctx.now)],
    )?;
    let t = get(conn)?;
    tracing::warn!(token_id = %id, name = %t.name, actor = ctx.actor, "admin token revoked");
    Ok(t)
}
