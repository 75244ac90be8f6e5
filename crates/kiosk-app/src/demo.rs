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
        call: crate::config::CallConfig {
            devices: hal::Backend::Simulated,
            ..Default::default()
        },
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
            show("touch Cancel (leave it)", terminal.touch(UiInput::Cancel));
            // A visit of a later block: too early to check in.
            if let Some(later) = onsite
                .iter()
                .find(|l| l.start - chrono::Duration::minutes(1) > now)
            {
                terminal.touch(UiInput::TouchStart);
                for b in later.pin.bytes() {
                    terminal.touch(UiInput::Digit(b - b'0'));
                }
                show(
                    &format!("type {} ({}'s later visit)", later.pin, later.person),
                    terminal.touch(UiInput::Submit),
                );
                terminal.touch(UiInput::Cancel);
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
