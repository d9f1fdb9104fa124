//! Reaching patients beyond WhatsApp's outbox: browsers' push subscriptions, each
//! clinic's SMS account, what each channel delivered (and cost), and the staff inbox:
//! patients' own messages, canned replies.

use super::{with_pool, with_tx, RowAt, StorageError, Store, Tx};
use crate::domain::*;
use crate::messages::{Channel, MessageKind};
use crate::outbox::{
    Attempt, AttemptCount, AttemptOutcome, OutboxKind, OutboxStatus, OutcomeCount, SentMessage,
};
use crate::whatsapp::PatientMessage;

/// One browser's push subscription for a token.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PushRow {
    pub id: i64,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// A clinic's SMS account as stored (the auth token sealed).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredSms {
    pub business_id: i64,
    pub account_sid: String,
    pub from_number: String,
    pub sealed_secrets: String,
}

#[derive(sqlx::FromRow)]
struct SentRow {
    id: i64,
    token_id: i64,
    kind: String,
    status: String,
    channel: String,
    body: String,
    created_at: i64,
}

impl TryFrom<SentRow> for SentMessage {
    type Error = StorageError;
    fn try_from(r: SentRow) -> Result<Self, StorageError> {
        let at = RowAt::new("outbox", r.id);
        Ok(SentMessage {
            id: r.id,
            token: TokenId(r.token_id),
            kind: at.decode("kind", &r.kind, OutboxKind::from_stored)?,
            status: at.decode("status", &r.status, OutboxStatus::from_stored)?,
            channel: at.decode("channel", &r.channel, Channel::from_stored)?,
            body: r.body,
            created_at: Timestamp(r.created_at),
        })
    }
}

/// Counts are never negative and fit a `u32` for any real clinic.
fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Tx {
    pub async fn has_sms_account(&mut self, clinic: ClinicId) -> Result<bool, StorageError> {
        let found: Option<i64> = with_tx!(self, conn => {
            sqlx::query_scalar("SELECT business_id FROM sms_accounts WHERE business_id = $1")
                .bind(clinic.get())
                .fetch_optional(conn)
                .await?
        });
        Ok(found.is_some())
    }

    pub async fn save_sms_account(
        &mut self,
        a: &StoredSms,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        with_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO sms_accounts (business_id, account_sid, from_number, sealed_secrets, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (business_id) DO UPDATE SET account_sid = $2, \
                 from_number = $3, sealed_secrets = $4, updated_at = $5",
            )
            .bind(a.business_id)
            .bind(&a.account_sid)
            .bind(&a.from_number)
            .bind(&a.sealed_secrets)
            .bind(now.millis())
            .execute(conn)
            .await?;
        });
        Ok(())
    }

    pub async fn delete_sms_account(&mut self, clinic: ClinicId) -> Result<(), StorageError> {
        with_tx!(self, conn => {
            sqlx::query("DELETE FROM sms_accounts WHERE business_id = $1")
                .bind(clinic.get())
                .execute(conn)
                .await?;
        });
        Ok(())
    }

    /// Replaces the clinic's canned replies, keeping their order.
    pub async fn replace_canned_replies(
        &mut self,
        clinic: ClinicId,
        replies: &[String],
        now: Timestamp,
    ) -> Result<(), StorageError> {
        with_tx!(self, conn => {
            sqlx::query("DELETE FROM canned_replies WHERE business_id = $1")
                .bind(clinic.get())
                .execute(&mut *conn)
                .await?;
            for (position, body) in replies.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO canned_replies (business_id, body, position, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(clinic.get())
                .bind(body)
                .bind(position as i32)
                .bind(now.millis())
                .execute(&mut *conn)
                .await?;
            }
        });
        Ok(())
    }

    /// The clinic's newest token for a phone since an instant: who a message is about
    /// when the conversation was never linked to a token.
    pub async fn latest_token_of_phone(
        &mut self,
        clinic: ClinicId,
        phone: &str,
        since: Timestamp,
    ) -> Result<Option<TokenId>, StorageError> {
        let id: Option<i64> = with_tx!(self, conn => {
            sqlx::query_scalar(
                "SELECT id FROM tokens WHERE business_id = $1 AND patient_phone = $2 AND created_at >= $3 \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(clinic.get())
            .bind(phone)
            .bind(since.millis())
            .fetch_optional(conn)
            .await?
        });
        Ok(id.map(TokenId))
    }
}

impl Store {
    /// Keeps a browser's subscription for a token (once per endpoint), and only the
    /// newest `keep` of the token's subscriptions.
    pub async fn save_push_subscription(
        &self,
        clinic: ClinicId,
        token: TokenId,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        keep: u32,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO push_subscriptions (business_id, token_id, endpoint, p256dh, auth, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (token_id, endpoint) DO UPDATE SET p256dh = $4, auth = $5",
            )
            .bind(clinic.get())
            .bind(token.get())
            .bind(endpoint)
            .bind(p256dh)
            .bind(auth)
            .bind(now.millis())
            .execute(pool)
            .await?;
            sqlx::query(
                "DELETE FROM push_subscriptions WHERE token_id = $1 AND id NOT IN \
                 (SELECT id FROM push_subscriptions WHERE token_id = $1 ORDER BY id DESC LIMIT $2)",
            )
            .bind(token.get())
            .bind(i64::from(keep))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn push_subscriptions(&self, token: TokenId) -> Result<Vec<PushRow>, StorageError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as("SELECT id, endpoint, p256dh, auth FROM push_subscriptions WHERE token_id = $1 ORDER BY id")
                .bind(token.get())
                .fetch_all(pool)
                .await?
        }))
    }

    /// Forgets a subscription the push service says is gone, or the patient switched off.
    pub async fn delete_push_subscription(&self, id: i64) -> Result<(), StorageError> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM push_subscriptions WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn delete_push_subscription_of(
        &self,
        token: TokenId,
        endpoint: &str,
    ) -> Result<bool, StorageError> {
        let deleted = with_pool!(self, pool => {
            sqlx::query("DELETE FROM push_subscriptions WHERE token_id = $1 AND endpoint = $2")
                .bind(token.get())
                .bind(endpoint)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(deleted > 0)
    }

    /// The phone whose WhatsApp conversation is about a token (the latest, if several).
    pub async fn writer_of(&self, token: TokenId) -> Result<Option<String>, StorageError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT phone FROM whatsapp_windows WHERE token_id = $1 ORDER BY last_inbound_at DESC LIMIT 1",
            )
            .bind(token.get())
            .fetch_optional(pool)
            .await?
        }))
    }

    /// A token by its public id, for push subscriptions: `(token, clinic, still in the
    /// queue)`.
    pub async fn token_for_alerts(
        &self,
        public_id: &PublicId,
    ) -> Result<Option<(TokenId, ClinicId, bool)>, StorageError> {
        let row: Option<(i64, i64, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT id, business_id, status FROM tokens WHERE public_id = $1")
                .bind(public_id.as_str())
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(id, clinic, status)| {
            (
                TokenId(id),
                ClinicId(clinic),
                matches!(status.as_str(), "WAITING" | "SERVING"),
            )
        }))
    }

    pub async fn sms_account(&self, clinic: ClinicId) -> Result<Option<StoredSms>, StorageError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT business_id, account_sid, from_number, sealed_secrets FROM sms_accounts WHERE business_id = $1",
            )
            .bind(clinic.get())
            .fetch_optional(pool)
            .await?
        }))
    }

    pub async fn canned_replies(&self, clinic: ClinicId) -> Result<Vec<String>, StorageError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar("SELECT body FROM canned_replies WHERE business_id = $1 ORDER BY position")
                .bind(clinic.get())
                .fetch_all(pool)
                .await?
        }))
    }

    /// Patients' messages for the desk since an instant, oldest first.
    pub async fn inbox_since(
        &self,
        clinic: ClinicId,
        since: Timestamp,
    ) -> Result<Vec<PatientMessage>, StorageError> {
        let rows: Vec<(Option<i64>, String, String, i64)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT token_id, phone, body, received_at FROM whatsapp_inbound \
                 WHERE business_id = $1 AND for_staff AND received_at >= $2 ORDER BY received_at, id",
            )
            .bind(clinic.get())
            .bind(since.millis())
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(token, phone, body, received_at)| PatientMessage {
                token: token.map(TokenId),
                phone,
                body,
                received_at: Timestamp(received_at),
            })
            .collect())
    }

    /// What was sent (or tried) to the clinic's tokens since an instant, oldest first; the
    /// text only of staff replies (the desk shows those), to keep the desk's poll small.
    pub async fn sent_since(
        &self,
        clinic: ClinicId,
        since: Timestamp,
    ) -> Result<Vec<SentMessage>, StorageError> {
        let rows: Vec<SentRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, token_id, kind, status, channel, \
                 CASE WHEN kind = $3 THEN body ELSE '' END AS body, created_at FROM outbox \
                 WHERE business_id = $1 AND created_at >= $2 AND token_id IS NOT NULL ORDER BY id",
            )
            .bind(clinic.get())
            .bind(since.millis())
            .bind(OutboxKind::StaffReply.as_str())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(SentMessage::try_from).collect()
    }

    /// Every try of the clinic's messages since an instant, in order.
    pub async fn attempts_since(
        &self,
        clinic: ClinicId,
        since: Timestamp,
    ) -> Result<Vec<Attempt>, StorageError> {
        let rows: Vec<(i64, i64, String, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, outbox_id, channel, outcome FROM delivery_attempts WHERE business_id = $1 AND at >= $2 ORDER BY id",
            )
            .bind(clinic.get())
            .bind(since.millis())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(id, message, channel, outcome)| {
                let at = RowAt::new("delivery_attempts", id);
                Ok(Attempt {
                    message,
                    channel: at.decode("channel", &channel, Channel::from_stored)?,
                    outcome: at.decode("outcome", &outcome, AttemptOutcome::from_stored)?,
                })
            })
            .collect()
    }

    /// Attempts per clinic, channel and outcome since an instant; one clinic, or all.
    pub async fn attempt_counts_since(
        &self,
        clinic: Option<ClinicId>,
        since: Timestamp,
    ) -> Result<Vec<AttemptCount>, StorageError> {
        let rows: Vec<(i64, String, String, i64, i64)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT business_id, channel, outcome, COUNT(*), COALESCE(SUM(cost_units), 0) FROM delivery_attempts \
                 WHERE at >= $1 AND ($2 IS NULL OR business_id = $2) GROUP BY business_id, channel, outcome",
            )
            .bind(since.millis())
            .bind(clinic.map(ClinicId::get))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(clinic, channel, outcome, n, cost)| {
                // A grouped row has no id of its own: the clinic's names it.
                let at = RowAt::new("delivery_attempts", clinic);
                Ok(AttemptCount {
                    clinic: ClinicId(clinic),
                    channel: at.decode("channel", &channel, Channel::from_stored)?,
                    outcome: at.decode("outcome", &outcome, AttemptOutcome::from_stored)?,
                    count: count(n),
                    cost_units: count(cost),
                })
            })
            .collect()
    }

    /// How the alerts ("near", "your turn", "missed", "moved": the notifications that go down the
    /// fallback chain) queued since an instant ended, by status and channel, per clinic;
    /// one clinic, or all.
    pub async fn outcome_counts_since(
        &self,
        clinic: Option<ClinicId>,
        since: Timestamp,
    ) -> Result<Vec<OutcomeCount>, StorageError> {
        let rows: Vec<(i64, String, String, i64)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT business_id, status, channel, COUNT(*) FROM outbox \
                 WHERE created_at >= $1 AND ($2 IS NULL OR business_id = $2) \
                 AND kind IN ($3, $4, $5, $6) GROUP BY business_id, status, channel",
            )
            .bind(since.millis())
            .bind(clinic.map(ClinicId::get))
            .bind(MessageKind::ALERTS[0].as_str())
            .bind(MessageKind::ALERTS[1].as_str())
            .bind(MessageKind::ALERTS[2].as_str())
            .bind(MessageKind::ALERTS[3].as_str())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(clinic, status, channel, n)| {
                let at = RowAt::new("outbox", clinic);
                Ok(OutcomeCount {
                    clinic: ClinicId(clinic),
                    status: at.decode("status", &status, OutboxStatus::from_stored)?,
                    channel: at.decode("channel", &channel, Channel::from_stored)?,
                    count: count(n),
                })
            })
            .collect()
    }
}
