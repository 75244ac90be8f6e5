//! Facilities, their rules and housing units.

use chrono_tz::Tz;
use protocol::admin::{Facility, FacilityUpdate, HousingUnit, NewFacility, NewHousingUnit};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{Ctx, Error, Result, json_at, uuid_at};
use crate::db::ts;
use crate::domain::policy::{
    InvalidRules, Kind, KindPolicy, default_onsite_rules, default_remote_rules,
};

/// A facility as the rules need it.
#[derive(Debug, Clone)]
pub struct FacilityRow {
    pub id: Uuid,
    pub name: String,
    pub tz: Tz,
    pub pin_length: u8,
    pub max_visitors: u8,
    pub onsite: KindPolicy,
    pub remote: KindPolicy,
    pub schedule_version: i64,
    pub ice_servers: Vec<protocol::signal::IceServer>,
    pub languages: Vec<String>,
    pub require_totp_for_admins: bool,
    /// Days a visit's recording is kept after the visit ended.
    pub recording_retention_days: u32,
}

impl FacilityRow {
    pub fn policy(&self, kind: Kind) -> &KindPolicy {
        match kind {
            Kind::Onsite => &self.onsite,
            Kind::Remote => &self.remote,
        }
    }

    pub fn to_wire(&self) -> Facility {
        Facility {
            id: self.id,
            name: self.name.clone(),
            time_zone: self.tz.name().to_string(),
            pin_length: self.pin_length,
            max_visitors_per_visit: self.max_visitors,
            onsite: self.onsite.to_wire(),
            remote: self.remote.to_wire(),
            ice_servers: self.ice_servers.clone(),
            languages: self.languages.clone(),
            require_totp_for_admins: self.require_totp_for_admins,
            recording_retention_days: self.recording_retention_days,
        }
    }
}

pub fn create(conn: &Connection, ctx: &Ctx<'_>, req: &NewFacility) -> Result<Facility> {
    let name = req.name.trim();
    if name.is_empty() {
        return Err(Error::Invalid("a facility needs a name".into()));
    }
    let tz: Tz = req.time_zone.parse().map_err(|_| {
        Error::Invalid(format!(
            "'{}' is not an IANA time zone such as America/Chicago",
            req.time_zone
        ))
    })?;
    let pin_length = req.pin_length.unwrap_or(6);
    if !(4..=10).contains(&pin_length) {
        return Err(Error::Invalid("pin_length must be between 4 and 10".into()));
    }
    let max_visitors = req.max_visitors_per_visit.unwrap_or(3);
    if !(1..=10).contains(&max_visitors) {
        return Err(Error::Invalid(
            "max_visitors_per_visit must be between 1 and 10".into(),
        ));
    }
    let onsite = req.onsite.clone().unwrap_or_else(default_onsite_rules);
    let remote = req.remote.clone().unwrap_or_else(default_remote_rules);
    let invalid = |kind: &str, e: crate::domain::policy::InvalidRules| {
        Error::Invalid(format!("{kind} rules: {e}"))
    };
    let onsite_p = KindPolicy::from_wire(&onsite).map_err(|e| invalid("onsite", e))?;
    let remote_p = KindPolicy::from_wire(&remote).map_err(|e| invalid("remote", e))?;
    let id = Uuid::new_v4();
    conn.execute(
        "INSERT INTO facilities (id, name, time_zone, pin_length, max_visitors_per_visit,
            onsite_rules, remote_rules, created_at, ice_servers)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            id.to_string(),
            name,
            tz.name(),
            pin_length,
            max_visitors,
            serde_json::to_string(&onsite_p.to_wire()).expect("rules serialise"),
            serde_json::to_string(&remote_p.to_wire()).expect("rules serialise"),
            ts(ctx.now),
            serde_json::to_string(&req.ice_servers).expect("ICE servers serialise")
        ],
    )?;
    tracing::info!(facility_id = %id, name, actor = ctx.actor, "facility created");
    Ok(get(conn, id)?.to_wire())
}

pub fn get(conn: &Connection, id: Uuid) -> Result<FacilityRow> {
    conn.query_row(
        "SELECT id, name, time_zone, pin_length, max_visitors_per_visit, onsite_rules,
                remote_rules, schedule_version, ice_servers, languages, require_totp_for_admins,
                recording_retention_days
         FROM facilities WHERE id = ?1",
        [id.to_string()],
        |r| {
            let tz_name: String = r.get(2)?;
            let onsite: protocol::admin::KindRules = json_at(r, 5)?;
            let remote: protocol::admin::KindRules = json_at(r, 6)?;
            let bad = |idx, e: String| {
                rusqlite::Error::FromSqlConversionFailure(
                    idx,
                    rusqlite::types::Type::Text,
                    e.into(),
                )
            };
            Ok(FacilityRow {
                id: uuid_at(r, 0)?,
                name: r.get(1)?,
                tz: tz_name.parse().map_err(|_| bad(2, tz_name.clone()))?,
                pin_length: r.get(3)?,
                max_visitors: r.get(4)?,
                onsite: KindPolicy::from_wire(&onsite).map_err(|e| bad(5, e.0))?,
                remote: KindPolicy::from_wire(&remote).map_err(|e| bad(6, e.0))?,
                schedule_version: r.get(7)?,
                ice_servers: json_at(r, 8)?,
                languages: json_at(r, 9)?,
                require_totp_for_admins: r.get(10)?,
                recording_retention_days: r.get(11)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| Error::not_found("facility", id))
}

/// The longest a facility may keep recordings: ten years.
pub const MAX_RETENTION_DAYS: u32 = 3650;

/// The languages a facility may offer.
pub const LANGUAGES: [&str; 2] = ["en", "es"];

/// Change a facility's settings; what is not given stays. Bookings made
/// afterwards follow the new rules; visits already booked keep their times.
pub fn update(
    conn: &mut Connection,
    ctx: &Ctx<'_>,
    scope: Option<Uuid>,
    id: Uuid,
    req: &FacilityUpdate,
) -> Result<Facility> {
    super::in_scope(scope, id, "facility", id)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut f = get(&tx, id)?;
    if let Some(name) = &req.name {
        f.name = name.trim().to_string();
        if f.name.is_empty() {
            return Err(Error::Invalid("a facility needs a name".into()));
        }
    }
    if let Some(n) = req.max_visitors_per_visit {
        if !(1..=10).contains(&n) {
            return Err(Error::Invalid(
                "max_visitors_per_visit must be between 1 and 10".into(),
            ));
        }
        f.max_visitors = n;
    }
    let invalid = |kind: &str, e: InvalidRules| Error::Invalid(format!("{kind} rules: {e}"));
    if let Some(r) = &req.onsite {
        f.onsite = KindPolicy::from_wire(r).map_err(|e| invalid("onsite", e))?;
    }
    if let Some(r) = &req.remote {
        f.remote = KindPolicy::from_wire(r).map_err(|e| invalid("remote", e))?;
    }
    if let Some(ice) = &req.ice_servers {
        f.ice_servers = ice.clone();
    }
    if let Some(langs) = &req.languages {
        if langs.is_empty() || langs.iter().any(|l| !LANGUAGES.contains(&l.as_str())) {
            return Err(Error::Invalid(format!(
                "languages must be a non-empty list of {}",
                LANGUAGES.join(", ")
            )));
        }
        f.languages = langs.clone();
        f.languages.dedup();
    }
    if let Some(totp) = req.require_totp_for_admins {
        f.require_totp_for_admins = totp;
    }
    if let Some(days) = req.recording_retention_days {
        if !(1..=MAX_RETENTION_DAYS).contains(&days) {
            return Err(Error::Invalid(format!(
                "recording_retention_days must be between 1 and {MAX_RETENTION_DAYS}"
            )));
        }
        f.recording_retention_days = days;
    }
    tx.execute(
        "UPDATE facilities SET name = ?2, max_visitors_per_visit = ?3, onsite_rules = ?4,
             remote_rules = ?5, ice_servers = ?6, languages = ?7, require_totp_for_admins = ?8,
             recording_retention_days = ?9
         WHERE id = ?1",
        params![
            id.to_string(),
            f.name,
            f.max_visitors,
            json(&f.onsite.to_wire()),
            json(&f.remote.to_wire()),
            json(&f.ice_servers),
            json(&f.languages),
            f.require_totp_for_admins,
            f.recording_retention_days
        ],
    )?;
    // Terminals show join windows and the facility's name.
    bump_schedule(&tx, id)?;
    tx.commit()?;
    tracing::info!(facility_id = %id, actor = ctx.actor, "facility settings changed");
    Ok(get(conn, id)?.to_wire())
}

/// A settings value as stored (JSON).
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("settings serialise")
}

/// Mark the facility's schedule as changed; call inside the changing transaction.
pub fn bump_schedule(conn: &Connection, id: Uuid) -> Result<()> {
    conn.execute(
        "UPDATE facilities SET schedule_version = schedule_version + 1 WHERE id = ?1",
        [id.to_string()],
    )?;
    Ok(())
}

pub fn create_housing_unit(
    conn: &Connection,
    ctx: &Ctx<'_>,
    facility_id: Uuid,
    req: &NewHousingUnit,
) -> Result<HousingUnit> {
    get(conn, facility_id)?;
    let name = req.name.trim();
    if name.is_empty() {
        return Err(Error::Invalid("a housing unit needs a name".into()));
    }
    let id = Uuid::new_v4();
    let inserted = conn.execute(
        "INSERT INTO housing_units (id, facility_id, name) VALUES (?1, ?2, ?3)
         ON CONFLICT (facility_id, name) DO NOTHING",
        params![id.to_string(), facility_id.to_string(), name],
    )?;
    if inserted == 0 {
        return Err(Error::Conflict(format!(
            "the facility already has a housing unit named '{name}'"
        )));
    }
    tracing::info!(facility_id = %facility_id, housing_unit_id = %id, actor = ctx.actor, "housing unit created");
    Ok(HousingUnit {
        id,
        facility_id,
        name: name.to_string(),
    })
}

/// The facility a housing unit belongs to.
pub fn housing_unit_facility(conn: &Connection, id: Uuid) -> Result<Uuid> {
    conn.query_row(
        "SELECT facility_id FROM housing_units WHERE id = ?1",
        [id.to_string()],
        |r| uuid_at(r, 0),
    )
    .optional()?
    .ok_or_else(|| Error::not_found("housing unit", id))
}

/// A facility's housing units (id, name), by name.
pub fn housing_units(conn: &Connection, facility: Uuid) -> Result<Vec<(Uuid, String)>> {
    let mut stmt =
        conn.prepare("SELECT id, name FROM housing_units WHERE facility_id = ?1 ORDER BY name")?;
    let rows = stmt.query_map([facility.to_string()], |r| {
        Ok((super::uuid_at(r, 0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
