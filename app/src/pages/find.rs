//! "Find my token" (`/c/{slug}/find`): a patient whose tracker tab (or QR scanner's
//! browser) is gone, on this or another device, types their mobile number and gets the
//! link *sent* to it, never shown here. A plain form, rendered on the server: nothing to
//! hydrate, so it costs a patient's phone no WebAssembly.

use super::form::{FieldError, FormError, Refusal};
use super::join::ClinicPage;
use crate::api::{FindToken, JoinInfo, ReturnedForm};
use crate::domain::Language;
use crate::i18n::{tr, Text};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn FindTokenPage() -> impl IntoView {
    let query = use_query_map();
    view! {
        <ClinicPage form=FindToken::PATH page=move |p: JoinInfo, lang, back| {
            let sent = query.read().get("sent").is_some();
            view! {
                <Title text=tr(lang, Text::FindHeading)/>
                <FindForm page=p lang sent back/>
            }
            .into_any()
        }/>
    }
}

#[component]
fn FindForm(
    page: JoinInfo,
    lang: Language,
    sent: bool,
    back: Option<ReturnedForm>,
) -> impl IntoView {
    let phone = back.as_ref().and_then(|b| b.value("phone"));
    let refusal = Refusal::kept(RwSignal::new(back.map(|b| b.error)));
    let join = format!("/c/{}?lang={}", page.slug, lang.as_str());
    view! {
        <section class="join">
            <p class="eyebrow">{page.clinic_name.clone()}</p>
            <h1>{tr(lang, Text::FindHeading)}</h1>
            <p>{tr(lang, Text::FindHelp)}</p>
            {sent.then(|| view! { <p class="notice notice-ok" role="status" data-testid="find-sent">{tr(lang, Text::FindSent)}</p> })}
            <form method="post" action=FindToken::PATH>
                <div class="form card">
                    <input type="hidden" name="slug" value=page.slug.clone()/>
                    <input type="hidden" name="lang" value=lang.as_str()/>
                    <label class="field">
                        <span>{tr(lang, Text::YourPhone)}</span>
                        <input name="phone" type="tel" required inputmode="tel" autocomplete="tel"
                            placeholder=page.phone_example.clone() value=phone
                            aria-invalid=refusal.invalid("phone") aria-errormessage="phone-error"/>
                    </label>
                    <FieldError refusal field="phone"/>
                    <FormError refusal placed=&["phone"]/>
                    <button type="submit" class="button button-primary button-block">{tr(lang, Text::SendLink)}</button>
                </div>
            </form>
            <p><a href=join rel="external">{tr(lang, Text::BackToJoin)}</a></p>
        </section>
    }
}
