use super::*;
use between_study::StudyBundle;

const NOW: &str = "2026-01-01T00:00:00Z";

fn person(label: &str, role: Role) -> Participant {
    Participant {
        id: ParticipantId::new(),
        label: label.into(),
        role,
        name: None,
        attributes: Default::default(),
        version: 1,
    }
}

fn source(name: &str, who: &Participant, dyad: Option<DyadId>, text: &str) -> Source {
    Source {
        id: SourceId::new(),
        name: name.into(),
        kind: SourceKind::Interview,
        participant: Some(who.id),
        dyad,
        text: text.into(),
        turns: Vec::new(),
        speakers: Vec::new(),
        markers: Vec::new(),
        interview: Default::default(),
        imported_at: NOW.into(),
        blind: false,
        version: 1,
    }
}

fn code(name: &str, component: &str) -> Code {
    Code {
        id: CodeId::new(),
        parent: None,
        name: name.into(),
        colour: "#112233".into(),
        definition: String::new(),
        indicators: Vec::new(),
        component: Some(component.into()),
        version: 1,
    }
}

fn coding(s: &Source, c: &Code, start: usize, end: usize, coder: &str, contrast: bool) -> Coding {
    Coding {
        id: CodingId::new(),
        source: s.id,
        code: c.id,
        span: Span { start, end },
        coder: coder.into(),
        contrast,
        memo: None,
        created_at: NOW.into(),
        updated_at: NOW.into(),
        version: 1,
    }
}

/// A clinician C with patients P and Q. C's interview names no dyad and attributes nothing, so
/// it is C's general evidence, about no particular patient.
struct Small {
    corpus: Corpus,
    in_p_trust_short: CodingId,
}

fn small() -> Small {
    let (c, p, q) = (
        person("C", Role::Clinician),
        person("P", Role::Patient),
        person("Q", Role::Patient),
    );
    let dyad = |patient: &Participant| Dyad {
        id: DyadId::new(),
        label: format!("C-{}", patient.label),
        clinician: c.id,
        patient: patient.id,
        relationship_start: None,
        notes: String::new(),
        version: 1,
    };
    let (cp, cq) = (dyad(&p), dyad(&q));
    let sc = source("c.txt", &c, None, "I trust my patients and they trust me.");
    let sp = source(
        "p.txt",
        &p,
        Some(cp.id),
        "I trust her. She listens to me. The other doctor never did. Trust.",
    );
    let sq = source("q.txt", &q, Some(cq.id), "Nothing coded here.");
    let trust = code("Trust", "trust");
    let presence = code("Presence", "presence");
    let codings = vec![
        coding(&sc, &trust, 0, 7, "maria", false),
        // The same passage by two coders: one passage, coded twice.
        coding(&sp, &trust, 0, 12, "maria", false),
        coding(&sp, &trust, 0, 12, "sam", false),
        coding(&sp, &presence, 13, 31, "maria", false),
        coding(&sp, &presence, 32, 59, "maria", true),
        coding(&sp, &trust, 60, 66, "maria", false),
    ];
    let in_p_trust_short = codings[5].id;
    let memo = Memo {
        id: MemoId::new(),
        target: MemoTarget::Dyad(cp.id),
        passage: None,
        author: "maria".into(),
        title: "On C-P".into(),
        text: "t".into(),
        created_at: NOW.into(),
        updated_at: NOW.into(),
        version: 1,
    };
    let other = Memo {
        target: MemoTarget::Dyad(cq.id),
        title: "On C-Q".into(),
        ..memo.clone()
    };
    let bundle = StudyBundle {
        name: "small".into(),
        participants: vec![c, p, q],
        dyads: vec![cp, cq],
        codes: vec![trust, presence],
        sources: vec![sc, sp, sq],
        codings,
        memos: vec![memo, other],
        ..Default::default()
    };
    let theory = between_model::resolve("healing-relationship-model").expect("theory");
    Small {
        corpus: Corpus::new(bundle, Some(theory)),
        in_p_trust_short,
    }
}

fn component<'a>(case: &'a DyadCase, id: &str) -> &'a ComponentEvidence {
    case.components
        .iter()
        .find(|c| c.component == id)
        .expect("component")
}

#[test]
fn a_dyad_case_puts_each_account_on_its_side_and_contrasts_apart() {
    let small = small();
    let cases = Cases::new(&small.corpus, 3);
    let cp = cases.dyad("c-p").expect("dyad");
    let trust = component(&cp, "trust");
    assert_eq!((trust.clinician_passages, trust.patient_passages), (0, 2));
    assert_eq!(trust.evidenced_in(), "patient");
    assert!(trust.clinician.is_empty());
    assert_eq!(
        trust.patient[0].quote.text, "I trust her.",
        "the passage coded twice comes before the one coded once"
    );
    assert_eq!(trust.patient[0].codings_here, 2);
    let valuing = component(&cp, "valuing");
    assert_eq!(
        (valuing.clinician_passages, valuing.patient_passages),
        (0, 1),
        "presence counts for valuing; the contrast passage does not"
    );
    assert_eq!(cp.contrasts.len(), 1);
    assert_eq!(cp.contrasts[0].account, "patient");
    assert_eq!(
        cp.contrasts[0].excerpt.quote.text,
        "The other doctor never did."
    );
    assert_eq!(cp.contrasts[0].component.as_deref(), Some("Valuing"));
    assert_eq!(
        cp.memos
            .iter()
            .map(|m| m.title.as_str())
            .collect::<Vec<_>>(),
        ["On C-P"]
    );

    let cq = cases.dyad("C-Q").expect("dyad");
    let trust = component(&cq, "trust");
    assert_eq!(
        (trust.clinician_passages, trust.patient_passages),
        (0, 0),
        "the clinician's unattributed interview speaks for none of their dyads"
    );
    assert_eq!(trust.evidenced_in(), "none");
    assert!(cases.dyad("C-X").is_err());
}

#[test]
fn the_teams_exemplars_come_first_and_one_excerpt_per_account_is_kept() {
    let mut small = small();
    small.corpus.exemplars = vec![Exemplar {
        coding: small.in_p_trust_short,
        target: ExemplarFor::Component("trust".into()),
        position: 1,
        chosen_by: "maria".into(),
        chosen_at: NOW.into(),
    }];
    let cases = Cases::new(&small.corpus, 1);
    let cp = cases.dyad("C-P").expect("dyad");
    let trust = component(&cp, "trust");
    assert_eq!(trust.patient_passages, 2, "counts are not truncated");
    assert_eq!(trust.patient.len(), 1);
    assert_eq!(trust.patient[0].quote.text, "Trust.");
    assert!(trust.patient[0].exemplar);
}

#[test]
fn clinicians_are_compared_by_component() {
    let small = small();
    let cases = Cases::new(&small.corpus, 3);
    let comparison = cases.comparison();
    assert_eq!(comparison.clinicians, [("C".to_string(), 2)]);
    let (_, _, trust) = comparison
        .rows
        .iter()
        .find(|(id, _, _)| id == "trust")
        .expect("trust row");
    assert_eq!(trust[0].dyads, 1, "only P's account holds trust");
    assert_eq!(trust[0].passages, 2);
    assert_eq!(
        trust[0].general_passages, 1,
        "C's unattributed passage is apart"
    );
    let clinician = cases.clinician("C").expect("clinician");
    assert_eq!(clinician.dyads.len(), 2);
    let trust = clinician
        .components
        .iter()
        .find(|c| c.component == "trust")
        .expect("trust");
    assert_eq!(
        trust
            .dyads
            .iter()
            .map(|d| d.evidence.evidenced_in())
            .collect::<Vec<_>>(),
        ["patient", "none"]
    );
    let general = clinician
        .general
        .iter()
        .find(|g| g.component == "trust")
        .expect("trust");
    assert_eq!(general.passages, 1);
    assert_eq!(general.excerpts[0].quote.text, "I trust");
    assert!(cases.clinician("P").is_err(), "P is a patient");
}

#[test]
fn the_sample_studys_cases_carry_memos_narratives_and_exemplars() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut wb = between_sample::materialise(&dir.path().join("s.between"), &Default::default())
        .expect("sample");
    let subject = wb.case_subject("dyad:C1-P01").expect("subject");
    wb.write_case(subject, "George and Dr Osei.", None)
        .expect("narrative");
    let corpus = Corpus::of(&wb).expect("corpus");
    let case = Cases::new(&corpus, 3).dyad("C1-P01").expect("case");
    assert!(
        case.memos
            .iter()
            .any(|m| m.title == "Home visit told twice")
    );
    assert_eq!(
        case.narrative.as_ref().map(|c| c.text.as_str()),
        Some("George and Dr Osei.")
    );
    // Pick the patient's last abiding passage and make it the exemplar: it comes first.
    let abiding = component(&case, "abiding");
    let last = abiding
        .patient
        .last()
        .expect("abiding in P01's account")
        .clone();
    let target = wb.exemplar_target("abiding").expect("target");
    wb.choose_exemplar(last.quote.coding, target.clone(), None)
        .expect("chosen");
    assert!(
        wb.choose_exemplar(last.quote.coding, target.clone(), None)
            .is_err(),
        "only once"
    );
    let corpus = Corpus::of(&wb).expect("corpus");
    let case = Cases::new(&corpus, 3).dyad("C1-P01").expect("case");
    let first = &component(&case, "abiding").patient[0];
    assert_eq!(
        (first.quote.coding, first.exemplar),
        (last.quote.coding, true)
    );

    // A coding of another component cannot be abiding's exemplar; a contrast never.
    let trust = corpus
        .codings
        .iter()
        .find(|c| !c.contrast && corpus.code_component(c.code) == Some("trust"))
        .expect("a trust coding");
    assert!(wb.choose_exemplar(trust.id, target.clone(), None).is_err());
    let contrast = corpus
        .codings
        .iter()
        .find(|c| c.contrast)
        .expect("contrast");
    let its = ExemplarFor::Component(
        corpus
            .code_component(contrast.code)
            .expect("component")
            .to_string(),
    );
    assert!(wb.choose_exemplar(contrast.id, its, None).is_err());
    wb.drop_exemplar(last.quote.coding, &target)
        .expect("dropped");
    assert!(wb.exemplars().expect("exemplars").is_empty());

    let c2 = Cases::new(&corpus, 3).clinician("C2").expect("C2");
    assert!(c2.memos.iter().any(|m| m.title == "Uncertainty and hope"));
}

/// Every case's counts are the dyad matrix's, and a clinician's general evidence is the
/// matrix's general row.
fn assert_cases_count_as_the_matrix(corpus: &Corpus) {
    let matrix = crate::triangulation::triangulate(corpus, &crate::triangulation::Coders::All)
        .expect("matrix");
    let cases = Cases::new(corpus, 3);
    for (d, row) in matrix.dyads.iter().enumerate() {
        let case = cases.dyad(&row.label).expect("case");
        for evidence in &case.components {
            let cell = &matrix.cells[d][matrix.component_position(&evidence.component).expect("c")];
            assert_eq!(
                (evidence.clinician_passages, evidence.patient_passages),
                (cell.clinician.passages, cell.patient.passages),
                "{} / {}",
                row.label,
                evidence.component
            );
        }
        let contrasts = matrix.cells[d]
            .iter()
            .zip(&matrix.components)
            .filter(|(_, c)| c.depth == 0)
            .map(|(cell, _)| cell.clinician.contrast.len() + cell.patient.contrast.len())
            .sum::<usize>();
        assert!(case.contrasts.len() <= contrasts, "{}", row.label);
    }
    for p in corpus
        .participants
        .iter()
        .filter(|p| p.role == Role::Clinician)
    {
        let case = cases.clinician(&p.label).expect("clinician");
        for g in &case.general {
            let c = matrix.component_position(&g.component).expect("c");
            let expected = matrix
                .general_of(&p.label)
                .map_or(0, |r| r.cells[c].passages);
            assert_eq!(g.passages, expected, "{} / {}", p.label, g.component);
        }
    }
}

#[test]
fn a_cases_counts_are_the_dyad_matrix_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wb = between_sample::materialise(&dir.path().join("s.between"), &Default::default())
        .expect("sample");
    assert_cases_count_as_the_matrix(&Corpus::of(&wb).expect("corpus"));
    assert_cases_count_as_the_matrix(&crate::test_support::attributed());
}

#[test]
fn cases_count_attributed_passages_and_keep_general_evidence_apart() {
    let corpus = crate::test_support::attributed();
    let cases = Cases::new(&corpus, 3);
    let c1p1 = cases.dyad("C1-P1").expect("dyad");
    let abiding = component(&c1p1, "abiding");
    assert_eq!(
        (abiding.clinician_passages, abiding.patient_passages),
        (1, 0)
    );
    assert_eq!(abiding.clinician[0].quote.text, "I never give up on Pat.");
    let trust = component(&c1p1, "trust");
    assert_eq!(
        (trust.clinician_passages, trust.patient_passages),
        (1, 1),
        "the field note and C2's passage are no party's account"
    );
    assert_eq!(c1p1.clinician_sources, ["c1.txt"]);
    let c1p2 = cases.dyad("C1-P2").expect("dyad");
    assert_eq!(component(&c1p2, "abiding").evidenced_in(), "none");
    assert_eq!(component(&c1p2, "valuing").evidenced_in(), "clinician");
    assert_eq!(c1p2.contrasts.len(), 1);

    let c1 = cases.clinician("C1").expect("C1");
    let general: Vec<(&str, usize)> = c1
        .general
        .iter()
        .filter(|g| g.passages > 0)
        .map(|g| (g.component.as_str(), g.passages))
        .collect();
    assert_eq!(general, [("abiding", 1)]);
    let comparison = cases.comparison();
    let column = comparison
        .clinicians
        .iter()
        .position(|(label, _)| label == "C1")
        .expect("C1");
    let (_, _, abiding) = comparison
        .rows
        .iter()
        .find(|(id, _, _)| id == "abiding")
        .expect("abiding row");
    assert_eq!(
        (
            abiding[column].dyads,
            abiding[column].passages,
            abiding[column].general_passages
        ),
        (1, 1, 1)
    );
}
