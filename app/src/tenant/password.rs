//! Staff passwords: argon2id hashes in PHC string form, and random passwords for
//! accounts created on someone's behalf.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

pub const MIN_PASSWORD_CHARS: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("Passwords must be at least {MIN_PASSWORD_CHARS} characters long.")]
    TooShort,
    #[error("could not hash the password: {0}")]
    Hash(String),
    #[error("Too many passwords are being checked right now. Please try again in a few seconds.")]
    Busy,
}

/// Hashing runs one per core at most: each takes 19 MiB and tens of milliseconds of CPU,
/// so a burst of sign-ins (for real or unknown accounts) waits here for its turn instead of
/// exhausting memory or stalling the async workers that serve everyone else.
static TURNS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
});
/// How long a password check waits for its turn before giving up with `Busy`.
const TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

async fn in_turn<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PasswordError> {
    let _turn = tokio::time::timeout(TURN_WAIT, TURNS.acquire())
        .await
        .map_err(|_| PasswordError::Busy)?
        .expect("the hashing semaphore is never closed");
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// [`hash_password`] in a blocking thread, in turn with every other hash.
pub async fn hash(password: &str) -> Result<String, PasswordError> {
    let password = password.to_owned();
    in_turn(move || hash_password(&password)).await?
}

/// [`verify_password`] in a blocking thread, in turn with every other hash.
pub async fn verify(password: &str, hash: &str) -> Result<bool, PasswordError> {
    let (password, hash) = (password.to_owned(), hash.to_owned());
    in_turn(move || verify_password(&password, &hash)).await
}

/// Hashes with argon2id (the argon2 crate's defaults: 19 MiB, 2 passes). This takes
/// tens of milliseconds: on a request path call [`hash`] instead.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Sixteen characters from an alphabet without look-alikes (no 0/O, 1/l/I).
pub fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_own_password() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(matches!(
            hash_password("short"),
            Err(PasswordError::TooShort)
        ));
    }
}
