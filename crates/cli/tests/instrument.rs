//! `between instrument …` end to end: the built-ins listed, shown and exported, files
//! validated, and a team's own wording added from a CSV table.

#![allow(clippy::unwrap_used)] // a failing test step should stop the test

mod common;

use common::{between, ok};

const PILOT: &str = "unvalidated, for piloting";
const HEALING: [&str; 2] = [
    "healing-relationship-patient",
    "healing-relationship-clinician",
];

#[test]
fn list_shows_every_built_in_with_who_responds_its_items_and_status() {
    let d = tempfile::tempdir().unwrap();
    let out = ok(d.path(), &["instrument", "list"]);
    let row = |id: &str| {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("no row for {id}: {out}"))
            .to_string()
    };
    let wai: Vec<String> = row("wai-sr").split_whitespace().map(String::from).collect();
    assert_eq!(&wai[1..4], ["2006.1", "patient", "12"]);
    let maas: Vec<String> = row("maas").split_whitespace().map(String::from).collect();
    assert_eq!(maas[3], "15");
    for id in HEALING {
        assert!(row(id).contains(PILOT), "{out}");
    }
}

#[test]
fn show_gives_subscales_scale_scoring_rule_links_citation_and_licence() {
    let d = tempfile::tempdir().unwrap();
    let out = ok(d.path(), &["instrument", "show", "wai-sr"]);
    assert!(
        out.contains("Agreement on goals [goal]: items 4, 6, 8, 11 → therapeutic-alliance/goals"),
        "{out}"
    );
    assert!(out.contains("scale: 1 to 5 (1 = Seldom"), "{out}");
    assert!(out.contains("scoring: Each subscale"), "{out}");
    assert!(out.contains("citation: Hatcher RL, Gillaspy JA."), "{out}");
    assert!(out.contains("licence: "), "{out}");
    for id in HEALING {
        let out = ok(d.path(), &["instrument", "show", id]);
        assert!(out.lines().next().unwrap().contains(PILOT), "{out}");
        assert!(out.contains("(reverse-keyed)"), "{out}");
    }
}

#[test]
fn export_round_trips_through_validate_in_both_formats_and_keeps_the_pilot_label() {
    let d = tempfile::tempdir().unwrap();
    for (format, file) in [("toml", "hr.toml"), ("json", "hr.json")] {
        let text = ok(
            d.path(),
            &[
                "instrument",
                "export",
                "healing-relationship-patient",
                "--format",
                format,
            ],
        );
        assert!(text.contains(PILOT), "{text}");
        std::fs::write(d.path().join(file), &text).unwrap();
        let out = ok(d.path(), &["instrument", "validate", file]);
        assert_eq!(out.trim(), format!("{file}: ok (16 items in 4 subscales)"));
        // a file is shown like a built-in
        let shown = ok(d.path(), &["instrument", "show", file]);
        assert!(shown.contains(PILOT), "{shown}");
    }
}

#[test]
fn validate_names_the_file_and_every_problem() {
    let d = tempfile::tempdir().unwrap();
    let text = ok(d.path(), &["instrument", "export", "maas"])
        .replace("max = 6", "max = 1")
        .replace(
            "subscale = \"mindful-attention\"\n\n[[item]]\nid = \"2\"",
            "subscale = \"mindful-attention\"\n\n[[item]]\nid = \"1\"",
        );
    std::fs::write(d.path().join("bad.toml"), text).unwrap();
    let run = between(d.path(), &["instrument", "validate", "bad.toml"])
        .fails_with("bad.toml: scale: min (1) must be less than max (1)");
    assert!(
        run.stderr().contains("bad.toml: item id '1' is used twice"),
        "{}",
        run.stderr()
    );
    between(d.path(), &["instrument", "show", "no-such"])
        .fails_with("no instrument named 'no-such'");
}

#[test]
fn import_items_writes_a_complete_instrument_with_the_teams_wording() {
    let d = tempfile::tempdir().unwrap();
    let mut csv = String::from("item,text\n");
    for n in 1..=12 {
        csv.push_str(&format!("{n},\"Our wording, item {n}\"\n"));
    }
    std::fs::write(d.path().join("words.csv"), csv).unwrap();
    ok(
        d.path(),
        &[
            "instrument",
            "import-items",
            "--instrument",
            "wai-sr",
            "--items",
            "words.csv",
            "--out",
            "wai.toml",
        ],
    );
    let shown = ok(d.path(), &["instrument", "show", "wai.toml"]);
    assert!(shown.contains("  7 [bond] Our wording, item 7"), "{shown}");
    assert!(!shown.contains("wording not included;"), "{shown}");
}

#[test]
fn import_items_refuses_unknown_missing_and_repeated_items_with_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("words.csv"),
        "item,text\n1,one\n1,again\n13,extra\n",
    )
    .unwrap();
    let args = [
        "instrument",
        "import-items",
        "--instrument",
        "wai-sr",
        "--items",
        "words.csv",
        "--out",
        "wai.toml",
    ];
    let run =
        between(d.path(), &args).fails_with("words.csv: line 3: item '1' again (first on line 2)");
    let err = run.stderr();
    assert!(
        err.contains("words.csv: line 4: item '13' is not an item of wai-sr"),
        "{err}"
    );
    assert!(err.contains("words.csv: item '12' has no row"), "{err}");
    assert!(!d.path().join("wai.toml").exists());
    std::fs::write(d.path().join("words.csv"), "number,wording\n1,one\n").unwrap();
    between(d.path(), &args)
        .fails_with("words.csv: line 1: the table needs the columns item and text");
}
