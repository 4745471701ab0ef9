//! `between measure` end to end on a temporary study: responses entered by hand and imported
//! (bad rows refused with line and column, nothing stored), a rupture and its repair by
//! threshold and by reliable change, a one-time link's token, a clinician's own measures kept
//! from the owner until shared, and the long export with its dictionary.

#![allow(clippy::unwrap_used)] // a failing test step should stop the test

mod common;

use std::path::Path;

use common::{fails, json, ok, write};

fn study(d: &Path) {
    ok(d, &["init", "t.between", "--no-theory"]);
    for (label, role) in [("C1", "clinician"), ("P01", "patient")] {
        ok(
            d,
            &["participant", "add", "t.between", label, "--role", role],
        );
    }
    ok(d, &["dyad", "add", "t.between", "C1", "P01"]);
}

fn wide_row(session: u32, value: i32) -> String {
    let answers = vec![value.to_string(); 12].join(",");
    format!(
        "P01,C1-P01,2026-03-{:02},{session},{answers}\n",
        session * 7
    )
}

const HEADER: &str = "participant,dyad,date,session,1,2,3,4,5,6,7,8,9,10,11,12\n";

fn listed(d: &Path, actor: &str) -> Vec<String> {
    let out = json(&ok(
        d,
        &[
            "--as",
            actor,
            "measure",
            "t.between",
            "list",
            "--format",
            "json",
        ],
    ));
    out.as_array()
        .unwrap()
        .iter()
        .map(|v| v["instrument"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn responses_are_entered_imported_scored_and_ruptures_found() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    study(d);
    let bad = format!(
        "{HEADER}{}P01,C1-P01,2026-03-14,2,4,4,x,4,4,4,4,4,4,4,4,4\n",
        wide_row(1, 4)
    );
    write(d, "bad.csv", bad.as_bytes());
    fails(
        d,
        &[
            "measure",
            "t.between",
            "import",
            "--format",
            "wide",
            "--instrument",
            "wai-sr",
            "bad.csv",
        ],
        1,
        "line 3",
    );
    assert!(listed(d, "maria").is_empty(), "nothing stored");
    // Totals 48, 24, 36, then 48 entered by hand: a rupture at session 2, repaired at 4.
    let good = format!(
        "{HEADER}{}{}{}",
        wide_row(1, 4),
        wide_row(2, 2),
        wide_row(3, 3)
    );
    write(d, "good.csv", good.as_bytes());
    ok(
        d,
        &[
            "measure",
            "t.between",
            "import",
            "--format",
            "wide",
            "--instrument",
            "wai-sr",
            "good.csv",
        ],
    );
    let answers: Vec<String> = (1..=12).map(|i| format!("{i}=4")).collect();
    let answers = answers.join(",");
    let enter = [
        "measure",
        "t.between",
        "enter",
        "--instrument",
        "wai-sr",
        "--participant",
        "P01",
        "--dyad",
        "C1-P01",
        "--date",
        "2026-03-28",
        "--session",
        "4",
        "--answer",
        &answers,
    ];
    ok(d, &enter);
    fails(d, &enter, 1, "duplicate submission");
    let mut out_of_range = enter.to_vec();
    // Another session, so that only the answer is wrong.
    let high = answers.replacen("1=4", "1=9", 1);
    *out_of_range.last_mut().unwrap() = &high;
    out_of_range[12] = "5";
    fails(d, &out_of_range, 1, "9 is outside the scale 1–5");
    assert_eq!(listed(d, "maria").len(), 4);

    let text = ok(
        d,
        &[
            "measure",
            "t.between",
            "scores",
            "--dyad",
            "C1-P01",
            "--threshold",
            "10",
        ],
    );
    assert!(text.contains("A rupture is a drop"), "{text}");
    assert!(
        text.contains("rupture (total): 2026-03-07 session 1 → 2026-03-14 session 2, down 24.00; repaired at 2026-03-28 session 4"),
        "{text}"
    );
    let rci = json(&ok(
        d,
        &[
            "measure",
            "t.between",
            "scores",
            "--dyad",
            "C1-P01",
            "--sd",
            "8",
            "--reliability",
            "0.75",
            "--format",
            "json",
        ],
    ));
    assert_eq!(
        rci["trajectories"][0]["ruptures"].as_array().unwrap().len(),
        1
    );
    assert!(rci["rupture_rule"].as_str().unwrap().contains("Jacobson"));
    fails(
        d,
        &[
            "measure",
            "t.between",
            "scores",
            "--dyad",
            "C1-P01",
            "--threshold=-1",
        ],
        1,
        "positive",
    );

    ok(
        d,
        &[
            "measure",
            "t.between",
            "export",
            "--long",
            "long.csv",
            "--dictionary",
            "dict.csv",
        ],
    );
    let long = std::fs::read_to_string(d.join("long.csv")).unwrap();
    assert_eq!(long.lines().count(), 1 + 4 * 12);
    assert!(long.starts_with("response_id,instrument,instrument_version,participant"));
    let dict = std::fs::read_to_string(d.join("dict.csv")).unwrap();
    assert!(dict.contains("1=Seldom; 2=Sometimes"), "{dict}");
}

#[test]
fn a_link_token_is_printed_once_and_self_care_is_private_until_shared() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    study(d);
    let out = ok(
        d,
        &[
            "measure",
            "t.between",
            "link",
            "--participant",
            "P01",
            "--instrument",
            "wai-sr",
            "--session",
            "1",
        ],
    );
    let token = out.lines().next().unwrap().strip_prefix("token: ").unwrap();
    assert_eq!(token.len(), 43);
    let file = std::fs::read(d.join("t.between")).unwrap();
    let needle = token.as_bytes();
    assert!(
        !file.windows(needle.len()).any(|w| w == needle),
        "the token is not stored"
    );
    fails(
        d,
        &[
            "measure",
            "t.between",
            "link",
            "--participant",
            "P01",
            "--instrument",
            "wai-sr",
            "--session",
            "1",
            "--days",
            "31",
        ],
        1,
        "1 to 30 days",
    );

    let maas: Vec<String> = (1..=15).map(|i| format!("{i}=5")).collect();
    ok(
        d,
        &[
            "measure",
            "t.between",
            "enter",
            "--instrument",
            "maas",
            "--participant",
            "C1",
            "--date",
            "2026-03-01",
            "--answer",
            &maas.join(","),
        ],
    );
    ok(
        d,
        &[
            "measure",
            "t.between",
            "account",
            "--participant",
            "C1",
            "--account",
            "osei",
        ],
    );
    assert!(listed(d, "maria").is_empty(), "the owner does not see it");
    assert_eq!(listed(d, "osei"), ["maas"]);
    fails(
        d,
        &["measure", "t.between", "share", "--participant", "C1", "on"],
        1,
        "only osei decides",
    );
    ok(
        d,
        &[
            "--as",
            "osei",
            "measure",
            "t.between",
            "share",
            "--participant",
            "C1",
            "on",
        ],
    );
    assert_eq!(listed(d, "maria"), ["maas"]);
    ok(
        d,
        &[
            "--as",
            "osei",
            "measure",
            "t.between",
            "share",
            "--participant",
            "C1",
            "off",
        ],
    );
    assert!(listed(d, "maria").is_empty());
}

/// The joint display on the demo study: the CSV holds what the JSON holds, a row per dyad, and
/// a dyad's scores are its latest response's.
#[test]
fn the_joint_display_is_written_as_the_json_says() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["demo", "--no-serve", "--out", "s.between"]);
    let joint = json(&ok(
        d,
        &[
            "measure",
            "s.between",
            "joint",
            "--instrument",
            "wai-sr",
            "--csv",
            "joint.csv",
            "--format",
            "json",
        ],
    ));
    let csv = std::fs::read_to_string(d.join("joint.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    let rows = joint["rows"].as_array().unwrap();
    assert_eq!(lines.len(), rows.len() + 1);
    assert!(lines[0].starts_with("dyad,responses,latest,goal,task,bond,total,"));
    let irene = rows.iter().find(|r| r["dyad"] == "C2-P06").unwrap();
    assert_eq!(irene["latest"], "2025-09-02");
    let line = lines.iter().find(|l| l.starts_with("C2-P06,")).unwrap();
    let total: f64 = line.split(',').nth(6).unwrap().parse().unwrap();
    assert_eq!(Some(total), irene["scores"][3].as_f64());
    assert!(joint["score_rule"].as_str().unwrap().contains("latest"));
}
