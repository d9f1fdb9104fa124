//! Staff users as the rest of the app reads them (the password hash never leaves storage),
//! and why signing in did not work, in words the sign-in page shows.

use super::{ClinicId, Role, UserId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffUser {
    pub id: UserId,
    /// `None` only for a super admin.
    pub clinic_id: Option<ClinicId>,
    pub email: String,
    pub role: Role,
    pub active: bool,
    /// Set when someone else chose the password (a new account, a reset): the user must
    /// choose their own before doing anything else.
    pub must_change_password: bool,
}

impl StaffUser {
    /// Whether this user may run the desk of `clinic`.
    pub fn works_at(&self, clinic: ClinicId) -> bool {
        self.active && self.clinic_id == Some(clinic)
    }
}

/// Why signing in (or staying signed in) did not work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum SignInError {
    #[error("That email and password do not match an active account.")]
    WrongCredentials,
    #[error("Too many failed attempts from your network. Please try again in {}, or ask your clinic owner to reset your password.", wait_text(*wait_secs))]
    TooManyAttempts { wait_secs: u32 },
    #[error("Too many people are signing in right now. Please try again in a few seconds.")]
    Busy,
    #[error("Enter the email address of your staff account, for example desk@yourclinic.in.")]
    InvalidEmail,
    #[error("Please sign in to continue (your session may have ended).")]
    SignedOut,
    #[error("Your account cannot open this page.")]
    WrongRole,
    #[error("Choose a new password of your own before you go on.")]
    PasswordChangeRequired,
}

/// "1 minute", "15 minutes", "30 seconds": how long to wait, rounded up to minutes
/// past the first one.
fn wait_text(secs: u32) -> String {
    match secs {
        0..=59 => format!("{} seconds", secs.max(1)),
        60 => "1 minute".to_owned(),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}
