//! The reception kiosk: a tablet at reception, opened with the clinic's kiosk code, that
//! issues tokens to walk-ins. Without the code it shows nothing and issues nothing, and a
//! network address that keeps guessing waits longer and longer between tries.

use super::{Actor, Engine, EngineError, JoinRequest};
use crate::domain::*;
use crate::queue::QueueError;
use crate::storage::Applied;
use std::collections::HashMap;
use std::sync::Mutex;

/// Ten wrong codes from one address are free (typos on a shared reception network);
/// then a minute's wait, doubling to an hour; a quiet day forgets them. With codes of at
/// least six digits, guessing one takes years.
const KIOSK_TRIES: Backoff = Backoff {
    free: 10,
    first_wait_secs: 60,
    max_wait_secs: 3_600,
    forget_after_secs: 86_400,
};

/// Addresses whose strikes are kept at most (all are forgotten past it).
const MAX_ADDRESSES: usize = 65_536;

/// Wrong kiosk codes per network address, in this process.
#[derive(Debug, Default)]
pub struct KioskStrikes(Mutex<HashMap<String, Strikes>>);

impl KioskStrikes {
    /// Counts one try from `ip` before its code is checked (so a burst of parallel
    /// guesses gets the free tries and no more), or refuses it while `ip` must wait.
    fn take(&self, ip: &str, now: Timestamp) -> Result<(), QueueError> {
        let mut strikes = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let held = strikes.get(ip).copied();
        KIOSK_TRIES
            .check(held, now)
            .map_err(|wait_secs| QueueError::KioskTries { wait_secs })?;
        if strikes.len() >= MAX_ADDRESSES && held.is_none() {
            strikes.clear();
        }
        let count = KIOSK_TRIES.live(held, now) + 1;
        strikes.insert(ip.to_owned(), Strikes { count, last: now });
        Ok(())
    }

    /// A right code: the address's tries start again.
    fn clear(&self, ip: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(ip);
    }
}

impl Engine {
    /// What the kiosk shows: the clinic and its open queues, for the clinic's code.
    pub async fn kiosk(
        &self,
        slug: &str,
        code: &str,
        ip: Option<String>,
    ) -> Result<(Clinic, Vec<Queue>), EngineError> {
        let (clinic, queues) = self.join_info(slug).await?;
        self.unlock_kiosk(&clinic, code, ip.as_deref()).await?;
        Ok((clinic, queues))
    }

    /// A walk-in takes a token at the kiosk: like the desk's walk-in (the phone is
    /// optional, the clinic's limits hold), never an emergency, not the desk's to undo.
    pub async fn kiosk_join(
        &self,
        slug: &str,
        code: &str,
        ip: Option<String>,
        request: JoinRequest,
    ) -> Result<Applied, EngineError> {
        let (_, queues) = self.kiosk(slug, code, ip.clone()).await?;
        if !queues.iter().any(|q| q.id == request.queue_id) {
            return Err(QueueError::UnknownQueue.into());
        }
        let request = JoinRequest {
            emergency: false,
            ..request
        };
        self.create_token(Actor::Kiosk { ip }, request).await
    }

    async fn unlock_kiosk(
        &self,
        clinic: &Clinic,
        code: &str,
        ip: Option<&str>,
    ) -> Result<(), EngineError> {
        let ip = ip.unwrap_or("unknown");
        self.kiosk_strikes.take(ip, self.now())?;
        let set = self.store.kiosk_code(clinic.id).await?;
        match set.as_deref().map(KioskCode::parse) {
            Some(Ok(set)) if set.opens_with(code) => {
                self.kiosk_strikes.clear(ip);
                Ok(())
            }
            _ => Err(QueueError::KioskLocked.into()),
        }
    }
}
