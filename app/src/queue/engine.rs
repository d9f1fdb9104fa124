//! The queue engine: each action of SPEC §4 as one call that authorises the caller,
//! works out the queue day, and runs the pure rules inside one locked transaction
//! (`transaction.rs`) together with the action's audit row and the messages it causes.

mod closing;
mod days;
mod polls;
pub use polls::{TrackerAnswer, VERSION_FRESH_MS};
pub use views::etag_of;
mod kiosk;
mod lookup;
mod transaction;
mod transfer;
mod tries;
pub use closing::{ClosedByHours, CLOSING_SWEEP_SECS};
pub use lookup::{LinkLookup, LINKS_PER_PHONE_PER_DAY};
pub use transfer::TransferOrder;
mod views;

use super::rules::{self, CreateCheck, Day, StaffAction, TokenState};
use super::QueueError;
use crate::domain::*;
use crate::storage::{
    Applied, AuditEntry, CountsFor, DayKey, NewToken, Plan, StorageError, Store, Want,
};
use crate::tracker::TrackerView;

/// Why an engine call did not go through: a refusal the caller should show, or a
/// storage failure to log (and show only as "try again").
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Refused(#[from] QueueError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<InvalidInput> for EngineError {
    fn from(e: InvalidInput) -> Self {
        EngineError::Refused(QueueError::Invalid(e))
    }
}

impl EngineError {
    pub fn refusal(&self) -> Option<&QueueError> {
        match self {
            EngineError::Refused(e) => Some(e),
            EngineError::Storage(_) => None,
        }
    }
}

/// Who is asking. Only staff act on the desk; patients join and cancel their own token.
#[derive(Debug, Clone)]
pub enum Actor<'a> {
    Staff(&'a StaffUser),
    /// A patient on the public join page or tracker, with their network address.
    Patient {
        ip: Option<String>,
    },
    /// The WhatsApp join bot.
    Bot,
    /// The clinic's reception kiosk, opened with its code, at this network address: a
    /// walk-in at reception, without the desk's powers.
    Kiosk {
        ip: Option<String>,
    },
    /// The queue's opening hours: its day closing itself at closing time.
    Hours,
}

impl Actor<'_> {
    fn source(&self) -> Source {
        match self {
            Actor::Staff(_) | Actor::Kiosk { .. } | Actor::Hours => Source::Desk,
            Actor::Patient { .. } => Source::Qr,
            Actor::Bot => Source::Whatsapp,
        }
    }

    fn audit(&self, action: &'static str, token: Option<TokenId>, undoable: bool) -> AuditEntry {
        let (actor_user_id, actor_kind, ip) = match self {
            Actor::Staff(user) => (Some(user.id), "STAFF", None),
            Actor::Patient { ip } | Actor::Kiosk { ip } => (None, "PATIENT", ip.clone()),
            Actor::Bot | Actor::Hours => (None, "SYSTEM", None),
        };
        AuditEntry {
            actor_user_id,
            actor_kind,
            action,
            token,
            ip,
            undoable,
            undoes: None,
        }
    }
}

/// A request for a new token, as typed by the patient or the receptionist.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    pub queue_id: QueueId,
    pub name: String,
    pub phone: Option<String>,
    pub language: Language,
    /// Emergency walk-in: called before everyone not already prioritised (desk only).
    pub emergency: bool,
}

#[derive(Clone, Debug)]
pub struct Engine {
    store: Store,
    /// Where patients open their trackers, for links in messages.
    link_base: std::sync::Arc<str>,
    clock: Clock,
    /// Queue days as trackers last read them (shared by every clone of the engine).
    days: std::sync::Arc<days::DayCache>,
    /// Trackers' last answers and when each day's version was last checked.
    polls: std::sync::Arc<polls::Polls>,
    /// Each day's tokens as this process last wrote them, at the version they made: an
    /// action on a day nobody else changed since skips reading its tokens again.
    written: std::sync::Arc<days::DayCache<Vec<crate::queue::rules::DayToken>>>,
    /// Where each queue is, as last read: checked again against the clinic under the
    /// day's lock.
    placed: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<QueueId, Place>>>,
    /// Kiosk codes tried per network address (`kiosk.rs`).
    kiosk_tries: std::sync::Arc<tries::Tries>,
    /// Lookups of a token by phone per network address (`lookup.rs`).
    lookup_tries: std::sync::Arc<tries::Tries>,
}

/// Where a queue is: its clinic, and what of the clinic's settings an action needs before
/// it locks the day. A queue never moves to another clinic; the settings may change, and
/// are checked again under the day's lock.
#[derive(Debug, Clone)]
struct Place {
    clinic: ClinicId,
    /// What names today's day.
    timezone: TimeZone,
    /// What a mobile number typed without its country code is read in.
    country: CountryCode,
}

/// How far back the per-network join limit looks.
pub const IP_WINDOW_MINUTES: i64 = 60;

/// Queues whose place is remembered at most (all are forgotten past it, and read again).
const MAX_PLACES: usize = 65_536;

impl Engine {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            link_base: "http://127.0.0.1:3000".into(),
            clock: Clock::default(),
            days: Default::default(),
            polls: Default::default(),
            written: Default::default(),
            placed: Default::default(),
            kiosk_tries: std::sync::Arc::new(tries::Tries::new(kiosk::KIOSK_TRIES)),
            lookup_tries: std::sync::Arc::new(tries::Tries::new(lookup::LOOKUP_TRIES)),
        }
    }

    /// Sets the address patients reach Qline at, for the links in their messages.
    pub fn with_public_url(mut self, url: &str) -> Self {
        self.link_base = url.trim_end_matches('/').into();
        self
    }

    pub fn public_url(&self) -> &str {
        &self.link_base
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The clinic's local calendar date, which names its queue days.
    pub fn local_date(clinic: &Clinic, now: Timestamp) -> LocalDate {
        now.local_date(&clinic.timezone)
    }

    /// The time the engine works at: the system's, or the replay's (`with_clock`).
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The clock the engine reads, for services that must keep the same time.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Runs the engine on `clock` instead of the system clock (replays of recorded days).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Reads a queue and its clinic, refusing what the caller may not touch.
    async fn queue_for(
        &self,
        actor: &Actor<'_>,
        queue_id: QueueId,
    ) -> Result<(Queue, Clinic), EngineError> {
        let (queue, clinic) = self
            .store
            .queue_with_clinic(queue_id)
            .await?
            .ok_or(QueueError::UnknownQueue)?;
        log_clinic(clinic.id);
        if let Actor::Staff(user) = actor {
            if !user.works_at(clinic.id) {
                return Err(QueueError::Forbidden.into());
            }
        }
        if queue.archived {
            return Err(QueueError::UnknownQueue.into());
        }
        Ok((queue, clinic))
    }

    /// The clinic a staff member's queue belongs to and that clinic's timezone (see
    /// `place_for`).
    async fn place(
        &self,
        staff: &StaffUser,
        queue_id: QueueId,
    ) -> Result<(ClinicId, TimeZone), EngineError> {
        let place = self.place_for(&Actor::Staff(staff), queue_id).await?;
        Ok((place.clinic, place.timezone))
    }

    /// Where a queue is, read once and then remembered (`mutate_day` checks the timezone
    /// again under the day's lock, and `create` the country); refuses a staff member of
    /// another clinic. An archived queue or a clinic that stopped work is refused under
    /// the lock.
    async fn place_for(&self, actor: &Actor<'_>, queue_id: QueueId) -> Result<Place, EngineError> {
        let remembered = self.places().get(&queue_id).cloned();
        let place = match remembered {
            Some(place) => place,
            None => {
                let (_, clinic) = self.queue_for(actor, queue_id).await?;
                let place = Place {
                    clinic: clinic.id,
                    timezone: clinic.timezone,
                    country: clinic.settings.default_country,
                };
                let mut places = self.places();
                if places.len() >= MAX_PLACES {
                    places.clear();
                }
                places.insert(queue_id, place.clone());
                place
            }
        };
        log_clinic(place.clinic);
        if let Actor::Staff(staff) = actor {
            if !staff.works_at(place.clinic) {
                return Err(QueueError::Forbidden.into());
            }
        }
        Ok(place)
    }

    fn places(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<QueueId, Place>> {
        self.placed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets where a queue was (its clinic's timezone or country changed).
    fn forget_place(&self, queue_id: QueueId) {
        self.places().remove(&queue_id);
    }

    /// Today's day of one of the staff member's queues, as the desk shows it (read only;
    /// `None` until the day opens with its first token or staff action).
    pub async fn today(
        &self,
        staff: &StaffUser,
        queue_id: QueueId,
    ) -> Result<Option<(QueueDayId, Day)>, EngineError> {
        let (queue, clinic) = self.queue_for(&Actor::Staff(staff), queue_id).await?;
        let date = Self::local_date(&clinic, self.now());
        Ok(self.store.day_by_date(&queue, date).await?)
    }

    /// A clinic's join page: the clinic and its open queues.
    pub async fn join_info(&self, slug: &str) -> Result<(Clinic, Vec<Queue>), EngineError> {
        let slug = Slug::parse(slug).map_err(|_| QueueError::UnknownClinic)?;
        let clinic = self
            .store
            .clinic_by_slug(&slug)
            .await?
            .ok_or(QueueError::UnknownClinic)?;
        let queues = self.store.queues_of(clinic.id).await?;
        Ok((clinic, queues))
    }

    /// A served patient rates the visit (1–5) with optional feedback, once.
    pub async fn rate_visit(
        &self,
        public_id: &PublicId,
        rating: u8,
        feedback: &str,
    ) -> Result<TrackerView, EngineError> {
        const MAX_FEEDBACK_CHARS: usize = 1000;
        if !(1..=5).contains(&rating) {
            return Err(InvalidInput::new("rating", "Please choose from 1 to 5 stars.").into());
        }
        let feedback = feedback.trim();
        if feedback.chars().count() > MAX_FEEDBACK_CHARS {
            let message = format!("Feedback can be at most {MAX_FEEDBACK_CHARS} characters long.");
            return Err(InvalidInput::new("feedback", message).into());
        }
        if let Some(hidden) = hidden_character(feedback) {
            return Err(hidden.refusal("feedback", "Your feedback").into());
        }
        if !self.store.rate_token(public_id, rating, feedback).await? {
            let message = "A visit can be rated once, after the doctor has seen you.";
            return Err(InvalidInput::new("rating", message).into());
        }
        self.polls.token_changed(public_id);
        self.tracker(public_id).await
    }

    /// CREATE TOKEN (QR join, desk walk-in, WhatsApp bot).
    pub async fn create_token(
        &self,
        actor: Actor<'_>,
        req: JoinRequest,
    ) -> Result<Applied, EngineError> {
        let source = actor.source();
        // Only the desk adds emergencies.
        let emergency = req.emergency && matches!(actor, Actor::Staff(_));
        let created = counted(create_action(emergency), self.create(actor, req, emergency)).await;
        if created.is_ok() {
            metrics::counter!("qline_tokens_created_total", "source" => source.as_str())
                .increment(1);
        }
        created
    }

    /// Creates the token where the queue was last found; once more, from a fresh read, if
    /// the clinic's country may have changed since (it decides how the number is read): it
    /// did, or the number did not read as one of the country remembered.
    async fn create(
        &self,
        actor: Actor<'_>,
        req: JoinRequest,
        emergency: bool,
    ) -> Result<Applied, EngineError> {
        let remembered = self.places().contains_key(&req.queue_id);
        match self.create_at(&actor, &req, emergency).await {
            Err(EngineError::Refused(refusal))
                if refusal == QueueError::SettingsChanged
                    || (remembered
                        && matches!(&refusal, QueueError::Invalid(e) if e.field == "phone")) =>
            {
                self.forget_place(req.queue_id);
                let again = self.create_at(&actor, &req, emergency).await;
                if matches!(
                    again,
                    Err(EngineError::Refused(QueueError::SettingsChanged))
                ) {
                    self.forget_place(req.queue_id);
                }
                again
            }
            created => created,
        }
    }

    async fn create_at(
        &self,
        actor: &Actor<'_>,
        req: &JoinRequest,
        emergency: bool,
    ) -> Result<Applied, EngineError> {
        let now = self.now();
        let place = self.place_for(actor, req.queue_id).await?;
        let name = PatientName::parse(&req.name)?;
        let phone = match req
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            Some(p) => Some(Phone::parse(p, &place.country)?),
            None if actor.source() == Source::Desk => None,
            None => return Err(InvalidInput::new("phone", "Please enter a mobile number.").into()),
        };
        let source = actor.source();
        let desk = matches!(actor, Actor::Staff(_));
        // The public join page's addresses count against its hourly limit; a kiosk's
        // tablet, like the desk, takes tokens for everyone at reception.
        let ip = match actor {
            Actor::Patient { ip } => ip.clone(),
            _ => None,
        };
        let want = Want {
            create_counts: Some(CountsFor {
                phone: phone.clone(),
                ip: ip
                    .clone()
                    .map(|ip| (ip, now.minus_minutes(IP_WINDOW_MINUTES))),
            }),
            last_undoable: false,
        };
        let key = DayKey::Open {
            queue_id: req.queue_id,
            date: now.local_date(&place.timezone),
        };
        self.mutate_day(key, want, now, |snap| {
            if snap.clinic.settings.default_country != place.country {
                return Err(QueueError::SettingsChanged);
            }
            if snap.queue.archived {
                return Err(QueueError::UnknownQueue);
            }
            if !snap.clinic.status.accepts_work() {
                return Err(QueueError::ClinicNotAccepting {
                    status: snap.clinic.status,
                });
            }
            let counts = snap.counts.expect("create counts were requested");
            rules::check_create(&CreateCheck {
                source,
                by_staff: desk,
                queue: &snap.queue.name,
                opening: snap.queue.opening_at(&snap.clinic.timezone, now),
                settings: &snap.clinic.settings,
                day: snap.day.state,
                clinic_tokens_today: counts.clinic_tokens_today,
                phone_tokens_today: counts.phone_tokens_today,
                ip_tokens_last_hour: counts.ip_tokens_last_hour,
            })?;
            // The wait this patient is shown on joining, kept with the token: it calibrates
            // later estimates and tells the clinic how often they held.
            let day = &snap.day;
            let ahead = day
                .waiting_in_order()
                .iter()
                .filter(|t| t.state.is_priority || !emergency)
                .count() as u32;
            let estimate = day.pace(&snap.clinic, &snap.queue, now).estimate(ahead);
            Ok(Plan {
                changes: Default::default(),
                new_token: Some(NewToken {
                    public_id: PublicId::random(),
                    name,
                    phone,
                    source,
                    language: req.language,
                    state: TokenState::new_waiting(emergency),
                    join_ip: ip,
                    estimate: Some(estimate),
                }),
                // The desk's UNDO takes back its own walk-ins, not a kiosk's.
                audit: actor.audit(create_action(emergency), None, desk),
            })
        })
        .await
    }

    /// A desk action on one of the staff member's queues (SPEC §4: NEXT, SERVED, SKIP,
    /// RECALL, PRIORITY, CALL OUT OF ORDER, CANCEL, CLOSE DAY, pause intake).
    pub async fn act(
        &self,
        staff: &StaffUser,
        queue_id: QueueId,
        action: StaffAction,
    ) -> Result<Applied, EngineError> {
        counted(action.audit_name(), self.act_now(staff, queue_id, action)).await
    }

    async fn act_now(
        &self,
        staff: &StaffUser,
        queue_id: QueueId,
        action: StaffAction,
    ) -> Result<Applied, EngineError> {
        let now = self.now();
        let actor = Actor::Staff(staff);
        let (_, timezone) = self.place(staff, queue_id).await?;
        let key = match action.target() {
            Some(token) => DayKey::OfToken(token),
            None => DayKey::Open {
                queue_id,
                date: now.local_date(&timezone),
            },
        };
        self.mutate_day(key, Want::default(), now, |snap| {
            authorise(staff, snap.clinic.id, snap.clinic.status)?;
            if snap.queue.id != queue_id {
                return Err(QueueError::UnknownToken);
            }
            if snap.queue.archived {
                return Err(QueueError::UnknownQueue);
            }
            let action = action.in_room(&snap.queue.rooms)?;
            let changes = rules::plan_staff(&snap.day, &action, now)?;
            Ok(Plan {
                changes,
                new_token: None,
                audit: actor.audit(action.audit_name(), action.target(), true),
            })
        })
        .await
    }

    /// UNDO: reverts the latest staff action on today's queue day that is not yet undone.
    pub async fn undo(&self, staff: &StaffUser, queue_id: QueueId) -> Result<Applied, EngineError> {
        counted("UNDO", self.undo_now(staff, queue_id)).await
    }

    async fn undo_now(&self, staff: &StaffUser, queue_id: QueueId) -> Result<Applied, EngineError> {
        let now = self.now();
        let actor = Actor::Staff(staff);
        let (_, timezone) = self.place(staff, queue_id).await?;
        let key = DayKey::Open {
            queue_id,
            date: now.local_date(&timezone),
        };
        let want = Want {
            last_undoable: true,
            ..Want::default()
        };
        // A transfer to undo touches a second day: it is undone with both days locked.
        let mut transfer = None;
        let undone = self
            .mutate_day(key, want, now, |snap| {
                authorise(staff, snap.clinic.id, snap.clinic.status)?;
                if snap.queue.archived {
                    return Err(QueueError::UnknownQueue);
                }
                let (undone_id, last) = snap
                    .last_undoable
                    .as_ref()
                    .ok_or(QueueError::NothingToUndo)?;
                if last.moved.is_some() {
                    transfer = Some((*undone_id, last.clone()));
                    return Err(QueueError::NothingToUndo);
                }
                let changes = rules::plan_undo(&snap.day, last, now)?;
                let token = changes.tokens.first().map(|c| c.token);
                let audit = AuditEntry {
                    undoes: Some(*undone_id),
                    ..actor.audit("UNDO", token, false)
                };
                Ok(Plan {
                    changes,
                    new_token: None,
                    audit,
                })
            })
            .await;
        match transfer {
            Some((undone_id, last)) => self.undo_move(staff, queue_id, undone_id, &last).await,
            None => undone,
        }
    }

    /// A patient cancels their own token from the tracker link.
    pub async fn cancel_by_patient(
        &self,
        public_id: &PublicId,
        ip: Option<String>,
    ) -> Result<Applied, EngineError> {
        counted("PATIENT_CANCEL", self.cancel_now(public_id, ip)).await
    }

    async fn cancel_now(
        &self,
        public_id: &PublicId,
        ip: Option<String>,
    ) -> Result<Applied, EngineError> {
        let now = self.now();
        let actor = Actor::Patient { ip };
        let key = DayKey::OfPublicId(public_id.clone());
        self.mutate_day(key, Want::default(), now, |snap| {
            if !snap.clinic.status.accepts_work() {
                return Err(QueueError::ClinicNotAccepting {
                    status: snap.clinic.status,
                });
            }
            let token = snap.key_token.ok_or(QueueError::UnknownToken)?;
            let changes = rules::plan_patient_cancel(&snap.day, token, now)?;
            Ok(Plan {
                changes,
                new_token: None,
                audit: actor.audit("PATIENT_CANCEL", Some(token), false),
            })
        })
        .await
    }
}

/// The audit name of CREATE TOKEN.
fn create_action(emergency: bool) -> &'static str {
    if emergency {
        "ADD_EMERGENCY"
    } else {
        "ADD_TOKEN"
    }
}

/// Runs a queue action and counts it by its audit name and how it ended
/// (`qline_queue_actions_total`: applied, refused, or failed on our side).
async fn counted(
    action: &'static str,
    work: impl std::future::Future<Output = Result<Applied, EngineError>>,
) -> Result<Applied, EngineError> {
    let result = work.await;
    let outcome = match &result {
        Ok(_) => "applied",
        Err(EngineError::Refused(_)) => "refused",
        Err(EngineError::Storage(_)) => "failed",
    };
    metrics::counter!("qline_queue_actions_total", "action" => action, "outcome" => outcome)
        .increment(1);
    result
}

/// Names the clinic on the log lines of the request being answered (its `clinic_id`).
fn log_clinic(clinic: ClinicId) {
    tracing::Span::current().record("clinic_id", clinic.get());
}

/// Staff may only touch their own, working clinic.
fn authorise(staff: &StaffUser, clinic: ClinicId, status: ClinicStatus) -> Result<(), QueueError> {
    if !staff.works_at(clinic) {
        return Err(QueueError::Forbidden);
    }
    if !status.accepts_work() {
        return Err(QueueError::ClinicNotAccepting { status });
    }
    Ok(())
}
