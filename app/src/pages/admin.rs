//! The tenant console (`/admin`) for the platform operator: platform health, every clinic
//! with today's usage, opening a clinic with its owner, and the audit log (`/admin/audit`).

use super::clinic::SignInOrProblem;
use super::frame::{Frame, Width};
use crate::api::{list_clinics, load_audit, platform_health, CreateClinic, Logout};
use crate::console::{ClinicSummary, Health};
use crate::domain::Timestamp;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn when(ms: i64) -> String {
    Timestamp(ms)
        .to_utc()
        .format("%Y-%m-%d %H:%M UTC")
        .to_string()
}

#[component]
fn AdminNav() -> AnyView {
    let logout = ServerAction::<Logout>::new();
    view! {
        <nav class="staff-links" aria-label="Console">
            <a href="/admin">"Clinics"</a>
            <a href="/admin/audit">"Audit log"</a>
            <a href="/account">"Account"</a>
            <ActionForm action=logout><button class="button" type="submit">"Sign out"</button></ActionForm>
        </nav>
    }
    .into_any()
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("q").unwrap_or_default();
    let create = ServerAction::<CreateClinic>::new();
    let clinics = Resource::new(
        move || (search(), create.version().get()),
        |(q, _)| list_clinics(q),
    );
    let health = Resource::new(|| (), |_| platform_health());
    let created = move || create.value().get();
    view! {
        <Title text="Tenant console"/>
        <Frame width=Width::Wide>
            <section class="console" data-testid="admin">
                <header class="console-head">
                    <div><p class="eyebrow">"Platform"</p><h1>"Tenant console"</h1></div>
                    <AdminNav/>
                </header>
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match health.await {
                            Ok(h) => view! { <HealthPanel health=h/> }.into_any(),
                            Err(e) => view! { <SignInOrProblem error=e/> }.into_any(),
                        }
                    })}
                </Suspense>
                <div class="card card-wide">
                    <div class="card-head">
                        <h2>"Clinics"</h2>
                        <form method="get" action="/admin" class="form form-row" role="search">
                            <label class="field"><span>"Search by name or short name"</span>
                                <input type="search" name="q" value=search/></label>
                            <button class="button" type="submit">"Search"</button>
                        </form>
                    </div>
                    <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                        {move || Suspend::new(async move {
                            match clinics.await {
                                Ok(list) => view! { <ClinicTable clinics=list/> }.into_any(),
                                Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                            }
                        })}
                    </Suspense>
                </div>
                <div class="card card-wide">
                    <h2>"Open a clinic"</h2>
                    <ActionForm action=create>
                        <div class="form form-row">
                            <label class="field"><span>"Clinic name"</span><input name="name" required maxlength="80"/></label>
                            <label class="field"><span>"Short name (for its links)"</span><input name="slug" required maxlength="40" placeholder="sunrise-clinic"/></label>
                            <label class="field"><span>"Timezone"</span><input name="timezone" value="Asia/Kolkata" required/></label>
                            <label class="field field-short"><span>"Country"</span><input name="default_country" value="IN" maxlength="2" required/></label>
                            <label class="field"><span>"Owner's email"</span><input name="owner_email" type="email" required/></label>
                            <button class="button button-primary" type="submit" disabled=move || create.pending().get()>"Open clinic"</button>
                        </div>
                    </ActionForm>
                    {move || match created() {
                        Some(Ok(c)) => view! {
                            <div class="notice notice-ok" role="status" data-testid="created-clinic">
                                <p>"Clinic " <a href=format!("/admin/c/{}", c.slug)>{c.slug.clone()}</a> " is open on trial with a General queue."</p>
                                <p>"Give the owner these details. The password is shown only now and must be changed at the first sign-in."</p>
                                <p class="one-time"><span>"Email: " <code data-testid="one-time-email">{c.owner.email.clone()}</code></span>
                                   <span>"Password: " <code data-testid="one-time-password">{c.owner.password.clone()}</code></span></p>
                            </div>
                        }.into_any(),
                        Some(Err(e)) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        None => ().into_any(),
                    }}
                </div>
            </section>
        </Frame>
    }
}

#[component]
fn HealthPanel(health: Health) -> AnyView {
    let database = match &health.database_problem {
        None => format!("{} · answers in {} ms", health.backend, health.database_ms),
        Some(problem) => format!("{}: {problem}", health.backend),
    };
    let worker = match health.worker_lag_seconds {
        None => "Nothing waiting to be sent".to_owned(),
        Some(s) => format!("Oldest message waiting: {s} s"),
    };
    view! {
        <dl class="counters health" data-testid="health">
            <div><dt>"Database"</dt><dd class={if health.database_problem.is_some() { "bad" } else { "good" }}>{database}</dd></div>
            <div><dt>"Background work"</dt><dd>{worker}</dd></div>
            <div><dt>"Clinics"</dt><dd>{health.clinics}</dd></div>
            <div><dt>"Tokens today"</dt><dd>{health.tokens_today}</dd></div>
            <div><dt>"Version"</dt><dd>{health.version}</dd></div>
        </dl>
        <div class="card" data-testid="platform-delivery">
            <h2>"Notifications, every clinic, last 30 days"</h2>
            <super::clinic::DeliveryTable stats=health.delivery/>
        </div>
    }
    .into_any()
}

#[component]
fn ClinicTable(clinics: Vec<ClinicSummary>) -> impl IntoView {
    if clinics.is_empty() {
        return view! { <p class="muted">"No clinic matches."</p> }.into_any();
    }
    view! {
        <div class="table-scroll" tabindex="0" role="region" aria-label="Clinics"><table class="table" data-testid="clinics">
            <thead><tr><th>"Clinic"</th><th>"Status"</th><th>"Tokens today"</th><th>"Queues open today"</th><th>"WhatsApp, 24 h"</th><th>"Reached, 24 h"</th><th>"Since"</th></tr></thead>
            <tbody>
                {clinics.into_iter().map(|c| view! {
                    <tr>
                        <td><a href=format!("/admin/c/{}", c.slug)>{c.name}</a><br/><span class="muted small">{c.slug}</span></td>
                        <td><span class=format!("status status-{}", c.status.as_str().to_lowercase())>{c.status.as_str()}</span>
                            {(!c.status_reason.is_empty()).then(|| view! { <br/><span class="muted small">{c.status_reason}</span> })}</td>
                        <td>{c.tokens_today}</td>
                        <td>{c.active_queues}</td>
                        <td>{format!("{} sent · {} failed", c.messages_sent, c.messages_failed)}</td>
                        <td class="small">{reached_words(&c.delivery)}</td>
                        <td class="small">{when(c.created_at)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table></div>
    }
    .into_any()
}

/// "push 60% · WhatsApp 30% · SMS 5% · none 5%" of a clinic's notifications.
fn reached_words(stats: &crate::console::DeliveryStats) -> String {
    if stats.notifications == 0 {
        return "—".to_owned();
    }
    stats
        .reached
        .iter()
        .map(|(c, _)| format!("{} {}%", c.label(), stats.share(*c)))
        .chain([format!("none {}%", stats.not_reached_share())])
        .collect::<Vec<_>>()
        .join(" · ")
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let field = move |name: &'static str| move || query.read().get(name).unwrap_or_default();
    let (clinic, action, actor) = (field("clinic"), field("action"), field("actor"));
    let rows = Resource::new(
        move || (clinic(), action(), actor()),
        |(c, a, who)| load_audit(c, a, who),
    );
    view! {
        <Title text="Audit log"/>
        <Frame width=Width::Wide>
            <section class="console">
                <header class="console-head">
                    <div><p class="eyebrow">"Platform"</p><h1>"Audit log"</h1></div>
                    <AdminNav/>
                </header>
                <form method="get" action="/admin/audit" class="form form-row card" role="search">
                    <label class="field"><span>"Clinic"</span><input name="clinic" value=clinic/></label>
                    <label class="field"><span>"Action"</span><input name="action" value=action placeholder="SUSPEND"/></label>
                    <label class="field"><span>"Who"</span><input name="actor" value=actor placeholder="email"/></label>
                    <button class="button" type="submit">"Filter"</button>
                </form>
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match rows.await {
                            Ok(rows) if rows.is_empty() => view! { <p class="muted">"Nothing matches."</p> }.into_any(),
                            Ok(rows) => view! {
                                <div class="table-scroll card" tabindex="0" role="region" aria-label="Audit log"><table class="table" data-testid="audit">
                                    <thead><tr><th>"When"</th><th>"Who"</th><th>"From"</th><th>"Action"</th><th>"Clinic"</th><th>"Target"</th></tr></thead>
                                    <tbody>
                                        {rows.into_iter().map(|r| view! {
                                            <tr><td class="small">{when(r.at)}</td><td>{r.actor}</td><td><code>{r.ip}</code></td>
                                                <td>{r.action}</td><td>{r.clinic}</td><td>{r.target}</td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table></div>
                            }.into_any(),
                            Err(e) => view! { <SignInOrProblem error=e/> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </Frame>
    }
}
