//! A small study made by hand, whose right answers were worked out on paper before the code
//! ran: two clinicians, three patients, attributed passages, overlapping and contrast codings
//! by two coders. It is built through the `Workbench` on a real study file, as a team would.
//!
//! The theory: processes `valuing` (sub-component `presence`) and `abiding` (sub-component
//! `not-giving-up`), outcomes `trust` and `hope`; propositions valuing → trust (P1) and
//! abiding → hope (P2). People: clinicians C1 and C2; patients P1 and P2 (C1's) and P3 (C2's);
//! dyads C1-P1, C1-P2, C2-P3. Coders: maria and sam.
//!
//! | source (date)      | turn (attributed to)                                     | codings |
//! |--------------------|----------------------------------------------------------|---------|
//! | c1, C1 (1 Jan)     | 1 "I sit with every patient and listen." (no one)        | maria presence (whole) |
//! |                    | 2 "With Pat One I kept coming back, …" (P1)              | maria abiding "I kept coming back, year after year"; sam abiding "kept coming back"; maria hope "now she has hope again" |
//! |                    | 3 "With Pat Two I sat and listened to her fear." (C1-P2) | maria presence "sat and listened to her fear" |
//! | p1, C1-P1 (2 Jan)  | "She listens to me. I trust her completely."             | maria valuing "She listens to me."; maria and sam trust "I trust her completely." |
//! | p2, C1-P2 (3 Jan)  | 1 "She sits with me and I trust her."                    | maria presence (whole); maria trust "I trust her" |
//! |                    | 2 "She never judged me."                                 | sam valuing (whole) |
//! | p3, C2-P3 (4 Jan)  | 1 "I never trusted doctors before him."                  | maria trust (whole); sam trust as a contrast (whole) |
//! |                    | 2 "He keeps coming back to see me, so I have hope."      | maria not-giving-up "He keeps coming back to see me"; maria hope "so I have hope" |
//! | c2, C2 (5 Jan)     | 1 "With Pat Three, I never gave up on him." (P3)         | maria abiding "I never gave up on him" |
//! |                    | 2 "Patients need hope." (no one)                         | maria hope (whole) |

use between_core::{InterviewInfo, Role};
use between_study::{
    CodingTarget, ImportFile, ImportOptions, NewCoding, NewDyad, NewParticipant, NewStudy,
    Workbench,
};

const THEORY: &str = r##"
id = "hand-made"
name = "Hand-made"
version = "1"
status = "draft"
description = "Two processes, two outcomes."

[[component]]
id = "valuing"
name = "Valuing"
kind = "process"
definition = "The clinician values the patient."

  [[component.sub]]
  id = "presence"
  name = "Presence"
  kind = "dimension"
  definition = "Being there."

[[component]]
id = "abiding"
name = "Abiding"
kind = "process"
definition = "Staying with the patient."

  [[component.sub]]
  id = "not-giving-up"
  name = "Not giving up"
  kind = "dimension"
  definition = "Never giving up on the patient."

[[component]]
id = "trust"
name = "Trust"
kind = "outcome"
definition = "The patient trusts."

[[component]]
id = "hope"
name = "Hope"
kind = "outcome"
definition = "The patient hopes."

[[proposition]]
from = ["valuing"]
to = ["trust"]
relation = "leads-to"
basis = "stated-in-source"

[[proposition]]
from = ["abiding"]
to = ["hope"]
relation = "leads-to"
basis = "stated-in-source"
"##;

/// One coding by quote: (source, code, words, coder, contrast).
type Coded = (&'static str, &'static str, &'static str, &'static str, bool);

const CODINGS: &[Coded] = &[
    (
        "c1.txt",
        "presence",
        "I sit with every patient and listen.",
        "maria",
        false,
    ),
    (
        "c1.txt",
        "abiding",
        "I kept coming back, year after year",
        "maria",
        false,
    ),
    ("c1.txt", "abiding", "kept coming back", "sam", false),
    ("c1.txt", "hope", "now she has hope again", "maria", false),
    (
        "c1.txt",
        "presence",
        "sat and listened to her fear",
        "maria",
        false,
    ),
    ("p1.txt", "valuing", "She listens to me.", "maria", false),
    ("p1.txt", "trust", "I trust her completely.", "maria", false),
    ("p1.txt", "trust", "I trust her completely.", "sam", false),
    (
        "p2.txt",
        "presence",
        "She sits with me and I trust her.",
        "maria",
        false,
    ),
    ("p2.txt", "trust", "I trust her", "maria", false),
    ("p2.txt", "valuing", "She never judged me.", "sam", false),
    (
        "p3.txt",
        "trust",
        "I never trusted doctors before him.",
        "maria",
        false,
    ),
    (
        "p3.txt",
        "trust",
        "I never trusted doctors before him.",
        "sam",
        true,
    ),
    (
        "p3.txt",
        "not-giving-up",
        "He keeps coming back to see me",
        "maria",
        false,
    ),
    ("p3.txt", "hope", "so I have hope", "maria", false),
    (
        "c2.txt",
        "abiding",
        "I never gave up on him",
        "maria",
        false,
    ),
    ("c2.txt", "hope", "Patients need hope.", "maria", false),
];

/// The study, with sam's contrast in p3 made evidence when `sam_agrees_on_p3`.
pub fn build(dir: &std::path::Path, sam_agrees_on_p3: bool) -> Workbench {
    let theory = between_model::Theory::from_toml(THEORY, "hand-made.toml").expect("theory");
    let mut wb = Workbench::create(
        &dir.join("hand-made.between"),
        NewStudy {
            name: "hand-made".into(),
            theory: Some(theory),
            ..Default::default()
        },
        &between_store::OpenOptions::default(),
        "maria",
    )
    .expect("study");
    for (label, role) in [
        ("C1", Role::Clinician),
        ("C2", Role::Clinician),
        ("P1", Role::Patient),
        ("P2", Role::Patient),
        ("P3", Role::Patient),
    ] {
        wb.add_participant(NewParticipant {
            label: label.into(),
            role: Some(role),
            ..Default::default()
        })
        .expect("participant");
    }
    for (clinician, patient) in [("C1", "P1"), ("C1", "P2"), ("C2", "P3")] {
        wb.add_dyad(NewDyad {
            clinician: clinician.into(),
            patient: patient.into(),
            ..Default::default()
        })
        .expect("dyad");
    }
    let sources: [(&str, &str, Option<&str>, &str, &str); 5] = [
        (
            "c1.txt",
            "C1",
            None,
            "2025-01-01",
            "INTERVIEWER: How do you work?\n\
             C1: I sit with every patient and listen.\n\
             INTERVIEWER: Tell me about Pat One.\n\
             C1: With Pat One I kept coming back, year after year, and now she has hope again.\n\
             INTERVIEWER: And Pat Two?\n\
             C1: With Pat Two I sat and listened to her fear.\n",
        ),
        (
            "p1.txt",
            "P1",
            Some("C1-P1"),
            "2025-01-02",
            "INTERVIEWER: How is she?\nP1: She listens to me. I trust her completely.\n",
        ),
        (
            "p2.txt",
            "P2",
            Some("C1-P2"),
            "2025-01-03",
            "INTERVIEWER: How is she?\n\
             P2: She sits with me and I trust her.\n\
             INTERVIEWER: Anything else?\n\
             P2: She never judged me.\n",
        ),
        (
            "p3.txt",
            "P3",
            Some("C2-P3"),
            "2025-01-04",
            "INTERVIEWER: How is he?\n\
             P3: I never trusted doctors before him.\n\
             INTERVIEWER: And now?\n\
             P3: He keeps coming back to see me, so I have hope.\n",
        ),
        (
            "c2.txt",
            "C2",
            None,
            "2025-01-05",
            "INTERVIEWER: Tell me about Pat Three.\n\
             C2: With Pat Three, I never gave up on him.\n\
             INTERVIEWER: And hope?\n\
             C2: Patients need hope.\n",
        ),
    ];
    for (name, who, dyad, date, text) in sources {
        let options = ImportOptions {
            participant: Some(who.into()),
            dyad: dyad.map(String::from),
            interview: InterviewInfo {
                date: Some(date.into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let file = ImportFile {
            name: name.into(),
            bytes: text.as_bytes().to_vec(),
        };
        wb.import_files(vec![file], &options, &mut |_, _| {})
            .expect("import");
    }
    for (source, quote, about) in [
        (
            "c1.txt",
            "With Pat One I kept coming back, year after year, and now she has hope again.",
            "P1",
        ),
        (
            "c1.txt",
            "With Pat Two I sat and listened to her fear.",
            "C1-P2",
        ),
        ("c2.txt", "With Pat Three, I never gave up on him.", "P3"),
    ] {
        wb.attribute_quote(source, quote, None, &[about.to_string()])
            .expect("attribution");
    }
    let codings = CODINGS
        .iter()
        .map(|&(source, code, quote, coder, contrast)| {
            let contrast = contrast && !(sam_agrees_on_p3 && source == "p3.txt");
            NewCoding {
                source: source.into(),
                code: code.into(),
                target: CodingTarget::Quote {
                    text: quote.into(),
                    occurrence: None,
                },
                coder: Some(coder.into()),
                memo: None,
                contrast,
            }
        })
        .collect();
    wb.apply_codings(codings).expect("codings");
    wb
}

/// The dyads each coding speaks for, by quote: the attribution it lies in, else its source's
/// dyad; a clinician's words about no one speak for no dyad.
#[test]
fn each_coding_speaks_for_the_dyads_worked_out_by_hand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wb = build(dir.path(), false);
    let corpus = between_findings::Corpus::of(&wb).expect("corpus");
    let expected: &[(&str, &str, &str, &[&str])] = &[
        (
            "c1.txt",
            "presence",
            "I sit with every patient and listen.",
            &[],
        ),
        (
            "c1.txt",
            "abiding",
            "I kept coming back, year after year",
            &["C1-P1"],
        ),
        ("c1.txt", "abiding", "kept coming back", &["C1-P1"]),
        ("c1.txt", "hope", "now she has hope again", &["C1-P1"]),
        (
            "c1.txt",
            "presence",
            "sat and listened to her fear",
            &["C1-P2"],
        ),
        ("p1.txt", "trust", "I trust her completely.", &["C1-P1"]),
        ("p2.txt", "valuing", "She never judged me.", &["C1-P2"]),
        ("p3.txt", "hope", "so I have hope", &["C2-P3"]),
        ("c2.txt", "abiding", "I never gave up on him", &["C2-P3"]),
        ("c2.txt", "hope", "Patients need hope.", &[]),
    ];
    for &(name, code, quote, dyads) in expected {
        let source = corpus
            .sources
            .iter()
            .find(|s| s.name == name)
            .expect("source");
        let coding = corpus
            .codings_of(source.id)
            .iter()
            .find(|c| {
                corpus.code_component(c.code) == Some(code)
                    && corpus.text_of(source, c.span) == quote
            })
            .unwrap_or_else(|| panic!("{name}: no {code} coding of {quote:?}"));
        let mut found: Vec<&str> = corpus
            .dyads_of_passage(source, coding.span)
            .iter()
            .map(|d| d.label.as_str())
            .collect();
        found.sort();
        assert_eq!(found, dyads, "{name}: {quote:?}");
    }
}

/// Per dyad and component, (clinician, patient) passages and the presence, worked out by hand
/// from the table at the top: C1's "every patient" turn and C2's "Patients need hope" count for
/// no dyad; the two overlapping abiding codings in c1 are one passage; p2's presence passage
/// holds its trust coding, and its two valuing passages do not overlap.
#[test]
fn the_dyad_matrix_counts_as_worked_out_by_hand() {
    use between_findings::triangulation::{Coders, Presence, triangulate};
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = between_findings::Corpus::of(&build(dir.path(), false)).expect("corpus");
    let t = triangulate(&corpus, &Coders::All).expect("triangulation");
    let expected: &[(&str, &str, (usize, usize), Presence)] = &[
        ("C1-P1", "valuing", (0, 1), Presence::PatientOnly),
        ("C1-P1", "presence", (0, 0), Presence::None),
        ("C1-P1", "abiding", (1, 0), Presence::ClinicianOnly),
        ("C1-P1", "trust", (0, 1), Presence::PatientOnly),
        ("C1-P1", "hope", (1, 0), Presence::ClinicianOnly),
        ("C1-P2", "valuing", (1, 2), Presence::Both),
        ("C1-P2", "presence", (1, 1), Presence::Both),
        ("C1-P2", "abiding", (0, 0), Presence::None),
        ("C1-P2", "trust", (0, 1), Presence::PatientOnly),
        ("C1-P2", "hope", (0, 0), Presence::None),
        ("C2-P3", "valuing", (0, 0), Presence::None),
        ("C2-P3", "abiding", (1, 1), Presence::Both),
        ("C2-P3", "not-giving-up", (0, 1), Presence::PatientOnly),
        ("C2-P3", "trust", (0, 1), Presence::PatientOnly),
        ("C2-P3", "hope", (0, 1), Presence::PatientOnly),
    ];
    let cell = |dyad: &str, component: &str| {
        &t.cells[t.dyad_position(dyad).expect("dyad")]
            [t.component_position(component).expect("component")]
    };
    for &(dyad, component, (clinician, patient), presence) in expected {
        let c = cell(dyad, component);
        assert_eq!(
            (c.clinician.passages, c.patient.passages, c.presence),
            (clinician, patient, presence),
            "{dyad} × {component}"
        );
    }
    // One passage, two codings: the overlapping abiding codings, both coders' trust in p1.
    assert_eq!(cell("C1-P1", "abiding").clinician.codings.len(), 2);
    assert_eq!(cell("C1-P1", "trust").patient.codings.len(), 2);
    // sam's contrast on p3's trust passage is listed apart, not counted.
    let trust = &cell("C2-P3", "trust").patient;
    assert_eq!((trust.codings.len(), trust.contrast_passages), (1, 1));
    // About no particular patient: C1's presence (so valuing) turn, C2's hope turn.
    let general = |who: &str, component: &str| {
        t.general_of(who).expect("general evidence").cells
            [t.component_position(component).expect("component")]
        .passages
    };
    assert_eq!(
        [
            general("C1", "presence"),
            general("C1", "valuing"),
            general("C1", "hope"),
            general("C2", "hope"),
            general("C2", "abiding"),
        ],
        [1, 1, 0, 1, 0]
    );
    assert_eq!(
        t.general.len(),
        2,
        "patients' accounts all speak for their dyad"
    );
    // Case pages count alike: C1's valuing in C1-P1 (1 patient passage) and C1-P2 (1 + 2), and
    // C1's "every patient" turn apart.
    let cases = between_findings::Cases::new(&corpus, 3);
    let c1 = cases.clinician("C1").expect("C1's case");
    let valuing = c1.general.iter().find(|g| g.component == "valuing");
    assert_eq!(valuing.map(|g| g.passages), Some(1));
    let comparison = cases.comparison();
    let column = comparison
        .clinicians
        .iter()
        .position(|(label, _)| label == "C1")
        .expect("C1's column");
    let (_, _, row) = comparison
        .rows
        .iter()
        .find(|(id, _, _)| id == "valuing")
        .expect("valuing");
    let c = &row[column];
    assert_eq!((c.dyads, c.passages, c.general_passages), (2, 4, 1));
}

/// P1 valuing → trust and P2 abiding → hope, dyad by dyad, under each reading, worked out by
/// hand from the matrix above and the texts: p1's valuing and trust passages are one turn, not
/// overlapping; p2's presence passage contains "I trust her"; C1's abiding ends 6 characters
/// before its hope (", and "), P3's not-giving-up 2 before its hope (", ").
#[test]
fn proposition_support_under_each_reading_as_worked_out_by_hand() {
    use Standing::{Apart, Both, Neither, SourceOnly, TargetOnly};
    use between_findings::Proximity;
    use between_findings::propositions::{Reading, SideRule, Standing, support};
    use between_findings::triangulation::{Coders, triangulate};
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = between_findings::Corpus::of(&build(dir.path(), false)).expect("corpus");
    let t = triangulate(&corpus, &Coders::All).expect("triangulation");
    let standings = |together: Option<Proximity>, target_from_patient: bool| {
        let s = support(
            &corpus,
            &t,
            Reading {
                rule: SideRule::Any,
                together,
                target_from_patient,
            },
        );
        s.propositions
            .iter()
            .map(|p| p.dyads.iter().map(|d| d.standing).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    };
    // Dyads in order C1-P1, C1-P2, C2-P3.
    assert_eq!(
        standings(None, false),
        [[Both, Both, TargetOnly], [Both, Neither, Both]]
    );
    assert_eq!(
        standings(None, true),
        [[Both, Both, TargetOnly], [SourceOnly, Neither, Both]],
        "C1-P1's hope is only in C1's account"
    );
    assert_eq!(
        standings(Some(Proximity::Overlap), false),
        [[Apart, Both, TargetOnly], [Apart, Neither, Apart]]
    );
    assert_eq!(
        standings(Some(Proximity::SameTurn), false),
        [[Both, Both, TargetOnly], [Both, Neither, Both]]
    );
    assert_eq!(
        standings(Some(Proximity::Near(2)), false)[1],
        [Apart, Neither, Both]
    );
    assert_eq!(
        standings(Some(Proximity::Near(5)), false)[1],
        [Apart, Neither, Both]
    );
    assert_eq!(
        standings(Some(Proximity::Near(6)), false)[1],
        [Both, Neither, Both]
    );
    // Counter-evidence: sam's contrast of trust in P3's account, against P1 in C2-P3 only.
    let s = support(&corpus, &t, SideRule::Any);
    let p1 = &s.propositions[0];
    assert_eq!(p1.contrast_dyads, 1);
    let c2p3 = &p1.dyads[2];
    assert_eq!(
        (
            c2p3.source_contrast_passages,
            c2p3.target_contrast_passages,
            c2p3.target_contrast.len()
        ),
        (0, 1, 1)
    );
    assert_eq!(s.propositions[1].contrast_dyads, 0);
    // Had sam agreed, the contrast would be evidence: no counter-evidence left.
    let other = tempfile::tempdir().expect("tempdir");
    let agreed = between_findings::Corpus::of(&build(other.path(), true)).expect("corpus");
    let t = triangulate(&agreed, &Coders::All).expect("triangulation");
    let p1 = &support(&agreed, &t, SideRule::Any).propositions[0];
    assert_eq!((p1.contrast_dyads, p1.both), (0, 2));
}

/// Co-occurrence, by hand (pairs are one coder's codings; contrast codings take no part):
/// - Valuing ~ Trust, overlap: p1's valuing and trust do not overlap; in p2 maria's presence
///   (the whole turn) overlaps her trust "I trust her": Presence ~ Trust 1. Without sub-codes
///   Valuing ~ Trust is 0; with them the presence coding counts for Valuing too: 1.
/// - Valuing ~ Trust, same turn: p1's turn has maria's valuing and trust (1); p2's first turn
///   her presence and trust, which roll up: 1 without sub-codes, 2 with.
/// - Abiding ~ Hope, same turn: c1's second turn has maria's abiding and hope (1); p3's second
///   turn her not-giving-up and hope, which roll up: 1 without, 2 with. Overlapping, none.
#[test]
fn cooccurrence_with_and_without_sub_codes_as_worked_out_by_hand() {
    use between_findings::{CodingFilter, Cooccurrence, Proximity};
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = between_findings::Corpus::of(&build(dir.path(), false)).expect("corpus");
    let cell = |m: &Cooccurrence, a: &str, b: &str| {
        let at = |c: &str| {
            let id = corpus.resolve_code(c).expect(c).id;
            m.codes.iter().position(|l| l.id == id)
        };
        at(a).zip(at(b)).map_or(0, |(i, j)| m.counts[i][j])
    };
    let of = |proximity, include_subcodes| {
        let filter = CodingFilter {
            coders: None,
            include_subcodes,
        };
        corpus.cooccurrence(proximity, None, &filter)
    };
    for (proximity, a, b, without, with) in [
        (Proximity::Overlap, "valuing", "trust", 0, 1),
        (Proximity::Overlap, "presence", "trust", 1, 1),
        (Proximity::SameTurn, "valuing", "trust", 1, 2),
        (Proximity::SameTurn, "abiding", "hope", 1, 2),
        (Proximity::SameTurn, "not-giving-up", "hope", 1, 1),
        (Proximity::Overlap, "abiding", "hope", 0, 0),
    ] {
        assert_eq!(
            (
                cell(&of(proximity, false), a, b),
                cell(&of(proximity, true), a, b)
            ),
            (without, with),
            "{a} ~ {b}, {proximity}"
        );
    }
}

/// Agreement between maria and sam on Trust, by hand. Trust is coded by maria in p1 ("I trust
/// her completely."), p2 ("I trust her") and p3 (its first answer); by sam in p1 (the same
/// words) and p3 (the same words, as a contrast case unless `sam_agrees_on_p3`).
/// - Turns (every speaker turn of the five sources: 6 + 2 + 4 + 4 + 4 = 20): sam agreeing,
///   the coders differ on p2's first answer only (19 of 20 agree); with sam's contrast, on
///   p3's first answer as well (18 of 20).
/// - Segments: sam agreeing, p1's and p3's pairs match and maria's p2 segment does not (4 of
///   5); with the contrast, only p1's pair matches (2 of 4), and sam's contrast segment,
///   a category of its own, matches none of maria's (0 of 1).
#[test]
fn agreement_counts_a_contrast_case_as_disagreement_as_worked_out_by_hand() {
    use between_study::{AgreementReport, AgreementUnit};
    let coders = ["maria".to_string(), "sam".to_string()];
    let report = |sam_agrees: bool, unit| {
        let dir = tempfile::tempdir().expect("tempdir");
        build(dir.path(), sam_agrees)
            .agreement(&coders, &[], &[], unit)
            .expect("agreement")
    };
    let value = |r: &AgreementReport, row: &str, measure: &str| {
        let row = r.codes.iter().find(|c| c.code == row).expect(row);
        row.measures
            .iter()
            .find(|m| m.name.starts_with(measure))
            .and_then(|m| m.value)
            .unwrap_or_else(|| panic!("{measure} of {}", row.code))
    };
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    let (agreeing, opposed) = (
        report(true, AgreementUnit::Turns),
        report(false, AgreementUnit::Turns),
    );
    assert_eq!(agreeing.units, 20);
    let turns = "percent agreement over turns";
    assert!(close(value(&agreeing, "Trust", turns), 19.0 / 20.0));
    assert!(close(value(&opposed, "Trust", turns), 18.0 / 20.0));
    assert!(agreeing.codes.iter().all(|c| !c.contrast));
    let segments = AgreementUnit::Segments { min_overlap: 0.9 };
    let (agreeing, opposed) = (report(true, segments), report(false, segments));
    assert!(close(
        value(&agreeing, "Trust", "segment agreement"),
        4.0 / 5.0
    ));
    assert!(close(
        value(&opposed, "Trust", "segment agreement"),
        2.0 / 4.0
    ));
    assert!(close(
        value(&opposed, "Trust (contrast)", "segment agreement"),
        0.0
    ));
    // Over characters, the figures that ask which category the coders chose fall too.
    let (agreeing, opposed) = (
        report(true, AgreementUnit::Characters),
        report(false, AgreementUnit::Characters),
    );
    for measure in ["α-binary (|uα", "percent agreement over characters"] {
        assert!(
            value(&opposed, "Trust", measure) < value(&agreeing, "Trust", measure),
            "{measure}"
        );
    }
}

/// Saturation, by hand. Interviews by date: c1 (1 Jan) introduces presence, abiding and hope
/// (3); p1 valuing and trust (2); p2 nothing new (0); p3 not-giving-up (1); c2 nothing (0).
/// - Consecutive, k 1: after p1 the next interview brings nothing: reached at 2 (p1),
///   confirmed by 3; but p3, interview 4, brings 1 new code: contradicted.
/// - Consecutive, the default k 3: no three interviews in a row bring nothing: not reached.
/// - Guest, base 2 (5 codes), run 2, ≤ 20% (1 code): after 2, interviews 3–4 bring 1 (20%):
///   reached at 2, confirmed by 4; after it, 4–5 bring 1 and 5 nothing: not contradicted.
///   At ≤ 10% (0 codes) no full run after the base qualifies (3–4 and 4–5 bring 1 each):
///   not reached.
#[test]
fn saturation_as_worked_out_by_hand() {
    use between_findings::saturation::{StoppingRule, Verdict, saturation};
    use between_findings::triangulation::Coders;
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = between_findings::Corpus::of(&build(dir.path(), false)).expect("corpus");
    let of = |rule| saturation(&corpus, &Coders::All, rule).expect("saturation");
    let s = of(StoppingRule::new(1, 1).expect("rule"));
    let new: Vec<usize> = s.interviews.iter().map(|i| i.new_codes.len()).collect();
    assert_eq!(new, [3, 2, 0, 1, 0]);
    let Verdict::Reached {
        at,
        confirmed_by,
        contradicted_by,
        ..
    } = &s.verdict
    else {
        panic!("{}", s.statement)
    };
    assert_eq!((*at, *confirmed_by), (2, 3));
    let later: Vec<(usize, usize)> = contradicted_by
        .iter()
        .map(|l| (l.position, l.new_codes))
        .collect();
    assert_eq!(later, [(4, 1)]);
    assert!(s.statement.contains("contradicted"), "{}", s.statement);
    assert!(matches!(
        of(StoppingRule::default()).verdict,
        Verdict::NotYet { .. }
    ));
    let guest = of(StoppingRule::guest(2, 2, 0.2).expect("rule"));
    let Verdict::Reached {
        at, confirmed_by, ..
    } = &guest.verdict
    else {
        panic!("{}", guest.statement)
    };
    assert_eq!((*at, *confirmed_by), (2, 4));
    assert!(guest.verdict.holds(), "{}", guest.statement);
    assert!(matches!(
        of(StoppingRule::guest(2, 2, 0.1).expect("rule")).verdict,
        Verdict::NotYet { .. }
    ));
}

/// `query freq --by dyad` and `--by clinician`, per column, worked out from the table above:
/// each coding once per column, contrast apart; the clinicians' words about no one under a
/// column of their own; and `stats` counting alike.
#[test]
fn the_dyad_and_clinician_columns_count_as_worked_out_by_hand() {
    use between_findings::{CodingFilter, Grouping};
    use between_study::Count;
    let dir = tempfile::tempdir().expect("tempdir");
    let wb = build(dir.path(), false);
    let corpus = between_findings::Corpus::of(&wb).expect("corpus");
    let count = |codings, contrast| Count { codings, contrast };
    let columns = |by: Grouping| {
        let m = corpus
            .matrix(&by, None, &CodingFilter::default())
            .expect("a matrix");
        let counts: Vec<(String, Count)> = m.column_counts().into_iter().collect();
        (counts, m.rule)
    };
    let (by_dyad, rule) = columns(Grouping::Dyad);
    assert_eq!(
        by_dyad,
        [
            ("(about no particular dyad)".to_string(), count(2, 0)),
            ("C1-P1".to_string(), count(6, 0)),
            ("C1-P2".to_string(), count(4, 0)),
            ("C2-P3".to_string(), count(4, 1)),
        ]
    );
    assert!(rule.contains("counts for none"), "{rule}");
    // No passage here is about two dyads, so the columns add up to every coding once.
    let stats = wb.stats().expect("stats");
    assert_eq!(
        by_dyad.into_iter().map(|(_, c)| c).sum::<Count>(),
        stats.count()
    );
    assert_eq!(stats.count(), count(16, 1));
    let (by_clinician, _) = columns(Grouping::Clinician);
    assert_eq!(
        by_clinician,
        [
            ("C1".to_string(), count(11, 0)),
            ("C2".to_string(), count(5, 1)),
        ],
        "a clinician's own words about no one are still theirs"
    );
}
