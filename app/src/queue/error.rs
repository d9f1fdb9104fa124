//! Every way the queue can say no, each with a message a receptionist or patient can act on.

use crate::domain::{ClinicStatus, InvalidInput, NextOpening, TokenStatus};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum QueueError {
    #[error("We could not find that clinic. Please check the link or scan the QR code again.")]
    UnknownClinic,
    #[error("That queue does not exist at this clinic.")]
    UnknownQueue,
    #[error("That token does not exist at this clinic.")]
    UnknownToken,
    #[error("{}", clinic_refusal(*status))]
    ClinicNotAccepting { status: ClinicStatus },
    #[error("Today's queue is closed. Please ask at reception.")]
    DayClosed,
    #[error("Joining online is paused right now. Please ask at reception.")]
    IntakePaused,
    /// Outside the queue's opening hours (before opening, on a break, after closing, on
    /// a closed day).
    #[error("{queue} is closed now. {}", reopening_words(next))]
    OutsideHours {
        queue: String,
        next: Option<NextOpening>,
    },
    #[error(
        "The clinic has given out all {limit} tokens it takes today. Please ask at reception."
    )]
    DailyLimitReached { limit: u32 },
    #[error("This phone number already has {limit} token(s) at this clinic today. Open the tracker link you received, or ask at reception.")]
    PhoneLimitReached { limit: u32 },
    #[error(
        "Too many tokens were taken from this network in the last hour. Please ask at reception."
    )]
    TooManyFromNetwork { limit: u32 },
    #[error("Token {token} is {}, so it cannot be {action}.", status.as_str().to_lowercase())]
    NotAllowed {
        token: String,
        status: TokenStatus,
        action: String,
    },
    #[error("Token {token} already has priority.")]
    AlreadyPriority { token: String },
    #[error(
        "The queue already moved: {}. Your screen has been refreshed; check it and try again.",
        now_serving_words(now_serving)
    )]
    QueueMoved { now_serving: Option<String> },
    /// The clinic changed a setting the action was prepared with (its country) while it
    /// ran, twice in a row.
    #[error("The clinic's settings changed a moment ago. Please try again.")]
    SettingsChanged,
    #[error("Nobody is waiting.")]
    NobodyWaiting,
    #[error("Nobody is being served right now.")]
    NothingServing,
    #[error("{token} is still being served. Finish or skip {token} before closing the day.")]
    PatientServing { token: String },
    #[error("There is nothing to undo.")]
    NothingToUndo,
    #[error("That action cannot be undone any more: token {token} has changed since.")]
    UndoConflict { token: String },
    #[error("This queue is seen in {}: choose your room at the top of the desk first.", rooms.join(", "))]
    ChooseRoom { rooms: Vec<String> },
    #[error("\"{room}\" is not one of this queue's rooms ({}). Choose your room again at the top of the desk.", rooms.join(", "))]
    UnknownRoom { room: String, rooms: Vec<String> },
    #[error("{token} is already in {queue}.")]
    SameQueue { token: String, queue: String },
    #[error("{queue} is closed for today, so nobody can be moved to it.")]
    TransferToClosed { queue: String },
    #[error("A patient can only be moved to another queue of this clinic.")]
    TransferElsewhere,
    #[error("This kiosk is locked. Type the clinic's kiosk code: the owner sets it under Clinic settings → Kiosk.")]
    KioskLocked,
    #[error("Too many wrong kiosk codes from this network. Try again in {} min.", wait_secs.div_ceil(60))]
    KioskTries { wait_secs: u32 },
    #[error("Too many requests from this network. Please try again in {} min.", wait_secs.div_ceil(60))]
    TooManyLookups { wait_secs: u32 },
    #[error("You do not have access to that clinic.")]
    Forbidden,
    #[error("{0}")]
    Invalid(InvalidInput),
}

fn clinic_refusal(status: ClinicStatus) -> &'static str {
    match status {
        ClinicStatus::Suspended => "This clinic's Qline service is suspended, so it is not taking tokens or queue changes. Please ask at reception.",
        ClinicStatus::Disabled => "This clinic no longer uses Qline. Please ask at reception.",
        ClinicStatus::Trial | ClinicStatus::Active => "This clinic is not taking tokens right now.",
    }
}

fn reopening_words(next: &Option<NextOpening>) -> String {
    match next {
        Some(next) => format!("It opens again {}.", next.words()),
        None => "Please ask at reception.".to_owned(),
    }
}

fn now_serving_words(now_serving: &Option<String>) -> String {
    match now_serving {
        Some(token) => format!("{token} is now being served"),
        None => "nobody is being served now".to_owned(),
    }
}

impl From<InvalidInput> for QueueError {
    fn from(e: InvalidInput) -> Self {
        QueueError::Invalid(e)
    }
}
