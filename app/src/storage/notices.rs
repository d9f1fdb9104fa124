//! What a queue action's notices are planned from, read in the action's transaction: the
//! clinic's channels and wording, and each patient's contact, conversation and push
//! subscription. Clinics' own templates are stored here too.

use super::conversations::WINDOW_COLUMNS;
use super::{placeholders, with_pool, with_tx, RowAt, StorageError, Store, Tx};
use crate::console::ProviderKind;
use crate::domain::*;
use crate::messages::{MessageKind, TemplateChannel};
use crate::outbox::OutboxKind;
use crate::queue::notices::{ClinicChannels, Contact, Needs, Notice, OwnTemplate, Recipient};
use crate::whatsapp::Window;

#[derive(sqlx::FromRow)]
struct ContactRow {
    id: i64,
    business_id: i64,
    patient_phone: Option<String>,
    patient_name: String,
    language: String,
    public_id: String,
    source: String,
}

impl TryFrom<ContactRow> for Contact {
    type Error = StorageError;
    fn try_from(r: ContactRow) -> Result<Self, StorageError> {
        let at = RowAt::new("tokens", r.id);
        Ok(Contact {
            clinic: ClinicId(r.business_id),
            phone: r.patient_phone,
            name: r.patient_name,
            language: at.decode("language", &r.language, Language::from_stored)?,
            public_id: at.decode("public_id", &r.public_id, PublicId::parse)?,
            source: at.decode("source", &r.source, Source::from_stored)?,
        })
    }
}

/// A patient and how many push subscriptions their token has, as `recipients` reads them.
#[derive(sqlx::FromRow)]
struct ContactWithPush {
    #[sqlx(flatten)]
    contact: ContactRow,
    subscriptions: i64,
    /// The kinds of the messages already queued for the token, comma-separated.
    queued: Option<String>,
}

/// The notices' tokens, each once.
fn token_ids(wanted: &[(Notice, Needs)]) -> Vec<i64> {
    let mut ids: Vec<i64> = wanted
        .iter()
        .map(|(notice, _)| notice.token.get())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// A conversation with the phone it is with, as `recipients` reads several at once.
#[derive(sqlx::FromRow)]
struct PhoneWindow {
    phone: String,
    #[sqlx(flatten)]
    window: Window,
}

/// The columns of `ContactRow`, in `tokens`.
const CONTACT_COLUMNS: &str =
    "id, business_id, patient_phone, patient_name, language, public_id, source";

static CONTACT_SQL: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {CONTACT_COLUMNS} FROM tokens WHERE id = $1"));

#[derive(sqlx::FromRow)]
struct TemplateRow {
    kind: String,
    channel: String,
    language: String,
    body: String,
}

impl TemplateRow {
    fn decode(self, clinic: ClinicId) -> Result<OwnTemplate, StorageError> {
        let at = RowAt::new("message_templates", clinic.get());
        Ok(OwnTemplate {
            kind: at.decode("kind", &self.kind, MessageKind::from_stored)?,
            channel: at.decode("channel", &self.channel, TemplateChannel::from_stored)?,
            language: at.decode("language", &self.language, Language::from_stored)?,
            body: self.body,
        })
    }
}

/// A clinic's channels and one of its templates (all `None` when it wrote none): what
/// `clinic_channels` reads in one statement.
#[derive(sqlx::FromRow)]
struct ChannelsRow {
    provider: Option<String>,
    sms: Option<i64>,
    kind: Option<String>,
    channel: Option<String>,
    language: Option<String>,
    body: Option<String>,
}

const TEMPLATES_SQL: &str =
    "SELECT kind, channel, language, body FROM message_templates WHERE business_id = $1";

impl Tx {
    /// The clinic's own wording of a message, if it wrote one.
    pub async fn template(
        &mut self,
        clinic: ClinicId,
        kind: MessageKind,
        channel: TemplateChannel,
        language: Language,
    ) -> Result<Option<String>, StorageError> {
        Ok(with_tx!(self, conn => {
            sqlx::query_scalar("SELECT body FROM message_templates WHERE business_id = $1 AND kind = $2 AND channel = $3 AND language = $4")
                .bind(clinic.get())
                .bind(kind.as_str())
                .bind(channel.as_str())
                .bind(language.as_str())
                .fetch_optional(conn)
                .await?
        }))
    }

    /// A token's patient, for messages, read inside the transaction.
    pub async fn token_contact(&mut self, token: TokenId) -> Result<Option<Contact>, StorageError> {
        let row: Option<ContactRow> = with_tx!(self, conn => {
            sqlx::query_as(&CONTACT_SQL)
                .bind(token.get())
                .fetch_optional(conn)
                .await?
        });
        row.map(Contact::try_from).transpose()
    }

    /// What the clinic can send notices with: its WhatsApp provider, whether it has an
    /// SMS account, its own wording.
    pub async fn clinic_channels(
        &mut self,
        clinic: ClinicId,
    ) -> Result<ClinicChannels, StorageError> {
        let rows: Vec<ChannelsRow> = with_tx!(self, conn => {
            sqlx::query_as(
                "SELECT w.provider, s.business_id AS sms, t.kind, t.channel, t.language, t.body \
                 FROM businesses b \
                 LEFT JOIN whatsapp_accounts w ON w.business_id = b.id \
                 LEFT JOIN sms_accounts s ON s.business_id = b.id \
                 LEFT JOIN message_templates t ON t.business_id = b.id \
                 WHERE b.id = $1",
            )
            .bind(clinic.get())
            .fetch_all(conn)
            .await?
        });
        let whatsapp = rows
            .first()
            .and_then(|r| r.provider.as_deref())
            .map(|p| {
                RowAt::new("whatsapp_accounts", clinic.get()).decode(
                    "provider",
                    p,
                    ProviderKind::from_stored,
                )
            })
            .transpose()?;
        let sms = rows.first().is_some_and(|r| r.sms.is_some());
        let templates = rows
            .into_iter()
            .filter_map(|r| {
                Some(TemplateRow {
                    kind: r.kind?,
                    channel: r.channel?,
                    language: r.language?,
                    body: r.body?,
                })
            })
            .map(|t| t.decode(clinic))
            .collect::<Result<_, _>>()?;
        Ok(ClinicChannels {
            whatsapp,
            sms,
            templates,
        })
    }

    /// What each notice's planning needs to know about its patient: how to reach them and,
    /// as its `Needs` asks, their conversation with the clinic, their push subscription and
    /// whether the token already has a message of this kind. At most two statements
    /// (patients with their push subscriptions and messages queued, then conversations),
    /// however many notices an action causes.
    pub async fn recipients(
        &mut self,
        clinic: ClinicId,
        wanted: &[(Notice, Needs)],
    ) -> Result<Vec<Recipient>, StorageError> {
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let tokens = token_ids(wanted);
        // Each patient with the number of push subscriptions their token has and the
        // kinds of message already queued for it, oldest first.
        let contacts: Vec<ContactWithPush> = self
            .rows_for_tokens(
                &format!(
                    "SELECT {CONTACT_COLUMNS}, (SELECT COUNT(*) FROM push_subscriptions p \
                     WHERE p.token_id = tokens.id) AS subscriptions, (SELECT string_agg(o.kind, ',' ORDER BY o.id) \
                     FROM outbox o WHERE o.token_id = tokens.id) AS queued FROM tokens WHERE id"
                ),
                &tokens,
            )
            .await?;
        let contacts: Vec<(i64, Contact, bool, String)> = contacts
            .into_iter()
            .map(|row| {
                let pushed = row.subscriptions > 0;
                let queued = row.queued.unwrap_or_default();
                Ok((
                    row.contact.id,
                    Contact::try_from(row.contact)?,
                    pushed,
                    queued,
                ))
            })
            .collect::<Result<_, StorageError>>()?;
        let contact_of = |token: TokenId| {
            contacts
                .iter()
                .find(|(id, ..)| *id == token.get())
                .map(|(_, contact, pushed, queued)| (contact, *pushed, queued.as_str()))
                .ok_or(StorageError::Missing("tokens", token.get()))
        };

        // Their conversations: by phone, for the notices that read one.
        let mut phones: Vec<&str> = Vec::new();
        for (notice, needs) in wanted {
            if let (true, Some(phone)) =
                (needs.window, contact_of(notice.token)?.0.phone.as_deref())
            {
                if !phones.contains(&phone) {
                    phones.push(phone);
                }
            }
        }
        let windows: Vec<PhoneWindow> = if phones.is_empty() {
            Vec::new()
        } else {
            let sql = format!(
                "SELECT phone, {WINDOW_COLUMNS} FROM whatsapp_windows \
                 WHERE business_id = $1 AND phone IN ({})",
                placeholders(2, phones.len())
            );
            with_tx!(self, conn => {
                let mut query = sqlx::query_as(&sql).bind(clinic.get());
                for phone in &phones {
                    query = query.bind(*phone);
                }
                query.fetch_all(conn).await?
            })
        };

        wanted
            .iter()
            .map(|&(notice, needs)| {
                let (contact, pushed, queued) = contact_of(notice.token)?;
                let contact = contact.clone();
                let window = match (&contact.phone, needs.window) {
                    (Some(phone), true) => windows
                        .iter()
                        .find(|w| &w.phone == phone)
                        .map(|w| w.window.clone()),
                    _ => None,
                };
                let kind = OutboxKind::Notice(notice.kind);
                Ok(Recipient {
                    notice,
                    window,
                    push: needs.push && pushed,
                    told: needs.told && told_in_this_queue(queued, kind.as_str()),
                    contact,
                })
            })
            .collect()
    }

    /// The rows `select` (ending in the token column it filters on) finds for `tokens`:
    /// `select IN (…)`, or nothing asked when there are none.
    async fn rows_for_tokens<T>(
        &mut self,
        select: &str,
        tokens: &[i64],
    ) -> Result<Vec<T>, StorageError>
    where
        T: Send + Unpin,
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("{select} IN ({})", placeholders(1, tokens.len()));
        Ok(with_tx!(self, conn => {
            let mut query = sqlx::query_as(&sql);
            for id in tokens {
                query = query.bind(id);
            }
            query.fetch_all(conn).await?
        }))
    }

    /// Stores a clinic's own template; an empty body removes it (back to the default).
    pub async fn save_template(
        &mut self,
        clinic: ClinicId,
        kind: MessageKind,
        channel: TemplateChannel,
        language: Language,
        body: &str,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        with_tx!(self, conn => {
            if body.is_empty() {
                sqlx::query("DELETE FROM message_templates WHERE business_id = $1 AND kind = $2 AND channel = $3 AND language = $4")
                    .bind(clinic.get())
                    .bind(kind.as_str())
                    .bind(channel.as_str())
                    .bind(language.as_str())
                    .execute(conn)
                    .await?;
            } else {
                sqlx::query(
                    "INSERT INTO message_templates (business_id, kind, channel, language, body, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (business_id, kind, channel, language) DO UPDATE SET body = $5, updated_at = $6",
                )
                .bind(clinic.get())
                .bind(kind.as_str())
                .bind(channel.as_str())
                .bind(language.as_str())
                .bind(body)
                .bind(now.millis())
                .execute(conn)
                .await?;
            }
        });
        Ok(())
    }
}

impl Store {
    /// A token's patient, for messages, read outside any transaction.
    pub async fn token_contact(&self, token: TokenId) -> Result<Option<Contact>, StorageError> {
        let row: Option<ContactRow> = with_pool!(self, pool => {
            sqlx::query_as(&CONTACT_SQL)
                .bind(token.get())
                .fetch_optional(pool)
                .await?
        });
        row.map(Contact::try_from).transpose()
    }

    /// A clinic's own templates.
    pub async fn templates_of(&self, clinic: ClinicId) -> Result<Vec<OwnTemplate>, StorageError> {
        let rows: Vec<TemplateRow> = with_pool!(self, pool => {
            sqlx::query_as(TEMPLATES_SQL)
                .bind(clinic.get())
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(|t| t.decode(clinic)).collect()
    }
}

/// Whether `kind` was queued for a token since it last moved to another queue (`queued`:
/// its messages' kinds, oldest first): a patient moved is told "almost your turn" again
/// in the new queue.
fn told_in_this_queue(queued: &str, kind: &str) -> bool {
    let kinds: Vec<&str> = queued.split(',').collect();
    let moved = OutboxKind::Notice(crate::messages::MessageKind::Moved);
    let since = kinds
        .iter()
        .rposition(|k| *k == moved.as_str())
        .map_or(0, |at| at + 1);
    kinds[since..].contains(&kind)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_moved_patient_is_told_again_in_the_new_queue() {
        use super::told_in_this_queue as told;
        assert!(told("TOKEN_CREATED,NEXT_SOON", "NEXT_SOON"));
        assert!(!told("TOKEN_CREATED,NEXT_SOON,MOVED", "NEXT_SOON"));
        assert!(told("TOKEN_CREATED,NEXT_SOON,MOVED,NEXT_SOON", "NEXT_SOON"));
        assert!(!told("", "NEXT_SOON"));
    }
}
