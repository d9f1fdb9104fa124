//! A queue's opening hours: spans of time per weekday (the gap between two spans is a
//! break, such as lunch) and dates it is closed all day (a holiday, the doctor's leave).
//! Pure: the caller brings the clinic's local date and time.
//!
//! A queue without hours is open whenever its desk is, as before hours existed.

use super::{InvalidInput, LocalDate};
use chrono::{Datelike, Days};
use serde::{Deserialize, Serialize};

/// Minutes in a day: a span may close at midnight (24:00).
const DAY_MINUTES: u16 = 24 * 60;

/// How far ahead the next opening is looked for: a year of holidays at most.
const LOOK_AHEAD_DAYS: u64 = 366;

/// Spans a day may have, and dates a queue may be closed on.
const MAX_SPANS: usize = 6;
const MAX_CLOSED_DATES: usize = 120;

/// Weekday names in Hindi, Monday first.
pub const HINDI_WEEKDAYS: [&str; 7] = [
    "सोमवार",
    "मंगलवार",
    "बुधवार",
    "गुरुवार",
    "शुक्रवार",
    "शनिवार",
    "रविवार",
];

/// Weekday names, Monday first, as the stored form and the console name them.
pub const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// From `open` to `close`, in minutes since the local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub open: u16,
    pub close: u16,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hours {
    /// Monday first; each day's spans in order, apart from each other. Every day empty:
    /// no weekly hours (open on any day that is not in `closed_on`).
    pub week: [Vec<Span>; 7],
    /// Dates closed all day, in order.
    pub closed_on: Vec<LocalDate>,
}

/// Whether a queue takes patients at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Opening {
    /// Open; it closes (or breaks) at `until` minutes, if today has a closing time.
    Open { until: Option<u16> },
    /// Closed now (before opening, on a break, after closing, on a closed day); it opens
    /// next at `next`, if it opens again within a year.
    Closed { next: Option<NextOpening> },
}

/// When a closed queue opens again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextOpening {
    pub date: LocalDate,
    pub minute: u16,
    /// 0 today, 1 tomorrow…
    pub days_away: u32,
}

impl Hours {
    /// Whether the queue has hours at all (weekly spans or closed dates).
    pub fn is_set(&self) -> bool {
        self.has_week() || !self.closed_on.is_empty()
    }

    fn has_week(&self) -> bool {
        self.week.iter().any(|d| !d.is_empty())
    }

    fn is_closed_on(&self, date: LocalDate) -> bool {
        self.closed_on.binary_search(&date).is_ok()
    }

    /// The spans of `date`: `None` when the queue has no weekly hours and `date` is not a
    /// closed date (open all day); empty when it is closed all day.
    pub fn spans_on(&self, date: LocalDate) -> Option<&[Span]> {
        if self.is_closed_on(date) {
            return Some(&[]);
        }
        self.has_week().then(|| self.week[weekday(date)].as_slice())
    }

    /// Whether the queue is open at `minute` (since the local midnight) of `date`.
    pub fn at(&self, date: LocalDate, minute: u16) -> Opening {
        match self.spans_on(date) {
            None => Opening::Open { until: None },
            Some(spans) => match spans.iter().find(|s| s.open <= minute && minute < s.close) {
                Some(s) => Opening::Open {
                    until: Some(s.close),
                },
                None => Opening::Closed {
                    next: self.next_opening(date, minute),
                },
            },
        }
    }

    /// The first opening after `minute` of `date`, within a year.
    pub fn next_opening(&self, date: LocalDate, minute: u16) -> Option<NextOpening> {
        (0..=LOOK_AHEAD_DAYS).find_map(|days_away| {
            let day = LocalDate::new(date.date().checked_add_days(Days::new(days_away))?);
            let open = match self.spans_on(day) {
                None => 0,
                Some(spans) => spans
                    .iter()
                    .map(|s| s.open)
                    .find(|&open| days_away > 0 || open > minute)?,
            };
            Some(NextOpening {
                date: day,
                minute: open,
                days_away: days_away as u32,
            })
        })
    }

    /// When the day `date` closes, in minutes: the end of its last span. `None` on a day
    /// without a closing time (no weekly hours, or closed all day).
    pub fn closing_on(&self, date: LocalDate) -> Option<u16> {
        self.spans_on(date)?.last().map(|s| s.close)
    }

    /// The stretches of `date` before its first span and between its spans (the breaks),
    /// in seconds since the local midnight: time in which nobody is seen. After the last
    /// span the doctor sees whoever is still waiting, so that is not closed time here.
    pub fn closed_secs_on(&self, date: LocalDate) -> Vec<(u32, u32)> {
        let Some(spans) = self.spans_on(date).filter(|s| !s.is_empty()) else {
            return Vec::new();
        };
        let mut closed = Vec::with_capacity(spans.len());
        let mut from = 0;
        for s in spans {
            if s.open > from {
                closed.push((u32::from(from) * 60, u32::from(s.open) * 60));
            }
            from = s.close;
        }
        closed
    }

    /// The closed dates from `today` to `days` days on.
    pub fn closed_within(&self, today: LocalDate, days: u64) -> Vec<LocalDate> {
        let last = today.date().checked_add_days(Days::new(days));
        self.closed_on
            .iter()
            .copied()
            .filter(|d| *d >= today && last.is_some_and(|last| d.date() <= last))
            .collect()
    }

    /// Reads the stored form (`to_stored`), leaving out any line it cannot read.
    pub fn from_stored(stored: &str) -> Hours {
        let mut hours = Hours::default();
        for line in stored.lines() {
            let Some((key, value)) = line.split_once(' ') else {
                continue;
            };
            if key == "closed" {
                hours.closed_on = value.split(',').filter_map(LocalDate::parse).collect();
            } else if let Some(day) = WEEKDAYS
                .iter()
                .position(|d| d[..3].eq_ignore_ascii_case(key))
            {
                hours.week[day] = parse_spans(value).unwrap_or_default();
            }
        }
        hours.closed_on.sort();
        hours
    }

    /// One line per weekday with spans ("mon 09:00-13:00,14:00-18:00") and one of closed
    /// dates ("closed 2026-12-25,2027-01-26"); empty for a queue without hours.
    pub fn to_stored(&self) -> String {
        let mut lines: Vec<String> = self
            .week
            .iter()
            .zip(WEEKDAYS)
            .filter(|(spans, _)| !spans.is_empty())
            .map(|(spans, day)| {
                let spans: Vec<String> = spans
                    .iter()
                    .map(|s| format!("{}-{}", hhmm(s.open), hhmm(s.close)))
                    .collect();
                format!("{} {}", day[..3].to_ascii_lowercase(), spans.join(","))
            })
            .collect();
        if !self.closed_on.is_empty() {
            let dates: Vec<String> = self.closed_on.iter().map(ToString::to_string).collect();
            lines.push(format!("closed {}", dates.join(",")));
        }
        lines.join("\n")
    }

    /// Reads the console's form: each weekday's spans as typed ("9:00-13:00, 14:00-18:00",
    /// empty for closed) and the closed dates ("2026-12-25, 2027-01-26").
    pub fn parse(week: &[String; 7], closed_on: &str) -> Result<Hours, InvalidInput> {
        let mut hours = Hours::default();
        for ((typed, spans), day) in week.iter().zip(hours.week.iter_mut()).zip(WEEKDAYS) {
            let field = format!("hours_{}", day[..3].to_ascii_lowercase());
            *spans = parse_spans(typed)
                .map_err(|why| InvalidInput::new(&field, format!("{day}: {why}")))?;
        }
        for date in closed_on
            .split([',', '\n', ' '])
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            let date = LocalDate::parse(date).ok_or_else(|| {
                InvalidInput::new(
                    "closed_on",
                    format!("\"{date}\" is not a date. Write closed dates as YYYY-MM-DD, such as 2026-12-25, separated by commas."),
                )
            })?;
            hours.closed_on.push(date);
        }
        hours.closed_on.sort();
        hours.closed_on.dedup();
        if hours.closed_on.len() > MAX_CLOSED_DATES {
            return Err(InvalidInput::new(
                "closed_on",
                format!("A queue can list up to {MAX_CLOSED_DATES} closed dates."),
            ));
        }
        Ok(hours)
    }

    /// A day's spans as the console shows them: "09:00-13:00, 14:00-18:00".
    pub fn typed(spans: &[Span]) -> String {
        let spans: Vec<String> = spans
            .iter()
            .map(|s| format!("{}-{}", hhmm(s.open), hhmm(s.close)))
            .collect();
        spans.join(", ")
    }

    /// The closed dates as the console shows them.
    pub fn typed_closed_on(&self) -> String {
        let dates: Vec<String> = self.closed_on.iter().map(ToString::to_string).collect();
        dates.join(", ")
    }
}

/// 0 for Monday.
fn weekday(date: LocalDate) -> usize {
    date.date().weekday().num_days_from_monday() as usize
}

/// One day's spans as typed: "09:00-13:00, 14:00-18:00" (also "9:00–13:00", "9 to 1pm"
/// is not accepted: hours are 24-hour clock times).
fn parse_spans(typed: &str) -> Result<Vec<Span>, String> {
    let mut spans: Vec<Span> = Vec::new();
    for part in typed
        .split([',', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (open, close) = part
            .split_once(['-', '–', '—'])
            .or_else(|| part.split_once(" to "))
            .ok_or_else(|| format!("\"{part}\" is not a span of time. Write it as 09:00-13:00."))?;
        let (open, close) = (clock(open)?, clock(close)?);
        if close <= open {
            return Err(format!(
                "{part} closes before it opens. Spans are 24-hour times within the day, such as 14:00-18:00."
            ));
        }
        if spans.last().is_some_and(|last| open < last.close) {
            return Err(format!(
                "{part} starts before the span before it ends. List the spans in order, apart from each other."
            ));
        }
        spans.push(Span { open, close });
    }
    if spans.len() > MAX_SPANS {
        return Err(format!("a day can have up to {MAX_SPANS} spans."));
    }
    Ok(spans)
}

/// A 24-hour clock time: "9:00", "09:30", "24:00".
fn clock(typed: &str) -> Result<u16, String> {
    let typed = typed.trim();
    let refused = || {
        format!(
            "\"{typed}\" is not a time. Write times on the 24-hour clock, such as 09:00 or 18:30."
        )
    };
    let (h, m) = typed.split_once([':', '.']).ok_or_else(refused)?;
    if !(1..=2).contains(&h.len()) || m.len() != 2 {
        return Err(refused());
    }
    let (h, m): (u16, u16) = (
        h.parse().map_err(|_| refused())?,
        m.parse().map_err(|_| refused())?,
    );
    if m >= 60 || h * 60 + m > DAY_MINUTES {
        return Err(refused());
    }
    Ok(h * 60 + m)
}

fn hhmm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// A time as patients read it: "9:00 am", "2:30 pm", "12:00 noon".
pub fn clock_words(minute: u16) -> String {
    let (h, m) = (minute / 60 % 24, minute % 60);
    match (h, m) {
        (12, 0) => "12:00 noon".to_owned(),
        (0, 0) => "midnight".to_owned(),
        (0, m) => format!("12:{m:02} am"),
        (h @ 1..=11, m) => format!("{h}:{m:02} am"),
        (12, m) => format!("12:{m:02} pm"),
        (h, m) => format!("{}:{m:02} pm", h - 12),
    }
}

impl NextOpening {
    /// When, as an English sentence's end: "today at 2:00 pm", "tomorrow at 9:00 am",
    /// "on Monday 7 December at 9:00 am".
    pub fn words(&self) -> String {
        let at = clock_words(self.minute);
        match self.days_away {
            0 => format!("today at {at}"),
            1 => format!("tomorrow at {at}"),
            _ => {
                const MONTHS: [&str; 12] = [
                    "January",
                    "February",
                    "March",
                    "April",
                    "May",
                    "June",
                    "July",
                    "August",
                    "September",
                    "October",
                    "November",
                    "December",
                ];
                let date = self.date.date();
                format!(
                    "on {} {} {} at {at}",
                    WEEKDAYS[weekday(self.date)],
                    date.day(),
                    MONTHS[date.month0() as usize]
                )
            }
        }
    }

    /// The same in Hindi: "आज 2:00 pm", "कल 9:00 am", "सोमवार 7/12 को 9:00 am".
    pub fn hindi_words(&self) -> String {
        let at = clock_words(self.minute);
        match self.days_away {
            0 => format!("आज {at}"),
            1 => format!("कल {at}"),
            _ => format!(
                "{} {}/{} को {at}",
                HINDI_WEEKDAYS[weekday(self.date)],
                self.date.date().day(),
                self.date.date().month()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> LocalDate {
        LocalDate::parse(s).unwrap()
    }

    fn clinic_hours() -> Hours {
        let mut week: [String; 7] = Default::default();
        for day in &mut week[..5] {
            *day = "09:00-13:00, 14:00-18:00".into();
        }
        week[5] = "9:00-12:30".into();
        Hours::parse(&week, "2026-12-25").unwrap()
    }

    const MON: &str = "2026-12-07";

    #[test]
    fn a_day_is_open_in_its_spans_and_closed_in_its_break() {
        let h = clinic_hours();
        let m = |h: u16, m: u16| h * 60 + m;
        assert_eq!(
            h.at(date(MON), m(10, 0)),
            Opening::Open {
                until: Some(m(13, 0))
            }
        );
        let lunch = h.at(date(MON), m(13, 0));
        let Opening::Closed { next: Some(next) } = lunch else {
            panic!("closed at lunch: {lunch:?}")
        };
        assert_eq!((next.days_away, next.minute), (0, m(14, 0)));
        assert_eq!(next.words(), "today at 2:00 pm");
        assert_eq!(
            h.closed_secs_on(date(MON)),
            vec![(0, 9 * 3600), (13 * 3600, 14 * 3600)]
        );
        assert_eq!(h.closing_on(date(MON)), Some(m(18, 0)));
    }

    #[test]
    fn after_closing_it_opens_on_the_next_working_day_past_holidays() {
        let h = clinic_hours();
        // Thursday 24 December, evening: Friday the 25th is a holiday, Saturday opens.
        let Opening::Closed { next: Some(next) } = h.at(date("2026-12-24"), 19 * 60) else {
            panic!("closed in the evening")
        };
        assert_eq!(next.date, date("2026-12-26"));
        assert_eq!(next.words(), "on Saturday 26 December at 9:00 am");
        assert_eq!(h.closing_on(date("2026-12-25")), None);
        // Saturday afternoon: Sunday is closed, Monday opens.
        let Opening::Closed { next: Some(next) } = h.at(date("2026-12-26"), 13 * 60) else {
            panic!("closed on Saturday afternoon")
        };
        assert_eq!((next.date, next.days_away), (date("2026-12-28"), 2));
        // Sunday before opening: tomorrow.
        let Opening::Closed { next: Some(next) } = h.at(date("2026-12-27"), 8 * 60) else {
            panic!("closed on Sunday")
        };
        assert_eq!(next.words(), "tomorrow at 9:00 am");
    }

    #[test]
    fn a_queue_without_hours_is_always_open_and_one_with_only_holidays_closes_on_them() {
        let none = Hours::default();
        assert!(!none.is_set());
        assert_eq!(none.at(date(MON), 3 * 60), Opening::Open { until: None });
        let holidays = Hours::parse(&Default::default(), "2026-12-07").unwrap();
        let Opening::Closed { next: Some(next) } = holidays.at(date(MON), 600) else {
            panic!("closed on its holiday")
        };
        assert_eq!((next.days_away, next.minute), (1, 0));
        assert_eq!(
            holidays.at(date("2026-12-08"), 600),
            Opening::Open { until: None }
        );
    }

    #[test]
    fn the_stored_form_reads_back_the_same() {
        let h = clinic_hours();
        let stored = h.to_stored();
        assert!(
            stored.starts_with("mon 09:00-13:00,14:00-18:00\n"),
            "{stored}"
        );
        assert_eq!(Hours::from_stored(&stored), h);
        assert_eq!(Hours::from_stored(""), Hours::default());
        assert_eq!(Hours::typed(&h.week[0]), "09:00-13:00, 14:00-18:00");
        let json = serde_json::to_string(&h.closed_on).unwrap();
        assert_eq!(json, r#"["2026-12-25"]"#);
        assert_eq!(
            serde_json::from_str::<Vec<LocalDate>>(&json).unwrap(),
            h.closed_on
        );
        assert!(LocalDate::parse("2026-2-5").is_none());
        assert!(LocalDate::parse("2026-02-30").is_none());
    }

    #[test]
    fn hours_typed_wrong_are_refused_with_the_day_and_the_reason() {
        let day = |typed: &str| {
            let mut week: [String; 7] = Default::default();
            week[2] = typed.into();
            Hours::parse(&week, "")
        };
        assert_eq!(
            day(" 9:00 – 13:00 ;14:00 to 18:00").unwrap().week[2].len(),
            2
        );
        assert_eq!(
            day("00:00-24:00").unwrap().week[2],
            vec![Span {
                open: 0,
                close: 1440
            }]
        );
        for wrong in [
            "9-13",
            "18:00-09:00",
            "09:00-13:00, 12:00-15:00",
            "25:00-26:00",
            "9:60-10:00",
            "noon",
        ] {
            let e = day(wrong).unwrap_err();
            assert_eq!(e.field, "hours_wed", "{wrong}");
            assert!(
                e.message.starts_with("Wednesday: "),
                "{wrong}: {}",
                e.message
            );
        }
        let e = Hours::parse(&Default::default(), "25/12/2026").unwrap_err();
        assert_eq!(e.field, "closed_on");
    }

    #[test]
    fn times_read_the_way_patients_say_them() {
        assert_eq!(clock_words(9 * 60), "9:00 am");
        assert_eq!(clock_words(12 * 60), "12:00 noon");
        assert_eq!(clock_words(12 * 60 + 30), "12:30 pm");
        assert_eq!(clock_words(18 * 60 + 5), "6:05 pm");
        assert_eq!(clock_words(30), "12:30 am");
    }
}
