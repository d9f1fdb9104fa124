//! The outbox's vocabulary: what a queued message is about, where it stands, and how one
//! try on one channel went. Every status the database holds is spelled here once; storage
//! decodes rows into these types and refuses anything else as corrupt.

use crate::domain::{stored_enum, ClinicId, Timestamp, TokenId};
use crate::messages::{Channel, MessageKind};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a queued message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OutboxKind {
    /// A message with a template (the welcome, the queue's notifications).
    Notice(MessageKind),
    /// The join bot's answer in a WhatsApp conversation.
    BotReply,
    /// A receptionist's reply from the desk.
    StaffReply,
}

impl OutboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Notice(kind) => kind.as_str(),
            OutboxKind::BotReply => "REPLY",
            OutboxKind::StaffReply => "STAFF_REPLY",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "REPLY" => Some(OutboxKind::BotReply),
            "STAFF_REPLY" => Some(OutboxKind::StaffReply),
            other => MessageKind::from_stored(other).map(OutboxKind::Notice),
        }
    }

    /// The notification kind, for a message that has one.
    pub fn notice(self) -> Option<MessageKind> {
        match self {
            OutboxKind::Notice(kind) => Some(kind),
            OutboxKind::BotReply | OutboxKind::StaffReply => None,
        }
    }
}

stored_enum!(
    /// Where a queued message stands: waiting for its time on its current channel
    /// (pending), claimed by a worker under a lease (sending), taken by a channel (sent),
    /// failed on every channel left (failed), or never tried because no channel could
    /// reach the patient (skipped).
    OutboxStatus {
        Pending = "PENDING",
        Sending = "SENDING",
        Sent = "SENT",
        Failed = "FAILED",
        Skipped = "SKIPPED",
    }
);

/// Each of these reads against the word the database stores (consoles, tests).
macro_rules! eq_stored {
    ($($name:ty),+) => {$(
        impl PartialEq<&str> for $name {
            fn eq(&self, stored: &&str) -> bool {
                self.as_str() == *stored
            }
        }
    )+};
}
eq_stored!(OutboxKind, OutboxStatus, AttemptOutcome, Channel);

impl OutboxStatus {
    /// Still on its way: waiting or being sent.
    pub fn in_flight(self) -> bool {
        matches!(self, OutboxStatus::Pending | OutboxStatus::Sending)
    }
}

stored_enum!(
    /// How one try on one channel went.
    AttemptOutcome {
        Sent = "SENT",
        Failed = "FAILED",
        Skipped = "SKIPPED",
    }
);

/// A message to a token, as the desk lists it: notifications and staff replies (only
/// replies keep their text here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    pub id: i64,
    pub token: TokenId,
    pub kind: OutboxKind,
    pub status: OutboxStatus,
    /// The channel being tried, or the one that reached the patient once sent.
    pub channel: Channel,
    pub body: String,
    pub created_at: Timestamp,
}

/// One try of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub message: i64,
    pub channel: Channel,
    pub outcome: AttemptOutcome,
}

/// How many tries on one channel of one clinic ended one way, and what they cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptCount {
    pub clinic: ClinicId,
    pub channel: Channel,
    pub outcome: AttemptOutcome,
    pub count: u32,
    /// SMS segments, or WhatsApp template messages: what the provider bills.
    pub cost_units: u32,
}

/// How many of a clinic's notifications stand (or ended) one way on one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutcomeCount {
    pub clinic: ClinicId,
    pub status: OutboxStatus,
    pub channel: Channel,
    pub count: u32,
}

/// Why a notification was recorded without any channel to try.
pub const UNREACHED: &str =
    "no way to reach this patient: no push subscription, no WhatsApp conversation, no SMS";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stored_word_reads_back() {
        for kind in MessageKind::ALL
            .iter()
            .copied()
            .map(OutboxKind::Notice)
            .chain([OutboxKind::BotReply, OutboxKind::StaffReply])
        {
            assert_eq!(OutboxKind::from_stored(kind.as_str()), Some(kind));
        }
        for status in OutboxStatus::ALL {
            assert_eq!(OutboxStatus::from_stored(status.as_str()), Some(*status));
        }
        for outcome in AttemptOutcome::ALL {
            assert_eq!(
                AttemptOutcome::from_stored(outcome.as_str()),
                Some(*outcome)
            );
        }
        assert_eq!(OutboxStatus::from_stored("sent"), None);
        assert_eq!(OutboxKind::from_stored("NEARLY"), None);
    }
}
