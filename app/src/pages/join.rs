//! The join page (`/c/{slug}`), the QR code's target: pick a queue when there are
//! several, type a name and a mobile number, choose a language, get a token, and land on
//! the tracker. Works on a small phone, and without JavaScript (a plain form post).

use super::form::{returned_to, FieldError, FormError, Refusal};
use super::frame::Frame;
use crate::api::{load_join_page, AppError, JoinInfo, JoinQueue, QueueHours, ReturnedForm};
use crate::domain::Language;
use crate::i18n::{tr, Text};
use leptos::either::Either;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// The page's language: `?lang=` when given, else the clinic's first language.
pub fn page_language(query: Option<String>, offered: &[Language]) -> Language {
    query
        .as_deref()
        .and_then(Language::from_stored)
        .or_else(|| offered.first().copied())
        .unwrap_or(Language::En)
}

#[component]
pub fn JoinPageView() -> impl IntoView {
    view! {
        <ClinicPage form=JoinQueue::PATH page=|p: JoinInfo, lang, back| view! {
            <Title text=p.clinic_name.clone()/>
            <p class="find-link"><a href=format!("/c/{}/find?lang={}", p.slug, lang.as_str()) rel="external">{tr(lang, Text::LostLink)}</a></p>
            <OpeningHours hours=p.hours.clone() lang/>
            <JoinForm page=p lang back/>
        }.into_any()/>
    }
}

/// A public page about one clinic (`/c/{slug}/…`): the clinic as the join page reads
/// it, the page's language (`?lang=`), and what a refused plain post of `form` brought
/// back, handed to `page`.
#[component]
pub fn ClinicPage<F>(form: &'static str, page: F) -> impl IntoView
where
    F: Fn(JoinInfo, Language, Option<ReturnedForm>) -> AnyView + Copy + Send + Sync + 'static,
{
    let params = use_params_map();
    let query = use_query_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let info = Resource::new(slug, load_join_page);
    let returned = returned_to(form);
    view! {
        <Frame>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match info.await {
                        Ok(p) => {
                            let lang = page_language(query.read().get("lang"), &p.languages);
                            let back = returned.await.ok().flatten();
                            page(p, lang, back)
                        }
                        Err(e) => view! { <Problem error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </Frame>
    }
}

/// The opening hours of the queues that have them: open or closed now (and when it
/// opens again), the week, and the closed dates coming up. Server-rendered only.
#[component]
fn OpeningHours(hours: Vec<QueueHours>, lang: Language) -> AnyView {
    use crate::domain::hours::{clock_words, HINDI_WEEKDAYS, WEEKDAYS};
    use crate::domain::Opening;
    use chrono::Datelike;
    let hindi = lang == Language::Hi;
    let spans_words = move |spans: &[crate::domain::hours::Span]| {
        if spans.is_empty() {
            return tr(lang, Text::ClosedAllDay).to_owned();
        }
        let spans: Vec<String> = spans
            .iter()
            .map(|s| format!("{} – {}", clock_words(s.open), clock_words(s.close)))
            .collect();
        spans.join(", ")
    };
    let queue = move |q: QueueHours| {
        let now = match q.opening {
            Opening::Open { until: Some(until) } => {
                format!("{} {}", tr(lang, Text::OpenUntil), clock_words(until))
            }
            Opening::Open { until: None } => String::new(),
            Opening::Closed { next: Some(next) } => {
                let when = if hindi {
                    next.hindi_words()
                } else {
                    next.words()
                };
                format!("{} {when}.", tr(lang, Text::OpensAgain))
            }
            Opening::Closed { next: None } => tr(lang, Text::ClosedNow).to_owned(),
        };
        let closed = matches!(q.opening, Opening::Closed { .. });
        let has_week = q.hours.week.iter().any(|d| !d.is_empty());
        let names = if hindi { HINDI_WEEKDAYS } else { WEEKDAYS };
        let week = has_week.then(|| {
            names
                .iter()
                .zip(q.hours.week.iter())
                .map(|(day, spans)| view! { <tr><th scope="row">{*day}</th><td>{spans_words(spans)}</td></tr> })
                .collect_view()
        });
        let closed_soon: Vec<String> = q
            .closed_soon
            .iter()
            .map(|d| format!("{}/{}", d.date().day(), d.date().month()))
            .collect();
        view! {
            <li data-testid="queue-hours">
                <strong>{q.queue}</strong>" "
                <span class=if closed { "hours-now hours-closed" } else { "hours-now" } role="status">{now}</span>
                {week.map(|rows| view! {
                    <details>
                        <summary>{tr(lang, Text::ThisWeek)}</summary>
                        <table class="hours-week"><tbody>{rows}</tbody></table>
                    </details>
                })}
                {(!closed_soon.is_empty()).then(|| view! {
                    <p class="muted small">{tr(lang, Text::ClosedAllDay)}": "{closed_soon.join(", ")}</p>
                })}
            </li>
        }
        .into_any()
    };
    (!hours.is_empty())
        .then(|| {
            view! {
                <section class="card opening-hours" aria-labelledby="opening-hours">
                    <h2 id="opening-hours">{tr(lang, Text::OpeningHours)}</h2>
                    <ul class="plain-list">{hours.into_iter().map(queue).collect_view()}</ul>
                </section>
            }
        })
        .into_any()
}

/// A page-sized explanation of why there is nothing to show.
#[component]
pub fn Problem(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        use crate::queue::QueueError::{UnknownClinic, UnknownQueue, UnknownToken};
        let status = match &error {
            AppError::Refused(UnknownClinic | UnknownQueue | UnknownToken) => {
                Some(http::StatusCode::NOT_FOUND)
            }
            AppError::Internal => Some(http::StatusCode::INTERNAL_SERVER_ERROR),
            AppError::Unavailable => Some(http::StatusCode::SERVICE_UNAVAILABLE),
            _ => None,
        };
        if let (Some(status), Some(response)) =
            (status, use_context::<leptos_axum::ResponseOptions>())
        {
            response.set_status(status);
        }
    }
    view! {
        <Title text="Not available"/>
        <section class="notice notice-error" role="alert">
            <h1>"Sorry"</h1>
            <p>{error.to_string()}</p>
        </section>
    }
}

/// The form: an island, so a patient's phone gets its checks and "Joining…" without the
/// rest of the page in WebAssembly.
#[island]
fn JoinForm(page: JoinInfo, lang: Language, back: Option<ReturnedForm>) -> impl IntoView {
    let typed = |field: &str| back.as_ref().and_then(|b| b.value(field));
    let (name, phone) = (typed("name"), typed("phone"));
    let chosen_queue = typed("queue_id").and_then(|q| q.parse::<i64>().ok());
    let chosen_language = typed("language")
        .and_then(|l| Language::from_stored(&l))
        .unwrap_or(lang);
    let refused = RwSignal::new(back.map(|b| b.error));
    let refusal = Refusal::kept(refused);
    let joining = RwSignal::new(false);
    // With JavaScript the island posts the form itself and, once joined, opens the
    // tracker the server names; without, the browser posts it and follows the 302.
    let submit = move |event: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        super::send::take_over::<String, _>(&event, JoinQueue::PATH, joining, move |answer| {
            match answer {
                Ok(joined) => {
                    joining.set(true);
                    let to = joined
                        .location
                        .unwrap_or_else(|| format!("/t/{}", joined.value));
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().set_href(&to);
                    }
                }
                Err(words) => refused.set(Some(words)),
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (event, joining);
    };
    // A token this device took here today and that still waits: offered again, for a
    // patient whose tab (or QR scanner's browser) was closed.
    let held = RwSignal::new(None::<(String, String)>);
    #[cfg(feature = "hydrate")]
    if let Some(id) = super::device::recalled(&page.slug) {
        let slug = page.slug.clone();
        leptos::task::spawn_local(async move {
            use super::polling::{get_json, Poll};
            use crate::tracker::{Phase, TrackerView};
            match get_json::<TrackerView>(&format!("/api/t/{id}"), None).await {
                Ok(Poll::Changed(view, _))
                    if matches!(view.phase, Phase::Waiting | Phase::YourTurn) =>
                {
                    held.set(Some((view.token, id)));
                }
                Ok(_) => super::device::forget(&slug, &id),
                Err(()) => {}
            }
        });
    }
    let single_queue = (page.queues.len() == 1).then(|| page.queues[0].0);
    let languages = page.languages.clone();
    let slug = page.slug.clone();
    let form = view! {
        <section class="join">
            <p class="eyebrow">{page.clinic_name.clone()}</p>
            <h1>{tr(lang, Text::JoinHeading)}</h1>
            <LanguageSwitch base=format!("/c/{slug}") current=lang offered=languages.clone()/>
            {move || held.get().map(|(token, id)| view! {
                <p class="notice" role="status" data-testid="held-token">
                    {tr(lang, Text::HeldToken)}" "<strong>{token}</strong>" — "
                    <a href=format!("/t/{id}") rel="external">{tr(lang, Text::OpenHeldToken)}</a>
                </p>
            })}
            {match page.notice.clone() {
                // A clinic that is not taking tokens shows why, and no form.
                Some(n) => Either::Left(view! { <p class="notice notice-error" role="alert">{n}</p> }),
                None => Either::Right(view! {
            <form method="post" action=JoinQueue::PATH on:submit=submit>
                <div class="form card">
                    <input type="hidden" name="slug" value=page.slug.clone()/>
                    {match single_queue {
                        Some(id) => Either::Left(view! { <input type="hidden" name="queue_id" value=id/> }),
                        None => Either::Right(view! {
                            <fieldset class="queue-choice">
                                <legend>{tr(lang, Text::ChooseQueue)}</legend>
                                {page.queues.iter().enumerate().map(|(i, (id, name))| view! {
                                    <label class="choice">
                                        <input type="radio" name="queue_id" value=*id required
                                            checked=chosen_queue.map_or(i == 0, |q| q == *id)/>
                                        <span>{name.clone()}</span>
                                    </label>
                                }).collect_view()}
                            </fieldset>
                        }),
                    }}
                    <label class="field">
                        <span>{tr(lang, Text::YourName)}</span>
                        <input name="name" required maxlength="60" autocomplete="name" value=name
                            aria-invalid=refusal.invalid("name") aria-errormessage="name-error"/>
                    </label>
                    <FieldError refusal field="name"/>
                    <label class="field">
                        <span>{tr(lang, Text::YourPhone)}</span>
                        <input name="phone" type="tel" required inputmode="tel" autocomplete="tel"
                            placeholder=page.phone_example.clone() value=phone
                            aria-invalid=refusal.invalid("phone") aria-errormessage="phone-error"/>
                        <small class="muted">{tr(lang, Text::PhoneHint)}</small>
                    </label>
                    <FieldError refusal field="phone"/>
                    <label class="field">
                        <span>{tr(lang, Text::PageLanguage)}</span>
                        <select name="language">
                            {languages.iter().map(|l| view! {
                                <option value=l.as_str() selected=*l == chosen_language>{l.name()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <FormError refusal placed=&["name", "phone"]/>
                    <button type="submit" class="button button-primary button-block" disabled=move || joining.get()>
                        {move || if joining.get() { tr(lang, Text::Joining) } else { tr(lang, Text::GetToken) }}
                    </button>
                </div>
            </form>
                }),
            }}
        </section>
    };
    // On the server, one type for the form keeps the page around it within the
    // compiler's depth limit; the browser hydrates the form alone and skips the erasure.
    #[cfg(feature = "ssr")]
    let form = form.into_any();
    form
}

/// Links to the same page in each offered language (full page loads, so the server
/// renders the chosen language).
#[component]
pub fn LanguageSwitch(base: String, current: Language, offered: Vec<Language>) -> impl IntoView {
    (offered.len() > 1).then(|| {
        view! {
            <nav class="language-switch" aria-label="Language">
                {offered.into_iter().map(|l| {
                    let href = format!("{base}?lang={}", l.as_str());
                    view! { <a href=href rel="external" aria-current=(l == current).then_some("true")>{l.name()}</a> }
                }).collect_view()}
            </nav>
        }
    })
}
