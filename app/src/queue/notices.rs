//! Which patients an action should tell something, and how: pure, from the day before
//! and after the action and what storage read about each patient. The engine writes the
//! plan as outbox rows in the action's own transaction.

use super::rules::{Changes, Day};
use crate::domain::{Clinic, ClinicId, Language, PublicId, Source, TokenId, TokenStatus};
use crate::messages::MessageKind;

/// One patient an action should tell something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notice {
    pub token: TokenId,
    pub kind: MessageKind,
}

/// What one action means for each patient, for a clinic that is running its queue,
/// leaving out what nothing could carry: "token created" and "how was your visit" go by
/// WhatsApp only, so a clinic without WhatsApp plans none (and its actions read nothing
/// for them).
pub fn for_action(clinic: &Clinic, before: &Day, after: &Day, changes: &Changes) -> Vec<Notice> {
    if !clinic.status.accepts_work() {
        return Vec::new();
    }
    let mut wanted = notices(before, after, changes, clinic.settings.notify_when_ahead);
    wanted.retain(|n| n.kind.pushed() || clinic.settings.whatsapp_enabled);
    wanted
}

/// What one action means for each patient: a token created, moved in, called, missed or
/// seen, and "almost your turn" for whoever has just come within `notify_when_ahead` of
/// the front.
pub fn notices(
    before: &Day,
    after: &Day,
    changes: &Changes,
    notify_when_ahead: u32,
) -> Vec<Notice> {
    let mut out = Vec::new();
    for change in &changes.tokens {
        let was = change.before.as_ref().map(|s| s.status);
        let now = change.after.status;
        let kind = match (was, now) {
            // A token new to this day: made here, moved in from another queue, or moved
            // back by UNDO to the chair it had left.
            (None, TokenStatus::Serving) => Some(MessageKind::YourTurn),
            (None, _) if changes.moved.is_some() => Some(MessageKind::Moved),
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
            out.push(Notice {
                token: change.token,
                kind,
            });
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
            out.push(Notice {
                token: token.id,
                kind: MessageKind::NextSoon,
            });
        }
    }
    out
}

/// How to reach the patient who holds a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub clinic: ClinicId,
    /// E.164, if the patient gave a number.
    pub phone: Option<String>,
    pub name: String,
    pub language: Language,
    pub public_id: PublicId,
    /// Who took the token: a name typed on the public join page is the typist's word,
    /// not necessarily the phone owner's.
    pub source: Source,
}

impl Contact {
    /// The name messages may greet the patient by. Anyone can take a token on the join
    /// page with any phone number and any "name", so a typed name goes out only to a phone
    /// that has written to the clinic itself (`phone_wrote`), or when reception or the
    /// phone's own WhatsApp chat took the token. Otherwise messages use the token number,
    /// and a stranger's words never reach someone else's phone.
    pub fn name_to_send(&self, phone_wrote: bool) -> Option<&str> {
        let vouched = self.source != Source::Qr || phone_wrote;
        vouched.then_some(self.name.as_str())
    }
}

#[cfg(feature = "ssr")]
mod plan;
#[cfg(feature = "ssr")]
pub use plan::{plan, ClinicChannels, Needs, NoticePlan, OwnTemplate, PlannedMessage, Recipient};
