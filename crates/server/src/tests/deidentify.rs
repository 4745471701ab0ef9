//! De-identification over HTTP: owners only, bad input refused, and after apply the document's
//! codings quote the pseudonymised words.

use super::*;

const DEID: &str = "/deidentify";

#[tokio::test]
async fn only_owners_deidentify() {
    let w = world();
    let owner = w.login("sample", "paul").await;
    let body = json!({"mapping": [{"term": "George", "pseudonym": "[P1]"}]});
    for who in ["maria", "ada"] {
        let s = w.login("sample", who).await;
        for (method, path, body) in [
            (Method::GET, "/candidates", None),
            (Method::POST, "/preview", Some(body.clone())),
            (Method::POST, "/apply", Some(body.clone())),
            (Method::GET, "/mapping", None),
            (Method::DELETE, "/mapping", None),
        ] {
            let r = w
                .call(&s, method.clone(), &format!("{DEID}{path}"), body)
                .await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{who} {method} {path}: {}",
                r.text
            );
            assert_eq!(error_code(&r), "forbidden");
        }
        let page = w.send(&s, Method::GET, "/s/sample/deidentify", None).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{who}");
    }
    let nobody = w
        .call(
            &Session::default(),
            Method::GET,
            "/deidentify/candidates",
            None,
        )
        .await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
    let no_csrf = Session {
        csrf: None,
        ..owner.clone()
    };
    let r = w
        .call(&no_csrf, Method::POST, "/deidentify/apply", Some(body))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    // Nothing was applied by any of them.
    let p01 = w.first_source(&owner, "p01-whitfield.txt").await;
    assert!(p01["text"].as_str().unwrap().contains("George"));
    let page = w
        .send(&owner, Method::GET, "/s/sample/deidentify", None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("/assets/deidentify.js"), "{}", page.text);
    let dashboard = w.send(&owner, Method::GET, "/s/sample/", None).await;
    assert!(dashboard.text.contains("/s/sample/deidentify"));
    let coder = w.login("sample", "maria").await;
    let dashboard = w.send(&coder, Method::GET, "/s/sample/", None).await;
    assert!(
        !dashboard.text.contains("/s/sample/deidentify"),
        "no link for coders"
    );
    let js = w
        .send(&owner, Method::GET, "/assets/deidentify.js", None)
        .await;
    assert_eq!(js.status, StatusCode::OK);
}

#[tokio::test]
async fn bad_mappings_get_the_one_error_shape() {
    let w = world();
    let owner = w.login("sample", "paul").await;
    for (body, message) in [
        (json!({"mapping": []}), "the mapping is empty"),
        (
            json!({"mapping": [{"term": " ", "pseudonym": "[A]"}]}),
            "empty term",
        ),
        (
            json!({"mapping": [{"term": "George", "pseudonym": "[A]"}, {"term": "George", "pseudonym": "[B]"}]}),
            "mapped twice",
        ),
        (
            json!({"mapping": [{"term": "George", "pseudonym": "[A]"}, {"term": "June", "pseudonym": "George's wife"}]}),
            "contains the term 'George'",
        ),
        (
            json!({"mapping": [{"term": "Zzyzx", "pseudonym": "[A]"}]}),
            "none of the mapping's terms occurs",
        ),
        (json!({"mapping": [{"term": "George"}]}), "pseudonym"),
        (json!({"mapping": [], "extra": 1}), "unknown field"),
    ] {
        for path in ["/preview", "/apply"] {
            let r = w
                .call(
                    &owner,
                    Method::POST,
                    &format!("{DEID}{path}"),
                    Some(body.clone()),
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::BAD_REQUEST,
                "{path} {body}: {}",
                r.text
            );
            assert!(r.text.contains(message), "{path} {body}: {}", r.text);
        }
    }
}

#[tokio::test]
async fn apply_keeps_the_documents_codings_on_their_words() {
    let w = world();
    let owner = w.login("sample", "paul").await;
    let candidates = w
        .call(&owner, Method::GET, "/deidentify/candidates", None)
        .await;
    assert_eq!(candidates.status, StatusCode::OK);
    assert!(
        candidates
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["term"] == "George"),
        "{}",
        candidates.text
    );
    let source = w.first_source(&owner, "c1-osei.txt").await;
    let id = source["id"].as_str().unwrap().to_string();
    let codings_path = format!("/sources/{id}/codings");
    let before = w.call(&owner, Method::GET, &codings_path, None).await.body;
    let with_george: Vec<&Value> = before
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["quote"].as_str().unwrap().contains("George"))
        .collect();
    assert!(!with_george.is_empty());

    let mapping = json!([{"term": "George", "pseudonym": "[Patient 1]"}, {"term": "June", "pseudonym": "[Wife of 1]"}]);
    let preview = w
        .call(
            &owner,
            Method::POST,
            "/deidentify/preview",
            Some(json!({"mapping": mapping})),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    let total = preview.body["total_replacements"].as_u64().unwrap();
    assert!(total > 5);
    let first = &preview.body["replacements"][0];
    assert!(
        first["old"] == "George" || first["old"] == "June",
        "{first}"
    );
    let versions: serde_json::Map<String, Value> = preview.body["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap().to_string(), s["version"].clone()))
        .collect();

    // Someone watching the document is told to reload it.
    let req = Request::builder()
        .uri("/api/v1/studies/sample/events")
        .header(header::COOKIE, owner.cookie.clone().unwrap())
        .body(HttpBody::empty())
        .unwrap();
    let mut events = router(w.app.clone())
        .oneshot(req)
        .await
        .unwrap()
        .into_body();
    events.frame().await.unwrap().unwrap(); // ready

    let applied = w
        .call(
            &owner,
            Method::POST,
            "/deidentify/apply",
            Some(json!({"mapping": mapping, "versions": versions})),
        )
        .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.text);
    assert_eq!(applied.body["replacements"].as_u64(), Some(total));
    let frame = tokio::time::timeout(std::time::Duration::from_secs(10), events.frame())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let text = String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap();
    assert!(text.contains("\"action\":\"rewritten\""), "{text}");

    let after = w.call(&owner, Method::GET, &codings_path, None).await.body;
    assert_eq!(
        after.as_array().unwrap().len(),
        before.as_array().unwrap().len()
    );
    let document = w.first_source(&owner, "c1-osei.txt").await;
    let text = document["text"].as_str().unwrap();
    assert!(!text.contains("George") && text.contains("[Patient 1]"));
    for old in with_george {
        let new = after
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["coding"]["id"] == old["coding"]["id"])
            .unwrap();
        let expected = old["quote"]
            .as_str()
            .unwrap()
            .replace("George", "[Patient 1]")
            .replace("June", "[Wife of 1]");
        assert_eq!(new["quote"], expected.as_str());
        let span = &new["coding"]["span"];
        let (start, end) = (
            span["start"].as_u64().unwrap() as usize,
            span["end"].as_u64().unwrap() as usize,
        );
        let on_page: String = text.chars().skip(start).take(end - start).collect();
        assert_eq!(
            on_page, expected,
            "the document's text at the coding's offsets"
        );
    }
    // The same versions again are stale now.
    let again = w
        .call(
            &owner,
            Method::POST,
            "/deidentify/apply",
            Some(json!({"mapping": [{"term": "Osei", "pseudonym": "[C]"}], "versions": versions})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);

    let stored = w
        .call(&owner, Method::GET, "/deidentify/mapping", None)
        .await;
    let terms: Vec<&str> = stored
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["term"].as_str().unwrap())
        .collect();
    assert_eq!(terms, ["George", "June"]);
    assert_eq!(stored.body[0]["actor"], "paul");
    let destroyed = w
        .call(&owner, Method::DELETE, "/deidentify/mapping", None)
        .await;
    assert_eq!(destroyed.body["destroyed"], 2, "{}", destroyed.text);
    let stored = w
        .call(&owner, Method::GET, "/deidentify/mapping", None)
        .await;
    assert_eq!(stored.body, json!([]));
}
