//! WhatsApp conversations: each phone's 24-hour window with a clinic (and STOP), and the
//! messages patients write, logged once each.

use super::{with_pool, with_tx, StorageError, Store, Tx};
use crate::domain::*;
use crate::whatsapp::{RecentReplies, Window, WindowLine, WINDOW_MS};

/// The columns of `Window`, in `whatsapp_windows`.
pub(super) const WINDOW_COLUMNS: &str =
    "opened_at, last_inbound_at, token_id, opted_out, bot_state";

static WINDOW_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("SELECT {WINDOW_COLUMNS} FROM whatsapp_windows WHERE business_id = $1 AND phone = $2")
});

impl Tx {
    pub async fn window(
        &mut self,
        clinic: ClinicId,
        phone: &str,
    ) -> Result<Option<Window>, StorageError> {
        Ok(with_tx!(self, conn => {
            sqlx::query_as(
                &WINDOW_SQL,
            )
            .bind(clinic.get())
            .bind(phone)
            .fetch_optional(conn)
            .await?
        }))
    }

    /// Records an inbound message written at `at`: opens the phone's window or extends it
    /// (never backwards: providers may deliver an older message late), and ends a STOP
    /// (writing again is opting back in). Returns the window as it was before.
    pub async fn touch_window(
        &mut self,
        clinic: ClinicId,
        phone: &str,
        at: Timestamp,
    ) -> Result<Option<Window>, StorageError> {
        let before = self.window(clinic, phone).await?;
        let reopened = before
            .as_ref()
            .is_none_or(|w| at.millis() >= w.open_until());
        let now = at;
        with_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO whatsapp_windows (business_id, phone, opened_at, last_inbound_at) VALUES ($1, $2, $3, $3) \
                 ON CONFLICT (business_id, phone) DO UPDATE SET opted_out = FALSE, \
                 last_inbound_at = CASE WHEN $3 > whatsapp_windows.last_inbound_at THEN $3 ELSE whatsapp_windows.last_inbound_at END, \
                 opened_at = CASE WHEN $4 THEN $3 ELSE whatsapp_windows.opened_at END",
            )
            .bind(clinic.get())
            .bind(phone)
            .bind(now.millis())
            .bind(reopened)
            .execute(conn)
            .await?;
        });
        Ok(before)
    }

    pub async fn update_window(
        &mut self,
        clinic: ClinicId,
        phone: &str,
        token: Option<TokenId>,
        opted_out: bool,
        bot_state: &str,
    ) -> Result<(), StorageError> {
        with_tx!(self, conn => {
            sqlx::query(
                "UPDATE whatsapp_windows SET token_id = COALESCE($3, token_id), opted_out = $4, bot_state = $5 \
                 WHERE business_id = $1 AND phone = $2",
            )
            .bind(clinic.get())
            .bind(phone)
            .bind(token.map(TokenId::get))
            .bind(opted_out)
            .bind(bot_state)
            .execute(conn)
            .await?;
        });
        Ok(())
    }

    /// Keeps where a phone's conversation with the bot is (`BotState`, as JSON).
    pub async fn set_bot_state(
        &mut self,
        clinic: ClinicId,
        phone: &str,
        bot_state: &str,
    ) -> Result<(), StorageError> {
        with_tx!(self, conn => {
            sqlx::query("UPDATE whatsapp_windows SET bot_state = $3 WHERE business_id = $1 AND phone = $2")
                .bind(clinic.get())
                .bind(phone)
                .bind(bot_state)
                .execute(conn)
                .await?;
        });
        Ok(())
    }

    /// Points a phone's conversation with the clinic at a token it has just taken.
    pub async fn move_conversation(
        &mut self,
        clinic: ClinicId,
        phone: &str,
        token: TokenId,
    ) -> Result<(), StorageError> {
        with_tx!(self, conn => {
            sqlx::query("UPDATE whatsapp_windows SET token_id = $3 WHERE business_id = $1 AND phone = $2")
                .bind(clinic.get())
                .bind(phone)
                .bind(token.get())
                .execute(conn)
                .await?;
        });
        Ok(())
    }

    /// Logs an inbound message once: its id, or `None` when this provider message id was
    /// seen before.
    pub async fn record_inbound(
        &mut self,
        clinic: ClinicId,
        provider_message_id: &str,
        phone: &str,
        body: &str,
        now: Timestamp,
    ) -> Result<Option<i64>, StorageError> {
        let inserted: Option<i64> = with_tx!(self, conn => {
            sqlx::query_scalar(
                "INSERT INTO whatsapp_inbound (business_id, provider_message_id, phone, body, received_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (business_id, provider_message_id) DO NOTHING RETURNING id",
            )
            .bind(clinic.get())
            .bind(provider_message_id)
            .bind(phone)
            .bind(body)
            .bind(now.millis())
            .fetch_optional(conn)
            .await?
        });
        Ok(inserted)
    }

    /// The bot's answers to a phone since two instants: a minute ago, a day ago.
    pub async fn answered_since(
        &mut self,
        clinic: ClinicId,
        phone: &str,
        minute_ago: Timestamp,
        day_ago: Timestamp,
    ) -> Result<RecentReplies, StorageError> {
        let (last_minute, last_day): (i64, i64) = with_tx!(self, conn => {
            sqlx::query_as(
                "SELECT COALESCE(SUM(CASE WHEN answered_at >= $3 THEN 1 ELSE 0 END), 0), COUNT(*) \
                 FROM whatsapp_inbound WHERE business_id = $1 AND phone = $2 AND answered_at >= $4",
            )
            .bind(clinic.get())
            .bind(phone)
            .bind(minute_ago.millis())
            .bind(day_ago.millis())
            .fetch_one(conn)
            .await?
        });
        let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(RecentReplies {
            last_minute: count(last_minute),
            last_day: count(last_day),
        })
    }

    /// Records that the bot answers an inbound message.
    pub async fn mark_answered(&mut self, inbound: i64, at: Timestamp) -> Result<(), StorageError> {
        with_tx!(self, conn => {
            sqlx::query("UPDATE whatsapp_inbound SET answered_at = $2 WHERE id = $1")
                .bind(inbound)
                .bind(at.millis())
                .execute(conn)
                .await?;
        });
        Ok(())
    }

    /// Puts an inbound message in the desk's inbox, next to the patient's token.
    pub async fn mark_for_staff(
        &mut self,
        inbound: i64,
        token: Option<TokenId>,
    ) -> Result<(), StorageError> {
        with_tx!(self, conn => {
            sqlx::query("UPDATE whatsapp_inbound SET for_staff = TRUE, token_id = $2 WHERE id = $1")
                .bind(inbound)
                .bind(token.map(TokenId::get))
                .execute(conn)
                .await?;
        });
        Ok(())
    }
}

impl Store {
    /// The language a token's messages and tracker use, as its patient asked the bot.
    /// Its day's version moves on, so every instance's trackers show it.
    pub async fn set_token_language(
        &self,
        token: TokenId,
        language: Language,
    ) -> Result<(), StorageError> {
        let mut tx = self.begin().await?;
        with_tx!(&mut tx, conn => {
            // The day's row first, as every queue action locks it, so the two cannot
            // deadlock.
            sqlx::query(
                "UPDATE queue_days SET version = version + 1 WHERE id = \
                 (SELECT queue_day_id FROM tokens WHERE id = $1)",
            )
            .bind(token.get())
            .execute(&mut *conn)
            .await?;
            sqlx::query("UPDATE tokens SET language = $2 WHERE id = $1")
                .bind(token.get())
                .bind(language.as_str())
                .execute(&mut *conn)
                .await?;
        });
        tx.commit().await
    }

    /// The clinic's conversation windows open at some point since an instant, newest
    /// first.
    pub async fn windows_since(
        &self,
        clinic: ClinicId,
        since: Timestamp,
    ) -> Result<Vec<WindowLine>, StorageError> {
        let rows: Vec<(String, i64, Option<i64>, bool)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT phone, last_inbound_at + $3, token_id, opted_out FROM whatsapp_windows \
                 WHERE business_id = $1 AND last_inbound_at + $3 > $2 ORDER BY last_inbound_at DESC",
            )
            .bind(clinic.get())
            .bind(since.millis())
            .bind(WINDOW_MS)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(phone, open_until, token, opted_out)| WindowLine {
                phone,
                open_until: Timestamp(open_until),
                token: token.map(TokenId),
                opted_out,
            })
            .collect())
    }

    /// A phone's window with a clinic, read outside any transaction.
    pub async fn window_of(
        &self,
        clinic: ClinicId,
        phone: &str,
    ) -> Result<Option<Window>, StorageError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as(
                &WINDOW_SQL,
            )
            .bind(clinic.get())
            .bind(phone)
            .fetch_optional(pool)
            .await?
        }))
    }
}
