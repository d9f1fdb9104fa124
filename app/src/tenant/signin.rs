//! Staff sign-in: password check, per-account and per-address limits on failures, and
//! server-side sessions. The cookie carries a random token; the database keeps only its
//! SHA-256, so a copy of the database cannot be used to sign in.

use super::password::verify_password;
use super::Tenants;
use crate::domain::{SignInError, StaffUser, Timestamp};
use crate::storage::StorageError;
use sha2::{Digest, Sha256};

/// The cookie that carries a staff session.
pub const SESSION_COOKIE: &str = "qline_session";
/// How long a session lasts: a long clinic day.
pub const SESSION_HOURS: i64 = 14;
const WINDOW_MINUTES: i64 = 15;
const MAX_FAILURES_PER_ACCOUNT: u32 = 5;
const MAX_FAILURES_PER_ADDRESS: u32 = 20;

#[derive(Debug, thiserror::Error)]
pub enum SignInFailure {
    #[error(transparent)]
    Refused(#[from] SignInError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A session token as sent in the cookie.
pub struct SessionToken(pub String);

pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn new_token() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    (0..43)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

impl Tenants {
    /// Checks the password (in a blocking thread: argon2 takes tens of milliseconds) and
    /// opens a session. Every attempt is recorded; too many failures lock the account, or
    /// the address, for a while.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        ip: Option<&str>,
    ) -> Result<(StaffUser, SessionToken), SignInFailure> {
        let store = self.store();
        let email = email.trim().to_lowercase();
        let now = self.now();
        let (by_account, by_address) = store
            .failed_logins(&email, ip, now.minus_minutes(WINDOW_MINUTES))
            .await?;
        if by_account >= MAX_FAILURES_PER_ACCOUNT || by_address >= MAX_FAILURES_PER_ADDRESS {
            return Err(SignInError::TooManyAttempts {
                minutes: WINDOW_MINUTES as u32,
            }
            .into());
        }
        let found = store.staff_by_email(&email).await?;
        let password = password.to_owned();
        let hash = found.as_ref().map(|(_, h)| h.clone());
        // Unknown emails cost the same time as known ones, so timing does not reveal accounts.
        let verified = tokio::task::spawn_blocking(move || match hash {
            Some(hash) => verify_password(&password, &hash),
            None => {
                let _ = verify_password(&password, UNKNOWN_ACCOUNT_HASH);
                false
            }
        })
        .await
        .unwrap_or(false);
        let user = found.map(|(u, _)| u).filter(|u| verified && u.active);
        store
            .record_login_attempt(&email, ip, user.is_some(), now)
            .await?;
        let Some(user) = user else {
            return Err(SignInError::WrongCredentials.into());
        };
        let token = new_token();
        let expires = Timestamp(now.millis() + SESSION_HOURS * 3_600_000);
        store
            .insert_session(&hash_token(&token), user.id, now, expires, ip)
            .await?;
        Ok((user, SessionToken(token)))
    }

    /// The staff user behind a session cookie's token, if the session is live.
    pub async fn session_user(&self, token: &str) -> Result<Option<StaffUser>, StorageError> {
        self.store()
            .session_user(&hash_token(token), self.now())
            .await
    }

    pub async fn sign_out(&self, token: &str) -> Result<(), StorageError> {
        self.store().delete_session(&hash_token(token)).await
    }
}

/// An argon2id hash of a password nobody has, verified against when the email is unknown.
const UNKNOWN_ACCOUNT_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3qVp+lPvBQv0x6cl0yIYdk7FTuGlyE0mA6wPOSq0xsU";
