//! The reception kiosk's code: set it here, then type it once on the kiosk tablet.

use super::{named, slug_field, Actions};
use crate::console::ClinicConsole;
use leptos::prelude::*;

/// The kiosk code (6 to 10 digits; empty turns the kiosk off) and the kiosk's address.
#[component]
pub(super) fn KioskPanel(console: ClinicConsole, actions: Actions) -> AnyView {
    let save = actions.kiosk;
    let set = console.kiosk_code.is_some();
    view! {
        <div class="card" data-testid="kiosk-settings">
            <h2>"Kiosk"</h2>
            <p class="small muted">
                "A tablet at reception where walk-ins take a token by touch, with an optional printed ticket. Open "
                <a href=console.kiosk_url.clone() target="_blank" rel="noopener">{console.kiosk_url.clone()}</a>
                " on it and type this code once. Without the code the kiosk issues nothing."
            </p>
            <ActionForm action=save>
                <div class="form">
                    {slug_field(named(&console))}
                    <label class="field"><span>"Kiosk code (6 to 10 digits; empty turns the kiosk off)"</span>
                        <input name="kiosk_code" inputmode="numeric" autocomplete="off" maxlength="10"
                            value=console.kiosk_code.clone().unwrap_or_default()/>
                    </label>
                    <button class="button button-primary" type="submit" disabled=move || save.pending().get()>"Save kiosk code"</button>
                </div>
            </ActionForm>
            {move || match save.value().get() {
                Some(Ok(Some(_))) => view! { <p class="notice notice-ok" role="status">"Kiosk code saved. Kiosks with the old code must type the new one."</p> }.into_any(),
                Some(Ok(None)) => view! { <p class="notice notice-ok" role="status">"The kiosk is off."</p> }.into_any(),
                Some(Err(e)) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                None => (!set).then(|| view! { <p class="muted small">"No kiosk code is set: the kiosk is off."</p> }).into_any(),
            }}
        </div>
    }
    .into_any()
}
