//! Blind coding, walked as a blind coder: every `GET` route the server has (found in its
//! sources, so a new route cannot be left out) and the live event stream show a coder nothing
//! of another coder's work: no name, coding id, memo text or count that includes them.

use std::collections::{BTreeSet, HashSet};

use super::*;

/// The colleague whose work must stay hidden: a name found nowhere else in the study.
const COLLEAGUE: &str = "xavierquill";
const BLIND_CODER: &str = "maria";

/// Every `GET` route, as its file writes it, with a request that reaches it in the sample
/// study (`{source}` and `{code}` are filled in with a real source and code).
#[rustfmt::skip]
const GET_ROUTES: &[(&str, &str, &str)] = &[
    ("api.rs", "\"/\"", "/api/v1/studies/sample"),
    ("api.rs", "\"/session\"", "/api/v1/studies/sample/session"),
    ("api.rs", "\"/participants\"", "/api/v1/studies/sample/participants"),
    ("api.rs", "\"/dyads\"", "/api/v1/studies/sample/dyads"),
    ("api.rs", "\"/sources\"", "/api/v1/studies/sample/sources"),
    ("api.rs", "\"/sources/{id}\"", "/api/v1/studies/sample/sources/{source}"),
    ("api.rs", "\"/sources/{id}/codings\"", "/api/v1/studies/sample/sources/{source}/codings"),
    ("api.rs", "\"/sources/{id}/media\"", "/api/v1/studies/sample/sources/{source}/media"),
    ("api.rs", "\"/verification\"", "/api/v1/studies/sample/verification"),
    ("api.rs", "\"/codings\"", "/api/v1/studies/sample/codings"),
    ("api.rs", "\"/codebook\"", "/api/v1/studies/sample/codebook"),
    ("api.rs", "\"/codes/{id}/excerpts\"", "/api/v1/studies/sample/codes/{code}/excerpts"),
    ("api.rs", "\"/memos\"", "/api/v1/studies/sample/memos"),
    ("api.rs", "\"/coders\"", "/api/v1/studies/sample/coders"),
    ("api.rs", "\"/agreement\"", "/api/v1/studies/sample/agreement?coders=maria,xavierquill"),
    ("api.rs", "\"/disagreements\"", "/api/v1/studies/sample/disagreements?coders=maria,xavierquill"),
    ("api.rs", "\"/events\"", "(the event stream, walked by its own test below)"),
    ("assets.rs", "\"/assets/{file}\"", "/assets/document.js"),
    ("cases.rs", "\"/api/v1/studies/{slug}/cases\"", "/api/v1/studies/sample/cases"),
    ("cases.rs", "\"/api/v1/studies/{slug}/cases/dyad/{label}\"", "/api/v1/studies/sample/cases/dyad/C1-P01"),
    ("cases.rs", "\"/api/v1/studies/{slug}/cases/clinician/{label}\"", "/api/v1/studies/sample/cases/clinician/C1"),
    ("cases.rs", "\"/api/v1/studies/{slug}/exemplars\"", "/api/v1/studies/sample/exemplars"),
    ("cases.rs", "\"/s/{slug}/cases\"", "/s/sample/cases"),
    ("cases.rs", "\"/s/{slug}/cases/dyad/{label}\"", "/s/sample/cases/dyad/C1-P01"),
    ("cases.rs", "\"/s/{slug}/cases/clinician/{label}\"", "/s/sample/cases/clinician/C1"),
    ("cases.rs", "\"/s/{slug}/report\"", "/s/sample/report"),
    ("cases.rs", "\"/s/{slug}/report/{file}\"", "/s/sample/report/report.html"),
    ("deidentify.rs", "\"/candidates\"", "/api/v1/studies/sample/deidentify/candidates"),
    ("deidentify.rs", "\"/mapping\"", "/api/v1/studies/sample/deidentify/mapping"),
    ("exchange.rs", "\"/project.qdpx\"", "/api/v1/studies/sample/exchange/project.qdpx"),
    ("exchange.rs", "\"/codebook.qdc\"", "/api/v1/studies/sample/exchange/codebook.qdc"),
    ("model_findings.rs", "&format!(\"{API}/triangulation\")", "/api/v1/studies/sample/findings/triangulation"),
    ("model_findings.rs", "&format!(\"{API}/triangulation/cell\")", "/api/v1/studies/sample/findings/triangulation/cell?dyad=C1-P01&component=trust"),
    ("model_findings.rs", "&format!(\"{API}/triangulation/general\")", "/api/v1/studies/sample/findings/triangulation/general?participant=C1&component=trust"),
    ("model_findings.rs", "&format!(\"{API}/propositions\")", "/api/v1/studies/sample/findings/propositions"),
    ("model_findings.rs", "&format!(\"{API}/propositions/excerpts\")", "/api/v1/studies/sample/findings/propositions/excerpts?dyad=C1-P01&number=1"),
    ("model_findings.rs", "&format!(\"{API}/figure.svg\")", "/api/v1/studies/sample/findings/figure.svg"),
    ("model_findings.rs", "&format!(\"{API}/saturation\")", "/api/v1/studies/sample/findings/saturation"),
    ("model_findings.rs", "&format!(\"{API}/saturation.svg\")", "/api/v1/studies/sample/findings/saturation.svg"),
    ("model_findings.rs", "\"/s/{slug}/dyads\"", "/s/sample/dyads"),
    ("model_findings.rs", "\"/s/{slug}/model\"", "/s/sample/model"),
    ("model_findings.rs", "\"/s/{slug}/saturation\"", "/s/sample/saturation"),
    ("pages.rs", "\"/\"", "/"),
    ("pages.rs", "\"/s/{slug}/login\"", "/s/sample/login"),
    ("pages.rs", "\"/s/{slug}/\"", "/s/sample/"),
    ("pages.rs", "\"/s/{slug}/sources/{id}\"", "/s/sample/sources/{source}"),
    ("pages.rs", "\"/s/{slug}/codebook\"", "/s/sample/codebook"),
    ("pages.rs", "\"/s/{slug}/memos\"", "/s/sample/memos"),
    ("pages.rs", "\"/s/{slug}/agreement\"", "/s/sample/agreement"),
    ("pages.rs", "\"/s/{slug}/deidentify\"", "/s/sample/deidentify"),
    ("pages.rs", "\"/s/{slug}/exchange\"", "/s/sample/exchange"),
    ("query.rs", "\"/frequencies\"", "/api/v1/studies/sample/query/frequencies"),
    ("query.rs", "\"/matrix\"", "/api/v1/studies/sample/query/matrix"),
    ("query.rs", "\"/cell\"", "/api/v1/studies/sample/query/cell?code=Humour&column=total"),
    ("query.rs", "\"/cooccurrence\"", "/api/v1/studies/sample/query/cooccurrence"),
    ("query.rs", "\"/cooccurrence/cell\"", "/api/v1/studies/sample/query/cooccurrence/cell?a=Humour&b=Humour"),
    ("query.rs", "\"/codes\"", "/api/v1/studies/sample/query/codes?q=Humour"),
    ("query.rs", "\"/search\"", "/api/v1/studies/sample/query/search?q=the"),
    ("query.rs", "\"/s/{slug}/query\"", "/s/sample/query"),
];

/// The routes with a `GET` handler, as `(file, path as written)`, read from the server's own
/// sources: every `.route(PATH, HANDLERS)` whose handlers include `get(…)`.
fn get_routes_in_sources() -> BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        for (at, _) in text.match_indices(".route(") {
            let args = balanced(&text[at + ".route(".len()..]);
            let (route, handlers) = split_first_argument(args);
            if has_call(handlers, "get") {
                found.insert((file.clone(), route.trim().to_string()));
            }
        }
    }
    found
}

/// The text up to the parenthesis that closes one already open.
fn balanced(text: &str) -> &str {
    let mut depth = 1;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[..i];
                }
            }
            _ => {}
        }
    }
    panic!("an unclosed .route( call")
}

fn split_first_argument(args: &str) -> (&str, &str) {
    let mut depth = 0;
    for (i, c) in args.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => return (&args[..i], &args[i + 1..]),
            _ => {}
        }
    }
    (args, "")
}

/// Whether `text` calls `name(` (as a word, not the end of a longer name).
fn has_call(text: &str, name: &str) -> bool {
    text.match_indices(&format!("{name}(")).any(|(i, _)| {
        text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

#[test]
fn the_walk_covers_every_get_route() {
    let table: BTreeSet<(String, String)> = GET_ROUTES
        .iter()
        .map(|(file, route, _)| (file.to_string(), route.to_string()))
        .collect();
    assert_eq!(table.len(), GET_ROUTES.len(), "a route listed twice");
    let found = get_routes_in_sources();
    let missing: Vec<_> = found.difference(&table).collect();
    let stale: Vec<_> = table.difference(&found).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "GET routes not walked as a blind coder: {missing:?}; listed but gone: {stale:?}"
    );
}

/// The sample study (blind study-wide) where the colleague has codings and memos of every kind,
/// and what of theirs a blind coder must not see.
struct BlindWorld {
    world: World,
    others_codings: Vec<String>,
    others_memos: Vec<String>,
    own_codings: usize,
    own_memos: usize,
    source: String,
    code: String,
}

async fn blind_world() -> BlindWorld {
    let dir = tempfile::tempdir().unwrap();
    let mut sample =
        between_sample::materialise(&dir.path().join("sample.between"), &OpenOptions::default())
            .unwrap();
    for (name, role) in [
        ("paul", AccountRole::Owner),
        (BLIND_CODER, AccountRole::Coder),
        (COLLEAGUE, AccountRole::Coder),
    ] {
        sample.add_account(name, role, PASSWORD).unwrap();
    }
    let world = World {
        app: App::new(vec![StudyHandle::new("sample", sample)]),
        _dir: dir,
    };
    let colleague = world.login("sample", COLLEAGUE).await;
    let source = world.first_source(&colleague, "p03-adeyemi.txt").await;
    let source = source["id"].as_str().unwrap().to_string();
    let code = world.code_id(&colleague, "pushing").await;
    let coded = world
        .call(
            &colleague,
            Method::POST,
            "/codings",
            Some(json!({"source": source, "code": code, "start": 5, "end": 40, "memo": "xq coding memo"})),
        )
        .await;
    assert_eq!(coded.status, StatusCode::CREATED, "{}", coded.text);
    let coding = coded.body["coding"]["id"].as_str().unwrap().to_string();
    for memo in [
        json!({"on": format!("coding:{coding}"), "text": "xq memo on a coding"}),
        json!({"on": format!("source:{source}"), "text": "xq memo on a passage", "start": 5, "end": 40}),
        json!({"on": format!("source:{source}"), "text": "xq memo on a source"}),
        json!({"on": format!("code:{code}"), "text": "xq memo on a code"}),
        json!({"on": "study", "text": "xq memo on the study"}),
    ] {
        let r = world
            .call(&colleague, Method::POST, "/memos", Some(memo))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let owner = world.login("sample", "paul").await;
    let r = world
        .call(&owner, Method::PUT, "/blind", Some(json!({"blind": true})))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    // What the study holds, read as its owner sees it.
    let study = world.app.study("sample").unwrap();
    let (codings, memos) = study
        .read(&between_study::policy::local_owner("test"), |b| {
            Ok((b.codings(None, None, None)?, b.memos(None)?))
        })
        .await
        .unwrap();
    let mine = |who: &str| who.eq_ignore_ascii_case(BLIND_CODER);
    BlindWorld {
        others_codings: codings
            .iter()
            .filter(|c| !mine(&c.coding.coder))
            .map(|c| c.coding.id.to_string())
            .collect(),
        own_codings: codings.iter().filter(|c| mine(&c.coding.coder)).count(),
        others_memos: memos
            .iter()
            .filter(|m| !mine(&m.memo.author))
            .map(|m| m.memo.text.clone())
            .collect(),
        own_memos: memos.iter().filter(|m| mine(&m.memo.author)).count(),
        world,
        source,
        code,
    }
}

/// The names a JSON answer gives as someone's: coders, authors, the keys of per-coder counts.
fn names_in(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("coder" | "author" | "consensus_coder", Value::String(name)) => {
                        out.insert(name.clone());
                    }
                    ("codings_by_coder", Value::Object(per_coder)) => {
                        out.extend(per_coder.keys().cloned());
                    }
                    _ => names_in(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| names_in(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn a_blind_coder_sees_nothing_of_a_colleague_on_any_get_route() {
    let bw = blind_world().await;
    let w = &bw.world;
    let maria = w.login("sample", BLIND_CODER).await;
    assert!(
        bw.others_codings.len() > 1 && bw.others_memos.len() > 5,
        "the colleague (and the sample's other coders) have work to hide"
    );
    let mut answered = 0;
    for (file, route, uri) in GET_ROUTES {
        if !uri.starts_with('/') {
            continue;
        }
        let uri = uri
            .replace("{source}", &bw.source)
            .replace("{code}", &bw.code);
        let r = w.send(&maria, Method::GET, &uri, None).await;
        let seen = format!("{file} {route} -> GET {uri}: {} {}", r.status, r.text);
        assert!(!r.status.is_server_error(), "{seen}");
        if r.status.is_success() {
            answered += 1;
        }
        assert!(
            !r.text.contains(COLLEAGUE),
            "the colleague's name in {seen}"
        );
        for id in &bw.others_codings {
            assert!(
                !r.text.contains(id.as_str()),
                "a coding of another coder in {seen}"
            );
        }
        for memo in &bw.others_memos {
            assert!(
                !r.text.contains(memo.as_str()),
                "a memo of another's in {seen}"
            );
        }
        let mut names = BTreeSet::new();
        names_in(&r.body, &mut names);
        names.remove(BLIND_CODER);
        assert!(names.is_empty(), "someone else's name {names:?} in {seen}");
    }
    assert!(answered > 20, "most routes answer a coder: {answered}");

    // Counts include the coder's own work only.
    let api = |path: &'static str| w.call(&maria, Method::GET, path, None);
    let study = api("").await.body;
    let both = |n: &Value| n["codings"].as_u64().unwrap() + n["contrast"].as_u64().unwrap();
    assert_eq!(both(&study["counts"]) as usize, bw.own_codings);
    assert_eq!(study["counts"]["memos"], bw.own_memos);
    let book = api("/codebook").await.body;
    let counted: u64 = book.as_array().unwrap().iter().map(both).sum();
    assert_eq!(counted as usize, bw.own_codings, "the codebook counts");
    let memos = api("/memos").await;
    assert_eq!(memos.body.as_array().unwrap().len(), bw.own_memos);
}

/// The event frames a stream sends until one satisfies `last`.
async fn frames_until(body: &mut axum::body::Body, last: impl Fn(&str) -> bool) -> Vec<String> {
    let mut frames = Vec::new();
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .unwrap();
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let text = String::from_utf8(data.to_vec()).unwrap();
        let done = last(&text);
        frames.push(text);
        if done {
            return frames;
        }
    }
}

#[tokio::test]
async fn a_blind_coder_hears_only_of_their_own_codings() {
    let bw = blind_world().await;
    let w = &bw.world;
    let maria = w.login("sample", BLIND_CODER).await;
    let colleague = w.login("sample", COLLEAGUE).await;
    let mut body = sessions::event_stream(w, &maria).await;

    // The colleague codes, recodes and uncodes, and codes every hit of a search.
    let coding = async |who: &Session, start: usize| {
        w.call(
            who,
            Method::POST,
            "/codings",
            Some(json!({"source": bw.source, "code": bw.code, "start": start, "end": start + 10})),
        )
        .await
    };
    let made = coding(&colleague, 50).await.body;
    let theirs = made["coding"]["id"].as_str().unwrap().to_string();
    let version = made["coding"]["version"].as_i64().unwrap();
    let r = w
        .call(
            &colleague,
            Method::PATCH,
            &format!("/codings/{theirs}"),
            Some(json!({"version": version, "end": 70})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = w
        .call(
            &colleague,
            Method::DELETE,
            &format!("/codings/{theirs}?version={}", version + 1),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = w
        .call(
            &colleague,
            Method::POST,
            "/query/search/code-all/apply",
            Some(json!({"q": "trust", "code": bw.code})),
        )
        .await;
    // Coders may not search a blind study (its corpus is everyone's); if that changes, the
    // codings it makes must stay unheard all the same.
    assert!(
        r.status.is_success() || r.status == StatusCode::FORBIDDEN,
        "{}",
        r.text
    );

    // Then the blind coder codes: the next event they hear is their own.
    let mine = coding(&maria, 80).await.body;
    let mine = mine["coding"]["id"].as_str().unwrap().to_string();
    let frames = frames_until(&mut body, |f| f.starts_with("event: coding")).await;
    let heard = frames.last().unwrap();
    assert!(heard.contains(&mine), "{heard}");
    assert!(
        !frames
            .iter()
            .any(|f| f.contains(&theirs) || f.contains(COLLEAGUE)),
        "{frames:?}"
    );
}

#[tokio::test]
async fn memos_follow_blind_coding_of_their_source() {
    let bw = blind_world().await;
    let w = &bw.world;
    let owner = w.login("sample", "paul").await;
    let maria = w.login("sample", BLIND_CODER).await;
    // Blind only for the colleague's source: their memos there, or on their codings there,
    // stay hidden; their memos elsewhere (a code, the study) are seen.
    w.call(&owner, Method::PUT, "/blind", Some(json!({"blind": false})))
        .await;
    w.call(
        &owner,
        Method::PUT,
        "/blind",
        Some(json!({"source": bw.source, "blind": true})),
    )
    .await;
    let texts: HashSet<String> = w
        .call(&maria, Method::GET, "/memos", None)
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["memo"]["text"].as_str().unwrap().to_string())
        .collect();
    for hidden in [
        "xq memo on a coding",
        "xq memo on a passage",
        "xq memo on a source",
    ] {
        assert!(!texts.contains(hidden), "{hidden}");
    }
    for seen in ["xq memo on a code", "xq memo on the study"] {
        assert!(texts.contains(seen), "{seen}");
    }
    // Owners see every memo.
    let all = w.call(&owner, Method::GET, "/memos", None).await.body;
    assert_eq!(
        all.as_array().unwrap().len(),
        bw.own_memos + bw.others_memos.len()
    );
}
