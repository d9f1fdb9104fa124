//! Who is asking: the caller's network (through the proxies this server trusts), whether
//! they reached us over https, their session cookie, and the public address to link to.

use crate::domain::net::Cidr;
#[cfg(feature = "ssr")]
use crate::domain::net::{client_address, Network};
#[cfg(feature = "ssr")]
use crate::tenant::signin::{SECURE_SESSION_COOKIE, SESSION_COOKIE};
#[cfg(feature = "ssr")]
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::AppError;

/// The proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed (`qline serve
/// --behind-proxy`, `--trusted-proxy`). Empty: none, the server faces browsers directly.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub std::sync::Arc<Vec<Cidr>>);

/// The address patients reach this server at (`qline serve --public-url`), for QR codes
/// and links. Without one configured: the request's own host.
#[derive(Debug, Clone, Default)]
pub struct PublicUrl(pub Option<String>);

/// The connection's peer and the proxies it may speak for.
#[cfg(feature = "ssr")]
async fn peer() -> Option<(std::net::IpAddr, TrustedProxies)> {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;
    let ConnectInfo(addr) = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .ok()?;
    Some((
        addr.ip(),
        use_context::<TrustedProxies>().unwrap_or_default(),
    ))
}

/// The network the request came from, which the per-address limits count against: the
/// connecting address, or through a trusted proxy the client's address it forwarded. A
/// request through a trusted proxy that does not say whom it came from is refused, never
/// let through unlimited.
#[cfg(feature = "ssr")]
pub async fn client_network() -> Result<Option<Network>, AppError> {
    let Some((peer, proxies)) = peer().await else {
        return Ok(None);
    };
    let headers = leptos_axum::extract::<http::HeaderMap>()
        .await
        .unwrap_or_default();
    let mut forwarded = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        forwarded.push(value.to_str().map_err(|_| AppError::UnknownClient)?);
    }
    match client_address(peer, &forwarded, &proxies.0) {
        Ok(ip) => Ok(Some(Network::of(ip))),
        Err(why) => {
            tracing::warn!(%peer, %why, "refused a proxied request");
            Err(AppError::UnknownClient)
        }
    }
}

/// Whether the browser reached us over TLS: the public URL is https, or a trusted proxy
/// says so (`X-Forwarded-Proto`).
#[cfg(feature = "ssr")]
pub async fn request_is_https() -> bool {
    let public = use_context::<PublicUrl>().and_then(|p| p.0);
    if public.is_some_and(|url| url.starts_with("https://")) {
        return true;
    }
    let Some((peer, proxies)) = peer().await else {
        return false;
    };
    let headers = leptos_axum::extract::<http::HeaderMap>()
        .await
        .unwrap_or_default();
    proxies.0.iter().any(|c| c.contains(peer))
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            == Some("https")
}

/// Over https the session cookie is `Secure` and named `__Host-`, so only this exact
/// host over TLS can set or read it; over plain HTTP (a machine of one's own) it cannot be.
#[cfg(feature = "ssr")]
async fn session_cookie_name() -> (&'static str, &'static str) {
    if request_is_https().await {
        (SECURE_SESSION_COOKIE, "; Secure")
    } else {
        (SESSION_COOKIE, "")
    }
}

/// The `Set-Cookie` value for a session (`""` and 0 seconds: sign out).
#[cfg(feature = "ssr")]
pub async fn session_cookie_header(token: &str, max_age_secs: i64) -> String {
    let (name, secure) = session_cookie_name().await;
    format!("{name}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

#[cfg(feature = "ssr")]
pub async fn session_cookie() -> Option<String> {
    let headers = leptos_axum::extract::<http::HeaderMap>().await.ok()?;
    cookie(&headers, session_cookie_name().await.0)
}

/// Adds a `Set-Cookie` header to the answer.
#[cfg(feature = "ssr")]
pub fn set_cookie(cookie: &str) {
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(cookie),
    ) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

/// Sets a header on the answer.
#[cfg(feature = "ssr")]
pub fn set_header(name: http::HeaderName, value: &str) {
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(value),
    ) {
        response.insert_header(name, value);
    }
}

/// The value of the request's cookie `name`, if set and not empty.
#[cfg(feature = "ssr")]
pub fn cookie(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

/// Where patients reach this server, for QR codes and links: the configured public URL,
/// or the request's own host.
#[cfg(feature = "ssr")]
pub async fn public_url() -> String {
    if let Some(url) = use_context::<PublicUrl>().and_then(|p| p.0) {
        return url.trim_end_matches('/').to_owned();
    }
    let headers = leptos_axum::extract::<http::HeaderMap>()
        .await
        .unwrap_or_default();
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:3000");
    let scheme = if request_is_https().await {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}
