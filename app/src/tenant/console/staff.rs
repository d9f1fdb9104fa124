//! A clinic's staff accounts: adding one, resetting a password, deactivating or
//! reactivating, and a person changing their own password. Nobody manages their own
//! account from here, and a clinic keeps at least one active owner.

use super::{Caller, Result};
use crate::console::*;
use crate::domain::*;
use crate::storage::NewStaff;
use crate::tenant::signin::{AttemptSources, SignInFailure};
use crate::tenant::{parse_email, password, random_password, taken, TenantError, Tenants};

impl Tenants {
    /// Adds a receptionist (or another owner) with a one-time password.
    pub async fn add_staff(
        &self,
        caller: &Caller<'_>,
        slug: Option<&str>,
        email: &str,
        role: &str,
    ) -> Result<OneTimeLogin> {
        let store = self.store();
        let clinic = self.clinic_in_reach(caller, slug).await?;
        let email = parse_email(email)?;
        let role = match Role::from_stored(&role.trim().to_ascii_uppercase()) {
            Some(r @ (Role::Owner | Role::Receptionist)) => r,
            _ => return Err(InvalidInput::new("role", "Choose receptionist or owner.").into()),
        };
        let password = random_password();
        let hash = password::hash(&password).await.map_err(TenantError::from)?;
        let now = self.now();
        let mut tx = store.begin().await?;
        let new = NewStaff {
            clinic: Some(clinic.id),
            email: email.clone(),
            password_hash: hash.clone(),
            role,
        };
        let id = tx
            .insert_staff(&new, now)
            .await
            .map_err(|e| taken(e, &email))?;
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
    async fn staff_in_reach(&self, caller: &Caller<'_>, user: i64) -> Result<StaffUser> {
        let store = self.store();
        let (staff, _) = store
            .staff_by_id(UserId(user))
            .await?
            .ok_or(ConsoleError::UnknownStaff)?;
        let Some(clinic) = staff.clinic_id else {
            // Operators are managed with `qline create-admin`, not from a clinic.
            return Err(ConsoleError::UnknownStaff.into());
        };
        match caller.staff.role {
            Role::SuperAdmin if caller.staff.active => {}
            Role::Owner if caller.staff.active && caller.staff.clinic_id == Some(clinic) => {}
            Role::Owner if caller.staff.active => return Err(ConsoleError::UnknownStaff.into()),
            _ => return Err(ConsoleError::WrongRole.into()),
        }
        if staff.id == caller.staff.id {
            return Err(ConsoleError::OwnAccount.into());
        }
        Ok(staff)
    }

    /// Gives a staff member a new one-time password and signs them out everywhere.
    pub async fn reset_password(&self, caller: &Caller<'_>, user: i64) -> Result<OneTimeLogin> {
        let store = self.store();
        let staff = self.staff_in_reach(caller, user).await?;
        let password = random_password();
        let hash = password::hash(&password).await.map_err(TenantError::from)?;
        let mut tx = store.begin().await?;
        tx.set_password(staff.id, &hash, true).await?;
        tx.end_sessions(staff.id, None).await?;
        tx.insert_console_audit(
            &caller.audit(staff.clinic_id, "RESET_PASSWORD", &staff.email, "{}"),
            self.now(),
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
        &self,
        caller: &Caller<'_>,
        user: i64,
        active: bool,
    ) -> Result<()> {
        let store = self.store();
        let staff = self.staff_in_reach(caller, user).await?;
        let clinic = staff.clinic_id.ok_or(ConsoleError::UnknownStaff)?;
        let mut tx = store.begin().await?;
        // Lock the clinic so two owners deactivating each other cannot both succeed.
        tx.lock_clinic(clinic).await?;
        if !active
            && staff.role == Role::Owner
            && tx.other_active_owners(clinic, staff.id).await? == 0
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
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes the caller's own password, after checking the current one. Other sessions
    /// of the account end; `keep_session` (the caller's) stays.
    pub async fn change_own_password(
        &self,
        caller: &Caller<'_>,
        current: &str,
        new: &str,
        keep_session: Option<&str>,
    ) -> Result<()> {
        let store = self.store();
        let (staff, hash) = store
            .staff_by_id(caller.staff.id)
            .await?
            .ok_or(ConsoleError::UnknownStaff)?;
        // Counted like a sign-in: a stolen session cannot guess its way to the password.
        let sources = AttemptSources::new(&staff.email, caller.ip);
        let ok = match self.checked_password(&sources, current, &hash).await {
            Ok(ok) => ok,
            Err(SignInFailure::Refused(refusal)) => {
                return Err(ConsoleError::SignIn(refusal).into())
            }
            Err(SignInFailure::Storage(cause)) => return Err(cause.into()),
        };
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
        let new_hash = password::hash(new).await.map_err(TenantError::from)?;
        let mut tx = store.begin().await?;
        tx.set_password(staff.id, &new_hash, false).await?;
        tx.end_sessions(staff.id, keep_session).await?;
        tx.insert_console_audit(
            &caller.audit(staff.clinic_id, "CHANGE_OWN_PASSWORD", &staff.email, "{}"),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
