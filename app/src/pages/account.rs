//! The signed-in staff member's account (`/account`): who they are and a new password.
//! Someone whose password was chosen by another person lands here first.

use super::clinic::SignInOrProblem;
use super::frame::Frame;
use crate::api::{load_account, ChangePassword, Logout};
use crate::domain::Role;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountPage() -> impl IntoView {
    let account = Resource::new(|| (), |_| load_account());
    let change = ServerAction::<ChangePassword>::new();
    let logout = ServerAction::<Logout>::new();
    let failed = move || {
        change
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    view! {
        <Title text="Account"/>
        <Frame>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match account.await {
                        Ok(me) => view! {
                            <section class="login">
                                <h1>"Your account"</h1>
                                <p class="muted">{me.email.clone()}" · "{match me.role {
                                    Role::SuperAdmin => "platform operator",
                                    Role::Owner => "clinic owner",
                                    Role::Receptionist => "receptionist",
                                }}</p>
                                {me.must_change_password.then(|| view! {
                                    <p class="notice notice-warn" role="status">"Your password was given to you by someone else. Choose your own to continue."</p>
                                })}
                                <ActionForm action=change>
                                    <div class="form card">
                                        <label class="field"><span>"Current password"</span>
                                            <input name="current_password" type="password" required autocomplete="current-password"/></label>
                                        <label class="field"><span>"New password (at least 10 characters)"</span>
                                            <input name="new_password" type="password" required minlength="10" autocomplete="new-password"/></label>
                                        {move || failed().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                                        <button class="button button-primary button-block" type="submit" disabled=move || change.pending().get()>"Change password"</button>
                                    </div>
                                </ActionForm>
                                <ActionForm action=logout><button class="button" type="submit">"Sign out"</button></ActionForm>
                            </section>
                        }.into_any(),
                        Err(e) => view! { <SignInOrProblem error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </Frame>
    }
}
