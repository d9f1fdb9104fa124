//! The queue day's reads and writes inside the engine's transaction: lock one queue day,
//! load it, write what the rules decided and its audit row. Concurrent requests serialize
//! per queue day (PostgreSQL: `SELECT … FOR UPDATE` on the day's row; SQLite: the write
//! lock taken by `BEGIN IMMEDIATE`), never per table; creating a token also serializes per
//! clinic, as its limits count the whole clinic's day.

use super::batch::{Arg, Batch};
use super::outbox::NewMessage;
use super::rows::{day_head_sql, DayHeadRow, DayTokenRow, EstimateColumns, DAY_TOKEN_COLUMNS};
use super::{placeholders, with_tx, ClinicLock, RowAt, StorageError, Tx};
use crate::console::ProviderKind;
use crate::domain::eta::{EarlierToken, Estimate, History};
use crate::domain::*;
use crate::queue::notices::ClinicChannels;
use crate::queue::rules::{Changes, Day, DayToken, TokenChange, TokenState};

/// Which queue day an action is about.
#[derive(Debug, Clone)]
pub enum DayKey {
    /// A queue's day on a local date, opened if it does not exist yet.
    Open {
        queue_id: QueueId,
        date: LocalDate,
    },
    /// The day a token belongs to.
    OfToken(TokenId),
    OfPublicId(PublicId),
    /// A day that exists, whatever its date (the sweep that closes days at closing time).
    Day(QueueDayId),
}

/// What to load besides the day itself.
#[derive(Debug, Clone, Default)]
pub struct Want {
    /// The counts the CREATE TOKEN limits need.
    pub create_counts: Option<CountsFor>,
    /// The latest staff action on the day that has not been undone.
    pub last_undoable: bool,
}

#[derive(Debug, Clone)]
pub struct CountsFor {
    pub phone: Option<Phone>,
    /// The caller's address and the start of the rate-limit window (public join only).
    pub ip: Option<(String, Timestamp)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateCounts {
    pub clinic_tokens_today: u32,
    pub phone_tokens_today: u32,
    pub ip_tokens_last_hour: Option<u32>,
}

/// Everything the rules see, read inside the locked transaction.
#[derive(Debug, Clone)]
pub struct DaySnapshot {
    pub clinic: Clinic,
    pub queue: Queue,
    pub day_id: QueueDayId,
    /// The day's version as locked (what it becomes is one more).
    pub version: i64,
    pub service_date: LocalDate,
    pub next_number: TokenNumber,
    pub day: Day,
    /// The token the key named, for `DayKey::OfToken` and `DayKey::OfPublicId`.
    pub key_token: Option<TokenId>,
    pub counts: Option<CreateCounts>,
    pub last_undoable: Option<(i64, Changes)>,
    /// What the clinic sends notices with, when the day's read could tell it all (a clinic
    /// with templates of its own has them read when a notice needs them).
    pub channels: Option<ClinicChannels>,
}

/// What the rules decided: changes to existing tokens and the day, perhaps a new token,
/// and the audit row that records it all.
#[derive(Debug, Clone)]
pub struct Plan {
    pub changes: Changes,
    pub new_token: Option<NewToken>,
    pub audit: AuditEntry,
}

#[derive(Debug, Clone)]
pub struct NewToken {
    pub public_id: PublicId,
    pub name: PatientName,
    pub phone: Option<Phone>,
    pub source: Source,
    pub language: Language,
    pub state: TokenState,
    pub join_ip: Option<String>,
    /// The wait shown on joining, kept to calibrate later estimates and to score them.
    pub estimate: Option<Estimate>,
}

#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor_user_id: Option<UserId>,
    /// `STAFF`, `PATIENT` or `SYSTEM`.
    pub actor_kind: &'static str,
    pub action: &'static str,
    pub token: Option<TokenId>,
    pub ip: Option<String>,
    pub undoable: bool,
    /// The audit row this action reverts (UNDO only).
    pub undoes: Option<i64>,
}

macro_rules! insert_audit {
    () => {
        "INSERT INTO audit_log (business_id, queue_day_id, actor_user_id, actor_kind, action, token_id, \
         target, ip, detail, undoable, undoes_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    };
}

/// Writes an audit row (`AuditWrite::args`).
pub(super) const INSERT_AUDIT: &str = insert_audit!();

/// Writes an audit row, returning its id.
pub(super) const INSERT_AUDIT_RETURNING: &str = concat!(insert_audit!(), " RETURNING id");

/// A token's state as the columns `status, previous_status, is_priority, called_at,
/// served_at, cancelled_at, cancel_reason, room`, in that order.
pub(super) fn state_args(s: &TokenState) -> [Arg<'_>; 8] {
    [
        Arg::Text(Some(s.status.as_str())),
        Arg::Text(s.previous_status.map(TokenStatus::as_str)),
        Arg::Bool(Some(s.is_priority)),
        Arg::Int(s.called_at.map(Timestamp::millis)),
        Arg::Int(s.served_at.map(Timestamp::millis)),
        Arg::Int(s.cancelled_at.map(Timestamp::millis)),
        Arg::Text(s.cancel_reason.map(CancelReason::as_str)),
        Arg::Text(s.room.as_deref()),
    ]
}

/// One audit row of an action on a queue day.
pub(super) struct AuditWrite<'a> {
    pub clinic: ClinicId,
    pub day: QueueDayId,
    pub entry: &'a AuditEntry,
    pub token: Option<TokenId>,
    /// The token as called out (`A-7`), or empty.
    pub target: &'a str,
    /// The changes, as JSON.
    pub detail: &'a str,
}

impl<'a> AuditWrite<'a> {
    pub fn args(&self, now: Timestamp) -> Vec<Arg<'a>> {
        let e = self.entry;
        vec![
            Arg::Int(Some(self.clinic.get())),
            Arg::Int(Some(self.day.get())),
            Arg::Int(e.actor_user_id.map(UserId::get)),
            Arg::Text(Some(e.actor_kind)),
            Arg::Text(Some(e.action)),
            Arg::Int(self.token.map(TokenId::get)),
            Arg::Text(Some(self.target)),
            Arg::Text(e.ip.as_deref()),
            Arg::Text(Some(self.detail)),
            Arg::Bool(Some(e.undoable)),
            Arg::Int(e.undoes),
            Arg::Int(Some(now.millis())),
        ]
    }
}

/// A queue day an action is about, locked and read.
#[derive(Debug, Clone)]
pub struct LockedDay {
    pub snapshot: DaySnapshot,
    /// Whether this action opened the day.
    pub opened: bool,
}

#[derive(sqlx::FromRow)]
struct PastTokenRow {
    id: i64,
    service_date: String,
    created_at: i64,
    called_at: Option<i64>,
    served_at: Option<i64>,
    cancelled_at: Option<i64>,
    status: String,
    #[sqlx(flatten)]
    estimate: EstimateColumns,
}

impl TryFrom<PastTokenRow> for EarlierToken {
    type Error = StorageError;
    fn try_from(r: PastTokenRow) -> Result<Self, StorageError> {
        let at = RowAt::new("tokens", r.id);
        Ok(EarlierToken {
            date: at.decode("service_date", &r.service_date, |d| {
                chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()
            })?,
            created: Timestamp(r.created_at),
            called: r.called_at.map(Timestamp),
            served: r.served_at.map(Timestamp),
            cancelled: r.cancelled_at.map(Timestamp),
            status: at.decode("status", &r.status, TokenStatus::from_stored)?,
            estimate: r.estimate.estimate(),
        })
    }
}

/// An action taken in but not yet written (`Tx::stage_plan`): what it will be once
/// committed, and its audit row.
#[derive(Debug)]
pub struct Staged {
    /// The action as it will stand, its `audit_id` not yet known.
    pub applied: Applied,
    pub audit: AuditEntry,
}

/// The outcome of a committed action.
#[derive(Debug, Clone)]
pub struct Applied {
    pub audit_id: i64,
    pub clinic: Clinic,
    pub queue: Queue,
    pub day_id: QueueDayId,
    pub changes: Changes,
    /// The token the action created, if any.
    pub created: Option<(TokenId, PublicId, TokenNumber)>,
    /// The day as it is after the action.
    pub day: Day,
    /// As `DaySnapshot::channels`.
    pub channels: Option<ClinicChannels>,
}

impl Tx {
    /// Finds the day `key` names (opening it first for `DayKey::Open`), locks it
    /// (PostgreSQL: its row, until the transaction ends; SQLite's write lock is already
    /// held) and reads everything the rules see about it: the day with its queue and
    /// clinic in one statement, then its tokens, unless `known` holds them at the day's
    /// version. `None` when there is no such queue or token.
    pub async fn lock_day(
        &mut self,
        key: &DayKey,
        want: &Want,
        now: Timestamp,
        known: impl Fn(QueueDayId, i64) -> Option<Vec<DayToken>>,
    ) -> Result<Option<LockedDay>, StorageError> {
        // The first statement begins the transaction, in the same trip (SQLite).
        let begin = self.begin_with_next();
        let creates = want.create_counts.is_some();
        let found = match key {
            DayKey::Open { queue_id, date } => {
                // Open already, as it is for every action after a day's first: one read.
                let sql = format!(
                    "{begin}{}",
                    self.day_head_where("d.queue_id = $1 AND d.service_date = $2", creates)
                );
                let head: Option<DayHeadRow> = with_tx!(self, c => {
                    sqlx::query_as(&sql)
                        .bind(queue_id.get())
                        .bind(date.to_string())
                        .fetch_optional(c)
                        .await?
                });
                match head {
                    Some(head) => Some((head, None, false)),
                    None => match self.open_day(*queue_id, date, now).await? {
                        Some((day, opened)) => {
                            Some((self.day_head(day, creates).await?, None, opened))
                        }
                        None => None,
                    },
                }
            }
            DayKey::Day(id) => {
                let sql = format!("{begin}{}", self.day_head_where("d.id = $1", creates));
                let head: Option<DayHeadRow> = with_tx!(self, c => {
                    sqlx::query_as(&sql).bind(id.get()).fetch_optional(c).await?
                });
                head.map(|head| (head, None, false))
            }
            DayKey::OfToken(id) => {
                let found = with_tx!(self, c => {
                    sqlx::query_as(&format!("{begin}SELECT queue_day_id, id FROM tokens WHERE id = $1"))
                        .bind(id.get())
                        .fetch_optional(c)
                        .await?
                });
                self.day_of_token(found).await?
            }
            DayKey::OfPublicId(id) => {
                let found = with_tx!(self, c => {
                    sqlx::query_as(&format!(
                        "{begin}SELECT queue_day_id, id FROM tokens WHERE public_id = $1"
                    ))
                        .bind(id.as_str())
                        .fetch_optional(c)
                        .await?
                });
                self.day_of_token(found).await?
            }
        };
        let Some((head, key_token, opened)) = found else {
            return Ok(None);
        };
        let snapshot = self.load_day(head, key_token, want, known).await?;
        Ok(Some(LockedDay { snapshot, opened }))
    }

    /// `day_head_sql` for the day `condition` picks, taking its lock on PostgreSQL and,
    /// for a token's creation, the clinic's lock on creates in the same trip
    /// (`create_counts` says why). Both are held to the end of the transaction.
    fn day_head_where(&self, condition: &str, creates: bool) -> String {
        if !matches!(self, Tx::Postgres(_)) {
            return format!("{} WHERE {condition}", day_head_sql(""));
        }
        let clinic_lock = if creates {
            // Keyed as `serialise_clinic` keys it, by the day's clinic.
            format!(
                ", pg_advisory_xact_lock({}, (d.business_id & 2147483647)::int4)::text AS clinic_lock",
                ClinicLock::Creates as i32
            )
        } else {
            String::new()
        };
        format!(
            "{} WHERE {condition} FOR UPDATE OF d",
            day_head_sql(&clinic_lock)
        )
    }

    /// The head of the day a token found by `lock_day` belongs to, with the token.
    async fn day_of_token(
        &mut self,
        found: Option<(i64, i64)>,
    ) -> Result<Option<(DayHeadRow, Option<TokenId>, bool)>, StorageError> {
        let Some((day, token)) = found else {
            return Ok(None);
        };
        Ok(Some((
            self.day_head(day, false).await?,
            Some(TokenId(token)),
            false,
        )))
    }

    async fn day_head(&mut self, day: i64, creates: bool) -> Result<DayHeadRow, StorageError> {
        let sql = self.day_head_where("d.id = $1", creates);
        Ok(with_tx!(self, c => sqlx::query_as(&sql).bind(day).fetch_one(c).await?))
    }

    /// Opens a queue's day: its id, and whether this call opened it (on PostgreSQL a
    /// parallel action may have opened it first). `None` when there is no such queue.
    async fn open_day(
        &mut self,
        queue_id: QueueId,
        date: &LocalDate,
        now: Timestamp,
    ) -> Result<Option<(i64, bool)>, StorageError> {
        let made: Option<i64> = with_tx!(self, c => {
            sqlx::query_scalar(
                "INSERT INTO queue_days (queue_id, business_id, service_date, status, opened_at) \
                 SELECT id, business_id, $2, 'OPEN', $3 FROM queues WHERE id = $1 \
                 ON CONFLICT (queue_id, service_date) DO NOTHING RETURNING id",
            )
            .bind(queue_id.get())
            .bind(date.to_string())
            .bind(now.millis())
            .fetch_optional(c)
            .await?
        });
        if let Some(id) = made {
            return Ok(Some((id, true)));
        }
        let found: Option<i64> = with_tx!(self, c => {
            sqlx::query_scalar("SELECT id FROM queue_days WHERE queue_id = $1 AND service_date = $2")
                .bind(queue_id.get())
                .bind(date.to_string())
                .fetch_optional(c)
                .await?
        });
        Ok(found.map(|id| (id, false)))
    }

    /// The tokens of a queue's days on `dates`, for the history a new day learns from.
    pub async fn earlier_tokens(
        &mut self,
        queue: QueueId,
        dates: &[chrono::NaiveDate],
    ) -> Result<Vec<EarlierToken>, StorageError> {
        let sql = format!(
            "SELECT t.id, d.service_date, t.created_at, t.called_at, t.served_at, t.cancelled_at, t.status, \
             t.eta_low, t.eta_high, t.eta_centre, t.eta_scale, t.eta_ahead \
             FROM tokens t JOIN queue_days d ON d.id = t.queue_day_id \
             WHERE d.queue_id = $1 AND d.service_date IN ({})",
            placeholders(2, dates.len())
        );
        let rows: Vec<PastTokenRow> = with_tx!(self, c => {
            let mut query = sqlx::query_as(&sql).bind(queue.get());
            for d in dates {
                query = query.bind(d.format("%Y-%m-%d").to_string());
            }
            query.fetch_all(c).await?
        });
        rows.into_iter().map(EarlierToken::try_from).collect()
    }

    /// Keeps the history a day learned when it opened, for its wait estimates.
    pub async fn save_history(
        &mut self,
        day: QueueDayId,
        history: &History,
    ) -> Result<(), StorageError> {
        let json = serde_json::to_string(history)?;
        with_tx!(self, c => {
            sqlx::query("UPDATE queue_days SET history = $2 WHERE id = $1")
                .bind(day.get())
                .bind(json)
                .execute(c)
                .await?;
        });
        Ok(())
    }

    /// The rest of what the rules see about a locked day: its tokens and what `want` asks.
    async fn load_day(
        &mut self,
        head: DayHeadRow,
        key_token: Option<TokenId>,
        want: &Want,
        known: impl Fn(QueueDayId, i64) -> Option<Vec<DayToken>>,
    ) -> Result<DaySnapshot, StorageError> {
        let day_id = head.id();
        let version = head.version();
        let channels = if head.has_templates {
            None
        } else {
            let whatsapp = RowAt::new("whatsapp_accounts", head.head.clinic.id).decode_opt(
                "provider",
                head.w_provider.as_deref(),
                ProviderKind::from_stored,
            )?;
            Some(ClinicChannels {
                whatsapp,
                sms: head.has_sms,
                templates: Vec::new(),
            })
        };
        let tokens = match known(QueueDayId(day_id), version) {
            Some(tokens) => tokens,
            None => {
                let tokens_sql = format!(
                    "SELECT {DAY_TOKEN_COLUMNS} FROM tokens WHERE queue_day_id = $1 ORDER BY number"
                );
                let rows: Vec<DayTokenRow> = with_tx!(self, c => {
                    sqlx::query_as(&tokens_sql).bind(day_id).fetch_all(c).await?
                });
                rows.into_iter()
                    .map(DayToken::try_from)
                    .collect::<Result<Vec<_>, _>>()?
            }
        };
        let (clinic, queue, day_row) = head.split();
        let clinic = Clinic::try_from(clinic)?;
        let queue = Queue::from(queue);
        let day = day_row.day(&queue.prefix, tokens)?;
        let service_date = RowAt::new("queue_days", day_id).decode(
            "service_date",
            &day_row.service_date,
            LocalDate::parse,
        )?;
        let counts = match &want.create_counts {
            Some(counts_for) => Some(
                self.create_counts(clinic.id, service_date, counts_for)
                    .await?,
            ),
            None => None,
        };
        let last_undoable = if want.last_undoable {
            self.last_undoable(day_id).await?
        } else {
            None
        };
        Ok(DaySnapshot {
            clinic,
            queue,
            day_id: QueueDayId(day_id),
            version,
            service_date,
            next_number: TokenNumber(u32::try_from(day_row.next_number).unwrap_or(u32::MAX)),
            day,
            key_token,
            counts,
            last_undoable,
            channels,
        })
    }

    /// Counts what the CREATE TOKEN limits need. The limits are the clinic's, not the queue
    /// day's, so two joins to different queues must not both count before either writes:
    /// on PostgreSQL the day was locked with the clinic's lock on creates (held to the end
    /// of the transaction, taken by creates only), so this count, a statement after it,
    /// sees every other create of the clinic committed; on SQLite every write transaction
    /// already runs alone.
    async fn create_counts(
        &mut self,
        clinic: ClinicId,
        date: LocalDate,
        counts_for: &CountsFor,
    ) -> Result<CreateCounts, StorageError> {
        // One statement: the clinic's tokens today, the phone's (a NULL phone counts none)
        // and the address's in the window (a NULL address counts none).
        let (today, phone, ip): (i64, i64, i64) = with_tx!(self, c => {
            sqlx::query_as(
                "SELECT \
                 (SELECT COUNT(*) FROM tokens t JOIN queue_days d ON d.id = t.queue_day_id \
                  WHERE d.business_id = $1 AND d.service_date = $2), \
                 (SELECT COUNT(*) FROM tokens t JOIN queue_days d ON d.id = t.queue_day_id \
                  WHERE d.business_id = $1 AND d.service_date = $2 AND t.patient_phone = $3 \
                  AND t.status <> 'CANCELLED'), \
                 (SELECT COUNT(*) FROM tokens WHERE business_id = $1 AND join_ip = $4 AND created_at >= $5)",
            )
            .bind(clinic.get())
            .bind(date.to_string())
            .bind(counts_for.phone.as_ref().map(Phone::as_str))
            .bind(counts_for.ip.as_ref().map(|(ip, _)| ip.as_str()))
            .bind(counts_for.ip.as_ref().map_or(0, |(_, since)| since.millis()))
            .fetch_one(c)
            .await?
        });
        let as_u32 = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(CreateCounts {
            clinic_tokens_today: as_u32(today),
            phone_tokens_today: as_u32(phone),
            ip_tokens_last_hour: counts_for.ip.as_ref().map(|_| as_u32(ip)),
        })
    }

    async fn last_undoable(&mut self, day_id: i64) -> Result<Option<(i64, Changes)>, StorageError> {
        let row: Option<(i64, String)> = with_tx!(self, c => {
            sqlx::query_as(
                "SELECT a.id, a.detail FROM audit_log a WHERE a.queue_day_id = $1 AND a.undoable \
                 AND NOT EXISTS (SELECT 1 FROM audit_log u WHERE u.undoes_id = a.id) \
                 ORDER BY a.id DESC LIMIT 1",
            )
            .bind(day_id)
            .fetch_optional(c)
            .await?
        });
        row.map(|(id, detail)| {
            serde_json::from_str(&detail)
                .map(|changes| (id, changes))
                .map_err(|e| RowAt::new("audit_log", id).corrupt("detail", e.to_string()))
        })
        .transpose()
    }

    /// Takes in what the rules decided: the new token, if any, is written (its id is
    /// needed from here on), and the changes are made to the day as read. Everything else
    /// is written by `commit_staged`, with the messages the action causes.
    pub async fn stage_plan(
        &mut self,
        snap: DaySnapshot,
        plan: Plan,
        now: Timestamp,
    ) -> Result<Staged, StorageError> {
        let DaySnapshot {
            clinic,
            queue,
            day_id,
            next_number,
            mut day,
            channels,
            ..
        } = snap;
        let mut changes = plan.changes;
        let mut created = None;
        if let Some(new) = plan.new_token {
            let id = self
                .insert_token(&clinic, &queue, day_id, next_number, &new, now)
                .await?;
            changes.tokens.push(TokenChange {
                token: id,
                number: next_number,
                before: None,
                after: new.state.clone(),
            });
            day.tokens.push(DayToken {
                id,
                number: next_number,
                state: new.state,
                joined: now,
                estimate: new.estimate,
                origin: Default::default(),
            });
            created = Some((id, new.public_id, next_number));
        }
        day.apply(&changes);
        Ok(Staged {
            applied: Applied {
                audit_id: 0,
                clinic,
                queue,
                day_id,
                changes,
                created,
                day,
                channels,
            },
            audit: plan.audit,
        })
    }

    /// Writes a staged action (its tokens' changes, the day's new version and state, the
    /// messages it queues and its audit row) and commits, in one trip where the database
    /// allows.
    pub async fn commit_staged(
        self,
        staged: Staged,
        messages: &[NewMessage<'_>],
        now: Timestamp,
    ) -> Result<Applied, StorageError> {
        let Staged { mut applied, audit } = staged;
        let Applied {
            clinic,
            day_id,
            changes,
            created,
            day,
            ..
        } = &applied;
        // Whoever stops serving is written before whoever starts, so the one-SERVING-per-day
        // index never sees two.
        let mut updates: Vec<&TokenChange> = changes
            .tokens
            .iter()
            .filter(|c| c.before.is_some())
            .collect();
        updates.sort_by_key(|c| c.after.status == TokenStatus::Serving);
        let mut writes = Batch::default();
        for change in &updates {
            let s = &change.after;
            writes.push(
                "UPDATE tokens SET status = $3, previous_status = $4, is_priority = $5, called_at = $6, \
                 served_at = $7, cancelled_at = $8, cancel_reason = $9, room = $10 \
                 WHERE id = $1 AND queue_day_id = $2",
                [
                    Arg::Int(Some(change.token.get())),
                    Arg::Int(Some(day_id.get())),
                ]
                .into_iter()
                .chain(state_args(s))
                .collect(),
            );
        }
        // One write to the day row: a new version (what tells trackers the day changed),
        // the next number when a token was made, and the day's state when it changed.
        let next_number = created.as_ref().map(|(_, _, n)| i64::from(n.0) + 1);
        let state = changes.day.map(|d| d.after);
        writes.push(
            "UPDATE queue_days SET version = version + 1, next_number = COALESCE($2, next_number), \
             status = COALESCE($3, status), intake_paused = COALESCE($4, intake_paused), \
             closed_at = CASE WHEN $5 THEN $6 ELSE closed_at END WHERE id = $1",
            vec![
                Arg::Int(Some(day_id.get())),
                Arg::Int(next_number),
                Arg::Text(state.map(|s| s.status.as_str())),
                Arg::Bool(state.map(|s| s.intake_paused)),
                Arg::Bool(Some(state.is_some())),
                Arg::Int(state.and_then(|s| s.closed_at).map(Timestamp::millis)),
            ],
        );
        super::outbox::queue_in(&mut writes, messages, now);
        let token = audit.token.or(created.as_ref().map(|c| c.0));
        let target = token
            .and_then(|id| day.tokens.iter().find(|t| t.id == id))
            .map(|t| day.label(t.number))
            .unwrap_or_default();
        let detail = serde_json::to_string(changes)?;
        let audit_row = AuditWrite {
            clinic: clinic.id,
            day: *day_id,
            entry: &audit,
            token,
            target: &target,
            detail: &detail,
        };
        let audit_id = self
            .commit_batch(writes, INSERT_AUDIT_RETURNING, audit_row.args(now))
            .await?;
        applied.audit_id = audit_id;
        Ok(applied)
    }

    async fn insert_token(
        &mut self,
        clinic: &Clinic,
        queue: &Queue,
        day_id: QueueDayId,
        number: TokenNumber,
        new: &NewToken,
        now: Timestamp,
    ) -> Result<TokenId, StorageError> {
        let e = new.estimate;
        let id: i64 = with_tx!(self, c => {
            sqlx::query_scalar(
                "INSERT INTO tokens (public_id, queue_day_id, queue_id, business_id, number, status, is_priority, \
                 patient_name, patient_phone, source, language, join_ip, created_at, \
                 eta_low, eta_high, eta_centre, eta_scale, eta_ahead) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id",
            )
            .bind(new.public_id.as_str())
            .bind(day_id.get())
            .bind(queue.id.get())
            .bind(clinic.id.get())
            .bind(i64::from(number.0))
            .bind(new.state.status.as_str())
            .bind(new.state.is_priority)
            .bind(new.name.as_str())
            .bind(new.phone.as_ref().map(Phone::as_str))
            .bind(new.source.as_str())
            .bind(new.language.as_str())
            .bind(&new.join_ip)
            .bind(now.millis())
            .bind(e.map(|e| i64::from(e.low)))
            .bind(e.map(|e| i64::from(e.high)))
            .bind(e.map(|e| i64::from(e.centre)))
            .bind(e.map(|e| i64::from(e.scale)))
            .bind(e.map(|e| i64::from(e.ahead)))
            .fetch_one(c)
            .await?
        });
        Ok(TokenId(id))
    }
}
