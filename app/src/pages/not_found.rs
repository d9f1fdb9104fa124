//! The page for a link that leads nowhere, with a way back.

use super::frame::Frame;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <Title text="Page not found"/>
        <Frame>
            <section class="notice">
                <h1>"This page does not exist"</h1>
                <p>"The link may be mistyped or out of date. If you came from a clinic's QR code, please scan it again."</p>
                <p><a class="button" href="/">"Go to the Qline home page"</a></p>
            </section>
        </Frame>
    }
}

/// What the patient bundle shows for a page it does not carry (a staff screen reached by a
/// link): the browser loads that page whole, with the bundle that has it. Rendered while
/// hydrating (a page the server gave the patient bundle but no patient route matched) it
/// stays the not-found page.
#[component]
pub fn Elsewhere() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    if super::hydrated() {
        let location = leptos_router::hooks::use_location();
        let mut target = location.pathname.get_untracked();
        let search = location.search.get_untracked();
        if !search.is_empty() {
            target.push('?');
            target.push_str(&search);
        }
        target.push_str(&location.hash.get_untracked());
        if let Some(window) = web_sys::window() {
            let _ = window.location().assign(&target);
        }
    }
    view! { <NotFound/> }
}
