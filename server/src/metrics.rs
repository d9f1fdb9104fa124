//! Prometheus metrics, served on a listener of their own (`qline serve --metrics-addr`,
//! off by default) and never on the app's port: they tell who uses the service how much.
//!
//! Counters and histograms are recorded where things happen (requests here and in
//! `logs::request_span`, queue actions and tokens in the engine, sends in the outbox
//! worker, transaction waits in storage); the gauges of what stands at one instant (the
//! outbox, the connection pool) are read at each scrape. docs/OPERATIONS.md lists them.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use qline_app::domain::Clock;
use qline_app::storage::Store;
use std::sync::OnceLock;

/// Seconds: from a cached poll's microseconds to a slow sign-in's seconds.
const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Starts recording (once per process) and returns what renders the records.
pub fn recorder() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)?
        .install_recorder()?;
    Ok(HANDLE.get_or_init(|| handle).clone())
}

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    store: Store,
    clock: Clock,
}

/// The metrics listener's routes: `GET /metrics` only.
pub fn router(handle: PrometheusHandle, store: Store, clock: Clock) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(Scrape {
            handle,
            store,
            clock,
        })
}

async fn metrics(State(scrape): State<Scrape>) -> Response {
    let (open, busy) = scrape.store.connections();
    metrics::gauge!("qline_db_connections", "state" => "open").set(open);
    metrics::gauge!("qline_db_connections", "state" => "busy").set(busy);
    match scrape.store.outbox_depth(scrape.clock.now()).await {
        Ok(depth) => {
            metrics::gauge!("qline_outbox_unsettled").set(depth.unsettled as f64);
            metrics::gauge!("qline_outbox_oldest_due_seconds")
                .set(depth.oldest_due_ms as f64 / 1000.0);
            metrics::gauge!("qline_database_up").set(1.0);
        }
        Err(cause) => {
            tracing::warn!(%cause, "metrics could not read the outbox");
            metrics::gauge!("qline_database_up").set(0.0);
        }
    }
    scrape.handle.run_upkeep();
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        scrape.handle.render(),
    )
        .into_response()
}
