//! `qline bench-analytics`: how long the analytics page takes to work out its figures
//! over a clinic with a year of history (300 tokens a day by default). It writes the
//! history into a scratch SQLite database, or into the database given with
//! --database-url (use a scratch one), then times the page's query for each range, and
//! last the retention purge of everything past the default 90 days (about three
//! quarters of the year), checking that the year's figures read the same after it.

use crate::bench::ScratchClinic;
use clap::Args;
use qline_app::domain::*;
use qline_app::storage::{PastVisit, Store};
use qline_app::tenant::console::Caller;
use qline_app::tenant::Tenants;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

#[derive(Debug, Args)]
pub struct BenchAnalyticsArgs {
    /// Days of history to write.
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// Tokens a day.
    #[arg(long, default_value_t = 300)]
    pub per_day: u32,
    /// Times each range is measured (the median is printed).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

pub async fn run(database_url: Option<String>, args: BenchAnalyticsArgs) -> anyhow::Result<()> {
    let scratch =
        std::env::temp_dir().join(format!("qline-bench-analytics-{}", std::process::id()));
    let url = match database_url {
        Some(url) => url,
        None => {
            std::fs::create_dir_all(&scratch)?;
            format!("sqlite://{}/analytics.db", scratch.display())
        }
    };
    let result = measure(&url, &args).await;
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

async fn measure(url: &str, args: &BenchAnalyticsArgs) -> anyhow::Result<()> {
    let store = Store::connect(url).await?;
    store.migrate().await?;
    let now = Timestamp::now();
    let slug = format!("analytics-bench-{}", now.millis() % 1_000_000_000);
    let kolkata = TimeZone::from_zone(chrono_tz::Asia::Kolkata);
    let timezone = &kolkata;
    let mut tx = store.begin().await?;
    let scratch = ScratchClinic {
        slug: &slug,
        name: "Analytics Bench Clinic",
        timezone,
        queues: &["General"],
        whatsapp: false,
    };
    let (clinic, queues) = scratch.insert(&mut tx, now).await?;
    tx.commit().await?;
    let queue_id = queues[0];

    let seeding = Instant::now();
    let mut rng = StdRng::seed_from_u64(7);
    let today = now.local(timezone).date();
    for back in (1..=args.days).rev() {
        let date = today - chrono::Days::new(u64::from(back));
        let midnight = Timestamp::at_local(timezone, date.and_time(chrono::NaiveTime::MIN))
            .ok_or_else(|| anyhow::anyhow!("{date} has no midnight in {timezone}"))?;
        let visits = day_of_visits(&mut rng, midnight, args.per_day);
        store
            .insert_past_day(clinic, queue_id, LocalDate::new(date), &visits)
            .await?;
    }
    let seeded = seeding.elapsed().as_secs_f64();
    println!(
        "qline bench-analytics · backend {} · {} days × {} tokens written in {seeded:.1} s",
        store.backend(),
        args.days,
        args.per_day
    );

    let operator = StaffUser {
        id: UserId(0),
        clinic_id: None,
        email: "bench@qline.test".into(),
        role: Role::SuperAdmin,
        active: true,
        must_change_password: false,
    };
    let caller = Caller {
        staff: &operator,
        ip: None,
    };
    // The page's figures as of the moment the days were written.
    let tenants = Tenants::new(store.clone()).with_clock(Clock::manual(now));
    let mut line = format!("analytics: backend={}", store.backend());
    for range in qline_app::analytics::RANGES {
        let mut times = Vec::with_capacity(args.runs);
        let mut tokens = 0;
        for _ in 0..args.runs.max(1) {
            let started = Instant::now();
            let a = tenants
                .analytics(&caller, Some(&slug), range)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            tokens = a.total.tokens;
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!(
            "last {range:>3} days: {tokens:>6} tokens, median {median:.1} ms (of {} runs)",
            times.len()
        );
        line.push_str(&format!(" d{range}_ms={median:.1}"));
    }
    let year = |a: qline_app::analytics::Analytics| (a.total, a.by_day, a.by_hour, a.ratings);
    let before = tenants
        .analytics(&caller, Some(&slug), 365)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let started = Instant::now();
    let purged = tenants.purge(RetentionDays::default(), false).await?;
    let took = started.elapsed().as_secs_f64();
    let after = tenants
        .analytics(&caller, Some(&slug), 365)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let unchanged = year(before) == year(after);
    let tokens = purged.removed.tokens;
    println!(
        "purge past {} days: {tokens} tokens anonymised in {took:.2} s ({:.0} a second); \
         the year's figures {}",
        RetentionDays::default(),
        tokens as f64 / took.max(1e-9),
        if unchanged {
            "read the same"
        } else {
            "CHANGED"
        }
    );
    line.push_str(&format!(" purge_s={took:.2} purged_tokens={tokens}"));
    println!("{line}");
    store.close().await;
    anyhow::ensure!(unchanged, "the purge changed the analytics figures");
    Ok(())
}

/// A day of visits from 09:00 to 19:00 local: most seen, some no-shows and cancellations,
/// a third rated, most with a phone.
fn day_of_visits(rng: &mut StdRng, midnight: Timestamp, count: u32) -> Vec<PastVisit> {
    let at = |minutes: f64| Timestamp(midnight.millis() + (minutes * 60_000.0) as i64);
    let mut joined: Vec<f64> = (0..count)
        .map(|_| 9.0 * 60.0 + rng.random::<f64>() * 600.0)
        .collect();
    joined.sort_by(f64::total_cmp);
    joined
        .into_iter()
        .map(|j| {
            let wait = rng.random::<f64>() * 60.0;
            let visit = 2.0 + rng.random::<f64>() * 12.0;
            let roll = rng.random::<f64>();
            let phone = (rng.random::<f64>() < 0.8)
                .then(|| format!("+9198{:08}", rng.random_range(0..100_000_000u32)));
            let (status, called, served, cancelled) = if roll < 0.07 {
                (TokenStatus::Skipped, Some(at(j + wait)), None, None)
            } else if roll < 0.1 {
                (TokenStatus::Cancelled, None, None, Some(at(j + wait / 2.0)))
            } else {
                (
                    TokenStatus::Served,
                    Some(at(j + wait)),
                    Some(at(j + wait + visit)),
                    None,
                )
            };
            PastVisit {
                created: at(j),
                called,
                served,
                cancelled,
                status,
                phone,
                rating: (status == TokenStatus::Served && rng.random::<f64>() < 0.3)
                    .then(|| rng.random_range(3..=5u8)),
            }
        })
        .collect()
}
