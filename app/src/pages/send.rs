//! Posting from the patient pages' islands (join, cancel, rate) with a plain `fetch`: the
//! same server functions and the same form fields a page posts without JavaScript, but
//! without the server-function client, whose decoding of every refusal the server can
//! make would triple the patient bundle's share of it. A refusal is read from the
//! `Qline-Message` and `Qline-Field` headers the server adds to it (docs/API.md).

use crate::api::{RefusalWords, INTERNAL_WORDS};
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use web_sys::{FormData, HtmlFormElement, UrlSearchParams};

/// What the page says when the post got no answer at all.
const NO_ANSWER: &str = "Could not reach the clinic's queue. Check your connection and try again.";

/// The server's answer to a post that was accepted, and where it sends the page next
/// (`Location`), if anywhere.
pub struct Accepted<T> {
    pub value: T,
    pub location: Option<String>,
}

/// Takes a form's submission over: posts its fields to `path` from the page (which stays),
/// with `pending` set meanwhile, and hands the answer to `answered`. Where the fields
/// cannot be read, the browser posts the form itself.
pub fn take_over<T, F>(
    event: &web_sys::Event,
    path: &'static str,
    pending: RwSignal<bool>,
    answered: F,
) where
    T: DeserializeOwned + 'static,
    F: FnOnce(Result<Accepted<T>, RefusalWords>) + 'static,
{
    let Some(fields) = fields_of(event) else {
        return;
    };
    event.prevent_default();
    dispatch(path, fields, pending, answered);
}

/// Posts `fields` to `path` in the background, with `pending` set meanwhile, and hands
/// the answer to `answered`.
pub fn dispatch<T, F>(
    path: &'static str,
    fields: UrlSearchParams,
    pending: RwSignal<bool>,
    answered: F,
) where
    T: DeserializeOwned + 'static,
    F: FnOnce(Result<Accepted<T>, RefusalWords>) + 'static,
{
    pending.set(true);
    leptos::task::spawn_local(async move {
        let answer = post::<T>(path, fields).await;
        pending.set(false);
        answered(answer);
    });
}

/// The fields of the form an event was submitted from, as a form post sends them.
fn fields_of(event: &web_sys::Event) -> Option<UrlSearchParams> {
    let form: HtmlFormElement = event.target()?.dyn_into().ok()?;
    let data = FormData::new_with_form(&form).ok()?;
    UrlSearchParams::new_with_str_sequence_sequence(&data).ok()
}

/// One field, for a post that has no form (the cancel button).
pub fn field(name: &str, value: &str) -> UrlSearchParams {
    let params = UrlSearchParams::new().expect("URLSearchParams is in every browser");
    params.append(name, value);
    params
}

/// Posts `fields` to `path` (a server function's `PATH`) and reads its JSON answer.
async fn post<T: DeserializeOwned>(
    path: &str,
    fields: UrlSearchParams,
) -> Result<Accepted<T>, RefusalWords> {
    let words = |message: &str| RefusalWords {
        message: message.to_owned(),
        field: None,
    };
    let response = gloo_net::http::Request::post(path)
        .header("Accept", "application/json")
        .body(fields)
        .map_err(|_| words(NO_ANSWER))?
        .send()
        .await
        .map_err(|_| words(NO_ANSWER))?;
    let headers = response.headers();
    if !response.ok() {
        let said = |name: &str| {
            headers
                .get(name)
                .and_then(|v| js_sys::decode_uri_component(&v).ok())
                .map(String::from)
        };
        return Err(RefusalWords {
            message: said("qline-message").unwrap_or_else(|| INTERNAL_WORDS.to_owned()),
            field: said("qline-field"),
        });
    }
    let value = response
        .json::<T>()
        .await
        .map_err(|_| words(INTERNAL_WORDS))?;
    Ok(Accepted {
        value,
        location: headers.get("location"),
    })
}
