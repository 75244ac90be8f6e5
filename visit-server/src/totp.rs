//! Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA1, 30 s
//! steps, 6 digits, the parameters every authenticator app assumes. The
//! secret is shown to staff once as base32 (RFC 4648) and as an
//! `otpauth://` address; the server keeps it sealed with its key.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// Seconds per code.
pub const STEP: i64 = 30;
/// Steps either side of now that are accepted (a phone's clock a little off).
pub const SKEW: i64 = 1;

/// A new random 20-byte secret (RFC 4226's recommended length).
pub fn new_secret() -> [u8; 20] {
    rand::random()
}

/// The 6-digit code for `secret` at step `counter` (RFC 4226 §5.3).
pub fn hotp(secret: &[u8], counter: u64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", bin % 1_000_000)
}

/// The step a Unix time falls in.
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP)
}

/// The step `code` matches at `unix_seconds` (within [`SKEW`]), if any.
/// The caller refuses a step it has already accepted, so a code cannot be
/// used twice.
pub fn verify(secret: &[u8], code: &str, unix_seconds: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(unix_seconds);
    (now - SKEW..=now + SKEW).find(|&step| {
        step >= 0
            && hotp(secret, step as u64)
                .as_bytes()
                .ct_eq(code.as_bytes())
                .into()
    })
}

/// Base32 without padding, as authenticator apps take it.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            out.push(ALPHABET[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The inverse of [`base32`]; `None` for a character outside its alphabet.
pub fn from_base32(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        } as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buffer >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

/// The address an authenticator app reads (typed in, or from a QR code).
pub fn otpauth_url(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&digits=6&period=30",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_4226_and_6238_test_vectors() {
        // RFC 4226 appendix D.
        let expected = ["755224", "287082", "359152", "969429", "338314"];
        for (i, want) in expected.iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, i as u64), *want);
        }
        // RFC 6238 appendix B (SHA-1), last six digits of the 8-digit codes.
        for (t, want) in [
            (59, "287082"),
            (1111111109, "081804"),
            (1111111111, "050471"),
            (1234567890, "005924"),
            (2000000000, "279037"),
        ] {
            assert_eq!(hotp(RFC_SECRET, step_at(t) as u64), want, "t={t}");
            assert_eq!(verify(RFC_SECRET, want, t), Some(step_at(t)));
        }
    }

    #[test]
    fn a_code_is_taken_one_step_either_side_and_not_further() {
        let code = hotp(RFC_SECRET, step_at(1234567890) as u64);
        assert!(verify(RFC_SECRET, &code, 1234567890 + 30).is_some());
        assert!(verify(RFC_SECRET, &code, 1234567890 - 30).is_some());
        assert!(verify(RFC_SECRET, &code, 1234567890 + 90).is_none());
        assert!(verify(RFC_SECRET, "12345", 1234567890).is_none());
        assert!(verify(RFC_SECRET, "abcdef", 1234567890).is_none());
    }

    #[test]
    fn base32_matches_rfc_4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }
}
