//! Each clinic's WhatsApp provider account, its secrets sealed at rest.

use super::{with_pool, with_tx, RowAt, StorageError, Store, Tx};
use crate::console::ProviderKind;
use crate::domain::*;

/// A clinic's provider account as stored (secrets still sealed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAccount {
    pub clinic: ClinicId,
    pub kind: ProviderKind,
    pub phone_number: String,
    pub ultramsg_instance: String,
    pub meta_phone_number_id: String,
    pub sealed_secrets: String,
    /// Meta only: the keyed hash of the verify token, which the handshake looks up.
    pub meta_verify_fingerprint: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    business_id: i64,
    provider: String,
    phone_number: String,
    ultramsg_instance: String,
    meta_phone_number_id: Option<String>,
    sealed_secrets: String,
    meta_verify_fingerprint: Option<String>,
}

impl TryFrom<AccountRow> for StoredAccount {
    type Error = StorageError;
    fn try_from(r: AccountRow) -> Result<Self, StorageError> {
        Ok(StoredAccount {
            clinic: ClinicId(r.business_id),
            kind: RowAt::new("whatsapp_accounts", r.business_id).decode(
                "provider",
                &r.provider,
                ProviderKind::from_stored,
            )?,
            phone_number: r.phone_number,
            ultramsg_instance: r.ultramsg_instance,
            meta_phone_number_id: r.meta_phone_number_id.unwrap_or_default(),
            sealed_secrets: r.sealed_secrets,
            meta_verify_fingerprint: r.meta_verify_fingerprint,
        })
    }
}

const ACCOUNT_COLUMNS: &str = "business_id, provider, phone_number, ultramsg_instance, \
    meta_phone_number_id, sealed_secrets, meta_verify_fingerprint";

impl Tx {
    pub async fn save_whatsapp_account(
        &mut self,
        a: &StoredAccount,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let meta_id = Some(a.meta_phone_number_id.clone()).filter(|s| !s.is_empty());
        with_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO whatsapp_accounts (business_id, provider, phone_number, ultramsg_instance, meta_phone_number_id, sealed_secrets, updated_at, meta_verify_fingerprint) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (business_id) DO UPDATE SET provider = $2, phone_number = $3, ultramsg_instance = $4, \
                 meta_phone_number_id = $5, sealed_secrets = $6, updated_at = $7, meta_verify_fingerprint = $8",
            )
            .bind(a.clinic.get())
            .bind(a.kind.as_str())
            .bind(&a.phone_number)
            .bind(&a.ultramsg_instance)
            .bind(meta_id)
            .bind(&a.sealed_secrets)
            .bind(now.millis())
            .bind(&a.meta_verify_fingerprint)
            .execute(conn)
            .await?;
        });
        Ok(())
    }
}

impl Store {
    pub async fn whatsapp_account(
        &self,
        clinic: ClinicId,
    ) -> Result<Option<StoredAccount>, StorageError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM whatsapp_accounts WHERE business_id = $1");
        let row: Option<AccountRow> = with_pool!(self, pool => sqlx::query_as(&sql).bind(clinic.get()).fetch_optional(pool).await?);
        row.map(StoredAccount::try_from).transpose()
    }

    pub async fn whatsapp_account_by_meta_id(
        &self,
        phone_number_id: &str,
    ) -> Result<Option<StoredAccount>, StorageError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM whatsapp_accounts WHERE meta_phone_number_id = $1"
        );
        let row: Option<AccountRow> = with_pool!(self, pool => sqlx::query_as(&sql).bind(phone_number_id).fetch_optional(pool).await?);
        row.map(StoredAccount::try_from).transpose()
    }

    /// Whether a Meta account's verify token has this fingerprint.
    pub async fn meta_verify_fingerprint_known(
        &self,
        fingerprint: &str,
    ) -> Result<bool, StorageError> {
        let meta = ProviderKind::Meta.as_str();
        let found: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT business_id FROM whatsapp_accounts WHERE meta_verify_fingerprint = $1 AND provider = $2 LIMIT 1",
            )
            .bind(fingerprint)
            .bind(meta)
            .fetch_optional(pool)
            .await?
        });
        Ok(found.is_some())
    }

    /// Meta accounts saved before verify tokens were fingerprinted.
    pub async fn meta_accounts_without_fingerprint(
        &self,
    ) -> Result<Vec<StoredAccount>, StorageError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM whatsapp_accounts WHERE provider = $1 AND meta_verify_fingerprint IS NULL"
        );
        let meta = ProviderKind::Meta.as_str();
        let rows: Vec<AccountRow> =
            with_pool!(self, pool => sqlx::query_as(&sql).bind(meta).fetch_all(pool).await?);
        rows.into_iter().map(StoredAccount::try_from).collect()
    }

    pub async fn set_meta_verify_fingerprint(
        &self,
        clinic: ClinicId,
        fingerprint: &str,
    ) -> Result<(), StorageError> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE whatsapp_accounts SET meta_verify_fingerprint = $2 WHERE business_id = $1")
                .bind(clinic.get())
                .bind(fingerprint)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
