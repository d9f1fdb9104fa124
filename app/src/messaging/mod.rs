//! Reaching patients, server side: each clinic's WhatsApp and SMS accounts (secrets
//! sealed at rest), the outbox worker that carries what queue actions enqueued down the
//! fallback chain (web push → WhatsApp → SMS for "your turn"), what happens when a patient
//! writes to the clinic (the 24-hour window, keywords, the welcome reply, the staff
//! inbox), and staff replies.
//!
//! Delivery guarantee: at least once to the provider. A row is sent by one worker at a
//! time (a lease in the database), a SENT row is never sent again, and a worker that dies
//! mid-send leaves its rows to be taken over when the lease ends; if the provider had
//! accepted the message before the crash (or answered in a way we could not read), the
//! patient can receive it twice.

mod bot_words;
pub mod inbound;
pub mod inbox;
pub mod provider;
pub mod push;
pub mod secrets;
pub mod sms;
pub mod webhooks;
mod worker;

use crate::console::{ConsoleError, ProviderKind, WhatsAppInput, WhatsAppView};
use crate::domain::*;
use crate::queue::engine::Engine;
use crate::storage::{StorageError, Store, StoredAccount};
use provider::{Account, Endpoints, Secrets};
use secrets::SecretBox;
use std::time::Duration;

/// Web push as this server sends it: its VAPID keys and the contact push services see.
#[derive(Clone, Debug)]
pub struct WebPush {
    pub vapid: push::Vapid,
    /// `mailto:` or `https:` address the push services may contact about this sender.
    pub subject: String,
    /// The push services' hosts subscriptions may point at (`push::PUSH_SERVICES` by
    /// default).
    pub services: Vec<String>,
}

impl WebPush {
    pub fn new(vapid: push::Vapid, subject: String) -> Self {
        Self {
            vapid,
            subject,
            services: push::PUSH_SERVICES.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn allows(&self, endpoint: &str) -> bool {
        push::endpoint_allowed(endpoint, &self.services)
    }
}

/// Attempts per message before it is marked permanently failed.
pub const MAX_ATTEMPTS: i32 = 3;

/// Everything WhatsApp needs, shared by the worker, the webhooks and the consoles.
#[derive(Clone, Debug)]
pub struct Messenger {
    engine: Engine,
    secrets: SecretBox,
    endpoints: Endpoints,
    /// `None`: this server sends no web push (the tracker offers no alerts).
    push: Option<WebPush>,
    http: reqwest::Client,
    /// How long a worker's claim on a message lasts.
    lease: Duration,
    /// Messages sent at once.
    batch: u32,
    /// The wait before the first retry; each later one waits four times longer.
    retry_base: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum MessagingError {
    #[error(transparent)]
    Refused(#[from] ConsoleError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Secret(#[from] secrets::SecretError),
}

impl Messenger {
    pub fn new(engine: Engine, secrets: SecretBox, endpoints: Endpoints) -> Self {
        Self {
            engine,
            secrets,
            endpoints,
            push: None,
            http: provider::client(),
            lease: Duration::from_secs(60),
            batch: 8,
            retry_base: Duration::from_secs(2),
        }
    }

    pub fn with_push(mut self, push: WebPush) -> Self {
        self.push = Some(push);
        self
    }

    /// Talks to the providers through `http` (tests give it a short timeout).
    pub fn with_http(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    /// Waits `base` before the first retry of a message, four times longer each time after.
    pub fn with_retry_base(mut self, base: Duration) -> Self {
        self.retry_base = base;
        self
    }

    /// How long a worker's claim on a message lasts before another may take it over.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Claims up to `batch` messages at a time (a few are in flight at once).
    pub fn with_batch(mut self, batch: u32) -> Self {
        self.batch = batch;
        self
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Web push as this server sends it, if it does.
    pub fn web_push(&self) -> Option<&WebPush> {
        self.push.as_ref()
    }

    /// The time the worker and the webhooks work at: the engine's clock.
    pub fn now(&self) -> Timestamp {
        self.engine.now()
    }

    pub fn store(&self) -> &Store {
        self.engine.store()
    }

    /// A stored account with its secrets opened.
    pub fn open(&self, stored: &StoredAccount) -> Result<Account, MessagingError> {
        let secrets: Secrets = serde_json::from_str(&self.secrets.open(&stored.sealed_secrets)?)
            .map_err(|_| secrets::SecretError::Undecryptable)?;
        Ok(Account {
            kind: stored.kind,
            phone_number: stored.phone_number.clone(),
            ultramsg_instance: stored.ultramsg_instance.clone(),
            meta_phone_number_id: stored.meta_phone_number_id.clone(),
            secrets,
        })
    }

    pub async fn account(&self, clinic: ClinicId) -> Result<Option<Account>, MessagingError> {
        match self.store().whatsapp_account(clinic).await? {
            Some(stored) => Ok(Some(self.open(&stored)?)),
            None => Ok(None),
        }
    }

    /// The clinic's connection as its settings page shows it.
    pub async fn view(&self, clinic: &Clinic) -> Result<WhatsAppView, MessagingError> {
        let account = self.account(clinic.id).await?;
        let today = Engine::local_date(clinic, self.now());
        let messages_today = self.store().message_quota_used(clinic.id, today).await?;
        let base = self.engine.public_url();
        let Some(a) = account else {
            return Ok(WhatsAppView {
                provider: None,
                phone_number: String::new(),
                ultramsg_instance: String::new(),
                meta_phone_number_id: String::new(),
                secrets: Vec::new(),
                webhook_url: String::new(),
                enabled: clinic.settings.whatsapp_enabled,
                template_mode: clinic.settings.whatsapp_template_mode,
                messages_today,
                daily_limit: clinic.settings.daily_message_limit,
            });
        };
        let s = &a.secrets;
        let secrets = [
            ("UltraMsg token", &s.ultramsg_token),
            ("Access token", &s.meta_access_token),
            ("App secret", &s.meta_app_secret),
            ("Verify token", &s.meta_verify_token),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_owned(), secrets::masked(v)))
        .collect();
        let webhook_url = match a.kind {
            ProviderKind::Meta => format!("{base}/webhooks/whatsapp/meta"),
            ProviderKind::UltraMsg => format!(
                "{base}/webhooks/whatsapp/ultramsg/{}?secret={}",
                clinic.slug, s.webhook_secret
            ),
            ProviderKind::Log => String::new(),
        };
        Ok(WhatsAppView {
            provider: Some(a.kind),
            phone_number: a.phone_number,
            ultramsg_instance: a.ultramsg_instance,
            meta_phone_number_id: a.meta_phone_number_id,
            secrets,
            webhook_url,
            enabled: clinic.settings.whatsapp_enabled,
            template_mode: clinic.settings.whatsapp_template_mode,
            messages_today,
            daily_limit: clinic.settings.daily_message_limit,
        })
    }

    /// Validates and stores a clinic's provider account (secrets sealed), with an audit row.
    pub async fn configure(
        &self,
        clinic: &Clinic,
        input: &WhatsAppInput,
        audit: crate::storage::ConsoleAudit<'_>,
    ) -> Result<(), MessagingError> {
        let invalid =
            |field: &str, message: &str| ConsoleError::Invalid(InvalidInput::new(field, message));
        let kind = ProviderKind::from_stored(input.provider.trim())
            .ok_or_else(|| invalid("provider", "Choose a provider: LOG, ULTRAMSG or META."))?;
        let phone =
            Phone::parse(&input.phone_number, &clinic.settings.default_country).map_err(|e| {
                invalid(
                    "phone_number",
                    &format!("The clinic's WhatsApp number: {}", e.message),
                )
            })?;
        let previous = self
            .account(clinic.id)
            .await?
            .map(|a| a.secrets)
            .unwrap_or_default();
        let keep = |new: &str, old: &str| {
            let new = new.trim();
            if new.is_empty() {
                old.to_owned()
            } else {
                new.to_owned()
            }
        };
        let secrets = Secrets {
            ultramsg_token: keep(&input.ultramsg_token, &previous.ultramsg_token),
            meta_access_token: keep(&input.meta_access_token, &previous.meta_access_token),
            meta_app_secret: keep(&input.meta_app_secret, &previous.meta_app_secret),
            meta_verify_token: keep(&input.meta_verify_token, &previous.meta_verify_token),
            webhook_secret: if previous.webhook_secret.is_empty() {
                secrets::to_hex(&rand::random::<[u8; 16]>())
            } else {
                previous.webhook_secret
            },
        };
        let instance = input.ultramsg_instance.trim().to_owned();
        let meta_id = input.meta_phone_number_id.trim().to_owned();
        match kind {
            ProviderKind::UltraMsg if instance.is_empty() || secrets.ultramsg_token.is_empty() => {
                return Err(invalid(
                    "ultramsg_instance",
                    "UltraMsg needs the instance id and its token.",
                )
                .into());
            }
            ProviderKind::Meta
                if meta_id.is_empty()
                    || secrets.meta_access_token.is_empty()
                    || secrets.meta_app_secret.is_empty()
                    || secrets.meta_verify_token.is_empty() =>
            {
                return Err(invalid(
                    "meta_phone_number_id",
                    "The Meta Cloud API needs the phone number id, an access token, the app secret and a verify token.",
                )
                .into());
            }
            ProviderKind::Meta if !meta_id.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(invalid(
                    "meta_phone_number_id",
                    "Meta's phone number id is a long number, such as 106540352242922.",
                )
                .into());
            }
            _ => {}
        }
        let stored = StoredAccount {
            clinic: clinic.id,
            kind,
            phone_number: phone.as_str().to_owned(),
            ultramsg_instance: instance,
            meta_phone_number_id: if kind == ProviderKind::Meta {
                meta_id
            } else {
                String::new()
            },
            sealed_secrets: self
                .secrets
                .seal(&serde_json::to_string(&secrets).expect("secrets serialize")),
            meta_verify_fingerprint: (kind == ProviderKind::Meta)
                .then(|| self.secrets.fingerprint(&secrets.meta_verify_token)),
        };
        let now = self.now();
        let mut tx = self.store().begin().await?;
        tx.save_whatsapp_account(&stored, now)
            .await
            .map_err(|e| match e.unique_violation() {
                Some(_) => MessagingError::Refused(invalid(
                    "meta_phone_number_id",
                    "Another clinic already uses this Meta phone number id.",
                )),
                None => e.into(),
            })?;
        tx.insert_console_audit(&audit, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Connects a clinic without a provider to the log-only one (the demo clinic), so
    /// its messages show in the outbox and the log from the first run.
    pub async fn connect_log_provider(&self, clinic: &Clinic) -> Result<bool, MessagingError> {
        if self.store().whatsapp_account(clinic.id).await?.is_some() {
            return Ok(false);
        }
        let secrets = Secrets {
            webhook_secret: secrets::to_hex(&rand::random::<[u8; 16]>()),
            ..Secrets::default()
        };
        let stored = StoredAccount {
            clinic: clinic.id,
            kind: ProviderKind::Log,
            phone_number: clinic.contact_phone.clone(),
            ultramsg_instance: String::new(),
            meta_phone_number_id: String::new(),
            sealed_secrets: self
                .secrets
                .seal(&serde_json::to_string(&secrets).expect("secrets serialize")),
            meta_verify_fingerprint: None,
        };
        let now = self.now();
        let mut tx = self.store().begin().await?;
        tx.save_whatsapp_account(&stored, now).await?;
        tx.insert_audit(
            Some(clinic.id),
            None,
            "CONFIGURE_WHATSAPP",
            "LOG",
            None,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Fingerprints the verify token of each Meta account saved before fingerprints
    /// existed, as the server starts, so Meta's handshake finds it; answers how many it
    /// filled in. An account this server's key cannot open is logged and left as it is.
    pub async fn fingerprint_verify_tokens(&self) -> Result<usize, MessagingError> {
        let mut filled = 0;
        for stored in self.store().meta_accounts_without_fingerprint().await? {
            match self.open(&stored) {
                Ok(account) => {
                    let fingerprint = self.secrets.fingerprint(&account.secrets.meta_verify_token);
                    self.store()
                        .set_meta_verify_fingerprint(stored.clinic, &fingerprint)
                        .await?;
                    filled += 1;
                }
                Err(e) => tracing::warn!(
                    clinic = stored.clinic.get(),
                    error = %e,
                    "cannot fingerprint this clinic's Meta verify token: re-enter its secrets"
                ),
            }
        }
        Ok(filled)
    }

    /// Asks the clinic's provider whether the account works.
    pub async fn test_connection(
        &self,
        clinic: ClinicId,
    ) -> Result<Result<String, String>, MessagingError> {
        Ok(match self.account(clinic).await? {
            Some(account) => provider::test_connection(&self.http, &self.endpoints, &account).await,
            None => Err("No WhatsApp provider is configured yet.".to_owned()),
        })
    }
}
