//! Staff sign-in: sessions and login attempts.

use super::rows::StaffRow;
use super::{with_pool, StorageError, Store};
use crate::domain::*;

impl Store {
    pub async fn insert_session(
        &self,
        token_hash: &str,
        user: UserId,
        now: Timestamp,
        expires: Timestamp,
        ip: Option<&str>,
    ) -> Result<(), StorageError> {
        with_pool!(self, pool => {
            sqlx::query("INSERT INTO staff_sessions (token_hash, user_id, created_at, expires_at, ip) VALUES ($1, $2, $3, $4, $5)")
                .bind(token_hash)
                .bind(user.get())
                .bind(now.millis())
                .bind(expires.millis())
                .bind(ip)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The active staff user a live session belongs to.
    pub async fn session_user(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<StaffUser>, StorageError> {
        let row: Option<StaffRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT u.id, u.business_id, u.email, u.role, u.active, u.must_change_password, u.password_hash FROM staff_sessions s \
                 JOIN staff_users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active",
            )
            .bind(token_hash)
            .bind(now.millis())
            .fetch_optional(pool)
            .await?
        });
        row.map(|r| r.user()).transpose()
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StorageError> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1").bind(token_hash).execute(pool).await?;
        });
        Ok(())
    }

    pub async fn record_login_attempt(
        &self,
        email: &str,
        ip: Option<&str>,
        succeeded: bool,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        with_pool!(self, pool => {
            sqlx::query("INSERT INTO login_attempts (email, ip, succeeded, created_at) VALUES ($1, $2, $3, $4)")
                .bind(email)
                .bind(ip)
                .bind(succeeded)
                .bind(now.millis())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Failed logins since `since`: for this account, and from this address.
    pub async fn failed_logins(
        &self,
        email: &str,
        ip: Option<&str>,
        since: Timestamp,
    ) -> Result<(u32, u32), StorageError> {
        let (by_email, by_ip): (i64, i64) = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT \
                   (SELECT COUNT(*) FROM login_attempts WHERE email = $1 AND NOT succeeded AND created_at >= $3), \
                   (SELECT COUNT(*) FROM login_attempts WHERE ip = $2 AND NOT succeeded AND created_at >= $3)",
            )
            .bind(email)
            .bind(ip)
            .bind(since.millis())
            .fetch_one(pool)
            .await?
        });
        Ok((
            u32::try_from(by_email).unwrap_or(u32::MAX),
            u32::try_from(by_ip).unwrap_or(u32::MAX),
        ))
    }
}
