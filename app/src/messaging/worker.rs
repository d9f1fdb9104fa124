//! The outbox worker: claims due messages under a lease, tries each on its current
//! channel, and settles what happened (sent, again later, the next channel in its chain,
//! or the end of the chain) with the attempt recorded.

use super::provider::{self, Account, Outgoing, SendError};
use super::sms::{self, SmsAccount};
use super::{push, Messenger, MAX_ATTEMPTS};
use crate::console::ProviderKind;
use crate::domain::*;
use crate::messages::{Channel, MessageKind};
use crate::queue::engine::{Engine, EngineError};
use crate::storage::{ClaimedMessage, Settle, StorageError};
use crate::whatsapp::Reach;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A clinic as one outbox batch sends for it.
struct Sender {
    clinic: Option<Clinic>,
    account: Result<Option<Account>, String>,
    sms: Result<Option<SmsAccount>, String>,
}

impl Sender {
    /// Who carries a message on `channel`, as the send metrics name it.
    fn provider(&self, channel: Channel) -> &'static str {
        match channel {
            Channel::Push => "WEBPUSH",
            Channel::WhatsApp => match &self.account {
                Ok(Some(account)) => account.kind.as_str(),
                _ => "NONE",
            },
            Channel::Sms => match &self.sms {
                Ok(Some(_)) => "SMS",
                _ => "NONE",
            },
        }
    }
}

/// What one try on one channel came to.
enum Try {
    Sent { id: String, cost_units: u32 },
    Retry(String),
    Failed(String),
    Skipped(String),
}

/// Sends in flight at once on one instance. Each message takes a slot of its own and a
/// freed slot is filled at once, so a provider that is slow to answer (up to its 10 s
/// timeout) holds up only the slots it is in, never the messages behind it.
const SENDS_AT_ONCE: usize = 8;

/// How long a push service keeps an alert for a phone that is off: a "your turn" that
/// arrives later than this is no use.
const PUSH_TTL_SECS: u32 = 15 * 60;

impl Messenger {
    /// Sends until stopped: claims due messages as slots free up (looking again every
    /// half second), up to `SENDS_AT_ONCE` in flight. On stop it claims nothing more and
    /// finishes the sends under way, so no claim is left to wait out its lease.
    pub async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        // Each send is a task of its own, so it goes on (and settles, which on SQLite
        // takes the write lock) while this loop waits to claim more.
        let mut sending = tokio::task::JoinSet::new();
        while !*stop.borrow() {
            while sending.try_join_next().is_some() {}
            let free = SENDS_AT_ONCE - sending.len();
            if free > 0 {
                match self.claim(free as u32).await {
                    Ok(claimed) => {
                        for (m, sender) in claimed {
                            let messenger = self.clone();
                            sending.spawn(async move { messenger.deliver_logged(m, sender).await });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "outbox worker could not read the outbox"),
                }
            }
            let settled = async {
                if sending.is_empty() {
                    std::future::pending::<()>().await;
                } else {
                    sending.join_next().await;
                }
            };
            tokio::select! {
                _ = settled => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                // A dropped sender means stop, as `true` does.
                changed = stop.changed() => if changed.is_err() { break },
            }
        }
        while sending.join_next().await.is_some() {}
    }

    /// Claims and sends one batch of due messages (up to `batch`), several at a time.
    /// Returns how many it handled.
    pub async fn work_once(&self) -> Result<usize, StorageError> {
        let claimed = self.claim(self.batch).await?;
        let count = claimed.len();
        let mut sends = futures::stream::iter(
            claimed
                .into_iter()
                .map(|(m, sender)| async move { self.deliver(m, &sender).await }),
        )
        .buffer_unordered(SENDS_AT_ONCE);
        while let Some(result) = sends.next().await {
            result?;
        }
        Ok(count)
    }

    /// Takes up to `limit` due messages under the lease (first settling any whose worker
    /// died during their last attempt), each with what sending for its clinic needs.
    async fn claim(&self, limit: u32) -> Result<Vec<(ClaimedMessage, Arc<Sender>)>, StorageError> {
        let now = self.now();
        if !self.store().outbox_has_work(now).await? {
            return Ok(Vec::new());
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
            .claim_messages(limit, now, self.lease.as_millis() as i64)
            .await?;
        // Each clinic is read once, with the accounts (secrets opened) of the channels
        // its messages are on.
        let on = |clinic: ClinicId, channel: Channel| {
            claimed
                .iter()
                .any(|c| c.clinic == clinic && c.channel == channel)
        };
        let mut senders: HashMap<ClinicId, Arc<Sender>> = HashMap::new();
        for m in &claimed {
            if !senders.contains_key(&m.clinic) {
                let sender = self
                    .sender(
                        m.clinic,
                        on(m.clinic, Channel::WhatsApp),
                        on(m.clinic, Channel::Sms),
                    )
                    .await?;
                senders.insert(m.clinic, Arc::new(sender));
            }
        }
        Ok(claimed
            .into_iter()
            .map(|m| {
                let sender = senders[&m.clinic].clone();
                (m, sender)
            })
            .collect())
    }

    /// `deliver`, with a failure to record the outcome logged: the claim then runs out
    /// and the message is tried again.
    async fn deliver_logged(&self, m: ClaimedMessage, sender: Arc<Sender>) {
        let id = m.id;
        if let Err(e) = self.deliver(m, &sender).await {
            tracing::warn!(message = id, error = %e, "could not record a send; it is tried again after its lease");
        }
    }

    /// What sending for a clinic needs: the clinic, and the accounts asked for with
    /// secrets opened (or why there is none).
    async fn sender(
        &self,
        clinic: ClinicId,
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
        let now = self.now();
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
        let (outcome, provider) = (outcome.name(), sender.provider(channel));
        metrics::counter!("qline_sends_total", "channel" => channel.as_str(), "provider" => provider, "outcome" => outcome)
            .increment(1);
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
        let now = self.now();
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
            params = match self.template_params(m, window.is_some()).await? {
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
        let today = Engine::local_date(clinic, self.now());
        let limit = clinic.settings.daily_message_limit;
        if !self
            .store()
            .take_message_quota(clinic.id, today, limit)
            .await?
        {
            return Ok(Try::Failed(format!(
                "the clinic's daily message limit ({limit}) is reached"
            )));
        }
        let sent = send.await;
        if sent.is_err() {
            self.store().return_message_quota(clinic.id, today).await?;
        }
        Ok(match sent {
            Ok(id) => Try::Sent { id, cost_units },
            Err(SendError::Retryable(e)) => Try::Retry(e),
            Err(SendError::Final(e)) => Try::Failed(e),
        })
    }

    /// A template's parameters: patient name (the token number for a name a stranger
    /// may have typed, `Contact::name_to_send`), token, clinic, tracker link; `None` when
    /// the token is gone (a template is never sent with blanks).
    async fn template_params(
        &self,
        m: &ClaimedMessage,
        phone_wrote: bool,
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
        let name = contact
            .name_to_send(phone_wrote)
            .unwrap_or(&view.token)
            .to_owned();
        Ok(Some(vec![name, view.token, view.clinic_name, link]))
    }
}
