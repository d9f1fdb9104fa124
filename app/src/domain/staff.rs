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
    #[error("Too many failed attempts. Please wait {minutes} minutes and try again, or ask your clinic owner to reset your password.")]
    TooManyAttempts { minutes: u32 },
    #[error("Please sign in to continue (your session may have ended).")]
    SignedOut,
    #[error("Your account cannot open this page.")]
    WrongRole,
    #[error("Choose a new password of your own before you go on.")]
    PasswordChangeRequired,
}
