//! `between scale …` on the shared psychometrics vectors, written as plain CSV files, and its
//! errors on bad input.

#![allow(clippy::unwrap_used)] // a failing test step should stop the test

mod common;

use std::path::Path;

use common::{fails, json, ok, write};
use serde_json::Value;

fn cases() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/psychometrics-vectors/public.json"
    );
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    file["cases"].as_array().unwrap().clone()
}

/// The case's data as a plain CSV (header q1…qk; a null becomes an empty cell).
fn csv(dir: &Path, case: &Value) -> String {
    let rows = case["data"].as_array().unwrap();
    let k = rows[0].as_array().unwrap().len();
    let mut text = (1..=k)
        .map(|i| format!("q{i}"))
        .collect::<Vec<_>>()
        .join(",")
        + "\n";
    for row in rows {
        let cells: Vec<String> = row
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().map(|v| v.to_string()).unwrap_or_default())
            .collect();
        text += &(cells.join(",") + "\n");
    }
    let name = format!("{}.csv", case["id"].as_str().unwrap());
    write(dir, &name, text.as_bytes());
    name
}

fn close(id: &str, got: &Value, want: &Value, tolerance: f64) {
    let (g, w) = (got.as_f64().unwrap(), want.as_f64().unwrap());
    assert!((g - w).abs() <= tolerance, "{id}: {g} vs {w}");
}

fn of_kind(kind: &str) -> Vec<Value> {
    let found: Vec<Value> = cases().into_iter().filter(|c| c["kind"] == kind).collect();
    assert!(!found.is_empty(), "no {kind} case");
    found
}

#[test]
fn alpha_json_matches_the_vectors() {
    let dir = tempfile::tempdir().unwrap();
    for case in of_kind("cronbach_alpha") {
        let id = case["id"].as_str().unwrap();
        let file = csv(dir.path(), &case);
        let got = json(&ok(
            dir.path(),
            &["scale", "alpha", "--data", &file, "--format", "json"],
        ));
        let want = &case["expected"];
        let tol = case["tolerance"].as_f64().unwrap();
        close(id, &got["alpha"], &want["alpha"], tol);
        for i in 0..2 {
            close(
                id,
                &got["ci95"][i],
                &want["ci95"][i],
                case["ci_tolerance"].as_f64().unwrap(),
            );
        }
        assert_eq!(got["n_complete"], want["n_complete"], "{id}");
        let (got_items, want_items) = (
            got["items"].as_array().unwrap(),
            want["items"].as_array().unwrap(),
        );
        assert_eq!(got_items.len(), want_items.len(), "{id}");
        for (g, w) in got_items.iter().zip(want_items) {
            assert_eq!(g["item"], w["item"], "{id}");
            close(
                id,
                &g["corrected_item_total"],
                &w["corrected_item_total"],
                tol,
            );
            if w["alpha_if_deleted"].is_null() {
                assert!(g["alpha_if_deleted"].is_null(), "{id}");
            } else {
                close(id, &g["alpha_if_deleted"], &w["alpha_if_deleted"], tol);
            }
        }
    }
}

#[test]
fn icc_json_matches_the_vectors() {
    let dir = tempfile::tempdir().unwrap();
    for case in of_kind("icc") {
        let id = case["id"].as_str().unwrap();
        let file = csv(dir.path(), &case);
        let got = json(&ok(
            dir.path(),
            &["scale", "icc", "--data", &file, "--format", "json"],
        ));
        let want = case["expected"].as_object().unwrap();
        assert_eq!(
            got.as_object().unwrap().len(),
            want.len(),
            "{id}: exactly the six ICCs"
        );
        for (name, w) in want {
            close(id, &got[name], w, case["tolerance"].as_f64().unwrap());
        }
    }
}

#[test]
fn rci_json_matches_the_vectors() {
    let dir = tempfile::tempdir().unwrap();
    for case in of_kind("rci") {
        let id = case["id"].as_str().unwrap();
        let arg = |k: &str| case[k].as_f64().unwrap().to_string();
        let got = json(&ok(
            dir.path(),
            &[
                "scale",
                "rci",
                "--pre",
                &arg("pre"),
                "--post",
                &arg("post"),
                "--sd-pre",
                &arg("sd_pre"),
                "--reliability",
                &arg("reliability"),
                "--format",
                "json",
            ],
        ));
        let want = &case["expected"];
        close(
            id,
            &got["rci"],
            &want["rci"],
            case["tolerance"].as_f64().unwrap(),
        );
        assert_eq!(got["reliable"], want["reliable"], "{id}");
        assert_eq!(got["direction"], want["direction"], "{id}");
    }
}

#[test]
fn score_json_matches_the_vectors() {
    let dir = tempfile::tempdir().unwrap();
    for case in of_kind("reverse_score") {
        let id = case["id"].as_str().unwrap();
        let file = csv(dir.path(), &case);
        let reverse: Vec<String> = case["reverse_items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.to_string())
            .collect();
        let (min, max) = (case["scale"][0].to_string(), case["scale"][1].to_string());
        let got = json(&ok(
            dir.path(),
            &[
                "scale",
                "score",
                "--data",
                &file,
                "--min",
                &min,
                "--max",
                &max,
                "--reverse",
                &reverse.join(","),
                "--format",
                "json",
            ],
        ));
        for key in ["totals", "means"] {
            let (g, w) = (
                got[key].as_array().unwrap(),
                case["expected"][key].as_array().unwrap(),
            );
            assert_eq!(g.len(), w.len(), "{id}");
            for (g, w) in g.iter().zip(w) {
                close(id, g, w, case["tolerance"].as_f64().unwrap());
            }
        }
    }
}

#[test]
fn ruptures_follow_the_rule_and_state_it() {
    let dir = tempfile::tempdir().unwrap();
    let got = json(&ok(
        dir.path(),
        &[
            "scale",
            "ruptures",
            "--series",
            "40,42,35,38,42",
            "--threshold",
            "3",
            "--format",
            "json",
        ],
    ));
    let r = &got["ruptures"][0];
    assert_eq!(
        (
            r["before"].clone(),
            r["after"].clone(),
            r["repaired_at"].clone()
        ),
        (1.into(), 2.into(), 4.into())
    );
    assert_eq!(got["ruptures"].as_array().unwrap().len(), 1);
    assert!(
        got["rule"]
            .as_str()
            .unwrap()
            .contains("more than 3.000 points")
    );
}

#[test]
fn bad_input_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bad.csv", b"q1,q2\n1,2\n3,three\n");
    fails(
        dir.path(),
        &["scale", "alpha", "--data", "bad.csv"],
        1,
        "bad.csv, line 3: column 'q2': 'three' is not a number",
    );
    write(dir.path(), "ragged.csv", b"q1,q2\n1,2\n3\n");
    fails(
        dir.path(),
        &["scale", "icc", "--data", "ragged.csv"],
        1,
        "ragged.csv, line 3",
    );
    write(dir.path(), "one.csv", b"q1\n1\n2\n");
    fails(
        dir.path(),
        &["scale", "alpha", "--data", "one.csv"],
        1,
        "needs at least 2 columns",
    );
    write(dir.path(), "range.csv", b"q1,q2\n1,9\n");
    fails(
        dir.path(),
        &[
            "scale",
            "score",
            "--data",
            "range.csv",
            "--min",
            "1",
            "--max",
            "5",
        ],
        1,
        "row 1, column 2: 9 is outside the scale [1, 5]",
    );
    fails(
        dir.path(),
        &[
            "scale",
            "rci",
            "--pre",
            "1",
            "--post",
            "2",
            "--sd-pre",
            "3",
            "--reliability",
            "1",
        ],
        1,
        "the reliability must be at least 0 and below 1",
    );
}

/// A study's answers to an instrument give the figures `scale alpha` gives on the same answers
/// as a plain CSV: the sample's WAI-SR responses (no reverse-keyed items) with their first four
/// columns (participant, dyad, date, session) dropped.
#[test]
fn a_studys_instrument_gives_the_figures_of_its_answers_as_a_plain_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["demo", "--no-serve", "--out", "s.between"]);
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../sample/study/measures/wai-sr.csv"
    ))
    .unwrap();
    let items: String = sample
        .lines()
        .map(|l| l.splitn(5, ',').nth(4).unwrap().to_string() + "\n")
        .collect();
    write(d, "items.csv", items.as_bytes());
    let of_study = json(&ok(
        d,
        &[
            "scale",
            "s.between",
            "--instrument",
            "wai-sr",
            "--format",
            "json",
        ],
    ));
    let of_table = json(&ok(
        d,
        &[
            "scale",
            "alpha",
            "--data",
            "items.csv",
            "--min",
            "1",
            "--max",
            "5",
            "--format",
            "json",
        ],
    ));
    assert_eq!(of_study["n_complete"], 12);
    assert_eq!(of_study, of_table);
    fails(
        d,
        &["scale", "s.between", "--instrument", "no-such-scale"],
        1,
        "no-such-scale",
    );
    fails(d, &["scale"], 1, "--instrument");
}
