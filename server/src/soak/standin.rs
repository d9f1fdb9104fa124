//! A stand-in for UltraMsg on loopback that records every message it is given and fails
//! some on purpose: 20 % answer `500` (nothing sent) and 10 % are sent but answered only
//! after the sender's 10 s timeout, as a slow provider does.

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Longer than the sender's 10 s timeout: the message went out, the answer never arrives.
const SLOW_ANSWER: Duration = Duration::from_secs(12);

/// One message the stand-in took (and would have delivered).
#[derive(Debug, Clone, Copy)]
pub struct Receipt {
    pub at: Instant,
    /// Answered after the sender had given up.
    pub slow: bool,
}

#[derive(Default)]
pub struct Record {
    /// Receipts by the outbox id the sender passed as `referenceId`.
    pub taken: HashMap<i64, Vec<Receipt>>,
    pub refused_500: usize,
    pub slow: usize,
}

#[derive(Clone, Default)]
pub struct StandIn {
    pub record: Arc<Mutex<Record>>,
    pub in_flight: Arc<AtomicUsize>,
    calls: Arc<AtomicUsize>,
}

/// The part of UltraMsg's send form the stand-in reads: our outbox id.
#[derive(Deserialize)]
struct Chat {
    #[serde(rename = "referenceId", default)]
    reference: String,
}

impl StandIn {
    /// Serves on a free loopback port; answers its base URL.
    pub async fn start(self) -> anyhow::Result<String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = Router::new()
            .route("/{instance}/messages/chat", post(chat))
            .with_state(self);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(url)
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }
}

async fn chat(
    State(standin): State<StandIn>,
    Path(_instance): Path<String>,
    Form(chat): Form<Chat>,
) -> Response {
    let _counted = InFlight::new(&standin.in_flight);
    // Every tenth call is slow and every fifth of the rest refused: a fixed pattern, so
    // the rates are exact whatever the run's length.
    let n = standin.calls.fetch_add(1, Ordering::Relaxed);
    let answer = if n % 10 == 3 {
        take(&standin, &chat.reference, true);
        tokio::time::sleep(SLOW_ANSWER).await;
        sent(&chat.reference)
    } else if n % 10 == 1 || n % 10 == 6 {
        standin.record.lock().expect("record").refused_500 += 1;
        (StatusCode::INTERNAL_SERVER_ERROR, "stand-in fault").into_response()
    } else {
        take(&standin, &chat.reference, false);
        sent(&chat.reference)
    };
    answer
}

/// One call counted while it runs, including one the sender gave up on (its future is
/// then dropped mid-sleep).
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        InFlight(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn take(standin: &StandIn, reference: &str, slow: bool) {
    let mut record = standin.record.lock().expect("record");
    if slow {
        record.slow += 1;
    }
    if let Ok(id) = reference.parse::<i64>() {
        record.taken.entry(id).or_default().push(Receipt {
            at: Instant::now(),
            slow,
        });
    }
}

fn sent(reference: &str) -> Response {
    Json(json!({ "sent": "true", "message": "ok", "id": format!("standin-{reference}") }))
        .into_response()
}
