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

/// A hand-made study with attributions, whose answers are worked out in the tests that use it.
/// Clinician C1 with patients P1 (Pat) and P2 (Quinn); clinician C2 with patient P3 (Sam).
/// Codings are coder `a`'s unless said. Sources (turns are `SPEAKER: words`, blank-line apart):
/// - `c1.txt`, C1's interview, names no dyad:
///   - turn "C1: Pat trusts me. I never give up on Pat.", attributed to participant P1 (so to
///     C1-P1): "Pat trusts me." trust, "I never give up on Pat." not-giving-up;
///   - turn "C1: Quinn, I listen to her.", attributed to dyad C1-P2: "I listen to her."
///     presence;
///   - turn "C1: I never give up on anyone.", attributed to no one (general): "I never give
///     up on anyone." not-giving-up;
/// - `p1.txt` (P1, dyad C1-P1), one turn "P1: She listens to me. I trust her. Later, I hope.":
///   "She listens to me." presence; "I trust her." trust by `a` and by `b`; "I hope." hope;
/// - `p2.txt` (P2, dyad C1-P2): "I do not trust doctors." trust, a contrast coding;
/// - `p3.txt` (P3, dyad C2-P3): "He is always there." presence;
/// - `note.txt`, a field note of no participant, attributed to dyad C1-P1: "laughed together"
///   trust;
/// - `c2.txt`, C2's interview: turn "C2: I heard Pat trusts C1." attributed to participant P1
///   (C2 and P1 form no dyad, so every dyad of P1: C1-P1, where it is another source), coded
///   trust; turn "C2: Sam trusts me now." attributed to P3 (C2-P3): "Sam trusts me now." trust.
pub fn attributed_parts() -> (StudyBundle, Option<between_model::Theory>) {
    use between_core::*;
    const NOW: &str = "2026-01-01T00:00:00Z";
    let person = |label: &str, role| Participant {
        id: ParticipantId::new(),
        label: label.into(),
        role,
        name: None,
        attributes: Default::default(),
        version: 1,
    };
    let people = [
        person("C1", Role::Clinician),
        person("C2", Role::Clinician),
        person("P1", Role::Patient),
        person("P2", Role::Patient),
        person("P3", Role::Patient),
    ];
    let [c1, c2, p1, p2, p3] = &people;
    let dyad = |c: &Participant, p: &Participant| Dyad {
        id: DyadId::new(),
        label: format!("{}-{}", c.label, p.label),
        clinician: c.id,
        patient: p.id,
        relationship_start: None,
        notes: String::new(),
        version: 1,
    };
    let dyads = [dyad(c1, p1), dyad(c1, p2), dyad(c2, p3)];
    let source = |name: &str, kind, who: Option<&Participant>, dyad: Option<&Dyad>, text: &str| {
        let mut turns = Vec::new();
        let mut at = 0;
        for chunk in text.split("\n\n") {
            if let Some((label, _)) = chunk.split_once(": ") {
                turns.push(Turn {
                    span: Span {
                        start: at + label.chars().count() + 2,
                        end: at + chunk.chars().count(),
                    },
                    speaker: Some(label.to_string()),
                    start_ms: None,
                    end_ms: None,
                });
            }
            at += chunk.chars().count() + 2;
        }
        Source {
            id: SourceId::new(),
            name: name.into(),
            kind,
            participant: who.map(|p| p.id),
            dyad: dyad.map(|d| d.id),
            text: text.into(),
            turns,
            speakers: Vec::new(),
            markers: Vec::new(),
            interview: Default::default(),
            imported_at: NOW.into(),
            blind: false,
            version: 1,
        }
    };
    let interview = SourceKind::Interview;
    let sources = [
        source(
            "c1.txt",
            interview,
            Some(c1),
            None,
            "I: Tell me about Pat.\n\nC1: Pat trusts me. I never give up on Pat.\n\nI: And \
             Quinn?\n\nC1: Quinn, I listen to her.\n\nI: And in general?\n\nC1: I never give up \
             on anyone.",
        ),
        source(
            "p1.txt",
            interview,
            Some(p1),
            Some(&dyads[0]),
            "P1: She listens to me. I trust her. Later, I hope.",
        ),
        source(
            "p2.txt",
            interview,
            Some(p2),
            Some(&dyads[1]),
            "P2: I do not trust doctors.",
        ),
        source(
            "p3.txt",
            interview,
            Some(p3),
            Some(&dyads[2]),
            "P3: He is always there.",
        ),
        source(
            "note.txt",
            SourceKind::FieldNote,
            None,
            None,
            "Pat and the doctor laughed together.",
        ),
        source(
            "c2.txt",
            interview,
            Some(c2),
            None,
            "C2: I heard Pat trusts C1.\n\nC2: Sam trusts me now.",
        ),
    ];
    let theory = between_model::resolve("healing-relationship-model").expect("theory");
    let components: Vec<&str> = vec![
        "trust",
        "not-giving-up",
        "presence",
        "hope",
        "valuing",
        "abiding",
    ];
    let codes: Vec<Code> = components
        .iter()
        .map(|c| Code {
            id: CodeId::new(),
            parent: None,
            name: c.to_string(),
            colour: "#112233".into(),
            definition: String::new(),
            indicators: Vec::new(),
            component: Some(c.to_string()),
            version: 1,
        })
        .collect();
    let named = |name: &str| sources.iter().find(|s| s.name == name).expect("source");
    let span =
        |name: &str, quote: &str| text::find_quote(&named(name).text, quote, None).expect("quote");
    let coding = |name: &str, code: &str, quote: &str, coder: &str, contrast: bool| Coding {
        id: CodingId::new(),
        source: named(name).id,
        code: codes.iter().find(|c| c.name == code).expect("code").id,
        span: span(name, quote),
        coder: coder.into(),
        contrast,
        memo: None,
        created_at: NOW.into(),
        updated_at: NOW.into(),
        version: 1,
    };
    let codings = vec![
        coding("c1.txt", "trust", "Pat trusts me.", "a", false),
        coding(
            "c1.txt",
            "not-giving-up",
            "I never give up on Pat.",
            "a",
            false,
        ),
        coding("c1.txt", "presence", "I listen to her.", "a", false),
        coding(
            "c1.txt",
            "not-giving-up",
            "I never give up on anyone.",
            "a",
            false,
        ),
        coding("p1.txt", "presence", "She listens to me.", "a", false),
        coding("p1.txt", "trust", "I trust her.", "a", false),
        coding("p1.txt", "trust", "I trust her.", "b", false),
        coding("p1.txt", "hope", "I hope.", "a", false),
        coding("p2.txt", "trust", "I do not trust doctors.", "a", true),
        coding("p3.txt", "presence", "He is always there.", "a", false),
        coding("note.txt", "trust", "laughed together", "a", false),
        coding("c2.txt", "trust", "Pat trusts C1.", "a", false),
        coding("c2.txt", "trust", "Sam trusts me now.", "a", false),
    ];
    let turn = |name: &str, quote: &str| {
        let s = named(name);
        let at = span(name, quote).start;
        s.turns
            .iter()
            .find(|t| t.span.start <= at && at < t.span.end)
            .expect("turn")
            .span
    };
    let attribution = |name: &str, span: Span, about| Attribution {
        id: AttributionId::new(),
        source: named(name).id,
        span,
        about,
        attributed_by: "a".into(),
        attributed_at: NOW.into(),
    };
    let whole = |name: &str| Span {
        start: 0,
        end: named(name).text.chars().count(),
    };
    let attributions = vec![
        attribution(
            "c1.txt",
            turn("c1.txt", "Pat trusts me."),
            AttributionTarget::Participant(p1.id),
        ),
        attribution(
            "c1.txt",
            turn("c1.txt", "Quinn, I listen"),
            AttributionTarget::Dyad(dyads[1].id),
        ),
        attribution(
            "c2.txt",
            turn("c2.txt", "Pat trusts C1."),
            AttributionTarget::Participant(p1.id),
        ),
        attribution(
            "c2.txt",
            turn("c2.txt", "Sam trusts me"),
            AttributionTarget::Participant(p3.id),
        ),
        attribution(
            "note.txt",
            whole("note.txt"),
            AttributionTarget::Dyad(dyads[0].id),
        ),
    ];
    let bundle = StudyBundle {
        name: "attributed".into(),
        participants: people.to_vec(),
        dyads: dyads.to_vec(),
        codes,
        sources: sources.to_vec(),
        codings,
        attributions,
        ..Default::default()
    };
    (bundle, Some(theory))
}

pub fn attributed() -> Corpus {
    let (bundle, theory) = attributed_parts();
    Corpus::new(bundle, theory)
}
