//! The pace of today's queue: how long a visit takes now (today's visits weighed with the
//! history the day opened with), and the wait a patient with `n` ahead can expect, as a
//! range, laid on the clock around the usual breaks.

use super::*;

/// What the estimate is made from, at one moment of a queue's day.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The queue's usual visit, in minutes: (short, long).
    pub default_minutes: (u32, u32),
    /// Today's service times at the queue in seconds, oldest first.
    pub today_secs: &'a [u32],
    /// Today's patients called who never came, and all called today.
    pub today_no_shows: u32,
    pub today_called: u32,
    pub history: &'a History,
    /// Now, in seconds since the local midnight.
    pub local_secs: u32,
    /// How long the patient being seen has been in, if someone is.
    pub serving_for_secs: Option<u32>,
    /// How far today's estimates fell from the real waits of the patients called so far.
    pub today_residuals: &'a [Residual],
    /// Today's time before opening and the breaks of the queue's hours, in seconds since
    /// the local midnight, in order: nobody is seen in them.
    pub closed: &'a [(u32, u32)],
    /// When the desk last worked today (its latest call or end of a visit), in seconds
    /// since the local midnight: a break the history learned that the desk has worked
    /// in today is not one today.
    pub worked_until_secs: Option<u32>,
}

/// How fast a queue moves now: worked out once per view, after which each patient's
/// wait costs nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Pace {
    /// One patient ahead, in seconds: mean and standard deviation of an ordinary visit
    /// with the no-shows and the desk's pause between visits included.
    mean: f64,
    sd: f64,
    /// The share of patients whose visit is far longer than usual, and how much longer.
    long_share: f64,
    long_extra: f64,
    /// How many patients the figures rest on, and the spread of an ordinary visit: what
    /// is known of the mean visit gets surer as the first grows.
    weight: f64,
    core_sd: f64,
    /// The visit in progress: seconds still to go (least, likely, most).
    current: Option<(f64, f64, f64)>,
    local_secs: u32,
    /// Nobody called yet today: seconds until the doctor usually starts, and whether
    /// that time has passed (a late start, of unknown length).
    start_delay: f64,
    late: bool,
    /// How long past the usual start it is, when `late`.
    late_by: f64,
    /// Before the usual start: how much later the start may well come.
    start_spread: f64,
    /// Per local hour, the share of waiting time in which someone is seen.
    availability: [f64; 24],
    /// How long patients first in line with nobody in the room waited at this hour of
    /// earlier days, in seconds: (median, the end that held most of them).
    alone: Option<(f64, f64)>,
    /// What the queue's recent errors say about the range.
    calibration: Calibration,
    /// The desk's usual pause between visits, in seconds.
    gap: f64,
    /// The desk worked (called someone or ended a visit) within `DESK_THERE_SECS`.
    desk_there: bool,
    /// Nobody is seen later than this, in seconds since the local midnight: a little
    /// past the latest the desk has worked on earlier days.
    day_end: Option<f64>,
    /// Today's closed stretches, in order: by the queue's hours (`Inputs::closed`) and
    /// the breaks between sessions the history learned.
    closed: Vec<(f64, f64)>,
}

impl Pace {
    pub fn new(inputs: &Inputs) -> Pace {
        let (default_low, default_high) = (
            f64::from(inputs.default_minutes.0) * 60.0,
            f64::from(inputs.default_minutes.1.max(inputs.default_minutes.0)) * 60.0,
        );
        // The prior: the same weekday and hour in earlier weeks, else the default range.
        let hour = hour_of(inputs.local_secs);
        // How many patients the prior rests on (its certainty), and how much it weighs
        // against today's (capped, so that today soon speaks for itself).
        let (prior_mean, prior_sd, prior_weight, prior_count) =
            match inputs.history.service_near(hour) {
                Some((mean, sd, n)) => (mean, sd, n.min(HISTORY_WEIGHT), n),
                None => (
                    (default_low + default_high) / 2.0,
                    (default_high - default_low) / 2.0,
                    DEFAULT_WEIGHT,
                    DEFAULT_WEIGHT,
                ),
            };
        let recent: Vec<f64> = inputs
            .today_secs
            .iter()
            .rev()
            .take(RECENT)
            .map(|&s| f64::from(s))
            .collect();
        let (seen_mean, seen_sd, n) = match trimmed(&recent) {
            Some((mean, sd, n)) => {
                let (n, w) = (n as f64, prior_weight);
                (
                    (n * mean + w * prior_mean) / (n + w),
                    ((n * sd.powi(2) + w * prior_sd.powi(2)) / (n + w)).sqrt(),
                    n,
                )
            }
            None => (prior_mean, prior_sd, 0.0),
        };
        let seen_sd = seen_sd.max(seen_mean * 0.1);
        let gap = inputs.history.gap_near(hour).unwrap_or(DEFAULT_GAP_SECS);
        // Patients called who never came: today's share, leaning on the history's.
        let (hist_no_shows, hist_called) = inputs.history.hours.iter().fold((0.0, 0.0), |a, h| {
            (
                a.0 + f64::from(h.no_shows),
                a.1 + f64::from(h.no_shows + h.served),
            )
        });
        let scale = if hist_called > 0.0 {
            (HISTORY_WEIGHT * 2.0 / hist_called).min(1.0)
        } else {
            0.0
        };
        let called = f64::from(inputs.today_called) + hist_called * scale;
        let p = if called > 0.0 {
            (f64::from(inputs.today_no_shows) + hist_no_shows * scale) / called
        } else {
            0.0
        };
        // The rare long visit, as often and as long as the history says.
        let h = inputs.history;
        let (tail, tail_mean) = if h.visits >= 20 && h.long_visits > 0 {
            (
                (f64::from(h.long_visits) / f64::from(h.visits)).min(0.1),
                f64::from(h.long_visit_mean),
            )
        } else {
            (0.0, 0.0)
        };
        let mean = (1.0 - p) * seen_mean + p * NO_SHOW_SECS + gap;
        let sd = ((1.0 - p) * seen_sd.powi(2) + p * (1.0 - p) * (seen_mean - NO_SHOW_SECS).powi(2))
            .sqrt();
        let current = inputs.serving_for_secs.map(|elapsed| {
            let e = f64::from(elapsed);
            // The middle and the ends of the ordinary visits that last this long: a
            // visit that has run past the usual is likelier one of the long ones.
            let left = |q: f64| visit_left(seen_mean, seen_sd, e, q);
            (
                left(0.16) + gap,
                left(0.5).max(seen_mean * 0.25) + gap,
                left(0.84).max(seen_mean * 0.5) + gap,
            )
        });
        let mut availability = [1.0; 24];
        for (h, a) in availability.iter_mut().enumerate() {
            *a = inputs.history.availability(h);
        }
        let not_started = inputs.today_called == 0 && inputs.serving_for_secs.is_none();
        let start_delay = match inputs.history.first_call {
            Some(first) if not_started => f64::from(first.saturating_sub(inputs.local_secs)),
            _ => 0.0,
        };
        let late_by = inputs.history.first_call.map_or(0.0, |first| {
            f64::from(inputs.local_secs.saturating_sub(first))
        });
        // A start later than the late starts the history knows (by twice their usual
        // distance, and an hour at least) is not a late doctor but a session the history
        // never saw, such as an evening: its visits are waited for, not its start.
        let late_limit = (2.0 * f64::from(inputs.history.first_call_spread)).max(LATE_LIMIT_SECS);
        let late = not_started && start_delay == 0.0 && late_by <= late_limit;
        Pace {
            mean,
            sd,
            weight: n + prior_count,
            core_sd: seen_sd,
            long_share: (1.0 - p) * tail,
            long_extra: (tail_mean - seen_mean).max(0.0),
            current,
            local_secs: inputs.local_secs,
            start_delay,
            late,
            start_spread: if start_delay > 0.0 {
                f64::from(inputs.history.first_call_spread).max(5.0 * 60.0)
            } else {
                0.0
            },
            late_by,
            availability,
            alone: inputs.history.alone_at(hour),
            calibration: Calibration::new(&inputs.history.residuals, inputs.today_residuals),
            gap,
            desk_there: inputs.worked_until_secs.is_some_and(|worked| {
                worked <= inputs.local_secs && inputs.local_secs - worked <= DESK_THERE_SECS
            }),
            day_end: inputs
                .history
                .works_until
                .map(|until| f64::from(until) + DAY_END_MARGIN_SECS),
            closed: closed_today(inputs),
        }
    }

    /// Minutes until a patient with `ahead` before them is likely called: (at least, at most).
    pub fn wait_minutes(&self, ahead: u32) -> (u32, u32) {
        let e = self.estimate(ahead);
        (e.low, e.high)
    }

    /// The estimate for a patient with `ahead` before them: the model's likely wait and
    /// range, sized by the queue's recent errors when there are enough of them. A patient
    /// further back never sees a shorter wait than one nearer the front: each end is at
    /// least that of the last patient of every nearer group of the calibration.
    pub fn estimate(&self, ahead: u32) -> Estimate {
        let in_room = u32::from(self.current.is_some());
        let mut e = self.calibrated(ahead);
        for end in calibrate::GROUP_ENDS {
            if let Some(nearer) = end.checked_sub(in_room).filter(|&n| n < ahead) {
                let before = self.calibrated(nearer);
                e.low = e.low.max(before.low);
                e.high = e.high.max(before.high);
            }
        }
        e
    }

    fn calibrated(&self, ahead: u32) -> Estimate {
        if let Some(first) = self.first_in_line(ahead) {
            return first;
        }
        let (centre, low, high) = self.model(ahead);
        let model_high = high;
        // The model's range spans BELOW + ABOVE spreads of the likely wait.
        let scale = ((high - low) / (BELOW + ABOVE)).max(30.0);
        let in_room = ahead + u32::from(self.current.is_some());
        let (low, high) = match self.calibration.range(centre, scale, in_room) {
            Some((low, high)) => {
                let low = low.max(0.0);
                (low, high.max(low + 60.0))
            }
            // First in line with nobody in the room: called now, whatever else is known.
            None if centre <= 0.0 => (low, high),
            // Too little known of this queue's errors yet (a new clinic or queue): the
            // model's range, widened.
            None => (
                (centre - (centre - low) * UNCALIBRATED_WIDEN).max(0.0),
                centre + (high - centre) * UNCALIBRATED_WIDEN,
            ),
        };
        // However far the queue's errors reach, nobody is called after the desk's day
        // ends: a range is cut a little past the latest the desk has worked, unless the
        // work ahead itself runs later.
        let high = match self.day_end {
            Some(end) => {
                let cap = (end - f64::from(self.local_secs)).max(model_high);
                high.min(cap.max(low + 60.0))
            }
            None => high,
        };
        Estimate {
            low: (low / 60.0).floor() as u32,
            high: (high / 60.0).ceil().max(1.0) as u32,
            centre: centre.round() as u32,
            scale: scale.round() as u32,
            ahead: in_room,
        }
    }

    /// First in line with nobody in the room, after the doctor's usual start and outside
    /// the queue's closed hours: the wait is the desk's to decide, a call at once when the
    /// doctor is there, the rest of the start or the lunch when not. What patients in that
    /// place at this hour of earlier days waited says which, better than the errors of
    /// estimates at every hour pooled (`Calibration`); a desk that worked a few minutes
    /// ago is there, and calls a patient who finds nobody ahead after its usual pause.
    fn first_in_line(&self, ahead: u32) -> Option<Estimate> {
        let waits_for_hours =
            self.start_delay > 0.0 || self.reopens(f64::from(self.local_secs)).is_some();
        if ahead > 0 || self.current.is_some() || waits_for_hours {
            return None;
        }
        if self.desk_there {
            return Some(Estimate {
                low: 0,
                high: (2.0 * self.gap / 60.0).ceil().max(1.0) as u32,
                centre: self.gap.round() as u32,
                scale: 30,
                ahead: 0,
            });
        }
        let (median, upper) = self.alone?;
        let upper = upper.max(median + 60.0);
        Some(Estimate {
            low: 0,
            high: (upper / 60.0).ceil().max(1.0) as u32,
            centre: median.round() as u32,
            scale: (upper / (BELOW + ABOVE)).max(30.0).round() as u32,
            ahead: 0,
        })
    }

    /// The model's wait in seconds on the clock: (likely, at least, at most).
    fn model(&self, ahead: u32) -> (f64, f64, f64) {
        let n = f64::from(ahead);
        let (cur_low, cur_likely, cur_high) = self.current.unwrap_or((0.0, 0.0, 0.0));
        // Long visits come one at a time: as many as likely among those ahead count in
        // the likely wait, and as many as there could well be in its upper end.
        let long_visits = n * self.long_share;
        let mut likely =
            n * self.mean + cur_likely + poisson_quantile(long_visits, 0.5) * self.long_extra;
        let closed_now = self.reopens(f64::from(self.local_secs)).is_some();
        if likely <= 0.0 && self.start_delay <= 0.0 && !closed_now && !self.late {
            // First in line with nobody in the room: called as soon as the desk looks up.
            // (Not when the doctor should have started and nobody has been called: then
            // the first in line waits for the doctor too.)
            return (0.0, 0.0, 60.0);
        }
        // Each visit varies; so does what we know of the average visit.
        let cur_sd = (cur_high - cur_low) / 2.7;
        let mean_sd = n * self.core_sd / self.weight.sqrt();
        let sd = (n * self.sd.powi(2) + cur_sd.powi(2) + mean_sd.powi(2)).sqrt();
        let mut low = (likely - BELOW * sd).max(cur_low);
        let mut high = likely
            + self.start_spread
            + ABOVE * sd
            + (poisson_quantile(long_visits, 0.9) - poisson_quantile(long_visits, 0.5))
                * self.long_extra;
        if self.late {
            // Nobody called yet though the doctor usually starts by now: the start is
            // late by at least as long again, and perhaps by a margin more.
            let late = LATE_MARGIN_SECS.max(self.late_by);
            low += late / 4.0;
            likely += late / 2.0;
            high += late;
        }
        let starts = f64::from(self.local_secs) + self.start_delay;
        let on_clock = |work: f64| self.start_delay + self.on_clock(work, starts);
        (on_clock(likely), on_clock(low), on_clock(high))
    }

    /// When the closed stretch `t` falls in ends, if it falls in one.
    fn reopens(&self, t: f64) -> Option<f64> {
        self.closed
            .iter()
            .find(|&&(from, to)| from <= t && t < to)
            .map(|&(_, to)| to)
    }

    /// The clock time, in seconds, that `work` seconds of seeing patients takes from
    /// `start` (seconds since the local midnight), given how much of each coming hour is
    /// usually spent seeing them and the breaks of the queue's hours, in which nobody is.
    fn on_clock(&self, work: f64, start: f64) -> f64 {
        let (mut t, mut left) = (start, work);
        // Two days at most: beyond that the answer no longer matters.
        while t - start < 48.0 * 3600.0 {
            if let Some(reopens) = self.reopens(t) {
                t = reopens;
                continue;
            }
            if left <= 0.0 {
                break;
            }
            let hour = (t / 3600.0) as usize % 24;
            let a = self.availability[hour];
            let next_break = self
                .closed
                .iter()
                .map(|&(from, _)| from)
                .find(|&from| from > t)
                .unwrap_or(f64::INFINITY);
            let hour_end = (((t / 3600.0).floor() + 1.0) * 3600.0).min(next_break);
            let can = (hour_end - t) * a;
            if can >= left {
                t += left / a;
                left = 0.0;
            } else {
                left -= can;
                t = hour_end;
            }
        }
        t - start
    }
}

/// Today's closed stretches: the queue's hours', and the breaks between sessions the
/// history learned unless the desk has worked in one today (called someone or ended a
/// visit in it, or is seeing someone in it now).
fn closed_today(inputs: &Inputs) -> Vec<(f64, f64)> {
    let now = inputs.local_secs;
    let worked_in = |&&(from, to): &&(u32, u32)| {
        let worked = inputs
            .worked_until_secs
            .is_some_and(|last| from <= last && last < to);
        let seeing = inputs.serving_for_secs.is_some() && from <= now && now < to;
        worked || seeing
    };
    let mut closed: Vec<(f64, f64)> = inputs
        .closed
        .iter()
        .chain(inputs.history.breaks.iter().filter(|b| !worked_in(b)))
        .map(|&(from, to)| (f64::from(from), f64::from(to)))
        .collect();
    closed.sort_by(|a, b| a.0.total_cmp(&b.0));
    closed
}

/// Mean, standard deviation and count of service times, leaving out what describes
/// something other than a visit: more than four times the median (a patient kept two
/// hours, SERVED pressed after lunch) or under a quarter of it.
pub(super) fn trimmed(secs: &[f64]) -> Option<(f64, f64, usize)> {
    let median = median(secs)?;
    let kept: Vec<f64> = secs
        .iter()
        .copied()
        .filter(|&s| !is_long(s, median) && s * 4.0 >= median)
        .collect();
    let n = kept.len() as f64;
    let mean = kept.iter().sum::<f64>() / n;
    let var = kept.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    Some((mean, var.sqrt(), kept.len()))
}

/// What is still to go, in seconds, of a visit that has lasted `elapsed`: the `q`
/// quantile among visits that last that long, visits taken as lognormal with `mean` and
/// `sd` (always positive, now and then far longer than usual). Early in a visit that is
/// nearly a whole visit; the longer it has run, the likelier it is one of the long ones.
fn visit_left(mean: f64, sd: f64, elapsed: f64, q: f64) -> f64 {
    let spread = (1.0 + (sd / mean).powi(2)).ln();
    let (mu, sigma) = (mean.ln() - spread / 2.0, spread.sqrt());
    let still_on = if elapsed > 0.0 {
        1.0 - normal_cdf((elapsed.ln() - mu) / sigma)
    } else {
        1.0
    };
    // The visit ends where (1 − q) of those still on now are still on.
    let ends = normal_quantile(1.0 - (1.0 - q) * still_on);
    ((mu + sigma * ends).exp() - elapsed).max(0.0)
}

/// The standard normal distribution function (Abramowitz and Stegun 7.1.26, within
/// 1.5e-7).
fn normal_cdf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs() / std::f64::consts::SQRT_2);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let tail = 0.5 * poly * (-x * x / 2.0).exp();
    if x >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// The `p` quantile of the standard normal distribution, by bisection (within 1e-9 over
/// ±8, where the distribution function itself runs out of precision).
fn normal_quantile(p: f64) -> f64 {
    let (mut low, mut high) = (-8.0, 8.0);
    while high - low > 1e-9 {
        let mid = (low + high) / 2.0;
        if normal_cdf(mid) < p {
            low = mid;
        } else {
            high = mid;
        }
    }
    (low + high) / 2.0
}

/// The `q` quantile of a Poisson count with mean `mean`.
fn poisson_quantile(mean: f64, q: f64) -> f64 {
    let (mut k, mut p) = (0.0, (-mean).exp());
    let mut cumulative = p;
    while cumulative < q && k < 50.0 {
        k += 1.0;
        p *= mean / k;
        cumulative += p;
    }
    k
}

pub(super) fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    (!sorted.is_empty()).then(|| quantile(&sorted, 0.5))
}

/// A visit more than four times as long as the median one (and over a minute).
pub(super) fn is_long(secs: f64, median: f64) -> bool {
    secs > (median * 4.0).max(60.0)
}

/// Minutes the way people say them: "45 min", "1 h 40 min", "13 h 42 min".
pub fn humane_minutes(minutes: u32, hour: &str, min: &str) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} {min}"),
        (h, 0) => format!("{h} {hour}"),
        (h, m) => format!("{h} {hour} {m} {min}"),
    }
}

/// A wait range the way people say it: "10–25 min", or one figure when both ends agree.
pub fn humane_range(low: u32, high: u32, hour: &str, min: &str) -> String {
    if low == high {
        humane_minutes(high, hour, min)
    } else {
        format!(
            "{}–{}",
            humane_minutes(low, hour, min),
            humane_minutes(high, hour, min)
        )
    }
}
