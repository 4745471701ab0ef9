//! `between attribute` end to end on temporary study files: on the sample study (its
//! attributions listed, a passage attributed by quote and removed, a CSV table, suggestions
//! confirmed by key) and on a small study (offsets, bad input refused clearly).

#![allow(clippy::unwrap_used)] // a failing test step should stop the test

mod common;

use std::path::Path;

use common::{fails, json, ok, write};

/// The attributions of `study` as (source, about, quote), and their ids.
fn listed(dir: &Path, study: &str) -> Vec<(String, String, String, String)> {
    let out = json(&ok(dir, &["attribute", study, "list", "--format", "json"]));
    out.as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["source"].as_str().unwrap().to_string(),
                v["about"].as_str().unwrap().to_string(),
                v["quote"].as_str().unwrap().to_string(),
                v["attribution"]["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_sample_studys_passages_are_listed_added_imported_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["demo", "--no-serve", "--out", "s.between"]);
    let before = listed(d, "s.between");
    let george = before
        .iter()
        .filter(|(source, _, quote, _)| {
            source == "c1-osei.txt" && quote.contains("George calls me the Boss")
        })
        .map(|(_, about, _, _)| about.as_str())
        .collect::<Vec<_>>();
    assert_eq!(george, ["P01"]);
    let only_c2 = listed_text(d, &["--source", "c2-ruiz.txt"]);
    assert!(
        only_c2.lines().all(|l| l.contains(" c2-ruiz.txt ")),
        "{only_c2}"
    );
    assert!(only_c2.contains("about P05"), "{only_c2}");

    // A general stretch of Dr Osei's, about two patients at once.
    let added = ok(
        d,
        &[
            "attribute",
            "s.between",
            "add",
            "--source",
            "c1-osei.txt",
            "--quote",
            "I listen first.",
            "--about",
            "P01,c1-p02",
        ],
    );
    assert!(added.contains("attributed 2 passage(s)"), "{added}");
    assert!(added.contains("about C1-P02"), "{added}");
    let after = listed(d, "s.between");
    assert_eq!(after.len(), before.len() + 2);
    let new: Vec<&(String, String, String, String)> =
        after.iter().filter(|a| a.2 == "I listen first.").collect();
    assert_eq!(new.len(), 2);
    let removed = ok(d, &["attribute", "s.between", "remove", &new[0].3]);
    assert!(removed.contains(&new[0].3), "{removed}");
    assert_eq!(listed(d, "s.between").len(), before.len() + 1);
    fails(
        d,
        &["attribute", "s.between", "remove", &new[0].3],
        1,
        "no attribution",
    );

    // A table: all its rows, or (one bad row) none.
    write(
        d,
        "good.csv",
        "source,about,quote\nc3-marsh.txt,P08,I put the pen down.\nc2-ruiz.txt,\"P05;P07\",I just kept showing up.\n"
            .as_bytes(),
    );
    let imported = ok(d, &["attribute", "s.between", "import", "good.csv"]);
    assert!(imported.contains("attributed 3 passage(s)"), "{imported}");
    write(
        d,
        "bad.csv",
        "source,about,start,end\nc3-marsh.txt,P08,0,10\nc3-marsh.txt,P42,0,10\n".as_bytes(),
    );
    fails(
        d,
        &["attribute", "s.between", "import", "bad.csv"],
        1,
        "row 3, column about: no participant or dyad 'P42'",
    );
    assert_eq!(listed(d, "s.between").len(), before.len() + 4);
}

fn listed_text(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec!["attribute", "s.between", "list"];
    args.extend_from_slice(extra);
    ok(dir, &args)
}

/// `attribute t.between add --source c1.txt` and `rest` (words without spaces).
fn add(rest: &str) -> Vec<&str> {
    let mut args = vec!["attribute", "t.between", "add", "--source", "c1.txt"];
    args.extend(rest.split(' '));
    args
}

const C1: &str = "INTERVIEWER: Who did you choose?\n\nDR OSEI: George calls me the Boss.\n\nDR OSEI: Trouble, I call him. The Boss and Trouble.\n\nDR OSEI: Most of my week is paperwork.\n";

#[test]
fn suggestions_are_shown_with_their_word_and_confirmed_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["init", "t.between", "--no-theory"]);
    for (label, role, name) in [
        ("C1", "clinician", "Dr Amara Osei"),
        ("P01", "patient", "Mr George Whitfield"),
    ] {
        ok(
            d,
            &[
                "participant",
                "add",
                "t.between",
                label,
                "--role",
                role,
                "--name",
                name,
            ],
        );
    }
    ok(d, &["dyad", "add", "t.between", "C1", "P01"]);
    write(d, "c1.txt", C1.as_bytes());
    ok(
        d,
        &[
            "import",
            "t.between",
            "c1.txt",
            "--participant",
            "C1",
            "--speaker",
            "DR OSEI=C1",
        ],
    );
    let suggested = ok(
        d,
        &[
            "attribute",
            "t.between",
            "suggest",
            "--alias",
            "Trouble=P01",
        ],
    );
    assert!(
        suggested.contains("'George' is their name (P01)"),
        "{suggested}"
    );
    assert!(
        suggested.contains("'Trouble' is an alias given for them (P01)"),
        "{suggested}"
    );
    assert!(suggested.contains("2 suggestion(s)"), "{suggested}");
    assert!(
        listed(d, "t.between").is_empty(),
        "suggesting stores nothing"
    );
    let found = json(&ok(
        d,
        &["attribute", "t.between", "suggest", "--format", "json"],
    ));
    let key = found[0]["key"].as_str().unwrap().to_string();
    assert_eq!(found[0]["matched"], "George");
    assert!(
        suggested.contains(&key),
        "the text shows the key: {suggested}"
    );
    let confirmed = ok(d, &["attribute", "t.between", "confirm", &key]);
    assert!(confirmed.contains("attributed 1 passage(s)"), "{confirmed}");
    let now = listed(d, "t.between");
    assert_eq!(
        (now[0].1.as_str(), now[0].2.as_str()),
        ("P01", "George calls me the Boss.")
    );
    let again = ok(d, &["attribute", "t.between", "suggest"]);
    assert!(again.contains("0 suggestion(s)"), "{again}");
    fails(
        d,
        &["attribute", "t.between", "confirm", &key],
        1,
        "already attributed to P01",
    );
    fails(
        d,
        &["attribute", "t.between", "suggest", "--alias", "Trouble"],
        1,
        "give WORDS=LABEL",
    );

    // By offsets, and the refusals.
    ok(d, &add("--start 0 --end 11 --about C1-P01"));
    for (args, says) in [
        ("--quote Boss --about P01", "occurs 2 times (at characters"),
        ("--quote paperwork --about C1", "C1's own account"),
        ("--start 0 --end 9999 --about P01", "c1.txt"),
    ] {
        fails(d, &add(args), 1, says);
    }
    fails(
        d,
        &["attribute", "t.between", "remove", "not-an-id"],
        1,
        "not an attribution id",
    );
    assert_eq!(listed(d, "t.between").len(), 2);
}
