//! TRANSFER: the desk moves a patient to another queue of the clinic ("to the lab",
//! "to the pharmacy"), and UNDO moves them back. Both queue days are locked in one
//! transaction, in the order of their queues' ids, so two transfers between the same
//! two queues in opposite directions never wait on each other in a circle.

use super::transaction::{learn_history, outbox_rows};
use super::{authorise, counted, Actor, Engine, EngineError};
use crate::domain::*;
use crate::queue::rules::{self, Changes, Side, TokenChange, MAX_NOTE_CHARS};
use crate::queue::QueueError;
use crate::storage::{Applied, AuditEntry, DayKey, DaySnapshot, LockedDay, MoveAudit, Want};

/// What the desk asks when it moves a patient to another queue.
#[derive(Debug, Clone)]
pub struct TransferOrder {
    pub token: TokenId,
    pub to_queue: QueueId,
    /// Called before everyone in the other queue who is not already prioritised.
    pub priority: bool,
    /// For the desk of the other queue ("for an X-ray of the left wrist"); may be empty.
    pub note: String,
}

/// What a move across two days decided: the changes of the action's own day (`home`),
/// whether the token takes the other day's next number, and the audit row of each day.
struct PairPlan {
    changes: Changes,
    takes_next_number: bool,
    audit: AuditEntry,
    other_audit: AuditEntry,
}

impl Engine {
    /// TRANSFER: moves a waiting or serving token of `queue_id` to another queue of the
    /// same clinic, where it waits by its patient's arrival (or first, with `priority`).
    pub async fn transfer(
        &self,
        staff: &StaffUser,
        queue_id: QueueId,
        order: TransferOrder,
    ) -> Result<Applied, EngineError> {
        counted("TRANSFER", self.transfer_now(staff, queue_id, order)).await
    }

    async fn transfer_now(
        &self,
        staff: &StaffUser,
        queue_id: QueueId,
        order: TransferOrder,
    ) -> Result<Applied, EngineError> {
        let note = transfer_note(&order.note)?;
        let (clinic, timezone) = self.place(staff, queue_id).await?;
        let other = match self.place(staff, order.to_queue).await {
            Err(EngineError::Refused(QueueError::Forbidden)) => None,
            place => Some(place?.0),
        };
        if other != Some(clinic) {
            return Err(QueueError::TransferElsewhere.into());
        }
        let now = self.now();
        let actor = Actor::Staff(staff);
        let want = Want::default();
        let date = now.local_date(&timezone);
        self.mutate_pair(queue_id, order.to_queue, date, want, now, |home, away| {
            check_pair(staff, home, away)?;
            let changes = rules::plan_transfer(
                side(home),
                side(away),
                away.next_number,
                order.token,
                order.priority,
                note,
            )?;
            Ok(PairPlan {
                changes,
                takes_next_number: true,
                audit: actor.audit("TRANSFER", Some(order.token), true),
                other_audit: actor.audit("TRANSFER_IN", Some(order.token), false),
            })
        })
        .await
    }

    /// UNDO of the TRANSFER recorded as audit row `undone` on `queue_id`'s day today:
    /// the token goes back, under its old number and state, unless it has changed since.
    pub(super) async fn undo_move(
        &self,
        staff: &StaffUser,
        queue_id: QueueId,
        undone: i64,
        transfer: &Changes,
    ) -> Result<Applied, EngineError> {
        let moved = transfer.moved.as_ref().ok_or(QueueError::NothingToUndo)?;
        let (_, timezone) = self.place(staff, queue_id).await?;
        let now = self.now();
        let actor = Actor::Staff(staff);
        let want = Want {
            last_undoable: true,
            ..Want::default()
        };
        let date = now.local_date(&timezone);
        self.mutate_pair(queue_id, moved.to.queue, date, want, now, |home, away| {
            check_pair(staff, home, away)?;
            let last = match &home.last_undoable {
                Some((id, last)) if *id == undone && away.day_id == moved.to.day => last,
                // Another desk acted on this queue meanwhile: the latest action is not
                // the transfer any more.
                _ => {
                    return Err(QueueError::QueueMoved {
                        now_serving: home.day.serving().map(|t| home.day.label(t.number)),
                    })
                }
            };
            let changes = rules::plan_unmove(side(home), side(away), last)?;
            Ok(PairPlan {
                changes,
                takes_next_number: false,
                audit: AuditEntry {
                    undoes: Some(undone),
                    ..actor.audit("UNDO", Some(moved.token), false)
                },
                other_audit: actor.audit("TRANSFER_BACK", Some(moved.token), false),
            })
        })
        .await
    }

    /// Runs one action that moves a token between `home`'s day (the action's own, whose
    /// audit row can be undone) and `away`'s, both on `date`: locks and reads both, lets
    /// `decide` (pure) plan the move, then writes it, the messages it causes on each
    /// side and both audit rows, and commits, together.
    async fn mutate_pair<F>(
        &self,
        home: QueueId,
        away: QueueId,
        date: LocalDate,
        want: Want,
        now: Timestamp,
        decide: F,
    ) -> Result<Applied, EngineError>
    where
        F: FnOnce(&DaySnapshot, &DaySnapshot) -> Result<PairPlan, QueueError>,
    {
        let known = |day, version| self.written.get_at(day, version).map(|t| (*t).clone());
        let mut tx = self.store.begin().await?;
        let home_first = home <= away;
        let mut locked = Vec::with_capacity(2);
        for queue_id in if home_first {
            [home, away]
        } else {
            [away, home]
        } {
            let key = DayKey::Open { queue_id, date };
            let want = if queue_id == home {
                want.clone()
            } else {
                Want::default()
            };
            locked.push(tx.lock_day(&key, &want, now, known).await?);
        }
        let (Some(second), Some(first)) = (locked.pop().flatten(), locked.pop().flatten()) else {
            tx.rollback().await?;
            return Err(QueueError::UnknownQueue.into());
        };
        let (mut h, mut w) = if home_first {
            (first, second)
        } else {
            (second, first)
        };
        for LockedDay { snapshot, opened } in [&mut h, &mut w] {
            if *opened {
                snapshot.day.history = learn_history(&mut tx, snapshot).await?;
            }
        }
        let (h, w) = (h.snapshot, w.snapshot);
        super::log_clinic(h.clinic.id);
        if Self::local_date(&h.clinic, now) != date {
            // The clinic's timezone changed since its queues' place was read.
            tx.rollback().await?;
            self.forget_place(home);
            self.forget_place(away);
            return Err(QueueError::QueueMoved { now_serving: None }.into());
        }
        let plan = match decide(&h, &w) {
            Ok(plan) => plan,
            Err(refusal) => {
                tx.rollback().await?;
                return Err(refusal.into());
            }
        };
        let Some(moved) = plan.changes.moved.clone() else {
            tx.rollback().await?;
            return Err(QueueError::NothingToUndo.into());
        };
        let leaves_home = moved.from.day == h.day_id;
        let (mut from, mut to) = if leaves_home { (h, w) } else { (w, h) };
        let (from_before, to_before) = (from.day.clone(), to.day.clone());
        rules::apply_move(&mut from.day, &mut to.day, &plan.changes);
        // On the day it joins the token is new: the patient is told where they are now.
        let arrived = Changes {
            tokens: plan
                .changes
                .tokens
                .iter()
                .map(|c| TokenChange {
                    number: moved.to.number,
                    before: None,
                    ..c.clone()
                })
                .collect(),
            day: None,
            moved: Some(moved.clone()),
        };
        let sides = [
            (from_before, applied(from, plan.changes.clone())),
            (to_before, applied(to, arrived)),
        ];
        let mut planned = Vec::new();
        for (before, after) in &sides {
            planned.extend(self.plan_messages(&mut tx, before, after, now).await?);
        }
        let [(_, from), (_, to)] = sides;
        let clinic = from.clinic.id;
        let messages = outbox_rows(clinic, &planned);
        let audit_of = |side: &Applied, entry| MoveAudit {
            day: side.day_id,
            target: side.day.label(if side.day_id == moved.to.day {
                moved.to.number
            } else {
                moved.from.number
            }),
            entry,
        };
        let (mut home, away) = if leaves_home { (from, to) } else { (to, from) };
        let takes = plan.takes_next_number.then_some(moved.to.number);
        let audit = audit_of(&home, plan.audit);
        let other_audit = audit_of(&away, plan.other_audit);
        home.audit_id = tx
            .commit_move(
                clinic,
                &plan.changes,
                takes,
                audit,
                other_audit,
                &messages,
                now,
            )
            .await?;
        self.polls.day_changed(home.day_id);
        self.polls.day_changed(away.day_id);
        home.changes = plan.changes;
        Ok(home)
    }
}

/// A move's two days are the signed-in staff member's, of one working clinic, and
/// neither queue is archived.
fn check_pair(staff: &StaffUser, home: &DaySnapshot, away: &DaySnapshot) -> Result<(), QueueError> {
    authorise(staff, home.clinic.id, home.clinic.status)?;
    if away.clinic.id != home.clinic.id {
        return Err(QueueError::TransferElsewhere);
    }
    if home.queue.archived || away.queue.archived {
        return Err(QueueError::UnknownQueue);
    }
    Ok(())
}

/// A locked day as the rules see one side of a move.
fn side(snapshot: &DaySnapshot) -> Side<'_> {
    Side {
        queue: snapshot.queue.id,
        queue_name: &snapshot.queue.name,
        day_id: snapshot.day_id,
        day: &snapshot.day,
    }
}

/// One side of a move as it will stand (`day` already moved), with its changes.
fn applied(snapshot: DaySnapshot, changes: Changes) -> Applied {
    Applied {
        audit_id: 0,
        clinic: snapshot.clinic,
        queue: snapshot.queue,
        day_id: snapshot.day_id,
        changes,
        created: None,
        day: snapshot.day,
        channels: snapshot.channels,
    }
}

/// The desk's note for the other queue, trimmed; `None` when empty.
fn transfer_note(note: &str) -> Result<Option<String>, InvalidInput> {
    let note = note.trim();
    if note.chars().count() > MAX_NOTE_CHARS {
        let message = format!("A note can be at most {MAX_NOTE_CHARS} characters long.");
        return Err(InvalidInput::new("note", message));
    }
    if let Some(hidden) = hidden_character(note) {
        return Err(hidden.refusal("note", "The note"));
    }
    Ok(Some(note.to_owned()).filter(|n| !n.is_empty()))
}
