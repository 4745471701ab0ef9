use super::*;
use between_core::{AccountRole, MemoTarget, Role, SourceKind, Span, text};
use between_store::OpenOptions;
use std::path::Path;

fn bench(dir: &tempfile::TempDir) -> Workbench {
    let theory = between_model::resolve("healing-relationship-model").unwrap();
    let new = NewStudy {
        name: "T".into(),
        description: String::new(),
        theory: Some(theory),
    };
    Workbench::create(
        &dir.path().join("t.between"),
        new,
        &OpenOptions::default(),
        "maria",
    )
    .unwrap()
}

fn file(name: &str, text: &str) -> ImportFile {
    ImportFile {
        name: name.into(),
        bytes: text.as_bytes().to_vec(),
    }
}

fn people(b: &mut Workbench) {
    for (label, role, name) in [
        ("C1", Role::Clinician, "Dr Amara Osei"),
        ("P01", Role::Patient, "Mr George Whitfield"),
    ] {
        b.add_participant(NewParticipant {
            label: label.into(),
            role: Some(role),
            name: Some(name.into()),
            ..Default::default()
        })
        .unwrap();
    }
    b.add_dyad(NewDyad {
        clinician: "C1".into(),
        patient: "P01".into(),
        ..Default::default()
    })
    .unwrap();
}

const INTERVIEW: &str = "INTERVIEWER: How is she?\n\nMR WHITFIELD: She listens. I trust her — completely. I trust her.\n\nMRS WHITFIELD: He’s right 🙂.\n";

fn quote(text: &str, occurrence: Option<usize>) -> CodingTarget {
    CodingTarget::Quote {
        text: text.into(),
        occurrence,
    }
}

fn coding(code: &str, target: CodingTarget) -> NewCoding {
    NewCoding {
        source: "p01.txt".into(),
        code: code.into(),
        target,
        coder: None,
        memo: None,
        contrast: false,
    }
}

#[test]
fn a_new_study_has_the_theory_as_its_codebook() {
    let dir = tempfile::tempdir().unwrap();
    let b = bench(&dir);
    let book = b.codebook().unwrap();
    assert_eq!(book.len(), 27);
    let empathy = book
        .iter()
        .find(|n| n.code.component.as_deref() == Some("empathy"))
        .unwrap();
    assert_eq!(empathy.path, "Valuing/Presence/Empathy");
    assert_eq!(empathy.depth, 2);
    assert_eq!(
        b.theory().unwrap().unwrap().id,
        "healing-relationship-model"
    );
    let paths = b.code_paths().unwrap();
    assert_eq!(
        paths.resolve("valuing/presence/EMPATHY").unwrap().id,
        empathy.code.id
    );
    assert_eq!(paths.resolve("Empathy").unwrap().id, empathy.code.id);
    assert_eq!(paths.resolve("empathy").unwrap().id, empathy.code.id);
    assert!(matches!(
        paths.resolve("Sympathy"),
        Err(StudyError::UnknownCode(_))
    ));
}

#[test]
fn speakers_are_linked_to_participants() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bench(&dir);
    people(&mut b);
    let options = ImportOptions {
        participant: Some("P01".into()),
        dyad: Some("C1-P01".into()),
        interview: between_core::InterviewInfo {
            others_present: vec!["spouse".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    let report = b
        .import_files(vec![file("p01.txt", INTERVIEW)], &options, &mut |_, _| {})
        .unwrap();
    let s = &report.sources[0];
    assert_eq!(s.turns, 3);
    let role = |label: &str| s.speakers.iter().find(|x| x.label == label).unwrap().role;
    assert_eq!(role("INTERVIEWER"), Role::Interviewer);
    assert_eq!(role("MR WHITFIELD"), Role::Patient);
    assert_eq!(
        role("MRS WHITFIELD"),
        Role::Other,
        "the wife is not the patient"
    );
    assert!(
        s.warnings.iter().any(|w| w.contains("MRS WHITFIELD")),
        "{:?}",
        s.warnings
    );
    assert_eq!(
        b.source("p01.txt").unwrap().interview.others_present,
        ["spouse"]
    );
}

#[test]
fn codes_go_on_exact_spans_by_quote_or_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bench(&dir);
    people(&mut b);
    let options = ImportOptions {
        participant: Some("P01".into()),
        dyad: Some("C1-P01".into()),
        ..Default::default()
    };
    b.import_files(vec![file("p01.txt", INTERVIEW)], &options, &mut |_, _| {})
        .unwrap();

    let err = b
        .apply_code(coding("trust", quote("I trust her", None)))
        .unwrap_err();
    assert!(err.to_string().contains("occurs 2 times"), "{err}");
    let second = b
        .apply_code(coding("trust", quote("I trust her", Some(2))))
        .unwrap();
    let emoji = b
        .apply_code(coding(
            "Full attention in the encounter",
            quote("He’s right 🙂", None),
        ))
        .unwrap();
    let by_offsets = b
        .apply_code(NewCoding {
            coder: Some("sam".into()),
            contrast: true,
            memo: Some("about listening".into()),
            ..coding(
                "Valuing/Presence",
                CodingTarget::Offsets {
                    start: emoji.span.start,
                    end: emoji.span.end,
                },
            )
        })
        .unwrap();
    assert_eq!(by_offsets.span, emoji.span);

    let views = b.codings(Some("p01.txt"), None, None).unwrap();
    let quotes: Vec<(&str, &str)> = views
        .iter()
        .map(|v| (v.quote.as_str(), v.coding.coder.as_str()))
        .collect();
    assert_eq!(
        quotes,
        [
            ("I trust her", "maria"),
            ("He’s right 🙂", "maria"),
            ("He’s right 🙂", "sam")
        ]
    );
    assert_eq!(views[0].coding.id, second.id);
    assert_eq!(views[0].role, Some(Role::Patient));
    assert_eq!(views[0].dyad.as_deref(), Some("C1-P01"));
    assert_eq!(views[0].participant.as_deref(), Some("P01"));
    assert_eq!(views[1].role, Some(Role::Other));
    let valuing = b.codings(None, Some("valuing"), None).unwrap();
    assert_eq!(valuing.len(), 2, "a code's listing includes its sub-codes");

    for (target, wanted) in [
        (
            CodingTarget::Offsets { start: 5, end: 5 },
            "end must be greater",
        ),
        (
            CodingTarget::Offsets {
                start: 0,
                end: 10_000,
            },
            "outside the text",
        ),
        (quote("nowhere in it", None), "does not occur"),
    ] {
        let err = b.apply_code(coding("trust", target)).unwrap_err();
        assert!(err.to_string().contains(wanted), "{err}");
    }
    assert!(matches!(
        b.apply_code(coding("Sympathy", quote("She listens", None))),
        Err(StudyError::UnknownCode(_))
    ));

    let stats = b.stats().unwrap();
    assert_eq!(
        (
            stats.sources,
            stats.count(),
            stats.participants,
            stats.dyads
        ),
        (
            1,
            Count {
                codings: 2,
                contrast: 1
            },
            2,
            1
        )
    );
    let book = b.codebook().unwrap();
    for node in &book {
        assert_eq!(stats.by_code[&node.path], node.count, "{}", node.path);
    }
    assert_eq!(stats.count().to_string(), "2 (+1 contrast)");
    assert_eq!(stats.by_code["Trust"].codings, 1);
    assert_eq!(stats.by_role["patient"].codings, 1);
    assert_eq!(
        stats.by_role["other"],
        Count {
            codings: 1,
            contrast: 1
        }
    );
    assert_eq!(
        stats.by_coder["sam"],
        Count {
            codings: 0,
            contrast: 1
        },
        "sam's one coding is a contrast coding"
    );
}

#[test]
fn a_batch_of_codings_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bench(&dir);
    b.import_files(
        vec![file("p01.txt", INTERVIEW)],
        &Default::default(),
        &mut |_, _| {},
    )
    .unwrap();
    let err = b
        .apply_codings(vec![
            coding("trust", quote("She listens", None)),
            coding("hope", CodingTarget::Offsets { start: 3, end: 1 }),
        ])
        .unwrap_err();
    assert!(err.to_string().starts_with("row 2:"), "{err}");
    assert!(b.codings(None, None, None).unwrap().is_empty());
}

#[test]
fn a_failing_import_leaves_the_study_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bench(&dir);
    let before = b.store().audit_log(1000).unwrap();
    let bad = ImportFile {
        name: "bad.txt".into(),
        bytes: b"A: ok\nB: caf\xE9\n".to_vec(),
    };
    let err = b
        .import_files(
            vec![file("good.txt", INTERVIEW), bad],
            &Default::default(),
            &mut |_, _| {},
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad.txt: byte 12: invalid UTF-8 (line 2) (expected UTF-8, or UTF-16 with a byte-order mark; or give the file's encoding)"
    );
    let err = b
        .import_files(
            vec![file("good.txt", INTERVIEW), file("good.txt", "A: b")],
            &Default::default(),
            &mut |_, _| {},
        )
        .unwrap_err();
    assert!(err.to_string().contains("already in the study"), "{err}");
    let err = b
        .import_files(
            vec![file("empty.txt", "")],
            &Default::default(),
            &mut |_, _| {},
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "empty.txt: the file is empty (expected a transcript)"
    );
    let options = ImportOptions {
        max_bytes: 10,
        ..Default::default()
    };
    let err = b
        .import_files(vec![file("big.txt", INTERVIEW)], &options, &mut |_, _| {})
        .unwrap_err();
    assert!(matches!(err, StudyError::TooLarge { .. }), "{err}");
    assert!(b.sources().unwrap().is_empty());
    assert_eq!(b.store().audit_log(1000).unwrap(), before);
}

#[test]
fn prose_without_turns_is_one_unlabelled_turn() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bench(&dir);
    let text = "Drove to the practice. Snow.\nPractical resolutions: listen.\n";
    let interview = b
        .import_files(
            vec![file("interview.txt", "Drove to the practice. Snow.\n")],
            &Default::default(),
            &mut |_, _| {},
        )
        .unwrap();
    assert_eq!(interview.sources[0].turns, 1);
    assert!(interview.sources[0].warnings[0].contains("no speaker labels"));
    let options = ImportOptions {
        kind: SourceKind::FieldNote,
        ..Default::default()
    };
    let note = b
        .import_files(vec![file("note.txt", text)], &options, &mut |_, _| {})
        .unwrap();
    assert_eq!(
        note.sources[0].turns, 1,
        "a field note is prose, whatever its colons"
    );
    assert!(note.sources[0].warnings.is_empty());
}

#[test]
fn the_codebook_is_edited_without_losing_codings() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bench(&dir);
    b.import_files(
        vec![file("p01.txt", INTERVIEW)],
        &Default::default(),
        &mut |_, _| {},
    )
    .unwrap();
    let humour = b
        .add_code("Humour", Some("connecting"), None, "jokes shared")
        .unwrap();
    let connecting = b
        .code_paths()
        .unwrap()
        .resolve("connecting")
        .unwrap()
        .clone();
    assert_eq!(
        humour.colour, connecting.colour,
        "open codes take their parent's colour"
    );
    b.add_code("Jokes", Some("Valuing/Connecting/Humour"), None, "")
        .unwrap();
    b.apply_code(coding("Humour", quote("He’s right", None)))
        .unwrap();
    b.add_memo(&TargetRef("code:Humour".into()), "", "funny", None)
        .unwrap();

    let err = b.move_code("Humour", Some("Humour/Jokes")).unwrap_err();
    assert!(err.to_string().contains("inside it"), "{err}");
    b.move_code("Humour", None).unwrap();
    b.rename_code("Humour", "Shared humour").unwrap();
    assert_eq!(
        b.code_paths()
            .unwrap()
            .resolve("Jokes")
            .map(|c| c.name.clone())
            .unwrap(),
        "Jokes"
    );
    assert_eq!(
        b.codings(None, Some("Shared humour"), None).unwrap().len(),
        1
    );

    let moved = b.merge_codes("Shared humour", "connecting").unwrap();
    assert_eq!(moved, 1);
    let views = b.codings(None, Some("connecting"), None).unwrap();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].code_path, "Valuing/Connecting");
    assert_eq!(
        b.code_paths()
            .unwrap()
            .path(b.code_paths().unwrap().resolve("Jokes").unwrap().id),
        "Valuing/Connecting/Jokes"
    );
    assert!(matches!(
        b.code_paths().unwrap().resolve("Shared humour"),
        Err(StudyError::UnknownCode(_))
    ));
    assert_eq!(
        b.code_memos("connecting").unwrap().len(),
        1,
        "memos follow a merge"
    );
    let added = b
        .add_codes(&[
            ("Jokes".into(), Some("connecting".into())),
            ("New".into(), None),
        ])
        .unwrap();
    assert_eq!(added, 1, "existing codes are left as they are");
}

#[test]
fn memos_attach_to_what_they_are_about() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bench(&dir);
    people(&mut b);
    b.import_files(
        vec![file("p01.txt", INTERVIEW)],
        &Default::default(),
        &mut |_, _| {},
    )
    .unwrap();
    let c = b
        .apply_code(coding("trust", quote("She listens", None)))
        .unwrap();
    for target in [
        "study",
        "source:p01.txt",
        "code:Trust",
        "dyad:c1-p01",
        "participant:P01",
        &format!("coding:{}", c.id),
    ] {
        b.add_memo(&TargetRef(target.into()), "t", "text", Some("sam"))
            .unwrap();
    }
    let all = b.memos(None).unwrap();
    assert_eq!(all.len(), 6);
    assert_eq!(
        all.iter().map(|m| m.about.as_str()).collect::<Vec<_>>()[..5],
        [
            "study",
            "source p01.txt",
            "code Trust",
            "dyad C1-P01",
            "participant P01"
        ]
    );
    let on_dyad = b
        .memos(Some(
            b.memo_target(&TargetRef("dyad:C1-P01".into())).unwrap(),
        ))
        .unwrap();
    assert_eq!(on_dyad.len(), 1);
    assert!(
        b.add_memo(&TargetRef("dyad:nope".into()), "", "x", None)
            .is_err()
    );
    assert!(
        b.add_memo(&TargetRef("elsewhere".into()), "", "x", None)
            .unwrap_err()
            .to_string()
            .contains("does not say")
    );
}

mod offsets {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Whatever the text, a coding stored by offsets reads back as exactly those characters,
        /// and coding the same characters by quote finds the same span.
        #[test]
        fn codings_read_back_exactly(
            words in proptest::collection::vec(prop_oneof![
                Just("Zoë"), Just("naïve"), Just("🙂"), Just("e\u{301}"), Just("\r\n"), Just("—"), Just("trust"), Just("中文")
            ], 3..30),
            a in 0usize..1000, b in 0usize..1000,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut bench = bench(&dir);
            let text = format!("P3: {}\n", words.join(" "));
            bench.import_files(vec![file("p01.txt", &text)], &Default::default(), &mut |_, _| {}).unwrap();
            let len = text.chars().count();
            let (start, end) = (a % len, b % len + 1);
            prop_assume!(start < end);
            let expected: String = text.chars().skip(start).take(end - start).collect();
            bench.apply_code(coding("hope", CodingTarget::Offsets { start, end })).unwrap();
            let views = bench.codings(Some("p01.txt"), None, None).unwrap();
            prop_assert_eq!(&views[0].quote, &expected);
            let occurrences = text::find_all(&text, &expected);
            let k = occurrences.iter().position(|s| s.start == start).unwrap() + 1;
            let by_quote = bench.apply_code(coding("trust", quote(&expected, Some(k)))).unwrap();
            prop_assert_eq!((by_quote.span.start, by_quote.span.end), (start, end));
        }
    }
}

#[test]
fn case_studies_are_written_with_versions() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bench(&dir);
    people(&mut b);
    let dyad = b.case_subject("dyad:C1-P01").unwrap();
    assert!(b.case(dyad).unwrap().is_none());
    let first = b
        .write_case(dyad, "George and Dr Osei: twenty years.", None)
        .unwrap();
    assert_eq!(first.version, 1);
    let second = b.write_case(dyad, "Revised.", Some(1)).unwrap();
    assert_eq!((second.version, second.text.as_str()), (2, "Revised."));
    let stale = b
        .write_case(dyad, "Someone else's draft", Some(1))
        .unwrap_err();
    assert!(
        stale.to_string().contains("changed by someone else"),
        "{stale}"
    );
    assert!(b.write_case(dyad, "blind overwrite", None).is_err());
    assert_eq!(b.case(dyad).unwrap().unwrap().text, "Revised.");
    let clinician = b.case_subject("clinician:C1").unwrap();
    b.write_case(clinician, "Dr Osei across her patients.", None)
        .unwrap();
    assert!(
        b.case_subject("clinician:P01")
            .unwrap_err()
            .to_string()
            .contains("not a clinician")
    );
}

#[test]
fn logins_and_blindness() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bench(&dir);
    let owner = b
        .add_account("paul", AccountRole::Owner, "owner password")
        .unwrap();
    let maria = b
        .add_account("maria", AccountRole::Coder, "maria password")
        .unwrap();
    let auditor = b
        .add_account("ada", AccountRole::Auditor, "ada password!")
        .unwrap();
    assert_eq!(
        b.check_login("MARIA", "maria password").unwrap(),
        Some(maria.clone())
    );
    assert_eq!(b.check_login("maria", "wrong password").unwrap(), None);
    assert_eq!(b.check_login("nobody", "maria password").unwrap(), None);
    assert!(b.add_account("sam", AccountRole::Coder, "short").is_err());
    b.set_password("maria", "a new password").unwrap();
    assert!(b.check_login("maria", "a new password").unwrap().is_some());

    b.import_files(
        vec![file("p01.txt", INTERVIEW), file("p02.txt", INTERVIEW)],
        &Default::default(),
        &mut |_, _| {},
    )
    .unwrap();
    for (source, coder) in [("p01.txt", "maria"), ("p01.txt", "sam"), ("p02.txt", "sam")] {
        b.apply_code(NewCoding {
            source: source.into(),
            coder: Some(coder.into()),
            ..coding("hope", quote("She listens", None))
        })
        .unwrap();
    }
    let seen = |b: &Workbench, who: &between_core::Account| {
        b.codings_page_seen_by(who, None, None, None, 0..usize::MAX)
            .unwrap()
            .0
            .len()
    };
    assert_eq!(seen(&b, &maria), 3);
    b.set_blind(Some("p01.txt"), true).unwrap();
    assert_eq!(
        seen(&b, &maria),
        2,
        "in p01 maria sees only her own; p02 is not blind"
    );
    b.set_blind(None, true).unwrap();
    assert_eq!(seen(&b, &maria), 1);
    assert_eq!((seen(&b, &owner), seen(&b, &auditor)), (3, 3));
    b.set_blind(None, false).unwrap();
    b.set_blind(Some("p01.txt"), false).unwrap();
    assert_eq!(seen(&b, &maria), 3, "revealed");
}

#[test]
fn agreement_on_the_design_notes_worked_example() {
    let dir = tempfile::tempdir().unwrap();
    let (b, _) = worked_example(&dir);
    let coders = ["c1".to_string(), "c2".to_string()];
    let report = b
        .agreement(
            &coders,
            &[],
            &["A".into(), "B".into()],
            AgreementUnit::Characters,
        )
        .unwrap();
    assert_eq!(report.units, 30);
    let value = |code: &str, i: usize| {
        report
            .codes
            .iter()
            .find(|c| c.code == code)
            .unwrap()
            .measures[i]
            .value
            .unwrap()
    };
    assert!((value("A", 0) - 2597.0 / 7790.0).abs() < 1e-12);
    assert!((value("B", 0) - 2189.0 / 3055.0).abs() < 1e-12);
    assert!(
        (report.overall[0].value.unwrap() - 2787.0 / 4480.0).abs() < 1e-12,
        "{:?}",
        report.overall
    );
    assert!(
        (report.overall[1].value.unwrap() - 1405.0 / 2197.0).abs() < 1e-12,
        "cuα: {:?}",
        report.overall
    );
    assert!(
        (report.overall[2].value.unwrap() - 26.0 / 60.0).abs() < 1e-12,
        "coverage"
    );
    // A and B are the one group (the top level): its values are the note's domain values, and
    // so are the global ones pooled across groups.
    assert_eq!(report.groups.len(), 1);
    let group = &report.groups[0];
    assert_eq!(
        (group.group.as_str(), group.codes.len()),
        ("(top level)", 2)
    );
    let close = |m: &Measure, v: f64| (m.value.unwrap() - v).abs() < 1e-12;
    assert!(close(&group.measures[0], 2787.0 / 4480.0), "{group:?}");
    assert!(close(&group.measures[1], 1405.0 / 2197.0), "{group:?}");
    let global = |name: &str| {
        report
            .overall
            .iter()
            .find(|m| m.name.starts_with(name))
            .unwrap()
    };
    assert!(close(global("global α-binary"), 2787.0 / 4480.0));
    assert!(close(global("global cu-α"), 1405.0 / 2197.0));
    let within = |code: &str| {
        report
            .codes
            .iter()
            .find(|c| c.code == code)
            .unwrap()
            .measures
            .iter()
            .find(|m| m.name.starts_with("(k)uα"))
            .unwrap()
            .clone()
    };
    assert!(close(&within("A"), 1360.0 / 2197.0));
    assert!(close(&within("B"), 1450.0 / 2197.0));
    // NVivo's per-code figures, from the characters each coder coded A: c1 10, c2 9, both 5.
    let (po, pe) = (
        (5.0 + 16.0) / 30.0,
        (10.0 / 30.0) * (9.0 / 30.0) + (20.0 / 30.0) * (21.0 / 30.0),
    );
    assert!((value("A", 1) - po).abs() < 1e-12);
    assert!((value("A", 2) - (po - pe) / (1.0 - pe)).abs() < 1e-12);
    assert_eq!(report.codes[0].codings["c1"], 2);

    let segments = b
        .agreement(
            &coders,
            &[],
            &["A".into()],
            AgreementUnit::Segments { min_overlap: 0.6 },
        )
        .unwrap();
    // A[2,8) and A[3,9) overlap 5 of 7 (≥ 0.6); A[24,28) and A[12,15) match nothing.
    assert!((segments.codes[0].measures[0].value.unwrap() - 2.0 / 4.0).abs() < 1e-12);
    // Both codes: A matches 2 of its 4 segments; B[12,20) and B[15,20) overlap 5 of 8 (≥ 0.6),
    // so 2 of 2. MAXQDA's overall: 4 of 6 matched, kappa (4/6 − 1/2) / (1 − 1/2) = 1/3.
    let both = b
        .agreement(
            &coders,
            &[],
            &["A".into(), "B".into()],
            AgreementUnit::Segments { min_overlap: 0.6 },
        )
        .unwrap();
    assert!((both.overall[0].value.unwrap() - 4.0 / 6.0).abs() < 1e-12);
    assert!((both.overall[1].value.unwrap() - 1.0 / 3.0).abs() < 1e-12);
    let turns = b
        .agreement(&coders, &[], &["B".into()], AgreementUnit::Turns)
        .unwrap();
    assert_eq!(turns.units, 1, "a field note is one turn");
    assert!(
        b.agreement(&coders[..1], &[], &[], AgreementUnit::Characters)
            .is_err()
    );
    assert!(
        b.agreement(
            &["c1".into(), "nobody".into()],
            &[],
            &[],
            AgreementUnit::Characters
        )
        .unwrap_err()
        .to_string()
        .contains("nobody")
    );
}

/// Two coders code `hope` on the same words of two turns; on the first, `c2` marks it as a
/// contrast case when `contrast` (else as evidence, like `c1`). The third turn nobody codes.
fn hope_twice(dir: &tempfile::TempDir, contrast: bool) -> Workbench {
    let mut b = bench(dir);
    let text = "P1: I have hope now.\n\nP1: Hope keeps me going.\n\nP1: Nothing else.\n";
    b.import_files(
        vec![file("p01.txt", text)],
        &Default::default(),
        &mut |_, _| {},
    )
    .unwrap();
    let at = |coder: &str, words: &str, contrast: bool| NewCoding {
        coder: Some(coder.into()),
        contrast,
        ..coding("hope", quote(words, None))
    };
    b.apply_codings(vec![
        at("c1", "I have hope now.", false),
        at("c2", "I have hope now.", contrast),
        at("c1", "Hope keeps me going.", false),
        at("c2", "Hope keeps me going.", false),
    ])
    .unwrap();
    b
}

#[test]
fn evidence_against_contrast_on_the_same_words_is_disagreement_in_every_figure() {
    let coders = ["c1".to_string(), "c2".to_string()];
    let figures = |contrast: bool, unit: AgreementUnit| {
        let dir = tempfile::tempdir().unwrap();
        let report = hope_twice(&dir, contrast)
            .agreement(&coders, &[], &[], unit)
            .unwrap();
        assert_eq!(report.contrast_rule, CONTRAST_RULE);
        report
    };
    let hope_row = |r: &AgreementReport| {
        r.codes
            .iter()
            .find(|c| !c.contrast && c.code.ends_with("Hope"))
            .unwrap()
            .clone()
    };
    let value = |measures: &[Measure], name: &str| {
        measures
            .iter()
            .find(|m| m.name.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {measures:?}"))
            .value
            .unwrap_or_else(|| panic!("{name} undefined: {measures:?}"))
    };
    let per_code = [
        (AgreementUnit::Characters, "α-binary (|uα"),
        (
            AgreementUnit::Characters,
            "percent agreement over characters",
        ),
        (AgreementUnit::Characters, "Cohen's kappa over characters"),
        (AgreementUnit::Characters, "(k)uα"),
        (AgreementUnit::Turns, "Krippendorff's alpha"),
        (AgreementUnit::Turns, "percent agreement over turns"),
        (
            AgreementUnit::Segments { min_overlap: 0.9 },
            "segment agreement",
        ),
    ];
    for (unit, name) in per_code {
        // With one category and full agreement (k)uα has no variation to measure: undefined.
        let same = hope_row(&figures(false, unit))
            .measures
            .iter()
            .find(|m| m.name.starts_with(name))
            .and_then(|m| m.value);
        let opposite = value(&hope_row(&figures(true, unit)).measures, name);
        assert!(
            same.is_none_or(|v| (v - 1.0).abs() < 1e-12),
            "{name}: {same:?} when both saw evidence"
        );
        assert!(
            same.is_some() || name == "(k)uα",
            "{name} undefined when both saw evidence"
        );
        assert!(
            opposite < 1.0 - 1e-9,
            "{name}: {opposite} with a contrast case"
        );
    }
    // By hand: turns, c1 [1, 1, 0] and c2 [0, 1, 0]: 2 of 3 agree; segments, c1's two and c2's
    // one evidence coding, 2 of the 3 matched.
    let turns = figures(true, AgreementUnit::Turns);
    assert!(
        (value(&hope_row(&turns).measures, "percent agreement over turns") - 2.0 / 3.0).abs()
            < 1e-12
    );
    let segments = figures(true, AgreementUnit::Segments { min_overlap: 0.9 });
    assert!((value(&hope_row(&segments).measures, "segment agreement") - 2.0 / 3.0).abs() < 1e-12);
    // The contrast coding is its own row, and which category the coders chose (cuα) disagrees.
    let characters = figures(true, AgreementUnit::Characters);
    let contrast_row = characters.codes.iter().find(|c| c.contrast).unwrap();
    assert!(contrast_row.code.ends_with("Hope (contrast)"));
    assert_eq!(
        (contrast_row.codings["c1"], contrast_row.codings["c2"]),
        (0, 1)
    );
    assert_eq!(
        (
            hope_row(&characters).codings["c1"],
            hope_row(&characters).codings["c2"]
        ),
        (2, 1)
    );
    let cu = value(&characters.overall, "cu-α");
    assert!(cu < 1.0 - 1e-9, "cuα {cu}");
}

#[test]
fn a_code_edit_is_one_change_at_the_version_seen() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bench(&dir);
    let paths = b.code_paths().unwrap();
    let (empathy, valuing, presence) = (
        paths.resolve("empathy").unwrap().clone(),
        paths.resolve("valuing").unwrap().id,
        paths.resolve("presence").unwrap().id,
    );
    let edited = b
        .edit_code(
            empathy.id,
            1,
            Some("Empathic presence"),
            Some(Some(valuing)),
        )
        .unwrap();
    assert_eq!((edited.version, edited.parent), (2, Some(valuing)));
    assert_eq!(
        b.code_paths().unwrap().path(empathy.id),
        "Valuing/Empathic presence"
    );
    let stale = b.edit_code(empathy.id, 1, Some("Other"), None).unwrap_err();
    assert!(
        stale.to_string().contains("changed by someone else"),
        "{stale}"
    );
    // A refused move leaves the name as it was too: nothing of the edit is written.
    let cycle = b
        .edit_code(valuing, 1, Some("Renamed"), Some(Some(presence)))
        .unwrap_err();
    assert!(cycle.to_string().contains("inside it"), "{cycle}");
    assert_eq!(b.code_paths().unwrap().path(valuing), "Valuing");
    assert!(
        b.edit_code(valuing, 1, Some("a/b"), None).is_err(),
        "'/' would break code paths"
    );
    let subs = b.sub_codes("Abiding").unwrap();
    assert_eq!(subs.len(), 4);
}

/// The design note's worked example as a study: one 30-character field note, codes A and B,
/// coders c1 and c2, and accounts for an owner, the two coders and an auditor.
fn worked_example(dir: &tempfile::TempDir) -> (Workbench, [between_core::Account; 3]) {
    let mut b = bench(dir);
    let options = ImportOptions {
        kind: SourceKind::FieldNote,
        ..Default::default()
    };
    b.import_files(
        vec![file("thirty.txt", "abcdefghijklmnopqrstuvwxyzABCD")],
        &options,
        &mut |_, _| {},
    )
    .unwrap();
    b.add_code("A", None, None, "").unwrap();
    b.add_code("B", None, None, "").unwrap();
    let at = |coder: &str, code: &str, start, end| NewCoding {
        source: "thirty.txt".into(),
        code: code.into(),
        target: CodingTarget::Offsets { start, end },
        coder: Some(coder.into()),
        memo: None,
        contrast: false,
    };
    b.apply_codings(vec![
        at("c1", "A", 2, 8),
        at("c1", "B", 12, 20),
        at("c1", "A", 24, 28),
        at("c2", "A", 3, 9),
        at("c2", "A", 12, 15),
        at("c2", "B", 15, 20),
    ])
    .unwrap();
    let owner = b
        .add_account("paul", AccountRole::Owner, "owner password")
        .unwrap();
    let coder = b
        .add_account("c1", AccountRole::Coder, "coder password")
        .unwrap();
    let auditor = b
        .add_account("ada", AccountRole::Auditor, "ada password!")
        .unwrap();
    (b, [owner, coder, auditor])
}

#[test]
fn disagreements_come_first_with_each_coders_version() {
    let dir = tempfile::tempdir().unwrap();
    let (mut b, [owner, ..]) = worked_example(&dir);
    // Both coders also agree on one stretch.
    for coder in ["c1", "c2"] {
        b.apply_code(NewCoding {
            source: "thirty.txt".into(),
            code: "B".into(),
            target: CodingTarget::Offsets { start: 0, end: 1 },
            coder: Some(coder.into()),
            memo: None,
            contrast: false,
        })
        .unwrap();
    }
    let coders = ["c1".to_string(), "c2".to_string()];
    let d = b
        .disagreements(&owner, &coders, &[], &[], None, 0..usize::MAX)
        .unwrap();
    let summary: Vec<(String, usize, usize, Difference)> = d
        .passages
        .iter()
        .map(|p| (p.code_path.clone(), p.span.start, p.span.end, p.difference))
        .collect();
    use Difference::*;
    assert_eq!(
        summary,
        vec![
            ("A".into(), 12, 15, Missing),
            ("A".into(), 24, 28, Missing),
            ("A".into(), 2, 9, Boundaries),
            ("B".into(), 12, 20, Boundaries),
            ("B".into(), 0, 1, Agreed),
        ]
    );
    assert_eq!((d.missing, d.boundaries, d.agreed), (2, 2, 1));
    let first_two = b
        .disagreements(&owner, &coders, &[], &[], None, 0..2)
        .unwrap();
    assert_eq!(
        (
            first_two.passages.len(),
            first_two.missing,
            first_two.agreed
        ),
        (2, 2, 1),
        "all are counted, the first are returned"
    );
    assert!(first_two.passages.iter().all(|p| p.difference == Missing));
    let next = b
        .disagreements(&owner, &coders, &[], &[], None, 2..4)
        .unwrap();
    assert_eq!(next.offset, 2);
    let spans = |d: &Disagreements| -> Vec<(usize, usize)> {
        d.passages
            .iter()
            .map(|p| (p.span.start, p.span.end))
            .collect()
    };
    assert_eq!(
        spans(&next),
        spans(&d)[2..4],
        "the next page follows the first"
    );
    let a12 = &d.passages[0];
    assert_eq!(a12.text, "mno");
    assert_eq!(a12.before, "abcdefghijkl");
    assert!(a12.versions[0].codings.is_empty(), "c1 did not code A here");
    assert_eq!(
        a12.versions[0]
            .instead
            .iter()
            .map(|c| c.code_path.as_str())
            .collect::<Vec<_>>(),
        ["B"],
        "c1 coded B where c2 coded A"
    );
    assert_eq!(a12.versions[1].codings[0].quote, "mno");
    assert_eq!(d.consensus_coder, CONSENSUS_CODER);
    assert!(a12.consensus.is_empty() && a12.accepted.is_none());
    // Only the codes asked for.
    let only_b = b
        .disagreements(
            &owner,
            &coders,
            &["thirty.txt".into()],
            &["B".into()],
            None,
            0..usize::MAX,
        )
        .unwrap();
    assert_eq!(only_b.passages.len(), 2);
}

#[test]
fn a_version_is_accepted_into_the_consensus_coder_at_the_version_seen() {
    let dir = tempfile::tempdir().unwrap();
    let (mut b, [owner, coder, auditor]) = worked_example(&dir);
    let coders = ["c1".to_string(), "c2".to_string()];
    let passage = |b: &Workbench, code: &str, start: usize| {
        b.disagreements(&owner, &coders, &[], &[], None, 0..usize::MAX)
            .unwrap()
            .passages
            .into_iter()
            .find(|p| p.code_path == code && p.span.start == start)
            .unwrap()
    };
    let p = passage(&b, "A", 2);
    let accept = |who: &str, replacing: Vec<Seen>| Adjudication {
        source: p.source,
        code: p.code,
        start: p.span.start,
        end: p.span.end,
        accept: who.into(),
        replacing,
        consensus: None,
    };
    let done = b.adjudicate(&owner, accept("c2", vec![])).unwrap();
    assert_eq!(done.consensus.len(), 1);
    assert_eq!(done.consensus[0].coding.coder, "consensus");
    assert_eq!(done.consensus[0].quote, "defghi", "c2's A[3,9)");
    assert!(done.memo.is_none());
    let now = passage(&b, "A", 2);
    assert_eq!(now.accepted.as_deref(), Some("c2"));
    assert_eq!(
        now.difference,
        Difference::Boundaries,
        "the coders still differ"
    );

    // Accepting again without saying what the consensus had there is a conflict…
    let stale = b.adjudicate(&owner, accept("c1", vec![])).unwrap_err();
    assert!(stale.to_string().contains("conflict"), "{stale}");
    // …and with it, c1's version replaces c2's, in one change.
    let seen = vec![Seen {
        id: now.consensus[0].coding.id,
        version: now.consensus[0].coding.version,
    }];
    b.adjudicate(&coder, accept("c1", seen.clone())).unwrap();
    let now = passage(&b, "A", 2);
    assert_eq!(now.accepted.as_deref(), Some("c1"));
    assert_eq!(now.consensus.len(), 1);
    assert_eq!(now.consensus[0].quote, "cdefgh");
    assert!(
        b.adjudicate(&coder, accept("c2", seen)).is_err(),
        "the consensus coding seen is gone"
    );

    // Auditors read; accepting the empty version leaves a memo on the passage.
    assert!(matches!(
        b.adjudicate(&auditor, accept("c2", vec![])),
        Err(StudyError::Forbidden(_))
    ));
    let p24 = passage(&b, "A", 24);
    let empty = b
        .adjudicate(
            &owner,
            Adjudication {
                start: 24,
                end: 28,
                ..accept("c2", vec![])
            },
        )
        .unwrap();
    assert!(empty.consensus.is_empty());
    assert_eq!(
        empty.memo.as_ref().unwrap().passage,
        Some(Span { start: 24, end: 28 })
    );
    assert_eq!(
        passage(&b, "A", 24).discussion.len(),
        p24.discussion.len() + 1
    );
    // The consensus is a coder of its own, never one of those compared.
    assert!(
        b.disagreements(&owner, &coders, &[], &[], Some("C2"), 0..usize::MAX)
            .is_err()
    );
    // The consensus coder can now be compared like anyone.
    let report = b
        .agreement(
            &["c1".into(), "consensus".into()],
            &[],
            &["A".into()],
            AgreementUnit::Characters,
        )
        .unwrap();
    assert!(report.codes[0].measures[0].value.is_some());
}

#[test]
fn passage_memos_and_who_may_compare() {
    let dir = tempfile::tempdir().unwrap();
    let (mut b, [owner, coder, auditor]) = worked_example(&dir);
    let source = b.source("thirty.txt").unwrap().id;
    let memo = b
        .add_passage_memo(
            source,
            Span { start: 12, end: 20 },
            "Discussion",
            "B starts where the patient names the fear.",
            Some("paul"),
        )
        .unwrap();
    let coders = ["c1".to_string(), "c2".to_string()];
    let d = b
        .disagreements(&owner, &coders, &[], &[], None, 0..usize::MAX)
        .unwrap();
    let b12 = d
        .passages
        .iter()
        .find(|p| p.code_path == "B" && p.span.start == 12)
        .unwrap();
    assert_eq!(b12.discussion[0].memo.id, memo.id);
    assert!(
        d.passages
            .iter()
            .find(|p| p.span.start == 2)
            .unwrap()
            .discussion
            .is_empty(),
        "a memo is shown only where its passage is"
    );
    // The passage is kept in the file.
    assert_eq!(
        b.memos(Some(MemoTarget::Source(source))).unwrap()[0]
            .memo
            .passage,
        Some(Span { start: 12, end: 20 })
    );
    assert!(
        b.add_passage_memo(source, Span { start: 20, end: 31 }, "", "x", None)
            .is_err(),
        "outside the text"
    );

    assert!(b.may_compare(&coder, &[]).is_ok());
    b.set_blind(Some("thirty.txt"), true).unwrap();
    assert!(matches!(
        b.may_compare(&coder, &[]),
        Err(StudyError::Forbidden(_))
    ));
    assert!(
        b.disagreements(&coder, &coders, &[], &[], None, 0..usize::MAX)
            .is_err()
    );
    assert!(b.may_compare(&owner, &[]).is_ok() && b.may_compare(&auditor, &[]).is_ok());
    b.set_blind(Some("thirty.txt"), false).unwrap();
    b.set_blind(None, true).unwrap();
    assert!(b.may_compare(&coder, &["thirty.txt".into()]).is_err());
}

#[test]
fn recordings_are_linked_and_transcripts_verified() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bench(&dir);
    b.import_files(
        vec![file("p01.txt", INTERVIEW), file("p02.txt", INTERVIEW)],
        &Default::default(),
        &mut |_, _| {},
    )
    .unwrap();
    let audio = dir.path().join("audio").join("p01.wav");
    std::fs::create_dir_all(audio.parent().unwrap()).unwrap();
    std::fs::write(&audio, b"RIFF....WAVEfmt ").unwrap();
    let media = b.attach_media("p01.txt", &audio).unwrap();
    assert_eq!(
        media.path, "audio/p01.wav",
        "relative to the study's folder"
    );
    assert_eq!((media.mime.as_str(), media.bytes), ("audio/wav", 16));
    let id = b.source("p01.txt").unwrap().id;
    let (_, found) = b.media_file(id).unwrap();
    assert_eq!(
        std::fs::canonicalize(found).unwrap(),
        std::fs::canonicalize(&audio).unwrap()
    );
    // Outside the study's folder: absolute.
    let elsewhere = tempfile::tempdir().unwrap();
    let video = elsewhere.path().join("p02 visit.mp4");
    std::fs::write(&video, b"....ftypisom").unwrap();
    let v = b.attach_media("p02.txt", &video).unwrap();
    assert!(
        Path::new(&v.path).is_absolute() && v.mime == "video/mp4",
        "{v:?}"
    );
    // Bad input.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "x").unwrap();
    let err = b.attach_media("p01.txt", &notes).unwrap_err().to_string();
    assert!(
        err.contains("notes.txt") && err.contains("not an audio or video"),
        "{err}"
    );
    assert!(
        b.attach_media("p01.txt", &dir.path().join("gone.mp3"))
            .is_err()
    );
    assert!(b.attach_media("nope.txt", &audio).is_err());
    assert!(b.attach_media("p01.txt", dir.path()).is_err(), "a folder");

    // Verification: unverified first, then who and when.
    let unverified = |b: &Workbench| -> Vec<String> {
        b.unverified()
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect()
    };
    assert_eq!(unverified(&b), ["p01.txt", "p02.txt"]);
    let v = b
        .verify_transcript("paul", "p01.txt", "checked against the audio")
        .unwrap();
    assert_eq!(v.verified_by, "paul");
    assert_eq!(unverified(&b), ["p02.txt"]);
    assert_eq!(
        b.verifications().unwrap()[&id].note,
        "checked against the audio"
    );
    b.detach_media("p01.txt").unwrap();
    assert!(b.media_file(id).is_err());
    assert!(
        b.detach_media("p01.txt").is_err(),
        "nothing linked any more"
    );
}

/// The 57 PriMock57 consultations (CC BY 4.0), a doctor and a patient channel each.
fn primock57() -> Vec<std::path::PathBuf> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/primock57/transcripts");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "TextGrid"))
        .collect();
    files.sort();
    files
}

#[test]
fn primock57_imports_as_57_interleaved_dialogues_with_their_marks() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = bench(&dir);
    let files = primock57();
    assert_eq!(files.len(), 114);
    let options = ImportOptions {
        format: between_ingest::Format::TextGrid,
        ..Default::default()
    };
    let report = b.import_paths(&files, &options, &mut |_, _| {}).unwrap();
    assert_eq!(report.sources.len(), 57);
    let (mut turns, mut kinds) = (0, std::collections::BTreeMap::new());
    for s in b.sources().unwrap() {
        assert!(
            s.name.starts_with("day") && !s.name.contains('.'),
            "{}",
            s.name
        );
        let source = b.source(&s.name).unwrap();
        let roles: Vec<(&str, Role)> = source
            .speakers
            .iter()
            .map(|sp| (sp.label.as_str(), sp.role))
            .collect();
        assert_eq!(
            roles,
            [("Doctor", Role::Clinician), ("Patient", Role::Patient)]
        );
        // One dialogue in time order, both voices in it, taking turns.
        let starts: Vec<u64> = source.turns.iter().map(|t| t.start_ms.unwrap()).collect();
        assert!(
            starts.windows(2).all(|w| w[0] <= w[1]),
            "{} is not in time order",
            s.name
        );
        let changes = source
            .turns
            .windows(2)
            .filter(|w| w[0].speaker != w[1].speaker)
            .count();
        assert!(
            changes * 3 > source.turns.len(),
            "{}: {changes} changes of speaker",
            s.name
        );
        for t in &source.turns {
            let said = text::CharIndex::new(&source.text)
                .slice(t.span)
                .unwrap()
                .to_string();
            assert!(!said.trim().is_empty() && !said.contains('\n'), "{said:?}");
        }
        // Marks are kept in the text and known for what they are.
        for m in &source.markers {
            let mark = text::CharIndex::new(&source.text)
                .slice(m.span)
                .unwrap()
                .to_string();
            assert!(mark.starts_with('<') && mark.ends_with('>'), "{mark:?}");
            *kinds.entry(m.kind).or_insert(0) += 1;
        }
        turns += source.turns.len();
    }
    // FORMAT.md's counts: 7,108 utterances; 1,132 UNSURE pairs, 1,359 UNIN, 814 INAUDIBLE.
    assert_eq!(turns, 7108);
    use between_core::MarkerKind::*;
    assert_eq!(kinds[&Unsure], 1132);
    assert_eq!(kinds[&Unintelligible], 1359);
    assert_eq!(kinds[&Inaudible], 814);
}

#[test]
fn every_change_asks_the_policy_about_the_acting_account() {
    let dir = tempfile::tempdir().unwrap();
    let (mut b, [owner, coder, auditor]) = worked_example(&dir);
    let forbidden = |r: StudyResult<()>, what: &str| {
        assert!(matches!(r, Err(StudyError::Forbidden(_))), "{what}: {r:?}");
    };
    // The command line is the local owner: everything goes.
    b.add_code("Open", None, None, "").unwrap();
    b.act_as(coder.clone());
    b.add_code("Coder's own", None, None, "").unwrap();
    b.apply_code(NewCoding {
        source: "thirty.txt".into(),
        code: "A".into(),
        target: CodingTarget::Offsets { start: 0, end: 1 },
        coder: None,
        memo: None,
        contrast: false,
    })
    .unwrap();
    let as_other = NewCoding {
        source: "thirty.txt".into(),
        code: "A".into(),
        target: CodingTarget::Offsets { start: 0, end: 2 },
        coder: Some("c2".into()),
        memo: None,
        contrast: false,
    };
    forbidden(b.apply_code(as_other.clone()).map(drop), "code as another");
    forbidden(b.merge_codes("Open", "A").map(drop), "merge codes");
    forbidden(b.rename_code("Open", "Closed").map(drop), "rename a code");
    forbidden(b.set_blind(None, true), "switch blind coding");
    forbidden(b.deidentify_candidates().map(drop), "de-identify");
    forbidden(b.pseudonyms().map(drop), "read the mapping");
    forbidden(
        b.add_account("eve", AccountRole::Owner, "a long password")
            .map(drop),
        "add an account",
    );
    forbidden(b.begin_merge().map(drop), "import a project");
    forbidden(
        b.import_files(
            vec![file("p09.txt", INTERVIEW)],
            &Default::default(),
            &mut |_, _| {},
        )
        .map(drop),
        "import transcripts",
    );
    forbidden(
        b.add_memo(&TargetRef("study".into()), "", "x", Some("paul"))
            .map(drop),
        "a memo in another's name",
    );
    b.act_as(auditor);
    forbidden(
        b.add_code("Auditor's", None, None, "").map(drop),
        "add a code",
    );
    forbidden(
        b.add_memo(&TargetRef("study".into()), "", "x", None)
            .map(drop),
        "write a memo",
    );
    b.act_as(owner);
    b.apply_code(as_other).unwrap();
    b.rename_code("Open", "Closed").unwrap();
}

#[test]
fn a_consensus_coder_is_never_an_account() {
    let dir = tempfile::tempdir().unwrap();
    let (mut b, [owner, coder, _]) = worked_example(&dir);
    let coders = ["c1".to_string(), "c2".to_string()];
    let p = b
        .disagreements(&owner, &coders, &[], &[], None, 0..usize::MAX)
        .unwrap()
        .passages
        .into_iter()
        .find(|p| p.code_path == "A" && p.span.start == 2)
        .unwrap();
    let before = b.codings(None, None, None).unwrap();
    for (who, name) in [
        (&coder, "paul"),
        (&coder, "PAUL"),
        (&owner, "Ada"),
        (&owner, "c1"),
    ] {
        let refused = b.adjudicate(
            who,
            Adjudication {
                source: p.source,
                code: p.code,
                start: p.span.start,
                end: p.span.end,
                accept: "c2".into(),
                replacing: Vec::new(),
                consensus: Some(name.into()),
            },
        );
        assert!(
            matches!(refused, Err(StudyError::Forbidden(_))),
            "{name}: {refused:?}"
        );
        assert!(
            b.disagreements(who, &coders, &[], &[], Some(name), 0..1)
                .is_err(),
            "{name}"
        );
    }
    assert_eq!(b.codings(None, None, None).unwrap(), before);
}
