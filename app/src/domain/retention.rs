//! How long patients' personal data is kept (SPEC §9; docs/OPERATIONS.md, "Retention and
//! erasure"): a platform default, which a clinic may shorten, counted in whole local days.

use super::InvalidInput;
#[cfg(feature = "ssr")]
use super::{TimeZone, Timestamp};

/// What the platform keeps when its operator says nothing.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;

/// A number of days personal data is kept: 1 to 3650 (ten years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RetentionDays(u32);

impl RetentionDays {
    pub const MAX: u32 = 3650;

    pub fn new(days: u32) -> Result<Self, InvalidInput> {
        if (1..=Self::MAX).contains(&days) {
            Ok(Self(days))
        } else {
            Err(Self::out_of_range())
        }
    }

    /// Reads days as typed into a form or on the command line.
    pub fn parse(input: &str) -> Result<Self, InvalidInput> {
        input
            .trim()
            .parse::<u32>()
            .map_err(|_| Self::out_of_range())
            .and_then(Self::new)
    }

    fn out_of_range() -> InvalidInput {
        InvalidInput::new(
            "retention_days",
            format!(
                "Keep patients' data for a whole number of days from 1 to {} (ten years).",
                Self::MAX
            ),
        )
    }

    pub fn get(self) -> u32 {
        self.0
    }

    /// What a clinic keeps: its own choice where it is shorter than the platform's.
    pub fn for_clinic(self, chosen: Option<u32>) -> Self {
        match chosen {
            Some(days) if days >= 1 && days < self.0 => Self(days),
            _ => self,
        }
    }

    /// The instant before which a clinic's personal data goes: the local midnight that
    /// begins the day `days` days before today. Whole local days go together, so the
    /// tokens of a day and the WhatsApp messages of that day are removed in the same run.
    #[cfg(feature = "ssr")]
    pub fn purge_before(self, now: Timestamp, timezone: &TimeZone) -> Timestamp {
        let first_kept = now.local_date(timezone).days_before(u64::from(self.0));
        let midnight = first_kept.date().and_time(chrono::NaiveTime::MIN);
        // A midnight skipped by a clock change: the first instant of that day an hour on.
        Timestamp::at_local(timezone, midnight)
            .or_else(|| Timestamp::at_local(timezone, midnight + chrono::Duration::hours(1)))
            .unwrap_or(now)
    }
}

impl Default for RetentionDays {
    fn default() -> Self {
        Self(DEFAULT_RETENTION_DAYS)
    }
}

impl std::str::FromStr for RetentionDays {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s).map_err(|e| e.message)
    }
}

impl std::fmt::Display for RetentionDays {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Whether a patient who joined at `joined` wrote to the clinic on WhatsApp the same local
/// day (what analytics counts as "followed on WhatsApp").
#[cfg(feature = "ssr")]
pub fn wrote_that_day(joined: Timestamp, wrote: &[Timestamp], timezone: &TimeZone) -> bool {
    let day = joined.local_date(timezone);
    wrote.iter().any(|at| at.local_date(timezone) == day)
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn at(tz: &TimeZone, local: &str) -> Timestamp {
        let t = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
        Timestamp::at_local(tz, t).unwrap()
    }

    #[test]
    fn days_outside_one_to_ten_years_are_refused_with_the_range() {
        for bad in ["0", "3651", "-4", "ninety", "", "1.5"] {
            let e = RetentionDays::parse(bad).unwrap_err();
            assert_eq!(e.field, "retention_days");
            assert!(e.message.contains("1 to 3650"), "{bad}: {}", e.message);
        }
        assert_eq!(RetentionDays::parse(" 30 ").unwrap().get(), 30);
        assert_eq!(RetentionDays::parse("3650").unwrap().get(), 3650);
    }

    #[test]
    fn a_clinic_may_keep_less_than_the_platform_never_more() {
        let platform = RetentionDays::new(90).unwrap();
        assert_eq!(platform.for_clinic(None).get(), 90);
        assert_eq!(platform.for_clinic(Some(30)).get(), 30);
        assert_eq!(platform.for_clinic(Some(365)).get(), 90);
    }

    #[test]
    fn the_cut_is_the_local_midnight_that_begins_the_oldest_day_kept() {
        let kolkata = TimeZone::parse("Asia/Kolkata").unwrap();
        let now = at(&kolkata, "2026-12-04 00:30");
        let cut = RetentionDays::new(2).unwrap().purge_before(now, &kolkata);
        assert_eq!(cut, at(&kolkata, "2026-12-02 00:00"));
        let dubai = TimeZone::parse("Asia/Dubai").unwrap();
        // The same instant is still 3 December in Dubai.
        let cut = RetentionDays::new(2).unwrap().purge_before(now, &dubai);
        assert_eq!(cut, at(&dubai, "2026-12-01 00:00"));
    }

    #[test]
    fn writing_counts_on_the_local_day_of_joining_only() {
        let tz = TimeZone::parse("Asia/Kolkata").unwrap();
        let joined = at(&tz, "2026-11-02 09:00");
        assert!(wrote_that_day(joined, &[at(&tz, "2026-11-02 23:50")], &tz));
        assert!(!wrote_that_day(joined, &[at(&tz, "2026-11-03 00:10")], &tz));
        assert!(!wrote_that_day(joined, &[], &tz));
    }
}
