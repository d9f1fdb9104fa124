//! The display board for the waiting-room TV: per queue, who is being served and the
//! next few numbers.

use crate::domain::Language;
use serde::{Deserialize, Serialize};

/// How many upcoming numbers the board lists per queue.
pub const NEXT_ON_BOARD: usize = 5;

/// How many of the latest calls the board keeps on screen.
pub const CALLS_ON_BOARD: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardQueue {
    pub name: String,
    pub serving: Option<String>,
    /// The room the token being served was called to.
    pub serving_room: Option<String>,
    pub next: Vec<String>,
}

/// One call of the day: a token sent to a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardCall {
    pub token: String,
    pub queue: String,
    pub room: Option<String>,
    /// When it was called (ms): a token called again is a new call.
    pub at: i64,
}

impl BoardCall {
    /// Where the patient goes: the room, else the queue.
    pub fn place(&self) -> &str {
        self.room.as_deref().unwrap_or(&self.queue)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardView {
    pub clinic_name: String,
    pub slug: String,
    pub languages: Vec<Language>,
    pub queues: Vec<BoardQueue>,
    /// The latest calls across the clinic's queues, newest first.
    pub calls: Vec<BoardCall>,
    pub notice: Option<String>,
}
