//! The tracker's "alert me" switch: web push for "you are next", "your turn" and "missed",
//! even with the tab in the background or closed. It shows only where the browser can do
//! it (it appears after hydration); the service worker (`public/sw.js`) shows the
//! notifications. A browser keeps one push subscription; which tokens it alerts for is
//! the server's list, and this browser's note of it (local storage) marks the switch on.

use crate::domain::Language;
use crate::i18n::{tr, Text};
use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Alerts {
    /// No service worker, push or notifications here (or not hydrated yet).
    Unsupported,
    Off,
    Working,
    Stopping,
    On,
    Denied,
    Failed,
}

#[component]
pub fn AlertSwitch(public_id: String, lang: Language) -> impl IntoView {
    let state = RwSignal::new(Alerts::Unsupported);
    #[cfg(feature = "hydrate")]
    {
        let id = public_id.clone();
        Effect::new(move |_| browser::check(state, id.clone()));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = public_id;
    let toggle = move |_| {
        #[cfg(feature = "hydrate")]
        browser::toggle(state, public_id.clone());
    };
    let words = move || match state.get() {
        Alerts::On => (Text::AlertsOn, Some(Text::AlertsOnHelp)),
        Alerts::Working => (Text::AlertsWorking, None),
        Alerts::Stopping => (Text::AlertsStopping, None),
        Alerts::Denied => (Text::AlertsOff, Some(Text::AlertsDenied)),
        Alerts::Failed => (Text::AlertsOff, Some(Text::AlertsFailed)),
        Alerts::Off | Alerts::Unsupported => (Text::AlertsOff, Some(Text::AlertsOffHelp)),
    };
    view! {
        <Show when=move || state.get() != Alerts::Unsupported>
            <p class="alerts">
                <button class="button" data-testid="alerts"
                    aria-pressed=move || (state.get() == Alerts::On).to_string()
                    disabled=move || matches!(state.get(), Alerts::Working | Alerts::Stopping | Alerts::Denied)
                    on:click=toggle.clone()>
                    {move || tr(lang, words().0)}
                </button>
                {move || words().1.map(|help| view! { <span class="muted small" data-testid="alerts-help">{tr(lang, help)}</span> })}
            </p>
        </Show>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::Alerts;
    use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    fn get(target: &JsValue, key: &str) -> Option<JsValue> {
        Reflect::get(target, &JsValue::from_str(key))
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    }

    /// Calls `target.method(...args)` and awaits it when it answers a promise.
    async fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
        let function: Function = get(target, method)
            .ok_or_else(|| JsValue::from_str(method))?
            .dyn_into()?;
        let answer = function.apply(target, &args.iter().collect::<Array>())?;
        match answer.dyn_into::<Promise>() {
            Ok(promise) => JsFuture::from(promise).await,
            Err(value) => Ok(value),
        }
    }

    fn window() -> JsValue {
        web_sys::window()
            .map(JsValue::from)
            .unwrap_or(JsValue::UNDEFINED)
    }

    fn workers() -> Option<JsValue> {
        get(&get(&window(), "navigator")?, "serviceWorker")
    }

    fn permission() -> String {
        get(&window(), "Notification")
            .and_then(|n| get(&n, "permission"))
            .and_then(|p| p.as_string())
            .unwrap_or_default()
    }

    fn storage_key(public_id: &str) -> String {
        format!("qline-alerts-{public_id}")
    }

    fn remembered(public_id: &str) -> bool {
        web_sys::window()
            .and_then(|w| w.local_storage().ok().flatten())
            .and_then(|s| s.get_item(&storage_key(public_id)).ok().flatten())
            .is_some()
    }

    fn remember(public_id: &str, on: bool) {
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = if on {
                storage.set_item(&storage_key(public_id), "on")
            } else {
                storage.remove_item(&storage_key(public_id))
            };
        }
    }

    /// Where the switch starts: hidden without support, blocked, on or off.
    pub fn check(state: RwSignal<Alerts>, public_id: String) {
        let w = window();
        if workers().is_none()
            || get(&w, "PushManager").is_none()
            || get(&w, "Notification").is_none()
        {
            return;
        }
        state.set(match permission().as_str() {
            "denied" => Alerts::Denied,
            "granted" if remembered(&public_id) => Alerts::On,
            _ => Alerts::Off,
        });
    }

    pub fn toggle(state: RwSignal<Alerts>, public_id: String) {
        let on = state.get_untracked() == Alerts::On;
        state.set(if on {
            Alerts::Stopping
        } else {
            Alerts::Working
        });
        leptos::task::spawn_local(async move {
            // A switch-off that did not get through leaves the alerts on.
            let next = if on {
                switch_off(&public_id).await.unwrap_or(Alerts::On)
            } else {
                switch_on(&public_id).await.unwrap_or(Alerts::Failed)
            };
            state.set(next);
        });
    }

    #[derive(serde::Deserialize)]
    struct Key {
        key: String,
    }

    /// The VAPID key as the bytes `PushManager.subscribe` wants.
    async fn server_key() -> Option<Uint8Array> {
        let answer = gloo_net::http::Request::get("/api/push/key")
            .send()
            .await
            .ok()?;
        let key: Key = answer.json().await.ok()?;
        let text = key.key.replace('-', "+").replace('_', "/");
        let padded = format!("{text}{}", "=".repeat((4 - text.len() % 4) % 4));
        let raw = web_sys::window()?.atob(&padded).ok()?;
        let bytes: Vec<u8> = raw.chars().map(|c| c as u8).collect();
        Some(Uint8Array::from(bytes.as_slice()))
    }

    async fn subscription() -> Result<JsValue, JsValue> {
        let workers = workers().ok_or_else(|| JsValue::from_str("serviceWorker"))?;
        call(&workers, "register", &[JsValue::from_str("/sw.js")]).await?;
        let ready: Promise = get(&workers, "ready")
            .ok_or_else(|| JsValue::from_str("ready"))?
            .dyn_into()?;
        let registration = JsFuture::from(ready).await?;
        let manager =
            get(&registration, "pushManager").ok_or_else(|| JsValue::from_str("pushManager"))?;
        let existing = call(&manager, "getSubscription", &[]).await?;
        if get(&existing, "endpoint").is_some() {
            return Ok(existing);
        }
        let key = server_key().await.ok_or_else(|| JsValue::from_str("key"))?;
        let options = Object::new();
        Reflect::set(&options, &"userVisibleOnly".into(), &JsValue::TRUE)?;
        Reflect::set(&options, &"applicationServerKey".into(), &key)?;
        call(&manager, "subscribe", &[options.into()]).await
    }

    /// Sends JSON to the token's alerts endpoint; the answer's status.
    async fn alerts_request(method: &str, public_id: &str, body: String) -> Option<u16> {
        let url = format!("/api/t/{public_id}/alerts");
        let request = match method {
            "DELETE" => gloo_net::http::Request::delete(&url),
            _ => gloo_net::http::Request::post(&url),
        };
        let answer = request
            .header("content-type", "application/json")
            .body(body)
            .ok()?
            .send()
            .await
            .ok()?;
        Some(answer.status())
    }

    async fn switch_on(public_id: &str) -> Option<Alerts> {
        let notification = get(&window(), "Notification")?;
        let answer = call(&notification, "requestPermission", &[]).await.ok()?;
        if answer.as_string().as_deref() != Some("granted") {
            return Some(Alerts::Denied);
        }
        let subscription = subscription().await.ok()?;
        let body = js_sys::JSON::stringify(&call(&subscription, "toJSON", &[]).await.ok()?)
            .ok()?
            .as_string()?;
        if alerts_request("POST", public_id, body).await? != 201 {
            return Some(Alerts::Failed);
        }
        remember(public_id, true);
        Some(Alerts::On)
    }

    async fn switch_off(public_id: &str) -> Option<Alerts> {
        let workers = workers()?;
        let registration = call(&workers, "getRegistration", &[JsValue::from_str("/")])
            .await
            .ok()?;
        let manager = get(&registration, "pushManager")?;
        let subscription = call(&manager, "getSubscription", &[]).await.ok()?;
        let endpoint = get(&subscription, "endpoint")?.as_string()?;
        let named = Object::new();
        Reflect::set(&named, &"endpoint".into(), &JsValue::from_str(&endpoint)).ok()?;
        let body = js_sys::JSON::stringify(&named).ok()?.as_string()?;
        alerts_request("DELETE", public_id, body).await?;
        remember(public_id, false);
        Some(Alerts::Off)
    }
}
