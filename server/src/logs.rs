//! Logs go to standard output: as text for a terminal, or as one JSON object per line for
//! a log pipeline (`--log-format json`). Every line logged while a request is answered
//! carries that request's id (answered in `X-Request-Id`, or taken from the caller's when
//! it sends a usable one) and, once the request has read its clinic, the clinic's id.
//! Phone numbers are logged masked where they are logged at all; tracker links, which
//! open a patient's token, are logged without their id.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::OnceLock;
use std::time::Instant;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people: time, level, where, message and fields.
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `target`, `message`, the event's
    /// fields, and `span` with the request's `id`, `method`, `path` and `clinic_id`).
    Json,
}

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Starts logging in `format`, at the levels `QLINE_LOG` sets (`info,sqlx=warn` unless
/// set).
pub fn init(format: LogFormat) {
    let _ = FORMAT.set(format);
    let filter =
        EnvFilter::try_from_env("QLINE_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let lines = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => lines.init(),
        LogFormat::Json => lines
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

/// Whether logs are JSON lines (then nothing else may be printed to standard output).
pub fn json() -> bool {
    FORMAT.get() == Some(&LogFormat::Json)
}

/// The header that carries a request's id, both ways.
const REQUEST_ID: &str = "x-request-id";

/// Runs a request inside its own span and logs its answer: at `debug` (`answered`, with
/// the status and milliseconds taken), at `warn` for our own failures (5xx). Counts it
/// for the metrics by route and status, with its time.
pub async fn request_span(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| usable_id(v))
        .map_or_else(new_id, str::to_owned);
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %request.method(),
        path = %loggable_path(request.uri().path()),
        clinic_id = tracing::field::Empty,
    );
    // The route as written (`/t/{public_id}`), so metrics have one series a route.
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let took = started.elapsed().as_secs_f64();
    metrics::counter!("qline_http_requests_total", "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!("qline_http_request_duration_seconds", "route" => route).record(took);
    let ms = (took * 1000.0 * 10.0).round() / 10.0;
    span.in_scope(|| {
        if response.status().is_server_error() {
            tracing::warn!(status, ms, "answered");
        } else {
            tracing::debug!(status, ms, "answered");
        }
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// A caller's id is kept when it is short and plain (a proxy's or a load balancer's).
fn usable_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

fn new_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// The path with a tracker's public id left out: whoever holds the link sees the token.
fn loggable_path(path: &str) -> String {
    let mut out = Vec::new();
    let mut after_t = false;
    for segment in path.split('/') {
        out.push(if after_t && !segment.is_empty() {
            "{public_id}"
        } else {
            segment
        });
        after_t = segment == "t";
    }
    out.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracker_links_are_logged_without_their_id() {
        assert_eq!(loggable_path("/t/AbC123xyz"), "/t/{public_id}");
        assert_eq!(
            loggable_path("/api/t/AbC123xyz/alerts"),
            "/api/t/{public_id}/alerts"
        );
        assert_eq!(loggable_path("/c/demo/display"), "/c/demo/display");
        assert_eq!(loggable_path("/"), "/");
    }

    #[test]
    fn only_short_plain_request_ids_are_taken_from_the_caller() {
        assert!(usable_id("lb-7f3a_01.2"));
        assert!(!usable_id(""));
        assert!(!usable_id("with space"));
        assert!(!usable_id("new\nline"));
        assert!(!usable_id(&"x".repeat(65)));
    }
}
