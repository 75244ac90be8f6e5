//! The terminal's data partition, where recording segments wait for
//! upload: its free space (the recorder will not start a track below a
//! floor, and every heartbeat tells the server), and making a segment file
//! durable and knowing its hash.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Below this much free space the terminal does not start recording (the
/// call goes on): the schedule, the outbox and the log must still fit.
pub const MIN_FREE_FOR_RECORDING: u64 = 256 * 1024 * 1024;

/// Bytes an unprivileged process may still write under `dir`, or `None`
/// when the file system cannot say.
pub fn free_bytes(dir: &Path) -> Option<u64> {
    let st = rustix::fs::statvfs(dir).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

/// Make `file` and its directory entry durable (a power cut right after
/// keeps both).
pub fn sync_file_and_dir(file: &Path) -> std::io::Result<()> {
    std::fs::File::open(file)?.sync_all()?;
    if let Some(dir) = file.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// A file's size and SHA-256 (lower-case hex), read in 64 KiB blocks.
pub fn sha256_file(file: &Path) -> std::io::Result<(u64, String)> {
    let mut f = std::fs::File::open(file)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((size, hex))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_real_directory_has_some_free_space() {
        let dir = tempfile::tempdir().unwrap();
        assert!(super::free_bytes(dir.path()).unwrap() > 0);
        assert_eq!(super::free_bytes(&dir.path().join("missing")), None);
    }

    #[test]
    fn a_files_hash_is_the_sha256_of_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x");
        std::fs::write(&f, b"abc").unwrap();
        super::sync_file_and_dir(&f).unwrap();
        let (size, hex) = super::sha256_file(&f).unwrap();
        assert_eq!(size, 3);
        assert_eq!(
            hex,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
