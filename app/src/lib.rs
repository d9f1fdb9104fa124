//! Qline's application crate: the pages (rendered on the server, hydrated in the browser),
//! the domain types both sides share, and, with the `ssr` feature, the queue engine,
//! the tenant service and the storage layer that only the server runs.

pub mod analytics;
pub mod api;
pub mod board;
pub mod console;
pub mod desk;
pub mod domain;
pub mod i18n;
pub mod messages;
pub mod outbox;
pub mod pages;
pub mod queue;
pub mod tracker;
pub mod whatsapp;

#[cfg(feature = "ssr")]
pub mod messaging;
#[cfg(feature = "ssr")]
pub mod storage;
#[cfg(feature = "ssr")]
pub mod tenant;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The HTML document around every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    send_content_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="theme-color" content="#0f766e"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HashedStylesheet options=options.clone() id="qline"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// What a page may load and run: its own files, the inline bootstrap that carries this
/// response's nonce, and the WebAssembly it instantiates. Nothing from other sites, no
/// plugins, no framing, forms that post only here.
pub fn content_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; worker-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the page's `Content-Security-Policy` with the nonce Leptos gave this response's
/// inline scripts (the hydration bootstrap and streamed resources).
#[cfg(feature = "ssr")]
fn send_content_policy() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = http::HeaderValue::from_str(&content_policy(&nonce)) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|page: String| if page.is_empty() { "Qline".to_owned() } else { format!("{page} · Qline") }/>
        <Router>
            <Routes fallback=pages::NotFound>
                <Route path=path!("/") view=pages::Home/>
                <Route path=path!("/login") view=pages::LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/desk") view=pages::DeskPage ssr=SsrMode::Async/>
                <Route path=path!("/account") view=pages::AccountPage ssr=SsrMode::Async/>
                <Route path=path!("/clinic") view=pages::ClinicPage ssr=SsrMode::Async/>
                <Route path=path!("/clinic/poster") view=pages::PosterPage ssr=SsrMode::Async/>
                <Route path=path!("/clinic/analytics") view=pages::AnalyticsPage ssr=SsrMode::Async/>
                <Route path=path!("/admin") view=pages::AdminPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/audit") view=pages::AuditPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/c/:slug") view=pages::AdminClinicPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/c/:slug/analytics") view=pages::AdminAnalyticsPage ssr=SsrMode::Async/>
                <Route path=path!("/c/:slug") view=pages::JoinPageView ssr=SsrMode::Async/>
                <Route path=path!("/c/:slug/display") view=pages::DisplayPage ssr=SsrMode::Async/>
                <Route path=path!("/t/:public_id") view=pages::TrackerPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}

/// The browser's entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    leptos::mount::hydrate_body(App);
    // Marks the page as interactive, for people's scripts and the end-to-end tests.
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = body.set_attribute("data-hydrated", "");
    }
}
