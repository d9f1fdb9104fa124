//! "Find my token": a patient on another device (the QR scanner's browser was closed)
//! asks for their tracker link by mobile number. The link is *sent* to that number on the
//! clinic's own channels (its open WhatsApp window, an approved template, or SMS), never
//! shown on screen. Every request gets the same answer whether the number holds a token
//! or not, and the search and the send run after that answer has gone, so neither what
//! it says nor how long it takes tells anything about the number. Requests are limited
//! per network, and each number gets a few links a day.

use super::transaction::outbox_rows;
use super::{Engine, EngineError};
use crate::domain::*;
use crate::messages::MessageKind;
use crate::queue::notices::{self, Notice};
use crate::queue::QueueError;

/// Five lookups from one network are free; then a minute's wait, doubling to an hour;
/// a quiet hour forgets them.
pub const LOOKUP_TRIES: Backoff = Backoff {
    free: 5,
    first_wait_secs: 60,
    max_wait_secs: 3_600,
    forget_after_secs: 3_600,
};

/// Links one clinic sends one number in 24 hours at most.
pub const LINKS_PER_PHONE_PER_DAY: u32 = 3;

/// An accepted request, to run once it has been answered (`send`).
#[derive(Debug)]
pub struct LinkLookup {
    engine: Engine,
    clinic: Clinic,
    phone: Phone,
}

impl Engine {
    /// Takes a request for the link of `typed_phone`'s token at the clinic `slug`: a
    /// number that is not one is refused (it says nothing about tokens), and so is a
    /// network past its tries.
    pub async fn find_token(
        &self,
        slug: &str,
        typed_phone: &str,
        ip: Option<&str>,
    ) -> Result<LinkLookup, EngineError> {
        let (clinic, _) = self.join_info(slug).await?;
        let phone = Phone::parse(typed_phone.trim(), &clinic.settings.default_country)?;
        self.lookup_tries
            .take(ip.unwrap_or("unknown"), self.now())
            .map_err(|wait_secs| QueueError::TooManyLookups { wait_secs })?;
        Ok(LinkLookup {
            engine: self.clone(),
            clinic,
            phone,
        })
    }
}

impl LinkLookup {
    /// Sends the number the link of its token today that is waiting or being served,
    /// when it has one, the clinic can reach it and it has not had its links for the
    /// day. Whether a message was queued, for tests and logs only.
    pub async fn send(self) -> Result<bool, EngineError> {
        let Self {
            engine,
            clinic,
            phone,
        } = self;
        let store = engine.store();
        let now = engine.now();
        if !clinic.status.accepts_work() {
            return Ok(false);
        }
        let date = Engine::local_date(&clinic, now);
        let Some(public_id) = store.live_token_of_phone(clinic.id, &phone, date).await? else {
            return Ok(false);
        };
        let found = engine.token_ref(&public_id).await?;
        let seen = engine.seen_day(&found).await?;
        let notice = Notice {
            token: found.id,
            kind: MessageKind::Link,
        };
        // Counted in the transaction that queues the link, so requests at once keep to
        // the day's limit too.
        let mut tx = store.begin().await?;
        let since = now.minus_minutes(24 * 60);
        if tx.links_sent_since(clinic.id, &phone, since).await? >= LINKS_PER_PHONE_PER_DAY {
            tx.rollback().await?;
            return Ok(false);
        }
        let channels = tx.clinic_channels(clinic.id).await?;
        let needs = channels.needs(&seen.clinic, notice);
        let recipients = tx.recipients(clinic.id, &[(notice, needs)]).await?;
        let plan = notices::plan(
            &seen.clinic,
            &seen.queue,
            &seen.day,
            &channels,
            &recipients,
            engine.public_url(),
            now,
        );
        let messages = outbox_rows(clinic.id, &plan.messages);
        if messages.is_empty() {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.enqueue_messages(&messages, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}
