//! The role matrix of docs/ROLES.md, over HTTP on both backends: every staff endpoint ×
//! every role × the caller's own clinic and another clinic; an allowed call must do its
//! work (a 2xx answer of the endpoint's own shape, its effect stored), not merely escape
//! a refusal. Then the console's audit rows (with the caller's address) and its
//! refusals of bad input.

mod support;

use qline_app::console::AuditFilter;
use qline_app::domain::*;
use qline_app::messaging::inbound::Inbound;
use qline_app::messaging::provider::Endpoints;
use qline_app::storage::Store;
use qline_app::tenant::{hash_password, Tenants};
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU32, Ordering};

on_both_backends!(
    every_staff_endpoint_answers_each_role_as_the_matrix_says,
    console_changes_are_audited_with_the_callers_address,
    bad_console_input_is_refused_and_nothing_is_half_written,
    an_owner_erases_a_patient_over_http_after_confirming
);

const PASSWORD: &str = "correct horse battery";
const ADMIN: &str = "operator@platform.test";

async fn give_password(store: &Store, user: UserId, must_change: bool) {
    let mut tx = store.begin().await.unwrap();
    tx.set_password(user, &hash_password(PASSWORD).unwrap(), must_change)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn sign_in(base: &str, email: &str) -> String {
    let response = support::http()
        .post(format!("{base}/api/login"))
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .unwrap_or_else(|| panic!("{email} could not sign in: {}", response.status()))
        .to_str()
        .unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

/// One call as it goes over the wire: form fields, or a JSON body.
enum Body {
    Form(Vec<(String, String)>),
    Json(Value),
}

fn form(fields: &[(&str, String)]) -> Body {
    Body::Form(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

/// POSTs to `/api/{endpoint}` and answers the body as JSON (`null` for an empty body).
async fn call(base: &str, cookie: Option<&str>, endpoint: &str, body: Body) -> (u16, Value) {
    let (status, _, answer) = call_raw(base, cookie, endpoint, body).await;
    (status, answer)
}

/// As `call`, also answering the body's text (to tell an empty body from one that is
/// not JSON, both `null` to `call`).
async fn call_raw(
    base: &str,
    cookie: Option<&str>,
    endpoint: &str,
    body: Body,
) -> (u16, String, Value) {
    let mut request = support::http().post(format!("{base}/api/{endpoint}"));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let request = match body {
        Body::Form(fields) => request.form(&fields),
        Body::Json(value) => request.json(&value),
    };
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let answer = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, text, answer)
}

/// Whether an answer is a refusal of the caller (as opposed to the endpoint doing its
/// work, or refusing on business grounds such as "already active").
fn denied(answer: &Value) -> bool {
    let refusals = [
        json!({ "SignIn": "SignedOut" }),
        json!({ "SignIn": "WrongRole" }),
        json!({ "SignIn": "PasswordChangeRequired" }),
        json!({ "Console": "WrongRole" }),
        json!({ "Console": "Forbidden" }),
        json!({ "Console": "UnknownStaff" }),
        json!({ "Console": "UnknownQueue" }),
        json!({ "Refused": "Forbidden" }),
        json!({ "Refused": "UnknownQueue" }),
    ];
    refusals.contains(answer)
}

/// Whether an answer is an error of any kind: a refusal of the caller, a business
/// refusal, a bad-input answer or a failure.
fn error_body(answer: &Value) -> bool {
    let error_keys = ["SignIn", "Console", "Refused", "Internal", "error"];
    match answer {
        Value::String(s) => error_keys.contains(&s.as_str()),
        Value::Object(map) => map.keys().any(|k| error_keys.contains(&k.as_str())),
        _ => false,
    }
}

/// What an allowed call must answer: a success of the endpoint's own shape, aimed at
/// `t`. Two requests are refused on purpose once the caller is let in (a wrong current
/// password, a wrong deletion confirmation): those refusals, exactly, count as allowed;
/// anything else that is not a 2xx success with the expected body is wrong, a 404 or a
/// bad-input answer included.
fn check_allowed(
    endpoint: &str,
    t: &Target,
    status: u16,
    text: &str,
    answer: &Value,
) -> Result<(), String> {
    let clinic_name = format!("{} clinic", t.slug);
    let refusal = |expected_status: u16, expected: Value| {
        if (status, answer) == (expected_status, &expected) {
            Ok(())
        } else {
            Err(format!("the refusal {expected_status} {expected}"))
        }
    };
    match endpoint {
        "account/password" => return refusal(401, json!({ "Console": "WrongPassword" })),
        "admin/clinic/delete" => {
            return refusal(
                400,
                json!({ "Console": { "ConfirmationMismatch": t.slug.clone() } }),
            )
        }
        "clinic/patient/erase" => return refusal(400, json!({ "Console": "ErasureNotConfirmed" })),
        _ => {}
    }
    if !(200..300).contains(&status) || error_body(answer) {
        return Err("a 2xx success".into());
    }
    let is_string = |v: &Value| v.as_str().is_some_and(|s| !s.is_empty());
    let shaped = match endpoint {
        "desk" | "desk/act" | "desk/walk-in" | "desk/reply" => {
            answer["clinic_name"] == clinic_name.as_str() && answer["queue_id"] == t.general
        }
        "account" => is_string(&answer["email"]) && is_string(&answer["role"]),
        "clinic" => answer["clinic"]["name"] == clinic_name.as_str(),
        "clinic/poster" => answer["clinic_name"] == clinic_name.as_str(),
        "clinic/settings" => {
            answer["name"] == clinic_name.as_str() && answer["settings"]["notify_when_ahead"] == 3
        }
        "clinic/staff/add" => {
            answer["email"]
                .as_str()
                .is_some_and(|e| e.ends_with(&format!("@{}.test", t.slug)))
                && is_string(&answer["password"])
        }
        "clinic/staff/reset" => {
            answer["email"] == format!("desk2@{}.test", t.slug).as_str()
                && is_string(&answer["password"])
        }
        // These answer an empty body (what they stored is checked after the matrix).
        "clinic/staff/active"
        | "clinic/queue/save"
        | "clinic/queue/archive"
        | "clinic/queue/hours"
        | "clinic/templates/save"
        | "admin/clinic/status" => text.is_empty() || text == "null",
        "clinic/whatsapp" => answer.get("provider").is_some() && answer.get("enabled").is_some(),
        "clinic/whatsapp/save" => answer["provider"] == "Log",
        // The check of the provider ran: its verdict, either way (no real SMS account
        // exists here).
        "clinic/whatsapp/test" => is_string(&answer["Ok"]),
        "clinic/sms/test" => is_string(&answer["Ok"]) || is_string(&answer["Err"]),
        "clinic/templates" => answer.as_array().is_some_and(|a| !a.is_empty()),
        "clinic/analytics" => answer["by_day"].is_array(),
        "clinic/sms" => answer["configured"].is_boolean(),
        "clinic/sms/save" => answer["configured"] == true,
        "clinic/replies/save" => {
            *answer == json!(["Please come to the desk.", "The doctor is running late."])
        }
        "clinic/kiosk/save" => *answer == json!("48291357"),
        "clinic/patient" => {
            answer["phone"] == t.phone.as_str()
                && answer["record"]["visits"]
                    .as_array()
                    .is_some_and(|v| v.len() == 1)
        }
        "admin/clinics" => answer
            .as_array()
            .is_some_and(|a| a.iter().any(|c| c["slug"] == t.slug.as_str())),
        "admin/clinic/create" => answer["slug"]
            .as_str()
            .is_some_and(|s| s.starts_with("new-clinic-")),
        "admin/health" => is_string(&answer["backend"]),
        "admin/audit" => answer.is_array(),
        other => panic!("no success written for {other}"),
    };
    if shaped {
        Ok(())
    } else {
        Err(format!("a 2xx success shaped as {endpoint} answers"))
    }
}

/// The template the allowed `clinic/templates/save` calls store.
const TEMPLATE: &str = "{token}: almost your turn at {clinic}";

/// A clinic as the calls aim at it.
struct Target {
    slug: String,
    general: i64,
    /// A receptionist whom owners and the operator may reset and reactivate.
    spare: i64,
    /// A waiting patient (with a phone who never wrote on WhatsApp).
    token: i64,
    /// That patient's phone.
    phone: String,
}

static UNIQUE: AtomicU32 = AtomicU32::new(0);

fn unique() -> u32 {
    UNIQUE.fetch_add(1, Ordering::Relaxed)
}

/// The request each endpoint gets, aimed at `t`. Requests are harmless when allowed
/// (resuming intake that is not paused, a restore of a queue in use, moving an active
/// clinic to a trial, which still takes patients, a wrong confirmation, a wrong current
/// password) or make something new.
fn request(endpoint: &str, t: &Target) -> Body {
    let slug = || ("slug", t.slug.clone());
    let n = unique();
    match endpoint {
        "desk" => form(&[("queue_id", t.general.to_string())]),
        "desk/act" => Body::Json(json!({
            "queue_id": t.general,
            "command": { "PauseIntake": { "paused": false } },
        })),
        "desk/reply" => form(&[
            ("queue_id", t.general.to_string()),
            ("token", t.token.to_string()),
            ("body", "We will call you soon.".into()),
        ]),
        "desk/walk-in" => form(&[
            ("queue_id", t.general.to_string()),
            ("name", "Walk In".into()),
            ("phone", String::new()),
        ]),
        "account" | "admin/health" => form(&[]),
        "account/password" => form(&[
            ("current_password", "not the password".into()),
            ("new_password", "a brand new password".into()),
        ]),
        "clinic" | "clinic/poster" => form(&[slug()]),
        "clinic/settings" => form(&[slug(), ("settings[notify_when_ahead]", "3".into())]),
        "clinic/staff/add" => form(&[
            slug(),
            ("email", format!("new{n}@{}.test", t.slug)),
            ("role", "RECEPTIONIST".into()),
        ]),
        "clinic/staff/reset" => form(&[("user_id", t.spare.to_string())]),
        "clinic/staff/active" => {
            form(&[("user_id", t.spare.to_string()), ("active", "true".into())])
        }
        "clinic/queue/save" => {
            let prefix: String = [b'Q', b'A' + (n / 26 % 26) as u8, b'A' + (n % 26) as u8]
                .iter()
                .map(|&b| b as char)
                .collect();
            form(&[
                slug(),
                ("name", format!("Queue {n}")),
                ("prefix", prefix),
                ("default_service_minutes", "10".into()),
            ])
        }
        "clinic/whatsapp"
        | "clinic/whatsapp/test"
        | "clinic/templates"
        | "clinic/sms"
        | "clinic/sms/test" => form(&[slug()]),
        "clinic/sms/save" => form(&[
            slug(),
            ("sms[account_sid]", "AC0123456789abcdef".into()),
            ("sms[auth_token]", "an-auth-token".into()),
            ("sms[from_number]", "+14155550100".into()),
        ]),
        "clinic/patient" => form(&[slug(), ("phone", t.phone.clone())]),
        // Not confirmed: an allowed caller gets exactly that refusal, and nothing goes.
        "clinic/patient/erase" => form(&[slug(), ("phone", t.phone.clone())]),
        "clinic/kiosk/save" => form(&[slug(), ("kiosk_code", "48291357".into())]),
        "clinic/replies/save" => form(&[
            slug(),
            (
                "replies",
                "Please come to the desk.\nThe doctor is running late.".into(),
            ),
        ]),
        "clinic/analytics" => form(&[slug(), ("days", "30".into())]),
        "clinic/whatsapp/save" => form(&[
            slug(),
            ("whatsapp[provider]", "LOG".into()),
            ("whatsapp[phone_number]", "+919800000001".into()),
        ]),
        "clinic/templates/save" => form(&[
            slug(),
            ("kind", "NEXT_SOON".into()),
            ("language", "en".into()),
            ("body", TEMPLATE.into()),
        ]),
        "clinic/queue/archive" => form(&[
            slug(),
            ("queue_id", t.general.to_string()),
            ("archived", "false".into()),
        ]),
        "clinic/queue/hours" => form(&[
            slug(),
            ("queue_id", t.general.to_string()),
            ("hours_mon", "00:00-24:00".into()),
            ("hours_tue", "00:00-24:00".into()),
            ("hours_wed", "00:00-24:00".into()),
            ("hours_thu", "00:00-24:00".into()),
            ("hours_fri", "00:00-24:00".into()),
            ("hours_sat", "00:00-24:00".into()),
            ("hours_sun", "00:00-24:00".into()),
            ("closed_on", String::new()),
        ]),
        "admin/clinics" => form(&[("search", String::new())]),
        "admin/clinic/create" => form(&[
            ("slug", format!("new-clinic-{n}")),
            ("name", format!("New Clinic {n}")),
            ("timezone", "Asia/Dubai".into()),
            ("default_country", "AE".into()),
            ("owner_email", format!("owner{n}@new.test")),
        ]),
        "admin/clinic/status" => form(&[
            slug(),
            ("status", "TRIAL".into()),
            ("reason", "a trial month".into()),
        ]),
        "admin/clinic/delete" => form(&[slug(), ("confirm", "not the slug".into())]),
        "admin/audit" => form(&[
            ("clinic", String::new()),
            ("action", String::new()),
            ("actor", String::new()),
        ]),
        other => panic!("no request written for {other}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Operator,
    Owner,
    Receptionist,
    /// An owner who still holds a one-time password.
    NewOwner,
    SignedOut,
}

/// `(endpoint, [(who, allowed at own clinic, allowed at the other clinic)])`, from
/// docs/ROLES.md.
fn matrix() -> Vec<(&'static str, [(Who, bool, bool); 5])> {
    use Who::*;
    let desk = [
        (Operator, false, false),
        (Owner, true, false),
        (Receptionist, true, false),
        (NewOwner, false, false),
        (SignedOut, false, false),
    ];
    let account = [
        (Operator, true, true),
        (Owner, true, true),
        (Receptionist, true, true),
        (NewOwner, true, true),
        (SignedOut, false, false),
    ];
    let clinic = [
        (Operator, true, true),
        (Owner, true, false),
        (Receptionist, false, false),
        (NewOwner, false, false),
        (SignedOut, false, false),
    ];
    let admin = [
        (Operator, true, true),
        (Owner, false, false),
        (Receptionist, false, false),
        (NewOwner, false, false),
        (SignedOut, false, false),
    ];
    vec![
        ("desk", desk),
        ("desk/act", desk),
        ("desk/walk-in", desk),
        ("desk/reply", desk),
        ("account", account),
        ("account/password", account),
        ("clinic", clinic),
        ("clinic/poster", clinic),
        ("clinic/settings", clinic),
        ("clinic/staff/add", clinic),
        ("clinic/staff/reset", clinic),
        ("clinic/staff/active", clinic),
        ("clinic/queue/save", clinic),
        ("clinic/queue/archive", clinic),
        ("clinic/queue/hours", clinic),
        ("clinic/whatsapp", clinic),
        ("clinic/whatsapp/save", clinic),
        ("clinic/whatsapp/test", clinic),
        ("clinic/templates", clinic),
        ("clinic/analytics", clinic),
        ("clinic/templates/save", clinic),
        ("clinic/sms", clinic),
        ("clinic/sms/save", clinic),
        ("clinic/sms/test", clinic),
        ("clinic/replies/save", clinic),
        ("clinic/kiosk/save", clinic),
        ("clinic/patient", clinic),
        ("clinic/patient/erase", clinic),
        ("admin/clinics", admin),
        ("admin/clinic/create", admin),
        ("admin/clinic/status", admin),
        ("admin/clinic/delete", admin),
        ("admin/health", admin),
        ("admin/audit", admin),
    ]
}

async fn every_staff_endpoint_answers_each_role_as_the_matrix_says(store: Store) {
    // Clinic A's desk may answer its patient on WhatsApp (who writes below).
    let settings = ClinicSettings {
        whatsapp_enabled: true,
        ..ClinicSettings::default()
    };
    let a = support::clinic(&store, "roles-a", settings).await;
    let b = support::clinic(&store, "roles-b", ClinicSettings::default()).await;
    Tenants::new(store.clone())
        .create_admin(ADMIN, PASSWORD)
        .await
        .unwrap();
    give_password(&store, a.owner.id, false).await;
    give_password(&store, a.desk.id, false).await;
    let mut tx = store.begin().await.unwrap();
    let new_owner = tx
        .insert_staff(
            &qline_app::storage::NewStaff {
                clinic: Some(a.id),
                email: "new-owner@roles-a.test".into(),
                password_hash: String::new(),
                role: Role::Owner,
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    give_password(&store, new_owner, true).await;

    let (base, messenger) = support::spawn_app_with(store.clone(), Endpoints::default()).await;
    let cookies = [
        (Who::Operator, Some(sign_in(&base, ADMIN).await)),
        (Who::Owner, Some(sign_in(&base, "owner@roles-a.test").await)),
        (
            Who::Receptionist,
            Some(sign_in(&base, "desk@roles-a.test").await),
        ),
        (
            Who::NewOwner,
            Some(sign_in(&base, "new-owner@roles-a.test").await),
        ),
        (Who::SignedOut, None),
    ];
    let engine = qline_app::queue::engine::Engine::new(store.clone());
    let mut tokens = Vec::new();
    for (clinic, phone) in [(&a, "+919812340001"), (&b, "+919812340002")] {
        let mut request = support::walk_in(clinic.general, "Waiting Patient");
        request.phone = Some(phone.into());
        let applied = engine
            .create_token(
                qline_app::queue::engine::Actor::Staff(&clinic.desk),
                request,
            )
            .await
            .unwrap();
        tokens.push(applied.created.unwrap().0.get());
        // The patient writes: the desk's reply is inside WhatsApp's window.
        messenger
            .handle_inbound(&Inbound {
                clinic: clinic.id,
                provider_message_id: &format!("in-{phone}"),
                phone,
                body: "Is the doctor in today?",
                sent_at: None,
            })
            .await
            .unwrap();
    }
    let own = Target {
        slug: "roles-a".into(),
        general: a.general.get(),
        spare: a.desk2.id.get(),
        token: tokens[0],
        phone: "+919812340001".into(),
    };
    let other = Target {
        slug: "roles-b".into(),
        general: b.general.get(),
        spare: b.desk2.id.get(),
        token: tokens[1],
        phone: "+919812340002".into(),
    };

    let mut checked = 0;
    let mut allowed_checked = 0;
    let mut wrong = Vec::new();
    for (endpoint, rows) in matrix() {
        for (who, allowed_own, allowed_other) in rows {
            let cookie = cookies
                .iter()
                .find(|(w, _)| *w == who)
                .unwrap()
                .1
                .as_deref();
            for (target, allowed) in [(&own, allowed_own), (&other, allowed_other)] {
                let (status, text, answer) =
                    call_raw(&base, cookie, endpoint, request(endpoint, target)).await;
                assert_ne!(
                    answer,
                    json!("Internal"),
                    "{endpoint} as {who:?} failed inside: {status}"
                );
                // A refusal of the caller is a 401, 403 or 404, never a failure of ours.
                let refused_status = matches!(status, 401 | 403 | 404);
                if denied(&answer) == allowed || (denied(&answer) && !refused_status) {
                    let answer: String = answer.to_string().chars().take(160).collect();
                    wrong.push(format!(
                        "{endpoint} as {who:?} at {}: expected {}, got {status} {answer}",
                        target.slug,
                        if allowed { "allowed" } else { "refused" }
                    ));
                } else if allowed {
                    // Allowed means the endpoint did its work, not merely "not refused".
                    if let Err(expected) = check_allowed(endpoint, target, status, &text, &answer) {
                        let answer: String = text.chars().take(160).collect();
                        wrong.push(format!(
                            "{endpoint} as {who:?} at {}: allowed, so expected {expected}, got {status} {answer}",
                            target.slug
                        ));
                    }
                    allowed_checked += 1;
                }
                checked += 1;
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {checked} answers break the matrix:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(checked, 34 * 5 * 2);
    // Every allowed cell of the matrix was checked for its success: 4 desk endpoints ×
    // 2 roles, 2 account endpoints × 4 roles × 2 clinics, 22 clinic endpoints × (the
    // operator at both + the owner at their own), 6 admin endpoints × 2 clinics.
    assert_eq!(allowed_checked, 4 * 2 + 2 * 4 * 2 + 22 * 3 + 6 * 2);
    // The allowed calls did their work: the desk's two replies are queued, the new
    // staff exist (two added at A, by the operator and the owner; one at B).
    let replies = store
        .outbox_of(a.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == "STAFF_REPLY" && m.body == "We will call you soon.")
        .count();
    assert_eq!(replies, 2, "the owner's and the receptionist's replies");
    for clinic in [a.id, b.id] {
        let templates = store.templates_of(clinic).await.unwrap();
        let saved = templates.iter().filter(|t| t.body == TEMPLATE).count();
        assert_eq!(saved, 1, "the saved template: {templates:?}");
    }
    for clinic in [a.id, b.id] {
        let status = store.clinic(clinic).await.unwrap().unwrap().status;
        assert_eq!(status, ClinicStatus::Trial, "the operator's status change");
    }
    for (clinic, slug, added) in [(a.id, "roles-a", 2), (b.id, "roles-b", 1)] {
        let new_staff = store
            .staff_of(clinic)
            .await
            .unwrap()
            .into_iter()
            .filter(|s| {
                // `new{n}@{slug}.test`, as `request` writes them.
                let numbered = s
                    .email
                    .strip_prefix("new")
                    .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
                numbered && s.email.ends_with(&format!("@{slug}.test"))
            })
            .count();
        assert_eq!(new_staff, added, "staff added at {slug}");
    }

    // Operator-only settings are refused to owners by name, even for their own clinic.
    let owner = cookies[1].1.as_deref();
    let (_, answer) = call(
        &base,
        owner,
        "clinic/settings",
        form(&[("settings[daily_token_limit]", "5000".into())]),
    )
    .await;
    assert_eq!(
        answer,
        json!({ "Console": { "OperatorOnly": "the daily token limit" } })
    );
    let clinic = store.clinic(a.id).await.unwrap().unwrap();
    assert_eq!(
        clinic.settings.daily_token_limit,
        ClinicSettings::default().daily_token_limit
    );
    assert_eq!(
        clinic.settings.notify_when_ahead, 3,
        "the allowed settings call did change it"
    );

    // A one-time password opens nothing but the account page until it is changed.
    let new_owner_cookie = cookies[3].1.clone().unwrap();
    let (_, answer) = call(
        &base,
        Some(&new_owner_cookie),
        "account/password",
        form(&[
            ("current_password", PASSWORD.into()),
            ("new_password", "my very own password".into()),
        ]),
    )
    .await;
    assert!(!denied(&answer), "{answer}");
    let (status, answer) = call(&base, Some(&new_owner_cookie), "clinic", form(&[])).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["clinic"]["slug"], "roles-a");
}

async fn console_changes_are_audited_with_the_callers_address(store: Store) {
    let a = support::clinic(&store, "audit-a", ClinicSettings::default()).await;
    Tenants::new(store.clone())
        .create_admin(ADMIN, PASSWORD)
        .await
        .unwrap();
    let base = support::spawn_app(store.clone()).await;
    let op = sign_in(&base, ADMIN).await;
    let op = Some(op.as_str());
    let slug = || ("slug", "audit-a".to_owned());

    let steps: Vec<(&str, Body)> = vec![
        (
            "admin/clinic/create",
            form(&[
                ("slug", "audit-new".into()),
                ("name", "Audit New".into()),
                ("timezone", "Asia/Kolkata".into()),
                ("default_country", "IN".into()),
                ("owner_email", "owner@audit-new.test".into()),
            ]),
        ),
        (
            "clinic/settings",
            form(&[slug(), ("settings[daily_token_limit]", "120".into())]),
        ),
        (
            "admin/clinic/status",
            form(&[
                slug(),
                ("status", "SUSPENDED".into()),
                ("reason", "unpaid invoice".into()),
            ]),
        ),
        (
            "admin/clinic/status",
            form(&[
                slug(),
                ("status", "ACTIVE".into()),
                ("reason", "paid".into()),
            ]),
        ),
        (
            "clinic/staff/add",
            form(&[
                slug(),
                ("email", "third@audit-a.test".into()),
                ("role", "RECEPTIONIST".into()),
            ]),
        ),
        (
            "clinic/staff/reset",
            form(&[("user_id", a.desk.id.get().to_string())]),
        ),
        (
            "clinic/staff/active",
            form(&[
                ("user_id", a.desk2.id.get().to_string()),
                ("active", "false".into()),
            ]),
        ),
        (
            "clinic/queue/save",
            form(&[
                slug(),
                ("name", "Eyes".into()),
                ("prefix", "E".into()),
                ("default_service_minutes", String::new()),
            ]),
        ),
        (
            "clinic/queue/archive",
            form(&[
                slug(),
                ("queue_id", a.dental.get().to_string()),
                ("archived", "true".into()),
            ]),
        ),
        (
            "admin/clinic/delete",
            form(&[
                ("slug", "audit-new".into()),
                ("confirm", "audit-new".into()),
            ]),
        ),
    ];
    for (endpoint, body) in steps {
        let (status, answer) = call(&base, op, endpoint, body).await;
        assert!(status < 400, "{endpoint}: {status} {answer}");
    }

    let rows = store
        .console_audit(&AuditFilter::default(), 100)
        .await
        .unwrap();
    let expected = [
        ("CREATE_CLINIC", "audit-new"),
        ("UPDATE_SETTINGS", "audit-a"),
        ("SUSPEND_CLINIC", "audit-a"),
        ("REACTIVATE_CLINIC", "audit-a"),
        ("ADD_STAFF", "third@audit-a.test"),
        ("RESET_PASSWORD", "desk@audit-a.test"),
        ("DEACTIVATE_STAFF", "desk2@audit-a.test"),
        ("ADD_QUEUE", "Eyes"),
        ("ARCHIVE_QUEUE", "Dental"),
        ("DELETE_CLINIC", "audit-new"),
    ];
    for (action, target) in expected {
        let row = rows
            .iter()
            .find(|r| r.action == action && r.target == target)
            .unwrap_or_else(|| panic!("no {action} row for {target} in {rows:#?}"));
        assert_eq!(row.actor, ADMIN, "{action}");
        assert_eq!(row.ip, "127.0.0.1", "{action}");
    }
    // The deleted clinic's rows outlive it.
    assert!(rows
        .iter()
        .any(|r| r.action == "CREATE_CLINIC" && r.clinic.starts_with("deleted clinic")));

    // The console's log filters by action.
    let (_, answer) = call(
        &base,
        op,
        "admin/audit",
        form(&[
            ("clinic", "audit-a".into()),
            ("action", "suspend".into()),
            ("actor", String::new()),
        ]),
    )
    .await;
    let lines = answer.as_array().expect("audit lines");
    assert_eq!(lines.len(), 1, "{answer}");
    assert_eq!(lines[0]["action"], "SUSPEND_CLINIC");
    assert_eq!(lines[0]["ip"], "127.0.0.1");
}

async fn bad_console_input_is_refused_and_nothing_is_half_written(store: Store) {
    let a = support::clinic(&store, "bad-a", ClinicSettings::default()).await;
    Tenants::new(store.clone())
        .create_admin(ADMIN, PASSWORD)
        .await
        .unwrap();
    let base = support::spawn_app(store.clone()).await;
    let op = sign_in(&base, ADMIN).await;
    let op = Some(op.as_str());
    let create = |slug: &str, tz: &str, email: &str| {
        form(&[
            ("slug", slug.into()),
            ("name", "Another".into()),
            ("timezone", tz.into()),
            ("default_country", "IN".into()),
            ("owner_email", email.into()),
        ])
    };
    let clinics_before = store.clinics("").await.unwrap().len();

    let (_, answer) = call(
        &base,
        op,
        "admin/clinic/create",
        create("bad-a", "Asia/Kolkata", "x@new.test"),
    )
    .await;
    assert_eq!(answer, json!({ "Console": { "SlugTaken": "bad-a" } }));
    // The owner's email collides after the clinic row was written: the whole change rolls back.
    let (_, answer) = call(
        &base,
        op,
        "admin/clinic/create",
        create("bad-b", "Asia/Kolkata", "owner@bad-a.test"),
    )
    .await;
    assert_eq!(
        answer,
        json!({ "Console": { "EmailTaken": "owner@bad-a.test" } })
    );
    let (_, answer) = call(
        &base,
        op,
        "admin/clinic/create",
        create("bad-c", "Mars/Olympus", "c@new.test"),
    )
    .await;
    assert_eq!(
        answer["Console"]["Invalid"]["field"], "timezone",
        "{answer}"
    );
    assert_eq!(
        store.clinics("").await.unwrap().len(),
        clinics_before,
        "nothing half-written"
    );
    assert!(store
        .clinic_by_slug(&Slug::parse("bad-b").unwrap())
        .await
        .unwrap()
        .is_none());

    for (field, value) in [
        ("daily_token_limit", "-5"),
        ("daily_token_limit", "1000000"),
        ("daily_message_limit", "lots"),
        ("max_tokens_per_phone_per_day", "0"),
        ("eta_max_minutes", "2"),
    ] {
        let (_, answer) = call(
            &base,
            op,
            "clinic/settings",
            form(&[
                ("slug", "bad-a".into()),
                ("settings[name]", "Renamed".into()),
                (&format!("settings[{field}]"), value.into()),
            ]),
        )
        .await;
        assert_eq!(
            answer["Console"]["Invalid"]["field"], field,
            "{field}={value}: {answer}"
        );
        let message = answer["Console"]["Invalid"]["message"].as_str().unwrap();
        assert!(!message.is_empty());
    }
    let unchanged = store.clinic(a.id).await.unwrap().unwrap();
    assert_eq!(
        unchanged.name, "bad-a clinic",
        "a refused form changes nothing"
    );
    assert_eq!(unchanged.settings, ClinicSettings::default());

    // A clinic with a patient waiting cannot be deleted, even with the right confirmation.
    let (status, _) = call(
        &base,
        None,
        "join",
        form(&[
            ("slug", "bad-a".into()),
            ("queue_id", a.general.get().to_string()),
            ("name", "Waiting Patient".into()),
            ("phone", "98123 00001".into()),
            ("language", "en".into()),
        ]),
    )
    .await;
    assert!(status < 400);
    let (_, answer) = call(
        &base,
        op,
        "admin/clinic/delete",
        form(&[("slug", "bad-a".into()), ("confirm", "bad-a".into())]),
    )
    .await;
    assert_eq!(
        answer,
        json!({ "Console": { "ClinicActive": ["General"] } })
    );
    let (_, answer) = call(
        &base,
        op,
        "admin/clinic/delete",
        form(&[("slug", "bad-a".into()), ("confirm", "bad-A ".into())]),
    )
    .await;
    assert_eq!(
        answer,
        json!({ "Console": { "ConfirmationMismatch": "bad-a" } })
    );
    assert!(store.clinic(a.id).await.unwrap().is_some());

    // The last active owner stays.
    let (_, answer) = call(
        &base,
        op,
        "clinic/staff/active",
        form(&[
            ("user_id", a.owner.id.get().to_string()),
            ("active", "false".into()),
        ]),
    )
    .await;
    assert_eq!(answer, json!({ "Console": "LastOwner" }));
    let owners = store.staff_of(a.id).await.unwrap();
    assert!(owners.iter().any(|s| s.role == Role::Owner && s.active));

    // A suspension needs a reason.
    let (_, answer) = call(
        &base,
        op,
        "admin/clinic/status",
        form(&[
            ("slug", "bad-a".into()),
            ("status", "SUSPENDED".into()),
            ("reason", " ".into()),
        ]),
    )
    .await;
    assert_eq!(answer, json!({ "Console": "ReasonRequired" }));
    assert_eq!(
        store.clinic(a.id).await.unwrap().unwrap().status,
        ClinicStatus::Active
    );
    // The clinic reads the reason: one that a direction control would reverse is refused.
    let (status, answer) = call(
        &base,
        op,
        "admin/clinic/status",
        form(&[
            ("slug", "bad-a".into()),
            ("status", "SUSPENDED".into()),
            ("reason", "unpaid \u{202E}eciovni".into()),
        ]),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(answer["Console"]["Invalid"]["field"], "reason", "{answer}");
    assert_eq!(
        store.clinic(a.id).await.unwrap().unwrap().status,
        ClinicStatus::Active
    );
}

async fn an_owner_erases_a_patient_over_http_after_confirming(store: Store) {
    let a = support::clinic(&store, "erase-a", ClinicSettings::default()).await;
    give_password(&store, a.owner.id, false).await;
    let engine = qline_app::queue::engine::Engine::new(store.clone());
    let mut request = support::walk_in(a.general, "Meera Iyer");
    request.phone = Some("+919812340077".into());
    let token = engine
        .create_token(qline_app::queue::engine::Actor::Staff(&a.desk), request)
        .await
        .unwrap()
        .created
        .unwrap()
        .0;
    let base = support::spawn_app(store.clone()).await;
    let owner = sign_in(&base, "owner@erase-a.test").await;
    let owner = Some(owner.as_str());

    // Retention outside 1–3650 days is refused with the range.
    for days in ["0", "3651", "ninety"] {
        let (status, answer) = call(
            &base,
            owner,
            "clinic/settings",
            form(&[("settings[retention_days]", days.into())]),
        )
        .await;
        assert_eq!(status, 400, "{days}: {answer}");
        assert!(answer.to_string().contains("1 to 3650"), "{days}: {answer}");
    }
    let (status, answer) = call(
        &base,
        owner,
        "clinic/settings",
        form(&[("settings[retention_days]", "30".into())]),
    )
    .await;
    assert_eq!(
        (status, &answer["settings"]["retention_days"]),
        (200, &json!(30))
    );

    // An unknown number: a 404 that says so.
    let (status, answer) = call(
        &base,
        owner,
        "clinic/patient/erase",
        form(&[("phone", "98123 49999".into()), ("confirm", "on".into())]),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        answer,
        json!({ "Console": { "UnknownPatient": "+919812349999" } })
    );

    // Confirmed, typed as a local number: the patient's name and phone go.
    let (status, answer) = call(
        &base,
        owner,
        "clinic/patient/erase",
        form(&[("phone", "98123 40077".into()), ("confirm", "on".into())]),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["removed"]["tokens"], 1);
    let (name, phone): (String, Option<String>) = match &store {
        Store::Sqlite(db) => {
            sqlx::query_as("SELECT patient_name, patient_phone FROM tokens WHERE id = $1")
                .bind(token.get())
                .fetch_one(&db.pool)
                .await
                .unwrap()
        }
        Store::Postgres(pool) => {
            sqlx::query_as("SELECT patient_name, patient_phone FROM tokens WHERE id = $1")
                .bind(token.get())
                .fetch_one(pool)
                .await
                .unwrap()
        }
    };
    assert_eq!((name.as_str(), phone), ("", None));
    let (status, _) = call(
        &base,
        owner,
        "clinic/patient",
        form(&[("phone", "+919812340077".into())]),
    )
    .await;
    assert_eq!(status, 404, "nothing is left to find");
}
