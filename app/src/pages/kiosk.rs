//! The reception kiosk (`/c/{slug}/kiosk`): a tablet where walk-ins take a token by touch.
//! Large targets, the mobile number on an on-screen keypad (no keyboard pops up for it),
//! the token shown with a QR code of its tracker (and, when the kiosk prints, a ticket),
//! then the screen resets for the next patient. The tablet holds the clinic's kiosk code,
//! typed once by staff; without it the kiosk shows and issues nothing.

use crate::api::{kiosk_join, open_kiosk, IssuedTicket, KioskInfo};
use crate::domain::Language;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// Seconds the issued token stays on screen before the kiosk resets.
pub const RESET_SECS: u32 = 30;

#[derive(Debug, Clone, PartialEq)]
enum Screen {
    /// Until the browser has read the code this tablet holds.
    Starting,
    /// No code yet, or a wrong one (with why).
    Locked(Option<String>),
    Ready(KioskInfo),
    Issued(KioskInfo, IssuedTicket),
}

#[component]
pub fn KioskPage() -> impl IntoView {
    let params = use_params_map();
    let slug = params.read_untracked().get("slug").unwrap_or_default();
    view! {
        <Title text="Kiosk"/>
        <main class="kiosk" data-testid="kiosk">
            <Kiosk slug/>
        </main>
    }
}

#[component]
fn Kiosk(slug: String) -> AnyView {
    let screen = RwSignal::new(Screen::Starting);
    let code = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let print_each = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    {
        let slug = slug.clone();
        Effect::new(move |_| {
            print_each.set(live::print_each());
            match live::held_code(&slug) {
                Some(held) => unlock(slug.clone(), held, screen, code, busy),
                None => screen.set(Screen::Locked(None)),
            }
        });
    }
    let slug_for_form = slug.clone();
    view! {
        {move || match screen.get() {
            Screen::Starting => view! { <p class="muted kiosk-starting">"Starting the kiosk…"</p> }.into_any(),
            Screen::Locked(why) => view! { <Unlock slug=slug.clone() why screen code busy/> }.into_any(),
            Screen::Ready(info) => view! { <TakeToken slug=slug_for_form.clone() info screen code busy print_each/> }.into_any(),
            Screen::Issued(info, ticket) => view! { <Issued info ticket screen print_each/> }.into_any(),
        }}
    }
    .into_any()
}

/// Asks the server to open the kiosk with `typed`; keeps the code on this tablet when
/// it opens, forgets it when it is wrong.
fn unlock(
    slug: String,
    typed: String,
    screen: RwSignal<Screen>,
    code: RwSignal<String>,
    busy: RwSignal<bool>,
) {
    busy.set(true);
    leptos::task::spawn_local(async move {
        match open_kiosk(slug.clone(), typed.clone()).await {
            Ok(info) => {
                #[cfg(feature = "hydrate")]
                live::keep_code(&slug, Some(&typed));
                code.set(typed);
                screen.set(Screen::Ready(info));
            }
            Err(e) => {
                // Only a wrong code is forgotten: a tablet told to wait, or offline,
                // keeps the right one.
                #[cfg(feature = "hydrate")]
                if matches!(
                    e,
                    crate::api::AppError::Refused(crate::queue::QueueError::KioskLocked)
                ) {
                    live::keep_code(&slug, None);
                }
                screen.set(Screen::Locked(Some(e.to_string())));
            }
        }
        busy.set(false);
    });
}

/// The code staff type once on the tablet.
#[component]
fn Unlock(
    slug: String,
    why: Option<String>,
    screen: RwSignal<Screen>,
    code: RwSignal<String>,
    busy: RwSignal<bool>,
) -> AnyView {
    let typed = RwSignal::new(String::new());
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        unlock(slug.clone(), typed.get_untracked(), screen, code, busy);
    };
    view! {
        <section class="kiosk-lock card">
            <h1>"Kiosk"</h1>
            <p>"Staff: type the clinic's kiosk code to start this kiosk. The owner sets it under Clinic settings → Kiosk."</p>
            <form on:submit=submit class="form">
                <label class="field"><span>"Kiosk code"</span>
                    <input type="password" inputmode="numeric" autocomplete="off" required
                        aria-invalid=why.is_some().then_some("true") aria-describedby="kiosk-why"
                        prop:value=move || typed.get() on:input=move |e| typed.set(event_target_value(&e))/>
                </label>
                {why.map(|w| view! { <p class="form-error" role="alert" id="kiosk-why">{w}</p> })}
                <button class="button button-primary button-big" type="submit" disabled=move || busy.get()>"Open the kiosk"</button>
            </form>
        </section>
    }
    .into_any()
}

/// The join form, made for fingers: queue tiles, the name, the number on a keypad.
#[component]
fn TakeToken(
    slug: String,
    info: KioskInfo,
    screen: RwSignal<Screen>,
    code: RwSignal<String>,
    busy: RwSignal<bool>,
    print_each: RwSignal<bool>,
) -> AnyView {
    let first_language = info.languages.first().copied().unwrap_or(Language::En);
    let queue = RwSignal::new((info.queues.len() == 1).then(|| info.queues[0].0));
    let name = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let language = RwSignal::new(first_language);
    let problem = RwSignal::new(None::<String>);
    let shown = info.clone();
    let take = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let Some(queue_id) = queue.get_untracked() else {
            problem.set(Some("Please choose a queue.".into()));
            return;
        };
        busy.set(true);
        let (slug, info) = (slug.clone(), shown.clone());
        let (name, number) = (name.get_untracked(), phone.get_untracked());
        let lang = language.get_untracked().as_str().to_owned();
        leptos::task::spawn_local(async move {
            match kiosk_join(slug, code.get_untracked(), queue_id, name, number, lang).await {
                Ok(ticket) => {
                    problem.set(None);
                    screen.set(Screen::Issued(info, ticket));
                }
                Err(e) => problem.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };
    let key = move |digit: char| {
        phone.update(|p| {
            if p.len() < 15 {
                p.push(digit);
            }
        })
    };
    let several = info.queues.len() > 1;
    view! {
        <section class="kiosk-take">
            <p class="eyebrow">{info.clinic_name.clone()}</p>
            <h1>"Take a token"</h1>
            {info.notice.clone().map(|n| view! { <p class="notice notice-error" role="alert">{n}</p> })}
            <form on:submit=take class="kiosk-form">
                {several.then(|| view! {
                    <fieldset class="kiosk-queues">
                        <legend>"Which queue?"</legend>
                        {info.queues.iter().map(|(id, label)| {
                            let id = *id;
                            view! {
                                <button type="button" class="button kiosk-tile" aria-pressed=move || (queue.get() == Some(id)).to_string()
                                    on:click=move |_| queue.set(Some(id))>{label.clone()}</button>
                            }
                        }).collect_view()}
                    </fieldset>
                })}
                <label class="field kiosk-field"><span>"Your name"</span>
                    <input required maxlength="60" autocomplete="off" prop:value=move || name.get()
                        on:input=move |e| name.set(event_target_value(&e))/>
                </label>
                <label class="field kiosk-field"><span>"Mobile number (optional)"</span>
                    <input inputmode="none" autocomplete="off" maxlength="15" prop:value=move || phone.get()
                        on:input=move |e| phone.set(event_target_value(&e))/>
                </label>
                <div class="kiosk-keypad" role="group" aria-label="Number keypad">
                    {['1', '2', '3', '4', '5', '6', '7', '8', '9'].into_iter().map(|d| view! {
                        <button type="button" class="button kiosk-key" on:click=move |_| key(d)>{d.to_string()}</button>
                    }).collect_view()}
                    <button type="button" class="button kiosk-key" aria-label="Clear the number" on:click=move |_| phone.set(String::new())>"C"</button>
                    <button type="button" class="button kiosk-key" on:click=move |_| key('0')>"0"</button>
                    <button type="button" class="button kiosk-key" aria-label="Delete the last digit" on:click=move |_| phone.update(|p| { p.pop(); })>"⌫"</button>
                </div>
                {(info.languages.len() > 1).then(|| view! {
                    <fieldset class="kiosk-languages">
                        <legend>"Messages in"</legend>
                        {info.languages.iter().map(|l| {
                            let l = *l;
                            view! {
                                <button type="button" class="button kiosk-tile" aria-pressed=move || (language.get() == l).to_string()
                                    on:click=move |_| language.set(l)>{l.name()}</button>
                            }
                        }).collect_view()}
                    </fieldset>
                })}
                {move || problem.get().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
                <button class="button button-primary button-big kiosk-go" type="submit"
                    disabled=move || busy.get() || queue.get().is_none()>"Get my token"</button>
            </form>
            <KioskFooter print_each/>
        </section>
    }
    .into_any()
}

/// The kiosk's own switches, for staff: print every token's ticket.
#[component]
fn KioskFooter(print_each: RwSignal<bool>) -> AnyView {
    view! {
        <p class="kiosk-footer small">
            <label class="choice">
                <input type="checkbox" prop:checked=move || print_each.get()
                    on:change=move |e| {
                        let on = event_target_checked(&e);
                        print_each.set(on);
                        #[cfg(feature = "hydrate")]
                        live::keep_print_each(on);
                    }/>
                <span>"Print a ticket for each token"</span>
            </label>
        </p>
    }
    .into_any()
}

/// The token just issued, its QR code and (when the kiosk prints) its ticket; back to
/// the join form after `RESET_SECS`, or at once with "Done".
#[component]
fn Issued(
    info: KioskInfo,
    ticket: IssuedTicket,
    screen: RwSignal<Screen>,
    print_each: RwSignal<bool>,
) -> AnyView {
    let left = RwSignal::new(RESET_SECS);
    let ticket_url = format!("/t/{}/ticket?print=1", ticket.public_id);
    // Printing opens the ticket page in a frame of this one, which prints itself.
    let printing = RwSignal::new(print_each.get_untracked().then(|| ticket_url.clone()));
    let again = info.clone();
    let done = move || screen.set(Screen::Ready(again.clone()));
    #[cfg(feature = "hydrate")]
    live::count_down(left, done.clone());
    let wait = match ticket.eta {
        Some((low, high)) if high > 0 => format!(
            "About {} · {} ahead of you",
            crate::domain::eta::humane_range(low, high, "h", "min"),
            ticket.ahead
        ),
        _ => "You are next".to_owned(),
    };
    view! {
        <section class="kiosk-issued" role="status">
            <p class="eyebrow">{info.clinic_name.clone()}</p>
            <p class="token-caption">"Your token"</p>
            <p class="token-number kiosk-token" data-testid="kiosk-token">{ticket.token.clone()}</p>
            <p class="kiosk-queue">{ticket.queue_name.clone()}</p>
            <p>{wait}</p>
            <div class="kiosk-qr" inner_html=ticket.qr_svg.clone()></div>
            <p class="muted">"Scan with your phone to follow your turn live."</p>
            <div class="kiosk-done">
                <button type="button" class="button kiosk-tile" on:click=move |_| printing.set(Some(ticket_url.clone()))>"Print ticket"</button>
                <button type="button" class="button button-primary kiosk-tile" on:click=move |_| done()>"Done"</button>
            </div>
            <p class="muted small" data-testid="kiosk-reset">{move || format!("This screen clears in {} s.", left.get())}</p>
            {move || printing.get().map(|src| view! { <iframe class="kiosk-print" title="Ticket" src=src></iframe> })}
        </section>
    }
    .into_any()
}

#[cfg(feature = "hydrate")]
mod live {
    use super::*;
    use crate::pages::device::storage;
    use gloo_timers::future::TimeoutFuture;

    fn code_key(slug: &str) -> String {
        format!("qline-kiosk-{slug}")
    }

    const PRINT_KEY: &str = "qline-kiosk-print";

    pub fn held_code(slug: &str) -> Option<String> {
        storage()?.get_item(&code_key(slug)).ok().flatten()
    }

    pub fn keep_code(slug: &str, code: Option<&str>) {
        if let Some(storage) = storage() {
            let _ = match code {
                Some(code) => storage.set_item(&code_key(slug), code),
                None => storage.remove_item(&code_key(slug)),
            };
        }
    }

    pub fn print_each() -> bool {
        storage()
            .and_then(|s| s.get_item(PRINT_KEY).ok().flatten())
            .is_some_and(|v| v == "on")
    }

    pub fn keep_print_each(on: bool) {
        if let Some(storage) = storage() {
            let _ = storage.set_item(PRINT_KEY, if on { "on" } else { "off" });
        }
    }

    /// Ticks `left` down each second and calls `done` at zero, unless the screen it
    /// belongs to has gone (its owner disposed) first.
    pub fn count_down(left: RwSignal<u32>, done: impl Fn() + 'static) {
        leptos::task::spawn_local(async move {
            loop {
                TimeoutFuture::new(1_000).await;
                let Some(now) = left.try_get_untracked() else {
                    return;
                };
                if now <= 1 {
                    done();
                    return;
                }
                left.set(now - 1);
            }
        });
    }
}
