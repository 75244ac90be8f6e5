//! Messages to visitors: queued in the same transaction as the change they
//! announce, sent later by [`crate::mail`] when SMTP is configured.
//!
//! A confirmation carries the visit's PIN. The stored body holds the
//! placeholder `{PIN}`; the PIN itself is sealed with the server key and
//! erased once the message is handed to the mail server, so neither the
//! database nor the admin API ever shows it in plain text. A remote
//! visitor's join token is kept the same way (`{TOKEN}`, `sealed_token`),
//! inside a link whose base (`{PUBLIC_URL}`) is filled in at delivery, so a
//! changed address applies to mail still waiting.

use protocol::admin::OutboxMessage;
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::{Ctx, Result, opt_uuid_at, uuid_at};
use crate::db::{from_ts, ts};

/// Where the PIN goes in a stored body.
pub const PIN_PLACEHOLDER: &str = "{PIN}";
/// Where the join token goes in a stored body.
pub const TOKEN_PLACEHOLDER: &str = "{TOKEN}";
/// Where the server's public address goes in a stored body.
pub const PUBLIC_URL_PLACEHOLDER: &str = "{PUBLIC_URL}";

/// A message ready for the mail server.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: Uuid,
    pub to: String,
    pub subject: String,
    /// Body with the PIN, join token and public address filled in.
    pub body: String,
}

/// A message to queue.
#[derive(Debug, Clone, Copy)]
pub struct NewMessage<'a> {
    /// `confirmation` or `cancellation`.
    pub kind: &'a str,
    pub visit_id: Option<Uuid>,
    pub to: &'a str,
    pub subject: &'a str,
    /// With [`PIN_PLACEHOLDER`] where the PIN goes, if there is one.
    pub body: &'a str,
    /// Sealed until sent.
    pub pin: Option<&'a str>,
    /// A join token, sealed until sent, with [`TOKEN_PLACEHOLDER`] where it goes.
    pub token: Option<&'a str>,
}

pub fn queue(conn: &Connection, ctx: &Ctx<'_>, m: NewMessage<'_>) -> Result<Uuid> {
    let id = Uuid::new_v4();
    conn.execute(
        "INSERT INTO outbox (id, kind, visit_id, to_address, subject, body, sealed_pin,
             sealed_token, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            id.to_string(),
            m.kind,
            m.visit_id.map(|v| v.to_string()),
            m.to,
            m.subject,
            m.body,
            m.pin.map(|p| ctx.keys.seal(p)),
            m.token.map(|t| ctx.keys.seal(t)),
            ts(ctx.now)
        ],
    )?;
    Ok(id)
}

/// The newest messages first.
pub fn list(conn: &Connection, limit: u32) -> Result<Vec<OutboxMessage>> {
    let mut stmt = conn.prepare(
        "SELECT id, kind, visit_id, to_address, subject, body, created_at, sent_at, last_error
         FROM outbox ORDER BY created_at DESC, rowid DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        let body: String = r.get(5)?;
        Ok(OutboxMessage {
            id: uuid_at(r, 0)?,
            kind: r.get(1)?,
            visit_id: opt_uuid_at(r, 2)?,
            to: r.get(3)?,
            subject: r.get(4)?,
            body: body
                .replace(PIN_PLACEHOLDER, "(sealed; sent only to the visitor)")
                .replace(TOKEN_PLACEHOLDER, "(sealed)"),
            created_at: from_ts(r.get(6)?),
            sent_at: r.get::<_, Option<i64>>(7)?.map(from_ts),
            last_error: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Unsent messages due for a (re)try, oldest first, with their PINs and
/// tokens unsealed and links pointing at `public_url`.
pub fn due(
    conn: &Connection,
    ctx: &Ctx<'_>,
    limit: u32,
    public_url: &str,
) -> Result<Vec<Outgoing>> {
    let mut stmt = conn.prepare(
        "SELECT id, to_address, subject, body, sealed_pin, sealed_token FROM outbox
         WHERE sent_at IS NULL AND next_attempt_at <= ?1 ORDER BY created_at LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![ts(ctx.now), limit], |r| {
        Ok((
            uuid_at(r, 0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<Vec<u8>>>(4)?,
            r.get::<_, Option<Vec<u8>>>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, to, subject, body, sealed_pin, sealed_token) = row?;
        let unseal = |sealed: Option<Vec<u8>>| match sealed.map(|s| ctx.keys.unseal(&s)) {
            Some(Some(secret)) => Some(secret),
            Some(None) => {
                tracing::error!(message_id = %id, "cannot unseal the secret of a queued message (was the server key replaced?)");
                None
            }
            None => Some(String::new()),
        };
        let (Some(pin), Some(token)) = (unseal(sealed_pin), unseal(sealed_token)) else {
            continue;
        };
        out.push(Outgoing {
            id,
            to,
            subject,
            body: body
                .replace(PIN_PLACEHOLDER, &pin)
                .replace(TOKEN_PLACEHOLDER, &token)
                .replace(PUBLIC_URL_PLACEHOLDER, public_url.trim_end_matches('/')),
        });
    }
    Ok(out)
}

/// The mail server took the message: erase its sealed PIN and token.
pub fn mark_sent(conn: &Connection, ctx: &Ctx<'_>, id: Uuid) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET sent_at = ?2, sealed_pin = NULL, sealed_token = NULL, last_error = NULL,
             attempts = attempts + 1
         WHERE id = ?1",
        params![id.to_string(), ts(ctx.now)],
    )?;
    Ok(())
}

/// The mail server refused or was unreachable: retry after 2^attempts
/// seconds, at most an hour.
pub fn mark_failed(conn: &Connection, ctx: &Ctx<'_>, id: Uuid, error: &str) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2,
             next_attempt_at = ?3 + 1000 * min(3600, 1 << min(attempts + 1, 12))
         WHERE id = ?1",
        params![id.to_string(), error, ts(ctx.now)],
    )?;
    Ok(())
}
