//! Queries over HTTP: tables whose cells open to their excerpts, boolean and text queries with
//! clear errors, and coding every hit (preview, then one change) as oneself.

use super::*;

const Q: &str = "/query";

/// `s` posts `body` to "code all hits", step `preview` or `apply`.
async fn code_all(w: &World, s: &Session, step: &str, body: Value) -> Reply {
    w.call(
        s,
        Method::POST,
        &format!("{Q}/search/code-all/{step}"),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn frequencies_add_up_and_cells_open_to_their_excerpts() {
    let w = world();
    let ada = w.login("sample", "ada").await;
    let all = w.call(&ada, Method::GET, "/codings", None).await.body;
    let total = all.as_array().unwrap().len();
    let m = w
        .call(&ada, Method::GET, &format!("{Q}/frequencies?by=role"), None)
        .await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text);
    let rows = m.body["rows"].as_array().unwrap();
    let counted: u64 = rows
        .iter()
        .map(|r| r["total"]["codings"].as_u64().unwrap() + r["total"]["contrast"].as_u64().unwrap())
        .sum();
    assert_eq!(
        counted as usize, total,
        "each coding once, without sub-codes"
    );
    for r in rows {
        let by_role: u64 = r["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["codings"].as_u64().unwrap())
            .sum();
        assert_eq!(
            by_role,
            r["total"]["codings"].as_u64().unwrap(),
            "{}",
            r["path"]
        );
    }

    let m = w
        .call(&ada, Method::GET, &format!("{Q}/matrix?cases=dyads"), None)
        .await
        .body;
    let columns = m["columns"].as_array().unwrap();
    let dyads = columns.iter().filter(|c| c["key"] != "").count();
    assert_eq!(dyads, 10, "the sample's ten dyads");
    assert!(
        m["rule"].as_str().unwrap().contains("counts for each dyad"),
        "the table says its rule: {}",
        m["rule"]
    );
    let general = columns
        .iter()
        .position(|c| c["key"] == "")
        .expect("a column for the clinicians' words about no one");
    assert_eq!(columns[general]["label"], "(about no particular dyad)");
    assert!(m["totals"][general]["codings"].as_u64().unwrap() > 0);
    let (row, col) = m["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|r| {
            let cells = r["cells"].as_array().unwrap();
            cells
                .iter()
                .position(|c| c["codings"].as_u64().unwrap() > 1)
                .map(|i| (r.clone(), i))
        })
        .expect("a cell with codings");
    let cell = w
        .call(
            &ada,
            Method::GET,
            &format!(
                "{Q}/cell?cases=dyads&code={}&column={}&context=20",
                row["code"].as_str().unwrap(),
                columns[col]["key"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(cell.status, StatusCode::OK, "{}", cell.text);
    let excerpts = cell.body["codings"].as_array().unwrap();
    assert_eq!(
        excerpts.len() as u64,
        row["cells"][col]["codings"].as_u64().unwrap()
    );
    assert!(
        excerpts
            .iter()
            .all(|e| e["code_path"] == row["path"] && !e["text"].as_str().unwrap().is_empty())
    );

    let bad = w
        .call(
            &ada,
            Method::GET,
            &format!("{Q}/frequencies?by=colour"),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // What the interviews record groups like a participant's attribute.
    let present = w
        .call(
            &ada,
            Method::GET,
            &format!("{Q}/frequencies?by=interview:others_present"),
            None,
        )
        .await;
    assert_eq!(present.status, StatusCode::OK, "{}", present.text);
    let labels: Vec<&Value> = present.body["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["label"])
        .collect();
    assert!(labels.contains(&&json!("spouse")), "{labels:?}");
}

#[tokio::test]
async fn cooccurrence_rolls_sub_codes_up_on_request_and_near_needs_a_distance() {
    let w = world();
    let ada = w.login("sample", "ada").await;
    let co = w
        .call(
            &ada,
            Method::GET,
            &format!("{Q}/cooccurrence?mode=turn"),
            None,
        )
        .await;
    assert_eq!(co.status, StatusCode::OK, "{}", co.text);
    assert_eq!(co.body["include_subcodes"], false);
    let rolled = w
        .call(
            &ada,
            Method::GET,
            &format!("{Q}/cooccurrence?mode=turn&include_subcodes=true"),
            None,
        )
        .await;
    assert_eq!(rolled.status, StatusCode::OK, "{}", rolled.text);
    assert_eq!(rolled.body["include_subcodes"], true);
    // Rolled up, a code's cells hold its own pairs and its sub-codes': never fewer than
    // without, for two codes neither of which is above the other (paths say which are).
    let paths = |m: &Value| -> Vec<String> {
        m["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["path"].as_str().unwrap().to_string())
            .collect()
    };
    let (plain_paths, rolled_paths) = (paths(&co.body), paths(&rolled.body));
    let count = |m: &Value, i: usize, j: usize| m["counts"][i][j].as_u64().unwrap();
    let related =
        |a: &str, b: &str| a.starts_with(&format!("{b}/")) || b.starts_with(&format!("{a}/"));
    let mut grew = None;
    for (i, a) in rolled_paths.iter().enumerate() {
        for (j, b) in rolled_paths.iter().enumerate() {
            if related(a, b) {
                assert_eq!(
                    count(&rolled.body, i, j),
                    0,
                    "{a} ~ {b}: a code and its sub-code"
                );
                continue;
            }
            let before = match (
                plain_paths.iter().position(|p| p == a),
                plain_paths.iter().position(|p| p == b),
            ) {
                (Some(x), Some(y)) => count(&co.body, x, y),
                _ => 0,
            };
            let after = count(&rolled.body, i, j);
            assert!(after >= before, "{a} ~ {b}: {after} < {before}");
            if after > before && grew.is_none() {
                grew = Some((
                    rolled.body["codes"][i]["id"].clone(),
                    rolled.body["codes"][j]["id"].clone(),
                    after,
                ));
            }
        }
    }
    let (a, b, n) = grew.expect("the sample has sub-codes that roll up");
    let cell = w
        .call(
            &ada,
            Method::GET,
            &format!(
                "{Q}/cooccurrence/cell?mode=turn&include_subcodes=true&a={}&b={}&limit=1000",
                a.as_str().unwrap(),
                b.as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(cell.status, StatusCode::OK, "{}", cell.text);
    assert_eq!(
        cell.body["total"].as_u64(),
        Some(n),
        "the cell's pairs are its count"
    );
    assert_eq!(cell.body["include_subcodes"], true);
    let near = w
        .call(
            &ada,
            Method::GET,
            &format!("{Q}/cooccurrence?mode=near"),
            None,
        )
        .await;
    assert_eq!(
        near.status,
        StatusCode::BAD_REQUEST,
        "near needs a distance"
    );
}

#[tokio::test]
async fn the_codebook_counts_contrast_apart_as_stats_and_queries_do() {
    let w = world();
    let ada = w.login("sample", "ada").await;
    let book = w.call(&ada, Method::GET, "/codebook", None).await.body;
    let stats = between_study::Workbench::open(
        &w._dir.path().join("sample.between"),
        &OpenOptions::default(),
        "t",
    )
    .unwrap()
    .stats()
    .unwrap();
    let m = w
        .call(&ada, Method::GET, &format!("{Q}/frequencies?by=role"), None)
        .await
        .body;
    let mut some_contrast = false;
    for node in book.as_array().unwrap() {
        let path = node["path"].as_str().unwrap();
        let shown = (
            node["codings"].as_u64().unwrap() as usize,
            node["contrast"].as_u64().unwrap() as usize,
        );
        let counted = stats.by_code[path];
        assert_eq!(shown, (counted.codings, counted.contrast), "{path}");
        let row = m["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["path"] == path)
            .unwrap();
        let queried = (
            row["total"]["codings"].as_u64().unwrap() as usize,
            row["total"]["contrast"].as_u64().unwrap() as usize,
        );
        assert_eq!(shown, queried, "{path}");
        some_contrast |= shown.1 > 0;
    }
    assert!(
        some_contrast,
        "the sample has contrast codings to keep apart"
    );
}

#[tokio::test]
async fn boolean_and_text_queries_answer_or_say_where_they_are_wrong() {
    let w = world();
    let ada = w.login("sample", "ada").await;
    let r = w
        .call(
            &ada,
            Method::GET,
            &format!("{Q}/codes?q=trust%20OR%20hope&context=30"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["total"].as_u64().unwrap() > 0);
    let r = w
        .call(
            &ada,
            Method::GET,
            &format!("{Q}/codes?q=trust%20AND%20(hope"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("at character 16"), "{}", r.text);

    let r = w
        .call(
            &ada,
            Method::GET,
            &format!("{Q}/search?q=TRUST*&role=patient&context=30"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let hits = r.body["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    for h in hits {
        assert_eq!(h["role"], "patient");
        assert!(
            h["text"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .starts_with("trust")
        );
    }
    let r = w
        .call(&ada, Method::GET, &format!("{Q}/search?q=%22open"), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn coding_every_hit_previews_then_codes_once_as_the_coder() {
    let w = world();
    let maria = w.login("sample", "maria").await;
    let hope = w.code_id(&maria, "hope").await;
    let body = json!({"q": "\"I hope\"", "code": hope});
    let preview = code_all(&w, &maria, "preview", body.clone()).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    let to_code = preview.body["to_code"].as_u64().unwrap();
    let hits = preview.body["total_hits"].as_u64().unwrap();
    assert!(to_code > 0 && preview.body["coder"] == "maria");

    let mut stale = body.clone();
    stale["expected"] = json!(to_code + 1);
    let r = code_all(&w, &maria, "apply", stale).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    let mut apply = body.clone();
    apply["expected"] = json!(to_code);
    let r = code_all(&w, &maria, "apply", apply).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["coded"].as_u64(), Some(to_code));
    let mine = w
        .call(
            &maria,
            Method::GET,
            &format!("/codings?coder=maria&code={hope}"),
            None,
        )
        .await
        .body;
    let quotes: Vec<String> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["quote"].as_str().unwrap().to_lowercase())
        .collect();
    assert_eq!(
        quotes.iter().filter(|q| *q == "i hope").count() as u64,
        to_code,
        "{quotes:?}"
    );
    let again = code_all(&w, &maria, "preview", body.clone()).await;
    assert_eq!(again.body["to_code"], 0);
    assert_eq!(again.body["already_coded"].as_u64(), Some(hits));

    let ada = w.login("sample", "ada").await;
    let r = code_all(&w, &ada, "preview", body.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "auditors only read");
    let no_csrf = Session {
        csrf: None,
        ..maria.clone()
    };
    let r = code_all(&w, &no_csrf, "apply", body).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn coders_are_refused_while_blind_and_the_page_is_served() {
    let w = world();
    let paul = w.login("sample", "paul").await;
    let maria = w.login("sample", "maria").await;
    let page = w.send(&maria, Method::GET, "/s/sample/query", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("/assets/query.js"));
    let r = w
        .call(&paul, Method::PUT, "/blind", Some(json!({"blind": true})))
        .await;
    assert!(r.status.is_success(), "{}", r.text);
    let r = w
        .call(&maria, Method::GET, &format!("{Q}/search?q=trust"), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = w
        .call(&paul, Method::GET, &format!("{Q}/search?q=trust"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

/// On `main` about 3,000 nested parentheses aborted the server (a stack overflow in the
/// parser). 65,000 is as many as a URI holds (`http` refuses longer ones before a handler).
#[tokio::test]
async fn deeply_nested_boolean_queries_are_a_bad_request() {
    let w = world();
    let ada = w.login("sample", "ada").await;
    for depth in [3_000, 65_000] {
        let q = format!("{}trust", "(".repeat(depth));
        let r = w
            .call(&ada, Method::GET, &format!("{Q}/codes?q={q}"), None)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert!(
            r.text.contains("parentheses nest more than 64 deep"),
            "{}",
            r.text
        );
    }
    let q = vec!["trust"; 3_000].join("%20OR%20");
    let r = w
        .call(&ada, Method::GET, &format!("{Q}/codes?q={q}"), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("more than 256 operators"), "{}", r.text);
}
