//! Staff sign-in: sessions and the strikes that space out failed attempts.

use super::rows::StaffRow;
use super::{with_pool, with_tx, StorageError, Store, Tx};
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
}

impl Tx {
    /// The strikes recorded against each source (`None`: none yet).
    pub async fn strikes(
        &mut self,
        sources: &[&str],
    ) -> Result<Vec<Option<Strikes>>, StorageError> {
        let mut found = Vec::with_capacity(sources.len());
        for source in sources {
            let row: Option<(i64, i64)> = with_tx!(self, conn => {
                sqlx::query_as("SELECT strikes, last_at FROM sign_in_strikes WHERE source = $1")
                    .bind(source)
                    .fetch_optional(conn)
                    .await?
            });
            found.push(row.map(|(count, last)| Strikes {
                count: u32::try_from(count).unwrap_or(u32::MAX),
                last: Timestamp(last),
            }));
        }
        Ok(found)
    }

    /// Compare-and-set: moves `source` from `seen` (`None`: no row) to `next`. `false`
    /// when another attempt changed it first.
    pub async fn swap_strikes(
        &mut self,
        source: &str,
        seen: Option<Strikes>,
        next: Strikes,
    ) -> Result<bool, StorageError> {
        // A row that did not exist can only be matched by a row no one wrote: (-1, -1).
        let (count, last) = seen.map_or((-1, -1), |s| (i64::from(s.count), s.last.millis()));
        let done = with_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO sign_in_strikes (source, strikes, last_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (source) DO UPDATE SET strikes = $2, last_at = $3 \
                 WHERE sign_in_strikes.strikes = $4 AND sign_in_strikes.last_at = $5",
            )
            .bind(source)
            .bind(i64::from(next.count))
            .bind(next.last.millis())
            .bind(count)
            .bind(last)
            .execute(conn)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Takes one strike back from `source` (an attempt that turned out right).
    pub async fn refund_strike(&mut self, source: &str) -> Result<(), StorageError> {
        with_tx!(self, conn => {
            sqlx::query("UPDATE sign_in_strikes SET strikes = strikes - 1 WHERE source = $1 AND strikes > 0")
                .bind(source)
                .execute(conn)
                .await?;
        });
        Ok(())
    }

    pub async fn forget_strikes(&mut self, source: &str) -> Result<(), StorageError> {
        with_tx!(self, conn => {
            sqlx::query("DELETE FROM sign_in_strikes WHERE source = $1")
                .bind(source)
                .execute(conn)
                .await?;
        });
        Ok(())
    }

    /// Deletes the sources nobody has tried since `before`.
    pub async fn forget_strikes_before(&mut self, before: Timestamp) -> Result<u64, StorageError> {
        Ok(with_tx!(self, conn => {
            sqlx::query("DELETE FROM sign_in_strikes WHERE last_at < $1")
                .bind(before.millis())
                .execute(conn)
                .await?
                .rows_affected()
        }))
    }
}
