//! The clinic (tenant) and its queues: status, settings (SPEC §7) and staff roles.

use super::token::stored_enum;
use super::{ClinicId, InvalidInput, Language, QueueId, Slug, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

stored_enum!(
    /// A clinic's standing on the platform. Only TRIAL and ACTIVE clinics take tokens.
    ClinicStatus { Trial = "TRIAL", Active = "ACTIVE", Suspended = "SUSPENDED", Disabled = "DISABLED" }
);

impl ClinicStatus {
    pub fn accepts_work(self) -> bool {
        matches!(self, ClinicStatus::Trial | ClinicStatus::Active)
    }
}

stored_enum!(
    /// What a staff user may do. A SUPER_ADMIN runs the platform and has no clinic;
    /// OWNER and RECEPTIONIST belong to exactly one clinic.
    Role { SuperAdmin = "SUPER_ADMIN", Owner = "OWNER", Receptionist = "RECEPTIONIST" }
);

/// An ISO 3166 two-letter country code, used to read national phone numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CountryCode(String);

impl CountryCode {
    pub fn parse(input: &str) -> Result<Self, InvalidInput> {
        let code = input.trim().to_ascii_uppercase();
        if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(code))
        } else {
            Err(InvalidInput::new(
                "default_country",
                "Use a two-letter country code such as IN or AE.",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A number people of this country will recognise, for error messages and placeholders.
    pub fn example_number(&self) -> &'static str {
        match self.0.as_str() {
            "AE" => "050 123 4567",
            "SA" => "050 123 4567",
            "QA" => "3312 3456",
            "OM" => "9212 3456",
            "KW" => "500 12345",
            "BH" => "3600 1234",
            _ => "98123 45678",
        }
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Per-clinic settings (SPEC §7). Stored as columns of `businesses`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicSettings {
    pub whatsapp_enabled: bool,
    pub qr_intake_enabled: bool,
    pub daily_token_limit: u32,
    pub daily_message_limit: u32,
    pub max_tokens_per_phone_per_day: u32,
    /// Tokens one network address may take per hour through the public join page.
    pub joins_per_ip_per_hour: u32,
    pub default_country: CountryCode,
    /// The per-patient service time assumed before the clinic has data of its own.
    pub eta_min_minutes: u32,
    pub eta_max_minutes: u32,
    pub languages: Vec<Language>,
    pub notify_when_ahead: u32,
    pub whatsapp_template_mode: bool,
    /// Days patients' personal data is kept, when the clinic keeps less than the
    /// platform's default (`None`: the default).
    pub retention_days: Option<u32>,
}

impl Default for ClinicSettings {
    fn default() -> Self {
        Self {
            whatsapp_enabled: false,
            qr_intake_enabled: true,
            daily_token_limit: 300,
            daily_message_limit: 1000,
            max_tokens_per_phone_per_day: 1,
            joins_per_ip_per_hour: 30,
            default_country: CountryCode("IN".into()),
            eta_min_minutes: 6,
            eta_max_minutes: 15,
            languages: vec![Language::En, Language::Hi],
            notify_when_ahead: 2,
            whatsapp_template_mode: false,
            retention_days: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clinic {
    pub id: ClinicId,
    pub slug: Slug,
    pub name: String,
    pub address: String,
    pub contact_phone: String,
    /// An IANA timezone name such as `Asia/Kolkata`; a queue day is a local calendar day.
    pub timezone: super::TimeZone,
    pub status: ClinicStatus,
    pub status_reason: String,
    pub settings: ClinicSettings,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    pub id: QueueId,
    pub clinic_id: ClinicId,
    pub name: String,
    pub prefix: String,
    pub default_service_minutes: Option<u32>,
    pub position: i64,
    pub archived: bool,
    /// Where the queue's patients are seen ("Room 2", "Dental chair 1"), in the order
    /// the desk offers them; empty for a queue seen in one unnamed place.
    pub rooms: Vec<String>,
    /// When patients may take its tokens, and when its day closes itself.
    pub hours: super::Hours,
}

impl Queue {
    /// Whether the queue's hours take patients at `now`, on the clinic's clock.
    #[cfg(feature = "ssr")]
    pub fn opening_at(&self, timezone: &super::TimeZone, now: super::Timestamp) -> super::Opening {
        let minute = (now.local_secs(timezone) / 60) as u16;
        self.hours.at(now.local_date(timezone), minute)
    }
}

/// A queue's rooms as stored: one name per line.
pub fn rooms_from_stored(stored: &str) -> Vec<String> {
    stored
        .lines()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect()
}

pub fn rooms_to_stored(rooms: &[String]) -> String {
    rooms.join("\n")
}
