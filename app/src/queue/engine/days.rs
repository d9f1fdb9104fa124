//! Queue days as trackers last read them, kept in this process between changes.
//!
//! Every tracker poll reads its token with its day's version (one indexed read), and the
//! day itself only when that version moved: thousands of trackers of one queue day share
//! one read of it per change. The version comes from the database on every poll, so a
//! NEXT on any instance shows on the next poll. The clinic and the queue (names, status,
//! settings, WhatsApp number) are read again at least every `CLINIC_FRESH_MS`, so an
//! edit on the console shows within that time on every instance. Times are the engine's
//! clock, so a replay or a test moves them.

use crate::domain::{Clinic, Queue, QueueDayId, Timestamp};
use crate::queue::rules::Day;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How long a day's clinic and queue are believed before they are read again.
pub const CLINIC_FRESH_MS: i64 = 5_000;

/// Days kept at most. Past it, the days nobody polled within `CLINIC_FRESH_MS` are dropped
/// (and all of them if every one is fresh; each is read again at its next poll).
const MAX_DAYS: usize = 4_096;

/// A queue day with what its trackers show about the clinic.
#[derive(Debug)]
pub struct SeenDay {
    /// Which read this is: no two reads in this process share it.
    pub read: u64,
    pub day: Day,
    pub queue: Queue,
    pub clinic: Clinic,
    /// The clinic's WhatsApp number, when it uses WhatsApp.
    pub whatsapp_number: Option<String>,
}

impl SeenDay {
    /// A new read's number.
    pub fn next_read() -> u64 {
        static READS: AtomicU64 = AtomicU64::new(1);
        READS.fetch_add(1, Ordering::Relaxed)
    }
}

/// What was read of each key, at which version and when.
#[derive(Debug)]
pub struct DayCache<T = SeenDay> {
    days: Mutex<HashMap<QueueDayId, Kept<T>>>,
}

#[derive(Debug)]
struct Kept<T> {
    version: i64,
    read_at: Timestamp,
    value: Arc<T>,
}

impl<T> Default for DayCache<T> {
    fn default() -> Self {
        Self {
            days: Mutex::default(),
        }
    }
}

impl<T> DayCache<T> {
    /// The day as last read, if it is still at `version` and was read recently enough.
    pub fn get(&self, id: QueueDayId, version: i64, now: Timestamp) -> Option<Arc<T>> {
        let days = self.days.lock().unwrap_or_else(|e| e.into_inner());
        days.get(&id)
            .filter(|kept| kept.version == version && fresh(kept.read_at, now))
            .map(|kept| kept.value.clone())
    }

    /// What was kept at `version`, however long ago: for a reader that holds the day's
    /// lock and so reads its version as the truth.
    pub fn get_at(&self, id: QueueDayId, version: i64) -> Option<Arc<T>> {
        let days = self.days.lock().unwrap_or_else(|e| e.into_inner());
        days.get(&id)
            .filter(|kept| kept.version == version)
            .map(|kept| kept.value.clone())
    }

    /// Keeps what was read at `version` at `read_at` for the next polls (unless a newer
    /// version is already kept).
    pub fn put(&self, id: QueueDayId, version: i64, read_at: Timestamp, value: Arc<T>) {
        let mut days = self.days.lock().unwrap_or_else(|e| e.into_inner());
        if days.get(&id).is_some_and(|kept| kept.version > version) {
            return;
        }
        if days.len() >= MAX_DAYS && !days.contains_key(&id) {
            days.retain(|_, kept| fresh(kept.read_at, read_at));
            if days.len() >= MAX_DAYS {
                days.clear();
            }
        }
        days.insert(
            id,
            Kept {
                version,
                read_at,
                value,
            },
        );
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.days.lock().unwrap().len()
    }
}

/// Whether something read at `read_at` is still believed at `now` (a clock set back
/// counts as fresh).
fn fresh(read_at: Timestamp, now: Timestamp) -> bool {
    now.millis() - read_at.millis() < CLINIC_FRESH_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_800_000_000_000);

    fn put(
        cache: &DayCache<&'static str>,
        id: i64,
        version: i64,
        read_at: Timestamp,
        what: &'static str,
    ) {
        cache.put(QueueDayId(id), version, read_at, Arc::new(what));
    }

    fn get(cache: &DayCache<&'static str>, id: i64, version: i64) -> Option<&'static str> {
        cache.get(QueueDayId(id), version, NOW).map(|v| *v)
    }

    #[test]
    fn a_day_is_given_back_only_at_the_version_it_was_read_at() {
        let cache = DayCache::default();
        put(&cache, 1, 3, NOW, "three");
        assert_eq!(get(&cache, 1, 3), Some("three"));
        assert_eq!(get(&cache, 1, 4), None);
        assert_eq!(get(&cache, 2, 3), None);
    }

    #[test]
    fn an_older_read_does_not_replace_a_newer_one() {
        let cache = DayCache::default();
        put(&cache, 1, 5, NOW, "five");
        put(&cache, 1, 4, NOW, "four");
        assert_eq!(get(&cache, 1, 5), Some("five"));
    }

    #[test]
    fn a_clinic_read_too_long_ago_is_read_again() {
        let cache = DayCache::default();
        let long_ago = Timestamp(NOW.millis() - CLINIC_FRESH_MS);
        put(&cache, 1, 1, long_ago, "old");
        assert_eq!(get(&cache, 1, 1), None);
    }

    #[test]
    fn a_full_cache_drops_what_it_read_longest_ago() {
        let cache = DayCache::default();
        let long_ago = Timestamp(NOW.millis() - CLINIC_FRESH_MS * 2);
        for id in 0..MAX_DAYS as i64 {
            put(&cache, id, 1, long_ago, "old");
        }
        put(&cache, -1, 1, NOW, "new");
        assert_eq!(cache.len(), 1);
        assert_eq!(get(&cache, -1, 1), Some("new"));
    }
}
