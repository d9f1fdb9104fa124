//! Clinic settings (`/clinic`, the owner's) and the operator's page for one clinic
//! (`/admin/c/{slug}`): staff, queues, settings, WhatsApp and SMS, templates, canned
//! replies, how notifications reached patients, 30 days of usage, the QR poster and the
//! display board; for the operator also status changes and deletion.

mod delivery;
mod kiosk;
mod patients;
mod queues;
mod replies;
mod settings;
mod sms;
mod staff;
mod status;
mod templates;
mod usage;
mod whatsapp;

use super::frame::{Frame, Width};
use crate::api::{
    load_clinic, load_sms, load_templates, load_whatsapp, AddStaff, AppError, ArchiveQueue,
    DeleteClinic, ErasePatient, FindPatient, ResetStaffPassword, SaveCannedReplies, SaveKioskCode,
    SaveQueue, SaveQueueHours, SaveSettings, SaveSms, SaveTemplate, SaveWhatsapp, SetClinicStatus,
    SetStaffActive, TestSms, TestWhatsapp,
};
use crate::console::{ClinicConsole, SmsView, TemplateLine, WhatsAppView};
use crate::domain::ClinicStatus;
use kiosk::KioskPanel;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use patients::PatientsPanel;
use queues::QueuesPanel;
use replies::RepliesPanel;
use settings::SettingsPanel;
use sms::SmsPanel;
use staff::StaffPanel;
use status::StatusPanel;
use templates::TemplatesPanel;
use whatsapp::WhatsAppPanel;

pub use delivery::DeliveryTable;
pub use usage::UsageChart;

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

#[component]
fn ClinicConsoleView(slug: Option<String>) -> impl IntoView {
    let add_staff = ServerAction::<AddStaff>::new();
    let reset = ServerAction::<ResetStaffPassword>::new();
    let active = ServerAction::<SetStaffActive>::new();
    let save_queue = ServerAction::<SaveQueue>::new();
    let save_hours = ServerAction::<SaveQueueHours>::new();
    let archive = ServerAction::<ArchiveQueue>::new();
    let settings = ServerAction::<SaveSettings>::new();
    let status = ServerAction::<SetClinicStatus>::new();
    let delete = ServerAction::<DeleteClinic>::new();
    let replies = ServerAction::<SaveCannedReplies>::new();
    let find_patient = ServerAction::<FindPatient>::new();
    let erase = ServerAction::<ErasePatient>::new();
    let kiosk = ServerAction::<SaveKioskCode>::new();
    let asked = slug.clone();
    let data = Resource::new(
        move || {
            (
                add_staff.version().get(),
                reset.version().get(),
                active.version().get(),
                save_queue.version().get(),
                save_hours.version().get(),
                archive.version().get(),
                settings.version().get(),
                status.version().get(),
                replies.version().get(),
                erase.version().get(),
                kiosk.version().get(),
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
        save_hours,
        archive,
        settings,
        status,
        delete,
        replies,
        find_patient,
        erase,
        kiosk,
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
    save_hours: ServerAction<SaveQueueHours>,
    archive: ServerAction<ArchiveQueue>,
    settings: ServerAction<SaveSettings>,
    status: ServerAction<SetClinicStatus>,
    delete: ServerAction<DeleteClinic>,
    replies: ServerAction<SaveCannedReplies>,
    find_patient: ServerAction<FindPatient>,
    erase: ServerAction<ErasePatient>,
    kiosk: ServerAction<SaveKioskCode>,
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

fn status_word(status: ClinicStatus) -> &'static str {
    match status {
        ClinicStatus::Trial => "Trial",
        ClinicStatus::Active => "Active",
        ClinicStatus::Suspended => "Suspended",
        ClinicStatus::Disabled => "Disabled",
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
                <KioskPanel console=console.clone() actions=actions/>
                <PatientsPanel console=console.clone() actions=actions/>
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
