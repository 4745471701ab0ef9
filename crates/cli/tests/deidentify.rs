//! `between deidentify` end to end on temporary study files: suggest, preview, apply (every
//! coding still on its words), export and destroy the mapping, and every bad input refused.

#![allow(clippy::unwrap_used)] // a failing test step should stop the test

mod common;

use std::path::Path;

use common::{fails, json, ok};

fn quotes(dir: &Path, study: &str) -> Vec<(String, String)> {
    let listed = json(&ok(dir, &["codings", "list", study, "--format", "json"]));
    let mut out: Vec<(String, String)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["coding"]["id"].as_str().unwrap().to_string(),
                v["quote"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

const TRANSCRIPT: &str = "INTERVIEWER: How is Dr Ruiz?\n\nDR RUIZ: Samuel came from Mercer Street. Dr Ruiz, he says — not Ruiz.\n";

#[test]
fn suggest_preview_apply_export_and_destroy() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init", "s.between", "--no-theory"]);
    ok(d, &["codebook", "add", "s.between", "Trust"]);
    std::fs::write(d.join("c2.txt"), TRANSCRIPT).unwrap();
    ok(d, &["import", "s.between", "c2.txt"]);
    for quote in [
        "Dr Ruiz, he says",
        "Samuel came",
        "from Mercer Street",
        "uiz?",
    ] {
        ok(
            d,
            &["code", "s.between", "c2.txt", "Trust", "--quote", quote],
        );
    }
    let suggested = ok(d, &["deidentify", "s.between", "--suggest"]);
    for term in ["Dr Ruiz", "Mercer Street", "DR RUIZ"] {
        assert!(suggested.contains(term), "{suggested}");
    }
    assert!(!suggested.contains("INTERVIEWER"), "{suggested}");

    let before = quotes(d, "s.between");
    std::fs::write(
        d.join("names.csv"),
        "term,pseudonym\nDr Ruiz,[Clinician A]\nRuiz,[A]\nSamuel,[Patient B]\nMercer Street,[Street]\n",
    )
    .unwrap();
    let preview = ok(
        d,
        &[
            "deidentify",
            "s.between",
            "--mapping",
            "names.csv",
            "--case-insensitive",
            "--preview",
        ],
    );
    assert!(preview.contains("[Dr Ruiz → [Clinician A]]"), "{preview}");
    assert!(
        preview.contains("c2.txt speaker label  DR RUIZ → [Clinician A]"),
        "{preview}"
    );
    assert!(preview.contains("6 replacements in 1 sources"), "{preview}");
    assert_eq!(quotes(d, "s.between"), before, "a preview changes nothing");

    let applied = ok(
        d,
        &[
            "deidentify",
            "s.between",
            "--mapping",
            "names.csv",
            "--case-insensitive",
            "--apply",
        ],
    );
    assert!(applied.contains("6 replacements in 1 sources"), "{applied}");
    let after = quotes(d, "s.between");
    assert_eq!(after.len(), before.len());
    let by_id: std::collections::BTreeMap<_, _> = after.into_iter().collect();
    let expected = [
        ("Dr Ruiz, he says", "[Clinician A], he says"),
        ("Samuel came", "[Patient B] came"),
        ("from Mercer Street", "from [Street]"),
        ("uiz?", "[Clinician A]?"),
    ];
    for (id, old) in &before {
        let new = expected.iter().find(|(o, _)| o == old).unwrap().1;
        assert_eq!(by_id[id], new);
    }
    let shown = ok(d, &["source", "show", "s.between", "c2.txt"]);
    assert!(
        shown.contains("[Clinician A]: [Patient B] came from [Street]."),
        "{shown}"
    );
    let audit = ok(d, &["audit", "s.between", "--limit", "100"]);
    assert!(
        audit.contains("deidentification") && !audit.contains("Samuel"),
        "{audit}"
    );

    ok(
        d,
        &["deidentify", "s.between", "--export-mapping", "key.csv"],
    );
    let key = std::fs::read_to_string(d.join("key.csv")).unwrap();
    assert!(
        key.starts_with(
            "term,pseudonym,replacements,run,actor,at\nDr Ruiz,[Clinician A],3,1,maria,"
        ),
        "{key}"
    );
    fails(
        d,
        &["deidentify", "s.between", "--export-mapping", "key.csv"],
        1,
        "not overwritten",
    );
    fails(
        d,
        &["deidentify", "s.between", "--destroy-mapping"],
        1,
        "--yes",
    );
    ok(
        d,
        &["deidentify", "s.between", "--destroy-mapping", "--yes"],
    );
    // What to run when the vacuum after apply or destroy failed.
    let out = ok(d, &["deidentify", "s.between", "--vacuum"]);
    assert!(out.contains("vacuumed s.between"), "{out}");
    std::fs::remove_file(d.join("key.csv")).unwrap();
    ok(
        d,
        &["deidentify", "s.between", "--export-mapping", "key.csv"],
    );
    assert_eq!(
        std::fs::read_to_string(d.join("key.csv")).unwrap(),
        "term,pseudonym,replacements,run,actor,at\n"
    );
    let mut bytes = std::fs::read(d.join("s.between")).unwrap();
    bytes.extend(std::fs::read(d.join("s.between-wal")).unwrap_or_default());
    assert!(
        !bytes.windows(6).any(|w| w == b"Samuel"),
        "no original term left in the file"
    );
    let conn = rusqlite::Connection::open(d.join("s.between")).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn bad_mappings_are_refused_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init", "s.between", "--no-theory"]);
    std::fs::write(d.join("c2.txt"), TRANSCRIPT).unwrap();
    ok(d, &["import", "s.between", "c2.txt"]);
    let s = "s.between";
    fails(
        d,
        &["deidentify", s, "--map", "=[A]", "--preview"],
        1,
        "empty term",
    );
    fails(
        d,
        &["deidentify", s, "--map", "Ruiz", "--preview"],
        1,
        "is not TERM=PSEUDONYM",
    );
    fails(
        d,
        &["deidentify", s, "--map", "Ruiz=", "--apply"],
        1,
        "empty pseudonym",
    );
    fails(
        d,
        &[
            "deidentify",
            s,
            "--map",
            "Ruiz=[A]",
            "--map",
            "Ruiz=[B]",
            "--apply",
        ],
        1,
        "mapped twice",
    );
    fails(
        d,
        &[
            "deidentify",
            s,
            "--map",
            "Ruiz=[A]",
            "--map",
            "Samuel=Ruiz Jr",
            "--apply",
        ],
        1,
        "contains the term 'Ruiz'",
    );
    fails(
        d,
        &["deidentify", s, "--map", "Nobody=[N]", "--apply"],
        1,
        "none of the mapping's terms occurs",
    );
    std::fs::write(d.join("bad.csv"), "Ruiz,[A]\nSamuel\n").unwrap();
    fails(
        d,
        &["deidentify", s, "--mapping", "bad.csv", "--preview"],
        1,
        "bad.csv line 2: expected two columns",
    );
    std::fs::write(d.join("twice.csv"), "Ruiz,[A]\nRuiz,[B]\n").unwrap();
    fails(
        d,
        &["deidentify", s, "--mapping", "twice.csv", "--preview"],
        1,
        "line 2: the term 'Ruiz' is mapped twice",
    );
    // Usage: an action is needed, and a mapping for preview and apply.
    fails(d, &["deidentify", s], 2, "--suggest");
    fails(d, &["deidentify", s, "--apply"], 2, "--map");
    fails(
        d,
        &["deidentify", s, "--suggest", "--apply", "--map", "A=B"],
        2,
        "cannot be used with",
    );
    // Nothing was changed by any of it.
    let shown = ok(d, &["source", "show", s, "c2.txt"]);
    assert!(shown.contains("Samuel came from Mercer Street"), "{shown}");
}

/// Terms come from transcripts, and the exported mapping is the file a researcher opens in a
/// spreadsheet: a term that reads as a formula is neutralised there, as in every CSV we write.
#[test]
fn an_exported_mapping_neutralises_terms_that_read_as_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init", "s.between", "--no-theory"]);
    std::fs::write(
        d.join("c.txt"),
        "INTERVIEWER: Your number?\n\nPATIENT: It is +44 7700 900123, call me.\n",
    )
    .unwrap();
    ok(d, &["import", "s.between", "c.txt"]);
    std::fs::write(d.join("names.csv"), "+44 7700 900123,[Phone]\n").unwrap();
    ok(
        d,
        &[
            "deidentify",
            "s.between",
            "--mapping",
            "names.csv",
            "--apply",
        ],
    );
    ok(
        d,
        &["deidentify", "s.between", "--export-mapping", "key.csv"],
    );
    let key = std::fs::read_to_string(d.join("key.csv")).unwrap();
    assert!(key.contains("\n'+44 7700 900123,[Phone],1,1,"), "{key}");
}
