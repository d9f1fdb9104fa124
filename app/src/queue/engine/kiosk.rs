//! The reception kiosk: a tablet at reception, opened with the clinic's kiosk code, that
//! issues tokens to walk-ins. Without the code it shows nothing and issues nothing, and a
//! network address that keeps guessing waits longer and longer between tries.

use super::{Actor, Engine, EngineError, JoinRequest};
use crate::domain::*;
use crate::queue::QueueError;
use crate::storage::Applied;

/// Ten wrong codes from one network address for one clinic are free (typos on a shared reception network);
/// then a minute's wait, doubling to an hour; a quiet day forgets them. With codes of at
/// least six digits, guessing one takes years.
pub const KIOSK_TRIES: Backoff = Backoff {
    free: 10,
    first_wait_secs: 60,
    max_wait_secs: 3_600,
    forget_after_secs: 86_400,
};

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
        // Counted per network and clinic: one clinic's right code clears nothing of
        // another's count.
        let tries = format!("{}|{}", clinic.id.get(), ip.unwrap_or("unknown"));
        self.kiosk_tries
            .take(&tries, self.now())
            .map_err(|wait_secs| QueueError::KioskTries { wait_secs })?;
        let set = self.store.kiosk_code(clinic.id).await?;
        match set.as_deref().map(KioskCode::parse) {
            Some(Ok(set)) if set.opens_with(code) => {
                self.kiosk_tries.clear(&tries);
                Ok(())
            }
            _ => Err(QueueError::KioskLocked.into()),
        }
    }
}
