//! Logins and sessions: the rate limit under parallel guesses and from shared addresses,
//! sessions ending when their account changes (also from another process), the event stream
//! ending with its session, and the `Secure` cookie behind a TLS proxy.

use super::*;

/// A login attempt from `address`, as the server sees it over TCP.
async fn login_from(w: &World, address: &str, name: &str, password: &str) -> StatusCode {
    login_forwarded(w, address, "", name, password).await
}

/// A login attempt from `address` carrying `X-Forwarded-For: forwarded`.
async fn login_forwarded(
    w: &World,
    address: &str,
    forwarded: &str,
    name: &str,
    password: &str,
) -> StatusCode {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/studies/sample/session")
        .header("x-forwarded-for", forwarded)
        .header(header::CONTENT_TYPE, "application/json")
        .body(HttpBody::from(
            json!({"name": name, "password": password}).to_string(),
        ))
        .unwrap();
    let peer: std::net::SocketAddr = format!("{address}:40000").parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    router(w.app.clone()).oneshot(req).await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_check_no_more_passwords_than_the_limit() {
    let w = world();
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..60 {
        let app = w.app.clone();
        guesses.spawn(async move {
            let req = Request::builder()
                .method(Method::POST)
                .uri("/api/v1/studies/sample/session")
                .header(header::CONTENT_TYPE, "application/json")
                .body(HttpBody::from(
                    json!({"name": "maria", "password": format!("guess number {i}")}).to_string(),
                ))
                .unwrap();
            router(app).oneshot(req).await.unwrap().status()
        });
    }
    let statuses = guesses.join_all().await;
    assert_eq!(
        w.app.sessions.passwords_checked(),
        crate::auth::PAIR_ATTEMPTS,
        "passwords checked"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        60 - crate::auth::PAIR_ATTEMPTS
    );
}

#[tokio::test]
async fn one_names_failures_never_deny_another_names_right_password() {
    let w = world();
    for _ in 0..crate::auth::PAIR_ATTEMPTS {
        assert_eq!(
            login_from(&w, "10.0.0.7", "maria", "not her password").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login_from(&w, "10.0.0.7", "maria", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "this name from this address waits"
    );
    assert_eq!(
        login_from(&w, "10.0.0.7", "sam", PASSWORD).await,
        StatusCode::OK,
        "another name behind the same address (a proxy) is not held up"
    );
    assert_eq!(
        login_from(&w, "10.0.0.8", "maria", PASSWORD).await,
        StatusCode::OK,
        "the same name from elsewhere, under its own limit"
    );
}

#[tokio::test]
async fn behind_a_tls_proxy_the_address_is_the_one_the_proxy_forwarded() {
    for (w, trusted) in [(world(), false), (behind_a_tls_proxy(), true)] {
        for _ in 0..crate::auth::PAIR_ATTEMPTS {
            // A client may send its own header; the proxy appends the address it saw.
            login_forwarded(&w, "127.0.0.1", "10.9.9.9, 198.51.100.1", "maria", "wrong").await;
        }
        let elsewhere =
            login_forwarded(&w, "127.0.0.1", "10.9.9.9, 198.51.100.2", "maria", PASSWORD).await;
        let expected = if trusted {
            StatusCode::OK
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(elsewhere, expected, "trusting the proxy: {trusted}");
    }
}

#[tokio::test]
async fn an_overlong_name_is_refused_and_not_remembered() {
    let w = world();
    let name = "n".repeat(100_000);
    let r = w
        .send(
            &Session::default(),
            Method::POST,
            "/api/v1/studies/sample/session",
            Some(json!({"name": name, "password": "whatever"}).to_string()),
        )
        .await;
    assert_eq!(
        (r.status, error_code(&r)),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    assert!(r.text.contains("at most 64 characters"), "{}", r.text);
    assert_eq!(w.app.sessions.login_keys_tracked(), 0);
    assert_eq!(w.app.sessions.passwords_checked(), 0, "no password checked");
}

/// The sample study opened a second time, as `between user …` would while the server runs.
fn another_process(w: &World) -> between_study::Workbench {
    between_study::Workbench::open(
        &w._dir.path().join("sample.between"),
        &OpenOptions::default(),
        "cli",
    )
    .unwrap()
}

#[tokio::test]
async fn changes_to_an_account_from_another_process_end_its_sessions() {
    let w = world();
    let maria = w.login("sample", "maria").await;
    let sam = w.login("sample", "sam").await;
    let ada = w.login("sample", "ada").await;
    let paul = w.login("sample", "paul").await;
    let mut cli = another_process(&w);
    cli.set_password("maria", "maria's new password").unwrap();
    cli.set_role("sam", AccountRole::Auditor).unwrap();
    cli.remove_account("ada").unwrap();
    for (who, s) in [("maria", &maria), ("sam", &sam), ("ada", &ada)] {
        let r = w.call(s, Method::GET, "/sources", None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{who}");
        assert!(r.text.contains("log in again"), "{}", r.text);
    }
    assert_eq!(
        w.call(&paul, Method::GET, "/sources", None).await.status,
        StatusCode::OK,
        "an unchanged account keeps its session"
    );
    let sam = w.login("sample", "sam").await;
    assert_eq!(
        w.call(&sam, Method::GET, "/session", None).await.body["account"]["role"],
        "auditor",
        "a new session has the new role"
    );
}

/// An event stream of `s`'s, past its first (`ready`) event.
pub(super) async fn event_stream(w: &World, s: &Session) -> axum::body::Body {
    let req = Request::builder()
        .uri("/api/v1/studies/sample/events")
        .header(header::COOKIE, s.cookie.clone().unwrap())
        .body(HttpBody::empty())
        .unwrap();
    let mut body = router(w.app.clone())
        .oneshot(req)
        .await
        .unwrap()
        .into_body();
    let ready = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert!(String::from_utf8_lossy(&ready).starts_with("event: ready"));
    body
}

/// Reads `body` to its end (within a minute, of paused time where it is paused), failing on
/// any coding event; keep-alive comments may come.
async fn ends_without_events(mut body: axum::body::Body) {
    tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(frame) = body.frame().await {
            let data = frame.unwrap().into_data().unwrap();
            let text = String::from_utf8_lossy(&data).into_owned();
            assert!(
                !text.contains("event: coding"),
                "delivered after the end: {text}"
            );
        }
    })
    .await
    .expect("the stream ended");
}

#[tokio::test]
async fn the_event_stream_ends_at_logout() {
    let w = world();
    let sam = w.login("sample", "sam").await;
    let maria = w.login("sample", "maria").await;
    let events = event_stream(&w, &sam).await;
    let r = w.call(&sam, Method::DELETE, "/session", None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let source = w.first_source(&maria, "p04-kowalczyk.txt").await;
    let code = w.code_id(&maria, "pushing").await;
    w.call(
        &maria,
        Method::POST,
        "/codings",
        Some(json!({"source": source["id"], "code": code, "start": 10, "end": 20})),
    )
    .await;
    ends_without_events(events).await;
}

#[tokio::test(start_paused = true)]
async fn the_event_stream_ends_when_another_process_changes_the_password() {
    let w = world();
    let sam = w.login("sample", "sam").await;
    let events = event_stream(&w, &sam).await;
    another_process(&w)
        .set_password("sam", "sam's new password")
        .unwrap();
    // Nobody uses sam's session again: the stream's own recheck (paused time runs ahead to
    // it) finds the change.
    ends_without_events(events).await;
}

/// The test world, served as `between serve --tls-proxy` would.
fn behind_a_tls_proxy() -> World {
    let w = world();
    let handles = Arc::try_unwrap(w.app)
        .unwrap()
        .studies
        .into_values()
        .map(|h| Arc::try_unwrap(h).unwrap())
        .collect();
    World {
        app: App::with_tls_proxy(handles, true),
        _dir: w._dir,
    }
}

/// The `Set-Cookie` header of maria's login.
async fn set_cookie_at_login(w: &World) -> String {
    let r = w
        .send(
            &Session::default(),
            Method::POST,
            "/api/v1/studies/sample/session",
            Some(json!({"name": "maria", "password": PASSWORD}).to_string()),
        )
        .await;
    r.headers[header::SET_COOKIE].to_str().unwrap().to_string()
}

#[tokio::test]
async fn behind_a_tls_proxy_the_cookie_is_secure_and_host_only() {
    let plain = world();
    let cookie = set_cookie_at_login(&plain).await;
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP on this machine: {cookie}"
    );

    let w = behind_a_tls_proxy();
    let cookie = set_cookie_at_login(&w).await;
    assert!(
        cookie.starts_with("__Host-between_session=")
            && cookie.contains("; Secure")
            && cookie.contains("Path=/")
            && !cookie.contains("Domain"),
        "{cookie}"
    );
    let token = cookie.split(';').next().unwrap();
    let secure = Session {
        cookie: Some(token.to_string()),
        csrf: None,
    };
    assert_eq!(
        w.call(&secure, Method::GET, "/session", None).await.status,
        StatusCode::OK
    );
    let renamed = Session {
        cookie: Some(token.replacen("__Host-", "", 1)),
        csrf: None,
    };
    assert_eq!(
        w.call(&renamed, Method::GET, "/session", None).await.status,
        StatusCode::UNAUTHORIZED,
        "only the secure cookie carries the session"
    );
}
