//! Who may do what over HTTP, as one table: every endpoint × every kind of person × the status
//! they get. Each column runs in a study of its own, so one person's changes never decide
//! another's answer.

use super::*;

/// The people of the table's columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    LoggedOut,
    /// A coder of another study.
    Stranger,
    Auditor,
    /// maria, whose codings the table changes.
    Coder,
    /// sam, acting on maria's codings.
    OtherCoder,
    /// maria while the study is blind.
    BlindCoder,
    Owner,
}

const COLUMNS: [Who; 7] = [
    Who::LoggedOut,
    Who::Stranger,
    Who::Auditor,
    Who::Coder,
    Who::OtherCoder,
    Who::BlindCoder,
    Who::Owner,
];

/// What the table's rows point at, made afresh in each column's study.
struct Fixture {
    source: String,
    hope: String,
    trust: String,
    /// maria's codings: one to change, one to delete.
    marias: String,
    marias_other: String,
    /// A passage where maria and sam disagree, and a coding that is evidence for "abiding".
    passage: Value,
    exemplar: String,
    codebook_qdc: String,
    /// maria's attribution (to remove), and a suggestion's key (to confirm).
    marias_attribution: String,
    suggestion: String,
}

/// One endpoint and what each column gets, in the order of [`COLUMNS`].
struct Row {
    method: Method,
    path: String,
    body: Option<Value>,
    /// A raw (non-JSON) body instead.
    raw: Option<String>,
    expected: [u16; 7],
}

fn row(method: Method, path: impl Into<String>, body: Option<Value>, expected: [u16; 7]) -> Row {
    Row {
        method,
        path: path.into(),
        body,
        raw: None,
        expected,
    }
}

/// Every reader, a blind coder included.
const READ: [u16; 7] = [401, 403, 200, 200, 200, 200, 200];
/// Readers who may see everyone's codings at once: not a coder while coding is blind.
const COMPARE: [u16; 7] = [401, 403, 200, 200, 200, 403, 200];
/// Owners and coders, a blind coder included.
const WRITE: [u16; 7] = [401, 403, 403, 201, 201, 201, 201];
/// Owners only.
const OWNER: [u16; 7] = [401, 403, 403, 403, 403, 403, 200];

fn rows(f: &Fixture) -> Vec<Row> {
    let (source, hope, trust) = (&f.source, &f.hope, &f.trust);
    let get = |path: String, expected| row(Method::GET, path, None, expected);
    let p = &f.passage;
    let consensus = |accept: &str, name: Option<&str>| {
        let mut body = json!({
            "source": p["source"], "code": p["code"],
            "start": p["span"]["start"], "end": p["span"]["end"],
            "accept": accept, "replacing": [],
        });
        if let Some(name) = name {
            body["consensus"] = json!(name);
        }
        Some(body)
    };
    let mut rows = vec![
        get(String::new(), READ),
        get("/session".into(), READ),
        get("/participants".into(), READ),
        get("/dyads".into(), READ),
        get("/sources".into(), READ),
        get(format!("/sources/{source}"), READ),
        get(format!("/sources/{source}/codings"), READ),
        get(format!("/sources/{source}/attributions"), READ),
        get(format!("/attributions?source={source}"), READ),
        get(
            "/attributions/suggestions?alias=the%20Boss%3DC1".into(),
            READ,
        ),
        get("/codings?coder=maria".into(), READ),
        get("/codebook".into(), READ),
        get(format!("/codes/{hope}/excerpts"), READ),
        get("/memos".into(), READ),
        get("/verification".into(), READ),
        get("/coders".into(), COMPARE),
        get("/agreement?coders=maria,sam".into(), COMPARE),
        get(
            format!("/disagreements?coders=maria,sam&sources={source}"),
            COMPARE,
        ),
        get("/query/frequencies?by=role".into(), COMPARE),
        get("/cases".into(), COMPARE),
        get("/exemplars".into(), COMPARE),
        get("/exchange/codebook.qdc".into(), OWNER),
        get("/exchange/project.qdpx".into(), OWNER),
        get("/deidentify/candidates".into(), OWNER),
        get("/deidentify/mapping".into(), OWNER),
        row(
            Method::POST,
            "/codings",
            Some(json!({"source": source, "code": hope, "start": 0, "end": 5})),
            WRITE,
        ),
        // A coder changes only their own codings; an owner any.
        row(
            Method::PATCH,
            format!("/codings/{}", f.marias),
            Some(json!({"version": 1, "contrast": true})),
            [401, 403, 403, 200, 403, 200, 200],
        ),
        row(
            Method::DELETE,
            format!("/codings/{}?version=1", f.marias_other),
            None,
            [401, 403, 403, 204, 403, 204, 204],
        ),
        row(
            Method::POST,
            "/attributions",
            Some(json!({"source": source, "start": 0, "end": 6, "about": "P01"})),
            WRITE,
        ),
        row(
            Method::POST,
            "/attributions/suggestions/confirm",
            Some(json!({"keys": [f.suggestion]})),
            WRITE,
        ),
        // A coder removes only their own attributions; an owner any.
        row(
            Method::DELETE,
            format!("/attributions/{}", f.marias_attribution),
            None,
            [401, 403, 403, 204, 403, 204, 204],
        ),
        row(
            Method::POST,
            "/codes",
            Some(json!({"name": "Open code", "parent": hope})),
            WRITE,
        ),
        row(
            Method::PATCH,
            format!("/codes/{hope}"),
            Some(json!({"version": 1, "name": "Hope (renamed)"})),
            OWNER,
        ),
        row(
            Method::POST,
            format!("/codes/{trust}/merge"),
            Some(json!({"into": hope})),
            OWNER,
        ),
        row(
            Method::POST,
            "/memos",
            Some(json!({"on": format!("source:{source}"), "title": "t", "text": "x"})),
            WRITE,
        ),
        row(
            Method::POST,
            format!("/sources/{source}/verification"),
            Some(json!({"note": "checked"})),
            WRITE,
        ),
        row(
            Method::PUT,
            "/cases/dyad/C1-P01/narrative",
            Some(json!({"text": "A narrative."})),
            [401, 403, 403, 200, 200, 200, 200],
        ),
        row(
            Method::POST,
            "/query/search/code-all/preview",
            Some(json!({"q": "hope", "code": hope})),
            [401, 403, 403, 200, 200, 403, 200],
        ),
        // Adjudicating into the consensus coder: writers who may compare.
        row(
            Method::POST,
            "/consensus",
            consensus("sam", None),
            [401, 403, 403, 201, 201, 403, 201],
        ),
        // A consensus coder is never an account: nobody may replace a person's codings so.
        row(
            Method::POST,
            "/consensus",
            consensus("maria", Some("paul")),
            [401, 403, 403, 403, 403, 403, 403],
        ),
        row(
            Method::POST,
            "/consensus",
            consensus("maria", Some("SAM")),
            [401, 403, 403, 403, 403, 403, 403],
        ),
        row(
            Method::POST,
            "/exemplars",
            Some(json!({"coding": f.exemplar, "for": "abiding"})),
            [401, 403, 403, 403, 403, 403, 201],
        ),
        row(
            Method::DELETE,
            format!("/exemplars/{}?for=abiding", f.exemplar),
            None,
            [401, 403, 403, 403, 403, 403, 204],
        ),
        row(
            Method::POST,
            "/deidentify/preview",
            Some(json!({"mapping": [{"term": "George", "pseudonym": "[P1]"}]})),
            OWNER,
        ),
        row(
            Method::POST,
            "/exchange/codebook?name=book.qdc",
            None,
            [401, 403, 403, 403, 403, 403, 201],
        ),
        row(
            Method::PUT,
            "/blind",
            Some(json!({"source": null, "blind": false})),
            [401, 403, 403, 403, 403, 403, 204],
        ),
    ];
    rows.iter_mut()
        .find(|r| r.path.starts_with("/exchange/codebook?"))
        .expect("the import row")
        .raw = Some(f.codebook_qdc.clone());
    rows
}

/// The sample study with what the rows need, and a session for `who` (blind coding switched
/// on for a blind coder).
async fn column(who: Who) -> (World, Session, Fixture) {
    let w = world();
    let paul = w.login("sample", "paul").await;
    let maria = w.login("sample", "maria").await;
    let source = w.first_source(&paul, "p02-fernandez.txt").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let hope = w.code_id(&paul, "hope").await;
    let trust = w.code_id(&paul, "trust").await;
    let mut marias = Vec::new();
    for end in [5, 6] {
        let r = w
            .call(
                &maria,
                Method::POST,
                "/codings",
                Some(json!({"source": source, "code": hope, "start": 0, "end": end})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        marias.push(r.body["coding"]["id"].as_str().unwrap().to_string());
    }
    let passages = w
        .call(&paul, Method::GET, "/disagreements?coders=maria,sam", None)
        .await
        .body;
    let passage = passages["passages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["difference"] == "boundaries")
        .unwrap()
        .clone();
    let exemplar = cases::coding_in(&w, &paul, "C1-P01", "abiding").await;
    let r = w
        .call(
            &maria,
            Method::POST,
            "/attributions",
            Some(json!({"source": source, "start": 0, "end": 5, "about": "P03"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let marias_attribution = r.body["attribution"]["id"].as_str().unwrap().to_string();
    let suggestions = w
        .call(&paul, Method::GET, "/attributions/suggestions", None)
        .await;
    let suggestion = suggestions.body[0]["key"]
        .as_str()
        .unwrap_or_else(|| panic!("the sample has suggestions: {}", suggestions.text))
        .to_string();
    let codebook_qdc = w
        .call(&paul, Method::GET, "/exchange/codebook.qdc", None)
        .await
        .text;
    let session = match who {
        Who::LoggedOut => Session::default(),
        Who::Stranger => w.login("other", "olga").await,
        Who::Auditor => w.login("sample", "ada").await,
        Who::Coder => maria,
        Who::OtherCoder => w.login("sample", "sam").await,
        Who::BlindCoder => {
            let r = w
                .call(&paul, Method::PUT, "/blind", Some(json!({"blind": true})))
                .await;
            assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
            maria
        }
        Who::Owner => paul,
    };
    let [marias, marias_other] = <[String; 2]>::try_from(marias).unwrap();
    let fixture = Fixture {
        source,
        hope,
        trust,
        marias,
        marias_other,
        passage,
        exemplar,
        codebook_qdc,
        marias_attribution,
        suggestion,
    };
    (w, session, fixture)
}

#[tokio::test]
async fn the_authorisation_matrix() {
    let mut wrong = Vec::new();
    for (i, who) in COLUMNS.into_iter().enumerate() {
        let (w, session, fixture) = column(who).await;
        for r in rows(&fixture) {
            let path = format!("/api/v1/studies/sample{}", r.path);
            let body = r.raw.or_else(|| r.body.map(|b| b.to_string()));
            let got = w.send(&session, r.method.clone(), &path, body).await;
            if got.status.as_u16() != r.expected[i] {
                wrong.push(format!(
                    "{who:?} {} {}: {} (expected {}): {}",
                    r.method,
                    r.path,
                    got.status.as_u16(),
                    r.expected[i],
                    got.text.chars().take(200).collect::<String>()
                ));
            }
        }
        if who == Who::Owner {
            let book = w.call(&session, Method::GET, "/codebook", None).await.body;
            let paths: Vec<&str> = book
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["path"].as_str().unwrap())
                .collect();
            assert!(paths.contains(&"Hope (renamed)"), "{paths:?}");
            let stale = w
                .call(
                    &session,
                    Method::PATCH,
                    &format!("/codes/{}", fixture.hope),
                    Some(json!({"version": 1, "name": "Hope again"})),
                )
                .await;
            assert_eq!(
                (stale.status, error_code(&stale)),
                (StatusCode::CONFLICT, "conflict"),
                "{}",
                stale.text
            );
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Pages offer only what the policy allows, and the owners' pages are theirs.
#[tokio::test]
async fn pages_offer_what_the_policy_allows() {
    let w = world();
    for (name, manage, write) in [
        ("paul", true, true),
        ("maria", false, true),
        ("ada", false, false),
    ] {
        let s = w.login("sample", name).await;
        let page = w.send(&s, Method::GET, "/s/sample/", None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.text
                .contains(&format!("data-can-manage=\"{manage}\" ")),
            "{name}"
        );
        assert!(page.text.contains(&format!("data-can-write=\"{write}\" ")));
        assert_eq!(
            page.text.contains("/s/sample/deidentify\""),
            manage,
            "{name}"
        );
        for owners in ["/s/sample/deidentify", "/s/sample/exchange"] {
            let r = w.send(&s, Method::GET, owners, None).await;
            let expected = if manage { 200 } else { 403 };
            assert_eq!(r.status.as_u16(), expected, "{name} {owners}");
        }
    }
}

/// Naming an account as the consensus coder would delete their codings in the passage and
/// forge copies under their name; it is refused and nothing changes.
#[tokio::test]
async fn a_consensus_coder_is_never_an_account() {
    let w = world();
    let paul = w.login("sample", "paul").await;
    let maria = w.login("sample", "maria").await;
    let passages = w
        .call(&paul, Method::GET, "/disagreements?coders=maria,sam", None)
        .await
        .body;
    let p = passages["passages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["difference"] == "boundaries")
        .unwrap()
        .clone();
    // The owner's own coding in the passage, which naming "paul" would replace.
    let r = w
        .call(
            &paul,
            Method::POST,
            "/codings",
            Some(json!({
                "source": p["source"], "code": p["code"],
                "start": p["span"]["start"], "end": p["span"]["end"],
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let pauls = r.body["coding"].clone();
    let sams: Vec<Value> = p["versions"][1]["codings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| json!({"id": c["coding"]["id"], "version": c["coding"]["version"]}))
        .collect();
    assert!(!sams.is_empty());
    let before = every_coding(&w, &paul).await;
    for (name, replacing) in [
        ("paul", json!([{"id": pauls["id"], "version": 1}])),
        ("Paul", json!([{"id": pauls["id"], "version": 1}])),
        ("sam", json!(sams)),
        (" SAM ", json!(sams)),
    ] {
        let r = w
            .call(
                &maria,
                Method::POST,
                "/consensus",
                Some(json!({
                    "source": p["source"], "code": p["code"],
                    "start": p["span"]["start"], "end": p["span"]["end"],
                    "accept": "maria", "consensus": name, "replacing": replacing,
                })),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{name}: {}", r.text);
        assert!(r.text.contains("account"), "{}", r.text);
    }
    assert_eq!(every_coding(&w, &paul).await, before, "nothing changed");
}

/// Every coding of the study, as the owner sees them.
async fn every_coding(w: &World, owner: &Session) -> Vec<Value> {
    w.call(owner, Method::GET, "/codings", None)
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["coding"].clone())
        .collect()
}
