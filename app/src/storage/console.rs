//! What the tenant console and clinic settings read and write: clinic rows, staff
//! accounts, queues, usage counts and the console's audit log.

use super::rows::{ClinicRow, QueueRow, CLINIC_COLUMNS, QUEUE_COLUMNS};
use super::{with_pool, with_tx, RowAt, StorageError, Store, Tx};
use crate::console::{AuditFilter, AuditLine, StaffLine};
use crate::domain::*;

/// A console action for the audit log: who did what to which clinic, from where.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleAudit<'a> {
    pub clinic: Option<ClinicId>,
    pub actor: &'a StaffUser,
    pub ip: Option<&'a str>,
    pub action: &'a str,
    pub target: &'a str,
    /// What changed, as JSON.
    pub detail: &'a str,
}

/// One queue day's standing, for usage counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayUsage {
    pub clinic: ClinicId,
    pub date: LocalDate,
    pub open: bool,
    pub tokens: u32,
    pub served: u32,
}

impl Tx {
    /// Re-reads a clinic inside the transaction (locking its row on PostgreSQL).
    pub async fn lock_clinic(&mut self, id: ClinicId) -> Result<Option<Clinic>, StorageError> {
        let row: Option<ClinicRow> = match self {
            Tx::Sqlite(tx) => {
                tx.ensure_begun().await?;
                let sql = format!("SELECT {CLINIC_COLUMNS} FROM businesses b WHERE b.id = $1");
                sqlx::query_as(&sql)
                    .bind(id.get())
                    .fetch_optional(tx.conn())
                    .await?
            }
            Tx::Postgres(tx) => {
                let sql =
                    format!("SELECT {CLINIC_COLUMNS} FROM businesses b WHERE b.id = $1 FOR UPDATE");
                sqlx::query_as(&sql)
                    .bind(id.get())
                    .fetch_optional(&mut **tx)
                    .await?
            }
        };
        row.map(Clinic::try_from).transpose()
    }

    /// Writes a clinic's details and settings (not its status: see `set_clinic_status`).
    pub async fn update_clinic(&mut self, c: &Clinic) -> Result<(), StorageError> {
        let set: Vec<String> = super::rows::CLINIC_SETTINGS_COLUMNS
            .iter()
            .enumerate()
            .map(|(i, column)| format!("{column} = ${}", i + 2))
            .collect();
        let sql = format!("UPDATE businesses SET {} WHERE id = $1", set.join(", "));
        with_tx!(self, conn => {
            super::rows::bind_clinic_settings!(sqlx::query(&sql).bind(c.id.get()), c)
                .execute(conn)
                .await?;
        });
        Ok(())
    }

    /// Deletes a clinic with its queues, days, tokens, staff and their sessions (foreign
    /// keys cascade). The audit log keeps its rows.
    pub async fn delete_clinic(&mut self, id: ClinicId) -> Result<(), StorageError> {
        with_tx!(self, conn => {
            sqlx::query("DELETE FROM businesses WHERE id = $1").bind(id.get()).execute(conn).await?;
        });
        Ok(())
    }

    /// Names of the clinic's queues whose day is open with patients waiting or being served.
    pub async fn busy_queue_names(&mut self, id: ClinicId) -> Result<Vec<String>, StorageError> {
        Ok(with_tx!(self, conn => {
            sqlx::query_scalar(
                "SELECT q.name FROM queues q WHERE q.business_id = $1 AND EXISTS ( \
                   SELECT 1 FROM queue_days d JOIN tokens t ON t.queue_day_id = d.id \
                   WHERE d.queue_id = q.id AND d.status = 'OPEN' AND t.status IN ('WAITING', 'SERVING')) \
                 ORDER BY q.position, q.id",
            )
            .bind(id.get())
            .fetch_all(conn)
            .await?
        }))
    }

    pub async fn set_password(
        &mut self,
        user: UserId,
        password_hash: &str,
        must_change: bool,
    ) -> Result<(), StorageError> {
        with_tx!(self, conn => {
            sqlx::query("UPDATE staff_users SET password_hash = $2, must_change_password = $3 WHERE id = $1")
                .bind(user.get())
                .bind(password_hash)
                .bind(must_change)
                .execute(conn)
                .await?;
        });
        Ok(())
    }

    pub async fn set_staff_active(
        &mut self,
        user: UserId,
        active: bool,
    ) -> Result<(), StorageError> {
        with_tx!(self, conn => {
            sqlx::query("UPDATE staff_users SET active = $2 WHERE id = $1")
                .bind(user.get())
                .bind(active)
                .execute(conn)
                .await?;
        });
        Ok(())
    }

    /// Ends every session of a user but the one whose token hash is `keep`.
    pub async fn end_sessions(
        &mut self,
        user: UserId,
        keep: Option<&str>,
    ) -> Result<(), StorageError> {
        with_tx!(self, conn => {
            sqlx::query("DELETE FROM staff_sessions WHERE user_id = $1 AND token_hash <> $2")
                .bind(user.get())
                .bind(keep.unwrap_or(""))
                .execute(conn)
                .await?;
        });
        Ok(())
    }

    /// Active owners of a clinic other than `except`.
    pub async fn other_active_owners(
        &mut self,
        clinic: ClinicId,
        except: UserId,
    ) -> Result<u32, StorageError> {
        let n: i64 = with_tx!(self, conn => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM staff_users WHERE business_id = $1 AND role = 'OWNER' AND active AND id <> $2",
            )
            .bind(clinic.get())
            .bind(except.get())
            .fetch_one(conn)
            .await?
        });
        Ok(n as u32)
    }

    pub async fn update_queue(&mut self, q: &Queue) -> Result<(), StorageError> {
        with_tx!(self, conn => {
            sqlx::query(
                "UPDATE queues SET name = $2, prefix = $3, default_service_minutes = $4, archived = $5, \
                 rooms = $6, hours = $7 WHERE id = $1",
            )
            .bind(q.id.get())
            .bind(&q.name)
            .bind(&q.prefix)
            .bind(q.default_service_minutes.map(i64::from))
            .bind(q.archived)
            .bind(crate::domain::rooms_to_stored(&q.rooms))
            .bind(q.hours.to_stored())
            .execute(conn)
            .await?;
        });
        Ok(())
    }

    pub async fn insert_console_audit(
        &mut self,
        a: &ConsoleAudit<'_>,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        with_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO audit_log (business_id, actor_user_id, actor_email, actor_kind, action, target, ip, detail, created_at) \
                 VALUES ($1, $2, $3, 'STAFF', $4, $5, $6, $7, $8)",
            )
            .bind(a.clinic.map(ClinicId::get))
            .bind(a.actor.id.get())
            .bind(&a.actor.email)
            .bind(a.action)
            .bind(a.target)
            .bind(a.ip)
            .bind(a.detail)
            .bind(now.millis())
            .execute(conn)
            .await?;
        });
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct StaffLineRow {
    id: i64,
    email: String,
    role: String,
    active: bool,
    must_change_password: bool,
}

#[derive(sqlx::FromRow)]
struct AuditLineRow {
    created_at: i64,
    actor_email: Option<String>,
    actor_user_id: Option<i64>,
    ip: Option<String>,
    action: String,
    slug: Option<String>,
    business_id: Option<i64>,
    target: String,
}

impl Store {
    /// Every clinic, or those whose name or slug contains `search`, by name.
    pub async fn clinics(&self, search: &str) -> Result<Vec<Clinic>, StorageError> {
        let pattern = format!("%{}%", search.trim().to_lowercase());
        let sql = format!(
            "SELECT {CLINIC_COLUMNS} FROM businesses b \
             WHERE LOWER(b.name) LIKE $1 OR b.slug LIKE $1 ORDER BY LOWER(b.name), b.id"
        );
        let rows: Vec<ClinicRow> =
            with_pool!(self, pool => sqlx::query_as(&sql).bind(&pattern).fetch_all(pool).await?);
        rows.into_iter().map(Clinic::try_from).collect()
    }

    /// Queue days on or after `since` (a local date), with their token counts.
    pub async fn day_usage(
        &self,
        clinic: Option<ClinicId>,
        since: LocalDate,
    ) -> Result<Vec<DayUsage>, StorageError> {
        let rows: Vec<(i64, String, String, i64, i64)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT d.business_id, d.service_date, d.status, \
                   (SELECT COUNT(*) FROM tokens t WHERE t.queue_day_id = d.id), \
                   (SELECT COUNT(*) FROM tokens t WHERE t.queue_day_id = d.id AND t.status = 'SERVED') \
                 FROM queue_days d WHERE d.service_date >= $1 AND ($2 IS NULL OR d.business_id = $2)",
            )
            .bind(since.to_string())
            .bind(clinic.map(ClinicId::get))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(clinic, date, status, tokens, served)| {
                // A grouped read: the clinic names the rows.
                let at = RowAt::new("queue_days", clinic);
                Ok(DayUsage {
                    clinic: ClinicId(clinic),
                    date: at.decode("service_date", &date, LocalDate::parse)?,
                    open: at.decode("status", &status, DayStatus::from_stored)? == DayStatus::Open,
                    tokens: tokens as u32,
                    served: served as u32,
                })
            })
            .collect()
    }

    /// Every queue of a clinic, archived ones included, in display order.
    pub async fn all_queues_of(&self, clinic: ClinicId) -> Result<Vec<Queue>, StorageError> {
        let sql = format!(
            "SELECT {QUEUE_COLUMNS} FROM queues q WHERE q.business_id = $1 ORDER BY q.archived, q.position, q.id"
        );
        let rows: Vec<QueueRow> = with_pool!(self, pool => sqlx::query_as(&sql).bind(clinic.get()).fetch_all(pool).await?);
        Ok(rows.into_iter().map(Queue::from).collect())
    }

    /// A clinic's staff accounts, owners first.
    pub async fn staff_of(&self, clinic: ClinicId) -> Result<Vec<StaffLine>, StorageError> {
        let rows: Vec<StaffLineRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, email, role, active, must_change_password FROM staff_users \
                 WHERE business_id = $1 ORDER BY role, email",
            )
            .bind(clinic.get())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(StaffLine {
                    id: r.id,
                    email: r.email,
                    role: RowAt::new("staff_users", r.id).decode(
                        "role",
                        &r.role,
                        Role::from_stored,
                    )?,
                    active: r.active,
                    must_change_password: r.must_change_password,
                })
            })
            .collect()
    }

    /// A staff account by id, with its password hash.
    pub async fn staff_by_id(
        &self,
        id: UserId,
    ) -> Result<Option<(StaffUser, String)>, StorageError> {
        let row: Option<super::rows::StaffRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, business_id, email, role, active, must_change_password, password_hash FROM staff_users WHERE id = $1",
            )
            .bind(id.get())
            .fetch_optional(pool)
            .await?
        });
        row.map(|r| Ok((r.user()?, r.password_hash))).transpose()
    }

    /// The console's audit log (everything but queue moves), newest first, at most `limit` rows.
    pub async fn console_audit(
        &self,
        filter: &AuditFilter,
        limit: u32,
    ) -> Result<Vec<AuditLine>, StorageError> {
        let like = |s: &str| format!("%{}%", s.trim().to_lowercase());
        let rows: Vec<AuditLineRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT a.created_at, a.actor_email, a.actor_user_id, a.ip, a.action, b.slug, a.business_id, a.target \
                 FROM audit_log a LEFT JOIN businesses b ON b.id = a.business_id \
                 WHERE a.queue_day_id IS NULL \
                   AND ($1 = '%%' OR LOWER(COALESCE(b.slug, '')) LIKE $1 OR LOWER(a.target) LIKE $1) \
                   AND LOWER(a.action) LIKE $2 \
                   AND LOWER(COALESCE(a.actor_email, '')) LIKE $3 \
                 ORDER BY a.id DESC LIMIT $4",
            )
            .bind(like(&filter.clinic))
            .bind(like(&filter.action))
            .bind(like(&filter.actor))
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| AuditLine {
                at: r.created_at,
                actor: r.actor_email.unwrap_or_else(|| match r.actor_user_id {
                    Some(id) => format!("user #{id}"),
                    None => "system".to_owned(),
                }),
                ip: r.ip.unwrap_or_default(),
                action: r.action,
                clinic: r.slug.unwrap_or_else(|| match r.business_id {
                    Some(id) => format!("deleted clinic #{id}"),
                    None => String::new(),
                }),
                target: r.target,
            })
            .collect())
    }
}
