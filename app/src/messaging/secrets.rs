//! Provider credentials at rest: sealed with ChaCha20-Poly1305 under the server's 32-byte
//! key, which comes from configuration (`QLINE_SECRET_KEY`, 64 hex digits) or from a key
//! file generated on first run (`./data/secret.key`). Every instance sharing a database
//! must use the same key. A value an unauthenticated request must be matched against
//! (Meta's verify token) is also stored as a fingerprint keyed by it.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the secret key must be 64 hexadecimal digits (32 bytes)")]
    BadKey,
    #[error("cannot read or write the key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("a stored secret cannot be opened with this server's key (was the key changed?)")]
    Undecryptable,
}

/// Seals and opens secrets with the server's key, and fingerprints values that must be
/// found without opening every sealed secret.
#[derive(Clone)]
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
    /// Derived from the server's key: a copy of the database alone cannot test guesses
    /// against a stored fingerprint.
    fingerprint_key: [u8; 32],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(…)")
    }
}

const PREFIX: &str = "v1:";

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl SecretBox {
    pub fn from_hex_key(hex: &str) -> Result<Self, SecretError> {
        let bytes = from_hex(hex)
            .filter(|b| b.len() == 32)
            .ok_or(SecretError::BadKey)?;
        Ok(Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)),
            fingerprint_key: hmac_sha256(&bytes, b"qline fingerprint key v1"),
        })
    }

    /// Reads the key file, creating it (readable by its owner only) with a random key
    /// when it does not exist yet.
    pub fn load_or_create(path: &Path) -> Result<Self, SecretError> {
        let io = |source| SecretError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(hex) => Self::from_hex_key(&hex),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(folder).map_err(io)?;
                }
                let key: [u8; 32] = rand::random();
                let hex = to_hex(&key);
                write_private(path, &hex).map_err(io)?;
                Self::from_hex_key(&hex)
            }
            Err(e) => Err(io(e)),
        }
    }

    pub fn seal(&self, plain: &str) -> String {
        let nonce: [u8; 12] = rand::random();
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .expect("sealing in memory cannot fail");
        format!("{PREFIX}{}{}", to_hex(&nonce), to_hex(&sealed))
    }

    /// A keyed hash of `value` (HMAC-SHA256, hex): the same for the same value under the
    /// same server key, and useless without that key.
    pub fn fingerprint(&self, value: &str) -> String {
        to_hex(&hmac_sha256(&self.fingerprint_key, value.as_bytes()))
    }

    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        let bytes = sealed
            .strip_prefix(PREFIX)
            .and_then(from_hex)
            .filter(|b| b.len() > 12)
            .ok_or(SecretError::Undecryptable)?;
        let (nonce, body) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), body)
            .map_err(|_| SecretError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| SecretError::Undecryptable)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Shows the last four characters of a secret, for forms: `••••••a1b2`.
pub fn masked(secret: &str) -> String {
    let tail: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if secret.chars().count() <= 4 {
        "••••".to_owned()
    } else {
        format!("••••••{tail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key() {
        let key = SecretBox::from_hex_key(&"ab".repeat(32)).unwrap();
        let other = SecretBox::from_hex_key(&"cd".repeat(32)).unwrap();
        let sealed = key.seal("EAAB-token");
        assert!(!sealed.contains("EAAB-token"));
        assert_ne!(sealed, key.seal("EAAB-token"), "a fresh nonce every time");
        assert_eq!(key.open(&sealed).unwrap(), "EAAB-token");
        assert!(other.open(&sealed).is_err());
        assert!(key.open("v1:00").is_err());
    }

    #[test]
    fn a_fingerprint_is_stable_under_one_key_and_differs_under_another() {
        let key = SecretBox::from_hex_key(&"ab".repeat(32)).unwrap();
        let other = SecretBox::from_hex_key(&"cd".repeat(32)).unwrap();
        let print = key.fingerprint("verify-me");
        assert_eq!(print, key.fingerprint("verify-me"));
        assert_ne!(print, key.fingerprint("verify-you"));
        assert_ne!(print, other.fingerprint("verify-me"));
        assert_eq!(print.len(), 64);
    }

    #[test]
    fn keys_must_be_32_bytes_of_hex() {
        assert!(SecretBox::from_hex_key("abc").is_err());
        assert!(SecretBox::from_hex_key(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn masks_keep_only_the_last_four_characters() {
        assert_eq!(masked("secret-token-9f3a"), "••••••9f3a");
        assert_eq!(masked("abc"), "••••");
    }
}
