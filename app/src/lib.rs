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

use leptos::children::ToChildren;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, RouteChildren, Router, Routes, RoutesProps};
use leptos_router::MatchNestedRoutes;
use leptos_router::{path, SsrMode};

/// The HTML document around every page.
///
/// A patient's pages (see [`for_patients`]) are rendered by [`PatientApp`] and load the
/// patient bundle (`patient.*.js` and `.wasm`, named in `hash-patient.txt` beside the
/// binary); every other page is rendered by [`App`] and loads the full bundle.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let patient = use_context::<http::request::Parts>().is_some_and(|r| for_patients(r.uri.path()));
    #[cfg(not(feature = "ssr"))]
    let patient = false;
    let (site, bundle) = if patient {
        (view! { <PatientApp/> }.into_any(), patient_bundle(&options))
    } else {
        (view! { <App/> }.into_any(), options.clone())
    };
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
                <HydrationScripts options=bundle islands=patient/>
                <MetaTags/>
            </head>
            <body>
                {site}
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

/// Every screen: staff and patients alike. Hydrated by the full bundle (`qline.*`).
#[component]
pub fn App() -> impl IntoView {
    let staff = view! {
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
        <Route path=path!("/c/:slug/kiosk") view=pages::KioskPage ssr=SsrMode::Async/>
        <Route path=path!("/t/:public_id/ticket") view=pages::TicketPage ssr=SsrMode::Async/>
    }
    .into_inner();
    site((patient_routes(), staff), pages::NotFound)
}

/// The pages a patient opens from a QR code or a message (the front page, a clinic's join
/// page, its waiting-room display and the tracker). They are rendered on the server and
/// only their live parts, the `#[island]` components (the join form, the tracker's card,
/// the board), are hydrated in the browser, by the small patient bundle (`patient.*`)
/// that carries neither the router nor any staff screen. A link from here to any other
/// page loads that page whole, with the full bundle.
#[component]
pub fn PatientApp() -> impl IntoView {
    site(patient_routes(), pages::NotFound)
}

fn patient_routes() -> impl MatchNestedRoutes + Clone + Send + 'static {
    view! {
        <Route path=path!("/") view=pages::Home/>
        <Route path=path!("/c/:slug") view=pages::JoinPageView ssr=SsrMode::Async/>
        <Route path=path!("/c/:slug/display") view=pages::DisplayPage ssr=SsrMode::Async/>
        <Route path=path!("/c/:slug/find") view=pages::FindTokenPage ssr=SsrMode::Async/>
        <Route path=path!("/t/:public_id") view=pages::TrackerPage ssr=SsrMode::Async/>
    }
    .into_inner()
}

/// Whether `path` is one of [`PatientApp`]'s pages: `/`, `/c/{slug}`, `/c/{slug}/display`,
/// `/c/{slug}/find` or `/t/{id}` (a trailing slash allowed, as the router allows it).
pub fn for_patients(path: &str) -> bool {
    let path = path.strip_suffix('/').unwrap_or(path);
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    match segments.as_slice() {
        [] => true,
        ["c", slug] | ["c", slug, "display" | "find"] | ["t", slug] => !slug.is_empty(),
        _ => false,
    }
}

/// The options that name the patient bundle to [`HydrationScripts`]: its own output name
/// and hash file, the same folder.
fn patient_bundle(options: &LeptosOptions) -> LeptosOptions {
    let mut bundle = options.clone();
    bundle.output_name = std::sync::Arc::from(PATIENT_BUNDLE);
    bundle.hash_file = std::sync::Arc::from(PATIENT_HASH_FILE);
    bundle
}

/// The patient bundle's file name stem under the site's `pkg` folder.
pub const PATIENT_BUNDLE: &str = "patient";
/// Beside the `qline` binary: the patient bundle's content hashes (`js:` and `wasm:` lines).
pub const PATIENT_HASH_FILE: &str = "hash-patient.txt";

/// The document's routes under one router, titled alike.
fn site<Defs, Fallback, View>(routes: Defs, fallback: Fallback) -> impl IntoView
where
    Defs: MatchNestedRoutes + Clone + Send + 'static,
    Fallback: FnOnce() -> View + Clone + Send + 'static,
    View: IntoView + 'static,
{
    provide_meta_context();
    view! {
        <Title formatter=pages::page_title/>
        <Router>
            {Routes(
                RoutesProps::builder()
                    .fallback(fallback)
                    .children(RouteChildren::to_children(move || routes))
                    .build(),
            )}
        </Router>
    }
}

/// The full bundle's entry point: hydrates any server-rendered page.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    leptos::mount::hydrate_body(App);
    pages::mark_hydrated();
}

/// The patient bundle's entry point, run before Leptos hydrates the islands of a page
/// [`PatientApp`] rendered. The islands post with a plain `fetch` (`pages::send`), not the
/// server-function client, and a form that succeeds (joining a queue) opens the page the
/// server names with a full page load.
#[cfg(feature = "hydrate")]
pub fn hydrate_patient() {
    leptos::mount::hydrate_islands();
    pages::mark_hydrated();
}

#[cfg(test)]
mod tests {
    use super::for_patients;

    #[test]
    fn patient_pages_are_the_front_page_join_display_find_and_tracker() {
        for path in [
            "/",
            "/c/demo",
            "/c/demo/",
            "/c/demo/display",
            "/c/demo/find",
            "/t/abcDEF123",
        ] {
            assert!(for_patients(path), "{path}");
        }
        for path in [
            "/login",
            "/desk",
            "/clinic",
            "/admin/c/demo",
            "/c/",
            "/c//display",
            "/c/demo/poster",
            "/c/demo/kiosk",
            "/t/abcDEF123/ticket",
            "/t/",
            "/t/a/b",
            "/pkg/patient.js",
        ] {
            assert!(!for_patients(path), "{path}");
        }
    }
}
