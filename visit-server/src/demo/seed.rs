//! The demo's data: the county jail, its terminals, people and approvals,
//! today's and tomorrow's visits booked through the real rules, and the
//! bookings the rules refuse. Apart from `demo/mod.rs` (the clock, printing
//! and serving) because it is the long list of what the demo contains.

use anyhow::Context;
use chrono::{DateTime, Days, Duration, NaiveDate, Utc};
use protocol::TerminalRole;
use protocol::VisitKind;
use protocol::admin::{
    NewApproval, NewFacility, NewHousingUnit, NewPerson, NewTerminal, NewVisit, NewVisitor,
    Restriction, VisitPurpose,
};
use rusqlite::Connection;
use uuid::Uuid;

use super::{DEMO_TZ, DemoFacility, DemoVisit};
use crate::domain::policy::Kind;
use crate::keys::Keys;
use crate::service::facilities::FacilityRow;
use crate::service::{
    Ctx, Error, admin_tokens, approvals, facilities, people, staff, terminals, visits,
};

/// The demo's people, each with their id and full name.
struct People {
    persons: Vec<(Uuid, String)>,
    visitors: Vec<(Uuid, String)>,
}

/// Fill an empty database with the demo facility. `now` is the real time;
/// bookings are made as of four days before each visit.
pub fn seed(
    conn: &mut Connection,
    keys: &Keys,
    now: DateTime<Utc>,
) -> anyhow::Result<DemoFacility> {
    let ctx = Ctx {
        keys,
        now,
        actor: "demo",
    };
    let admin_token = admin_tokens::create(conn, &ctx, "demo-admin")?;
    let facility = facilities::create(
        conn,
        &ctx,
        &NewFacility {
            name: "Jackson County Detention Center".into(),
            time_zone: DEMO_TZ.name().into(),
            pin_length: None,
            max_visitors_per_visit: None,
            onsite: None,
            remote: None,
            ice_servers: vec![],
        },
    )?;
    let (pods, terminal_codes) = add_units_and_terminals(conn, &ctx, facility.id)?;
    let p = People {
        persons: add_persons(conn, &ctx, facility.id, pods)?,
        visitors: add_visitors(conn, &ctx)?,
    };
    approve_visitors(conn, &ctx, &p)?;
    request_approval(conn, &ctx, &p)?;
    let console_password = crate::keys::random_token()[..16].to_string();
    staff::create(
        conn,
        &ctx,
        facility.id,
        "admin",
        "Demo Administrator",
        staff::Role::Administrator,
        &console_password,
    )?;
    let slots = Slots {
        facility: facilities::get(conn, facility.id)?,
        now,
    };
    let booked = book_visits(conn, keys, &p, &slots)?;
    visits::advance_clock(conn, &ctx)?;
    let refusals = try_refused_bookings(conn, &ctx, &p, &slots);
    Ok(DemoFacility {
        facility_id: facility.id,
        name: facility.name,
        time_zone: slots.facility.tz,
        admin_token,
        console_password,
        terminals: terminal_codes,
        visits: booked,
        refusals,
        demo_clock: None,
    })
}

/// A visitor asking to be on a person's list, for the console's queue.
fn request_approval(conn: &Connection, ctx: &Ctx<'_>, p: &People) -> anyhow::Result<()> {
    let (person, _) = p.persons[0];
    let Some((visitor, _)) = p
        .visitors
        .iter()
        .find(|(v, _)| !people::is_approved(conn, person, *v).unwrap_or(true))
    else {
        return Ok(());
    };
    approvals::create(
        conn,
        ctx,
        None,
        &protocol::admin::NewApprovalRequest {
            person_id: person,
            visitor_id: *visitor,
        },
    )?;
    Ok(())
}

/// Pod A and Pod B, four lobby monitors and a dayroom terminal per pod.
#[allow(clippy::type_complexity)]
fn add_units_and_terminals(
    conn: &Connection,
    ctx: &Ctx<'_>,
    fid: Uuid,
) -> anyhow::Result<([Uuid; 2], Vec<(String, TerminalRole, String)>)> {
    let unit = |name: &str| {
        facilities::create_housing_unit(conn, ctx, fid, &NewHousingUnit { name: name.into() })
            .map(|u| u.id)
    };
    let pods = [unit("Pod A")?, unit("Pod B")?];
    let mut terminal_codes = Vec::new();
    let mut add_terminal = |role, location: &str, unit: Option<Uuid>| -> anyhow::Result<()> {
        let code = terminals::create(
            conn,
            ctx,
            fid,
            &NewTerminal {
                role,
                location: location.into(),
                housing_unit_id: unit,
            },
        )?;
        terminal_codes.push((location.to_string(), role, code.code));
        Ok(())
    };
    for n in 1..=4 {
        add_terminal(TerminalRole::Lobby, &format!("Lobby monitor {n}"), None)?;
    }
    add_terminal(TerminalRole::Unit, "Pod A dayroom", Some(pods[0]))?;
    add_terminal(TerminalRole::Unit, "Pod B dayroom", Some(pods[1]))?;
    Ok((pods, terminal_codes))
}

/// Four incarcerated persons, two per pod; Michael may not see children.
fn add_persons(
    conn: &Connection,
    ctx: &Ctx<'_>,
    fid: Uuid,
    [pod_a, pod_b]: [Uuid; 2],
) -> anyhow::Result<Vec<(Uuid, String)>> {
    let persons = [
        ("A-1001", "James Smith", pod_a, "4821", vec![]),
        ("A-1002", "Robert Johnson", pod_a, "5930", vec![]),
        (
            "B-2001",
            "Michael Williams",
            pod_b,
            "7714",
            vec![Restriction::NoChildContact],
        ),
        ("B-2002", "David Brown", pod_b, "3388", vec![]),
    ];
    let created = persons
        .into_iter()
        .map(|(number, name, unit, pin, restrictions)| {
            people::create_person(
                conn,
                ctx,
                fid,
                &NewPerson {
                    number: number.into(),
                    name: name.into(),
                    housing_unit_id: unit,
                    pin: pin.into(),
                    restrictions,
                },
            )
            .map(|p| (p.id, p.name))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(created)
}

/// Six visitors: Emily is a minor, Kevin's photo ID is not checked.
fn add_visitors(conn: &Connection, ctx: &Ctx<'_>) -> anyhow::Result<Vec<(Uuid, String)>> {
    let dob = |years: u64| {
        ctx.now
            .date_naive()
            .checked_sub_days(Days::new(years * 366))
            .unwrap_or_default()
    };
    let visitors = [
        ("Maria Smith", "maria.smith@example.org", dob(45), true),
        ("Linda Johnson", "linda.johnson@example.org", dob(61), true),
        (
            "Patricia Williams",
            "pat.williams@example.org",
            dob(38),
            true,
        ),
        ("Jennifer Brown", "jen.brown@example.org", dob(29), true),
        ("Emily Smith", "maria.smith@example.org", dob(10), true),
        ("Kevin Jones", "kevin.jones@example.org", dob(33), false),
    ];
    let created = visitors
        .into_iter()
        .map(|(name, email, date_of_birth, photo_id_verified)| {
            people::create_visitor(
                conn,
                ctx,
                &NewVisitor {
                    name: name.into(),
                    email: email.into(),
                    date_of_birth,
                    photo_id_verified,
                },
            )
            .map(|v| (v.id, v.name))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(created)
}

/// Emily (a minor) is approved for her father James and for Michael, whose
/// child-contact restriction the rules then enforce.
fn approve_visitors(conn: &Connection, ctx: &Ctx<'_>, p: &People) -> anyhow::Result<()> {
    for (person, visitor) in [(0, 0), (0, 4), (1, 1), (2, 2), (2, 4), (3, 3), (3, 5)] {
        people::approve(
            conn,
            ctx,
            &NewApproval {
                person_id: p.persons[person].0,
                visitor_id: p.visitors[visitor].0,
            },
        )?;
    }
    Ok(())
}

/// The facility's slots that have not (nearly) ended at the demo's time.
struct Slots {
    facility: FacilityRow,
    now: DateTime<Utc>,
}

impl Slots {
    fn today(&self) -> NaiveDate {
        self.now.with_timezone(&self.facility.tz).date_naive()
    }

    fn upcoming(&self, kind: VisitKind, date: NaiveDate) -> Vec<DateTime<Utc>> {
        let policy = self.facility.policy(Kind::from_wire(kind));
        policy
            .slots_on(self.facility.tz, date)
            .into_iter()
            .filter(|s| *s + policy.block > self.now + Duration::minutes(1))
            .collect()
    }
}

/// Today's and tomorrow's visits, booked through the real rules as of four
/// days before each.
fn book_visits(
    conn: &mut Connection,
    keys: &Keys,
    p: &People,
    slots: &Slots,
) -> anyhow::Result<Vec<DemoVisit>> {
    let mut booked = Vec::new();
    let mut book = |person: usize, vis: &[usize], kind, start| -> anyhow::Result<()> {
        booked.push(book_one(conn, keys, p, person, vis, kind, start)?);
        Ok(())
    };
    let today = slots.today();
    for date in [today, today + Days::new(1)] {
        let onsite = slots.upcoming(VisitKind::Onsite, date);
        let remote = slots.upcoming(VisitKind::Remote, date);
        if let Some(&s) = onsite.first() {
            book(0, &[0, 4], VisitKind::Onsite, s)?;
            book(1, &[1], VisitKind::Onsite, s)?;
        }
        if let Some(&s) = onsite.get(1) {
            book(3, &[3], VisitKind::Onsite, s)?;
        }
        // Michael's remote visits: today the one under way on the demo's
        // clock and the next (the demo prints the link to join them from a
        // browser), tomorrow the first.
        let michael = if date == today { 2 } else { 1 };
        for &s in remote.iter().take(michael) {
            book(2, &[2], VisitKind::Remote, s)?;
        }
        // No on-site hours at weekends: the Pod A people get remote visits then.
        if let (true, Some(&s)) = (onsite.is_empty(), remote.get(1)) {
            book(0, &[0], VisitKind::Remote, s)?;
            book(1, &[1], VisitKind::Remote, s)?;
        }
    }
    Ok(booked)
}

/// One social visit of `person` with the visitors `vis` (indices into `p`).
fn book_one(
    conn: &mut Connection,
    keys: &Keys,
    p: &People,
    person: usize,
    vis: &[usize],
    kind: VisitKind,
    start: DateTime<Utc>,
) -> anyhow::Result<DemoVisit> {
    let earlier = Ctx {
        keys,
        now: start - Duration::days(4),
        actor: "demo",
    };
    let b = visits::book(
        conn,
        &earlier,
        &NewVisit {
            person_id: p.persons[person].0,
            visitor_ids: vis.iter().map(|&v| p.visitors[v].0).collect(),
            kind,
            start,
            purpose: VisitPurpose::Social,
        },
    )
    .with_context(|| format!("demo booking for {}", p.persons[person].1))?;
    Ok(DemoVisit {
        id: b.visit.id,
        start: b.visit.start,
        end: b.visit.end,
        kind,
        person: p.persons[person].1.clone(),
        visitors: vis.iter().map(|&v| p.visitors[v].1.clone()).collect(),
        pin: b.pin,
        join_token: b.join_tokens.first().map(|t| t.token.clone()),
    })
}

/// Bookings the rules refuse, tried now: (what was tried, what was said).
fn try_refused_bookings(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    p: &People,
    slots: &Slots,
) -> Vec<(String, String)> {
    let today = slots.today();
    let in_five_days = slots.upcoming(VisitKind::Remote, today + Days::new(5));
    let tomorrow_slot = slots
        .upcoming(VisitKind::Remote, today + Days::new(1))
        .into_iter()
        .find(|s| *s - slots.now < Duration::hours(72));
    let attempts: [(&str, usize, &[usize], _, _); 4] = [
        (
            "Maria books James for tomorrow",
            0,
            &[0],
            tomorrow_slot,
            VisitPurpose::Social,
        ),
        (
            "Patricia brings Emily (10) to Michael",
            2,
            &[2, 4],
            in_five_days.first().copied(),
            VisitPurpose::Social,
        ),
        (
            "Kevin (photo ID not checked) books David",
            3,
            &[5],
            in_five_days.get(1).copied(),
            VisitPurpose::Social,
        ),
        (
            "A legal visit by video",
            3,
            &[3],
            in_five_days.get(2).copied(),
            VisitPurpose::Legal,
        ),
    ];
    let mut refusals = Vec::new();
    for (what, person, vis, start, purpose) in attempts {
        let Some(start) = start else { continue };
        let r = visits::book(
            conn,
            ctx,
            &NewVisit {
                person_id: p.persons[person].0,
                visitor_ids: vis.iter().map(|&v| p.visitors[v].0).collect(),
                kind: VisitKind::Remote,
                start,
                purpose,
            },
        );
        let said = match r {
            Ok(_) => "accepted (unexpected)".to_string(),
            Err(e) => e.to_string(),
        };
        refusals.push((what.to_string(), said));
    }
    refusals
}
