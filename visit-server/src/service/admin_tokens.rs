//! Administrator tokens: created on the command line, kept as keyed hashes.

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::{Ctx, Error, Result};
use crate::db::ts;
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

/// The name of the token's holder, if the token is valid.
pub fn authenticate(conn: &Connection, ctx: &Ctx<'_>, token: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT name FROM admin_tokens WHERE token_hash = ?1",
            [ctx.keys.secret_hash("admin", token)],
            |r| r.get(0),
        )
        .optional()?)
}
