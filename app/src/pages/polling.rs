//! Conditional JSON polling from the browser: send the last ETag, get `Unchanged` for a
//! bodiless 304 or the new value and its tag. Shared by the tracker and the display board.

use serde::de::DeserializeOwned;

pub enum Poll<T> {
    Changed(T, Option<String>),
    Unchanged,
}

/// One conditional GET. `Err` means no usable answer (network down, server error).
pub async fn get_json<T: DeserializeOwned>(url: &str, etag: Option<&str>) -> Result<Poll<T>, ()> {
    let mut request = gloo_net::http::Request::get(url);
    if let Some(tag) = etag {
        request = request.header("If-None-Match", tag);
    }
    let response = request.send().await.map_err(drop)?;
    match response.status() {
        304 => Ok(Poll::Unchanged),
        200 => {
            let tag = response.headers().get("etag");
            let value = response.json::<T>().await.map_err(drop)?;
            Ok(Poll::Changed(value, tag))
        }
        _ => Err(()),
    }
}

/// Whether the page is in a background tab (nothing needs fetching then).
pub fn hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

pub fn now_ms() -> f64 {
    js_sys::Date::now()
}
