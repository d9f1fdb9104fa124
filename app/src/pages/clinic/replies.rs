//! Canned replies: the answers the desk sends to patients' WhatsApp messages in one tap.

use super::{named, slug_field, Actions};
use crate::console::ClinicConsole;
use leptos::prelude::*;

/// The replies the desk can send with one tap, one per line.
#[component]
pub(super) fn RepliesPanel(console: ClinicConsole, actions: Actions) -> AnyView {
    let save = actions.replies;
    view! {
        <div class="card" data-testid="canned-replies">
            <h2>"Canned replies"</h2>
            <p class="small muted">"One per line. The desk picks one to answer a patient's WhatsApp message."</p>
            <ActionForm action=save>
                <div class="form">
                    {slug_field(named(&console))}
                    <textarea name="replies" rows="5" aria-label="Canned replies">{console.canned_replies.join("\n")}</textarea>
                    <button class="button button-primary" type="submit" disabled=move || save.pending().get()>"Save replies"</button>
                </div>
            </ActionForm>
            {move || save.value().get().map(|r| match r {
                Ok(saved) => view! { <p class="notice notice-ok" role="status">{format!("{} replies saved.", saved.len())}</p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </div>
    }
    .into_any()
}
