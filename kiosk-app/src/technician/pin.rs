//! The technician PIN: only its Argon2id hash (a PHC string) is in the
//! configuration, made with `kiosk-app hash-pin` (the PIN read from
//! standard input, so it stays out of the shell history and `ps`).
//!
//! Argon2id rather than the HMAC the visitors' PINs use: a technician PIN
//! lives for months and the configuration file may be copied around, so
//! guessing it offline must be slow.

use anyhow::bail;
use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHash, PasswordVerifier};

/// Digits a technician PIN may have.
pub const LENGTHS: std::ops::RangeInclusive<usize> = 4..=12;

/// Check a PIN's shape: digits only (the screen has a keypad), 4 to 12 of them.
pub fn check_pin(pin: &str) -> anyhow::Result<()> {
    if !pin.bytes().all(|b| b.is_ascii_digit()) || !LENGTHS.contains(&pin.len()) {
        bail!(
            "a technician PIN is {} to {} digits (the screen has only a keypad)",
            LENGTHS.start(),
            LENGTHS.end()
        );
    }
    Ok(())
}

/// Hash `pin` with Argon2id and a fresh salt: the `pin_hash` to put in the
/// configuration.
pub fn hash(pin: &str) -> anyhow::Result<String> {
    check_pin(pin)?;
    Ok(Argon2::default()
        .hash_password(pin.as_bytes(), &SaltString::generate(&mut OsRng))
        .map_err(|e| anyhow::anyhow!("hashing the PIN: {e}"))?
        .to_string())
}

/// Accept a configured `pin_hash` only if it is a PHC string of Argon2:
/// a PIN typed there by mistake is refused (and not repeated in the error).
pub fn check_hash(h: &str) -> anyhow::Result<String> {
    let h = h.trim();
    match PasswordHash::new(h) {
        Ok(p) if p.algorithm.as_str().starts_with("argon2") && p.hash.is_some() => {
            Ok(h.to_string())
        }
        _ => bail!(
            "technician pin_hash is not an Argon2 hash: put the output of \
             `kiosk-app hash-pin` there, never the PIN itself"
        ),
    }
}

/// Whether `pin` matches `hash` (a string [`check_hash`] accepted).
pub fn verify(pin: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(pin.as_bytes(), &h)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_verifies_the_pin_and_never_contains_it() {
        let h = hash("482193").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(!h.contains("482193"), "{h}");
        assert_eq!(check_hash(&h).unwrap(), h);
        assert!(verify("482193", &h));
        assert!(!verify("482194", &h));
        assert!(!verify("", &h));
        // Two hashes of one PIN differ (salted).
        assert_ne!(hash("482193").unwrap(), h);
    }

    #[test]
    fn a_pin_in_place_of_its_hash_is_refused_without_repeating_it() {
        let e = check_hash("482193").unwrap_err().to_string();
        assert!(e.contains("hash-pin"), "{e}");
        assert!(!e.contains("482193"), "{e}");
        for bad in ["12", "12345678901234", "12a4", ""] {
            assert!(hash(bad).is_err(), "{bad}");
        }
    }
}
