//! How the terminal schedule holds up at the size of a very large facility.
//!
//! Run with `cargo bench -p visit-server --bench server` (about two minutes;
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
use chrono::{DateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use protocol::TerminalRole;
use protocol::admin::{NewFacility, NewHousingUnit, NewTerminal};
use protocol::terminal::{EnrolRequest, Schedule};
use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_NONE_MATCH};
use rusqlite::params;
use uuid::Uuid;
use visit_server::clock::{Clock, SystemClock};
use visit_server::db::{Db, ts};
use visit_server::keys::{Keys, pin_verifier};
use visit_server::service::{Ctx, facilities, schedule, terminals};

const VISITS: usize = 10_000;
const PERSONS: usize = 5_000;
const TERMINALS: usize = 1_000;
const BUILD_RUNS: usize = 30;
const FULL_GET_RUNS: usize = 30;
const POLL_304_RUNS: usize = 300;
const POLL_EVERY: Duration = Duration::from_secs(10);
const POLL_FOR: Duration = Duration::from_secs(60);
const FIRST: &str = "James Maria Robert Linda Michael Patricia David Jennifer Kevin Emily";
const LAST: &str = "Smith Johnson Williams Brown Jones Garcia Miller Davis Lopez Wilson";

type Report = Vec<(String, String)>;

fn name(i: usize) -> String {
    let pick = |list: &str, n: usize| list.split(' ').nth(n % 10).unwrap_or("X").to_string();
    format!("{} {}", pick(FIRST, i), pick(LAST, i / 10))
}

fn ctx(keys: &Keys) -> Ctx<'_> {
    let now = SystemClock.now();
    Ctx {
        keys,
        now,
        actor: "bench",
    }
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
    credentials: Vec<String>,
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
    };
    let facility = facilities::create(&conn, &ctx, &new)?.id;
    let mut units = Vec::new();
    for u in 0..10 {
        let new = NewHousingUnit {
            name: format!("Pod {u}"),
        };
        units.push(
            facilities::create_housing_unit(&conn, &ctx, facility, &new)?
                .id
                .to_string(),
        );
    }
    let mut credentials = Vec::with_capacity(TERMINALS);
    for n in 1..=TERMINALS {
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
        credentials.push(terminals::enrol(&mut conn, &ctx, &req)?.credential);
    }

    let today = ctx.now.with_timezone(&tz).date_naive();
    let (day_key, date) = (keys.day_key(facility, today), today.to_string());
    let (fid, at) = (facility.to_string(), ts(ctx.now));
    let uuids = |n| {
        (0..n)
            .map(|_| Uuid::new_v4().to_string())
            .collect::<Vec<_>>()
    };
    let (persons, visitors) = (uuids(PERSONS), uuids(VISITS));
    let tx = conn.transaction()?;
    let mut person = tx.prepare(
        "INSERT INTO persons (id, facility_id, number, name, housing_unit_id, pin_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'unused', ?6)",
    )?;
    for (i, id) in persons.iter().enumerate() {
        person.execute(params![
            id,
            fid,
            format!("B-{i:05}"),
            name(i),
            units[i % 10],
            at
        ])?;
    }
    let mut visitor = tx.prepare(
        "INSERT INTO visitors (id, name, email, date_of_birth, photo_id_verified, created_at)
         VALUES (?1, ?2, ?3, '1980-01-01', 1, ?4)",
    )?;
    for (i, id) in visitors.iter().enumerate() {
        visitor.execute(params![id, name(i + 3), format!("v{i}@example.org"), at])?;
    }
    let mut visit = tx.prepare(
        "INSERT INTO visits (id, facility_id, person_id, kind, starts_at, ends_at, local_date,
            status, pin_hash, price_cents, charge, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'onsite', ?4, ?5, ?6, 'scheduled', ?7, 0, 'free', ?8, ?8)",
    )?;
    let mut with = tx.prepare(
        "INSERT INTO visit_visitors (visit_id, visitor_id, position) VALUES (?1, ?2, ?3)",
    )?;
    for i in 0..VISITS {
        // Six two-hour blocks from 08:00 local; a person's two visits differ.
        let local = today.and_time(NaiveTime::from_hms_opt(8 + 2 * (i % 6) as u32, 0, 0).unwrap());
        let start = tz
            .from_local_datetime(&local)
            .single()
            .context("no DST in Etc zones")?;
        let (start, end) = (
            ts(start.to_utc()),
            ts(start.to_utc() + chrono::Duration::hours(2)),
        );
        let (id, pin) = (
            Uuid::new_v4().to_string(),
            pin_verifier(&day_key, &format!("{i:06}")),
        );
        visit.execute(params![
            id,
            fid,
            persons[i % PERSONS],
            start,
            end,
            date,
            pin,
            at
        ])?;
        with.execute(params![id, visitors[i], 0])?;
        if i % 3 == 0 {
            with.execute(params![id, visitors[(i + 1) % VISITS], 1])?;
        }
    }
    drop((person, visitor, visit, with));
    tx.commit()?;
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
    Ok(Fixture {
        dir,
        zone,
        credentials,
    })
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
    let lobby = terminals::authenticate(&conn, &ctx(&keys), &fx.credentials[0])?;
    let lobby = lobby.context("terminal 0 authenticates")?;
    let (mut build, mut with_json) = (Vec::new(), Vec::new());
    for run in 0..=BUILD_RUNS {
        let t0 = Instant::now();
        let s = schedule::build(&mut conn, &ctx(&keys), &lobby)?;
        let built = t0.elapsed();
        let body = serde_json::to_vec(&s)?;
        if run == 0 {
            let n: usize = s.days.iter().map(|d| d.visits.len()).sum();
            ensure!(n == VISITS, "the lobby sees {n} visits, not {VISITS}");
            println!("schedule: {n} visits, {} bytes of JSON", body.len());
        } else {
            build.push(built);
            with_json.push(t0.elapsed());
        }
    }
    report.push((format!("schedule::build ({VISITS} visits)"), summary(build)));
    report.push((
        "schedule::build + serde_json::to_vec".into(),
        summary(with_json),
    ));
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
        ensure!(
            Instant::now() < deadline,
            "no server on port {port} after 30 s"
        );
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

fn client() -> reqwest::Client {
    let c = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30));
    c.build().expect("a plain HTTP client builds")
}

/// One schedule request: status, ETag, body size, latency (whole body read).
async fn get(
    c: &reqwest::Client,
    url: &str,
    credential: &str,
    held: Option<&str>,
) -> anyhow::Result<(StatusCode, String, usize, Duration)> {
    let t0 = Instant::now();
    let mut req = c.get(url).bearer_auth(credential);
    if let Some(etag) = held {
        req = req.header(IF_NONE_MATCH, etag);
    }
    let resp = req.send().await?;
    let (status, etag) = (resp.status(), resp.headers().get(ETAG).cloned());
    let etag = etag
        .and_then(|v| v.to_str().ok().map(str::to_owned))
        .unwrap_or_default();
    let len = resp.bytes().await?.len();
    Ok((status, etag, len, t0.elapsed()))
}

/// 1b and 1c, one request at a time; returns the current ETag.
async fn single_requests(
    url: &str,
    creds: &[String],
    pid: u32,
    report: &mut Report,
) -> anyhow::Result<String> {
    // The first full GET builds and caches the body on the server; later
    // ones (any lobby terminal of the facility) are served from that cache.
    let c = client();
    let (status, etag, size, cold) = get(&c, url, &creds[0], None).await?;
    ensure!(
        status == StatusCode::OK && !etag.is_empty(),
        "full GET answered {status}"
    );
    let s: Schedule = c
        .get(url)
        .bearer_auth(&creds[1])
        .send()
        .await?
        .json()
        .await?;
    ensure!(
        s.version == etag && s.days[0].visits.len() == VISITS,
        "incomplete schedule"
    );
    let mut full = Vec::new();
    for i in 0..FULL_GET_RUNS {
        let (status, _, n, d) = get(&c, url, &creds[i % TERMINALS], None).await?;
        ensure!(
            status == StatusCode::OK && n == size,
            "full GET answered {status}, {n} B"
        );
        full.push(d);
    }
    report.push((
        "GET schedule, first (server builds, caches)".into(),
        ms(cold),
    ));
    report.push((
        "GET schedule, full body".into(),
        format!("{}, {size} B", summary(full)),
    ));
    let mut polls = Vec::new();
    for i in 0..POLL_304_RUNS {
        let (status, _, _, d) = get(&c, url, &creds[i % TERMINALS], Some(&etag)).await?;
        ensure!(
            status == StatusCode::NOT_MODIFIED,
            "ETag poll answered {status}"
        );
        polls.push(d);
    }
    report.push(("GET schedule, If-None-Match -> 304".into(), summary(polls)));
    let hwm = status_mib(pid, "VmHWM")?;
    report.push((
        "server peak RSS after these".into(),
        format!("VmHWM {hwm:.1} MiB"),
    ));
    Ok(etag)
}

/// 2: every terminal with its own client (connection) and credential, polls
/// spread evenly over the interval, each loop bounded in count and time.
async fn fleet(url: &str, creds: &[String], etag: &str, pid: u32) -> anyhow::Result<Report> {
    let start = tokio::time::Instant::now() + Duration::from_millis(200);
    let deadline = start + POLL_FOR;
    let max_polls = (POLL_FOR.as_secs() / POLL_EVERY.as_secs()) as usize + 1;
    let (cpu0, wall0) = (cpu_seconds(pid)?, Instant::now());
    let mut tasks = Vec::with_capacity(creds.len());
    for (i, credential) in creds.iter().cloned().enumerate() {
        let (url, mut held) = (url.to_string(), etag.to_string());
        let first = start + POLL_EVERY * i as u32 / creds.len() as u32;
        tasks.push(tokio::spawn(async move {
            let (c, mut out) = (client(), Vec::new());
            let mut every = tokio::time::interval_at(first, POLL_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            for _ in 0..max_polls {
                if every.tick().await >= deadline {
                    break;
                }
                let r = get(&c, &url, &credential, Some(&held)).await;
                if let Ok((StatusCode::OK, etag, _, _)) = &r {
                    held.clone_from(etag);
                }
                out.push(r.map(|(status, _, _, d)| (status.as_u16(), d)));
            }
            out
        }));
    }
    let (mut latencies, mut statuses, mut errors) = (Vec::new(), BTreeMap::new(), Vec::new());
    for task in tasks {
        for r in task.await? {
            match r {
                Ok((status, d)) => {
                    *statuses.entry(status).or_insert(0) += 1;
                    latencies.push(d);
                }
                Err(e) => errors.push(e),
            }
        }
    }
    let (wall, cpu) = (wall0.elapsed().as_secs_f64(), cpu_seconds(pid)? - cpu0);
    if let Some(e) = errors.first() {
        println!("first of {} failed polls: {e:#}", errors.len());
    }
    let (n, polls) = (
        latencies.len(),
        format!("{} terminals, 1 poll / {POLL_EVERY:?}", creds.len()),
    );
    let (hwm, rss) = (status_mib(pid, "VmHWM")?, status_mib(pid, "VmRSS")?);
    Ok(vec![
        (
            polls,
            format!(
                "{n} answered in {wall:.1} s ({:.0}/s), status {statuses:?}, {} failed",
                n as f64 / wall,
                errors.len()
            ),
        ),
        ("  poll latency".into(), summary(latencies)),
        (
            "  server CPU".into(),
            format!(
                "{:.1}% of one core ({cpu:.2} s CPU in {wall:.1} s)",
                100.0 * cpu / wall
            ),
        ),
        (
            "  server memory".into(),
            format!("VmHWM {hwm:.1} MiB, VmRSS at the end {rss:.1} MiB"),
        ),
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
    println!(
        "fixture: {VISITS} visits, {TERMINALS} lobby terminals, {} ({took:.1} s)",
        fx.zone
    );
    let mut report = Report::new();
    build_times(&fx, &mut report)?;
    let server = spawn_server(fx.dir.path())?;
    let (url, pid) = (server.url.clone(), server.child.id());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let etag = rt.block_on(single_requests(&url, &fx.credentials, pid, &mut report))?;
    report.extend(rt.block_on(fleet(&url, &fx.credentials, &etag, pid))?);
    drop(server);
    println!("\n{:<44} result\n{}", "measure", "-".repeat(110));
    for (what, result) in &report {
        println!("{what:<44} {result}");
    }
    Ok(())
}
