//! Clinic settings (`/clinic`, the owner's) and the operator's page for one clinic
//! (`/admin/c/{slug}`): staff, queues, settings, WhatsApp and SMS, templates, canned
//! replies, how notifications reached patients, 30 days of usage, the QR poster and the
//! display board; for the operator also status changes and deletion.

use super::frame::{Frame, Width};
use crate::api::{
    load_clinic, load_sms, load_templates, load_whatsapp, AddStaff, AppError, ArchiveQueue,
    DeleteClinic, ResetStaffPassword, SaveCannedReplies, SaveQueue, SaveSettings, SaveSms,
    SaveTemplate, SaveWhatsapp, SetClinicStatus, SetStaffActive, TestSms, TestWhatsapp,
};
use crate::console::{ClinicConsole, OneTimeLogin, SmsView, TemplateLine, UsageDay, WhatsAppView};
use crate::domain::{BusinessStatus, Queue, Role};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ClinicPage() -> impl IntoView {
    view! { <ClinicConsoleView slug=None/> }
}

#[component]
pub fn AdminClinicPage() -> impl IntoView {
    let params = use_params_map();
    let slug = params.read_untracked().get("slug");
    view! { <ClinicConsoleView slug=slug/> }
}

/// The message of a failed action, if its last run failed.
fn failure<A, T>(action: ServerAction<A>) -> impl Fn() -> Option<String> + Copy
where
    A: ServerFn<Output = T, Error = AppError> + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    }
}

/// What a "Test connection" button found: the provider's own words, connected or not.
fn connection_test<A>(test: ServerAction<A>) -> impl Fn() -> Option<AnyView> + Copy
where
    A: ServerFn<Output = Result<String, String>, Error = AppError> + Clone + Send + Sync + 'static,
{
    move || {
        test.value().get().map(|answer| match answer {
            Ok(Ok(said)) => view! { <p class="notice notice-ok test-result" role="status" data-testid="test-result">{format!("Connected: {said}")}</p> }.into_any(),
            Ok(Err(said)) => view! { <p class="form-error test-result" role="alert" data-testid="test-result">{format!("Not connected: {said}")}</p> }.into_any(),
            Err(e) => view! { <p class="form-error test-result" role="alert" data-testid="test-result">{e.to_string()}</p> }.into_any(),
        })
    }
}

fn problem(message: Option<String>) -> impl IntoView {
    message.map(|m| view! { <p class="form-error" role="alert">{m}</p> })
}

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
fn ClinicConsoleView(slug: Option<String>) -> impl IntoView {
    let add_staff = ServerAction::<AddStaff>::new();
    let reset = ServerAction::<ResetStaffPassword>::new();
    let active = ServerAction::<SetStaffActive>::new();
    let save_queue = ServerAction::<SaveQueue>::new();
    let archive = ServerAction::<ArchiveQueue>::new();
    let settings = ServerAction::<SaveSettings>::new();
    let status = ServerAction::<SetClinicStatus>::new();
    let delete = ServerAction::<DeleteClinic>::new();
    let replies = ServerAction::<SaveCannedReplies>::new();
    let asked = slug.clone();
    let data = Resource::new(
        move || {
            (
                add_staff.version().get(),
                reset.version().get(),
                active.version().get(),
                save_queue.version().get(),
                archive.version().get(),
                settings.version().get(),
                status.version().get(),
                replies.version().get(),
            )
        },
        move |_| load_clinic(asked.clone()),
    );
    // Every resource of the page is made here, in the page's own scope: one made inside
    // the Suspense below would run on after a re-render had disposed of its scope.
    let messaging = Messaging::new(slug.clone());
    let actions = Actions {
        add_staff,
        reset,
        active,
        save_queue,
        archive,
        settings,
        status,
        delete,
        replies,
    };
    view! {
        <Title text="Clinic settings"/>
        <Frame width=Width::Wide>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(console) => view! { <Console console=console actions=actions messaging=messaging/> }.into_any(),
                        Err(e) => view! { <SignInOrProblem error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </Frame>
    }
}

/// Why a staff page shows nothing: a sign-in prompt, or the refusal.
#[component]
pub fn SignInOrProblem(error: AppError) -> impl IntoView {
    use crate::domain::SignInError;
    match error {
        AppError::SignIn(SignInError::PasswordChangeRequired) => view! {
            <section class="notice">
                <h1>"Choose your own password first"</h1>
                <p>{error.to_string()}</p>
                <p><a class="button button-primary" href="/account">"Change password"</a></p>
            </section>
        }
        .into_any(),
        AppError::SignIn(_) => view! {
            <section class="notice">
                <h1>"Please sign in"</h1>
                <p>{error.to_string()}</p>
                <p><a class="button button-primary" href="/login">"Staff login"</a></p>
            </section>
        }
        .into_any(),
        other => view! { <super::join::Problem error=other/> }.into_any(),
    }
}

#[derive(Clone, Copy)]
struct Actions {
    add_staff: ServerAction<AddStaff>,
    reset: ServerAction<ResetStaffPassword>,
    active: ServerAction<SetStaffActive>,
    save_queue: ServerAction<SaveQueue>,
    archive: ServerAction<ArchiveQueue>,
    settings: ServerAction<SaveSettings>,
    status: ServerAction<SetClinicStatus>,
    delete: ServerAction<DeleteClinic>,
    replies: ServerAction<SaveCannedReplies>,
}

/// The WhatsApp connection and the message templates, with the actions that change them.
#[derive(Clone, Copy)]
struct Messaging {
    whatsapp: Resource<Result<WhatsAppView, AppError>>,
    save_whatsapp: ServerAction<SaveWhatsapp>,
    test_whatsapp: ServerAction<TestWhatsapp>,
    templates: Resource<Result<Vec<TemplateLine>, AppError>>,
    save_template: ServerAction<SaveTemplate>,
    sms: Resource<Result<SmsView, AppError>>,
    save_sms: ServerAction<SaveSms>,
    test_sms: ServerAction<TestSms>,
}

impl Messaging {
    fn new(slug: Option<String>) -> Self {
        let save_whatsapp = ServerAction::<SaveWhatsapp>::new();
        let save_template = ServerAction::<SaveTemplate>::new();
        let save_sms = ServerAction::<SaveSms>::new();
        let asked = slug.clone();
        let asked_sms = slug.clone();
        Messaging {
            whatsapp: Resource::new(
                move || save_whatsapp.version().get(),
                move |_| load_whatsapp(asked.clone()),
            ),
            save_whatsapp,
            test_whatsapp: ServerAction::new(),
            templates: Resource::new(
                move || save_template.version().get(),
                move |_| load_templates(slug.clone()),
            ),
            save_template,
            sms: Resource::new(
                move || save_sms.version().get(),
                move |_| load_sms(asked_sms.clone()),
            ),
            save_sms,
            test_sms: ServerAction::new(),
        }
    }
}

/// The clinic's slug when the operator manages it (forms then name the clinic).
fn named(console: &ClinicConsole) -> Option<String> {
    console.operator.then(|| console.clinic.slug.to_string())
}

/// The hidden field that names the clinic, for the operator's forms.
fn slug_field(slug: Option<String>) -> impl IntoView {
    slug.map(|slug| view! { <input type="hidden" name="slug" value=slug/> })
}

fn status_word(status: BusinessStatus) -> &'static str {
    match status {
        BusinessStatus::Trial => "Trial",
        BusinessStatus::Active => "Active",
        BusinessStatus::Suspended => "Suspended",
        BusinessStatus::Disabled => "Disabled",
    }
}

#[component]
fn Console(console: ClinicConsole, actions: Actions, messaging: Messaging) -> AnyView {
    let clinic = console.clinic.clone();
    let poster = if console.operator {
        format!("/clinic/poster?slug={}", clinic.slug)
    } else {
        "/clinic/poster".to_owned()
    };
    let analytics = if console.operator {
        format!("/admin/c/{}/analytics", clinic.slug)
    } else {
        "/clinic/analytics".to_owned()
    };
    let status = clinic.status;
    view! {
        <section class="console" data-testid="clinic-console">
            <header class="console-head">
                <div>
                    <p class="eyebrow">{if console.operator { "Platform console · clinic" } else { "Clinic settings" }}</p>
                    <h1>{clinic.name.clone()}</h1>
                    <p class="muted">
                        <span class=format!("status status-{}", status.as_str().to_lowercase()) data-testid="clinic-status">{status_word(status)}</span>
                        {(!clinic.status_reason.is_empty()).then(|| format!(" · {}", clinic.status_reason))}
                    </p>
                </div>
                <nav class="staff-links" aria-label="Clinic">
                    {if console.operator {
                        view! { <a href="/admin">"All clinics"</a> }.into_any()
                    } else {
                        view! { <a href="/desk">"Desk"</a> }.into_any()
                    }}
                    <a href=analytics data-testid="analytics-link">"Analytics"</a>
                    <a href=poster target="_blank" rel="noopener">"QR poster"</a>
                    <a href=console.display_url.clone() target="_blank" rel="noopener">"Display board"</a>
                    <a href="/account">"Account"</a>
                </nav>
            </header>
            <p class="muted">"Patients join at " <a href=console.join_url.clone() data-testid="join-url">{console.join_url.clone()}</a></p>

            {console.operator.then(|| view! { <StatusPanel console=console.clone() actions=actions/> })}

            <div class="console-grid">
                <StaffPanel console=console.clone() actions=actions/>
                <QueuesPanel console=console.clone() actions=actions/>
                <SettingsPanel console=console.clone() actions=actions/>
                <WhatsAppPanel slug=named(&console) messaging=messaging/>
                <TemplatesPanel slug=named(&console) clinic_name=console.clinic.name.clone() messaging=messaging/>
                <SmsPanel slug=named(&console) messaging=messaging/>
                <RepliesPanel console=console.clone() actions=actions/>
                <div class="card card-wide" data-testid="delivery">
                    <h2>"Notifications, last 30 days"</h2>
                    <DeliveryTable stats=console.delivery.clone()/>
                </div>
                <div class="card">
                    <h2>"Tokens, last 30 days"</h2>
                    <UsageChart days=console.usage.clone()/>
                </div>
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn StaffPanel(console: ClinicConsole, actions: Actions) -> AnyView {
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
            <div class="table-scroll"><table class="table" data-testid="staff">
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

#[component]
fn QueuesPanel(console: ClinicConsole, actions: Actions) -> AnyView {
    let Actions {
        save_queue,
        archive,
        ..
    } = actions;
    let named = named(&console);
    let queue_row = {
        let named = named.clone();
        move |q: Queue| {
            let (named, named_too) = (named.clone(), named.clone());
            let minutes = q
                .default_service_minutes
                .map(|m| m.to_string())
                .unwrap_or_default();
            view! {
                <li class="queue-row" data-testid="queue-row">
                    <ActionForm action=save_queue>
                        <div class="form form-row">
                            {slug_field(named.clone())}
                            <input type="hidden" name="queue_id" value=q.id.get()/>
                            <label class="field"><span>"Name"</span><input name="name" value=q.name.clone() required maxlength="40"/></label>
                            <label class="field field-short"><span>"Prefix"</span><input name="prefix" value=q.prefix.clone() required maxlength="3"/></label>
                            <label class="field field-short"><span>"Usual visit (min)"</span><input name="default_service_minutes" value=minutes inputmode="numeric"/></label>
                            <button class="button small" type="submit">"Save"</button>
                        </div>
                    </ActionForm>
                    <ActionForm action=archive>
                        {slug_field(named_too)}
                        <input type="hidden" name="queue_id" value=q.id.get()/>
                        <input type="hidden" name="archived" value=(!q.archived).to_string()/>
                        <button class="button small" type="submit">{if q.archived { "Restore" } else { "Archive" }}</button>
                    </ActionForm>
                    {q.archived.then(|| view! { <span class="badge">"archived"</span> })}
                </li>
            }
        }
    };
    view! {
        <div class="card">
            <h2>"Queues"</h2>
            <ul class="plain-list" data-testid="queues">
                {console.queues.into_iter().map(queue_row).collect_view()}
            </ul>
            {move || problem(failure(archive)())}
            {move || problem(failure(save_queue)())}
            <h3>"Add a queue"</h3>
            <ActionForm action=save_queue>
                <div class="form form-row">
                    {slug_field(named.clone())}
                    <label class="field"><span>"Queue name"</span><input name="name" required maxlength="40" placeholder="Dr Mehta"/></label>
                    <label class="field field-short"><span>"Token prefix"</span><input name="prefix" required maxlength="3" placeholder="B"/></label>
                    <label class="field field-short"><span>"Usual visit (minutes)"</span><input name="default_service_minutes" inputmode="numeric"/></label>
                    <button class="button button-primary" type="submit">"Add queue"</button>
                </div>
            </ActionForm>
        </div>
    }
    .into_any()
}

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
fn SettingsPanel(console: ClinicConsole, actions: Actions) -> AnyView {
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
                    <label class="field"><span>"Timezone"</span><input name="settings[timezone]" value=c.timezone.clone() required/></label>
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

#[component]
fn StatusPanel(console: ClinicConsole, actions: Actions) -> AnyView {
    let Actions { status, delete, .. } = actions;
    let slug = console.clinic.slug.to_string();
    let current = console.clinic.status;
    let choices = [
        (BusinessStatus::Active, "Reactivate"),
        (BusinessStatus::Suspended, "Suspend"),
        (BusinessStatus::Disabled, "Disable"),
    ];
    // One reason box for all status buttons: each button's form copies it when submitted.
    let reason = RwSignal::new(String::new());
    view! {
        <div class="card operator-card">
            <h2>"Status"</h2>
            <div class="form form-row">
                <label class="field"><span>"Reason (kept in the audit log, shown to the clinic)"</span>
                    <input maxlength="200" bind:value=reason/></label>
                {choices.into_iter().filter(|(s, _)| *s != current).map(|(s, label)| {
                    let slug = slug.clone();
                    view! {
                    <ActionForm action=status>
                        <input type="hidden" name="slug" value=slug/>
                        <input type="hidden" name="status" value=s.as_str()/>
                        <input type="hidden" name="reason" prop:value=move || reason.get()/>
                        <button class="button" type="submit">{label}</button>
                    </ActionForm>
                }}).collect_view()}
            </div>
            {move || problem(failure(status)())}
            <details class="danger-zone">
                <summary>"Delete this clinic"</summary>
                <p class="small">"Deleting removes the clinic's queues, tokens (with patients' names and phones), staff accounts and their sessions. The audit log keeps its rows. Refused while patients wait in any queue."</p>
                <ActionForm action=delete>
                    <div class="form form-row">
                        <input type="hidden" name="slug" value=slug.clone()/>
                        <label class="field"><span>{format!("Type \"{slug}\" to confirm")}</span><input name="confirm" autocomplete="off"/></label>
                        <button class="button button-danger" type="submit">"Delete clinic"</button>
                    </div>
                </ActionForm>
                {move || problem(failure(delete)())}
            </details>
        </div>
    }
    .into_any()
}

/// Thirty days of tokens as SVG bars (served in the darker part), drawn on the server.
#[component]
pub fn UsageChart(days: Vec<UsageDay>) -> AnyView {
    const W: f64 = 600.0;
    const H: f64 = 140.0;
    let top = days.iter().map(|d| d.tokens).max().unwrap_or(0).max(1) as f64;
    let slot = W / days.len().max(1) as f64;
    let total: u32 = days.iter().map(|d| d.tokens).sum();
    let label = format!("{total} tokens in the last {} days", days.len());
    let first = days.first().map(|d| d.date.clone()).unwrap_or_default();
    let last = days.last().map(|d| d.date.clone()).unwrap_or_default();
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {W} {}", H + 20.0) role="img" aria-label=label.clone() data-testid="usage-chart">
                {days.into_iter().enumerate().map(|(i, d)| {
                    let x = i as f64 * slot + 1.0;
                    let h = d.tokens as f64 / top * H;
                    let hs = d.served as f64 / top * H;
                    view! {
                        <g>
                            <title>{format!("{}: {} tokens, {} served", d.date, d.tokens, d.served)}</title>
                            <rect class="bar" x=x y=H - h width=slot - 2.0 height=h/>
                            <rect class="bar-served" x=x y=H - hs width=slot - 2.0 height=hs/>
                        </g>
                    }
                }).collect_view()}
                <text x="0" y=H + 16.0 class="chart-axis">{first}</text>
                <text x=W y=H + 16.0 class="chart-axis" text-anchor="end">{last}</text>
            </svg>
            <figcaption class="muted small">{label}" · darker: served"</figcaption>
        </figure>
    }
    .into_any()
}

/// The clinic's WhatsApp connection: provider, number, secrets (masked), the webhook URL
/// to give the provider, today's messages against the limit, and "Test connection".
#[component]
fn WhatsAppPanel(slug: Option<String>, messaging: Messaging) -> AnyView {
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

/// The message templates, one at a time: pick a message and language, edit, and the
/// preview (the same rendering the real messages use) follows every keystroke.
#[component]
fn TemplatesPanel(slug: Option<String>, clinic_name: String, messaging: Messaging) -> AnyView {
    use crate::messages::{render, validate, Vars, VARIABLES};
    let Messaging {
        templates: lines,
        save_template: save,
        ..
    } = messaging;
    let chosen = RwSignal::new(0usize);
    let body = RwSignal::new(String::new());
    let sample = StoredValue::new(Vars::sample(&clinic_name));
    let preview = move || sample.with_value(|vars| render(&body.get(), vars));
    let problem_now = move || validate(&body.get()).err().map(|e| e.to_string());
    view! {
        <div class="card card-wide" data-testid="templates">
            <h2>"Message templates"</h2>
            <p class="small muted">"Variables: "
                {VARIABLES.iter().map(|(name, what)| format!("{{{name}}} {what}")).collect::<Vec<_>>().join(" · ")}</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let slug = slug.clone();
                    Suspend::new(async move {
                        let Ok(all) = lines.await else {
                            return view! { <p class="form-error" role="alert">"The templates could not be loaded."</p> }.into_any();
                        };
                        let pick = {
                            let all = all.clone();
                            move |i: usize| {
                                if let Some(line) = all.get(i) {
                                    chosen.set(i);
                                    body.set(line.body.clone());
                                }
                            }
                        };
                        pick(chosen.get_untracked());
                        let current = {
                            let all = all.clone();
                            move || all.get(chosen.get()).cloned()
                        };
                        view! {
                            <div class="form">
                                <label class="field"><span>"Message"</span>
                                    <select on:change=move |ev| pick(event_target_value(&ev).parse().unwrap_or(0))>
                                        {all.iter().enumerate().map(|(i, line)| view! {
                                            <option value=i selected=move || chosen.get() == i>
                                                {format!("{} · {} · {}{}", line.kind.label(), line.channel.label(), line.language.name(), if line.custom { " (yours)" } else { "" })}
                                            </option>
                                        }).collect_view()}
                                    </select>
                                </label>
                                <label class="field"><span>"Text"</span>
                                    <textarea rows="4" data-testid="template-body" prop:value=move || body.get()
                                        on:input=move |ev| body.set(event_target_value(&ev))></textarea>
                                </label>
                                {move || problem_now().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
                                <div class="template-preview">
                                    <span class="small muted">"Preview"</span>
                                    <p data-testid="template-preview">{preview}</p>
                                </div>
                                <div class="form-row">
                                    <button class="button button-primary" type="button" disabled=move || save.pending().get() || problem_now().is_some()
                                        on:click={
                                            let slug = slug.clone();
                                            let current = current.clone();
                                            move |_| if let Some(line) = current() {
                                                save.dispatch(SaveTemplate {
                                                    slug: slug.clone(),
                                                    kind: line.kind.as_str().to_owned(),
                                                    channel: Some(line.channel.as_str().to_owned()),
                                                    language: line.language.as_str().to_owned(),
                                                    body: body.get_untracked(),
                                                });
                                            }
                                        }>"Save template"</button>
                                    <button class="button" type="button"
                                        on:click={
                                            let slug = slug.clone();
                                            move |_| if let Some(line) = current() {
                                                save.dispatch(SaveTemplate {
                                                    slug: slug.clone(),
                                                    kind: line.kind.as_str().to_owned(),
                                                    channel: Some(line.channel.as_str().to_owned()),
                                                    language: line.language.as_str().to_owned(),
                                                    body: String::new(),
                                                });
                                            }
                                        }>"Back to Qline's wording"</button>
                                </div>
                            </div>
                        }.into_any()
                    })
                }}
            </Suspense>
            {move || save.value().get().map(|r| match r {
                Ok(()) => view! { <p class="notice notice-ok" role="status">"Template saved."</p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </div>
    }
    .into_any()
}

/// The clinic's SMS account, for "your turn" when no push or WhatsApp reaches a patient.
#[component]
fn SmsPanel(slug: Option<String>, messaging: Messaging) -> AnyView {
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

/// The replies the desk can send with one tap, one per line.
#[component]
fn RepliesPanel(console: ClinicConsole, actions: Actions) -> AnyView {
    let save = actions.replies;
    view! {
        <div class="card" data-testid="canned-replies">
            <h2>"Canned replies"</h2>
            <p class="small muted">"One per line. The desk picks one to answer a patient's WhatsApp message."</p>
            <ActionForm action=save>
                <div class="form">
                    {slug_field(named(&console))}
                    <textarea name="replies" rows="5" aria-label="Canned replies">{console.canned_replies.join("\n")}</textarea>
                    <button class="button button-primary" type="submit" disabled=move || save.pending().get()>"Save replies"</button>
                </div>
            </ActionForm>
            {move || save.value().get().map(|r| match r {
                Ok(saved) => view! { <p class="notice notice-ok" role="status">{format!("{} replies saved.", saved.len())}</p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </div>
    }
    .into_any()
}

/// How notifications reached patients: each channel's share and success rate, and what
/// the paid ones cost. Shared with the tenant console.
#[component]
pub fn DeliveryTable(stats: crate::console::DeliveryStats) -> AnyView {
    use crate::messages::Channel;
    if stats.notifications == 0 {
        return view! { <p class="muted">"No notifications yet."</p> }.into_any();
    }
    let cost = |c: Channel, units: u32| match c {
        Channel::Push => "free".to_owned(),
        Channel::WhatsApp => format!("{units} template messages"),
        Channel::Sms => format!("{units} SMS segments"),
    };
    view! {
        <p class="small">{format!(
            "{} notifications · {}% not reached{}",
            stats.notifications,
            stats.not_reached_share(),
            if stats.pending > 0 { format!(" · {} on their way", stats.pending) } else { String::new() },
        )}</p>
        <table class="table delivery-table">
            <thead><tr><th>"Channel"</th><th>"Delivered"</th><th>"Share"</th><th>"Tries"</th><th>"Success"</th><th>"Cost"</th></tr></thead>
            <tbody>
                {stats.channels.iter().map(|line| {
                    let reached = stats.reached.iter().find(|(c, _)| *c == line.channel).map_or(0, |(_, n)| *n);
                    view! {
                        <tr data-testid=format!("delivery-{}", line.channel.as_str().to_lowercase())>
                            <td>{line.channel.label()}</td>
                            <td>{reached}</td>
                            <td>{format!("{}%", stats.share(line.channel))}</td>
                            <td>{line.attempts}</td>
                            <td>{if line.attempts == 0 { "—".to_owned() } else { format!("{}%", line.rate()) }}</td>
                            <td>{cost(line.channel, line.cost_units)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
