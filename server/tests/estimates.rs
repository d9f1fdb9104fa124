//! Wait estimates that learn from earlier weeks, and the analytics figures, on SQLite and
//! on PostgreSQL: the engine runs on a clock the test sets, a Monday is worked at the
//! desk, and the next Monday opens with what that one said.

mod support;

use qline_app::domain::*;
use qline_app::queue::engine::{Actor, Engine};
use qline_app::queue::rules::StaffAction;
use qline_app::storage::Store;
use qline_app::tenant::console::Caller;
use qline_app::tenant::Tenants;
use support::walk_in;

on_both_backends!(
    a_day_opens_with_what_the_same_weekday_said,
    analytics_counts_a_worked_day,
    the_wait_shown_on_joining_is_kept_and_scored,
);

/// Monday 2 March 2026, `h`:`m` in Asia/Kolkata (the test clinics' timezone).
fn monday(day_offset: i64, h: i64, m: i64) -> Timestamp {
    // 2026-03-02T00:00+05:30 is 2026-03-01T18:30Z.
    let midnight = 1_772_389_800_000;
    Timestamp(midnight + day_offset * 86_400_000 + (h * 60 + m) * 60_000)
}

/// A morning at the desk on `day` (days after the first Monday): six patients from
/// 09:00, the doctor starting at 09:30, eight-minute visits; the third never comes.
async fn work_a_morning(engine: &Engine, clock: &Clock, c: &support::Clinic, day: i64) {
    for i in 0..6 {
        clock.set(monday(day, 9, i));
        engine
            .create_token(Actor::Staff(&c.desk), walk_in(c.general, &format!("P{i}")))
            .await
            .expect("walk-in");
    }
    let mut minute = 30;
    let mut serving = None;
    for i in 0..6 {
        clock.set(monday(day, 9, minute));
        let applied = engine
            .act(
                &c.desk,
                c.general,
                StaffAction::Next {
                    expected_serving: serving,
                    room: None,
                },
            )
            .await
            .expect("next");
        serving = applied.day.serving().map(|t| t.id);
        if i == 2 {
            clock.set(monday(day, 9, minute + 1));
            let token = serving.expect("someone is called");
            engine
                .act(&c.desk, c.general, StaffAction::Skip { token })
                .await
                .expect("skip");
            serving = None;
            minute += 1;
        } else {
            minute += 8;
        }
    }
    clock.set(monday(day, 9, minute));
    engine
        .act(
            &c.desk,
            c.general,
            StaffAction::Served {
                expected_serving: serving,
            },
        )
        .await
        .expect("served");
}

async fn a_day_opens_with_what_the_same_weekday_said(store: Store) {
    let c = support::clinic(&store, "history", ClinicSettings::default()).await;
    let clock = Clock::manual(monday(0, 8, 0));
    let engine = Engine::new(store.clone()).with_clock(clock.clone());
    work_a_morning(&engine, &clock, &c, 0).await;

    // The first Monday had nothing before it.
    let (_, first) = engine.today(&c.desk, c.general).await.unwrap().unwrap();
    assert_eq!(first.history.days, 0);

    // A week later the day opens with the first Monday's figures.
    clock.set(monday(7, 9, 0));
    let applied = engine
        .create_token(Actor::Staff(&c.desk), walk_in(c.general, "Next week"))
        .await
        .unwrap();
    let history = &applied.day.history;
    assert_eq!(history.days, 1);
    let nine = history.hours[9];
    // Called in the 09:00 hour: four seen (eight minutes each) and the one who never came.
    assert_eq!((nine.served, nine.service_mean, nine.no_shows), (4, 480, 1));
    // The doctor's first call at 09:30 local.
    assert_eq!(history.first_call, Some(9 * 3600 + 30 * 60));
    // The day read back (as the tracker and desk read it) carries the same history.
    let (_, read) = engine.today(&c.desk, c.general).await.unwrap().unwrap();
    assert_eq!(&read.history, history);

    // At 09:00 with nobody called yet, the first in line waits for the usual 09:30 start.
    let view = engine
        .tracker(&applied.created.as_ref().unwrap().1)
        .await
        .unwrap();
    let (low, high) = view.eta.unwrap();
    assert!(low >= 25 && high >= 30, "{low}–{high}");
    // The Dental queue learnt nothing (nobody was seen there).
    clock.set(monday(7, 10, 0));
    let dental = engine
        .create_token(Actor::Staff(&c.desk), walk_in(c.dental, "Dental"))
        .await
        .unwrap();
    assert_eq!(dental.day.history.days, 0);
}

async fn analytics_counts_a_worked_day(store: Store) {
    let c = support::clinic(&store, "figures", ClinicSettings::default()).await;
    let clock = Clock::manual(monday(0, 8, 0));
    let engine = Engine::new(store.clone()).with_clock(clock.clone());
    work_a_morning(&engine, &clock, &c, 0).await;

    // Wednesday noon, on the same clock.
    clock.set(monday(2, 12, 0));
    let tenants = Tenants::new(store.clone()).with_clock(clock);
    let caller = Caller {
        staff: &c.owner,
        ip: None,
    };
    let a = tenants
        .analytics(&caller, None, 7)
        .await
        .expect("analytics");
    assert_eq!(a.from, "2026-02-26");
    assert_eq!(a.to, "2026-03-04");
    assert_eq!(a.by_day.len(), 7);
    let (date, day) = &a.by_day[4];
    assert_eq!(date, "2026-03-02");
    assert_eq!((day.tokens, day.served, day.no_shows), (6, 5, 1));
    assert_eq!(a.total.tokens, 6);
    // Waits: 30, 37, 44 (the no-show), 44, 51, 58 minutes after joining at 09:00–09:05.
    assert_eq!(day.wait_p90, Some(58.0));
    assert_eq!(day.wait_avg, Some(44.0));
    assert_eq!(day.service_avg, Some(8.0));
    assert_eq!(a.by_hour[9].tokens, 6);
    assert!(a.csv().lines().count() == 8);

    // A receptionist is refused; the operator reaches the clinic by its slug.
    let desk = Caller {
        staff: &c.desk,
        ip: None,
    };
    assert!(tenants.analytics(&desk, None, 7).await.is_err());
    let refused = tenants.analytics(&caller, None, 8).await;
    assert!(refused
        .unwrap_err()
        .to_string()
        .contains("Choose one of 7, 30, 90, 365 days"));
}

async fn the_wait_shown_on_joining_is_kept_and_scored(store: Store) {
    let c = support::clinic(&store, "scored", ClinicSettings::default()).await;
    let clock = Clock::manual(monday(0, 8, 0));
    let engine = Engine::new(store.clone()).with_clock(clock.clone());
    work_a_morning(&engine, &clock, &c, 0).await;

    // Each patient's estimate on joining is kept with the token, with how many were ahead.
    let (_, day) = engine.today(&c.desk, c.general).await.unwrap().unwrap();
    let shown: Vec<_> = day
        .tokens
        .iter()
        .map(|t| t.estimate.expect("an estimate was kept"))
        .collect();
    assert_eq!(
        shown.iter().map(|e| e.ahead).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5]
    );
    assert!(shown.iter().all(|e| e.low <= e.high), "{shown:?}");
    // Those who were called within the range they saw, by the day's own times.
    let within = day
        .tokens
        .iter()
        .filter(|t| {
            let e = t.estimate.unwrap();
            let wait = (t.state.called_at.unwrap().millis() - t.joined.millis()) as f32 / 60_000.0;
            e.low as f32 <= wait && wait <= e.high as f32
        })
        .count() as u32;

    // The analytics page says how often the ranges held.
    clock.set(monday(2, 12, 0));
    let tenants = Tenants::new(store.clone()).with_clock(clock.clone());
    let caller = Caller {
        staff: &c.owner,
        ip: None,
    };
    let a = tenants.analytics(&caller, None, 7).await.unwrap();
    assert_eq!(a.total.estimated, 6);
    assert_eq!(a.total.within_range, within);
    assert!(a.total.estimate_error_median.is_some());

    // A week later the day opens with how far those estimates fell from the real waits.
    clock.set(monday(7, 8, 30));
    let applied = engine
        .create_token(Actor::Staff(&c.desk), walk_in(c.general, "Next week"))
        .await
        .unwrap();
    let residuals = &applied.day.history.residuals;
    assert_eq!(residuals.len(), 6);
    assert_eq!(
        residuals.iter().map(|r| r.ahead).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5]
    );
}
