//! Staff: who can sign in to the clinic, adding a receptionist or owner, and resetting
//! or deactivating an account.

use super::{failure, named, problem, slug_field, Actions};
use crate::console::{ClinicConsole, OneTimeLogin};
use crate::domain::Role;
use leptos::prelude::*;

/// A password shown once, to be handed over.
fn one_time(login: Option<OneTimeLogin>) -> impl IntoView {
    login.map(|l| {
        view! {
            <div class="notice notice-ok" role="status" data-testid="one-time-login">
                <p>"Give these to " <strong>{l.email.clone()}</strong> ". The password is shown only now and must be changed at the first sign-in."</p>
                <p class="one-time"><span>"Email: " <code data-testid="one-time-email">{l.email}</code></span>
                   <span>"Password: " <code data-testid="one-time-password">{l.password}</code></span></p>
            </div>
        }
    })
}

#[component]
pub(super) fn StaffPanel(console: ClinicConsole, actions: Actions) -> AnyView {
    let Actions {
        add_staff,
        reset,
        active,
        ..
    } = actions;
    let me = console.me;
    let named = named(&console);
    let added = move || add_staff.value().get().and_then(Result::ok);
    let was_reset = move || reset.value().get().and_then(Result::ok);
    view! {
        <div class="card">
            <h2>"Staff"</h2>
            {move || one_time(added())}
            {move || one_time(was_reset())}
            {move || problem(failure(reset)())}
            {move || problem(failure(active)())}
            <div class="table-scroll" tabindex="0" role="region" aria-label="Staff accounts"><table class="table" data-testid="staff">
                <thead><tr><th>"Email"</th><th>"Role"</th><th>"Status"</th><th></th></tr></thead>
                <tbody>
                    {console.staff.into_iter().map(|member| {
                        let id = member.id;
                        let role = match member.role {
                            Role::Owner => "Owner",
                            Role::Receptionist => "Receptionist",
                            Role::SuperAdmin => "Operator",
                        };
                        let state = match (member.active, member.must_change_password) {
                            (false, _) => "Deactivated",
                            (true, true) => "Must set a password",
                            (true, false) => "Active",
                        };
                        let next_active = (!member.active).to_string();
                        view! {
                            <tr>
                                <td>{member.email}</td>
                                <td>{role}</td>
                                <td>{state}</td>
                                <td class="row-actions">
                                    {(id != me).then(|| view! {
                                        <ActionForm action=reset>
                                            <input type="hidden" name="user_id" value=id/>
                                            <button class="button small" type="submit">"Reset password"</button>
                                        </ActionForm>
                                        <ActionForm action=active>
                                            <input type="hidden" name="user_id" value=id/>
                                            <input type="hidden" name="active" value=next_active/>
                                            <button class="button small" type="submit">{if member.active { "Deactivate" } else { "Reactivate" }}</button>
                                        </ActionForm>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table></div>
            <h3>"Add staff"</h3>
            <ActionForm action=add_staff>
                <div class="form form-row">
                    {slug_field(named.clone())}
                    <label class="field"><span>"Email"</span><input name="email" type="email" required/></label>
                    <label class="field"><span>"Role"</span>
                        <select name="role">
                            <option value="RECEPTIONIST" selected>"Receptionist"</option>
                            <option value="OWNER">"Owner"</option>
                        </select>
                    </label>
                    <button class="button button-primary" type="submit" disabled=move || add_staff.pending().get()>"Add staff"</button>
                </div>
            </ActionForm>
            {move || problem(failure(add_staff)())}
        </div>
    }
    .into_any()
}
