//! The vocabulary of Qline: ids, slugs, phones, token numbers and statuses.
//! Every type here can only be built valid, so the layers above never re-check.
//! These types compile for both the server and the browser.

mod backoff;
mod clinic;
pub mod eta;
pub mod hours;
mod ids;
mod kiosk;
pub mod net;
mod phone;
pub mod retention;
mod slug;
mod staff;
mod text;
mod time;
mod token;

pub use backoff::{Backoff, Strikes};
pub use clinic::{
    rooms_from_stored, rooms_to_stored, Clinic, ClinicSettings, ClinicStatus, CountryCode, Queue,
    Role,
};
pub use hours::{Hours, NextOpening, Opening};
pub use ids::{ClinicId, PublicId, QueueDayId, QueueId, TokenId, UserId};
pub use kiosk::KioskCode;
pub use phone::Phone;
pub use retention::RetentionDays;
pub use slug::Slug;
pub use staff::{SignInError, StaffUser};
pub use text::{hidden_character, Hidden};
pub use time::{Clock, LocalDate, TimeZone, Timestamp};
pub(crate) use token::stored_enum;
pub use token::{CancelReason, DayStatus, Language, PatientName, Source, TokenNumber, TokenStatus};

/// A value that failed to parse, with a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("{message}")]
pub struct InvalidInput {
    pub field: String,
    pub message: String,
}

impl InvalidInput {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Text made safe for a URL's query or a `data:` link: every byte but the unreserved
/// ones (letters, digits, `-_.~`) as `%XX`.
pub fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
