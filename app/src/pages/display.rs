//! The display board (`/c/{slug}/display`) for a TV in the waiting room: each queue's
//! number being served and the next few, readable across the room. Polls
//! `/api/display/{slug}` every 5 s and says "reconnecting" when the network drops.

use super::join::{page_language, LanguageSwitch, Problem};
use crate::api::load_board;
use crate::board::BoardView;
use crate::domain::Language;
use crate::i18n::{tr, Text};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn DisplayPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let initial = Resource::new(slug, load_board);
    view! {
        <main class="board-page">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match initial.await {
                        Ok(board) => {
                            let lang = page_language(query.read().get("lang"), &board.languages);
                            view! {
                                <Title text=format!("{} · display", board.clinic_name)/>
                                <Board initial=board lang/>
                            }
                            .into_any()
                        }
                        Err(e) => view! { <Problem error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

/// Whether the board speaks. Browsers play nothing until the page is touched, so a
/// board whose sound was on when it last ran asks for a tap to resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sound {
    Off,
    On,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    Resume,
}

/// The live board: an island the patient bundle hydrates and keeps polling. Each new
/// call flashes in the list of the last calls and, with sound on, is announced with a
/// chime and a voice in each of the board's languages.
#[island]
fn Board(initial: BoardView, lang: Language) -> impl IntoView {
    let state = RwSignal::new(initial.clone());
    let offline = RwSignal::new(false);
    let sound = RwSignal::new(Sound::Off);
    #[cfg(feature = "hydrate")]
    live::follow(state, offline, sound, lang);
    // Calls after this one arrived while the board was open: they flash.
    let opened_at = initial.calls.first().map_or(0, |c| c.at);
    let toggle = move |_| {
        let on = sound.get_untracked() != Sound::On;
        sound.set(if on { Sound::On } else { Sound::Off });
        #[cfg(feature = "hydrate")]
        live::remember_sound(on);
    };
    let b = move || state.get();
    view! {
        <div inner_html=r#"<noscript><meta http-equiv="refresh" content="15"></noscript>"#></div>
        <header class="board-head">
            <h1>{move || b().clinic_name}</h1>
            <button class="button board-sound" type="button" data-testid="board-sound"
                aria-pressed=move || (sound.get() == Sound::On).to_string() on:click=toggle>
                {move || tr(lang, match sound.get() {
                    Sound::On => Text::SoundOn,
                    Sound::Off => Text::SoundOff,
                    Sound::Resume => Text::SoundResume,
                })}
            </button>
            <LanguageSwitch base=format!("/c/{}/display", initial.slug) current=lang offered=initial.languages.clone()/>
        </header>
        {move || offline.get().then(|| view! {
            <p class="board-offline" role="status" data-testid="board-reconnecting">{tr(lang, Text::Reconnecting)}" …"</p>
        })}
        {move || b().notice.map(|n| view! { <p class="notice notice-error">{n}</p> })}
        <div class="board">
            {move || b().queues.into_iter().map(|q| view! {
                <section class="board-queue" data-testid="board-queue">
                    <h2>{q.name}</h2>
                    <p class="board-label">{tr(lang, Text::NowServing)}</p>
                    <p class="board-serving" data-testid="board-serving">{q.serving.unwrap_or_else(|| "—".into())}</p>
                    {q.serving_room.map(|room| view! { <p class="board-room" data-testid="board-room">{crate::i18n::go_to(lang, &room)}</p> })}
                    <p class="board-label">{tr(lang, Text::UpNext)}</p>
                    <p class="board-next">{if q.next.is_empty() { "—".to_owned() } else { q.next.join("  ·  ") }}</p>
                </section>
            }).collect_view()}
        </div>
        <section class="board-calls" aria-labelledby="board-calls-heading">
            <h2 id="board-calls-heading">{tr(lang, Text::LastCalls)}</h2>
            // Read out by screen readers as the voice reads it out to the room.
            <ol class="board-call-list" aria-live="polite" data-testid="board-calls">
                <For each=move || state.get().calls key=|c| (c.token.clone(), c.at) children=move |c| {
                    let class = if c.at > opened_at { "board-call board-call-new" } else { "board-call" };
                    view! {
                        <li class=class data-testid="board-call">
                            <span class="board-call-token">{c.token.clone()}</span>
                            <span class="board-call-arrow" aria-hidden="true">"→"</span>
                            <span class="board-call-place">{c.place().to_owned()}</span>
                        </li>
                    }
                }/>
            </ol>
        </section>
        <p class="board-foot">{tr(lang, Text::ScanToJoin)}</p>
    }
}

#[cfg(feature = "hydrate")]
mod live {
    use super::*;
    use crate::board::BoardCall;
    use crate::pages::device::storage;
    use crate::pages::polling::{get_json, hidden, Poll};
    use crate::pages::sound;
    use gloo_timers::future::TimeoutFuture;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    /// The most calls announced at once, after the board was offline a while: the
    /// newest, so the room is not read a backlog.
    const SPOKEN_AT_ONCE: usize = 3;

    const SOUND_KEY: &str = "qline-board-sound";

    pub fn remember_sound(on: bool) {
        if let Some(storage) = storage() {
            let _ = storage.set_item(SOUND_KEY, if on { "on" } else { "off" });
        }
        if on {
            sound::chime();
        }
    }

    /// Every 5 s while shown; after a failure, again after 5 s until it answers. Calls
    /// that arrived meanwhile are announced once it answers again.
    pub fn follow(
        state: RwSignal<BoardView>,
        offline: RwSignal<bool>,
        sound_state: RwSignal<Sound>,
        lang: Language,
    ) {
        // Sound that was on before asks for one tap anywhere to come back (once the
        // page is hydrated: hydration keeps the words the server wrote).
        Effect::new(move |_| {
            if storage()
                .and_then(|s| s.get_item(SOUND_KEY).ok().flatten())
                .as_deref()
                == Some("on")
            {
                sound_state.set(Sound::Resume);
            }
        });
        let resume = window_event_listener(leptos::ev::click, move |_| {
            if sound_state.get_untracked() == Sound::Resume {
                sound_state.set(Sound::On);
                sound::chime();
            }
        });
        on_cleanup(move || resume.remove());
        let alive = Arc::new(AtomicBool::new(true));
        let still_alive = alive.clone();
        on_cleanup(move || still_alive.store(false, Ordering::Relaxed));
        let url = format!("/api/display/{}", state.get_untracked().slug);
        leptos::task::spawn_local(async move {
            let mut etag: Option<String> = None;
            let mut announced_to = state.with_untracked(|b| b.calls.first().map_or(0, |c| c.at));
            while alive.load(Ordering::Relaxed) {
                TimeoutFuture::new(5_000).await;
                if hidden() || !alive.load(Ordering::Relaxed) {
                    continue;
                }
                match get_json::<BoardView>(&url, etag.as_deref()).await {
                    Ok(Poll::Changed(board, tag)) => {
                        let fresh: Vec<BoardCall> = board
                            .calls
                            .iter()
                            .filter(|c| c.at > announced_to)
                            .take(SPOKEN_AT_ONCE)
                            .cloned()
                            .collect();
                        announced_to = board
                            .calls
                            .first()
                            .map_or(announced_to, |c| c.at.max(announced_to));
                        if sound_state.get_untracked() == Sound::On && !fresh.is_empty() {
                            announce(&fresh, lang, &board.languages);
                        }
                        state.set(board);
                        etag = tag;
                        offline.set(false);
                    }
                    Ok(Poll::Unchanged) => offline.set(false),
                    Err(()) => offline.set(true),
                }
            }
        });
    }

    /// A chime, then each call (oldest first) in the page's language and then in the
    /// board's other languages.
    fn announce(calls: &[BoardCall], lang: Language, languages: &[Language]) {
        sound::chime();
        let mut spoken = vec![lang];
        spoken.extend(languages.iter().copied().filter(|&l| l != lang));
        for call in calls.iter().rev() {
            for &l in &spoken {
                sound::speak(&crate::i18n::announcement(l, &call.token, call.place()), l);
            }
        }
    }
}
