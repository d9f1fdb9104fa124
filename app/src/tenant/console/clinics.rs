//! Clinics as the consoles manage them: the `/clinic` page, the operator's list, opening
//! a clinic, its settings, suspending or disabling it, and deleting it.

use super::validate::{apply_settings, clinic_name, timezone};
use super::{Caller, Result};
use crate::console::*;
use crate::domain::*;
use crate::queue::engine::Engine;
use crate::storage::{NewClinic, NewQueue, NewStaff};
use crate::tenant::{parse_email, password, random_password, taken, TenantError, Tenants};

/// What the operator types to open a clinic.
#[derive(Debug, Clone, Default)]
pub struct NewClinicInput {
    pub slug: String,
    pub name: String,
    pub timezone: String,
    pub default_country: String,
    pub owner_email: String,
}

impl Tenants {
    /// The `/clinic` page (and the operator's view of one clinic).
    pub async fn clinic_console(
        &self,
        caller: &Caller<'_>,
        slug: Option<&str>,
        public_url: &str,
    ) -> Result<ClinicConsole> {
        let store = self.store();
        let clinic = self.clinic_in_reach(caller, slug).await?;
        let queues = store.all_queues_of(clinic.id).await?;
        let staff = store.staff_of(clinic.id).await?;
        let usage = self.last_30_days(&clinic).await?;
        let delivery = self
            .delivery_since(Some(clinic.id), self.now().minus_minutes(30 * 24 * 60))
            .await?
            .remove(&clinic.id.get())
            .unwrap_or_default();
        let canned_replies = store.canned_replies(clinic.id).await?;
        let erasure_requests = store
            .erasure_requests(clinic.id)
            .await?
            .into_iter()
            .map(|(phone, at)| ErasureRequest {
                phone,
                requested_at: at
                    .local(&clinic.timezone)
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
            })
            .collect();
        let join_url = format!("{public_url}/c/{}", clinic.slug);
        let display_url = format!("{public_url}/c/{}/display", clinic.slug);
        let kiosk_url = format!("{public_url}/c/{}/kiosk", clinic.slug);
        let kiosk_code = store.kiosk_code(clinic.id).await?;
        Ok(ClinicConsole {
            clinic,
            queues,
            staff,
            usage,
            join_url,
            display_url,
            kiosk_url,
            kiosk_code,
            operator: caller.is_operator(),
            me: caller.staff.id.get(),
            delivery,
            canned_replies,
            platform_retention_days: self.retention().get(),
            erasure_requests,
        })
    }

    /// The operator's clinic list with today's usage, optionally filtered by name or slug.
    pub async fn list_clinics(
        &self,
        caller: &Caller<'_>,
        search: &str,
    ) -> Result<Vec<ClinicSummary>> {
        let store = self.store();
        caller.require_operator()?;
        let clinics = store.clinics(search).await?;
        let now = self.now();
        // Every clinic's "today" is on or after yesterday in UTC terms, whatever its timezone.
        let since = LocalDate::new(now.to_utc().date_naive()).days_before(1);
        let usage = store.day_usage(None, since).await?;
        let messages = store
            .message_counts_since(now.minus_minutes(24 * 60))
            .await?;
        let mut delivery = self
            .delivery_since(None, now.minus_minutes(24 * 60))
            .await?;
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

    /// Opens a clinic (status TRIAL) with a "General" queue and its owner, whose one-time
    /// password is returned to be shown once.
    pub async fn create_clinic(
        &self,
        caller: &Caller<'_>,
        input: NewClinicInput,
    ) -> Result<CreatedClinic> {
        let store = self.store();
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
        let hash = password::hash(&password).await.map_err(TenantError::from)?;
        let now = self.now();
        let clinic = NewClinic {
            slug: slug.clone(),
            name,
            address: String::new(),
            contact_phone: String::new(),
            timezone,
            status: ClinicStatus::Trial,
            settings: ClinicSettings {
                default_country: country,
                ..ClinicSettings::default()
            },
        };
        let mut tx = store.begin().await?;
        let id = tx
            .insert_clinic(&clinic, now)
            .await
            .map_err(|e| taken(e, slug.as_str()))?;
        let general = NewQueue {
            name: "General".into(),
            prefix: "A".into(),
            default_service_minutes: None,
            position: 0,
            rooms: Vec::new(),
            hours: Default::default(),
        };
        tx.insert_queue(id, &general, now).await?;
        let owner = NewStaff {
            clinic: Some(id),
            email: email.clone(),
            password_hash: hash.clone(),
            role: Role::Owner,
        };
        let owner_id = tx
            .insert_staff(&owner, now)
            .await
            .map_err(|e| taken(e, &email))?;
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

    /// Sets the code that opens the clinic's reception kiosk, or (empty) turns the kiosk
    /// off; audited without the code. Answers the code now set.
    pub async fn save_kiosk_code(
        &self,
        caller: &Caller<'_>,
        slug: Option<&str>,
        typed: &str,
    ) -> Result<Option<String>> {
        let clinic = self.clinic_in_reach(caller, slug).await?;
        let code = match typed.trim() {
            "" => None,
            typed => Some(KioskCode::parse(typed).map_err(ConsoleError::Invalid)?),
        };
        let mut tx = self.store().begin().await?;
        tx.set_kiosk_code(clinic.id, code.as_ref()).await?;
        let detail = serde_json::json!({ "kiosk": code.is_some() }).to_string();
        tx.insert_console_audit(
            &caller.audit(
                Some(clinic.id),
                "SAVE_KIOSK_CODE",
                clinic.slug.as_str(),
                &detail,
            ),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(code.map(|c| c.as_str().to_owned()))
    }

    /// Saves the settings form (`apply_settings`) with its audit row.
    pub async fn update_settings(
        &self,
        caller: &Caller<'_>,
        slug: Option<&str>,
        input: &SettingsInput,
    ) -> Result<Clinic> {
        let store = self.store();
        let found = self.clinic_in_reach(caller, slug).await?;
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
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Suspends, reactivates or disables a clinic, with the reason kept (in the audit log)
    /// and shown (to the clinic's staff and, while it stops the clinic, its patients).
    pub async fn set_clinic_status(
        &self,
        caller: &Caller<'_>,
        slug: &str,
        status: ClinicStatus,
        reason: &str,
    ) -> Result<Clinic> {
        let store = self.store();
        caller.require_operator()?;
        let found = self.clinic_in_reach(caller, Some(slug)).await?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ConsoleError::ReasonRequired.into());
        }
        if reason.chars().count() > 200 {
            return Err(
                InvalidInput::new("reason", "Keep the reason under 200 characters.").into(),
            );
        }
        super::validate::shown_as_typed("reason", "The reason", reason)?;
        let mut tx = store.begin().await?;
        let mut clinic = tx
            .lock_clinic(found.id)
            .await?
            .ok_or(ConsoleError::Forbidden)?;
        if clinic.status == status {
            return Err(ConsoleError::AlreadyInStatus(status).into());
        }
        let action = match status {
            ClinicStatus::Suspended => "SUSPEND_CLINIC",
            ClinicStatus::Disabled => "DISABLE_CLINIC",
            ClinicStatus::Active | ClinicStatus::Trial => "REACTIVATE_CLINIC",
        };
        tx.set_clinic_status(clinic.id, status, reason).await?;
        let detail = serde_json::json!({ "from": clinic.status.as_str(), "to": status.as_str(), "reason": reason }).to_string();
        tx.insert_console_audit(
            &caller.audit(Some(clinic.id), action, clinic.slug.as_str(), &detail),
            self.now(),
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
        &self,
        caller: &Caller<'_>,
        slug: &str,
        confirm: &str,
    ) -> Result<()> {
        let store = self.store();
        caller.require_operator()?;
        let found = self.clinic_in_reach(caller, Some(slug)).await?;
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
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
