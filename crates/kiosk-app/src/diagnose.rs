//! `kiosk-app diagnose [--json]`: what a technician or remote support needs
//! to know about a terminal: software version, identity, the server (reachable?
//! clock offset?), and every device found (cameras with their modes, sound
//! cards and mixers, the touchscreen), with what could not be read.

use std::time::Instant;

use chrono::Utc;
use protocol::terminal::Heartbeat;
use serde::Serialize;
use uuid::Uuid;

use crate::config::Config;
use crate::identity;
use crate::sync::client::Client;

#[derive(Debug, Serialize)]
pub struct Report {
    pub software_version: String,
    pub role: String,
    pub server_url: String,
    /// Absent until the terminal is enrolled.
    pub terminal_id: Option<Uuid>,
    pub location: Option<String>,
    pub server: ServerCheck,
    pub device_backend: hal::Backend,
    pub devices: hal::DeviceReport,
}

#[derive(Debug, Serialize)]
pub struct ServerCheck {
    pub reachable: bool,
    /// A heartbeat's round trip (milliseconds).
    pub round_trip_ms: Option<u64>,
    /// Server clock minus this terminal's clock (milliseconds).
    pub clock_offset_ms: Option<i64>,
    pub detail: Option<String>,
}

pub fn report(cfg: &Config) -> anyhow::Result<Report> {
    let id = identity::load(&cfg.data_dir)?;
    let server = match &id {
        None => ServerCheck {
            reachable: false,
            round_trip_ms: None,
            clock_offset_ms: None,
            detail: Some("not enrolled: no credential to ask the server with".into()),
        },
        Some(e) => {
            let client = Client::new(&cfg.server_url, Some(e.credential.clone()));
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let sent = Utc::now();
            let t = Instant::now();
            let hb = Heartbeat {
                software_version: env!("CARGO_PKG_VERSION").to_string(),
                uptime_secs: 0,
                terminal_time: sent,
                outbox_pending: 0,
                devices: vec![],
            };
            match rt.block_on(client.heartbeat(&hb)) {
                Ok(ack) => {
                    let rtt = t.elapsed();
                    let mid = sent + chrono::Duration::from_std(rtt / 2).unwrap_or_default();
                    ServerCheck {
                        reachable: true,
                        round_trip_ms: Some(rtt.as_millis() as u64),
                        clock_offset_ms: Some((ack.server_time - mid).num_milliseconds()),
                        detail: None,
                    }
                }
                Err(e) => ServerCheck {
                    reachable: false,
                    round_trip_ms: None,
                    clock_offset_ms: None,
                    detail: Some(e.to_string()),
                },
            }
        }
    };
    let devices = match cfg.call.devices {
        hal::Backend::Real => hal::full_report(&hal::Roots::default()),
        hal::Backend::Simulated => hal::DeviceReport::default(),
    };
    Ok(Report {
        software_version: env!("CARGO_PKG_VERSION").to_string(),
        role: format!("{:?}", cfg.role).to_lowercase(),
        server_url: cfg.server_url.clone(),
        terminal_id: id.as_ref().map(|e| e.terminal_id),
        location: id.as_ref().map(|e| e.location.clone()),
        server,
        device_backend: cfg.call.devices,
        devices,
    })
}

/// The report as a technician reads it.
pub fn text(r: &Report) -> String {
    let mut s = String::new();
    let mut line = |l: String| {
        s.push_str(&l);
        s.push('\n');
    };
    line(format!(
        "kiosk-app {} ({} terminal)",
        r.software_version, r.role
    ));
    match (&r.terminal_id, &r.location) {
        (Some(id), Some(loc)) => line(format!("terminal {id} at {loc}")),
        _ => line("not enrolled".into()),
    }
    match &r.server {
        ServerCheck {
            reachable: true,
            round_trip_ms,
            clock_offset_ms,
            ..
        } => line(format!(
            "server {}: reachable, round trip {} ms, clock offset {} ms",
            r.server_url,
            round_trip_ms.unwrap_or(0),
            clock_offset_ms.unwrap_or(0)
        )),
        ServerCheck { detail, .. } => line(format!(
            "server {}: NOT reachable ({})",
            r.server_url,
            detail.as_deref().unwrap_or("?")
        )),
    }
    line(format!("devices ({:?} backend):", r.device_backend));
    let d = &r.devices;
    let names = |v: Vec<String>| {
        if v.is_empty() {
            "none found".to_string()
        } else {
            v.join("; ")
        }
    };
    line(format!(
        "  cameras: {}",
        names(
            d.cameras
                .iter()
                .map(|c| format!("{} ({}, {} modes)", c.name, c.path.display(), c.modes.len()))
                .collect()
        )
    ));
    line(format!(
        "  microphones: {}",
        names(
            d.microphones
                .iter()
                .map(|m| format!("{} ({})", m.name, m.alsa))
                .collect()
        )
    ));
    line(format!(
        "  speakers: {}",
        names(
            d.speakers
                .iter()
                .map(|m| format!("{} ({})", m.name, m.alsa))
                .collect()
        )
    ));
    line(format!(
        "  touchscreens: {}",
        names(
            d.touchscreens
                .iter()
                .map(|t| format!("{} ({})", t.name, t.path.display()))
                .collect()
        )
    ));
    for p in &d.problems {
        line(format!("  problem: {p}"));
    }
    s
}
