//! `kiosk-app diagnose [--json]`: what a technician or remote support needs
//! to know about a terminal: software version, identity, the server (reachable?
//! clock offset?), and every device found (cameras with their modes, sound
//! cards and mixers, the touchscreen), with what could not be read.
//!
//! The device facts are gathered here once for everyone who shows them:
//! [`device_status`] (each device OK, missing or failing, and why) is what
//! this report, the technician screen and the heartbeat ([`to_wire`]) say.

use std::time::Instant;

use chrono::Utc;
use protocol::terminal::{DeviceHealth, DeviceState, Heartbeat};
use serde::Serialize;
use uuid::Uuid;

use crate::config::{CallConfig, Config};
use crate::devices::DeviceOwner;
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
    /// Each device: OK, missing or failing, and why (as the technician
    /// screen and the heartbeat say it).
    pub device_status: Vec<hal::DeviceStatus>,
    pub devices: hal::DeviceReport,
    /// GStreamer elements of `hal::elements` that are not installed.
    pub media_missing: Vec<MissingElement>,
}

/// An element the terminal needs that is not installed.
#[derive(Debug, Serialize)]
pub struct MissingElement {
    pub element: &'static str,
    /// The Debian package to install.
    pub package: &'static str,
    pub required: bool,
    /// Only of use with hardware this terminal may not have.
    pub hardware: bool,
    /// What is lost without it.
    pub lost: &'static str,
}

/// The media stack: every listed element that is not installed.
pub fn media_missing() -> Vec<MissingElement> {
    hal::elements::missing()
        .into_iter()
        .map(|e| MissingElement {
            element: e.factory,
            package: e.package,
            required: e.need == hal::elements::Need::Required,
            hardware: matches!(e.need, hal::elements::Need::Hardware(_)),
            lost: match e.need {
                hal::elements::Need::Required => e.used_for,
                hal::elements::Need::Optional(lost) | hal::elements::Need::Hardware(lost) => lost,
            },
        })
        .collect()
}

/// What the technician screen says is missing: "textoverlay (gstreamer1.0-x);
/// ...", without the hardware encoders (a terminal without that hardware has
/// no use for them); empty when nothing else is.
pub fn media_missing_text() -> String {
    media_missing()
        .iter()
        .filter(|m| !m.hardware)
        .map(|m| format!("{} ({})", m.element, m.package))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Each device's state, the camera checked for the configured call size.
pub fn device_status(devices: &hal::Devices, call: &CallConfig) -> Vec<hal::DeviceStatus> {
    devices.status(call.mode())
}

/// The device states as the heartbeat carries them to the server.
pub fn to_wire(status: &[hal::DeviceStatus]) -> Vec<DeviceHealth> {
    status
        .iter()
        .map(|s| DeviceHealth {
            device: s.kind.name().to_string(),
            state: match s.health {
                hal::Health::Ok => DeviceState::Ok,
                hal::Health::Missing => DeviceState::Missing,
                hal::Health::Error => DeviceState::Failed,
            },
            detail: Some(s.detail.clone()),
        })
        .collect()
}

/// The terminal's devices' state on each call: the heartbeat's source of
/// device health.
pub fn health_source(
    devices: DeviceOwner,
    call: &CallConfig,
) -> impl Fn() -> Vec<DeviceHealth> + Send + Sync + 'static {
    let call = call.clone();
    move || to_wire(&device_status(devices.devices(), &call))
}

/// One device as a line of text: "camera: OK, /dev/kiosk/camera: Mjpg 1280x720@30.00".
pub fn status_line(s: &hal::DeviceStatus) -> String {
    let health = match s.health {
        hal::Health::Ok => "OK",
        hal::Health::Missing => "MISSING",
        hal::Health::Error => "ERROR",
    };
    format!("{}: {health}, {}", s.kind.name(), s.detail)
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
    let owner = DeviceOwner::open(&cfg.devices);
    let status = device_status(owner.devices(), &cfg.call);
    let server = match &id {
        None => ServerCheck {
            reachable: false,
            round_trip_ms: None,
            clock_offset_ms: None,
            detail: Some("not enrolled: no credential to ask the server with".into()),
        },
        Some(e) => check_server(cfg, &e.credential, &status)?,
    };
    Ok(Report {
        software_version: env!("CARGO_PKG_VERSION").to_string(),
        role: format!("{:?}", cfg.role).to_lowercase(),
        server_url: cfg.server_url.clone(),
        terminal_id: id.as_ref().map(|e| e.terminal_id),
        location: id.as_ref().map(|e| e.location.clone()),
        server,
        device_backend: cfg.devices.backend,
        device_status: status,
        devices: owner.devices().report(),
        media_missing: media_missing(),
    })
}

/// One heartbeat: whether the server answers, how fast, and its clock.
fn check_server(
    cfg: &Config,
    credential: &str,
    status: &[hal::DeviceStatus],
) -> anyhow::Result<ServerCheck> {
    let client = Client::new(&cfg.server_url, Some(credential.to_string()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // The recording backlog as the terminal's own store has it (nothing
    // is created where there is no data directory yet).
    let (recordings_pending, recordings_pending_bytes) = if cfg.data_dir.is_dir() {
        crate::store::Store::open(&cfg.data_dir)
            .and_then(|s| s.segments_pending())
            .unwrap_or((0, 0))
    } else {
        (0, 0)
    };
    let sent = Utc::now();
    let t = Instant::now();
    let hb = Heartbeat {
        software_version: env!("CARGO_PKG_VERSION").to_string(),
        uptime_secs: 0,
        terminal_time: sent,
        outbox_pending: 0,
        devices: to_wire(status),
        recordings_pending,
        recordings_pending_bytes,
        data_free_bytes: crate::disk::free_bytes(&cfg.data_dir),
    };
    Ok(match rt.block_on(client.heartbeat(&hb)) {
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
    })
}

/// The report as a technician reads it.
pub fn text(r: &Report) -> String {
    let mut lines = vec![format!(
        "kiosk-app {} ({} terminal)",
        r.software_version, r.role
    )];
    lines.push(match (&r.terminal_id, &r.location) {
        (Some(id), Some(loc)) => format!("terminal {id} at {loc}"),
        _ => "not enrolled".into(),
    });
    lines.push(server_line(r));
    lines.extend(device_lines(r));
    lines.extend(media_lines(&r.media_missing));
    lines.into_iter().map(|l| l + "\n").collect()
}

/// Whether the server answered, how fast, and how far its clock is.
fn server_line(r: &Report) -> String {
    match &r.server {
        ServerCheck {
            reachable: true,
            round_trip_ms,
            clock_offset_ms,
            ..
        } => format!(
            "server {}: reachable, round trip {} ms, clock offset {} ms",
            r.server_url,
            round_trip_ms.unwrap_or(0),
            clock_offset_ms.unwrap_or(0)
        ),
        ServerCheck { detail, .. } => format!(
            "server {}: NOT reachable ({})",
            r.server_url,
            detail.as_deref().unwrap_or("?")
        ),
    }
}

/// Each device's state, then every device found by kind, then what could
/// not be read.
fn device_lines(r: &Report) -> Vec<String> {
    let mut lines = vec![format!("devices ({:?} backend):", r.device_backend)];
    lines.extend(
        r.device_status
            .iter()
            .map(|s| format!("  {}", status_line(s))),
    );
    let d = &r.devices;
    let found = |kind: &str, v: Vec<String>| {
        let names = if v.is_empty() {
            "none found".to_string()
        } else {
            v.join("; ")
        };
        format!("  {kind}: {names}")
    };
    lines.push(found(
        "cameras",
        d.cameras
            .iter()
            .map(|c| format!("{} ({}, {} modes)", c.name, c.path.display(), c.modes.len()))
            .collect(),
    ));
    lines.push(found(
        "microphones",
        d.microphones
            .iter()
            .map(|m| format!("{} ({})", m.name, m.alsa))
            .collect(),
    ));
    lines.push(found(
        "speakers",
        d.speakers
            .iter()
            .map(|m| format!("{} ({})", m.name, m.alsa))
            .collect(),
    ));
    lines.push(found(
        "touchscreens",
        d.touchscreens
            .iter()
            .map(|t| format!("{} ({})", t.name, t.path.display()))
            .collect(),
    ));
    lines.extend(d.problems.iter().map(|p| format!("  problem: {p}")));
    lines
}

/// The GStreamer elements missing, each with its package and what is lost.
fn media_lines(missing: &[MissingElement]) -> Vec<String> {
    let count = hal::elements::ALL.len();
    if missing.is_empty() {
        return vec![format!(
            "media stack: all {count} GStreamer elements installed"
        )];
    }
    let mut lines = vec![format!(
        "media stack: {} of {count} GStreamer elements missing:",
        missing.len()
    )];
    lines.extend(missing.iter().map(|m| {
        let need = match (m.required, m.hardware) {
            (true, _) => "REQUIRED",
            (false, false) => "optional",
            (false, true) => "hardware",
        };
        format!("  {need} {} (install {}): {}", m.element, m.package, m.lost)
    }));
    lines
}
