//! Fixtures for this crate's tests.

use between_study::StudyBundle;

use crate::Corpus;

/// The sample study's bundle and theory, to change before building a corpus.
pub fn sample_parts() -> (StudyBundle, Option<between_model::Theory>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let wb = between_sample::materialise(&dir.path().join("s.between"), &Default::default())
        .expect("sample");
    (wb.bundle().expect("bundle"), wb.theory().expect("theory"))
}

pub fn sample() -> Corpus {
    let (bundle, theory) = sample_parts();
    Corpus::new(bundle, theory)
}

/// A study small enough to reason about: clinician C1 with patients P1 and P2.
/// - `c1.txt` (C1's own interview, no dyad, 2025-01-02): "They trust me." coded trust and
///   "I never give up on them." coded not-giving-up (a sub-component of abiding), coder `a`.
/// - `p1.txt` (P1, dyad C1-P1, 2025-01-03): "She was really there with me." coded presence by
///   `a`, and the overlapping "really there with me. She listens." coded full-attention (a
///   sub-component of presence) by `b`.
/// - `p2.txt` (P2, dyad C1-P2, 2025-01-01): "I do not trust anyone." coded trust as a
///   contrast case by `a`.
pub fn tiny() -> Corpus {
    use between_core::{InterviewInfo, Role};
    use between_study::{
        CodingTarget, ImportFile, ImportOptions, NewCoding, NewDyad, NewParticipant, NewStudy,
        Workbench,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut wb = Workbench::create(
        &dir.path().join("tiny.between"),
        NewStudy {
            name: "tiny".into(),
            theory: Some(between_model::resolve("healing-relationship-model").expect("theory")),
            ..Default::default()
        },
        &between_store::OpenOptions::default(),
        "a",
    )
    .expect("study");
    for (label, role) in [
        ("C1", Role::Clinician),
        ("P1", Role::Patient),
        ("P2", Role::Patient),
    ] {
        wb.add_participant(NewParticipant {
            label: label.into(),
            role: Some(role),
            ..Default::default()
        })
        .expect("participant");
    }
    for patient in ["P1", "P2"] {
        wb.add_dyad(NewDyad {
            clinician: "C1".into(),
            patient: patient.into(),
            ..Default::default()
        })
        .expect("dyad");
    }
    for (name, who, dyad, date, text) in [
        (
            "c1.txt",
            "C1",
            None,
            "2025-01-02",
            "INTERVIEWER: Tell me.\nDR: I never give up on them. They trust me.\n",
        ),
        (
            "p1.txt",
            "P1",
            Some("C1-P1"),
            "2025-01-03",
            "INTERVIEWER: And?\nP1: She was really there with me. She listens.\n",
        ),
        (
            "p2.txt",
            "P2",
            Some("C1-P2"),
            "2025-01-01",
            "INTERVIEWER: And?\nP2: I do not trust anyone.\n",
        ),
    ] {
        let options = ImportOptions {
            participant: Some(who.into()),
            dyad: dyad.map(String::from),
            interview: InterviewInfo {
                date: Some(date.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        wb.import_files(
            vec![ImportFile {
                name: name.into(),
                bytes: text.as_bytes().to_vec(),
            }],
            &options,
            &mut |_, _| {},
        )
        .expect("import");
    }
    let coding = |source: &str, code: &str, quote: &str, coder: &str, contrast: bool| NewCoding {
        source: source.into(),
        code: code.into(),
        target: CodingTarget::Quote {
            text: quote.into(),
            occurrence: None,
        },
        coder: Some(coder.into()),
        memo: None,
        contrast,
    };
    wb.apply_codings(vec![
        coding("c1.txt", "trust", "They trust me.", "a", false),
        coding(
            "c1.txt",
            "not-giving-up",
            "I never give up on them.",
            "a",
            false,
        ),
        coding(
            "p1.txt",
            "presence",
            "She was really there with me.",
            "a",
            false,
        ),
        coding(
            "p1.txt",
            "full-attention",
            "really there with me. She listens.",
            "b",
            false,
        ),
        coding("p2.txt", "trust", "I do not trust anyone.", "a", true),
    ])
    .expect("codings");
    Corpus::of(&wb).expect("corpus")
}
