//! What the receptionist's desk shows: today's queue with names, sources and waiting
//! times. Built on the server from the queue day; polled by the desk page.

use crate::domain::Source;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskToken {
    pub id: i64,
    /// The tracker's id: the desk prints the token's ticket from it.
    pub public_id: String,
    /// As called out: `A-7`.
    pub label: String,
    pub name: String,
    pub source: Source,
    pub priority: bool,
    /// When the token was taken (ms since the epoch).
    pub joined_at: i64,
    /// Until when the patient's WhatsApp conversation window is (or was) open (ms), if
    /// they ever wrote to the clinic.
    pub whatsapp_until: Option<i64>,
    /// The patient sent STOP: nothing is sent until they write again.
    pub whatsapp_stopped: bool,
    /// The wait the patient is shown, in minutes (waiting patients only).
    pub eta: Option<(u32, u32)>,
    /// The room the patient was called to (the one being served).
    pub room: Option<String>,
    /// Where the desk moved the patient from ("General A-3") and its note, if it did.
    pub moved_from: Option<String>,
    pub note: Option<String>,
    /// The alerts sent to the patient today and how each went.
    pub notices: Vec<NoticeLine>,
    /// The patient's WhatsApp conversation with the desk today, oldest first.
    pub chat: Vec<ChatLine>,
}

/// One alert to a patient: which, and by which channel it reached them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeLine {
    pub kind: crate::messages::MessageKind,
    /// The channel that delivered it, or is being tried while pending.
    pub channel: crate::messages::Channel,
    pub state: NoticeState,
    /// The channels that were tried and did not deliver, in order, with why in a word
    /// ("failed", "skipped").
    pub missed: Vec<(crate::messages::Channel, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoticeState {
    Pending,
    Sent,
    /// No channel reached the patient.
    NotReached,
}

/// One message of the staff inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatLine {
    /// The patient wrote it (else the desk did).
    pub from_patient: bool,
    pub body: String,
    pub at: i64,
    /// For the desk's replies: whether WhatsApp took it yet.
    pub state: Option<NoticeState>,
}

impl NoticeLine {
    /// "turn: SMS", "near: push …", "missed: not reached".
    pub fn words(&self) -> String {
        use crate::messages::MessageKind::*;
        let what = match self.kind {
            NextSoon => "near",
            YourTurn => "turn",
            Missed => "missed",
            TokenCreated => "token",
            Feedback => "feedback",
            Moved => "moved",
            Link => "link",
            Welcome => "welcome",
        };
        let done = match self.state {
            NoticeState::Sent => format!("{what}: {}", self.channel.label()),
            NoticeState::Pending => format!("{what}: {}…", self.channel.label()),
            NoticeState::NotReached => format!("{what}: not reached"),
        };
        if self.missed.is_empty() {
            return done;
        }
        let tried: Vec<String> = self
            .missed
            .iter()
            .map(|(channel, why)| format!("{} {why}", channel.label()))
            .collect();
        format!("{done} ({})", tried.join(", "))
    }
}

impl DeskToken {
    /// Whether the desk may reply on WhatsApp at `now` (ms).
    pub fn can_reply(&self, now: i64) -> bool {
        !self.whatsapp_stopped && self.whatsapp_until.is_some_and(|until| until > now)
    }
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
    /// Where this queue's patients are seen; the desk works in one of them.
    pub rooms: Vec<String>,
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
    /// The owner's canned replies for the inbox.
    pub canned_replies: Vec<String>,
}

/// The day's alerts, their tries and the conversations, grouped by token once for a
/// desk view (the desk asks for every token's).
#[cfg(feature = "ssr")]
#[derive(Debug, Default)]
pub struct DeskMessages {
    notices: std::collections::HashMap<i64, Vec<NoticeLine>>,
    chat: std::collections::HashMap<i64, Vec<ChatLine>>,
}

#[cfg(feature = "ssr")]
impl DeskMessages {
    /// From what storage read for the whole day: messages about tokens, every try of
    /// them, and patients' messages for the desk.
    pub fn new(
        sent: &[crate::outbox::SentMessage],
        attempts: &[crate::outbox::Attempt],
        inbox: &[crate::whatsapp::PatientMessage],
    ) -> Self {
        use crate::messages::{Channel, MessageKind};
        use crate::outbox::{AttemptOutcome, OutboxKind, OutboxStatus};
        let state = |status: OutboxStatus| match status {
            OutboxStatus::Sent => NoticeState::Sent,
            OutboxStatus::Pending | OutboxStatus::Sending => NoticeState::Pending,
            OutboxStatus::Failed | OutboxStatus::Skipped => NoticeState::NotReached,
        };
        let mut tries: std::collections::HashMap<i64, Vec<&crate::outbox::Attempt>> =
            Default::default();
        for attempt in attempts {
            tries.entry(attempt.message).or_default().push(attempt);
        }
        let mut out = DeskMessages::default();
        for s in sent {
            let token = s.token.get();
            let kind = match s.kind {
                OutboxKind::StaffReply => {
                    out.chat.entry(token).or_default().push(ChatLine {
                        from_patient: false,
                        body: s.body.clone(),
                        at: s.created_at.millis(),
                        state: Some(state(s.status)),
                    });
                    continue;
                }
                OutboxKind::Notice(MessageKind::Welcome) | OutboxKind::BotReply => continue,
                OutboxKind::Notice(kind) => kind,
            };
            // Each channel once, with how its last try went, unless it delivered.
            let mut missed: Vec<(Channel, String)> = Vec::new();
            for attempt in tries.get(&s.id).into_iter().flatten() {
                missed.retain(|(c, _)| *c != attempt.channel);
                let why = match attempt.outcome {
                    AttemptOutcome::Sent => continue,
                    AttemptOutcome::Skipped => "skipped",
                    AttemptOutcome::Failed => "failed",
                };
                missed.push((attempt.channel, why.to_owned()));
            }
            out.notices.entry(token).or_default().push(NoticeLine {
                kind,
                channel: s.channel,
                state: state(s.status),
                missed,
            });
        }
        for m in inbox {
            let Some(token) = m.token else { continue };
            out.chat.entry(token.get()).or_default().push(ChatLine {
                from_patient: true,
                body: m.body.clone(),
                at: m.received_at.millis(),
                state: None,
            });
        }
        for lines in out.chat.values_mut() {
            lines.sort_by_key(|line| line.at);
        }
        out
    }

    /// A token's alerts and its conversation, oldest first.
    pub fn of(&self, token: i64) -> (Vec<NoticeLine>, Vec<ChatLine>) {
        (
            self.notices.get(&token).cloned().unwrap_or_default(),
            self.chat.get(&token).cloned().unwrap_or_default(),
        )
    }
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
            public_id: String::new(),
            label: "A-1".into(),
            name: "Asha".into(),
            source: Source::Qr,
            priority: false,
            joined_at,
            whatsapp_until: None,
            whatsapp_stopped: false,
            eta: None,
            room: None,
            moved_from: None,
            note: None,
            notices: vec![],
            chat: vec![],
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
            rooms: vec![],
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
            canned_replies: vec![],
        }
    }

    const MINUTE: i64 = 60_000;

    #[test]
    fn an_alert_says_how_it_reached_the_patient_and_what_failed_first() {
        use crate::messages::{Channel, MessageKind};
        let line = NoticeLine {
            kind: MessageKind::YourTurn,
            channel: Channel::Sms,
            state: NoticeState::Sent,
            missed: vec![
                (Channel::Push, "failed".into()),
                (Channel::WhatsApp, "skipped".into()),
            ],
        };
        assert_eq!(line.words(), "turn: SMS (push failed, WhatsApp skipped)");
        let nobody = NoticeLine {
            kind: MessageKind::NextSoon,
            channel: Channel::Push,
            state: NoticeState::NotReached,
            missed: vec![],
        };
        assert_eq!(nobody.words(), "near: not reached");
    }

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
