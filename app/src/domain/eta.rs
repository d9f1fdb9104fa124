//! Wait estimates as a range (SPEC §5): never a single promise. The time one patient takes
//! is learned from today's recent patients at the queue (called → served), robust to
//! outliers, and blended with the queue's default range until there are enough of them;
//! the patient being served counts with the time they have already had.

/// Recent service times used; older ones describe another part of the day.
const RECENT: usize = 12;
/// How many real patients weigh as much as the default range.
const PRIOR_WEIGHT: f64 = 4.0;

/// The `q` quantile (0..=1) of sorted values, interpolated.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = q * (sorted.len() - 1) as f64;
    let (below, above) = (at.floor() as usize, at.ceil() as usize);
    sorted[below] + (sorted[above] - sorted[below]) * (at - below as f64)
}

/// The time one patient takes, in seconds, as `(typically at least, typically at most)`.
/// `service_secs` are today's service times at the queue, oldest first; `default_minutes`
/// the range assumed before there is data.
pub fn per_patient(service_secs: &[u32], default_minutes: (u32, u32)) -> (u32, u32) {
    let (default_low, default_high) = (
        f64::from(default_minutes.0) * 60.0,
        f64::from(default_minutes.1.max(default_minutes.0)) * 60.0,
    );
    let mut recent: Vec<f64> = service_secs
        .iter()
        .rev()
        .take(RECENT)
        .map(|&s| f64::from(s))
        .collect();
    recent.sort_by(f64::total_cmp);
    if recent.is_empty() {
        return (default_low as u32, default_high as u32);
    }
    // A patient kept an hour, or a desk that pressed SERVED only after lunch, says
    // nothing about the next patient: keep what lies within a factor of 3 of the median.
    let median = quantile(&recent, 0.5);
    let kept: Vec<f64> = recent
        .into_iter()
        .filter(|&s| s <= (median * 3.0).max(60.0) && s * 3.0 >= median)
        .collect();
    let n = kept.len() as f64;
    let weight = n / (n + PRIOR_WEIGHT);
    let low = weight * quantile(&kept, 0.25) + (1.0 - weight) * default_low;
    let high = weight * quantile(&kept, 0.75) + (1.0 - weight) * default_high;
    (low.round() as u32, high.max(low).round() as u32)
}

/// Minutes until the patient is likely called, `(at least, at most)`: `ahead` patients
/// before them, plus what remains of the current patient's visit (`serving_for_secs`:
/// how long they have been in), each taking `per_patient_secs`. The upper end rounds up
/// and never assumes a visit that has overrun is about to end.
pub fn wait_minutes(
    ahead: u32,
    serving_for_secs: Option<u32>,
    per_patient_secs: (u32, u32),
) -> (u32, u32) {
    let (low, high) = per_patient_secs;
    let (left_low, left_high) = match serving_for_secs {
        None => (0, 0),
        Some(elapsed) => (
            low.saturating_sub(elapsed),
            high.saturating_sub(elapsed).max(high / 4),
        ),
    };
    let at_least = ahead * low + left_low;
    let at_most = (ahead * high + left_high).max(at_least);
    (at_least / 60, at_most.div_ceil(60))
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

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: (u32, u32) = (6, 15);

    #[test]
    fn with_no_history_the_default_range_holds() {
        assert_eq!(per_patient(&[], DEFAULT), (360, 900));
        assert_eq!(wait_minutes(3, None, (360, 900)), (18, 45));
    }

    #[test]
    fn a_queue_of_one_is_called_now() {
        assert_eq!(wait_minutes(0, None, per_patient(&[], DEFAULT)), (0, 0));
    }

    #[test]
    fn the_clinics_own_pace_takes_over_from_the_default() {
        // A quick doctor: four-minute visits all morning.
        let quick = [240; 12];
        let (low, high) = per_patient(&quick, DEFAULT);
        assert!(low < 360 && high < 500, "{low}–{high}");
        // Few patients move the estimate only a little.
        let (low, high) = per_patient(&[240], DEFAULT);
        assert!(low > 300 && high > 700, "{low}–{high}");
    }

    #[test]
    fn one_outlier_does_not_wreck_it() {
        let mut times = vec![480; 10];
        let steady = per_patient(&times, DEFAULT);
        times.push(2 * 3600); // a patient kept two hours
        assert_eq!(per_patient(&times, DEFAULT), steady);
    }

    #[test]
    fn a_lunch_break_inside_a_visit_is_left_out() {
        // SERVED pressed after lunch: a 70-minute "visit" among 8-minute ones.
        let times = [480, 500, 470, 4200, 490, 510];
        let (low, high) = per_patient(&times, DEFAULT);
        assert!(high < 900, "the lunch break stays out: {low}–{high}");
    }

    #[test]
    fn the_current_patients_time_counts() {
        let pace = (480, 720);
        // Just called: most of a visit still to go.
        assert_eq!(wait_minutes(0, Some(0), pace), (8, 12));
        // Ten minutes in: at most two more.
        assert_eq!(wait_minutes(0, Some(600), pace), (0, 3));
        // Overrunning (a doctor running late on a hard case): still some time, never zero.
        assert_eq!(wait_minutes(0, Some(3600), pace), (0, 3));
        assert_eq!(wait_minutes(2, Some(600), pace), (16, 27));
    }

    #[test]
    fn long_waits_read_humanely() {
        assert_eq!(humane_minutes(45, "h", "min"), "45 min");
        assert_eq!(humane_minutes(100, "h", "min"), "1 h 40 min");
        assert_eq!(humane_minutes(822, "h", "min"), "13 h 42 min");
        assert_eq!(humane_minutes(120, "h", "min"), "2 h");
    }
}
