//! The printable A4 poster (`/clinic/poster`): the clinic's name, a large QR code of its
//! join page and three steps in each of its languages. Printed from the browser.

use super::clinic::SignInOrProblem;
use crate::api::load_poster;
use crate::console::Poster;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn PosterPage() -> impl IntoView {
    let query = use_query_map();
    let slug = query.read_untracked().get("slug");
    let poster = Resource::new(|| (), move |_| load_poster(slug.clone()));
    view! {
        <Title text="QR poster"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match poster.await {
                    Ok(p) => view! { <Sheet poster=p/> }.into_any(),
                    Err(e) => {
                        refused_status(&e);
                        view! { <main class="page page-narrow"><SignInOrProblem error=e/></main> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// A poster refused for the address the page was opened at (its Host header) answers 400,
/// like the poster's endpoint: the request, not the server, is at fault.
fn refused_status(error: &crate::api::AppError) {
    #[cfg(feature = "ssr")]
    if let (
        crate::api::AppError::Console(crate::console::ConsoleError::Invalid(_)),
        Some(response),
    ) = (error, use_context::<leptos_axum::ResponseOptions>())
    {
        response.set_status(error.status());
    }
    #[cfg(not(feature = "ssr"))]
    let _ = error;
}

#[component]
fn Sheet(poster: Poster) -> impl IntoView {
    view! {
        <main class="poster" data-testid="poster">
            <p class="no-print poster-tools">
                <button class="button button-primary" type="button" on:click=move |_| { let _ = window().print(); }>"Print"</button>
                " A4, portrait. "
            </p>
            <h1 class="poster-clinic">{poster.clinic_name}</h1>
            <div class="poster-qr" data-testid="poster-qr" inner_html=poster.qr_svg></div>
            <p class="poster-url">{poster.join_url}</p>
            {poster.whatsapp_join.map(|(link, svg)| view! {
                <div class="poster-whatsapp" data-testid="poster-whatsapp">
                    <div class="poster-qr-small" inner_html=svg></div>
                    <p>"Or join on WhatsApp: scan, send the message, and reply with your name."<br/>
                       <span class="small">{link}</span></p>
                </div>
            })}
            <div class="poster-steps">
                {poster.instructions.into_iter().map(|(heading, steps)| view! {
                    <section>
                        <h2>{heading}</h2>
                        <ol>{steps.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}</ol>
                    </section>
                }).collect_view()}
            </div>
            <p class="poster-brand">"Qline"</p>
        </main>
    }
}
