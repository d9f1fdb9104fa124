//! What a tracker poll costs against the cheapest answer the server gives, measured in
//! one run: closed-loop load (every connection sends its next request as soon as the
//! last came back) on `/healthz`, then on `/api/t/{id}` sending each token's ETag back
//! (`304`), then without it (`200`). The tokens are polled in turn, so every day's
//! version check and every token's answer is exercised, not one token's. The load comes
//! from this process on the same machine, the same for all three.

use reqwest::{Client, StatusCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// One request of a phase: its path and the ETag it sends, if any.
type Request = (String, Option<String>);

/// Runs the three phases against `base` and prints each rate and the two ratios.
pub async fn measure(
    base: &str,
    tokens: &[String],
    connections: usize,
    seconds: u64,
) -> anyhow::Result<()> {
    let client = Client::builder()
        .pool_max_idle_per_host(connections)
        .pool_idle_timeout(crate::soak::drive::CLIENT_IDLE)
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut unchanged = Vec::with_capacity(tokens.len());
    let mut fresh = Vec::with_capacity(tokens.len());
    for token in tokens {
        let path = format!("/api/t/{token}");
        let answer = get(client.get(format!("{base}{path}"))).await?;
        anyhow::ensure!(
            answer.status() == StatusCode::OK,
            "{path}: {}",
            answer.status()
        );
        let etag = answer
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("{path} has no ETag"))?;
        unchanged.push((path.clone(), Some(etag)));
        fresh.push((path, None));
    }
    let load = |requests: Vec<Request>, expect: StatusCode| {
        hammer(&client, base, requests, expect, connections, seconds)
    };
    let health = load(vec![("/healthz".to_owned(), None)], StatusCode::OK).await?;
    let not_modified = load(unchanged, StatusCode::NOT_MODIFIED).await?;
    let changed = load(fresh, StatusCode::OK).await?;
    println!(
        "poll ratio ({connections} connections, {seconds} s each, {} tokens in turn): /healthz {health:.0}/s · 304 poll {not_modified:.0}/s ({:.2} of /healthz) · 200 poll {changed:.0}/s ({:.2} of /healthz)",
        tokens.len(),
        not_modified / health,
        changed / health,
    );
    Ok(())
}

/// Sends a GET, and once more if it failed on its way out or back (a kept-alive
/// connection the server closed just as the request went out on it): a GET may be asked
/// again, and one lost to that race says nothing about how fast the server answers.
async fn get(request: reqwest::RequestBuilder) -> reqwest::Result<reqwest::Response> {
    let again = request.try_clone();
    match (request.send().await, again) {
        (Err(e), Some(again)) if e.is_request() => again.send().await,
        (answer, _) => answer,
    }
}

/// Requests per second answered `expect` over `seconds` of closed-loop load. Any other
/// answer fails the measurement: a rate of wrong answers means nothing.
async fn hammer(
    client: &Client,
    base: &str,
    requests: Vec<Request>,
    expect: StatusCode,
    connections: usize,
    seconds: u64,
) -> anyhow::Result<f64> {
    let requests = Arc::new(requests);
    let turn = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let mut running = tokio::task::JoinSet::new();
    for _ in 0..connections.max(1) {
        let (client, requests, turn, base) = (
            client.clone(),
            requests.clone(),
            turn.clone(),
            base.to_owned(),
        );
        running.spawn(async move {
            let mut answered = 0u64;
            while Instant::now() < end {
                let (path, etag) = &requests[turn.fetch_add(1, Ordering::Relaxed) % requests.len()];
                let mut request = client.get(format!("{base}{path}"));
                if let Some(tag) = etag {
                    request = request.header(reqwest::header::IF_NONE_MATCH, tag);
                }
                let status = get(request).await?.status();
                anyhow::ensure!(status == expect, "{path} answered {status}, not {expect}");
                answered += 1;
            }
            Ok(answered)
        });
    }
    let mut answered = 0;
    while let Some(done) = running.join_next().await {
        answered += done??;
    }
    Ok(answered as f64 / start.elapsed().as_secs_f64())
}
