//! Staff sign-in (`/login`). On success the server sets the session cookie and sends the
//! receptionist or owner to the desk.

use super::frame::Frame;
use crate::api::Login;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = move || {
        login
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    view! {
        <Title text="Staff login"/>
        <Frame>
            <section class="login">
                <h1>"Staff login"</h1>
                <ActionForm action=login>
                    <div class="form card">
                        <label class="field">
                            <span>"Email"</span>
                            <input name="email" type="email" required autocomplete="username"/>
                        </label>
                        <label class="field">
                            <span>"Password"</span>
                            <input name="password" type="password" required autocomplete="current-password"/>
                        </label>
                        {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                        <button type="submit" class="button button-primary button-block" disabled=move || login.pending().get()>
                            "Sign in"
                        </button>
                    </div>
                </ActionForm>
            </section>
        </Frame>
    }
}
