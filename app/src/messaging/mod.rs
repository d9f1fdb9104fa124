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

pub mod inbound;
pub mod inbox;
pub mod provider;
pub mod push;
pub mod secrets;
pub mod sms;
pub mod webhooks;

use crate::console::{ConsoleError, ProviderKind, WhatsAppInput, WhatsAppView};
use crate::domain::*;
use crate::messages::{Channel, MessageKind};
use crate::queue::engine::{Engine, EngineError};
use crate::storage::{ClaimedMessage, Settle, StorageError, Store, StoredAccount};
use crate::whatsapp::Reach;
use provider::{Account, Endpoints, Outgoing, Secrets, SendError};
use secrets::SecretBox;
use sms::SmsAccount;
use std::collections::HashMap;
use std::time::Duration;

/// A clinic as one outbox batch sends for it.
struct Sender {
    clinic: Option<Clinic>,
    account: Result<Option<Account>, String>,
    sms: Result<Option<SmsAccount>, String>,
}

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

/// What one try on one channel came to.
enum Try {
    Sent { id: String, cost_units: u32 },
    Retry(String),
    Failed(String),
    Skipped(String),
}

/// How long a push service keeps an alert for a phone that is off: a "your turn" that
/// arrives later than this is no use.
const PUSH_TTL_SECS: u32 = 15 * 60;

/// Attempts per message before it is marked permanently failed.
pub const MAX_ATTEMPTS: i32 = 3;

/// Everything WhatsApp needs, shared by the worker, the webhooks and the consoles.
#[derive(Clone, Debug)]
pub struct Messenger {
    pub engine: Engine,
    pub secrets: SecretBox,
    pub endpoints: Endpoints,
    /// `None`: this server sends no web push (the tracker offers no alerts).
    pub push: Option<WebPush>,
    pub http: reqwest::Client,
    /// How long a worker's claim on a message lasts.
    pub lease: Duration,
    /// Messages sent at once.
    pub batch: u32,
    /// The wait before the first retry; each later one waits four times longer.
    pub retry_base: Duration,
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

    pub async fn account(&self, clinic: BusinessId) -> Result<Option<Account>, MessagingError> {
        match self.store().whatsapp_account(clinic).await? {
            Some(stored) => Ok(Some(self.open(&stored)?)),
            None => Ok(None),
        }
    }

    /// The clinic's connection as its settings page shows it.
    pub async fn view(&self, clinic: &Clinic) -> Result<WhatsAppView, MessagingError> {
        let account = self.account(clinic.id).await?;
        let today = Engine::local_date(clinic, Timestamp::now());
        let messages_today = self.store().message_quota_used(clinic.id, &today).await?;
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
            business_id: clinic.id,
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
        };
        let now = Timestamp::now();
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
            business_id: clinic.id,
            kind: ProviderKind::Log,
            phone_number: clinic.contact_phone.clone(),
            ultramsg_instance: String::new(),
            meta_phone_number_id: String::new(),
            sealed_secrets: self
                .secrets
                .seal(&serde_json::to_string(&secrets).expect("secrets serialize")),
        };
        let now = Timestamp::now();
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

    /// Asks the clinic's provider whether the account works.
    pub async fn test_connection(
        &self,
        clinic: BusinessId,
    ) -> Result<Result<String, String>, MessagingError> {
        Ok(match self.account(clinic).await? {
            Some(account) => provider::test_connection(&self.http, &self.endpoints, &account).await,
            None => Err("No WhatsApp provider is configured yet.".to_owned()),
        })
    }

    /// Sends until stopped: every half second, the due messages, several at a time.
    pub async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            match self.work_once().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "outbox worker could not read the outbox"),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// Claims and sends one batch of due messages. Returns how many it handled.
    pub async fn work_once(&self) -> Result<usize, StorageError> {
        let now = Timestamp::now();
        if !self.store().outbox_has_work(now).await? {
            return Ok(0);
        }
        for m in self.store().abandoned_messages(MAX_ATTEMPTS, now).await? {
            let outcome = Settle::Failed {
                error: "no answer after the last attempt (the worker stopped mid-send)",
                next: m.channel.after(m.kind.notice()),
            };
            self.store()
                .settle_message(&m, m.channel, &outcome, now)
                .await?;
        }
        let claimed = self
            .store()
            .claim_messages(self.batch, now, self.lease.as_millis() as i64)
            .await?;
        let count = claimed.len();
        // Each clinic in the batch is read once, with the accounts (secrets opened) of
        // the channels its messages are on.
        let mut senders: HashMap<i64, Sender> = HashMap::new();
        for m in &claimed {
            if !senders.contains_key(&m.business_id) {
                let on = |channel: Channel| {
                    claimed
                        .iter()
                        .any(|c| c.business_id == m.business_id && c.channel == channel)
                };
                let sender = self
                    .sender(
                        BusinessId(m.business_id),
                        on(Channel::WhatsApp),
                        on(Channel::Sms),
                    )
                    .await?;
                senders.insert(m.business_id, sender);
            }
        }
        let sends = claimed.into_iter().map(|m| {
            let sender = &senders[&m.business_id];
            self.deliver(m, sender)
        });
        for result in futures::future::join_all(sends).await {
            result?;
        }
        Ok(count)
    }

    /// What sending for a clinic needs: the clinic, and the accounts asked for with
    /// secrets opened (or why there is none).
    async fn sender(
        &self,
        clinic: BusinessId,
        whatsapp: bool,
        sms: bool,
    ) -> Result<Sender, StorageError> {
        let clinic_row = self.store().clinic(clinic).await?;
        let account = match &clinic_row {
            Some(_) if whatsapp => self.account(clinic).await.map_err(|e| e.to_string()),
            _ => Ok(None),
        };
        let sms = match &clinic_row {
            Some(_) if sms => self.sms_account(clinic).await.map_err(|e| e.to_string()),
            _ => Ok(None),
        };
        Ok(Sender {
            clinic: clinic_row,
            account,
            sms,
        })
    }

    /// Tries the message on its current channel; what happens next (done, again later,
    /// the next channel in its chain, or the end of the chain) is settled with the
    /// attempt recorded.
    async fn deliver(&self, m: ClaimedMessage, sender: &Sender) -> Result<(), StorageError> {
        let kind = m.kind.notice();
        let channel = m.channel;
        let next = channel.after(kind);
        let tried = match &sender.clinic {
            None => Try::Skipped("the clinic no longer exists".into()),
            Some(clinic) => match channel {
                Channel::Push => self.try_push(&m, clinic).await?,
                Channel::WhatsApp => self.try_whatsapp(&m, clinic, sender, kind).await?,
                Channel::Sms => self.try_sms(&m, clinic, sender, kind).await?,
            },
        };
        let now = Timestamp::now();
        // 2 s, then 8 s (with the default base).
        let backoff =
            self.retry_base.as_millis() as i64 * 4_i64.pow((m.attempts - 1).max(0) as u32);
        let outcome = match &tried {
            Try::Sent { id, cost_units } => Settle::Sent {
                provider_id: id,
                cost_units: *cost_units,
            },
            Try::Retry(error) if m.attempts < MAX_ATTEMPTS => Settle::Retry {
                at: Timestamp(now.millis() + backoff),
                error,
            },
            Try::Retry(error) | Try::Failed(error) => Settle::Failed { error, next },
            Try::Skipped(reason) => Settle::Skipped { reason, next },
        };
        let settled = self
            .store()
            .settle_message(&m, channel, &outcome, now)
            .await?;
        if !settled {
            tracing::warn!(
                message = m.id,
                "another worker took this message over; its outcome is theirs"
            );
        }
        Ok(())
    }

    /// Web push to every browser the patient subscribed on the tracker; a subscription
    /// the push service reports gone is deleted.
    async fn try_push(&self, m: &ClaimedMessage, clinic: &Clinic) -> Result<Try, StorageError> {
        let Some(web_push) = &self.push else {
            return Ok(Try::Skipped("web push is not set up on this server".into()));
        };
        let Some(token) = m.token_id.map(TokenId) else {
            return Ok(Try::Skipped("not about a token".into()));
        };
        let subscriptions = self.store().push_subscriptions(token).await?;
        if subscriptions.is_empty() {
            return Ok(Try::Skipped("the patient did not switch on alerts".into()));
        }
        let public_id = self.public_id_of(token).await?;
        let payload = serde_json::json!({
            "title": clinic.name,
            "body": if m.short_body.is_empty() { &m.body } else { &m.short_body },
            "url": public_id.map(|id| format!("/t/{id}")).unwrap_or_default(),
            "tag": format!("qline-{}", token.get()),
        })
        .to_string();
        // Every browser at once: one slow push service must not hold up the others.
        let sends = subscriptions.into_iter().map(|row| {
            let payload = payload.as_bytes();
            async move {
                let subscription = push::Subscription::parse(&row.endpoint, &row.p256dh, &row.auth)
                    .ok()
                    .filter(|s| web_push.allows(&s.endpoint));
                let outcome = match subscription {
                    // Stored before the rules changed, or otherwise unusable: forgotten.
                    None => push::PushOutcome::Gone("not a push service Qline sends to".into()),
                    Some(subscription) => {
                        push::send(
                            &self.http,
                            &web_push.vapid,
                            &web_push.subject,
                            &subscription,
                            payload,
                            PUSH_TTL_SECS,
                        )
                        .await
                    }
                };
                (row.id, outcome)
            }
        });
        let (mut sent, mut retry, mut errors) = (false, false, Vec::new());
        for (id, outcome) in futures::future::join_all(sends).await {
            match outcome {
                push::PushOutcome::Sent => sent = true,
                push::PushOutcome::Gone(why) => {
                    self.store().delete_push_subscription(id).await?;
                    errors.push(format!("subscription gone ({why})"));
                }
                push::PushOutcome::Retryable(why) => {
                    retry = true;
                    errors.push(why);
                }
                push::PushOutcome::Final(why) => errors.push(why),
            }
        }
        Ok(if sent {
            Try::Sent {
                id: String::new(),
                cost_units: 0,
            }
        } else if retry {
            Try::Retry(errors.join("; "))
        } else if errors.is_empty() {
            Try::Skipped("the patient did not switch on alerts".into())
        } else {
            Try::Failed(errors.join("; "))
        })
    }

    async fn try_whatsapp(
        &self,
        m: &ClaimedMessage,
        clinic: &Clinic,
        sender: &Sender,
        kind: Option<MessageKind>,
    ) -> Result<Try, StorageError> {
        let account = match &sender.account {
            Ok(Some(a)) => a,
            Ok(None) => return Ok(Try::Skipped("no WhatsApp provider is configured".into())),
            Err(e) => return Ok(Try::Failed(e.clone())),
        };
        if !clinic.settings.whatsapp_enabled {
            return Ok(Try::Skipped(
                "WhatsApp is switched off for this clinic".into(),
            ));
        }
        if m.phone.is_empty() {
            return Ok(Try::Skipped("the patient gave no phone number".into()));
        }
        // The rules are checked again at sending time: a window may have closed, or the
        // patient sent STOP, since the message was queued.
        let now = Timestamp::now();
        let window = self.store().window_of(clinic.id, &m.phone).await?;
        let templates_allowed = clinic.settings.whatsapp_template_mode
            && account.kind == ProviderKind::Meta
            && kind.is_some();
        let reach = Reach::of(window.as_ref(), templates_allowed, now);
        match reach {
            Reach::OptedOut => return Ok(Try::Skipped("the patient sent STOP".into())),
            Reach::NoWindow => {
                return Ok(Try::Skipped("no open 24-hour conversation window".into()))
            }
            Reach::FreeForm | Reach::Template => {}
        }
        let reference = m.id.to_string();
        let template_name;
        let params;
        let message = if reach == Reach::FreeForm {
            Outgoing::Text {
                to: &m.phone,
                body: &m.body,
                reference: &reference,
            }
        } else {
            let kind = kind.expect("templates are allowed only for template kinds");
            template_name = kind.meta_template();
            params = match self.template_params(m).await? {
                Some(params) => params,
                None => {
                    return Ok(Try::Failed(
                        "the token is gone: nothing to fill the template in with".into(),
                    ))
                }
            };
            Outgoing::Template {
                to: &m.phone,
                name: &template_name,
                language: if m.language == Language::Hi {
                    "hi"
                } else {
                    "en"
                },
                params: &params,
                reference: &reference,
            }
        };
        let cost_units = u32::from(reach == Reach::Template);
        let send = provider::send(&self.http, &self.endpoints, account, &message);
        self.within_limit(clinic, cost_units, send).await
    }

    /// SMS, the last resort, for "your turn" only: it costs the clinic per segment.
    async fn try_sms(
        &self,
        m: &ClaimedMessage,
        clinic: &Clinic,
        sender: &Sender,
        kind: Option<MessageKind>,
    ) -> Result<Try, StorageError> {
        if !kind.is_some_and(MessageKind::critical) {
            return Ok(Try::Skipped("SMS is kept for \"your turn\"".into()));
        }
        let account = match &sender.sms {
            Ok(Some(a)) => a,
            Ok(None) => return Ok(Try::Skipped("no SMS provider is configured".into())),
            Err(e) => return Ok(Try::Failed(e.clone())),
        };
        if m.phone.is_empty() {
            return Ok(Try::Skipped("the patient gave no phone number".into()));
        }
        let text = if m.short_body.is_empty() {
            &m.body
        } else {
            &m.short_body
        };
        let send = sms::send(&self.http, &self.endpoints.sms, account, &m.phone, text);
        self.within_limit(clinic, crate::messages::sms_segments(text), send)
            .await
    }

    /// Sends a message the clinic's daily allowance pays for (WhatsApp, SMS): takes one
    /// from the allowance first, and gives it back when the provider did not take it.
    async fn within_limit(
        &self,
        clinic: &Clinic,
        cost_units: u32,
        send: impl std::future::Future<Output = Result<String, SendError>>,
    ) -> Result<Try, StorageError> {
        let today = Engine::local_date(clinic, Timestamp::now());
        let limit = clinic.settings.daily_message_limit;
        if !self
            .store()
            .take_message_quota(clinic.id, &today, limit)
            .await?
        {
            return Ok(Try::Failed(format!(
                "the clinic's daily message limit ({limit}) is reached"
            )));
        }
        let sent = send.await;
        if sent.is_err() {
            self.store().return_message_quota(clinic.id, &today).await?;
        }
        Ok(match sent {
            Ok(id) => Try::Sent { id, cost_units },
            Err(SendError::Retryable(e)) => Try::Retry(e),
            Err(SendError::Final(e)) => Try::Failed(e),
        })
    }

    /// A template's parameters: patient name, token, clinic, tracker link; `None` when
    /// the token is gone (a template is never sent with blanks).
    async fn template_params(
        &self,
        m: &ClaimedMessage,
    ) -> Result<Option<Vec<String>>, StorageError> {
        let Some(token) = m.token_id else {
            return Ok(None);
        };
        let Some(contact) = self.store().token_contact(TokenId(token)).await? else {
            return Ok(None);
        };
        let view = match self.engine.tracker(&contact.public_id).await {
            Ok(view) => view,
            Err(EngineError::Refused(_)) => return Ok(None),
            Err(EngineError::Storage(e)) => return Err(e),
        };
        let link = format!("{}/t/{}", self.engine.public_url(), contact.public_id);
        Ok(Some(vec![contact.name, view.token, view.clinic_name, link]))
    }
}
