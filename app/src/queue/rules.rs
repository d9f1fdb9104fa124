//! The queue engine's rules as pure functions (SPEC §4): given a queue day and an action,
//! say what changes, or why not. No I/O here, so every rule is testable on its own and
//! the storage layer only loads a day, asks, and writes the answer.

use super::QueueError;
use crate::domain::{
    CancelReason, ClinicSettings, DayStatus, Opening, QueueDayId, QueueId, Source, Timestamp,
    TokenId, TokenNumber, TokenStatus,
};
use serde::{Deserialize, Serialize};

/// The mutable part of a token: what an action changes and what UNDO puts back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenState {
    pub status: TokenStatus,
    pub previous_status: Option<TokenStatus>,
    pub is_priority: bool,
    pub called_at: Option<Timestamp>,
    pub served_at: Option<Timestamp>,
    pub cancelled_at: Option<Timestamp>,
    pub cancel_reason: Option<CancelReason>,
    /// The room the latest call sent the patient to (`None` in a queue without rooms).
    #[serde(default)]
    pub room: Option<String>,
}

impl TokenState {
    pub fn new_waiting(is_priority: bool) -> Self {
        Self {
            status: TokenStatus::Waiting,
            previous_status: None,
            is_priority,
            called_at: None,
            served_at: None,
            cancelled_at: None,
            cancel_reason: None,
            room: None,
        }
    }

    /// The same token moved to `status`, remembering where it came from.
    fn moved_to(mut self, status: TokenStatus) -> Self {
        self.previous_status = Some(self.status);
        self.status = status;
        self
    }
}

/// The mutable part of a queue day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayState {
    pub status: DayStatus,
    pub intake_paused: bool,
    pub closed_at: Option<Timestamp>,
}

impl DayState {
    pub fn open() -> Self {
        Self {
            status: DayStatus::Open,
            intake_paused: false,
            closed_at: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayToken {
    pub id: TokenId,
    pub number: TokenNumber,
    pub state: TokenState,
    /// When the patient joined, and the wait they were shown then.
    pub joined: Timestamp,
    pub estimate: Option<crate::domain::eta::Estimate>,
    /// Where the desk moved the token from, if it did.
    #[serde(default)]
    pub origin: Origin,
}

pub use crate::domain::eta::Pace;

/// One queue day as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Day {
    /// The queue's token prefix, for messages (`A-7`).
    pub prefix: String,
    pub state: DayState,
    /// All tokens of the day, in number order.
    pub tokens: Vec<DayToken>,
    /// What earlier days on the same weekday said when this day opened.
    pub history: crate::domain::eta::History,
}

impl Day {
    /// The day once `changes` are made to it (each changed token takes its new state).
    pub fn apply(&mut self, changes: &Changes) {
        for change in &changes.tokens {
            if let Some(t) = self.tokens.iter_mut().find(|t| t.id == change.token) {
                t.state = change.after.clone();
            }
        }
        if let Some(d) = changes.day {
            self.state = d.after;
        }
    }

    pub fn label(&self, number: TokenNumber) -> String {
        number.label(&self.prefix)
    }

    pub fn serving(&self) -> Option<&DayToken> {
        self.tokens
            .iter()
            .find(|t| t.state.status == TokenStatus::Serving)
    }

    /// Waiting tokens in the order they will be called: priority first, then by arrival
    /// (a token moved in from another queue keeps the time its patient arrived), then by
    /// number.
    pub fn waiting_in_order(&self) -> Vec<&DayToken> {
        let mut waiting: Vec<&DayToken> = self
            .tokens
            .iter()
            .filter(|t| t.state.status == TokenStatus::Waiting)
            .collect();
        waiting.sort_by_key(|t| (!t.state.is_priority, t.joined, t.number));
        waiting
    }

    /// How many waiting tokens will be called before this one (`None` if it is not waiting).
    /// Today's service times (called → served), in seconds, in the order they ended.
    pub fn service_secs(&self) -> Vec<u32> {
        let mut done: Vec<(Timestamp, u32)> = self
            .tokens
            .iter()
            .filter(|t| t.state.status == TokenStatus::Served)
            .filter_map(|t| {
                let (called, served) = (t.state.called_at?, t.state.served_at?);
                let secs = (served.millis() - called.millis()).max(0) / 1000;
                Some((served, u32::try_from(secs).unwrap_or(u32::MAX)))
            })
            .collect();
        done.sort_by_key(|(served, _)| served.millis());
        done.into_iter().map(|(_, secs)| secs).collect()
    }

    /// How fast the queue moves now, for the estimate the tracker, the messages and the
    /// desk all show (the server works it out: it knows the clinic's local time).
    #[cfg(feature = "ssr")]
    pub fn pace(
        &self,
        clinic: &crate::domain::Clinic,
        queue: &crate::domain::Queue,
        now: Timestamp,
    ) -> Pace {
        let default_minutes = match queue.default_service_minutes {
            // A queue's own usual visit widens into a range around it.
            Some(m) => ((m / 2).max(1), m + m / 2),
            None => (
                clinic.settings.eta_min_minutes,
                clinic.settings.eta_max_minutes,
            ),
        };
        let count = |f: fn(&DayToken) -> bool| self.tokens.iter().filter(|t| f(t)).count() as u32;
        let serving_for_secs = self
            .serving()
            .and_then(|t| t.state.called_at)
            .map(|called| {
                u32::try_from((now.millis() - called.millis()).max(0) / 1000).unwrap_or(u32::MAX)
            });
        Pace::new(&crate::domain::eta::Inputs {
            default_minutes,
            today_secs: &self.service_secs(),
            today_no_shows: count(|t| t.state.status == TokenStatus::Skipped),
            today_called: count(|t| t.state.called_at.is_some()),
            history: &self.history,
            local_secs: now.local_secs(&clinic.timezone),
            serving_for_secs,
            today_residuals: &self.residuals(),
            closed: &queue.hours.closed_secs_on(now.local_date(&clinic.timezone)),
            worked_until_secs: self
                .tokens
                .iter()
                .flat_map(|t| [t.state.called_at, t.state.served_at])
                .flatten()
                .max_by_key(|at| at.millis())
                .map(|at| at.local_secs(&clinic.timezone)),
        })
    }

    /// How far the estimates shown today fell from the waits of the patients called.
    pub fn residuals(&self) -> Vec<crate::domain::eta::Residual> {
        self.tokens
            .iter()
            .filter_map(|t| {
                let called = t.state.called_at?;
                Some(
                    t.estimate?
                        .residual((called.millis() - t.joined.millis()) / 1000),
                )
            })
            .collect()
    }

    pub fn ahead_of(&self, id: TokenId) -> Option<usize> {
        self.waiting_in_order().iter().position(|t| t.id == id)
    }

    pub fn token(&self, id: TokenId) -> Result<&DayToken, QueueError> {
        self.tokens
            .iter()
            .find(|t| t.id == id)
            .ok_or(QueueError::UnknownToken)
    }
}

/// What an action changed. Written into the audit row, so UNDO can put it back exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    pub tokens: Vec<TokenChange>,
    pub day: Option<DayChange>,
    /// The token left this day for another queue's (TRANSFER), or came back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved: Option<Move>,
}

/// A token moving from one queue's day to another's, with its number in each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    pub token: TokenId,
    pub from: Place,
    pub to: Place,
    /// What the token said of where it came from, before the move and after it.
    pub before: Origin,
    pub after: Origin,
}

/// Where a token is: its queue, that queue's day and its number there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub queue: QueueId,
    pub day: QueueDayId,
    pub number: TokenNumber,
}

/// Where a moved token came from ("General A-3") and the desk's note for the next desk.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub moved_from: Option<String>,
    pub note: Option<String>,
}

/// One side of a transfer as the rules see it: a queue's locked day.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    pub queue: QueueId,
    pub queue_name: &'a str,
    pub day_id: QueueDayId,
    pub day: &'a Day,
}

impl Move {
    /// The same move the other way (what UNDO does).
    pub fn reversed(&self) -> Move {
        Move {
            token: self.token,
            from: self.to,
            to: self.from,
            before: self.after.clone(),
            after: self.before.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenChange {
    pub token: TokenId,
    pub number: TokenNumber,
    /// `None` when the action created the token.
    pub before: Option<TokenState>,
    pub after: TokenState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayChange {
    pub before: DayState,
    pub after: DayState,
}

impl Changes {
    fn token(mut self, t: &DayToken, after: TokenState) -> Self {
        self.tokens.push(TokenChange {
            token: t.id,
            number: t.number,
            before: Some(t.state.clone()),
            after,
        });
        self
    }
}

/// What the desk asks of a queue day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StaffAction {
    /// Finish whoever is serving and call the next in order. Carries the token the desk
    /// believes is serving, so two desks (or a double click) never advance twice, and
    /// the room the desk calls to.
    Next {
        expected_serving: Option<TokenId>,
        room: Option<String>,
    },
    /// Finish the current patient without calling anyone.
    Served {
        expected_serving: Option<TokenId>,
    },
    Skip {
        token: TokenId,
    },
    Recall {
        token: TokenId,
    },
    Prioritize {
        token: TokenId,
    },
    /// Call a specific waiting token out of order.
    Call {
        token: TokenId,
        expected_serving: Option<TokenId>,
        room: Option<String>,
    },
    Cancel {
        token: TokenId,
    },
    CloseDay,
    SetIntakePaused {
        paused: bool,
    },
}

impl StaffAction {
    /// The word recorded in the audit log.
    pub fn audit_name(&self) -> &'static str {
        match self {
            StaffAction::Next { .. } => "NEXT",
            StaffAction::Served { .. } => "SERVED",
            StaffAction::Skip { .. } => "SKIP",
            StaffAction::Recall { .. } => "RECALL",
            StaffAction::Prioritize { .. } => "PRIORITIZE",
            StaffAction::Call { .. } => "CALL",
            StaffAction::Cancel { .. } => "CANCEL",
            StaffAction::CloseDay => "CLOSE_DAY",
            StaffAction::SetIntakePaused { paused: true } => "PAUSE_INTAKE",
            StaffAction::SetIntakePaused { paused: false } => "RESUME_INTAKE",
        }
    }

    /// The same action with the room its call names settled against the queue's rooms
    /// (see `room_for`). Actions that call nobody are unchanged.
    pub fn in_room(self, rooms: &[String]) -> Result<Self, QueueError> {
        Ok(match self {
            StaffAction::Next {
                expected_serving,
                room,
            } => StaffAction::Next {
                expected_serving,
                room: room_for(rooms, room.as_deref())?,
            },
            StaffAction::Call {
                token,
                expected_serving,
                room,
            } => StaffAction::Call {
                token,
                expected_serving,
                room: room_for(rooms, room.as_deref())?,
            },
            other => other,
        })
    }

    /// The token the action is about, for the audit row.
    pub fn target(&self) -> Option<TokenId> {
        match self {
            StaffAction::Skip { token }
            | StaffAction::Recall { token }
            | StaffAction::Prioritize { token }
            | StaffAction::Call { token, .. }
            | StaffAction::Cancel { token } => Some(*token),
            _ => None,
        }
    }
}

/// The room a desk's call names: the one the desk chose, which must be one of the
/// queue's; the queue's only room when the desk chose none; no room in a queue without
/// rooms. A queue seen in several rooms needs the desk to choose.
pub fn room_for(rooms: &[String], chosen: Option<&str>) -> Result<Option<String>, QueueError> {
    match (chosen.map(str::trim).filter(|c| !c.is_empty()), rooms) {
        (_, []) => Ok(None),
        (None, [only]) => Ok(Some(only.clone())),
        (None, _) => Err(QueueError::ChooseRoom {
            rooms: rooms.to_vec(),
        }),
        (Some(chosen), _) => rooms
            .iter()
            .find(|r| r.as_str() == chosen)
            .cloned()
            .map(Some)
            .ok_or_else(|| QueueError::UnknownRoom {
                room: chosen.to_owned(),
                rooms: rooms.to_vec(),
            }),
    }
}

fn require_open(day: &Day) -> Result<(), QueueError> {
    match day.state.status {
        DayStatus::Open => Ok(()),
        DayStatus::Closed => Err(QueueError::DayClosed),
    }
}

fn require_serving_is(day: &Day, expected: Option<TokenId>) -> Result<(), QueueError> {
    let serving = day.serving();
    if serving.map(|t| t.id) == expected {
        Ok(())
    } else {
        Err(QueueError::QueueMoved {
            now_serving: serving.map(|t| day.label(t.number)),
        })
    }
}

fn require_status(
    day: &Day,
    t: &DayToken,
    allowed: &[TokenStatus],
    action: &str,
) -> Result<(), QueueError> {
    if allowed.contains(&t.state.status) {
        Ok(())
    } else {
        Err(QueueError::NotAllowed {
            token: day.label(t.number),
            status: t.state.status,
            action: action.to_owned(),
        })
    }
}

fn finish(t: &DayToken, now: Timestamp) -> TokenState {
    TokenState {
        served_at: Some(now),
        ..t.state.clone().moved_to(TokenStatus::Served)
    }
}

fn call(t: &DayToken, now: Timestamp, room: &Option<String>) -> TokenState {
    TokenState {
        called_at: Some(now),
        room: room.clone(),
        ..t.state.clone().moved_to(TokenStatus::Serving)
    }
}

fn cancel(t: &DayToken, now: Timestamp, reason: CancelReason) -> TokenState {
    TokenState {
        cancelled_at: Some(now),
        cancel_reason: Some(reason),
        ..t.state.clone().moved_to(TokenStatus::Cancelled)
    }
}

/// Decides a staff action. Returns the changes to write, or why it is refused.
pub fn plan_staff(day: &Day, action: &StaffAction, now: Timestamp) -> Result<Changes, QueueError> {
    use TokenStatus::*;
    let changes = Changes::default();
    match action {
        StaffAction::Next {
            expected_serving,
            room,
        } => {
            require_open(day)?;
            require_serving_is(day, *expected_serving)?;
            let current = day.serving();
            let next = day.waiting_in_order().first().copied();
            if current.is_none() && next.is_none() {
                return Err(QueueError::NobodyWaiting);
            }
            let mut changes = changes;
            if let Some(c) = current {
                changes = changes.token(c, finish(c, now));
            }
            if let Some(n) = next {
                changes = changes.token(n, call(n, now, room));
            }
            Ok(changes)
        }
        StaffAction::Served { expected_serving } => {
            require_serving_is(day, *expected_serving)?;
            let current = day.serving().ok_or(QueueError::NothingServing)?;
            Ok(changes.token(current, finish(current, now)))
        }
        StaffAction::Skip { token } => {
            let t = day.token(*token)?;
            require_status(day, t, &[Waiting, Serving], "skipped")?;
            Ok(changes.token(t, t.state.clone().moved_to(Skipped)))
        }
        StaffAction::Recall { token } => {
            require_open(day)?;
            let t = day.token(*token)?;
            require_status(day, t, &[Skipped], "recalled")?;
            let after = TokenState {
                is_priority: true,
                ..t.state.clone().moved_to(Waiting)
            };
            Ok(changes.token(t, after))
        }
        StaffAction::Prioritize { token } => {
            let t = day.token(*token)?;
            require_status(day, t, &[Waiting], "given priority")?;
            if t.state.is_priority {
                return Err(QueueError::AlreadyPriority {
                    token: day.label(t.number),
                });
            }
            Ok(changes.token(
                t,
                TokenState {
                    is_priority: true,
                    ..t.state.clone()
                },
            ))
        }
        StaffAction::Call {
            token,
            expected_serving,
            room,
        } => {
            require_open(day)?;
            require_serving_is(day, *expected_serving)?;
            let t = day.token(*token)?;
            require_status(day, t, &[Waiting], "called")?;
            let mut changes = changes;
            if let Some(c) = day.serving() {
                changes = changes.token(c, finish(c, now));
            }
            Ok(changes.token(t, call(t, now, room)))
        }
        StaffAction::Cancel { token } => {
            let t = day.token(*token)?;
            require_status(day, t, &[Waiting, Skipped], "cancelled")?;
            Ok(changes.token(t, cancel(t, now, CancelReason::Staff)))
        }
        StaffAction::CloseDay => {
            require_open(day)?;
            if let Some(s) = day.serving() {
                return Err(QueueError::PatientServing {
                    token: day.label(s.number),
                });
            }
            let mut changes = day
                .tokens
                .iter()
                .filter(|t| t.state.status == Waiting)
                .fold(changes, |c, t| {
                    c.token(t, cancel(t, now, CancelReason::DayClosed))
                });
            let after = DayState {
                status: DayStatus::Closed,
                closed_at: Some(now),
                ..day.state
            };
            changes.day = Some(DayChange {
                before: day.state,
                after,
            });
            Ok(changes)
        }
        StaffAction::SetIntakePaused { paused } => {
            let after = DayState {
                intake_paused: *paused,
                ..day.state
            };
            Ok(Changes {
                day: Some(DayChange {
                    before: day.state,
                    after,
                }),
                ..changes
            })
        }
    }
}

/// A patient cancels their own token from the tracker.
pub fn plan_patient_cancel(
    day: &Day,
    token: TokenId,
    now: Timestamp,
) -> Result<Changes, QueueError> {
    let t = day.token(token)?;
    require_status(
        day,
        t,
        &[TokenStatus::Waiting, TokenStatus::Skipped],
        "cancelled",
    )?;
    Ok(Changes::default().token(t, cancel(t, now, CancelReason::Patient)))
}

/// Reverts `last` (the latest staff action not yet undone) exactly, provided nothing it
/// touched has changed since. A token the action created cannot be un-numbered (numbers
/// are never reused), so undoing its creation cancels it.
pub fn plan_undo(day: &Day, last: &Changes, now: Timestamp) -> Result<Changes, QueueError> {
    let mut undo = Changes::default();
    for change in &last.tokens {
        let t = day.token(change.token)?;
        if t.state != change.after {
            return Err(QueueError::UndoConflict {
                token: day.label(t.number),
            });
        }
        let restored = match &change.before {
            Some(before) => before.clone(),
            None => cancel(t, now, CancelReason::Staff),
        };
        undo = undo.token(t, restored);
    }
    if let Some(d) = last.day {
        if day.state != d.after {
            return Err(QueueError::UndoConflict {
                token: "the queue day".to_owned(),
            });
        }
        undo.day = Some(DayChange {
            before: d.after,
            after: d.before,
        });
    }
    Ok(undo)
}

/// The longest note a transfer may carry for the next desk.
pub const MAX_NOTE_CHARS: usize = 200;

/// TRANSFER: the desk moves a waiting or serving token to another queue of the clinic.
/// It waits there under the next number, placed by the time its patient arrived (or
/// first, when the desk gives it priority or it had priority already); its serving, if any, ends without a visit
/// and its tracker link stays the same. The changes are `from`'s, with the move.
pub fn plan_transfer(
    from: Side<'_>,
    to: Side<'_>,
    to_number: TokenNumber,
    token: TokenId,
    priority: bool,
    note: Option<String>,
) -> Result<Changes, QueueError> {
    use TokenStatus::*;
    let t = from.day.token(token)?;
    let label = from.day.label(t.number);
    if from.queue == to.queue {
        return Err(QueueError::SameQueue {
            token: label,
            queue: to.queue_name.to_owned(),
        });
    }
    require_status(from.day, t, &[Waiting, Serving], "moved")?;
    if to.day.state.status == DayStatus::Closed {
        return Err(QueueError::TransferToClosed {
            queue: to.queue_name.to_owned(),
        });
    }
    // A patient given priority here (an emergency) keeps it there.
    let after = TokenState {
        is_priority: priority || t.state.is_priority,
        called_at: None,
        room: None,
        ..t.state.clone().moved_to(Waiting)
    };
    Ok(Changes {
        tokens: vec![TokenChange {
            token: t.id,
            number: t.number,
            before: Some(t.state.clone()),
            after,
        }],
        day: None,
        moved: Some(Move {
            token: t.id,
            from: Place {
                queue: from.queue,
                day: from.day_id,
                number: t.number,
            },
            to: Place {
                queue: to.queue,
                day: to.day_id,
                number: to_number,
            },
            before: t.origin.clone(),
            after: Origin {
                moved_from: Some(format!("{} {label}", from.queue_name)),
                note,
            },
        }),
    })
}

/// UNDO of a TRANSFER (`last`, the changes of the day the token left): moves it back
/// to `home` under its old number and state, provided nothing has touched it in `away`
/// since and `home` is not now serving someone else in its place.
pub fn plan_unmove(home: Side<'_>, away: Side<'_>, last: &Changes) -> Result<Changes, QueueError> {
    let (Some(moved), [change]) = (&last.moved, last.tokens.as_slice()) else {
        return Err(QueueError::NothingToUndo);
    };
    let before = change.before.clone().ok_or(QueueError::NothingToUndo)?;
    let conflict = |token: String| QueueError::UndoConflict { token };
    let t = away
        .day
        .token(moved.token)
        .map_err(|_| conflict(home.day.label(moved.from.number)))?;
    if t.state != change.after || t.number != moved.to.number {
        return Err(conflict(away.day.label(t.number)));
    }
    if before.status == TokenStatus::Serving {
        if let Some(s) = home.day.serving() {
            return Err(conflict(home.day.label(s.number)));
        }
    }
    Ok(Changes {
        tokens: vec![TokenChange {
            token: t.id,
            number: t.number,
            before: Some(t.state.clone()),
            after: before,
        }],
        day: None,
        moved: Some(moved.reversed()),
    })
}

/// The two days once `changes` moved a token from `from` to `to` (the token takes its
/// new number and state, and keeps when it joined and the wait it was shown).
pub fn apply_move(from: &mut Day, to: &mut Day, changes: &Changes) {
    let (Some(moved), [change]) = (&changes.moved, changes.tokens.as_slice()) else {
        return;
    };
    let Some(at) = from.tokens.iter().position(|t| t.id == moved.token) else {
        return;
    };
    let mut token = from.tokens.remove(at);
    token.number = moved.to.number;
    token.state = change.after.clone();
    token.origin = moved.after.clone();
    let at = to.tokens.partition_point(|t| t.number < token.number);
    to.tokens.insert(at, token);
}

/// What the database knows when a token is about to be created.
#[derive(Debug, Clone)]
pub struct CreateCheck<'a> {
    pub source: Source,
    /// Whether a staff member asks (the desk), not the patient (join page, WhatsApp,
    /// kiosk): staff add walk-ins outside the hours and while joining is paused.
    pub by_staff: bool,
    /// The queue's name, and whether its hours take patients now.
    pub queue: &'a str,
    pub opening: Opening,
    pub settings: &'a ClinicSettings,
    pub day: DayState,
    pub clinic_tokens_today: u32,
    pub phone_tokens_today: u32,
    /// Tokens taken from the caller's network address in the last hour (public join only).
    pub ip_tokens_last_hour: Option<u32>,
}

/// The CREATE TOKEN checks, in the order SPEC §4 gives (the clinic's own status is checked
/// before this by the engine, for every action alike).
pub fn check_create(c: &CreateCheck<'_>) -> Result<(), QueueError> {
    if c.day.status == DayStatus::Closed {
        return Err(QueueError::DayClosed);
    }
    if let (false, Opening::Closed { next }) = (c.by_staff, c.opening) {
        return Err(QueueError::OutsideHours {
            queue: c.queue.to_owned(),
            next,
        });
    }
    if !c.by_staff
        && (c.day.intake_paused || (c.source == Source::Qr && !c.settings.qr_intake_enabled))
    {
        return Err(QueueError::IntakePaused);
    }
    let s = c.settings;
    if c.clinic_tokens_today >= s.daily_token_limit {
        return Err(QueueError::DailyLimitReached {
            limit: s.daily_token_limit,
        });
    }
    if c.phone_tokens_today >= s.max_tokens_per_phone_per_day {
        return Err(QueueError::PhoneLimitReached {
            limit: s.max_tokens_per_phone_per_day,
        });
    }
    if let Some(n) = c.ip_tokens_last_hour {
        if n >= s.joins_per_ip_per_hour {
            return Err(QueueError::TooManyFromNetwork {
                limit: s.joins_per_ip_per_hour,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: i64, status: TokenStatus, prio: bool) -> DayToken {
        DayToken {
            id: TokenId(id),
            number: TokenNumber(id as u32),
            state: TokenState {
                status,
                is_priority: prio,
                ..TokenState::new_waiting(prio)
            },
            joined: Timestamp(0),
            estimate: None,
            origin: Origin::default(),
        }
    }

    fn day(tokens: Vec<DayToken>) -> Day {
        Day {
            prefix: "A".into(),
            state: DayState::open(),
            tokens,
            history: Default::default(),
        }
    }

    const NOW: Timestamp = Timestamp(1_000);

    fn side<'a>(queue: i64, name: &'a str, day: &'a Day) -> Side<'a> {
        Side {
            queue: QueueId(queue),
            queue_name: name,
            day_id: QueueDayId(queue * 100),
            day,
        }
    }

    /// Token `id` of a day, joined `minute` minutes into it.
    fn arrived(id: i64, status: TokenStatus, minute: i64) -> DayToken {
        DayToken {
            joined: Timestamp(minute * 60_000),
            ..t(id, status, false)
        }
    }

    #[test]
    fn a_moved_token_waits_by_arrival_and_undo_puts_both_days_back() {
        use TokenStatus::*;
        let general = day(vec![arrived(1, Serving, 0), arrived(2, Waiting, 1)]);
        let pharmacy = Day {
            prefix: "P".into(),
            tokens: vec![
                DayToken {
                    id: TokenId(11),
                    number: TokenNumber(1),
                    ..arrived(11, Waiting, 3)
                },
                DayToken {
                    id: TokenId(12),
                    number: TokenNumber(2),
                    ..arrived(12, Waiting, 4)
                },
            ],
            ..day(Vec::new())
        };
        let (mut from, mut to) = (general.clone(), pharmacy.clone());
        let note = Some("Paracetamol".to_owned());
        let plan = |from: &Day, to: &Day, token: i64, priority: bool| {
            plan_transfer(
                side(1, "General", from),
                side(2, "Pharmacy", to),
                TokenNumber(3),
                TokenId(token),
                priority,
                note.clone(),
            )
        };
        let moved = plan(&from, &to, 2, false).unwrap();
        apply_move(&mut from, &mut to, &moved);
        // A-2 arrived at minute 1, before P-1 and P-2: it is called first, as P-3.
        let order: Vec<u32> = to.waiting_in_order().iter().map(|t| t.number.0).collect();
        assert_eq!(order, [3, 1, 2]);
        assert_eq!(from.waiting_in_order().len(), 0);
        assert_eq!(
            to.token(TokenId(2)).unwrap().origin,
            Origin {
                moved_from: Some("General A-2".into()),
                note: note.clone()
            }
        );
        // Moving it back restores both days exactly.
        let back =
            plan_unmove(side(1, "General", &from), side(2, "Pharmacy", &to), &moved).unwrap();
        apply_move(&mut to, &mut from, &back);
        assert_eq!((from, to), (general.clone(), pharmacy.clone()));

        // The patient being served can be moved, first in line with priority; a served
        // patient cannot, nor into a closed day or the same queue.
        let (mut from, mut to) = (general.clone(), pharmacy.clone());
        let moved = plan(&from, &to, 1, true).unwrap();
        apply_move(&mut from, &mut to, &moved);
        assert_eq!(from.serving(), None);
        assert_eq!(to.waiting_in_order()[0].id, TokenId(1));
        let mut served = general.clone();
        served.tokens[0].state.status = Served;
        assert!(matches!(
            plan(&served, &pharmacy, 1, false),
            Err(QueueError::NotAllowed { .. })
        ));
        let mut closed = pharmacy.clone();
        closed.state.status = DayStatus::Closed;
        assert_eq!(
            plan(&general, &closed, 2, false),
            Err(QueueError::TransferToClosed {
                queue: "Pharmacy".into()
            })
        );
        let same = plan_transfer(
            side(1, "General", &general),
            side(1, "General", &general),
            TokenNumber(3),
            TokenId(2),
            false,
            None,
        );
        assert!(matches!(same, Err(QueueError::SameQueue { .. })));

        // Once the other queue has called the patient, the move stays.
        let (mut from, mut to) = (general.clone(), pharmacy.clone());
        let moved = plan(&from, &to, 2, true).unwrap();
        apply_move(&mut from, &mut to, &moved);
        let called = plan_staff(
            &to,
            &StaffAction::Next {
                expected_serving: None,
                room: None,
            },
            NOW,
        )
        .unwrap();
        to.apply(&called);
        assert_eq!(
            plan_unmove(side(1, "General", &from), side(2, "Pharmacy", &to), &moved),
            Err(QueueError::UndoConflict {
                token: "P-3".into()
            })
        );
    }

    #[test]
    fn priority_goes_first_then_numbers() {
        use TokenStatus::*;
        let d = day(vec![
            t(1, Waiting, false),
            t(2, Waiting, false),
            t(3, Waiting, true),
        ]);
        let order: Vec<i64> = d.waiting_in_order().iter().map(|t| t.id.0).collect();
        assert_eq!(order, vec![3, 1, 2]);
        assert_eq!(d.ahead_of(TokenId(2)), Some(2));
    }

    #[test]
    fn next_finishes_the_current_and_calls_the_first_waiting() {
        use TokenStatus::*;
        let mut d = day(vec![t(1, Serving, false), t(2, Waiting, false)]);
        let c = plan_staff(
            &d,
            &StaffAction::Next {
                expected_serving: Some(TokenId(1)),
                room: None,
            },
            NOW,
        )
        .unwrap();
        d.apply(&c);
        assert_eq!(d.tokens[0].state.status, Served);
        assert_eq!(d.tokens[0].state.served_at, Some(NOW));
        assert_eq!(d.tokens[1].state.status, Serving);
        assert_eq!(d.tokens[1].state.previous_status, Some(Waiting));
    }

    #[test]
    fn a_stale_desk_is_told_the_queue_moved() {
        use TokenStatus::*;
        let d = day(vec![t(1, Served, false), t(2, Serving, false)]);
        let err = plan_staff(
            &d,
            &StaffAction::Next {
                expected_serving: Some(TokenId(1)),
                room: None,
            },
            NOW,
        )
        .unwrap_err();
        assert_eq!(
            err,
            QueueError::QueueMoved {
                now_serving: Some("A-2".into())
            }
        );
        assert!(err.to_string().contains("A-2 is now being served"));
    }

    #[test]
    fn undo_puts_back_exactly_what_the_action_changed() {
        use TokenStatus::*;
        let original = day(vec![
            t(1, Serving, false),
            t(2, Waiting, false),
            t(3, Skipped, false),
        ]);
        let actions = [
            StaffAction::Next {
                expected_serving: Some(TokenId(1)),
                room: None,
            },
            StaffAction::Served {
                expected_serving: Some(TokenId(1)),
            },
            StaffAction::Skip { token: TokenId(1) },
            StaffAction::Recall { token: TokenId(3) },
            StaffAction::Prioritize { token: TokenId(2) },
            StaffAction::Cancel { token: TokenId(2) },
            StaffAction::SetIntakePaused { paused: true },
        ];
        for action in actions {
            let mut d = original.clone();
            let c = plan_staff(&d, &action, NOW).unwrap();
            d.apply(&c);
            assert_ne!(d, original, "{action:?} changed nothing");
            let u = plan_undo(&d, &c, NOW).unwrap();
            d.apply(&u);
            assert_eq!(d, original, "undo of {action:?}");
        }
    }

    #[test]
    fn undo_refuses_when_a_token_changed_since() {
        use TokenStatus::*;
        let mut d = day(vec![t(1, Waiting, false)]);
        let c = plan_staff(&d, &StaffAction::Prioritize { token: TokenId(1) }, NOW).unwrap();
        d.apply(&c);
        let cancel = plan_patient_cancel(&d, TokenId(1), NOW).unwrap();
        d.apply(&cancel);
        assert_eq!(
            plan_undo(&d, &c, NOW),
            Err(QueueError::UndoConflict {
                token: "A-1".into()
            })
        );
    }

    #[test]
    fn closing_needs_nobody_serving_and_cancels_the_waiting() {
        use TokenStatus::*;
        let d = day(vec![t(1, Serving, false), t(2, Waiting, false)]);
        assert!(matches!(
            plan_staff(&d, &StaffAction::CloseDay, NOW),
            Err(QueueError::PatientServing { .. })
        ));
        let mut d = day(vec![t(1, Served, false), t(2, Waiting, false)]);
        let c = plan_staff(&d, &StaffAction::CloseDay, NOW).unwrap();
        d.apply(&c);
        assert_eq!(d.state.status, DayStatus::Closed);
        assert_eq!(
            d.tokens[1].state.cancel_reason,
            Some(CancelReason::DayClosed)
        );
    }

    #[test]
    fn create_checks_run_in_order_each_with_its_own_error() {
        let settings = ClinicSettings {
            daily_token_limit: 2,
            ..Default::default()
        };
        let ok = CreateCheck {
            source: Source::Qr,
            by_staff: false,
            queue: "General",
            opening: Opening::Open { until: None },
            settings: &settings,
            day: DayState::open(),
            clinic_tokens_today: 0,
            phone_tokens_today: 0,
            ip_tokens_last_hour: Some(0),
        };
        assert_eq!(check_create(&ok), Ok(()));
        let closed = DayState {
            status: DayStatus::Closed,
            ..DayState::open()
        };
        assert_eq!(
            check_create(&CreateCheck {
                day: closed,
                ..ok.clone()
            }),
            Err(QueueError::DayClosed)
        );
        let paused = DayState {
            intake_paused: true,
            ..DayState::open()
        };
        assert_eq!(
            check_create(&CreateCheck {
                day: paused,
                ..ok.clone()
            }),
            Err(QueueError::IntakePaused)
        );
        assert_eq!(
            check_create(&CreateCheck {
                day: paused,
                source: Source::Desk,
                by_staff: true,
                ..ok.clone()
            }),
            Ok(())
        );
        // The kiosk is the desk's source but the patient's hand: it waits with them.
        assert_eq!(
            check_create(&CreateCheck {
                day: paused,
                source: Source::Desk,
                ..ok.clone()
            }),
            Err(QueueError::IntakePaused)
        );
        let next = crate::domain::NextOpening {
            date: crate::domain::LocalDate::parse("2026-12-07").unwrap(),
            minute: 9 * 60,
            days_away: 1,
        };
        let closed_now = CreateCheck {
            opening: Opening::Closed { next: Some(next) },
            ..ok.clone()
        };
        assert_eq!(
            check_create(&closed_now),
            Err(QueueError::OutsideHours {
                queue: "General".into(),
                next: Some(next)
            })
        );
        assert_eq!(
            QueueError::OutsideHours {
                queue: "General".into(),
                next: Some(next)
            }
            .to_string(),
            "General is closed now. It opens again tomorrow at 9:00 am."
        );
        assert_eq!(
            check_create(&CreateCheck {
                source: Source::Desk,
                by_staff: true,
                ..closed_now
            }),
            Ok(())
        );
        assert_eq!(
            check_create(&CreateCheck {
                clinic_tokens_today: 2,
                phone_tokens_today: 5,
                ..ok.clone()
            }),
            Err(QueueError::DailyLimitReached { limit: 2 })
        );
        assert_eq!(
            check_create(&CreateCheck {
                phone_tokens_today: 1,
                ..ok.clone()
            }),
            Err(QueueError::PhoneLimitReached { limit: 1 })
        );
        assert_eq!(
            check_create(&CreateCheck {
                ip_tokens_last_hour: Some(30),
                ..ok.clone()
            }),
            Err(QueueError::TooManyFromNetwork { limit: 30 })
        );
    }

    #[test]
    fn a_call_names_the_desks_room_or_the_queues_only_one() {
        let two = ["Room 1".to_owned(), "Room 2".to_owned()];
        assert_eq!(room_for(&[], Some("Room 1")), Ok(None));
        assert_eq!(room_for(&two[..1], None), Ok(Some("Room 1".into())));
        assert_eq!(room_for(&two, Some(" Room 2 ")), Ok(Some("Room 2".into())));
        assert_eq!(
            room_for(&two, Some("")),
            Err(QueueError::ChooseRoom {
                rooms: two.to_vec()
            })
        );
        assert_eq!(
            room_for(&two[..1], Some("Room 2")),
            Err(QueueError::UnknownRoom {
                room: "Room 2".into(),
                rooms: two[..1].to_vec()
            })
        );
    }
}
