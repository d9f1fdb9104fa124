//! What the tenant console (`/admin`), the clinic settings (`/clinic`) and the account page
//! show and how they say no. Built on the server by `tenant::console`; shared with the
//! browser.

use crate::domain::{BusinessStatus, Clinic, InvalidInput, Queue, Role};
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
    AlreadyInStatus(BusinessStatus),
    #[error("Your current password is not correct.")]
    WrongPassword,
    #[error("You cannot deactivate or reset your own account here; use \"Change password\".")]
    OwnAccount,
    #[error("{0}")]
    Invalid(InvalidInput),
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
    pub status: BusinessStatus,
    pub status_reason: String,
    pub tokens_today: u32,
    /// Queues whose day is open today.
    pub active_queues: u32,
    /// WhatsApp messages sent and permanently failed in the last 24 hours.
    pub messages_sent: u32,
    pub messages_failed: u32,
    pub created_at: i64,
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
    /// Whether the caller is the platform operator (and may change operator-only settings).
    pub operator: bool,
    /// The caller's own account id (their row cannot be deactivated or reset here).
    pub me: i64,
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
    pub language: crate::domain::Language,
    pub body: String,
    /// Whether the clinic wrote its own (otherwise Qline's default).
    pub custom: bool,
}
