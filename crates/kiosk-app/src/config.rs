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
//! devices = "real"               # or "simulated" (no camera or sound card)
//! width = 1280                   # capture and send size
//! height = 720
//! fps = 30
//! latency_ms = 50                # receive jitter buffer; ~50 suits a LAN
//! max_kbps = 2500                # video bitrate ceiling (congestion control goes below)
//! video_codec = "auto"           # "h264" (constrained baseline), "vp8", or auto
//! local_addresses = []           # limit ICE to these addresses (tests: ["127.0.0.1"])
//! stamp_frames = false           # write a timestamp into sent frames (latency bench)
//! ```
//!
//! STUN and TURN servers are not configured here: the facility's
//! configuration on the server hands them out with each call (none by default).
//!
//! Environment: `KIOSK_SERVER_URL`, `KIOSK_ROLE`, `KIOSK_DATA_DIR`,
//! `KIOSK_LANGUAGE`, `KIOSK_ENROLMENT_CODE`, `KIOSK_DEVICES`.

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
}

/// How calls are made: devices, sizes, latency, codec.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallConfig {
    pub devices: hal::Backend,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub latency_ms: u32,
    pub max_kbps: u32,
    pub video_codec: VideoCodecChoice,
    pub local_addresses: Vec<String>,
    pub stamp_frames: bool,
}

/// Which video codec a call sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoCodecChoice {
    /// H.264 where an encoder exists (hardware first, then x264), else VP8.
    #[default]
    Auto,
    H264,
    Vp8,
}

impl Default for CallConfig {
    fn default() -> Self {
        CallConfig {
            devices: hal::Backend::Real,
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

impl Config {
    /// Read `path` (default [`DEFAULT_PATH`], which may be absent) and apply `env`.
    pub fn load(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Config> {
        let file: File = match path {
            Some(p) => toml::from_str(
                &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
            )
            .with_context(|| format!("{} is not a valid configuration", p.display()))?,
            None => match std::fs::read_to_string(DEFAULT_PATH) {
                Ok(t) => {
                    toml::from_str(&t).with_context(|| format!("{DEFAULT_PATH} is not valid"))?
                }
                Err(_) => File::default(),
            },
        };
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
            call: {
                let mut c = file.call;
                if let Some(d) = env("KIOSK_DEVICES") {
                    c.devices = match d.as_str() {
                        "real" => hal::Backend::Real,
                        "simulated" => hal::Backend::Simulated,
                        _ => bail!("KIOSK_DEVICES must be \"real\" or \"simulated\", not {d:?}"),
                    };
                }
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
                c
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
}
