//! What "find my token" reads: a number's live token today, and the links it was sent.

use super::{with_pool, with_tx, ClinicLock, StorageError, Store, Tx};
use crate::domain::*;
use crate::messages::MessageKind;

impl Store {
    /// The clinic's newest token for `phone` on its local `date` that is waiting or
    /// being served.
    pub async fn live_token_of_phone(
        &self,
        clinic: ClinicId,
        phone: &Phone,
        date: LocalDate,
    ) -> Result<Option<PublicId>, StorageError> {
        let found: Option<String> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT t.public_id FROM tokens t JOIN queue_days d ON d.id = t.queue_day_id \
                 WHERE t.business_id = $1 AND t.patient_phone = $3 AND d.service_date = $2 \
                 AND t.status IN ('WAITING', 'SERVING') ORDER BY t.id DESC LIMIT 1",
            )
            .bind(clinic.get())
            .bind(date.to_string())
            .bind(phone.as_str())
            .fetch_optional(pool)
            .await?
        });
        Ok(found.as_deref().and_then(PublicId::parse))
    }
}

impl Tx {
    /// How many links the clinic has queued for `phone` since `since`, counted once the
    /// clinic's other link sends have committed (PostgreSQL: a lock held to the end of
    /// this transaction; SQLite: its writer already runs alone), so two requests at once
    /// cannot both count below the day's limit.
    pub async fn links_sent_since(
        &mut self,
        clinic: ClinicId,
        phone: &Phone,
        since: Timestamp,
    ) -> Result<u32, StorageError> {
        self.serialise_clinic(ClinicLock::Links, clinic).await?;
        let n: i64 = with_tx!(self, c => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM outbox WHERE business_id = $1 AND phone = $2 AND kind = $3 \
                 AND created_at >= $4",
            )
            .bind(clinic.get())
            .bind(phone.as_str())
            .bind(MessageKind::Link.as_str())
            .bind(since.millis())
            .fetch_one(c)
            .await?
        });
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}
