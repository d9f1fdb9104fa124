//! The WhatsApp providers' webhooks (docs/WHATSAPP.md): thin HTTP wrappers around
//! `qline_app::messaging::webhooks`. They answer as soon as the message is recorded;
//! replies go out through the outbox, never inside the webhook call.

use crate::http::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qline_app::messaging::webhooks::Rejection;
use qline_app::messaging::Messenger;
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/webhooks/whatsapp/meta",
            get(meta_verify).post(meta_events),
        )
        .route("/webhooks/whatsapp/ultramsg/{slug}", post(ultramsg_events))
}

#[derive(Deserialize)]
struct Handshake {
    #[serde(rename = "hub.mode", default)]
    mode: String,
    #[serde(rename = "hub.verify_token", default)]
    verify_token: String,
    #[serde(rename = "hub.challenge", default)]
    challenge: String,
}

async fn meta_verify(State(messenger): State<Messenger>, Query(q): Query<Handshake>) -> Response {
    match messenger
        .meta_verify(&q.mode, &q.verify_token, &q.challenge)
        .await
    {
        Ok(challenge) => (StatusCode::OK, challenge).into_response(),
        Err(rejection) => refuse(rejection),
    }
}

async fn meta_events(
    State(messenger): State<Messenger>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match messenger.meta_webhook(&body, signature).await {
        Ok(report) => accepted(report),
        Err(rejection) => refuse(rejection),
    }
}

#[derive(Deserialize)]
struct Secret {
    #[serde(default)]
    secret: String,
}

async fn ultramsg_events(
    State(messenger): State<Messenger>,
    Path(slug): Path<String>,
    Query(q): Query<Secret>,
    body: Bytes,
) -> Response {
    match messenger.ultramsg_webhook(&slug, &q.secret, &body).await {
        Ok(report) => accepted(report),
        Err(rejection) => refuse(rejection),
    }
}

fn accepted(report: qline_app::messaging::webhooks::Report) -> Response {
    Json(json!({
        "messages": report.messages,
        "duplicates": report.duplicates,
        "statuses": report.statuses,
        "ignored": report.ignored,
    }))
    .into_response()
}

fn refuse(rejection: Rejection) -> Response {
    let status = match rejection {
        Rejection::Unauthorized => StatusCode::UNAUTHORIZED,
        Rejection::Forbidden => StatusCode::FORBIDDEN,
        Rejection::UnknownClinic => StatusCode::NOT_FOUND,
        Rejection::BadPayload(_) => StatusCode::BAD_REQUEST,
        // Providers deliver again after a 5xx.
        Rejection::NotNow(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    tracing::warn!(%rejection, "WhatsApp webhook refused");
    (status, Json(json!({ "error": rejection.to_string() }))).into_response()
}
