//! A visit's recording as one tar file for an administrator to take away:
//! every stored segment and `manifest.json`, under a directory named for
//! the visit, so that the chain can be checked anywhere.
//!
//! The contents are gathered with a connection ([`contents`]); the tar is
//! written afterwards without one ([`write_tar`]), as the answer streams.

use std::io::Write;
use std::path::PathBuf;

use rusqlite::Connection;
use uuid::Uuid;

use super::super::{Error, Result};
use super::{Store, manifest};

/// What goes into a visit's tar.
#[derive(Debug, Clone)]
pub struct Archive {
    pub visit: Uuid,
    /// (name inside the tar, file on disk), by manifest order.
    pub files: Vec<(String, PathBuf)>,
    pub manifest: Vec<u8>,
}

/// The stored segments of a visit and its manifest.
pub fn contents(conn: &Connection, store: &Store, visit: Uuid) -> Result<Archive> {
    let removed: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM recording_segments WHERE visit_id = ?1 AND removed_at IS NOT NULL)",
        [visit.to_string()],
        |r| r.get(0),
    )?;
    if removed {
        // Said before the answer starts, not as a download broken halfway.
        return Err(Error::Conflict(
            "this visit's recording was removed after the facility's retention period".into(),
        ));
    }
    let entries = manifest::entries(conn, visit)?;
    let files = entries
        .iter()
        .map(|e| (e.file.clone(), store.visit_dir(visit).join(&e.file)))
        .collect();
    Ok(Archive {
        visit,
        files,
        manifest: manifest::manifest_json(conn, visit)?,
    })
}

/// Write the tar to `out`: `<visit>/manifest.json` first, then each segment.
pub fn write_tar<W: Write>(archive: &Archive, out: W) -> std::io::Result<()> {
    let mut tar = tar::Builder::new(out);
    let mut header = tar::Header::new_ustar();
    header.set_size(archive.manifest.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    tar.append_data(
        &mut header,
        format!("{}/manifest.json", archive.visit),
        archive.manifest.as_slice(),
    )?;
    for (name, path) in &archive.files {
        tar.append_path_with_name(path, format!("{}/{name}", archive.visit))?;
    }
    tar.into_inner()?.flush()
}
