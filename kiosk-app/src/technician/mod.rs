//! The technician screen: a PIN prompt opened by five quick taps on the
//! attract screen's corner, then the diagnostics: the devices found (the
//! same facts as `kiosk-app diagnose`, from [`crate::diagnose`]), a live
//! self-view, the microphone level, a speaker test tone, network and server
//! status, software version and terminal id. Works on lobby and unit
//! terminals, online or not (nothing here needs the server).
//!
//! - [`machine`]: what is showing, the PIN and its lockout (pure).
//! - [`pin`]: the PIN's Argon2id hash (`kiosk-app hash-pin`).
//! - [`selfview`], [`meter`], [`tone`]: the GStreamer pipelines on the
//!   `hal` devices, opened only while the diagnostics are up.
//!
//! [`Technician`] ties them together for the window and headless mode: it
//! takes touches and ticks and returns a [`ui::TechnicianView`].

pub mod machine;
pub mod meter;
pub mod pin;
pub mod selfview;
pub mod tone;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use ui::{
    DeviceHealthText, DeviceKindText, DeviceRow, Lang, TechnicianInput, TechnicianMessage,
    TechnicianScreen, TechnicianView,
};

use crate::call::FrameSink;
use crate::config::Config;
use crate::devices::{CameraLoan, DeviceOwner};
use machine::{Effect, Input, Machine, Phase, PinMessage, Policy};

/// What the terminal knows of itself and its server, for the screen.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub terminal_id: Option<uuid::Uuid>,
    pub location: Option<String>,
    pub online: bool,
    /// Terminal clock.
    pub last_sync: Option<DateTime<Utc>>,
    pub last_heartbeat: Option<DateTime<Utc>>,
}

/// The live figures, for headless `tech-stats` and tests.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LiveStats {
    pub open: bool,
    pub video: selfview::VideoStats,
    pub level: meter::LevelStats,
    pub tone_playing: bool,
    pub tones_played: u32,
    pub speaker_error: Option<String>,
}

/// The pipelines while the diagnostics are up, and the camera they borrowed.
struct Live {
    view: selfview::SelfView,
    meter: meter::Meter,
    tone: Option<tone::Tone>,
    status: Vec<hal::DeviceStatus>,
    checked: Instant,
    /// Dropped last: the camera goes back once the self-view has stopped.
    _camera: Option<CameraLoan>,
}

/// How often the device list is checked again while showing.
const RECHECK: Duration = Duration::from_secs(2);

pub struct Technician {
    machine: Machine,
    cfg: Config,
    devices: DeviceOwner,
    sink: Option<FrameSink>,
    live: Option<Live>,
    tones_played: u32,
    speaker_error: Option<String>,
    lang: Lang,
}

impl Technician {
    pub fn new(cfg: &Config, devices: DeviceOwner, now: DateTime<Utc>) -> Technician {
        let policy = Policy {
            idle: chrono::Duration::from_std(cfg.technician.idle)
                .unwrap_or(chrono::Duration::seconds(120)),
            ..Policy::default()
        };
        Technician {
            machine: Machine::new(policy, cfg.technician.pin_hash.clone(), now),
            cfg: cfg.clone(),
            devices,
            sink: None,
            live: None,
            tones_played: 0,
            speaker_error: None,
            lang: cfg.language,
        }
    }

    /// Where the self-view's pictures go (the window); headless has none.
    pub fn set_frame_sink(&mut self, sink: FrameSink) {
        self.sink = Some(sink);
    }

    /// Whether a technician screen is up (instead of the terminal's).
    pub fn showing(&self) -> bool {
        self.machine.showing()
    }

    /// A touch. `lang` is the language the terminal's screen was in.
    pub fn touch(&mut self, input: TechnicianInput, lang: Lang, now: DateTime<Utc>) {
        if !self.showing() {
            self.lang = lang;
        }
        let input = match input {
            TechnicianInput::CornerTap => Input::CornerTap,
            TechnicianInput::Digit(d) => Input::Digit(d),
            TechnicianInput::Backspace => Input::Backspace,
            TechnicianInput::Submit => Input::Submit,
            TechnicianInput::Cancel => Input::Cancel,
            TechnicianInput::Close => Input::Close,
            TechnicianInput::Tone => Input::Tone,
            TechnicianInput::Touch => Input::Touch,
        };
        let effects = self.machine.handle(input, now);
        self.apply(effects);
    }

    /// Time passes: the idle close, the tone's end, a fresh device check.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        let effects = self.machine.handle(Input::Tick, now);
        self.apply(effects);
        if let Some(live) = &mut self.live {
            if live.tone.as_ref().is_some_and(|t| !t.playing()) {
                live.tone = None;
            }
            if live.checked.elapsed() >= RECHECK {
                live.status =
                    crate::diagnose::device_status(self.devices.devices(), &self.cfg.call);
                live.checked = Instant::now();
            }
        }
    }

    fn apply(&mut self, effects: Vec<Effect>) {
        for e in effects {
            match e {
                Effect::Start => self.start(),
                Effect::Stop => self.live = None,
                Effect::Tone => self.play_tone(),
            }
        }
    }

    /// The diagnostics open: check the devices, start the self-view (with
    /// the camera, if no call has it) and the microphone meter.
    fn start(&mut self) {
        let devices = self.devices.devices();
        let status = crate::diagnose::device_status(devices, &self.cfg.call);
        for s in &status {
            tracing::info!(device = s.kind.name(), health = ?s.health, detail = %s.detail, "technician check");
        }
        let camera = self
            .devices
            .borrow_camera("technician screen", Duration::from_secs(2));
        if let Err(e) = &camera {
            tracing::warn!(error = %e, "technician self-view");
        }
        let view = selfview::SelfView::start(devices, self.cfg.call.mode(), self.sink.clone());
        let meter = meter::Meter::start(devices);
        self.speaker_error = None;
        self.live = Some(Live {
            view,
            meter,
            tone: None,
            status,
            checked: Instant::now(),
            _camera: camera.ok(),
        });
    }

    /// The speaker test: a 2 s tone, one at a time.
    fn play_tone(&mut self) {
        let Some(live) = &mut self.live else { return };
        if live.tone.is_some() {
            return;
        }
        match tone::Tone::play(self.devices.devices()) {
            Ok(t) => {
                live.tone = Some(t);
                self.tones_played += 1;
                self.speaker_error = None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "technician test tone");
                self.speaker_error = Some(e);
            }
        }
    }

    /// The live figures.
    pub fn stats(&self) -> LiveStats {
        LiveStats {
            open: self.live.is_some(),
            video: self
                .live
                .as_ref()
                .map(|l| l.view.stats())
                .unwrap_or_default(),
            level: self
                .live
                .as_ref()
                .map(|l| l.meter.stats())
                .unwrap_or_default(),
            tone_playing: self.live.as_ref().is_some_and(|l| l.tone.is_some()),
            tones_played: self.tones_played,
            speaker_error: self.speaker_error.clone(),
        }
    }

    /// What the screen shows now.
    pub fn view(&self, facts: &Facts, now: DateTime<Utc>) -> TechnicianView {
        let stats = self.stats();
        let ago =
            |t: Option<DateTime<Utc>>| t.map(|t| (Utc::now() - t).num_seconds().max(0) as u32);
        let devices = self
            .live
            .as_ref()
            .map(|l| l.status.iter().map(row).collect())
            .unwrap_or_default();
        TechnicianView {
            screen: match self.machine.phase() {
                Phase::Open => TechnicianScreen::Diagnostics,
                _ => TechnicianScreen::Pin,
            },
            lang: self.lang,
            digits_entered: self.machine.digits_entered(),
            message: match self.machine.message(now) {
                PinMessage::None => TechnicianMessage::None,
                PinMessage::Wrong { attempts_left } => {
                    TechnicianMessage::WrongPin { attempts_left }
                }
                PinMessage::Locked { seconds_left } => TechnicianMessage::Locked { seconds_left },
                PinMessage::NotConfigured => TechnicianMessage::NotConfigured,
            },
            devices,
            camera_error: stats.video.error.unwrap_or_default(),
            level: stats.level.fraction(),
            level_db: stats.level.rms_db.map(|db| db.max(-99.0).round() as i32),
            microphone_error: stats.level.error.unwrap_or_default(),
            tone_playing: stats.tone_playing,
            speaker_error: stats.speaker_error.unwrap_or_default(),
            online: facts.online,
            server_url: self.cfg.server_url.clone(),
            media_missing: crate::diagnose::media_missing_text(),
            last_sync_secs: ago(facts.last_sync),
            last_heartbeat_secs: ago(facts.last_heartbeat),
            software_version: env!("CARGO_PKG_VERSION").to_string(),
            terminal_id: facts.terminal_id.map(|i| i.to_string()).unwrap_or_default(),
            location: facts.location.clone().unwrap_or_default(),
            closes_in: self.machine.closes_in(now),
        }
    }
}

fn row(s: &hal::DeviceStatus) -> DeviceRow {
    DeviceRow {
        kind: match s.kind {
            hal::DeviceKind::Camera => DeviceKindText::Camera,
            hal::DeviceKind::Microphone => DeviceKindText::Microphone,
            hal::DeviceKind::Speaker => DeviceKindText::Speaker,
            hal::DeviceKind::Touchscreen => DeviceKindText::Touchscreen,
        },
        health: match s.health {
            hal::Health::Ok => DeviceHealthText::Ok,
            hal::Health::Missing => DeviceHealthText::Missing,
            hal::Health::Error => DeviceHealthText::Error,
        },
        detail: s.detail.clone(),
    }
}

/// The technician view as one line of text (headless mode).
pub fn describe(v: &TechnicianView) -> String {
    match v.screen {
        TechnicianScreen::Pin => {
            let message = match v.message {
                TechnicianMessage::None => String::new(),
                TechnicianMessage::WrongPin { attempts_left } => {
                    format!(" Wrong PIN. {attempts_left} attempts left.")
                }
                TechnicianMessage::Locked { seconds_left } => {
                    format!(" Too many attempts. Try again in {seconds_left} s.")
                }
                TechnicianMessage::NotConfigured => {
                    " No technician PIN is set in this terminal's configuration.".into()
                }
            };
            format!(
                "[technician-pin] {}{message}",
                "•".repeat(v.digits_entered.into())
            )
        }
        TechnicianScreen::Diagnostics => {
            let devices: Vec<String> = v
                .devices
                .iter()
                .map(|d| {
                    let health = match d.health {
                        DeviceHealthText::Ok => "OK",
                        DeviceHealthText::Missing => "MISSING",
                        DeviceHealthText::Error => "ERROR",
                    };
                    format!("{:?} {health}", d.kind).to_lowercase()
                })
                .collect();
            format!(
                "[technician] {}; server {}; version {}; terminal {}{}",
                devices.join(", "),
                if v.online {
                    "reachable"
                } else {
                    "NOT reachable"
                },
                v.software_version,
                if v.terminal_id.is_empty() {
                    "not enrolled"
                } else {
                    &v.terminal_id
                },
                if v.tone_playing { "; playing tone" } else { "" },
            )
        }
    }
}
