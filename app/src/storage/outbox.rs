//! The outbox: messages queued in a queue action's own transaction, claimed by workers
//! under a lease (two workers, or two instances, never hold the same row at once), settled
//! try by try down the fallback chain, and counted against each clinic's daily allowance.

use super::batch::{Arg, Batch};
use super::{value_rows, with_pool, with_tx, RowAt, StorageError, Store, Tx};
use crate::domain::*;
use crate::messages::Channel;
use crate::outbox::{AttemptOutcome, OutboxKind, OutboxStatus, UNREACHED};

/// A notification to send.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub clinic: ClinicId,
    pub token_id: Option<TokenId>,
    /// E.164, or empty for a patient who gave no number (push only).
    pub phone: &'a str,
    pub kind: OutboxKind,
    pub language: Language,
    /// WhatsApp's text.
    pub body: &'a str,
    /// The text of SMS and web push (empty for kinds that only go by WhatsApp).
    pub short_body: &'a str,
    /// The first channel to try; `None`: nothing can reach the patient, recorded as such.
    pub channel: Option<Channel>,
}

impl<'a> NewMessage<'a> {
    /// A message of a WhatsApp conversation (the welcome, the bot's answers, staff
    /// replies): no short text and nothing to fall back to.
    pub fn conversation(
        clinic: ClinicId,
        token_id: Option<TokenId>,
        phone: &'a str,
        kind: OutboxKind,
        language: Language,
        body: &'a str,
    ) -> Self {
        Self {
            clinic,
            token_id,
            phone,
            kind,
            language,
            body,
            short_body: "",
            channel: Some(Channel::WhatsApp),
        }
    }
}

/// An outbox row a worker has claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedMessage {
    pub id: i64,
    pub clinic: ClinicId,
    pub token_id: Option<i64>,
    pub phone: String,
    pub kind: OutboxKind,
    pub language: Language,
    pub body: String,
    pub short_body: String,
    /// The channel this claim tries.
    pub channel: Channel,
    /// Tries on this channel, this one included.
    pub attempts: i32,
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: i64,
    business_id: i64,
    token_id: Option<i64>,
    phone: String,
    kind: String,
    language: String,
    body: String,
    short_body: String,
    channel: String,
    attempts: i32,
}

const CLAIMED_COLUMNS: &str =
    "id, business_id, token_id, phone, kind, language, body, short_body, channel, attempts";

impl TryFrom<ClaimedRow> for ClaimedMessage {
    type Error = StorageError;
    fn try_from(r: ClaimedRow) -> Result<Self, StorageError> {
        let at = RowAt::new("outbox", r.id);
        Ok(ClaimedMessage {
            id: r.id,
            clinic: ClinicId(r.business_id),
            token_id: r.token_id,
            phone: r.phone,
            kind: at.decode("kind", &r.kind, OutboxKind::from_stored)?,
            language: at.decode("language", &r.language, Language::from_stored)?,
            body: r.body,
            short_body: r.short_body,
            channel: at.decode("channel", &r.channel, Channel::from_stored)?,
            attempts: r.attempts,
        })
    }
}

/// An outbox row as the consoles and tests read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub clinic: ClinicId,
    pub token_id: Option<i64>,
    pub phone: String,
    pub kind: OutboxKind,
    pub body: String,
    pub status: OutboxStatus,
    /// The channel being tried, or the one that reached the patient once sent.
    pub channel: Channel,
    pub attempts: i32,
    pub provider_message_id: Option<String>,
    pub delivery: Option<String>,
    pub last_error: String,
}

#[derive(sqlx::FromRow)]
struct StoredOutboxRow {
    id: i64,
    business_id: i64,
    token_id: Option<i64>,
    phone: String,
    kind: String,
    body: String,
    status: String,
    channel: String,
    attempts: i32,
    provider_message_id: Option<String>,
    delivery: Option<String>,
    last_error: String,
}

impl TryFrom<StoredOutboxRow> for OutboxRow {
    type Error = StorageError;
    fn try_from(r: StoredOutboxRow) -> Result<Self, StorageError> {
        let at = RowAt::new("outbox", r.id);
        Ok(OutboxRow {
            id: r.id,
            clinic: ClinicId(r.business_id),
            token_id: r.token_id,
            phone: r.phone,
            kind: at.decode("kind", &r.kind, OutboxKind::from_stored)?,
            body: r.body,
            status: at.decode("status", &r.status, OutboxStatus::from_stored)?,
            channel: at.decode("channel", &r.channel, Channel::from_stored)?,
            attempts: r.attempts,
            provider_message_id: r.provider_message_id,
            delivery: r.delivery,
            last_error: r.last_error,
        })
    }
}

/// Rows of clinics that may send: a suspended or disabled clinic's messages stay where they
/// are, held, until it is reactivated.
static OF_RUNNING_CLINICS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let running: Vec<String> = ClinicStatus::ALL
        .iter()
        .filter(|s| s.accepts_work())
        .map(|s| format!("'{s}'"))
        .collect();
    format!(
        "business_id IN (SELECT id FROM businesses WHERE status IN ({}))",
        running.join(", ")
    )
});

/// The outbox rows a worker may take at `$1`: pending ones whose time has come, and ones
/// whose lease ran out (a worker that died mid-send), of clinics that may send.
static DUE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "((status = '{pending}' AND next_attempt_at <= $1) OR (status = '{sending}' AND locked_until < $1)) AND {running}",
        pending = OutboxStatus::Pending.as_str(),
        sending = OutboxStatus::Sending.as_str(),
        running = OF_RUNNING_CLINICS.as_str(),
    )
});

/// Claimed rows this version cannot read are settled as failed, with the reason, and
/// logged once, so they never block the outbox or go out half-read.
async fn fail_unreadable(
    tx: &mut Tx,
    rows: Vec<ClaimedRow>,
    now: Timestamp,
) -> Result<Vec<ClaimedMessage>, StorageError> {
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        let id = row.id;
        match ClaimedMessage::try_from(row) {
            Ok(m) => claimed.push(m),
            Err(e) => {
                tracing::error!(outbox = id, error = %e, "unreadable outbox row marked failed");
                with_tx!(&mut *tx, conn => {
                    sqlx::query("UPDATE outbox SET status = $2, locked_until = NULL, last_error = $3, next_attempt_at = $4 WHERE id = $1")
                        .bind(id)
                        .bind(OutboxStatus::Failed.as_str())
                        .bind(e.to_string())
                        .bind(now.millis())
                        .execute(conn)
                        .await?;
                });
            }
        }
    }
    Ok(claimed)
}

/// WhatsApp messages one clinic sent and failed in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageCounts {
    pub clinic: ClinicId,
    pub sent: u32,
    pub failed: u32,
}

/// What became of one try on a channel.
#[derive(Debug, Clone, Copy)]
pub enum Settle<'a> {
    /// The channel took the message; `cost_units`: SMS segments or a WhatsApp template.
    Sent {
        provider_id: &'a str,
        cost_units: u32,
    },
    /// A transient failure: the same channel again at `at`.
    Retry { at: Timestamp, error: &'a str },
    /// The channel failed for good; the chain goes on with `next`, if any.
    Failed {
        error: &'a str,
        next: Option<Channel>,
    },
    /// The channel could not be used (no subscription, window closed, STOP, not
    /// configured); the chain goes on with `next`, if any.
    Skipped {
        reason: &'a str,
        next: Option<Channel>,
    },
}

impl Settle<'_> {
    /// The outcome's name in the send metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Settle::Sent { .. } => "sent",
            Settle::Retry { .. } => "retry",
            Settle::Failed { .. } => "failed",
            Settle::Skipped { .. } => "skipped",
        }
    }
}

/// What the outbox holds at one instant, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxDepth {
    /// Messages not yet settled (waiting, due, or being sent).
    pub unsettled: u64,
    /// How long the longest-waiting due message has been due, in milliseconds.
    pub oldest_due_ms: i64,
}

const OUTBOX_INSERT: &str =
    "INSERT INTO outbox (business_id, token_id, phone, kind, language, body, \
    short_body, channel, status, last_error, next_attempt_at, created_at) VALUES";

impl Tx {
    pub async fn enqueue_message(
        &mut self,
        m: &NewMessage<'_>,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        self.enqueue_messages(std::slice::from_ref(m), now).await
    }

    /// Queues several messages in one statement (an action's notices).
    pub async fn enqueue_messages(
        &mut self,
        messages: &[NewMessage<'_>],
        now: Timestamp,
    ) -> Result<(), StorageError> {
        if messages.is_empty() {
            return Ok(());
        }
        self.execute(&outbox_insert(messages.len()), &outbox_args(messages, now))
            .await?;
        Ok(())
    }
}

/// Adds the statement that queues `messages` to `batch` (nothing when there are none).
pub(super) fn queue_in<'a>(batch: &mut Batch<'a>, messages: &'a [NewMessage<'a>], now: Timestamp) {
    if !messages.is_empty() {
        batch.push(outbox_insert(messages.len()), outbox_args(messages, now));
    }
}

/// Each message's twelve values, in `OUTBOX_INSERT`'s order.
fn outbox_args<'a>(messages: &'a [NewMessage<'a>], now: Timestamp) -> Vec<Arg<'a>> {
    let mut args = Vec::with_capacity(messages.len() * 12);
    for m in messages {
        let (channel, status, error) = match m.channel {
            Some(channel) => (channel, OutboxStatus::Pending, ""),
            None => (Channel::WhatsApp, OutboxStatus::Skipped, UNREACHED),
        };
        args.extend([
            Arg::Int(Some(m.clinic.get())),
            Arg::Int(m.token_id.map(TokenId::get)),
            Arg::Text(Some(m.phone)),
            Arg::Text(Some(m.kind.as_str())),
            Arg::Text(Some(m.language.as_str())),
            Arg::Text(Some(m.body)),
            Arg::Text(Some(m.short_body)),
            Arg::Text(Some(channel.as_str())),
            Arg::Text(Some(status.as_str())),
            Arg::Text(Some(error)),
            Arg::Int(Some(now.millis())),
            Arg::Int(Some(now.millis())),
        ]);
    }
    args
}

/// `OUTBOX_INSERT` with the rows for `messages` messages.
fn outbox_insert(messages: usize) -> String {
    format!("{OUTBOX_INSERT} {}", value_rows(messages, 12))
}

impl Store {
    /// Claims up to `limit` due messages for `lease_ms`: pending ones whose time has
    /// come, and ones whose previous claim expired (a worker that died mid-send).
    pub async fn claim_messages(
        &self,
        limit: u32,
        now: Timestamp,
        lease_ms: i64,
    ) -> Result<Vec<ClaimedMessage>, StorageError> {
        let due = DUE.as_str();
        let sending = OutboxStatus::Sending.as_str();
        let mut tx = self.begin().await?;
        // PostgreSQL lets concurrent workers skip each other's rows; SQLite's one writer
        // needs no row locks.
        let skip_locked = match &tx {
            Tx::Sqlite(_) => "",
            Tx::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE outbox SET status = '{sending}', locked_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox WHERE {due} ORDER BY id LIMIT $3{skip_locked}) \
             RETURNING {CLAIMED_COLUMNS}"
        );
        let rows: Vec<ClaimedRow> = with_tx!(&mut tx, conn => {
            sqlx::query_as(&sql)
                .bind(now.millis())
                .bind(now.millis() + lease_ms)
                .bind(i64::from(limit))
                .fetch_all(conn)
                .await?
        });
        let claimed = fail_unreadable(&mut tx, rows, now).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Records what became of a claimed message's try on its channel, and the attempt
    /// itself, in one transaction. Only the claim's holder may: a row whose lease another
    /// worker has taken over (attempts moved on) is left alone.
    pub async fn settle_message(
        &self,
        m: &ClaimedMessage,
        channel: Channel,
        outcome: &Settle<'_>,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        let at = now.millis();
        use OutboxStatus::{Failed, Pending, Sending, Sent, Skipped};
        // (status, next try, channel from now on, provider id, error, sent at)
        let (status, next_at, next_channel, provider_id, error, sent_at) = match *outcome {
            Settle::Sent { provider_id, .. } => {
                (Sent, at, channel, Some(provider_id), "", Some(at))
            }
            Settle::Retry { at: when, error } => {
                (Pending, when.millis(), channel, None, error, None)
            }
            Settle::Failed {
                error,
                next: Some(next),
            }
            | Settle::Skipped {
                reason: error,
                next: Some(next),
            } => (Pending, at, next, None, error, None),
            Settle::Failed { error, next: None } => (Failed, at, channel, None, error, None),
            Settle::Skipped { reason, next: None } => (Skipped, at, channel, None, reason, None),
        };
        let (attempt, cost_units) = match *outcome {
            Settle::Sent { cost_units, .. } => (AttemptOutcome::Sent, cost_units),
            Settle::Retry { .. } | Settle::Failed { .. } => (AttemptOutcome::Failed, 0),
            Settle::Skipped { .. } => (AttemptOutcome::Skipped, 0),
        };
        let moved_on = next_channel != channel;
        let mut tx = self.begin().await?;
        let updated = with_tx!(&mut tx, conn => {
            sqlx::query(
                "UPDATE outbox SET status = $3, next_attempt_at = $4, locked_until = NULL, channel = $5, \
                 attempts = CASE WHEN $6 THEN 0 ELSE attempts END, \
                 provider_message_id = COALESCE($7, provider_message_id), last_error = $8, sent_at = COALESCE($9, sent_at) \
                 WHERE id = $1 AND attempts = $2 AND status = $11 AND channel = $10",
            )
            .bind(m.id)
            .bind(m.attempts)
            .bind(status.as_str())
            .bind(next_at)
            .bind(next_channel.as_str())
            .bind(moved_on)
            .bind(provider_id)
            .bind(error)
            .bind(sent_at)
            .bind(channel.as_str())
            .bind(Sending.as_str())
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        if updated != 1 {
            drop(tx);
            return Ok(false);
        }
        with_tx!(&mut tx, conn => {
            sqlx::query(
                "INSERT INTO delivery_attempts (outbox_id, business_id, channel, outcome, detail, cost_units, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(m.id)
            .bind(m.clinic.get())
            .bind(channel.as_str())
            .bind(attempt.as_str())
            .bind(error)
            .bind(i64::from(cost_units))
            .bind(at)
            .execute(&mut *conn)
            .await?;
            // A message that ends with no channel left failed if any channel failed,
            // and was skipped only if none could even be tried.
            if status == Skipped {
                sqlx::query(
                    "UPDATE outbox SET status = $2 WHERE id = $1 AND EXISTS \
                     (SELECT 1 FROM delivery_attempts WHERE outbox_id = $1 AND outcome = $3)",
                )
                .bind(m.id)
                .bind(Failed.as_str())
                .bind(AttemptOutcome::Failed.as_str())
                .execute(&mut *conn)
                .await?;
            }
        });
        tx.commit().await?;
        Ok(true)
    }

    /// Whether any message is due or held by a lease that has run out: a cheap read, so
    /// an idle worker never takes the write lock.
    /// How many messages wait in the outbox and how long the oldest due one has waited.
    pub async fn outbox_depth(&self, now: Timestamp) -> Result<OutboxDepth, StorageError> {
        let sql = format!(
            "SELECT COUNT(*), MIN(CASE WHEN {} THEN next_attempt_at END) FROM outbox WHERE status IN ($2, $3)",
            DUE.as_str()
        );
        let (unsettled, oldest): (i64, Option<i64>) = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(now.millis())
                .bind(OutboxStatus::Pending.as_str())
                .bind(OutboxStatus::Sending.as_str())
                .fetch_one(pool)
                .await?
        });
        Ok(OutboxDepth {
            unsettled: u64::try_from(unsettled).unwrap_or(0),
            oldest_due_ms: oldest.map_or(0, |at| (now.millis() - at).max(0)),
        })
    }

    pub async fn outbox_has_work(&self, now: Timestamp) -> Result<bool, StorageError> {
        let sql = format!("SELECT id FROM outbox WHERE {} LIMIT 1", DUE.as_str());
        let found: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(&sql)
            .bind(now.millis())
            .fetch_optional(pool)
            .await?
        });
        Ok(found.is_some())
    }

    /// Rows that used up their attempts on a channel while their worker was gone (its
    /// lease ran out mid-send): the worker settles each as a failed try, so the chain
    /// goes on.
    pub async fn abandoned_messages(
        &self,
        max_attempts: i32,
        now: Timestamp,
    ) -> Result<Vec<ClaimedMessage>, StorageError> {
        let sql = format!(
            "SELECT {CLAIMED_COLUMNS} FROM outbox WHERE status = $3 AND locked_until < $1 AND attempts >= $2"
        );
        let mut tx = self.begin().await?;
        let rows: Vec<ClaimedRow> = with_tx!(&mut tx, conn => {
            sqlx::query_as(&sql)
                .bind(now.millis())
                .bind(max_attempts)
                .bind(OutboxStatus::Sending.as_str())
                .fetch_all(conn)
                .await?
        });
        let abandoned = fail_unreadable(&mut tx, rows, now).await?;
        tx.commit().await?;
        Ok(abandoned)
    }

    /// WhatsApp messages sent and failed per clinic since an instant.
    pub async fn message_counts_since(
        &self,
        since: Timestamp,
    ) -> Result<Vec<MessageCounts>, StorageError> {
        let rows: Vec<(i64, i64, i64)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT business_id, SUM(CASE WHEN status = $2 THEN 1 ELSE 0 END), \
                 SUM(CASE WHEN status = $3 THEN 1 ELSE 0 END) FROM outbox WHERE created_at >= $1 AND channel = $4 \
                 GROUP BY business_id",
            )
            .bind(since.millis())
            .bind(OutboxStatus::Sent.as_str())
            .bind(OutboxStatus::Failed.as_str())
            .bind(Channel::WhatsApp.as_str())
            .fetch_all(pool)
            .await?
        });
        let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(rows
            .into_iter()
            .map(|(clinic, sent, failed)| MessageCounts {
                clinic: ClinicId(clinic),
                sent: count(sent),
                failed: count(failed),
            })
            .collect())
    }

    /// The oldest message still waiting to go out (a suspended clinic's held messages are
    /// not waiting on the worker).
    pub async fn oldest_due_message(&self) -> Result<Option<Timestamp>, StorageError> {
        let sql = format!(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE status IN ($1, $2) AND {}",
            OF_RUNNING_CLINICS.as_str()
        );
        let at: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(&sql)
                .bind(OutboxStatus::Pending.as_str())
                .bind(OutboxStatus::Sending.as_str())
                .fetch_one(pool)
                .await?
        });
        Ok(at.map(Timestamp))
    }

    /// A delivery report from the provider (sent, delivered, read, failed) about one of
    /// the clinic's messages: provider ids are unique per account, not across clinics.
    pub async fn record_delivery(
        &self,
        clinic: ClinicId,
        provider_message_id: &str,
        delivery: &str,
        error: &str,
    ) -> Result<bool, StorageError> {
        let updated = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE outbox SET delivery = $2, last_error = CASE WHEN $3 = '' THEN last_error ELSE $3 END \
                 WHERE provider_message_id = $1 AND business_id = $4",
            )
            .bind(provider_message_id)
            .bind(delivery)
            .bind(error)
            .bind(clinic.get())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated > 0)
    }

    /// Every outbox row of a clinic, oldest first (consoles, tests).
    pub async fn outbox_of(&self, clinic: ClinicId) -> Result<Vec<OutboxRow>, StorageError> {
        let rows: Vec<StoredOutboxRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, business_id, token_id, phone, kind, body, status, channel, attempts, provider_message_id, delivery, last_error \
                 FROM outbox WHERE business_id = $1 ORDER BY id",
            )
            .bind(clinic.get())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(OutboxRow::try_from).collect()
    }

    /// Takes one message from the clinic's allowance for a local date: `false` when the
    /// limit is already used up. Atomic, so concurrent workers cannot overshoot.
    pub async fn take_message_quota(
        &self,
        clinic: ClinicId,
        date: LocalDate,
        limit: u32,
    ) -> Result<bool, StorageError> {
        let taken = with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO message_quota (business_id, service_date, used) VALUES ($1, $2, 0) \
                 ON CONFLICT (business_id, service_date) DO NOTHING",
            )
            .bind(clinic.get())
            .bind(date.to_string())
            .execute(pool)
            .await?;
            sqlx::query(
                "UPDATE message_quota SET used = used + 1 WHERE business_id = $1 AND service_date = $2 AND used < $3",
            )
            .bind(clinic.get())
            .bind(date.to_string())
            .bind(i64::from(limit))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(taken == 1)
    }

    /// Messages the clinic has sent on a local date: what its daily limit counts.
    pub async fn message_quota_used(
        &self,
        clinic: ClinicId,
        date: LocalDate,
    ) -> Result<u32, StorageError> {
        let used: Option<i32> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT used FROM message_quota WHERE business_id = $1 AND service_date = $2")
                .bind(clinic.get())
                .bind(date.to_string())
                .fetch_optional(pool)
                .await?
        });
        Ok(used.unwrap_or(0).max(0) as u32)
    }

    /// Gives back a message the provider did not take.
    pub async fn return_message_quota(
        &self,
        clinic: ClinicId,
        date: LocalDate,
    ) -> Result<(), StorageError> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE message_quota SET used = used - 1 WHERE business_id = $1 AND service_date = $2 AND used > 0")
                .bind(clinic.get())
                .bind(date.to_string())
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
