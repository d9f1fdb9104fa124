//! Forms posted without JavaScript (before the bundle loads, or with it switched off).
//! A refusal must not answer a bare error: the browser goes back to the page the form
//! was on, which shows the refusal next to its field with the values typed. They travel
//! in a short-lived HttpOnly cookie (never in the URL, and never a password), which the
//! page reads and clears as it renders.

use super::{AppError, RefusalWords};
use crate::console::ConsoleError;
use crate::queue::QueueError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A refused form, brought back to its page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnedForm {
    /// The server function the form posted to (its `PATH`): only that form shows it.
    pub form: String,
    pub error: RefusalWords,
    /// What was typed, by field name.
    pub values: Vec<(String, String)>,
}

impl ReturnedForm {
    /// The value typed into `field`, if the form came back with one.
    pub fn value(&self, field: &str) -> Option<String> {
        self.values
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, value)| value.clone())
    }
}

impl AppError {
    /// The form field a refusal is about (`name`, `phone`…), so a page can show it
    /// there; `None` for refusals about the whole form.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Refused(QueueError::Invalid(invalid))
            | AppError::Console(ConsoleError::Invalid(invalid)) => Some(&invalid.field),
            AppError::Refused(QueueError::PhoneLimitReached { .. }) => Some("phone"),
            _ => None,
        }
    }
}

/// The refusal a form came back with, if `form` (a server function's `PATH`) is the one
/// refused. Read once: the page that shows it clears it.
#[server(prefix = "/api", endpoint = "returned-form")]
pub async fn take_returned_form(form: String) -> Result<Option<ReturnedForm>, AppError> {
    Ok(server::take(&form).await)
}

#[cfg(feature = "ssr")]
pub use server::{back_to, back_to_form, stay_on_page};

#[cfg(feature = "ssr")]
mod server {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    const COOKIE: &str = "qline_form";
    /// Long enough to follow the redirect on a slow phone.
    const MAX_AGE_SECONDS: u32 = 300;
    /// Per value: more than any field accepts, and the cookie stays well under 4 KB.
    const MAX_VALUE_CHARS: usize = 200;

    /// Passes `result` through. When it is a refusal of a plain form post (the browser
    /// asked for a page, not JSON), also sends the browser back where the form was, with
    /// the refusal and `values` for the page to show.
    pub async fn back_to_form<T>(
        form: &str,
        values: &[(&str, &str)],
        result: Result<T, AppError>,
    ) -> Result<T, AppError> {
        let Err(error) = &result else {
            return result;
        };
        let Some(headers) = plain_post().await else {
            return result;
        };
        let returned = ReturnedForm {
            form: form.to_owned(),
            error: RefusalWords::from(error),
            values: values
                .iter()
                .map(|(name, value)| {
                    let value: String = value.chars().take(MAX_VALUE_CHARS).collect();
                    ((*name).to_owned(), value)
                })
                .collect(),
        };
        let Ok(json) = serde_json::to_vec(&returned) else {
            return result;
        };
        super::super::set_cookie(&format!(
            "{COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={MAX_AGE_SECONDS}",
            URL_SAFE_NO_PAD.encode(json)
        ));
        leptos_axum::redirect(&same_site_path(&headers));
        result
    }

    /// A plain form post that was accepted and has nowhere else to go: back to the page
    /// it came from (exactly, without leftovers in its address).
    pub async fn stay_on_page() {
        if let Some(headers) = plain_post().await {
            leptos_axum::redirect(&same_site_path(&headers));
        }
    }

    /// A plain form post goes back to `path`, whatever its result: for pages that send no
    /// `Referer` (a tracker's address is the patient's secret).
    pub async fn back_to(path: &str) {
        if plain_post().await.is_some() {
            leptos_axum::redirect(path);
        }
    }

    /// The request's headers, if it is a plain form post: the browser asked for a page,
    /// not JSON (a post made by the bundle asks for JSON).
    async fn plain_post() -> Option<http::HeaderMap> {
        let headers = leptos_axum::extract::<http::HeaderMap>().await.ok()?;
        headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
            .then_some(headers)
    }

    /// The path (and query) of the page the form was on, from `Referer`: never another
    /// site's address, so a crafted post cannot redirect elsewhere.
    fn same_site_path(headers: &http::HeaderMap) -> String {
        let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let host = header(http::header::HOST).unwrap_or_default();
        header(http::header::REFERER)
            .and_then(|referer| referer.parse::<http::Uri>().ok())
            .filter(|uri| uri.authority().is_some_and(|a| a.as_str() == host))
            .and_then(|uri| uri.path_and_query().map(|p| p.as_str().to_owned()))
            .filter(|path| path.starts_with('/') && !path.starts_with("//"))
            .unwrap_or_else(|| "/".to_owned())
    }

    /// The returned form for `form` in this request's cookie, clearing the cookie.
    pub async fn take(form: &str) -> Option<ReturnedForm> {
        let headers = leptos_axum::extract::<http::HeaderMap>().await.ok()?;
        let value = super::super::cookie(&headers, COOKIE)?;
        let returned: ReturnedForm = URL_SAFE_NO_PAD
            .decode(value)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())?;
        if returned.form != form {
            return None;
        }
        super::super::set_cookie(&format!(
            "{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        ));
        Some(returned)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn headers(referer: &str, host: &str) -> http::HeaderMap {
            let mut h = http::HeaderMap::new();
            h.insert(http::header::REFERER, referer.parse().unwrap());
            h.insert(http::header::HOST, host.parse().unwrap());
            h
        }

        #[test]
        fn goes_back_to_the_page_on_this_site() {
            let h = headers("http://clinic.example/c/demo?lang=hi", "clinic.example");
            assert_eq!(same_site_path(&h), "/c/demo?lang=hi");
        }

        #[test]
        fn never_goes_to_another_site() {
            for referer in [
                "https://evil.example/c/demo",
                "https://clinic.example.evil.example/x",
                "//evil.example/x",
                "javascript:alert(1)",
            ] {
                let h = headers(referer, "clinic.example");
                assert_eq!(same_site_path(&h), "/", "{referer}");
            }
        }
    }
}
