//! Finding records: search by name, e-mail or number, a facility's
//! terminals, and who is linked to whom (a person's visits and approved
//! visitors, a visitor's visits and the persons they may visit).
//!
//! Every function takes `scope`, the facility a caller is tied to (a staff
//! member's), or `None` for a caller who sees every facility (an admin
//! token). A scoped caller never sees another facility's rows: they answer
//! as if they did not exist. Visitors belong to no facility; a facility
//! sees those with an approval, an approval request or a visit there.

use protocol::admin::{Facility, Person, Visit, Visitor};
use rusqlite::{Connection, params};
use uuid::Uuid;

use super::people::{PERSON_COLUMNS, VISITOR_COLUMNS, person_from_row, visitor_from_row};
use super::visits::{VISIT_COLUMNS, visit_from_row};
use super::{Ctx, Error, Page, Result, contains_pattern, facilities, in_scope, people, uuid_at};

/// `v` (a visitor row) is visible to facility `?1`, or `?1` is NULL.
const VISITOR_IN_FACILITY: &str = "(?1 IS NULL
    OR EXISTS (SELECT 1 FROM approvals a JOIN persons p ON p.id = a.person_id
               WHERE a.visitor_id = v.id AND p.facility_id = ?1)
    OR EXISTS (SELECT 1 FROM approval_requests r JOIN persons p ON p.id = r.person_id
               WHERE r.visitor_id = v.id AND p.facility_id = ?1)
    OR EXISTS (SELECT 1 FROM visit_visitors vv JOIN visits x ON x.id = vv.visit_id
               WHERE vv.visitor_id = v.id AND x.facility_id = ?1))";

/// Whether a scoped caller may see this visitor; `NotFound` otherwise.
pub fn visitor_in_scope(conn: &Connection, scope: Option<Uuid>, visitor_id: Uuid) -> Result<()> {
    let seen = conn.query_row(
        &format!("SELECT count(*) FROM visitors v WHERE v.id = ?2 AND {VISITOR_IN_FACILITY}"),
        params![scope.map(|s| s.to_string()), visitor_id.to_string()],
        |r| r.get::<_, i64>(0),
    )?;
    if seen == 0 {
        return Err(Error::not_found("visitor", visitor_id));
    }
    Ok(())
}

/// The person, if a scoped caller may see them; `NotFound` otherwise.
pub fn person_in_scope(conn: &Connection, scope: Option<Uuid>, person_id: Uuid) -> Result<Person> {
    let p = people::get_person(conn, person_id)?;
    in_scope(scope, p.facility_id, "person", person_id)?;
    Ok(p)
}

/// Facilities whose name contains `q` (any case), by name.
pub fn search_facilities(
    conn: &Connection,
    _ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    q: &str,
    page: Page,
) -> Result<Vec<Facility>> {
    let mut stmt = conn.prepare(
        "SELECT id FROM facilities WHERE name LIKE ?1 ESCAPE '\\'
           AND (?2 IS NULL OR id = ?2)
         ORDER BY name, id LIMIT ?3 OFFSET ?4",
    )?;
    let ids = stmt
        .query_map(
            params![
                contains_pattern(q),
                scope.map(|s| s.to_string()),
                page.limit,
                page.offset
            ],
            |r| uuid_at(r, 0),
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    ids.into_iter()
        .map(|id| facilities::get(conn, id).map(|f| f.to_wire()))
        .collect()
}

/// A facility's persons whose name or number contains `q` (any case), by name.
pub fn search_persons(
    conn: &Connection,
    _ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    facility_id: Uuid,
    q: &str,
    page: Page,
) -> Result<Vec<Person>> {
    in_scope(scope, facility_id, "facility", facility_id)?;
    facilities::get(conn, facility_id)?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {PERSON_COLUMNS} FROM persons p WHERE p.facility_id = ?1
           AND (p.name LIKE ?2 ESCAPE '\\' OR p.number LIKE ?2 ESCAPE '\\')
         ORDER BY p.name, p.number LIMIT ?3 OFFSET ?4"
    ))?;
    let rows = stmt.query_map(
        params![
            facility_id.to_string(),
            contains_pattern(q),
            page.limit,
            page.offset
        ],
        person_from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Visitors whose name or e-mail contains `q` (any case), by name; a
/// scoped caller sees only the visitors linked to its facility.
pub fn search_visitors(
    conn: &Connection,
    _ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    q: &str,
    page: Page,
) -> Result<Vec<Visitor>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {VISITOR_COLUMNS} FROM visitors v
         WHERE (v.name LIKE ?2 ESCAPE '\\' OR v.email LIKE ?2 ESCAPE '\\')
           AND {VISITOR_IN_FACILITY}
         ORDER BY v.name, v.email LIMIT ?3 OFFSET ?4"
    ))?;
    let rows = stmt.query_map(
        params![
            scope.map(|s| s.to_string()),
            contains_pattern(q),
            page.limit,
            page.offset
        ],
        visitor_from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Visitors waiting for their photo ID check (not verified, not refused),
/// oldest registration first.
pub fn photo_id_queue(
    conn: &Connection,
    _ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    page: Page,
) -> Result<Vec<Visitor>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {VISITOR_COLUMNS} FROM visitors v
         WHERE v.photo_id_verified = 0 AND v.photo_id_denied_reason IS NULL
           AND {VISITOR_IN_FACILITY}
         ORDER BY v.created_at, v.rowid LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(
        params![scope.map(|s| s.to_string()), page.limit, page.offset],
        visitor_from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn visits_where(
    conn: &Connection,
    sql_where: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Visit>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {VISIT_COLUMNS} FROM visits WHERE {sql_where}
         ORDER BY starts_at DESC, id LIMIT ?3 OFFSET ?4"
    ))?;
    let rows = stmt
        .query_map(args, visit_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.iter()
        .map(|v| super::visits::to_wire(conn, v))
        .collect()
}

/// A person's visits, newest first.
pub fn person_visits(
    conn: &Connection,
    _ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    person_id: Uuid,
    page: Page,
) -> Result<Vec<Visit>> {
    person_in_scope(conn, scope, person_id)?;
    visits_where(
        conn,
        "person_id = ?1 AND ?2 IS NULL",
        params![
            person_id.to_string(),
            None::<String>,
            page.limit,
            page.offset
        ],
    )
}

/// A visitor's visits, newest first (a scoped caller: its facility's only).
pub fn visitor_visits(
    conn: &Connection,
    _ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    visitor_id: Uuid,
    page: Page,
) -> Result<Vec<Visit>> {
    people::get_visitor(conn, visitor_id)?;
    visitor_in_scope(conn, scope, visitor_id)?;
    visits_where(
        conn,
        "id IN (SELECT visit_id FROM visit_visitors WHERE visitor_id = ?1)
           AND (?2 IS NULL OR facility_id = ?2)",
        params![
            visitor_id.to_string(),
            scope.map(|s| s.to_string()),
            page.limit,
            page.offset
        ],
    )
}

/// A person's approved visitors, by name.
pub fn approved_visitors(
    conn: &Connection,
    _ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    person_id: Uuid,
    page: Page,
) -> Result<Vec<Visitor>> {
    person_in_scope(conn, scope, person_id)?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {VISITOR_COLUMNS} FROM visitors v JOIN approvals a ON a.visitor_id = v.id
         WHERE a.person_id = ?1 ORDER BY v.name, v.id LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(
        params![person_id.to_string(), page.limit, page.offset],
        visitor_from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The persons a visitor is approved for, by name (a scoped caller: its
/// facility's only).
pub fn approved_persons(
    conn: &Connection,
    _ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    visitor_id: Uuid,
    page: Page,
) -> Result<Vec<Person>> {
    people::get_visitor(conn, visitor_id)?;
    visitor_in_scope(conn, scope, visitor_id)?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {PERSON_COLUMNS} FROM persons p JOIN approvals a ON a.person_id = p.id
         WHERE a.visitor_id = ?1 AND (?2 IS NULL OR p.facility_id = ?2)
         ORDER BY p.name, p.id LIMIT ?3 OFFSET ?4"
    ))?;
    let rows = stmt.query_map(
        params![
            visitor_id.to_string(),
            scope.map(|s| s.to_string()),
            page.limit,
            page.offset
        ],
        person_from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
