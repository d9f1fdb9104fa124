//! What the closing sweep reads: the queue days still open whose queue has hours.

use super::{with_pool, StorageError, Store};
use crate::domain::*;

/// An open queue day of a queue with opening hours.
#[derive(Debug, Clone)]
pub struct OpenDay {
    pub id: QueueDayId,
    pub queue_id: QueueId,
    pub date: LocalDate,
    pub hours: Hours,
    pub timezone: TimeZone,
}

impl Store {
    /// The open days of queues with hours that nobody has closed yet today, by hand or by
    /// the hours: a day the desk reopened with UNDO stays with the desk.
    pub async fn open_days_with_hours(&self) -> Result<Vec<OpenDay>, StorageError> {
        let rows: Vec<(i64, i64, String, String, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT d.id, d.queue_id, d.service_date, q.hours, b.timezone FROM queue_days d \
                 JOIN queues q ON q.id = d.queue_id JOIN businesses b ON b.id = d.business_id \
                 WHERE d.status = 'OPEN' AND q.hours <> '' AND NOT q.archived \
                 AND NOT EXISTS (SELECT 1 FROM audit_log a \
                   WHERE a.queue_day_id = d.id AND a.action = 'CLOSE_DAY')",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .filter_map(|(day, queue, date, hours, timezone)| {
                Some(OpenDay {
                    id: QueueDayId(day),
                    queue_id: QueueId(queue),
                    date: LocalDate::parse(&date)?,
                    hours: Hours::from_stored(&hours),
                    timezone: TimeZone::parse(&timezone).ok()?,
                })
            })
            .collect())
    }
}
