//! What a queue action's notices are planned from, read in the action's transaction: the
//! clinic's channels and wording, and each patient's contact, conversation and push
//! subscription. Clinics' own templates are stored here too.

use super::{with_pool, with_tx, RowAt, StorageError, Store, Tx};
use crate::console::ProviderKind;
use crate::domain::*;
use crate::messages::{MessageKind, TemplateChannel};
use crate::outbox::OutboxKind;
use crate::queue::notices::{ClinicChannels, Contact, Needs, Notice, OwnTemplate, Recipient};

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

const CONTACT_SQL: &str =
    "SELECT id, business_id, patient_phone, patient_name, language, public_id, source \
    FROM tokens WHERE id = $1";

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
            sqlx::query_as(CONTACT_SQL)
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
        let (provider, sms, templates): (Option<String>, Option<i64>, Vec<TemplateRow>) = with_tx!(self, conn => {
            let provider = sqlx::query_scalar("SELECT provider FROM whatsapp_accounts WHERE business_id = $1")
                .bind(clinic.get())
                .fetch_optional(&mut *conn)
                .await?;
            let sms = sqlx::query_scalar("SELECT business_id FROM sms_accounts WHERE business_id = $1")
                .bind(clinic.get())
                .fetch_optional(&mut *conn)
                .await?;
            let templates = sqlx::query_as(TEMPLATES_SQL)
                .bind(clinic.get())
                .fetch_all(&mut *conn)
                .await?;
            (provider, sms, templates)
        });
        let whatsapp = provider
            .map(|p| {
                RowAt::new("whatsapp_accounts", clinic.get()).decode(
                    "provider",
                    &p,
                    ProviderKind::from_stored,
                )
            })
            .transpose()?;
        Ok(ClinicChannels {
            whatsapp,
            sms: sms.is_some(),
            templates: templates
                .into_iter()
                .map(|t| t.decode(clinic))
                .collect::<Result<_, _>>()?,
        })
    }

    /// What a notice's planning needs to know about its patient: how to reach them and,
    /// as `needs` asks, their conversation with the clinic, their push subscription and
    /// whether the token already has a message of this kind.
    pub async fn recipient(
        &mut self,
        clinic: ClinicId,
        notice: Notice,
        needs: Needs,
    ) -> Result<Recipient, StorageError> {
        let contact = self
            .token_contact(notice.token)
            .await?
            .ok_or_else(|| StorageError::Missing("tokens", notice.token.get()))?;
        let window = match &contact.phone {
            Some(phone) if needs.window => self.window(clinic, phone).await?,
            _ => None,
        };
        let push = needs.push && self.has_push_subscription(notice.token).await?;
        let told = needs.told
            && self
                .has_message(notice.token, OutboxKind::Notice(notice.kind))
                .await?;
        Ok(Recipient {
            notice,
            contact,
            window,
            push,
            told,
        })
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
            sqlx::query_as(CONTACT_SQL)
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
