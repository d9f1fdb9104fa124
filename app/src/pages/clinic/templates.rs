//! Message templates: the wording of each message patients receive, with a live preview.

use super::Messaging;
use crate::api::SaveTemplate;
use leptos::prelude::*;

/// The message templates, one at a time: pick a message and language, edit, and the
/// preview (the same rendering the real messages use) follows every keystroke.
#[component]
pub(super) fn TemplatesPanel(
    slug: Option<String>,
    clinic_name: String,
    messaging: Messaging,
) -> AnyView {
    use crate::messages::{render, validate, Vars, VARIABLES};
    let Messaging {
        templates: lines,
        save_template: save,
        ..
    } = messaging;
    let chosen = RwSignal::new(0usize);
    let body = RwSignal::new(String::new());
    let sample = StoredValue::new(Vars::sample(&clinic_name));
    let preview = move || sample.with_value(|vars| render(&body.get(), vars));
    let problem_now = move || validate(&body.get()).err().map(|e| e.to_string());
    view! {
        <div class="card card-wide" data-testid="templates">
            <h2>"Message templates"</h2>
            <p class="small muted">"Variables: "
                {VARIABLES.iter().map(|(name, what)| format!("{{{name}}} {what}")).collect::<Vec<_>>().join(" · ")}</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let slug = slug.clone();
                    Suspend::new(async move {
                        let Ok(all) = lines.await else {
                            return view! { <p class="form-error" role="alert">"The templates could not be loaded."</p> }.into_any();
                        };
                        let pick = {
                            let all = all.clone();
                            move |i: usize| {
                                if let Some(line) = all.get(i) {
                                    chosen.set(i);
                                    body.set(line.body.clone());
                                }
                            }
                        };
                        pick(chosen.get_untracked());
                        let current = {
                            let all = all.clone();
                            move || all.get(chosen.get()).cloned()
                        };
                        view! {
                            <div class="form">
                                <label class="field"><span>"Message"</span>
                                    <select on:change=move |ev| pick(event_target_value(&ev).parse().unwrap_or(0))>
                                        {all.iter().enumerate().map(|(i, line)| view! {
                                            <option value=i selected=move || chosen.get() == i>
                                                {format!("{} · {} · {}{}", line.kind.label(), line.channel.label(), line.language.name(), if line.custom { " (yours)" } else { "" })}
                                            </option>
                                        }).collect_view()}
                                    </select>
                                </label>
                                <label class="field"><span>"Text"</span>
                                    <textarea rows="4" data-testid="template-body" prop:value=move || body.get()
                                        on:input=move |ev| body.set(event_target_value(&ev))></textarea>
                                </label>
                                {move || problem_now().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
                                <div class="template-preview">
                                    <span class="small muted">"Preview"</span>
                                    <p data-testid="template-preview">{preview}</p>
                                </div>
                                <div class="form-row">
                                    <button class="button button-primary" type="button" disabled=move || save.pending().get() || problem_now().is_some()
                                        on:click={
                                            let slug = slug.clone();
                                            let current = current.clone();
                                            move |_| if let Some(line) = current() {
                                                save.dispatch(SaveTemplate {
                                                    slug: slug.clone(),
                                                    kind: line.kind.as_str().to_owned(),
                                                    channel: Some(line.channel.as_str().to_owned()),
                                                    language: line.language.as_str().to_owned(),
                                                    body: body.get_untracked(),
                                                });
                                            }
                                        }>"Save template"</button>
                                    <button class="button" type="button"
                                        on:click={
                                            let slug = slug.clone();
                                            move |_| if let Some(line) = current() {
                                                save.dispatch(SaveTemplate {
                                                    slug: slug.clone(),
                                                    kind: line.kind.as_str().to_owned(),
                                                    channel: Some(line.channel.as_str().to_owned()),
                                                    language: line.language.as_str().to_owned(),
                                                    body: String::new(),
                                                });
                                            }
                                        }>"Back to Qline's wording"</button>
                                </div>
                            </div>
                        }.into_any()
                    })
                }}
            </Suspense>
            {move || save.value().get().map(|r| match r {
                Ok(()) => view! { <p class="notice notice-ok" role="status">"Template saved."</p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </div>
    }
    .into_any()
}
