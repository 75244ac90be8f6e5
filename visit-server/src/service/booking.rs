//! Booking a visit, in the order the rules apply: the facts and the
//! facility's rules, then nobody double-booked, then a PIN unique that day,
//! then the rows, then one confirmation per visitor who gets one.
//!
//! One transaction from first read to last write, so two bookings racing
//! for the last lobby seat cannot both pass the conflict check. The words of
//! the confirmations are composed in [`letters`]; this module only queues
//! them with their secrets.

use chrono::{DateTime, NaiveDate, Utc};
use protocol::admin::{BookedVisit, Charge, JoinToken, NewVisit, Person, Restriction, Visitor};
use rand::Rng;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::json;
use uuid::Uuid;

use super::facilities::FacilityRow;
use super::letters::{self, Booked};
use super::visits::{self, charge_db};
use super::{Ctx, Error, Result, facilities, join_tokens, outbox, people, sanctions, terminals};
use crate::db::{from_ts, ts};
use crate::domain::Refusal;
use crate::domain::booking::{Eligibility, VisitorFacts, check_eligibility, peak_concurrency};
use crate::domain::policy::Kind;
use crate::domain::status::Status;
use crate::keys::pin_verifier;

/// A request that passed the facility's rules, with what it was checked
/// against.
pub(super) struct Checked<'r> {
    pub(super) req: &'r NewVisit,
    pub(super) person: Person,
    pub(super) facility: FacilityRow,
    pub(super) visitors: Vec<Visitor>,
    pub(super) kind: Kind,
    pub(super) visit_date: NaiveDate,
    pub(super) end: DateTime<Utc>,
    /// A visit being moved: it does not conflict with itself.
    pub(super) moving: Option<Uuid>,
}

/// Book a visit: every rule, then a unique PIN, then the confirmation.
pub fn book(conn: &mut Connection, ctx: &Ctx<'_>, req: &NewVisit) -> Result<BookedVisit> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let checked = check_rules(&tx, ctx, req, None)?;
    let (pin, pin_hash) = check_conflicts_and_pin(&tx, ctx, &checked)?;
    let id = insert(&tx, ctx, &checked, &pin_hash)?;
    let letters = letters::confirmations(&booked(&checked, id), checked.visitors.len());
    let join_tokens = queue_confirmations(&tx, ctx, &checked, id, &pin, &letters)?;
    facilities::bump_schedule(&tx, checked.facility.id)?;
    let visit = visits::get(&tx, id)?;
    tx.commit()?;
    tracing::info!(visit_id = %id, facility_id = %checked.facility.id, person_id = %checked.person.id, kind = checked.kind.as_db(), start = %req.start, actor = ctx.actor, "visit booked");
    Ok(BookedVisit {
        visit,
        pin,
        join_tokens,
    })
}

/// No conflict, then a PIN unique that day and its verifier.
pub(super) fn check_conflicts_and_pin(
    conn: &Connection,
    ctx: &Ctx<'_>,
    checked: &Checked<'_>,
) -> Result<(String, String)> {
    let refused = |r| refused(ctx, checked, r);
    check_conflicts(conn, checked).map_err(|e| match e {
        Error::Refused(r) => refused(r),
        other => other,
    })?;
    allocate_pin(conn, ctx, checked)?.ok_or_else(|| refused(Refusal::NoPinAvailable))
}

fn refused(ctx: &Ctx<'_>, c: &Checked<'_>, r: Refusal) -> Error {
    tracing::info!(person_id = %c.person.id, facility_id = %c.facility.id, code = r.code(), actor = ctx.actor, "booking refused");
    Error::Refused(r)
}

/// Gather the person, the facility and the visitors, and ask `domain`
/// whether these visitors may visit at this slot. `moving` is the visit
/// being rescheduled, if any.
pub(super) fn check_rules<'r>(
    conn: &Connection,
    ctx: &Ctx<'_>,
    req: &'r NewVisit,
    moving: Option<Uuid>,
) -> Result<Checked<'r>> {
    let person = people::get_person(conn, req.person_id)?;
    let facility = facilities::get(conn, person.facility_id)?;
    let kind = Kind::from_wire(req.kind);
    let visit_date = req.start.with_timezone(&facility.tz).date_naive();
    let mut visitors = Vec::with_capacity(req.visitor_ids.len());
    let mut facts = Vec::with_capacity(req.visitor_ids.len());
    for &vid in &req.visitor_ids {
        let v = people::get_visitor(conn, vid)?;
        facts.push(VisitorFacts {
            id: vid,
            photo_id_verified: v.photo_id_verified,
            approved: people::is_approved(conn, person.id, vid)?,
            date_of_birth: v.date_of_birth,
            sanctioned_until: sanctions::restriction(conn, vid, &[ctx.now, req.start])?,
        });
        visitors.push(v);
    }
    let mut checked = Checked {
        req,
        person,
        facility,
        visitors,
        kind,
        visit_date,
        end: req.start,
        moving,
    };
    let refused = |r| refused(ctx, &checked, r);
    check_eligibility(&Eligibility {
        purpose: req.purpose,
        visitors: &facts,
        max_visitors: checked.facility.max_visitors,
        no_child_contact: people::has_restriction(&checked.person, Restriction::NoChildContact),
        visit_date,
    })
    .map_err(refused)?;
    let end = checked
        .facility
        .policy(kind)
        .check_slot(checked.facility.tz, req.start, ctx.now)
        .map_err(refused)?;
    checked.end = end;
    Ok(checked)
}

/// First come, first served: nobody may be in two visits at once, and an
/// on-site visit needs a free lobby terminal.
fn check_conflicts(conn: &Connection, c: &Checked<'_>) -> Result<()> {
    let (start, end) = (c.req.start, c.end);
    if person_busy(conn, c.person.id, start, end, c.moving)? {
        return Err(Refusal::PersonBusy.into());
    }
    for &vid in &c.req.visitor_ids {
        if visitor_busy(conn, vid, start, end, c.moving)? {
            return Err(Refusal::VisitorBusy { visitor: vid }.into());
        }
    }
    if c.kind == Kind::Onsite {
        check_lobby_free(conn, c.facility.id, start, end, c.moving)?;
    }
    Ok(())
}

/// The id a conflict query leaves out (none: a value no id has).
fn leave_out(moving: Option<Uuid>) -> String {
    moving.map(|m| m.to_string()).unwrap_or_default()
}

/// Whether the person has another active visit overlapping `[start, end)`.
pub(super) fn person_busy(
    conn: &Connection,
    person: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    moving: Option<Uuid>,
) -> Result<bool> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT 1 FROM visits WHERE person_id = ?1 AND status IN {}
                   AND starts_at < ?2 AND ends_at > ?3 AND id != ?4",
                Status::ACTIVE_SQL
            ),
            params![person.to_string(), ts(end), ts(start), leave_out(moving)],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Whether the visitor has another active visit overlapping `[start, end)`.
fn visitor_busy(
    conn: &Connection,
    visitor: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    moving: Option<Uuid>,
) -> Result<bool> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT 1 FROM visit_visitors vv JOIN visits v ON v.id = vv.visit_id
                 WHERE vv.visitor_id = ?1 AND v.status IN {}
                   AND v.starts_at < ?2 AND v.ends_at > ?3 AND v.id != ?4",
                Status::ACTIVE_SQL
            ),
            params![visitor.to_string(), ts(end), ts(start), leave_out(moving)],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// A lobby terminal free for an on-site visit over `[start, end)`, or the refusal.
pub(super) fn check_lobby_free(
    conn: &Connection,
    facility: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    moving: Option<Uuid>,
) -> Result<()> {
    let lobbies = terminals::lobby_count(conn, facility)?;
    if lobbies == 0 {
        return Err(Refusal::NoLobbyTerminals.into());
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT starts_at, ends_at FROM visits
         WHERE facility_id = ?1 AND kind = 'onsite' AND status IN {}
           AND starts_at < ?2 AND ends_at > ?3 AND id != ?4",
        Status::ACTIVE_SQL
    ))?;
    let others = stmt
        .query_map(
            params![facility.to_string(), ts(end), ts(start), leave_out(moving)],
            |r| Ok((from_ts(r.get(0)?), from_ts(r.get(1)?))),
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if peak_concurrency(start, end, &others) >= lobbies {
        return Err(Refusal::LobbyFull.into());
    }
    Ok(())
}

fn random_pin(len: u8) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// A PIN unique among the facility's visits that day, with its verifier;
/// `None` when none could be found. With 6 digits and even 10,000 visits a
/// day a retry is rare; 64 failures mean the space is exhausted.
pub(super) fn allocate_pin(
    conn: &Connection,
    ctx: &Ctx<'_>,
    c: &Checked<'_>,
) -> Result<Option<(String, String)>> {
    let day_key = ctx.keys.day_key(c.facility.id, c.visit_date);
    for _ in 0..64 {
        let pin = random_pin(c.facility.pin_length);
        let hash = pin_verifier(&day_key, &pin);
        let taken = conn
            .query_row(
                "SELECT 1 FROM visits WHERE facility_id = ?1 AND local_date = ?2 AND pin_hash = ?3",
                params![c.facility.id.to_string(), c.visit_date.to_string(), hash],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if !taken {
            return Ok(Some((pin, hash)));
        }
    }
    Ok(None)
}

/// Write the visit, its visitors in order, and the `booked` history line.
fn insert(conn: &Connection, ctx: &Ctx<'_>, c: &Checked<'_>, pin_hash: &str) -> Result<Uuid> {
    let id = Uuid::new_v4();
    let price_cents = c.facility.policy(c.kind).price_cents;
    let charge = if price_cents == 0 {
        Charge::Free
    } else {
        Charge::Charged
    };
    conn.execute(
        "INSERT INTO visits (id, facility_id, person_id, kind, starts_at, ends_at, local_date,
            status, pin_hash, price_cents, charge, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
        params![
            id.to_string(),
            c.facility.id.to_string(),
            c.person.id.to_string(),
            c.kind.as_db(),
            ts(c.req.start),
            ts(c.end),
            c.visit_date.to_string(),
            Status::Scheduled.as_db(),
            pin_hash,
            price_cents,
            charge_db(charge),
            ts(ctx.now)
        ],
    )?;
    for (pos, vid) in c.req.visitor_ids.iter().enumerate() {
        conn.execute(
            "INSERT INTO visit_visitors (visit_id, visitor_id, position) VALUES (?1, ?2, ?3)",
            params![id.to_string(), vid.to_string(), pos as i64],
        )?;
    }
    visits::record(
        conn,
        ctx,
        id,
        "booked",
        (None, Some(Status::Scheduled)),
        json!({
            "kind": c.kind.as_db(), "start": c.req.start, "end": c.end,
            "visitors": c.req.visitor_ids, "price_cents": price_cents,
        }),
    )?;
    Ok(id)
}

/// What the letters about this booking say.
pub(super) fn booked<'a>(c: &'a Checked<'_>, id: Uuid) -> Booked<'a> {
    Booked {
        visit_id: id,
        kind: c.kind,
        person_name: &c.person.name,
        facility_name: &c.facility.name,
        tz: c.facility.tz,
        start: c.req.start,
        end: c.end,
        visitor_early: c.facility.policy(c.kind).visitor_early,
        // A new booking is recorded; staff may make it confidential later.
        confidential: false,
    }
}

/// Queue `letters` (one per visitor who gets one, as
/// [`letters::confirmations`] writes them), each with the PIN (the booking
/// visitor's) and a fresh join token (remote visits) sealed beside it.
/// Returns the join tokens, for the caller to hand on.
pub(super) fn queue_confirmations(
    conn: &Connection,
    ctx: &Ctx<'_>,
    c: &Checked<'_>,
    id: Uuid,
    pin: &str,
    letters: &[letters::Letter],
) -> Result<Vec<JoinToken>> {
    let mut tokens = Vec::new();
    for (pos, (letter, v)) in letters.iter().zip(&c.visitors).enumerate() {
        let token = match c.kind {
            Kind::Remote => Some(join_tokens::create(conn, ctx, id, v.id, c.end)?),
            Kind::Onsite => None,
        };
        if let Some(t) = &token {
            tokens.push(JoinToken {
                visitor_id: v.id,
                token: t.clone(),
            });
        }
        outbox::queue(
            conn,
            ctx,
            outbox::NewMessage {
                kind: "confirmation",
                visit_id: Some(id),
                to: &v.email,
                subject: &letter.subject,
                body: &letter.body,
                pin: (pos == 0).then_some(pin),
                token: token.as_deref(),
            },
        )?;
    }
    Ok(tokens)
}
