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
