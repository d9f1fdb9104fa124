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
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    business_id: i64,
    provider: String,
    phone_number: String,
    ultramsg_instance: String,
    meta_phone_number_id: Option<String>,
    sealed_secrets: String,
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
        })
    }
}

const ACCOUNT_COLUMNS: &str =
    "business_id, provider, phone_number, ultramsg_instance, meta_phone_number_id, sealed_secrets";

impl Tx {
    pub async fn save_whatsapp_account(
        &mut self,
        a: &StoredAccount,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let meta_id = Some(a.meta_phone_number_id.clone()).filter(|s| !s.is_empty());
        with_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO whatsapp_accounts (business_id, provider, phone_number, ultramsg_instance, meta_phone_number_id, sealed_secrets, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (business_id) DO UPDATE SET provider = $2, phone_number = $3, ultramsg_instance = $4, \
                 meta_phone_number_id = $5, sealed_secrets = $6, updated_at = $7",
            )
            .bind(a.clinic.get())
            .bind(a.kind.as_str())
            .bind(&a.phone_number)
            .bind(&a.ultramsg_instance)
            .bind(meta_id)
            .bind(&a.sealed_secrets)
            .bind(now.millis())
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

    pub async fn meta_accounts(&self) -> Result<Vec<StoredAccount>, StorageError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM whatsapp_accounts WHERE provider = $1");
        let meta = ProviderKind::Meta.as_str();
        let rows: Vec<AccountRow> =
            with_pool!(self, pool => sqlx::query_as(&sql).bind(meta).fetch_all(pool).await?);
        rows.into_iter().map(StoredAccount::try_from).collect()
    }
}
