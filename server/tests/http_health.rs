//! The real app over HTTP: health and readiness for the operator's load balancer, the
//! home page (with the patient bundle), and a clear 404 (with the full one), on both backends.

mod support;

use support::TestDb;

/// Starts the app on a free loopback port and returns its base URL.

async fn ready_app_answers(db: TestDb, backend: &str) {
    let base = support::spawn_app(db.store.clone()).await;
    let http = reqwest::Client::new();

    let health = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");

    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"], backend);

    let home = http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let tracker_api = http
        .get(format!("{base}/api/t/0000000000000000000000"))
        .send()
        .await
        .unwrap();
    for answer in [&home, &tracker_api] {
        let headers = answer.headers();
        assert_eq!(
            headers["x-content-type-options"],
            "nosniff",
            "{}",
            answer.url()
        );
        assert_eq!(
            headers["referrer-policy"],
            "same-origin",
            "{}",
            answer.url()
        );
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{}: {policy}",
            answer.url()
        );
    }
    let html = home.text().await.unwrap();
    assert!(html.contains("<title>Qline</title>"), "{html}");
    assert!(
        html.contains(r#"href="/c/demo""#),
        "links to the demo clinic's join page"
    );
    assert!(html.contains(r#"href="/login""#), "links to staff login");
    // The front page is a patient's: it loads the patient bundle, not the staff screens'.
    assert!(
        html.contains("/pkg/patient.js") && !html.contains("/pkg/qline.js"),
        "loads the patient bundle"
    );

    let missing = http
        .get(format!("{base}/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let missing = missing.text().await.unwrap();
    assert!(missing.contains("This page does not exist"));
    // Any other page loads the full bundle.
    assert!(missing.contains("/pkg/qline.js"), "{missing}");
    db.cleanup().await;
}

async fn unmigrated_app_is_not_ready(db: TestDb) {
    let base = support::spawn_app(db.store.clone()).await;
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    // The cause is the operator's (in the log), never the public's.
    let reason = body["reason"].as_str().unwrap();
    assert!(
        reason.contains("server log") && !reason.contains("migrat") && !reason.contains("sqlite"),
        "{body}"
    );
    db.cleanup().await;
}

#[tokio::test]
async fn sqlite_app_serves_health_readiness_and_pages() {
    ready_app_answers(TestDb::sqlite().await, "sqlite").await;
}

#[tokio::test]
async fn postgres_app_serves_health_readiness_and_pages() {
    ready_app_answers(TestDb::postgres().await, "postgres").await;
}

#[tokio::test]
async fn sqlite_app_without_migrations_is_not_ready() {
    unmigrated_app_is_not_ready(TestDb::sqlite_unmigrated().await).await;
}

#[tokio::test]
async fn postgres_app_without_migrations_is_not_ready() {
    unmigrated_app_is_not_ready(TestDb::postgres_unmigrated().await).await;
}

/// The database goes away under a running server (here its pool is closed): readiness,
/// the tracker, a join and a provider's webhook each answer `503` at once, with
/// `Retry-After` and words a person can act on, never a hang or a `500`; the provider
/// therefore delivers again later and the patient tries again.
async fn a_database_gone_away_answers_503(db: TestDb) {
    let clinic = support::clinic(
        &db.store,
        "gone-away",
        qline_app::domain::ClinicSettings::default(),
    )
    .await;
    let base = support::spawn_app(db.store.clone()).await;
    let http = support::http();
    let join = || {
        http.post(format!("{base}/api/join")).form(&[
            ("slug", "gone-away"),
            ("queue_id", &clinic.general.to_string()),
            ("name", "Asha"),
            ("phone", "98123 45671"),
            ("language", "en"),
        ])
    };
    let joined = join().send().await.unwrap();
    assert_eq!(joined.status(), 200);
    let public_id: String = joined.json().await.unwrap();

    db.store.close().await;

    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let tracker = http
        .get(format!("{base}/api/t/{public_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(tracker.status(), 503);
    assert_eq!(tracker.headers()["retry-after"], "5");
    let said: serde_json::Value = tracker.json().await.unwrap();
    assert!(
        said["error"].as_str().unwrap().contains("try again"),
        "{said}"
    );
    let again = join().send().await.unwrap();
    assert_eq!(again.status(), 503);
    assert_eq!(again.headers()["retry-after"], "5");
    assert_eq!(
        again.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!("Unavailable")
    );
    let webhook = http
        .post(format!(
            "{base}/webhooks/whatsapp/ultramsg/gone-away?secret=anything"
        ))
        .json(&serde_json::json!({ "event_type": "message_received", "data": {} }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        webhook.status(),
        503,
        "a provider delivers again after a 5xx"
    );
    db.cleanup().await;
}

#[tokio::test]
async fn sqlite_database_gone_away_answers_503() {
    a_database_gone_away_answers_503(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn postgres_database_gone_away_answers_503() {
    a_database_gone_away_answers_503(TestDb::postgres().await).await;
}
