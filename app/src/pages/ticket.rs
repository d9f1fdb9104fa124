//! A token's printed ticket (`/t/{public_id}/ticket`): an 80 mm receipt for a walk-in
//! without a smartphone, printed from the desk or the kiosk through the browser's print
//! dialog. The clinic, the token, the queue, when it was printed, the wait, a QR code of
//! the tracker and one of the clinic's WhatsApp link for updates. `?print=1` opens the
//! print dialog as soon as the page is ready.

use crate::api::{load_ticket, Ticket};
use crate::domain::Language;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn TicketPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = params.read_untracked().get("public_id").unwrap_or_default();
    let print_now = query.read_untracked().get("print").as_deref() == Some("1");
    let ticket = Resource::new(move || id.clone(), load_ticket);
    view! {
        <Title text="Ticket"/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match ticket.await {
                    Ok(t) => view! { <Slip ticket=t print_now/> }.into_any(),
                    Err(e) => view! { <main class="page page-narrow"><super::join::Problem error=e/></main> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The ticket's words in the token's language.
fn words(lang: Language) -> [&'static str; 5] {
    match lang {
        Language::En => [
            "Your token",
            "Ahead of you",
            "Scan to follow your turn live",
            "Scan for updates on WhatsApp",
            "Printed",
        ],
        Language::Hi => [
            "आपका टोकन",
            "आपसे पहले",
            "अपनी बारी लाइव देखने के लिए स्कैन करें",
            "WhatsApp पर अपडेट के लिए स्कैन करें",
            "छपा",
        ],
    }
}

#[component]
fn Slip(ticket: Ticket, print_now: bool) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    if print_now {
        Effect::new(move |_| {
            let _ = window().print();
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = print_now;
    let [your_token, ahead, follow, whatsapp, printed] = words(ticket.language);
    let (hours, minutes) = (
        crate::i18n::tr(ticket.language, crate::i18n::Text::Hours),
        crate::i18n::tr(ticket.language, crate::i18n::Text::Minutes),
    );
    let wait = ticket
        .eta
        .filter(|(_, high)| *high > 0)
        .map(|(low, high)| crate::domain::eta::humane_range(low, high, hours, minutes));
    view! {
        <main class="ticket" data-testid="ticket">
            <p class="no-print ticket-tools">
                <button class="button button-primary" type="button" on:click=move |_| { let _ = window().print(); }>"Print"</button>
                " 80 mm receipt paper."
            </p>
            <p class="ticket-clinic">{ticket.clinic_name}</p>
            <p class="ticket-caption">{your_token}</p>
            <p class="ticket-token" data-testid="ticket-token">{ticket.token}</p>
            <p class="ticket-queue">{ticket.queue_name}</p>
            <p class="ticket-wait" data-testid="ticket-wait">
                {format!("{ahead}: {}", ticket.ahead)}
                {wait.map(|w| format!(" · ~{w}"))}
            </p>
            <div class="ticket-qr" data-testid="ticket-qr" inner_html=ticket.qr_svg></div>
            <p class="ticket-hint">{follow}</p>
            <p class="ticket-url">{ticket.tracker_url}</p>
            {ticket.whatsapp.map(|(_, svg)| view! {
                <div class="ticket-whatsapp" data-testid="ticket-whatsapp">
                    <div class="ticket-qr-small" inner_html=svg></div>
                    <p class="ticket-hint">{whatsapp}</p>
                </div>
            })}
            <p class="ticket-time">{format!("{printed} {}", ticket.printed_at)}</p>
        </main>
    }
}
