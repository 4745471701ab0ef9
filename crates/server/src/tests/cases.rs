//! Case studies, exemplars and the report over HTTP: who may read and write what, versions,
//! and the report's files.

use super::*;

/// A non-contrast coding of the sample in the patient's account of dyad `label`, under
/// `component`.
pub(super) async fn coding_in(w: &World, s: &Session, label: &str, component: &str) -> String {
    let case = w
        .call(s, Method::GET, &format!("/cases/dyad/{label}"), None)
        .await;
    assert_eq!(case.status, StatusCode::OK, "{}", case.text);
    case.body["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["component"] == component)
        .unwrap()["patient"][0]["coding"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `s` writes `text` as C1-P01's narrative, as read at `version` (`None`: there was none).
async fn narrate(w: &World, s: &Session, text: &str, version: Option<i64>) -> Reply {
    let body = json!({"text": text, "version": version});
    w.call(s, Method::PUT, "/cases/dyad/C1-P01/narrative", Some(body))
        .await
}

#[tokio::test]
async fn dyad_and_clinician_cases_are_read_by_everyone_and_narratives_carry_versions() {
    let w = world();
    let (paul, maria, ada) = (
        w.login("sample", "paul").await,
        w.login("sample", "maria").await,
        w.login("sample", "ada").await,
    );
    let anonymous = Session::default();
    assert_eq!(
        w.call(&anonymous, Method::GET, "/cases/dyad/C1-P01", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    for s in [&paul, &maria, &ada] {
        let r = w.call(s, Method::GET, "/cases/dyad/C1-P01", None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["clinician"], "C1");
        assert_eq!(r.body["patient"], "P01");
    }
    // The dyad page counts by the matrix's rule: C1's passages attributed to George, P01's own.
    let dyad_page = w.call(&ada, Method::GET, "/cases/dyad/C1-P01", None).await;
    let matrix = w
        .call(&ada, Method::GET, "/findings/triangulation", None)
        .await
        .body;
    let d = matrix["dyads"]
        .as_array()
        .unwrap()
        .iter()
        .position(|d| d["label"] == "C1-P01")
        .unwrap();
    let shown = dyad_page.body["components"].as_array().unwrap();
    assert!(
        shown
            .iter()
            .any(|e| e["clinician_passages"].as_u64() > Some(0))
    );
    for e in shown {
        let c = matrix["components"]
            .as_array()
            .unwrap()
            .iter()
            .position(|c| c["id"] == e["component"])
            .unwrap();
        let cell = &matrix["cells"][d][c];
        assert_eq!(
            (&e["clinician_passages"], &e["patient_passages"]),
            (&cell["clinician"]["passages"], &cell["patient"]["passages"]),
            "{}",
            e["component"]
        );
    }
    let r = w.call(&ada, Method::GET, "/cases/clinician/C2", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["dyads"].as_array().unwrap().len(),
        r.body["components"][0]["dyads"].as_array().unwrap().len()
    );
    // C2's passages attributed to no patient (in the sample, on her own way of working) are
    // the matrix's general row, shown apart on the page.
    let m = w
        .call(&ada, Method::GET, "/findings/triangulation", None)
        .await
        .body;
    let components = m["components"].as_array().unwrap();
    let row = m["general"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["participant"] == "C2")
        .expect("C2's general evidence");
    let general = r.body["general"].as_array().unwrap();
    assert!(general.iter().any(|g| g["passages"].as_u64() > Some(0)));
    for g in general {
        let c = components
            .iter()
            .position(|c| c["id"] == g["component"])
            .unwrap();
        assert_eq!(
            g["passages"], row["cells"][c]["passages"],
            "{}",
            g["component"]
        );
    }
    let page = w
        .send(&ada, Method::GET, "/s/sample/cases/clinician/C2", None)
        .await;
    assert!(page.text.contains("About no particular patient"));
    for missing in ["/cases/dyad/C9-P99", "/cases/clinician/P01"] {
        let r = w.call(&paul, Method::GET, missing, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{missing}");
    }
    let list = w.call(&maria, Method::GET, "/cases", None).await;
    assert_eq!(list.body["dyads"].as_array().unwrap().len(), 10);
    assert_eq!(
        list.body["comparison"]["clinicians"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let r = narrate(&w, &ada, "x", None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "auditors read");
    let first = narrate(&w, &maria, "First draft", None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let v = first.body["version"].as_i64().unwrap();
    let second = narrate(&w, &paul, "Revised", Some(v)).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    let stale = narrate(&w, &maria, "Mine", Some(v)).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
    let blind = narrate(&w, &maria, "Mine", None).await;
    assert_eq!(
        blind.status,
        StatusCode::CONFLICT,
        "an existing narrative needs its version"
    );
    let read = w.call(&ada, Method::GET, "/cases/dyad/C1-P01", None).await;
    assert_eq!(read.body["narrative"]["text"], "Revised");
    let bad = w
        .call(
            &paul,
            Method::PUT,
            "/cases/team/C1/narrative",
            Some(json!({"text": "x"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_owners_choose_exemplars_and_they_come_first() {
    let w = world();
    let (paul, maria) = (
        w.login("sample", "paul").await,
        w.login("sample", "maria").await,
    );
    let coding = coding_in(&w, &paul, "C1-P01", "abiding").await;
    let body = json!({"coding": coding, "for": "abiding"});
    let r = w
        .call(&maria, Method::POST, "/exemplars", Some(body.clone()))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = w
        .call(&paul, Method::POST, "/exemplars", Some(body.clone()))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["position"], 1);
    let again = w.call(&paul, Method::POST, "/exemplars", Some(body)).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.text);
    let wrong = w
        .call(
            &paul,
            Method::POST,
            "/exemplars",
            Some(json!({"coding": coding, "for": "trust"})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.text);

    let listed = w.call(&maria, Method::GET, "/exemplars", None).await;
    assert_eq!(listed.body[0]["coding"], coding.as_str());
    assert_eq!(listed.body[0]["chosen_by"], "paul");
    assert!(!listed.body[0]["text"].as_str().unwrap().is_empty());
    let case = w
        .call(&maria, Method::GET, "/cases/dyad/C1-P01", None)
        .await;
    let abiding = case.body["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["component"] == "abiding")
        .unwrap()
        .clone();
    assert_eq!(abiding["patient"][0]["coding"], coding.as_str());
    assert_eq!(abiding["patient"][0]["exemplar"], true);

    let drop = format!("/exemplars/{coding}?for=abiding");
    assert_eq!(
        w.call(&maria, Method::DELETE, &drop, None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.call(&paul, Method::DELETE, &drop, None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        w.call(&paul, Method::DELETE, &drop, None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn case_pages_and_the_report_are_served_to_a_session() {
    let w = world();
    let ada = w.login("sample", "ada").await;
    let paul = w.login("sample", "paul").await;
    let r = w
        .send(&Session::default(), Method::GET, "/s/sample/cases", None)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = w.send(&ada, Method::GET, "/s/sample/cases", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("Cross-case comparison") && r.text.contains("/cases/dyad/C1-P01"));
    let r = w
        .send(&ada, Method::GET, "/s/sample/cases/dyad/C1-P01", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text.contains("readonly"),
        "an auditor cannot edit the narrative"
    );
    assert!(!r.text.contains("mark-exemplar"), "nor choose exemplars");
    let r = w
        .send(&paul, Method::GET, "/s/sample/cases/dyad/C1-P01", None)
        .await;
    assert!(r.text.contains("mark-exemplar"));
    let r = w
        .send(&paul, Method::GET, "/s/sample/cases/clinician/C3", None)
        .await;
    assert_eq!(r.status, StatusCode::OK);

    let r = w.send(&ada, Method::GET, "/s/sample/report", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("/s/sample/report/participants.csv"));
    let html = w
        .send(&ada, Method::GET, "/s/sample/report/report.html", None)
        .await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(html.text.contains("<h2>The dyad matrix</h2>"));
    let csp = html.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    let csv = w
        .send(&ada, Method::GET, "/s/sample/report/practices.csv", None)
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.text.starts_with("Characteristic,Value,n,%"));
    let xlsx = w
        .send(&ada, Method::GET, "/s/sample/report/report.xlsx", None)
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    let pdf = w
        .send(&ada, Method::GET, "/s/sample/report/report.pdf", None)
        .await;
    assert_eq!(pdf.status, StatusCode::OK, "{}", pdf.text);
    assert!(pdf.text.starts_with("%PDF-"));
    let missing = w
        .send(&ada, Method::GET, "/s/sample/report/secrets.txt", None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
