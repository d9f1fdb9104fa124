//! Settings: the clinic's name and contact details, languages, QR joining, limits and
//! when patients are notified.

use super::{failure, named, problem, slug_field, Actions};
use crate::console::ClinicConsole;
use leptos::prelude::*;

fn on_off(name: &'static str, label: &'static str, on: bool) -> impl IntoView {
    view! {
        <label class="field"><span>{label}</span>
            <select name=name>
                <option value="on" selected=on>"On"</option>
                <option value="off" selected=!on>"Off"</option>
            </select>
        </label>
    }
}

fn number_field(name: &'static str, label: &'static str, value: u32) -> impl IntoView {
    view! {
        <label class="field field-short"><span>{label}</span><input name=name value=value inputmode="numeric" required/></label>
    }
}

#[component]
pub(super) fn SettingsPanel(console: ClinicConsole, actions: Actions) -> AnyView {
    let save = actions.settings;
    let c = console.clinic.clone();
    let s = c.settings.clone();
    let langs = s
        .languages
        .iter()
        .map(|l| l.as_str().to_lowercase())
        .collect::<Vec<_>>()
        .join(",");
    let saved = move || save.value().get().is_some_and(|r| r.is_ok());
    let named = named(&console);
    view! {
        <div class="card card-wide">
            <h2>"Settings"</h2>
            <ActionForm action=save>
                <div class="form settings-form">
                    {slug_field(named.clone())}
                    <label class="field"><span>"Clinic name"</span><input name="settings[name]" value=c.name.clone() required maxlength="80"/></label>
                    <label class="field"><span>"Address"</span><input name="settings[address]" value=c.address.clone() maxlength="200"/></label>
                    <label class="field"><span>"Contact phone"</span><input name="settings[contact_phone]" value=c.contact_phone.clone() type="tel"/></label>
                    <label class="field"><span>"Timezone"</span><input name="settings[timezone]" value=c.timezone.to_string() required/></label>
                    <label class="field field-short"><span>"Country for phone numbers"</span><input name="settings[default_country]" value=s.default_country.to_string() maxlength="2" required/></label>
                    <label class="field"><span>"Languages for patients"</span>
                        <select name="settings[languages]">
                            {[("en,hi", "English and Hindi"), ("hi,en", "Hindi and English"), ("en", "English only"), ("hi", "Hindi only")].into_iter().map(|(v, label)| {
                                view! { <option value=v selected=langs == v>{label}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    {on_off("settings[qr_intake_enabled]", "Joining by QR code", s.qr_intake_enabled)}
                    {number_field("settings[max_tokens_per_phone_per_day]", "Tokens per phone per day", s.max_tokens_per_phone_per_day)}
                    {number_field("settings[eta_min_minutes]", "Shortest visit (min)", s.eta_min_minutes)}
                    {number_field("settings[eta_max_minutes]", "Longest visit (min)", s.eta_max_minutes)}
                    {number_field("settings[notify_when_ahead]", "Notify when this many are ahead", s.notify_when_ahead)}
                    <label class="field field-short"><span>"Keep patients' data (days)"</span>
                        <input name="settings[retention_days]" value=s.retention_days.map(|d| d.to_string()).unwrap_or_default()
                            inputmode="numeric" placeholder=console.platform_retention_days.to_string()/>
                    </label>
                    <p class="muted small">{format!("Empty: the platform's {} days. A clinic may keep less, not more.", console.platform_retention_days)}</p>
                    {console.operator.then(|| view! {
                        <fieldset class="operator-only">
                            <legend>"Set by the platform operator"</legend>
                            {on_off("settings[whatsapp_enabled]", "WhatsApp messages", s.whatsapp_enabled)}
                            {on_off("settings[whatsapp_template_mode]", "WhatsApp templates outside the 24-hour window", s.whatsapp_template_mode)}
                            {number_field("settings[daily_token_limit]", "Tokens per day", s.daily_token_limit)}
                            {number_field("settings[daily_message_limit]", "Messages per day", s.daily_message_limit)}
                            {number_field("settings[joins_per_ip_per_hour]", "Joins per network per hour", s.joins_per_ip_per_hour)}
                        </fieldset>
                    })}
                    {(!console.operator).then(|| view! {
                        <p class="muted small">
                            {format!("Set by the platform operator: {} tokens and {} messages a day; WhatsApp {}.",
                                s.daily_token_limit, s.daily_message_limit, if s.whatsapp_enabled { "on" } else { "off" })}
                        </p>
                    })}
                    <button class="button button-primary" type="submit" disabled=move || save.pending().get()>"Save settings"</button>
                </div>
            </ActionForm>
            {move || problem(failure(save)())}
            {move || saved().then(|| view! { <p class="notice notice-ok" role="status">"Settings saved."</p> })}
        </div>
    }
    .into_any()
}
