use super::*;
use crate::{ImportFile, ImportOptions, NewDyad, NewParticipant, NewStudy, Pseudonym};
use between_core::{Account, AccountRole, Role, SourceKind};
use between_store::OpenOptions;

const C1: &str = "INTERVIEWER: Tell me about your patients.\n\nDR OSEI: George calls me the Boss. He farms up Top Lane.\n\nDR OSEI: The young woman with diabetes wrote me a letter.\n\nDR OSEI: Most of my week is paperwork.\n";
const P01: &str = "INTERVIEWER: And Dr Osei?\n\nMR WHITFIELD: The Boss, I call her. George Whitfield does not say that lightly.\n";
const NOTE: &str = "Visited the Whitfield farm.\n\nLucía cried at the scan.\n";

/// Two dyads of C1's; C1's interview, P01's, and a field note.
fn study(dir: &tempfile::TempDir) -> Workbench {
    let mut b = Workbench::create(
        &dir.path().join("a.between"),
        NewStudy {
            name: "A".into(),
            ..Default::default()
        },
        &OpenOptions::default(),
        "paul",
    )
    .unwrap();
    for (label, role, name) in [
        ("C1", Role::Clinician, "Dr Amara Osei"),
        ("P01", Role::Patient, "Mr George Whitfield"),
        ("P02", Role::Patient, "Ms Lucía Fernández"),
    ] {
        b.add_participant(NewParticipant {
            label: label.into(),
            role: Some(role),
            name: Some(name.into()),
            ..Default::default()
        })
        .unwrap();
    }
    for patient in ["P01", "P02"] {
        b.add_dyad(NewDyad {
            clinician: "C1".into(),
            patient: patient.into(),
            ..Default::default()
        })
        .unwrap();
    }
    let import = |b: &mut Workbench, name: &str, text: &str, options: ImportOptions| {
        b.import_files(
            vec![ImportFile {
                name: name.into(),
                bytes: text.as_bytes().to_vec(),
            }],
            &options,
            &mut |_, _| {},
        )
        .unwrap();
    };
    import(
        &mut b,
        "c1.txt",
        C1,
        ImportOptions {
            participant: Some("C1".into()),
            speakers: vec!["DR OSEI=C1".parse().unwrap()],
            ..Default::default()
        },
    );
    import(
        &mut b,
        "p01.txt",
        P01,
        ImportOptions {
            participant: Some("P01".into()),
            dyad: Some("C1-P01".into()),
            speakers: vec!["MR WHITFIELD=P01".parse().unwrap()],
            ..Default::default()
        },
    );
    import(
        &mut b,
        "note.txt",
        NOTE,
        ImportOptions {
            kind: SourceKind::FieldNote,
            ..Default::default()
        },
    );
    b
}

fn about(labels: &[&str]) -> Vec<String> {
    labels.iter().map(|l| l.to_string()).collect()
}

fn as_role(b: &mut Workbench, name: &str, role: AccountRole) {
    b.act_as(Account {
        role,
        ..policy::local_owner(name)
    });
}

#[test]
fn passages_are_attributed_by_quote_or_offsets_to_participants_and_dyads() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = study(&dir);
    let made = b
        .attribute_quote("c1.txt", "George calls me the Boss", None, &about(&["p01"]))
        .unwrap();
    assert_eq!(made.len(), 1);
    let both = b
        .attribute(
            "note.txt",
            Span { start: 0, end: 27 },
            &about(&["P01", "c1-p02"]),
        )
        .unwrap();
    assert_eq!(both.len(), 2, "one attribution for each named");
    let listed: Vec<(String, String, String)> = b
        .attributions(None)
        .unwrap()
        .into_iter()
        .map(|v| (v.source, v.about, v.quote))
        .collect();
    let row = |s: &str, a: &str, q: &str| (s.to_string(), a.to_string(), q.to_string());
    assert!(listed.contains(&row("c1.txt", "P01", "George calls me the Boss")));
    assert!(listed.contains(&row("note.txt", "C1-P02", "Visited the Whitfield farm.")));
    assert_eq!(b.attributions(Some("note.txt")).unwrap().len(), 2);
    let by_id = b.attribution_target(&about_id(&made[0])).unwrap();
    assert_eq!(by_id, made[0].about);

    // Refusals say why.
    let ambiguous = b
        .attribute_quote("c1.txt", "DR OSEI", None, &about(&["P01"]))
        .unwrap_err()
        .to_string();
    assert!(
        ambiguous.contains("occurs 3 times (at characters"),
        "{ambiguous}"
    );
    let own = b
        .attribute_quote("p01.txt", "The Boss, I call her", None, &about(&["P01"]))
        .unwrap_err()
        .to_string();
    assert!(own.contains("P01's own account"), "{own}");
    // Another's account of them, or their dyad, is fine.
    b.attribute_quote("p01.txt", "The Boss, I call her", None, &about(&["C1-P01"]))
        .unwrap();
    let again = b
        .attribute_quote("c1.txt", "George calls me the Boss", None, &about(&["P01"]))
        .unwrap_err()
        .to_string();
    assert!(again.contains("already attributed to P01"), "{again}");
    let nobody = b
        .attribute("c1.txt", Span { start: 0, end: 5 }, &about(&["P99"]))
        .unwrap_err()
        .to_string();
    assert!(nobody.contains("no participant or dyad 'P99'"), "{nobody}");
    let none = b
        .attribute("c1.txt", Span { start: 0, end: 5 }, &[])
        .unwrap_err();
    assert!(none.to_string().contains("say whom"), "{none}");
    let past = b
        .attribute(
            "c1.txt",
            Span {
                start: 0,
                end: 9999,
            },
            &about(&["P01"]),
        )
        .unwrap_err();
    assert!(matches!(past, StudyError::Span { .. }), "{past}");
    assert_eq!(
        b.attributions(None).unwrap().len(),
        4,
        "refusals stored nothing"
    );
}

fn about_id(a: &Attribution) -> String {
    match a.about {
        AttributionTarget::Participant(p) => p.to_string(),
        AttributionTarget::Dyad(d) => d.to_string(),
    }
}

#[test]
fn coders_attribute_and_remove_their_own_auditors_only_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = study(&dir);
    as_role(&mut b, "sam", AccountRole::Coder);
    let sams = b
        .attribute_quote("c1.txt", "George calls me the Boss", None, &about(&["P01"]))
        .unwrap()
        .remove(0);
    assert_eq!(sams.attributed_by, "sam");
    as_role(&mut b, "maria", AccountRole::Coder);
    let refused = b.remove_attribution(sams.id).unwrap_err();
    assert!(matches!(refused, StudyError::Forbidden(_)), "{refused}");
    as_role(&mut b, "ada", AccountRole::Auditor);
    assert!(b.attributions(None).unwrap().len() == 1, "auditors read");
    let write = b.attribute("c1.txt", Span { start: 0, end: 5 }, &about(&["P02"]));
    assert!(matches!(write, Err(StudyError::Forbidden(_))));
    as_role(&mut b, "sam", AccountRole::Coder);
    assert_eq!(b.remove_attribution(sams.id).unwrap(), sams);
    assert!(b.attributions(None).unwrap().is_empty());
    let gone = b.remove_attribution(sams.id).unwrap_err();
    assert!(gone.to_string().contains("no attribution"), "{gone}");
    // An owner removes anyone's.
    let again = b
        .attribute("c1.txt", Span { start: 0, end: 5 }, &about(&["P02"]))
        .unwrap()
        .remove(0);
    b.act_as(policy::local_owner("paul"));
    b.remove_attribution(again.id).unwrap();
}

#[test]
fn a_csv_table_is_attributed_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = study(&dir);
    let good = "source,about,start,end,quote\nc1.txt,P01,,,George calls me the Boss\nnote.txt,\"P01; C1-P02\",0,27,\n";
    assert_eq!(b.import_attributions_csv(good.as_bytes()).unwrap().len(), 3);
    for (table, says) in [
        (
            "source,about,quote\nc1.txt,P02,Most of my week\nc1.txt,P77,paperwork\n",
            "row 3, column about: no participant or dyad 'P77'",
        ),
        (
            "source,about,quote\nnone.txt,P02,Most of my week\n",
            "row 2, column source: no source 'none.txt'",
        ),
        (
            "source,about,quote\nc1.txt,P02,not in the text\n",
            "row 2, column quote:",
        ),
        (
            "source,about,start,end\nc1.txt,P02,4,x\n",
            "row 2, column end: 'x' is not a whole number",
        ),
        (
            "source,about,start,end\nc1.txt,P02,4,\n",
            "row 2, column start/end/quote: give both start and end, or a quote",
        ),
        (
            "source,about,start,end\nc1.txt,,4,9\n",
            "row 2, column about: the cell is empty",
        ),
        (
            "file,about\n",
            "row 1: the header needs the columns source and about",
        ),
    ] {
        let error = b
            .import_attributions_csv(table.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(error.contains(says), "{error}\nwanted: {says}");
    }
    assert_eq!(
        b.attributions(None).unwrap().len(),
        3,
        "no bad table stored a row"
    );
}

#[test]
fn suggestions_name_the_word_and_why_and_skip_own_accounts_and_attributed_turns() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = study(&dir);
    let aliases = vec![("young woman with diabetes".to_string(), "P02".to_string())];
    let found = b.attribution_suggestions(None, &aliases).unwrap();
    let seen: Vec<(&str, &str, &str, MatchReason)> = found
        .iter()
        .map(|s| {
            (
                s.source.as_str(),
                s.about.as_str(),
                s.matched.as_str(),
                s.reason,
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("c1.txt", "P01", "George", MatchReason::Name),
            (
                "c1.txt",
                "P02",
                "young woman with diabetes",
                MatchReason::Alias
            ),
            ("note.txt", "P01", "Whitfield", MatchReason::Name),
            ("note.txt", "P02", "Lucía", MatchReason::Name),
        ],
        "P01's own account and the mentions of Dr Osei in her dyad's are not suggested"
    );
    let george = &found[0];
    let c1 = b.source("c1.txt").unwrap();
    let turn = c1.turns.iter().find(|t| t.span == george.span).unwrap();
    assert_eq!(turn.speaker.as_deref(), Some("DR OSEI"), "the whole turn");
    assert_eq!(george.why, "'George' is their name (P01)");
    assert_eq!(
        george.key,
        format!("c1.txt:{}-{}:P01", george.span.start, george.span.end)
    );
    assert!(
        b.attributions(None).unwrap().is_empty(),
        "suggesting stores nothing"
    );
    // Only the aliases' words: without it, no suggestion for P02 in C1's interview.
    let plain = b.attribution_suggestions(Some("c1.txt"), &[]).unwrap();
    assert_eq!(plain.len(), 1);
    let bad_alias = b
        .attribution_suggestions(None, &[("the pair".into(), "C1-P01".into())])
        .unwrap_err();
    assert!(
        bad_alias.to_string().contains("stands for a participant"),
        "{bad_alias}"
    );

    let confirmed = b
        .confirm_suggestions(std::slice::from_ref(&george.key))
        .unwrap();
    assert_eq!(
        (confirmed[0].span, confirmed[0].source),
        (george.span, c1.id)
    );
    let after = b.attribution_suggestions(None, &aliases).unwrap();
    assert_eq!(after.len(), 3, "an attributed turn is not suggested again");
    assert!(!after.iter().any(|s| s.key == george.key));
    let unknown = b
        .confirm_suggestions(&["x.txt:1-2:P01".into()])
        .unwrap_err();
    assert!(unknown.to_string().contains("suggestion 1"), "{unknown}");
}

#[test]
fn deidentification_moves_attributed_passages_and_pseudonyms_are_suggested() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = study(&dir);
    b.attribute_quote("c1.txt", "George calls me the Boss", None, &about(&["P01"]))
        .unwrap();
    b.attribute_quote("c1.txt", "paperwork", None, &about(&["C1-P02"]))
        .unwrap();
    let mapping =
        [("George", "[Patient 1]"), ("Whitfield", "[Family 1]")].map(|(term, pseudonym)| {
            Pseudonym {
                term: term.into(),
                pseudonym: pseudonym.into(),
            }
        });
    let applied = b.deidentify(&mapping, Default::default(), None).unwrap();
    assert_eq!(
        applied.attributions, 2,
        "both moved: each lies after a replaced term"
    );
    let quotes: Vec<String> = b
        .attributions(None)
        .unwrap()
        .into_iter()
        .map(|v| v.quote)
        .collect();
    assert_eq!(quotes, ["[Patient 1] calls me the Boss", "paperwork"]);
    let suggested = b.attribution_suggestions(Some("note.txt"), &[]).unwrap();
    let first = &suggested[0];
    assert_eq!(
        (first.about.as_str(), first.matched.as_str(), first.reason),
        ("P01", "[Family 1]", MatchReason::Pseudonym)
    );
    assert_eq!(
        first.why,
        "'[Family 1]' is the pseudonym that replaced their name (P01)"
    );
}

#[test]
fn the_bundle_carries_attributions_and_a_merge_writes_new_ones_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = study(&dir);
    b.attribute_quote("c1.txt", "George calls me the Boss", None, &about(&["P01"]))
        .unwrap();
    b.attribute("note.txt", Span { start: 0, end: 27 }, &about(&["C1-P01"]))
        .unwrap();
    let bundle = b.bundle().unwrap();
    assert_eq!(bundle.attributions, b.store().attributions(None).unwrap());

    let other = tempfile::tempdir().unwrap();
    let mut into = Workbench::create(
        &other.path().join("b.between"),
        NewStudy::default(),
        &OpenOptions::default(),
        "paul",
    )
    .unwrap();
    let merged = into.merge_bundle(bundle.clone()).unwrap();
    assert_eq!(merged.attributions, 2);
    let views = |w: &Workbench| -> Vec<(String, String, String)> {
        w.attributions(None)
            .unwrap()
            .into_iter()
            .map(|v| (v.source, v.about, v.quote))
            .collect()
    };
    assert_eq!(views(&into), views(&b));
    let again = into.merge_bundle(bundle).unwrap();
    assert_eq!(again.attributions, 0);
    assert!(again.already_there >= 2);
    assert_eq!(into.attributions(None).unwrap().len(), 2);
}
