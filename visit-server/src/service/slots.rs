//! The start times a booking would accept: the facility's hours and block
//! grid, the advance-booking window, the person free (when given), and for
//! on-site visits a free lobby terminal. The same checks as
//! [`super::booking`], so an offered slot books (for eligible visitors) and
//! a slot the rules refuse is not offered.

use chrono::NaiveDate;
use protocol::VisitKind;
use protocol::admin::FreeSlot;
use rusqlite::Connection;
use uuid::Uuid;

use super::booking::{check_lobby_free, person_busy};
use super::directory::person_in_scope;
use super::{Ctx, Error, Result, facilities, in_scope};
use crate::domain::policy::Kind;

/// The bookable starts of `kind` on the facility-local `date`, for
/// `person` when given.
pub fn free_slots(
    conn: &Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    facility_id: Uuid,
    date: NaiveDate,
    kind: VisitKind,
    person: Option<Uuid>,
) -> Result<Vec<FreeSlot>> {
    in_scope(scope, facility_id, "facility", facility_id)?;
    let f = facilities::get(conn, facility_id)?;
    // Nothing is bookable years away; and the end of the calendar has no
    // room for a visit's end.
    let today = ctx.now.with_timezone(&f.tz).date_naive();
    if (date - today).num_days().abs() > 3 * 366 {
        return Ok(Vec::new());
    }
    if let Some(p) = person
        && person_in_scope(conn, scope, p)?.facility_id != facility_id
    {
        return Err(Error::Invalid(
            "the person is held at another facility".into(),
        ));
    }
    let kind = Kind::from_wire(kind);
    let policy = f.policy(kind);
    let mut out = Vec::new();
    for start in policy.slots_on(f.tz, date) {
        let Ok(end) = policy.check_slot(f.tz, start, ctx.now) else {
            continue;
        };
        if let Some(p) = person
            && person_busy(conn, p, start, end, None)?
        {
            continue;
        }
        if kind == Kind::Onsite {
            match check_lobby_free(conn, facility_id, start, end, None) {
                Ok(()) => {}
                Err(Error::Refused(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        out.push(FreeSlot { start, end });
    }
    Ok(out)
}
