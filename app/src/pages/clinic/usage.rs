//! Usage: tokens issued and served over the last 30 days.

use crate::console::UsageDay;
use leptos::prelude::*;

/// Thirty days of tokens as SVG bars (served in the darker part), drawn on the server.
#[component]
pub fn UsageChart(days: Vec<UsageDay>) -> AnyView {
    const W: f64 = 600.0;
    const H: f64 = 140.0;
    let top = days.iter().map(|d| d.tokens).max().unwrap_or(0).max(1) as f64;
    let slot = W / days.len().max(1) as f64;
    let total: u32 = days.iter().map(|d| d.tokens).sum();
    let label = format!("{total} tokens in the last {} days", days.len());
    let first = days.first().map(|d| d.date.clone()).unwrap_or_default();
    let last = days.last().map(|d| d.date.clone()).unwrap_or_default();
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {W} {}", H + 20.0) role="img" aria-label=label.clone() data-testid="usage-chart">
                {days.into_iter().enumerate().map(|(i, d)| {
                    let x = i as f64 * slot + 1.0;
                    let h = d.tokens as f64 / top * H;
                    let hs = d.served as f64 / top * H;
                    view! {
                        <g>
                            <title>{format!("{}: {} tokens, {} served", d.date, d.tokens, d.served)}</title>
                            <rect class="bar" x=x y=H - h width=slot - 2.0 height=h/>
                            <rect class="bar-served" x=x y=H - hs width=slot - 2.0 height=hs/>
                        </g>
                    }
                }).collect_view()}
                <text x="0" y=H + 16.0 class="chart-axis">{first}</text>
                <text x=W y=H + 16.0 class="chart-axis" text-anchor="end">{last}</text>
            </svg>
            <figcaption class="muted small">{label}" · darker: served"</figcaption>
        </figure>
    }
    .into_any()
}
