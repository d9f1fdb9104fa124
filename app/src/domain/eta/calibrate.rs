//! Calibrated ranges: the range a patient sees is as wide as the queue's own recent errors
//! say it must be to hold the real wait for `COVERAGE` of patients (split-conformal).
//!
//! Every estimate shown on joining is kept with the token: the model's likely wait and
//! its spread, and how many were ahead. Once the patient is called, how far the real wait
//! fell from the likely one, in spreads (each padded by `PAD_SECS`, so that a short wait
//! missed by a few minutes is not a huge error), is a **residual**. A new estimate looks
//! at the residuals of the queue's last patients with a similar number ahead (today's
//! count twice: a doctor running slow today shows there first): their median moves the
//! likely wait half way (`RECENTRE`), and the distance from there within which
//! `COVERAGE` of them fell is the range on either side. So a clinic whose pace the model
//! misjudges gets its range moved and sized by what really happened there, and the
//! middle of the range is the likely wait. A wait cannot be shorter than nothing: where
//! that range would reach below a wait of zero, the range runs from zero to the residual
//! below which `FROM_ZERO_COVERAGE` of them fell (a wait shorter than this patient's
//! could be is one they are called at once for), or to twice the likely wait if that is
//! further, so that its middle is still the likely wait. Too few residuals, and the
//! model's own range stands.

use serde::{Deserialize, Serialize};

/// The estimate as shown when a patient joined, and what the model said before
/// calibration (what the residuals are measured against).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimate {
    /// The range shown, in minutes.
    pub low: u32,
    pub high: u32,
    /// The model's likely wait and its spread, in seconds.
    pub centre: u32,
    pub scale: u32,
    /// Patients ahead (waiting before this one) when it was made.
    pub ahead: u32,
}

impl Estimate {
    /// How far a real wait of `wait_secs` fell from the likely one, in padded spreads.
    pub fn residual(&self, wait_secs: i64) -> Residual {
        let z = (wait_secs as f64 - f64::from(self.centre)) / padded(f64::from(self.scale));
        Residual {
            ahead: self.ahead,
            z_hundredths: (z * 100.0).round().clamp(-1e6, 1e6) as i32,
        }
    }
}

/// One patient's error: (real wait − likely wait) ÷ spread, in hundredths, with how many
/// were ahead. Kept in the day's history as `[ahead, z]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "(u32, i32)", into = "(u32, i32)")]
pub struct Residual {
    pub ahead: u32,
    pub z_hundredths: i32,
}

impl From<(u32, i32)> for Residual {
    fn from((ahead, z_hundredths): (u32, i32)) -> Self {
        Residual {
            ahead,
            z_hundredths,
        }
    }
}

impl From<Residual> for (u32, i32) {
    fn from(r: Residual) -> Self {
        (r.ahead, r.z_hundredths)
    }
}

impl Residual {
    fn z(&self) -> f64 {
        f64::from(self.z_hundredths) / 100.0
    }
}

/// The share of real waits the range is made to hold: promised 80 %, aimed a little
/// higher because a clinic's days differ more than the residuals of one day show.
pub const COVERAGE: f64 = 0.90;
/// Added to every spread: errors of a few minutes on a short wait are ordinary.
const PAD_SECS: f64 = 300.0;
/// A range from zero (a short wait) holds at least this share of the errors, and reaches
/// twice the likely wait where that is further: its middle is then the likely wait, which
/// errs least. Waits this short are skewed, and the end that holds `COVERAGE` of them
/// would put the middle of "0–40 min" far above the usual 9.
pub const FROM_ZERO_COVERAGE: f64 = 0.85;
/// How far the median of earlier days' errors moves the likely wait: half way. Those
/// errors are pooled over every hour of several days (a late start, a lunch, a slow
/// afternoon), and moved all the way the likely wait of most patients lands where the
/// pool's middle happens to lie. How far today's errors move that median is taken in
/// full: a doctor running slow today. The range is sized around where the wait lands.
const RECENTRE: f64 = 0.5;
/// Residuals kept from earlier days (the most recent ones).
pub const KEPT: usize = 150;
/// Fewer residuals than this, and the model's own range stands.
const ENOUGH: f64 = 30.0;
/// Residuals of earlier days needed before any calibration.
const EARLIER: usize = 20;
/// Today's residuals count this many times: today's pace speaks first.
const TODAY_WEIGHT: f64 = 2.0;

/// The last "patients ahead" of each group but the last (see `group`).
pub const GROUP_ENDS: [u32; 5] = [0, 2, 5, 10, 20];

/// Groups of "patients ahead" whose errors are alike: the wait of the next in line is
/// mostly the visit in the room, a long queue's mostly the pace.
fn group(ahead: u32) -> u32 {
    match ahead {
        0 => 0,
        1..=2 => 1,
        3..=5 => 2,
        6..=10 => 3,
        11..=20 => 4,
        _ => 5,
    }
}

/// What the queue's recent errors say, ready to size any estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// For each group of "patients ahead", or `None` with too few residuals.
    groups: [Option<Spread>; GROUPS],
}

/// How one group's residuals fell.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Spread {
    /// Where the likely wait moves: their median, `RECENTRE` of the way.
    middle: f64,
    /// The distance from `middle` that holds `COVERAGE` of them.
    half: f64,
    /// The residual at or below which `FROM_ZERO_COVERAGE` of them fell.
    upper: f64,
}

/// A residual as weighed.
#[derive(Debug, Clone, Copy)]
struct Weighed {
    z: f64,
    weight: f64,
    /// Its group of "patients ahead" (`group`).
    group: u32,
    today: bool,
}

/// How many groups `group` makes.
const GROUPS: usize = GROUP_ENDS.len() + 1;

impl Calibration {
    /// From the residuals of earlier days (oldest first) and today's: each group's
    /// figures worked out once, so that sizing an estimate costs a lookup.
    pub fn new(earlier: &[Residual], today: &[Residual]) -> Calibration {
        if earlier.len() < EARLIER {
            // A queue's first day: its first patients' waits describe a queue still
            // forming, not the day to come.
            return Calibration {
                groups: [None; GROUPS],
            };
        }
        let earlier = &earlier[earlier.len().saturating_sub(KEPT)..];
        let weighed = |r: &Residual, weight: f64, today: bool| Weighed {
            z: r.z(),
            weight,
            group: group(r.ahead),
            today,
        };
        let mut residuals: Vec<Weighed> = earlier
            .iter()
            .map(|r| weighed(r, 1.0, false))
            .chain(today.iter().map(|r| weighed(r, TODAY_WEIGHT, true)))
            .collect();
        residuals.sort_by(|a, b| a.z.total_cmp(&b.z));
        Calibration {
            groups: std::array::from_fn(|g| spread(&residuals, g as u32)),
        }
    }

    /// The range, in seconds, around a model's likely wait `centre` with spread `scale`
    /// for a patient with `ahead` before them (the one in the room counted). `None` with
    /// too few residuals.
    pub fn range(&self, centre: f64, scale: f64, ahead: u32) -> Option<(f64, f64)> {
        let Spread {
            middle,
            half,
            upper,
        } = self.groups[group(ahead) as usize]?;
        let unit = padded(scale);
        let likely = centre + middle * unit;
        let low = likely - half * unit;
        if low >= 1.0 {
            Some((low, likely + half * unit))
        } else {
            // Every residual below `low` is, for this patient, a call at once: inside a
            // range from zero, which holds `FROM_ZERO_COVERAGE` of them up to `upper`
            // and has the likely wait at its middle where that reaches further.
            Some((0.0, (centre + upper * unit).max(2.0 * likely)))
        }
    }
}

/// How the residuals (sorted by z) of patients in group `g` fell: its own residuals when
/// it has enough, else with the neighbouring groups, else all.
fn spread(residuals: &[Weighed], g: u32) -> Option<Spread> {
    // The residuals within `reach` groups of `g`, with today's or without.
    let near = |reach: u32, with_today: bool| {
        residuals
            .iter()
            .filter(move |r| r.group.abs_diff(g) <= reach && (with_today || !r.today))
            .map(|r| (r.z, r.weight))
    };
    let weight =
        |reach: u32, with_today: bool| near(reach, with_today).map(|(_, w)| w).sum::<f64>();
    let (reach, total) = [0, 1, u32::MAX]
        .into_iter()
        .map(|reach| (reach, weight(reach, true)))
        .find(|&(_, total)| total >= ENOUGH)?;
    let earlier = weight(reach, false);
    let earlier_middle = if earlier > 0.0 {
        weighted_quantile(near(reach, false), earlier, 0.5)
    } else {
        0.0
    };
    let middle =
        weighted_quantile(near(reach, true), total, 0.5) - (1.0 - RECENTRE) * earlier_middle;
    // Split-conformal: the distance from the middle within which the residuals fell at
    // the promised rate, one residual further, so that a new patient is covered at that
    // rate too.
    let mut apart: Vec<(f64, f64)> = near(reach, true)
        .map(|(z, w)| ((z - middle).abs(), w))
        .collect();
    apart.sort_by(|a, b| a.0.total_cmp(&b.0));
    let half = weighted_quantile(apart.into_iter(), total, COVERAGE + 1.0 / total);
    let upper = weighted_quantile(near(reach, true), total, FROM_ZERO_COVERAGE + 1.0 / total);
    Some(Spread {
        middle,
        half,
        upper,
    })
}

fn padded(scale: f64) -> f64 {
    scale.max(0.0) + PAD_SECS
}

/// The `q` quantile of (value, weight) pairs sorted by value, `total` their weight
/// (clamped to the smallest and largest value).
fn weighted_quantile(sorted: impl Iterator<Item = (f64, f64)>, total: f64, q: f64) -> f64 {
    let target = q.clamp(0.0, 1.0) * total;
    let mut seen = 0.0;
    let mut last = 0.0;
    for (z, w) in sorted {
        seen += w;
        last = z;
        if seen >= target {
            return z;
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uniform numbers in 0..1 from a seed (xorshift): repeatable, no dependency.
    struct Uniform(u64);

    impl Uniform {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// A model that is wrong in its own way: the real wait is `bias` spreads above its
    /// likely one, give or take a skewed error.
    fn stream(rng: &mut Uniform, n: usize, bias: f64) -> Vec<(u32, f64)> {
        (0..n)
            .map(|_| {
                let ahead = (rng.next() * 15.0) as u32;
                let skewed = (rng.next() * 1.5).exp() - 1.8;
                (ahead, bias + skewed)
            })
            .collect()
    }

    /// The range in (padded) spreads around a likely wait far from zero.
    fn bounds(c: &Calibration, ahead: u32) -> Option<(f64, f64)> {
        const FAR: f64 = 1e6;
        let (low, high) = c.range(FAR, 0.0, ahead)?;
        Some(((low - FAR) / PAD_SECS, (high - FAR) / PAD_SECS))
    }

    fn residual(ahead: u32, z: f64) -> Residual {
        Residual {
            ahead,
            z_hundredths: (z * 100.0) as i32,
        }
    }

    /// Nearly all of 3000 patients were given a range, and `target` of them, give or
    /// take 3 %, waited within it.
    fn assert_covered(inside: usize, scored: usize, target: f64) {
        let coverage = inside as f64 / scored as f64;
        assert!(scored > 2900, "{scored}");
        assert!(
            (coverage - target).abs() < 0.03,
            "coverage {coverage:.3} against {target}"
        );
    }

    #[test]
    fn coverage_of_a_stream_converges_to_the_target() {
        let mut rng = Uniform(3);
        let mut kept: Vec<Residual> = Vec::new();
        let (mut inside, mut scored) = (0, 0);
        for (ahead, z) in stream(&mut rng, 3000, 1.7) {
            if let Some((low, high)) = bounds(&Calibration::new(&kept, &[]), ahead) {
                scored += 1;
                inside += usize::from(low <= z && z <= high);
            }
            kept.push(residual(ahead, z));
        }
        assert_covered(inside, scored, COVERAGE);
    }

    #[test]
    fn a_short_wait_is_covered_from_zero_by_no_longer_a_range_than_it_needs() {
        let mut rng = Uniform(7);
        let mut kept: Vec<Residual> = Vec::new();
        // The queue's errors, learned from patients told longer waits, fall either side
        // of the likely wait alike. A patient now told "about a minute" (a fifth of a
        // padded spread) cannot wait less than nothing: an error below -0.2 spreads is,
        // for them, a call at once.
        let (centre, unit) = (60.0, PAD_SECS);
        let (mut inside, mut scored, mut narrower) = (0, 0, 0);
        for _ in 0..3000 {
            let ahead = (rng.next() * 3.0) as u32;
            let z = (rng.next() + rng.next() + rng.next() + rng.next() - 2.0) * 1.5;
            let calibration = Calibration::new(&kept, &[]);
            if let Some((low, high)) = calibration.range(centre, 0.0, ahead) {
                let wait = (centre + z * unit).max(0.0);
                scored += 1;
                inside += usize::from(low <= wait && wait <= high);
                assert_eq!(low, 0.0, "the range of a wait this short starts at zero");
                // The centred range these errors give a wait far from zero, cut at zero,
                // would reach further.
                let (_, far_high) = bounds(&calibration, ahead).unwrap();
                narrower += usize::from(high < centre + far_high * unit);
            }
            kept.push(residual(ahead, z));
        }
        assert_covered(inside, scored, FROM_ZERO_COVERAGE);
        assert!(
            narrower * 10 > scored * 9,
            "{narrower} of {scored} narrower"
        );
    }

    #[test]
    fn a_short_skewed_wait_has_its_likely_wait_in_the_middle_of_its_range() {
        // The next in line: the model says 9 minutes, spread 15, and so it is, though
        // skewed as what is left of a visit is (lognormal, a median of 9 minutes).
        let mut rng = Uniform(11);
        let (centre, scale) = (540.0, 900.0);
        let mut kept: Vec<Residual> = Vec::new();
        let (mut inside, mut scored, mut middles) = (0, 0, 0.0);
        for _ in 0..3000 {
            let normal = (-2.0 * (1.0 - rng.next()).ln()).sqrt()
                * (std::f64::consts::TAU * rng.next()).cos();
            let wait = centre * (0.7 * normal).exp();
            if let Some((low, high)) = Calibration::new(&kept, &[]).range(centre, scale, 1) {
                scored += 1;
                inside += usize::from(low <= wait && wait <= high);
                middles += (low + high) / 2.0;
            }
            kept.push(residual(1, (wait - centre) / padded(scale)));
        }
        assert_covered(inside, scored, FROM_ZERO_COVERAGE);
        // Ranges from zero to where 90 % of these waits end would have their middle at
        // 11 minutes, a fifth longer than the usual wait.
        let middle = middles / scored as f64;
        assert!(
            (middle - centre).abs() < 0.1 * centre,
            "the middle of the range is {middle:.0} s, the usual wait {centre} s"
        );
    }

    #[test]
    fn too_few_residuals_leave_the_model_alone() {
        let few: Vec<Residual> = (0..10).map(|i| residual(i, 0.5)).collect();
        let enough: Vec<Residual> = (0..40).map(|i| residual(i % 10, 0.5)).collect();
        // A queue's first day: today's own residuals alone do not calibrate it.
        assert_eq!(bounds(&Calibration::new(&[], &enough), 3), None);
        assert_eq!(bounds(&Calibration::new(&few, &few), 3), None);
        assert!(bounds(&Calibration::new(&enough, &[]), 3).is_some());
    }

    #[test]
    fn a_sudden_slowdown_moves_the_range_within_a_few_patients() {
        let mut rng = Uniform(5);
        let earlier: Vec<Residual> = stream(&mut rng, 150, 0.0)
            .into_iter()
            .map(|(a, z)| residual(a, z))
            .collect();
        let before = bounds(&Calibration::new(&earlier, &[]), 8).unwrap();
        // Today the doctor runs slow: eight patients with 6–10 ahead waited three spreads
        // longer than the model said.
        let today: Vec<Residual> = stream(&mut rng, 8, 3.0)
            .into_iter()
            .map(|(a, z)| residual(6 + a % 5, z))
            .collect();
        let after = bounds(&Calibration::new(&earlier, &today), 8).unwrap();
        let middle = |(low, high): (f64, f64)| (low + high) / 2.0;
        assert!(
            middle(after) > middle(before) + 0.5,
            "{before:?} → {after:?}"
        );
        assert!(after.1 > before.1 + 1.0, "{before:?} → {after:?}");
        assert!(
            after.1 - after.0 > before.1 - before.0,
            "{before:?} → {after:?}"
        );
    }

    #[test]
    fn residuals_keep_in_the_history_as_pairs() {
        let r = residual(4, -1.25);
        assert_eq!(serde_json::to_string(&r).unwrap(), "[4,-125]");
        let e = Estimate {
            low: 10,
            high: 20,
            centre: 900,
            scale: 300,
            ahead: 4,
        };
        assert_eq!(e.residual(1500), residual(4, 1.0));
    }
}
