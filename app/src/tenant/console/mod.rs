//! The tenant console and clinic settings: who may change what (docs/ROLES.md), the
//! validation of every setting, and each change as one transaction with its audit row.
//!
//! The platform operator (SUPER_ADMIN) reaches every clinic by its slug; an owner reaches
//! only their own clinic; a receptionist reaches none of this. Here: the caller, the
//! failure type and who reaches which clinic, shared by the resources' modules.

mod clinics;
mod patients;
mod queues;
mod staff;
mod stats;
mod validate;

pub use clinics::NewClinicInput;
pub use queues::QueueInput;
pub use validate::apply_settings;

use super::{TenantError, Tenants};
use crate::console::*;
use crate::domain::*;
use crate::storage::{ConsoleAudit, StorageError};

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
        clinic: Option<ClinicId>,
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

impl Tenants {
    /// The clinic a caller means: the operator names any clinic by slug; an owner gets their
    /// own (naming another is refused); receptionists get none.
    pub async fn clinic_in_reach(&self, caller: &Caller<'_>, slug: Option<&str>) -> Result<Clinic> {
        let store = self.store();
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
                let own = caller.staff.clinic_id.ok_or(ConsoleError::Forbidden)?;
                let clinic = store.clinic(own).await?.ok_or(ConsoleError::Forbidden)?;
                match slug {
                    Some(s) if s != clinic.slug.as_str() => Err(ConsoleError::Forbidden.into()),
                    _ => Ok(clinic),
                }
            }
            _ => Err(ConsoleError::WrongRole.into()),
        }
    }
}
