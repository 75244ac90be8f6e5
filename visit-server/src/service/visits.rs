//! Booking, status changes, cancellation and termination of visits.
//!
//! Every change appends to `visit_history` in the same transaction, and bumps
//! the facility's schedule version when terminals would see it. The history
//! alone reconstructs what happened to a visit.

use chrono::{DateTime, NaiveDate, Utc};
use protocol::admin::{
    BookedVisit, CancelVisit, CancelledBy, Charge, HistoryEntry, NewVisit, Restriction,
    TerminateVisit, Visit, VisitRecord,
};
use rand::Rng;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde_json::json;
use uuid::Uuid;

use super::{
    Ctx, Error, Result, facilities, join_tokens, outbox, people, sanctions, terminals, uuid_at,
};
use crate::db::{from_ts, ts};
use crate::domain::Refusal;
use crate::domain::booking::{Eligibility, VisitorFacts, check_eligibility, peak_concurrency};
use crate::domain::cancel::charge_after_cancel;
use crate::domain::names::initials;
use crate::domain::policy::Kind;
use crate::domain::status::{Status, Trigger};
use crate::keys::pin_verifier;

/// A visit as stored.
#[derive(Debug, Clone)]
pub struct VisitRow {
    pub id: Uuid,
    pub facility_id: Uuid,
    pub person_id: Uuid,
    pub kind: Kind,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub local_date: NaiveDate,
    pub status: Status,
    pub price_cents: u32,
    pub charge: Charge,
}

fn charge_db(c: Charge) -> &'static str {
    match c {
        Charge::Free => "free",
        Charge::Charged => "charged",
        Charge::Credited => "credited",
        Charge::Forfeited => "forfeited",
        Charge::Waived => "waived",
    }
}

fn charge_from_db(s: &str) -> Charge {
    match s {
        "charged" => Charge::Charged,
        "credited" => Charge::Credited,
        "forfeited" => Charge::Forfeited,
        "waived" => Charge::Waived,
        _ => Charge::Free,
    }
}

const VISIT_COLUMNS: &str = "id, facility_id, person_id, kind, starts_at, ends_at, local_date, \
                             status, price_cents, charge";

fn visit_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VisitRow> {
    let bad = |idx: usize, what: String| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, what.into())
    };
    let kind: String = r.get(3)?;
    let date: String = r.get(6)?;
    let status: String = r.get(7)?;
    Ok(VisitRow {
        id: uuid_at(r, 0)?,
        facility_id: uuid_at(r, 1)?,
        person_id: uuid_at(r, 2)?,
        kind: Kind::from_db(&kind).ok_or_else(|| bad(3, kind.clone()))?,
        start: from_ts(r.get(4)?),
        end: from_ts(r.get(5)?),
        local_date: date.parse().map_err(|_| bad(6, date.clone()))?,
        status: Status::from_db(&status).ok_or_else(|| bad(7, status.clone()))?,
        price_cents: r.get(8)?,
        charge: charge_from_db(&r.get::<_, String>(9)?),
    })
}

pub fn get_row(conn: &Connection, id: Uuid) -> Result<VisitRow> {
    conn.query_row(
        &format!("SELECT {VISIT_COLUMNS} FROM visits WHERE id = ?1"),
        [id.to_string()],
        visit_from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found("visit", id))
}

/// The visitors of a visit, booking visitor first.
pub fn visitor_ids(conn: &Connection, visit_id: Uuid) -> Result<Vec<Uuid>> {
    let mut stmt = conn.prepare_cached(
        "SELECT visitor_id FROM visit_visitors WHERE visit_id = ?1 ORDER BY position",
    )?;
    let ids = stmt.query_map([visit_id.to_string()], |r| uuid_at(r, 0))?;
    Ok(ids.collect::<rusqlite::Result<_>>()?)
}

fn to_wire(conn: &Connection, v: &VisitRow) -> Result<Visit> {
    Ok(Visit {
        id: v.id,
        facility_id: v.facility_id,
        person_id: v.person_id,
        visitor_ids: visitor_ids(conn, v.id)?,
        kind: v.kind.to_wire(),
        start: v.start,
        end: v.end,
        local_date: v.local_date,
        status: v.status.to_wire(),
        price_cents: v.price_cents,
        charge: v.charge,
    })
}

pub fn get(conn: &Connection, id: Uuid) -> Result<Visit> {
    to_wire(conn, &get_row(conn, id)?)
}

/// Append one line to a visit's history.
pub fn record(
    conn: &Connection,
    ctx: &Ctx<'_>,
    visit_id: Uuid,
    event: &str,
    change: (Option<Status>, Option<Status>),
    detail: serde_json::Value,
) -> Result<()> {
    conn.execute(
        "INSERT INTO visit_history (visit_id, at, event, from_status, to_status, actor, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            visit_id.to_string(),
            ts(ctx.now),
            event,
            change.0.map(Status::as_db),
            change.1.map(Status::as_db),
            ctx.actor,
            detail.to_string()
        ],
    )?;
    Ok(())
}

/// Apply a trigger to a visit inside `tx`: validate, update, record, bump.
/// Returns the new status.
pub fn transition(
    tx: &Connection,
    ctx: &Ctx<'_>,
    visit: &VisitRow,
    trigger: Trigger,
    event: &str,
    detail: serde_json::Value,
) -> Result<Status> {
    let next = visit.status.next(trigger)?;
    if next != visit.status {
        tx.execute(
            "UPDATE visits SET status = ?2, updated_at = ?3 WHERE id = ?1",
            params![visit.id.to_string(), next.as_db(), ts(ctx.now)],
        )?;
        facilities::bump_schedule(tx, visit.facility_id)?;
        tracing::info!(visit_id = %visit.id, facility_id = %visit.facility_id, from = visit.status.as_db(), to = next.as_db(), event, actor = ctx.actor, "visit status changed");
    }
    let change = if next != visit.status {
        (Some(visit.status), Some(next))
    } else {
        (None, None)
    };
    record(tx, ctx, visit.id, event, change, detail)?;
    Ok(next)
}

fn random_pin(len: u8) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// Book a visit: every rule, then a unique PIN, then the confirmation.
pub fn book(conn: &mut Connection, ctx: &Ctx<'_>, req: &NewVisit) -> Result<BookedVisit> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let person = people::get_person(&tx, req.person_id)?;
    let facility = facilities::get(&tx, person.facility_id)?;
    let kind = Kind::from_wire(req.kind);
    let policy = facility.policy(kind);
    let visit_date = req.start.with_timezone(&facility.tz).date_naive();

    let mut visitors = Vec::with_capacity(req.visitor_ids.len());
    let mut facts = Vec::with_capacity(req.visitor_ids.len());
    for &vid in &req.visitor_ids {
        let v = people::get_visitor(&tx, vid)?;
        facts.push(VisitorFacts {
            id: vid,
            photo_id_verified: v.photo_id_verified,
            approved: people::is_approved(&tx, person.id, vid)?,
            date_of_birth: v.date_of_birth,
            sanctioned_until: sanctions::restriction(&tx, vid, &[ctx.now, req.start])?,
        });
        visitors.push(v);
    }
    let refused = |r: Refusal| {
        tracing::info!(person_id = %person.id, facility_id = %facility.id, code = r.code(), actor = ctx.actor, "booking refused");
        Error::Refused(r)
    };
    check_eligibility(&Eligibility {
        purpose: req.purpose,
        visitors: &facts,
        max_visitors: facility.max_visitors,
        no_child_contact: people::has_restriction(&person, Restriction::NoChildContact),
        visit_date,
    })
    .map_err(refused)?;
    let end = policy
        .check_slot(facility.tz, req.start, ctx.now)
        .map_err(refused)?;

    // First come, first served: nobody may be in two visits at once.
    let active = Status::ACTIVE_SQL;
    let person_busy = tx
        .query_row(
            &format!(
                "SELECT 1 FROM visits WHERE person_id = ?1 AND status IN {active}
                   AND starts_at < ?2 AND ends_at > ?3"
            ),
            params![person.id.to_string(), ts(end), ts(req.start)],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if person_busy {
        return Err(refused(Refusal::PersonBusy));
    }
    for &vid in &req.visitor_ids {
        let busy = tx
            .query_row(
                &format!(
                    "SELECT 1 FROM visit_visitors vv JOIN visits v ON v.id = vv.visit_id
                     WHERE vv.visitor_id = ?1 AND v.status IN {active}
                       AND v.starts_at < ?2 AND v.ends_at > ?3"
                ),
                params![vid.to_string(), ts(end), ts(req.start)],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if busy {
            return Err(refused(Refusal::VisitorBusy { visitor: vid }));
        }
    }
    if kind == Kind::Onsite {
        let lobbies = terminals::lobby_count(&tx, facility.id)?;
        if lobbies == 0 {
            return Err(refused(Refusal::NoLobbyTerminals));
        }
        let mut stmt = tx.prepare(&format!(
            "SELECT starts_at, ends_at FROM visits
             WHERE facility_id = ?1 AND kind = 'onsite' AND status IN {active}
               AND starts_at < ?2 AND ends_at > ?3"
        ))?;
        let others = stmt
            .query_map(
                params![facility.id.to_string(), ts(end), ts(req.start)],
                |r| Ok((from_ts(r.get(0)?), from_ts(r.get(1)?))),
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        drop(stmt);
        if peak_concurrency(req.start, end, &others) >= lobbies {
            return Err(refused(Refusal::LobbyFull));
        }
    }

    // A PIN unique among the facility's visits that day. With 6 digits and
    // even 10,000 visits a day a retry is rare; 64 failures mean the space
    // is exhausted.
    let day_key = ctx.keys.day_key(facility.id, visit_date);
    let mut chosen = None;
    for _ in 0..64 {
        let pin = random_pin(facility.pin_length);
        let hash = pin_verifier(&day_key, &pin);
        let taken = tx
            .query_row(
                "SELECT 1 FROM visits WHERE facility_id = ?1 AND local_date = ?2 AND pin_hash = ?3",
                params![facility.id.to_string(), visit_date.to_string(), hash],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if !taken {
            chosen = Some((pin, hash));
            break;
        }
    }
    let Some((pin, pin_hash)) = chosen else {
        return Err(refused(Refusal::NoPinAvailable));
    };

    let id = Uuid::new_v4();
    let price_cents = policy.price_cents;
    let charge = if price_cents == 0 {
        Charge::Free
    } else {
        Charge::Charged
    };
    tx.execute(
        "INSERT INTO visits (id, facility_id, person_id, kind, starts_at, ends_at, local_date,
            status, pin_hash, price_cents, charge, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
        params![
            id.to_string(),
            facility.id.to_string(),
            person.id.to_string(),
            kind.as_db(),
            ts(req.start),
            ts(end),
            visit_date.to_string(),
            Status::Scheduled.as_db(),
            pin_hash,
            price_cents,
            charge_db(charge),
            ts(ctx.now)
        ],
    )?;
    for (pos, vid) in req.visitor_ids.iter().enumerate() {
        tx.execute(
            "INSERT INTO visit_visitors (visit_id, visitor_id, position) VALUES (?1, ?2, ?3)",
            params![id.to_string(), vid.to_string(), pos as i64],
        )?;
    }
    record(
        &tx,
        ctx,
        id,
        "booked",
        (None, Some(Status::Scheduled)),
        json!({
            "kind": kind.as_db(), "start": req.start, "end": end,
            "visitors": req.visitor_ids, "price_cents": price_cents,
        }),
    )?;

    let local = |t: DateTime<Utc>| t.with_timezone(&facility.tz);
    let (s, e) = (local(req.start), local(end));
    let how = match kind {
        Kind::Onsite => format!(
            "Come to the lobby of {} and enter your PIN at a visitation monitor. \
             Check-in opens {} minute(s) before the start.",
            facility.name,
            policy.visitor_early.num_minutes()
        ),
        Kind::Remote => format!(
            "Join from your own device with camera and microphone. You may join {} minute(s) \
             before the start.",
            policy.visitor_early.num_minutes()
        ),
    };
    let what = format!(
        "Your {} video visit with {} at {} is booked.\n\n\
         When: {} from {} to {} ({})",
        match kind {
            Kind::Onsite => "on-site",
            Kind::Remote => "remote",
        },
        initials(&person.name),
        facility.name,
        s.format("%A %-d %B %Y"),
        s.format("%H:%M"),
        e.format("%H:%M"),
        facility.tz.name(),
    );
    let subject = format!("Visit confirmed: {}", s.format("%a %-d %b %H:%M"));
    // On-site: the booking visitor gets the PIN. Remote: every visitor joins
    // from their own device, so each gets a confirmation with their own join
    // link; the booking visitor's also carries the PIN.
    let mut join_tokens = Vec::new();
    for (pos, v) in visitors.iter().enumerate() {
        let first = pos == 0;
        if !first && kind == Kind::Onsite {
            break;
        }
        let token = match kind {
            Kind::Remote => Some(join_tokens::create(&tx, ctx, id, v.id, end)?),
            Kind::Onsite => None,
        };
        let mut body = what.clone();
        if first {
            body.push_str(&format!("\nPIN: {}", outbox::PIN_PLACEHOLDER));
        }
        body.push_str(&format!("\n\n{how}\n"));
        if token.is_some() {
            body.push_str(&format!(
                "\nYour join link (only for you; it works until the visit ends):\n{}/join/{id}?token={}\n",
                outbox::PUBLIC_URL_PLACEHOLDER,
                outbox::TOKEN_PLACEHOLDER
            ));
        }
        body.push_str(&format!("\nVisit id: {id}\n"));
        if let Some(t) = &token {
            join_tokens.push(protocol::admin::JoinToken {
                visitor_id: v.id,
                token: t.clone(),
            });
        }
        outbox::queue(
            &tx,
            ctx,
            outbox::NewMessage {
                kind: "confirmation",
                visit_id: Some(id),
                to: &v.email,
                subject: &subject,
                body: &body,
                pin: first.then_some(pin.as_str()),
                token: token.as_deref(),
            },
        )?;
    }
    facilities::bump_schedule(&tx, facility.id)?;
    let row = get_row(&tx, id)?;
    let visit = to_wire(&tx, &row)?;
    tx.commit()?;
    tracing::info!(visit_id = %id, facility_id = %facility.id, person_id = %person.id, kind = kind.as_db(), start = %req.start, actor = ctx.actor, "visit booked");
    Ok(BookedVisit {
        visit,
        pin,
        join_tokens,
    })
}

/// A visit with its whole history.
pub fn record_of(conn: &Connection, id: Uuid) -> Result<VisitRecord> {
    let visit = get(conn, id)?;
    let mut stmt = conn.prepare(
        "SELECT at, event, from_status, to_status, actor, detail FROM visit_history
         WHERE visit_id = ?1 ORDER BY seq",
    )?;
    let status = |s: Option<String>| s.and_then(|s| Status::from_db(&s)).map(Status::to_wire);
    let history = stmt
        .query_map([id.to_string()], |r| {
            Ok(HistoryEntry {
                at: from_ts(r.get(0)?),
                event: r.get(1)?,
                from_status: status(r.get(2)?),
                to_status: status(r.get(3)?),
                actor: r.get(4)?,
                detail: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or_default(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(VisitRecord { visit, history })
}

/// All visits of a facility on a local date, by start.
pub fn list_day(conn: &Connection, facility_id: Uuid, date: NaiveDate) -> Result<Vec<Visit>> {
    facilities::get(conn, facility_id)?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {VISIT_COLUMNS} FROM visits WHERE facility_id = ?1 AND local_date = ?2
         ORDER BY starts_at, id"
    ))?;
    let rows = stmt
        .query_map(
            params![facility_id.to_string(), date.to_string()],
            visit_from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.iter().map(|v| to_wire(conn, v)).collect()
}

/// Cancel a visit. The facility's cancellations are never charged and the
/// visitors are told; a visitor's gets credit only far enough ahead.
pub fn cancel(conn: &mut Connection, ctx: &Ctx<'_>, id: Uuid, req: &CancelVisit) -> Result<Visit> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let v = cancel_in(&tx, ctx, id, req)?;
    tx.commit()?;
    Ok(v)
}

/// [`cancel`] inside a caller's transaction (sanctions cancel several visits at once).
pub fn cancel_in(
    tx: &Transaction<'_>,
    ctx: &Ctx<'_>,
    id: Uuid,
    req: &CancelVisit,
) -> Result<Visit> {
    let reason = req.reason.trim();
    if reason.is_empty() {
        return Err(Error::Invalid("say why the visit is cancelled".into()));
    }
    let row = get_row(tx, id)?;
    let facility = facilities::get(tx, row.facility_id)?;
    let charge = charge_after_cancel(
        req.by,
        row.price_cents,
        row.start,
        ctx.now,
        facility.policy(row.kind).cancel_credit,
    );
    let by = match req.by {
        CancelledBy::Visitor => "visitor",
        CancelledBy::Facility => "facility",
    };
    transition(
        tx,
        ctx,
        &row,
        Trigger::Cancel,
        "cancelled",
        json!({ "by": by, "reason": reason, "charge": charge_db(charge) }),
    )?;
    tx.execute(
        "UPDATE visits SET charge = ?2 WHERE id = ?1",
        params![id.to_string(), charge_db(charge)],
    )?;
    let when = row
        .start
        .with_timezone(&facility.tz)
        .format("%A %-d %B %Y at %H:%M");
    let money = match charge {
        Charge::Credited => format!(
            " The ${}.{:02} you paid has been credited to your account.",
            row.price_cents / 100,
            row.price_cents % 100
        ),
        Charge::Waived => " You will not be charged for it.".to_string(),
        Charge::Forfeited => {
            " It was cancelled less than 48 hours ahead, so no credit is given.".to_string()
        }
        Charge::Free | Charge::Charged => String::new(),
    };
    let by_whom = match req.by {
        CancelledBy::Facility => format!("{} cancelled", facility.name),
        CancelledBy::Visitor => "You cancelled".to_string(),
    };
    let recipients: Vec<String> = match req.by {
        CancelledBy::Facility => visitor_ids(tx, id)?,
        CancelledBy::Visitor => visitor_ids(tx, id)?.into_iter().take(1).collect(),
    }
    .into_iter()
    .map(|vid| people::get_visitor(tx, vid).map(|v| v.email))
    .collect::<Result<_>>()?;
    for to in recipients {
        outbox::queue(
            tx,
            ctx,
            outbox::NewMessage {
                kind: "cancellation",
                visit_id: Some(id),
                to: &to,
                subject: "Visit cancelled",
                body: &format!(
                    "{by_whom} your visit on {when}.\nReason: {reason}.{money}\n\nVisit id: {id}\n"
                ),
                pin: None,
                token: None,
            },
        )?;
    }
    tracing::info!(visit_id = %id, facility_id = %row.facility_id, by, charge = charge_db(charge), actor = ctx.actor, "visit cancelled");
    to_wire(tx, &get_row(tx, id)?)
}

/// Staff end a visit in progress (or about to start) for a rule violation.
pub fn terminate(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    id: Uuid,
    req: &TerminateVisit,
) -> Result<Visit> {
    let reason = req.reason.trim();
    if reason.is_empty() {
        return Err(Error::Invalid(
            "a termination needs the reason shown to both sides".into(),
        ));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let row = get_row(&tx, id)?;
    transition(
        &tx,
        ctx,
        &row,
        Trigger::Terminate,
        "terminated",
        json!({ "reason": reason }),
    )?;
    let v = to_wire(&tx, &get_row(&tx, id)?)?;
    tx.commit()?;
    tracing::warn!(visit_id = %id, facility_id = %row.facility_id, reason, actor = ctx.actor, "visit terminated by staff");
    Ok(v)
}

/// Move visits along with the clock: started ones to Pending, finished ones
/// to Ended or NoShow. Returns the visits that changed, with their new status.
pub fn advance_clock(conn: &mut Connection, ctx: &Ctx<'_>) -> Result<Vec<(Uuid, Status)>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = ts(ctx.now);
    let mut changed = Vec::new();
    let ending = {
        let mut stmt = tx.prepare(&format!(
            "SELECT {VISIT_COLUMNS} FROM visits WHERE status IN {} AND ends_at <= ?1",
            Status::ACTIVE_SQL
        ))?;
        stmt.query_map([now], visit_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?
    };
    for v in ending {
        let status = transition(&tx, ctx, &v, Trigger::EndReached, "end_reached", json!({}))?;
        changed.push((v.id, status));
    }
    let starting = {
        let mut stmt = tx.prepare(&format!(
            "SELECT {VISIT_COLUMNS} FROM visits WHERE status = 'scheduled' AND starts_at <= ?1"
        ))?;
        stmt.query_map([now], visit_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?
    };
    for v in starting {
        let status = transition(
            &tx,
            ctx,
            &v,
            Trigger::StartReached,
            "start_reached",
            json!({}),
        )?;
        changed.push((v.id, status));
    }
    tx.commit()?;
    Ok(changed)
}
