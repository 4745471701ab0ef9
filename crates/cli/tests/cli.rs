//! The command line end to end: the README's tour and every bad input the foundation names,
//! on temporary study files.

#![allow(clippy::unwrap_used)] // a failing test step should stop the test

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{between, between_with_input, generated_corpus, json, write};

const CLINICIAN: &str = "INTERVIEWER: Tell me about Zoë.\n\nDr Lee: I’ve known Zoë for twenty years — since her first baby 🙂. I never rush her.\n";
const PATIENT: &str = "INTERVIEWER: How is Dr Lee?\n\nP3: She never rushes me. I trust her. I trust her with my life.\n\nP3: The doctor at the hospital never looked up from the screen.\n";

/// A study with two participants, a dyad and two interviews.
fn study(dir: &Path) -> &'static str {
    between(dir, &["init", "s.between", "--name", "Tour"]).ok();
    between(
        dir,
        &[
            "participant",
            "add",
            "s.between",
            "C1",
            "--role",
            "clinician",
            "--name",
            "Dr Lee",
            "--attr",
            "age=51",
            "--attr",
            "discipline=family medicine",
        ],
    )
    .ok();
    between(
        dir,
        &[
            "participant",
            "add",
            "s.between",
            "P3",
            "--role",
            "patient",
            "--attr",
            "sex=female",
        ],
    )
    .ok();
    between(
        dir,
        &["dyad", "add", "s.between", "C1", "P3", "--since", "2005"],
    )
    .ok();
    write(dir, "lee.txt", CLINICIAN.as_bytes());
    write(dir, "p3.txt", PATIENT.as_bytes());
    between(
        dir,
        &[
            "import",
            "s.between",
            "lee.txt",
            "--participant",
            "C1",
            "--interviewer",
            "Paul",
            "--date",
            "2025-03-12",
            "--consent",
        ],
    )
    .ok();
    between(
        dir,
        &[
            "import",
            "s.between",
            "p3.txt",
            "--participant",
            "P3",
            "--dyad",
            "C1-P3",
            "--others-present",
            "spouse",
            "--guide-version",
            "v2",
        ],
    )
    .ok();
    "s.between"
}

#[test]
fn the_tour() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = study(d);

    let people = json(&between(d, &["participant", "list", s, "--format", "json"]).ok());
    assert_eq!(people[0]["attributes"]["discipline"], "family medicine");
    assert!(
        between(d, &["dyad", "list", s])
            .ok()
            .stdout()
            .contains("C1-P3")
    );
    let sources = between(d, &["source", "list", s]).ok().stdout();
    assert!(
        sources.contains("lee.txt") && sources.contains("p3.txt"),
        "{sources}"
    );
    let shown = between(d, &["source", "show", s, "p3.txt"]).ok().stdout();
    assert!(shown.contains("P3: She never rushes me."), "{shown}");

    let book = between(d, &["codebook", "list", s]).ok().stdout();
    assert!(book.contains("    Empathy (0)"), "{book}");
    between(
        d,
        &[
            "codebook",
            "add",
            s,
            "Humour",
            "--parent",
            "connecting",
            "--definition",
            "shared jokes",
        ],
    )
    .ok();
    between(d, &["codebook", "rename", s, "Humour", "Shared humour"]).ok();
    between(d, &["codebook", "move", s, "Shared humour", "--root"]).ok();

    let coded = between(
        d,
        &[
            "code",
            s,
            "p3.txt",
            "Trust",
            "--quote",
            "I trust her with my life",
            "--memo",
            "strong",
        ],
    )
    .ok();
    assert!(
        coded.stdout().contains("as Trust by maria"),
        "{}",
        coded.stdout()
    );
    between(
        d,
        &[
            "code",
            s,
            "lee.txt",
            "Valuing/Presence/Full attention in the encounter",
            "--quote",
            "I never rush her",
        ],
    )
    .ok();
    between(
        d,
        &[
            "--as",
            "sam",
            "code",
            s,
            "p3.txt",
            "full-attention",
            "--start",
            "33",
            "--end",
            "53",
        ],
    )
    .ok();
    between(
        d,
        &[
            "code",
            s,
            "p3.txt",
            "full-attention",
            "--quote",
            "never looked up from the screen",
            "--contrast",
        ],
    )
    .ok();
    between(d, &["code", s, "lee.txt", "Shared humour", "--quote", "🙂"]).ok();
    between(d, &["codebook", "merge", s, "Shared humour", "Connecting"]).ok();

    let listed = json(
        &between(
            d,
            &[
                "codings", "list", s, "--source", "p3.txt", "--format", "json",
            ],
        )
        .ok(),
    );
    let quotes: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["quote"].as_str().unwrap())
        .collect();
    assert_eq!(
        quotes,
        [
            "She never rushes me.",
            "I trust her with my life",
            "never looked up from the screen"
        ]
    );
    assert_eq!(listed[0]["coding"]["coder"], "sam");
    assert_eq!(listed[0]["role"], "patient");
    let by_code = between(d, &["codings", "list", s, "--code", "Valuing"])
        .ok()
        .stdout();
    assert_eq!(by_code.lines().count(), 4, "sub-codes included: {by_code}");
    assert!(
        by_code.contains("“🙂”"),
        "the merged humour coding is now Connecting: {by_code}"
    );

    between(
        d,
        &[
            "memo",
            "add",
            s,
            "--on",
            "dyad:C1-P3",
            "--title",
            "Two accounts",
            "--text",
            "Both speak of time.",
        ],
    )
    .ok();
    between(
        d,
        &[
            "memo",
            "add",
            s,
            "--text",
            "A study memo",
            "--author",
            "sam",
        ],
    )
    .ok();
    let memos = between(d, &["memo", "list", s, "--on", "dyad:C1-P3"])
        .ok()
        .stdout();
    assert!(
        memos.contains("Two accounts · dyad C1-P3 · maria"),
        "{memos}"
    );

    between(
        d,
        &[
            "case",
            "write",
            s,
            "dyad:C1-P3",
            "--text",
            "Twenty years of not rushing.",
        ],
    )
    .ok();
    between(
        d,
        &[
            "case",
            "write",
            s,
            "dyad:C1-P3",
            "--text",
            "blind overwrite",
        ],
    )
    .fails_with("changed by someone else");
    between(
        d,
        &[
            "case",
            "write",
            s,
            "dyad:C1-P3",
            "--text",
            "Revised.",
            "--version",
            "1",
        ],
    )
    .ok();
    assert!(
        between(d, &["case", "show", s, "dyad:C1-P3"])
            .ok()
            .stdout()
            .contains("version 2")
    );

    let out = d.join("codings.csv");
    between(
        d,
        &[
            "export",
            "codings",
            s,
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .ok();
    let mut rows = csv::Reader::from_path(&out).unwrap();
    let header = rows.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let trust = rows.iter().find(|r| &r[col("code")] == "Trust").unwrap();
    assert_eq!(&trust[col("quote")], "I trust her with my life");
    assert_eq!(
        (
            &trust[col("participant")],
            &trust[col("dyad")],
            &trust[col("role")]
        ),
        ("P3", "C1-P3", "patient")
    );
    assert_eq!(
        (&trust[col("coder")], &trust[col("memo")]),
        ("maria", "strong")
    );
    let contrast = rows.iter().find(|r| &r[col("contrast")] == "true").unwrap();
    assert_eq!(&contrast[col("quote")], "never looked up from the screen");

    let stats = json(&between(d, &["stats", s, "--format", "json"]).ok());
    for key in ["sources", "codings", "codes", "participants", "dyads"] {
        assert!(stats[key].is_u64(), "stats lacks {key}: {stats}");
    }
    assert_eq!(
        (
            stats["sources"].as_u64(),
            stats["codings"].as_u64(),
            stats["contrast"].as_u64(),
            stats["dyads"].as_u64()
        ),
        (Some(2), Some(4), Some(1), Some(1)),
        "contrast codings are counted apart"
    );
    assert_eq!(stats["by_role"]["clinician"]["codings"], 2);
    assert_eq!(
        stats["by_code"]["Valuing/Presence/Full attention in the encounter"]["contrast"],
        1
    );
    assert!(
        between(d, &["stats", s])
            .ok()
            .stdout()
            .contains("1 dyads, 2 sources")
    );
    let audit = between(d, &["audit", s, "--limit", "500"]).ok().stdout();
    assert!(audit.contains("sam") && audit.contains("recode"), "{audit}");
}

#[test]
fn many_transcripts_at_once_and_csv_tables() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    between(d, &["init", "b.between", "--no-theory"]).ok();
    let files: Vec<String> = (1..=5)
        .map(|i| {
            let name = format!("interview_{i:03}.txt");
            write(
                d,
                &name,
                format!("INTERVIEWER: Question {i}?\n\nPATIENT: Answer number {i}, José.\n")
                    .as_bytes(),
            );
            name
        })
        .collect();
    let mut args = vec!["import", "b.between"];
    args.extend(files.iter().map(String::as_str));
    assert!(between(d, &args).ok().stdout().contains("5 source(s)"));
    write(
        d,
        "codebook.csv",
        b"code,parent\nEmotions,\nHope,Emotions\nFear,Emotions\n",
    );
    between(d, &["codebook", "import", "b.between", "codebook.csv"]).ok();
    write(d, "codings.csv", "document,start,end,code,coder\ninterview_002.txt,35,41,Hope,coder1\ninterview_002.txt,42,48,Fear,coder2\n".as_bytes());
    between(
        d,
        &[
            "codings",
            "import",
            "b.between",
            "codings.csv",
            "--only-coder",
            "coder1",
        ],
    )
    .ok();
    let listed = between(d, &["codings", "list", "b.between", "--format", "csv"])
        .ok()
        .stdout();
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(
        listed.contains(",Answer,Emotions/Hope,coder1,false,,PATIENT,patient,"),
        "{listed}"
    );
    write(
        d,
        "bad.csv",
        b"document,start,end,code\ninterview_002.txt,1,2,Hope\ninterview_002.txt,5,2,Hope\n",
    );
    between(d, &["codings", "import", "b.between", "bad.csv"])
        .fails_with("row 2: 'interview_002.txt': the span 5..2 is empty or reversed");
    assert_eq!(
        json(&between(d, &["stats", "b.between", "--format", "json"]))["codings"],
        1,
        "nothing of the bad table was applied"
    );
}

#[test]
fn bad_transcripts_are_named_and_a_failing_batch_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = study(d);
    let before = between(d, &["stats", s, "--format", "json"]).ok().stdout();
    let audit_before = between(d, &["audit", s, "--limit", "1000"]).ok().stdout();

    write(d, "good.txt", b"INTERVIEWER: Hi.\n\nP3: Hello.\n");
    write(d, "latin1.txt", b"INTERVIEWER: Hi.\n\nP3: Caf\xe9.\n");
    write(d, "empty.txt", b"");
    between(d, &["import", s, "good.txt", "latin1.txt"])
        .fails_with("latin1.txt: byte 25: invalid UTF-8 (line 3)");
    between(d, &["import", s, "good.txt", "empty.txt"]).fails_with("empty.txt: the file is empty");
    between(d, &["import", s, "good.txt", "missing.txt"]).fails_with("missing.txt");
    between(d, &["import", s, "p3.txt"]).fails_with("already in the study");
    between(d, &["import", s, "good.txt", "--max-bytes", "5"])
        .fails_with("more than the limit of 5 bytes");

    assert_eq!(
        between(d, &["stats", s, "--format", "json"]).ok().stdout(),
        before
    );
    assert_eq!(
        between(d, &["audit", s, "--limit", "1000"]).ok().stdout(),
        audit_before,
        "nothing at all was written"
    );

    write(
        d,
        "note.txt",
        b"Visited the practice. It was raining.\nThe waiting room was full.\n",
    );
    // An interview without speaker labels: kept whole, with a warning.
    let run = between(d, &["import", s, "note.txt"]).ok();
    assert!(run.stdout().contains("1 turns"), "{}", run.stdout());
    assert!(
        run.stderr()
            .contains("warning: note.txt: no speaker labels were recognised"),
        "{}",
        run.stderr()
    );
    // A field note is prose: one turn, nothing to warn about, even with a colon in a line.
    write(
        d,
        "field.txt",
        b"12 May.\nPractical resolutions: listen more.\n",
    );
    let run = between(d, &["import", s, "field.txt", "--kind", "field-note"]).ok();
    assert!(
        run.stdout().contains("1 turns") && run.stderr().is_empty(),
        "{} {}",
        run.stdout(),
        run.stderr()
    );
}

#[test]
fn bad_codings_are_refused_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = study(d);
    between(
        d,
        &["code", s, "p3.txt", "Trust", "--start", "5", "--end", "5"],
    )
    .fails_with("end must be greater than the start");
    between(
        d,
        &[
            "code", s, "p3.txt", "Trust", "--start", "0", "--end", "9999",
        ],
    )
    .fails_with("outside the text, which has 158 characters");
    between(d, &["code", s, "p3.txt", "Trust", "--quote", "I trust her"])
        .fails_with("occurs 2 times (at characters 54, 67); give --occurrence N");
    between(
        d,
        &[
            "code",
            s,
            "p3.txt",
            "Trust",
            "--quote",
            "I trust her",
            "--occurrence",
            "2",
        ],
    )
    .ok();
    between(d, &["code", s, "p3.txt", "Trust", "--quote", "distrust"]).fails_with("does not occur");
    between(
        d,
        &["code", s, "p3.txt", "Sympathy", "--quote", "She never"],
    )
    .fails_with("no code 'Sympathy' in the codebook");
    between(
        d,
        &["code", s, "nowhere.txt", "Trust", "--quote", "She never"],
    )
    .fails_with("no source 'nowhere.txt'");
    between(d, &["memo", "add", s, "--on", "dyad:C9-P9", "--text", "x"])
        .fails_with("no dyad 'C9-P9'");
    between(d, &["dyad", "add", s, "P3", "C1"]).fails_with("P3 is a patient, not a clinician");
}

#[test]
fn usage_errors_exit_with_2_and_help_is_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(between(d, &["code"]).code(), 2);
    assert_eq!(between(d, &["import", "s.between"]).code(), 2);
    assert_eq!(
        between(
            d,
            &["participant", "add", "s.between", "P1", "--role", "doctor"]
        )
        .code(),
        2
    );
    assert_eq!(between(d, &["frobnicate"]).code(), 2);
    for args in [
        &["--help"][..],
        &["import", "--help"],
        &["code", "--help"],
        &["codebook", "merge", "--help"],
        &["model", "export", "--help"],
    ] {
        let run = between(d, args).ok();
        assert!(
            run.stdout().contains("Usage: between"),
            "{args:?}: {}",
            run.stdout()
        );
    }
    assert!(
        between(d, &["--help"])
            .ok()
            .stdout()
            .contains("Exit codes: 0 success, 1 error, 2 wrong usage")
    );
}

#[test]
fn files_that_are_not_current_studies() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "notes.txt", b"INTERVIEWER: not a study\n");
    between(d, &["stats", "notes.txt"])
        .fails_with("notes.txt: not a between study file (not an SQLite database)");
    between(d, &["stats", "absent.between"]).fails_with("absent.between: no such study file");
    assert!(!d.join("absent.between").exists());
    let other = d.join("other.sqlite");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    between(d, &["stats", "other.sqlite"])
        .fails_with("not a between study file (an SQLite database that another program made)");

    let s = study(d);
    between(d, &["init", s]).fails_with("a file already exists there");
    rusqlite::Connection::open(d.join(s))
        .unwrap()
        .pragma_update(None, "user_version", 42)
        .unwrap();
    between(d, &["stats", s]).fails_with("written by a newer version of between (schema 42");
}

#[test]
fn a_second_writer_waits_then_reports_busy_and_nothing_is_corrupted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = study(d);
    // Another process holds the study's write lock.
    let holder = rusqlite::Connection::open(d.join(s)).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    between(
        d,
        &[
            "--busy-timeout-ms",
            "300",
            "code",
            s,
            "p3.txt",
            "Trust",
            "--quote",
            "I trust her with my life",
        ],
    )
    .fails_with("the study is busy: another process has been writing to it for more than 300 ms");
    holder.execute_batch("COMMIT").unwrap();
    drop(holder);
    between(
        d,
        &[
            "code",
            s,
            "p3.txt",
            "Trust",
            "--quote",
            "I trust her with my life",
        ],
    )
    .ok();

    // Two real processes importing at once: each succeeds or says busy, and the file stays whole.
    for i in 0..40 {
        write(
            d,
            &format!("a{i}.txt"),
            format!("INTERVIEWER: q{i}\n\nP3: answer {i}\n")
                .repeat(50)
                .as_bytes(),
        );
        write(
            d,
            &format!("b{i}.txt"),
            format!("INTERVIEWER: q{i}\n\nC1: answer {i}\n")
                .repeat(50)
                .as_bytes(),
        );
    }
    let spawn = |prefix: &str| {
        let mut args = vec![
            "--busy-timeout-ms".to_string(),
            "20000".into(),
            "import".into(),
            s.into(),
        ];
        args.extend((0..40).map(|i| format!("{prefix}{i}.txt")));
        Command::new(env!("CARGO_BIN_EXE_between"))
            .args(&args)
            .current_dir(d)
            .output()
            .unwrap()
    };
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| spawn("a"));
        let b = scope.spawn(|| spawn("b"));
        (a.join().unwrap(), b.join().unwrap())
    });
    let imported = [&a, &b].iter().filter(|o| o.status.success()).count();
    for o in [&a, &b] {
        assert!(
            o.status.success() || String::from_utf8_lossy(&o.stderr).contains("busy"),
            "{o:?}"
        );
    }
    let stats = json(&between(d, &["stats", s, "--format", "json"]).ok());
    assert_eq!(
        stats["sources"].as_u64(),
        Some(2 + 40 * imported as u64),
        "whole batches only"
    );
    let conn = rusqlite::Connection::open(d.join(s)).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn theories_are_listed_shown_exported_and_loaded_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let list = between(d, &["model", "list"]).ok().stdout();
    for id in [
        "healing-relationship-model",
        "therapeutic-alliance",
        "interpersonal-dynamics",
    ] {
        assert!(list.contains(id), "{list}");
    }
    assert!(list.contains("(configurable default)"));
    let shown = between(d, &["model", "show", "healing-relationship-model"])
        .ok()
        .stdout();
    assert!(
        shown.contains("Valuing + Abiding") || shown.contains("valuing + abiding —leads-to→ trust"),
        "{shown}"
    );
    let toml = between(
        d,
        &[
            "model",
            "export",
            "healing-relationship-model",
            "--format",
            "toml",
        ],
    )
    .ok()
    .stdout();
    let json_text = between(
        d,
        &[
            "model",
            "export",
            "therapeutic-alliance",
            "--format",
            "json",
        ],
    )
    .ok()
    .stdout();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&json_text).unwrap()["id"],
        "therapeutic-alliance"
    );

    // A team's revised model: one more sub-dimension, loaded from a path into a new study.
    let revised = toml.replacen(
        "id = \"healing-relationship-model\"",
        "id = \"our-model\"",
        1,
    ) + "\n[[component]]\nid = \"humour\"\nname = \"Humour\"\nkind = \"dimension\"\ndefinition = \"Shared jokes.\"\n";
    write(d, "ours.toml", revised.as_bytes());
    assert!(
        between(d, &["model", "show", "ours.toml"])
            .ok()
            .stdout()
            .contains("Humour [humour]")
    );
    between(d, &["init", "r.between", "--theory", "ours.toml"]).ok();
    let book = between(d, &["codebook", "list", "r.between"]).ok().stdout();
    assert!(
        book.contains("Humour (0)") && book.contains("[humour]"),
        "{book}"
    );
    write(d, "broken.toml", b"id = \"x\"\nname = \"X\"\nversion = \"1\"\n[[component]]\nid = \"a\"\nname = \"A\"\nkind = \"mood\"\n");
    between(d, &["init", "x.between", "--theory", "broken.toml"])
        .fails_with("broken.toml: not a valid theory file");
    assert!(!d.join("x.between").exists());
    between(d, &["model", "show", "no-such"]).fails_with("no theory named 'no-such'");
}

#[test]
fn demo_writes_the_sample_once_then_reuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let first = between(d, &["demo", "--no-serve"]).ok().stdout();
    assert!(
        first.contains("wrote the FICTIONAL sample study to between-demo.between"),
        "{first}"
    );
    assert!(first.contains("13 participants, 10 dyads"), "{first}");
    let second = between(d, &["demo", "--no-serve"]).ok().stdout();
    assert!(second.contains("reusing the sample study"), "{second}");
    let stats = json(&between(d, &["stats", "between-demo.between", "--format", "json"]).ok());
    assert_eq!(
        stats["codings"],
        json(&between(
            d,
            &["stats", "between-demo.between", "--format", "json"]
        ))["codings"]
    );
    assert!(stats["codings"].as_u64().unwrap() > 300);
    write(d, "taken.between", b"my thesis draft");
    between(d, &["demo", "--out", "taken.between", "--no-serve"])
        .fails_with("is not a study this demo can reuse");
    assert_eq!(
        std::fs::read(d.join("taken.between")).unwrap(),
        b"my thesis draft",
        "never overwritten"
    );
}

#[test]
fn bench_runs_on_a_generated_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = generated_corpus(dir.path(), 4, 600, 7);
    let run = between(
        dir.path(),
        &[
            "bench",
            "--corpus",
            corpus.to_str().unwrap(),
            "--repeat",
            "3",
            "--refi",
            "--format",
            "json",
        ],
    )
    .ok();
    let measures = json(&run);
    assert_eq!(measures.as_array().unwrap().len(), 7);
    assert_eq!(
        measures[1]["target"], "<= 1 s (1 s per 100 transcripts)",
        "{measures}"
    );
    let import = &measures[5];
    assert!(
        import["name"]
            .as_str()
            .unwrap()
            .starts_with("REFI-QDA import into a new study"),
        "{import}"
    );
    assert!(
        measures
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["value"].as_f64().unwrap() > 0.0)
    );
}

#[test]
fn accounts_and_blind_mode_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = study(d);
    between_with_input(
        d,
        &["user", "add", s, "paul", "--role", "owner"],
        "a long owner password\n",
    )
    .ok();
    between_with_input(d, &["user", "add", s, "sam", "--role", "coder"], "short\n")
        .fails_with("at least 10 characters");
    between_with_input(
        d,
        &["user", "add", s, "sam", "--role", "coder"],
        "sam's password\n",
    )
    .ok();
    between_with_input(
        d,
        &["user", "add", s, "SAM", "--role", "auditor"],
        "another password\n",
    )
    .fails_with("already");
    assert_eq!(
        between(d, &["user", "add", s, "x", "--role", "boss"]).code(),
        2
    );
    between_with_input(d, &["user", "password", s, "sam"], "sam's new password\n").ok();
    let list = between(d, &["user", "list", s]).ok().stdout();
    assert!(
        list.contains("paul") && list.contains("owner") && list.contains("coder"),
        "{list}"
    );
    let file = std::fs::read(d.join(s)).unwrap();
    assert!(
        !String::from_utf8_lossy(&file).contains("sam's new password"),
        "only hashes are stored"
    );
    between(d, &["blind", s, "on", "--source", "p3.txt"]).ok();
    between(d, &["blind", s, "on"]).ok();
    between(d, &["blind", s, "off", "--source", "nope.txt"]).fails_with("no source 'nope.txt'");
    let audit = between(d, &["audit", s, "--limit", "100"]).ok().stdout();
    assert!(
        audit.contains("\"blind\":true") && !audit.contains("argon2"),
        "{audit}"
    );
}

#[test]
fn accounts_change_role_and_are_removed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = study(d);
    for (name, role) in [("paul", "owner"), ("sam", "coder")] {
        between_with_input(
            d,
            &["user", "add", s, name, "--role", role],
            "a long enough password\n",
        )
        .ok();
    }
    between(d, &["user", "role", s, "paul", "--role", "coder"]).fails_with("last owner");
    between(d, &["user", "remove", s, "paul"]).fails_with("last owner");
    between(d, &["user", "remove", s, "nobody"]).fails_with("no account 'nobody'");
    let promoted = between(d, &["user", "role", s, "sam", "--role", "owner"])
        .ok()
        .stdout();
    assert!(
        promoted.contains("the role of sam is now owner"),
        "{promoted}"
    );
    between(d, &["user", "remove", s, "paul"]).ok();
    let list = between(d, &["user", "list", s]).ok().stdout();
    assert!(
        list.contains("sam") && list.contains("owner") && !list.contains("paul"),
        "{list}"
    );
    let audit = between(d, &["audit", s, "--limit", "2"]).ok().stdout();
    assert!(
        audit.contains("\"changed\":\"role\"") && audit.contains("delete"),
        "{audit}"
    );
}

#[test]
fn agreement_from_a_units_by_coders_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Krippendorff (2011)'s example: 4 coders, 12 units, nominal alpha = 113/152.
    write(d, "k2011.csv", b"A,B,C,D\n1,1,,1\n2,2,3,2\n3,3,3,3\n3,3,3,3\n2,2,2,2\n1,2,3,4\n4,4,4,4\n1,1,2,1\n2,2,2,2\n,5,5,5\n,,1,1\n,3,,\n");
    let out = json(
        &between(
            d,
            &[
                "agree",
                "--data",
                "k2011.csv",
                "--statistic",
                "alpha",
                "--format",
                "json",
            ],
        )
        .ok(),
    );
    assert!(
        (out["value"].as_f64().unwrap() - 113.0 / 152.0).abs() < 1e-12,
        "{out}"
    );
    assert_eq!(
        (
            out["statistic"].as_str(),
            out["n_units"].as_u64(),
            out["undefined_reason"].is_null()
        ),
        (Some("Krippendorff's alpha (nominal)"), Some(12), true)
    );
    let text = between(d, &["agree", "--data", "k2011.csv", "--statistic", "alpha"])
        .ok()
        .stdout();
    assert_eq!(
        text.trim(),
        "Krippendorff's alpha (nominal): 0.7434 (12 units, 4 coders)"
    );

    let run = || {
        json(
            &between(
                d,
                &[
                    "agree",
                    "--data",
                    "k2011.csv",
                    "--statistic",
                    "alpha",
                    "--bootstrap",
                    "500",
                    "--seed",
                    "3",
                    "--format",
                    "json",
                ],
            )
            .ok(),
        )
    };
    let (first, again) = (run(), run());
    assert_eq!(
        first["interval"], again["interval"],
        "seeded, so reproducible"
    );
    let (low, high) = (
        first["interval"]["low"].as_f64().unwrap(),
        first["interval"]["high"].as_f64().unwrap(),
    );
    assert!(
        low < 113.0 / 152.0 && (113.0 / 152.0..=1.0).contains(&high),
        "{first}"
    );
    assert!(
        between(
            d,
            &[
                "agree",
                "--data",
                "k2011.csv",
                "--statistic",
                "alpha",
                "--bootstrap",
                "200"
            ]
        )
        .ok()
        .stdout()
        .contains("95% bootstrap interval")
    );

    // Labels, in the declared order, for weighted kappa; no header.
    write(
        d,
        "pair.csv",
        b"low,low\nmid,high\nhigh,high\nmid,mid\nlow,mid\n",
    );
    let weighted = json(
        &between(
            d,
            &[
                "agree",
                "--data",
                "pair.csv",
                "--statistic",
                "kappa",
                "--weights",
                "linear",
                "--categories",
                "low,mid,high",
                "--format",
                "json",
            ],
        )
        .ok(),
    );
    let plain = json(
        &between(
            d,
            &[
                "agree",
                "--data",
                "pair.csv",
                "--statistic",
                "kappa",
                "--categories",
                "low,mid,high",
                "--format",
                "json",
            ],
        )
        .ok(),
    );
    assert!(
        weighted["value"].as_f64().unwrap() > plain["value"].as_f64().unwrap(),
        "near misses count under linear weights"
    );
    assert_eq!(
        weighted["coders"],
        serde_json::json!(["coder 1", "coder 2"])
    );

    write(d, "same.csv", b"1,1\n1,1\n");
    let undefined = json(
        &between(
            d,
            &[
                "agree",
                "--data",
                "same.csv",
                "--statistic",
                "alpha",
                "--format",
                "json",
            ],
        )
        .ok(),
    );
    assert!(
        undefined["value"].is_null()
            && undefined["undefined_reason"]
                .as_str()
                .unwrap()
                .contains("no variation")
    );
    assert!(
        between(d, &["agree", "--data", "same.csv", "--statistic", "alpha"])
            .ok()
            .stdout()
            .contains("undefined: ")
    );
    between(
        d,
        &[
            "agree",
            "--data",
            "pair.csv",
            "--statistic",
            "kappa",
            "--categories",
            "low,high",
        ],
    )
    .fails_with("pair.csv, line 2: 'mid' is not one of the declared categories");
    between(
        d,
        &[
            "agree",
            "--data",
            "pair.csv",
            "--statistic",
            "alpha",
            "--level",
            "interval",
        ],
    )
    .fails_with("labels, not numbers");
    assert_eq!(
        between(d, &["agree", "--data", "pair.csv", "--statistic", "tau"]).code(),
        2
    );
    // Gwet's AC2: AC1 with weights (Gwet's 4-raters example; irrCAC 0.4.4 gives 0.914000723551605).
    std::fs::write(
        d.join("gwet.csv"),
        "1,1,,1\n2,2,3,2\n3,3,3,3\n3,3,3,3\n2,2,2,2\n1,2,3,4\n4,4,4,4\n1,1,2,1\n2,2,2,2\n,5,5,5\n,,1,1\n,,3,\n",
    )
    .unwrap();
    let ac2 = json(
        &between(
            d,
            &[
                "agree",
                "--data",
                "gwet.csv",
                "--statistic",
                "ac1",
                "--weights",
                "quadratic",
                "--categories",
                "1,2,3,4,5",
                "--format",
                "json",
            ],
        )
        .ok(),
    );
    assert_eq!(ac2["statistic"], "Gwet's AC2 (quadratic weights)");
    assert!((ac2["value"].as_f64().unwrap() - 0.914000723551605).abs() < 1e-12);
    between(
        d,
        &[
            "agree",
            "--data",
            "gwet.csv",
            "--statistic",
            "fleiss",
            "--weights",
            "linear",
        ],
    )
    .fails_with("--weights applies to");
}

#[test]
fn agreement_between_a_studys_coders() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    between(d, &["demo", "--no-serve"]).ok();
    let s = "between-demo.between";
    let report = json(
        &between(
            d,
            &["agree", s, "--coders", "maria,sam", "--format", "json"],
        )
        .ok(),
    );
    let codes = report["codes"].as_array().unwrap();
    assert!(codes.len() >= 27, "every code both coders used");
    let trust = codes.iter().find(|c| c["code"] == "Trust").unwrap();
    let alpha = trust["measures"][0]["value"].as_f64().unwrap();
    assert!(
        (-1.0..=1.0).contains(&alpha)
            && trust["measures"][0]["name"]
                .as_str()
                .unwrap()
                .starts_with("α-binary")
    );
    assert!(trust["codings"]["maria"].as_u64().unwrap() > 0);
    assert!(report["overall"][0]["value"].as_f64().is_some());
    // Contrast codings are rows of their own, and the rule says so.
    let rule = report["contrast_rule"].as_str().unwrap();
    assert!(rule.contains("category of its own"), "{rule}");
    assert!(
        codes
            .iter()
            .filter(|c| c["contrast"] == true)
            .all(|c| c["code"].as_str().unwrap().ends_with(" (contrast)"))
    );
    assert!(codes.iter().any(|c| c["contrast"] == true));
    assert!(
        report["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["group"] == "Abiding"),
        "a group per parent code: {}",
        report["groups"]
    );
    let text = between(d, &["agree", s, "--coders", "maria,sam"])
        .ok()
        .stdout();
    assert!(
        text.contains("group of sibling codes") && text.contains("global α-binary across groups"),
        "{text}"
    );
    assert!(text.contains(rule), "{text}");
    let group = json(
        &between(
            d,
            &[
                "agree",
                s,
                "--coders",
                "maria,sam",
                "--group",
                "Abiding",
                "--unit",
                "turns",
                "--format",
                "json",
            ],
        )
        .ok(),
    );
    let names: Vec<&str> = group["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(
        names.iter().all(|n| n.starts_with("Abiding/")) && names.len() >= 4,
        "{names:?}"
    );
    let csv = between(
        d,
        &[
            "agree",
            s,
            "--coders",
            "maria,sam",
            "--unit",
            "segments",
            "--min-overlap",
            "0.5",
            "--format",
            "csv",
        ],
    )
    .ok()
    .stdout();
    assert!(
        csv.starts_with("code,codings by maria,codings by sam,segment agreement"),
        "{csv}"
    );
    let html = between(
        d,
        &[
            "agree",
            s,
            "--coders",
            "maria,sam",
            "--codes",
            "Trust,Hope",
            "--format",
            "html",
        ],
    )
    .ok()
    .stdout();
    assert!(
        html.contains("<table>") && html.contains("<th scope=\"row\">Trust</th>"),
        "{html}"
    );
    between(d, &["agree", s, "--coders", "maria,nobody"]).fails_with("nobody");
    assert_eq!(
        between(d, &["agree", s]).code(),
        2,
        "a study needs --coders"
    );
}

#[test]
fn recordings_are_linked_and_transcripts_checked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    between(d, &["demo", "--no-serve"]).ok();
    let s = "between-demo.between";
    std::fs::create_dir(d.join("audio")).unwrap();
    std::fs::write(d.join("audio/c2.m4a"), b"....ftypM4A ").unwrap();
    let out = between(d, &["media", "attach", s, "c2-ruiz.txt", "audio/c2.m4a"])
        .ok()
        .stdout();
    assert!(
        out.contains("linked audio/c2.m4a (audio/mp4, 12 bytes)"),
        "{out}"
    );
    let list = between(d, &["media", "list", s]).ok().stdout();
    assert!(
        list.contains("c2-ruiz.txt") && list.contains("audio/c2.m4a"),
        "{list}"
    );
    std::fs::remove_file(d.join("audio/c2.m4a")).unwrap();
    assert!(
        between(d, &["media", "list", s])
            .ok()
            .stdout()
            .contains("(file missing)")
    );
    std::fs::write(d.join("notes.docx"), b"PK").unwrap();
    between(d, &["media", "attach", s, "c2-ruiz.txt", "notes.docx"])
        .fails_with("notes.docx: not an audio or video file");
    between(d, &["media", "attach", s, "c2-ruiz.txt", "missing.mp3"]).fails_with("missing.mp3");
    between(d, &["media", "attach", s, "nope.txt", "notes.docx"]).fails_with("nope.txt");
    between(d, &["media", "detach", s, "c2-ruiz.txt"]).ok();
    between(d, &["media", "detach", s, "c2-ruiz.txt"]).fails_with("no recording linked");

    let before = between(d, &["verify", s]).ok().stdout();
    assert!(before.lines().any(|l| l == "c2-ruiz.txt"), "{before}");
    assert!(
        !before.contains("field-notes"),
        "field notes are not transcripts: {before}"
    );
    let out = between(
        d,
        &[
            "verify",
            s,
            "c2-ruiz.txt",
            "--note",
            "against the audio",
            "--as",
            "paul",
        ],
    )
    .ok()
    .stdout();
    assert!(out.starts_with("c2-ruiz.txt: checked by paul at "), "{out}");
    let after = between(d, &["verify", s]).ok().stdout();
    assert_eq!(after.lines().count(), before.lines().count() - 1);
    assert!(
        between(d, &["audit", s]).ok().stdout().contains("verify"),
        "the check is in the audit trail"
    );
}

#[test]
fn transcripts_in_every_format_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    between(d, &["init", "s.between"]).ok();
    let write = |name: &str, text: &[u8]| std::fs::write(d.join(name), text).unwrap();
    write(
        "visit.vtt",
        "WEBVTT\n\n00:00:01.000 --> 00:00:03.500\n<v Dr Núñez>Buenos días, José.\n\n00:00:03.600 --> 00:00:05.000\n<v Dr Núñez>How’s the knee? 🙂\n\n00:00:05.200 --> 00:00:08.000\n<v José>Better.\n"
            .as_bytes(),
    );
    write(
        "broken.srt",
        b"1\n00:00:01,000 --> 00:00:02,000\nHello\n\n2\n00:00:03,000 -> 00:00:04,000\nAgain\n",
    );
    write(
        "table.csv",
        "who;from;to;said\nDR;0.5;2;Hello there\nPT;2.5;4;Hi, doctor\n".as_bytes(),
    );
    write("latin1.txt", b"DR: Caf\xe9 au lait?\n\nPT: Oui.\n");
    // One bad file: nothing is imported, and the error names the file and the line.
    between(d, &["import", "s.between", "visit.vtt", "broken.srt"])
        .fails_with("broken.srt: line 6:");
    assert!(
        between(d, &["source", "list", "s.between"])
            .ok()
            .stdout()
            .is_empty(),
        "nothing was imported"
    );
    // Subtitles: cues become turns with times; one speaker's consecutive cues are one turn.
    between(d, &["import", "s.between", "visit.vtt"]).ok();
    let shown = between(d, &["source", "show", "s.between", "visit.vtt"])
        .ok()
        .stdout();
    assert_eq!(
        shown,
        "[10..46] 00:00:01 Dr Núñez: Buenos días, José.\nHow’s the knee? 🙂\n[54..61] 00:00:05 José: Better.\n",
    );
    // A table of utterances, its columns named.
    between(
        d,
        &[
            "import",
            "s.between",
            "table.csv",
            "--columns",
            "speaker=who,start=from,end=to,text=said",
        ],
    )
    .ok();
    let shown = between(d, &["source", "show", "s.between", "table.csv"])
        .ok()
        .stdout();
    assert!(shown.contains("PT: Hi, doctor"), "{shown}");
    // Not UTF-8: refused with the place, unless the encoding is given.
    between(d, &["import", "s.between", "latin1.txt"]).fails_with("latin1.txt: byte 7");
    between(
        d,
        &[
            "import",
            "s.between",
            "latin1.txt",
            "--encoding",
            "windows-1252",
        ],
    )
    .ok();
    assert!(
        between(d, &["source", "show", "s.between", "latin1.txt"])
            .ok()
            .stdout()
            .contains("DR: Café au lait?")
    );
    // A speaker pattern of the team's own.
    write("own.txt", b"(A) How are you?\n(B) Well.\n");
    between(
        d,
        &[
            "import",
            "s.between",
            "own.txt",
            "--speaker-pattern",
            r"^\((?P<speaker>[AB])\)\s*",
        ],
    )
    .ok();
    let shown = between(d, &["source", "show", "s.between", "own.txt"])
        .ok()
        .stdout();
    assert!(
        shown.contains("A: How are you?") && shown.contains("B: Well."),
        "{shown}"
    );
    // PriMock57: a folder of channels becomes 57 consultations.
    let primock = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/primock57/transcripts"
    );
    let out = between(d, &["import", "s.between", primock, "--format", "textgrid"])
        .ok()
        .stdout();
    assert!(out.contains("57 source(s)"), "{out}");
    let first = between(d, &["source", "show", "s.between", "day1_consultation01"])
        .ok()
        .stdout();
    let speakers: Vec<&str> = first
        .lines()
        .take(4)
        .map(|l| l.split_whitespace().nth(2).unwrap())
        .collect();
    assert_eq!(
        speakers,
        ["Doctor:", "Patient:", "Patient:", "Doctor:"],
        "{first}"
    );
    // Limits.
    between(d, &["import", "s.between", "own.txt", "--max-bytes", "5"]).fails_with("own.txt");
    between(
        d,
        &[
            "import",
            "s.between",
            d.join("nothing-here").to_str().unwrap(),
        ],
    )
    .fails_with("nothing-here");
}

/// A coding of the sample study whose code path starts with `prefix`, by id.
fn sample_coding(d: &Path, prefix: &str) -> String {
    let codings = json(
        &between(
            d,
            &[
                "codings",
                "list",
                "between-demo.between",
                "--format",
                "json",
            ],
        )
        .ok(),
    );
    codings
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["code_path"].as_str().unwrap().starts_with(prefix)
                && c["coding"]["contrast"] == serde_json::Value::Bool(false)
        })
        .unwrap()["coding"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn exemplars_are_added_listed_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    between(d, &["demo", "--no-serve"]).ok();
    let study = "between-demo.between";
    let abiding = sample_coding(d, "Abiding/");
    let out = between(d, &["exemplar", study, "add", &abiding, "--for", "abiding"]).ok();
    assert!(
        out.stdout().contains("exemplar 1 of component abiding"),
        "{}",
        out.stdout()
    );
    between(d, &["exemplar", study, "add", &abiding, "--for", "trust"])
        .fails_with("not evidence for component 'trust'");
    between(
        d,
        &["exemplar", study, "add", &abiding, "--for", "nonsense"],
    )
    .fails_with("nonsense");
    between(
        d,
        &["exemplar", study, "add", "not-an-id", "--for", "abiding"],
    )
    .fails_with("not a coding id");
    let listed = json(&between(d, &["exemplar", study, "list", "--format", "json"]).ok());
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let export = between(d, &["export", study, "--format", "qdpx", "out.qdpx"]).ok();
    assert!(
        export
            .stdout()
            .contains("not carried over: 1 × exemplar quote"),
        "{}",
        export.stdout()
    );
    assert_eq!(listed[0]["chosen_by"], "maria");
    assert_eq!(listed[0]["target"]["id"], "abiding");
    between(
        d,
        &["exemplar", study, "remove", &abiding, "--for", "abiding"],
    )
    .ok();
    between(
        d,
        &["exemplar", study, "remove", &abiding, "--for", "abiding"],
    )
    .fails_with("no exemplar");
    let listed = json(&between(d, &["exemplar", study, "list", "--format", "json"]).ok());
    assert!(listed.as_array().unwrap().is_empty());
}

/// Pixels of a binary PPM (P6) image that are not white.
fn ink(ppm: &[u8]) -> usize {
    // Header: "P6", width, height, maxval, each followed by whitespace.
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&ppm[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P6");
    let pixels = &ppm[at + 1..];
    pixels
        .chunks_exact(3)
        .filter(|p| p.iter().any(|&v| v < 240))
        .count()
}

#[test]
fn the_report_is_written_and_printed_to_pdf() {
    for tool in ["pdftoppm", "pdftotext"] {
        assert!(
            Command::new(tool).arg("-v").output().is_ok(),
            "{tool} is missing: apt-get install poppler-utils"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    between(d, &["demo", "--no-serve"]).ok();
    let abiding = sample_coding(d, "Abiding/");
    between(
        d,
        &[
            "exemplar",
            "between-demo.between",
            "add",
            &abiding,
            "--for",
            "abiding",
        ],
    )
    .ok();
    let out = between(
        d,
        &["report", "between-demo.between", "--out", "rep", "--pdf"],
    )
    .ok();
    assert!(out.stdout().contains("report.pdf"), "{}", out.stdout());
    let rep = d.join("rep");
    for file in [
        "report.html",
        "report.xlsx",
        "participants.csv",
        "practices.csv",
        "components.csv",
        "dyad-matrix.csv",
        "saturation.csv",
        "agreement.csv",
    ] {
        assert!(rep.join(file).is_file(), "{file}");
    }
    let components = std::fs::read_to_string(rep.join("components.csv")).unwrap();
    assert!(
        components.contains("(c1-osei.txt, C1)"),
        "the exemplar is in Table 3"
    );

    let status = Command::new("pdftoppm")
        .args(["-r", "40"])
        .arg(rep.join("report.pdf"))
        .arg(d.join("page"))
        .status()
        .unwrap();
    assert!(status.success());
    let mut pages: Vec<PathBuf> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ppm"))
        .collect();
    pages.sort();
    assert!(pages.len() >= 2, "{} pages", pages.len());
    for page in &pages {
        let ink = ink(&std::fs::read(page).unwrap());
        assert!(
            ink > 200,
            "{} is blank ({ink} pixels of ink)",
            page.display()
        );
    }
    let text = Command::new("pdftotext")
        .arg(rep.join("report.pdf"))
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    for title in [
        "Participant characteristics",
        "Practice and clinician characteristics",
        "Model components and exemplar quotes",
        "The dyad matrix",
        "Saturation",
        "Inter-coder agreement",
    ] {
        assert!(text.contains(title), "{title} missing from the PDF's text");
    }
}

#[test]
fn a_pdf_without_chromium_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    between(d, &["demo", "--no-serve"]).ok();
    let out = Command::new(env!("CARGO_BIN_EXE_between"))
        .args(["report", "between-demo.between", "--out", "rep", "--pdf"])
        .current_dir(d)
        .env("BETWEEN_CHROMIUM", d.join("no-such-browser"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("BETWEEN_CHROMIUM"));
    assert!(
        d.join("rep/report.html").is_file(),
        "the HTML report is still written"
    );
}

#[test]
fn the_dyad_and_the_model_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    between(d, &["demo", "--no-serve"]).ok();
    let s = "between-demo.between";

    let matrix = json(&between(d, &["triangulate", s, "--format", "json"]).ok());
    let dyads = matrix["dyads"].as_array().unwrap();
    let components = matrix["components"].as_array().unwrap();
    assert_eq!(dyads.len(), 10);
    let trust = components.iter().position(|c| c["id"] == "trust").unwrap();
    let cell = &matrix["cells"][0][trust];
    let table = between(d, &["triangulate", s]).ok().stdout();
    assert!(table.contains(&format!(
        "{}/{}",
        cell["clinician"]["passages"], cell["patient"]["passages"]
    )));
    assert!(table.contains("Contrast passages"));
    let csv = between(d, &["triangulate", s, "--format", "csv"])
        .ok()
        .stdout();
    assert_eq!(csv.lines().count(), 1 + dyads.len() * components.len());
    let label = dyads[0]["label"].as_str().unwrap();
    let quotes = between(
        d,
        &["triangulate", s, "--dyad", label, "--component", "trust"],
    )
    .ok()
    .stdout();
    assert!(quotes.contains("Clinician's account") && quotes.contains("Patient's account"));
    // Each list is headed by the passages the cell counts, then the codings it quotes: take a
    // cell whose passages were coded more than once, where the two numbers differ.
    let (doubled, component) = (0..dyads.len())
        .flat_map(|d| (0..components.len()).map(move |c| (d, c)))
        .find(|&(d, c)| {
            let p = &matrix["cells"][d][c]["patient"];
            p["codings"].as_array().unwrap().len() as u64 > p["passages"].as_u64().unwrap()
        })
        .expect("a passage of a patient's account coded twice");
    let (label, component) = (
        dyads[doubled]["label"].as_str().unwrap(),
        components[component]["id"].as_str().unwrap(),
    );
    let counted = &matrix["cells"][doubled][components
        .iter()
        .position(|c| c["id"] == component)
        .unwrap()];
    let args = ["triangulate", s, "--dyad", label, "--component", component];
    let listed = between(d, &args).ok().stdout();
    let cell_json = json(&between(d, &[&args[..], &["--format", "json"]].concat()).ok());
    for (account, heading) in [
        ("clinician", "Clinician's account"),
        ("patient", "Patient's account"),
    ] {
        assert_eq!(cell_json[account]["passages"], counted[account]["passages"]);
        let line = format!(
            "{heading}: {} passages ({} codings):",
            counted[account]["passages"],
            counted[account]["codings"].as_array().unwrap().len()
        );
        assert!(listed.contains(&line), "{line}\n{listed}");
    }
    // C1 also speaks of their patients in general: those passages are about no particular
    // patient, tabled apart and listed with --general.
    assert!(table.contains("About no particular patient"));
    let c1 = matrix["general"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["participant"] == "C1")
        .unwrap();
    let spoken = (0..components.len())
        .find(|&c| c1["cells"][c]["passages"].as_u64() > Some(0))
        .expect("C1's general evidence");
    let general = between(
        d,
        &[
            "triangulate",
            s,
            "--general",
            "C1",
            "--component",
            components[spoken]["id"].as_str().unwrap(),
        ],
    )
    .ok()
    .stdout();
    assert!(general.contains("about no particular patient"), "{general}");
    assert!(general.contains(&format!(
        "Passages: {} passages ({} codings)",
        c1["cells"][spoken]["passages"],
        c1["cells"][spoken]["codings"].as_array().unwrap().len()
    )));
    between(d, &["triangulate", s, "--component", "trust"]).fails_with("--dyad or --general");
    assert!(
        between(d, &["triangulate", "--help"])
            .ok()
            .stdout()
            .contains("about no particular patient")
    );
    between(d, &["triangulate", s, "--coder", "nobody"]).fails_with("nobody");
    between(
        d,
        &["triangulate", s, "--dyad", "X9-P99", "--component", "trust"],
    )
    .fails_with("X9-P99");

    let support = json(&between(d, &["propositions", s, "--format", "json"]).ok());
    let first = &support["propositions"][0];
    let sum: u64 = ["both", "source_only", "target_only", "neither"]
        .iter()
        .map(|k| first[k].as_u64().unwrap())
        .sum();
    assert_eq!(sum, 10);
    let table = between(d, &["propositions", s]).ok().stdout();
    assert!(
        table.contains("P1")
            && table.contains(&format!("Rule: {}", support["rule_text"].as_str().unwrap()))
    );
    let strict = json(
        &between(
            d,
            &[
                "propositions",
                s,
                "--together",
                "near:50",
                "--target-from-patient",
                "--format",
                "json",
            ],
        )
        .ok(),
    );
    assert_eq!(strict["together"], "near 50");
    assert!(
        strict["rule_text"]
            .as_str()
            .unwrap()
            .contains("within 50 characters")
    );
    assert!(strict["propositions"][0]["both"].as_u64() <= first["both"].as_u64());
    between(d, &["propositions", s, "--together", "sideways"]).fails_with("sideways");

    // Both figures by default; one when named, to standard output too.
    between(d, &["figure", s, "--out", "model.svg"]).ok();
    let structure = std::fs::read_to_string(d.join("model.svg")).unwrap();
    let evidence = std::fs::read_to_string(d.join("model-evidence.svg")).unwrap();
    for svg in [&structure, &evidence] {
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }
    assert!(evidence.contains("dyads with evidence") && !structure.contains("dyads with evidence"));
    let shown = between(d, &["figure", s, "--view", "evidence", "--out", "-"])
        .ok()
        .stdout();
    assert_eq!(shown, evidence);
    between(d, &["figure", s, "--out", "-"]).fails_with("--view structure");

    let strict = json(&between(d, &["saturation", s, "--k", "20", "--format", "json"]).ok());
    assert_eq!(strict["verdict"]["status"], "not-yet");
    let loose = json(
        &between(
            d,
            &[
                "saturation",
                s,
                "--k",
                "1",
                "--out",
                "chart.svg",
                "--format",
                "json",
            ],
        )
        .ok(),
    );
    assert_eq!(loose["verdict"]["status"], "reached");
    assert!(
        std::fs::read_to_string(d.join("chart.svg"))
            .unwrap()
            .contains("stopping-point")
    );
    let text = between(d, &["saturation", s, "--k", "1"]).ok().stdout();
    assert!(text.contains(&format!(
        "Saturation reached at interview {}",
        loose["verdict"]["at"]
    )));
    between(d, &["saturation", s, "--k", "0"]).fails_with("at least 1");
    // Guest, Namey & Chen: the parameters travel with the verdict.
    let guest = json(
        &between(
            d,
            &[
                "saturation",
                s,
                "--method",
                "guest",
                "--base",
                "4",
                "--run",
                "3",
                "--threshold",
                "0.1",
                "--format",
                "json",
            ],
        )
        .ok(),
    );
    assert_eq!(guest["rule"]["method"], "guest");
    assert_eq!(
        (
            &guest["rule"]["base"],
            &guest["rule"]["run"],
            &guest["rule"]["threshold"]
        ),
        (
            &serde_json::json!(4),
            &serde_json::json!(3),
            &serde_json::json!(0.1)
        )
    );
    let statement = guest["statement"].as_str().unwrap();
    assert!(
        statement.contains("base 4 coded interviews, run 3, new-information threshold ≤ 10%"),
        "{statement}"
    );
    let text = between(d, &["saturation", s, "--method", "guest"])
        .ok()
        .stdout();
    assert!(text.contains("Guest, Namey & Chen 2020: base 4"), "{text}");
    between(d, &["saturation", s, "--method", "guest", "--k", "2"]).fails_with("consecutive");
    between(
        d,
        &["saturation", s, "--method", "guest", "--threshold", "5"],
    )
    .fails_with("0.05");
}

/// `between export --format qdpx` streams the project into the file (never over an existing
/// one), and `import-project --new` takes it back with every coding.
#[test]
fn a_streamed_qdpx_export_imports_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    between(d, &["demo", "--out", "s.between", "--no-serve"]).ok();
    let said = between(d, &["export", "s.between", "--format", "qdpx", "s.qdpx"])
        .ok()
        .stdout();
    let bytes = std::fs::read(d.join("s.qdpx")).unwrap();
    assert!(said.contains(&format!("({} bytes)", bytes.len())), "{said}");
    assert!(bytes.starts_with(b"PK\x03\x04"));
    between(d, &["export", "s.between", "--format", "qdpx", "s.qdpx"])
        .fails_with("may exist already");
    assert_eq!(std::fs::read(d.join("s.qdpx")).unwrap(), bytes);
    let imported = between(d, &["import-project", "s.qdpx", "--new", "copy.between"])
        .ok()
        .stdout();
    assert!(imported.contains("404 codings"), "{imported}");
}

/// CSV injection (issue 13): what a command writes as CSV never starts a spreadsheet formula,
/// numbers stay numbers, and the codings export reads back as it was.
#[test]
fn csv_output_neutralises_formulas_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    between(d, &["init", "b.between", "--no-theory"]).ok();
    write(d, "i.txt", b"PATIENT: Answer number one.\n");
    between(d, &["import", "b.between", "i.txt"]).ok();
    write(
        d,
        "codebook.csv",
        b"code,parent\n\"=HYPERLINK(\"\"evil.example\"\",\"\"y\"\")\",\n@SUM,\n",
    );
    between(d, &["codebook", "import", "b.between", "codebook.csv"]).ok();
    write(
        d,
        "codings.csv",
        b"document,start,end,code,coder,memo\ni.txt,9,15,\"=HYPERLINK(\"\"evil.example\"\",\"\"y\"\")\",coder1,+1\ni.txt,16,22,@SUM,coder1,-2+3\n",
    );
    between(d, &["codings", "import", "b.between", "codings.csv"]).ok();
    let listed = between(d, &["codings", "list", "b.between", "--format", "csv"])
        .ok()
        .stdout();
    assert!(
        listed.contains(",\"'=HYPERLINK(\"\"evil.example\"\",\"\"y\"\")\",coder1,false,'+1,"),
        "{listed}"
    );
    assert!(listed.contains(",'@SUM,coder1,false,'-2+3,"), "{listed}");
    // The export reads back as the codes and memos were.
    write(d, "again.csv", listed.as_bytes());
    between(d, &["init", "c.between", "--no-theory"]).ok();
    between(d, &["import", "c.between", "i.txt"]).ok();
    between(d, &["codebook", "import", "c.between", "codebook.csv"]).ok();
    between(d, &["codings", "import", "c.between", "again.csv"]).ok();
    let again = between(d, &["codings", "list", "c.between", "--format", "csv"])
        .ok()
        .stdout();
    // start, end, quote, code, coder, memo (ids and times differ between the studies)
    let columns = |csv: &str| -> Vec<Vec<String>> {
        csv::Reader::from_reader(csv.as_bytes())
            .records()
            .map(|r| {
                let r = r.unwrap();
                [2, 3, 4, 5, 6, 8]
                    .iter()
                    .map(|&i| r[i].to_string())
                    .collect()
            })
            .collect()
    };
    assert_eq!(columns(&again), columns(&listed), "{again}");
    let freq = between(d, &["query", "b.between", "freq", "--format", "csv"])
        .ok()
        .stdout();
    assert!(freq.contains("\n'@SUM,patient,1,"), "{freq}");
    assert!(
        !freq
            .lines()
            .any(|l| l.starts_with('=') || l.starts_with('@')),
        "{freq}"
    );
}
