//! SMS: the clinic's own account for "your turn" messages that nothing else delivered.

use super::{connection_test, slug_field, Messaging};
use leptos::prelude::*;

/// The clinic's SMS account, for "your turn" when no push or WhatsApp reaches a patient.
#[component]
pub(super) fn SmsPanel(slug: Option<String>, messaging: Messaging) -> AnyView {
    let Messaging {
        sms: data,
        save_sms: save,
        test_sms: test,
        ..
    } = messaging;
    let test_slug = slug.clone();
    view! {
        <div class="card" data-testid="sms">
            <h2>"SMS for \"your turn\""</h2>
            <p class="small muted">"A Twilio-compatible account. Only \"your turn\" goes by SMS, and only to patients no alert or WhatsApp message reached; each SMS costs the clinic."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let slug = slug.clone();
                    Suspend::new(async move {
                        let sms = match data.await {
                            Ok(sms) => sms,
                            Err(e) => return view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        };
                        view! {
                            <p class="small" data-testid="sms-state">{if sms.configured {
                                format!("Sending from {} · auth token {}", sms.from_number, sms.auth_token)
                            } else {
                                "No SMS provider: patients without alerts or WhatsApp are not messaged.".to_owned()
                            }}</p>
                            <ActionForm action=save>
                                <div class="form">
                                    {slug_field(slug.clone())}
                                    <label class="field"><span>"Account SID"</span>
                                        <input name="sms[account_sid]" value=sms.account_sid.clone() autocomplete="off"/></label>
                                    <label class="field"><span>"Auth token"</span>
                                        <input name="sms[auth_token]" type="password" autocomplete="off" placeholder="unchanged when empty"/></label>
                                    <label class="field"><span>"Sender (number or sender id)"</span>
                                        <input name="sms[from_number]" value=sms.from_number.clone()/></label>
                                    <label class="choice"><input type="checkbox" name="sms[remove]" value="true"/><span>"Remove the SMS provider"</span></label>
                                    <button class="button button-primary" type="submit" disabled=move || save.pending().get()>"Save SMS"</button>
                                </div>
                            </ActionForm>
                        }.into_any()
                    })
                }}
            </Suspense>
            {move || save.value().get().and_then(Result::err).map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
            <ActionForm action=test>
                {slug_field(test_slug)}
                <button class="button" type="submit" disabled=move || test.pending().get()>"Test SMS account"</button>
            </ActionForm>
            {connection_test(test)}
        </div>
    }
    .into_any()
}
