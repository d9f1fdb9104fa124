//! What a patient's tracker shows. The server computes it from the queue day, for the
//! first render of `/t/{public_id}` and for every poll of `/api/t/{public_id}` (JSON).

use crate::domain::{Language, PublicId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    Waiting,
    YourTurn,
    Served,
    Missed,
    Cancelled,
    DayClosed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackerView {
    pub public_id: PublicId,
    pub clinic_name: String,
    pub clinic_slug: String,
    pub queue_name: String,
    /// The token as called out: `A-7`.
    pub token: String,
    pub language: Language,
    pub phase: Phase,
    /// Waiting patients who will be called first.
    pub ahead: u32,
    /// Minutes until the likely call, as a range (waiting tokens only).
    pub eta: Option<(u32, u32)>,
    pub now_serving: Option<String>,
    /// Where to go when called: the room the desk called from (`None` in a queue
    /// without rooms, and before the call).
    #[serde(default)]
    pub room: Option<String>,
    /// Where the desk moved the token from ("General A-3"), if it did.
    #[serde(default)]
    pub moved_from: Option<String>,
    /// Why the clinic is not running its queue (suspended, disabled), if so.
    pub notice: Option<String>,
    /// "Get updates on WhatsApp": a click-to-chat link to the clinic's number with the
    /// message that links this token, while the clinic uses WhatsApp and the token waits.
    pub whatsapp_link: Option<String>,
    /// Whether the patient has rated the visit (asked once, after being seen).
    pub rated: bool,
}

#[cfg(feature = "ssr")]
mod build {
    use super::*;
    use crate::domain::{CancelReason, Clinic, Queue, Timestamp, TokenId, TokenStatus};
    use crate::queue::rules::Day;
    use crate::queue::QueueError;

    impl TrackerView {
        pub fn build(
            clinic: &Clinic,
            queue: &Queue,
            day: &Day,
            token: TokenId,
            public_id: PublicId,
            language: Language,
            rated: bool,
            now: Timestamp,
        ) -> Option<Self> {
            let t = day.token(token).ok()?;
            let phase = match (t.state.status, t.state.cancel_reason) {
                (TokenStatus::Waiting, _) => Phase::Waiting,
                (TokenStatus::Serving, _) => Phase::YourTurn,
                (TokenStatus::Served, _) => Phase::Served,
                (TokenStatus::Skipped, _) => Phase::Missed,
                (TokenStatus::Cancelled, Some(CancelReason::DayClosed)) => Phase::DayClosed,
                (TokenStatus::Cancelled, _) => Phase::Cancelled,
            };
            let serving = day.serving();
            let ahead = day.ahead_of(token).map(|n| n as u32).unwrap_or(0);
            let eta =
                (phase == Phase::Waiting).then(|| day.pace(clinic, queue, now).wait_minutes(ahead));
            let notice = (!clinic.status.accepts_work()).then(|| {
                QueueError::ClinicNotAccepting {
                    status: clinic.status,
                }
                .to_string()
            });
            Some(TrackerView {
                public_id,
                clinic_name: clinic.name.clone(),
                clinic_slug: clinic.slug.to_string(),
                queue_name: queue.name.clone(),
                token: day.label(t.number),
                language,
                phase,
                ahead,
                eta,
                now_serving: serving.map(|s| day.label(s.number)),
                room: (phase == Phase::YourTurn)
                    .then(|| t.state.room.clone())
                    .flatten(),
                moved_from: t.origin.moved_from.clone(),
                notice,
                rated,
                whatsapp_link: None,
            })
        }
    }
}
