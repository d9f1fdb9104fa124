//! The operator's status controls: reactivate, suspend or disable a clinic with a
//! reason, or delete it.

use super::{failure, problem, Actions};
use crate::console::ClinicConsole;
use crate::domain::ClinicStatus;
use leptos::prelude::*;

#[component]
pub(super) fn StatusPanel(console: ClinicConsole, actions: Actions) -> AnyView {
    let Actions { status, delete, .. } = actions;
    let slug = console.clinic.slug.to_string();
    let current = console.clinic.status;
    let choices = [
        (ClinicStatus::Active, "Reactivate"),
        (ClinicStatus::Suspended, "Suspend"),
        (ClinicStatus::Disabled, "Disable"),
    ];
    // One reason box for all status buttons: each button's form copies it when submitted.
    let reason = RwSignal::new(String::new());
    view! {
        <div class="card operator-card">
            <h2>"Status"</h2>
            <div class="form form-row">
                <label class="field"><span>"Reason (kept in the audit log, shown to the clinic)"</span>
                    <input maxlength="200" bind:value=reason/></label>
                {choices.into_iter().filter(|(s, _)| *s != current).map(|(s, label)| {
                    let slug = slug.clone();
                    view! {
                    <ActionForm action=status>
                        <input type="hidden" name="slug" value=slug/>
                        <input type="hidden" name="status" value=s.as_str()/>
                        <input type="hidden" name="reason" prop:value=move || reason.get()/>
                        <button class="button" type="submit">{label}</button>
                    </ActionForm>
                }}).collect_view()}
            </div>
            {move || problem(failure(status)())}
            <details class="danger-zone">
                <summary>"Delete this clinic"</summary>
                <p class="small">"Deleting removes the clinic's queues, tokens (with patients' names and phones), staff accounts and their sessions. The audit log keeps its rows. Refused while patients wait in any queue."</p>
                <ActionForm action=delete>
                    <div class="form form-row">
                        <input type="hidden" name="slug" value=slug.clone()/>
                        <label class="field"><span>{format!("Type \"{slug}\" to confirm")}</span><input name="confirm" autocomplete="off"/></label>
                        <button class="button button-danger" type="submit">"Delete clinic"</button>
                    </div>
                </ActionForm>
                {move || problem(failure(delete)())}
            </details>
        </div>
    }
    .into_any()
}
