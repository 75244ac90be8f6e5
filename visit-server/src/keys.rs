//! The server's secret key and everything derived from it.
//!
//! One 32-byte master key, loaded from a systemd credential or a file that
//! only the service user can read, and created on first start. From it:
//! - per facility and day, the PIN key terminals get with their schedule; a
//!   PIN is stored only as `HMAC(day key, pin)`, which is also the verifier a
//!   terminal checks offline, and uniqueness per facility-day is a unique index;
//! - keyed hashes of credentials, enrolment codes and admin tokens, so a copy
//!   of the database alone cannot be brute-forced;
//! - a sealing key for PINs waiting in the mail outbox.
//!
//! Why the day key: a terminal must check PINs with the network down, so it
//! must hold something that recognises them. Giving it only today's and
//! tomorrow's keys bounds what a stolen terminal exposes to two days of PINs.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// The master key. Never logged, never serialised.
pub struct Keys {
    master: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        // Length-prefix each part so ("ab","c") and ("a","bc") differ.
        mac.update(&(p.len() as u64).to_be_bytes());
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// The verifier of `pin` under a day key: `HMAC-SHA256(day_key, pin)` in base64url.
/// Terminals compute exactly this to check a typed PIN offline.
pub fn pin_verifier(day_key: &[u8; 32], pin: &str) -> String {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(day_key).expect("HMAC takes any key length");
    mac.update(pin.as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

impl Keys {
    pub fn from_bytes(master: [u8; 32]) -> Self {
        Self { master }
    }

    pub fn random() -> Self {
        let mut master = [0u8; 32];
        rand::rng().fill_bytes(&mut master);
        Self { master }
    }

    /// Load the key from `path`, creating it (mode 0600) if it does not exist.
    /// A key file others can read is refused rather than used.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        match fs::read(path) {
            Ok(bytes) => {
                let mode = fs::metadata(path)?.permissions().mode();
                if mode & 0o077 != 0 {
                    bail!(
                        "key file {} is readable by other users (mode {:o}); run `chmod 600` on it",
                        path.display(),
                        mode & 0o777
                    );
                }
                let master: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    anyhow::anyhow!(
                        "key file {} must hold exactly 32 bytes, it holds {}",
                        path.display(),
                        bytes.len()
                    )
                })?;
                Ok(Self { master })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    fs::create_dir_all(dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                }
                let keys = Self::random();
                let mut f = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .with_context(|| format!("creating key file {}", path.display()))?;
                f.write_all(&keys.master)?;
                f.sync_all()?;
                tracing::info!(path = %path.display(), "created a new server key");
                Ok(keys)
            }
            Err(e) => Err(e).with_context(|| format!("reading key file {}", path.display())),
        }
    }

    /// The PIN key of one facility-local day.
    pub fn day_key(&self, facility: Uuid, date: NaiveDate) -> [u8; 32] {
        hmac(
            &self.master,
            &[
                b"pin-day-key",
                facility.as_bytes(),
                date.to_string().as_bytes(),
            ],
        )
    }

    /// Keyed hash of a bearer secret (credential, enrolment code, admin token).
    pub fn secret_hash(&self, purpose: &str, secret: &str) -> String {
        B64.encode(hmac(
            &self.master,
            &[b"secret", purpose.as_bytes(), secret.as_bytes()],
        ))
    }

    fn seal_cipher(&self) -> ChaCha20Poly1305 {
        let key = hmac(&self.master, &[b"outbox-seal"]);
        ChaCha20Poly1305::new(&key.into())
    }

    /// Encrypt a short secret for storage (nonce || ciphertext).
    pub fn seal(&self, plaintext: &str) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .seal_cipher()
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .expect("in-memory encryption cannot fail");
        [nonce.as_slice(), &ct].concat()
    }

    /// Decrypt what [`Keys::seal`] produced; `None` if it was tampered with
    /// or sealed under another key.
    pub fn unseal(&self, sealed: &[u8]) -> Option<String> {
        if sealed.len() < 12 {
            return None;
        }
        let (nonce, ct) = sealed.split_at(12);
        let pt = self
            .seal_cipher()
            .decrypt(Nonce::from_slice(nonce), ct)
            .ok()?;
        String::from_utf8(pt).ok()
    }
}

/// A random bearer token: 32 bytes, base64url.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    B64.encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_keys_differ_by_day_and_facility() {
        let k = Keys::from_bytes([7; 32]);
        let f = Uuid::from_u128(1);
        let d = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap();
        assert_ne!(k.day_key(f, d), k.day_key(f, d.succ_opt().unwrap()));
        assert_ne!(k.day_key(f, d), k.day_key(Uuid::from_u128(2), d));
        assert_eq!(k.day_key(f, d), k.day_key(f, d));
    }

    #[test]
    fn sealed_secrets_open_only_with_the_same_key() {
        let k = Keys::from_bytes([7; 32]);
        let sealed = k.seal("482913");
        assert!(!sealed.windows(6).any(|w| w == b"482913"));
        assert_eq!(k.unseal(&sealed).as_deref(), Some("482913"));
        assert_eq!(Keys::from_bytes([8; 32]).unseal(&sealed), None);
    }

    #[test]
    fn key_file_is_created_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/server.key");
        let a = Keys::load_or_create(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = Keys::load_or_create(&path).unwrap();
        assert_eq!(a.master, b.master);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = Keys::load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }
}
