//! A token moving between two of a clinic's queue days (TRANSFER, and its UNDO), inside
//! the engine's transaction with both days locked.

use super::batch::{Arg, Batch};
use super::outbox::NewMessage;
use super::queue_days::{state_args, AuditWrite, INSERT_AUDIT, INSERT_AUDIT_RETURNING};
use super::{AuditEntry, StorageError, Tx};
use crate::domain::*;
use crate::queue::rules::Changes;

/// One of a move's two audit rows: the day it is kept on, what is recorded, and the
/// token as called out there.
#[derive(Debug)]
pub struct MoveAudit {
    pub day: QueueDayId,
    pub entry: AuditEntry,
    pub target: String,
}

impl Tx {
    /// Writes a move (`changes.moved`, with the token's one state change) and commits:
    /// the token in the day it joins, under its number and state there; both days' new
    /// versions, and `next_number` for the day it joins when the move took that day's
    /// next number; the messages; and two audit rows, the action's (`action`, whose id
    /// is returned) and the other day's.
    pub async fn commit_move(
        self,
        clinic: ClinicId,
        changes: &Changes,
        next_number: Option<TokenNumber>,
        action: MoveAudit,
        other: MoveAudit,
        messages: &[NewMessage<'_>],
        now: Timestamp,
    ) -> Result<i64, StorageError> {
        let (Some(moved), [change]) = (&changes.moved, changes.tokens.as_slice()) else {
            return Err(StorageError::Missing("move", 0));
        };
        let mut writes = Batch::default();
        writes.push(
            "UPDATE tokens SET queue_day_id = $3, queue_id = $4, number = $5, status = $6, \
             previous_status = $7, is_priority = $8, called_at = $9, served_at = $10, \
             cancelled_at = $11, cancel_reason = $12, room = $13, moved_from = $14, move_note = $15 \
             WHERE id = $1 AND queue_day_id = $2",
            [
                Arg::Int(Some(moved.token.get())),
                Arg::Int(Some(moved.from.day.get())),
                Arg::Int(Some(moved.to.day.get())),
                Arg::Int(Some(moved.to.queue.get())),
                Arg::Int(Some(i64::from(moved.to.number.0))),
            ]
            .into_iter()
            .chain(state_args(&change.after))
            .chain([
                Arg::Text(moved.after.moved_from.as_deref()),
                Arg::Text(moved.after.note.as_deref()),
            ])
            .collect(),
        );
        writes.push(
            "UPDATE queue_days SET version = version + 1 WHERE id = $1",
            vec![Arg::Int(Some(moved.from.day.get()))],
        );
        writes.push(
            "UPDATE queue_days SET version = version + 1, next_number = COALESCE($2, next_number) \
             WHERE id = $1",
            vec![
                Arg::Int(Some(moved.to.day.get())),
                Arg::Int(next_number.map(|n| i64::from(n.0) + 1)),
            ],
        );
        super::outbox::queue_in(&mut writes, messages, now);
        let detail = serde_json::to_string(changes)?;
        let other_row = AuditWrite {
            clinic,
            day: other.day,
            entry: &other.entry,
            token: Some(moved.token),
            target: &other.target,
            detail: &detail,
        };
        writes.push(INSERT_AUDIT, other_row.args(now));
        let action_row = AuditWrite {
            day: action.day,
            entry: &action.entry,
            target: &action.target,
            ..other_row
        };
        self.commit_batch(writes, INSERT_AUDIT_RETURNING, action_row.args(now))
            .await
    }
}
