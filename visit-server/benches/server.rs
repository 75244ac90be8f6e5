//! How the terminal schedule holds up at the size of a very large facility.
//!
//! Run with `cargo bench -p visit-server --bench server` (about 70 s once built;
//! see BENCHMARKS.md). It prepares, in a temporary directory, one facility
//! with 10,000 on-site visits today and 1,000 enrolled lobby terminals, then
//! measures:
//!
//! 1. the day schedule a lobby terminal gets: `service::schedule::build`
//!    called directly, a full `GET /api/v1/terminal/schedule` over loopback,
//!    and the unchanged-ETag poll (`If-None-Match` -> `304`);
//! 2. 1,000 terminals polling every 10 s for 60 s, each with its own
//!    credential and connection: latency, and the server's CPU (utime+stime
//!    from `/proc/<pid>/stat`) and peak RSS (`VmHWM`).
//!
//! Why: terminals poll the schedule all day and fall back to their cached
//! copy when the server is slow, so the poll must stay cheap and the full
//! body small enough to fetch quickly after every change.
//!
//! The server is the real `visit-server serve` binary in its own process, so
//! its CPU and memory are its own. Persons, visitors and visits are inserted
//! with SQL in one transaction, bypassing the booking rules (which would
//! refuse 10,000 on-site visits for one lobby); the facility and terminals go
//! through the service functions. Only 127.0.0.1 is contacted.

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use axum::body::Bytes;
use chrono::{DateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use protocol::TerminalRole;
use protocol::admin::{NewFacility, NewHousingUnit, NewTerminal};
use protocol::terminal::{EnrolRequest, Schedule};
use reqwest::header::{ETAG, IF_NONE_MATCH};
use reqwest::{Client, StatusCode};
use rusqlite::params;
use uuid::Uuid;
use visit_server::clock::{Clock, SystemClock};
use visit_server::db::{Db, ts};
use visit_server::keys::{Keys, pin_verifier};
use visit_server::service::{Ctx, facilities, schedule, terminals};

/// How big the fixture is and how long each measure runs.
struct Size {
    visits: usize,
    persons: usize,
    terminals: usize,
    build_runs: usize,
    full_get_runs: usize,
    poll_304_runs: usize,
    poll_every: Duration,
    poll_for: Duration,
}

/// The figures BENCHMARKS.md quotes.
const FULL: Size = Size {
    visits: 10_000,
    persons: 5_000,
    terminals: 1_000,
    build_runs: 30,
    full_get_runs: 30,
    poll_304_runs: 300,
    poll_every: Duration::from_secs(10),
    poll_for: Duration::from_secs(60),
};

/// `-- --quick` (what `.ci/run` runs): a small fleet, a few seconds.
const QUICK: Size = Size {
    visits: 500,
    persons: 250,
    terminals: 50,
    build_runs: 3,
    full_get_runs: 3,
    poll_304_runs: 30,
    poll_every: Duration::from_secs(1),
    poll_for: Duration::from_secs(3),
};

fn sizes() -> &'static Size {
    if std::env::args().any(|a| a == "--quick") {
        &QUICK
    } else {
        &FULL
    }
}

const FIRST: &str = "James Maria Robert Linda Michael Patricia David Jennifer Kevin Emily";
const LAST: &str = "Smith Johnson Williams Brown Jones Garcia Miller Davis Lopez Wilson";

type Report = Vec<(&'static str, String)>;

fn name(i: usize) -> String {
    let pick = |list: &str, n: usize| list.split(' ').nth(n % 10).unwrap_or("X").to_string();
    format!("{} {}", pick(FIRST, i), pick(LAST, i / 10))
}

fn ctx(keys: &Keys) -> Ctx<'_> {
    let (now, actor) = (SystemClock.now(), "bench");
    Ctx { keys, now, actor }
}

/// The `Etc/GMT±h` zone whose local time is just past midnight, so all of
/// "today"'s visits (08:00-20:00 local) lie ahead: the server's clock tick
/// then changes nothing, and the ETag stays valid through the run.
fn zone_just_past_midnight(now: DateTime<Utc>) -> (String, Tz) {
    (-12..=14)
        .map(|h: i32| match h {
            0 => "Etc/GMT".to_string(),
            h if h > 0 => format!("Etc/GMT-{h}"), // POSIX sign: GMT-3 is UTC+3
            h => format!("Etc/GMT+{}", -h),
        })
        .map(|name| (name.clone(), name.parse().expect("the Etc/GMT zones exist")))
        .min_by_key(|(_, tz)| now.with_timezone(tz).num_seconds_from_midnight())
        .expect("27 zones")
}

struct Fixture {
    dir: tempfile::TempDir,
    zone: String,
    /// One enrolled credential per lobby terminal.
    creds: Vec<String>,
}

fn prepare(dir: tempfile::TempDir) -> anyhow::Result<Fixture> {
    let keys = Keys::load_or_create(&dir.path().join("server.key"))?;
    let db = Db::open(&dir.path().join("visits.db"))?;
    let mut conn = db.conn()?;
    // This set-up connection only: 2,000 small commits without an fsync each.
    conn.pragma_update(None, "synchronous", "OFF")?;
    let ctx = ctx(&keys);
    let (zone, tz) = zone_just_past_midnight(ctx.now);
    let new = NewFacility {
        name: "Bench County Jail".into(),
        time_zone: zone.clone(),
        pin_length: Some(6),
        max_visitors_per_visit: None,
        onsite: None,
        remote: None,
        ice_servers: vec![],
    };
    let facility = facilities::create(&conn, &ctx, &new)?.id;
    let mut units = Vec::new();
    for u in 0..10 {
        let name = format!("Pod {u}");
        let new = NewHousingUnit { name };
        let unit = facilities::create_housing_unit(&conn, &ctx, facility, &new)?;
        units.push(unit.id.to_string());
    }
    let mut creds = Vec::with_capacity(sizes().terminals);
    for n in 1..=sizes().terminals {
        let (role, location) = (TerminalRole::Lobby, format!("Lobby monitor {n}"));
        let new = NewTerminal {
            role,
            location,
            housing_unit_id: None,
        };
        let code = terminals::create(&conn, &ctx, facility, &new)?.code;
        let req = EnrolRequest {
            code,
            software_version: "bench".into(),
        };
        creds.push(terminals::enrol(&mut conn, &ctx, &req)?.credential);
    }

    let today = ctx.now.with_timezone(&tz).date_naive();
    let (day_key, date) = (keys.day_key(facility, today), today.to_string());
    let (fid, at) = (facility.to_string(), ts(ctx.now));
    let uuid = |_| Uuid::new_v4().to_string();
    let persons: Vec<String> = (0..sizes().persons).map(uuid).collect();
    let visitors: Vec<String> = (0..sizes().visits).map(uuid).collect();
    let tx = conn.transaction()?;
    let mut person = tx.prepare(
        "INSERT INTO persons (id, facility_id, number, name, housing_unit_id, pin_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'unused', ?6)",
    )?;
    for (i, id) in persons.iter().enumerate() {
        let number = format!("B-{i:05}");
        person.execute(params![id, fid, number, name(i), units[i % 10], at])?;
    }
    let mut visitor = tx.prepare(
        "INSERT INTO visitors (id, name, email, date_of_birth, photo_id_verified, created_at)
         VALUES (?1, ?2, ?3, '1980-01-01', 1, ?4)",
    )?;
    for (i, id) in visitors.iter().enumerate() {
        let email = format!("v{i}@example.org");
        visitor.execute(params![id, name(i + 3), email, at])?;
    }
    let mut visit = tx.prepare(
        "INSERT INTO visits (id, facility_id, person_id, kind, starts_at, ends_at, local_date,
            status, pin_hash, price_cents, charge, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'onsite', ?4, ?5, ?6, 'scheduled', ?7, 0, 'free', ?8, ?8)",
    )?;
    let mut with = tx.prepare(
        "INSERT INTO visit_visitors (visit_id, visitor_id, position) VALUES (?1, ?2, ?3)",
    )?;
    for i in 0..sizes().visits {
        // Six two-hour blocks from 08:00 local; a person's two visits differ.
        let hour = NaiveTime::from_hms_opt(8 + 2 * (i % 6) as u32, 0, 0).expect("valid");
        let start = tz.from_local_datetime(&today.and_time(hour)).unwrap();
        let start = start.to_utc();
        let (s, e) = (ts(start), ts(start + chrono::Duration::hours(2)));
        let id = Uuid::new_v4().to_string();
        let pin = pin_verifier(&day_key, &format!("{i:06}"));
        visit.execute(params![
            id,
            fid,
            persons[i % sizes().persons],
            s,
            e,
            date,
            pin,
            at
        ])?;
        with.execute(params![id, visitors[i], 0])?;
        if i % 3 == 0 {
            with.execute(params![id, visitors[(i + 1) % sizes().visits], 1])?;
        }
    }
    drop((person, visitor, visit, with));
    tx.commit()?;
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
    Ok(Fixture { dir, zone, creds })
}

/// Median and nearest-rank p99 (with 30 samples, p99 is the slowest).
fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let at = |p: f64| ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1;
    let (p50, p99) = (ms(samples[at(0.5)]), ms(samples[at(0.99)]));
    format!("median {p50}, p99 {p99} (n={})", samples.len())
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// 1a: `schedule::build` in this process, on the real clock, then to JSON.
fn build_times(fx: &Fixture, report: &mut Report) -> anyhow::Result<()> {
    let keys = Keys::load_or_create(&fx.dir.path().join("server.key"))?;
    let db = Db::open(&fx.dir.path().join("visits.db"))?;
    let mut conn = db.conn()?;
    let lobby = terminals::authenticate(&conn, &ctx(&keys), &fx.creds[0])?;
    let lobby = lobby.context("terminal 0 authenticates")?;
    let (mut build, mut with_json) = (Vec::new(), Vec::new());
    for run in 0..=sizes().build_runs {
        let t0 = Instant::now();
        let s = schedule::build(&mut conn, &ctx(&keys), &lobby)?;
        let built = t0.elapsed();
        let body = serde_json::to_vec(&s)?;
        if run == 0 {
            let n: usize = s.days.iter().map(|d| d.visits.len()).sum();
            ensure!(
                n == sizes().visits,
                "the lobby sees {n} visits, not {}",
                sizes().visits
            );
            println!("schedule: {n} visits, {} bytes of JSON", body.len());
        } else {
            build.push(built);
            with_json.push(t0.elapsed());
        }
    }
    let label = format!("schedule::build ({} visits)", sizes().visits);
    report.push((Box::leak(label.into_boxed_str()), summary(build)));
    report.push(("schedule::build + serde_json::to_vec", summary(with_json)));
    Ok(())
}

/// The server child process, killed when dropped (also on panic).
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_server(dir: &Path) -> anyhow::Result<Server> {
    let config = visit_server::config::DEFAULT_CONFIG;
    if Path::new(config).exists() {
        eprintln!("note: the server also reads {config}");
    }
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(env!("CARGO_BIN_EXE_visit-server"))
        .arg("serve")
        .env("VISIT_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .env("VISIT_SERVER_DATABASE", dir.join("visits.db"))
        .env("VISIT_SERVER_KEY_FILE", dir.join("server.key"))
        .env("RUST_LOG", "warn")
        .env_remove("CREDENTIALS_DIRECTORY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("server.log"))?)
        .spawn()
        .context("starting visit-server serve")?;
    let url = format!("http://127.0.0.1:{port}/api/v1/terminal/schedule");
    let mut server = Server { child, url };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = server.child.try_wait()? {
            let log = std::fs::read_to_string(dir.join("server.log"))?;
            bail!("the server exited ({status}) before listening:\n{log}");
        }
        ensure!(Instant::now() < deadline, "no server after 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(server)
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let rest = &stat[stat.rfind(')').context("malformed stat")? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect(); // f[0] is field 3 (state)
    let ticks = f[11].parse::<u64>()? + f[12].parse::<u64>()?;
    let hz = Command::new("getconf").arg("CLK_TCK").output().ok();
    let hz = hz.and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok());
    Ok(ticks as f64 / hz.unwrap_or(100.0))
}

/// A `/proc/<pid>/status` value in MiB, e.g. `VmHWM`.
fn status_mib(pid: u32, field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with(&format!("{field}:")));
    let kb = line.and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok());
    Ok(kb.with_context(|| format!("no {field} in /proc/{pid}/status"))? / 1024.0)
}

fn client() -> Client {
    let c = reqwest::Client::builder().no_proxy();
    let c = c.timeout(Duration::from_secs(30)).build();
    c.expect("a plain HTTP client builds")
}

/// What one schedule request got; `took` includes reading the whole body.
struct Answer {
    status: StatusCode,
    etag: String,
    body: Bytes,
    took: Duration,
}

async fn get(c: &Client, url: &str, cred: &str, held: Option<&str>) -> anyhow::Result<Answer> {
    let t0 = Instant::now();
    let mut req = c.get(url).bearer_auth(cred);
    if let Some(etag) = held {
        req = req.header(IF_NONE_MATCH, etag);
    }
    let resp = req.send().await?;
    let (status, etag) = (resp.status(), resp.headers().get(ETAG).cloned());
    let etag = etag.and_then(|v| v.to_str().ok().map(str::to_owned));
    let body = resp.bytes().await?;
    let (etag, took) = (etag.unwrap_or_default(), t0.elapsed());
    Ok(Answer {
        status,
        etag,
        body,
        took,
    })
}

/// 1b and 1c, one request at a time; returns the current ETag.
async fn one_by_one(url: &str, creds: &[String], pid: u32) -> anyhow::Result<(String, Report)> {
    // The first full GET builds and caches the body on the server; later
    // ones (any lobby terminal of the facility) are served from that cache.
    let c = client();
    let first = get(&c, url, &creds[0], None).await?;
    ensure!(first.status == StatusCode::OK, "GET: {}", first.status);
    let (etag, size) = (first.etag, first.body.len());
    let s: Schedule = serde_json::from_slice(&first.body)?;
    ensure!(s.version == etag && s.days[0].visits.len() == sizes().visits);
    let mut full = Vec::new();
    for i in 0..sizes().full_get_runs {
        let a = get(&c, url, &creds[i % sizes().terminals], None).await?;
        ensure!(a.status == StatusCode::OK && a.body.len() == size);
        full.push(a.took);
    }
    let mut polls = Vec::new();
    for i in 0..sizes().poll_304_runs {
        let a = get(&c, url, &creds[i % sizes().terminals], Some(&etag)).await?;
        ensure!(a.status == StatusCode::NOT_MODIFIED, "poll: {}", a.status);
        polls.push(a.took);
    }
    let full = format!("{}, {size} B", summary(full));
    let hwm = format!("VmHWM {:.1} MiB", status_mib(pid, "VmHWM")?);
    let report = vec![
        ("GET schedule, first (builds, caches)", ms(first.took)),
        ("GET schedule, full body", full),
        ("GET schedule, If-None-Match -> 304", summary(polls)),
        ("server peak RSS so far", hwm),
    ];
    Ok((etag, report))
}

/// 2: every terminal with its own client (connection) and credential, polls
/// spread evenly over the interval, each loop bounded in count and time.
async fn fleet(url: &str, creds: &[String], etag: &str, pid: u32) -> anyhow::Result<Report> {
    let clients: Vec<Client> = creds.iter().map(|_| client()).collect();
    let start = tokio::time::Instant::now() + Duration::from_millis(200);
    let deadline = start + sizes().poll_for;
    let max_polls = (sizes().poll_for.as_secs() / sizes().poll_every.as_secs()) as u32 + 1;
    let (cpu0, wall0) = (cpu_seconds(pid)?, Instant::now());
    let mut tasks = Vec::with_capacity(creds.len());
    for (i, (c, cred)) in clients.into_iter().zip(creds.to_vec()).enumerate() {
        let (url, mut held, mut out) = (url.to_string(), etag.to_string(), Vec::new());
        let first = start + sizes().poll_every * i as u32 / creds.len() as u32;
        tasks.push(tokio::spawn(async move {
            for k in 0..max_polls {
                let at = first + sizes().poll_every * k;
                if at >= deadline {
                    break;
                }
                tokio::time::sleep_until(at).await;
                let r = get(&c, &url, &cred, Some(&held)).await;
                let fresh = r.as_ref().ok().filter(|a| a.status == StatusCode::OK);
                if let Some(a) = fresh {
                    held.clone_from(&a.etag);
                }
                out.push(r.map(|a| (a.status.as_u16(), a.took)));
            }
            out
        }));
    }
    let (mut took, mut statuses, mut errors) = (Vec::new(), BTreeMap::new(), Vec::new());
    for task in tasks {
        for r in task.await? {
            match r {
                Ok((status, d)) => {
                    *statuses.entry(status).or_insert(0) += 1;
                    took.push(d);
                }
                Err(e) => errors.push(e),
            }
        }
    }
    let (wall, cpu) = (wall0.elapsed().as_secs_f64(), cpu_seconds(pid)? - cpu0);
    if let Some(e) = errors.first() {
        println!("first of {} failed polls: {e:#}", errors.len());
    }
    let (n, failed, share) = (took.len(), errors.len(), 100.0 * cpu / wall);
    let (hwm, rss) = (status_mib(pid, "VmHWM")?, status_mib(pid, "VmRSS")?);
    let mem = format!("VmHWM {hwm:.1} MiB, VmRSS {rss:.1} MiB");
    let polls = format!("{n} answered, status {statuses:?}, {failed} failed");
    let cpu = format!("{share:.1}% of one core ({cpu:.2} s CPU in {wall:.1} s)");
    Ok(vec![
        (
            Box::leak(
                format!(
                    "{} terminals, a poll each {} s, {} s",
                    sizes().terminals,
                    sizes().poll_every.as_secs(),
                    sizes().poll_for.as_secs()
                )
                .into_boxed_str(),
            ),
            polls,
        ),
        ("  poll latency", summary(took)),
        ("  server CPU", cpu),
        ("  server memory", mem),
    ])
}

fn main() -> anyhow::Result<()> {
    // `cargo test --benches` runs this without `--bench`: don't take minutes there.
    if !std::env::args().any(|a| a == "--bench") {
        println!("run with `cargo bench -p visit-server --bench server`");
        return Ok(());
    }
    let t0 = Instant::now();
    let fx = prepare(tempfile::tempdir()?)?;
    let took = t0.elapsed().as_secs_f64();
    println!("fixture ready in {took:.1} s, time zone {}", fx.zone);
    let mut report = Report::new();
    build_times(&fx, &mut report)?;
    let server = spawn_server(fx.dir.path())?;
    let (url, pid) = (server.url.clone(), server.child.id());
    let rt = tokio::runtime::Runtime::new()?; // multi-threaded
    let (etag, single) = rt.block_on(one_by_one(&url, &fx.creds, pid))?;
    report.extend(single);
    report.extend(rt.block_on(fleet(&url, &fx.creds, &etag, pid))?);
    drop(server);
    println!("\n{:<40} result\n{}", "measure", "-".repeat(100));
    for (what, result) in &report {
        println!("{what:<40} {result}");
    }
    Ok(())
}
