//! Configuration: a TOML file, then environment variables on top.
//!
//! ```toml
//! listen = "127.0.0.1:8080"          # loopback unless you say otherwise
//! database = "/var/lib/visit-server/visits.db"
//! key_file = "/var/lib/visit-server/server.key"
//! recordings_dir = "/var/lib/visit-server/recordings"   # default: beside the database
//! tick_seconds = 5
//! public_url = "https://visits.jail.example"   # base of remote visitors' join links
//! [smtp]                              # optional: send confirmations by mail
//! host = "127.0.0.1"
//! port = 25
//! from = "Visitation <visits@jail.example>"
//! ```
//!
//! Environment: `VISIT_SERVER_LISTEN`, `VISIT_SERVER_DATABASE`,
//! `VISIT_SERVER_KEY_FILE`, `VISIT_SERVER_PUBLIC_URL`, `VISIT_SERVER_RECORDINGS_DIR`. Under systemd the key is read from the
//! credential `server-key` (`LoadCredential=`) when present, so it can live
//! encrypted outside the data directory.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<SocketAddr>,
    database: Option<PathBuf>,
    key_file: Option<PathBuf>,
    recordings_dir: Option<PathBuf>,
    tick_seconds: Option<u64>,
    public_url: Option<String>,
    smtp: Option<SmtpConfig>,
}

/// Where confirmation mails go (a facility's relay; no authentication).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    pub from: String,
}

fn default_smtp_port() -> u16 {
    25
}

/// Resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database: PathBuf,
    pub key_file: PathBuf,
    /// Where visit recordings are kept (`recordings/` beside the database
    /// unless configured).
    pub recordings_dir: PathBuf,
    pub tick: Duration,
    /// Where visitors reach this server; join links in mail start with it.
    pub public_url: String,
    pub smtp: Option<SmtpConfig>,
}

pub const DEFAULT_CONFIG: &str = "/etc/visit-server/visit-server.toml";
const DEFAULT_DATA: &str = "/var/lib/visit-server";

impl Settings {
    /// Read `path` (a missing default file is fine, a missing named file is
    /// not), then apply the environment through `env`.
    pub fn load(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Settings> {
        let file: File = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading configuration {}", p.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("configuration {} is not valid", p.display()))?
            }
            None => match std::fs::read_to_string(DEFAULT_CONFIG) {
                Ok(text) => toml::from_str(&text)
                    .with_context(|| format!("configuration {DEFAULT_CONFIG} is not valid"))?,
                Err(_) => File::default(),
            },
        };
        let listen = match env("VISIT_SERVER_LISTEN") {
            Some(v) => v
                .parse()
                .with_context(|| format!("VISIT_SERVER_LISTEN={v} is not host:port"))?,
            None => file
                .listen
                .unwrap_or_else(|| "127.0.0.1:8080".parse().expect("static address")),
        };
        let database = env("VISIT_SERVER_DATABASE")
            .map(PathBuf::from)
            .or(file.database)
            .unwrap_or_else(|| Path::new(DEFAULT_DATA).join("visits.db"));
        let credential = env("CREDENTIALS_DIRECTORY")
            .map(|d| Path::new(&d).join("server-key"))
            .filter(|p| p.exists());
        let key_file = env("VISIT_SERVER_KEY_FILE")
            .map(PathBuf::from)
            .or(credential)
            .or(file.key_file)
            .unwrap_or_else(|| Path::new(DEFAULT_DATA).join("server.key"));
        let recordings_dir = env("VISIT_SERVER_RECORDINGS_DIR")
            .map(PathBuf::from)
            .or(file.recordings_dir)
            .unwrap_or_else(|| {
                database
                    .parent()
                    .unwrap_or(Path::new("."))
                    .join("recordings")
            });
        let public_url = env("VISIT_SERVER_PUBLIC_URL")
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{listen}"));
        Ok(Settings {
            public_url,
            listen,
            database,
            key_file,
            recordings_dir,
            tick: Duration::from_secs(file.tick_seconds.unwrap_or(5).max(1)),
            smtp: file.smtp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\ndatabase = \"/tmp/x.db\"\n[smtp]\nhost = \"127.0.0.1\"\nfrom = \"a@b.org\"\n",
        )
        .unwrap();
        let s = Settings::load(Some(&path), |_| None).unwrap();
        assert_eq!(s.listen.port(), 9000);
        assert_eq!(s.smtp.unwrap().port, 25);
        let s = Settings::load(Some(&path), |k| {
            (k == "VISIT_SERVER_LISTEN").then(|| "127.0.0.1:9100".into())
        })
        .unwrap();
        assert_eq!(s.listen.port(), 9100);
        assert_eq!(s.database, PathBuf::from("/tmp/x.db"));
        assert_eq!(s.recordings_dir, PathBuf::from("/tmp/recordings"));
    }

    #[test]
    fn mistakes_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "lisen = \"127.0.0.1:9000\"\n").unwrap();
        let err = format!("{:#}", Settings::load(Some(&path), |_| None).unwrap_err());
        assert!(err.contains("lisen"), "{err}");
        let err = format!(
            "{:#}",
            Settings::load(Some(&dir.path().join("nope.toml")), |_| None).unwrap_err()
        );
        assert!(err.contains("nope.toml"), "{err}");
    }
}
