//! Staff accounts of the console: user name and password (Argon2id), an
//! optional TOTP second factor (sealed with the server key), a lockout
//! after repeated wrong passwords or codes, and a role.

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::{Ctx, Error, Result, facilities, uuid_at};
use crate::db::{from_ts, ts};
use crate::totp;

/// Wrong passwords (or codes) in a row before the account locks.
pub const MAX_FAILURES: i64 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT: Duration = Duration::minutes(15);

/// What a staff member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Facility settings, terminals, staff accounts, the audit log, and
    /// everything an officer does.
    Administrator,
    /// Visits, approvals, people, sanctions, monitoring.
    Officer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Officer => "officer",
        }
    }

    pub fn parse(s: &str) -> Result<Role> {
        match s {
            "administrator" => Ok(Role::Administrator),
            "officer" => Ok(Role::Officer),
            _ => Err(Error::Invalid(format!(
                "unknown role {s:?}: administrator or officer"
            ))),
        }
    }
}

/// A staff account (never its password hash or TOTP secret).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Member {
    pub id: Uuid,
    pub facility_id: Uuid,
    pub username: String,
    pub name: String,
    pub role: Role,
    pub has_totp: bool,
    /// The facility requires a second factor of administrators and this
    /// one has none yet: they may only set it up.
    pub must_set_up_totp: bool,
    pub locked_until: Option<DateTime<Utc>>,
    pub disabled: bool,
}

const MEMBER_COLUMNS: &str = "s.id, s.facility_id, s.username, s.name, s.role, \
     s.totp_sealed IS NOT NULL, f.require_totp_for_admins, s.locked_until, s.disabled_at IS NOT NULL";

fn member(r: &rusqlite::Row<'_>) -> rusqlite::Result<Member> {
    let role: String = r.get(4)?;
    let role = if role == "administrator" {
        Role::Administrator
    } else {
        Role::Officer
    };
    let has_totp: bool = r.get(5)?;
    let required: bool = r.get(6)?;
    Ok(Member {
        id: uuid_at(r, 0)?,
        facility_id: uuid_at(r, 1)?,
        username: r.get(2)?,
        name: r.get(3)?,
        role,
        has_totp,
        must_set_up_totp: required && role == Role::Administrator && !has_totp,
        locked_until: r.get::<_, Option<i64>>(7)?.map(from_ts),
        disabled: r.get(8)?,
    })
}

fn hash_password(password: &str) -> String {
    Argon2::default()
        .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
        .expect("Argon2 with default parameters cannot fail")
        .to_string()
}

fn password_matches(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

fn check_password_rules(password: &str) -> Result<()> {
    if password.chars().count() < 12 || password.len() > 256 {
        return Err(Error::Invalid(
            "a staff password must be 12 to 256 characters long".into(),
        ));
    }
    Ok(())
}

/// A new account.
pub fn create(
    conn: &Connection,
    ctx: &Ctx<'_>,
    facility: Uuid,
    username: &str,
    name: &str,
    role: Role,
    password: &str,
) -> Result<Member> {
    facilities::get(conn, facility)?;
    let username = username.trim().to_lowercase();
    let name = name.trim();
    if username.is_empty()
        || username.len() > 64
        || !username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return Err(Error::Invalid(
            "a user name is 1 to 64 letters, digits, dots, dashes or underscores".into(),
        ));
    }
    if name.is_empty() || name.len() > 100 {
        return Err(Error::Invalid("a staff member needs a name".into()));
    }
    check_password_rules(password)?;
    let id = Uuid::new_v4();
    let inserted = conn.execute(
        "INSERT INTO staff (id, facility_id, username, name, role, password_hash, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (username) DO NOTHING",
        params![
            id.to_string(),
            facility.to_string(),
            username,
            name,
            role.as_str(),
            hash_password(password),
            ts(ctx.now)
        ],
    )?;
    if inserted == 0 {
        return Err(Error::Conflict(format!(
            "the user name {username:?} is taken"
        )));
    }
    tracing::info!(staff = %username, role = role.as_str(), facility = %facility, actor = ctx.actor, "staff account created");
    get(conn, id)
}

pub fn get(conn: &Connection, id: Uuid) -> Result<Member> {
    conn.query_row(
        &format!(
            "SELECT {MEMBER_COLUMNS} FROM staff s JOIN facilities f ON f.id = s.facility_id \
             WHERE s.id = ?1"
        ),
        [id.to_string()],
        member,
    )
    .optional()?
    .ok_or_else(|| Error::not_found("staff member", id))
}

/// The account and facility of a user name, if it exists (a refused
/// sign-in goes into that facility's audit log).
pub fn find(conn: &Connection, username: &str) -> Result<Option<(Uuid, Uuid)>> {
    Ok(conn
        .query_row(
            "SELECT id, facility_id FROM staff WHERE username = ?1",
            [username.trim().to_lowercase()],
            |r| Ok((uuid_at(r, 0)?, uuid_at(r, 1)?)),
        )
        .optional()?)
}

/// A facility's staff, by name.
pub fn list(conn: &Connection, facility: Uuid) -> Result<Vec<Member>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {MEMBER_COLUMNS} FROM staff s JOIN facilities f ON f.id = s.facility_id \
         WHERE s.facility_id = ?1 ORDER BY s.name"
    ))?;
    let rows = stmt.query_map([facility.to_string()], member)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Why a sign-in was refused. The words never say whether the user name
/// exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Unknown user name or wrong password (or a disabled account).
    WrongPassword,
    /// The account has a second factor and no code (or a wrong one) came.
    NeedsCode,
    /// Too many wrong tries: locked until then.
    Locked(DateTime<Utc>),
}

/// What a sign-in checks: id, password hash, sealed TOTP secret, last
/// TOTP step, failures in a row, locked until, disabled.
type Credentials = (
    String,
    String,
    Option<Vec<u8>>,
    Option<i64>,
    i64,
    Option<i64>,
    bool,
);

/// Check a user name, password and (if the account has one) TOTP code.
/// Failures count towards the lockout; success resets the count.
pub fn sign_in(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    username: &str,
    password: &str,
    code: &str,
) -> Result<std::result::Result<Member, Refused>> {
    let username = username.trim().to_lowercase();
    // IMMEDIATE: it reads then writes; a deferred one could fail busy
    // when another writer (the clock tick) came in between.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let row: Option<Credentials> = tx
        .query_row(
            "SELECT id, password_hash, totp_sealed, totp_last_step, failed_logins, locked_until, \
             disabled_at IS NOT NULL FROM staff WHERE username = ?1",
            [&username],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            },
        )
        .optional()?;
    let Some((id, hash, sealed, last_step, failures, locked_until, disabled)) = row else {
        // The same work as for a real account, so timing does not tell.
        let _ = password_matches(&DUMMY_HASH, password);
        return Ok(Err(Refused::WrongPassword));
    };
    if let Some(until) = locked_until.map(from_ts).filter(|u| *u > ctx.now) {
        return Ok(Err(Refused::Locked(until)));
    }
    let password_ok = password_matches(&hash, password) && !disabled;
    // The second factor is decided on the code itself: only a right code,
    // newer than the last one used, lets an account that has one in.
    let code = match (&sealed, password_ok) {
        (Some(sealed), true) => code_step(ctx, sealed, code, last_step)?,
        (Some(_), false) => Code::Wrong,
        (None, _) => Code::NotNeeded,
    };
    if password_ok && matches!(code, Code::Missing) {
        // Asked for the code: not a failed try yet.
        return Ok(Err(Refused::NeedsCode));
    }
    let ok = password_ok && matches!(code, Code::Good(_) | Code::NotNeeded);
    let step = match code {
        Code::Good(step) => Some(step),
        _ => last_step,
    };
    if !ok {
        let asked_for_code = sealed.is_some() && password_ok;
        let refused = count_failure(&tx, ctx, &id, failures, asked_for_code)?;
        tx.commit()?;
        tracing::warn!(staff = %username, failures = failures + 1, "console sign-in refused");
        return Ok(Err(refused));
    }
    tx.execute(
        "UPDATE staff SET failed_logins = 0, locked_until = NULL, totp_last_step = ?2 WHERE id = ?1",
        params![id, step],
    )?;
    tx.commit()?;
    let id = Uuid::parse_str(&id).map_err(|_| Error::Internal)?;
    Ok(Ok(get(conn, id)?))
}

/// Count a failed try (locking the account at [`MAX_FAILURES`]) and say
/// what the person is told.
fn count_failure(
    tx: &Connection,
    ctx: &Ctx<'_>,
    id: &str,
    failures: i64,
    asked_for_code: bool,
) -> Result<Refused> {
    let failures = failures + 1;
    let locked = (failures >= MAX_FAILURES).then(|| ctx.now + LOCKOUT);
    tx.execute(
        "UPDATE staff SET failed_logins = ?2, locked_until = ?3 WHERE id = ?1",
        params![
            id,
            if locked.is_some() { 0 } else { failures },
            locked.map(ts)
        ],
    )?;
    Ok(match locked {
        Some(until) => Refused::Locked(until),
        None if asked_for_code => Refused::NeedsCode,
        None => Refused::WrongPassword,
    })
}

/// What the TOTP code of a sign-in was.
enum Code {
    /// The account has no second factor.
    NotNeeded,
    Missing,
    Wrong,
    /// Right, at this step (newer than the last one used).
    Good(i64),
}

fn code_step(ctx: &Ctx<'_>, sealed: &[u8], code: &str, last_step: Option<i64>) -> Result<Code> {
    let secret = ctx.keys.unseal(sealed).ok_or(Error::Internal)?;
    let secret = totp::from_base32(&secret).ok_or(Error::Internal)?;
    Ok(match totp::verify(&secret, code, ctx.now.timestamp()) {
        Some(step) if Some(step) > last_step => Code::Good(step),
        _ if code.trim().is_empty() => Code::Missing,
        _ => Code::Wrong,
    })
}

/// A real Argon2id hash of a random password, checked against when the
/// user name is unknown.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password(&crate::keys::random_token()));

/// A TOTP secret offered to a staff member, not yet confirmed.
pub fn new_totp_secret() -> String {
    totp::base32(&totp::new_secret())
}

/// Turn on the second factor once the staff member typed a right code
/// for `secret` (base32, as shown to them).
pub fn confirm_totp(
    conn: &Connection,
    ctx: &Ctx<'_>,
    id: Uuid,
    secret: &str,
    code: &str,
) -> Result<()> {
    let bytes = totp::from_base32(secret)
        .filter(|b| b.len() >= 16)
        .ok_or_else(|| Error::Invalid("the setup key is malformed; start again".into()))?;
    let on: bool = conn
        .query_row(
            "SELECT totp_sealed IS NOT NULL FROM staff WHERE id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| Error::not_found("staff member", id))?;
    if on {
        return Err(Error::Conflict(
            "the second factor is already on; it cannot be replaced from here".into(),
        ));
    }
    let step = totp::verify(&bytes, code, ctx.now.timestamp()).ok_or_else(|| {
        Error::Invalid(
            "that code is not right for this key: check the phone's clock and type the code shown now"
                .into(),
        )
    })?;
    conn.execute(
        "UPDATE staff SET totp_sealed = ?2, totp_last_step = ?3 WHERE id = ?1",
        params![id.to_string(), ctx.keys.seal(secret), step],
    )?;
    tracing::info!(staff = %id, "second factor turned on");
    Ok(())
}

/// Check a member's current password before a change to their own
/// credentials (someone at a console left open cannot take the account).
pub fn check_current_password(conn: &Connection, id: Uuid, password: &str) -> Result<()> {
    let hash: String = conn
        .query_row(
            "SELECT password_hash FROM staff WHERE id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| Error::not_found("staff member", id))?;
    if password_matches(&hash, password) {
        Ok(())
    } else {
        Err(Error::Unauthorized(
            "your current password is not right; nothing was changed".into(),
        ))
    }
}

/// Change a password (the member's own, or an administrator resetting it);
/// every session of the account ends.
pub fn set_password(conn: &Connection, id: Uuid, password: &str) -> Result<()> {
    check_password_rules(password)?;
    let n = conn.execute(
        "UPDATE staff SET password_hash = ?2, failed_logins = 0, locked_until = NULL WHERE id = ?1",
        params![id.to_string(), hash_password(password)],
    )?;
    if n == 0 {
        return Err(Error::not_found("staff member", id));
    }
    super::sessions::end_all(conn, id)?;
    Ok(())
}

/// Disable or re-enable an account; disabling ends its sessions.
pub fn set_disabled(conn: &Connection, ctx: &Ctx<'_>, id: Uuid, disabled: bool) -> Result<()> {
    let n = conn.execute(
        "UPDATE staff SET disabled_at = ?2 WHERE id = ?1",
        params![id.to_string(), disabled.then(|| ts(ctx.now))],
    )?;
    if n == 0 {
        return Err(Error::not_found("staff member", id));
    }
    if disabled {
        super::sessions::end_all(conn, id)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_is_a_real_hash_so_unknown_names_cost_the_same() {
        assert!(PasswordHash::new(&DUMMY_HASH).is_ok());
        assert!(!password_matches(&DUMMY_HASH, "anything"));
    }

    #[test]
    fn base32_round_trips() {
        let secret = totp::new_secret();
        assert_eq!(totp::from_base32(&totp::base32(&secret)).unwrap(), secret);
    }
}
