//! The terminal's enrolment: who it is and its credential.
//!
//! Stored in `identity.json` in the data directory, created with mode 0600
//! (readable only by the terminal's user) and written atomically (temporary
//! file, fsync, rename) so a power cut never leaves half a credential.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, bail};
use protocol::terminal::EnrolResponse;

const FILE: &str = "identity.json";

/// Load the saved enrolment, if any. A file others can read is refused.
pub fn load(dir: &Path) -> anyhow::Result<Option<EnrolResponse>> {
    let path = dir.join(FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mode = fs::metadata(&path)?.permissions().mode();
    if mode & 0o077 != 0 {
        bail!(
            "{} is readable by other users (mode {:o}); run `chmod 600` on it",
            path.display(),
            mode & 0o777
        );
    }
    Ok(Some(serde_json::from_str(&text).with_context(|| {
        format!("{} is damaged; re-enrol the terminal", path.display())
    })?))
}

/// Save the enrolment atomically with mode 0600.
pub fn save(dir: &Path, e: &EnrolResponse) -> anyhow::Result<()> {
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{FILE}.tmp"));
    let _ = fs::remove_file(&tmp);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(serde_json::to_string_pretty(e)?.as_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, dir.join(FILE))?;
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn saved_private_and_loaded_back() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).unwrap().is_none());
        let e = EnrolResponse {
            terminal_id: Uuid::from_u128(1),
            facility_id: Uuid::from_u128(2),
            role: protocol::TerminalRole::Lobby,
            location: "Lobby monitor 1".into(),
            credential: "secret".into(),
        };
        save(dir.path(), &e).unwrap();
        let mode = fs::metadata(dir.path().join(FILE))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(load(dir.path()).unwrap().unwrap().credential, "secret");
        fs::set_permissions(dir.path().join(FILE), fs::Permissions::from_mode(0o644)).unwrap();
        assert!(load(dir.path()).is_err());
    }
}
