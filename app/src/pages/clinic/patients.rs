//! Patient data: how long the clinic keeps it, one patient's data found by phone (to
//! hand over as JSON) or erased, and the erasure requests patients sent on WhatsApp.

use super::{named, problem, slug_field, Actions};
use crate::console::{ClinicConsole, Erased, PatientData};
use crate::domain::percent_encoded;
use leptos::prelude::*;

/// The form that erases one phone's data, behind an "I understand" box.
fn erase_form(
    actions: Actions,
    slug: Option<String>,
    phone: String,
    label: String,
) -> impl IntoView {
    let erase = actions.erase;
    view! {
        <ActionForm action=erase>
            <div class="form form-inline">
                {slug_field(slug)}
                <input type="hidden" name="phone" value=phone/>
                <label class="check"><input type="checkbox" name="confirm" value="on" required/>" I understand this cannot be undone"</label>
                <button class="button button-danger" type="submit" disabled=move || erase.pending().get()>{label}</button>
            </div>
        </ActionForm>
    }
}

/// "1 visit", "3 visits".
fn counted(n: impl Into<u64>, what: &str) -> String {
    match n.into() {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    }
}

fn found(data: PatientData, actions: Actions, slug: Option<String>) -> impl IntoView {
    let r = &data.record;
    let summary = format!(
        "{}: {}, {}{}{}.",
        data.phone,
        counted(r.visits.len() as u64, "visit"),
        counted(r.messages.len() as u64, "message"),
        if r.whatsapp_stopped {
            ", said STOP on WhatsApp"
        } else {
            ""
        },
        if r.erasure_requested_at.is_some() {
            ", asked to be erased"
        } else {
            ""
        },
    );
    let download = format!(
        "data:application/json;charset=utf-8,{}",
        percent_encoded(&data.export_json)
    );
    let file = format!("patient-{}.json", data.phone.trim_start_matches('+'));
    let visits = r
        .visits
        .iter()
        .map(|v| {
            let line = format!(
                "{} · {} · {} · {} · {}",
                v.date,
                v.queue,
                v.token,
                v.name,
                v.status.to_lowercase()
            );
            view! { <li>{line}</li> }
        })
        .collect_view();
    view! {
        <div class="patient-found" data-testid="patient-found">
            <p role="status">{summary}</p>
            <ul class="small">{visits}</ul>
            <p><a class="button" href=download download=file>"Download as JSON"</a></p>
            {erase_form(actions, slug, data.phone.clone(), "Erase this patient's data".to_owned())}
        </div>
    }
}

fn erased(erased: Erased) -> String {
    let removed = erased.removed;
    format!(
        "Erased: {} anonymised, {} emptied, {} and {} deleted.",
        counted(removed.tokens, "visit"),
        counted(removed.messages, "message"),
        counted(removed.inbound, "WhatsApp message"),
        counted(removed.windows, "conversation"),
    )
}

#[component]
pub(super) fn PatientsPanel(console: ClinicConsole, actions: Actions) -> AnyView {
    let find = actions.find_patient;
    let erase = actions.erase;
    let slug = named(&console);
    let kept = console
        .clinic
        .settings
        .retention_days
        .filter(|d| *d < console.platform_retention_days)
        .unwrap_or(console.platform_retention_days);
    let requests = console
        .erasure_requests
        .iter()
        .map(|r| {
            let label = format!("Erase {}", r.phone);
            view! {
                <li>
                    <span>{format!("{}, asked {}", r.phone, r.requested_at)}</span>
                    {erase_form(actions, slug.clone(), r.phone.clone(), label)}
                </li>
            }
        })
        .collect_view();
    let any_requests = !console.erasure_requests.is_empty();
    let find_slug = slug.clone();
    view! {
        <div class="card card-wide" data-testid="patient-data">
            <h2>"Patient data"</h2>
            <p class="small muted">{format!(
                "Patients' names, numbers, addresses, feedback and messages are kept {kept} days, then removed; \
                 tokens stay, by number only, so analytics keep their figures."
            )}</p>
            {any_requests.then(|| view! {
                <h3>"Erasure requests sent on WhatsApp"</h3>
                <ul class="erasure-requests">{requests}</ul>
            })}
            <ActionForm action=find>
                <div class="form form-inline">
                    {slug_field(find_slug)}
                    <label class="field"><span>"Patient's phone"</span><input name="phone" type="tel" required/></label>
                    <button class="button" type="submit" disabled=move || find.pending().get()>"Find data"</button>
                </div>
            </ActionForm>
            {move || find.value().get().map(|r| match r {
                // Once erased, what was found is gone from the page too.
                Ok(data) if erase.value().get().is_some_and(|e| e.is_ok_and(|e| e.phone == data.phone)) => ().into_any(),
                Ok(data) => found(data, actions, slug.clone()).into_any(),
                Err(e) => problem(Some(e.to_string())).into_any(),
            })}
            {move || erase.value().get().map(|r| match r {
                Ok(removed) => view! { <p class="notice notice-ok" role="status">{erased(removed)}</p> }.into_any(),
                Err(e) => problem(Some(e.to_string())).into_any(),
            })}
        </div>
    }
    .into_any()
}
