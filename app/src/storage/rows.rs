//! Rows as the database returns them, and their conversion into domain types.
//! Integers are BIGINT on PostgreSQL and INTEGER on SQLite, so both decode as `i64`.

use super::{RowAt, StorageError};
use crate::domain::eta::Estimate;
use crate::domain::*;
use crate::queue::rules::{Day, DayState, DayToken, TokenState};

fn count(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The columns of `businesses`, in this order, for every query that reads a clinic.
pub const CLINIC_COLUMNS: &str = "b.id, b.slug, b.name, b.address, b.contact_phone, b.timezone, \
    b.status, b.status_reason, b.whatsapp_enabled, b.qr_intake_enabled, b.daily_token_limit, \
    b.daily_message_limit, b.max_tokens_per_phone_per_day, b.joins_per_ip_per_hour, \
    b.default_country, b.eta_min_minutes, b.eta_max_minutes, b.languages, b.notify_when_ahead, \
    b.whatsapp_template_mode, b.retention_days, b.created_at";

#[derive(sqlx::FromRow)]
pub struct ClinicRow {
    pub(crate) id: i64,
    slug: String,
    name: String,
    address: String,
    contact_phone: String,
    timezone: String,
    status: String,
    status_reason: String,
    whatsapp_enabled: bool,
    qr_intake_enabled: bool,
    daily_token_limit: i64,
    daily_message_limit: i64,
    max_tokens_per_phone_per_day: i64,
    joins_per_ip_per_hour: i64,
    default_country: String,
    eta_min_minutes: i64,
    eta_max_minutes: i64,
    languages: String,
    notify_when_ahead: i64,
    whatsapp_template_mode: bool,
    retention_days: Option<i64>,
    created_at: i64,
}

/// The columns of a clinic's details and settings, in the order `bind_clinic_settings!`
/// binds them: one list for creating a clinic and for saving its settings.
pub const CLINIC_SETTINGS_COLUMNS: [&str; 17] = [
    "name",
    "address",
    "contact_phone",
    "timezone",
    "whatsapp_enabled",
    "qr_intake_enabled",
    "daily_token_limit",
    "daily_message_limit",
    "max_tokens_per_phone_per_day",
    "joins_per_ip_per_hour",
    "default_country",
    "eta_min_minutes",
    "eta_max_minutes",
    "languages",
    "notify_when_ahead",
    "whatsapp_template_mode",
    "retention_days",
];

/// Binds a clinic's details and settings (a `Clinic` or a `NewClinic`) to `$query`, in
/// the order of `CLINIC_SETTINGS_COLUMNS`.
macro_rules! bind_clinic_settings {
    ($query:expr, $clinic:expr) => {{
        let c = $clinic;
        let s = &c.settings;
        $query
            .bind(&c.name)
            .bind(&c.address)
            .bind(&c.contact_phone)
            .bind(c.timezone.name())
            .bind(s.whatsapp_enabled)
            .bind(s.qr_intake_enabled)
            .bind(i64::from(s.daily_token_limit))
            .bind(i64::from(s.daily_message_limit))
            .bind(i64::from(s.max_tokens_per_phone_per_day))
            .bind(i64::from(s.joins_per_ip_per_hour))
            .bind(s.default_country.as_str())
            .bind(i64::from(s.eta_min_minutes))
            .bind(i64::from(s.eta_max_minutes))
            .bind($crate::storage::rows::languages_column(&s.languages))
            .bind(i64::from(s.notify_when_ahead))
            .bind(s.whatsapp_template_mode)
            .bind(s.retention_days.map(i64::from))
    }};
}
pub(crate) use bind_clinic_settings;

/// How `businesses.languages` stores a clinic's languages: `EN,HI`.
pub fn languages_column(languages: &[Language]) -> String {
    languages
        .iter()
        .map(|l| l.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

impl TryFrom<ClinicRow> for Clinic {
    type Error = StorageError;
    fn try_from(r: ClinicRow) -> Result<Self, StorageError> {
        let at = RowAt::new("businesses", r.id);
        let languages = r
            .languages
            .split(',')
            .filter(|l| !l.is_empty())
            .map(|l| at.decode("languages", l, Language::from_stored))
            .collect::<Result<_, _>>()?;
        Ok(Clinic {
            id: ClinicId(r.id),
            slug: Slug::parse(&r.slug).map_err(|_| at.corrupt("slug", &r.slug))?,
            name: r.name,
            address: r.address,
            contact_phone: r.contact_phone,
            timezone: at.decode("timezone", &r.timezone, |t| TimeZone::parse(t).ok())?,
            status: at.decode("status", &r.status, ClinicStatus::from_stored)?,
            status_reason: r.status_reason,
            settings: ClinicSettings {
                whatsapp_enabled: r.whatsapp_enabled,
                qr_intake_enabled: r.qr_intake_enabled,
                daily_token_limit: count(r.daily_token_limit),
                daily_message_limit: count(r.daily_message_limit),
                max_tokens_per_phone_per_day: count(r.max_tokens_per_phone_per_day),
                joins_per_ip_per_hour: count(r.joins_per_ip_per_hour),
                default_country: CountryCode::parse(&r.default_country)
                    .map_err(|_| at.corrupt("default_country", &r.default_country))?,
                eta_min_minutes: count(r.eta_min_minutes),
                eta_max_minutes: count(r.eta_max_minutes),
                languages,
                notify_when_ahead: count(r.notify_when_ahead),
                whatsapp_template_mode: r.whatsapp_template_mode,
                retention_days: r.retention_days.map(count),
            },
            created_at: Timestamp(r.created_at),
        })
    }
}

pub const QUEUE_COLUMNS: &str =
    "q.id, q.business_id, q.name, q.prefix, q.default_service_minutes, q.position, q.archived, q.rooms, q.hours";

#[derive(sqlx::FromRow)]
pub struct QueueRow {
    id: i64,
    business_id: i64,
    name: String,
    prefix: String,
    default_service_minutes: Option<i64>,
    position: i64,
    archived: bool,
    rooms: String,
    hours: String,
}

impl From<QueueRow> for Queue {
    fn from(r: QueueRow) -> Self {
        Queue {
            id: QueueId(r.id),
            clinic_id: ClinicId(r.business_id),
            name: r.name,
            prefix: r.prefix,
            default_service_minutes: r.default_service_minutes.map(count),
            position: r.position,
            archived: r.archived,
            rooms: crate::domain::rooms_from_stored(&r.rooms),
            hours: crate::domain::Hours::from_stored(&r.hours),
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct DayRow {
    pub id: i64,
    pub service_date: String,
    pub status: String,
    pub intake_paused: bool,
    pub next_number: i64,
    pub closed_at: Option<i64>,
    /// The history the day opened with (JSON), for its wait estimates.
    pub history: Option<String>,
}

/// The columns of `DayRow`.
pub const DAY_COLUMNS: &str =
    "id, service_date, status, intake_paused, next_number, closed_at, history";

/// A queue with its clinic, read in one statement: the queue's columns carry a `q_`
/// prefix, as their names repeat the clinic's.
#[derive(sqlx::FromRow)]
pub struct QueueHeadRow {
    #[sqlx(flatten)]
    pub clinic: ClinicRow,
    q_id: i64,
    q_business_id: i64,
    q_name: String,
    q_prefix: String,
    q_default_service_minutes: Option<i64>,
    q_position: i64,
    q_archived: bool,
    q_rooms: String,
    q_hours: String,
}

/// The columns of `QueueHeadRow`, from `businesses b` and `queues q`.
const QUEUE_HEAD_COLUMNS: &str = "q.id AS q_id, q.business_id AS q_business_id, q.name AS q_name, \
     q.prefix AS q_prefix, q.default_service_minutes AS q_default_service_minutes, \
     q.position AS q_position, q.archived AS q_archived, q.rooms AS q_rooms, q.hours AS q_hours";

/// The statement `QueueHeadRow` reads, for the queue `$1`.
pub fn queue_head_sql() -> String {
    format!(
        "SELECT {CLINIC_COLUMNS}, {QUEUE_HEAD_COLUMNS} \
         FROM queues q JOIN businesses b ON b.id = q.business_id WHERE q.id = $1"
    )
}

impl QueueHeadRow {
    pub fn split(self) -> (ClinicRow, QueueRow) {
        let queue = QueueRow {
            id: self.q_id,
            business_id: self.q_business_id,
            name: self.q_name,
            prefix: self.q_prefix,
            default_service_minutes: self.q_default_service_minutes,
            position: self.q_position,
            archived: self.q_archived,
            rooms: self.q_rooms,
            hours: self.q_hours,
        };
        (self.clinic, queue)
    }
}

/// A queue day with its queue and clinic, read in one statement (`day_head_sql`): the
/// day's columns carry a `d_` prefix.
#[derive(sqlx::FromRow)]
pub struct DayHeadRow {
    #[sqlx(flatten)]
    pub head: QueueHeadRow,
    d_id: i64,
    d_service_date: String,
    d_status: String,
    d_intake_paused: bool,
    d_next_number: i64,
    d_closed_at: Option<i64>,
    d_history: Option<String>,
    d_version: i64,
    /// What the clinic sends notices with: its WhatsApp provider, an SMS account, and
    /// whether it wrote templates of its own (read with them only then).
    pub w_provider: Option<String>,
    pub has_sms: bool,
    pub has_templates: bool,
}

/// The statement `DayHeadRow` reads, without its `WHERE` (on the day `d`), with
/// `extra_columns` (each after a comma) that the row does not keep.
pub fn day_head_sql(extra_columns: &str) -> String {
    format!(
        "SELECT {CLINIC_COLUMNS}, {QUEUE_HEAD_COLUMNS}{extra_columns}, d.id AS d_id, \
         d.service_date AS d_service_date, d.status AS d_status, d.intake_paused AS d_intake_paused, \
         d.next_number AS d_next_number, d.closed_at AS d_closed_at, d.history AS d_history, \
         d.version AS d_version, \
         (SELECT w.provider FROM whatsapp_accounts w WHERE w.business_id = b.id) AS w_provider, \
         EXISTS (SELECT 1 FROM sms_accounts s WHERE s.business_id = b.id) AS has_sms, \
         EXISTS (SELECT 1 FROM message_templates t WHERE t.business_id = b.id) AS has_templates \
         FROM queue_days d JOIN queues q ON q.id = d.queue_id JOIN businesses b ON b.id = d.business_id"
    )
}

impl DayHeadRow {
    pub fn id(&self) -> i64 {
        self.d_id
    }

    /// The day's version: raised by every change to it or its tokens.
    pub fn version(&self) -> i64 {
        self.d_version
    }

    pub fn split(self) -> (ClinicRow, QueueRow, DayRow) {
        let (clinic, queue) = self.head.split();
        let day = DayRow {
            id: self.d_id,
            service_date: self.d_service_date,
            status: self.d_status,
            intake_paused: self.d_intake_paused,
            next_number: self.d_next_number,
            closed_at: self.d_closed_at,
            history: self.d_history,
        };
        (clinic, queue, day)
    }
}

impl DayRow {
    /// The day with its tokens and the history its estimates learn from.
    pub fn day(&self, prefix: &str, tokens: Vec<DayToken>) -> Result<Day, StorageError> {
        Ok(Day {
            prefix: prefix.to_owned(),
            state: self.state()?,
            tokens,
            history: match &self.history {
                Some(h) => serde_json::from_str(h).map_err(|e| {
                    RowAt::new("queue_days", self.id).corrupt("history", e.to_string())
                })?,
                None => Default::default(),
            },
        })
    }

    pub fn state(&self) -> Result<DayState, StorageError> {
        Ok(DayState {
            status: RowAt::new("queue_days", self.id).decode(
                "status",
                &self.status,
                DayStatus::from_stored,
            )?,
            intake_paused: self.intake_paused,
            closed_at: self.closed_at.map(Timestamp),
        })
    }
}

/// The columns the engine reads and writes for each token of a day.
pub const DAY_TOKEN_COLUMNS: &str = "id, number, status, previous_status, is_priority, \
    called_at, served_at, cancelled_at, cancel_reason, room, created_at, \
    eta_low, eta_high, eta_centre, eta_scale, eta_ahead, moved_from, move_note";

/// The estimate a token was shown on joining (all five columns, or none).
#[derive(sqlx::FromRow)]
pub struct EstimateColumns {
    eta_low: Option<i64>,
    eta_high: Option<i64>,
    eta_centre: Option<i64>,
    eta_scale: Option<i64>,
    eta_ahead: Option<i64>,
}

impl EstimateColumns {
    pub fn estimate(&self) -> Option<Estimate> {
        Some(Estimate {
            low: count(self.eta_low?),
            high: count(self.eta_high?),
            centre: count(self.eta_centre?),
            scale: count(self.eta_scale?),
            ahead: count(self.eta_ahead?),
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct DayTokenRow {
    id: i64,
    number: i64,
    status: String,
    previous_status: Option<String>,
    is_priority: bool,
    called_at: Option<i64>,
    served_at: Option<i64>,
    cancelled_at: Option<i64>,
    cancel_reason: Option<String>,
    room: Option<String>,
    created_at: i64,
    #[sqlx(flatten)]
    estimate: EstimateColumns,
    moved_from: Option<String>,
    move_note: Option<String>,
}

impl TryFrom<DayTokenRow> for DayToken {
    type Error = StorageError;
    fn try_from(r: DayTokenRow) -> Result<Self, StorageError> {
        let at = RowAt::new("tokens", r.id);
        Ok(DayToken {
            id: TokenId(r.id),
            number: TokenNumber(count(r.number)),
            state: TokenState {
                status: at.decode("status", &r.status, TokenStatus::from_stored)?,
                previous_status: at.decode_opt(
                    "previous_status",
                    r.previous_status.as_deref(),
                    TokenStatus::from_stored,
                )?,
                is_priority: r.is_priority,
                called_at: r.called_at.map(Timestamp),
                served_at: r.served_at.map(Timestamp),
                cancelled_at: r.cancelled_at.map(Timestamp),
                cancel_reason: at.decode_opt(
                    "cancel_reason",
                    r.cancel_reason.as_deref(),
                    CancelReason::from_stored,
                )?,
                room: r.room,
            },
            joined: Timestamp(r.created_at),
            estimate: r.estimate.estimate(),
            origin: crate::queue::rules::Origin {
                moved_from: r.moved_from,
                note: r.move_note,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct StaffRow {
    pub id: i64,
    pub business_id: Option<i64>,
    pub email: String,
    pub role: String,
    pub active: bool,
    pub must_change_password: bool,
    pub password_hash: String,
}

impl StaffRow {
    pub fn user(&self) -> Result<StaffUser, StorageError> {
        Ok(StaffUser {
            id: UserId(self.id),
            clinic_id: self.business_id.map(ClinicId),
            email: self.email.clone(),
            role: RowAt::new("staff_users", self.id).decode(
                "role",
                &self.role,
                Role::from_stored,
            )?,
            active: self.active,
            must_change_password: self.must_change_password,
        })
    }
}
