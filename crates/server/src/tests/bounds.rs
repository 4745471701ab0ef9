//! Resource bounds: context is clamped whatever is asked, and lists come a page at a time,
//! each page saying how many rows there are and where the next page is.

use std::collections::HashSet;

use between_study::{CodingTarget, NewCoding};

use super::*;
use crate::paging::TOTAL_HEADER;
use crate::{DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS};

/// More codings by maria than one page can hold, in a study as `world()` makes it.
fn world_with_many_codings() -> (World, usize) {
    let w = world();
    let study = w.app.study("sample").unwrap();
    let mut bench = study
        .writer
        .try_lock()
        .expect("nothing else uses the study yet");
    // As the command line would: the local owner records codings under their coder's name.
    bench.act_as(between_study::policy::local_owner("test"));
    let source = bench.sources().unwrap()[0].name.clone();
    let code = bench.codebook().unwrap()[0].path.clone();
    let extra = MAX_PAGE_ROWS + 100;
    let batch = (0..extra)
        .map(|i| NewCoding {
            source: source.clone(),
            code: code.clone(),
            target: CodingTarget::Offsets {
                start: i % 50,
                end: i % 50 + 1 + i / 50,
            },
            coder: Some("maria".into()),
            memo: None,
            contrast: false,
        })
        .collect();
    bench.apply_codings(batch).unwrap();
    let total = bench.codings(None, None, None).unwrap().len();
    drop(bench);
    (w, total)
}

fn total_of(r: &Reply) -> usize {
    r.headers[TOTAL_HEADER].to_str().unwrap().parse().unwrap()
}

/// The `Link: <URL>; rel="next"` of a page, if more follow.
fn next_of(r: &Reply) -> Option<String> {
    let link = r.headers.get(header::LINK)?.to_str().unwrap();
    let url = link.strip_prefix('<')?.split_once(">; rel=\"next\"")?.0;
    Some(url.to_string())
}

#[tokio::test]
async fn a_long_list_comes_a_capped_page_at_a_time() {
    let (w, total) = world_with_many_codings();
    assert!(total > MAX_PAGE_ROWS);
    let owner = w.login("sample", "paul").await;

    let first = w.call(&owner, Method::GET, "/codings", None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.body.as_array().unwrap().len(), DEFAULT_PAGE_ROWS);
    assert_eq!(total_of(&first), total);
    assert!(next_of(&first).is_some(), "says more follows");

    let greedy = w
        .call(&owner, Method::GET, "/codings?limit=1000000000", None)
        .await;
    assert_eq!(greedy.body.as_array().unwrap().len(), MAX_PAGE_ROWS);
    assert!(next_of(&greedy).is_some(), "says more follows");

    // Following the pages gives every coding exactly once, and the last page says no more.
    let mut seen = Vec::new();
    let mut url = Some("/api/v1/studies/sample/codings?coder=maria&limit=300".to_string());
    let mut pages = 0;
    while let Some(u) = url {
        let r = w.send(&owner, Method::GET, &u, None).await;
        assert_eq!(r.status, StatusCode::OK, "{u}: {}", r.text);
        assert!(r.body.as_array().unwrap().len() <= 300);
        seen.extend(
            r.body
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["coding"]["id"].as_str().unwrap().to_string()),
        );
        url = next_of(&r);
        pages += 1;
    }
    let maria = w
        .app
        .study("sample")
        .unwrap()
        .read(&between_study::policy::local_owner("test"), |b| {
            b.codings(None, None, Some("maria"))
        })
        .await
        .unwrap();
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no coding twice");
    assert_eq!(
        unique,
        maria
            .iter()
            .map(|v| v.coding.id.to_string())
            .collect::<Vec<_>>()
            .iter()
            .collect(),
        "every coding"
    );
    assert_eq!(pages, maria.len().div_ceil(300));
}

#[tokio::test]
async fn every_list_endpoint_says_its_total() {
    let w = world();
    let owner = w.login("sample", "paul").await;
    let source = w.first_source(&owner, "p03-adeyemi.txt").await;
    let code = w.code_id(&owner, "pushing").await;
    for path in [
        "/participants".to_string(),
        "/dyads".into(),
        "/sources".into(),
        format!("/sources/{}/codings", source["id"].as_str().unwrap()),
        "/verification".into(),
        "/codings".into(),
        "/codebook".into(),
        format!("/codes/{code}/excerpts"),
        "/memos".into(),
        "/coders".into(),
        "/deidentify/candidates".into(),
    ] {
        let all = w.call(&owner, Method::GET, &path, None).await;
        assert_eq!(all.status, StatusCode::OK, "{path}: {}", all.text);
        let total = total_of(&all);
        assert_eq!(
            all.body.as_array().unwrap().len(),
            total.min(DEFAULT_PAGE_ROWS)
        );
        assert!(total >= 2, "{path} has rows to page");
        let one = w
            .call(&owner, Method::GET, &format!("{path}?limit=1"), None)
            .await;
        assert_eq!(one.body.as_array().unwrap().len(), 1, "{path}");
        assert_eq!(one.body[0], all.body[0], "{path}");
        let next = next_of(&one).unwrap_or_else(|| panic!("{path}: no next page"));
        let second = w.send(&owner, Method::GET, &next, None).await;
        assert_eq!(second.body[0], all.body[1], "{path}: {next}");
    }
}

/// The longest run of text a result carries around its passages.
fn longest_context(value: &Value) -> usize {
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match (k.as_str(), v) {
                ("before" | "after", Value::String(s)) => s.chars().count(),
                _ => longest_context(v),
            })
            .max()
            .unwrap_or(0),
        Value::Array(items) => items.iter().map(longest_context).max().unwrap_or(0),
        _ => 0,
    }
}

#[tokio::test]
async fn a_context_of_a_billion_gives_at_most_the_clamp() {
    let w = world();
    let owner = w.login("sample", "paul").await;
    let huge = 1_000_000_000;
    for path in [
        format!("/query/search?q=the&context={huge}"),
        format!("/query/codes?q=Humour&context={huge}"),
        format!("/query/cell?code=Humour&column=total&context={huge}"),
    ] {
        let r = w.call(&owner, Method::GET, &path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        let longest = longest_context(&r.body);
        assert!(
            longest <= between_findings::MAX_CONTEXT_CHARS,
            "{path}: {longest} characters of context"
        );
        assert!(
            longest > between_findings::MAX_CONTEXT_CHARS / 2,
            "{path}: the sample has passages with long context ({longest})"
        );
    }
}

#[tokio::test]
async fn search_results_page_with_their_place() {
    let w = world();
    let owner = w.login("sample", "paul").await;
    let all = w
        .call(&owner, Method::GET, "/query/search?q=the&limit=1000", None)
        .await
        .body;
    let total = all["total"].as_u64().unwrap() as usize;
    assert!(total > 10 && all["more"] == (total > 1000));
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let r = w
            .call(
                &owner,
                Method::GET,
                &format!("/query/search?q=the&limit=7&offset={offset}"),
                None,
            )
            .await
            .body;
        assert_eq!(r["offset"], offset);
        seen.extend(r["hits"].as_array().unwrap().iter().cloned());
        offset += 7;
        if r["more"] == false {
            break;
        }
    }
    assert_eq!(seen.len(), total);
    assert_eq!(
        &seen[..total.min(1000)],
        &all["hits"].as_array().unwrap()[..]
    );
}
