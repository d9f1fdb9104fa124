//! Staff users as the rest of the app reads them (the password hash never leaves storage).

use super::{BusinessId, Role, UserId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffUser {
    pub id: UserId,
    /// `None` only for a super admin.
    pub business_id: Option<BusinessId>,
    pub email: String,
    pub role: Role,
    pub active: bool,
    /// Set when someone else chose the password (a new account, a reset): the user must
    /// choose their own before doing anything else.
    pub must_change_password: bool,
}

impl StaffUser {
    /// Whether this user may run the desk of `clinic`.
    pub fn works_at(&self, clinic: BusinessId) -> bool {
        self.active && self.business_id == Some(clinic)
    }
}
