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
//! ```
//!
//! Environment: `KIOSK_SERVER_URL`, `KIOSK_ROLE`, `KIOSK_DATA_DIR`,
//! `KIOSK_LANGUAGE`, `KIOSK_ENROLMENT_CODE`.

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
