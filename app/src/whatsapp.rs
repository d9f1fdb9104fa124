//! WhatsApp's rules, pure: the 24-hour window a patient's message opens, STOP, a request
//! to erase one's data, which kind
//! of message may reach a phone now, how often the bot answers one phone, and the
//! click-to-chat link the tracker offers.

use crate::domain::{percent_encoded, PublicId, Timestamp, TokenId};

/// The 24-hour customer-service window WhatsApp allows free-form messages in.
pub const WINDOW_MS: i64 = 24 * 3_600_000;

/// Whether a message (trimmed, in capitals) asks the clinic to erase the patient's data:
/// DELETE, DELETE MY DATA, ERASE, ERASE MY DATA or STOP DATA.
pub fn asks_erasure(word: &str) -> bool {
    let words: Vec<&str> = word.split_whitespace().collect();
    matches!(
        words.as_slice(),
        ["DELETE"] | ["ERASE"] | ["DELETE" | "ERASE", "MY", "DATA"] | ["STOP", "DATA"]
    )
}

/// The bot's answers one phone may have from one clinic in a minute: a brisk conversation
/// (JOIN, a slip, the queue, the name, then STATUS, CANCEL, YES) fits.
pub const REPLIES_PER_MINUTE: u32 = 8;

/// The bot's answers one phone may have from one clinic in any 24 hours: a day's
/// conversation, a small part of any clinic's daily message limit.
pub const REPLIES_PER_DAY: u32 = 30;

/// The bot's answers a phone has had from a clinic lately. Each answer is a message the
/// clinic pays for, so one phone writing STATUS in a loop must not spend the clinic's daily
/// limit: past either allowance the bot stays silent, and the message waits for the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecentReplies {
    pub last_minute: u32,
    pub last_day: u32,
}

impl RecentReplies {
    pub fn allow_another(self) -> bool {
        self.last_minute < REPLIES_PER_MINUTE && self.last_day < REPLIES_PER_DAY
    }
}

/// One phone's conversation with one clinic.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Window {
    pub opened_at: i64,
    pub last_inbound_at: i64,
    pub token_id: Option<i64>,
    pub opted_out: bool,
    pub bot_state: String,
}

impl Window {
    /// Free-form messages may go out until this instant (ms).
    pub fn open_until(&self) -> i64 {
        self.last_inbound_at + WINDOW_MS
    }

    pub fn is_open(&self, now: Timestamp) -> bool {
        !self.opted_out && now.millis() < self.open_until()
    }
}

/// A conversation as the desk lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowLine {
    pub phone: String,
    /// Free-form messages may go out until then (it may have passed).
    pub open_until: Timestamp,
    /// The token the conversation is about.
    pub token: Option<TokenId>,
    pub opted_out: bool,
}

/// A patient's message for the desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientMessage {
    pub token: Option<TokenId>,
    pub phone: String,
    pub body: String,
    pub received_at: Timestamp,
}

/// How a message can reach a phone now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    FreeForm,
    Template,
    OptedOut,
    NoWindow,
}

impl Reach {
    /// WhatsApp's rule, in one place for queueing and sending: free-form inside an open
    /// window, an approved template outside it when the clinic may send them, nothing
    /// after STOP.
    pub fn of(window: Option<&Window>, templates_allowed: bool, now: Timestamp) -> Self {
        match window {
            Some(w) if w.opted_out => Reach::OptedOut,
            Some(w) if w.is_open(now) => Reach::FreeForm,
            _ if templates_allowed => Reach::Template,
            _ => Reach::NoWindow,
        }
    }

    pub fn allowed(self) -> bool {
        matches!(self, Reach::FreeForm | Reach::Template)
    }
}

/// The text the tracker's "Get updates on WhatsApp" link pre-writes: it carries the
/// token's public id, which is how the reply finds the token.
pub fn opt_in_text(token_label: &str, public_id: &PublicId) -> String {
    format!("Hi! Please send me updates on WhatsApp for token {token_label} (ref {public_id}).")
}

/// A click-to-chat link: `https://wa.me/<number>?text=<text, percent-encoded>`.
pub fn click_to_chat(number: &str, text: &str) -> String {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    format!("https://wa.me/{digits}?text={}", percent_encoded(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erasure_is_asked_in_so_many_words_not_by_any_message_that_contains_them() {
        for asked in [
            "DELETE",
            "ERASE",
            "DELETE MY DATA",
            "ERASE  MY DATA",
            "STOP DATA",
        ] {
            assert!(asks_erasure(asked), "{asked}");
        }
        for other in [
            "STOP",
            "DELETE MY TOKEN",
            "PLEASE DELETE",
            "DATA",
            "CANCEL",
            "",
        ] {
            assert!(!asks_erasure(other), "{other}");
        }
    }

    #[test]
    fn a_phone_is_answered_a_few_times_a_minute_and_a_bounded_number_a_day() {
        let recent = |last_minute, last_day| RecentReplies {
            last_minute,
            last_day,
        };
        assert!(recent(0, 0).allow_another());
        assert!(recent(REPLIES_PER_MINUTE - 1, REPLIES_PER_DAY - 1).allow_another());
        assert!(!recent(REPLIES_PER_MINUTE, REPLIES_PER_MINUTE).allow_another());
        assert!(!recent(0, REPLIES_PER_DAY).allow_another());
    }
}
