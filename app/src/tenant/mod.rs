//! Clinics and their staff: setting up a clinic with its queues and people, the demo
//! clinic, platform admins, and password hashing (argon2id). `Tenants` is the service:
//! its methods here and in the submodules (console, sign-in, templates, analytics) share
//! one store and one clock.

pub mod analytics;
pub mod console;
mod password;
pub mod poster;
pub mod retention;
pub mod signin;
pub mod templates;

pub use password::{hash_password, random_password, PasswordError};

use crate::domain::*;
use crate::storage::{NewClinic, NewQueue, NewStaff, StorageError, Store};

/// The tenant service. Like the queue engine it holds its store and reads the time from
/// its clock, so tests and replays can run it in simulated time; a server gives it the
/// engine's clock.
#[derive(Clone, Debug)]
pub struct Tenants {
    store: Store,
    clock: Clock,
    /// The platform's retention: days patients' data is kept where a clinic keeps no less.
    retention: RetentionDays,
}

impl Tenants {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            clock: Clock::default(),
            retention: RetentionDays::default(),
        }
    }

    /// Keeps patients' data `days` days where a clinic chose no shorter time.
    pub fn with_retention(mut self, days: RetentionDays) -> Self {
        self.retention = days;
        self
    }

    pub fn retention(&self) -> RetentionDays {
        self.retention
    }

    /// Runs the service on `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The time the service works at: the system's, or its clock's.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error("A clinic with the short name \"{0}\" already exists.")]
    SlugTaken(String),
    #[error("A staff account with the email {0} already exists.")]
    EmailTaken(String),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Storage(StorageError),
}

impl From<StorageError> for TenantError {
    fn from(e: StorageError) -> Self {
        TenantError::Storage(e)
    }
}

/// Reads an email address: trimmed, lowercased, one `@` with text on both sides.
pub fn parse_email(input: &str) -> Result<String, InvalidInput> {
    let email = input.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
    if valid {
        Ok(email)
    } else {
        Err(InvalidInput::new(
            "email",
            format!("\"{}\" is not an email address.", input.trim()),
        ))
    }
}

/// Who can log in to the demo clinic.
#[derive(Debug, Clone)]
pub struct DemoLogins {
    pub admin: (String, String),
    pub owner: (String, String),
    pub desk: (String, String),
}

pub const DEMO_SLUG: &str = "demo";

impl Tenants {
    /// Creates "Demo Clinic" (`/c/demo`) with queues General (A) and Dental (D), a platform
    /// admin, an owner and a receptionist, in one transaction. `password` sets all three;
    /// without it each gets a random one, returned here to be shown once.
    pub async fn seed_demo(&self, password: Option<&str>) -> Result<DemoLogins, TenantError> {
        let store = self.store();
        let slug = Slug::parse(DEMO_SLUG)?;
        if store.clinic_by_slug(&slug).await?.is_some() {
            return Err(TenantError::SlugTaken(DEMO_SLUG.into()));
        }
        let pick = || password.map(str::to_owned).unwrap_or_else(random_password);
        let logins = DemoLogins {
            admin: ("admin@demo.test".into(), pick()),
            owner: ("owner@demo.test".into(), pick()),
            desk: ("desk@demo.test".into(), pick()),
        };
        let now = self.now();
        let clinic = NewClinic {
            slug,
            name: "Demo Clinic".into(),
            address: "12 MG Road, Bengaluru".into(),
            contact_phone: "+919800000000".into(),
            timezone: TimeZone::from_zone(chrono_tz::Asia::Kolkata),
            status: ClinicStatus::Active,
            // WhatsApp on, through the log-only provider that `qline serve` connects.
            settings: ClinicSettings {
                whatsapp_enabled: true,
                ..ClinicSettings::default()
            },
        };
        let queues = [
            NewQueue {
                name: "General".into(),
                prefix: "A".into(),
                default_service_minutes: Some(8),
                position: 0,
                rooms: vec!["Room 1".into()],
                hours: Default::default(),
            },
            NewQueue {
                name: "Dental".into(),
                prefix: "D".into(),
                default_service_minutes: Some(20),
                position: 1,
                rooms: vec!["Dental chair 1".into()],
                hours: Default::default(),
            },
        ];
        let mut tx = store.begin().await?;
        let id = tx
            .insert_clinic(&clinic, now)
            .await
            .map_err(|e| taken(e, DEMO_SLUG))?;
        for q in &queues {
            tx.insert_queue(id, q, now).await?;
        }
        for (clinic, (email, pw), role) in [
            (None, &logins.admin, Role::SuperAdmin),
            (Some(id), &logins.owner, Role::Owner),
            (Some(id), &logins.desk, Role::Receptionist),
        ] {
            let staff = NewStaff {
                clinic,
                email: email.clone(),
                password_hash: password::hash(pw).await?,
                role,
            };
            tx.insert_staff(&staff, now)
                .await
                .map_err(|e| taken(e, email))?;
        }
        tx.insert_audit(Some(id), None, "SEED_DEMO", DEMO_SLUG, None, now)
            .await?;
        tx.commit().await?;
        Ok(logins)
    }

    /// Creates a platform admin (a super admin, bound to no clinic).
    pub async fn create_admin(&self, email: &str, password: &str) -> Result<UserId, TenantError> {
        let store = self.store();
        let email = parse_email(email)?;
        let password_hash = password::hash(password).await?;
        let now = self.now();
        let mut tx = store.begin().await?;
        let staff = NewStaff {
            clinic: None,
            email: email.clone(),
            password_hash,
            role: Role::SuperAdmin,
        };
        let id = tx
            .insert_staff(&staff, now)
            .await
            .map_err(|e| taken(e, &email))?;
        tx.insert_audit(None, None, "CREATE_ADMIN", &email, None, now)
            .await?;
        tx.commit().await?;
        Ok(id)
    }
}

/// Turns a unique-constraint collision into the refusal a person understands.
fn taken(e: StorageError, what: &str) -> TenantError {
    match e.unique_violation() {
        Some(c) if c.contains("slug") => TenantError::SlugTaken(what.to_owned()),
        Some(c) if c.contains("email") => TenantError::EmailTaken(what.to_owned()),
        _ => TenantError::Storage(e),
    }
}
