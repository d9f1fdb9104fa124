//! The receptionist's desk (`/desk`): one screen that runs the day. NEXT, SERVED, SKIP and
//! UNDO (keys N, S, U), the waiting list in calling order, missed patients with RECALL,
//! walk-ins and emergencies, pause and close. Every action answers with the fresh view,
//! and the view is polled every 1.5 s so a patient who joins by QR appears at once.

use super::form::{returned_to, FieldError, FormError, Refusal};
use super::frame::{Frame, Width};
use crate::api::{
    desk_act, desk_reply, load_desk, AppError, DeskCommand, DeskWalkIn, Logout, ReturnedForm,
};
use crate::desk::{DeskToken, DeskView, NoticeState};
use crate::domain::Source;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DeskPage() -> impl IntoView {
    let initial = Resource::new(|| (), |_| load_desk(None));
    let returned = returned_to(<DeskWalkIn as leptos::server_fn::ServerFn>::PATH);
    view! {
        <Title text="Desk"/>
        <Frame width=Width::Wide>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match initial.await {
                        Ok(view) => {
                            let walk_in = returned.await.ok().flatten();
                            view! { <Desk initial=view walk_in/> }.into_any()
                        }
                        Err(AppError::SignIn(e)) => view! {
                            <section class="notice">
                                <h1>"Sign in to run the desk"</h1>
                                <p>{e.to_string()}</p>
                                <p><a class="button button-primary" href="/login">"Staff login"</a></p>
                            </section>
                        }.into_any(),
                        Err(e) => view! { <super::join::Problem error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </Frame>
    }
}

fn minutes_since(now: i64, then: i64) -> String {
    let m = ((now - then).max(0) / 60_000) as u32;
    crate::domain::eta::humane_minutes(m, "h", "min")
}

/// `14:05` in the clinic's time.
fn clock_time(ms: i64, utc_offset_minutes: i32) -> String {
    let local = ms / 60_000 + i64::from(utc_offset_minutes);
    let (h, m) = ((local / 60).rem_euclid(24), local.rem_euclid(60));
    format!("{h:02}:{m:02}")
}

/// "WhatsApp open until 14:05", "WhatsApp closed at 14:05", "WhatsApp: STOP" or
/// "WhatsApp: none".
fn whatsapp_words(t: &DeskToken, now: i64, utc_offset_minutes: i32) -> String {
    if t.whatsapp_stopped {
        return "WhatsApp: STOP".to_owned();
    }
    match t.whatsapp_until {
        Some(ms) if ms > now => {
            format!("WhatsApp open until {}", clock_time(ms, utc_offset_minutes))
        }
        Some(ms) => format!("WhatsApp closed at {}", clock_time(ms, utc_offset_minutes)),
        None => "WhatsApp: none".to_owned(),
    }
}

/// "10–25 min", as the patient's tracker says it.
fn eta_words(low: u32, high: u32) -> String {
    if high == 0 {
        "now".to_owned()
    } else {
        crate::domain::eta::humane_range(low, high, "h", "min")
    }
}

fn source_word(s: Source) -> &'static str {
    match s {
        Source::Qr => "QR",
        Source::Desk => "Desk",
        Source::Whatsapp => "WhatsApp",
    }
}

/// The token the desk shows as being served: what NEXT, SERVED and CALL expect.
fn serving_id(state: RwSignal<DeskView>) -> Option<i64> {
    state.with(|s| s.serving.as_ref().map(|t| t.id))
}

/// The room a desk calls to until it chooses: the queue's only room, if it has one.
fn only_room(rooms: &[String]) -> Option<String> {
    match rooms {
        [only] => Some(only.clone()),
        _ => None,
    }
}

/// Whether this desk must choose its room before it calls anyone.
fn room_missing(state: RwSignal<DeskView>, room: RwSignal<Option<String>>) -> bool {
    state.with(|s| s.rooms.len() > 1) && room.with(Option::is_none)
}

#[component]
fn Desk(initial: DeskView, walk_in: Option<ReturnedForm>) -> impl IntoView {
    let room = RwSignal::new(only_room(&initial.rooms));
    let state = RwSignal::new(initial);
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let clock = RwSignal::new(state.get_untracked().now);
    // The patient the desk is moving to another queue, while it chooses which.
    let moving = RwSignal::new(None::<i64>);
    // The room this device chose for the queue on screen (kept in the browser, once per
    // shift).
    #[cfg(feature = "hydrate")]
    {
        let rooms = Memo::new(move |_| state.with(|s| (s.queue_id, s.rooms.clone())));
        Effect::new(move |_| {
            let (queue, rooms) = rooms.get();
            room.set(live::chosen_room(queue, &rooms).or_else(|| only_room(&rooms)));
        });
    }

    // One action at a time; its answer (or a refusal and a fresh view) replaces the screen.
    let run = Callback::new(move |command: DeskCommand| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let queue = state.get_untracked().queue_id;
        let room = room.get_untracked();
        leptos::task::spawn_local(async move {
            match desk_act(queue, room, command).await {
                Ok(view) => {
                    problem.set(None);
                    state.set(view);
                }
                Err(e) => {
                    problem.set(Some(e.to_string()));
                    if let Ok(view) = load_desk(Some(queue)).await {
                        state.set(view);
                    }
                }
            }
            busy.set(false);
        });
    });

    #[cfg(feature = "hydrate")]
    live::follow(state, room, clock, busy, run);

    view! {
        <section class="desk" data-testid="desk">
            <DeskHead state/>
            {move || state.with(|s| s.notice.clone()).map(|n| view! { <p class="notice notice-error" role="alert" data-testid="desk-notice">{n}</p> })}
            {move || problem.get().map(|p| view! { <p class="notice notice-error" role="alert" data-testid="desk-problem">{p}</p> })}
            {move || state.with(|s| s.stalled(clock.get())).then(|| view! {
                <p class="notice notice-warn" role="status" data-testid="stall">"Nobody has been called for 5 minutes while patients wait."</p>
            })}
            {move || state.with(|s| s.day_closed).then(|| view! { <p class="notice">"Today's queue is closed."</p> })}
            <MovePanel state moving busy run/>
            <div class="desk-grid">
                <NowServing state room busy run moving/>
                <TokenLists state room busy run moving/>
                <Inbox state clock/>
                <WalkIn state busy run back=walk_in/>
            </div>
        </section>
    }
}

// Each part of the desk is a component that answers an `AnyView`: release builds keep
// components' view types (debug builds erase them), and one nested type for the whole
// desk overflows the compiler's query depth.

/// The clinic's name, the queue tabs, today's counters and the staff links.
#[component]
fn DeskHead(state: RwSignal<DeskView>) -> AnyView {
    let logout = ServerAction::<Logout>::new();
    let s = move || state.get();
    view! {
        <header class="desk-head">
            <div>
                <p class="eyebrow">{move || s().clinic_name}</p>
                <h1>"Desk"</h1>
            </div>
            {move || (s().queues.len() > 1).then(|| view! {
                <nav class="queue-tabs" aria-label="Queues">
                    {s().queues.into_iter().map(|(id, name)| {
                        let current = move || state.with(|s| s.queue_id == id);
                        view! {
                            <button class="button" aria-pressed=move || current().to_string()
                                on:click=move |_| {
                                    leptos::task::spawn_local(async move {
                                        if let Ok(view) = load_desk(Some(id)).await { state.set(view); }
                                    });
                                }>{name}</button>
                        }
                    }).collect_view()}
                </nav>
            })}
            <dl class="counters">
                <div><dt>"Waiting"</dt><dd data-testid="count-waiting">{move || s().waiting.len()}</dd></div>
                <div><dt>"Served"</dt><dd>{move || s().served_today}</dd></div>
                <div><dt>"Missed"</dt><dd>{move || s().skipped.len()}</dd></div>
                <div><dt>"Cancelled"</dt><dd>{move || s().cancelled_today}</dd></div>
            </dl>
            <nav class="staff-links" aria-label="Staff">
                {move || s().owner.then(|| view! { <a href="/clinic">"Clinic settings"</a> })}
                <a href="/account">"Account"</a>
                <ActionForm action=logout><button class="button" type="submit">"Sign out"</button></ActionForm>
            </nav>
        </header>
    }
    .into_any()
}

/// The patient being served and the buttons that move the queue.
#[component]
fn NowServing(
    state: RwSignal<DeskView>,
    room: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
    run: Callback<DeskCommand>,
    moving: RwSignal<Option<i64>>,
) -> AnyView {
    let s = move || state.get();
    let serving = move || serving_id(state);
    let locked = move || busy.get() || state.with(|s| s.notice.is_some());
    view! {
        <div class="card now-card">
            <RoomChoice state room/>
            <p class="token-caption">"Now serving"</p>
            <p class="token-number" data-testid="desk-serving">{move || s().serving.map(|t| t.label).unwrap_or_else(|| "—".into())}</p>
            {move || s().serving.and_then(|t| t.room).map(|r| view! { <p class="token-room" data-testid="desk-serving-room">"→ "{r}</p> })}
            <p class="muted">{move || s().serving.map(|t| t.name).unwrap_or_default()}</p>
            {move || s().serving.and_then(|t| origin_words(&t)).map(|o| view! { <p class="moved small" data-testid="serving-moved-from">{o}</p> })}
            <p class="muted small" data-testid="serving-notices">{move || s().serving.map(|t| t.notices.iter().map(|n| n.words()).collect::<Vec<_>>().join(" · ")).unwrap_or_default()}</p>
            <div class="desk-buttons">
                <button class="button button-primary button-big" disabled=move || locked() || room_missing(state, room)
                    on:click=move |_| run.run(DeskCommand::Next { expected_serving: serving() }) title="N">"NEXT"</button>
                <button class="button" disabled=move || locked() || serving().is_none()
                    on:click=move |_| run.run(DeskCommand::Served { expected_serving: serving() })>"SERVED"</button>
                <button class="button" disabled=move || locked() || serving().is_none()
                    on:click=move |_| if let Some(token) = serving() { run.run(DeskCommand::Skip { token }) } title="S">"SKIP"</button>
                <button class="button" disabled=locked on:click=move |_| run.run(DeskCommand::Undo) title="U">"UNDO"</button>
                {move || (state.with(|s| s.queues.len() > 1) && serving().is_some()).then(|| view! {
                    <button class="button" disabled=locked on:click=move |_| moving.set(serving())>"MOVE…"</button>
                })}
            </div>
            <p class="muted small">"Keys: N next · S skip · U undo"</p>
        </div>
    }
    .into_any()
}

/// The room this desk calls patients to: chosen once per shift from the queue's rooms
/// and remembered on this device; shown as plain words when the queue has one room.
#[component]
fn RoomChoice(state: RwSignal<DeskView>, room: RwSignal<Option<String>>) -> AnyView {
    // A memo: the desk's polls leave the choice (and an open list) alone.
    let rooms = Memo::new(move |_| state.with(|s| s.rooms.clone()));
    view! {
        {move || match rooms.get().as_slice() {
            [] => ().into_any(),
            [only] => view! { <p class="muted" data-testid="desk-room">"Room: "<strong>{only.clone()}</strong></p> }.into_any(),
            several => {
                let several = several.to_vec();
                view! {
                    <label class="field room-choice">
                        <span>"Your room"</span>
                        <select data-testid="desk-room" aria-describedby="room-hint"
                            on:change=move |e| {
                                let chosen = event_target_value(&e);
                                #[cfg(feature = "hydrate")]
                                live::choose_room(state.with_untracked(|s| s.queue_id), &chosen);
                                room.set(Some(chosen).filter(|c| !c.is_empty()));
                            }>
                            <option value="" prop:selected=move || room.with(Option::is_none)>"Choose your room…"</option>
                            {several.into_iter().map(|r| {
                                let (value, chosen) = (r.clone(), r.clone());
                                view! { <option value=value prop:selected=move || room.with(|c| c.as_deref() == Some(chosen.as_str()))>{r}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    {move || room_missing(state, room).then(|| view! {
                        <p class="notice notice-warn" id="room-hint" role="status">"Choose the room you call patients to: NEXT tells them to come there."</p>
                    })}
                }.into_any()
            }
        }}
    }
    .into_any()
}

/// The waiting list in calling order and the missed patients.
#[component]
fn TokenLists(
    state: RwSignal<DeskView>,
    room: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
    run: Callback<DeskCommand>,
    moving: RwSignal<Option<i64>>,
) -> AnyView {
    let s = move || state.get();
    view! {
        <div class="card">
            <h2>"Waiting"</h2>
            <ol class="token-list" data-testid="waiting">
                {move || s().waiting.into_iter().map(|t| row(t, state, room, busy, run, moving, true)).collect_view()}
            </ol>
            {move || s().waiting.is_empty().then(|| view! { <p class="muted">"Nobody is waiting."</p> })}
        </div>
        <div class="card">
            <h2>"Missed"</h2>
            <ul class="token-list" data-testid="skipped">
                {move || s().skipped.into_iter().map(|t| row(t, state, room, busy, run, moving, false)).collect_view()}
            </ul>
            {move || s().skipped.is_empty().then(|| view! { <p class="muted">"No missed patients."</p> })}
        </div>
    }
    .into_any()
}

/// Adding a walk-in, pausing online joining and closing the day. `back`: a walk-in
/// posted without JavaScript that was refused, with what was typed.
#[component]
fn WalkIn(
    state: RwSignal<DeskView>,
    busy: RwSignal<bool>,
    run: Callback<DeskCommand>,
    back: Option<ReturnedForm>,
) -> AnyView {
    let walk_in = ServerAction::<DeskWalkIn>::new();
    Effect::new(move |_| {
        if let Some(Ok(view)) = walk_in.value().get() {
            state.set(view);
        }
    });
    let typed = |field: &str| back.as_ref().and_then(|b| b.value(field));
    let (name, phone) = (typed("name"), typed("phone"));
    let emergency = typed("emergency").is_some_and(|e| !e.is_empty());
    let hindi = typed("language").is_some_and(|l| l == "hi");
    let refusal = Refusal::of(walk_in, back.map(|b| b.error));
    let s = move || state.get();
    view! {
        <div class="card">
            <h2>"Add a walk-in"</h2>
            <ActionForm action=walk_in>
                <div class="form">
                    <input type="hidden" name="queue_id" value=move || s().queue_id/>
                    <label class="field"><span>"Name"</span><input name="name" required maxlength="60" value=name
                        aria-invalid=refusal.invalid("name") aria-errormessage="name-error"/></label>
                    <FieldError refusal field="name"/>
                    <label class="field"><span>"Mobile (optional)"</span><input name="phone" type="tel" value=phone
                        aria-invalid=refusal.invalid("phone") aria-errormessage="phone-error"/></label>
                    <FieldError refusal field="phone"/>
                    <label class="field"><span>"Messages in"</span>
                        <select name="language" aria-invalid=refusal.invalid("language") aria-errormessage="language-error">
                            <option value="en" selected=!hindi>"English"</option>
                            <option value="hi" selected=hindi>"हिंदी (Hindi)"</option>
                        </select>
                    </label>
                    <FieldError refusal field="language"/>
                    <label class="choice"><input type="checkbox" name="emergency" value="yes" checked=emergency/><span>"Emergency: call next"</span></label>
                    <FormError refusal placed=&["name", "phone", "language"]/>
                    <button class="button button-primary" type="submit" disabled=move || walk_in.pending().get() || s().notice.is_some()>"Add"</button>
                </div>
            </ActionForm>
            <div class="desk-day">
                <button class="button" disabled=move || busy.get()
                    on:click=move |_| run.run(DeskCommand::PauseIntake { paused: !state.with_untracked(|s| s.intake_paused) })>
                    {move || if s().intake_paused { "Resume online joining" } else { "Pause online joining" }}
                </button>
                <button class="button button-danger" disabled=move || busy.get() || s().day_closed
                    on:click=move |_| run.run(DeskCommand::CloseDay)>"Close today's queue"</button>
            </div>
        </div>
    }
    .into_any()
}

/// One patient in a list, with what the desk can do to them.
fn row(
    t: DeskToken,
    state: RwSignal<DeskView>,
    room: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
    run: Callback<DeskCommand>,
    moving: RwSignal<Option<i64>>,
    waiting: bool,
) -> impl IntoView {
    let id = t.id;
    let movable = waiting && state.with_untracked(|s| s.queues.len() > 1);
    let since = move || minutes_since(state.with(|s| s.now), t.joined_at);
    let serving = move || serving_id(state);
    view! {
        <li class="token-row" data-testid="token-row">
            <span class="token-label">{t.label.clone()}</span>
            <span class="token-name">{t.name.clone()}</span>
            {t.priority.then(|| view! { <span class="badge">"priority"</span> })}
            {origin_words(&t).map(|o| view! { <span class="moved small" data-testid="moved-from">{o}</span> })}
            <span class="muted small">{source_word(t.source)}" · "{since}
                {t.eta.map(|(low, high)| format!(" · called in {}", eta_words(low, high)))}</span>
            <span class="muted small whatsapp-state" data-testid="whatsapp-state">{state.with_untracked(|s| whatsapp_words(&t, s.now, s.utc_offset_minutes))}</span>
            {(!t.notices.is_empty()).then(|| view! {
                <span class="muted small notices" data-testid="notices">
                    {t.notices.iter().map(|n| n.words()).collect::<Vec<_>>().join(" · ")}
                </span>
            })}
            {t.chat.iter().rev().find(|line| line.from_patient).map(|line| view! {
                <q class="chat-last" data-testid="chat-last">{line.body.clone()}</q>
            })}
            <span class="row-actions">
                {if waiting {
                    view! {
                        <button class="button small" disabled=move || busy.get() || room_missing(state, room)
                            on:click=move |_| run.run(DeskCommand::Call { token: id, expected_serving: serving() })>"Call"</button>
                        <button class="button small" disabled=move || busy.get() || t.priority
                            on:click=move |_| run.run(DeskCommand::Priority { token: id })>"Priority"</button>
                        <button class="button small" disabled=move || busy.get()
                            on:click=move |_| run.run(DeskCommand::Skip { token: id })>"Skip"</button>
                        {movable.then(|| view! {
                            <button class="button small" disabled=move || busy.get()
                                on:click=move |_| moving.set(Some(id))>"Move"</button>
                        })}
                    }.into_any()
                } else {
                    view! {
                        <button class="button small" disabled=move || busy.get()
                            on:click=move |_| run.run(DeskCommand::Recall { token: id })>"Recall"</button>
                    }.into_any()
                }}
                <button class="button small" disabled=move || busy.get()
                    on:click=move |_| run.run(DeskCommand::Cancel { token: id })>"Cancel"</button>
                {waiting.then(|| view! {
                    <a class="button small" href=format!("/t/{}/ticket?print=1", t.public_id) target="_blank" rel="external">"Ticket"</a>
                })}
            </span>
        </li>
    }
}

/// "From General A-3: for an X-ray", for a patient the desk moved here.
fn origin_words(t: &DeskToken) -> Option<String> {
    let from = t.moved_from.as_deref()?;
    Some(match t.note.as_deref() {
        Some(note) => format!("From {from}: {note}"),
        None => format!("From {from}"),
    })
}

/// Moving a patient to another queue of the clinic: which queue, a note for its desk,
/// and whether they are called first there. Opened by a row's "Move"; what is chosen
/// survives the desk's polls.
#[component]
fn MovePanel(
    state: RwSignal<DeskView>,
    moving: RwSignal<Option<i64>>,
    busy: RwSignal<bool>,
    run: Callback<DeskCommand>,
) -> AnyView {
    let to = RwSignal::new(None::<i64>);
    let note = RwSignal::new(String::new());
    let priority = RwSignal::new(false);
    let choice = NodeRef::<leptos::html::Select>::new();
    // Read once when the panel opens: the token's label and the other queues.
    let open = Memo::new(move |_| {
        let id = moving.get()?;
        state.with_untracked(|s| {
            let label = find_token(s, id)?.label;
            let others: Vec<(i64, String)> = s
                .queues
                .iter()
                .filter(|(q, _)| *q != s.queue_id)
                .cloned()
                .collect();
            Some((id, label, others))
        })
    });
    Effect::new(move |_| {
        if let Some((_, _, others)) = open.get() {
            to.set(others.first().map(|(q, _)| *q));
            note.set(String::new());
            priority.set(false);
            if let Some(select) = choice.get() {
                let _ = select.focus();
            }
        }
    });
    let move_patient = move |id: i64| {
        if let Some(to_queue) = to.get_untracked() {
            let (priority, note) = (priority.get_untracked(), note.get_untracked());
            run.run(DeskCommand::Transfer {
                token: id,
                to_queue,
                priority,
                note,
            });
            moving.set(None);
        }
    };
    view! {
        {move || open.get().map(|(id, label, others)| view! {
            <section class="card move-card" aria-labelledby="move-title" data-testid="move-panel">
                <h2 id="move-title">"Move "{label}" to another queue"</h2>
                <p class="muted small">"They keep their place by arrival time (unless called first) and their tracker link; they are told by message."</p>
                <div class="form">
                    <label class="field"><span>"Move to"</span>
                        <select node_ref=choice on:change=move |e| to.set(event_target_value(&e).parse().ok())>
                            {others.into_iter().map(|(q, name)| view! {
                                <option value=q.to_string() prop:selected=move || to.get() == Some(q)>{name}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label class="field"><span>"Note for the next desk (optional)"</span>
                        <input maxlength=crate::queue::rules::MAX_NOTE_CHARS.to_string() prop:value=move || note.get()
                            on:input=move |e| note.set(event_target_value(&e))/>
                    </label>
                    <label class="choice"><input type="checkbox" prop:checked=move || priority.get()
                        on:change=move |e| priority.set(event_target_checked(&e))/><span>"Call first there (priority)"</span></label>
                    <div class="move-buttons">
                        <button class="button button-primary" disabled=move || busy.get() || to.get().is_none()
                            on:click=move |_| move_patient(id)>"Move patient"</button>
                        <button class="button" on:click=move |_| moving.set(None)>"Keep here"</button>
                    </div>
                </div>
            </section>
        })}
    }
    .into_any()
}

/// Whether a token belongs in the inbox: the patient wrote something for the desk.
fn in_conversation(t: &DeskToken) -> bool {
    !t.chat.is_empty()
}

fn find_token(view: &DeskView, id: i64) -> Option<DeskToken> {
    view.serving
        .iter()
        .chain(&view.waiting)
        .chain(&view.skipped)
        .find(|t| t.id == id)
        .cloned()
}

/// Patients' WhatsApp messages with a reply box each. Keyed by token, so a reply being
/// typed survives the desk's polls.
#[component]
fn Inbox(state: RwSignal<DeskView>, clock: RwSignal<i64>) -> AnyView {
    let conversations = move || {
        state.with(|s| {
            s.serving
                .iter()
                .chain(&s.waiting)
                .chain(&s.skipped)
                .filter(|t| in_conversation(t))
                .map(|t| t.id)
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="card inbox" data-testid="inbox">
            <h2>"Messages"</h2>
            <For each=conversations key=|id| *id children=move |id| view! { <Conversation id state clock/> }/>
            {move || conversations().is_empty().then(|| view! {
                <p class="muted">"Patients' WhatsApp messages to the clinic appear here."</p>
            })}
        </div>
    }
    .into_any()
}

#[component]
fn Conversation(id: i64, state: RwSignal<DeskView>, clock: RwSignal<i64>) -> AnyView {
    let token = move || state.with(|s| find_token(s, id));
    let draft = RwSignal::new(String::new());
    let sending = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let offset = move || state.with(|s| s.utc_offset_minutes);
    // A memo, so the desk's poll does not rebuild (and close) the list while it is open.
    let canned = Memo::new(move |_| state.with(|s| s.canned_replies.clone()));
    let open = move || token().is_some_and(|t| t.can_reply(clock.get()));
    let send = move || {
        let body = draft.get_untracked();
        if sending.get_untracked() || body.trim().is_empty() {
            return;
        }
        sending.set(true);
        let queue = state.with_untracked(|s| s.queue_id);
        leptos::task::spawn_local(async move {
            match desk_reply(queue, id, body).await {
                Ok(view) => {
                    problem.set(None);
                    draft.set(String::new());
                    state.set(view);
                }
                Err(e) => problem.set(Some(e.to_string())),
            }
            sending.set(false);
        });
    };
    view! {
        <section class="conversation" data-testid="conversation">
            <h3>{move || token().map(|t| format!("{} · {}", t.label, t.name)).unwrap_or_default()}</h3>
            <ol class="chat">
                {move || token().map(|t| t.chat).unwrap_or_default().into_iter().map(|line| {
                    let who = if line.from_patient { "chat-patient" } else { "chat-desk" };
                    let state_word = match line.state {
                        Some(NoticeState::Pending) => " · sending",
                        Some(NoticeState::NotReached) => " · not delivered",
                        _ => "",
                    };
                    view! {
                        <li class=who data-testid="chat-line">
                            <span>{line.body}</span>
                            <span class="muted small">{format!(" {}{state_word}", clock_time(line.at, offset()))}</span>
                        </li>
                    }
                }).collect_view()}
            </ol>
            <p class="muted small" data-testid="reply-window">{move || match token().map(|t| (t.whatsapp_stopped, t.whatsapp_until)) {
                Some((true, _)) => "The patient sent STOP: no reply until they write again.".to_owned(),
                Some((false, Some(until))) if until > clock.get() => format!("You can reply until {}, 24 hours after the patient's last message.", clock_time(until, offset())),
                Some((false, Some(until))) => format!("The 24-hour window closed at {}: WhatsApp allows no reply until the patient writes again.", clock_time(until, offset())),
                _ => "The patient has not written on WhatsApp: no reply is possible.".to_owned(),
            }}</p>
            <form class="form reply" on:submit=move |e| { e.prevent_default(); send(); }>
                {move || {
                    let canned = canned.get();
                    (!canned.is_empty()).then(|| view! {
                        <select aria-label="Canned reply" disabled=move || !open()
                            on:change=move |e| { let v = event_target_value(&e); if !v.is_empty() { draft.set(v); } }>
                            <option value="">"Canned reply…"</option>
                            {canned.into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                        </select>
                    })
                }}
                <textarea name="reply" rows="2" maxlength="1000" aria-label="Reply" data-testid="reply"
                    disabled=move || !open()
                    prop:value=move || draft.get()
                    on:input=move |e| draft.set(event_target_value(&e))></textarea>
                <button class="button button-primary" type="submit" data-testid="send-reply"
                    disabled=move || !open() || sending.get() || draft.with(|d| d.trim().is_empty())>"Reply"</button>
                {move || problem.get().map(|p| view! { <p class="form-error" role="alert" data-testid="reply-problem">{p}</p> })}
            </form>
        </section>
    }
    .into_any()
}

/// Keeps the desk live in the browser: polls the view every 1.5 s (not while an action
/// is in flight or the tab is hidden), ticks the clock for waiting times and the stall
/// warning, and maps the keys N, S and U to NEXT, SKIP and UNDO.
#[cfg(feature = "hydrate")]
mod live {
    use super::*;
    use crate::pages::device::storage;
    use crate::pages::polling::{hidden, now_ms};
    use gloo_timers::future::TimeoutFuture;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    fn room_key(queue: i64) -> String {
        format!("qline-desk-room-{queue}")
    }

    /// The room this device chose for `queue`, while it is still one of the queue's.
    pub fn chosen_room(queue: i64, rooms: &[String]) -> Option<String> {
        let chosen = storage()?.get_item(&room_key(queue)).ok().flatten()?;
        rooms.contains(&chosen).then_some(chosen)
    }

    pub fn choose_room(queue: i64, room: &str) {
        if let Some(storage) = storage() {
            let _ = storage.set_item(&room_key(queue), room);
        }
    }

    pub fn follow(
        state: RwSignal<DeskView>,
        room: RwSignal<Option<String>>,
        clock: RwSignal<i64>,
        busy: RwSignal<bool>,
        run: Callback<DeskCommand>,
    ) {
        let alive = Arc::new(AtomicBool::new(true));
        let still_alive = alive.clone();
        on_cleanup(move || still_alive.store(false, Ordering::Relaxed));
        leptos::task::spawn_local(async move {
            while alive.load(Ordering::Relaxed) {
                TimeoutFuture::new(1_500).await;
                clock.set(now_ms() as i64);
                if hidden() || busy.get_untracked() || !alive.load(Ordering::Relaxed) {
                    continue;
                }
                let queue = state.get_untracked().queue_id;
                if let Ok(view) = load_desk(Some(queue)).await {
                    // An action that started meanwhile answers with a fresher view.
                    if !busy.get_untracked() && view.queue_id == state.get_untracked().queue_id {
                        state.set(view);
                    }
                }
            }
        });
        let keys = window_event_listener(leptos::ev::keydown, move |e| {
            let typing = e
                .target()
                .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
                .is_some_and(|el| {
                    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                });
            if typing || e.ctrl_key() || e.meta_key() || e.alt_key() {
                return;
            }
            match e.key().as_str() {
                "n" | "N" if !room_missing(state, room) => run.run(DeskCommand::Next {
                    expected_serving: serving_id(state),
                }),
                "s" | "S" => {
                    if let Some(token) = serving_id(state) {
                        run.run(DeskCommand::Skip { token });
                    }
                }
                "u" | "U" => run.run(DeskCommand::Undo),
                _ => {}
            }
        });
        on_cleanup(move || keys.remove());
    }
}
