//! The dyad and the model over HTTP: who may read, the matrix and its cells' quotes, the
//! propositions, the figures, saturation's rule, bad input, and the pages.

use super::*;

const F: &str = "/findings";

#[tokio::test]
async fn findings_need_a_session_and_coders_are_refused_while_blind() {
    let w = world();
    let paths = [
        "/triangulation",
        "/triangulation/cell?dyad=C1-P01&component=trust",
        "/triangulation/general?participant=C1&component=trust",
        "/propositions",
        "/propositions/excerpts?number=1&dyad=C1-P01",
        "/figure.svg",
        "/saturation",
        "/saturation.svg",
    ];
    for path in paths {
        let r = w
            .call(
                &Session::default(),
                Method::GET,
                &format!("{F}{path}"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let ada = w.login("sample", "ada").await;
    for path in paths {
        let r = w.call(&ada, Method::GET, &format!("{F}{path}"), None).await;
        assert_eq!(r.status, StatusCode::OK, "auditor reads {path}: {}", r.text);
    }
    let owner = w.login("sample", "paul").await;
    let maria = w.login("sample", "maria").await;
    let r = w
        .call(
            &owner,
            Method::PUT,
            "/blind",
            Some(json!({"source": null, "blind": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = w
        .call(&maria, Method::GET, &format!("{F}/triangulation"), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = w
        .call(&owner, Method::GET, &format!("{F}/triangulation"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "owners may: {}", r.text);
}

#[tokio::test]
async fn a_cell_quotes_both_accounts_with_the_codings_the_matrix_counted() {
    let w = world();
    let ada = w.login("sample", "ada").await;
    let m = w
        .call(&ada, Method::GET, &format!("{F}/triangulation"), None)
        .await
        .body;
    let dyads = m["dyads"].as_array().unwrap();
    let components = m["components"].as_array().unwrap();
    assert_eq!(dyads.len(), 10);
    let cells = || (0..dyads.len()).flat_map(|d| (0..components.len()).map(move |c| (d, c)));
    let (d, c) = cells()
        .find(|&(d, c)| m["cells"][d][c]["presence"] == "both")
        .expect("a cell evidenced in both accounts");
    let cell = &m["cells"][d][c];
    let uri = format!(
        "{F}/triangulation/cell?dyad={}&component={}",
        dyads[d]["label"].as_str().unwrap(),
        components[c]["id"].as_str().unwrap()
    );
    let x = w.call(&ada, Method::GET, &uri, None).await;
    assert_eq!(x.status, StatusCode::OK, "{}", x.text);
    for account in ["clinician", "patient", "others"] {
        let quotes = &x.body[account];
        let quoted: Vec<&Value> = quotes["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["coding"])
            .collect();
        let counted: Vec<&Value> = cell[account]["codings"]
            .as_array()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(quoted, counted, "{account}");
        assert!(account == "others" || !quoted.is_empty(), "{account}");
        assert_eq!(quotes["passages"], cell[account]["passages"], "{account}");
        assert_eq!(
            quotes["contrast_passages"], cell[account]["contrast_passages"],
            "{account}"
        );
        assert!(
            quotes["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["contrast"] == false && !e["text"].as_str().unwrap().is_empty())
        );
        assert!(
            quotes["contrast"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["contrast"] == true)
        );
    }
    // One coder's matrix holds only that coder's codings.
    let sam = w
        .call(
            &ada,
            Method::GET,
            &format!("{F}/triangulation?coder=sam"),
            None,
        )
        .await
        .body;
    let (mut theirs, mut everyone) = (0, 0);
    for (d, c) in cells() {
        for account in ["clinician", "patient", "others"] {
            let all = m["cells"][d][c][account]["codings"].as_array().unwrap();
            let only = sam["cells"][d][c][account]["codings"].as_array().unwrap();
            assert!(only.iter().all(|id| all.contains(id)), "{account}");
            (theirs, everyone) = (theirs + only.len(), everyone + all.len());
        }
    }
    assert!(
        0 < theirs && theirs < everyone,
        "the other coders' codings are left out"
    );
}

#[tokio::test]
async fn a_dyads_clinician_account_quotes_only_passages_about_that_patient() {
    // The example: C1's "George calls me the Boss" is about George (P01), not Daniel.
    let w = world();
    let ada = w.login("sample", "ada").await;
    let m = w
        .call(&ada, Method::GET, &format!("{F}/triangulation"), None)
        .await
        .body;
    let mut quoted = Vec::new();
    for dyad in ["C1-P01", "C1-P04"] {
        let mut texts = String::new();
        for component in m["components"].as_array().unwrap() {
            let uri = format!(
                "{F}/triangulation/cell?dyad={dyad}&component={}",
                component["id"].as_str().unwrap()
            );
            let x = w.call(&ada, Method::GET, &uri, None).await;
            assert_eq!(x.status, StatusCode::OK, "{}", x.text);
            for e in x.body["clinician"]["evidence"].as_array().unwrap() {
                texts.push_str(e["text"].as_str().unwrap());
            }
        }
        quoted.push(texts.contains("George calls me the Boss"));
    }
    assert_eq!(quoted, [true, false], "quoted for C1-P01, not for C1-P04");
}

#[tokio::test]
async fn a_clinicians_unattributed_evidence_is_quoted_apart() {
    let w = world();
    let ada = w.login("sample", "ada").await;
    let m = w
        .call(&ada, Method::GET, &format!("{F}/triangulation"), None)
        .await
        .body;
    let c1 = m["general"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["participant"] == "C1")
        .expect("C1 speaks of their patients in general too");
    // A component C1 speaks of about no particular patient.
    let component = (0..m["components"].as_array().unwrap().len())
        .find(|&c| c1["cells"][c]["passages"].as_u64().unwrap() > 0)
        .expect("C1's general evidence");
    let counted = &c1["cells"][component];
    let x = w
        .call(
            &ada,
            Method::GET,
            &format!(
                "{F}/triangulation/general?participant=c1&component={}",
                m["components"][component]["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(x.status, StatusCode::OK, "{}", x.text);
    assert_eq!(x.body["participant"], "C1");
    assert_eq!(x.body["excerpts"]["passages"], counted["passages"]);
    let quoted: Vec<&Value> = x.body["excerpts"]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["coding"])
        .collect();
    assert_eq!(
        quoted,
        counted["codings"]
            .as_array()
            .unwrap()
            .iter()
            .collect::<Vec<_>>()
    );
    // None of those codings is counted in any dyad's cell.
    assert!(!quoted.is_empty());
    for row in m["cells"].as_array().unwrap() {
        for account in ["clinician", "patient", "others"] {
            let ids = row[component][account]["codings"].as_array().unwrap();
            assert!(quoted.iter().all(|q| !ids.contains(q)));
        }
    }
}

#[tokio::test]
async fn propositions_figures_and_the_stopping_rule() {
    let w = world();
    let ada = w.login("sample", "ada").await;
    let s = w
        .call(&ada, Method::GET, &format!("{F}/propositions"), None)
        .await
        .body;
    let first = &s["propositions"][0];
    let total: u64 = ["both", "source_only", "target_only", "neither"]
        .iter()
        .map(|k| first[k].as_u64().unwrap())
        .sum();
    assert_eq!(total, s["dyad_count"].as_u64().unwrap());
    let strict = w
        .call(
            &ada,
            Method::GET,
            &format!("{F}/propositions?rule=all"),
            None,
        )
        .await
        .body;
    assert!(strict["propositions"][0]["both"].as_u64() <= first["both"].as_u64());
    // The stricter readings combine, never add support, and say what they are.
    let together = w
        .call(
            &ada,
            Method::GET,
            &format!("{F}/propositions?together=turn&target_from_patient=true"),
            None,
        )
        .await;
    assert_eq!(together.status, StatusCode::OK, "{}", together.text);
    let together = together.body;
    assert_eq!(together["together"], "turn");
    assert_eq!(together["target_from_patient"], true);
    let text = together["rule_text"].as_str().unwrap();
    assert!(text.contains("same turn") && text.contains("patient's account"));
    assert_ne!(together["rule_text"], s["rule_text"]);
    for (p, q) in s["propositions"]
        .as_array()
        .unwrap()
        .iter()
        .zip(together["propositions"].as_array().unwrap())
    {
        assert!(q["both"].as_u64() <= p["both"].as_u64());
    }

    for path in [
        "/figure.svg",
        "/figure.svg?view=evidence",
        "/saturation.svg?k=1",
    ] {
        let r = w.call(&ada, Method::GET, &format!("{F}{path}"), None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("image/svg+xml")
        );
        assert!(r.text.starts_with("<svg") && r.text.ends_with("</svg>"));
    }
    // The model's structure by default; its evidence when asked.
    let figure = |view: &'static str| {
        let path = format!("{F}/figure.svg{view}");
        let (w, ada) = (&w, &ada);
        async move { w.call(ada, Method::GET, &path, None).await.text }
    };
    assert!(!figure("").await.contains("dyads with evidence"));
    assert!(
        figure("?view=evidence")
            .await
            .contains("dyads with evidence")
    );
    let loose = w
        .call(&ada, Method::GET, &format!("{F}/saturation?k=1"), None)
        .await
        .body;
    let strict = w
        .call(&ada, Method::GET, &format!("{F}/saturation?k=50"), None)
        .await
        .body;
    assert_eq!(loose["verdict"]["status"], "reached");
    assert_eq!(strict["verdict"]["status"], "not-yet");
    assert_eq!(loose["rule"]["k"], 1);
    assert_eq!(loose["rule"]["method"], "consecutive");
    let guest = w
        .call(
            &ada,
            Method::GET,
            &format!("{F}/saturation?method=guest&base=3&run=2&threshold=0.1"),
            None,
        )
        .await;
    assert_eq!(guest.status, StatusCode::OK, "{}", guest.text);
    assert_eq!(guest.body["rule"]["method"], "guest");
    assert_eq!(guest.body["rule"]["base"], 3);
    assert!(
        guest.body["statement"]
            .as_str()
            .unwrap()
            .contains("base 3 coded interviews, run 2, new-information threshold ≤ 10%"),
        "{}",
        guest.text
    );
    let chart = w
        .call(
            &ada,
            Method::GET,
            &format!("{F}/saturation.svg?method=guest&base=3&run=2&threshold=0.1"),
            None,
        )
        .await;
    assert_eq!(chart.status, StatusCode::OK);
    assert!(chart.text.contains("Guest, Namey &amp; Chen 2020: base 3"));
}

#[tokio::test]
async fn bad_findings_requests_get_the_one_error_shape() {
    let w = world();
    let ada = w.login("sample", "ada").await;
    for (path, status) in [
        ("/triangulation?coder=nobody", StatusCode::NOT_FOUND),
        (
            "/triangulation/cell?component=trust",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/triangulation/cell?dyad=X9&component=trust",
            StatusCode::NOT_FOUND,
        ),
        (
            "/triangulation/cell?dyad=C1-P01&component=nope",
            StatusCode::NOT_FOUND,
        ),
        ("/propositions?rule=most", StatusCode::BAD_REQUEST),
        ("/propositions?together=sideways", StatusCode::BAD_REQUEST),
        ("/propositions?together=near:x", StatusCode::BAD_REQUEST),
        (
            "/triangulation/general?component=trust",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/triangulation/general?participant=C9&component=trust",
            StatusCode::NOT_FOUND,
        ),
        (
            "/propositions/excerpts?number=99&dyad=C1-P01",
            StatusCode::NOT_FOUND,
        ),
        (
            "/propositions/excerpts?dyad=C1-P01",
            StatusCode::BAD_REQUEST,
        ),
        ("/saturation?k=0", StatusCode::BAD_REQUEST),
        ("/saturation?k=three", StatusCode::BAD_REQUEST),
        ("/saturation?method=guest&k=2", StatusCode::BAD_REQUEST),
        (
            "/saturation?method=guest&threshold=5",
            StatusCode::BAD_REQUEST,
        ),
        ("/saturation?method=bayes", StatusCode::BAD_REQUEST),
        ("/figure.svg?view=both", StatusCode::BAD_REQUEST),
    ] {
        let r = w.call(&ada, Method::GET, &format!("{F}{path}"), None).await;
        assert_eq!(r.status, status, "{path}: {}", r.text);
        error_code(&r);
    }
}

#[tokio::test]
async fn the_findings_pages_need_a_session_and_are_linked() {
    let w = world();
    let ada = w.login("sample", "ada").await;
    for page in ["dyads", "model", "saturation"] {
        let uri = format!("/s/sample/{page}");
        let r = w.send(&Session::default(), Method::GET, &uri, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{page}");
        let r = w.send(&ada, Method::GET, &uri, None).await;
        assert_eq!(r.status, StatusCode::OK, "{page}");
        assert!(r.text.contains(&format!("data-page=\"{page}\"")));
        assert!(
            r.text.contains(&format!("href=\"/s/sample/{page}\"")),
            "nav link"
        );
    }
}
