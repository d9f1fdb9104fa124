//! Which patients an action should tell something: pure, from the day before and after
//! the action. The storage layer turns each notice into an outbox row in the same
//! transaction as the action.

use super::rules::{Changes, Day};
use crate::domain::{TokenId, TokenStatus};
use crate::messages::MessageKind;

/// `(token, what to tell them)` for one action.
pub fn notices(
    before: &Day,
    after: &Day,
    changes: &Changes,
    notify_when_ahead: u32,
) -> Vec<(TokenId, MessageKind)> {
    let mut out = Vec::new();
    for change in &changes.tokens {
        let was = change.before.as_ref().map(|s| s.status);
        let now = change.after.status;
        let kind = match (was, now) {
            (None, _) => Some(MessageKind::TokenCreated),
            (Some(w), TokenStatus::Serving) if w != TokenStatus::Serving => {
                Some(MessageKind::YourTurn)
            }
            (Some(TokenStatus::Serving), TokenStatus::Skipped) => Some(MessageKind::Missed),
            (Some(w), TokenStatus::Served) if w != TokenStatus::Served => {
                Some(MessageKind::Feedback)
            }
            _ => None,
        };
        if let Some(kind) = kind {
            out.push((change.token, kind));
        }
    }
    // "Almost your turn": a waiting patient who has just come within N of the front.
    let created: Vec<TokenId> = changes
        .tokens
        .iter()
        .filter(|c| c.before.is_none())
        .map(|c| c.token)
        .collect();
    let limit = notify_when_ahead as usize;
    for (ahead, token) in after.waiting_in_order().iter().enumerate() {
        if ahead > limit || created.contains(&token.id) {
            continue;
        }
        let was_far = before.ahead_of(token.id).is_none_or(|was| was > limit);
        if was_far {
            out.push((token.id, MessageKind::NextSoon));
        }
    }
    out
}
