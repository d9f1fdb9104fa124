//! What the receptionist's desk shows: today's queue with names, sources and waiting
//! times. Built on the server from the queue day; polled by the desk page.

use crate::domain::Source;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskToken {
    pub id: i64,
    /// As called out: `A-7`.
    pub label: String,
    pub name: String,
    pub source: Source,
    pub priority: bool,
    /// When the token was taken (ms since the epoch).
    pub joined_at: i64,
    /// Until when the patient's WhatsApp conversation window is open (ms), if it is.
    pub whatsapp_until: Option<i64>,
    /// The wait the patient is shown, in minutes (waiting patients only).
    pub eta: Option<(u32, u32)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskView {
    pub clinic_name: String,
    /// Set while the clinic may not change its queues (suspended, disabled), saying why.
    pub notice: Option<String>,
    /// Whether the signed-in user owns the clinic (and may open its settings).
    pub owner: bool,
    /// `(queue id, name)` of the clinic's queues.
    pub queues: Vec<(i64, String)>,
    pub queue_id: i64,
    pub serving: Option<DeskToken>,
    /// In the order NEXT will call them.
    pub waiting: Vec<DeskToken>,
    pub skipped: Vec<DeskToken>,
    pub served_today: u32,
    pub cancelled_today: u32,
    pub intake_paused: bool,
    pub day_closed: bool,
    /// When someone was last called (ms), for the stall warning.
    pub last_called_at: Option<i64>,
    /// The server's clock when this was built (ms).
    pub now: i64,
    /// The clinic's offset from UTC now, for showing times as the clinic reads them.
    pub utc_offset_minutes: i32,
}

/// Minutes without a call, while patients wait, after which the desk turns amber.
pub const STALL_MINUTES: i64 = 5;

impl DeskView {
    /// Nobody called for `STALL_MINUTES` while patients wait.
    pub fn stalled(&self, now: i64) -> bool {
        let since = self
            .last_called_at
            .or_else(|| self.waiting.iter().map(|t| t.joined_at).min());
        self.serving.is_none()
            && !self.waiting.is_empty()
            && since.is_some_and(|t| now - t >= STALL_MINUTES * 60_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(joined_at: i64) -> DeskToken {
        DeskToken {
            id: 1,
            label: "A-1".into(),
            name: "Asha".into(),
            source: Source::Qr,
            priority: false,
            joined_at,
            whatsapp_until: None,
            eta: None,
        }
    }

    fn view(
        waiting: Vec<DeskToken>,
        serving: Option<DeskToken>,
        last_called_at: Option<i64>,
    ) -> DeskView {
        DeskView {
            clinic_name: "Demo".into(),
            notice: None,
            owner: false,
            queues: vec![],
            queue_id: 1,
            serving,
            waiting,
            skipped: vec![],
            served_today: 0,
            cancelled_today: 0,
            intake_paused: false,
            day_closed: false,
            last_called_at,
            now: 0,
            utc_offset_minutes: 330,
        }
    }

    const MINUTE: i64 = 60_000;

    #[test]
    fn the_desk_turns_amber_after_five_quiet_minutes_with_patients_waiting() {
        let called_at = 10 * MINUTE;
        let waiting = view(vec![token(0)], None, Some(called_at));
        assert!(!waiting.stalled(called_at + 4 * MINUTE));
        assert!(waiting.stalled(called_at + 5 * MINUTE));
        // Nobody called yet today: counted from the first arrival.
        assert!(view(vec![token(0)], None, None).stalled(5 * MINUTE));
        // Someone is with the doctor, or nobody waits: not a stall.
        assert!(!view(vec![token(0)], Some(token(0)), Some(0)).stalled(60 * MINUTE));
        assert!(!view(vec![], None, Some(0)).stalled(60 * MINUTE));
    }
}
