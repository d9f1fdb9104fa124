//! The code that opens a clinic's reception kiosk.

use super::{with_pool, with_tx, StorageError, Store, Tx};
use crate::domain::*;

impl Store {
    /// The code the owner set for the clinic's kiosk; `None` when it has no kiosk.
    pub async fn kiosk_code(&self, clinic: ClinicId) -> Result<Option<String>, StorageError> {
        let code: Option<Option<String>> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT kiosk_code FROM businesses WHERE id = $1")
                .bind(clinic.get())
                .fetch_optional(pool)
                .await?
        });
        Ok(code.flatten())
    }
}

impl Tx {
    /// Sets (or, with `None`, removes) the code of the clinic's kiosk.
    pub async fn set_kiosk_code(
        &mut self,
        clinic: ClinicId,
        code: Option<&KioskCode>,
    ) -> Result<(), StorageError> {
        with_tx!(self, conn => {
            sqlx::query("UPDATE businesses SET kiosk_code = $2 WHERE id = $1")
                .bind(clinic.get())
                .bind(code.map(KioskCode::as_str))
                .execute(conn)
                .await?;
        });
        Ok(())
    }
}
