//! A clinic's queues: adding or changing one (name, token prefix, usual visit length),
//! archiving it and bringing it back.

use super::validate::{queue_fields, QueueFields};
use super::{Caller, ConsoleFailure, Result};
use crate::console::*;
use crate::storage::{NewQueue, StorageError};
use crate::tenant::Tenants;

/// What the queue form sends: `queue_id` empty adds a queue.
#[derive(Debug, Clone, Default)]
pub struct QueueInput {
    pub queue_id: Option<i64>,
    pub name: String,
    pub prefix: String,
    /// Minutes; empty for "use the clinic's default range".
    pub default_service_minutes: String,
    /// Room names separated by commas or new lines; empty for none, `None` to keep the
    /// queue's rooms as they are.
    pub rooms: Option<String>,
}

impl Tenants {
    /// Adds a queue or renames one (name, prefix, usual visit length).
    pub async fn save_queue(
        &self,
        caller: &Caller<'_>,
        slug: Option<&str>,
        input: &QueueInput,
    ) -> Result<()> {
        let store = self.store();
        let clinic = self.clinic_in_reach(caller, slug).await?;
        let QueueFields {
            name,
            prefix,
            minutes,
            rooms,
        } = queue_fields(input)?;
        let now = self.now();
        let queues = store.all_queues_of(clinic.id).await?;
        let mut tx = store.begin().await?;
        let (action, detail) = match input.queue_id {
            None => {
                let new = NewQueue {
                    name: name.clone(),
                    prefix: prefix.clone(),
                    default_service_minutes: minutes,
                    position: queues.iter().map(|q| q.position + 1).max().unwrap_or(0),
                    rooms: rooms.clone().unwrap_or_default(),
                    hours: Default::default(),
                };
                tx.insert_queue(clinic.id, &new, now)
                    .await
                    .map_err(|e| prefix_taken(e, &prefix))?;
                (
                    "ADD_QUEUE",
                    serde_json::json!({ "prefix": prefix, "rooms": rooms }),
                )
            }
            Some(id) => {
                let mut queue = queues
                    .into_iter()
                    .find(|q| q.id.get() == id)
                    .ok_or(ConsoleError::UnknownQueue)?;
                let before = serde_json::json!({
                    "name": queue.name,
                    "prefix": queue.prefix,
                    "rooms": queue.rooms,
                });
                queue.name = name.clone();
                queue.prefix = prefix.clone();
                queue.default_service_minutes = minutes;
                if let Some(rooms) = &rooms {
                    queue.rooms = rooms.clone();
                }
                tx.update_queue(&queue)
                    .await
                    .map_err(|e| prefix_taken(e, &prefix))?;
                (
                    "UPDATE_QUEUE",
                    serde_json::json!({ "before": before, "prefix": prefix, "rooms": rooms }),
                )
            }
        };
        tx.insert_console_audit(
            &caller.audit(Some(clinic.id), action, &name, &detail.to_string()),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a queue's opening hours: each weekday's spans as typed and its closed dates
    /// (all empty: no hours, open whenever the desk is).
    pub async fn save_queue_hours(
        &self,
        caller: &Caller<'_>,
        slug: Option<&str>,
        queue_id: i64,
        week: &[String; 7],
        closed_on: &str,
    ) -> Result<()> {
        let hours = crate::domain::Hours::parse(week, closed_on)?;
        let store = self.store();
        let clinic = self.clinic_in_reach(caller, slug).await?;
        let mut queue = store
            .all_queues_of(clinic.id)
            .await?
            .into_iter()
            .find(|q| q.id.get() == queue_id)
            .ok_or(ConsoleError::UnknownQueue)?;
        let detail = serde_json::json!({
            "before": queue.hours.to_stored(),
            "after": hours.to_stored(),
        });
        queue.hours = hours;
        let mut tx = store.begin().await?;
        tx.update_queue(&queue).await?;
        tx.insert_console_audit(
            &caller.audit(
                Some(clinic.id),
                "SET_HOURS",
                &queue.name,
                &detail.to_string(),
            ),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Archives a queue (it leaves the join page and the desk; its history stays) or brings
    /// it back. Refused while patients wait in it, and for the last queue in use.
    pub async fn set_queue_archived(
        &self,
        caller: &Caller<'_>,
        slug: Option<&str>,
        queue_id: i64,
        archived: bool,
    ) -> Result<()> {
        let store = self.store();
        let clinic = self.clinic_in_reach(caller, slug).await?;
        let queues = store.all_queues_of(clinic.id).await?;
        let mut queue = queues
            .iter()
            .find(|q| q.id.get() == queue_id)
            .cloned()
            .ok_or(ConsoleError::UnknownQueue)?;
        let mut tx = store.begin().await?;
        tx.lock_clinic(clinic.id).await?;
        if archived {
            if !queues.iter().any(|q| !q.archived && q.id != queue.id) {
                return Err(ConsoleError::LastQueue.into());
            }
            if tx.busy_queue_names(clinic.id).await?.contains(&queue.name) {
                return Err(ConsoleError::QueueHasPatients(queue.name).into());
            }
        }
        queue.archived = archived;
        tx.update_queue(&queue).await?;
        let action = if archived {
            "ARCHIVE_QUEUE"
        } else {
            "RESTORE_QUEUE"
        };
        tx.insert_console_audit(
            &caller.audit(Some(clinic.id), action, &queue.name, "{}"),
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn prefix_taken(e: StorageError, prefix: &str) -> ConsoleFailure {
    if e.unique_violation().is_some() {
        ConsoleError::PrefixTaken(prefix.to_owned()).into()
    } else {
        e.into()
    }
}
