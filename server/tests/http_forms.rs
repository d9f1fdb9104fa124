//! Forms as a browser without JavaScript posts them, and refusals as HTTP statuses, on
//! both backends: a refused plain form post goes back to its page, which shows the
//! message and the values typed once; a JSON caller gets the refusal with its 4xx status.

mod support;

use qline_app::domain::*;
use qline_app::storage::Store;
use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, LOCATION, REFERER, SET_COOKIE};
use serde_json::{json, Value};

on_both_backends!(
    a_refused_join_form_comes_back_to_its_page,
    refusals_answer_their_4xx_status
);

/// What a browser sends with a plain form navigation.
const PAGE: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// The join form posted as a browser without JavaScript posts it, from `referer`.
async fn post_join_form(
    base: &str,
    queue: QueueId,
    referer: &str,
    name: &str,
    phone: &str,
) -> reqwest::Response {
    support::http()
        .post(format!("{base}/api/join"))
        .header(ACCEPT, PAGE)
        .header(REFERER, referer)
        .form(&[
            ("slug", "form-join"),
            ("queue_id", &queue.to_string()),
            ("name", name),
            ("phone", phone),
            ("language", "en"),
        ])
        .send()
        .await
        .unwrap()
}

async fn a_refused_join_form_comes_back_to_its_page(store: Store) {
    let clinic = support::clinic(&store, "form-join", ClinicSettings::default()).await;
    let base = support::spawn_app(store).await;
    let http = support::http();
    let join_page = format!("{base}/c/form-join?lang=en");

    let refused = post_join_form(
        &base,
        clinic.general,
        &join_page,
        "Asha <b>Rao</b>",
        "12345",
    )
    .await;
    assert_eq!(refused.status(), 302, "back to the page, not a bare error");
    assert_eq!(refused.headers()[LOCATION], "/c/form-join?lang=en");
    let cookie = refused.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Max-Age=300"),
        "{cookie}"
    );
    let returned = cookie.split(';').next().unwrap().to_owned();

    let page = http
        .get(format!("{base}/c/form-join?lang=en"))
        .header(ACCEPT, PAGE)
        .header(COOKIE, &returned)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let cleared = page.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cleared.starts_with("qline_form=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"id="phone-error""#),
        "the message sits by the phone field"
    );
    assert!(html.contains("is not a valid phone number"));
    assert!(html.contains(r#"value="12345""#), "the phone typed is kept");
    assert!(
        html.contains("Asha &lt;b&gt;Rao&lt;/b&gt;"),
        "the name typed is kept, escaped"
    );
    assert!(!html.contains("<b>Rao</b>"));

    // A form that posts elsewhere never shows another form's refusal.
    let login = http
        .get(format!("{base}/login"))
        .header(ACCEPT, PAGE)
        .header(COOKIE, &returned)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!login.contains("is not a valid phone number"));

    // A post whose Referer is another site's is refused outright, never redirected there.
    let elsewhere = post_join_form(
        &base,
        clinic.general,
        "https://evil.example/phish",
        "Asha",
        "12345",
    )
    .await;
    assert_eq!(elsewhere.status(), 403);
    assert!(elsewhere.headers().get(LOCATION).is_none());
}

async fn refusals_answer_their_4xx_status(store: Store) {
    let clinic = support::clinic(&store, "form-status", ClinicSettings::default()).await;
    let base = support::spawn_app(store).await;
    let http = support::http();
    let join = |phone: &'static str| {
        http.post(format!("{base}/api/join"))
            .form(&[
                ("slug", "form-status".to_owned()),
                ("queue_id", clinic.general.to_string()),
                ("name", "Bina".to_owned()),
                ("phone", phone.to_owned()),
                ("language", "en".to_owned()),
            ])
            .send()
    };

    let bad_phone = join("12").await.unwrap();
    assert_eq!(bad_phone.status(), 400);
    assert!(bad_phone.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: Value = bad_phone.json().await.unwrap();
    assert_eq!(body["Refused"]["Invalid"]["field"], "phone");

    assert_eq!(join("98123 45672").await.unwrap().status(), 200);
    let again = join("98123 45672").await.unwrap();
    assert_eq!(again.status(), 429, "one token per phone a day");

    let unknown = http
        .post(format!("{base}/api/join-page"))
        .form(&[("slug", "no-such-clinic")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let wrong = http
        .post(format!("{base}/api/login"))
        .form(&[("email", "nobody@form.test"), ("password", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let signed_out = http
        .post(format!("{base}/api/desk/act"))
        .json(&json!({ "queue_id": clinic.general.get(), "command": "Undo" }))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 401);
    assert_eq!(
        signed_out.json::<Value>().await.unwrap(),
        json!({ "SignIn": "SignedOut" })
    );
}
