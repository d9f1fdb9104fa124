//! Analytics (`/clinic/analytics`, and `/admin/c/{slug}/analytics` for the operator):
//! headline figures, charts by day and by hour of day drawn as SVG on the server,
//! ratings and feedback, and the figures by day as a CSV download.

use super::clinic::SignInOrProblem;
use super::frame::{Frame, Width};
use crate::analytics::{Analytics, Figures, RANGES};
use crate::api::load_analytics;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn AnalyticsPage() -> impl IntoView {
    view! { <AnalyticsView slug=None/> }
}

#[component]
pub fn AdminAnalyticsPage() -> impl IntoView {
    let slug = use_params_map().read_untracked().get("slug");
    view! { <AnalyticsView slug=slug/> }
}

#[component]
fn AnalyticsView(slug: Option<String>) -> impl IntoView {
    let query = use_query_map();
    let days = move || {
        query
            .read()
            .get("days")
            .and_then(|d| d.parse().ok())
            .unwrap_or(30u32)
    };
    let asked = slug.clone();
    let data = Resource::new(days, move |days| load_analytics(asked.clone(), days));
    view! {
        <Title text="Analytics"/>
        <Frame width=Width::Wide>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let slug = slug.clone();
                    Suspend::new(async move {
                        match data.await {
                            Ok(a) => view! { <Report a=a operator=slug.is_some()/> }.into_any(),
                            Err(e) => view! { <SignInOrProblem error=e/> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </Frame>
    }
}

fn minutes(v: Option<f32>) -> String {
    v.map(|m| crate::domain::eta::humane_minutes(m.round() as u32, "h", "min"))
        .unwrap_or_else(|| "–".into())
}

fn percent(v: Option<f32>) -> String {
    v.map(|r| format!("{:.0} %", r * 100.0))
        .unwrap_or_else(|| "–".into())
}

#[component]
fn Report(a: Analytics, operator: bool) -> AnyView {
    let base = if operator {
        format!("/admin/c/{}/analytics", a.slug)
    } else {
        "/clinic/analytics".to_owned()
    };
    let back = if operator {
        format!("/admin/c/{}", a.slug)
    } else {
        "/clinic".to_owned()
    };
    let csv_href = format!(
        "data:text/csv;charset=utf-8,{}",
        crate::domain::percent_encoded(&a.csv())
    );
    let csv_name = format!("qline-{}-{}-to-{}.csv", a.slug, a.from, a.to);
    let t = a.total.clone();
    let tiles = [
        ("Tokens", t.tokens.to_string()),
        ("Seen", t.served.to_string()),
        ("No-shows", percent(t.no_show_rate())),
        ("Average wait", minutes(t.wait_avg)),
        ("90 % waited at most", minutes(t.wait_p90)),
        ("Average visit", minutes(t.service_avg)),
        ("90 % of visits at most", minutes(t.service_p90)),
        (
            "Rating",
            a.rating_avg()
                .map(|r| format!("{r:.1} / 5"))
                .unwrap_or_else(|| "–".into()),
        ),
        ("Follow on WhatsApp", percent(t.opt_in_rate())),
    ];
    let accuracy = match (t.within_range_rate(), t.estimate_error_median) {
        (Some(rate), Some(error)) => format!(
            "Last {} days: {:.0} % of patients were called within the wait range shown when they joined, median error {:.0} min ({} patients).",
            a.days_back,
            rate * 100.0,
            error,
            t.estimated
        ),
        _ => format!(
            "Last {} days: no patient who was shown a wait range has been called yet.",
            a.days_back
        ),
    };
    let day_bars: Vec<Bar> = a
        .by_day
        .iter()
        .map(|(date, f)| Bar {
            label: short_date(date),
            value: f64::from(f.tokens),
            part: f64::from(f.served),
            tip: format!(
                "{date}: {} tokens, {} seen, {} no-shows",
                f.tokens, f.served, f.no_shows
            ),
        })
        .collect();
    let day_waits: Vec<(String, Option<f32>, Option<f32>)> = a
        .by_day
        .iter()
        .map(|(date, f)| (short_date(date), f.wait_avg, f.wait_p90))
        .collect();
    let open_hours: Vec<(usize, &Figures)> = a
        .by_hour
        .iter()
        .enumerate()
        .filter(|(_, f)| f.tokens > 0)
        .collect();
    let (first_hour, last_hour) = (
        open_hours.first().map_or(8, |(h, _)| *h),
        open_hours.last().map_or(20, |(h, _)| *h),
    );
    let hours: Vec<(usize, Figures)> = (first_hour..=last_hour)
        .map(|h| (h, a.by_hour[h].clone()))
        .collect();
    let hour_bars: Vec<Bar> = hours
        .iter()
        .map(|(h, f)| Bar {
            label: format!("{h:02}"),
            value: f64::from(f.tokens),
            part: f64::from(f.served),
            tip: format!(
                "{h:02}:00–{h:02}:59: {} tokens, {} seen",
                f.tokens, f.served
            ),
        })
        .collect();
    let hour_waits: Vec<(String, Option<f32>, Option<f32>)> = hours
        .iter()
        .map(|(h, f)| (format!("{h:02}"), f.wait_avg, f.wait_p90))
        .collect();
    let top_rating = a.ratings.iter().copied().max().unwrap_or(0).max(1);
    view! {
        <section class="console" data-testid="analytics">
            <header class="console-head">
                <div>
                    <p class="eyebrow">"Analytics"</p>
                    <h1>{a.clinic_name.clone()}</h1>
                    <p class="muted">{format!("{} to {}", a.from, a.to)}</p>
                </div>
                <nav class="staff-links" aria-label="Range">
                    {RANGES.iter().map(|&d| {
                        let current = d == a.days_back;
                        view! {
                            <a href=format!("{base}?days={d}") aria-current=current.then_some("page")>
                                {if d == 365 { "1 year".to_owned() } else { format!("{d} days") }}
                            </a>
                        }
                    }).collect_view()}
                    <a href=csv_href download=csv_name data-testid="csv">"Download CSV"</a>
                    <a href=back>"Back"</a>
                </nav>
            </header>
            <div class="tiles">
                {tiles.into_iter().map(|(name, value)| view! {
                    <div class="tile"><span class="small muted">{name}</span><strong>{value}</strong></div>
                }).collect_view()}
            </div>
            <p class="card" data-testid="estimate-accuracy">
                <strong>"Wait estimates · "</strong>{accuracy}
            </p>
            <div class="console-grid">
                <div class="card card-wide">
                    <h2>"Patients by day"</h2>
                    <BarChart bars=day_bars caption="tokens a day · darker: seen".into() testid="chart-days"/>
                </div>
                <div class="card card-wide">
                    <h2>"Wait by day"</h2>
                    <LineChart points=day_waits caption="minutes from joining to being called · line: average · dashed: 90 % waited at most".into() testid="chart-day-waits"/>
                </div>
                <div class="card">
                    <h2>"Patients by hour of day"</h2>
                    <BarChart bars=hour_bars caption="tokens by the hour they joined · darker: seen".into() testid="chart-hours"/>
                </div>
                <div class="card">
                    <h2>"Wait by hour of day"</h2>
                    <LineChart points=hour_waits caption="minutes · line: average · dashed: 90 % waited at most".into() testid="chart-hour-waits"/>
                </div>
                <div class="card">
                    <h2>"Ratings"</h2>
                    <figure class="chart">
                    <svg viewBox="0 0 600 130" role="img" aria-label="Ratings from 5 to 1 stars" data-testid="chart-ratings">
                        {(0..5).rev().enumerate().map(|(row, i)| {
                            let count = a.ratings[i];
                            let w = f64::from(count) / f64::from(top_rating) * 480.0;
                            let y = row as f64 * 25.0;
                            view! {
                                <g>
                                    <text x="0" y=y + 15.0 class="chart-axis">{format!("{} ★", i + 1)}</text>
                                    <rect class="bar-served" x="40" y=y + 3.0 width=w height="16"/>
                                    <text x=44.0 + w y=y + 15.0 class="chart-axis">{count}</text>
                                </g>
                            }
                        }).collect_view()}
                    </svg>
                    </figure>
                    <ul class="feedback">
                        {a.feedback.iter().map(|(date, stars, text)| view! {
                            <li><span class="small muted">{format!("{date} · {stars} ★ · ")}</span>{text.clone()}</li>
                        }).collect_view()}
                    </ul>
                </div>
                <div class="card card-wide">
                    <h2>"By hour of day"</h2>
                    <table class="table" data-testid="hours-table">
                        <thead><tr>
                            <th>"Hour"</th><th>"Tokens"</th><th>"Seen"</th><th>"No-shows"</th>
                            <th>"Wait avg"</th><th>"Wait 90 %"</th><th>"Visit avg"</th><th>"Visit 90 %"</th>
                        </tr></thead>
                        <tbody>
                            {hours.iter().filter(|(_, f)| f.tokens > 0).map(|(h, f)| view! {
                                <tr>
                                    <td>{format!("{h:02}:00")}</td><td>{f.tokens}</td><td>{f.served}</td>
                                    <td>{percent(f.no_show_rate())}</td>
                                    <td>{minutes(f.wait_avg)}</td><td>{minutes(f.wait_p90)}</td>
                                    <td>{minutes(f.service_avg)}</td><td>{minutes(f.service_p90)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            </div>
            <p class="small muted" data-testid="query-time">{format!("Worked out in {} ms.", a.query_ms)}</p>
        </section>
    }
    .into_any()
}

/// "2026-03-02" as "2 Mar".
fn short_date(date: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = date.split('-').skip(1);
    match (
        parts.next().and_then(|m| m.parse::<usize>().ok()),
        parts.next().and_then(|d| d.parse::<u32>().ok()),
    ) {
        (Some(m @ 1..=12), Some(d)) => format!("{d} {}", MONTHS[m - 1]),
        _ => date.to_owned(),
    }
}

#[derive(Debug, Clone)]
struct Bar {
    label: String,
    value: f64,
    /// The darker part of the bar (patients seen).
    part: f64,
    tip: String,
}

const W: f64 = 600.0;
const H: f64 = 150.0;

/// The labels under a chart: at most about a dozen, evenly spread, each with where its
/// text is anchored (the first starts at its bar, so that it is not cut off).
fn axis_labels(labels: &[String]) -> Vec<(f64, &'static str, String)> {
    let step = labels.len().div_ceil(12).max(1);
    let slot = W / labels.len().max(1) as f64;
    labels
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == 0)
        .map(|(i, l)| {
            let x = i as f64 * slot + slot / 2.0;
            if x < 24.0 {
                (i as f64 * slot, "start", l.clone())
            } else {
                (x, "middle", l.clone())
            }
        })
        .collect()
}

#[component]
fn BarChart(bars: Vec<Bar>, caption: String, testid: &'static str) -> AnyView {
    let top = bars.iter().map(|b| b.value).fold(1.0, f64::max);
    let slot = W / bars.len().max(1) as f64;
    let labels = axis_labels(&bars.iter().map(|b| b.label.clone()).collect::<Vec<_>>());
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {W} {}", H + 20.0) role="img" aria-label=caption.clone() data-testid=testid>
                <text x="0" y="10" class="chart-axis">{format!("{top:.0}")}</text>
                {bars.into_iter().enumerate().map(|(i, b)| {
                    let x = i as f64 * slot + slot * 0.1;
                    let (h, hp) = (b.value / top * H, b.part / top * H);
                    view! {
                        <g>
                            <title>{b.tip}</title>
                            <rect class="bar" x=x y=H - h width=slot * 0.8 height=h/>
                            <rect class="bar-served" x=x y=H - hp width=slot * 0.8 height=hp/>
                        </g>
                    }
                }).collect_view()}
                {labels.into_iter().map(|(x, anchor, l)| view! {
                    <text x=x y=H + 16.0 class="chart-axis" text-anchor=anchor>{l}</text>
                }).collect_view()}
            </svg>
            <figcaption class="muted small">{caption}</figcaption>
        </figure>
    }
    .into_any()
}

/// Two lines over the same labels: a solid one (average) and a dashed one (90th percentile).
#[component]
fn LineChart(
    points: Vec<(String, Option<f32>, Option<f32>)>,
    caption: String,
    testid: &'static str,
) -> AnyView {
    let top = points
        .iter()
        .flat_map(|(_, a, b)| [*a, *b])
        .flatten()
        .fold(1.0f32, f32::max) as f64;
    let slot = W / points.len().max(1) as f64;
    let line = |pick: fn(&(String, Option<f32>, Option<f32>)) -> Option<f32>| {
        points
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                pick(p).map(|v| {
                    format!(
                        "{:.1},{:.1}",
                        i as f64 * slot + slot / 2.0,
                        H - f64::from(v) / top * H
                    )
                })
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (avg, p90) = (line(|p| p.1), line(|p| p.2));
    let labels = axis_labels(&points.iter().map(|p| p.0.clone()).collect::<Vec<_>>());
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {W} {}", H + 20.0) role="img" aria-label=caption.clone() data-testid=testid>
                <text x="0" y="10" class="chart-axis">{format!("{top:.0} min")}</text>
                <polyline class="line" points=avg fill="none"/>
                <polyline class="line line-dashed" points=p90 fill="none"/>
                {labels.into_iter().map(|(x, anchor, l)| view! {
                    <text x=x y=H + 16.0 class="chart-axis" text-anchor=anchor>{l}</text>
                }).collect_view()}
            </svg>
            <figcaption class="muted small">{caption}</figcaption>
        </figure>
    }
    .into_any()
}
