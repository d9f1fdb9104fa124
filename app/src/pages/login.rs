//! Staff sign-in (`/login`). On success the server sets the session cookie and sends the
//! receptionist or owner to the desk. Works without JavaScript: a refusal comes back to
//! this page with the email typed.

use super::form::{returned_to, FormError, Refusal};
use super::frame::Frame;
use crate::api::Login;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

#[component]
pub fn LoginPage() -> impl IntoView {
    let returned = returned_to(Login::PATH);
    view! {
        <Title text="Staff login"/>
        <Frame>
            <section class="login">
                <h1>"Staff login"</h1>
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        let back = returned.await.ok().flatten();
                        let email = back.as_ref().and_then(|b| b.value("email"));
                        view! { <LoginForm email back=back.map(|b| b.error)/> }
                    })}
                </Suspense>
            </section>
        </Frame>
    }
}

#[component]
fn LoginForm(email: Option<String>, back: Option<crate::api::RefusalWords>) -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let refusal = Refusal::of(login, back);
    view! {
        <ActionForm action=login>
            <div class="form card">
                <label class="field">
                    <span>"Email"</span>
                    <input name="email" type="email" required autocomplete="username" value=email/>
                </label>
                <label class="field">
                    <span>"Password"</span>
                    <input name="password" type="password" required autocomplete="current-password"/>
                </label>
                <FormError refusal placed=&[]/>
                <button type="submit" class="button button-primary button-block" disabled=move || login.pending().get()>
                    "Sign in"
                </button>
            </div>
        </ActionForm>
    }
}
