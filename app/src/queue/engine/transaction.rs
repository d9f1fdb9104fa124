//! One queue action as one transaction: lock the queue day, load it (teaching a day that
//! has just opened its history), let the pure rules decide, plan who to tell what, then
//! write the decision, its messages and its audit row and commit, together. A refusal
//! rolls back and writes nothing.

use super::{Engine, EngineError};
use crate::domain::eta::History;
use crate::domain::{ClinicId, Timestamp};
use crate::outbox::OutboxKind;
use crate::queue::notices::{self, NoticePlan, PlannedMessage};
use crate::queue::rules::Day;
use crate::queue::QueueError;
use crate::storage::{Applied, DayKey, DaySnapshot, LockedDay, NewMessage, Plan, Tx, Want};

impl Engine {
    /// Runs one queue action. `decide` is pure: it sees the locked day and returns a plan
    /// or a refusal.
    pub(super) async fn mutate_day<F>(
        &self,
        key: DayKey,
        want: Want,
        now: Timestamp,
        decide: F,
    ) -> Result<Applied, EngineError>
    where
        F: FnOnce(&DaySnapshot) -> Result<Plan, QueueError>,
    {
        let known = |day, version| self.written.get_at(day, version).map(|t| (*t).clone());
        let mut key = key;
        let mut tries = 0;
        let (mut tx, locked) = loop {
            let mut tx = self.store.begin().await?;
            let locked = tx.lock_day(&key, &want, now, known).await?;
            if let (DayKey::Open { queue_id, date }, Some(l)) = (&key, &locked) {
                let today = Self::local_date(&l.snapshot.clinic, now);
                if today != *date {
                    // The clinic's timezone changed since the queue's place was read:
                    // nothing of this try is kept, and today's day is locked instead.
                    tx.rollback().await?;
                    self.forget_place(*queue_id);
                    key = DayKey::Open {
                        queue_id: *queue_id,
                        date: today,
                    };
                    continue;
                }
            }
            if let Some(l) = &locked {
                // The token was moved to another queue's day between finding its day and
                // locking it: its new day is found and locked instead.
                let moved_away = l
                    .snapshot
                    .key_token
                    .is_some_and(|t| l.snapshot.day.token(t).is_err());
                if moved_away && tries < 3 {
                    tx.rollback().await?;
                    tries += 1;
                    continue;
                }
            }
            break (tx, locked);
        };
        let Some(LockedDay {
            mut snapshot,
            opened,
        }) = locked
        else {
            return Err(match key {
                DayKey::Open { .. } | DayKey::Day(_) => QueueError::UnknownQueue,
                DayKey::OfToken(_) | DayKey::OfPublicId(_) => QueueError::UnknownToken,
            }
            .into());
        };
        super::log_clinic(snapshot.clinic.id);
        if opened {
            snapshot.day.history = learn_history(&mut tx, &snapshot).await?;
        }
        let plan = match decide(&snapshot) {
            Ok(plan) => plan,
            Err(refusal) => {
                // Ended here rather than on drop, so the next writer never finds the
                // database still locked by this one.
                tx.rollback().await?;
                return Err(refusal.into());
            }
        };
        let before = snapshot.day.clone();
        let version = snapshot.version;
        let staged = tx.stage_plan(snapshot, plan, now).await?;
        let planned = self
            .plan_messages(&mut tx, &before, &staged.applied, now)
            .await?;
        let messages = outbox_rows(staged.applied.clinic.id, &planned);
        let applied = tx.commit_staged(staged, &messages, now).await?;
        self.polls.day_changed(applied.day_id);
        self.written.put(
            applied.day_id,
            version + 1,
            now,
            std::sync::Arc::new(applied.day.tokens.clone()),
        );
        Ok(applied)
    }

    /// What the action means for each patient, as messages to queue with the action's own
    /// commit (reading who can be reached how).
    pub(super) async fn plan_messages(
        &self,
        tx: &mut Tx,
        before: &Day,
        applied: &Applied,
        now: Timestamp,
    ) -> Result<Vec<PlannedMessage>, EngineError> {
        let clinic = &applied.clinic;
        let wanted = notices::for_action(clinic, before, &applied.day, &applied.changes);
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let channels = match &applied.channels {
            Some(channels) => channels.clone(),
            None => tx.clinic_channels(clinic.id).await?,
        };
        let wanted: Vec<_> = wanted
            .into_iter()
            .map(|notice| (notice, channels.needs(clinic, notice)))
            .collect();
        let recipients = tx.recipients(clinic.id, &wanted).await?;
        let NoticePlan {
            messages,
            conversations_moved,
        } = notices::plan(
            clinic,
            &applied.queue,
            &applied.day,
            &channels,
            &recipients,
            &self.link_base,
            now,
        );
        for (phone, token) in conversations_moved {
            tx.move_conversation(clinic.id, &phone, token).await?;
        }
        Ok(messages)
    }
}

/// The outbox rows of an action's planned messages.
pub(super) fn outbox_rows(clinic: ClinicId, planned: &[PlannedMessage]) -> Vec<NewMessage<'_>> {
    planned
        .iter()
        .map(|m| NewMessage {
            clinic,
            token_id: Some(m.token),
            phone: &m.phone,
            kind: OutboxKind::Notice(m.kind),
            language: m.language,
            body: &m.body,
            short_body: &m.short_body,
            channel: m.channel,
        })
        .collect()
}

/// The history a day that has just opened learns from the queue's earlier days, kept with
/// the day for its wait estimates.
pub(super) async fn learn_history(
    tx: &mut Tx,
    snapshot: &DaySnapshot,
) -> Result<History, EngineError> {
    let date = snapshot.service_date.date();
    let earlier = tx
        .earlier_tokens(snapshot.queue.id, &History::dates_for(date))
        .await?;
    let history = History::from_stored(date, &snapshot.clinic.timezone, &earlier);
    if history.days > 0 {
        tx.save_history(snapshot.day_id, &history).await?;
    }
    Ok(history)
}
