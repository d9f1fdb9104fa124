//! Queues: each one's name, token prefix, usual visit length and rooms; add, rename,
//! archive or restore a queue.

use super::{failure, named, problem, slug_field, Actions};
use crate::console::ClinicConsole;
use crate::domain::Queue;
use leptos::prelude::*;

#[component]
pub(super) fn QueuesPanel(console: ClinicConsole, actions: Actions) -> AnyView {
    let Actions {
        save_queue,
        archive,
        ..
    } = actions;
    let named = named(&console);
    let queue_row = {
        let named = named.clone();
        move |q: Queue| {
            let (named, named_too) = (named.clone(), named.clone());
            let minutes = q
                .default_service_minutes
                .map(|m| m.to_string())
                .unwrap_or_default();
            view! {
                <li class="queue-row" data-testid="queue-row">
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
            <p class="muted small">"Rooms: where the queue's patients are seen, separated by commas. Each desk chooses its room, and every call tells the patient, the board and the messages where to go."</p>
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
