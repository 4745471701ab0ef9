//! Attributions over HTTP: a passage attributed by span, listed a page at a time and removed
//! (by its maker or an owner); suggestions listed with the aliases given and confirmed by key;
//! bad input refused with the one error shape; changes announced on the event stream.

use super::*;

/// Dr Osei's interview: the source the tests attribute in.
const SOURCE: &str = "c1-osei.txt";

/// The attributions of `source` as the API lists them.
async fn listed(w: &World, s: &Session, source: &str) -> Vec<Value> {
    let r = w
        .call(
            s,
            Method::GET,
            &format!("/sources/{source}/attributions"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body.as_array().unwrap().clone()
}

#[tokio::test]
async fn passages_are_attributed_by_span_listed_and_removed() {
    let w = world();
    let maria = w.login("sample", "maria").await;
    let sam = w.login("sample", "sam").await;
    let ada = w.login("sample", "ada").await;
    let source = w.first_source(&maria, SOURCE).await;
    let id = source["id"].as_str().unwrap().to_string();
    let text = source["text"].as_str().unwrap();
    let before = listed(&w, &ada, &id).await;
    assert!(
        before
            .iter()
            .any(|v| v["about"] == "P01" && v["quote"].as_str().unwrap().contains("the Boss")),
        "the sample's own attributions are listed: {before:?}"
    );

    let (start, end) = cp_span(text, "I listen first.");
    let body = json!({"source": id, "start": start, "end": end, "about": "c1-p02"});
    let made = w
        .call(&maria, Method::POST, "/attributions", Some(body.clone()))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    assert_eq!(
        (&made.body["about"], &made.body["quote"]),
        (&json!("C1-P02"), &json!("I listen first."))
    );
    assert_eq!(made.body["attribution"]["attributed_by"], "maria");
    let made_id = made.body["attribution"]["id"].as_str().unwrap().to_string();
    let after = listed(&w, &ada, &id).await;
    assert_eq!(after.len(), before.len() + 1);
    assert!(
        after
            .iter()
            .any(|v| v["attribution"]["id"] == made_id.as_str())
    );
    let study_wide = w
        .call(
            &ada,
            Method::GET,
            &format!("/attributions?source={id}"),
            None,
        )
        .await;
    assert_eq!(study_wide.body.as_array().unwrap(), &after);

    // A page at a time, saying how many there are.
    let first = w
        .call(
            &ada,
            Method::GET,
            &format!("/sources/{id}/attributions?limit=1"),
            None,
        )
        .await;
    assert_eq!(first.body.as_array().unwrap().len(), 1);
    assert_eq!(
        first.headers["x-total-count"],
        after.len().to_string().as_str()
    );
    assert!(first.headers.contains_key(header::LINK));

    // Bad input: the one error shape, and nothing stored.
    let length = text.chars().count();
    for (body, status, says) in [
        (
            json!({"source": id, "start": end, "end": start, "about": "P02"}),
            400,
            "end",
        ),
        (
            json!({"source": id, "start": 0, "end": length + 1, "about": "P02"}),
            400,
            "",
        ),
        (
            json!({"source": id, "start": start, "end": end, "about": "P42"}),
            404,
            "P42",
        ),
        (
            json!({"source": id, "start": start, "end": end, "about": "C1"}),
            400,
            "own account",
        ),
        (body.clone(), 400, "already attributed to C1-P02"),
        (
            json!({"source": id, "start": start, "end": end}),
            400,
            "about",
        ),
    ] {
        let r = w
            .call(&maria, Method::POST, "/attributions", Some(body))
            .await;
        assert_eq!(r.status.as_u16(), status, "{}", r.text);
        error_code(&r);
        assert!(r.text.contains(says), "{says}: {}", r.text);
    }
    assert_eq!(listed(&w, &ada, &id).await.len(), after.len());

    // An auditor only reads; a coder removes only their own; the maker removes it.
    let refused = w
        .call(&ada, Method::POST, "/attributions", Some(body.clone()))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let path = format!("/attributions/{made_id}");
    let theirs = w.call(&sam, Method::DELETE, &path, None).await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN, "{}", theirs.text);
    assert!(theirs.text.contains("maria"), "{}", theirs.text);
    assert_eq!(listed(&w, &ada, &id).await.len(), after.len());
    let gone = w.call(&maria, Method::DELETE, &path, None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    assert_eq!(listed(&w, &ada, &id).await, before);
    for path in [path.as_str(), "/attributions/not-an-id"] {
        let r = w.call(&maria, Method::DELETE, path, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    }
}

#[tokio::test]
async fn suggestions_are_listed_with_aliases_and_confirmed_one_by_one() {
    let w = world();
    let maria = w.login("sample", "maria").await;
    let ada = w.login("sample", "ada").await;
    let source = w.first_source(&maria, SOURCE).await;
    let id = source["id"].as_str().unwrap().to_string();
    let before = listed(&w, &ada, &id).await;
    let path = format!("/attributions/suggestions?source={id}&alias=quad%20bike%3DP05");
    let suggested = w.call(&ada, Method::GET, &path, None).await;
    assert_eq!(suggested.status, StatusCode::OK, "{}", suggested.text);
    let suggested = suggested.body.as_array().unwrap().clone();
    let alias = suggested
        .iter()
        .find(|s| s["reason"] == "alias")
        .unwrap_or_else(|| panic!("the alias is matched: {suggested:?}"));
    assert_eq!(
        (&alias["about"], &alias["matched"]),
        (&json!("P05"), &json!("quad bike"))
    );
    let without = w
        .call(
            &ada,
            Method::GET,
            &format!("/attributions/suggestions?source={id}"),
            None,
        )
        .await;
    assert!(
        without
            .body
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["reason"] != "alias"),
        "no alias given, none matched"
    );
    assert_eq!(
        listed(&w, &ada, &id).await,
        before,
        "suggesting stores nothing"
    );

    for (query, status, says) in [
        ("alias=quad%20bike", 400, "WORDS=LABEL"),
        ("alias=quad%20bike%3DP42", 404, "P42"),
        ("sauce=x", 400, "sauce"),
        ("source=nothing", 404, "nothing"),
    ] {
        let r = w
            .call(
                &ada,
                Method::GET,
                &format!("/attributions/suggestions?{query}"),
                None,
            )
            .await;
        assert_eq!(r.status.as_u16(), status, "{query}: {}", r.text);
        assert!(r.text.contains(says), "{query}: {}", r.text);
    }

    // Confirming one attributes its turn, and only it.
    let one = &suggested[0];
    let confirm = json!({"keys": [one["key"]]});
    let refused = w
        .call(
            &ada,
            Method::POST,
            "/attributions/suggestions/confirm",
            Some(confirm.clone()),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let made = w
        .call(
            &maria,
            Method::POST,
            "/attributions/suggestions/confirm",
            Some(confirm),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let made = made.body.as_array().unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!(
        (&made[0]["about"], &made[0]["attribution"]["span"]),
        (&one["about"], &one["span"])
    );
    assert_eq!(listed(&w, &ada, &id).await.len(), before.len() + 1);
    let now = w.call(&ada, Method::GET, &path, None).await.body;
    let keys: Vec<&Value> = now.as_array().unwrap().iter().map(|s| &s["key"]).collect();
    assert!(
        !keys.contains(&&one["key"]),
        "a confirmed suggestion is not suggested again"
    );
    assert_eq!(keys.len(), suggested.len() - 1);

    for (body, says) in [
        (json!({"keys": []}), "keys"),
        (json!({"keys": ["not a key"]}), "not a suggestion's key"),
        (json!({"key": one["key"]}), "key"),
    ] {
        let r = w
            .call(
                &maria,
                Method::POST,
                "/attributions/suggestions/confirm",
                Some(body),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert!(r.text.contains(says), "{says}: {}", r.text);
    }
}

#[tokio::test]
async fn attributions_are_announced_live() {
    let w = world();
    let maria = w.login("sample", "maria").await;
    let sam = w.login("sample", "sam").await;
    let req = Request::builder()
        .uri("/api/v1/studies/sample/events")
        .header(header::COOKIE, sam.cookie.clone().unwrap())
        .body(HttpBody::empty())
        .unwrap();
    let mut body = router(w.app.clone())
        .oneshot(req)
        .await
        .unwrap()
        .into_body();
    let ready = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert!(String::from_utf8_lossy(&ready).starts_with("event: ready"));
    let source = w.first_source(&maria, SOURCE).await;
    let made = w
        .call(
            &maria,
            Method::POST,
            "/attributions",
            Some(json!({"source": source["id"], "start": 0, "end": 5, "about": "P02"})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
    let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let text = String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap();
    assert!(text.starts_with("event: attribution\ndata: "), "{text}");
    let data: Value =
        serde_json::from_str(text.lines().nth(1).unwrap().trim_start_matches("data: ")).unwrap();
    assert_eq!(
        (
            &data["action"],
            &data["attribution"],
            &data["source"],
            &data["by"]
        ),
        (
            &json!("created"),
            &made.body["attribution"]["id"],
            &source["id"],
            &json!("maria")
        )
    );
}
