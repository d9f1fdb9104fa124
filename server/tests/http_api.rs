//! The HTTP API as integrators and browsers use it, on both backends: joining, the
//! tracker's ETag/304, staff sign-in, clinic B's desk refusing clinic A's staff, a
//! second app instance with its own connection to the same database sharing sessions,
//! queue writes and sign-in limits with the first, the QR poster refusing a Host
//! header it cannot print, and parallel NEXTs answering one call and `409`s.

mod support;

use qline_app::domain::*;
use qline_app::queue::engine::{Actor, Engine};
use qline_app::storage::{NewStaff, Store};
use qline_app::tenant::hash_password;
use reqwest::header::{COOKIE, ETAG, HOST, IF_NONE_MATCH, SET_COOKIE};
use serde_json::{json, Value};
use support::walk_in;

on_both_backends!(
    a_patient_joins_and_polls_cheaply,
    staff_reach_only_their_own_clinic,
    the_poster_refuses_a_host_it_cannot_print,
    parallel_nexts_call_one_patient_and_the_rest_answer_409
);

async fn a_patient_joins_and_polls_cheaply(store: Store) {
    let clinic = support::clinic(&store, "http-join", ClinicSettings::default()).await;
    let base = support::spawn_app(store).await;
    let http = support::http();

    let joined = http
        .post(format!("{base}/api/join"))
        .form(&[
            ("slug", "http-join"),
            ("queue_id", &clinic.general.to_string()),
            ("name", "Asha"),
            ("phone", "98123 45671"),
            ("language", "hi"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), 200);
    let public_id: String = joined.json().await.unwrap();

    let first = http
        .get(format!("{base}/api/t/{public_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let etag = first.headers().get(ETAG).expect("an ETag").clone();
    let view: Value = first.json().await.unwrap();
    assert_eq!(view["token"], "A-1");
    assert_eq!(view["phase"], "Waiting");
    assert_eq!(view["language"], "HI");

    let again = http
        .get(format!("{base}/api/t/{public_id}"))
        .header(IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty(), "a 304 has no body");

    // The patient cancels: the state changes, so the old tag no longer matches.
    let cancelled = http
        .post(format!("{base}/api/cancel"))
        .form(&[("public_id", &public_id)])
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), 200);
    let after = http
        .get(format!("{base}/api/t/{public_id}"))
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 200);
    assert_eq!(after.json::<Value>().await.unwrap()["phase"], "Cancelled");

    // A patient who cancelled by mistake may join again; a second live token is refused,
    // and the refusal names the limit.
    let join_again = || {
        http.post(format!("{base}/api/join"))
            .form(&[
                ("slug", "http-join"),
                ("queue_id", &clinic.general.to_string()),
                ("name", "Asha"),
                ("phone", "+919812345671"),
                ("language", "en"),
            ])
            .send()
    };
    let rejoined = join_again().await.unwrap();
    assert_eq!(
        rejoined.status(),
        200,
        "a cancelled token does not count against the phone"
    );
    let refused = join_again().await.unwrap();
    assert_eq!(refused.status(), 429);
    // The daily limit lifts at the clinic's midnight, at most a day away.
    let wait: u32 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&wait), "Retry-After {wait}");
    // The words the patient's page shows travel beside the refusal, percent-encoded.
    let said = |name: &str| percent_decoded(refused.headers()[name].to_str().unwrap());
    assert_eq!(
        said("qline-message"),
        "This phone number already has 1 token(s) at this clinic today. Open the tracker link you received, or ask at reception."
    );
    assert_eq!(said("qline-field"), "phone");
    assert_eq!(
        refused.json::<Value>().await.unwrap(),
        json!({ "Refused": { "PhoneLimitReached": { "limit": 1 } } })
    );

    // Only a patient who has been seen can rate the visit.
    let early = http
        .post(format!("{base}/api/rate"))
        .form(&[
            ("public_id", public_id.as_str()),
            ("rating", "5"),
            ("feedback", ""),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = early.json().await.unwrap();
    assert_eq!(body["Refused"]["Invalid"]["field"], "rating", "{body}");
    // Feedback the clinic reads must show as written: no hidden characters.
    let hidden = http
        .post(format!("{base}/api/rate"))
        .form(&[
            ("public_id", public_id.as_str()),
            ("rating", "5"),
            ("feedback", "Kind\u{200B} staff"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), 400);
    let body: Value = hidden.json().await.unwrap();
    assert_eq!(body["Refused"]["Invalid"]["field"], "feedback", "{body}");

    // A name that would read differently on the desk and the board is refused, saying why.
    let reversed = http
        .post(format!("{base}/api/join"))
        .form(&[
            ("slug", "http-join"),
            ("queue_id", &clinic.general.to_string()),
            ("name", "\u{202E}ahsA"),
            ("phone", "98123 45679"),
            ("language", "en"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(reversed.status(), 400);
    let body: Value = reversed.json().await.unwrap();
    let refusal = &body["Refused"]["Invalid"];
    assert_eq!(refusal["field"], "name", "{body}");
    assert!(
        refusal["message"]
            .as_str()
            .is_some_and(|m| m.contains("text-direction control (U+202E)")),
        "{body}"
    );

    for bad in ["nope", "AAAAAAAAAAAAAAAAAAAAAA"] {
        let missing = http
            .get(format!("{base}/api/t/{bad}"))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
    }
}

/// The URL another process would open for the database `store` is on: the same SQLite
/// file, or the same PostgreSQL database (with the test server's credentials).
fn database_url(store: &Store) -> String {
    match store {
        Store::Sqlite(db) => format!(
            "sqlite://{}",
            db.pool.connect_options().get_filename().display()
        ),
        Store::Postgres(pool) => {
            let options = pool.connect_options();
            let name = options.get_database().expect("a test database has a name");
            let mut url = reqwest::Url::parse(&support::postgres_admin_url()).unwrap();
            url.set_path(&format!("/{name}"));
            url.to_string()
        }
    }
}

/// Signs in over HTTP and returns the session cookie.
async fn sign_in(base: &str, email: &str, password: &str) -> String {
    let response = support::http()
        .post(format!("{base}/api/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "{}",
        response.status()
    );
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap().to_owned()
}

async fn staff_reach_only_their_own_clinic(store: Store) {
    let a = support::clinic(&store, "http-a", ClinicSettings::default()).await;
    let b = support::clinic(&store, "http-b", ClinicSettings::default()).await;
    let mut tx = store.begin().await.unwrap();
    let staff = NewStaff {
        clinic: Some(a.id),
        email: "reception@http-a.test".into(),
        password_hash: hash_password("front-desk-pass").unwrap(),
        role: Role::Receptionist,
    };
    tx.insert_staff(&staff, Timestamp::now()).await.unwrap();
    tx.commit().await.unwrap();
    // A second app instance, as another process would run it: its own store and pool,
    // opened from the database URL, sharing nothing with the first but the database.
    let url = database_url(&store);
    let store_of_second_instance = Store::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("a second store on {url}: {e}"));
    assert_eq!(store_of_second_instance.backend(), store.backend());
    let base = support::spawn_app(store).await;
    let http = support::http();

    let wrong = http
        .post(format!("{base}/api/login"))
        .form(&[("email", "reception@http-a.test"), ("password", "guess")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        wrong.json::<Value>().await.unwrap(),
        json!({ "SignIn": "WrongCredentials" })
    );
    let signed_out = http
        .post(format!("{base}/api/desk"))
        .form(&[("queue_id", a.general.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        signed_out.json::<Value>().await.unwrap(),
        json!({ "SignIn": "SignedOut" })
    );

    let cookie = sign_in(&base, "reception@http-a.test", "front-desk-pass").await;
    let own = support::desk_view(&base, &cookie, a.general).await;
    assert_eq!(own.status(), 200);
    assert_eq!(
        own.json::<Value>().await.unwrap()["clinic_name"],
        "http-a clinic"
    );

    // Every desk endpoint refuses clinic B's queue.
    let view_b = support::desk_view(&base, &cookie, b.general).await;
    assert_eq!(
        view_b.json::<Value>().await.unwrap(),
        json!({ "Refused": "UnknownQueue" })
    );
    let commands = [
        json!({ "Next": { "expected_serving": null } }),
        json!("Undo"),
        json!("CloseDay"),
        json!({ "PauseIntake": { "paused": true } }),
    ];
    for command in commands {
        let acted = http
            .post(format!("{base}/api/desk/act"))
            .header(COOKIE, &cookie)
            .json(&json!({ "queue_id": b.general.get(), "command": command }))
            .send()
            .await
            .unwrap();
        assert_eq!(
            acted.json::<Value>().await.unwrap(),
            json!({ "Refused": "Forbidden" }),
            "{command}"
        );
    }
    let walk_in = http
        .post(format!("{base}/api/desk/walk-in"))
        .header(COOKIE, &cookie)
        .form(&[
            ("queue_id", b.general.to_string().as_str()),
            ("name", "Intruder"),
            ("phone", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        walk_in.json::<Value>().await.unwrap(),
        json!({ "Refused": "Forbidden" })
    );

    // The session lives in the database: a second app instance (or a restarted one)
    // honours the same cookie.
    let other_instance = support::spawn_app(store_of_second_instance.clone()).await;
    let there = support::desk_view(&other_instance, &cookie, a.general).await;
    assert_eq!(
        there.json::<Value>().await.unwrap()["clinic_name"],
        "http-a clinic"
    );
    // And what one instance writes, the other reads: a walk-in added through the second
    // instance is on the first instance's desk.
    let added = http
        .post(format!("{other_instance}/api/desk/walk-in"))
        .header(COOKIE, &cookie)
        .form(&[
            ("queue_id", a.general.to_string().as_str()),
            ("name", "Added Elsewhere"),
            ("phone", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 200);
    let desk: Value = support::desk_view(&base, &cookie, a.general)
        .await
        .json()
        .await
        .unwrap();
    let waiting: Vec<&str> = desk["waiting"]
        .as_array()
        .expect("a desk view")
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(waiting, ["Added Elsewhere"], "{desk}");

    // Guessing is limited per account, in the database (so across instances too).
    for _ in 0..5 {
        http.post(format!("{base}/api/login"))
            .form(&[("email", "owner@http-b.test"), ("password", "guess")])
            .send()
            .await
            .unwrap();
    }
    let locked = http
        .post(format!("{base}/api/login"))
        .form(&[("email", "owner@http-b.test"), ("password", "guess")])
        .send()
        .await
        .unwrap();
    assert_eq!(locked.status(), 429);
    let wait = locked.headers()["retry-after"].to_str().unwrap().to_owned();
    assert!(
        (1..=60).contains(&wait.parse::<u32>().unwrap()),
        "a locked-out sign-in says when to try again: {wait}"
    );
    let refusal: Value = locked.json().await.unwrap();
    assert!(
        refusal["SignIn"]["TooManyAttempts"]["wait_secs"].is_u64(),
        "{refusal}"
    );
    let locked_there = http
        .post(format!("{other_instance}/api/login"))
        .form(&[("email", "owner@http-b.test"), ("password", "guess")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        locked_there.status(),
        429,
        "the other instance counts the same guesses"
    );

    // Signing out ends the session on the server, not just in the browser.
    let out = http
        .post(format!("{base}/api/logout"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success() || out.status().is_redirection());
    let after = support::desk_view(&base, &cookie, a.general).await;
    assert_eq!(
        after.json::<Value>().await.unwrap(),
        json!({ "SignIn": "SignedOut" })
    );
    let after_there = support::desk_view(&other_instance, &cookie, a.general).await;
    assert_eq!(
        after_there.json::<Value>().await.unwrap(),
        json!({ "SignIn": "SignedOut" }),
        "signed out on one instance is signed out on the other"
    );
    store_of_second_instance.close().await;
}

/// With no public URL configured, the poster's QR code points at the address the console
/// was opened at: the request's Host header, which anyone can fill. A host no phone could
/// open, or one longer than any QR code holds, is refused with a 400 and a message the
/// owner can act on, on the poster's endpoint and its page alike; never a 5xx.
async fn the_poster_refuses_a_host_it_cannot_print(store: Store) {
    let clinic = support::clinic(&store, "http-poster", ClinicSettings::default()).await;
    let mut tx = store.begin().await.unwrap();
    let hash = hash_password("poster-owner-pass").unwrap();
    tx.set_password(clinic.owner.id, &hash, false)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let base = support::spawn_app(store).await;
    let cookie = sign_in(&base, &clinic.owner.email, "poster-owner-pass").await;
    let poster = |host: String| {
        support::http()
            .post(format!("{base}/api/clinic/poster"))
            .header(COOKIE, &cookie)
            .header(HOST, host)
            .form(&[("slug", "http-poster")])
            .send()
    };

    let printed = poster("clinic.example:8080".into()).await.unwrap();
    assert_eq!(printed.status(), 200);
    let printed: Value = printed.json().await.unwrap();
    assert_eq!(
        printed["join_url"],
        "http://clinic.example:8080/c/http-poster"
    );

    let too_long = format!("{}.example", "a".repeat(3000));
    for host in [
        too_long.clone(),
        "clinic.example@evil.example".into(),
        "a\"b<c".into(),
    ] {
        let refused = poster(host.clone()).await.unwrap();
        assert_eq!(refused.status(), 400, "{host:.40}");
        let body: Value = refused.json().await.unwrap();
        let message = body["Console"]["Invalid"]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(message.contains("--public-url"), "{host:.40}: {body}");
    }

    // The page renders the poster on the server: the same host gets the message, not a crash.
    let page = support::http()
        .get(format!("{base}/clinic/poster"))
        .header(COOKIE, &cookie)
        .header(HOST, too_long)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("--public-url"));
}

/// Twelve desks press NEXT on one queue at once, each expecting nobody served: one call
/// is made, and every other answer is a `409` saying the queue moved (not a `500`).
async fn parallel_nexts_call_one_patient_and_the_rest_answer_409(store: Store) {
    let clinic = support::clinic(&store, "http-next", ClinicSettings::default()).await;
    let mut tx = store.begin().await.unwrap();
    let staff = NewStaff {
        clinic: Some(clinic.id),
        email: "reception@http-next.test".into(),
        password_hash: hash_password("front-desk-pass").unwrap(),
        role: Role::Receptionist,
    };
    tx.insert_staff(&staff, Timestamp::now()).await.unwrap();
    tx.commit().await.unwrap();
    let engine = Engine::new(store.clone());
    for name in ["Asha", "Bala"] {
        engine
            .create_token(Actor::Staff(&clinic.desk), walk_in(clinic.general, name))
            .await
            .unwrap();
    }
    let base = support::spawn_app(store).await;
    let cookie = sign_in(&base, "reception@http-next.test", "front-desk-pass").await;
    let http = support::http();
    let presses = (0..12).map(|_| {
        http.post(format!("{base}/api/desk/act"))
            .header(COOKIE, &cookie)
            .json(&json!({
                "queue_id": clinic.general.get(),
                "command": { "Next": { "expected_serving": null } },
            }))
            .send()
    });
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for answer in futures::future::join_all(presses).await {
        let answer = answer.unwrap();
        let status = answer.status().as_u16();
        *statuses.entry(status).or_default() += 1;
        if status == 409 {
            let body: Value = answer.json().await.unwrap();
            assert_eq!(
                body["Refused"]["QueueMoved"]["now_serving"], "A-1",
                "{body}"
            );
        }
    }
    assert_eq!(statuses, [(200, 1), (409, 11)].into());
}

/// A header value as JavaScript's `decodeURIComponent` reads it.
fn percent_decoded(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            decoded.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).unwrap()
}
