//! Clinics, queues, staff and the audit trail: creating and reading them.

use super::rows::{
    queue_head_sql, ClinicRow, DayRow, DayTokenRow, QueueHeadRow, QueueRow, StaffRow,
    CLINIC_COLUMNS, DAY_COLUMNS, DAY_TOKEN_COLUMNS, QUEUE_COLUMNS,
};
use super::{placeholders, with_pool, with_tx, RowAt, StorageError, Store, Tx};
use crate::domain::*;
use crate::queue::rules::{Day, DayToken};

#[derive(Debug, Clone)]
pub struct NewClinic {
    pub slug: Slug,
    pub name: String,
    pub address: String,
    pub contact_phone: String,
    pub timezone: TimeZone,
    pub status: ClinicStatus,
    pub settings: ClinicSettings,
}

#[derive(Debug, Clone)]
pub struct NewQueue {
    pub name: String,
    pub prefix: String,
    pub default_service_minutes: Option<u32>,
    pub position: i64,
    pub rooms: Vec<String>,
    pub hours: crate::domain::Hours,
}

#[derive(Debug, Clone)]
pub struct NewStaff {
    pub clinic: Option<ClinicId>,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
}

/// One row of the audit log, as read back.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub business_id: Option<i64>,
    pub queue_day_id: Option<i64>,
    pub actor_user_id: Option<i64>,
    pub actor_kind: String,
    pub action: String,
    pub token_id: Option<i64>,
    pub target: String,
    pub ip: Option<String>,
    /// The changes the action made, as JSON (`queue::rules::Changes` for queue actions).
    pub detail: String,
    pub undoable: bool,
    pub undoes_id: Option<i64>,
    pub created_at: i64,
}

/// Who a token's patient is, as the desk lists them.
#[derive(Debug, Clone)]
pub struct Patient {
    pub token: TokenId,
    pub name: String,
    pub source: Source,
    pub joined_at: Timestamp,
    pub phone: Option<String>,
    /// The token's tracker id (its ticket is printed from it).
    pub public_id: String,
}

#[derive(sqlx::FromRow)]
struct PatientRow {
    #[sqlx(flatten)]
    token: DayTokenRow,
    patient_name: String,
    source: String,
    patient_phone: Option<String>,
    public_id: String,
}

/// Where a token lives, found from its public id.
#[derive(Debug, Clone)]
pub struct TokenRef {
    pub id: TokenId,
    pub clinic: ClinicId,
    pub day: QueueDayId,
    pub queue: QueueId,
    pub language: Language,
    /// Whether the patient has rated the visit.
    pub rated: bool,
    /// The version of the token's day as read with it: any change to the day (its
    /// tokens, its state) makes a higher one.
    pub day_version: i64,
}

impl Tx {
    pub async fn insert_clinic(
        &mut self,
        c: &NewClinic,
        now: Timestamp,
    ) -> Result<ClinicId, StorageError> {
        let columns = super::rows::CLINIC_SETTINGS_COLUMNS;
        let sql = format!(
            "INSERT INTO businesses (slug, status, created_at, {}) VALUES ($1, $2, $3, {}) RETURNING id",
            columns.join(", "),
            placeholders(4, columns.len())
        );
        let id: i64 = with_tx!(self, conn => {
            let query = sqlx::query_scalar(&sql)
                .bind(c.slug.as_str())
                .bind(c.status.as_str())
                .bind(now.millis());
            super::rows::bind_clinic_settings!(query, c)
                .fetch_one(conn)
                .await?
        });
        Ok(ClinicId(id))
    }

    pub async fn insert_queue(
        &mut self,
        clinic: ClinicId,
        q: &NewQueue,
        now: Timestamp,
    ) -> Result<QueueId, StorageError> {
        let id: i64 = with_tx!(self, conn => {
            sqlx::query_scalar(
                "INSERT INTO queues (business_id, name, prefix, default_service_minutes, position, created_at, rooms, hours) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(clinic.get())
            .bind(&q.name)
            .bind(&q.prefix)
            .bind(q.default_service_minutes.map(i64::from))
            .bind(q.position)
            .bind(now.millis())
            .bind(crate::domain::rooms_to_stored(&q.rooms))
            .bind(q.hours.to_stored())
            .fetch_one(conn)
            .await?
        });
        Ok(QueueId(id))
    }

    pub async fn insert_staff(
        &mut self,
        s: &NewStaff,
        now: Timestamp,
    ) -> Result<UserId, StorageError> {
        let id: i64 = with_tx!(self, conn => {
            sqlx::query_scalar(
                "INSERT INTO staff_users (business_id, email, password_hash, role, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(s.clinic.map(ClinicId::get))
            .bind(s.email.to_lowercase())
            .bind(&s.password_hash)
            .bind(s.role.as_str())
            .bind(now.millis())
            .fetch_one(conn)
            .await?
        });
        Ok(UserId(id))
    }

    /// Records an action that is not a queue change (clinic status, staff changes…).
    pub async fn insert_audit(
        &mut self,
        clinic: Option<ClinicId>,
        actor: Option<UserId>,
        action: &str,
        target: &str,
        ip: Option<&str>,
        now: Timestamp,
    ) -> Result<i64, StorageError> {
        let kind = if actor.is_some() { "STAFF" } else { "SYSTEM" };
        let id: i64 = with_tx!(self, conn => {
            sqlx::query_scalar(
                "INSERT INTO audit_log (business_id, actor_user_id, actor_kind, action, target, ip, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(clinic.map(ClinicId::get))
            .bind(actor.map(UserId::get))
            .bind(kind)
            .bind(action)
            .bind(target)
            .bind(ip)
            .bind(now.millis())
            .fetch_one(conn)
            .await?
        });
        Ok(id)
    }

    pub async fn set_clinic_status(
        &mut self,
        clinic: ClinicId,
        status: ClinicStatus,
        reason: &str,
    ) -> Result<bool, StorageError> {
        let updated = with_tx!(self, conn => {
            sqlx::query("UPDATE businesses SET status = $2, status_reason = $3 WHERE id = $1")
                .bind(clinic.get())
                .bind(status.as_str())
                .bind(reason)
                .execute(conn)
                .await?
                .rows_affected()
        });
        Ok(updated == 1)
    }
}

impl Store {
    pub async fn clinic_by_slug(&self, slug: &Slug) -> Result<Option<Clinic>, StorageError> {
        let sql = format!("SELECT {CLINIC_COLUMNS} FROM businesses b WHERE b.slug = $1");
        let row: Option<ClinicRow> = with_pool!(self, pool => sqlx::query_as(&sql).bind(slug.as_str()).fetch_optional(pool).await?);
        row.map(Clinic::try_from).transpose()
    }

    pub async fn clinic(&self, id: ClinicId) -> Result<Option<Clinic>, StorageError> {
        let sql = format!("SELECT {CLINIC_COLUMNS} FROM businesses b WHERE b.id = $1");
        let row: Option<ClinicRow> = with_pool!(self, pool => sqlx::query_as(&sql).bind(id.get()).fetch_optional(pool).await?);
        row.map(Clinic::try_from).transpose()
    }

    /// The clinic's queues that are in use, in display order.
    pub async fn queues_of(&self, clinic: ClinicId) -> Result<Vec<Queue>, StorageError> {
        let sql = format!(
            "SELECT {QUEUE_COLUMNS} FROM queues q WHERE q.business_id = $1 AND NOT q.archived ORDER BY q.position, q.id"
        );
        let rows: Vec<QueueRow> = with_pool!(self, pool => sqlx::query_as(&sql).bind(clinic.get()).fetch_all(pool).await?);
        Ok(rows.into_iter().map(Queue::from).collect())
    }

    /// A queue and the clinic it belongs to.
    pub async fn queue_with_clinic(
        &self,
        queue: QueueId,
    ) -> Result<Option<(Queue, Clinic)>, StorageError> {
        let sql = queue_head_sql();
        let row: Option<QueueHeadRow> = with_pool!(self, pool => sqlx::query_as(&sql).bind(queue.get()).fetch_optional(pool).await?);
        row.map(|row| {
            let (clinic, queue) = row.split();
            Ok((Queue::from(queue), Clinic::try_from(clinic)?))
        })
        .transpose()
    }

    /// A staff user and their password hash, by email (case-insensitive).
    pub async fn staff_by_email(
        &self,
        email: &str,
    ) -> Result<Option<(StaffUser, String)>, StorageError> {
        let row: Option<StaffRow> = with_pool!(self, pool => {
            sqlx::query_as("SELECT id, business_id, email, role, active, must_change_password, password_hash FROM staff_users WHERE email = $1")
                .bind(email.trim().to_lowercase())
                .fetch_optional(pool)
                .await?
        });
        row.map(|r| Ok((r.user()?, r.password_hash))).transpose()
    }

    /// Every token of a queue day, in number order.
    pub async fn day_tokens(&self, day: QueueDayId) -> Result<Vec<DayToken>, StorageError> {
        let sql = format!(
            "SELECT {DAY_TOKEN_COLUMNS} FROM tokens WHERE queue_day_id = $1 ORDER BY number"
        );
        let rows: Vec<DayTokenRow> =
            with_pool!(self, pool => sqlx::query_as(&sql).bind(day.get()).fetch_all(pool).await?);
        rows.into_iter().map(DayToken::try_from).collect()
    }

    /// A queue day's own state (open or closed, intake paused).
    async fn day_row_by_id(&self, day: QueueDayId) -> Result<Option<DayRow>, StorageError> {
        let sql = format!("SELECT {DAY_COLUMNS} FROM queue_days WHERE id = $1");
        Ok(with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(day.get()).fetch_optional(pool).await?
        }))
    }

    async fn day_row(
        &self,
        queue: &Queue,
        date: LocalDate,
    ) -> Result<Option<DayRow>, StorageError> {
        let sql = format!(
            "SELECT {DAY_COLUMNS} FROM queue_days WHERE queue_id = $1 AND service_date = $2"
        );
        Ok(with_pool!(self, pool => {
            sqlx::query_as(&sql)
            .bind(queue.id.get())
            .bind(date.to_string())
            .fetch_optional(pool)
            .await?
        }))
    }

    /// A queue's day on a local date, read without locking (`None` before it opens).
    pub async fn day_by_date(
        &self,
        queue: &Queue,
        date: LocalDate,
    ) -> Result<Option<(QueueDayId, Day)>, StorageError> {
        let Some(row) = self.day_row(queue, date).await? else {
            return Ok(None);
        };
        let id = QueueDayId(row.id);
        let day = row.day(&queue.prefix, self.day_tokens(id).await?)?;
        Ok(Some((id, day)))
    }

    /// A queue's day on a local date with who each patient is, tokens and people read in
    /// one pass (the desk's poll): `None` before the day opens.
    pub async fn day_with_patients(
        &self,
        queue: &Queue,
        date: LocalDate,
    ) -> Result<Option<(Day, Vec<Patient>)>, StorageError> {
        let Some(row) = self.day_row(queue, date).await? else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {DAY_TOKEN_COLUMNS}, patient_name, source, patient_phone, public_id \
             FROM tokens WHERE queue_day_id = $1 ORDER BY number"
        );
        let rows: Vec<PatientRow> =
            with_pool!(self, pool => sqlx::query_as(&sql).bind(row.id).fetch_all(pool).await?);
        let mut tokens = Vec::with_capacity(rows.len());
        let mut patients = Vec::with_capacity(rows.len());
        for r in rows {
            let token = DayToken::try_from(r.token)?;
            patients.push(Patient {
                token: token.id,
                name: r.patient_name,
                source: RowAt::new("tokens", token.id.get()).decode(
                    "source",
                    &r.source,
                    Source::from_stored,
                )?,
                joined_at: token.joined,
                phone: r.patient_phone,
                public_id: r.public_id,
            });
            tokens.push(token);
        }
        Ok(Some((row.day(&queue.prefix, tokens)?, patients)))
    }

    /// Where a tracker's token lives: its id, day, queue and language.
    pub async fn token_ref(&self, public_id: &PublicId) -> Result<Option<TokenRef>, StorageError> {
        type Row = (i64, i64, i64, i64, String, Option<i64>, i64);
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT t.id, t.business_id, t.queue_day_id, t.queue_id, t.language, t.rating, d.version \
                 FROM tokens t JOIN queue_days d ON d.id = t.queue_day_id WHERE t.public_id = $1",
            )
            .bind(public_id.as_str())
            .fetch_optional(pool)
            .await?
        });
        row.map(|(id, clinic, day, queue, language, rating, day_version)| {
            Ok(TokenRef {
                id: TokenId(id),
                clinic: ClinicId(clinic),
                day: QueueDayId(day),
                queue: QueueId(queue),
                language: RowAt::new("tokens", id).decode(
                    "language",
                    &language,
                    Language::from_stored,
                )?,
                rated: rating.is_some(),
                day_version,
            })
        })
        .transpose()
    }

    /// Records a served patient's rating and feedback, once, and moves the token's day to
    /// a new version (trackers show the rating). Returns whether it was recorded.
    pub async fn rate_token(
        &self,
        public_id: &PublicId,
        rating: u8,
        feedback: &str,
    ) -> Result<bool, StorageError> {
        // The day's row first, as every queue action locks it, so the two cannot deadlock.
        let mut tx = self.begin().await?;
        let day = with_tx!(&mut tx, conn => {
            sqlx::query(
                "UPDATE queue_days SET version = version + 1 WHERE id = \
                 (SELECT queue_day_id FROM tokens WHERE public_id = $1 AND status = 'SERVED' AND rating IS NULL)",
            )
            .bind(public_id.as_str())
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        let updated = if day == 1 {
            with_tx!(&mut tx, conn => {
                sqlx::query(
                    "UPDATE tokens SET rating = $2, feedback = $3 WHERE public_id = $1 AND status = 'SERVED' AND rating IS NULL",
                )
                .bind(public_id.as_str())
                .bind(i64::from(rating))
                .bind(feedback)
                .execute(&mut *conn)
                .await?
                .rows_affected()
            })
        } else {
            0
        };
        if updated != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// A queue day with its tokens (`None` if there is no such day).
    pub async fn day(&self, id: QueueDayId, prefix: &str) -> Result<Option<Day>, StorageError> {
        let Some(row) = self.day_row_by_id(id).await? else {
            return Ok(None);
        };
        Ok(Some(row.day(prefix, self.day_tokens(id).await?)?))
    }

    /// The audit trail of one queue day, oldest first.
    pub async fn day_audit(&self, day: QueueDayId) -> Result<Vec<AuditRow>, StorageError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, business_id, queue_day_id, actor_user_id, actor_kind, action, token_id, target, ip, \
                 detail, undoable, undoes_id, created_at FROM audit_log WHERE queue_day_id = $1 ORDER BY id",
            )
            .bind(day.get())
            .fetch_all(pool)
            .await?
        }))
    }
}
