//! Browser tokens: how a housing-unit terminal lets a browser be the
//! person's side of one of its unit's visits (the web page in person mode,
//! as a vendor's browser-based kiosk would run it).
//!
//! The terminal asks with its credential; the token is signed, not stored:
//! `person.<visit>.<terminal>.<expires>.<mac>`, where the MAC (a keyed hash
//! under the server key) also covers the terminal's current credential
//! hash. So a token works only for its visit, until the visit's end, and
//! only while the terminal keeps that credential (re-enrolment or
//! revocation voids it). The token is never logged.

use chrono::{DateTime, Utc};
use protocol::TerminalRole;
use protocol::signal::Side;
use protocol::terminal::BrowserToken;
use rusqlite::{Connection, OptionalExtension};
use uuid::Uuid;

use super::calls::{self, Caller};
use super::terminals::TerminalIdentity;
use super::{Ctx, Error, Result, opt_uuid_at, uuid_at};

/// `secret_hash` purpose, so a token can never pass as another secret.
const PURPOSE: &str = "browser-person-token";
/// Marks a browser token among `?token=` values (join tokens are base64url
/// and never contain a dot).
pub const PREFIX: &str = "person.";

/// Is `token` shaped like a browser token (rather than a join token)?
pub fn is_browser_token(token: &str) -> bool {
    token.starts_with(PREFIX)
}

fn mac(ctx: &Ctx<'_>, visit: Uuid, terminal: Uuid, expires: i64, credential_hash: &str) -> String {
    ctx.keys.secret_hash(
        PURPOSE,
        &format!("{visit}.{terminal}.{expires}.{credential_hash}"),
    )
}

/// The terminal's identity and current credential hash.
fn terminal(conn: &Connection, id: Uuid) -> Result<Option<(TerminalIdentity, String)>> {
    Ok(conn
        .query_row(
            "SELECT id, facility_id, role, housing_unit_id, credential_hash FROM terminals WHERE id = ?1",
            [id.to_string()],
            |r| {
                let role = match r.get::<_, String>(2)?.as_str() {
                    "unit" => TerminalRole::Unit,
                    _ => TerminalRole::Lobby,
                };
                Ok((
                    TerminalIdentity {
                        id: uuid_at(r, 0)?,
                        facility_id: uuid_at(r, 1)?,
                        role,
                        housing_unit_id: opt_uuid_at(r, 3)?,
                    },
                    r.get::<_, Option<String>>(4)?,
                ))
            },
        )
        .optional()?
        .and_then(|(t, h)| h.map(|h| (t, h))))
}

/// Make a token for the person's side of `visit`, for terminal `t` (a
/// housing-unit terminal of the person's unit; the visit active and not over).
pub fn issue(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    t: &TerminalIdentity,
    visit: Uuid,
) -> Result<BrowserToken> {
    let a = calls::admit(conn, ctx, &Caller::Terminal(t.clone()), visit)?;
    if a.side != Side::Person {
        return Err(Error::Forbidden(
            "only a housing-unit terminal of the person's unit can open the person's side".into(),
        ));
    }
    let Some((_, credential_hash)) = terminal(conn, t.id)? else {
        return Err(Error::Unauthorized(
            "this terminal has no credential".into(),
        ));
    };
    let expires = a.ends_at.timestamp();
    let token = format!(
        "{PREFIX}{visit}.{}.{expires}.{}",
        t.id,
        mac(ctx, visit, t.id, expires, &credential_hash)
    );
    tracing::info!(visit_id = %visit, terminal_id = %t.id, "browser token issued for the person's side");
    Ok(BrowserToken {
        page: format!("/join/{visit}?token={token}"),
        token,
        expires_at: a.ends_at,
    })
}

/// Byte-wise comparison in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The terminal a browser token speaks for, if it is valid for `visit` now.
/// Malformed, other-visit, expired and voided tokens get the same answer.
pub fn authenticate(
    conn: &Connection,
    ctx: &Ctx<'_>,
    visit: Uuid,
    token: &str,
) -> Result<TerminalIdentity> {
    let refused = || {
        tracing::warn!(visit_id = %visit, "a browser token that is malformed, expired, voided or for another visit");
        Error::Unauthorized(
            "this browser token is not valid for this visit, or the visit is over".into(),
        )
    };
    let parts: Vec<&str> = token
        .strip_prefix(PREFIX)
        .unwrap_or("")
        .split('.')
        .collect();
    let [v, t, exp, m] = parts[..] else {
        return Err(refused());
    };
    let (Ok(v), Ok(t), Ok(exp)) = (v.parse::<Uuid>(), t.parse::<Uuid>(), exp.parse::<i64>()) else {
        return Err(refused());
    };
    let expires: Option<DateTime<Utc>> = DateTime::from_timestamp(exp, 0);
    if v != visit || expires.is_none_or(|e| ctx.now >= e) {
        return Err(refused());
    }
    match terminal(conn, t)? {
        Some((identity, hash)) if same(m, &mac(ctx, v, t, exp, &hash)) => Ok(identity),
        _ => Err(refused()),
    }
}
