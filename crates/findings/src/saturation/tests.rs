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

/// Coded interviews 1, 2, … bringing `new[i]` new codes each (names `i1`, `i2`, …).
fn steps(new: &[usize]) -> Vec<InterviewStep> {
    let mut cumulative = 0;
    new.iter()
        .enumerate()
        .map(|(i, &n)| {
            cumulative += n;
            InterviewStep {
                position: i + 1,
                source: SourceId::new(),
                name: format!("i{}", i + 1),
                date: None,
                participant: None,
                role: None,
                codings: n.max(1),
                coded: true,
                new_codes: (0..n).map(|c| format!("code {}.{c}", i + 1)).collect(),
                cumulative,
                new_by_component: Vec::new(),
                cumulative_by_component: Vec::new(),
                clinicians: 0,
                patients: i + 1,
            }
        })
        .collect()
}

/// The verdict and statement of `rule` over interviews bringing `new` codes each.
fn judged(new: &[usize], rule: StoppingRule) -> (Verdict, String) {
    let all = steps(new);
    let coded: Vec<&InterviewStep> = all.iter().collect();
    let base_codes = match rule {
        StoppingRule::Guest { base, .. } => coded.get(base - 1).map(|s| s.cumulative),
        StoppingRule::Consecutive { .. } => None,
    };
    let v = verdict(&coded, 0, rule, base_codes);
    let words = statement(&v, rule, base_codes, &coded);
    (v, words)
}

/// (at, confirmed_by, new in the run, later interviews that contradict it).
fn reached(v: &Verdict) -> (usize, usize, usize, Vec<(usize, usize)>) {
    match v {
        Verdict::Reached {
            at,
            confirmed_by,
            new_in_run,
            contradicted_by,
            ..
        } => (
            *at,
            *confirmed_by,
            *new_in_run,
            contradicted_by
                .iter()
                .map(|l| (l.position, l.new_codes))
                .collect(),
        ),
        Verdict::NotYet { reason } => panic!("not reached: {reason}"),
    }
}

/// New codes per interview: 10, 6, 3, 1, 2, 0, 1, 0, 0, 3. The base of 4 holds 10 + 6 + 3 + 1
/// = 20 codes, so 5% allows 1 new code in a run.
const SEQUENCE: [usize; 10] = [10, 6, 3, 1, 2, 0, 1, 0, 0, 3];

#[test]
fn guests_method_worked_by_hand() {
    let guest = |base, run, threshold| StoppingRule::guest(base, run, threshold).expect("rule");
    // Run 2, ≤ 5%: after 4, interviews 5–6 bring 2 (10%); after 5, 6–7 bring 1 (5%): reached
    // at 5, confirmed by 7. Later, 9–10 bring 3 (15%): interview 10's 3 contradict it.
    let (v, words) = judged(&SEQUENCE, guest(4, 2, 0.05));
    assert_eq!(reached(&v), (5, 7, 1, vec![(10, 3)]));
    assert!(v.contradicted() && !v.holds());
    assert!(words.contains("contradicted"), "{words}");
    assert!(
        words.contains("interview 10 (i10) brought 3 new codes"),
        "{words}"
    );
    assert!(
        words.contains("base 4") && words.contains("run 2") && words.contains("≤ 5%"),
        "{words}"
    );
    // Run 3: 5–7 bring 3; 6–8 bring 1 (5%): reached at 5, confirmed by 8; 8–10 bring 3.
    assert_eq!(
        reached(&judged(&SEQUENCE, guest(4, 3, 0.05)).0),
        (5, 8, 1, vec![(10, 3)])
    );
    // Threshold 0: 5–6 bring 2, 6–7 1, 7–8 1, 8–9 none: reached at 7, confirmed by 9.
    assert_eq!(
        reached(&judged(&SEQUENCE, guest(4, 2, 0.0)).0),
        (7, 9, 0, vec![(10, 3)])
    );
    // Without interview 10 nothing later says otherwise.
    let (v, words) = judged(&SEQUENCE[..9], guest(4, 2, 0.05));
    assert_eq!(reached(&v), (5, 7, 1, vec![]));
    assert!(v.holds());
    assert!(words.contains("1 new code, 5% of the base's 20"), "{words}");
    // A base of 8 (23 codes; 5% allows 1.15): 9–10 bring 3 (13%), the only run: not reached.
    let (v, words) = judged(&SEQUENCE, guest(8, 2, 0.05));
    assert!(matches!(v, Verdict::NotYet { .. }), "{words}");
    assert!(
        words.contains("3 new codes, 13% of the base's 23"),
        "{words}"
    );
    // Too few interviews for the base and one run.
    assert!(matches!(
        judged(&SEQUENCE[..5], guest(4, 2, 0.05)).0,
        Verdict::NotYet { .. }
    ));
}

#[test]
fn a_verdict_later_data_contradicts_says_so() {
    let consecutive = |k, fewer_than| StoppingRule::new(k, fewer_than).expect("rule");
    // No new code in 2: the first two interviews in a row without any are 8 and 9, so reached
    // at 7; interview 10 brings 3.
    let (v, words) = judged(&SEQUENCE, consecutive(2, 1));
    assert_eq!(reached(&v), (7, 9, 0, vec![(10, 3)]));
    assert!(
        words.starts_with("Saturation reached at interview 7 (i7) by the rule, but contradicted"),
        "{words}"
    );
    // No three in a row without a new code: not reached.
    assert!(matches!(
        judged(&SEQUENCE, consecutive(3, 1)).0,
        Verdict::NotYet { .. }
    ));
    // Fewer than 3 in 3: after 5, 6–8 bring 1; later 8–10 bring 3, which the rule would not
    // allow either.
    assert_eq!(
        reached(&judged(&SEQUENCE, consecutive(3, 3)).0),
        (5, 8, 1, vec![(10, 3)])
    );
    // Fewer than 4 in 3: after 3, 4–6 bring 3; no later run brings 4 or more (5–7 3, 6–8 1,
    // 7–9 1, 8–10 3): not contradicted.
    let (v, words) = judged(&SEQUENCE, consecutive(3, 4));
    assert_eq!(reached(&v), (3, 6, 3, vec![]));
    assert!(!words.contains("contradicted"), "{words}");
}

#[test]
fn the_sample_studys_verdict_is_contradicted_by_its_later_interviews() {
    let corpus = sample();
    let s = saturation(&corpus, &Coders::All, StoppingRule::default()).expect("saturation");
    let Verdict::Reached {
        confirmed_by,
        contradicted_by,
        ..
    } = &s.verdict
    else {
        panic!("not reached: {}", s.statement);
    };
    let later: Vec<(usize, usize)> = s
        .interviews
        .iter()
        .filter(|i| i.position > *confirmed_by && !i.new_codes.is_empty())
        .map(|i| (i.position, i.new_codes.len()))
        .collect();
    assert!(!later.is_empty(), "the sample brings new codes late");
    let said: Vec<(usize, usize)> = contradicted_by
        .iter()
        .map(|l| (l.position, l.new_codes))
        .collect();
    assert_eq!(said, later);
    assert!(s.statement.contains("contradicted"), "{}", s.statement);
    assert!(!s.verdict.holds());
}

#[test]
fn a_rule_is_chosen_by_method_with_its_own_parameters() {
    assert_eq!(
        StoppingRule::choose(None, (None, None), (None, None, None)).expect("default"),
        StoppingRule::default()
    );
    assert_eq!(
        StoppingRule::choose(Some("guest"), (None, None), (None, Some(3), None)).expect("guest"),
        StoppingRule::guest(4, 3, 0.05).expect("rule")
    );
    assert_eq!(
        StoppingRule::choose(Some("guest"), (None, None), (None, None, None)).expect("guest"),
        GUEST_DEFAULT
    );
    for refused in [
        StoppingRule::choose(Some("guest"), (Some(3), None), (None, None, None)),
        StoppingRule::choose(None, (None, None), (Some(4), None, None)),
        StoppingRule::choose(Some("bayes"), (None, None), (None, None, None)),
        StoppingRule::guest(0, 2, 0.05),
        StoppingRule::guest(4, 2, 5.0),
        StoppingRule::guest(4, 2, -0.1),
    ] {
        assert!(refused.is_err());
    }
}
