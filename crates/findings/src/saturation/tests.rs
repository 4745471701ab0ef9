use std::collections::HashSet;

use super::*;
use crate::test_support::{sample, sample_parts};

#[test]
fn interviews_come_in_date_order_and_every_code_is_introduced_once() {
    let corpus = sample();
    let s = saturation(&corpus, &Coders::All, StoppingRule::default()).expect("saturation");
    let interviews = corpus
        .sources
        .iter()
        .filter(|s| s.kind == SourceKind::Interview)
        .count();
    assert_eq!(s.interviews.len(), interviews);
    assert!(s.interviews.windows(2).all(|w| w[0].date <= w[1].date));
    let introduced: Vec<&String> = s.interviews.iter().flat_map(|i| &i.new_codes).collect();
    let distinct: HashSet<&String> = introduced.iter().copied().collect();
    assert_eq!(introduced.len(), distinct.len());
    assert_eq!(s.codes_used, introduced.len());
    let mut so_far = 0;
    for step in &s.interviews {
        so_far += step.new_codes.len();
        assert_eq!(step.cumulative, so_far);
        assert!(step.cumulative_by_component.iter().sum::<usize>() <= step.cumulative);
    }
    let last = s.interviews.last().expect("interviews");
    assert_eq!((last.clinicians, last.patients), (3, 10));
}

#[test]
fn the_verdict_is_the_earliest_interview_followed_by_k_without_enough_new_codes() {
    let corpus = sample();
    for k in 1..=4 {
        for fewer_than in 1..=3 {
            let rule = StoppingRule::new(k, fewer_than).expect("rule");
            let s = saturation(&corpus, &Coders::All, rule).expect("saturation");
            let coded: Vec<&InterviewStep> = s.interviews.iter().filter(|i| i.coded).collect();
            let holds = |j: usize| {
                j + k < coded.len()
                    && coded[j + 1..=j + k]
                        .iter()
                        .map(|i| i.new_codes.len())
                        .sum::<usize>()
                        < fewer_than
            };
            match &s.verdict {
                Verdict::Reached {
                    at,
                    clinicians,
                    patients,
                    ..
                } => {
                    let j = coded.iter().position(|i| i.position == *at).expect("coded");
                    assert!(holds(j));
                    assert!((0..j).all(|e| !holds(e)), "earliest");
                    assert_eq!(
                        (*clinicians, *patients),
                        (coded[j].clinicians, coded[j].patients)
                    );
                }
                Verdict::NotYet { reason } => {
                    assert!((0..coded.len()).all(|j| !holds(j)));
                    assert!(!reason.is_empty());
                }
            }
        }
    }
}

#[test]
fn an_uncoded_interview_is_skipped_by_the_rule_not_taken_for_nothing_new() {
    let (mut bundle, theory) = sample_parts();
    let corpus = Corpus::new(bundle.clone(), theory.clone());
    let order: Vec<SourceId> = interview_order(&corpus).iter().map(|s| s.id).collect();
    // Strip the codings of every interview after the first: nothing else is coded.
    bundle
        .codings
        .retain(|c| c.source == order[0] || !order.contains(&c.source));
    let corpus = Corpus::new(bundle, theory);
    let s = saturation(
        &corpus,
        &Coders::All,
        StoppingRule::new(2, 1).expect("rule"),
    )
    .expect("saturation");
    assert_eq!(s.uncoded, order.len() - 1);
    assert!(matches!(s.verdict, Verdict::NotYet { .. }));
}

#[test]
fn a_rule_of_zero_is_refused() {
    assert!(StoppingRule::new(0, 1).is_err());
    assert!(StoppingRule::new(3, 0).is_err());
}

#[test]
fn the_tiny_study_saturates_as_reasoned() {
    let corpus = crate::test_support::tiny();
    // Order by date: p2 (trust, a contrast case: the code is used), c1 (trust again,
    // not-giving-up), p1 (presence, full-attention).
    let s = saturation(
        &corpus,
        &Coders::All,
        StoppingRule::new(1, 1).expect("rule"),
    )
    .expect("saturation");
    let names: Vec<&str> = s.interviews.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["p2.txt", "c1.txt", "p1.txt"]);
    let new: Vec<usize> = s.interviews.iter().map(|i| i.new_codes.len()).collect();
    assert_eq!(new, [1, 1, 2]);
    let people: Vec<(usize, usize)> = s
        .interviews
        .iter()
        .map(|i| (i.clinicians, i.patients))
        .collect();
    assert_eq!(people, [(0, 1), (1, 1), (1, 2)]);
    assert!(
        matches!(s.verdict, Verdict::NotYet { .. }),
        "every interview brought a new code"
    );
    // Fewer than 2 new codes in the next interview: c1 brought 1, so p2 is the stopping point.
    let s = saturation(
        &corpus,
        &Coders::All,
        StoppingRule::new(1, 2).expect("rule"),
    )
    .expect("saturation");
    match s.verdict {
        Verdict::Reached {
            at,
            confirmed_by,
            clinicians,
            patients,
            ..
        } => {
            assert_eq!((at, confirmed_by, clinicians, patients), (1, 2, 0, 1));
        }
        Verdict::NotYet { reason } => panic!("not reached: {reason}"),
    }
    // Per top-level component: abiding gains not-giving-up at c1; valuing two codes at p1.
    let abiding = s
        .components
        .iter()
        .position(|c| c.id == "abiding")
        .expect("abiding");
    let valuing = s
        .components
        .iter()
        .position(|c| c.id == "valuing")
        .expect("valuing");
    let by = |c: usize| -> Vec<usize> {
        s.interviews
            .iter()
            .map(|i| i.cumulative_by_component[c])
            .collect()
    };
    assert_eq!(by(abiding), [0, 1, 1]);
    assert_eq!(by(valuing), [0, 0, 2]);
}
