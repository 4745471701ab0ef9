//! The API in-process: every endpoint, the authorisation matrix (`authorisation`), bad input, sessions, blind
//! coding, live events and the pages.

use std::sync::Arc;

use axum::body::Body as HttpBody;
use axum::http::{Method, Request, StatusCode, header};
use between_core::AccountRole;
use between_store::OpenOptions;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::{App, StudyHandle, router};

const PASSWORD: &str = "a password for tests";

struct World {
    app: Arc<App>,
    _dir: tempfile::TempDir,
}

/// The sample study as `sample` (with an owner, two coders and an auditor) and a second study
/// `other` with its own coder.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let mut sample =
        between_sample::materialise(&dir.path().join("sample.between"), &OpenOptions::default())
            .unwrap();
    for (name, role) in [
        ("paul", AccountRole::Owner),
        ("maria", AccountRole::Coder),
        ("sam", AccountRole::Coder),
        ("ada", AccountRole::Auditor),
    ] {
        sample.add_account(name, role, PASSWORD).unwrap();
    }
    let mut other = between_study::Workbench::create(
        &dir.path().join("other.between"),
        between_study::NewStudy {
            name: "Other".into(),
            ..Default::default()
        },
        &OpenOptions::default(),
        "t",
    )
    .unwrap();
    other
        .add_account("olga", AccountRole::Coder, PASSWORD)
        .unwrap();
    let app = App::new(vec![
        StudyHandle::new("sample", sample),
        StudyHandle::new("other", other),
    ]);
    World { app, _dir: dir }
}

#[derive(Clone, Debug, Default)]
struct Session {
    cookie: Option<String>,
    csrf: Option<String>,
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
    text: String,
}

impl World {
    async fn send(&self, s: &Session, method: Method, uri: &str, body: Option<String>) -> Reply {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(c) = &s.cookie {
            req = req.header(header::COOKIE, c);
        }
        if let Some(t) = &s.csrf {
            req = req.header("x-csrf-token", t);
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(HttpBody::from(b)),
            None => req.body(HttpBody::empty()),
        }
        .unwrap();
        let res = router(self.app.clone()).oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Reply {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    /// A request with raw bytes and extra headers (ranges, uploads), the response as it came.
    async fn raw(
        &self,
        s: &Session,
        method: Method,
        path: &str,
        headers: &[(header::HeaderName, &str)],
        body: Vec<u8>,
    ) -> axum::response::Response {
        let mut req = Request::builder()
            .uri(format!("/api/v1/studies/sample{path}"))
            .method(method);
        if let Some(c) = &s.cookie {
            req = req.header(header::COOKIE, c);
        }
        if let Some(t) = &s.csrf {
            req = req.header("x-csrf-token", t);
        }
        for (name, value) in headers {
            req = req.header(name, *value);
        }
        router(self.app.clone())
            .oneshot(req.body(HttpBody::from(body)).unwrap())
            .await
            .unwrap()
    }

    async fn call(&self, s: &Session, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.send(
            s,
            method,
            &format!("/api/v1/studies/sample{path}"),
            body.map(|b| b.to_string()),
        )
        .await
    }

    async fn login(&self, slug: &str, name: &str) -> Session {
        let r = self
            .send(
                &Session::default(),
                Method::POST,
                &format!("/api/v1/studies/{slug}/session"),
                Some(json!({"name": name, "password": PASSWORD}).to_string()),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let cookie = r
            .headers
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        Session {
            cookie: Some(cookie.split(';').next().unwrap().to_string()),
            csrf: r.body["csrf_token"].as_str().map(String::from),
        }
    }

    async fn first_source(&self, s: &Session, name: &str) -> Value {
        let sources = self.call(s, Method::GET, "/sources", None).await.body;
        let id = sources
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        self.call(s, Method::GET, &format!("/sources/{id}"), None)
            .await
            .body
    }

    async fn code_id(&self, s: &Session, component: &str) -> String {
        let book = self.call(s, Method::GET, "/codebook", None).await.body;
        book.as_array()
            .unwrap()
            .iter()
            .find(|n| n["code"]["component"] == component)
            .unwrap()["code"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

fn error_code(r: &Reply) -> &str {
    r.body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not the error shape: {} {}", r.status, r.text))
}

/// Code point offsets of `needle` in `text`.
fn cp_span(text: &str, needle: &str) -> (usize, usize) {
    let byte = text.find(needle).unwrap();
    let start = text[..byte].chars().count();
    (start, start + needle.chars().count())
}

#[tokio::test]
async fn writes_need_the_csrf_token() {
    let w = world();
    let coder = w.login("sample", "maria").await;
    let source = w.first_source(&coder, "p01-whitfield.txt").await;
    let body = json!({"source": source["id"], "code": w.code_id(&coder, "trust").await, "start": 0, "end": 3});
    for csrf in [None, Some("0".repeat(64))] {
        let s = Session {
            cookie: coder.cookie.clone(),
            csrf,
        };
        let r = w
            .call(&s, Method::POST, "/codings", Some(body.clone()))
            .await;
        assert_eq!(
            (r.status, error_code(&r)),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{}",
            r.text
        );
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("CSRF")
        );
    }
}

#[tokio::test]
async fn bad_input_gets_the_one_error_shape() {
    let w = world();
    let coder = w.login("sample", "maria").await;
    let source = w.first_source(&coder, "p01-whitfield.txt").await;
    let id = source["id"].as_str().unwrap();
    let len = source["text"].as_str().unwrap().chars().count();
    let trust = w.code_id(&coder, "trust").await;
    let post = |body: String| {
        w.send(
            &coder,
            Method::POST,
            "/api/v1/studies/sample/codings",
            Some(body),
        )
    };

    let r = post("{not json".into()).await;
    assert_eq!(
        (r.status, error_code(&r)),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    let r = post(json!({"source": id, "code": trust, "start": 0}).to_string()).await;
    assert_eq!(error_code(&r), "bad_request", "missing field");
    let r =
        post(json!({"source": id, "code": trust, "start": 0, "end": 2, "colour": "x"}).to_string())
            .await;
    assert_eq!(error_code(&r), "bad_request", "unknown field");
    let r =
        post(json!({"source": id, "code": trust, "start": 0, "end": len + 1}).to_string()).await;
    assert_eq!(
        (r.status, error_code(&r)),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("outside the text"),
        "{}",
        r.text
    );
    let r = post(json!({"source": id, "code": trust, "start": 9, "end": 9}).to_string()).await;
    assert_eq!(error_code(&r), "bad_request");
    let unknown = "01a20181-a270-7014-8824-0c836a4d230a";
    let r = post(json!({"source": unknown, "code": trust, "start": 0, "end": 2}).to_string()).await;
    assert_eq!(
        (r.status, error_code(&r)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let r = post(json!({"source": id, "code": unknown, "start": 0, "end": 2}).to_string()).await;
    assert_eq!(error_code(&r), "not_found");
    for path in [
        format!("/sources/{unknown}"),
        "/sources/not-an-id".into(),
        format!("/codes/{unknown}/excerpts"),
    ] {
        let r = w.call(&coder, Method::GET, &path, None).await;
        assert_eq!(
            (r.status, error_code(&r)),
            (StatusCode::NOT_FOUND, "not_found"),
            "{path}"
        );
    }
    let r = w
        .send(&coder, Method::GET, "/api/v1/studies/nope/sources", None)
        .await;
    assert_eq!(error_code(&r), "not_found");
    let big = json!({"source": id, "code": trust, "start": 0, "end": 2, "memo": "x".repeat(crate::MAX_BODY_BYTES)});
    let r = post(big.to_string()).await;
    assert_eq!(
        (r.status, error_code(&r)),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );

    // Stale versions: the second of two edits from version 1 is refused, and nothing is lost.
    let created = post(json!({"source": id, "code": trust, "start": 0, "end": 5}).to_string())
        .await
        .body;
    let cid = created["coding"]["id"].as_str().unwrap();
    let first = w
        .call(
            &coder,
            Method::PATCH,
            &format!("/codings/{cid}"),
            Some(json!({"version": 1, "end": 8})),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let second = w
        .call(
            &coder,
            Method::PATCH,
            &format!("/codings/{cid}"),
            Some(json!({"version": 1, "contrast": true})),
        )
        .await;
    assert_eq!(
        (second.status, error_code(&second)),
        (StatusCode::CONFLICT, "conflict")
    );
    assert!(
        second.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("changed by someone else")
    );
    let r = w
        .call(
            &coder,
            Method::DELETE,
            &format!("/codings/{cid}?version=1"),
            None,
        )
        .await;
    assert_eq!(error_code(&r), "conflict");
    let r = w
        .call(&coder, Method::DELETE, &format!("/codings/{cid}"), None)
        .await;
    assert_eq!(error_code(&r), "bad_request", "a delete names its version");
    let now = w
        .call(
            &coder,
            Method::GET,
            &format!("/codings?coder=maria&source={id}"),
            None,
        )
        .await
        .body;
    let kept = now
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["coding"]["id"] == cid)
        .unwrap();
    assert_eq!(
        (
            kept["coding"]["span"]["end"].as_u64(),
            kept["coding"]["contrast"].as_bool()
        ),
        (Some(8), Some(false))
    );
}

#[tokio::test]
async fn codings_land_on_exactly_the_selected_non_ascii_text() {
    let w = world();
    let coder = w.login("sample", "maria").await;
    let source = w.first_source(&coder, "p02-fernandez.txt").await;
    let text = source["text"].as_str().unwrap();
    let needle = text
        .split('\n')
        .find(|l| l.contains('’') || l.contains('í'))
        .unwrap();
    let needle: String = needle
        .chars()
        .skip(
            needle
                .find(": ")
                .map_or(0, |b| needle[..b].chars().count() + 2),
        )
        .take(40)
        .collect();
    let (start, end) = cp_span(text, &needle);
    let r = w
        .call(&coder, Method::POST, "/codings", Some(json!({"source": source["id"], "code": w.code_id(&coder, "hope").await, "start": start, "end": end})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["quote"], needle.as_str());
    let listed = w
        .call(
            &coder,
            Method::GET,
            &format!("/sources/{}/codings", source["id"].as_str().unwrap()),
            None,
        )
        .await
        .body;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["quote"] == needle.as_str() && v["coding"]["coder"] == "maria")
    );
}

#[tokio::test]
async fn logins_are_checked_limited_and_ended() {
    let w = world();
    let anonymous = Session::default();
    let wrong = |name: &str| {
        w.send(
            &anonymous,
            Method::POST,
            "/api/v1/studies/sample/session",
            Some(json!({"name": name, "password": "not it at all"}).to_string()),
        )
    };
    let a = wrong("maria").await;
    let b = wrong("nobody").await;
    assert_eq!(
        (a.status, b.status),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        a.body, b.body,
        "a wrong name and a wrong password look the same"
    );
    for _ in 0..4 {
        wrong("maria").await;
    }
    let r = w
        .send(
            &Session::default(),
            Method::POST,
            "/api/v1/studies/sample/session",
            Some(json!({"name": "maria", "password": PASSWORD}).to_string()),
        )
        .await;
    assert_eq!(
        (r.status, error_code(&r)),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
        "rate-limited even with the right password"
    );
    let olga = w.login("other", "olga").await;
    assert_eq!(
        w.send(&olga, Method::GET, "/api/v1/studies/other/sources", None)
            .await
            .status,
        StatusCode::OK
    );
    let r = w
        .send(&olga, Method::DELETE, "/api/v1/studies/other/session", None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        w.send(&olga, Method::GET, "/api/v1/studies/other/sources", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn blind_mode_hides_other_coders_until_revealed() {
    let w = world();
    let owner = w.login("sample", "paul").await;
    let maria = w.login("sample", "maria").await;
    let source = w.first_source(&owner, "p03-adeyemi.txt").await;
    let sid = source["id"].as_str().unwrap().to_string();
    let coders = |r: &Reply| -> std::collections::BTreeSet<String> {
        r.body
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["coding"]["coder"].as_str().unwrap().to_string())
            .collect()
    };
    let path = format!("/sources/{sid}/codings");
    assert_eq!(
        coders(&w.call(&maria, Method::GET, &path, None).await).len(),
        2
    );
    let r = w
        .call(
            &owner,
            Method::PUT,
            "/blind",
            Some(json!({"source": sid, "blind": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(
        coders(&w.call(&maria, Method::GET, &path, None).await),
        ["maria".to_string()].into()
    );
    assert_eq!(
        coders(&w.call(&owner, Method::GET, &path, None).await).len(),
        2,
        "owners see everything"
    );
    w.call(
        &owner,
        Method::PUT,
        "/blind",
        Some(json!({"source": sid, "blind": false})),
    )
    .await;
    assert_eq!(
        coders(&w.call(&maria, Method::GET, &path, None).await).len(),
        2,
        "revealed"
    );
}

#[tokio::test]
async fn new_codings_are_announced_live() {
    let w = world();
    let maria = w.login("sample", "maria").await;
    let sam = w.login("sample", "sam").await;
    let req = Request::builder()
        .uri("/api/v1/studies/sample/events")
        .header(header::COOKIE, sam.cookie.clone().unwrap())
        .body(HttpBody::empty())
        .unwrap();
    let res = router(w.app.clone()).oneshot(req).await.unwrap();
    assert_eq!(res.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut body = res.into_body();
    let ready = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert!(String::from_utf8_lossy(&ready).starts_with("event: ready"));
    let source = w.first_source(&maria, "p04-kowalczyk.txt").await;
    let created = w
        .call(&maria, Method::POST, "/codings", Some(json!({"source": source["id"], "code": w.code_id(&maria, "pushing").await, "start": 10, "end": 20})))
        .await
        .body;
    let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let text = String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap();
    assert!(text.starts_with("event: coding\ndata: "), "{text}");
    let data: Value =
        serde_json::from_str(text.lines().nth(1).unwrap().trim_start_matches("data: ")).unwrap();
    assert_eq!(
        (data["action"].as_str(), data["coding"].as_str()),
        (Some("created"), created["coding"]["id"].as_str())
    );
    assert_eq!(data["source"], source["id"]);
}

#[tokio::test]
async fn pages_need_a_session_and_show_the_study() {
    let w = world();
    let r = w
        .send(&Session::default(), Method::GET, "/s/sample/", None)
        .await;
    assert_eq!(
        (r.status, r.headers[header::LOCATION].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/s/sample/login")
    );
    let r = w
        .send(&Session::default(), Method::GET, "/s/sample/login", None)
        .await;
    assert!(
        r.status.is_success()
            && r.text
                .contains("<form method=\"post\" action=\"/s/sample/login\"")
    );
    assert!(
        r.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    let form = |password: &str| {
        Request::builder()
            .method(Method::POST)
            .uri("/s/sample/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(HttpBody::from(format!(
                "name=paul&password={}",
                password.replace(' ', "+")
            )))
            .unwrap()
    };
    let mut foreign = form(PASSWORD);
    foreign
        .headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(
        router(w.app.clone())
            .oneshot(foreign)
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let bad = router(w.app.clone()).oneshot(form("nope")).await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let ok = router(w.app.clone()).oneshot(form(PASSWORD)).await.unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let cookie = ok.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let s = Session {
        cookie: Some(cookie),
        csrf: None,
    };
    let dash = w.send(&s, Method::GET, "/s/sample/", None).await;
    assert!(
        dash.text.contains("p06-novak.txt")
            && dash.text.contains("C1-P01")
            && dash.text.contains("Latest memos"),
        "{}",
        dash.text
    );
    assert!(
        dash.text.contains("<meter"),
        "coding progress per source and coder"
    );
    let source = w
        .first_source(&w.login("sample", "maria").await, "p06-novak.txt")
        .await;
    let doc = w
        .send(
            &s,
            Method::GET,
            &format!("/s/sample/sources/{}", source["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert!(doc.text.contains("id=\"document\"") && doc.text.contains("/assets/document.js"));
    for page in [
        "/s/sample/codebook",
        "/s/sample/memos",
        "/assets/app.css",
        "/assets/document.js",
        "/",
    ] {
        assert_eq!(
            w.send(&s, Method::GET, page, None).await.status,
            StatusCode::OK,
            "{page}"
        );
    }
    assert_eq!(
        w.send(&s, Method::GET, "/assets/../Cargo.toml", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn owners_switch_blind_coding_from_the_dashboard() {
    let w = world();
    let owner = w.login("sample", "paul").await;
    let coder = w.login("sample", "maria").await;
    let dash = w.send(&owner, Method::GET, "/s/sample/", None).await;
    assert!(dash.text.contains("Start blind coding for the whole study"));
    assert!(
        !w.send(&coder, Method::GET, "/s/sample/", None)
            .await
            .text
            .contains("Start blind coding"),
        "coders get no switch"
    );
    let post = |s: &Session, csrf: &str| {
        let req = Request::builder()
            .method(Method::POST)
            .uri("/s/sample/blind")
            .header(header::COOKIE, s.cookie.clone().unwrap())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(HttpBody::from(format!("csrf={csrf}&blind=on")))
            .unwrap();
        router(w.app.clone()).oneshot(req)
    };
    assert_eq!(
        post(&owner, "wrong").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&coder, coder.csrf.as_deref().unwrap())
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&owner, owner.csrf.as_deref().unwrap())
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        w.call(&coder, Method::GET, "", None).await.body["blind"],
        true
    );
    let mine = w.call(&coder, Method::GET, "/codings", None).await.body;
    assert!(
        mine.as_array()
            .unwrap()
            .iter()
            .all(|v| v["coding"]["coder"] == "maria")
    );

    // Logging out with the form ends the session; without the right token it does not.
    let logout = |csrf: String| {
        let req = Request::builder()
            .method(Method::POST)
            .uri("/s/sample/logout")
            .header(header::COOKIE, owner.cookie.clone().unwrap())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(HttpBody::from(format!("csrf={csrf}")))
            .unwrap();
        router(w.app.clone()).oneshot(req)
    };
    let forged = logout("forged".into()).await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(
        !forged.headers().contains_key(header::SET_COOKIE),
        "a forged logout keeps the cookie"
    );
    assert_eq!(
        w.call(&owner, Method::GET, "", None).await.status,
        StatusCode::OK,
        "a forged logout changes nothing"
    );
    logout(owner.csrf.clone().unwrap()).await.unwrap();
    assert_eq!(
        w.call(&owner, Method::GET, "", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn agreement_disagreements_and_adjudication() {
    let w = world();
    let owner = w.login("sample", "paul").await;
    let maria = w.login("sample", "maria").await;
    let ada = w.login("sample", "ada").await;
    let olga = w.login("other", "olga").await;

    let r = w.call(&ada, Method::GET, "/coders", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let names: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["maria", "sam"]);

    // The same report the study crate computes, named coefficient by coefficient.
    let r = w
        .call(&ada, Method::GET, "/agreement?coders=maria,sam", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["unit"], "characters");
    assert_eq!(
        r.body["overall"][0]["name"],
        "α-binary, any code against uncoded (|uα)"
    );
    let overall = r.body["overall"][0]["value"].as_f64().unwrap();
    assert!(overall > 0.0 && overall < 1.0, "{overall}");
    let r = w
        .call(
            &ada,
            Method::GET,
            "/agreement?coders=maria,sam&unit=segments&min_overlap=0.5",
            None,
        )
        .await;
    assert_eq!(r.body["unit"]["segments"]["min_overlap"], 0.5, "{}", r.text);
    for bad in [
        "/agreement?coders=maria",
        "/agreement?coders=maria,sam&unit=words",
        "/agreement?coders=maria,sam&unit=segments&min_overlap=0",
        "/agreement",
    ] {
        let r = w.call(&ada, Method::GET, bad, None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
    }
    let r = w
        .call(&ada, Method::GET, "/agreement?coders=maria,nobody", None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = w
        .call(&olga, Method::GET, "/agreement?coders=maria,sam", None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "another study's session");

    // Disagreements first; each coder's version side by side.
    let r = w
        .call(&maria, Method::GET, "/disagreements?coders=maria,sam", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let passages = r.body["passages"].as_array().unwrap().clone();
    assert!(
        r.body["missing"].as_u64().unwrap() > 0,
        "the sample coders disagree"
    );
    assert_eq!(passages[0]["difference"], "missing");
    assert_eq!(passages.last().unwrap()["difference"], "agreed");
    let p = passages
        .iter()
        .find(|p| p["difference"] == "boundaries")
        .unwrap()
        .clone();
    assert_eq!(p["versions"][0]["coder"], "maria");
    assert_eq!(p["versions"][1]["coder"], "sam");

    let accept = |coder: &str, replacing: Value| {
        json!({
            "source": p["source"], "code": p["code"],
            "start": p["span"]["start"], "end": p["span"]["end"],
            "accept": coder, "replacing": replacing,
        })
    };
    let r = w
        .call(
            &ada,
            Method::POST,
            "/consensus",
            Some(accept("sam", json!([]))),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "auditors read: {}", r.text);
    let r = w
        .call(
            &maria,
            Method::POST,
            "/consensus",
            Some(accept("sam", json!([]))),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let made = r.body["consensus"].as_array().unwrap();
    let sams: Vec<&Value> = p["versions"][1]["codings"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(made.len(), sams.len());
    assert_eq!(made[0]["coding"]["coder"], "consensus");
    assert_eq!(made[0]["quote"], sams[0]["quote"]);
    let r = w
        .call(
            &owner,
            Method::POST,
            "/consensus",
            Some(accept("maria", json!([]))),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "stale: {}", r.text);
    let seen: Vec<Value> = made
        .iter()
        .map(|c| json!({"id": c["coding"]["id"], "version": c["coding"]["version"]}))
        .collect();
    let r = w
        .call(
            &owner,
            Method::POST,
            "/consensus",
            Some(accept("maria", json!(seen))),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // A discussion memo on the passage is shown with it.
    let r = w
        .call(
            &maria,
            Method::POST,
            "/memos",
            Some(json!({
                "on": format!("source:{}", p["source"].as_str().unwrap()),
                "title": "Discussion", "text": "We agreed on maria's boundaries.",
                "start": p["span"]["start"], "end": p["span"]["end"],
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = w
        .call(&owner, Method::GET, "/disagreements?coders=maria,sam", None)
        .await;
    let again = r.body["passages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["source"] == p["source"] && q["code"] == p["code"] && q["span"] == p["span"])
        .unwrap()
        .clone();
    assert_eq!(again["accepted"], "maria");
    assert_eq!(
        again["discussion"][0]["memo"]["text"],
        "We agreed on maria's boundaries."
    );
    let r = w
        .call(
            &maria,
            Method::POST,
            "/memos",
            Some(json!({"on": "study", "text": "x", "start": 0, "end": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);

    // While coding is blind, a coder cannot compare; owners and auditors can.
    let r = w
        .call(&owner, Method::PUT, "/blind", Some(json!({"blind": true})))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    for path in [
        "/coders",
        "/agreement?coders=maria,sam",
        "/disagreements?coders=maria,sam",
    ] {
        let r = w.call(&maria, Method::GET, path, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.text);
        let r = w.call(&ada, Method::GET, path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    }
    let r = w
        .call(
            &maria,
            Method::POST,
            "/consensus",
            Some(accept("sam", json!([]))),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);

    let r = w
        .send(&maria, Method::GET, "/s/sample/agreement", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("/assets/agreement.js"), "{}", r.text);
}

/// A mono 8-bit WAV of `seconds` of silence at 8 kHz.
fn silent_wav(seconds: u32) -> Vec<u8> {
    let data = 8000 * seconds;
    let mut wav = Vec::with_capacity(44 + data as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&8000u32.to_le_bytes());
    wav.extend_from_slice(&8000u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&8u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data.to_le_bytes());
    wav.extend((0..data).map(|i| 128u8.wrapping_add((i % 7) as u8)));
    wav
}

#[tokio::test]
async fn recordings_stream_by_range_and_transcripts_are_verified() {
    let w = world();
    let maria = w.login("sample", "maria").await;
    let ada = w.login("sample", "ada").await;
    let source = w.first_source(&maria, "c2-ruiz.txt").await;
    let sid = source["id"].as_str().unwrap().to_string();
    assert!(source["media"].is_null() && source["verification"].is_null());
    let media = format!("/sources/{sid}/media");
    let r = w.call(&maria, Method::GET, &media, None).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "nothing linked: {}",
        r.text
    );

    let wav = silent_wav(3);
    let file = w._dir.path().join("c2-ruiz.wav");
    std::fs::write(&file, &wav).unwrap();
    let study = w.app.study("sample").unwrap();
    let linked = file.clone();
    study
        .run(&between_study::policy::local_owner("paul"), move |b| {
            b.attach_media("c2-ruiz.txt", &linked)
        })
        .await
        .unwrap();
    let source = w.first_source(&maria, "c2-ruiz.txt").await;
    assert_eq!(source["media"]["mime"], "audio/wav");
    assert_eq!(source["media"]["bytes"], wav.len());

    // A range, as a browser asks when it seeks.
    let get = |range: Option<String>, s: &Session| {
        let (s, media) = (s.clone(), media.clone());
        let w = &w;
        async move {
            let headers: Vec<(header::HeaderName, &str)> =
                range.iter().map(|r| (header::RANGE, r.as_str())).collect();
            Ok::<_, std::convert::Infallible>(
                w.raw(&s, Method::GET, &media, &headers, Vec::new()).await,
            )
        }
    };
    let res = get(Some("bytes=1000-1999".into()), &ada).await.unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        res.headers()[header::CONTENT_RANGE],
        format!("bytes 1000-1999/{}", wav.len()).as_str()
    );
    assert_eq!(res.headers()[header::CONTENT_TYPE], "audio/wav");
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], &wav[1000..2000]);
    let whole = get(None, &maria).await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()[header::ACCEPT_RANGES], "bytes");
    let body = whole.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.len(), wav.len());
    let tail = get(Some("bytes=-10".into()), &maria).await.unwrap();
    let body = tail.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], &wav[wav.len() - 10..]);
    let outside = get(Some(format!("bytes={}-", wav.len() + 5)), &maria)
        .await
        .unwrap();
    assert_eq!(outside.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let nobody = get(None, &Session::default()).await.unwrap();
    assert_eq!(nobody.status(), StatusCode::UNAUTHORIZED);
    // Moved away: a clear 404.
    std::fs::rename(&file, w._dir.path().join("moved.wav")).unwrap();
    let r = w.call(&maria, Method::GET, &media, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        r.text.contains("not where it was linked from"),
        "{}",
        r.text
    );

    // Verification: writers record it, auditors read it, the dashboard lists the rest.
    let path = format!("/sources/{sid}/verification");
    let r = w
        .call(&ada, Method::POST, &path, Some(json!({"note": "x"})))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = w.send(&maria, Method::GET, "/s/sample/", None).await;
    let unchecked = |page: &str| -> usize {
        let at = page
            .find("not yet checked against their recording (")
            .map(|i| i + "not yet checked against their recording (".len());
        at.map_or(0, |i| page[i..].split(')').next().unwrap().parse().unwrap())
    };
    let unverified_before = unchecked(&r.text);
    assert!(unverified_before > 1, "{}", r.text);
    let r = w
        .call(
            &maria,
            Method::POST,
            &path,
            Some(json!({"note": "against the audio, two corrections"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["verified_by"], "maria");
    let list = w.call(&ada, Method::GET, "/verification", None).await;
    let checked: Vec<&Value> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["verification"].is_null())
        .collect();
    assert_eq!(checked.len(), 1);
    assert_eq!(checked[0]["name"], "c2-ruiz.txt");
    let r = w.send(&maria, Method::GET, "/s/sample/", None).await;
    assert_eq!(unchecked(&r.text), unverified_before - 1);
    assert!(r.text.contains("by maria"), "{}", r.text);
    let source = w.first_source(&ada, "c2-ruiz.txt").await;
    assert_eq!(
        source["verification"]["note"],
        "against the audio, two corrections"
    );
}

mod attribution;
mod authorisation;
mod connections;
mod deidentify;
mod limits;
mod query;
mod sessions;
mod store;

#[tokio::test]
async fn owners_exchange_refi_qda_projects_from_the_web() {
    let w = world();
    let owner = w.login("sample", "paul").await;
    let maria = w.login("sample", "maria").await;
    let ada = w.login("sample", "ada").await;
    // Only owners export or import.
    for who in [&maria, &ada] {
        let r = w
            .call(who, Method::GET, "/exchange/project.qdpx", None)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    }
    let r = w
        .send(
            &Session::default(),
            Method::GET,
            "/api/v1/studies/sample/exchange/project.qdpx",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let download = |s: &Session, path: &str| {
        let (s, path) = (s.clone(), format!("/exchange/{path}"));
        let w = &w;
        async move {
            Ok::<_, std::convert::Infallible>(w.raw(&s, Method::GET, &path, &[], Vec::new()).await)
        }
    };
    let res = download(&owner, "project.qdpx").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/zip");
    assert_eq!(res.headers()["x-between-not-carried-over"], "nothing");
    assert!(
        res.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("sample.qdpx")
    );
    let qdpx = res.into_body().collect().await.unwrap().to_bytes();
    assert!(qdpx.starts_with(b"PK"), "a zip");
    let res = download(&owner, "codebook.qdc").await.unwrap();
    let qdc = res.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&qdc).contains("urn:QDA-XML:codebook:1.0"));

    // Importing a real NVivo project into the study: more than the 1 MiB of ordinary requests.
    let nvivo = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/refi-qda/samples/nvivo-win-12.6_oltas0517.qdpx"
    ))
    .unwrap();
    assert!(nvivo.len() > crate::MAX_BODY_BYTES);
    let upload = |s: &Session, path: &str, body: Vec<u8>| {
        let (s, path) = (s.clone(), format!("/exchange/{path}"));
        let w = &w;
        async move {
            let headers = [(header::CONTENT_TYPE, "application/octet-stream")];
            Ok::<_, std::convert::Infallible>(w.raw(&s, Method::POST, &path, &headers, body).await)
        }
    };
    let res = upload(&maria, "project?name=oltas.qdpx", nvivo.clone())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = upload(&owner, "project?name=oltas.qdpx", nvivo)
        .await
        .unwrap();
    let status = res.status();
    let body: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["merged"]["sources"], 2);
    assert_eq!(body["merged"]["codings"], 303);
    assert!(
        body["report"]["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("UTF-16")),
        "{body}"
    );
    // Our own export again: everything is already there.
    let res = upload(&owner, "project?name=sample.qdpx", qdpx.to_vec())
        .await
        .unwrap();
    let body: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["merged"]["codings"], 0, "{body}");
    // A bad file changes nothing and says why.
    let before = w.call(&owner, Method::GET, "/", None).await.body["counts"].clone();
    let res = upload(&owner, "project?name=bad.qdpx", b"PK not a zip".to_vec())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = upload(&owner, "codebook?name=bad.qdc", b"<CodeBook".to_vec())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        w.call(&owner, Method::GET, "/", None).await.body["counts"],
        before
    );
    // A codebook merges by GUID: the study's own adds nothing.
    let res = upload(&owner, "codebook?name=sample.qdc", qdc.to_vec())
        .await
        .unwrap();
    let body: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["merged"]["codes_added"], 0, "{body}");
    let r = w
        .send(&owner, Method::GET, "/s/sample/exchange", None)
        .await;
    assert!(r.text.contains("/assets/exchange.js"));
    let r = w
        .send(&maria, Method::GET, "/s/sample/exchange", None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
mod blind;
mod bounds;
mod cases;

mod model_findings;
