//! The display board for the waiting-room TV: per queue, who is being served and the
//! next few numbers.

use crate::domain::Language;
use serde::{Deserialize, Serialize};

/// How many upcoming numbers the board lists per queue.
pub const NEXT_ON_BOARD: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardQueue {
    pub name: String,
    pub serving: Option<String>,
    pub next: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardView {
    pub clinic_name: String,
    pub slug: String,
    pub languages: Vec<Language>,
    pub queues: Vec<BoardQueue>,
    pub notice: Option<String>,
}
