//! Staff sign-in: password check, growing waits after failed attempts, and server-side
//! sessions. The cookie carries a random token; the database keeps only its SHA-256, so a
//! copy of the database cannot be used to sign in.
//!
//! Failed attempts are counted per account *on a network* and per network
//! (`domain::Backoff`), and each attempt is counted before its password is checked: a
//! parallel burst of guesses gets exactly the free attempts, and a stranger guessing from
//! elsewhere cannot lock the real user out of their own network.

use super::password;
use super::Tenants;
use crate::domain::net::Network;
use crate::domain::{Backoff, SignInError, StaffUser, Strikes, Timestamp};
use crate::storage::StorageError;
use sha2::{Digest, Sha256};

/// The cookie that carries a staff session over plain HTTP (a machine of one's own).
pub const SESSION_COOKIE: &str = "qline_session";
/// The same cookie when the public URL is https: `Secure`, and bound to this exact host
/// with no `Domain` and path `/`, so no subdomain can set or read it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-qline_session";
/// How long a session lasts: a long clinic day.
pub const SESSION_HOURS: i64 = 14;
/// The longest password a sign-in reads: nothing real is longer.
const MAX_PASSWORD_CHARS: usize = 1_024;
/// How often an attempt retries when a parallel one changed its strikes first.
const RACE_RETRIES: usize = 16;

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

/// The two sources a password attempt counts against.
pub(crate) struct AttemptSources {
    account: String,
    network: String,
}

impl AttemptSources {
    /// `network`: a [`Network`] key, as the request's caller carries it.
    pub(crate) fn new(email: &str, network: Option<&str>) -> Self {
        let network = network.unwrap_or("unknown");
        AttemptSources {
            account: format!("account:{email}@{network}"),
            network: format!("network:{network}"),
        }
    }

    fn rules(&self) -> [(&str, Backoff); 2] {
        [
            (self.account.as_str(), Backoff::ACCOUNT_ON_NETWORK),
            (self.network.as_str(), Backoff::NETWORK),
        ]
    }
}

impl Tenants {
    /// Checks the password (in turn, off the async workers: argon2 takes tens of
    /// milliseconds) and opens a session. A refusal never says whether the email exists.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        network: Option<&Network>,
    ) -> Result<(StaffUser, SessionToken), SignInFailure> {
        let store = self.store();
        let email = super::parse_email(email).map_err(|_| SignInError::InvalidEmail)?;
        if password.chars().count() > MAX_PASSWORD_CHARS {
            return Err(SignInError::WrongCredentials.into());
        }
        let ip = network.map(Network::as_str);
        let sources = AttemptSources::new(&email, ip);
        let found = store.staff_by_email(&email).await?;
        // Unknown emails cost the same time as known ones, so timing does not reveal accounts.
        let hash = found
            .as_ref()
            .map_or(UNKNOWN_ACCOUNT_HASH, |(_, h)| h.as_str());
        let verified = self.checked_password(&sources, password, hash).await?;
        let user = found.map(|(u, _)| u).filter(|u| verified && u.active);
        let now = self.now();
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

    /// Whether `password` matches `hash`, counted against `sources`: refused without a
    /// check while they must wait; a right password clears the account's strikes on this
    /// network and gives the network its attempt back.
    pub(crate) async fn checked_password(
        &self,
        sources: &AttemptSources,
        password: &str,
        hash: &str,
    ) -> Result<bool, SignInFailure> {
        self.reserve_attempt(sources).await?;
        let verified = match password::verify(password, hash).await {
            Ok(verified) => verified,
            Err(_) => {
                // Not checked at all: the attempt is given back.
                self.settle_attempt(sources, true).await?;
                return Err(SignInError::Busy.into());
            }
        };
        if verified {
            self.settle_attempt(sources, false).await?;
        }
        Ok(verified)
    }

    /// Counts one attempt against each source, or refuses with the longest wait. The
    /// count is a compare-and-set: of two parallel attempts that saw the same count, one
    /// goes on and the other looks again.
    async fn reserve_attempt(&self, sources: &AttemptSources) -> Result<(), SignInFailure> {
        let store = self.store();
        for _ in 0..RACE_RETRIES {
            let now = self.now();
            let mut tx = store.begin().await?;
            let rules = sources.rules();
            let names = rules.map(|(source, _)| source);
            let seen = tx.strikes(&names).await?;
            let wait = rules
                .iter()
                .zip(&seen)
                .filter_map(|((_, rule), strikes)| rule.check(*strikes, now).err())
                .max();
            if let Some(wait_secs) = wait {
                return Err(SignInError::TooManyAttempts { wait_secs }.into());
            }
            if seen.iter().any(Option::is_none) {
                tx.forget_strikes_before(now.minus_minutes(24 * 60)).await?;
            }
            let mut won = true;
            for ((source, rule), strikes) in rules.iter().zip(&seen) {
                let next = Strikes {
                    count: rule.live(*strikes, now) + 1,
                    last: now,
                };
                won = tx.swap_strikes(source, *strikes, next).await?;
                if !won {
                    break;
                }
            }
            if won {
                tx.commit().await?;
                return Ok(());
            }
        }
        Err(SignInError::Busy.into())
    }

    /// After a right password (`unchecked`: none was checked) the account's strikes on
    /// this network are cleared and the network gets its attempt back.
    async fn settle_attempt(
        &self,
        sources: &AttemptSources,
        unchecked: bool,
    ) -> Result<(), StorageError> {
        let mut tx = self.store().begin().await?;
        if unchecked {
            tx.refund_strike(&sources.account).await?;
        } else {
            tx.forget_strikes(&sources.account).await?;
        }
        tx.refund_strike(&sources.network).await?;
        tx.commit().await
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
