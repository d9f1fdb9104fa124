//! Instants as milliseconds since the Unix epoch: the same integer in SQLite, PostgreSQL,
//! JSON and the browser, so nothing is lost or re-zoned on the way.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        Self(chrono::Utc::now().timestamp_millis())
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn minus_minutes(self, minutes: i64) -> Self {
        Self(self.0 - minutes * 60_000)
    }

    pub fn to_utc(self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp_millis(self.0).unwrap_or_default()
    }

    /// The wall-clock time at `timezone` (an IANA name; UTC if unknown).
    #[cfg(feature = "ssr")]
    pub fn local(self, timezone: &str) -> chrono::NaiveDateTime {
        let tz: chrono_tz::Tz = timezone.parse().unwrap_or(chrono_tz::UTC);
        self.to_utc().with_timezone(&tz).naive_local()
    }

    /// The instant the wall-clock time `local` names at `timezone` (the earlier one when
    /// clocks go back; `None` for a time skipped when they go forward).
    #[cfg(feature = "ssr")]
    pub fn at_local(timezone: &str, local: chrono::NaiveDateTime) -> Option<Self> {
        use chrono::TimeZone;
        let tz: chrono_tz::Tz = timezone.parse().unwrap_or(chrono_tz::UTC);
        tz.from_local_datetime(&local)
            .earliest()
            .map(|t| Self(t.timestamp_millis()))
    }

    /// Seconds since the local midnight at `timezone`.
    #[cfg(feature = "ssr")]
    pub fn local_secs(self, timezone: &str) -> u32 {
        use chrono::Timelike;
        self.local(timezone).num_seconds_from_midnight()
    }
}

/// Where the services read the time: the system clock, or a clock its owner sets (tests
/// and the replay benchmark move it by hand, so retries, backoff and dates run in
/// simulated time).
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<std::sync::Arc<std::sync::atomic::AtomicI64>>);

impl Clock {
    /// A clock that stands at `at` until it is set again.
    pub fn manual(at: Timestamp) -> Self {
        Clock(Some(std::sync::Arc::new(at.millis().into())))
    }

    /// Moves a manual clock to `at` (the system clock ignores it).
    pub fn set(&self, at: Timestamp) {
        if let Some(millis) = &self.0 {
            millis.store(at.millis(), std::sync::atomic::Ordering::Relaxed);
        }
    }

    pub fn now(&self) -> Timestamp {
        match &self.0 {
            Some(millis) => Timestamp(millis.load(std::sync::atomic::Ordering::Relaxed)),
            None => Timestamp::now(),
        }
    }
}
