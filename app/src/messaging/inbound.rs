//! A patient wrote to the clinic on WhatsApp. The message is logged once (providers
//! redeliver), opens or extends the phone's 24-hour window, and is answered: the
//! tracker's pre-written message links the phone to its token and gets the welcome;
//! JOIN starts the join bot (queue, then name, then the token); STATUS, CANCEL
//! (confirmed with YES) and STOP are keywords; DELETE (or STOP DATA) asks the clinic to
//! erase the patient's data, recorded for the owner to confirm. A clinic that is suspended or disabled
//! answers nobody, and each phone gets only a few answers (`whatsapp::RecentReplies`);
//! what is left unanswered waits in the desk's inbox. The bot answers in the patient's
//! language (`bot_words`), and a token it makes keeps that language.

use super::bot_words::{self, words, Says};
use super::{MessagingError, Messenger};
use crate::domain::*;
use crate::messages::{compose, MessageKind, TemplateChannel};
use crate::outbox::OutboxKind;
use crate::queue::engine::EngineError;
use crate::storage::{NewMessage, StorageError, Tx};
pub use crate::whatsapp::{click_to_chat, opt_in_text};
use serde::{Deserialize, Serialize};

/// One inbound text message, as the webhooks hand it over.
#[derive(Debug, Clone)]
pub struct Inbound<'a> {
    pub clinic: ClinicId,
    pub provider_message_id: &'a str,
    /// E.164.
    pub phone: &'a str,
    pub body: &'a str,
    /// When the patient wrote it, as the provider says: WhatsApp's 24 hours run from
    /// there, not from a late webhook delivery.
    pub sent_at: Option<Timestamp>,
}

/// What happened, for the webhook's log line and for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Seen before (a provider redelivery): nothing done.
    Duplicate,
    Welcomed(TokenId),
    Status,
    AskedToConfirmCancel,
    Cancelled,
    OptedOut,
    /// The patient asked for their data to be erased; the request waits for the clinic
    /// (`false`: one was already waiting).
    ErasureRequested(bool),
    /// The join bot asked which queue, or the patient's name.
    Asked,
    /// The join bot created this token.
    Joined(TokenId),
    /// Logged and the window extended; nothing to answer.
    Noted,
    /// Not a command: shown on the desk, next to this token (if one is known).
    ForStaff(Option<TokenId>),
    /// A command the bot did not answer; shown on the desk instead.
    Unanswered(Unanswered),
}

/// Why the bot left a command unanswered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unanswered {
    /// The clinic is suspended or disabled: it sends nothing.
    ClinicNotRunning,
    /// The phone has had its answers for now (`whatsapp::REPLIES_PER_MINUTE`,
    /// `REPLIES_PER_DAY`).
    Throttled,
}

/// What a patient's message asks of the bot.
enum Ask {
    /// "HINDI", "ENGLISH": answer in this language from now on (and tell the token so).
    Language(Language, Option<TokenId>),
    /// The tracker's opt-in text: link the phone to this token and welcome it.
    OptIn(PublicId, TokenId),
    /// The answer to "Cancel your token?" about this token.
    CancelAnswer(TokenId),
    Join,
    /// The join bot's next step: the queue's number, or the name.
    JoinStep,
    Status(TokenId),
    Cancel(TokenId),
    /// STATUS or CANCEL from a phone with no token.
    NoToken,
}

/// Where the conversation is, kept in the window row so it survives restarts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct BotState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    confirm_cancel: Option<i64>,
    /// Joining: waiting for the choice of queue.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    choosing_queue: bool,
    /// Joining: the queue chosen, waiting for the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    queue: Option<i64>,
    /// The language the conversation is in: asked for by name, or its first message's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    language: Option<Language>,
}

impl BotState {
    /// A fresh step of the conversation, in its language.
    fn speaking(language: Language) -> Self {
        BotState {
            language: Some(language),
            ..BotState::default()
        }
    }

    fn stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The text the poster's WhatsApp QR code pre-writes.
pub fn join_text(slug: &str) -> String {
    format!("JOIN {slug}")
}

/// Finds a token reference (`ref <public id>`) in a message.
fn reference(body: &str) -> Option<PublicId> {
    let at = body.find("ref ")?;
    let id: String = body[at + 4..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    PublicId::parse(&id)
}

impl Messenger {
    pub async fn handle_inbound(&self, m: &Inbound<'_>) -> Result<Handled, MessagingError> {
        let now = self.now();
        let at = m.sent_at.filter(|t| *t < now).unwrap_or(now);
        let mut tx = self.store().begin().await?;
        let Some(inbound_id) = tx
            .record_inbound(m.clinic, m.provider_message_id, m.phone, m.body, at)
            .await?
        else {
            return Ok(Handled::Duplicate);
        };
        tx.touch_window(m.clinic, m.phone, at).await?;
        let window = tx.window(m.clinic, m.phone).await?.expect("just written");
        let state: BotState = serde_json::from_str(&window.bot_state).unwrap_or_default();
        let word = m.body.trim().to_uppercase();
        // Who the conversation is about: its token, else the phone's latest token of the
        // last day (a patient who joined with this number and writes without the link).
        let linked = match window.token_id {
            Some(token) => Some(TokenId(token)),
            None => {
                let since = Timestamp(now.millis() - crate::whatsapp::WINDOW_MS);
                tx.latest_token_of_phone(m.clinic, m.phone, since).await?
            }
        };
        // The conversation's language: asked for by name, else as it began (its first
        // message's script), else the patient's token's.
        let asked_language = bot_words::asked_for(m.body);
        let lang = match (asked_language, state.language, bot_words::of_script(m.body)) {
            (Some(lang), _, _) | (None, Some(lang), _) | (None, None, Some(lang)) => lang,
            (None, None, None) => match linked {
                Some(token) => tx
                    .token_contact(token)
                    .await?
                    .map_or(Language::En, |c| c.language),
                None => Language::En,
            },
        };
        let state = if state.language == Some(lang) {
            state
        } else {
            let state = BotState {
                language: Some(lang),
                ..state
            };
            tx.set_bot_state(m.clinic, m.phone, &state.stored()).await?;
            state
        };

        if crate::whatsapp::asks_erasure(&word) {
            let new = tx.request_erasure(m.clinic, m.phone, at).await?;
            let answer = self.unanswered(&mut tx, m, now).await?.is_none();
            if answer {
                tx.mark_answered(inbound_id, now).await?;
            }
            tx.commit().await?;
            if answer {
                self.reply_text(m, lang, &Says::ErasureRecorded).await?;
            }
            return Ok(Handled::ErasureRequested(new));
        }
        if word == "STOP" {
            let state = BotState::speaking(lang).stored();
            tx.update_window(m.clinic, m.phone, None, true, &state)
                .await?;
            tx.commit().await?;
            return Ok(Handled::OptedOut);
        }
        let ask = match asked_language {
            Some(lang) => Some(Ask::Language(lang, linked)),
            None => self.asked(m, &word, &state, linked).await?,
        };
        let Some(ask) = ask else {
            tx.mark_for_staff(inbound_id, linked).await?;
            tx.commit().await?;
            return Ok(Handled::ForStaff(linked));
        };
        // An answer is a message the clinic sends: none while it is not running on Qline,
        // and only a few to each phone. What was not answered waits in the desk's inbox.
        if let Some(reason) = self.unanswered(&mut tx, m, now).await? {
            tx.mark_for_staff(inbound_id, linked).await?;
            tx.commit().await?;
            return Ok(Handled::Unanswered(reason));
        }
        tx.mark_answered(inbound_id, now).await?;
        let fresh = BotState::speaking(lang).stored();
        match ask {
            Ask::Language(lang, token) => {
                tx.update_window(m.clinic, m.phone, None, false, &fresh)
                    .await?;
                tx.commit().await?;
                // The patient's token speaks it too: its messages and its tracker.
                if let Some(token) = token {
                    self.store().set_token_language(token, lang).await?;
                }
                self.reply_text(m, lang, &Says::SpeaksNow).await?;
                Ok(Handled::Noted)
            }
            Ask::OptIn(public_id, token) => {
                tx.update_window(m.clinic, m.phone, Some(token), false, &fresh)
                    .await?;
                tx.commit().await?;
                self.reply_with(m, lang, MessageKind::Welcome, &public_id)
                    .await?;
                Ok(Handled::Welcomed(token))
            }
            Ask::CancelAnswer(token) => {
                tx.update_window(m.clinic, m.phone, None, false, &fresh)
                    .await?;
                tx.commit().await?;
                if word == "YES" || word == "हाँ" || word == "HAAN" {
                    let public_id = self.public_id_of(token).await?;
                    let cancelled = match &public_id {
                        Some(id) => self.engine.cancel_by_patient(id, None).await.is_ok(),
                        None => false,
                    };
                    let says = if cancelled {
                        Says::Cancelled
                    } else {
                        Says::CannotCancel
                    };
                    self.reply_text(m, lang, &says).await?;
                    return Ok(Handled::Cancelled);
                }
                self.reply_text(m, lang, &Says::TokenKept).await?;
                Ok(Handled::Noted)
            }
            Ask::Join => self.start_join(m, tx, lang).await,
            Ask::JoinStep => self.continue_join(m, tx, state, lang).await,
            Ask::Status(token) => {
                tx.commit().await?;
                if let Some(public_id) = self.public_id_of(token).await? {
                    self.reply_with(m, lang, MessageKind::TokenCreated, &public_id)
                        .await?;
                }
                Ok(Handled::Status)
            }
            Ask::Cancel(token) => {
                let state = BotState {
                    confirm_cancel: Some(token.get()),
                    ..BotState::speaking(lang)
                };
                tx.update_window(m.clinic, m.phone, None, false, &state.stored())
                    .await?;
                tx.commit().await?;
                self.reply_text(m, lang, &Says::ConfirmCancel).await?;
                Ok(Handled::AskedToConfirmCancel)
            }
            Ask::NoToken => {
                tx.commit().await?;
                self.reply_text(m, lang, &Says::NoToken).await?;
                Ok(Handled::Noted)
            }
        }
    }

    /// What a message asks of the bot, in this order: the tracker's opt-in (a reference
    /// to one of this clinic's tokens), the answer to "cancel?", JOIN, the join bot's next
    /// step, STATUS and CANCEL. `None`: a message for the desk.
    async fn asked(
        &self,
        m: &Inbound<'_>,
        word: &str,
        state: &BotState,
        linked: Option<TokenId>,
    ) -> Result<Option<Ask>, StorageError> {
        if let Some(public_id) = reference(m.body) {
            let found = self.store().token_ref(&public_id).await?;
            if let Some(token) = found.filter(|t| t.clinic == m.clinic) {
                return Ok(Some(Ask::OptIn(public_id, token.id)));
            }
        }
        Ok(if let Some(token) = state.confirm_cancel {
            Some(Ask::CancelAnswer(TokenId(token)))
        } else if word == "JOIN" || word.starts_with("JOIN ") {
            Some(Ask::Join)
        } else if state.choosing_queue || state.queue.is_some() {
            Some(Ask::JoinStep)
        } else {
            match (word, linked) {
                ("STATUS", Some(token)) => Some(Ask::Status(token)),
                ("CANCEL", Some(token)) => Some(Ask::Cancel(token)),
                ("STATUS" | "CANCEL", None) => Some(Ask::NoToken),
                _ => None,
            }
        })
    }

    /// Why the bot must not answer this message, if it must not. The phone's window row,
    /// written in `tx`, holds its other messages back until `tx` ends, so two at once
    /// cannot both take the last answer.
    async fn unanswered(
        &self,
        tx: &mut Tx,
        m: &Inbound<'_>,
        now: Timestamp,
    ) -> Result<Option<Unanswered>, StorageError> {
        let clinic = self.store().clinic(m.clinic).await?;
        if !clinic.is_some_and(|c| c.status.accepts_work()) {
            return Ok(Some(Unanswered::ClinicNotRunning));
        }
        let recent = tx
            .answered_since(
                m.clinic,
                m.phone,
                now.minus_minutes(1),
                now.minus_minutes(24 * 60),
            )
            .await?;
        Ok((!recent.allow_another()).then_some(Unanswered::Throttled))
    }

    /// JOIN: asks for the queue when the clinic has several, else for the name.
    async fn start_join(
        &self,
        m: &Inbound<'_>,
        mut tx: Tx,
        lang: Language,
    ) -> Result<Handled, MessagingError> {
        let queues = self.store().queues_of(m.clinic).await?;
        let (state, question) = match queues.as_slice() {
            [] => {
                tx.commit().await?;
                self.reply_text(m, lang, &Says::NotTakingTokens).await?;
                return Ok(Handled::Noted);
            }
            [only] => (
                BotState {
                    queue: Some(only.id.get()),
                    ..BotState::speaking(lang)
                },
                Says::AskName,
            ),
            several => (
                BotState {
                    choosing_queue: true,
                    ..BotState::speaking(lang)
                },
                Says::ChooseQueue(several.iter().map(|q| q.name.clone()).collect()),
            ),
        };
        tx.update_window(m.clinic, m.phone, None, false, &state.stored())
            .await?;
        tx.commit().await?;
        self.reply_text(m, lang, &question).await?;
        Ok(Handled::Asked)
    }

    /// The join bot's next step: the queue's number, then the name, then the token.
    async fn continue_join(
        &self,
        m: &Inbound<'_>,
        mut tx: Tx,
        state: BotState,
        lang: Language,
    ) -> Result<Handled, MessagingError> {
        let queues = self.store().queues_of(m.clinic).await?;
        if state.choosing_queue {
            let answer = m.body.trim();
            let chosen = answer
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| queues.get(i))
                .or_else(|| queues.iter().find(|q| q.name.eq_ignore_ascii_case(answer)));
            let Some(queue) = chosen else {
                tx.commit().await?;
                self.reply_text(m, lang, &Says::ChooseNumber(queues.len()))
                    .await?;
                return Ok(Handled::Asked);
            };
            let next = BotState {
                queue: Some(queue.id.get()),
                ..BotState::speaking(lang)
            };
            tx.update_window(m.clinic, m.phone, None, false, &next.stored())
                .await?;
            tx.commit().await?;
            self.reply_text(m, lang, &Says::ThanksAskName).await?;
            return Ok(Handled::Asked);
        }
        let queue = QueueId(state.queue.unwrap_or_default());
        if let Err(e) = PatientName::parse(m.body) {
            tx.commit().await?;
            self.reply_text(m, lang, &Says::NameAgain(e.message))
                .await?;
            return Ok(Handled::Asked);
        }
        // The conversation ends here whatever the answer, so a refusal does not loop.
        let done = BotState::speaking(lang).stored();
        tx.update_window(m.clinic, m.phone, None, false, &done)
            .await?;
        tx.commit().await?;
        let request = crate::queue::engine::JoinRequest {
            queue_id: queue,
            name: m.body.trim().to_owned(),
            phone: Some(m.phone.to_owned()),
            language: lang,
            emergency: false,
        };
        match self
            .engine
            .create_token(crate::queue::engine::Actor::Bot, request)
            .await
        {
            // The token's own message ("your token is…", with the tracker link) is queued
            // by the engine in the same transaction: the window is open.
            Ok(applied) => Ok(applied
                .created
                .map(|(id, _, _)| Handled::Joined(id))
                .unwrap_or(Handled::Noted)),
            Err(EngineError::Refused(refusal)) => {
                self.reply_text(m, lang, &Says::Refused(refusal)).await?;
                Ok(Handled::Noted)
            }
            Err(EngineError::Storage(e)) => Err(e.into()),
        }
    }

    pub(super) async fn public_id_of(
        &self,
        token: TokenId,
    ) -> Result<Option<PublicId>, StorageError> {
        let contact = self.store().token_contact(token).await?;
        Ok(contact.map(|c| c.public_id))
    }

    /// Queues a templated reply about a token (welcome, status), in the conversation's
    /// language.
    async fn reply_with(
        &self,
        m: &Inbound<'_>,
        lang: Language,
        kind: MessageKind,
        public_id: &PublicId,
    ) -> Result<(), MessagingError> {
        // A token that has gone since the patient wrote gets no reply about it.
        let mut view = match self.engine.tracker(public_id).await {
            Ok(view) => view,
            Err(EngineError::Refused(_)) => return Ok(()),
            Err(EngineError::Storage(e)) => return Err(e.into()),
        };
        let mut tx = self.store().begin().await?;
        let token = self.store().token_ref(public_id).await?.map(|t| t.id);
        let name = match token {
            Some(t) => tx
                .token_contact(t)
                .await?
                .map(|c| c.name)
                .unwrap_or_default(),
            None => String::new(),
        };
        let link = format!("{}/t/{public_id}", self.engine.public_url());
        let channel = TemplateChannel::WhatsApp;
        view.language = lang;
        let own = tx.template(m.clinic, kind, channel, lang).await?;
        let body = compose(kind, channel, own.as_deref(), &view, &name, &link);
        tx.enqueue_message(
            &NewMessage::conversation(
                m.clinic,
                token,
                m.phone,
                OutboxKind::Notice(kind),
                view.language,
                &body,
            ),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Queues the bot's answer, in the conversation's language.
    async fn reply_text(
        &self,
        m: &Inbound<'_>,
        lang: Language,
        says: &Says,
    ) -> Result<(), MessagingError> {
        let text = words(lang, says);
        let mut tx = self.store().begin().await?;
        tx.enqueue_message(
            &NewMessage::conversation(m.clinic, None, m.phone, OutboxKind::BotReply, lang, &text),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A provider's delivery report, through the clinic's own webhook, for a message it
    /// accepted: `false` when no message of that clinic has this id.
    pub async fn handle_status(
        &self,
        clinic: ClinicId,
        provider_message_id: &str,
        status: &str,
        error: &str,
    ) -> Result<bool, MessagingError> {
        Ok(self
            .store()
            .record_delivery(clinic, provider_message_id, status, error)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_opt_in_text_carries_a_reference_that_reads_back() {
        let id = PublicId::parse("8787bjioWKCV4dJ9X0IJx7").unwrap();
        let text = opt_in_text("A-3", &id);
        assert_eq!(reference(&text), Some(id));
        assert_eq!(reference("hello"), None);
    }
}
