//! What a token is: its number, status, source and the patient's name and language.

use super::InvalidInput;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A token's number within its queue day: 1, 2, 3… contiguous and never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenNumber(pub u32);

impl TokenNumber {
    /// How the number is shown and called out: the queue's prefix and the number, `A-7`.
    pub fn label(self, prefix: &str) -> String {
        format!("{prefix}-{}", self.0)
    }
}

impl fmt::Display for TokenNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Declares a status-like enum stored as an upper-case word in the database.
macro_rules! stored_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Reads the stored word back; `None` for anything this version does not know.
            pub fn from_stored(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use stored_enum;

stored_enum!(
    /// Where a token is in its life.
    TokenStatus {
        Waiting = "WAITING",
        Serving = "SERVING",
        Served = "SERVED",
        Skipped = "SKIPPED",
        Cancelled = "CANCELLED",
    }
);

stored_enum!(
    /// How the token was created.
    Source { Qr = "QR", Desk = "DESK", Whatsapp = "WHATSAPP" }
);

stored_enum!(
    /// Why a token was cancelled, so its tracker can say the right thing.
    CancelReason { Patient = "PATIENT", Staff = "STAFF", DayClosed = "DAY_CLOSED" }
);

stored_enum!(
    /// Whether a queue day still takes and calls patients.
    DayStatus { Open = "OPEN", Closed = "CLOSED" }
);

stored_enum!(
    /// The languages patient-facing pages and messages are offered in.
    Language { En = "en", Hi = "hi" }
);

impl Language {
    pub fn name(self) -> &'static str {
        match self {
            Language::En => "English",
            Language::Hi => "हिन्दी",
        }
    }
}

/// A patient's name as typed at join or by the desk: trimmed, 1–60 characters, shown
/// to others as typed (no direction controls or invisible characters, `text.rs`).
/// Rendered escaped everywhere like any other text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PatientName(String);

impl PatientName {
    pub const MAX_CHARS: usize = 60;

    pub fn parse(input: &str) -> Result<Self, InvalidInput> {
        let name = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err(InvalidInput::new(
                "name",
                "Please enter the patient's name.",
            ));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(InvalidInput::new(
                "name",
                format!("Names can be at most {} characters long.", Self::MAX_CHARS),
            ));
        }
        if let Some(hidden) = super::hidden_character(&name) {
            return Err(hidden.refusal("name", "The name"));
        }
        Ok(Self(name))
    }

    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_storage_words() {
        for s in TokenStatus::ALL {
            assert_eq!(TokenStatus::from_stored(s.as_str()), Some(*s));
        }
        assert_eq!(TokenStatus::from_stored("LOST"), None);
    }

    #[test]
    fn names_are_tidied_and_bounded() {
        assert_eq!(
            PatientName::parse("  Asha   Rao ").unwrap().as_str(),
            "Asha Rao"
        );
        assert_eq!(PatientName::parse("   ").unwrap_err().field, "name");
        assert!(PatientName::parse(&"n".repeat(61)).is_err());
        assert!(PatientName::parse("नमस्ते जी").is_ok());
    }

    #[test]
    fn a_name_that_would_read_differently_to_others_is_refused() {
        // "Asha" written backwards behind a right-to-left override shows as "Asha".
        let e = PatientName::parse("\u{202E}ahsA").unwrap_err();
        assert_eq!(e.field, "name");
        assert!(
            e.message.contains("text-direction control (U+202E)"),
            "{}",
            e.message
        );
        let e = PatientName::parse("Asha\u{200B}").unwrap_err();
        assert!(
            e.message.contains("invisible character (U+200B)"),
            "{}",
            e.message
        );
        // Whitespace is collapsed first: a joiner left next to a space is out of place.
        assert!(PatientName::parse("Asha \u{200D} Rao").is_err());
        assert_eq!(
            PatientName::parse(" क्\u{200D}षमा ").unwrap().as_str(),
            "क्\u{200D}षमा"
        );
    }

    #[test]
    fn labels_carry_the_queue_prefix() {
        assert_eq!(TokenNumber(7).label("A"), "A-7");
    }
}
