use super::*;

use crate::test_support::{sample, sample_parts};
use between_core::text;

#[test]
fn sub_component_evidence_counts_for_its_parent() {
    let corpus = sample();
    let t = triangulate(&corpus, &Coders::All).expect("triangulation");
    let mut checked = 0;
    for (c, row) in t.components.iter().enumerate() {
        let Some(p) = row.parent else { continue };
        for cells in &t.cells {
            for account in [Account::Clinician, Account::Patient] {
                let child = cells[c].side(account);
                let parent = cells[p].side(account);
                assert!(child.codings.iter().all(|id| parent.codings.contains(id)));
                assert!(child.passages <= parent.passages);
                checked += child.codings.len();
            }
        }
    }
    assert!(checked > 0, "the sample codes sub-components");
}

#[test]
fn contrast_codings_are_listed_apart_and_never_counted() {
    let corpus = sample();
    let t = triangulate(&corpus, &Coders::All).expect("triangulation");
    let contrast: HashMap<CodingId, bool> =
        corpus.codings.iter().map(|c| (c.id, c.contrast)).collect();
    let mut contrasts = 0;
    for cells in &t.cells {
        for cell in cells {
            for side in [&cell.clinician, &cell.patient] {
                assert!(side.codings.iter().all(|id| !contrast[id]));
                assert!(side.contrast.iter().all(|id| contrast[id]));
                assert_eq!(side.passages == 0, side.codings.is_empty());
                contrasts += side.contrast.len();
            }
        }
    }
    assert!(
        contrasts > 0,
        "the sample has contrast codings in dyad accounts"
    );
}

#[test]
fn a_second_coder_on_the_same_passage_does_not_double_the_evidence() {
    let (mut bundle, theory) = sample_parts();
    let before = triangulate(&Corpus::new(bundle.clone(), theory.clone()), &Coders::All)
        .expect("triangulation");
    let copies: Vec<Coding> = bundle
        .codings
        .iter()
        .filter(|c| !c.contrast)
        .map(|c| Coding {
            id: CodingId::new(),
            coder: "echo".into(),
            ..c.clone()
        })
        .collect();
    bundle.codings.extend(copies);
    let corpus = Corpus::new(bundle, theory);
    let after = triangulate(&corpus, &Coders::All).expect("triangulation");
    let echo = triangulate(&corpus, &Coders::Only("echo".into())).expect("one coder");
    for (d, cells) in after.cells.iter().enumerate() {
        for (c, cell) in cells.iter().enumerate() {
            let was = &before.cells[d][c];
            assert_eq!(cell.clinician.passages, was.clinician.passages);
            assert_eq!(cell.patient.passages, was.patient.passages);
            assert_eq!(
                cell.clinician.codings.len(),
                2 * was.clinician.codings.len()
            );
            let only = &echo.cells[d][c];
            assert_eq!(only.clinician.codings.len(), was.clinician.codings.len());
            assert!(only.clinician.contrast.is_empty(), "echo coded no contrast");
        }
    }
}

#[test]
fn a_clinicians_interview_counts_for_a_dyad_only_where_attributed_to_it() {
    // The sample attributes the stretches of C1's interview about each patient; the rest is
    // about no particular patient.
    let corpus = sample();
    let t = triangulate(&corpus, &Coders::All).expect("triangulation");
    let c1 = corpus.participant_by_label("C1").expect("C1");
    let interview = corpus
        .sources
        .iter()
        .find(|s| {
            s.participant == Some(c1.id) && s.dyad.is_none() && s.kind == SourceKind::Interview
        })
        .expect("C1's interview");
    let general = t.general_of("C1").expect("C1's general evidence");
    assert_eq!(general.role, Role::Clinician);
    let (mut attributed, mut unattributed) = (0, 0);
    for coding in corpus.codings_of(interview.id) {
        let Some(component) = corpus.code_component(coding.code) else {
            continue;
        };
        let c = t.component_position(component).expect("component");
        let about: Vec<DyadId> = corpus
            .dyads_of_passage(interview, coding.span)
            .iter()
            .map(|d| d.id)
            .collect();
        let listed = |e: &Evidence| {
            if coding.contrast {
                e.contrast.contains(&coding.id)
            } else {
                e.codings.contains(&coding.id)
            }
        };
        for (d, row) in t.dyads.iter().enumerate() {
            let cell = &t.cells[d][c];
            assert_eq!(
                listed(&cell.clinician),
                about.contains(&row.id),
                "{:?} in {}'s clinician account",
                corpus.text_of(interview, coding.span),
                row.label
            );
            assert!(!listed(&cell.patient) && !listed(&cell.others));
        }
        assert_eq!(listed(&general.cells[c]), about.is_empty());
        if about.is_empty() {
            unattributed += 1;
        } else {
            attributed += 1;
        }
    }
    assert!(
        attributed > 0 && unattributed > 0,
        "{attributed} {unattributed}"
    );
    // The example: George (P01) is not quoted for C1-P04.
    let boss = corpus
        .codings_of(interview.id)
        .iter()
        .find(|c| {
            corpus
                .text_of(interview, c.span)
                .contains("George calls me the Boss")
        })
        .expect("the Boss");
    let component = t
        .component_position(corpus.code_component(boss.code).expect("component"))
        .expect("component");
    let in_dyad = |label: &str| {
        t.cells[t.dyad_position(label).expect("dyad")][component]
            .clinician
            .codings
            .contains(&boss.id)
    };
    assert!(in_dyad("C1-P01") && !in_dyad("C1-P04"));
}

#[test]
fn the_attributed_study_triangulates_as_reasoned() {
    let corpus = crate::test_support::attributed();
    let t = triangulate(&corpus, &Coders::All).expect("triangulation");
    let cell = |dyad: &str, component: &str| {
        &t.cells[t.dyad_position(dyad).expect("dyad")]
            [t.component_position(component).expect("component")]
    };
    let counts = |e: &Evidence| (e.passages, e.codings.len(), e.contrast_passages);
    // C1-P1 trust: C1's passage attributed to P1; P1's passage coded by a and b; the field
    // note and C2's passage about Pat are other sources, quoted but not counted.
    let trust = cell("C1-P1", "trust");
    assert_eq!(counts(&trust.clinician), (1, 1, 0));
    assert_eq!(counts(&trust.patient), (1, 2, 0));
    assert_eq!(counts(&trust.others), (2, 2, 0));
    assert_eq!(trust.presence, Presence::Both);
    // Abiding: only the passage about Pat counts for C1-P1; "anyone" is general.
    assert_eq!(cell("C1-P1", "abiding").presence, Presence::ClinicianOnly);
    assert_eq!(cell("C1-P1", "abiding").clinician.passages, 1);
    assert_eq!(cell("C1-P2", "abiding").presence, Presence::None);
    // Valuing (through presence): C1 about Quinn counts for C1-P2 alone.
    assert_eq!(cell("C1-P1", "valuing").presence, Presence::PatientOnly);
    assert_eq!(cell("C1-P2", "valuing").presence, Presence::ClinicianOnly);
    // C1-P2 trust: only Quinn's contrast passage.
    let trust = cell("C1-P2", "trust");
    assert_eq!(trust.presence, Presence::None);
    assert_eq!(counts(&trust.patient), (0, 0, 1));
    // C2's passage about Sam is C2's account of C2-P3.
    assert_eq!(cell("C2-P3", "trust").presence, Presence::ClinicianOnly);
    assert_eq!(cell("C2-P3", "valuing").presence, Presence::PatientOnly);
    // C1's general evidence: the passage about anyone, of abiding and not-giving-up only.
    let general = t.general_of("C1").expect("C1 has general evidence");
    for (c, component) in t.components.iter().enumerate() {
        let expected = usize::from(["abiding", "not-giving-up"].contains(&component.id.as_str()));
        assert_eq!(general.cells[c].passages, expected, "{}", component.id);
    }
    assert!(t.general_of("C2").is_none(), "C2 attributed every passage");
    assert_eq!(t.general.len(), 1);
    // The cell's quotes say the passages they stand for.
    let ex = cell_excerpts(&corpus, &t, "C1-P1", "trust").expect("excerpts");
    assert_eq!((ex.patient.passages, ex.patient.evidence.len()), (1, 2));
    assert_eq!(ex.clinician.evidence[0].text, "Pat trusts me.");
    let others: Vec<&str> = ex.others.evidence.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(others, ["laughed together", "Pat trusts C1."]);
    let g = general_excerpts(&corpus, &t, "c1", "abiding").expect("general excerpts");
    assert_eq!(g.excerpts.passages, 1);
    assert_eq!(g.excerpts.evidence[0].text, "I never give up on anyone.");
    let none = general_excerpts(&corpus, &t, "C2", "trust").expect("C2");
    assert!(none.excerpts.evidence.is_empty());
    assert!(general_excerpts(&corpus, &t, "C9", "trust").is_err());
}

#[test]
fn with_nothing_attributed_a_clinicians_evidence_is_general() {
    let (mut bundle, theory) = crate::test_support::attributed_parts();
    bundle.attributions.clear();
    let corpus = Corpus::new(bundle, theory);
    let t = triangulate(&corpus, &Coders::All).expect("triangulation");
    for cells in &t.cells {
        for cell in cells {
            assert_eq!(cell.clinician, Evidence::default());
            assert_eq!(
                cell.others,
                Evidence::default(),
                "the field note is about no one"
            );
        }
    }
    let trust = t.component_position("trust").expect("trust");
    let p1 = t.dyad_position("C1-P1").expect("dyad");
    assert_eq!(
        t.cells[p1][trust].patient.passages, 1,
        "patients' accounts stay"
    );
    assert_eq!(t.general_of("C1").expect("C1").cells[trust].passages, 1);
    assert_eq!(t.general_of("C2").expect("C2").cells[trust].passages, 2);
}

#[test]
fn a_coding_speaks_for_an_attribution_it_shares_a_character_with() {
    let abiding_for = |end_offset: isize| {
        let (mut bundle, theory) = crate::test_support::attributed_parts();
        let c1 = bundle.sources[0].clone();
        let give_up = text::find_quote(&c1.text, "I never give up on Pat.", None).expect("q");
        // The attribution to P1 now ends where "I never give up on Pat." starts, or one
        // character into it.
        bundle.attributions[0].span.end = give_up.start.saturating_add_signed(end_offset);
        let corpus = Corpus::new(bundle, theory);
        let t = triangulate(&corpus, &Coders::All).expect("triangulation");
        let abiding = t.component_position("abiding").expect("abiding");
        (
            t.cells[t.dyad_position("C1-P1").expect("dyad")][abiding]
                .clinician
                .passages,
            t.general_of("C1").expect("C1").cells[abiding].passages,
        )
    };
    assert_eq!(abiding_for(0), (0, 2), "touching is not overlapping");
    assert_eq!(abiding_for(1), (1, 1));
}

#[test]
fn an_unknown_coder_is_refused() {
    let corpus = sample();
    assert!(triangulate(&corpus, &Coders::Only("nobody".into())).is_err());
}

#[test]
fn the_tiny_study_triangulates_as_reasoned() {
    let corpus = crate::test_support::tiny();
    let t = triangulate(&corpus, &Coders::All).expect("triangulation");
    let cell = |dyad: &str, component: &str| {
        &t.cells[t.dyad_position(dyad).expect("dyad")]
            [t.component_position(component).expect("component")]
    };
    // C1's own interview attributes nothing: it is C1's general evidence, in neither dyad.
    for dyad in ["C1-P1", "C1-P2"] {
        assert_eq!(cell(dyad, "trust").clinician.passages, 0);
        assert_eq!(cell(dyad, "not-giving-up").presence, Presence::None);
    }
    let general = t.general_of("C1").expect("C1's general evidence");
    for (component, passages) in [("trust", 1), ("abiding", 1), ("not-giving-up", 1)] {
        let c = t.component_position(component).expect("component");
        assert_eq!(general.cells[c].passages, passages, "{component}: rolls up");
    }
    // P1: presence by a and the overlapping full-attention by b are one passage, two codings,
    // for presence and for valuing; full-attention itself has one coding.
    for component in ["presence", "valuing"] {
        let c = cell("C1-P1", component);
        assert_eq!(
            (c.patient.passages, c.patient.codings.len()),
            (1, 2),
            "{component}"
        );
        assert_eq!(c.presence, Presence::PatientOnly);
    }
    assert_eq!(cell("C1-P1", "full-attention").patient.codings.len(), 1);
    assert_eq!(cell("C1-P2", "valuing").presence, Presence::None);
    // P2's contrast coding of trust is reported, not counted.
    let trust = cell("C1-P2", "trust");
    assert_eq!(trust.presence, Presence::None);
    assert_eq!(
        (trust.patient.passages, trust.patient.contrast_passages),
        (0, 1)
    );
    // One coder only: b's full-attention coding is the only evidence of presence in P1.
    let b = triangulate(&corpus, &Coders::Only("b".into())).expect("coder b");
    let p = &b.cells[b.dyad_position("C1-P1").expect("dyad")]
        [b.component_position("presence").expect("presence")];
    assert_eq!((p.patient.passages, p.patient.codings.len()), (1, 1));
    assert_eq!(
        b.cells[0][b.component_position("trust").expect("trust")].presence,
        Presence::None
    );
}
