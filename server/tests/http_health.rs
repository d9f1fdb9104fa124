//! The real app over HTTP: health and readiness for the operator's load balancer, the
//! home page, and a clear 404, on both backends.

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
        assert_eq!(
            headers["content-security-policy"],
            "frame-ancestors 'none'",
            "{}",
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
    assert!(
        html.contains("/pkg/qline.js") || html.contains("/pkg/qline.wasm"),
        "loads the hydration bundle"
    );

    let missing = http
        .get(format!("{base}/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing
        .text()
        .await
        .unwrap()
        .contains("This page does not exist"));
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
    assert!(
        body["reason"].as_str().unwrap().contains("migrat"),
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
