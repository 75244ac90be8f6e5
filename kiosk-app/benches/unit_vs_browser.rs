//! The unit terminal as kiosk-app against the unit terminal as a browser
//! (`cargo bench -p kiosk-app --bench unit_vs_browser`): the same remote
//! visit, on loopback through a real visit-server, with the same remote
//! visitor (the web page in one headless Chromium) throughout.
//!
//! - Phase A: the person's side is a headless kiosk-app with simulated
//!   camera and microphone at 1280x720@30.
//! - Phase B: kiosk-app is gone; the person's side is the web page in
//!   person mode, in a second headless Chromium with Chromium's fake camera
//!   and microphone (as a vendor's browser-based kiosk would be), opened
//!   with the unit terminal's browser token.
//!
//! Once media flows both ways, each phase samples the unit side once a
//! second for `SAMPLE`: CPU (% of one core, utime + stime deltas summed
//! over the process tree) and PSS (`/proc/<pid>/smaps_rollup`, summed over
//! every process of that side: kiosk-app is one process, Chromium is the
//! browser and all its children). The visitor's Chromium and both
//! chromedrivers are not counted. Medians are what to quote: the machine is
//! shared and noisy. `-- --quick` (what `.ci/run` runs) samples 3 s a phase.

#[allow(dead_code)]
#[path = "../tests/it/util.rs"]
mod util;

#[path = "../tests/it/webdriver.rs"]
mod webdriver;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use util::*;
use webdriver::Browser;

const SAMPLE: Duration = Duration::from_secs(25);
const QUICK_SAMPLE: Duration = Duration::from_secs(3);

/// How long each phase samples: `SAMPLE`, or `QUICK_SAMPLE` with `--quick`.
fn sample_for() -> Duration {
    if std::env::args().any(|a| a == "--quick") {
        QUICK_SAMPLE
    } else {
        SAMPLE
    }
}
const HD: &str = "width = 1280\nheight = 720\n";

/// Parent pid and utime + stime (ticks) of a process.
fn stat(pid: u32) -> Option<(u32, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let f: Vec<&str> = s[s.rfind(')')? + 2..].split_whitespace().collect();
    Some((
        f[1].parse().ok()?,
        f[11].parse::<u64>().ok()? + f[12].parse::<u64>().ok()?,
    ))
}

fn all_pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// Every process below `root` (not `root` itself).
fn descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = all_pids()
        .into_iter()
        .filter_map(|p| Some((p, stat(p)?.0)))
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// PSS of a process in MiB (0 if it is gone).
fn pss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// What one side cost, as medians over the sampling.
struct Figures {
    cpu: f64,
    cpu_min: f64,
    cpu_max: f64,
    pss: f64,
    processes: usize,
}

/// Sample the processes `pids()` names once a second for [`sample_for`].
fn sample(pids: impl Fn() -> Vec<u32>) -> Figures {
    let ticks = |ps: &[u32]| -> HashMap<u32, u64> {
        ps.iter().filter_map(|&p| Some((p, stat(p)?.1))).collect()
    };
    let mut before = ticks(&pids());
    let mut at = Instant::now();
    let (mut cpu, mut pss, mut procs) = (Vec::new(), Vec::new(), Vec::new());
    let start = Instant::now();
    while start.elapsed() < sample_for() {
        std::thread::sleep(Duration::from_secs(1));
        let ps = pids();
        let now = ticks(&ps);
        let secs = at.elapsed().as_secs_f64();
        at = Instant::now();
        // A process born during the second counts from its start.
        let used: u64 = now
            .iter()
            .map(|(p, t)| t - before.get(p).copied().unwrap_or(0).min(*t))
            .sum();
        cpu.push(used as f64 / 100.0 / secs * 100.0); // USER_HZ = 100
        pss.push(ps.iter().map(|&p| pss_mib(p)).sum());
        procs.push(ps.len() as f64);
        before = now;
    }
    Figures {
        cpu_min: cpu.iter().copied().fold(f64::MAX, f64::min),
        cpu_max: cpu.iter().copied().fold(0.0, f64::max),
        cpu: median(cpu),
        pss: median(pss),
        processes: median(procs) as usize,
    }
}

fn http(rt: &tokio::runtime::Runtime, url: String, bearer: &str, body: Option<Value>) -> Value {
    rt.block_on(async {
        let mut r = reqwest::Client::new().post(url).bearer_auth(bearer);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert!(status.is_success(), "{status}: {v}");
        v
    })
}

fn main() {
    let (server, seeded) = Server::seeded();
    let (visit, token) = seeded.remote.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "unit terminal: kiosk-app vs. the web page in Chromium, one remote visit on loopback, \
         {:?} of samples each",
        sample_for()
    );

    // The remote visitor, the same for both phases.
    let visitor = Browser::start();
    visitor.to_waiting_room(&format!("{}/join/{visit}?token={token}", server.url()));

    // Phase A: kiosk-app is the unit terminal.
    let du = tempfile::tempdir().unwrap();
    let mut unit = Kiosk::start(&call_config_with(
        du.path(),
        &server.url(),
        &seeded.unit_code,
        "unit",
        "127.0.0.1",
        HD,
    ));
    unit.expect(&["[sign-in] Test County Jail"]);
    unit.send(&format!("visit {visit}"));
    unit.expect(&["[waiting]", "[Join]"]);
    unit.send("join");
    unit.expect(&["[call]"]);
    visitor.until("Ready", Duration::from_secs(10), |s| s["status"] == "ready");
    visitor.click("join");
    visitor.until(
        "video and sound from kiosk-app",
        Duration::from_secs(60),
        |s| s["fps"].as_u64().unwrap_or(0) >= 15 && s["audioPackets"].as_u64().unwrap_or(0) > 20,
    );
    let k = unit.stats_until(Duration::from_secs(60), |v| {
        v["fps"].as_u64().unwrap_or(0) >= 15 && v["audio_buffers"].as_u64().unwrap_or(0) > 0
    });
    let kiosk_pid = unit.pid();
    let a = sample(|| {
        let mut ps = descendants(kiosk_pid);
        ps.push(kiosk_pid);
        ps
    });
    let k_end = unit.stats_until(Duration::from_secs(5), |_| true);
    let v_a = visitor.state();
    println!(
        "phase A: kiosk-app receives {} fps ({}), the visitor's page {} fps",
        k_end["fps"], k["codec"], v_a["fps"]
    );
    // The terminal goes away without hanging up (the visit goes on).
    unit.kill();

    // Phase B: the same unit terminal's browser token, in Chromium.
    let terminal: String = rusqlite::Connection::open(server.dir.path().join("visits.db"))
        .unwrap()
        .query_row(
            "SELECT id FROM terminals WHERE location = 'Pod A dayroom'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let code = http(
        &rt,
        format!(
            "{}/api/v1/admin/terminals/{terminal}/enrolment-code",
            server.url()
        ),
        &seeded.admin_token,
        None,
    );
    let enrolled = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{}/api/v1/terminal/enrol", server.url()))
            .json(&json!({"code": code["code"], "software_version": "bench"}))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    });
    let credential = enrolled["credential"]
        .as_str()
        .expect("enrolled")
        .to_string();
    let bt = http(
        &rt,
        format!(
            "{}/api/v1/terminal/visits/{visit}/browser-token",
            server.url()
        ),
        &credential,
        None,
    );
    let person = Browser::start();
    person.to_waiting_room(&format!("{}{}", server.url(), bt["page"].as_str().unwrap()));
    person.click("join");
    person.until(
        "video and sound from the visitor",
        Duration::from_secs(60),
        |s| {
            s["side"] == "person"
                && s["fps"].as_u64().unwrap_or(0) >= 15
                && s["audioPackets"].as_u64().unwrap_or(0) > 20
        },
    );
    visitor.until(
        "video and sound from the browser kiosk",
        Duration::from_secs(60),
        |s| s["fps"].as_u64().unwrap_or(0) >= 15,
    );
    let b = sample(|| descendants(person.driver_pid()));
    let p_end = person.state();
    let v_b = visitor.state();
    println!(
        "phase B: the person's page receives {} fps, the visitor's page {} fps",
        p_end["fps"], v_b["fps"]
    );

    println!();
    println!(
        "unit terminal                 CPU % of one core (median, min-max)   PSS MiB (median)   processes"
    );
    for (name, f) in [("kiosk-app (GStreamer)", &a), ("web page in Chromium", &b)] {
        println!(
            "{name:<29} {:>5.0}  ({:.0}-{:.0}){:>27.0}{:>15}",
            f.cpu, f.cpu_min, f.cpu_max, f.pss, f.processes
        );
    }
    println!(
        "Chromium / kiosk-app: CPU x{:.1}, PSS x{:.1}",
        b.cpu / a.cpu.max(0.1),
        b.pss / a.pss.max(0.1)
    );
}
