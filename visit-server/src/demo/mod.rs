//! `visit-server demo`: a county jail like seed 001's, ready to use.
//!
//! Two housing units, four lobby monitors and two unit terminals, four
//! incarcerated persons and six visitors, visits for today and tomorrow
//! booked through the real rules (as if booked four days earlier), and a few
//! bookings the rules refuse, so the demo shows both sides. What it contains
//! is `seed.rs`; this module is the demo's clock, its printout and serving.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Days, Duration, Utc};
use protocol::TerminalRole;
use protocol::VisitKind;
use uuid::Uuid;

use crate::clock::{Clock, ShiftedClock, SystemClock};
use crate::db::Db;
use crate::domain::names::initials;
use crate::domain::policy::{KindPolicy, default_onsite_rules};
use crate::keys::Keys;
use crate::server::{self, AppState, ServerOptions};

mod seed;
pub use seed::seed;

/// What the demo created, for printing and for tests.
#[derive(Debug)]
pub struct DemoFacility {
    pub facility_id: Uuid,
    pub name: String,
    pub time_zone: chrono_tz::Tz,
    pub admin_token: String,
    /// The console's administrator `admin`'s password.
    pub console_password: String,
    /// (location, role, one-time enrolment code)
    pub terminals: Vec<(String, TerminalRole, String)>,
    pub visits: Vec<DemoVisit>,
    /// (what was tried, what the rules said)
    pub refusals: Vec<(String, String)>,
    /// The shifted time the demo runs at, when it is not the real time.
    pub demo_clock: Option<DateTime<Utc>>,
}

#[derive(Debug)]
pub struct DemoVisit {
    pub id: Uuid,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub kind: VisitKind,
    pub person: String,
    pub visitors: Vec<String>,
    pub pin: String,
    /// A remote visit's first visitor's join token (the `?token=` of the link).
    pub join_token: Option<String>,
}

/// The county jail's time zone (Jackson County, Missouri).
pub const DEMO_TZ: chrono_tz::Tz = chrono_tz::America::Chicago;

/// The time the demo lives at: now, if an on-site visit block is under way
/// at the county jail (weekdays 08:00-18:00), otherwise one minute into the
/// next on-site block. Its hours stay seed 001's; the demo moves in time
/// instead, so a lobby check-in can be tried at any hour. Terminals follow
/// the server's clock through the offset they measure at each heartbeat.
pub fn demo_now(real: DateTime<Utc>) -> DateTime<Utc> {
    let policy = KindPolicy::from_wire(&default_onsite_rules()).expect("the seed rules are valid");
    let today = real.with_timezone(&DEMO_TZ).date_naive();
    let slots = (0..8).flat_map(|d| policy.slots_on(DEMO_TZ, today + Days::new(d)));
    for start in slots {
        // Under way with at least half an hour left: use the real time.
        if start <= real && real < start + policy.block - Duration::minutes(30) {
            return real;
        }
        if start > real {
            return start + Duration::minutes(1);
        }
    }
    real
}

/// Print what a person trying the demo needs.
pub fn print(d: &DemoFacility, listen: Option<SocketAddr>) {
    let base = listen.map(|a| format!("http://{a}"));
    println!("Demo facility: {} ({})", d.name, d.time_zone.name());
    if let Some(at) = d.demo_clock {
        println!(
            "Demo clock:    {} (no on-site visits are under way now, so the demo runs from the next on-site block)",
            at.with_timezone(&d.time_zone).format("%a %d %b %H:%M")
        );
    }
    if let Some(addr) = listen {
        println!("API:           http://{addr}/api/v1  (OpenAPI: http://{addr}/openapi.json)");
    }
    println!("Admin token:   {}", d.admin_token);
    if let Some(addr) = listen {
        // `localhost`: browsers keep the console's Secure cookie there
        // without HTTPS.
        let host = if addr.ip().is_loopback() {
            "localhost".to_string()
        } else {
            addr.ip().to_string()
        };
        println!(
            "Staff console: http://{host}:{}/console/  (user admin, password {})",
            addr.port(),
            d.console_password
        );
    }
    println!("\nTerminals and their one-time enrolment codes (valid 72 h):");
    for (location, role, code) in &d.terminals {
        let role = match role {
            TerminalRole::Lobby => "lobby",
            TerminalRole::Unit => "unit",
        };
        println!("  {location:<18} {role:<6} {code}");
    }
    println!("\nVisits (the PIN is what each confirmation email carries):");
    if d.visits.is_empty() {
        println!("  (no visiting hours left today or tomorrow)");
    }
    for v in &d.visits {
        let s = v.start.with_timezone(&d.time_zone);
        let e = v.end.with_timezone(&d.time_zone);
        let kind = match v.kind {
            VisitKind::Onsite => "on-site",
            VisitKind::Remote => "remote",
        };
        println!(
            "  {} {}-{}  {kind:<8} {:<7} with {:<32} PIN {}",
            s.format("%a %d %b"),
            s.format("%H:%M"),
            e.format("%H:%M"),
            initials(&v.person),
            v.visitors.join(", "),
            v.pin
        );
        if let (Some(base), Some(url)) = (&base, join_url(v, "")) {
            println!("      {}'s join link: {base}{url}", v.visitors[0]);
        }
    }
    println!("\nThe rules at work:");
    for (what, said) in &d.refusals {
        println!("  {what}: {said}");
    }
}

/// A remote visit's join link (after `base`), for its first visitor.
fn join_url(v: &DemoVisit, base: &str) -> Option<String> {
    v.join_token
        .as_ref()
        .map(|t| format!("{base}/join/{}?token={t}", v.id))
}

/// The summary `kiosk-app demo` reads.
pub fn summary(d: &DemoFacility, server_url: &str) -> protocol::demo::DemoSummary {
    protocol::demo::DemoSummary {
        server_url: server_url.to_string(),
        facility: d.name.clone(),
        time_zone: d.time_zone.name().to_string(),
        terminals: d
            .terminals
            .iter()
            .map(|(location, role, code)| protocol::demo::DemoTerminal {
                location: location.clone(),
                role: *role,
                code: code.clone(),
            })
            .collect(),
        visits: d
            .visits
            .iter()
            .map(|v| protocol::demo::DemoVisit {
                id: v.id,
                kind: v.kind,
                start: v.start,
                end: v.end,
                person: initials(&v.person),
                pin: v.pin.clone(),
                join_url: join_url(v, server_url),
            })
            .collect(),
    }
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// `visit-server demo`.
pub fn run(
    data_dir: &Path,
    listen: SocketAddr,
    serve: bool,
    summary_path: Option<&Path>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let db_path = data_dir.join("visits.db");
    for suffix in ["", "-wal", "-shm"] {
        let p = data_dir.join(format!("visits.db{suffix}"));
        if p.exists() {
            std::fs::remove_file(&p)
                .with_context(|| format!("removing old demo file {}", p.display()))?;
        }
    }
    let keys = Arc::new(Keys::load_or_create(&data_dir.join("server.key"))?);
    let db = Db::open(&db_path)?;
    let real = SystemClock.now();
    let now = demo_now(real);
    let clock = ShiftedClock { shift: now - real };
    let mut demo = seed(&mut *db.conn()?, &keys, now)?;
    if (now - real).num_minutes().abs() > 1 {
        demo.demo_clock = Some(now);
    }
    if !serve {
        print(&demo, None);
        return Ok(());
    }
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen} (is another demo running?)"))?;
        let addr = listener.local_addr()?;
        print(&demo, Some(addr));
        if let Some(p) = summary_path {
            let s = summary(&demo, &format!("http://{addr}"));
            write_private(p, &serde_json::to_string_pretty(&s)?)?;
        }
        println!("\nServing until Ctrl-C.");
        let state = AppState::new(db, keys, Arc::new(clock));
        server::serve(
            listener,
            state,
            ServerOptions::default(),
            server::shutdown_signal(),
        )
        .await
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn chicago(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        DEMO_TZ
            .with_ymd_and_hms(2026, 11, d, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_demo_lives_when_the_lobby_is_open() {
        // Thursday 09:00: the 08:00 block is under way.
        assert_eq!(demo_now(chicago(19, 9, 0)), chicago(19, 9, 0));
        // Thursday 09:45: too little of it left; one minute into the 10:00 block.
        assert_eq!(demo_now(chicago(19, 9, 45)), chicago(19, 10, 1));
        // Friday evening and Saturday: Monday morning.
        assert_eq!(demo_now(chicago(20, 19, 0)), chicago(23, 8, 1));
        assert_eq!(demo_now(chicago(21, 15, 0)), chicago(23, 8, 1));
    }
}
