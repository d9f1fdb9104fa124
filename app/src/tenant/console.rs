//! The tenant console and clinic settings: who may change what (docs/ROLES.md), the
//! validation of every setting, and each change as one transaction with its audit row.
//!
//! The platform operator (SUPER_ADMIN) reaches every clinic by its slug; an owner reaches
//! only their own clinic; a receptionist reaches none of this.

use super::{hash_password, parse_email, random_password, verify_password, TenantError};
use crate::console::*;
use crate::domain::*;
use crate::queue::engine::Engine;
use crate::storage::{ConsoleAudit, NewClinic, NewQueue, NewStaff, StorageError, Store};

#[derive(Debug, thiserror::Error)]
pub enum ConsoleFailure {
    #[error(transparent)]
    Refused(#[from] ConsoleError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<InvalidInput> for ConsoleFailure {
    fn from(e: InvalidInput) -> Self {
        ConsoleFailure::Refused(e.into())
    }
}

impl From<TenantError> for ConsoleFailure {
    fn from(e: TenantError) -> Self {
        match e {
            TenantError::Invalid(e) => e.into(),
            TenantError::SlugTaken(s) => ConsoleError::SlugTaken(s).into(),
            TenantError::EmailTaken(s) => ConsoleError::EmailTaken(s).into(),
            TenantError::Password(e) => InvalidInput::new("password", e.to_string()).into(),
            TenantError::Storage(e) => e.into(),
        }
    }
}

type Result<T> = std::result::Result<T, ConsoleFailure>;

/// The signed-in person making a console change, and where from (for the audit log).
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub staff: &'a StaffUser,
    pub ip: Option<&'a str>,
}

impl Caller<'_> {
    pub fn is_operator(&self) -> bool {
        self.staff.active && self.staff.role == Role::SuperAdmin
    }

    fn require_operator(&self) -> Result<()> {
        if self.is_operator() {
            Ok(())
        } else {
            Err(ConsoleError::WrongRole.into())
        }
    }

    fn audit<'a>(
        &'a self,
        clinic: Option<BusinessId>,
        action: &'a str,
        target: &'a str,
        detail: &'a str,
    ) -> ConsoleAudit<'a> {
        ConsoleAudit {
            clinic,
            actor: self.staff,
            ip: self.ip,
            action,
            target,
            detail,
        }
    }
}

/// The clinic a caller means: the operator names any clinic by slug; an owner gets their
/// own (naming another is refused); receptionists get none.
pub async fn clinic_in_reach(
    store: &Store,
    caller: &Caller<'_>,
    slug: Option<&str>,
) -> Result<Clinic> {
    let slug = slug.map(str::trim).filter(|s| !s.is_empty());
    match caller.staff.role {
        Role::SuperAdmin if caller.staff.active => {
            let slug = slug.ok_or_else(|| InvalidInput::new("slug", "Name the clinic."))?;
            let parsed =
                Slug::parse(slug).map_err(|_| ConsoleError::UnknownClinic(slug.to_owned()))?;
            store
                .clinic_by_slug(&parsed)
                .await?
                .ok_or_else(|| ConsoleError::UnknownClinic(slug.to_owned()).into())
        }
        Role::Owner if caller.staff.active => {
            let own = caller.staff.business_id.ok_or(ConsoleError::Forbidden)?;
            let clinic = store.clinic(own).await?.ok_or(ConsoleError::Forbidden)?;
            match slug {
                Some(s) if s != clinic.slug.as_str() => Err(ConsoleError::Forbidden.into()),
                _ => Ok(clinic),
            }
        }
        _ => Err(ConsoleError::WrongRole.into()),
    }
}

/// The `/clinic` page (and the operator's view of one clinic).
pub async fn clinic_console(
    store: &Store,
    caller: &Caller<'_>,
    slug: Option<&str>,
    public_url: &str,
) -> Result<ClinicConsole> {
    let clinic = clinic_in_reach(store, caller, slug).await?;
    let queues = store.all_queues_of(clinic.id).await?;
    let staff = store.staff_of(clinic.id).await?;
    let usage = last_30_days(store, &clinic).await?;
    let delivery = delivery_since(
        store,
        Some(clinic.id),
        Timestamp::now().minus_minutes(30 * 24 * 60),
    )
    .await?
    .remove(&clinic.id.get())
    .unwrap_or_default();
    let canned_replies = store.canned_replies(clinic.id).await?;
    let join_url = format!("{public_url}/c/{}", clinic.slug);
    let display_url = format!("{public_url}/c/{}/display", clinic.slug);
    Ok(ClinicConsole {
        clinic,
        queues,
        staff,
        usage,
        join_url,
        display_url,
        operator: caller.is_operator(),
        me: caller.staff.id.get(),
        delivery,
        canned_replies,
    })
}

/// How alerts reached patients since an instant, per clinic (one, or all).
pub async fn delivery_since(
    store: &Store,
    clinic: Option<BusinessId>,
    since: Timestamp,
) -> Result<std::collections::HashMap<i64, DeliveryStats>> {
    let attempts = store.attempt_counts_since(clinic, since).await?;
    let outcomes = store.outcome_counts_since(clinic, since).await?;
    let mut ids: Vec<i64> = attempts
        .iter()
        .map(|a| a.clinic.get())
        .chain(outcomes.iter().map(|o| o.clinic.get()))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids
        .into_iter()
        .map(|id| (id, stats_of(&attempts, &outcomes, Some(id))))
        .collect())
}

/// Adds up one clinic's counts, or every clinic's.
fn stats_of(
    attempts: &[crate::outbox::AttemptCount],
    outcomes: &[crate::outbox::OutcomeCount],
    clinic: Option<i64>,
) -> DeliveryStats {
    let mine = move |id: i64| clinic.is_none_or(|c| c == id);
    DeliveryStats::from_counts(
        attempts.iter().filter(|a| mine(a.clinic.get())),
        outcomes.iter().filter(|o| mine(o.clinic.get())),
    )
}

/// The clinic's local date `days` days before today.
fn local_date_days_ago(clinic: &Clinic, now: Timestamp, days: i64) -> String {
    Engine::local_date(clinic, Timestamp(now.millis() - days * 86_400_000))
}

async fn last_30_days(store: &Store, clinic: &Clinic) -> Result<Vec<UsageDay>> {
    let now = Timestamp::now();
    let since = local_date_days_ago(clinic, now, 29);
    let mut usage: Vec<UsageDay> = (0..30)
        .rev()
        .map(|ago| UsageDay {
            date: local_date_days_ago(clinic, now, ago),
            tokens: 0,
            served: 0,
        })
        .collect();
    for day_usage in store.day_usage(Some(clinic.id), &since).await? {
        if let Some(day) = usage.iter_mut().find(|d| d.date == day_usage.date) {
            day.tokens += day_usage.tokens;
            day.served += day_usage.served;
        }
    }
    Ok(usage)
}

/// The operator's clinic list with today's usage, optionally filtered by name or slug.
pub async fn list_clinics(
    store: &Store,
    caller: &Caller<'_>,
    search: &str,
) -> Result<Vec<ClinicSummary>> {
    caller.require_operator()?;
    let clinics = store.clinics(search).await?;
    // Every clinic's "today" is on or after yesterday in UTC terms, whatever its timezone.
    let since = chrono::Utc::now()
        .date_naive()
        .pred_opt()
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let usage = store.day_usage(None, &since).await?;
    let now = Timestamp::now();
    let messages = store
        .message_counts_since(now.minus_minutes(24 * 60))
        .await?;
    let mut delivery = delivery_since(store, None, now.minus_minutes(24 * 60)).await?;
    Ok(clinics
        .into_iter()
        .map(|c| {
            let today = Engine::local_date(&c, now);
            let days = usage.iter().filter(|d| d.clinic == c.id && d.date == today);
            let (tokens_today, active_queues) =
                days.fold((0, 0), |(t, a), d| (t + d.tokens, a + u32::from(d.open)));
            let (messages_sent, messages_failed) = messages
                .iter()
                .find(|m| m.clinic == c.id)
                .map(|m| (m.sent, m.failed))
                .unwrap_or((0, 0));
            ClinicSummary {
                messages_sent,
                messages_failed,
                delivery: delivery.remove(&c.id.get()).unwrap_or_default(),
                slug: c.slug.to_string(),
                name: c.name,
                status: c.status,
                status_reason: c.status_reason,
                tokens_today,
                active_queues,
                created_at: c.created_at.millis(),
            }
        })
        .collect())
}

/// What the operator types to open a clinic.
#[derive(Debug, Clone, Default)]
pub struct NewClinicInput {
    pub slug: String,
    pub name: String,
    pub timezone: String,
    pub default_country: String,
    pub owner_email: String,
}

/// Opens a clinic (status TRIAL) with a "General" queue and its owner, whose one-time
/// password is returned to be shown once.
pub async fn create_clinic(
    store: &Store,
    caller: &Caller<'_>,
    input: NewClinicInput,
) -> Result<CreatedClinic> {
    caller.require_operator()?;
    let slug = Slug::parse(&input.slug)?;
    let name = clinic_name(&input.name)?;
    let timezone = timezone(&input.timezone)?;
    let country = CountryCode::parse(if input.default_country.trim().is_empty() {
        "IN"
    } else {
        &input.default_country
    })?;
    let email = parse_email(&input.owner_email)?;
    let password = random_password();
    let hash = hash_password(&password).map_err(TenantError::from)?;
    let now = Timestamp::now();
    let clinic = NewClinic {
        slug: slug.clone(),
        name,
        address: String::new(),
        contact_phone: String::new(),
        timezone,
        status: BusinessStatus::Trial,
        settings: ClinicSettings {
            default_country: country,
            ..ClinicSettings::default()
        },
    };
    let mut tx = store.begin().await?;
    let id = tx
        .insert_clinic(&clinic, now)
        .await
        .map_err(|e| super::taken(e, slug.as_str()))?;
    let general = NewQueue {
        name: "General".into(),
        prefix: "A".into(),
        default_service_minutes: None,
        position: 0,
    };
    tx.insert_queue(id, &general, now).await?;
    let owner = NewStaff {
        business_id: Some(id),
        email: email.clone(),
        password_hash: hash.clone(),
        role: Role::Owner,
    };
    let owner_id = tx
        .insert_staff(&owner, now)
        .await
        .map_err(|e| super::taken(e, &email))?;
    tx.set_password(owner_id, &hash, true).await?;
    let detail = serde_json::json!({ "name": clinic.name, "owner": email }).to_string();
    tx.insert_console_audit(
        &caller.audit(Some(id), "CREATE_CLINIC", slug.as_str(), &detail),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedClinic {
        slug: slug.to_string(),
        owner: OneTimeLogin { email, password },
    })
}

fn clinic_name(input: &str) -> std::result::Result<String, InvalidInput> {
    let name = input.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(InvalidInput::new(
            "name",
            "Give the clinic a name of 1 to 80 characters.",
        ));
    }
    Ok(name.to_owned())
}

fn timezone(input: &str) -> std::result::Result<String, InvalidInput> {
    let tz = input.trim();
    tz.parse::<chrono_tz::Tz>()
        .map(|_| tz.to_owned())
        .map_err(|_| {
            InvalidInput::new(
                "timezone",
                format!(
                    "\"{tz}\" is not a timezone. Use a name such as Asia/Kolkata or Asia/Dubai."
                ),
            )
        })
}

/// A whole number within `range`, or a message naming the setting.
fn number(
    field: &str,
    label: &str,
    input: &str,
    range: std::ops::RangeInclusive<u32>,
) -> std::result::Result<u32, InvalidInput> {
    input
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            InvalidInput::new(
                field,
                format!(
                    "{label} must be a whole number from {} to {} (you gave \"{}\").",
                    range.start(),
                    range.end(),
                    input.trim()
                ),
            )
        })
}

fn switch(field: &str, input: &str) -> std::result::Result<bool, InvalidInput> {
    match input.trim() {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        other => Err(InvalidInput::new(
            field,
            format!("Choose on or off (you gave \"{other}\")."),
        )),
    }
}

fn languages(input: &str) -> std::result::Result<Vec<Language>, InvalidInput> {
    let mut langs = Vec::new();
    for part in input.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let lang = Language::from_stored(&part.to_ascii_uppercase())
            .or_else(|| Language::from_stored(part))
            .ok_or_else(|| {
                InvalidInput::new(
                    "languages",
                    format!("\"{part}\" is not a language Qline speaks (en, hi)."),
                )
            })?;
        if !langs.contains(&lang) {
            langs.push(lang);
        }
    }
    if langs.is_empty() {
        return Err(InvalidInput::new(
            "languages",
            "Offer patients at least one language.",
        ));
    }
    Ok(langs)
}

/// Applies the settings form to a clinic. Owners may change everything but the
/// operator-only settings (limits and WhatsApp), which are refused by name.
pub fn apply_settings(
    clinic: &mut Clinic,
    input: &SettingsInput,
    operator: bool,
) -> std::result::Result<(), ConsoleError> {
    let operator_only = [
        (&input.whatsapp_enabled, "whether WhatsApp is enabled"),
        (&input.whatsapp_template_mode, "the WhatsApp template mode"),
        (&input.daily_token_limit, "the daily token limit"),
        (&input.daily_message_limit, "the daily message limit"),
        (
            &input.joins_per_ip_per_hour,
            "the joins per network per hour",
        ),
    ];
    if !operator {
        if let Some((_, what)) = operator_only.iter().find(|(v, _)| v.is_some()) {
            return Err(ConsoleError::OperatorOnly((*what).to_owned()));
        }
    }
    let s = &mut clinic.settings;
    if let Some(v) = &input.name {
        clinic.name = clinic_name(v)?;
    }
    if let Some(v) = &input.address {
        let v = v.trim();
        if v.chars().count() > 200 {
            return Err(
                InvalidInput::new("address", "Keep the address under 200 characters.").into(),
            );
        }
        clinic.address = v.to_owned();
    }
    if let Some(v) = &input.default_country {
        s.default_country = CountryCode::parse(v)?;
    }
    if let Some(v) = &input.contact_phone {
        clinic.contact_phone = if v.trim().is_empty() {
            String::new()
        } else {
            Phone::parse(v, &s.default_country)
                .map_err(|e| InvalidInput::new("contact_phone", e.message))?
                .as_str()
                .to_owned()
        };
    }
    if let Some(v) = &input.timezone {
        clinic.timezone = timezone(v)?;
    }
    if let Some(v) = &input.languages {
        s.languages = languages(v)?;
    }
    if let Some(v) = &input.qr_intake_enabled {
        s.qr_intake_enabled = switch("qr_intake_enabled", v)?;
    }
    if let Some(v) = &input.max_tokens_per_phone_per_day {
        s.max_tokens_per_phone_per_day = number(
            "max_tokens_per_phone_per_day",
            "Tokens per phone per day",
            v,
            1..=20,
        )?;
    }
    if let Some(v) = &input.eta_min_minutes {
        s.eta_min_minutes = number("eta_min_minutes", "The shortest visit", v, 1..=240)?;
    }
    if let Some(v) = &input.eta_max_minutes {
        s.eta_max_minutes = number("eta_max_minutes", "The longest visit", v, 1..=480)?;
    }
    if s.eta_max_minutes < s.eta_min_minutes {
        return Err(InvalidInput::new(
            "eta_max_minutes",
            format!(
                "The longest visit ({} min) cannot be shorter than the shortest ({} min).",
                s.eta_max_minutes, s.eta_min_minutes
            ),
        )
        .into());
    }
    if let Some(v) = &input.notify_when_ahead {
        s.notify_when_ahead = number("notify_when_ahead", "\"Notify when N ahead\"", v, 0..=20)?;
    }
    if let Some(v) = &input.whatsapp_enabled {
        s.whatsapp_enabled = switch("whatsapp_enabled", v)?;
    }
    if let Some(v) = &input.whatsapp_template_mode {
        s.whatsapp_template_mode = switch("whatsapp_template_mode", v)?;
    }
    if let Some(v) = &input.daily_token_limit {
        s.daily_token_limit = number("daily_token_limit", "The daily token limit", v, 1..=5000)?;
    }
    if let Some(v) = &input.daily_message_limit {
        s.daily_message_limit = number(
            "daily_message_limit",
            "The daily message limit",
            v,
            0..=100_000,
        )?;
    }
    if let Some(v) = &input.joins_per_ip_per_hour {
        s.joins_per_ip_per_hour = number(
            "joins_per_ip_per_hour",
            "Joins per network per hour",
            v,
            1..=1000,
        )?;
    }
    Ok(())
}

pub async fn update_settings(
    store: &Store,
    caller: &Caller<'_>,
    slug: Option<&str>,
    input: &SettingsInput,
) -> Result<Clinic> {
    let found = clinic_in_reach(store, caller, slug).await?;
    let mut tx = store.begin().await?;
    let before = tx
        .lock_clinic(found.id)
        .await?
        .ok_or(ConsoleError::Forbidden)?;
    let mut after = before.clone();
    apply_settings(&mut after, input, caller.is_operator())?;
    tx.update_clinic(&after).await?;
    let detail = serde_json::to_string(input).unwrap_or_default();
    tx.insert_console_audit(
        &caller.audit(
            Some(after.id),
            "UPDATE_SETTINGS",
            after.slug.as_str(),
            &detail,
        ),
        Timestamp::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Suspends, reactivates or disables a clinic, with the reason kept (in the audit log)
/// and shown (to the clinic's staff and, while it stops the clinic, its patients).
pub async fn set_status(
    store: &Store,
    caller: &Caller<'_>,
    slug: &str,
    status: BusinessStatus,
    reason: &str,
) -> Result<Clinic> {
    caller.require_operator()?;
    let found = clinic_in_reach(store, caller, Some(slug)).await?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ConsoleError::ReasonRequired.into());
    }
    if reason.chars().count() > 200 {
        return Err(InvalidInput::new("reason", "Keep the reason under 200 characters.").into());
    }
    let mut tx = store.begin().await?;
    let mut clinic = tx
        .lock_clinic(found.id)
        .await?
        .ok_or(ConsoleError::Forbidden)?;
    if clinic.status == status {
        return Err(ConsoleError::AlreadyInStatus(status).into());
    }
    let action = match status {
        BusinessStatus::Suspended => "SUSPEND_CLINIC",
        BusinessStatus::Disabled => "DISABLE_CLINIC",
        BusinessStatus::Active | BusinessStatus::Trial => "REACTIVATE_CLINIC",
    };
    tx.set_clinic_status(clinic.id, status, reason).await?;
    let detail = serde_json::json!({ "from": clinic.status.as_str(), "to": status.as_str(), "reason": reason }).to_string();
    tx.insert_console_audit(
        &caller.audit(Some(clinic.id), action, clinic.slug.as_str(), &detail),
        Timestamp::now(),
    )
    .await?;
    tx.commit().await?;
    clinic.status = status;
    clinic.status_reason = reason.to_owned();
    Ok(clinic)
}

/// Deletes a clinic and everything in it but its audit rows, once the operator has typed
/// its slug, and never while patients wait in one of its queues.
pub async fn delete_clinic(
    store: &Store,
    caller: &Caller<'_>,
    slug: &str,
    confirm: &str,
) -> Result<()> {
    caller.require_operator()?;
    let found = clinic_in_reach(store, caller, Some(slug)).await?;
    if confirm.trim() != found.slug.as_str() {
        return Err(ConsoleError::ConfirmationMismatch(found.slug.to_string()).into());
    }
    let mut tx = store.begin().await?;
    let clinic = tx
        .lock_clinic(found.id)
        .await?
        .ok_or(ConsoleError::Forbidden)?;
    let busy = tx.busy_queue_names(clinic.id).await?;
    if !busy.is_empty() {
        return Err(ConsoleError::ClinicActive(busy).into());
    }
    tx.delete_clinic(clinic.id).await?;
    let detail = serde_json::json!({ "name": clinic.name }).to_string();
    tx.insert_console_audit(
        &caller.audit(
            Some(clinic.id),
            "DELETE_CLINIC",
            clinic.slug.as_str(),
            &detail,
        ),
        Timestamp::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a receptionist (or another owner) with a one-time password.
pub async fn add_staff(
    store: &Store,
    caller: &Caller<'_>,
    slug: Option<&str>,
    email: &str,
    role: &str,
) -> Result<OneTimeLogin> {
    let clinic = clinic_in_reach(store, caller, slug).await?;
    let email = parse_email(email)?;
    let role = match Role::from_stored(&role.trim().to_ascii_uppercase()) {
        Some(r @ (Role::Owner | Role::Receptionist)) => r,
        _ => return Err(InvalidInput::new("role", "Choose receptionist or owner.").into()),
    };
    let password = random_password();
    let hash = hash_password(&password).map_err(TenantError::from)?;
    let now = Timestamp::now();
    let mut tx = store.begin().await?;
    let new = NewStaff {
        business_id: Some(clinic.id),
        email: email.clone(),
        password_hash: hash.clone(),
        role,
    };
    let id = tx
        .insert_staff(&new, now)
        .await
        .map_err(|e| super::taken(e, &email))?;
    tx.set_password(id, &hash, true).await?;
    let detail = serde_json::json!({ "role": role.as_str() }).to_string();
    tx.insert_console_audit(
        &caller.audit(Some(clinic.id), "ADD_STAFF", &email, &detail),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(OneTimeLogin { email, password })
}

/// A staff account the caller may manage: another person at a clinic in their reach.
async fn staff_in_reach(store: &Store, caller: &Caller<'_>, user: i64) -> Result<StaffUser> {
    let (staff, _) = store
        .staff_by_id(UserId(user))
        .await?
        .ok_or(ConsoleError::UnknownStaff)?;
    let Some(clinic) = staff.business_id else {
        // Operators are managed with `qline create-admin`, not from a clinic.
        return Err(ConsoleError::UnknownStaff.into());
    };
    match caller.staff.role {
        Role::SuperAdmin if caller.staff.active => {}
        Role::Owner if caller.staff.active && caller.staff.business_id == Some(clinic) => {}
        Role::Owner if caller.staff.active => return Err(ConsoleError::UnknownStaff.into()),
        _ => return Err(ConsoleError::WrongRole.into()),
    }
    if staff.id == caller.staff.id {
        return Err(ConsoleError::OwnAccount.into());
    }
    Ok(staff)
}

/// Gives a staff member a new one-time password and signs them out everywhere.
pub async fn reset_password(store: &Store, caller: &Caller<'_>, user: i64) -> Result<OneTimeLogin> {
    let staff = staff_in_reach(store, caller, user).await?;
    let password = random_password();
    let hash = hash_password(&password).map_err(TenantError::from)?;
    let mut tx = store.begin().await?;
    tx.set_password(staff.id, &hash, true).await?;
    tx.end_sessions(staff.id, None).await?;
    tx.insert_console_audit(
        &caller.audit(staff.business_id, "RESET_PASSWORD", &staff.email, "{}"),
        Timestamp::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(OneTimeLogin {
        email: staff.email,
        password,
    })
}

/// Deactivates (signing out everywhere) or reactivates a staff account. The last active
/// owner of a clinic stays.
pub async fn set_staff_active(
    store: &Store,
    caller: &Caller<'_>,
    user: i64,
    active: bool,
) -> Result<()> {
    let staff = staff_in_reach(store, caller, user).await?;
    let clinic = staff.business_id.ok_or(ConsoleError::UnknownStaff)?;
    let mut tx = store.begin().await?;
    // Lock the clinic so two owners deactivating each other cannot both succeed.
    tx.lock_clinic(clinic).await?;
    if !active && staff.role == Role::Owner && tx.other_active_owners(clinic, staff.id).await? == 0
    {
        return Err(ConsoleError::LastOwner.into());
    }
    tx.set_staff_active(staff.id, active).await?;
    if !active {
        tx.end_sessions(staff.id, None).await?;
    }
    let action = if active {
        "REACTIVATE_STAFF"
    } else {
        "DEACTIVATE_STAFF"
    };
    tx.insert_console_audit(
        &caller.audit(Some(clinic), action, &staff.email, "{}"),
        Timestamp::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What the queue form sends: `queue_id` empty adds a queue.
#[derive(Debug, Clone, Default)]
pub struct QueueInput {
    pub queue_id: Option<i64>,
    pub name: String,
    pub prefix: String,
    /// Minutes; empty for "use the clinic's default range".
    pub default_service_minutes: String,
}

fn queue_fields(
    input: &QueueInput,
) -> std::result::Result<(String, String, Option<u32>), InvalidInput> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(InvalidInput::new(
            "name",
            "Give the queue a name of 1 to 40 characters, such as \"General\" or \"Dr Mehta\".",
        ));
    }
    let prefix = input.prefix.trim().to_ascii_uppercase();
    if prefix.is_empty() || prefix.len() > 3 || !prefix.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(InvalidInput::new(
            "prefix",
            "A token prefix is 1 to 3 letters, such as A or DR.",
        ));
    }
    let minutes = match input.default_service_minutes.trim() {
        "" => None,
        m => Some(number(
            "default_service_minutes",
            "The usual visit length",
            m,
            1..=240,
        )?),
    };
    Ok((name.to_owned(), prefix, minutes))
}

/// Adds a queue or renames one (name, prefix, usual visit length).
pub async fn save_queue(
    store: &Store,
    caller: &Caller<'_>,
    slug: Option<&str>,
    input: &QueueInput,
) -> Result<()> {
    let clinic = clinic_in_reach(store, caller, slug).await?;
    let (name, prefix, minutes) = queue_fields(input)?;
    let now = Timestamp::now();
    let queues = store.all_queues_of(clinic.id).await?;
    let mut tx = store.begin().await?;
    let (action, detail) = match input.queue_id {
        None => {
            let new = NewQueue {
                name: name.clone(),
                prefix: prefix.clone(),
                default_service_minutes: minutes,
                position: queues.iter().map(|q| q.position + 1).max().unwrap_or(0),
            };
            tx.insert_queue(clinic.id, &new, now)
                .await
                .map_err(|e| prefix_taken(e, &prefix))?;
            ("ADD_QUEUE", serde_json::json!({ "prefix": prefix }))
        }
        Some(id) => {
            let mut queue = queues
                .into_iter()
                .find(|q| q.id.get() == id)
                .ok_or(ConsoleError::UnknownQueue)?;
            let before = serde_json::json!({ "name": queue.name, "prefix": queue.prefix });
            queue.name = name.clone();
            queue.prefix = prefix.clone();
            queue.default_service_minutes = minutes;
            tx.update_queue(&queue)
                .await
                .map_err(|e| prefix_taken(e, &prefix))?;
            (
                "UPDATE_QUEUE",
                serde_json::json!({ "before": before, "prefix": prefix }),
            )
        }
    };
    tx.insert_console_audit(
        &caller.audit(Some(clinic.id), action, &name, &detail.to_string()),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn prefix_taken(e: StorageError, prefix: &str) -> ConsoleFailure {
    if e.unique_violation().is_some() {
        ConsoleError::PrefixTaken(prefix.to_owned()).into()
    } else {
        e.into()
    }
}

/// Archives a queue (it leaves the join page and the desk; its history stays) or brings
/// it back. Refused while patients wait in it, and for the last queue in use.
pub async fn set_queue_archived(
    store: &Store,
    caller: &Caller<'_>,
    slug: Option<&str>,
    queue_id: i64,
    archived: bool,
) -> Result<()> {
    let clinic = clinic_in_reach(store, caller, slug).await?;
    let queues = store.all_queues_of(clinic.id).await?;
    let mut queue = queues
        .iter()
        .find(|q| q.id.get() == queue_id)
        .cloned()
        .ok_or(ConsoleError::UnknownQueue)?;
    let mut tx = store.begin().await?;
    tx.lock_clinic(clinic.id).await?;
    if archived {
        if !queues.iter().any(|q| !q.archived && q.id != queue.id) {
            return Err(ConsoleError::LastQueue.into());
        }
        if tx.busy_queue_names(clinic.id).await?.contains(&queue.name) {
            return Err(ConsoleError::QueueHasPatients(queue.name).into());
        }
    }
    queue.archived = archived;
    tx.update_queue(&queue).await?;
    let action = if archived {
        "ARCHIVE_QUEUE"
    } else {
        "RESTORE_QUEUE"
    };
    tx.insert_console_audit(
        &caller.audit(Some(clinic.id), action, &queue.name, "{}"),
        Timestamp::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes the caller's own password, after checking the current one. Other sessions
/// of the account end; `keep_session` (the caller's) stays.
pub async fn change_own_password(
    store: &Store,
    caller: &Caller<'_>,
    current: &str,
    new: &str,
    keep_session: Option<&str>,
) -> Result<()> {
    let (staff, hash) = store
        .staff_by_id(caller.staff.id)
        .await?
        .ok_or(ConsoleError::UnknownStaff)?;
    let current = current.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_password(&current, &hash))
        .await
        .unwrap_or(false);
    if !ok {
        return Err(ConsoleError::WrongPassword.into());
    }
    if new.chars().count() < 10 {
        return Err(InvalidInput::new(
            "new_password",
            "Choose a password of at least 10 characters.",
        )
        .into());
    }
    if new.trim().eq_ignore_ascii_case(&staff.email) {
        return Err(InvalidInput::new(
            "new_password",
            "Choose a password that is not your email address.",
        )
        .into());
    }
    let new_hash = hash_password(new).map_err(TenantError::from)?;
    let mut tx = store.begin().await?;
    tx.set_password(staff.id, &new_hash, false).await?;
    tx.end_sessions(staff.id, keep_session).await?;
    tx.insert_console_audit(
        &caller.audit(staff.business_id, "CHANGE_OWN_PASSWORD", &staff.email, "{}"),
        Timestamp::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The console's audit log, newest first (the operator sees every clinic; an owner
/// only their own).
pub async fn audit_log(
    store: &Store,
    caller: &Caller<'_>,
    filter: &AuditFilter,
) -> Result<Vec<AuditLine>> {
    caller.require_operator()?;
    Ok(store.console_audit(filter, 200).await?)
}

/// The platform's health: the database's answer and latency, and today's volume.
pub async fn health(store: &Store, caller: &Caller<'_>) -> Result<Health> {
    caller.require_operator()?;
    let started = std::time::Instant::now();
    let database_problem = store.readiness().await.err();
    let database_ms = started.elapsed().as_millis() as u32;
    let clinics = list_clinics(store, caller, "").await?;
    Ok(Health {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        backend: store.backend().to_owned(),
        database_problem,
        database_ms,
        worker_lag_seconds: store
            .oldest_due_message()
            .await?
            .map(|due| ((Timestamp::now().millis() - due.millis()).max(0) / 1000) as u32),
        clinics: clinics.len() as u32,
        tokens_today: clinics.iter().map(|c| c.tokens_today).sum(),
        delivery: platform_delivery(store).await?,
    })
}

/// Every clinic's alerts over the last 30 days, added up.
async fn platform_delivery(store: &Store) -> Result<DeliveryStats> {
    let since = Timestamp::now().minus_minutes(30 * 24 * 60);
    let attempts = store.attempt_counts_since(None, since).await?;
    let outcomes = store.outcome_counts_since(None, since).await?;
    Ok(stats_of(&attempts, &outcomes, None))
}
