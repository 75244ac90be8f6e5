//! `kiosk-app demo`: a lobby terminal enrolled to the running
//! `visit-server demo`. With a display it opens the touchscreen window;
//! without one it runs a scripted check-in, prints what the screen showed at
//! each step, and writes every lobby screen to PNG files.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use protocol::demo::DemoSummary;
use protocol::{TerminalRole, VisitKind};
use ui::{LobbyView, UiInput};

use crate::config::Config;
use crate::describe::describe;
use crate::terminal::Terminal;

/// Is there a display to open a window on?
pub fn display_available() -> bool {
    std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
}

pub fn run(summary_path: &Path, dir: &Path, window: bool) -> anyhow::Result<()> {
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
    let cfg = Config {
        server_url: summary.server_url.clone(),
        role: TerminalRole::Lobby,
        data_dir: dir.join("data"),
        language: ui::Lang::En,
        enrolment_code: Some(lobby.code.clone()),
        poll: Duration::from_secs(2),
        heartbeat: Duration::from_secs(10),
        unit_idle: Duration::from_secs(60),
        call: crate::config::CallConfig {
            devices: hal::Backend::Simulated,
            ..Default::default()
        },
        technician: Default::default(),
    };
    if window {
        println!(
            "Opening {} of {}; close the window to stop.",
            lobby.location, summary.facility
        );
        return crate::window::run(&cfg);
    }
    let mut terminal = Terminal::start(&cfg)?;
    println!(
        "{} enrolled to {} ({}).",
        lobby.location, summary.facility, summary.server_url
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while terminal.view().facility_name.is_empty() || terminal.view().offline {
        if Instant::now() > deadline {
            bail!("the terminal could not sync with {}", summary.server_url);
        }
        std::thread::sleep(Duration::from_millis(100));
        terminal.tick();
    }
    let show = |step: &str, v: LobbyView| println!("  {step:<34} -> {}", describe(&v));
    println!("\nNo display here: a scripted check-in at the lobby terminal.");
    show("(waiting)", terminal.tick());
    show("touch the screen", terminal.touch(UiInput::TouchStart));
    for d in [0, 0, 0, 0, 0, 0] {
        terminal.touch(UiInput::Digit(d));
    }
    show(
        "type 000000, a wrong PIN, and OK",
        terminal.touch(UiInput::Submit),
    );
    // The server's clock, which the demo may have moved to an open lobby hour.
    let now = terminal.now();
    let onsite: Vec<_> = summary
        .visits
        .iter()
        .filter(|v| v.kind == VisitKind::Onsite)
        .collect();
    // The visit open for check-in now, else the next one (shown as "too early").
    let pick = onsite
        .iter()
        .find(|v| v.start - chrono::Duration::minutes(1) <= now && now < v.end)
        .or_else(|| onsite.iter().find(|v| now < v.end));
    // A visit of a later block first: too early to check in.
    if let Some(later) = onsite
        .iter()
        .find(|l| l.start - chrono::Duration::minutes(1) > now)
    {
        terminal.touch(UiInput::Cancel);
        terminal.touch(UiInput::TouchStart);
        for b in later.pin.bytes() {
            terminal.touch(UiInput::Digit(b - b'0'));
        }
        show(
            &format!("type {} ({}'s later visit)", later.pin, later.person),
            terminal.touch(UiInput::Submit),
        );
        terminal.touch(UiInput::Cancel);
        terminal.touch(UiInput::TouchStart);
    }
    match pick {
        Some(v) => {
            for b in v.pin.bytes() {
                terminal.touch(UiInput::Digit(b - b'0'));
            }
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
            if v.start - chrono::Duration::minutes(1) <= now
                && let Err(e) = call(&summary, dir, &mut terminal, v.id, &show)
            {
                println!("  (the call could not be shown: {e:#})");
            }
        }
        None => println!(
            "  (no on-site visit today or tomorrow: the county jail has on-site hours Monday to Friday, \
             08:00-19:00; remote visits are joined from home)"
        ),
    }
    let shots = dir.join("screenshots");
    let files = ui::screenshots::render_all(&shots)?;
    println!(
        "\n{} screenshots of every lobby screen, in English and Spanish: {}",
        files.len(),
        shots.display()
    );
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
    show: &dyn Fn(&str, LobbyView),
) -> anyhow::Result<()> {
    let simulated = crate::config::CallConfig {
        devices: hal::Backend::Simulated,
        width: 640,
        height: 360,
        ..Default::default()
    };
    // Whichever unit terminal's housing unit the person lives in.
    let mut unit = None;
    for (i, t) in summary
        .terminals
        .iter()
        .filter(|t| t.role == TerminalRole::Unit)
        .enumerate()
    {
        let cfg = Config {
            server_url: summary.server_url.clone(),
            role: TerminalRole::Unit,
            data_dir: dir.join(format!("unit-{i}")),
            language: ui::Lang::En,
            enrolment_code: Some(t.code.clone()),
            poll: Duration::from_secs(2),
            heartbeat: Duration::from_secs(10),
            unit_idle: Duration::from_secs(60),
            call: simulated.clone(),
            technician: Default::default(),
        };
        let mut u = Terminal::start(&cfg)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while u.view().facility_name.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            u.tick();
        }
        if u.open_visit(visit).is_ok() {
            println!(
                "\n  ...meanwhile at {} (a housing-unit terminal, simulated camera and microphone):",
                t.location
            );
            unit = Some(u);
            break;
        }
    }
    let mut unit = unit.context("no housing-unit terminal has this visit")?;
    let wait = |t: &mut Terminal, what: &str, f: &dyn Fn(&LobbyView) -> bool| {
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
    for (who, t) in [("lobby", &*lobby), ("unit", &unit)] {
        if let Some(s) = t.call_stats() {
            println!(
                "  {who:<5} receives {} frames/s of {} video, sound ({} buffers), set up in {} ms",
                s.fps,
                s.codec,
                s.audio_buffers,
                s.setup_ms.map_or("?".into(), |m| m.to_string())
            );
        }
    }
    lobby.touch(UiInput::EndCall);
    show("touch the red X", lobby.view());
    show("touch End visit", lobby.touch(UiInput::ConfirmEnd));
    show(
        "at the unit",
        wait(&mut unit, "the end", &|v| v.screen == ui::Screen::CallEnded)?,
    );
    Ok(())
}
