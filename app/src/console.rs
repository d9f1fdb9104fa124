//! What the tenant console (`/admin`), the clinic settings (`/clinic`) and the account page
//! show and how they say no. Built on the server by `tenant::console`; shared with the
//! browser.

use crate::domain::{Clinic, ClinicStatus, InvalidInput, Queue, Role, SignInError};
use crate::outbox::{AttemptCount, AttemptOutcome, OutboxStatus, OutcomeCount};
use serde::{Deserialize, Serialize};

/// Every way a console action can be refused, each with a message an operator or owner
/// can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ConsoleError {
    #[error("Your account cannot do that.")]
    WrongRole,
    #[error("You can only manage your own clinic.")]
    Forbidden,
    #[error("There is no clinic with the short name \"{0}\".")]
    UnknownClinic(String),
    #[error("That staff account does not exist at this clinic.")]
    UnknownStaff,
    #[error("That queue does not exist at this clinic.")]
    UnknownQueue,
    #[error("A clinic with the short name \"{0}\" already exists. Choose another.")]
    SlugTaken(String),
    #[error("A staff account with the email {0} already exists.")]
    EmailTaken(String),
    #[error("This clinic already has a queue with the prefix \"{0}\". Choose another letter.")]
    PrefixTaken(String),
    #[error("Only the platform operator can change {0}.")]
    OperatorOnly(String),
    #[error("A clinic always keeps at least one active owner: add another owner first.")]
    LastOwner,
    #[error("A clinic always keeps at least one queue in use.")]
    LastQueue,
    #[error("{0} still has patients waiting or being served today. Serve them, cancel them or close today's queue first.")]
    QueueHasPatients(String),
    #[error("The clinic still has patients waiting in {}. Close today's queue there first, then delete.", .0.join(", "))]
    ClinicActive(Vec<String>),
    #[error("Type the clinic's short name \"{0}\" exactly to confirm the deletion.")]
    ConfirmationMismatch(String),
    #[error("Give a reason; it is kept in the audit log and shown to the clinic.")]
    ReasonRequired,
    #[error("The clinic is already {}.", .0.as_str().to_lowercase())]
    AlreadyInStatus(ClinicStatus),
    #[error("Your current password is not correct.")]
    WrongPassword,
    #[error("You cannot deactivate or reset your own account here; use \"Change password\".")]
    OwnAccount,
    #[error("This clinic holds no data for {0}: nothing was changed. Check the number (with its country code if it is not from the clinic's country).")]
    UnknownPatient(String),
    #[error("Tick \"I understand this cannot be undone\" to erase the patient's data.")]
    ErasureNotConfirmed,
    #[error("{0}")]
    Invalid(InvalidInput),
    /// The current-password check is limited like a sign-in.
    #[error("{0}")]
    SignIn(SignInError),
}

impl From<InvalidInput> for ConsoleError {
    fn from(e: InvalidInput) -> Self {
        ConsoleError::Invalid(e)
    }
}

/// One clinic in the operator's list, with today's usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicSummary {
    pub slug: String,
    pub name: String,
    pub status: ClinicStatus,
    pub status_reason: String,
    pub tokens_today: u32,
    /// Queues whose day is open today.
    pub active_queues: u32,
    /// WhatsApp messages sent and permanently failed in the last 24 hours.
    pub messages_sent: u32,
    pub messages_failed: u32,
    /// Alerts in the last 24 hours: how each reached the patient, or did not.
    pub delivery: DeliveryStats,
    pub created_at: i64,
}

/// How notifications reached patients over a period: the share each channel delivered,
/// each channel's attempts and success rate, and what the paid ones cost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryStats {
    /// Alerts sent down the fallback chain: "near", "your turn", "missed".
    pub notifications: u32,
    /// Notifications each channel delivered, in chain order.
    pub reached: Vec<(crate::messages::Channel, u32)>,
    /// Ended with no channel reaching the patient.
    pub not_reached: u32,
    /// Still on their way.
    pub pending: u32,
    pub channels: Vec<ChannelStats>,
}

/// One channel's tries over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelStats {
    pub channel: crate::messages::Channel,
    /// Tries that reached the channel's provider (skips, where the channel could not be
    /// used at all, are not counted).
    pub attempts: u32,
    pub delivered: u32,
    /// SMS segments, or WhatsApp template messages: what the provider bills.
    pub cost_units: u32,
}

impl DeliveryStats {
    /// Adds up counts as storage reads them: tries per channel and outcome, notifications
    /// per status and channel.
    pub fn from_counts<'a>(
        attempts: impl IntoIterator<Item = &'a AttemptCount>,
        outcomes: impl IntoIterator<Item = &'a OutcomeCount>,
    ) -> Self {
        use crate::messages::Channel;
        let mut stats = DeliveryStats {
            channels: Channel::ALL
                .iter()
                .map(|&channel| ChannelStats {
                    channel,
                    attempts: 0,
                    delivered: 0,
                    cost_units: 0,
                })
                .collect(),
            reached: Channel::ALL.iter().map(|&c| (c, 0)).collect(),
            ..DeliveryStats::default()
        };
        for a in attempts {
            let Some(line) = stats.channels.iter_mut().find(|l| l.channel == a.channel) else {
                continue;
            };
            match a.outcome {
                AttemptOutcome::Sent => {
                    line.attempts += a.count;
                    line.delivered += a.count;
                }
                AttemptOutcome::Failed => line.attempts += a.count,
                AttemptOutcome::Skipped => {}
            }
            line.cost_units += a.cost_units;
        }
        for o in outcomes {
            stats.notifications += o.count;
            match o.status {
                OutboxStatus::Sent => {
                    if let Some(line) = stats.reached.iter_mut().find(|(c, _)| *c == o.channel) {
                        line.1 += o.count;
                    }
                }
                OutboxStatus::Pending | OutboxStatus::Sending => stats.pending += o.count,
                OutboxStatus::Failed | OutboxStatus::Skipped => stats.not_reached += o.count,
            }
        }
        stats
    }

    /// The share of notifications a channel delivered, in percent.
    pub fn share(&self, channel: crate::messages::Channel) -> u32 {
        let reached = self
            .reached
            .iter()
            .find(|(c, _)| *c == channel)
            .map_or(0, |(_, n)| *n);
        percent(reached, self.notifications)
    }

    pub fn not_reached_share(&self) -> u32 {
        percent(self.not_reached, self.notifications)
    }
}

impl ChannelStats {
    /// Tries that delivered, in percent.
    pub fn rate(&self) -> u32 {
        percent(self.delivered, self.attempts)
    }
}

fn percent(part: u32, whole: u32) -> u32 {
    if whole == 0 {
        0
    } else {
        (f64::from(part) * 100.0 / f64::from(whole)).round() as u32
    }
}

/// A clinic's SMS account as its settings show it: the auth token masked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsView {
    pub configured: bool,
    pub account_sid: String,
    pub from_number: String,
    pub auth_token: String,
}

/// The SMS account form. An empty auth token keeps the stored one; `remove` switches SMS off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsInput {
    #[serde(default)]
    pub account_sid: String,
    #[serde(default)]
    pub auth_token: String,
    #[serde(default)]
    pub from_number: String,
    #[serde(default)]
    pub remove: bool,
}

/// A staff account as the consoles list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffLine {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub active: bool,
    pub must_change_password: bool,
}

/// Tokens a clinic took on one local date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageDay {
    /// `YYYY-MM-DD` in the clinic's timezone.
    pub date: String,
    pub tokens: u32,
    pub served: u32,
}

/// Everything needed to run one clinic: the owner's `/clinic` and the operator's clinic page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicConsole {
    pub clinic: Clinic,
    /// Including archived ones, in display order.
    pub queues: Vec<Queue>,
    pub staff: Vec<StaffLine>,
    /// The last 30 days, oldest first, days without tokens included.
    pub usage: Vec<UsageDay>,
    pub join_url: String,
    pub display_url: String,
    /// The reception kiosk's page, and the code that opens it (`None`: no kiosk).
    pub kiosk_url: String,
    pub kiosk_code: Option<String>,
    /// Whether the caller is the platform operator (and may change operator-only settings).
    pub operator: bool,
    /// The caller's own account id (their row cannot be deactivated or reset here).
    pub me: i64,
    /// The last 30 days' notifications.
    pub delivery: DeliveryStats,
    /// Replies the desk can send with one tap, in order.
    pub canned_replies: Vec<String>,
    /// Days the platform keeps patients' data (a clinic may keep less).
    pub platform_retention_days: u32,
    /// Patients' requests to erase their data, oldest first.
    pub erasure_requests: Vec<ErasureRequest>,
}

/// A password someone else must hand over: shown once, changed at the first sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeLogin {
    pub email: String,
    pub password: String,
}

/// A new clinic and its owner's first login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedClinic {
    pub slug: String,
    pub owner: OneTimeLogin,
}

/// The platform's state at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub version: String,
    pub backend: String,
    /// `None` when the database answers and is migrated, else why not.
    pub database_problem: Option<String>,
    pub database_ms: u32,
    /// The oldest message still waiting to be sent, in seconds (`None`: nothing waiting).
    pub worker_lag_seconds: Option<u32>,
    pub clinics: u32,
    pub tokens_today: u32,
    /// Every clinic's notifications over the last 30 days.
    pub delivery: DeliveryStats,
}

/// One row of the console's audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditLine {
    pub at: i64,
    pub actor: String,
    pub ip: String,
    pub action: String,
    pub clinic: String,
    pub target: String,
}

/// What the printable QR poster holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Poster {
    pub clinic_name: String,
    pub join_url: String,
    /// The QR code of `join_url`, as an SVG document.
    pub qr_svg: String,
    /// `(heading, steps)` in each of the clinic's languages.
    pub instructions: Vec<(String, Vec<String>)>,
    /// Joining on WhatsApp instead: `(wa.me link with "JOIN <slug>", its QR code as SVG)`.
    pub whatsapp_join: Option<(String, String)>,
}

/// Settings as typed into the forms: `None` leaves a setting as it is. Numbers arrive as
/// text so that a typo gets a message naming the field, not a decoding error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsInput {
    pub name: Option<String>,
    pub address: Option<String>,
    pub contact_phone: Option<String>,
    pub timezone: Option<String>,
    pub default_country: Option<String>,
    /// `en`, `hi` or `en,hi`.
    pub languages: Option<String>,
    /// `on` / `off`.
    pub qr_intake_enabled: Option<String>,
    pub max_tokens_per_phone_per_day: Option<String>,
    pub eta_min_minutes: Option<String>,
    pub eta_max_minutes: Option<String>,
    pub notify_when_ahead: Option<String>,
    /// Days patients' personal data is kept; empty: the platform's default.
    pub retention_days: Option<String>,
    // Operator only.
    pub whatsapp_enabled: Option<String>,
    pub whatsapp_template_mode: Option<String>,
    pub daily_token_limit: Option<String>,
    pub daily_message_limit: Option<String>,
    pub joins_per_ip_per_hour: Option<String>,
}

/// Filters for the console's audit log; empty strings match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub clinic: String,
    pub action: String,
    pub actor: String,
}

/// Which WhatsApp provider a clinic sends through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProviderKind {
    /// Records messages without sending: demos and tests.
    Log,
    UltraMsg,
    /// The Meta WhatsApp Cloud API.
    Meta,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Log => "LOG",
            ProviderKind::UltraMsg => "ULTRAMSG",
            ProviderKind::Meta => "META",
        }
    }

    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "LOG" => Some(ProviderKind::Log),
            "ULTRAMSG" => Some(ProviderKind::UltraMsg),
            "META" => Some(ProviderKind::Meta),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ProviderKind::Log => "Log only (records, never sends)",
            ProviderKind::UltraMsg => "UltraMsg",
            ProviderKind::Meta => "Meta WhatsApp Cloud API",
        }
    }
}

/// A clinic's WhatsApp connection as its settings page shows it: secrets masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatsAppView {
    pub provider: Option<ProviderKind>,
    pub phone_number: String,
    pub ultramsg_instance: String,
    pub meta_phone_number_id: String,
    /// `(what, masked value)` for each secret that is set.
    pub secrets: Vec<(String, String)>,
    /// Where the provider must send its webhooks.
    pub webhook_url: String,
    pub enabled: bool,
    pub template_mode: bool,
    pub messages_today: u32,
    pub daily_limit: u32,
}

/// The WhatsApp connection form. An empty secret keeps the one stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhatsAppInput {
    pub provider: String,
    pub phone_number: String,
    #[serde(default)]
    pub ultramsg_instance: String,
    #[serde(default)]
    pub ultramsg_token: String,
    #[serde(default)]
    pub meta_phone_number_id: String,
    #[serde(default)]
    pub meta_access_token: String,
    #[serde(default)]
    pub meta_app_secret: String,
    #[serde(default)]
    pub meta_verify_token: String,
}

/// One message template as the editor lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateLine {
    pub kind: crate::messages::MessageKind,
    pub channel: crate::messages::TemplateChannel,
    pub language: crate::domain::Language,
    pub body: String,
    /// Whether the clinic wrote its own (otherwise Qline's default).
    pub custom: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::Channel;

    #[test]
    fn delivery_shares_and_rates_add_up_from_the_counts() {
        use AttemptOutcome as A;
        use Channel::{Push, Sms, WhatsApp};
        use OutboxStatus as S;
        let attempts = [
            (Push, A::Sent, 3, 0),
            (Push, A::Failed, 1, 0),
            (Push, A::Skipped, 5, 0),
            (Sms, A::Sent, 2, 3),
        ]
        .map(|(channel, outcome, count, cost_units)| AttemptCount {
            clinic: crate::domain::ClinicId(1),
            channel,
            outcome,
            count,
            cost_units,
        });
        let outcomes = [
            (S::Sent, Push, 3),
            (S::Sent, Sms, 2),
            (S::Skipped, WhatsApp, 4),
            (S::Failed, Sms, 1),
            (S::Pending, Push, 2),
        ]
        .map(|(status, channel, count)| OutcomeCount {
            clinic: crate::domain::ClinicId(1),
            status,
            channel,
            count,
        });
        let stats = DeliveryStats::from_counts(&attempts, &outcomes);
        assert_eq!(stats.notifications, 12);
        assert_eq!(stats.share(Channel::Push), 25);
        assert_eq!(stats.share(Channel::Sms), 17);
        assert_eq!(stats.share(Channel::WhatsApp), 0);
        assert_eq!(stats.not_reached, 5);
        assert_eq!(stats.pending, 2);
        let push = &stats.channels[0];
        assert_eq!((push.attempts, push.delivered, push.rate()), (4, 3, 75));
        assert_eq!(stats.channels[2].cost_units, 3);
    }
}

/// What a purge or an erasure removed (or, on a dry run, would remove).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    /// Tokens anonymised.
    pub tokens: u64,
    /// Outgoing messages emptied of their phone and text.
    pub messages: u64,
    /// Patients' WhatsApp messages deleted.
    pub inbound: u64,
    /// WhatsApp conversation windows deleted.
    pub windows: u64,
    pub push_subscriptions: u64,
    /// Audit rows that lost a patient's address or a reply's text.
    pub audit_rows: u64,
}

impl Removed {
    pub fn add(&mut self, other: Removed) {
        self.tokens += other.tokens;
        self.messages += other.messages;
        self.inbound += other.inbound;
        self.windows += other.windows;
        self.push_subscriptions += other.push_subscriptions;
        self.audit_rows += other.audit_rows;
    }

    pub fn is_empty(&self) -> bool {
        *self == Removed::default()
    }
}

/// What a clinic holds on one phone, found for an access request or an erasure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientData {
    /// E.164.
    pub phone: String,
    pub record: PatientRecord,
    /// The record as a JSON document to hand to the patient.
    pub export_json: String,
}

/// What an erasure removed, and whose (E.164).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erased {
    pub phone: String,
    pub removed: Removed,
}

/// A patient's request, sent on WhatsApp, that the clinic erase their data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRequest {
    pub phone: String,
    /// Local date and time at the clinic.
    pub requested_at: String,
}

/// One token of a patient's, as an access request exports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedVisit {
    pub token: String,
    pub queue: String,
    pub date: String,
    pub status: String,
    pub name: String,
    pub phone: Option<String>,
    pub source: String,
    pub language: String,
    pub joined_at: i64,
    pub called_at: Option<i64>,
    pub served_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub rating: Option<i64>,
    pub feedback: Option<String>,
    pub push_subscriptions: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedMessage {
    /// `to patient` or `from patient`.
    pub direction: String,
    pub kind: String,
    pub channel: String,
    pub status: String,
    pub text: String,
    pub at: i64,
}

/// Everything a clinic holds on one phone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientRecord {
    pub visits: Vec<ExportedVisit>,
    pub messages: Vec<ExportedMessage>,
    /// Whether the patient said STOP on WhatsApp (and it still holds).
    pub whatsapp_stopped: bool,
    /// When the patient asked, on WhatsApp, for their data to be erased.
    pub erasure_requested_at: Option<i64>,
}

impl PatientRecord {
    pub fn is_empty(&self) -> bool {
        self.visits.is_empty()
            && self.messages.is_empty()
            && !self.whatsapp_stopped
            && self.erasure_requested_at.is_none()
    }
}
