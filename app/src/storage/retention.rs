//! Retention and erasure: the reads and writes that find patients' personal data and
//! remove it. Which data has had its time, and whose, is decided in `tenant::retention`
//! and `tenant::console::patients`.
//!
//! Tokens stay, anonymised in place (name, phone, join address and feedback removed), so
//! analytics read the same numbers; messages stay with their phone and texts emptied, so
//! delivery figures hold; WhatsApp messages received, conversation windows and push
//! subscriptions are deleted; the audit log keeps its rows, without patients' addresses
//! or the texts of staff replies.

use super::batch::{bind_arg, Arg};
use super::{placeholders, with_pool, StorageError, Store, Tx};
use crate::console::{ExportedMessage, ExportedVisit, PatientRecord, Removed};
use crate::domain::*;

/// A token whose personal data is still held.
#[derive(Debug, Clone)]
pub struct HeldToken {
    pub id: TokenId,
    pub joined: Timestamp,
    pub phone: Option<String>,
}

/// The advisory lock class of "purging a clinic" on PostgreSQL (the clinic's id is the
/// other half of the key).
const PURGE_LOCK: i32 = 0x5149; // "QI"

/// Which clinics this instance is purging. On PostgreSQL each clinic's purge holds an
/// advisory lock on a connection of its own across its transactions, so instances share
/// the clinics instead of purging the same one; the connection is closed, never pooled
/// again, so no lock outlives the run. SQLite has one writer and needs none.
pub struct PurgeLocks(Option<sqlx::pool::PoolConnection<sqlx::Postgres>>);

impl Store {
    pub async fn purge_locks(&self) -> Result<PurgeLocks, StorageError> {
        Ok(PurgeLocks(match self {
            Store::Sqlite(_) => None,
            Store::Postgres(pool) => Some(pool.acquire().await?),
        }))
    }
}

impl PurgeLocks {
    /// Takes the clinic for this run; `false` when another instance is purging it.
    pub async fn try_take(&mut self, clinic: ClinicId) -> Result<bool, StorageError> {
        match &mut self.0 {
            None => Ok(true),
            Some(conn) => Ok(sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
                .bind(PURGE_LOCK)
                .bind(clinic_key(clinic))
                .fetch_one(&mut **conn)
                .await?),
        }
    }

    pub async fn release(&mut self, clinic: ClinicId) -> Result<(), StorageError> {
        if let Some(conn) = &mut self.0 {
            sqlx::query("SELECT pg_advisory_unlock($1, $2)")
                .bind(PURGE_LOCK)
                .bind(clinic_key(clinic))
                .execute(&mut **conn)
                .await?;
        }
        Ok(())
    }
}

impl Drop for PurgeLocks {
    fn drop(&mut self) {
        // Closed with the locks it may still hold, not handed back to the pool.
        if let Some(conn) = self.0.take() {
            drop(conn.detach());
        }
    }
}

fn clinic_key(clinic: ClinicId) -> i32 {
    // Clinic ids are small; a collision would only make two clinics wait for each other.
    (clinic.get() & 0x7fff_ffff) as i32
}

/// `sql` with `{ids}` replaced by placeholders for `ids` after `before` others, and the
/// arguments: the `before` ones, then the ids.
fn with_ids<'a>(sql: &str, mut args: Vec<Arg<'a>>, ids: &[i64]) -> (String, Vec<Arg<'a>>) {
    let sql = sql.replace("{ids}", &placeholders(args.len() + 1, ids.len()));
    args.extend(ids.iter().map(|id| Arg::Int(Some(*id))));
    (sql, args)
}

/// Empties every "note" in an audit row's details (a transfer's note for the next desk).
fn without_notes(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                if key == "note" && field.is_string() {
                    *field = serde_json::Value::Null;
                } else {
                    without_notes(field);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(without_notes),
        _ => {}
    }
}

impl Tx {
    /// On PostgreSQL, rows another instance's purge holds are skipped, not waited for.
    fn skip_locked(&self) -> &'static str {
        match self {
            Tx::Sqlite(_) => "",
            Tx::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Up to `limit` of a clinic's tokens that joined before `before` and still hold
    /// personal data, oldest first. Not locked here, as in `tokens_held_by_phone`; one
    /// instance at a time purges a clinic (`PurgeLocks`).
    pub async fn tokens_held_before(
        &mut self,
        clinic: ClinicId,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<HeldToken>, StorageError> {
        let sql = "SELECT id, created_at, patient_phone FROM tokens WHERE business_id = $1 \
             AND created_at < $2 AND purged_at IS NULL ORDER BY created_at LIMIT $3";
        self.held_tokens(
            sql,
            &[
                Arg::Int(Some(clinic.get())),
                Arg::Int(Some(before.millis())),
                Arg::Int(Some(i64::from(limit))),
            ],
        )
        .await
    }

    /// Waits until no instance is purging the clinic (PostgreSQL), so an erasure and a
    /// purge never change the same rows at once; the wait ends with the transaction.
    pub async fn wait_for_purge(&mut self, clinic: ClinicId) -> Result<(), StorageError> {
        if let Tx::Postgres(t) = self {
            sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
                .bind(PURGE_LOCK)
                .bind(clinic_key(clinic))
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }

    /// Every token of a clinic that holds this phone. Not locked here: `anonymise_tokens`
    /// locks their days first, in the order a queue action takes its locks (day, then
    /// tokens), so an erasure and a desk on the same day never wait on each other in a
    /// circle; a token's row changes only while it still holds the data.
    pub async fn tokens_held_by_phone(
        &mut self,
        clinic: ClinicId,
        phone: &str,
    ) -> Result<Vec<HeldToken>, StorageError> {
        let sql = "SELECT id, created_at, patient_phone FROM tokens WHERE business_id = $1 \
             AND patient_phone = $2 AND purged_at IS NULL ORDER BY created_at";
        self.held_tokens(sql, &[Arg::Int(Some(clinic.get())), Arg::Text(Some(phone))])
            .await
    }

    async fn held_tokens(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<HeldToken>, StorageError> {
        let rows: Vec<(i64, i64, Option<String>)> = super::with_tx!(self, conn => {
            let mut query = sqlx::query_as(sql);
            for arg in args {
                query = bind_arg!(query, arg);
            }
            query.fetch_all(conn).await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, joined, phone)| HeldToken {
                id: TokenId(id),
                joined: Timestamp(joined),
                phone,
            })
            .collect())
    }

    /// When each of `phones` wrote to the clinic on WhatsApp in `[from, to)`.
    pub async fn wrote_between(
        &mut self,
        clinic: ClinicId,
        phones: &[&str],
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(String, Timestamp)>, StorageError> {
        if phones.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT phone, received_at FROM whatsapp_inbound WHERE business_id = $1 \
             AND received_at >= $2 AND received_at < $3 AND phone IN ({})",
            placeholders(4, phones.len())
        );
        let rows: Vec<(String, i64)> = super::with_tx!(self, conn => {
            let mut query = sqlx::query_as(&sql)
                .bind(clinic.get())
                .bind(from.millis())
                .bind(to.millis());
            for phone in phones {
                query = query.bind(*phone);
            }
            query.fetch_all(conn).await?
        });
        Ok(rows
            .into_iter()
            .map(|(phone, at)| (phone, Timestamp(at)))
            .collect())
    }

    /// Removes the personal data of `tokens`: name, phone, join address and feedback
    /// (keeping whether there was a phone, and, for those in `wrote`, that the patient
    /// wrote on WhatsApp that day), their messages' phones and texts, their push
    /// subscriptions, and the patient's address and the staff's replies in their audit rows.
    pub async fn anonymise_tokens(
        &mut self,
        tokens: &[TokenId],
        wrote: &[TokenId],
        now: Timestamp,
    ) -> Result<Removed, StorageError> {
        if tokens.is_empty() {
            return Ok(Removed::default());
        }
        let ids: Vec<i64> = tokens.iter().map(|t| t.get()).collect();
        // Their days first (a queue action locks its day, then its tokens): views of
        // those days held in memory (the desk's, trackers') are read again.
        let (sql, args) = with_ids(
            "UPDATE queue_days SET version = version + 1 \
             WHERE id IN (SELECT queue_day_id FROM tokens WHERE id IN ({ids}))",
            vec![],
            &ids,
        );
        self.execute(&sql, &args).await?;
        let wrote: Vec<i64> = wrote.iter().map(|t| t.get()).collect();
        let wrote_sql = if wrote.is_empty() {
            "FALSE".to_owned()
        } else {
            format!("id IN ({})", placeholders(2, wrote.len()))
        };
        let mut args = vec![Arg::Int(Some(now.millis()))];
        args.extend(wrote.iter().map(|id| Arg::Int(Some(*id))));
        let (sql, args) = with_ids(
            &format!(
                "UPDATE tokens SET patient_name = '', had_phone = (patient_phone IS NOT NULL), \
                 patient_phone = NULL, join_ip = NULL, feedback = NULL, move_note = NULL, \
                 wrote_on_whatsapp = ({wrote_sql}), purged_at = $1 \
                 WHERE id IN ({{ids}}) AND purged_at IS NULL"
            ),
            args,
            &ids,
        );
        let mut removed = Removed {
            tokens: self.execute(&sql, &args).await?,
            ..Removed::default()
        };
        let (sql, args) = with_ids(
            "DELETE FROM push_subscriptions WHERE token_id IN ({ids})",
            vec![],
            &ids,
        );
        removed.push_subscriptions = self.execute(&sql, &args).await?;
        let (sql, args) = with_ids(
            "SELECT id FROM outbox WHERE token_id IN ({ids}) AND (phone <> '' OR body <> '')",
            vec![],
            &ids,
        );
        let messages = self.numbers(&sql, &args).await?;
        removed.messages = self.anonymise_messages(&messages).await?;
        let (sql, args) = with_ids(
            "UPDATE audit_log SET ip = NULL WHERE token_id IN ({ids}) \
             AND actor_kind = 'PATIENT' AND ip IS NOT NULL",
            vec![],
            &ids,
        );
        removed.audit_rows = self.execute(&sql, &args).await?;
        // A reply from the desk names its token in `target`.
        let targets: Vec<String> = ids.iter().map(i64::to_string).collect();
        let mut args = Vec::new();
        args.extend(targets.iter().map(|t| Arg::Text(Some(t.as_str()))));
        let sql = format!(
            "UPDATE audit_log SET detail = '{{}}' WHERE action = 'REPLY_WHATSAPP' \
             AND target IN ({}) AND detail <> '{{}}'",
            placeholders(1, targets.len())
        );
        removed.audit_rows += self.execute(&sql, &args).await?;
        // The desk's note on a transfer, kept in its audit rows for UNDO.
        let (sql, args) = with_ids(
            "SELECT id, detail FROM audit_log WHERE token_id IN ({ids}) \
             AND action IN ('TRANSFER', 'TRANSFER_IN', 'TRANSFER_BACK', 'UNDO') \
             AND detail LIKE '%\"note\":\"%'",
            vec![],
            &ids,
        );
        for (id, detail) in self.id_texts(&sql, &args).await? {
            let Ok(mut detail) = serde_json::from_str::<serde_json::Value>(&detail) else {
                continue;
            };
            without_notes(&mut detail);
            let detail = detail.to_string();
            self.execute(
                "UPDATE audit_log SET detail = $2 WHERE id = $1",
                &[Arg::Int(Some(id)), Arg::Text(Some(&detail))],
            )
            .await?;
            removed.audit_rows += 1;
        }
        Ok(removed)
    }

    /// Empties messages of their phone and texts (and the providers' words in their
    /// delivery attempts). One not yet sent is not sent: it ends SKIPPED.
    pub async fn anonymise_messages(&mut self, ids: &[i64]) -> Result<u64, StorageError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let (sql, args) = with_ids(
            "UPDATE delivery_attempts SET detail = '' WHERE outbox_id IN ({ids}) AND detail <> ''",
            vec![],
            ids,
        );
        self.execute(&sql, &args).await?;
        let (sql, args) = with_ids(
            "UPDATE outbox SET phone = '', body = '', short_body = '', \
             last_error = CASE WHEN status = 'PENDING' \
                 THEN 'Not sent: the patient''s data was erased.' ELSE '' END, \
             status = CASE WHEN status = 'PENDING' THEN 'SKIPPED' ELSE status END \
             WHERE id IN ({ids}) AND (phone <> '' OR body <> '')",
            vec![],
            ids,
        );
        self.execute(&sql, &args).await
    }

    /// Up to `limit` of a clinic's messages made before `before` that still hold a phone
    /// or a text, and are done with (sent, failed or skipped).
    pub async fn messages_held_before(
        &mut self,
        clinic: ClinicId,
        before: Timestamp,
        limit: u32,
    ) -> Result<Vec<i64>, StorageError> {
        let sql = format!(
            "SELECT id FROM outbox WHERE business_id = $1 AND created_at < $2 AND (phone <> '' OR body <> '') \
             AND status IN ('SENT', 'FAILED', 'SKIPPED') ORDER BY created_at LIMIT $3{}",
            self.skip_locked()
        );
        self.numbers(
            &sql,
            &[
                Arg::Int(Some(clinic.get())),
                Arg::Int(Some(before.millis())),
                Arg::Int(Some(i64::from(limit))),
            ],
        )
        .await
    }

    /// Every message of a clinic to or from this phone that still holds it.
    pub async fn messages_held_for_phone(
        &mut self,
        clinic: ClinicId,
        phone: &str,
    ) -> Result<Vec<i64>, StorageError> {
        self.numbers(
            "SELECT id FROM outbox WHERE business_id = $1 AND phone = $2",
            &[Arg::Int(Some(clinic.get())), Arg::Text(Some(phone))],
        )
        .await
    }

    /// Deletes up to `limit` of the WhatsApp messages a clinic received before `before`.
    pub async fn delete_inbound_before(
        &mut self,
        clinic: ClinicId,
        before: Timestamp,
        limit: u32,
    ) -> Result<u64, StorageError> {
        let sql = format!(
            "DELETE FROM whatsapp_inbound WHERE id IN (SELECT id FROM whatsapp_inbound \
             WHERE business_id = $1 AND received_at < $2 LIMIT $3{})",
            self.skip_locked()
        );
        self.execute(
            &sql,
            &[
                Arg::Int(Some(clinic.get())),
                Arg::Int(Some(before.millis())),
                Arg::Int(Some(i64::from(limit))),
            ],
        )
        .await
    }

    /// Deletes the conversation windows nobody wrote in since `before`. A window that
    /// holds a STOP stays: it is how the clinic keeps not writing to that phone.
    pub async fn delete_windows_before(
        &mut self,
        clinic: ClinicId,
        before: Timestamp,
    ) -> Result<u64, StorageError> {
        self.execute(
            "DELETE FROM whatsapp_windows WHERE business_id = $1 AND last_inbound_at < $2 \
             AND NOT opted_out",
            &[
                Arg::Int(Some(clinic.get())),
                Arg::Int(Some(before.millis())),
            ],
        )
        .await
    }

    /// Deletes what a clinic holds of one phone's WhatsApp conversation: its messages,
    /// its window (STOP included) and its pending erasure request (`true` if there was one).
    pub async fn delete_conversation_of(
        &mut self,
        clinic: ClinicId,
        phone: &str,
    ) -> Result<(Removed, bool), StorageError> {
        let args = [Arg::Int(Some(clinic.get())), Arg::Text(Some(phone))];
        let inbound = self
            .execute(
                "DELETE FROM whatsapp_inbound WHERE business_id = $1 AND phone = $2",
                &args,
            )
            .await?;
        let windows = self
            .execute(
                "DELETE FROM whatsapp_windows WHERE business_id = $1 AND phone = $2",
                &args,
            )
            .await?;
        let requested = self
            .execute(
                "DELETE FROM erasure_requests WHERE business_id = $1 AND phone = $2",
                &args,
            )
            .await?;
        Ok((
            Removed {
                inbound,
                windows,
                ..Removed::default()
            },
            requested > 0,
        ))
    }

    /// Removes patients' addresses, and the texts of staff replies, from a clinic's audit
    /// rows written before `before`.
    pub async fn redact_audit_before(
        &mut self,
        clinic: ClinicId,
        before: Timestamp,
    ) -> Result<u64, StorageError> {
        let args = [
            Arg::Int(Some(clinic.get())),
            Arg::Int(Some(before.millis())),
        ];
        let addresses = self
            .execute(
                "UPDATE audit_log SET ip = NULL WHERE business_id = $1 AND created_at < $2 \
                 AND ip IS NOT NULL AND actor_kind = 'PATIENT'",
                &args,
            )
            .await?;
        let replies = self
            .execute(
                "UPDATE audit_log SET detail = '{}' WHERE business_id = $1 AND created_at < $2 \
                 AND action = 'REPLY_WHATSAPP' AND detail <> '{}'",
                &args,
            )
            .await?;
        Ok(addresses + replies)
    }

    /// Deletes staff sessions that have expired.
    pub async fn delete_expired_sessions(&mut self, now: Timestamp) -> Result<u64, StorageError> {
        self.execute(
            "DELETE FROM staff_sessions WHERE expires_at < $1",
            &[Arg::Int(Some(now.millis()))],
        )
        .await
    }

    /// Records a patient's request to have their data erased; `false` when one is already
    /// waiting.
    pub async fn request_erasure(
        &mut self,
        clinic: ClinicId,
        phone: &str,
        now: Timestamp,
    ) -> Result<bool, StorageError> {
        Ok(self
            .execute(
                "INSERT INTO erasure_requests (business_id, phone, requested_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (business_id, phone) DO NOTHING",
                &[
                    Arg::Int(Some(clinic.get())),
                    Arg::Text(Some(phone)),
                    Arg::Int(Some(now.millis())),
                ],
            )
            .await?
            == 1)
    }
}

type VisitRow = (
    String,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    i64,
);

impl Store {
    /// What a clinic holds on one phone (E.164), for an access request or before an
    /// erasure. Times are milliseconds since the Unix epoch.
    pub async fn patient_record(
        &self,
        clinic: ClinicId,
        phone: &str,
    ) -> Result<PatientRecord, StorageError> {
        let (visits, sent, received, window, request) = with_pool!(self, pool => {
            let visits: Vec<VisitRow> = sqlx::query_as(
                "SELECT q.prefix, t.number, q.name, d.service_date, t.status, t.patient_name, \
                 t.patient_phone, t.source, t.language, t.created_at, t.called_at, t.served_at, \
                 t.cancelled_at, t.rating, t.feedback, \
                 (SELECT COUNT(*) FROM push_subscriptions p WHERE p.token_id = t.id) \
                 FROM tokens t JOIN queues q ON q.id = t.queue_id JOIN queue_days d ON d.id = t.queue_day_id \
                 WHERE t.business_id = $1 AND t.patient_phone = $2 ORDER BY t.created_at",
            )
            .bind(clinic.get())
            .bind(phone)
            .fetch_all(pool)
            .await?;
            let sent: Vec<(String, String, String, String, i64)> = sqlx::query_as(
                "SELECT kind, channel, status, body, created_at FROM outbox \
                 WHERE business_id = $1 AND phone = $2 ORDER BY created_at",
            )
            .bind(clinic.get())
            .bind(phone)
            .fetch_all(pool)
            .await?;
            let received: Vec<(String, i64)> = sqlx::query_as(
                "SELECT body, received_at FROM whatsapp_inbound \
                 WHERE business_id = $1 AND phone = $2 ORDER BY received_at",
            )
            .bind(clinic.get())
            .bind(phone)
            .fetch_all(pool)
            .await?;
            let window: Option<bool> = sqlx::query_scalar(
                "SELECT opted_out FROM whatsapp_windows WHERE business_id = $1 AND phone = $2",
            )
            .bind(clinic.get())
            .bind(phone)
            .fetch_optional(pool)
            .await?;
            let request: Option<i64> = sqlx::query_scalar(
                "SELECT requested_at FROM erasure_requests WHERE business_id = $1 AND phone = $2",
            )
            .bind(clinic.get())
            .bind(phone)
            .fetch_optional(pool)
            .await?;
            (visits, sent, received, window, request)
        });
        let mut messages: Vec<ExportedMessage> = sent
            .into_iter()
            .map(|(kind, channel, status, text, at)| ExportedMessage {
                direction: "to patient".into(),
                kind,
                channel,
                status,
                text,
                at,
            })
            .chain(received.into_iter().map(|(text, at)| ExportedMessage {
                direction: "from patient".into(),
                kind: "MESSAGE".into(),
                channel: "WHATSAPP".into(),
                status: "RECEIVED".into(),
                text,
                at,
            }))
            .collect();
        messages.sort_by_key(|m| m.at);
        Ok(PatientRecord {
            visits: visits
                .into_iter()
                .map(|v| ExportedVisit {
                    token: format!("{}-{}", v.0, v.1),
                    queue: v.2,
                    date: v.3,
                    status: v.4,
                    name: v.5,
                    phone: v.6,
                    source: v.7,
                    language: v.8,
                    joined_at: v.9,
                    called_at: v.10,
                    served_at: v.11,
                    cancelled_at: v.12,
                    rating: v.13,
                    feedback: v.14,
                    push_subscriptions: v.15,
                })
                .collect(),
            messages,
            whatsapp_stopped: window.unwrap_or(false),
            erasure_requested_at: request,
        })
    }

    /// The erasure requests patients sent a clinic, oldest first: `(phone, when)`.
    pub async fn erasure_requests(
        &self,
        clinic: ClinicId,
    ) -> Result<Vec<(String, Timestamp)>, StorageError> {
        let rows: Vec<(String, i64)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT phone, requested_at FROM erasure_requests WHERE business_id = $1 ORDER BY requested_at",
            )
            .bind(clinic.get())
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(p, at)| (p, Timestamp(at))).collect())
    }

    /// What a purge with this cut would remove from a clinic (a dry run).
    pub async fn held_before(
        &self,
        clinic: ClinicId,
        before: Timestamp,
    ) -> Result<Removed, StorageError> {
        let counts: (i64, i64, i64, i64, i64, i64) = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT \
                 (SELECT COUNT(*) FROM tokens WHERE business_id = $1 AND created_at < $2 AND purged_at IS NULL), \
                 (SELECT COUNT(*) FROM outbox WHERE business_id = $1 AND created_at < $2 AND (phone <> '' OR body <> '') \
                    AND status IN ('SENT', 'FAILED', 'SKIPPED')), \
                 (SELECT COUNT(*) FROM whatsapp_inbound WHERE business_id = $1 AND received_at < $2), \
                 (SELECT COUNT(*) FROM whatsapp_windows WHERE business_id = $1 AND last_inbound_at < $2 \
                    AND NOT opted_out), \
                 (SELECT COUNT(*) FROM push_subscriptions p JOIN tokens t ON t.id = p.token_id \
                    WHERE t.business_id = $1 AND t.created_at < $2), \
                 (SELECT COUNT(*) FROM audit_log WHERE business_id = $1 AND created_at < $2 \
                    AND (ip IS NOT NULL AND actor_kind = 'PATIENT' OR action = 'REPLY_WHATSAPP' AND detail <> '{}'))",
            )
            .bind(clinic.get())
            .bind(before.millis())
            .fetch_one(pool)
            .await?
        });
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(Removed {
            tokens: n(counts.0),
            messages: n(counts.1),
            inbound: n(counts.2),
            windows: n(counts.3),
            push_subscriptions: n(counts.4),
            audit_rows: n(counts.5),
        })
    }

    /// Sign-in strikes nobody has added to since `before` (for a dry run).
    pub async fn strikes_before(&self, before: Timestamp) -> Result<u64, StorageError> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_strikes WHERE last_at < $1")
                .bind(before.millis())
                .fetch_one(pool)
                .await?
        });
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Staff sessions that have expired (for a dry run).
    pub async fn expired_sessions(&self, now: Timestamp) -> Result<u64, StorageError> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM staff_sessions WHERE expires_at < $1")
                .bind(now.millis())
                .fetch_one(pool)
                .await?
        });
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
