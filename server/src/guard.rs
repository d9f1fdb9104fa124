//! Refuses requests another site made a browser send (cross-site request forgery), and
//! bodies in a type the endpoint does not take.
//!
//! A browser sends `Origin` with every POST; where privacy settings blank it (`null`), it
//! still sends `Sec-Fetch-Site`; an old one sends at least `Referer`. A state-changing
//! request whose origin is not this server's is refused with 403, so a page elsewhere
//! cannot press NEXT with a receptionist's cookie. Requests with none of these headers
//! come from programs, not browsers, and carry no one's cookie by accident. Webhooks are
//! not browsers' and prove themselves with signatures instead.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::Arc;

/// What the guard compares against.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// The configured public URL's origin (`https://queue.example.com`), if any.
    pub public: Option<String>,
    /// Paths whose body must be JSON.
    pub json_paths: Vec<String>,
}

impl Origins {
    pub fn new(public_url: Option<&str>, json_paths: Vec<String>) -> Self {
        Origins {
            public: public_url.and_then(origin_of),
            json_paths,
        }
    }
}

/// `scheme://host[:port]` of a URL, lowercased.
fn origin_of(url: &str) -> Option<String> {
    let uri = url.parse::<axum::http::Uri>().ok()?;
    Some(format!("{}://{}", uri.scheme_str()?, uri.authority()?).to_ascii_lowercase())
}

/// Whether a state-changing request came from this server's own pages.
fn same_origin(headers: &HeaderMap, origins: &Origins) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let host = header("host").unwrap_or_default().to_ascii_lowercase();
    let ours = |origin: &str| {
        let origin = origin.to_ascii_lowercase();
        origins.public.as_deref() == Some(origin.as_str())
            || origin
                .split_once("://")
                .is_some_and(|(_, authority)| !host.is_empty() && authority == host)
    };
    if let Some(origin) = header("origin").filter(|o| *o != "null") {
        return ours(origin);
    }
    if let Some(site) = header("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    if let Some(referer) = header("referer") {
        return origin_of(referer).is_some_and(|o| ours(&o));
    }
    true
}

/// Whether the body's declared type is one the endpoint reads.
fn acceptable_body(path: &str, headers: &HeaderMap, origins: &Origins) -> bool {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    let alerts = path.starts_with("/api/t/") && path.ends_with("/alerts");
    if alerts || origins.json_paths.iter().any(|p| path == p) {
        return kind.as_deref() == Some("application/json");
    }
    !path.starts_with("/api/")
        || matches!(
            kind.as_deref(),
            None | Some(
                "application/x-www-form-urlencoded" | "multipart/form-data" | "application/json"
            )
        )
}

pub async fn same_origin_writes(
    State(origins): State<Arc<Origins>>,
    request: Request,
    next: Next,
) -> Response {
    let reads = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let path = request.uri().path();
    if reads || path.starts_with("/webhooks/") {
        return next.run(request).await;
    }
    if !same_origin(request.headers(), &origins) {
        tracing::warn!(%path, "refused a request sent from another site");
        return refuse(
            StatusCode::FORBIDDEN,
            "This request came from another site and was refused. Open Qline's own page and try again.",
        );
    }
    if !acceptable_body(path, request.headers(), &origins) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "This address takes a form or JSON body; send it with the matching Content-Type.",
        );
    }
    next.run(request).await
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_this_servers_pages_may_change_things() {
        let origins = Origins::new(Some("https://queue.example.com/"), vec![]);
        let host = ("host", "10.0.0.5:3000");
        for (allowed, pairs) in [
            (true, vec![host, ("origin", "https://queue.example.com")]),
            (true, vec![host, ("origin", "http://10.0.0.5:3000")]),
            (false, vec![host, ("origin", "https://evil.example")]),
            (
                false,
                vec![host, ("origin", "https://queue.example.com.evil.example")],
            ),
            (
                true,
                vec![host, ("origin", "null"), ("sec-fetch-site", "same-origin")],
            ),
            (
                false,
                vec![host, ("origin", "null"), ("sec-fetch-site", "cross-site")],
            ),
            (false, vec![host, ("sec-fetch-site", "same-site")]),
            (true, vec![host, ("referer", "http://10.0.0.5:3000/desk")]),
            (false, vec![host, ("referer", "https://evil.example/x")]),
            (true, vec![host]),
        ] {
            assert_eq!(
                same_origin(&headers(&pairs), &origins),
                allowed,
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn json_endpoints_take_only_json_and_forms_take_forms() {
        let origins = Origins::new(None, vec!["/api/desk/act".into()]);
        let typed = |t: &'static str| headers(&[("content-type", t)]);
        assert!(acceptable_body(
            "/api/desk/act",
            &typed("application/json"),
            &origins
        ));
        assert!(!acceptable_body(
            "/api/desk/act",
            &typed("text/plain"),
            &origins
        ));
        assert!(!acceptable_body(
            "/api/desk/act",
            &HeaderMap::new(),
            &origins
        ));
        assert!(acceptable_body(
            "/api/join",
            &typed("application/x-www-form-urlencoded; charset=UTF-8"),
            &origins
        ));
        assert!(!acceptable_body(
            "/api/join",
            &typed("text/plain"),
            &origins
        ));
        assert!(!acceptable_body(
            "/api/t/abc/alerts",
            &typed("text/plain"),
            &origins
        ));
    }
}
