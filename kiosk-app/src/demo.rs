//! `kiosk-app demo`: a lobby terminal enrolled to the running
//! `visit-server demo`. With a display it opens the touchscreen window, and
//! a housing-unit terminal waits in the remote visit under way, whose join
//! link it prints (open it in a browser on the same machine to be the
//! visitor). Without a display it runs a scripted check-in and visit, prints
//! what the screen showed at each step, writes every lobby screen to PNG
//! files, and fails, saying why in one line, when the visit did not carry
//! video and sound both ways.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use protocol::demo::{DemoSummary, DemoVisit};
use protocol::{TerminalRole, VisitKind};
use ui::{TerminalView, UiInput};

use crate::config::Config;
use crate::describe::describe;
use crate::terminal::Terminal;

/// Is there a display to open a window on?
pub fn display_available() -> bool {
    std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
}

/// What `kiosk-app demo` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The lobby's window, and the remote visit's unit terminal beside it.
    Window,
    /// No display: the scripted check-in and visit.
    Scripted,
    /// Only the remote visit's unit terminal (prints the join link).
    RemoteVisit,
}

pub fn run(summary_path: &Path, dir: &Path, mode: Mode) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(summary_path).with_context(|| {
        format!(
            "reading {} (is `visit-server demo --summary` running?)",
            summary_path.display()
        )
    })?;
    let summary: DemoSummary = serde_json::from_str(&text)?;
    let lobby = summary
        .terminals
        .iter()
        .find(|t| t.role == TerminalRole::Lobby)
        .context("the demo has no lobby terminal")?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    let cfg = demo_config(
        &summary,
        TerminalRole::Lobby,
        dir.join("data"),
        &lobby.code,
        crate::config::CallConfig::default(),
    );
    match mode {
        Mode::RemoteVisit => remote_visit(&summary, dir, &AtomicBool::new(false)),
        Mode::Window => window(&summary, dir, &cfg, &lobby.location),
        Mode::Scripted => scripted(&summary, dir, &cfg, &lobby.location),
    }
}

/// The lobby's window, and the remote visit's unit terminal beside it
/// until the window closes.
fn window(summary: &DemoSummary, dir: &Path, cfg: &Config, location: &str) -> anyhow::Result<()> {
    println!(
        "Opening {location} of {}; close the window to stop.",
        summary.facility
    );
    let stop = Arc::new(AtomicBool::new(false));
    let unit = {
        let (summary, dir, stop) = (summary.clone(), dir.to_path_buf(), stop.clone());
        std::thread::spawn(move || {
            if let Err(e) = remote_visit(&summary, &dir, &stop) {
                println!("(the remote visit could not be offered: {e:#})");
            }
        })
    };
    let shown = crate::window::run(cfg);
    stop.store(true, Ordering::SeqCst);
    let _ = unit.join();
    shown
}

/// No display: the scripted check-in and visit, then the screenshots; an
/// error (one line) when the visit did not carry video and sound both ways.
fn scripted(summary: &DemoSummary, dir: &Path, cfg: &Config, location: &str) -> anyhow::Result<()> {
    let mut terminal = Terminal::start(cfg)?;
    println!(
        "{location} enrolled to {} ({}).",
        summary.facility, summary.server_url
    );
    wait_for_sync(&mut terminal, summary)?;
    println!("\nNo display here: a scripted check-in at the lobby terminal.");
    show("(waiting)", terminal.tick());
    show("touch the screen", terminal.touch(UiInput::TouchStart));
    type_pin(&mut terminal, "000000");
    show(
        "type 000000, a wrong PIN, and OK",
        terminal.touch(UiInput::Submit),
    );
    let visited = visit_onsite(summary, dir, &mut terminal);
    let shots = dir.join("screenshots");
    let files = ui::screenshots::render_all(&shots)?;
    println!(
        "\n{} screenshots of every lobby screen, in English and Spanish: {}",
        files.len(),
        shots.display()
    );
    visited.context("the demo's visit did not work")?;
    println!("The visit carried video and sound both ways.");
    Ok(())
}

/// One step of the script and what the screen showed after it.
fn show(step: &str, v: TerminalView) {
    println!("  {step:<34} -> {}", describe(&v));
}

fn type_pin(terminal: &mut Terminal, pin: &str) {
    for b in pin.bytes() {
        terminal.touch(UiInput::Digit(b - b'0'));
    }
}

/// Until the terminal has the server's schedule (at most 15 s).
fn wait_for_sync(terminal: &mut Terminal, summary: &DemoSummary) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(15);
    while terminal.view().facility_name.is_empty() || terminal.view().offline {
        if Instant::now() > deadline {
            bail!("the terminal could not sync with {}", summary.server_url);
        }
        std::thread::sleep(Duration::from_millis(100));
        terminal.tick();
    }
    Ok(())
}

/// A visit of a later block first (too early to check in), then the one
/// open for check-in now, else the next one, checked in and, once begun,
/// visited.
fn visit_onsite(summary: &DemoSummary, dir: &Path, terminal: &mut Terminal) -> anyhow::Result<()> {
    // The server's clock, which the demo may have moved to an open lobby hour.
    let now = terminal.now();
    let onsite: Vec<_> = summary
        .visits
        .iter()
        .filter(|v| v.kind == VisitKind::Onsite)
        .collect();
    let opens = |v: &DemoVisit| v.start - chrono::Duration::minutes(1);
    let pick = onsite
        .iter()
        .find(|v| opens(v) <= now && now < v.end)
        .or_else(|| onsite.iter().find(|v| now < v.end));
    if let Some(later) = onsite.iter().find(|l| opens(l) > now) {
        terminal.touch(UiInput::Cancel);
        terminal.touch(UiInput::TouchStart);
        type_pin(terminal, &later.pin);
        show(
            &format!("type {} ({}'s later visit)", later.pin, later.person),
            terminal.touch(UiInput::Submit),
        );
        terminal.touch(UiInput::Cancel);
        terminal.touch(UiInput::TouchStart);
    }
    let Some(v) = pick else {
        bail!(
            "no on-site visit to check in to (the county jail has on-site hours Monday to Friday, 08:00-19:00)"
        );
    };
    check_in(terminal, v);
    if opens(v) <= now {
        call(summary, dir, terminal, v.id, &show)
    } else {
        bail!(
            "the on-site visit at {} has not begun on the demo's clock",
            v.start
        )
    }
}

/// Type the visit's PIN, wait for the server's reply, touch Done.
fn check_in(terminal: &mut Terminal, v: &DemoVisit) {
    type_pin(terminal, &v.pin);
    show(
        &format!("type {} ({}'s visit) and OK", v.pin, v.person),
        terminal.touch(UiInput::Submit),
    );
    let until = Instant::now() + Duration::from_secs(5);
    while terminal.outbox_pending() > 0 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    show("a moment later (server reply)", terminal.tick());
    show("touch Done", terminal.touch(UiInput::Cancel));
}

fn demo_config(
    summary: &DemoSummary,
    role: TerminalRole,
    data_dir: std::path::PathBuf,
    code: &str,
    call: crate::config::CallConfig,
) -> Config {
    Config {
        server_url: summary.server_url.clone(),
        role,
        data_dir,
        language: ui::Lang::En,
        enrolment_code: Some(code.to_string()),
        poll: Duration::from_secs(2),
        heartbeat: Duration::from_secs(10),
        unit_idle: Duration::from_secs(60),
        call,
        // The demo runs anywhere: a test pattern and a tone.
        devices: hal::DeviceConfig::simulated(),
        technician: Default::default(),
    }
}

/// A housing-unit terminal of the demo (simulated camera and microphone)
/// that has `visit` in its schedule: the one of the person's housing unit.
fn unit_with(
    summary: &DemoSummary,
    dir: &Path,
    visit: uuid::Uuid,
    width: u32,
    height: u32,
) -> anyhow::Result<(Terminal, String)> {
    let simulated = crate::config::CallConfig {
        width,
        height,
        ..Default::default()
    };
    for (i, t) in summary
        .terminals
        .iter()
        .filter(|t| t.role == TerminalRole::Unit)
        .enumerate()
    {
        let cfg = demo_config(
            summary,
            TerminalRole::Unit,
            dir.join(format!("unit-{i}")),
            &t.code,
            simulated.clone(),
        );
        let mut u = Terminal::start(&cfg)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while u.view().facility_name.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            u.tick();
        }
        if u.open_visit(visit).is_ok() {
            return Ok((u, t.location.clone()));
        }
    }
    bail!("no housing-unit terminal has visit {visit}")
}

/// With a display: the person's side of the remote visit under way on the
/// demo's clock (then of the next), at a housing-unit terminal with a
/// simulated camera and microphone, until `stop`. Prints the join link a
/// newcomer opens in a browser on this machine to be the visitor.
fn remote_visit(summary: &DemoSummary, dir: &Path, stop: &AtomicBool) -> anyhow::Result<()> {
    let mut remote: Vec<_> = summary
        .visits
        .iter()
        .filter(|v| v.kind == VisitKind::Remote && v.join_url.is_some())
        .collect();
    remote.sort_by_key(|v| v.start);
    // Michael's visits, all at his unit's terminal (it follows the demo's
    // clock, which may be shifted, once it has heard from the server).
    let first = remote.first().context("the demo has no remote visit")?;
    let (mut unit, location) = unit_with(summary, dir, first.id, 640, 360)?;
    let deadline = Instant::now() + Duration::from_secs(15);
    while unit.view().offline && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        unit.tick();
    }
    let mut done = Vec::new();
    let mut waiting_said = false;
    while !stop.load(Ordering::SeqCst) {
        let now = unit.now();
        let under_way = remote.iter().find(|v| {
            v.start - chrono::Duration::minutes(2) <= now && now < v.end && !done.contains(&v.id)
        });
        let Some(v) = under_way.filter(|v| unit.open_visit(v.id).is_ok()) else {
            if !waiting_said {
                println!(
                    "(no remote visit is under way on the demo's clock; waiting for the next)"
                );
                waiting_said = true;
            }
            std::thread::sleep(Duration::from_millis(500));
            unit.tick();
            continue;
        };
        done.push(v.id);
        waiting_said = false;
        let tz: chrono_tz::Tz = summary.time_zone.parse().unwrap_or(chrono_tz::UTC);
        println!(
            "\nA remote visit is under way until {}: {} waits in it at {}, with a simulated camera.\n\
             Be the visitor: open this link in a browser on this machine:\n  {}\n",
            v.end.with_timezone(&tz).format("%H:%M"),
            v.person,
            location,
            v.join_url.as_deref().unwrap_or_default()
        );
        let mut joined = false;
        while !stop.load(Ordering::SeqCst) {
            let view = unit.tick();
            if !joined && view.call.can_join {
                unit.touch(UiInput::Join);
                joined = true;
            }
            if view.screen == ui::Screen::CallEnded || unit.now() >= v.end {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(())
}

/// The visit itself: a housing-unit terminal (simulated camera and
/// microphone) joins, then the visitor at the lobby; a few seconds of real
/// media both ways; the visitor ends it with the red X.
fn call(
    summary: &DemoSummary,
    dir: &Path,
    lobby: &mut Terminal,
    visit: uuid::Uuid,
    show: &dyn Fn(&str, TerminalView),
) -> anyhow::Result<()> {
    // Whichever unit terminal's housing unit the person lives in.
    let (mut unit, location) = unit_with(summary, dir, visit, 640, 360)?;
    println!(
        "\n  ...meanwhile at {location} (a housing-unit terminal, simulated camera and microphone):"
    );
    let wait = |t: &mut Terminal, what: &str, f: &dyn Fn(&TerminalView) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v = t.tick();
            if f(&v) {
                return Ok(v);
            }
            if Instant::now() > deadline {
                bail!("timed out waiting for {what}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let v = wait(&mut unit, "Join at the unit", &|v| v.call.can_join)?;
    show("the person's visit is open", v);
    unit.touch(UiInput::Join);
    show(
        "the person touches Join",
        wait(&mut unit, "the call", &|v| v.screen == ui::Screen::InCall)?,
    );
    println!("\n  ...back at the lobby:");
    show(
        "the status turns Ready",
        wait(lobby, "Ready", &|v| v.call.can_join)?,
    );
    lobby.touch(UiInput::Join);
    show(
        "the visitor touches Join",
        wait(lobby, "media", &|v| {
            v.screen == ui::Screen::InCall && !v.call.connecting
        })?,
    );
    std::thread::sleep(Duration::from_secs(3));
    let mut failed = Vec::new();
    for (who, t) in [("lobby", &*lobby), ("unit", &unit)] {
        let Some(s) = t.call_stats() else {
            failed.push(format!("the {who} terminal has no call"));
            continue;
        };
        println!(
            "  {who:<5} receives {} frames/s of {} video, sound ({} buffers), set up in {} ms",
            s.fps,
            s.codec,
            s.audio_buffers,
            s.setup_ms.map_or("?".into(), |m| m.to_string())
        );
        if s.frames == 0 || s.fps == 0 {
            failed.push(format!("the {who} terminal received no video"));
        }
        if s.audio_buffers == 0 {
            failed.push(format!("the {who} terminal received no sound"));
        }
    }
    lobby.touch(UiInput::EndCall);
    show("touch the red X", lobby.view());
    show("touch End visit", lobby.touch(UiInput::ConfirmEnd));
    show(
        "at the unit",
        wait(&mut unit, "the end", &|v| v.screen == ui::Screen::CallEnded)?,
    );
    if !failed.is_empty() {
        bail!("{}", failed.join("; "));
    }
    Ok(())
}
