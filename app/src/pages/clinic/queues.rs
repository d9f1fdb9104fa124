//! Queues: each one's name, token prefix, usual visit length, rooms and opening hours;
//! add, rename, archive or restore a queue.

use super::{failure, named, problem, slug_field, Actions};
use crate::console::ClinicConsole;
use crate::domain::hours::WEEKDAYS;
use crate::domain::{Hours, Queue};
use leptos::prelude::*;

#[component]
pub(super) fn QueuesPanel(console: ClinicConsole, actions: Actions) -> AnyView {
    let Actions {
        save_queue,
        save_hours,
        archive,
        ..
    } = actions;
    let named = named(&console);
    let queue_row = {
        let named = named.clone();
        move |q: Queue| {
            let (named, named_too, named_hours) = (named.clone(), named.clone(), named.clone());
            let hours = hours_form(save_hours, named_hours, &q);
            let minutes = q
                .default_service_minutes
                .map(|m| m.to_string())
                .unwrap_or_default();
            // Each row is named by its queue, so that its fields and buttons can be told
            // from another queue's by whoever cannot see the layout.
            let heading = format!("queue-{}", q.id.get());
            let labelled_by = heading.clone();
            view! {
                <li class="queue-row" data-testid="queue-row" aria-labelledby=labelled_by>
                    <h3 class="queue-row-name" id=heading>{q.name.clone()}</h3>
                    <ActionForm action=save_queue>
                        <div class="form form-row">
                            {slug_field(named.clone())}
                            <input type="hidden" name="queue_id" value=q.id.get()/>
                            <label class="field"><span>"Name"</span><input name="name" value=q.name.clone() required maxlength="40"/></label>
                            <label class="field field-short"><span>"Prefix"</span><input name="prefix" value=q.prefix.clone() required maxlength="3"/></label>
                            <label class="field field-short"><span>"Usual visit (min)"</span><input name="default_service_minutes" value=minutes inputmode="numeric"/></label>
                            <label class="field"><span>"Rooms"</span><input name="rooms" value=q.rooms.join(", ") maxlength="700" placeholder="Room 1, Room 2"/></label>
                            <button class="button small" type="submit">"Save"</button>
                        </div>
                    </ActionForm>
                    <ActionForm action=archive>
                        {slug_field(named_too)}
                        <input type="hidden" name="queue_id" value=q.id.get()/>
                        <input type="hidden" name="archived" value=(!q.archived).to_string()/>
                        <button class="button small" type="submit">{if q.archived { "Restore" } else { "Archive" }}</button>
                    </ActionForm>
                    {q.archived.then(|| view! { <span class="badge">"archived"</span> })}
                    {hours}
                </li>
            }
        }
    };
    view! {
        <div class="card">
            <h2>"Queues"</h2>
            <ul class="plain-list" data-testid="queues">
                {console.queues.into_iter().map(queue_row).collect_view()}
            </ul>
            {move || problem(failure(archive)())}
            {move || problem(failure(save_queue)())}
            {move || problem(failure(save_hours)())}
            <p class="muted small">"Rooms: where the queue's patients are seen, separated by commas. Each desk chooses its room, and every call tells the patient, the board and the messages where to go."</p>
            <p class="muted small">"Opening hours: outside them patients cannot take a token on the join page, WhatsApp or the kiosk (the desk still can), and the day closes itself at closing time like CLOSE DAY. A queue without hours is open whenever its desk is."</p>
            <h3>"Add a queue"</h3>
            <ActionForm action=save_queue>
                <div class="form form-row">
                    {slug_field(named.clone())}
                    <label class="field"><span>"Queue name"</span><input name="name" required maxlength="40" placeholder="Dr Mehta"/></label>
                    <label class="field field-short"><span>"Token prefix"</span><input name="prefix" required maxlength="3" placeholder="B"/></label>
                    <label class="field field-short"><span>"Usual visit (minutes)"</span><input name="default_service_minutes" inputmode="numeric"/></label>
                    <label class="field"><span>"Rooms (optional)"</span><input name="rooms" maxlength="700" placeholder="Room 1, Room 2"/></label>
                    <button class="button button-primary" type="submit">"Add queue"</button>
                </div>
            </ActionForm>
        </div>
    }
    .into_any()
}

/// A queue's opening hours: one line per weekday (empty for closed) and its closed dates.
fn hours_form(
    save_hours: ServerAction<crate::api::SaveQueueHours>,
    named: Option<String>,
    q: &Queue,
) -> AnyView {
    let summary = if q.hours.is_set() {
        "Opening hours"
    } else {
        "Opening hours (none: open whenever the desk is)"
    };
    let typed: Vec<(&'static str, String, String)> = WEEKDAYS
        .iter()
        .zip(q.hours.week.iter())
        .map(|(day, spans)| {
            let name = format!("hours_{}", day[..3].to_ascii_lowercase());
            (*day, name, Hours::typed(spans))
        })
        .collect();
    let days = typed
        .into_iter()
        .map(|(day, name, spans)| {
            view! {
                <label class="field field-short"><span>{day}</span>
                    <input name=name value=spans maxlength="100" placeholder="09:00-13:00, 14:00-18:00"/>
                </label>
            }
        })
        .collect_view();
    let (queue_id, closed_on) = (q.id.get(), q.hours.typed_closed_on());
    view! {
        <details class="queue-hours">
            <summary>{summary}</summary>
            <ActionForm action=save_hours>
                <div class="form form-row">
                    {slug_field(named)}
                    <input type="hidden" name="queue_id" value=queue_id/>
                    {days}
                    <label class="field"><span>"Closed on (YYYY-MM-DD, commas)"</span>
                        <input name="closed_on" value=closed_on maxlength="1400" placeholder="2026-12-25, 2027-01-26"/>
                    </label>
                    <button class="button small" type="submit">"Save hours"</button>
                </div>
            </ActionForm>
            <p class="muted small">"24-hour times; a gap between two spans is a break. Leave a day empty when the queue is closed that day."</p>
        </details>
    }
    .into_any()
}
