//! The patient's tracker (`/t/{public_id}`): the token, how many are ahead, a wait range,
//! who is being served, and a clear word when it is their turn. Rendered on the server
//! (with JavaScript off it refreshes itself every 20 s); its card is an island that the
//! patient bundle hydrates and keeps live by polling `/api/t/{public_id}` (see `live`
//! below for the schedule).

use super::frame::Frame;
use super::join::{page_language, LanguageSwitch, Problem};
use crate::api::load_tracker;
use crate::domain::{eta::humane_range, Language};
use crate::i18n::{tr, Text};
use crate::tracker::{Phase, TrackerView};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn TrackerPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("public_id").unwrap_or_default();
    let initial = Resource::new(id, load_tracker);
    view! {
        <Frame>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match initial.await {
                        Ok(view) => {
                            let lang = page_language(query.read().get("lang"), &[view.language]);
                            view! {
                                <Title text=title(lang, &view)/>
                                <Tracker initial=view lang/>
                            }
                            .into_any()
                        }
                        Err(e) => view! { <Problem error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </Frame>
    }
}

/// The tab's words: the token and where it stands, with a bell when it is their turn
/// (a patient in another tab sees it there).
fn title(lang: Language, view: &TrackerView) -> String {
    let bell = if view.phase == Phase::YourTurn {
        "🔔 "
    } else {
        ""
    };
    format!(
        "{bell}{} · {}",
        view.token,
        tr(lang, phase_words(view.phase).0)
    )
}

fn phase_words(phase: Phase) -> (Text, Option<Text>) {
    match phase {
        Phase::Waiting => (Text::Waiting, Some(Text::KeepOpen)),
        Phase::YourTurn => (Text::YourTurn, Some(Text::YourTurnHelp)),
        Phase::Served => (Text::Served, Some(Text::ServedHelp)),
        Phase::Missed => (Text::Missed, Some(Text::MissedHelp)),
        Phase::Cancelled => (Text::Cancelled, Some(Text::CancelledHelp)),
        Phase::DayClosed => (Text::DayClosed, Some(Text::DayClosedHelp)),
    }
}

/// The live card: everything on the page that changes or takes a tap.
#[island]
fn Tracker(initial: TrackerView, lang: Language) -> impl IntoView {
    let state = RwSignal::new(initial.clone());
    let offline_for = RwSignal::new(None::<u32>);
    let moved_back = RwSignal::new(None::<u32>);
    #[cfg(feature = "hydrate")]
    {
        live::follow(state, offline_for, moved_back);
        // The join page offers a waiting token again to this device (`device`).
        Effect::new(move |_| {
            let view = state.read();
            let id = view.public_id.to_string();
            match view.phase {
                Phase::Waiting | Phase::YourTurn => super::device::remember(&view.clinic_slug, &id),
                _ => super::device::forget(&view.clinic_slug, &id),
            }
        });
        // The server wrote the first title; it follows the card from here.
        Effect::new(move |_| {
            let words = super::page_title(title(lang, &state.read()));
            if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
                if doc.title() != words {
                    doc.set_title(&words);
                }
            }
        });
    }

    let cancelling = RwSignal::new(false);
    let cancel_refused = RwSignal::new(None::<String>);
    let cancel = move |_| {
        cancel_refused.set(None);
        #[cfg(feature = "hydrate")]
        {
            use leptos::server_fn::ServerFn;
            let id = state.get_untracked().public_id.to_string();
            let fields = super::send::field("public_id", &id);
            super::send::dispatch(
                crate::api::CancelToken::PATH,
                fields,
                cancelling,
                move |answer| match answer {
                    Ok(cancelled) => state.set(cancelled.value),
                    Err(words) => cancel_refused.set(Some(words.message)),
                },
            );
        }
    };
    let confirming = RwSignal::new(false);
    // Progress is measured from where the patient stood when this page opened.
    let first_ahead = initial.ahead;
    let v = move || state.get();
    let base = format!("/t/{}", initial.public_id);
    let offered = vec![Language::En, Language::Hi];
    let card = view! {
        // Without JavaScript the page reloads itself; hydration never looks inside.
        <div inner_html=r#"<noscript><meta http-equiv="refresh" content="20"></noscript>"#></div>
        <section class="tracker" data-phase=move || format!("{:?}", v().phase)>
            <p class="eyebrow">{move || format!("{} · {}", v().clinic_name, v().queue_name)}</p>
            <LanguageSwitch base=base current=lang offered/>
            {move || v().notice.map(|n| view! { <p class="notice notice-error" role="alert">{n}</p> })}
            <div class="card token-card">
                <p class="token-caption">{tr(lang, Text::YourToken)}</p>
                <p class="token-number" data-testid="token">{move || v().token}</p>
                {move || v().moved_from.map(|from| view! { <p class="muted" data-testid="moved-from">{crate::i18n::moved_from(lang, &from)}</p> })}
                <p class="token-status" data-testid="status">{move || tr(lang, phase_words(v().phase).0)}</p>
                {move || match v().room {
                    Some(room) => view! { <p class="token-room" data-testid="room">{crate::i18n::go_to(lang, &room)}</p> }.into_any(),
                    None => phase_words(v().phase).1.map(|help| view! { <p class="muted">{tr(lang, help)}</p> }).into_any(),
                }}
            </div>
            {move || (v().phase == Phase::Waiting).then(|| view! {
                <div class="stats">
                    <div class="stat">
                        <span class="stat-value" data-testid="ahead">{v().ahead}</span>
                        <span class="stat-label">{if v().ahead == 0 { tr(lang, Text::AheadNone) } else { tr(lang, Text::Ahead) }}</span>
                    </div>
                    <div class="stat">
                        <span class="stat-value" data-testid="eta">{eta_words(lang, v().eta)}</span>
                        <span class="stat-label">{tr(lang, Text::EstimatedWait)}</span>
                    </div>
                </div>
            })}
            {move || (v().phase == Phase::Waiting && first_ahead > 0).then(|| {
                let done = first_ahead.saturating_sub(v().ahead);
                view! { <progress class="progress" max=first_ahead value=done data-testid="progress"></progress> }
            })}
            {move || moved_back.get().map(|n| view! { <p class="notice notice-warn" role="status" data-testid="shift">{format!("{} {n}.", tr(lang, Text::MovedBack))}</p> })}
            <p class="now-serving">
                {tr(lang, Text::NowServing)}": "
                <strong data-testid="now-serving">{move || v().now_serving.unwrap_or_else(|| tr(lang, Text::NobodyServing).to_owned())}</strong>
            </p>
            {move || v().whatsapp_link.map(|href| view! {
                <p class="whatsapp">
                    <a class="button button-whatsapp" href=href rel="external noopener" target="_blank" data-testid="whatsapp-opt-in">
                        {tr(lang, Text::WhatsAppUpdates)}
                    </a>
                </p>
            })}
            <Show when=move || state.with(|s| s.phase == Phase::Waiting)>
                <super::alerts::AlertSwitch public_id=initial.public_id.to_string() lang/>
            </Show>
            {move || offline_for.get().map(|s| view! {
                <p class="notice notice-warn" role="status" data-testid="reconnecting">
                    {format!("{} {s} {}", tr(lang, Text::Reconnecting), tr(lang, Text::SecondsAgo))}
                </p>
            })}
            {move || (v().phase == Phase::Waiting).then(|| view! {
                <div class="cancel">
                    <Show when=move || confirming.get() fallback=move || view! {
                        <button class="button" on:click=move |_| confirming.set(true)>{tr(lang, Text::CancelToken)}</button>
                    }>
                        <button class="button button-danger" disabled=move || cancelling.get() on:click=cancel>
                            {tr(lang, Text::ConfirmCancel)}
                        </button>
                    </Show>
                </div>
            })}
            {move || cancel_refused.get().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
            {move || (v().phase == Phase::Served).then(|| if v().rated {
                Either::Left(view! { <p class="notice" data-testid="rated">{tr(lang, Text::ThanksForRating)}</p> })
            } else {
                Either::Right(view! { <Rating state lang/> })
            })}
        </section>
    };
    // On the server, one type for the whole card keeps the page around it within the
    // compiler's depth limit; the browser hydrates the card alone and skips the erasure.
    #[cfg(feature = "ssr")]
    let card = card.into_any();
    card
}

/// Stars and a note, asked once after the patient has been seen. The form posts itself
/// with JavaScript and as a plain form without (the server brings the browser back).
#[component]
fn Rating(state: RwSignal<TrackerView>, lang: Language) -> impl IntoView {
    use leptos::server_fn::ServerFn;
    let sending = RwSignal::new(false);
    let refused = RwSignal::new(None::<String>);
    let submit = move |event: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        super::send::take_over(
            &event,
            crate::api::RateVisit::PATH,
            sending,
            move |answer| match answer {
                Ok(rated) => state.set(rated.value),
                Err(words) => refused.set(Some(words.message)),
            },
        );
        #[cfg(not(feature = "hydrate"))]
        let _ = event;
    };
    let public_id = state.get_untracked().public_id.to_string();
    view! {
        <form method="post" action=crate::api::RateVisit::PATH on:submit=submit>
            <div class="card form rating">
                <input type="hidden" name="public_id" value=public_id/>
                <fieldset class="stars">
                    <legend>{tr(lang, Text::RateVisit)}</legend>
                    {(1..=5u8).map(|n| view! {
                        <label class="star"><input type="radio" name="rating" value=n required/><span>{n}" ★"</span></label>
                    }).collect_view()}
                </fieldset>
                <label class="field">
                    <span>{tr(lang, Text::Feedback)}</span>
                    <textarea name="feedback" rows="3" maxlength="1000"></textarea>
                </label>
                {move || refused.get().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
                <button class="button button-primary" type="submit" disabled=move || sending.get()>{tr(lang, Text::SendRating)}</button>
            </div>
        </form>
    }
}

fn eta_words(lang: Language, eta: Option<(u32, u32)>) -> String {
    let (h, m) = (tr(lang, Text::Hours), tr(lang, Text::Minutes));
    match eta {
        Some((0, 0)) | None => "—".to_owned(),
        Some((low, high)) => humane_range(low, high, h, m),
    }
}

/// Keeping the tracker live in the browser.
///
/// Poll schedule: 2 s after a change; 3 s while the patient is next or being called;
/// otherwise, while nothing changes, 5 s doubling up to 30 s. After a failed poll the
/// page says "reconnecting, last update N s ago", keeps showing the last known state and
/// retries after 2, 4, 8… up to 30 s. While the tab is hidden nothing is fetched; when it
/// is shown again one poll goes out at once. Every poll sends the last ETag, so an
/// unchanged state costs a bodiless 304.
#[cfg(feature = "hydrate")]
mod live {
    use super::*;
    use crate::pages::polling::{get_json, hidden, now_ms, Poll};
    use futures::channel::mpsc;
    use futures::future::{select, Either};
    use futures::StreamExt;
    use gloo_timers::future::TimeoutFuture;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    pub fn delay_ms(view: &TrackerView, unchanged_polls: u32, failures: u32) -> u32 {
        if failures > 0 {
            return (1_000u32 << failures.min(5)).min(30_000);
        }
        let near_front = matches!(view.phase, Phase::YourTurn)
            || (view.phase == Phase::Waiting && view.ahead <= 1);
        match (near_front, unchanged_polls) {
            (true, _) => 3_000,
            (false, 0) => 2_000,
            (false, n) => (2_500u32 << n.min(4)).min(30_000),
        }
    }

    /// A buzz and a chime (the title's bell comes with the new state).
    fn announce_turn() {
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().vibrate_with_duration(600);
        }
        crate::pages::sound::chime();
    }

    pub fn follow(
        state: RwSignal<TrackerView>,
        offline_for: RwSignal<Option<u32>>,
        moved_back: RwSignal<Option<u32>>,
    ) {
        let alive = Arc::new(AtomicBool::new(true));
        let (wake, mut woken) = mpsc::unbounded::<()>();
        let document = web_sys::window().and_then(|w| w.document());
        let on_visibility = Closure::<dyn FnMut()>::new(move || {
            let _ = wake.unbounded_send(());
        });
        if let Some(doc) = &document {
            let _ = doc.add_event_listener_with_callback(
                "visibilitychange",
                on_visibility.as_ref().unchecked_ref(),
            );
        }
        let listener = send_wrapper::SendWrapper::new((document, on_visibility));
        let still_alive = alive.clone();
        on_cleanup(move || {
            still_alive.store(false, Ordering::Relaxed);
            let (document, on_visibility) = listener.take();
            if let Some(doc) = document {
                let _ = doc.remove_event_listener_with_callback(
                    "visibilitychange",
                    on_visibility.as_ref().unchecked_ref(),
                );
            }
        });

        let url = format!("/api/t/{}", state.get_untracked().public_id);
        leptos::task::spawn_local(async move {
            let mut etag: Option<String> = None;
            let mut unchanged = 0u32;
            let mut failures = 0u32;
            let mut last_ok = now_ms();
            // The first poll goes out as soon as the page is alive: on a slow phone the
            // bundle took seconds to load, and the queue may have moved meanwhile.
            let mut first = true;
            loop {
                let delay = if first {
                    0
                } else {
                    delay_ms(&state.get_untracked(), unchanged, failures)
                };
                first = false;
                if let Either::Right((None, _)) =
                    select(TimeoutFuture::new(delay), woken.next()).await
                {
                    return;
                }
                while hidden() {
                    if woken.next().await.is_none() {
                        return;
                    }
                }
                if !alive.load(Ordering::Relaxed) {
                    return;
                }
                match get_json::<TrackerView>(&url, etag.as_deref()).await {
                    Ok(Poll::Changed(next, tag)) => {
                        let before = state.get_untracked();
                        if before.phase == Phase::Waiting
                            && next.phase == Phase::Waiting
                            && next.ahead > before.ahead
                        {
                            moved_back.set(Some(next.ahead - before.ahead));
                        }
                        if before.phase != Phase::YourTurn && next.phase == Phase::YourTurn {
                            announce_turn();
                        }
                        state.set(next);
                        etag = tag;
                        unchanged = 0;
                        failures = 0;
                        last_ok = now_ms();
                        offline_for.set(None);
                    }
                    Ok(Poll::Unchanged) => {
                        unchanged += 1;
                        failures = 0;
                        last_ok = now_ms();
                        offline_for.set(None);
                    }
                    Err(()) => {
                        failures += 1;
                        offline_for.set(Some(((now_ms() - last_ok) / 1000.0).round() as u32));
                    }
                }
            }
        });
    }
}
