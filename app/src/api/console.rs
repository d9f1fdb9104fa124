//! The console's endpoints: the clinic settings (`/clinic`, also used by the operator
//! for any clinic by naming its slug), the tenant console (`/admin`) and the account
//! page. Who may call which is in docs/ROLES.md; `tenant::console` enforces it.

use super::AppError;
use crate::console::*;
use crate::domain::Clinic;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
mod server {
    pub use crate::tenant::console::Caller;
    pub use crate::tenant::Tenants;

    /// Runs `$body` with `$caller` (the signed-in staff user and their address) and
    /// `$tenants` (the tenant service) bound.
    macro_rules! as_caller {
        (|$caller:ident, $tenants:ident| $body:expr) => {{
            let staff = crate::api::current_staff().await?;
            let ip = crate::api::client_network().await?.map(|n| n.to_string());
            let $tenants = leptos::prelude::expect_context::<Tenants>();
            let $caller = Caller {
                staff: &staff,
                ip: ip.as_deref(),
            };
            $body
        }};
    }
    pub(crate) use as_caller;
}
#[cfg(feature = "ssr")]
use server::*;

/// The clinic settings page: the owner's own clinic, or (for the operator) the named one.
#[server(prefix = "/api", endpoint = "clinic")]
pub async fn load_clinic(slug: Option<String>) -> Result<ClinicConsole, AppError> {
    let public_url = super::public_url().await;
    as_caller!(|caller, tenants| Ok(tenants
        .clinic_console(&caller, slug.as_deref(), &public_url)
        .await?))
}

#[server(prefix = "/api", endpoint = "clinic/settings")]
pub async fn save_settings(
    slug: Option<String>,
    settings: SettingsInput,
) -> Result<Clinic, AppError> {
    as_caller!(|caller, tenants| Ok(tenants
        .update_settings(&caller, slug.as_deref(), &settings)
        .await?))
}

/// What the clinic holds on one phone, with its JSON export (an access request).
#[server(prefix = "/api", endpoint = "clinic/patient")]
pub async fn find_patient(slug: Option<String>, phone: String) -> Result<PatientData, AppError> {
    as_caller!(|caller, tenants| Ok(tenants
        .find_patient(&caller, slug.as_deref(), &phone)
        .await?))
}

/// Erases one patient's data at the clinic. `confirm` must be `on` (the form's
/// "I understand this cannot be undone").
#[server(prefix = "/api", endpoint = "clinic/patient/erase")]
pub async fn erase_patient(
    slug: Option<String>,
    phone: String,
    confirm: Option<String>,
) -> Result<Erased, AppError> {
    let confirmed = confirm.as_deref() == Some("on");
    as_caller!(|caller, tenants| Ok(tenants
        .erase_patient(&caller, slug.as_deref(), &phone, confirmed)
        .await?))
}

/// Adds a staff account with a one-time password (shown once).
#[server(prefix = "/api", endpoint = "clinic/staff/add")]
pub async fn add_staff(
    slug: Option<String>,
    email: String,
    role: String,
) -> Result<OneTimeLogin, AppError> {
    as_caller!(|caller, tenants| Ok(tenants
        .add_staff(&caller, slug.as_deref(), &email, &role)
        .await?))
}

/// Gives a staff member a new one-time password and ends their sessions.
#[server(prefix = "/api", endpoint = "clinic/staff/reset")]
pub async fn reset_staff_password(user_id: i64) -> Result<OneTimeLogin, AppError> {
    as_caller!(|caller, tenants| Ok(tenants.reset_password(&caller, user_id).await?))
}

#[server(prefix = "/api", endpoint = "clinic/staff/active")]
pub async fn set_staff_active(user_id: i64, active: bool) -> Result<(), AppError> {
    as_caller!(|caller, tenants| Ok(tenants.set_staff_active(&caller, user_id, active).await?))
}

/// Adds a queue (no `queue_id`) or changes one.
#[server(prefix = "/api", endpoint = "clinic/queue/save")]
pub async fn save_queue(
    slug: Option<String>,
    queue_id: Option<i64>,
    name: String,
    prefix: String,
    default_service_minutes: String,
    rooms: Option<String>,
) -> Result<(), AppError> {
    let input = crate::tenant::console::QueueInput {
        queue_id,
        name,
        prefix,
        default_service_minutes,
        rooms,
    };
    as_caller!(|caller, tenants| Ok(tenants.save_queue(&caller, slug.as_deref(), &input).await?))
}

/// Sets a queue's opening hours: each weekday's spans ("09:00-13:00, 14:00-18:00",
/// empty for closed) and the dates it is closed.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api", endpoint = "clinic/queue/hours")]
pub async fn save_queue_hours(
    slug: Option<String>,
    queue_id: i64,
    hours_mon: String,
    hours_tue: String,
    hours_wed: String,
    hours_thu: String,
    hours_fri: String,
    hours_sat: String,
    hours_sun: String,
    closed_on: String,
) -> Result<(), AppError> {
    let week = [
        hours_mon, hours_tue, hours_wed, hours_thu, hours_fri, hours_sat, hours_sun,
    ];
    as_caller!(|caller, tenants| Ok(tenants
        .save_queue_hours(&caller, slug.as_deref(), queue_id, &week, &closed_on)
        .await?))
}

#[server(prefix = "/api", endpoint = "clinic/queue/archive")]
pub async fn archive_queue(
    slug: Option<String>,
    queue_id: i64,
    archived: bool,
) -> Result<(), AppError> {
    as_caller!(|caller, tenants| Ok(tenants
        .set_queue_archived(&caller, slug.as_deref(), queue_id, archived)
        .await?))
}

/// The printable QR poster for the clinic's join page.
#[server(prefix = "/api", endpoint = "clinic/poster")]
pub async fn load_poster(slug: Option<String>) -> Result<Poster, AppError> {
    let public_url = super::public_url().await;
    as_caller!(|caller, tenants| {
        let clinic = tenants.clinic_in_reach(&caller, slug.as_deref()).await?;
        let whatsapp = match clinic.settings.whatsapp_enabled {
            true => tenants
                .store()
                .whatsapp_account(clinic.id)
                .await?
                .map(|a| a.phone_number),
            false => None,
        };
        let poster = crate::tenant::poster::poster(&clinic, &public_url, whatsapp.as_deref());
        Ok(poster.map_err(crate::tenant::console::ConsoleFailure::from)?)
    })
}

/// Who is signed in, for the account page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub email: String,
    pub role: crate::domain::Role,
    pub must_change_password: bool,
}

#[server(prefix = "/api", endpoint = "account")]
pub async fn load_account() -> Result<Account, AppError> {
    let staff = super::signed_in_staff().await?;
    Ok(Account {
        email: staff.email,
        role: staff.role,
        must_change_password: staff.must_change_password,
    })
}

/// Changes the signed-in user's password; their other sessions end. Then sends them on
/// to their screen.
#[server(prefix = "/api", endpoint = "account/password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use crate::domain::Role;
    let staff = super::signed_in_staff().await?;
    let ip = super::client_network().await?.map(|n| n.to_string());
    let tenants = expect_context::<Tenants>();
    let keep = super::session_cookie()
        .await
        .map(|t| crate::tenant::signin::hash_token(&t));
    let caller = Caller {
        staff: &staff,
        ip: ip.as_deref(),
    };
    tenants
        .change_own_password(&caller, &current_password, &new_password, keep.as_deref())
        .await?;
    leptos_axum::redirect(match staff.role {
        Role::SuperAdmin => "/admin",
        Role::Owner => "/clinic",
        Role::Receptionist => "/desk",
    });
    Ok(())
}

/// The operator's clinic list with today's usage.
#[server(prefix = "/api", endpoint = "admin/clinics")]
pub async fn list_clinics(search: String) -> Result<Vec<ClinicSummary>, AppError> {
    as_caller!(|caller, tenants| Ok(tenants.list_clinics(&caller, &search).await?))
}

/// Opens a clinic (on trial) with a General queue and its owner.
#[server(prefix = "/api", endpoint = "admin/clinic/create")]
pub async fn create_clinic(
    slug: String,
    name: String,
    timezone: String,
    default_country: String,
    owner_email: String,
) -> Result<CreatedClinic, AppError> {
    let input = crate::tenant::console::NewClinicInput {
        slug,
        name,
        timezone,
        default_country,
        owner_email,
    };
    as_caller!(|caller, tenants| Ok(tenants.create_clinic(&caller, input).await?))
}

/// Suspends, reactivates (`ACTIVE` or `TRIAL`) or disables a clinic, with a reason.
#[server(prefix = "/api", endpoint = "admin/clinic/status")]
pub async fn set_clinic_status(
    slug: String,
    status: String,
    reason: String,
) -> Result<(), AppError> {
    use crate::domain::ClinicStatus;
    let status =
        ClinicStatus::from_stored(&status.trim().to_ascii_uppercase()).ok_or_else(|| {
            AppError::Console(ConsoleError::Invalid(crate::domain::InvalidInput::new(
                "status",
                "Choose TRIAL, ACTIVE, SUSPENDED or DISABLED.",
            )))
        })?;
    as_caller!(|caller, tenants| {
        tenants
            .set_clinic_status(&caller, &slug, status, &reason)
            .await?;
        Ok(())
    })
}

/// Deletes a clinic; `confirm` must repeat its slug.
#[server(prefix = "/api", endpoint = "admin/clinic/delete")]
pub async fn delete_clinic(slug: String, confirm: String) -> Result<(), AppError> {
    as_caller!(|caller, tenants| {
        tenants.delete_clinic(&caller, &slug, &confirm).await?;
        leptos_axum::redirect("/admin");
        Ok(())
    })
}

#[server(prefix = "/api", endpoint = "admin/health")]
pub async fn platform_health() -> Result<Health, AppError> {
    as_caller!(|caller, tenants| Ok(tenants.health(&caller).await?))
}

#[server(prefix = "/api", endpoint = "admin/audit")]
pub async fn load_audit(
    clinic: String,
    action: String,
    actor: String,
) -> Result<Vec<AuditLine>, AppError> {
    let filter = AuditFilter {
        clinic,
        action,
        actor,
    };
    as_caller!(|caller, tenants| Ok(tenants.audit_log(&caller, &filter).await?))
}

/// The clinic's analytics over the last `days` days (7, 30, 90 or 365).
#[server(prefix = "/api", endpoint = "clinic/analytics")]
pub async fn load_analytics(
    slug: Option<String>,
    days: u32,
) -> Result<crate::analytics::Analytics, AppError> {
    as_caller!(|caller, tenants| Ok(tenants.analytics(&caller, slug.as_deref(), days).await?))
}

/// The clinic's WhatsApp connection, secrets masked.
#[server(prefix = "/api", endpoint = "clinic/whatsapp")]
pub async fn load_whatsapp(slug: Option<String>) -> Result<WhatsAppView, AppError> {
    let messenger = expect_context::<crate::messaging::Messenger>();
    as_caller!(|caller, tenants| {
        let clinic = tenants.clinic_in_reach(&caller, slug.as_deref()).await?;
        Ok(messenger.view(&clinic).await?)
    })
}

/// Connects the clinic to a WhatsApp provider (empty secrets keep the stored ones).
#[server(prefix = "/api", endpoint = "clinic/whatsapp/save")]
pub async fn save_whatsapp(
    slug: Option<String>,
    whatsapp: WhatsAppInput,
) -> Result<WhatsAppView, AppError> {
    let messenger = expect_context::<crate::messaging::Messenger>();
    as_caller!(|caller, tenants| {
        let clinic = tenants.clinic_in_reach(&caller, slug.as_deref()).await?;
        let detail = serde_json::json!({ "provider": whatsapp.provider, "phone_number": whatsapp.phone_number }).to_string();
        let audit = crate::storage::ConsoleAudit {
            clinic: Some(clinic.id),
            actor: caller.staff,
            ip: caller.ip,
            action: "CONFIGURE_WHATSAPP",
            target: clinic.slug.as_str(),
            detail: &detail,
        };
        messenger.configure(&clinic, &whatsapp, audit).await?;
        Ok(messenger.view(&clinic).await?)
    })
}

/// Asks the clinic's provider whether its account works: `Ok(what it said)` or
/// `Err(what went wrong)`, both in words.
#[server(prefix = "/api", endpoint = "clinic/whatsapp/test")]
pub async fn test_whatsapp(slug: Option<String>) -> Result<Result<String, String>, AppError> {
    let messenger = expect_context::<crate::messaging::Messenger>();
    as_caller!(|caller, tenants| {
        let clinic = tenants.clinic_in_reach(&caller, slug.as_deref()).await?;
        Ok(messenger.test_connection(clinic.id).await?)
    })
}

/// Every message template of the clinic: `(kind, language, body, custom)`.
#[server(prefix = "/api", endpoint = "clinic/templates")]
pub async fn load_templates(slug: Option<String>) -> Result<Vec<TemplateLine>, AppError> {
    as_caller!(|caller, tenants| {
        let clinic = tenants.clinic_in_reach(&caller, slug.as_deref()).await?;
        Ok(tenants.templates(&clinic).await?)
    })
}

/// Saves a template after checking its variables; an empty body brings back the default.
#[server(prefix = "/api", endpoint = "clinic/templates/save")]
pub async fn save_template(
    slug: Option<String>,
    kind: String,
    channel: Option<String>,
    language: String,
    body: String,
) -> Result<(), AppError> {
    as_caller!(|caller, tenants| {
        let clinic = tenants.clinic_in_reach(&caller, slug.as_deref()).await?;
        Ok(tenants
            .save_template(
                &caller,
                &clinic,
                &kind,
                channel.as_deref().unwrap_or_default(),
                &language,
                &body,
            )
            .await?)
    })
}

/// The clinic's SMS account (for "your turn"), the auth token masked.
#[server(prefix = "/api", endpoint = "clinic/sms")]
pub async fn load_sms(slug: Option<String>) -> Result<SmsView, AppError> {
    let messenger = expect_context::<crate::messaging::Messenger>();
    as_caller!(|caller, tenants| {
        let clinic = tenants.clinic_in_reach(&caller, slug.as_deref()).await?;
        Ok(messenger.sms_view(clinic.id).await?)
    })
}

/// Connects the clinic to a Twilio-compatible SMS provider, or removes it.
#[server(prefix = "/api", endpoint = "clinic/sms/save")]
pub async fn save_sms(slug: Option<String>, sms: SmsInput) -> Result<SmsView, AppError> {
    let messenger = expect_context::<crate::messaging::Messenger>();
    as_caller!(|caller, tenants| {
        let clinic = tenants.clinic_in_reach(&caller, slug.as_deref()).await?;
        let detail = serde_json::json!({ "account_sid": sms.account_sid, "from_number": sms.from_number, "remove": sms.remove }).to_string();
        let audit = crate::storage::ConsoleAudit {
            clinic: Some(clinic.id),
            actor: caller.staff,
            ip: caller.ip,
            action: if sms.remove {
                "REMOVE_SMS"
            } else {
                "CONFIGURE_SMS"
            },
            target: clinic.slug.as_str(),
            detail: &detail,
        };
        messenger.configure_sms(&clinic, &sms, audit).await?;
        Ok(messenger.sms_view(clinic.id).await?)
    })
}

/// Asks the SMS provider whether the clinic's account works.
#[server(prefix = "/api", endpoint = "clinic/sms/test")]
pub async fn test_sms(slug: Option<String>) -> Result<Result<String, String>, AppError> {
    let messenger = expect_context::<crate::messaging::Messenger>();
    as_caller!(|caller, tenants| {
        let clinic = tenants.clinic_in_reach(&caller, slug.as_deref()).await?;
        Ok(messenger.test_sms(clinic.id).await?)
    })
}

/// Sets the code that opens the clinic's reception kiosk (6 to 10 digits), or turns the
/// kiosk off (empty). Answers the code now set.
#[server(prefix = "/api", endpoint = "clinic/kiosk/save")]
pub async fn save_kiosk_code(
    slug: Option<String>,
    kiosk_code: String,
) -> Result<Option<String>, AppError> {
    as_caller!(|caller, tenants| {
        Ok(tenants
            .save_kiosk_code(&caller, slug.as_deref(), &kiosk_code)
            .await?)
    })
}

/// Replaces the replies the desk can send with one tap (one per line in the form).
#[server(prefix = "/api", endpoint = "clinic/replies/save")]
pub async fn save_canned_replies(
    slug: Option<String>,
    replies: String,
) -> Result<Vec<String>, AppError> {
    let messenger = expect_context::<crate::messaging::Messenger>();
    as_caller!(|caller, tenants| {
        let clinic = tenants.clinic_in_reach(&caller, slug.as_deref()).await?;
        let lines: Vec<String> = replies.lines().map(str::to_owned).collect();
        let detail = serde_json::json!({ "replies": lines }).to_string();
        let audit = crate::storage::ConsoleAudit {
            clinic: Some(clinic.id),
            actor: caller.staff,
            ip: caller.ip,
            action: "SAVE_CANNED_REPLIES",
            target: clinic.slug.as_str(),
            detail: &detail,
        };
        Ok(messenger
            .save_canned_replies(&clinic, &lines, audit)
            .await?)
    })
}
