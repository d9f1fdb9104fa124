//! The HTTP surface: Leptos pages and server functions, static files, and the health
//! endpoints an operator's load balancer polls.

use axum::extract::Path;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_axum::{generate_route_list, LeptosRoutes};
use qline_app::api::{PublicUrl, TrustedProxies};
use qline_app::domain::net::Cidr;
use qline_app::domain::{percent_encoded, PublicId};
use qline_app::messaging::Messenger;
use qline_app::queue::engine::{Engine, EngineError};
use qline_app::tenant::Tenants;
use qline_app::{shell, App};
use serde_json::json;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;

/// What every request handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub engine: Engine,
    pub messenger: Messenger,
    /// The proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    pub trusted_proxies: std::sync::Arc<Vec<Cidr>>,
    /// Where patients reach Qline (for QR codes and links); `None`: the request's host.
    pub public_url: Option<String>,
    /// How long a request may take before it is answered `408`.
    pub request_timeout: std::time::Duration,
    /// Days patients' data is kept where a clinic keeps no less.
    pub retention: qline_app::domain::RetentionDays,
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let engine = state.engine.clone();
    // The tenant service keeps the engine's store and clock: one time for the whole server.
    let tenants = Tenants::new(engine.store().clone())
        .with_clock(engine.clock().clone())
        .with_retention(state.retention);
    let messenger = state.messenger.clone();
    let trusted_proxies = TrustedProxies(state.trusted_proxies.clone());
    let public_url = PublicUrl(state.public_url.clone());
    let options = state.leptos_options.clone();
    let origins = std::sync::Arc::new(crate::guard::Origins::new(
        state.public_url.as_deref(),
        vec![qline_app::api::DeskAct::PATH.to_owned()],
    ));
    // Browsers that once reached us over https keep to it for a year.
    let hsts = state
        .public_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"));
    let bundle = std::sync::Arc::new(BundleCaching {
        prefix: format!("/{}/", options.site_pkg_dir),
        hashed: options.hash_files,
    });
    // The bundle, preferring the brotli and gzip copies the release build wrote beside
    // each file (`.ci/precompress.mjs`); without them the compression layer compresses.
    let pkg = tower_http::services::ServeDir::new(
        std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref()),
    )
    .precompressed_br()
    .precompressed_gzip();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/t/{public_id}", get(tracker_status))
        .route(
            "/api/t/{public_id}/alerts",
            axum::routing::post(subscribe_alerts).delete(unsubscribe_alerts),
        )
        .route("/api/push/key", get(push_key))
        .route("/api/display/{slug}", get(board_status))
        .nest_service(&format!("/{}", options.site_pkg_dir), pkg)
        .merge(crate::webhooks::routes())
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(engine.clone());
                provide_context(tenants.clone());
                provide_context(messenger.clone());
                provide_context(trusted_proxies.clone());
                provide_context(public_url.clone());
                note_page_nonce();
            },
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(note_page_nonce, shell))
        .layer(axum::middleware::from_fn(refusal_status))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            origins,
            crate::guard::same_origin_writes,
        ))
        .layer(axum::middleware::from_fn(move |request, next| {
            security_headers(hsts, request, next)
        }))
        .layer(axum::middleware::from_fn(move |request, next| {
            cache_policy(bundle.clone(), request, next)
        }))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn(crate::logs::request_span))
        .with_state(state)
}

/// Server functions answer every error with `500`; a refusal (a bad phone number, a
/// queue that moved, a wrong password) is the caller's to fix and gets its 4xx status
/// (`AppError::status`). Only our own failures stay 5xx.
async fn refusal_status(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR || !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, parts.headers).into_response();
    };
    if let Ok(error) = serde_json::from_slice::<qline_app::api::AppError>(&bytes) {
        parts.status = error.status();
        if let Some(secs) = error.retry_after_secs() {
            parts.headers.insert(header::RETRY_AFTER, secs.into());
        }
        // The words to show, for a client that does not decode every refusal (the
        // patient pages' bundle): percent-encoded UTF-8, as headers must be ASCII.
        let words = qline_app::api::RefusalWords::from(&error);
        let said = [
            ("qline-message", Some(words.message)),
            ("qline-field", words.field),
        ];
        for (name, value) in said {
            if let Some(value) =
                value.and_then(|v| header::HeaderValue::from_str(&percent_encoded(&v)).ok())
            {
                parts.headers.insert(name, value);
            }
        }
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Refuses to start without the browser bundles the pages load (the full one, and the
/// patient one of the join page, tracker and display): a server whose site root lacks them
/// would serve pages that never come alive (no live desk, no tracker polls).
pub fn check_bundle(options: &LeptosOptions) -> anyhow::Result<()> {
    let pkg = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let build = "Build it with `make release` (cargo leptos build --release, then \
                 .ci/build-patient), or point --leptos-config / LEPTOS_SITE_ROOT at the folder \
                 that holds it.";
    let mut wanted = bundle_files(
        options.output_name.as_ref(),
        options.hash_file.as_ref(),
        &["js", "wasm", "css"],
        options.hash_files,
    )?;
    wanted.extend(bundle_files(
        qline_app::PATIENT_BUNDLE,
        qline_app::PATIENT_HASH_FILE,
        &["js", "wasm"],
        options.hash_files,
    )?);
    let missing: Vec<String> = wanted
        .into_iter()
        .filter(|any_of| !any_of.iter().any(|f| pkg.join(f).is_file()))
        .map(|any_of| pkg.join(&any_of[0]).display().to_string())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "the browser bundle is missing from {}: no {}. {build}",
            pkg.display(),
            missing.join(", no ")
        )
    }
}

/// The files one bundle needs, each as the names any of which will do: with hashed names,
/// those its hash file (beside the `qline` binary) gives.
fn bundle_files(
    name: &str,
    hash_file: &str,
    kinds: &[&str],
    hashed: bool,
) -> anyhow::Result<Vec<Vec<String>>> {
    if !hashed {
        return Ok(kinds
            .iter()
            .map(|kind| match *kind {
                "wasm" => vec![format!("{name}.wasm"), format!("{name}_bg.wasm")],
                _ => vec![format!("{name}.{kind}")],
            })
            .collect());
    }
    let exe = std::env::current_exe()?;
    let hash_file = exe
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join(hash_file);
    let hashes = std::fs::read_to_string(&hash_file).map_err(|e| {
        anyhow::anyhow!(
            "the browser bundle's hash file {} cannot be read ({e}); it is written by the \
             release build and must sit beside the qline binary. Build it with `make release`.",
            hash_file.display()
        )
    })?;
    let hash = |kind: &str| {
        hashes.lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            (k.trim() == kind).then(|| v.trim().to_owned())
        })
    };
    Ok(kinds
        .iter()
        .map(|kind| match hash(kind) {
            Some(h) => vec![format!("{name}.{h}.{kind}")],
            None => vec![format!(
                "{name}.<{kind} hash missing from {}>.{kind}",
                hash_file.display()
            )],
        })
        .collect())
}

/// Where the browser bundle is served, and whether its file names carry content hashes.
struct BundleCaching {
    prefix: String,
    hashed: bool,
}

/// Where a page rendered for this request leaves the nonce Leptos gave its inline scripts
/// (`note_page_nonce`), for `security_headers` to write the page's content policy.
#[derive(Clone, Default)]
struct PageNonce(std::sync::Arc<std::sync::OnceLock<String>>);

/// Runs with every page's contexts (the routes' and the not-found page's), before it
/// renders: leaves its nonce for `security_headers`, the one place a page's policy is
/// written, around the whole answer. (Set through the page's response options instead, it
/// was seen, once in a few hundred pages under load, to reach the browser without it.)
fn note_page_nonce() {
    let slot = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<PageNonce>().cloned());
    if let (Some(slot), Some(nonce)) = (slot, leptos::nonce::use_nonce()) {
        let _ = slot.0.set(nonce.to_string());
    }
}

/// Headers every answer carries: no content-type sniffing, no framing by other sites, no
/// `Referer` sent to other sites (the same-site `Referer` is how a refused plain form post
/// finds its way back), none at all from a tracker (its address is the patient's secret),
/// and over https the promise to stay on https. A page gets its full content policy with
/// the nonce of its inline scripts (`qline_app::content_policy`); anything else, one that
/// allows nothing.
async fn security_headers(
    hsts: bool,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path();
    let tracker = path.starts_with("/t/");
    // Nothing under /api/ is a page: a tracker's polls (the hottest path) skip the slot.
    let page = (!path.starts_with("/api/")).then(PageNonce::default);
    if let Some(page) = &page {
        request.extensions_mut().insert(page.clone());
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Some(value) = page
        .as_ref()
        .and_then(|page| page.0.get())
        .and_then(|nonce| header::HeaderValue::from_str(&qline_app::content_policy(nonce)).ok())
    {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    let referrer = if tracker {
        "no-referrer"
    } else {
        "same-origin"
    };
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, referrer),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ] {
        headers
            .entry(name)
            .or_insert(header::HeaderValue::from_static(value));
    }
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            header::HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// The bundle's hashed files never change under their name, so browsers keep them a year
/// and a second visit downloads only the page and its polls. Everything else (pages with
/// live state and patients' details, the service worker, the JSON endpoints) is checked
/// with the server on every use.
async fn cache_policy(
    bundle: std::sync::Arc<BundleCaching>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let in_bundle = request.uri().path().starts_with(&bundle.prefix);
    let immutable = bundle.hashed && in_bundle;
    let mut response = next.run(request).await;
    if in_bundle {
        // A precompressed copy is chosen by Accept-Encoding: caches must key on it.
        response
            .headers_mut()
            .entry(header::VARY)
            .or_insert(header::HeaderValue::from_static("accept-encoding"));
    }
    if response.status().is_success() {
        let policy = if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "private, no-cache"
        };
        response
            .headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(header::HeaderValue::from_static(policy));
    }
    response
}

/// The process is up and serving.
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers and every migration is applied: safe to send traffic here.
async fn readyz(State(engine): State<Engine>) -> impl IntoResponse {
    let store = engine.store();
    match store.readiness().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "database": store.backend() })),
        ),
        Err(reason) => {
            // The cause (addresses, versions, SQL) is for the operator's log, not the public.
            tracing::warn!(%reason, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unavailable",
                    "database": store.backend(),
                    "reason": "The database is not reachable or not up to date; the server log says why.",
                })),
            )
        }
    }
}

/// `GET /api/t/{public_id}`: the tracker's state as JSON, polled by the tracker page.
/// Carries an ETag; a poll that sends it back (`If-None-Match`) while nothing changed gets
/// a bodiless `304 Not Modified`, decided from what the engine keeps in memory.
async fn tracker_status(
    State(engine): State<Engine>,
    Path(public_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(id) = PublicId::parse(&public_id) else {
        return error(StatusCode::NOT_FOUND, NO_SUCH_TOKEN);
    };
    match engine.tracker_poll(&id).await {
        Ok(answer) => {
            let response = tagged_json(&headers, &answer.etag, || answer.body.clone());
            let answer = if response.status() == StatusCode::NOT_MODIFIED {
                "304"
            } else {
                "200"
            };
            metrics::counter!("qline_tracker_polls_total", "answer" => answer).increment(1);
            response
        }
        Err(EngineError::Refused(_)) => error(StatusCode::NOT_FOUND, NO_SUCH_TOKEN),
        Err(EngineError::Storage(cause)) => storage_failure(cause, "tracker status"),
    }
}

const NO_SUCH_TOKEN: &str =
    "We could not find that token. Please check the link, or ask at reception.";

/// A JSON error a person can read: `{"error": "…"}`.
fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// A failure on our side: logged with its cause, answered without it.
fn internal(cause: impl std::fmt::Display, what: &str) -> Response {
    tracing::error!(%cause, "{what}");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on our side. Please try again in a moment.",
    )
}

/// A storage failure: `503` with `Retry-After` while the database is away (the caller
/// may simply try again), else our own failure.
fn storage_failure(cause: qline_app::storage::StorageError, what: &str) -> Response {
    if !cause.is_unavailable() {
        return internal(cause, what);
    }
    tracing::warn!(%cause, "{what}: database unavailable");
    let mut response = error(
        StatusCode::SERVICE_UNAVAILABLE,
        &qline_app::api::AppError::Unavailable.to_string(),
    );
    response.headers_mut().insert(
        header::RETRY_AFTER,
        qline_app::api::UNAVAILABLE_RETRY_SECS.into(),
    );
    response
}

/// `GET /api/display/{slug}`: the display board's state as JSON, with an ETag like the tracker's.
async fn board_status(
    State(engine): State<Engine>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Response {
    match engine.board(&slug).await {
        Ok(board) => json_with_etag(&headers, &board),
        Err(EngineError::Refused(refusal)) => error(StatusCode::NOT_FOUND, &refusal.to_string()),
        Err(EngineError::Storage(cause)) => storage_failure(cause, "board status"),
    }
}

/// Answers `value` as JSON with a strong ETag, or a bodiless `304 Not Modified` when the
/// caller's `If-None-Match` already names this exact body.
fn json_with_etag<T: serde::Serialize>(headers: &HeaderMap, value: &T) -> Response {
    let Ok(body) = serde_json::to_vec(value) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    tagged_json(headers, &qline_app::queue::engine::etag_of(&body), || body)
}

/// A JSON body under `etag`: `304 Not Modified` (no body) when `If-None-Match` names it.
fn tagged_json(headers: &HeaderMap, etag: &str, body: impl FnOnce() -> Vec<u8>) -> Response {
    let cache = [
        (header::ETAG, etag.to_owned()),
        (header::CACHE_CONTROL, "no-cache".to_owned()),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag)
    {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (
        StatusCode::OK,
        cache,
        [(header::CONTENT_TYPE, "application/json")],
        body(),
    )
        .into_response()
}

/// `GET /api/push/key`: the VAPID public key browsers subscribe with (404: this server
/// sends no web push).
async fn push_key(State(messenger): State<Messenger>) -> Response {
    match messenger.web_push() {
        Some(push) => Json(json!({ "key": push.vapid.public_key() })).into_response(),
        None => error(StatusCode::NOT_FOUND, "This server does not send alerts."),
    }
}

/// A browser's `PushSubscription.toJSON()`.
#[derive(serde::Deserialize)]
struct AlertsRequest {
    endpoint: String,
    #[serde(default)]
    keys: AlertKeys,
}

#[derive(serde::Deserialize, Default)]
struct AlertKeys {
    #[serde(default)]
    p256dh: String,
    #[serde(default)]
    auth: String,
}

/// `POST /api/t/{public_id}/alerts`: the tracker's "alert me" switch turned on; the body
/// is the browser's push subscription.
async fn subscribe_alerts(
    State(messenger): State<Messenger>,
    Path(public_id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    use qline_app::messaging::{push::Subscription, MessagingError};
    let Some(id) = PublicId::parse(&public_id) else {
        return error(StatusCode::NOT_FOUND, NO_SUCH_TOKEN);
    };
    let request: AlertsRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "Send the browser's push subscription as JSON: {\"endpoint\", \"keys\": {\"p256dh\", \"auth\"}}.",
            )
        }
    };
    let subscription =
        match Subscription::parse(&request.endpoint, &request.keys.p256dh, &request.keys.auth) {
            Ok(s) => s,
            Err(why) => return error(StatusCode::UNPROCESSABLE_ENTITY, &why.to_string()),
        };
    match messenger.subscribe_push(&id, &subscription).await {
        Ok(()) => (StatusCode::CREATED, Json(json!({ "alerts": true }))).into_response(),
        Err(MessagingError::Refused(refusal)) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, &refusal.to_string())
        }
        Err(MessagingError::Storage(cause)) => storage_failure(cause, "push subscription"),
        Err(cause) => internal(cause, "push subscription"),
    }
}

/// `DELETE /api/t/{public_id}/alerts`: alerts switched off; the body names the endpoint.
async fn unsubscribe_alerts(
    State(messenger): State<Messenger>,
    Path(public_id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let (Some(id), Ok(request)) = (
        PublicId::parse(&public_id),
        serde_json::from_slice::<AlertsRequest>(&body),
    ) else {
        return error(StatusCode::BAD_REQUEST, "Name the subscription's endpoint.");
    };
    match messenger.unsubscribe_push(&id, &request.endpoint).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(cause) => internal(cause, "push unsubscription"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(files: &[&str]) -> LeptosOptions {
        let root =
            std::env::temp_dir().join(format!("qline-site-{}-{}", std::process::id(), files.len()));
        let pkg = root.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        for file in files {
            std::fs::write(pkg.join(file), b"x").unwrap();
        }
        LeptosOptions::builder()
            .output_name("qline")
            .site_root(root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .build()
    }

    #[test]
    fn a_server_starts_only_with_the_bundles_its_pages_load() {
        let both = [
            "qline.js",
            "qline.wasm",
            "qline.css",
            "patient.js",
            "patient_bg.wasm",
        ];
        assert!(check_bundle(&site(&both)).is_ok());
        let missing = check_bundle(&site(&["qline.js"])).unwrap_err().to_string();
        assert!(
            missing.contains("qline.wasm") && missing.contains("qline.css"),
            "{missing}"
        );
        assert!(missing.contains("make release"), "{missing}");
        let no_patient = check_bundle(&site(&both[..4])).unwrap_err().to_string();
        assert!(no_patient.contains("patient.wasm"), "{no_patient}");
    }
}
