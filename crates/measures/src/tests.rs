//! The workflow on real study files: every invalid answer named and nothing stored; CSV all or
//! nothing; links expire and are used once; a clinician's own measures are theirs until shared.

use between_exchange::ResponseShape;
use between_store::OpenOptions;
use between_study::{NewDyad, NewParticipant, NewStudy};

use super::*;

fn study(dir: &tempfile::TempDir) -> Workbench {
    let mut b = Workbench::create(
        &dir.path().join("m.between"),
        NewStudy::default(),
        &OpenOptions::default(),
        "paul",
    )
    .unwrap();
    for (label, role) in [
        ("C1", Role::Clinician),
        ("C2", Role::Clinician),
        ("P01", Role::Patient),
        ("P02", Role::Patient),
    ] {
        b.add_participant(NewParticipant {
            label: label.into(),
            role: Some(role),
            ..Default::default()
        })
        .unwrap();
    }
    for (c, p) in [("C1", "P01"), ("C2", "P02")] {
        b.add_dyad(NewDyad {
            clinician: c.into(),
            patient: p.into(),
            ..Default::default()
        })
        .unwrap();
    }
    b
}

fn acting(name: &str, role: AccountRole) -> Account {
    Account {
        role,
        ..policy::local_owner(name)
    }
}

/// A WAI-SR response of P01 in C1-P01 with every item at `value`.
fn wai(session: u32, value: i32) -> NewResponse {
    NewResponse {
        instrument: "wai-sr".into(),
        version: None,
        participant: "P01".into(),
        dyad: Some("C1-P01".into()),
        occasion: Occasion {
            date: None,
            session: Some(session),
        },
        answers: (1..=12).map(|i| (i.to_string(), Some(value))).collect(),
    }
}

fn stored(b: &Workbench) -> usize {
    b.store().responses().unwrap().len()
}

#[test]
fn a_response_is_entered_and_scored() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = study(&dir);
    let r = Measures::of(&mut b).enter(wai(1, 4)).unwrap();
    assert_eq!(r.mode, EntryMode::Hand);
    assert_eq!(r.instrument_version, "2006.1");
    let views = Measures::of(&mut b).responses().unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].scores.total.score, Some(48.0));
    assert_eq!(views[0].scores.subscale("bond").unwrap().score, Some(16.0));
}

#[test]
fn every_invalid_response_is_named_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = study(&dir);
    Measures::of(&mut b).enter(wai(1, 4)).unwrap();
    let mut unknown_item = wai(2, 4);
    unknown_item.answers.insert("13".into(), Some(3));
    let mut out_of_range = wai(2, 4);
    out_of_range.answers.insert("7".into(), Some(6));
    let wrong_version = NewResponse {
        version: Some("1999".into()),
        ..wai(2, 4)
    };
    let missing_participant = NewResponse {
        participant: "P99".into(),
        ..wai(2, 4)
    };
    let not_in_dyad = NewResponse {
        dyad: Some("C2-P02".into()),
        ..wai(2, 4)
    };
    let wrong_respondent = NewResponse {
        participant: "C1".into(),
        ..wai(2, 4)
    };
    let no_time = NewResponse {
        occasion: Occasion::default(),
        ..wai(2, 4)
    };
    let bad_date = NewResponse {
        occasion: Occasion {
            date: Some("2026-02-30".into()),
            session: None,
        },
        ..wai(2, 4)
    };
    let cases = [
        (unknown_item, "item '13'"),
        (out_of_range, "item '7': 6 is outside the scale 1–5"),
        (wrong_version, "no version '1999'"),
        (missing_participant, "no participant 'P99'"),
        (not_in_dyad, "P01 is not in dyad C2-P02"),
        (wrong_respondent, "answered by a patient"),
        (no_time, "a date (YYYY-MM-DD) or a session"),
        (bad_date, "'2026-02-30' is not a date"),
        (wai(1, 2), "duplicate submission"),
    ];
    for (new, expected) in cases {
        let e = Measures::of(&mut b).enter(new).unwrap_err().to_string();
        assert!(e.contains(expected), "expected «{expected}» in «{e}»");
    }
    assert_eq!(stored(&b), 1);
}

#[test]
fn a_csv_import_is_all_or_nothing_and_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = study(&dir);
    let header = "participant,dyad,date,session,1,2,3,4,5,6,7,8,9,10,11,12\n";
    let good = "P01,C1-P01,2026-03-01,1,4,4,4,4,4,4,4,4,4,4,4,4\n";
    let bad = "P01,C1-P01,2026-03-08,2,4,4,4,4,4,4,9,4,4,4,4,4\n";
    let wide = format!("{header}{good}{bad}");
    let e = Measures::of(&mut b)
        .import_csv(
            wide.as_bytes(),
            "w.csv",
            ResponseShape::Wide,
            "wai-sr",
            None,
        )
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("w.csv, line 3, column 11") && e.contains("9 is outside"),
        "{e}"
    );
    assert_eq!(stored(&b), 0);

    let long = "participant,dyad,date,session,item,value\n\
                P01,C1-P01,2026-03-01,1,1,4\nP01,C1-P01,2026-03-01,1,2,5\n\
                P02,C1-P01,2026-03-01,1,1,4\n";
    let e = Measures::of(&mut b)
        .import_csv(
            long.as_bytes(),
            "l.csv",
            ResponseShape::Long,
            "wai-sr",
            None,
        )
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("l.csv, line 4") && e.contains("P02 is not in dyad"),
        "{e}"
    );
    assert_eq!(stored(&b), 0);

    let imported = Measures::of(&mut b)
        .import_csv(
            format!("{header}{good}").as_bytes(),
            "w.csv",
            ResponseShape::Wide,
            "wai-sr",
            None,
        )
        .unwrap();
    assert_eq!(imported.len(), 1);
    assert_eq!(imported[0].mode, EntryMode::Imported);
    let long_ok = "participant,dyad,date,session,item,value\n\
                   P01,C1-P01,2026-03-08,2,1,4\nP01,C1-P01,2026-03-08,2,2,\n";
    Measures::of(&mut b)
        .import_csv(
            long_ok.as_bytes(),
            "l.csv",
            ResponseShape::Long,
            "wai-sr",
            None,
        )
        .unwrap();
    assert_eq!(stored(&b), 2);
    // The same table again is a duplicate, and nothing more is stored.
    assert!(
        Measures::of(&mut b)
            .import_csv(
                long_ok.as_bytes(),
                "l.csv",
                ResponseShape::Long,
                "wai-sr",
                None
            )
            .is_err()
    );
    assert_eq!(stored(&b), 2);
}

#[test]
fn a_link_expires_and_is_used_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = study(&dir);
    let new = NewLink {
        instrument: "wai-sr".into(),
        participant: "P01".into(),
        dyad: Some("C1-P01".into()),
        occasion: Occasion {
            date: None,
            session: Some(3),
        },
        ..Default::default()
    };
    assert!(
        Measures::of(&mut b)
            .create_link(NewLink {
                days: Some(31),
                ..new.clone()
            })
            .is_err()
    );
    let (link, token) = Measures::of(&mut b).create_link(new.clone()).unwrap();
    assert_eq!(
        token.len(),
        43,
        "32 bytes in URL-safe base64 without padding"
    );
    assert!(!token.contains(['+', '/', '=']));
    let audit = serde_json::to_string(&b.store().audit_log(50).unwrap()).unwrap();
    assert!(!audit.contains(&token) && !audit.contains(&link.token_hash));

    let now = time::OffsetDateTime::now_utc();
    let later = now + time::Duration::days(8);
    let answers: ResponseAnswers = (1..=12).map(|i| (i.to_string(), Some(3))).collect();
    let m = Measures::of(&mut b);
    assert_eq!(m.link_form_at(&token, now).unwrap().instrument.id, "wai-sr");
    let expired = m.link_form_at(&token, later).unwrap_err().to_string();
    assert!(expired.contains(REFUSED_LINK), "{expired}");
    let unknown = m.link_form_at("nope", now).unwrap_err().to_string();
    assert_eq!(expired, unknown, "expired and unknown are refused alike");

    let mut m = Measures::of(&mut b);
    assert!(m.redeem_at(&token, answers.clone(), later).is_err());
    let mut bad = answers.clone();
    bad.insert("1".into(), Some(0));
    assert!(m.redeem_at(&token, bad, now).is_err(), "out of range");
    let r = m.redeem_at(&token, answers.clone(), now).unwrap();
    assert_eq!(r.mode, EntryMode::SelfCompleted);
    assert_eq!(r.occasion.session, Some(3));
    let used = m.redeem_at(&token, answers, now).unwrap_err().to_string();
    assert_eq!(used, unknown, "a used link is refused like an unknown one");
    assert_eq!(stored(&b), 1);
    // The link opens nothing but its form: no account may act through it.
    b.act_as(policy::bystander("link"));
    assert!(Measures::of(&mut b).enter(wai(4, 4)).is_err());
}

#[test]
fn a_clinicians_own_measures_are_theirs_until_shared_with_owners() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = study(&dir);
    let maas = NewResponse {
        instrument: "maas".into(),
        version: None,
        participant: "C1".into(),
        dyad: None,
        occasion: Occasion {
            date: Some("2026-03-01".into()),
            session: None,
        },
        answers: (1..=15).map(|i| (i.to_string(), Some(5))).collect(),
    };
    Measures::of(&mut b).enter(maas).unwrap();
    Measures::of(&mut b).enter(wai(1, 4)).unwrap();
    let visible = |b: &mut Workbench, who: Account| {
        b.act_as(who);
        let seen: Vec<String> = Measures::of(b)
            .responses()
            .unwrap()
            .into_iter()
            .map(|v| v.response.instrument)
            .collect();
        seen
    };
    let owner = acting("paul", AccountRole::Owner);
    let osei = acting("osei", AccountRole::Coder);
    let maria = acting("maria", AccountRole::Coder);
    // Not linked to an account: an ordinary measure, seen by all.
    assert_eq!(visible(&mut b, owner.clone()).len(), 2);
    b.act_as(maria.clone());
    assert!(
        Measures::of(&mut b)
            .link_clinician_account("C1", "osei")
            .is_err()
    );
    b.act_as(owner.clone());
    Measures::of(&mut b)
        .link_clinician_account("C1", "osei")
        .unwrap();
    assert_eq!(visible(&mut b, owner.clone()), ["wai-sr"]);
    assert_eq!(visible(&mut b, maria.clone()), ["wai-sr"]);
    assert_eq!(visible(&mut b, osei.clone()).len(), 2);
    let series = Measures::of(&mut b)
        .trajectories(&Subject::Clinician("C1".into()))
        .unwrap();
    assert_eq!(
        series.len(),
        2,
        "osei sees their own series and their dyad's"
    );
    assert!(visible(&mut b, owner.clone()).iter().all(|i| i != "maas"));
    b.act_as(owner.clone());
    assert!(Measures::of(&mut b).share_self_care("C1", true).is_err());
    assert_eq!(Measures::of(&mut b).export().unwrap().rows.len(), 12);
    b.act_as(osei);
    Measures::of(&mut b).share_self_care("C1", true).unwrap();
    assert_eq!(visible(&mut b, owner.clone()).len(), 2);
    assert_eq!(
        visible(&mut b, maria),
        ["wai-sr"],
        "shared with owners only"
    );
    b.act_as(owner);
    assert_eq!(Measures::of(&mut b).export().unwrap().rows.len(), 27);
}

#[test]
fn trajectories_are_in_time_order_and_the_export_has_a_dictionary() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = study(&dir);
    for (session, value) in [(3, 4), (1, 5), (2, 2)] {
        Measures::of(&mut b).enter(wai(session, value)).unwrap();
    }
    let series = Measures::of(&mut b)
        .trajectories(&Subject::Dyad("C1-P01".into()))
        .unwrap();
    assert_eq!(series.len(), 1);
    let totals: Vec<Option<f64>> = series[0]
        .points
        .iter()
        .map(|p| p.scores.total.score)
        .collect();
    assert_eq!(totals, [Some(60.0), Some(24.0), Some(48.0)]);
    assert!(
        Measures::of(&mut b)
            .trajectories(&Subject::Dyad("C2-P02".into()))
            .unwrap()
            .is_empty()
    );

    let export = Measures::of(&mut b).export().unwrap();
    assert_eq!(export.rows.len(), 36);
    assert!(export.rows.iter().all(|r| r.len() == EXPORT_COLUMNS.len()));
    let item = export
        .dictionary
        .iter()
        .find(|r| r[0] == "1" && r[1] == "wai-sr")
        .unwrap();
    assert!(item[4].starts_with("1=Seldom; 2=Sometimes"), "{item:?}");
    assert!(export.dictionary.iter().any(|r| r[0] == "value"));
}

#[test]
fn study_instruments_are_added_by_owners_and_versions_never_change() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = study(&dir);
    let mut own = between_instruments::find("wai-sr").unwrap();
    own.id = "our-alliance".into();
    own.version = "1".into();
    let text = own.to_toml();
    b.act_as(acting("maria", AccountRole::Coder));
    assert!(
        Measures::of(&mut b)
            .add_instrument(&text, Format::Toml, "ours.toml")
            .is_err()
    );
    b.act_as(acting("paul", AccountRole::Owner));
    Measures::of(&mut b)
        .add_instrument(&text, Format::Toml, "ours.toml")
        .unwrap();
    let again = Measures::of(&mut b)
        .add_instrument(&text, Format::Toml, "ours.toml")
        .unwrap_err()
        .to_string();
    assert!(again.contains("new version"), "{again}");
    let builtin_again = Measures::of(&mut b)
        .add_instrument(
            &between_instruments::find("maas").unwrap().to_toml(),
            Format::Toml,
            "maas.toml",
        )
        .unwrap_err();
    assert!(builtin_again.to_string().contains("already exists"));
    let entered = Measures::of(&mut b)
        .enter(NewResponse {
            instrument: "our-alliance".into(),
            ..wai(1, 3)
        })
        .unwrap();
    assert_eq!(entered.instrument_version, "1");
    own.version = "2".into();
    Measures::of(&mut b)
        .add_instrument(&own.to_toml(), Format::Toml, "ours2.toml")
        .unwrap();
    assert_eq!(
        Measures::of(&mut b)
            .instrument("our-alliance", None)
            .unwrap()
            .version,
        "2"
    );
    assert_eq!(
        Measures::of(&mut b).responses().unwrap()[0]
            .response
            .instrument_version,
        "1"
    );
}

#[test]
fn a_rupture_and_its_repair_are_found_by_the_rule_given() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = study(&dir);
    // Totals by session: 48, 24 (a drop of 24), 36, 48 (back to the level before).
    for (session, value) in [(1, 4), (2, 2), (3, 3), (4, 4)] {
        Measures::of(&mut b).enter(wai(session, value)).unwrap();
    }
    let dyad = Subject::Dyad("C1-P01".into());
    let by = |rule: RuptureRule, score: &str| RuptureCriterion {
        rule,
        score: score.into(),
    };
    let m = Measures::of(&mut b);
    let found = m
        .scores(&dyad, Some(&by(RuptureRule::Threshold(10.0), "total")))
        .unwrap();
    let ruptures = &found.trajectories[0].ruptures;
    assert_eq!(ruptures.len(), 1);
    assert_eq!(ruptures[0].before.session, Some(1));
    assert_eq!(ruptures[0].after.session, Some(2));
    assert_eq!(ruptures[0].drop, 24.0);
    assert_eq!(ruptures[0].repaired.as_ref().unwrap().session, Some(4));
    assert!(found.rupture_rule.unwrap().contains("total"));
    // A drop of exactly the threshold is not a rupture.
    let exact = m
        .scores(&dyad, Some(&by(RuptureRule::Threshold(24.0), "total")))
        .unwrap();
    assert!(exact.trajectories[0].ruptures.is_empty());
    // RCI: criterion 1.96 × √2 × 8 × √(1 − 0.75) ≈ 11.1 on the total.
    let rci = RuptureRule::ReliableChange {
        sd: 8.0,
        reliability: 0.75,
    };
    assert_eq!(
        m.scores(&dyad, Some(&by(rci, "total")))
            .unwrap()
            .trajectories[0]
            .ruptures
            .len(),
        1
    );
    // On the bond subscale (16, 8, 12, 16) the same rule finds none.
    assert!(
        m.scores(&dyad, Some(&by(rci, "bond")))
            .unwrap()
            .trajectories[0]
            .ruptures
            .is_empty()
    );
    let e = m
        .scores(&dyad, Some(&by(rci, "trust")))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no subscale 'trust'") && e.contains("bond"),
        "{e}"
    );
}

/// The joint display of the sample: per dyad the latest WAI-SR scores beside the passages of
/// the components its subscales link to in the study's theory (partnering, connecting, trust),
/// counted as the triangulation counts them.
#[test]
fn the_joint_display_sets_latest_scores_beside_the_linked_evidence() {
    use between_findings::triangulation::{Coders, triangulate};
    let dir = tempfile::tempdir().unwrap();
    let mut wb =
        between_sample::materialise(&dir.path().join("s.between"), &Default::default()).unwrap();
    let corpus = between_findings::Corpus::of(&wb).unwrap();
    let matrix = triangulate(&corpus, &Coders::All).unwrap();
    let m = Measures::of(&mut wb);
    let joint = m.joint_display(&corpus, "wai-sr", None).unwrap();
    let ids: Vec<&str> = joint.components.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["partnering", "connecting", "trust"]);
    assert_eq!(joint.subscales, ["goal", "task", "bond"]);
    assert_eq!(joint.rows.len(), matrix.dyads.len());
    for row in &joint.rows {
        let d = matrix.dyad_position(&row.dyad).unwrap();
        for ((id, _), &(clinician, patient)) in joint.components.iter().zip(&row.evidence) {
            let cell = &matrix.cells[d][matrix.component_position(id).unwrap()];
            assert_eq!(
                (clinician, patient),
                (cell.clinician.passages, cell.patient.passages)
            );
        }
    }
    // C2-P06's latest response (session 5, 2025-09-02): goal 17, task 17, bond 18, total 52.
    let irene = joint.rows.iter().find(|r| r.dyad == "C2-P06").unwrap();
    assert_eq!(irene.responses, 5);
    assert_eq!(irene.latest.as_deref(), Some("2025-09-02"));
    assert_eq!(
        irene.scores,
        [Some(17.0), Some(17.0), Some(18.0), Some(52.0)]
    );
    // A dyad without responses has empty scores and still its evidence.
    let lucia = joint.rows.iter().find(|r| r.dyad == "C1-P02").unwrap();
    assert_eq!((lucia.responses, lucia.latest.as_ref()), (0, None));
    assert!(lucia.scores.iter().all(Option::is_none));
}
