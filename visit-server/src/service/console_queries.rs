//! What the console's person and visitor pages show in one read (the
//! record, its links, its visits with names), and the changes they make
//! that the unscoped services (an admin token's) do not scope themselves:
//! booking, approving and sanctioning, each refused as "does not exist"
//! for another facility's rows.

use protocol::admin::{
    Approval, BookedVisit, NewApproval, NewSanction, NewVisit, Person, Sanction, Visit, Visitor,
};
use rusqlite::Connection;
use uuid::Uuid;

use super::directory::{self, person_in_scope, visitor_in_scope};
use super::{Ctx, Error, Page, Result, booking, facilities, in_scope, people, sanctions, visits};

/// A visit with the names of who is in it (the visitors, or the person).
#[derive(Debug, Clone)]
pub struct VisitLine {
    pub visit: Visit,
    pub names: Vec<String>,
}

/// A person's page: the record, the facility's units, the approved
/// visitors, the visits, and the visitors matching the page's search.
#[derive(Debug, Clone)]
pub struct PersonOverview {
    pub person: Person,
    pub units: Vec<(Uuid, String)>,
    pub approved: Vec<Visitor>,
    pub visits: Vec<VisitLine>,
    pub candidates: Vec<Visitor>,
}

/// A visitor's page: the record, sanctions, persons and visits.
#[derive(Debug, Clone)]
pub struct VisitorOverview {
    pub visitor: Visitor,
    pub sanctions: Vec<Sanction>,
    pub persons: Vec<Person>,
    pub visits: Vec<VisitLine>,
}

/// Everything a person's page shows; `vq`, when not empty, searches the
/// visitors the facility knows to add one to the approved list.
pub fn person_overview(
    conn: &Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    id: Uuid,
    vq: &str,
) -> Result<PersonOverview> {
    let person = person_in_scope(conn, scope, id)?;
    let units = facilities::housing_units(conn, person.facility_id)?;
    let approved = directory::approved_visitors(conn, ctx, scope, id, Page::default())?;
    let visits = directory::person_visits(conn, ctx, scope, id, Page::default())?
        .into_iter()
        .map(|v| {
            let names = v
                .visitor_ids
                .iter()
                .map(|vid| people::get_visitor(conn, *vid).map(|x| x.name))
                .collect::<Result<_>>()?;
            Ok(VisitLine { visit: v, names })
        })
        .collect::<Result<_>>()?;
    let candidates = if vq.trim().is_empty() {
        vec![]
    } else {
        directory::search_visitors(conn, ctx, scope, vq.trim(), Page::new(Some(20), None))?
    };
    Ok(PersonOverview {
        person,
        units,
        approved,
        visits,
        candidates,
    })
}

/// Everything a visitor's page shows (a scoped caller: its facility's
/// persons and visits only).
pub fn visitor_overview(
    conn: &Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    id: Uuid,
) -> Result<VisitorOverview> {
    let visitor = people::get_visitor(conn, id)?;
    visitor_in_scope(conn, scope, id)?;
    let persons = directory::approved_persons(conn, ctx, scope, id, Page::default())?;
    let visits = directory::visitor_visits(conn, ctx, scope, id, Page::default())?
        .into_iter()
        .map(|v| {
            let p = people::get_person(conn, v.person_id)?;
            Ok(VisitLine {
                visit: v,
                names: vec![p.name],
            })
        })
        .collect::<Result<_>>()?;
    Ok(VisitorOverview {
        visitor,
        sanctions: sanctions::list(conn, id)?,
        persons,
        visits,
    })
}

/// Book for a person of the caller's facility, under every rule of
/// [`booking::book`].
pub fn book(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    req: &NewVisit,
) -> Result<BookedVisit> {
    person_in_scope(conn, scope, req.person_id)?;
    booking::book(conn, ctx, req)
}

/// Put a visitor on the approved list of a person of the caller's facility.
pub fn approve(
    conn: &Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    req: &NewApproval,
) -> Result<Approval> {
    person_in_scope(conn, scope, req.person_id)?;
    // The visitor must be one this facility knows, or one no facility
    // knows yet (just registered): an id typed in must not reach into
    // another facility's visitors.
    if visitor_in_scope(conn, scope, req.visitor_id).is_err() && !unlinked(conn, req.visitor_id)? {
        return Err(Error::not_found("visitor", req.visitor_id));
    }
    people::approve(conn, ctx, req)
}

/// A visitor with no approval, request or visit anywhere.
fn unlinked(conn: &Connection, visitor: Uuid) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM approvals WHERE visitor_id = ?1) \
         AND NOT EXISTS (SELECT 1 FROM approval_requests WHERE visitor_id = ?1) \
         AND NOT EXISTS (SELECT 1 FROM visit_visitors WHERE visitor_id = ?1)",
        [visitor.to_string()],
        |r| r.get(0),
    )?)
}

/// Sanction a visitor the caller's facility knows, for one of its visits
/// when given.
pub fn sanction(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    req: &NewSanction,
) -> Result<Sanction> {
    people::get_visitor(conn, req.visitor_id)?;
    visitor_in_scope(conn, scope, req.visitor_id)?;
    if let Some(vid) = req.visit_id {
        let v = visits::get_row(conn, vid)?;
        in_scope(scope, v.facility_id, "visit", vid)?;
        if !visits::visitor_ids(conn, vid)?.contains(&req.visitor_id) {
            return Err(Error::Invalid("the visitor was not in that visit".into()));
        }
    }
    sanctions::create(conn, ctx, req)
}
