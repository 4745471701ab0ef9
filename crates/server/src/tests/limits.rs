//! Depth and name limits over HTTP: deep bodies, code chains and bad code names are answered
//! 400, never a crash; a study at the depth limit still exports and imports.

use super::*;

/// JSON bodies 100,000 deep, as a whole body and inside a field, to every kind of JSON
/// endpoint: typed bodies stop at the first wrong type, and what is skipped or kept untyped
/// stops at serde_json's recursion limit (128; its `unbounded_depth` feature is off): a 400,
/// never a crash.
#[tokio::test]
async fn json_bodies_100_000_deep_are_a_bad_request() {
    let w = world();
    let paul = w.login("sample", "paul").await;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let bodies = [
        deep.clone(),
        format!(r#"{{"name": "x", "extra": {deep}}}"#),
        format!(r#"{{"name": {deep}}}"#),
    ];
    for path in ["/codes", "/codings", "/memos", "/session"] {
        for body in &bodies {
            let r = w
                .send(
                    &paul,
                    Method::POST,
                    &format!("/api/v1/studies/sample{path}"),
                    Some(body.clone()),
                )
                .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.text);
            assert_eq!(r.body["error"]["code"], "bad_request", "{path}: {}", r.text);
        }
    }
}

/// `maria` adds a code under `parent` (at the top with `None`).
async fn add_code(w: &World, s: &Session, name: &str, parent: Option<&str>) -> Reply {
    w.call(
        s,
        Method::POST,
        "/codes",
        Some(json!({ "name": name, "parent": parent })),
    )
    .await
}

/// On `main` a coder could build a chain of 1,500 codes this way, and every export then
/// aborted the server; now the chain stops at the limit, and the study still exports.
#[tokio::test]
async fn a_chain_of_codes_stops_at_the_depth_limit_and_still_exports() {
    let w = world();
    let maria = w.login("sample", "maria").await;
    let mut parent: Option<String> = None;
    for level in 1..=between_core::MAX_CODE_DEPTH {
        let r = add_code(&w, &maria, &format!("L{level}"), parent.as_deref()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        parent = r.body["id"].as_str().map(String::from);
    }
    for _ in 0..3 {
        let r = add_code(&w, &maria, "one too deep", parent.as_deref()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert!(
            r.text.contains("65 levels deep, more than the limit of 64"),
            "{}",
            r.text
        );
    }
    let paul = w.login("sample", "paul").await;
    let qdpx = w
        .raw(
            &paul,
            Method::GET,
            "/exchange/project.qdpx",
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(qdpx.status(), StatusCode::OK);
    let qdpx = qdpx.into_body().collect().await.unwrap().to_bytes();
    let qdc = w
        .raw(
            &paul,
            Method::GET,
            "/exchange/codebook.qdc",
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(qdc.status(), StatusCode::OK);
    // Our own export again, at the limit: read whole, everything already there.
    let res = w
        .raw(
            &paul,
            Method::POST,
            "/exchange/project?name=sample.qdpx",
            &[(header::CONTENT_TYPE, "application/octet-stream")],
            qdpx.to_vec(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn code_names_with_control_or_bidi_characters_or_too_long_are_refused() {
    let w = world();
    let maria = w.login("sample", "maria").await;
    let long = "x".repeat(100_000);
    for (name, why) in [
        ("tab\there", "U+0009"),
        ("two\nlines", "U+000A"),
        ("nul\0byte", "U+0000"),
        ("evil\u{202E}txt", "U+202E"),
        (long.as_str(), "more than the limit of 200"),
    ] {
        let r = add_code(&w, &maria, name, None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert!(r.text.contains(why), "{name:.20?}: {}", r.text);
    }
    let r = add_code(&w, &maria, "  Plain name ", None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["name"], "Plain name");
    let id = r.body["id"].as_str().unwrap();
    let paul = w.login("sample", "paul").await;
    let r = w
        .call(
            &paul,
            Method::PATCH,
            &format!("/codes/{id}"),
            Some(json!({ "version": 1, "name": "re\u{2067}named" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("U+2067"), "{}", r.text);
}
