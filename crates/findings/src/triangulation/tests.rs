use super::*;
use std::collections::HashSet;

use crate::test_support::{sample, sample_parts};

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
fn a_clinicians_own_interview_speaks_for_each_of_their_dyads() {
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
    let theirs: HashSet<CodingId> = corpus
        .codings_of(interview.id)
        .iter()
        .map(|c| c.id)
        .collect();
    let dyads: Vec<usize> = (0..t.dyads.len())
        .filter(|&d| corpus.dyads[d].clinician == c1.id)
        .collect();
    assert_eq!(dyads.len(), 4);
    for (c, _) in t.components.iter().enumerate() {
        let from_interview = |d: usize| -> Vec<CodingId> {
            t.cells[d][c]
                .clinician
                .codings
                .iter()
                .copied()
                .filter(|id| theirs.contains(id))
                .collect()
        };
        for &d in &dyads[1..] {
            assert_eq!(from_interview(d), from_interview(dyads[0]));
        }
    }
    // And never in another clinician's dyads or in a patient's account.
    for (d, cells) in t.cells.iter().enumerate() {
        for cell in cells {
            assert!(cell.patient.codings.iter().all(|id| !theirs.contains(id)));
            if !dyads.contains(&d) {
                assert!(cell.clinician.codings.iter().all(|id| !theirs.contains(id)));
            }
        }
    }
}

#[test]
fn presence_follows_the_accounts_and_excerpts_quote_the_text() {
    let corpus = sample();
    let t = triangulate(&corpus, &Coders::All).expect("triangulation");
    let mut both = 0;
    for (d, cells) in t.cells.iter().enumerate() {
        for (c, cell) in cells.iter().enumerate() {
            let p = cell.presence();
            assert_eq!(
                matches!(p, Presence::Both | Presence::ClinicianOnly),
                cell.clinician.passages > 0
            );
            assert_eq!(
                matches!(p, Presence::Both | Presence::PatientOnly),
                cell.patient.passages > 0
            );
            if p == Presence::Both && both == 0 {
                let ex = cell_excerpts(&corpus, &t, &t.dyads[d].label, &t.components[c].id)
                    .expect("excerpts");
                assert_eq!(ex.clinician.len(), cell.clinician.codings.len());
                assert_eq!(ex.patient.len(), cell.patient.codings.len());
                for e in ex.clinician.iter().chain(&ex.patient) {
                    assert!(!e.text.is_empty());
                    assert_eq!(e.text.chars().count(), e.span.end - e.span.start);
                }
            }
            both += usize::from(p == Presence::Both);
        }
    }
    assert!(both > 0, "the sample triangulates some components");
    assert!(cell_excerpts(&corpus, &t, "no-such-dyad", &t.components[0].id).is_err());
    assert!(cell_excerpts(&corpus, &t, &t.dyads[0].label, "no-such-component").is_err());
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
    // C1's own interview speaks for both of C1's dyads.
    for dyad in ["C1-P1", "C1-P2"] {
        assert_eq!(cell(dyad, "trust").clinician.passages, 1);
        assert_eq!(
            cell(dyad, "abiding").clinician.passages,
            1,
            "not-giving-up rolls up"
        );
        assert_eq!(
            cell(dyad, "not-giving-up").presence,
            Presence::ClinicianOnly
        );
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
    assert_eq!(trust.presence, Presence::ClinicianOnly);
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
