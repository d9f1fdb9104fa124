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

/// The live board: an island the patient bundle hydrates and keeps polling.
#[island]
fn Board(initial: BoardView, lang: Language) -> impl IntoView {
    let state = RwSignal::new(initial.clone());
    let offline = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    live::follow(state, offline);
    let b = move || state.get();
    view! {
        <div inner_html=r#"<noscript><meta http-equiv="refresh" content="15"></noscript>"#></div>
        <header class="board-head">
            <h1>{move || b().clinic_name}</h1>
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
                    <p class="board-label">{tr(lang, Text::UpNext)}</p>
                    <p class="board-next">{if q.next.is_empty() { "—".to_owned() } else { q.next.join("  ·  ") }}</p>
                </section>
            }).collect_view()}
        </div>
        <p class="board-foot">{tr(lang, Text::ScanToJoin)}</p>
    }
}

#[cfg(feature = "hydrate")]
mod live {
    use super::*;
    use crate::pages::polling::{get_json, hidden, Poll};
    use gloo_timers::future::TimeoutFuture;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    /// Every 5 s while shown; after a failure, again after 5 s until it answers.
    pub fn follow(state: RwSignal<BoardView>, offline: RwSignal<bool>) {
        let alive = Arc::new(AtomicBool::new(true));
        let still_alive = alive.clone();
        on_cleanup(move || still_alive.store(false, Ordering::Relaxed));
        let url = format!("/api/display/{}", state.get_untracked().slug);
        leptos::task::spawn_local(async move {
            let mut etag: Option<String> = None;
            while alive.load(Ordering::Relaxed) {
                TimeoutFuture::new(5_000).await;
                if hidden() || !alive.load(Ordering::Relaxed) {
                    continue;
                }
                match get_json::<BoardView>(&url, etag.as_deref()).await {
                    Ok(Poll::Changed(board, tag)) => {
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
}
