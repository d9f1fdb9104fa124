//! WhatsApp: connect the clinic's number through a provider and test the connection.

use super::{connection_test, slug_field, Messaging};
use leptos::prelude::*;

/// The clinic's WhatsApp connection: provider, number, secrets (masked), the webhook URL
/// to give the provider, today's messages against the limit, and "Test connection".
#[component]
pub(super) fn WhatsAppPanel(slug: Option<String>, messaging: Messaging) -> AnyView {
    let Messaging {
        whatsapp: data,
        save_whatsapp: save,
        test_whatsapp: test,
        ..
    } = messaging;
    let test_slug = slug.clone();
    let tested = connection_test(test);
    view! {
        <div class="card card-wide" data-testid="whatsapp">
            <h2>"WhatsApp"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let slug = slug.clone();
                    Suspend::new(async move {
                        match data.await {
                            Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                            Ok(w) => {
                                let provider = w.provider.map(|p| p.as_str()).unwrap_or("LOG");
                                let secrets = w.secrets.clone();
                                view! {
                                    <p class="muted">
                                        {if w.enabled { "Messages are on" } else { "Messages are off (the platform operator switches them on)" }}
                                        {format!(" · {} of {} messages sent today", w.messages_today, w.daily_limit)}
                                        {w.template_mode.then_some(" · templates outside the 24-hour window")}
                                    </p>
                                    {(!w.webhook_url.is_empty()).then(|| view! {
                                        <p class="small">"Webhook URL for the provider: " <code data-testid="webhook-url">{w.webhook_url.clone()}</code></p>
                                    })}
                                    <ActionForm action=save>
                                        <div class="form settings-form">
                                            {slug_field(slug.clone())}
                                            <label class="field"><span>"Provider"</span>
                                                <select name="whatsapp[provider]">
                                                    {[crate::console::ProviderKind::Log, crate::console::ProviderKind::UltraMsg, crate::console::ProviderKind::Meta].into_iter().map(|p| view! {
                                                        <option value=p.as_str() selected=p.as_str() == provider>{p.label()}</option>
                                                    }).collect_view()}
                                                </select>
                                            </label>
                                            <label class="field"><span>"Clinic's WhatsApp number"</span>
                                                <input name="whatsapp[phone_number]" type="tel" value=w.phone_number.clone() required/></label>
                                            <label class="field"><span>"UltraMsg instance id"</span>
                                                <input name="whatsapp[ultramsg_instance]" value=w.ultramsg_instance.clone()/></label>
                                            <label class="field"><span>"UltraMsg token"</span>
                                                <input name="whatsapp[ultramsg_token]" type="password" autocomplete="off" placeholder="unchanged when empty"/></label>
                                            <label class="field"><span>"Meta phone number id"</span>
                                                <input name="whatsapp[meta_phone_number_id]" value=w.meta_phone_number_id.clone() inputmode="numeric"/></label>
                                            <label class="field"><span>"Meta access token"</span>
                                                <input name="whatsapp[meta_access_token]" type="password" autocomplete="off" placeholder="unchanged when empty"/></label>
                                            <label class="field"><span>"Meta app secret"</span>
                                                <input name="whatsapp[meta_app_secret]" type="password" autocomplete="off" placeholder="unchanged when empty"/></label>
                                            <label class="field"><span>"Meta verify token"</span>
                                                <input name="whatsapp[meta_verify_token]" type="password" autocomplete="off" placeholder="unchanged when empty"/></label>
                                            <button class="button button-primary" type="submit" disabled=move || save.pending().get()>"Save WhatsApp"</button>
                                        </div>
                                    </ActionForm>
                                    {(!secrets.is_empty()).then(|| view! {
                                        <p class="small muted" data-testid="masked-secrets">"Stored: "
                                            {secrets.into_iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(" · ")}</p>
                                    })}
                                }.into_any()
                            }
                        }
                    })
                }}
            </Suspense>
            {move || save.value().get().and_then(Result::err).map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
            <ActionForm action=test>
                {slug_field(test_slug)}
                <button class="button" type="submit" disabled=move || test.pending().get()>"Test connection"</button>
            </ActionForm>
            {tested}
        </div>
    }
    .into_any()
}
