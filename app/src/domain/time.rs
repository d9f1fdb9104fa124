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

    /// The wall-clock time at `timezone`.
    #[cfg(feature = "ssr")]
    pub fn local(self, timezone: &TimeZone) -> chrono::NaiveDateTime {
        self.to_utc().with_timezone(&timezone.zone).naive_local()
    }

    /// The instant the wall-clock time `local` names at `timezone` (the earlier one when
    /// clocks go back; `None` for a time skipped when they go forward).
    #[cfg(feature = "ssr")]
    pub fn at_local(timezone: &TimeZone, local: chrono::NaiveDateTime) -> Option<Self> {
        use chrono::TimeZone;
        timezone
            .zone
            .from_local_datetime(&local)
            .earliest()
            .map(|t| Self(t.timestamp_millis()))
    }

    /// The calendar date at `timezone`.
    #[cfg(feature = "ssr")]
    pub fn local_date(self, timezone: &TimeZone) -> LocalDate {
        LocalDate(self.local(timezone).date())
    }

    /// Seconds since the local midnight at `timezone`.
    #[cfg(feature = "ssr")]
    pub fn local_secs(self, timezone: &TimeZone) -> u32 {
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

/// An IANA timezone name such as `Asia/Kolkata`, checked once where it enters (a form, a
/// database row). On the server it holds the parsed zone, so reading a clinic's local time
/// never falls back to UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct TimeZone {
    name: String,
    #[cfg(feature = "ssr")]
    zone: chrono_tz::Tz,
}

impl TimeZone {
    /// Reads an IANA name (surrounding spaces ignored).
    #[cfg(feature = "ssr")]
    pub fn parse(input: &str) -> Result<Self, super::InvalidInput> {
        let name = input.trim();
        match name.parse::<chrono_tz::Tz>() {
            Ok(zone) if !name.is_empty() => Ok(Self {
                name: name.to_owned(),
                zone,
            }),
            _ => Err(super::InvalidInput::new(
                "timezone",
                format!(
                    "\"{name}\" is not a timezone. Use a name such as Asia/Kolkata or Asia/Dubai."
                ),
            )),
        }
    }

    #[cfg(feature = "ssr")]
    pub fn from_zone(zone: chrono_tz::Tz) -> Self {
        Self {
            name: zone.name().to_owned(),
            zone,
        }
    }

    #[cfg(feature = "ssr")]
    pub fn zone(&self) -> chrono_tz::Tz {
        self.zone
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

#[cfg(feature = "ssr")]
impl std::str::FromStr for TimeZone {
    type Err = super::InvalidInput;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl std::fmt::Display for TimeZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl PartialEq<&str> for TimeZone {
    fn eq(&self, name: &&str) -> bool {
        self.name == *name
    }
}

impl From<TimeZone> for String {
    fn from(tz: TimeZone) -> String {
        tz.name
    }
}

impl TryFrom<String> for TimeZone {
    type Error = super::InvalidInput;

    #[cfg(feature = "ssr")]
    fn try_from(name: String) -> Result<Self, Self::Error> {
        Self::parse(&name)
    }

    /// The browser only shows the name the server sent.
    #[cfg(not(feature = "ssr"))]
    fn try_from(name: String) -> Result<Self, Self::Error> {
        Ok(Self { name })
    }
}

/// A clinic's calendar date, which names its queue days (`YYYY-MM-DD` when stored).
/// In JSON as stored (`"2026-12-07"`), read without chrono's format parser, which the
/// patient's WebAssembly bundle does without.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct LocalDate(chrono::NaiveDate);

impl From<LocalDate> for String {
    fn from(date: LocalDate) -> String {
        date.to_string()
    }
}

impl TryFrom<String> for LocalDate {
    type Error = String;
    fn try_from(stored: String) -> Result<Self, String> {
        LocalDate::parse(&stored).ok_or_else(|| format!("not a date: {stored}"))
    }
}

impl LocalDate {
    pub fn new(date: chrono::NaiveDate) -> Self {
        Self(date)
    }

    /// Reads a stored date (`YYYY-MM-DD`).
    pub fn parse(stored: &str) -> Option<Self> {
        let mut parts = stored.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        chrono::NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).map(Self)
    }

    pub fn date(self) -> chrono::NaiveDate {
        self.0
    }

    /// The date `days` days earlier.
    pub fn days_before(self, days: u64) -> Self {
        Self(self.0 - chrono::Days::new(days))
    }
}

impl std::fmt::Display for LocalDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use chrono::Datelike;
        let d = self.0;
        write!(f, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    }
}
