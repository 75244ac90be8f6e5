//! Terminal configuration: `/etc/kiosk/kiosk.toml`, then the environment.
//!
//! ```toml
//! server_url = "https://visits.jail.example"
//! role = "lobby"                 # or "unit"
//! data_dir = "/var/lib/kiosk"
//! language = "en"                # or "es"
//! enrolment_code = "1234-5678-9012"   # first start only; may be typed instead
//! poll_seconds = 10
//! heartbeat_seconds = 30
//! unit_idle_seconds = 60         # housing unit: signed out after this long untouched
//!
//! [call]
//! width = 1280                   # capture and send size
//! height = 720
//! fps = 30
//! latency_ms = 50                # receive jitter buffer; ~50 suits a LAN
//! max_kbps = 2500                # video bitrate ceiling (congestion control goes below)
//! video_codec = "auto"           # "h264" (constrained baseline), "vp8", "vp9", or auto
//! local_addresses = []           # limit ICE to these addresses (tests: ["127.0.0.1"])
//! stamp_frames = false           # write a timestamp into sent frames (latency bench)
//!
//! [devices]                      # read straight into hal::DeviceConfig
//! backend = "real"               # or "simulated" (no camera or sound card)
//! # The real backend: every key may be left out on a terminal with the
//! # udev rules installed (see hal::DeviceConfig for each).
//! camera = "/dev/kiosk/camera"
//! microphone = "plughw:CARD=Headset,DEV=0"
//! speaker = "plughw:CARD=Headset,DEV=0"
//! # The simulated backend: faults to play (see hal::faults).
//! faults = "camera-lost-at=5s,camera-back-at=10s"
//! # A handset with a hook switch: lifted, the call uses its microphone and
//! # earpiece; down, the terminal's microphone and speaker.
//! handset_microphone = "plughw:CARD=Handset,DEV=0"
//! handset_speaker = "plughw:CARD=Handset,DEV=0"
//! [devices.hook]
//! device = "/dev/kiosk/hook"     # an input device (udev-rules/)
//!
//! [technician]
//! # The technician screen's PIN, hashed: run `kiosk-app hash-pin` and type it.
//! # Without it the technician screen cannot be opened.
//! pin_hash = "$argon2id$v=19$m=19456,t=2,p=1$..."
//! idle_seconds = 120             # the screen closes itself after this long untouched
//! ```
//!
//! STUN and TURN servers are not configured here: the facility's
//! configuration on the server hands them out with each call (none by default).
//!
//! Environment: `KIOSK_SERVER_URL`, `KIOSK_ROLE`, `KIOSK_DATA_DIR`,
//! `KIOSK_LANGUAGE`, `KIOSK_ENROLMENT_CODE`, `KIOSK_DEVICES`, `KIOSK_FAULTS`
//! (the simulated fault script, for tests), `KIOSK_TECHNICIAN_PIN_HASH`.
//!
//! The `[devices]` table is hal's own [`hal::DeviceConfig`]; the terminal
//! opens its devices from it once (`devices::DeviceOwner`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use protocol::TerminalRole;
use serde::Deserialize;
use ui::Lang;

pub const DEFAULT_PATH: &str = "/etc/kiosk/kiosk.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    server_url: Option<String>,
    role: Option<String>,
    data_dir: Option<PathBuf>,
    language: Option<String>,
    enrolment_code: Option<String>,
    poll_seconds: Option<f64>,
    heartbeat_seconds: Option<f64>,
    unit_idle_seconds: Option<f64>,
    #[serde(default)]
    call: CallConfig,
    #[serde(default)]
    devices: hal::DeviceConfig,
    #[serde(default)]
    technician: TechnicianFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TechnicianFile {
    pin_hash: Option<String>,
    idle_seconds: Option<f64>,
}

/// The technician screen: who may open it, and for how long it stays up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TechnicianConfig {
    /// The PIN's Argon2id hash (a PHC string); `None`: the screen is off.
    pub pin_hash: Option<String>,
    /// Untouched this long, the screen closes itself.
    pub idle: Duration,
}

impl Default for TechnicianConfig {
    fn default() -> Self {
        TechnicianConfig {
            pin_hash: None,
            idle: Duration::from_secs(120),
        }
    }
}

/// How calls are made: sizes, latency, codec (the devices are `[devices]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallConfig {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub latency_ms: u32,
    pub max_kbps: u32,
    pub video_codec: VideoCodecChoice,
    pub local_addresses: Vec<String>,
    pub stamp_frames: bool,
}

impl CallConfig {
    /// The capture mode the call asks the camera for (and sends).
    pub fn mode(&self) -> hal::VideoMode {
        hal::VideoMode {
            width: self.width,
            height: self.height,
            fps: self.fps,
        }
    }
}

/// The video codec a call prefers. Offers list it first, then every other
/// codec the terminal can encode (the other side chooses); an answer takes
/// the offer's first codec the terminal can encode (the offerer's order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoCodecChoice {
    /// H.264 (hardware encoder first, then x264), then VP8, then VP9.
    #[default]
    Auto,
    H264,
    Vp8,
    Vp9,
}

impl Default for CallConfig {
    fn default() -> Self {
        CallConfig {
            width: 1280,
            height: 720,
            fps: 30,
            latency_ms: 50,
            max_kbps: 2500,
            video_codec: VideoCodecChoice::Auto,
            local_addresses: Vec::new(),
            stamp_frames: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub server_url: String,
    pub role: TerminalRole,
    pub data_dir: PathBuf,
    pub language: Lang,
    pub enrolment_code: Option<String>,
    pub poll: Duration,
    pub heartbeat: Duration,
    /// Housing unit: no touch for this long signs the person out (never
    /// during a call).
    pub unit_idle: Duration,
    pub call: CallConfig,
    pub devices: hal::DeviceConfig,
    pub technician: TechnicianConfig,
}

fn parse_role(s: &str) -> anyhow::Result<TerminalRole> {
    match s {
        "lobby" => Ok(TerminalRole::Lobby),
        "unit" => Ok(TerminalRole::Unit),
        _ => bail!("role must be \"lobby\" or \"unit\", not {s:?}"),
    }
}

fn parse_lang(s: &str) -> anyhow::Result<Lang> {
    match s {
        "en" => Ok(Lang::En),
        "es" => Ok(Lang::Es),
        _ => bail!("language must be \"en\" or \"es\", not {s:?}"),
    }
}

/// Sizes a camera and an encoder can take.
fn checked_call(c: CallConfig) -> anyhow::Result<CallConfig> {
    if !(16..=3840).contains(&c.width)
        || !(16..=2160).contains(&c.height)
        || !(1..=60).contains(&c.fps)
    {
        bail!(
            "[call] width/height/fps out of range: {}x{}@{}",
            c.width,
            c.height,
            c.fps
        );
    }
    Ok(c)
}

/// `KIOSK_DEVICES` and `KIOSK_FAULTS` (tests, demos) over `[devices]`.
fn devices_with_env(
    mut d: hal::DeviceConfig,
    env: &impl Fn(&str) -> Option<String>,
) -> anyhow::Result<hal::DeviceConfig> {
    if let Some(b) = env("KIOSK_DEVICES") {
        d.backend = match b.as_str() {
            "real" => hal::Backend::Real,
            "simulated" => hal::Backend::Simulated,
            _ => bail!("KIOSK_DEVICES must be \"real\" or \"simulated\", not {b:?}"),
        };
    }
    if let Some(f) = env("KIOSK_FAULTS") {
        d.faults = f
            .parse()
            .map_err(|e| anyhow::anyhow!("KIOSK_FAULTS: {e}"))?;
    }
    Ok(d)
}

/// The configuration file, or an empty one when the default path is absent.
fn read_file(path: Option<&Path>) -> anyhow::Result<File> {
    Ok(match path {
        Some(p) => toml::from_str(
            &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        )
        .with_context(|| format!("{} is not a valid configuration", p.display()))?,
        None => match std::fs::read_to_string(DEFAULT_PATH) {
            Ok(t) => toml::from_str(&t).with_context(|| format!("{DEFAULT_PATH} is not valid"))?,
            Err(_) => File::default(),
        },
    })
}

impl Config {
    /// Read `path` (default [`DEFAULT_PATH`], which may be absent) and apply `env`.
    pub fn load(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Config> {
        let file = read_file(path)?;
        let server_url = env("KIOSK_SERVER_URL")
            .or(file.server_url)
            .context("no server_url: set it in the configuration or KIOSK_SERVER_URL")?;
        let server_url = server_url.trim_end_matches('/').to_string();
        if !(server_url.starts_with("http://") || server_url.starts_with("https://")) {
            bail!("server_url must start with http:// or https://, got {server_url:?}");
        }
        let role = parse_role(
            &env("KIOSK_ROLE")
                .or(file.role)
                .unwrap_or_else(|| "lobby".into()),
        )?;
        let language = parse_lang(
            &env("KIOSK_LANGUAGE")
                .or(file.language)
                .unwrap_or_else(|| "en".into()),
        )?;
        let secs = |v: Option<f64>, default: f64| {
            Duration::from_secs_f64(v.unwrap_or(default).clamp(0.05, 3600.0))
        };
        Ok(Config {
            server_url,
            role,
            data_dir: env("KIOSK_DATA_DIR")
                .map(PathBuf::from)
                .or(file.data_dir)
                .unwrap_or_else(|| "/var/lib/kiosk".into()),
            language,
            enrolment_code: env("KIOSK_ENROLMENT_CODE").or(file.enrolment_code),
            poll: secs(file.poll_seconds, 10.0),
            heartbeat: secs(file.heartbeat_seconds, 30.0),
            unit_idle: Duration::from_secs_f64(
                file.unit_idle_seconds.unwrap_or(60.0).clamp(5.0, 3600.0),
            ),
            call: checked_call(file.call)?,
            devices: devices_with_env(file.devices, &env)?,
            technician: TechnicianConfig {
                pin_hash: match env("KIOSK_TECHNICIAN_PIN_HASH").or(file.technician.pin_hash) {
                    Some(h) => Some(crate::technician::pin::check_hash(&h)?),
                    None => None,
                },
                idle: secs(file.technician.idle_seconds, 120.0),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_the_file_and_mistakes_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.toml");
        std::fs::write(
            &p,
            "server_url = \"http://127.0.0.1:8080/\"\nrole = \"lobby\"\nlanguage = \"es\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&p), |_| None).unwrap();
        assert_eq!(c.server_url, "http://127.0.0.1:8080");
        assert_eq!(c.language, Lang::Es);
        let c = Config::load(Some(&p), |k| (k == "KIOSK_ROLE").then(|| "unit".into())).unwrap();
        assert_eq!(c.role, TerminalRole::Unit);
        std::fs::write(&p, "server_url = \"ftp://x\"\n").unwrap();
        assert!(format!("{:#}", Config::load(Some(&p), |_| None).unwrap_err()).contains("http://"));
        std::fs::write(&p, "server = \"http://x\"\n").unwrap();
        assert!(format!("{:#}", Config::load(Some(&p), |_| None).unwrap_err()).contains("server"));
    }

    #[test]
    fn device_options_reach_hal_from_one_place_and_the_pin_is_only_a_hash() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.toml");
        let hash = crate::technician::pin::hash("482193").unwrap();
        std::fs::write(
            &p,
            format!(
                "server_url = \"http://127.0.0.1:8080\"\n\
                 [devices]\nbackend = \"simulated\"\nfaults = \"camera-lost-at=5s,camera-back-at=10s\"\n\
                 microphone = \"null\"\necho_cancellation = true\ndevice_root = \"/srv/fake\"\n\
                 [technician]\npin_hash = \"{hash}\"\nidle_seconds = 60\n"
            ),
        )
        .unwrap();
        let c = Config::load(Some(&p), |_| None).unwrap();
        let hal = c.devices.hal();
        assert_eq!(hal.backend, hal::Backend::Simulated);
        assert_eq!(
            hal.faults.to_string(),
            "camera-lost-at=5s,camera-back-at=10s"
        );
        assert_eq!(hal.real.microphone.as_deref(), Some("null"));
        assert!(hal.real.echo_cancellation && hal.real.provide_clock);
        assert_eq!(hal.real.roots, hal::Roots::under(Path::new("/srv/fake")));
        assert_eq!(c.technician.pin_hash.as_deref(), Some(hash.as_str()));
        assert_eq!(c.technician.idle, Duration::from_secs(60));

        // The environment's fault script wins (tests), and a bad one is named.
        let c = Config::load(Some(&p), |k| {
            (k == "KIOSK_FAULTS").then(|| "mic-denied".into())
        })
        .unwrap();
        assert_eq!(c.devices.hal().faults.to_string(), "microphone-denied");
        let e = Config::load(Some(&p), |k| {
            (k == "KIOSK_FAULTS").then(|| "speaker-gone".into())
        })
        .unwrap_err();
        assert!(format!("{e:#}").contains("KIOSK_FAULTS"), "{e:#}");

        // A PIN where its hash belongs is refused, without repeating it.
        let e = Config::load(Some(&p), |k| {
            (k == "KIOSK_TECHNICIAN_PIN_HASH").then(|| "482193".into())
        })
        .unwrap_err();
        let e = format!("{e:#}");
        assert!(e.contains("hash-pin") && !e.contains("482193"), "{e}");
    }
}
