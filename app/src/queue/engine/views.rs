//! What the desk, the waiting-room board and a patient's tracker show: read without
//! locking, from the queue day as it stands.

use super::days::SeenDay;
use super::polls::{Polls, TrackerAnswer};
use super::{Engine, EngineError};
use crate::board::{BoardCall, BoardQueue, BoardView, CALLS_ON_BOARD, NEXT_ON_BOARD};
use crate::desk::{DeskToken, DeskView};
use crate::domain::*;
use crate::queue::rules;
use crate::queue::QueueError;
use crate::storage::{Patient, TokenRef};
use crate::tracker::TrackerView;
use std::sync::Arc;

impl Engine {
    /// What the desk shows for one of the staff member's queues (the first when `None`).
    pub async fn desk(
        &self,
        staff: &StaffUser,
        queue_id: Option<QueueId>,
    ) -> Result<DeskView, EngineError> {
        let clinic_id = staff
            .clinic_id
            .filter(|_| staff.active)
            .ok_or(QueueError::Forbidden)?;
        let clinic = self
            .store
            .clinic(clinic_id)
            .await?
            .ok_or(QueueError::Forbidden)?;
        let queues = self.store.queues_of(clinic.id).await?;
        let queue = match queue_id {
            Some(id) => queues
                .iter()
                .find(|q| q.id == id)
                .ok_or(QueueError::UnknownQueue)?,
            None => queues.first().ok_or(QueueError::UnknownQueue)?,
        };
        let now = self.now();
        let date = Self::local_date(&clinic, now);
        let notice = (!clinic.status.accepts_work()).then(|| {
            let refusal = QueueError::ClinicNotAccepting {
                status: clinic.status,
            };
            match clinic.status_reason.trim() {
                "" => refusal.to_string(),
                reason => format!("{refusal} Reason: {reason}"),
            }
        });
        let mut view = DeskView {
            clinic_name: clinic.name.clone(),
            notice,
            owner: staff.role == crate::domain::Role::Owner,
            queues: queues
                .iter()
                .map(|q| (q.id.get(), q.name.clone()))
                .collect(),
            queue_id: queue.id.get(),
            rooms: queue.rooms.clone(),
            serving: None,
            waiting: Vec::new(),
            skipped: Vec::new(),
            served_today: 0,
            cancelled_today: 0,
            intake_paused: false,
            day_closed: false,
            last_called_at: None,
            now: now.millis(),
            utc_offset_minutes: utc_offset_minutes(&clinic, now),
            canned_replies: Vec::new(),
        };
        let Some((day, patients)) = self.store.day_with_patients(queue, date).await? else {
            return Ok(view);
        };
        let patients: std::collections::HashMap<TokenId, Patient> =
            patients.into_iter().map(|p| (p.token, p)).collect();
        let ahead: std::collections::HashMap<TokenId, u32> = day
            .waiting_in_order()
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id, i as u32))
            .collect();
        let pace = day.pace(&clinic, queue, now);
        // Messages about today's tokens are no older than the first of them.
        let since = patients.values().map(|p| p.joined_at).min().unwrap_or(now);
        let windows = if clinic.settings.whatsapp_enabled {
            self.store.windows_since(clinic.id, since).await?
        } else {
            Vec::new()
        };
        let sent = self.store.sent_since(clinic.id, since).await?;
        let attempts = self.store.attempts_since(clinic.id, since).await?;
        // A patient may have written (within a window's 24 hours) before taking today's
        // first token.
        let written_since = Timestamp(since.millis() - crate::whatsapp::WINDOW_MS);
        let inbox = self.store.inbox_since(clinic.id, written_since).await?;
        view.canned_replies = self.store.canned_replies(clinic.id).await?;
        let messages = crate::desk::DeskMessages::new(&sent, &attempts, &inbox);
        let desk_token = |t: &rules::DayToken| {
            let patient = patients.get(&t.id);
            // The conversation about this token (a relative may write), else the one
            // with the patient's own number.
            let window = windows.iter().find(|w| w.token == Some(t.id)).or_else(|| {
                let phone = patient.and_then(|p| p.phone.as_ref())?;
                windows.iter().find(|w| &w.phone == phone)
            });
            let (notices, chat) = messages.of(t.id.get());
            DeskToken {
                id: t.id.get(),
                public_id: patient.map(|p| p.public_id.clone()).unwrap_or_default(),
                label: day.label(t.number),
                name: patient.map(|p| p.name.clone()).unwrap_or_default(),
                source: patient.map_or(Source::Desk, |p| p.source),
                priority: t.state.is_priority,
                joined_at: patient.map_or(now, |p| p.joined_at).millis(),
                whatsapp_until: window.map(|w| w.open_until.millis()),
                whatsapp_stopped: window.is_some_and(|w| w.opted_out),
                eta: ahead.get(&t.id).map(|&n| pace.wait_minutes(n)),
                room: (t.state.status == TokenStatus::Serving)
                    .then(|| t.state.room.clone())
                    .flatten(),
                moved_from: t.origin.moved_from.clone(),
                note: t.origin.note.clone(),
                notices,
                chat,
            }
        };
        view.serving = day.serving().map(desk_token);
        view.waiting = day.waiting_in_order().into_iter().map(desk_token).collect();
        view.skipped = day
            .tokens
            .iter()
            .filter(|t| t.state.status == TokenStatus::Skipped)
            .map(desk_token)
            .collect();
        view.served_today = day
            .tokens
            .iter()
            .filter(|t| t.state.status == TokenStatus::Served)
            .count() as u32;
        view.cancelled_today = day
            .tokens
            .iter()
            .filter(|t| t.state.status == TokenStatus::Cancelled)
            .count() as u32;
        view.intake_paused = day.state.intake_paused;
        view.day_closed = day.state.status == DayStatus::Closed;
        view.last_called_at = day
            .tokens
            .iter()
            .filter_map(|t| t.state.called_at)
            .max()
            .map(Timestamp::millis);
        Ok(view)
    }

    /// The waiting-room board of a clinic: each queue's current and next numbers.
    pub async fn board(&self, slug: &str) -> Result<BoardView, EngineError> {
        let (clinic, queues) = self.join_info(slug).await?;
        let date = Self::local_date(&clinic, self.now());
        let mut board = BoardView {
            clinic_name: clinic.name.clone(),
            slug: clinic.slug.to_string(),
            languages: clinic.settings.languages.clone(),
            queues: Vec::with_capacity(queues.len()),
            calls: Vec::new(),
            notice: (!clinic.status.accepts_work()).then(|| {
                QueueError::ClinicNotAccepting {
                    status: clinic.status,
                }
                .to_string()
            }),
        };
        for queue in &queues {
            let day = self
                .store
                .day_by_date(queue, date)
                .await?
                .map(|(_, day)| day);
            let serving = day.as_ref().and_then(|d| d.serving());
            board.queues.push(BoardQueue {
                name: queue.name.clone(),
                serving: day.as_ref().zip(serving).map(|(d, t)| d.label(t.number)),
                serving_room: serving.and_then(|t| t.state.room.clone()),
                next: day
                    .as_ref()
                    .map(|d| {
                        d.waiting_in_order()
                            .iter()
                            .take(NEXT_ON_BOARD)
                            .map(|t| d.label(t.number))
                            .collect()
                    })
                    .unwrap_or_default(),
            });
            let Some(day) = &day else { continue };
            board.calls.extend(day.tokens.iter().filter_map(|t| {
                Some(BoardCall {
                    token: day.label(t.number),
                    queue: queue.name.clone(),
                    room: t.state.room.clone(),
                    at: t.state.called_at?.millis(),
                })
            }));
        }
        board.calls.sort_by_key(|c| std::cmp::Reverse(c.at));
        board.calls.truncate(CALLS_ON_BOARD);
        Ok(board)
    }

    /// What a patient's tracker shows right now (read only). One indexed read of the token
    /// and its day's version; the day, its queue and clinic come from the last poll's read
    /// while that version holds (see `days.rs`).
    pub async fn tracker(&self, public_id: &PublicId) -> Result<TrackerView, EngineError> {
        let found = self.token_ref(public_id).await?;
        let seen = self.seen_day(&found).await?;
        self.tracker_view(public_id, &found, &seen)
    }

    /// A tracker poll's answer, as JSON with its ETag. While the token's day is at the
    /// version this instance checked within `VERSION_FRESH_MS`, the answer last given is
    /// given again without touching the database (see `polls.rs`); otherwise one indexed
    /// read, and a view built once per change of the day.
    pub async fn tracker_poll(
        &self,
        public_id: &PublicId,
    ) -> Result<Arc<TrackerAnswer>, EngineError> {
        let now = self.now();
        let current = self.polls.current(public_id, now);
        let found = match &current {
            Some(answer) => answer.token.clone(),
            None => self.token_ref(public_id).await?,
        };
        let seen = self.seen_day(&found).await?;
        super::log_clinic(seen.clinic.id);
        if let Some(answer) = current.filter(|a| Polls::still_shows(a, &seen)) {
            return Ok(answer);
        }
        let view = self.tracker_view(public_id, &found, &seen)?;
        // Plain fields only (strings, numbers, options): nothing in it can fail to serialize.
        let body = serde_json::to_vec(&view).expect("a tracker view serializes");
        let answer = Arc::new(TrackerAnswer {
            etag: etag_of(&body),
            body,
            built_from: seen.read,
            token: found,
        });
        self.polls.keep(public_id, answer.clone());
        Ok(answer)
    }

    /// The token behind a public id, with its day's version (noted for the next polls).
    pub(super) async fn token_ref(&self, public_id: &PublicId) -> Result<TokenRef, EngineError> {
        let found = self
            .store
            .token_ref(public_id)
            .await?
            .ok_or(QueueError::UnknownToken)?;
        self.polls.checked(found.day, found.day_version, self.now());
        Ok(found)
    }

    /// The token's day as kept at its version, or read now.
    pub(super) async fn seen_day(&self, found: &TokenRef) -> Result<Arc<SeenDay>, EngineError> {
        match self.days.get(found.day, found.day_version, self.now()) {
            Some(seen) => Ok(seen),
            None => self.read_day(found).await,
        }
    }

    fn tracker_view(
        &self,
        public_id: &PublicId,
        found: &TokenRef,
        seen: &SeenDay,
    ) -> Result<TrackerView, EngineError> {
        let SeenDay {
            day,
            queue,
            clinic,
            whatsapp_number,
            ..
        } = seen;
        let mut view = TrackerView::build(
            clinic,
            queue,
            day,
            found.id,
            public_id.clone(),
            found.language,
            found.rated,
            self.now(),
        )
        .ok_or(QueueError::UnknownToken)?;
        if let (Some(number), crate::tracker::Phase::Waiting) = (whatsapp_number, view.phase) {
            let text = crate::whatsapp::opt_in_text(&view.token, public_id);
            view.whatsapp_link = Some(crate::whatsapp::click_to_chat(number, &text));
        }
        Ok(view)
    }

    /// Reads a token's day with its queue and clinic, and keeps it for the next polls.
    async fn read_day(&self, found: &TokenRef) -> Result<Arc<SeenDay>, EngineError> {
        let read_at = self.now();
        // What is read here is at least as new as `found.day_version`: a change that
        // lands in between is kept under the older version, which later polls no longer
        // ask for.
        let (queue, clinic) = self
            .store
            .queue_with_clinic(found.queue)
            .await?
            .ok_or(QueueError::UnknownToken)?;
        let day = self
            .store
            .day(found.day, &queue.prefix)
            .await?
            .ok_or(QueueError::UnknownToken)?;
        let whatsapp_number = match clinic.settings.whatsapp_enabled {
            true => self
                .store
                .whatsapp_account(clinic.id)
                .await?
                .map(|account| account.phone_number),
            false => None,
        };
        let seen = Arc::new(SeenDay {
            read: SeenDay::next_read(),
            day,
            queue,
            clinic,
            whatsapp_number,
        });
        self.days
            .put(found.day, found.day_version, read_at, seen.clone());
        Ok(seen)
    }
}

/// The clinic's current offset from UTC, in minutes (+330 in India, +240 in Dubai).
fn utc_offset_minutes(clinic: &Clinic, now: Timestamp) -> i32 {
    use chrono::Offset;
    now.to_utc()
        .with_timezone(&clinic.timezone.zone())
        .offset()
        .fix()
        .local_minus_utc()
        / 60
}

/// A strong validator for a response body: the same bytes give the same tag on every
/// instance running the same build.
pub fn etag_of(body: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    format!("\"{:016x}\"", hasher.finish())
}
