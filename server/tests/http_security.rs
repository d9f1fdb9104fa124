//! Qline on the open internet, over HTTP on both backends: sign-in limits under a parallel
//! burst, per-network join limits (IPv6 /64, trusted proxies, forged `X-Forwarded-For`),
//! cross-site writes and wrong body types, the headers every answer carries, and
//! connections that never finish their request or its body. Clients use several loopback source
//! addresses (127.0.0.2, 127.0.0.3, …) to stand for different networks.

mod support;

use qline_app::domain::net::Cidr;
use qline_app::domain::*;
use qline_app::messaging::provider::Endpoints;
use qline_app::storage::Store;
use qline_app::tenant::hash_password;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{json, Value};
use std::net::IpAddr;
use std::time::Duration;
use support::{closed_within, Serving};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

on_both_backends!(
    a_login_burst_checks_only_the_free_attempts_and_the_user_still_signs_in_from_home,
    the_account_pages_password_check_is_limited_like_a_sign_in,
    joins_count_per_network_and_forwarded_for_is_read_only_from_trusted_proxies,
    writes_from_other_sites_and_wrong_body_types_are_refused,
    pages_and_apis_carry_the_security_headers,
    over_https_the_session_cookie_is_secure_and_host_bound,
    unfinished_requests_and_connection_floods_are_cut_off
);

const PASSWORD: &str = "correct horse battery";

/// A client whose connections come from `source` (one "network").
fn client_from(source: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(source.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn give_password(store: &Store, user: UserId) {
    let mut tx = store.begin().await.unwrap();
    tx.set_password(user, &hash_password(PASSWORD).unwrap(), false)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn login(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(format!("{base}/api/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

fn session_of(response: &reqwest::Response) -> String {
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .unwrap_or_else(|| panic!("no session: {}", response.status()))
        .to_str()
        .unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

async fn a_login_burst_checks_only_the_free_attempts_and_the_user_still_signs_in_from_home(
    store: Store,
) {
    let c = support::clinic(&store, "burst", ClinicSettings::default()).await;
    give_password(&store, c.desk.id).await;
    let base = support::spawn_app(store.clone()).await;
    let attacker = client_from("127.0.0.2");

    // 40 wrong passwords at once: each is counted before its password is checked, so
    // exactly the free attempts are checked (401) and the rest refused unchecked (429).
    let burst = (0..40).map(|i| {
        let (attacker, base, email) = (attacker.clone(), base.clone(), c.desk.email.clone());
        async move { login(&attacker, &base, &email, &format!("guess {i}")).await }
    });
    let answers = futures::future::join_all(burst).await;
    let checked = answers.iter().filter(|r| r.status() == 401).count();
    let refused = answers.iter().filter(|r| r.status() == 429).count();
    assert_eq!(
        (checked, refused),
        (5, 35),
        "the burst checks exactly the five free attempts"
    );
    let waiting = answers.iter().find(|r| r.status() == 429).unwrap();
    let retry: u64 = waiting.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");

    // The right password from the attacker's network waits too…
    let there = login(&attacker, &base, &c.desk.email, PASSWORD).await;
    assert_eq!(there.status(), 429);
    let refusal: Value = there.json().await.unwrap();
    assert!(
        refusal["SignIn"]["TooManyAttempts"]["wait_secs"].is_u64(),
        "{refusal}"
    );
    // …but the receptionist on the clinic's own network signs in.
    let home = client_from("127.0.0.3");
    let signed_in = login(&home, &base, &c.desk.email, PASSWORD).await;
    assert!(
        signed_in.headers().get(SET_COOKIE).is_some(),
        "the real user is not locked out: {}",
        signed_in.status()
    );

    // Guessing many accounts from one network: the network's free attempts, then waits,
    // and the same refusal whether or not the account exists.
    let sprayer = client_from("127.0.0.4");
    let spray = (0..40).map(|i| {
        let (sprayer, base) = (sprayer.clone(), base.clone());
        async move { login(&sprayer, &base, &format!("nobody{i}@burst.test"), "guess").await }
    });
    let answers = futures::future::join_all(spray).await;
    let checked = answers.iter().filter(|r| r.status() == 401).count();
    assert_eq!(checked, 20, "one network checks at most 20 passwords");
    assert!(answers
        .iter()
        .all(|r| matches!(r.status().as_u16(), 401 | 429)));

    // A malformed email is a clear 400, never a check.
    let bad = login(&home, &base, &"x".repeat(300), "guess").await;
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.json::<Value>().await.unwrap(),
        json!({ "SignIn": "InvalidEmail" })
    );
}

async fn the_account_pages_password_check_is_limited_like_a_sign_in(store: Store) {
    let c = support::clinic(&store, "account", ClinicSettings::default()).await;
    give_password(&store, c.owner.id).await;
    let base = support::spawn_app(store.clone()).await;
    let client = client_from("127.0.0.5");
    let cookie = session_of(&login(&client, &base, &c.owner.email, PASSWORD).await);
    let change = |current: &str| {
        client
            .post(format!("{base}/api/account/password"))
            .header(COOKIE, &cookie)
            .form(&[
                ("current_password", current),
                ("new_password", "a brand new password"),
            ])
            .send()
    };
    let mut statuses = Vec::new();
    for i in 0..7 {
        statuses.push(
            change(&format!("wrong {i}"))
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429]);
    // Even the right password waits now: a stolen session cannot keep guessing.
    assert_eq!(change(PASSWORD).await.unwrap().status(), 429);
}

async fn join_from(
    client: &reqwest::Client,
    base: &str,
    c: &support::Clinic,
    slug: &str,
    phone: &str,
    forwarded_for: Option<&str>,
) -> reqwest::Response {
    let mut request = client.post(format!("{base}/api/join")).form(&[
        ("slug", slug),
        ("queue_id", &c.general.to_string()),
        ("name", "Asha"),
        ("phone", phone),
        ("language", "en"),
    ]);
    if let Some(xff) = forwarded_for {
        request = request.header("x-forwarded-for", xff);
    }
    request.send().await.unwrap()
}

async fn joins_count_per_network_and_forwarded_for_is_read_only_from_trusted_proxies(store: Store) {
    let settings = ClinicSettings {
        joins_per_ip_per_hour: 2,
        ..ClinicSettings::default()
    };
    let c = support::clinic(&store, "intake", settings).await;
    let phone = |n: u32| format!("98765{n:05}");

    // Behind a proxy on this machine (`--behind-proxy`: loopback trusted).
    let (proxied, _) = support::spawn_app_serving(
        store.clone(),
        Endpoints::default(),
        Serving {
            trusted_proxies: Cidr::loopback(),
            ..Serving::default()
        },
    )
    .await;
    let proxy = client_from("127.0.0.1");
    // Three addresses of one IPv6 /64 are one network: the third join is refused.
    for (n, address) in ["2001:db8:1:2::1", "2001:db8:1:2::ffff"].iter().enumerate() {
        let joined = join_from(
            &proxy,
            &proxied,
            &c,
            "intake",
            &phone(n as u32),
            Some(address),
        )
        .await;
        assert!(
            joined.status().is_success(),
            "{address}: {}",
            joined.status()
        );
    }
    let third = join_from(
        &proxy,
        &proxied,
        &c,
        "intake",
        &phone(3),
        Some("2001:db8:1:2:abcd::9"),
    )
    .await;
    assert_eq!(third.status(), 429, "one /64 is one bucket");
    assert!(third.headers().get("retry-after").is_some());
    // The next /64 is someone else.
    let other = join_from(
        &proxy,
        &proxied,
        &c,
        "intake",
        &phone(4),
        Some("2001:db8:1:3::1"),
    )
    .await;
    assert!(other.status().is_success(), "{}", other.status());
    // What a client wrote left of the proxy's entry is not read.
    let forged = join_from(
        &proxy,
        &proxied,
        &c,
        "intake",
        &phone(5),
        Some("203.0.113.99, 2001:db8:1:2::7"),
    )
    .await;
    assert_eq!(forged.status(), 429, "a forged left-hand entry is ignored");
    // A request through the proxy that does not say whom it came from is refused, not
    // let through unlimited.
    let unsaid = join_from(&proxy, &proxied, &c, "intake", &phone(6), None).await;
    assert_eq!(unsaid.status(), 400);
    let garbled = join_from(
        &proxy,
        &proxied,
        &c,
        "intake",
        &phone(7),
        Some("not-an-address"),
    )
    .await;
    assert_eq!(garbled.status(), 400);

    // A server that trusts only 127.0.0.1: a client connecting from 127.0.0.6 is taken at
    // its own address, whatever X-Forwarded-For it sends.
    let (direct, _) = support::spawn_app_serving(
        store.clone(),
        Endpoints::default(),
        Serving {
            trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
            ..Serving::default()
        },
    )
    .await;
    let stranger = client_from("127.0.0.6");
    let mut statuses = Vec::new();
    for n in 0..3 {
        let xff = format!("198.51.100.{n}");
        let joined = join_from(&stranger, &direct, &c, "intake", &phone(10 + n), Some(&xff)).await;
        statuses.push(joined.status().as_u16());
    }
    assert_eq!(
        statuses[2], 429,
        "forged X-Forwarded-For is ignored: {statuses:?}"
    );
    assert!(
        statuses[..2].iter().all(|s| (200..400).contains(s)),
        "{statuses:?}"
    );
}

async fn writes_from_other_sites_and_wrong_body_types_are_refused(store: Store) {
    let c = support::clinic(&store, "csrf", ClinicSettings::default()).await;
    give_password(&store, c.desk.id).await;
    let engine = qline_app::queue::engine::Engine::new(store.clone());
    engine
        .create_token(
            qline_app::queue::engine::Actor::Staff(&c.desk),
            support::walk_in(c.general, "Ravi"),
        )
        .await
        .unwrap();
    let base = support::spawn_app(store.clone()).await;
    let http = support::http();
    let cookie = session_of(&login(&http, &base, &c.desk.email, PASSWORD).await);
    let next =
        json!({ "queue_id": c.general.get(), "command": { "Next": { "expected_serving": null } } });
    let act = |headers: Vec<(&'static str, String)>, body: String| {
        let mut request = http
            .post(format!("{base}/api/desk/act"))
            .header(COOKIE, &cookie)
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    let host = base.trim_start_matches("http://").to_owned();

    // What a page on another site can make a browser send: a "simple" text/plain post.
    let forged = act(
        vec![
            ("content-type", "text/plain".into()),
            ("origin", "https://evil.example".into()),
        ],
        next.to_string(),
    )
    .await
    .unwrap();
    assert_eq!(forged.status(), 403);
    let blanked = act(
        vec![
            ("content-type", "application/json".into()),
            ("origin", "null".into()),
            ("sec-fetch-site", "cross-site".into()),
        ],
        next.to_string(),
    )
    .await
    .unwrap();
    assert_eq!(blanked.status(), 403);
    let from_referer = act(
        vec![
            ("content-type", "application/json".into()),
            ("referer", "https://evil.example/page".into()),
        ],
        next.to_string(),
    )
    .await
    .unwrap();
    assert_eq!(from_referer.status(), 403);
    // Our own origin, but not JSON: 415.
    let plain = act(
        vec![
            ("content-type", "text/plain".into()),
            ("origin", format!("http://{host}")),
        ],
        next.to_string(),
    )
    .await
    .unwrap();
    assert_eq!(plain.status(), 415);
    // Nobody was called by any of them.
    let desk: Value = support::desk_view(&base, &cookie, c.general)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(desk["serving"], Value::Null, "{desk}");

    // The desk's own page calls it as JSON from our origin: it works.
    let own = act(
        vec![
            ("content-type", "application/json".into()),
            ("origin", format!("http://{host}")),
            ("sec-fetch-site", "same-origin".into()),
        ],
        next.to_string(),
    )
    .await
    .unwrap();
    assert_eq!(own.status(), 200);
    let view: Value = own.json().await.unwrap();
    assert_eq!(view["serving"]["name"], "Ravi", "{view}");

    // A plain form on another site cannot sign anyone out or in either.
    let cross_form = http
        .post(format!("{base}/api/logout"))
        .header(COOKIE, &cookie)
        .header("origin", "https://evil.example")
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_form.status(), 403);
}

async fn pages_and_apis_carry_the_security_headers(store: Store) {
    let c = support::clinic(&store, "headers", ClinicSettings::default()).await;
    let engine = qline_app::queue::engine::Engine::new(store.clone());
    let applied = engine
        .create_token(
            qline_app::queue::engine::Actor::Staff(&c.desk),
            support::walk_in(c.general, "Ravi"),
        )
        .await
        .unwrap();
    let (_, public_id, _) = applied.created.unwrap();
    let base = support::spawn_app(store.clone()).await;
    let http = support::http();
    let page = http.get(format!("{base}/c/headers")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert!(page.headers().get("strict-transport-security").is_none());
    let html = page.text().await.unwrap();
    // The page's inline scripts carry the nonce its policy names, and nothing else runs.
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no nonce in {policy}"));
    assert!(nonce.len() >= 16, "{policy}");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the bootstrap carries the nonce"
    );
    for directive in [
        "default-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    // Another page gets another nonce.
    let again = http.get(format!("{base}/c/headers")).send().await.unwrap();
    assert_ne!(
        again.headers()["content-security-policy"].to_str().unwrap(),
        policy
    );

    // A tracker's address is the patient's secret: its page sends no Referer at all…
    let tracker = http
        .get(format!("{base}/t/{public_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(tracker.status(), 200);
    assert_eq!(tracker.headers()["referrer-policy"], "no-referrer");
    // …so its plain (no-JavaScript) rating form is sent back to it by name, as a browser
    // posts it from such a page: Origin blanked, Sec-Fetch-Site same-origin.
    let rated = http
        .post(format!("{base}/api/rate"))
        .header("accept", "text/html")
        .header("origin", "null")
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("public_id", public_id.to_string()),
            ("rating", "5".into()),
            ("feedback", String::new()),
        ])
        .send()
        .await
        .unwrap();
    assert!(rated.status().is_redirection(), "{}", rated.status());
    assert_eq!(rated.headers()["location"], format!("/t/{public_id}"));

    let api = http
        .get(format!("{base}/api/display/headers"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");
    assert_eq!(api.headers()["referrer-policy"], "same-origin");
    assert!(api.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
}

async fn over_https_the_session_cookie_is_secure_and_host_bound(store: Store) {
    let c = support::clinic(&store, "tls", ClinicSettings::default()).await;
    give_password(&store, c.desk.id).await;
    let (base, _) = support::spawn_app_serving(
        store.clone(),
        Endpoints::default(),
        Serving {
            public_url: Some("https://queue.example.com".into()),
            ..Serving::default()
        },
    )
    .await;
    let http = support::http();
    let signed_in = login(&http, &base, &c.desk.email, PASSWORD).await;
    assert_eq!(
        signed_in.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let set = signed_in.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(set.starts_with("__Host-qline_session="), "{set}");
    assert!(
        set.contains("; Secure") && set.contains("Path=/") && !set.contains("Domain"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_owned();
    // The cookie works under its own name; the plain name is not read over https.
    let desk = |cookie: String| {
        http.post(format!("{base}/api/desk"))
            .header(COOKIE, cookie)
            .form(&[("queue_id", c.general.to_string())])
            .send()
    };
    assert_eq!(desk(cookie.clone()).await.unwrap().status(), 200);
    let plain = cookie.replacen("__Host-qline_session", "qline_session", 1);
    assert_eq!(desk(plain).await.unwrap().status(), 401);
}

async fn connect_from(source: &str, base: &str) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let addr = base.trim_start_matches("http://").parse().unwrap();
    socket.connect(addr).await.unwrap()
}

async fn unfinished_requests_and_connection_floods_are_cut_off(store: Store) {
    let (base, _) = support::spawn_app_serving(
        store.clone(),
        Endpoints::default(),
        Serving {
            header_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(1),
            ..Serving::default()
        },
    )
    .await;
    // A body that trickles in and never completes: answered 408 after the request timeout.
    let mut trickle = connect_from("127.0.0.7", &base).await;
    trickle
        .write_all(
            b"POST /api/join HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\nslug=",
        )
        .await
        .unwrap();
    let mut first = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(15), trickle.read_exact(&mut first))
        .await
        .expect("an unfinished body is answered within the deadline")
        .unwrap();
    assert_eq!(&first, b"HTTP/1.1 408", "answered Request Timeout");
    // Headers that never finish: the connection is closed after the header timeout.
    let mut slow = connect_from("127.0.0.7", &base).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    assert!(
        closed_within(&mut slow, Duration::from_secs(15))
            .await
            .is_some(),
        "a half-sent request is closed"
    );
    // An idle keep-alive connection is closed too, after its answer.
    let mut idle = connect_from("127.0.0.7", &base).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answered = closed_within(&mut idle, Duration::from_secs(15))
        .await
        .expect("an idle connection is closed");
    assert!(answered.starts_with(b"HTTP/1.1 200"), "answered first");

    // One network may hold only so many connections; others are still served. (Held
    // connections idle for less than this server's header timeout.)
    let base = support::spawn_app(store.clone()).await;
    let cap = qline_server::listen::CONNECTIONS_PER_NETWORK;
    let mut held = Vec::new();
    for _ in 0..cap {
        let mut c = connect_from("127.0.0.8", &base).await;
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut first = [0u8; 12];
        c.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"HTTP/1.1 200");
        held.push(c);
    }
    let mut over = connect_from("127.0.0.8", &base).await;
    let _ = over
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let refused = closed_within(&mut over, Duration::from_secs(5))
        .await
        .expect("the connection over the cap is closed at once");
    assert!(refused.is_empty(), "closed without an answer");
    let other = client_from("127.0.0.9")
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200, "another network is served");
    drop(held);
}
