//! Call figures (`cargo bench -p kiosk-app --bench call`): two headless
//! kiosk-app processes (lobby and housing unit, simulated camera and
//! microphone) in real calls through a real visit-server on loopback.
//!
//! - Call setup: from the moment both parties have joined (the visitor's
//!   Join, the second one) to the first remote frame on the visitor's
//!   screen, over `CALLS` calls (each its own visit).
//! - Glass-to-glass latency at 1280x720@30: each sender writes a timestamp
//!   into the pixels before the encoder; each receiver reads it after
//!   decoding, at the display sink (both processes share CLOCK_MONOTONIC).
//! - CPU and memory (RSS and PSS) of each terminal during a 60 s call.
//! - The recording's cost: the unit terminal's CPU during that call
//!   (recorded), then a call of a confidential visit (not recorded), then a
//!   recorded one again, each as long, side by side in one run.
//!
//! Medians are what to quote: the machine is shared and noisy.
//! `-- --quick` (what `.ci/run` runs): two calls, then a 5 s one.

#[allow(dead_code)]
#[path = "../tests/it/util.rs"]
mod util;

use std::time::{Duration, Instant};

use util::*;

const CALLS: usize = 10;
const LONG_CALL: Duration = Duration::from_secs(60);
const QUICK_CALLS: usize = 2;
const QUICK_LONG_CALL: Duration = Duration::from_secs(5);
const HD: &str = "width = 1280\nheight = 720\nstamp_frames = true\n";

fn ticks_per_second() -> f64 {
    100.0 // USER_HZ on Linux
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    ticks as f64 / ticks_per_second()
}

/// (RSS, PSS) in MiB.
fn memory_mib(pid: u32) -> (f64, f64) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap();
    let kb = |key: &str| {
        s.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (kb("Rss:") / 1024.0, kb("Pss:") / 1024.0)
}

/// (RSS, PSS) of the lobby and of the unit terminal at one moment.
type MemorySample = ((f64, f64), (f64, f64));

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (calls, long_call) = if quick {
        (QUICK_CALLS, QUICK_LONG_CALL)
    } else {
        (CALLS, LONG_CALL)
    };
    // Two more visits: a confidential one (not recorded) and a recorded
    // one, for the recording's cost.
    let (server, seeded) = Server::seeded_n("127.0.0.1", calls + 2);
    server.mark_confidential(seeded.visits[calls].0);
    let dl = tempfile::tempdir().unwrap();
    let du = tempfile::tempdir().unwrap();
    let mut lobby = Kiosk::start(&call_config_with(
        dl.path(),
        &server.url(),
        &seeded.lobby_code,
        "lobby",
        "127.0.0.1",
        HD,
    ));
    let mut unit = Kiosk::start(&call_config_with(
        du.path(),
        &server.url(),
        &seeded.unit_code,
        "unit",
        "127.0.0.1",
        HD,
    ));
    lobby.expect(&["[attract] Test County Jail"]);
    // A housing-unit terminal opens on its sign-in screen.
    unit.expect(&["[sign-in] Test County Jail"]);

    println!("call bench: {calls} calls at 1280x720@30, then one {long_call:?} call");
    let mut setups = Vec::new();
    for (i, (visit, pin)) in seeded.visits.iter().take(calls).enumerate() {
        start_call(&mut lobby, &mut unit, *visit, pin);
        let s = lobby.stats_until(Duration::from_secs(30), |v| v["setup_ms"].is_u64());
        let ms = s["setup_ms"].as_u64().unwrap() as f64;
        println!("  call {:>2}: setup {ms:>6.0} ms ({})", i + 1, s["codec"]);
        setups.push(ms);
        if i + 1 < calls {
            end_call(&mut lobby, &mut unit);
        }
    }
    let mut sorted = setups.clone();
    let p50 = median(&mut sorted);
    println!(
        "setup (both joined -> first remote frame): p50 {p50:.0} ms, min {:.0}, max {:.0}",
        sorted[0],
        sorted[sorted.len() - 1]
    );

    // The last call goes on for a minute: CPU, memory and latency.
    lobby.stats_until(Duration::from_secs(30), |v| {
        v["fps"].as_u64().unwrap_or(0) >= 20
    });
    unit.stats_until(Duration::from_secs(30), |v| {
        v["fps"].as_u64().unwrap_or(0) >= 20
    });
    let (lp, up) = (lobby.pid(), unit.pid());
    let (l0, u0, t0) = (cpu_seconds(lp), cpu_seconds(up), Instant::now());
    let mut mem: Vec<MemorySample> = Vec::new();
    while t0.elapsed() < long_call {
        std::thread::sleep(Duration::from_secs(5).min(long_call));
        mem.push((memory_mib(lp), memory_mib(up)));
    }
    let secs = t0.elapsed().as_secs_f64();
    let (lc, uc) = (
        (cpu_seconds(lp) - l0) / secs * 100.0,
        (cpu_seconds(up) - u0) / secs * 100.0,
    );
    let ls = lobby.stats_until(Duration::from_secs(5), |_| true);
    let us = unit.stats_until(Duration::from_secs(5), |_| true);
    let peak = |f: fn(&MemorySample) -> f64| mem.iter().map(f).fold(0.0, f64::max);
    println!("{long_call:?} call at 1280x720@30, {}:", ls["codec"]);
    println!(
        "  lobby: CPU {lc:.0}% of one core, RSS peak {:.0} MiB, PSS peak {:.0} MiB, {} fps received ({} kbit/s median, RTT {} ms), latency p50 {} ms p99 {} ms ({} samples)",
        peak(|m| m.0.0),
        peak(|m| m.0.1),
        ls["fps"],
        ls["median_kbps"],
        ls["median_rtt_ms"],
        ls["latency_p50_ms"],
        ls["latency_p99_ms"],
        ls["latency_samples"]
    );
    println!(
        "  unit:  CPU {uc:.0}% of one core, RSS peak {:.0} MiB, PSS peak {:.0} MiB, {} fps received ({} kbit/s median, RTT {} ms), latency p50 {} ms p99 {} ms ({} samples)",
        peak(|m| m.1.0),
        peak(|m| m.1.1),
        us["fps"],
        us["median_kbps"],
        us["median_rtt_ms"],
        us["latency_p50_ms"],
        us["latency_p99_ms"],
        us["latency_samples"]
    );
    recording_cost(&mut lobby, &mut unit, &seeded, calls, long_call, uc);
    lobby.quit();
    unit.quit();
}

/// Check in at the lobby, open the visit at the unit, join both.
fn start_call(lobby: &mut Kiosk, unit: &mut Kiosk, visit: uuid::Uuid, pin: &str) {
    lobby.send("touch");
    lobby.send(&format!("pin {pin}"));
    lobby.send("ok");
    lobby.expect(&["[result] Checked in."]);
    lobby.send("done");
    lobby.expect(&["[waiting]"]);
    unit.send(&format!("visit {visit}"));
    unit.expect(&["[waiting]", "[Join]"]);
    unit.send("join");
    unit.expect(&["[call]"]);
    lobby.expect(&["[waiting]", "[Join]"]);
    lobby.send("join");
    lobby.expect(&["[call]"]);
}

/// The visitor hangs up; both back to their first screen.
fn end_call(lobby: &mut Kiosk, unit: &mut Kiosk) {
    lobby.send("end");
    lobby.send("confirm");
    lobby.expect(&["[ended] You ended the visit."]);
    unit.expect(&["[ended]"]);
    lobby.send("done");
    unit.send("done");
    lobby.expect(&["[attract]"]);
    unit.expect(&["[sign-in]"]);
}

/// The unit terminal's CPU (% of one core) over `secs` of a flowing call.
fn unit_cpu(lobby: &mut Kiosk, unit: &mut Kiosk, secs: Duration) -> f64 {
    for k in [&mut *lobby, &mut *unit] {
        k.stats_until(Duration::from_secs(30), |v| {
            v["fps"].as_u64().unwrap_or(0) >= 20
        });
    }
    let (c0, t0) = (cpu_seconds(unit.pid()), Instant::now());
    std::thread::sleep(secs);
    (cpu_seconds(unit.pid()) - c0) / t0.elapsed().as_secs_f64() * 100.0
}

/// After the long recorded call (`recorded`: its unit CPU), a confidential
/// visit's call (not recorded) and a recorded one, each as long.
fn recording_cost(
    lobby: &mut Kiosk,
    unit: &mut Kiosk,
    seeded: &Seeded,
    calls: usize,
    secs: Duration,
    recorded: f64,
) {
    end_call(lobby, unit);
    let (visit, pin) = &seeded.visits[calls];
    start_call(lobby, unit, *visit, pin);
    unit.send("status");
    unit.expect(&["This visit is confidential: it is not recorded or monitored."]);
    let not_recorded = unit_cpu(lobby, unit, secs);
    end_call(lobby, unit);
    let (visit, pin) = &seeded.visits[calls + 1];
    start_call(lobby, unit, *visit, pin);
    let again = unit_cpu(lobby, unit, secs);
    let with = (recorded + again) / 2.0;
    println!(
        "recording ({secs:?} calls at 1280x720@30): unit CPU recorded {recorded:.1}% and {again:.1}%, not recorded (confidential) {not_recorded:.1}% of one core: the recording costs {:.1}% of one core",
        with - not_recorded
    );
}
