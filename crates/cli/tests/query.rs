//! `between query …` and `between search …` end to end on a small study whose answers can be
//! read off its two interviews.

#![allow(clippy::unwrap_used)] // a failing test step should stop the test

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{fails, generated_corpus, json, ok};

const CLINICIAN: &str = "INTERVIEWER: Tell me about Zoë.\n\nDr Lee: I’ve known Zoe for twenty years. I never rush her, and I hope she trusts me.\n";
const PATIENT: &str = "INTERVIEWER: How is Dr Lee?\n\nP3: She never rushes me. I trust her. I trust her with my life.\n";

/// Clinician C1 and patient P3 (a dyad), one interview each; maria codes trust twice in
/// P3's account (one of them a contrast case) and hope once in C1's.
fn study(d: &Path) {
    ok(d, &["init", "s.between", "--name", "Queries"]);
    ok(
        d,
        &[
            "participant",
            "add",
            "s.between",
            "C1",
            "--role",
            "clinician",
            "--attr",
            "sex=female",
        ],
    );
    ok(
        d,
        &[
            "participant",
            "add",
            "s.between",
            "P3",
            "--role",
            "patient",
            "--attr",
            "sex=male",
        ],
    );
    ok(d, &["dyad", "add", "s.between", "C1", "P3"]);
    std::fs::write(d.join("lee.txt"), CLINICIAN).unwrap();
    std::fs::write(d.join("p3.txt"), PATIENT).unwrap();
    ok(
        d,
        &["import", "s.between", "lee.txt", "--participant", "C1"],
    );
    ok(
        d,
        &[
            "import",
            "s.between",
            "p3.txt",
            "--participant",
            "P3",
            "--dyad",
            "C1-P3",
        ],
    );
    ok(
        d,
        &[
            "code",
            "s.between",
            "p3.txt",
            "trust",
            "--quote",
            "I trust her.",
            "--occurrence",
            "1",
        ],
    );
    ok(
        d,
        &[
            "code",
            "s.between",
            "p3.txt",
            "trust",
            "--quote",
            "She never rushes me.",
            "--contrast",
        ],
    );
    ok(
        d,
        &[
            "code",
            "s.between",
            "lee.txt",
            "hope",
            "--quote",
            "I hope she trusts me",
        ],
    );
}

#[test]
fn frequencies_and_matrices_count_contrast_apart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    study(d);
    let csv = ok(
        d,
        &[
            "query",
            "s.between",
            "freq",
            "--by",
            "participant",
            "--format",
            "csv",
        ],
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "code,participant,codings,contrast,sources,cases");
    let trust: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("Trust,"))
        .collect();
    assert_eq!(trust, ["Trust,P3,1,1,1,1", "Trust,total,1,1,1,1"], "{csv}");
    assert!(
        lines.iter().any(|l| l.starts_with("Hope,C1,1,0,1,1")),
        "{csv}"
    );

    // C1 with their patients: P3's trust coding counts for C1.
    let clinician = ok(
        d,
        &[
            "query",
            "s.between",
            "freq",
            "--by",
            "clinician",
            "--format",
            "csv",
        ],
    );
    assert!(
        clinician.lines().any(|l| l == "Trust,C1,1,1,1,1"),
        "{clinician}"
    );
    let by_sex = json(&ok(
        d,
        &[
            "query",
            "s.between",
            "matrix",
            "--attribute",
            "sex",
            "--format",
            "json",
        ],
    ));
    let labels: Vec<&str> = by_sex["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["female", "male"]);
    let table = ok(d, &["query", "s.between", "matrix", "--cases", "dyads"]);
    assert!(table.lines().next().unwrap().contains("C1-P3"), "{table}");
    assert!(
        table.lines().next().unwrap().contains("contrast"),
        "{table}"
    );
    fails(
        d,
        &["query", "s.between", "freq", "--by", "colour"],
        1,
        "unknown grouping 'colour'",
    );
    fails(
        d,
        &["query", "s.between", "cooccur", "--mode", "near"],
        1,
        "--within",
    );
    let co = json(&ok(
        d,
        &[
            "query",
            "s.between",
            "cooccur",
            "--mode",
            "near",
            "--within",
            "1000",
            "--format",
            "json",
        ],
    ));
    assert_eq!(
        co["counts"].as_array().unwrap().len(),
        2,
        "the two codes used"
    );
}

/// P3's one turn gets full-attention (Valuing/Presence/Full attention in the encounter) on
/// "She never rushes me." beside maria's trust on "I trust her.". By hand, in turn mode:
/// without roll-up the only pair is Full attention ~ Trust (1) and Valuing is not in the
/// matrix; with it the full-attention coding counts for Presence and Valuing too, so
/// Valuing ~ Trust and Presence ~ Trust are 1 each, and Valuing ~ Presence (a code and its
/// sub-code) is 0.
#[test]
fn cooccurrence_rolls_sub_codes_up_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    study(d);
    ok(
        d,
        &[
            "code",
            "s.between",
            "p3.txt",
            "full-attention",
            "--quote",
            "She never rushes me.",
        ],
    );
    let matrix = |rolled: bool| {
        let mut args = vec!["query", "s.between", "cooccur", "--mode", "turn"];
        if rolled {
            args.push("--include-subcodes");
        }
        args.extend(["--format", "json"]);
        json(&ok(d, &args))
    };
    let cell = |m: &serde_json::Value, a: &str, b: &str| {
        let at = |name: &str| {
            m["codes"]
                .as_array()
                .unwrap()
                .iter()
                .position(|c| c["path"].as_str().unwrap().ends_with(name))
        };
        at(a)
            .zip(at(b))
            .map(|(i, j)| m["counts"][i][j].as_u64().unwrap())
    };
    let (plain, rolled) = (matrix(false), matrix(true));
    assert_eq!(plain["include_subcodes"], false);
    assert_eq!(rolled["include_subcodes"], true);
    assert_eq!(
        cell(&plain, "Full attention in the encounter", "Trust"),
        Some(1)
    );
    assert_eq!(cell(&plain, "Valuing", "Trust"), None, "Valuing not used");
    assert_eq!(cell(&rolled, "Valuing", "Trust"), Some(1));
    assert_eq!(cell(&rolled, "Presence", "Trust"), Some(1));
    assert_eq!(
        cell(&rolled, "Full attention in the encounter", "Trust"),
        Some(1)
    );
    assert_eq!(cell(&rolled, "Valuing", "Presence"), Some(0));
    let text = ok(
        d,
        &[
            "query",
            "s.between",
            "cooccur",
            "--mode",
            "turn",
            "--include-subcodes",
        ],
    );
    assert!(
        text.lines()
            .next()
            .unwrap()
            .contains("sub-codes counted for the codes above"),
        "{text}"
    );
}

/// The label → (codings, contrast) of a JSON map of counts.
fn counts_of(map: &serde_json::Value) -> BTreeMap<String, (u64, u64)> {
    map.as_object()
        .unwrap()
        .iter()
        .map(|(k, c)| {
            let n = |f: &str| c[f].as_u64().unwrap();
            (k.clone(), (n("codings"), n("contrast")))
        })
        .collect()
}

#[test]
fn stats_and_frequencies_by_dyad_count_alike_on_the_sample_study() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["demo", "--no-serve"]);
    let s = "between-demo.between";
    let stats = json(&ok(d, &["stats", s, "--format", "json"]));
    let freq = json(&ok(
        d,
        &["query", s, "freq", "--by", "dyad", "--format", "json"],
    ));
    // Per dyad: the codings of every code's cell in that dyad's column (without sub-codes a
    // coding is in one row only), contrast apart.
    let mut summed: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (i, column) in freq["columns"].as_array().unwrap().iter().enumerate() {
        let label = column["label"].as_str().unwrap().to_string();
        let sum = summed.entry(label).or_default();
        for row in freq["rows"].as_array().unwrap() {
            sum.0 += row["cells"][i]["codings"].as_u64().unwrap();
            sum.1 += row["cells"][i]["contrast"].as_u64().unwrap();
        }
    }
    assert_eq!(counts_of(&stats["by_dyad"]), summed);
    // Every coding counts somewhere: for a dyad, or about no particular dyad (the
    // clinicians' general stretches); a passage attributed to two dyads counts for both.
    assert!(summed["(about no particular dyad)"].0 > 0, "{summed:?}");
    let (codings, contrast) = summed
        .values()
        .fold((0, 0), |(a, b), (c, d)| (a + c, b + d));
    assert!(
        codings > stats["codings"].as_u64().unwrap()
            && contrast >= stats["contrast"].as_u64().unwrap()
    );
    // Per code, `stats` and the codebook count alike.
    let by_code = counts_of(&stats["by_code"]);
    let book = json(&ok(d, &["codebook", "list", s, "--format", "json"]));
    for node in book.as_array().unwrap() {
        let path = node["path"].as_str().unwrap();
        let n = |f: &str| node[f].as_u64().unwrap();
        assert_eq!(by_code[path], (n("codings"), n("contrast")), "{path}");
    }
    let text = ok(d, &["stats", s]);
    assert!(
        text.contains("Valuing/Presence/Full attention in the encounter")
            && text.contains("contrast codings are counted apart"),
        "{text}"
    );
    let table = ok(d, &["query", s, "freq", "--by", "dyad"]);
    assert!(
        table.contains("counts for each dyad its passage speaks for"),
        "the rule is said under the table: {table}"
    );
}

#[test]
fn interviews_group_by_what_they_record() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["demo", "--no-serve"]);
    let s = "between-demo.between";
    let m = json(&ok(
        d,
        &[
            "query",
            s,
            "freq",
            "--by",
            "attribute:others_present",
            "--format",
            "json",
        ],
    ));
    assert_eq!(m["by"], "interview:others_present");
    let labels: Vec<&str> = m["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    let spouse = labels.iter().position(|l| *l == "spouse").expect("spouse");
    assert!(m["totals"][spouse]["codings"].as_u64().unwrap() > 0);
    assert_eq!(
        json(&ok(
            d,
            &[
                "query",
                s,
                "freq",
                "--by",
                "interview:others_present",
                "--format",
                "json"
            ],
        )),
        m
    );
    fails(
        d,
        &["query", s, "freq", "--by", "interview:mood"],
        1,
        "an interview records no 'mood'",
    );
    fails(
        d,
        &["query", s, "freq", "--by", "attribute:mood"],
        1,
        "no participant has the attribute 'mood'",
    );
}

#[test]
fn boolean_queries_return_passages_or_say_where_they_are_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    study(d);
    let r = json(&ok(
        d,
        &[
            "query",
            "s.between",
            "codes",
            "trust OR hope",
            "--format",
            "json",
        ],
    ));
    assert_eq!(r["total"], 2, "the contrast coding takes no part");
    let r = json(&ok(
        d,
        &[
            "query",
            "s.between",
            "codes",
            "trust OR hope",
            "--contrast",
            "--format",
            "json",
        ],
    ));
    assert_eq!(r["total"], 3);
    let text = ok(
        d,
        &[
            "query",
            "s.between",
            "codes",
            "trust NOT hope",
            "--context",
            "20",
        ],
    );
    assert!(text.contains("[I trust her.]"), "{text}");
    fails(
        d,
        &["query", "s.between", "codes", "trust AND (hope"],
        1,
        "at character 16: expected ')'",
    );
    fails(
        d,
        &["query", "s.between", "codes", "trust OR despair"],
        1,
        "at character 10",
    );
    // On `main` this aborted with a stack overflow.
    let deep = format!("{}trust", "(".repeat(100_000));
    fails(
        d,
        &["query", "s.between", "codes", &deep],
        1,
        "at character 65: parentheses nest more than 64 deep, the limit",
    );
}

#[test]
fn search_ignores_case_and_accents_and_codes_every_hit_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    study(d);
    let r = json(&ok(d, &["search", "s.between", "ZOE", "--format", "json"]));
    let texts: Vec<&str> = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Zoë", "Zoe"]);
    let r = json(&ok(
        d,
        &[
            "search",
            "s.between",
            "trust*",
            "--role",
            "patient",
            "--format",
            "json",
        ],
    ));
    assert_eq!(
        r["total"], 2,
        "P3's two; Dr Lee's 'trusts' is a clinician's"
    );

    let preview = ok(
        d,
        &[
            "search",
            "s.between",
            "\"trust her\"",
            "--code-all",
            "trust",
            "--coder",
            "maria",
        ],
    );
    assert!(
        preview.contains("2 hits in 1 sources; 1 would be coded Trust as maria, 1 already are"),
        "{preview}"
    );
    assert!(preview.contains("[already coded]"), "{preview}");
    let before = json(&ok(d, &["stats", "s.between", "--format", "json"]))["codings"].clone();
    let applied = ok(
        d,
        &[
            "search",
            "s.between",
            "\"trust her\"",
            "--code-all",
            "trust",
            "--coder",
            "maria",
            "--apply",
        ],
    );
    assert!(
        applied.contains("coded 1 hits with Trust as maria"),
        "{applied}"
    );
    let after = json(&ok(d, &["stats", "s.between", "--format", "json"]))["codings"].clone();
    assert_eq!(after.as_u64().unwrap(), before.as_u64().unwrap() + 1);
    let again = ok(
        d,
        &[
            "search",
            "s.between",
            "\"trust her\"",
            "--code-all",
            "trust",
            "--coder",
            "maria",
        ],
    );
    assert!(again.contains("0 would be coded"), "{again}");
    fails(
        d,
        &["search", "s.between", "\"trust her"],
        1,
        "at character 1: this quote is never closed",
    );
    fails(
        d,
        &["search", "s.between", "hope", "--code-all", "trust"],
        2,
        "--coder",
    );
}

#[test]
fn the_findings_bench_runs_on_a_generated_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = generated_corpus(dir.path(), 6, 500, 3);
    let out = ok(
        dir.path(),
        &[
            "bench",
            "--corpus",
            corpus.to_str().unwrap(),
            "--findings",
            "--repeat",
            "2",
            "--format",
            "json",
        ],
    );
    let measures = json(&out);
    let names: Vec<&str> = measures
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    for wanted in [
        "coder1: code × participant matrix (median)",
        "both coders: co-occurrence, near 200 (median)",
        "text search, KWIC of the first 200 (p95)",
    ] {
        assert!(
            names.iter().any(|n| n.starts_with(wanted)),
            "{wanted} not in {names:?}"
        );
    }
}
