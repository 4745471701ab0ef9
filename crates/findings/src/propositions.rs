//! Proposition support: for each edge of the theory (`from` → `to`), in how many dyads both
//! sides are evidenced in the dyad's own accounts, only the source side, only the target side,
//! or neither (definitions in `docs/findings.md`, "Proposition support"). Evidence is the
//! triangulation's: a component is evidenced in a dyad when the clinician's account (passages
//! attributed to the dyad) or the patient's account holds a non-contrast passage of it or of
//! one of its sub-components. Stricter readings ([`Reading`]) can ask for both sides together
//! in one source and for the target side in the patient's account.

use std::collections::{HashMap, HashSet};

use between_core::*;
use between_model::Kind;
use serde::{Deserialize, Serialize};

use crate::triangulation::{Account, Cell, Excerpt, Triangulation, distinct_passages};
use crate::{Corpus, CorpusError, Proximity};

/// When a side of a proposition (a list of components) counts as evidenced in a dyad.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SideRule {
    /// At least one of the side's components is evidenced.
    #[default]
    Any,
    /// Every one of the side's components is evidenced.
    All,
}

impl std::str::FromStr for SideRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "any" => Ok(Self::Any),
            "all" => Ok(Self::All),
            other => Err(format!("unknown side rule '{other}': expected any or all")),
        }
    }
}

/// How support is read: the side rule, and the stricter readings, which combine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reading {
    pub rule: SideRule,
    /// Both sides together in one source of the dyad's accounts: a passage of each that
    /// overlap, start in the same turn, or lie within N characters (co-occurrence's measures).
    pub together: Option<Proximity>,
    /// The target side must be evidenced in the patient's account.
    pub target_from_patient: bool,
}

impl From<SideRule> for Reading {
    fn from(rule: SideRule) -> Self {
        Self {
            rule,
            ..Self::default()
        }
    }
}

impl Reading {
    /// The rule in words, shown wherever the numbers are.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "A dyad supports a proposition when both sides are evidenced in its own accounts \
             (the clinician's passages attributed to the dyad, the patient's account); a side is \
             evidenced when {} of its components has a passage",
            match self.rule {
                SideRule::Any => "any",
                SideRule::All => "every one",
            }
        );
        if self.target_from_patient {
            text.push_str("; the target side in the patient's account");
        }
        if let Some(p) = self.together {
            text.push_str(&format!(
                "; both sides together in one source: a passage of each {}",
                match p {
                    Proximity::Overlap => "overlapping (sharing a character)".to_string(),
                    Proximity::SameTurn => "starting in the same turn".to_string(),
                    Proximity::Near(n) => format!("within {n} characters of each other"),
                }
            ));
        }
        text.push_str(". Contrast passages never count; they are shown as counter-evidence.");
        text
    }
}

/// Where a dyad stands on one proposition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    Both,
    /// Both sides evidenced, but not together as the reading asks.
    Apart,
    SourceOnly,
    TargetOnly,
    Neither,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Both => "both",
            Self::Apart => "both, not together",
            Self::SourceOnly => "source only",
            Self::TargetOnly => "target only",
            Self::Neither => "neither",
        }
    }
}

/// One dyad on one proposition, with the codings behind each side (in the accounts the reading
/// counts) and the counter-evidence: each side's contrast passages there.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DyadStanding {
    pub dyad: String,
    pub standing: Standing,
    /// Not serialised: over every dyad and proposition they would dwarf the table (a side
    /// holds every coding of its components); [`proposition_excerpts`] quotes them.
    #[serde(skip)]
    pub source_codings: Vec<CodingId>,
    #[serde(skip)]
    pub target_codings: Vec<CodingId>,
    /// Distinct contrast passages of the source side's components, and their codings.
    pub source_contrast_passages: usize,
    pub source_contrast: Vec<CodingId>,
    pub target_contrast_passages: usize,
    pub target_contrast: Vec<CodingId>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PropositionSupport {
    /// 1-based, in the theory file's order (`P1`, `P2`, … on the figure).
    pub number: usize,
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub from_names: Vec<String>,
    pub to_names: Vec<String>,
    pub relation: String,
    pub basis: String,
    pub note: String,
    pub both: usize,
    /// Dyads with both sides evidenced but not together (0 unless the reading asks for it).
    pub apart: usize,
    pub source_only: usize,
    pub target_only: usize,
    pub neither: usize,
    /// Dyads with counter-evidence: a contrast passage of either side.
    pub contrast_dyads: usize,
    /// In dyad order.
    pub dyads: Vec<DyadStanding>,
}

/// A component's evidence across dyads (node size on the model figure).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComponentSupport {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    pub depth: usize,
    pub colour: Option<String>,
    /// Dyads in which either account holds evidence of it.
    pub dyads: usize,
    /// Dyads in which both accounts do.
    pub both_accounts: usize,
}

/// Every proposition's support, and every component's evidence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Support {
    pub rule: SideRule,
    /// `overlap`, `turn`, `near N`, or none.
    pub together: Option<String>,
    pub target_from_patient: bool,
    /// The reading in words ([`Reading::describe`]).
    pub rule_text: String,
    pub dyad_count: usize,
    pub components: Vec<ComponentSupport>,
    pub propositions: Vec<PropositionSupport>,
}

impl Support {
    pub fn component(&self, id: &str) -> Option<&ComponentSupport> {
        self.components.iter().find(|c| c.id == id)
    }
}

/// One side of a proposition in one dyad.
struct Side {
    holds: bool,
    codings: Vec<CodingId>,
    contrast: Vec<CodingId>,
}

/// A side (`components`, positions in the triangulation) in one dyad's `cells`, counting the
/// given accounts.
fn side(cells: &[Cell], components: &[usize], accounts: &[Account], rule: SideRule) -> Side {
    let evidenced: Vec<usize> = components
        .iter()
        .copied()
        .filter(|&c| accounts.iter().any(|&a| cells[c].side(a).passages > 0))
        .collect();
    let holds = match rule {
        SideRule::Any => !evidenced.is_empty(),
        SideRule::All => !components.is_empty() && evidenced.len() == components.len(),
    };
    let ids = |components: &[usize], pick: fn(&crate::triangulation::Evidence) -> &[CodingId]| {
        let mut seen = HashSet::new();
        components
            .iter()
            .flat_map(|&c| accounts.iter().flat_map(move |&a| pick(cells[c].side(a))))
            .copied()
            .filter(|id| seen.insert(*id))
            .collect::<Vec<_>>()
    };
    Side {
        holds,
        codings: ids(&evidenced, |e| &e.codings),
        contrast: ids(components, |e| &e.contrast),
    }
}

/// Whether a coding of `a` and one of `b` (positions in `corpus.codings`) are together in one
/// source by `proximity`.
fn together(corpus: &Corpus, proximity: Proximity, a: &[usize], b: &[usize]) -> bool {
    let mut items: Vec<(usize, bool)> = a
        .iter()
        .map(|&i| (i, false))
        .chain(b.iter().map(|&i| (i, true)))
        .collect();
    // Positions are in source order, then start: sorting by them sorts by source and start.
    items.sort_unstable();
    match proximity {
        Proximity::Overlap | Proximity::Near(_) => {
            let reach = match proximity {
                Proximity::Near(n) => n + 1,
                _ => 0,
            };
            // Per side, the furthest end seen so far in the current source: an earlier-starting
            // passage of the other side reaches this one when its end (plus reach) passes
            // this one's start.
            let mut source = None;
            let mut furthest = [None::<usize>; 2];
            for (i, side) in items {
                let coding = &corpus.codings[i];
                if source != Some(coding.source) {
                    source = Some(coding.source);
                    furthest = [None, None];
                }
                if furthest[usize::from(!side)].is_some_and(|end| coding.span.start < end + reach) {
                    return true;
                }
                let end = &mut furthest[usize::from(side)];
                *end = Some(end.map_or(coding.span.end, |e| e.max(coding.span.end)));
            }
            false
        }
        Proximity::SameTurn => {
            let turn_of = |i: usize| {
                let coding = &corpus.codings[i];
                let turns = &corpus.source(coding.source)?.turns;
                let start = coding.span.start;
                let t = turns.partition_point(|t| t.span.end <= start);
                turns
                    .get(t)
                    .filter(|turn| turn.span.start <= start)
                    .map(|_| (coding.source, t))
            };
            let of_a: HashSet<(SourceId, usize)> = a.iter().filter_map(|&i| turn_of(i)).collect();
            b.iter()
                .filter_map(|&i| turn_of(i))
                .any(|t| of_a.contains(&t))
        }
    }
}

/// The support of the theory's propositions in a triangulation, read as `reading` says (a
/// [`SideRule`] alone is the plain reading).
pub fn support(
    corpus: &Corpus,
    triangulation: &Triangulation,
    reading: impl Into<Reading>,
) -> Support {
    let reading: Reading = reading.into();
    let t = triangulation;
    let dyads_with = t.dyads_with_evidence();
    let components = t
        .components
        .iter()
        .enumerate()
        .map(|(c, row)| ComponentSupport {
            id: row.id.clone(),
            name: row.name.clone(),
            kind: row.kind,
            depth: row.depth,
            colour: row.colour.clone(),
            dyads: dyads_with[c],
            both_accounts: t
                .cells
                .iter()
                .filter(|cells| cells[c].presence() == crate::triangulation::Presence::Both)
                .count(),
        })
        .collect();
    let positions = |ids: &[String]| -> Vec<usize> {
        ids.iter()
            .filter_map(|id| t.component_position(id).ok())
            .collect()
    };
    let names = |ids: &[String]| -> Vec<String> {
        ids.iter()
            .map(|id| {
                t.component_position(id)
                    .map_or_else(|_| id.clone(), |c| t.components[c].name.clone())
            })
            .collect()
    };
    let position: HashMap<CodingId, usize> = corpus
        .codings
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();
    let at = |ids: &[CodingId]| -> Vec<usize> { ids.iter().map(|id| position[id]).collect() };
    const BOTH_ACCOUNTS: [Account; 2] = [Account::Clinician, Account::Patient];
    let target_accounts: &[Account] = if reading.target_from_patient {
        &[Account::Patient]
    } else {
        &BOTH_ACCOUNTS
    };
    let propositions = corpus
        .theory
        .iter()
        .flat_map(|th| th.propositions.iter())
        .enumerate()
        .map(|(i, p)| {
            let from = positions(&p.from);
            let to = positions(&p.to);
            let mut counts: HashMap<Standing, usize> = HashMap::new();
            let mut contrast_dyads = 0;
            let dyads = t
                .dyads
                .iter()
                .zip(&t.cells)
                .map(|(row, cells)| {
                    let source = side(cells, &from, &BOTH_ACCOUNTS, reading.rule);
                    let target = side(cells, &to, target_accounts, reading.rule);
                    let standing = match (source.holds, target.holds) {
                        (true, true) => match reading.together {
                            Some(proximity)
                                if !together(
                                    corpus,
                                    proximity,
                                    &at(&source.codings),
                                    &at(&target.codings),
                                ) =>
                            {
                                Standing::Apart
                            }
                            _ => Standing::Both,
                        },
                        (true, false) => Standing::SourceOnly,
                        (false, true) => Standing::TargetOnly,
                        (false, false) => Standing::Neither,
                    };
                    *counts.entry(standing).or_default() += 1;
                    contrast_dyads +=
                        usize::from(!source.contrast.is_empty() || !target.contrast.is_empty());
                    DyadStanding {
                        dyad: row.label.clone(),
                        standing,
                        source_contrast_passages: distinct_passages(corpus, &at(&source.contrast)),
                        target_contrast_passages: distinct_passages(corpus, &at(&target.contrast)),
                        source_codings: source.codings,
                        target_codings: target.codings,
                        source_contrast: source.contrast,
                        target_contrast: target.contrast,
                    }
                })
                .collect();
            let count = |s: Standing| counts.get(&s).copied().unwrap_or(0);
            PropositionSupport {
                number: i + 1,
                from: p.from.clone(),
                to: p.to.clone(),
                from_names: names(&p.from),
                to_names: names(&p.to),
                relation: p.relation.clone(),
                basis: p.basis.as_str().to_string(),
                note: p.note.clone(),
                both: count(Standing::Both),
                apart: count(Standing::Apart),
                source_only: count(Standing::SourceOnly),
                target_only: count(Standing::TargetOnly),
                neither: count(Standing::Neither),
                contrast_dyads,
                dyads,
            }
        })
        .collect();
    Support {
        rule: reading.rule,
        together: reading.together.map(|p| p.to_string()),
        target_from_patient: reading.target_from_patient,
        rule_text: reading.describe(),
        dyad_count: t.dyads.len(),
        components,
        propositions,
    }
}

/// The quotes behind one proposition in one dyad, counter-evidence apart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PropositionExcerpts {
    pub number: usize,
    pub dyad: String,
    pub standing: Standing,
    pub rule_text: String,
    pub source: Vec<Excerpt>,
    pub target: Vec<Excerpt>,
    pub source_contrast: Vec<Excerpt>,
    pub target_contrast: Vec<Excerpt>,
}

/// The excerpts of proposition `number` (1-based) in a dyad (by label).
pub fn proposition_excerpts(
    corpus: &Corpus,
    support: &Support,
    number: usize,
    dyad: &str,
) -> Result<PropositionExcerpts, CorpusError> {
    let p = number
        .checked_sub(1)
        .and_then(|i| support.propositions.get(i))
        .ok_or_else(|| CorpusError::Unknown {
            what: "proposition",
            given: number.to_string(),
        })?;
    let d = p
        .dyads
        .iter()
        .find(|d| d.dyad.eq_ignore_ascii_case(dyad.trim()))
        .ok_or_else(|| CorpusError::Unknown {
            what: "dyad",
            given: dyad.to_string(),
        })?;
    Ok(PropositionExcerpts {
        number,
        dyad: d.dyad.clone(),
        standing: d.standing,
        rule_text: support.rule_text.clone(),
        source: Excerpt::all(corpus, &d.source_codings),
        target: Excerpt::all(corpus, &d.target_codings),
        source_contrast: Excerpt::all(corpus, &d.source_contrast),
        target_contrast: Excerpt::all(corpus, &d.target_contrast),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::sample_parts;
    use crate::triangulation::{Coders, triangulate};

    #[test]
    fn every_dyad_stands_once_on_each_proposition_and_all_is_stricter_than_any() {
        let (bundle, theory) = sample_parts();
        let corpus = Corpus::new(bundle, theory);
        let t = triangulate(&corpus, &Coders::All).expect("triangulation");
        let any = support(&corpus, &t, SideRule::Any);
        let all = support(&corpus, &t, SideRule::All);
        assert!(!any.propositions.is_empty());
        for (a, b) in any.propositions.iter().zip(&all.propositions) {
            assert_eq!(
                a.both + a.source_only + a.target_only + a.neither,
                t.dyads.len()
            );
            assert!(b.both <= a.both);
            for d in &a.dyads {
                assert_eq!(
                    d.standing == Standing::Both || d.standing == Standing::SourceOnly,
                    !d.source_codings.is_empty()
                );
            }
        }
        assert!(
            any.propositions.iter().any(|p| p.both > 0),
            "the sample supports some"
        );
    }

    #[test]
    fn the_attributed_sample_tells_its_propositions_apart() {
        // Once each clinician's passages count only for the dyads they are about, the
        // propositions no longer all stand at every dyad (the 10/10 everywhere).
        let corpus = crate::test_support::sample();
        let t = triangulate(&corpus, &Coders::All).expect("triangulation");
        let any = support(&corpus, &t, SideRule::Any);
        let both: HashSet<usize> = any.propositions.iter().map(|p| p.both).collect();
        assert!(both.len() > 1, "{both:?}");
        assert!(any.propositions.iter().any(|p| p.both < t.dyads.len()));
        // The stricter readings only ever take support away.
        let strict = support(
            &corpus,
            &t,
            Reading {
                rule: SideRule::Any,
                together: Some(Proximity::SameTurn),
                target_from_patient: true,
            },
        );
        for (a, s) in any.propositions.iter().zip(&strict.propositions) {
            assert!(s.both <= a.both, "P{}", a.number);
        }
        assert!(
            any.propositions
                .iter()
                .zip(&strict.propositions)
                .any(|(a, s)| s.both < a.both)
        );
    }

    #[test]
    fn without_target_evidence_no_dyad_supports_a_proposition() {
        let (mut bundle, theory) = sample_parts();
        let corpus = Corpus::new(bundle.clone(), theory.clone());
        let target = corpus.theory.as_ref().expect("theory").propositions[1]
            .to
            .clone();
        let t = triangulate(&corpus, &Coders::All).expect("triangulation");
        let rows = &t.components;
        // Every code whose component is a target or under one.
        let under_target = |component: &str| {
            let mut at = rows.iter().position(|r| r.id == component);
            while let Some(i) = at {
                if target.contains(&rows[i].id) {
                    return true;
                }
                at = rows[i].parent;
            }
            false
        };
        bundle
            .codings
            .retain(|c| !corpus.code_component(c.code).is_some_and(under_target));
        let stripped = Corpus::new(bundle, theory);
        let t = triangulate(&stripped, &Coders::All).expect("triangulation");
        let s = support(&stripped, &t, SideRule::Any);
        let p = &s.propositions[1];
        assert_eq!((p.both, p.target_only), (0, 0));
        assert_eq!(p.source_only + p.neither, t.dyads.len());
        assert!(p.source_only > 0);
        let ex = proposition_excerpts(&stripped, &s, 2, &p.dyads[0].dyad).expect("excerpts");
        assert!(ex.target.is_empty());
    }
}

#[cfg(test)]
mod tiny_tests {
    use super::*;
    use crate::triangulation::{Coders, triangulate};

    #[test]
    fn the_tiny_study_supports_propositions_as_reasoned() {
        let corpus = crate::test_support::tiny();
        let t = triangulate(&corpus, &Coders::All).expect("triangulation");
        let theory = corpus.theory.as_ref().expect("theory");
        let number = |from: &[&str], to: &[&str]| {
            1 + theory
                .propositions
                .iter()
                .position(|p| p.from == from && p.to == to)
                .expect("proposition")
        };
        let to_trust = number(&["valuing", "abiding"], &["trust"]);
        let to_healing = number(&["trust", "hope", "feeling-known"], &["healing"]);
        let standing = |s: &Support, n: usize| -> Vec<Standing> {
            s.propositions[n - 1]
                .dyads
                .iter()
                .map(|d| d.standing)
                .collect()
        };
        // C1's interview attributes nothing, so it is no dyad's evidence. Any: valuing in P1's
        // account, no trust; P2 holds only a contrast passage of trust.
        let any = support(&corpus, &t, SideRule::Any);
        assert_eq!(
            standing(&any, to_trust),
            [Standing::SourceOnly, Standing::Neither]
        );
        let p2 = &any.propositions[to_trust - 1].dyads[1];
        assert_eq!(
            (p2.source_contrast_passages, p2.target_contrast_passages),
            (0, 1),
            "the contrast passage is counter-evidence of the target side"
        );
        assert_eq!(any.propositions[to_trust - 1].contrast_dyads, 1);
        // All: abiding too, which no dyad's account holds.
        let all = support(&corpus, &t, SideRule::All);
        assert_eq!(
            standing(&all, to_trust),
            [Standing::Neither, Standing::Neither]
        );
        // Nothing of healing is coded, nor trust, hope or feeling known in a dyad's account.
        assert_eq!(
            standing(&any, to_healing),
            [Standing::Neither, Standing::Neither]
        );
        assert_eq!(any.component("valuing").map(|c| c.dyads), Some(1));
        assert_eq!(
            any.component("trust").map(|c| (c.dyads, c.both_accounts)),
            Some((0, 0))
        );
    }
}

#[cfg(test)]
mod attributed_tests {
    use super::*;
    use crate::triangulation::{Coders, triangulate};

    /// Where the three dyads of the attributed study stand on valuing + abiding → trust.
    fn standings(reading: Reading) -> (Vec<Standing>, Support) {
        let corpus = crate::test_support::attributed();
        let t = triangulate(&corpus, &Coders::All).expect("triangulation");
        let s = support(&corpus, &t, reading);
        let p = s
            .propositions
            .iter()
            .find(|p| p.from == ["valuing", "abiding"] && p.to == ["trust"])
            .expect("valuing + abiding → trust");
        assert_eq!(
            p.both + p.apart + p.source_only + p.target_only + p.neither,
            s.dyad_count
        );
        let dyads: Vec<&str> = p.dyads.iter().map(|d| d.dyad.as_str()).collect();
        assert_eq!(dyads, ["C1-P1", "C1-P2", "C2-P3"]);
        (p.dyads.iter().map(|d| d.standing).collect(), s.clone())
    }

    fn reading(together: Option<Proximity>, target_from_patient: bool) -> Reading {
        Reading {
            rule: SideRule::Any,
            together,
            target_from_patient,
        }
    }

    #[test]
    fn support_counts_each_dyads_own_accounts() {
        use Standing::*;
        let (plain, s) = standings(reading(None, false));
        // C1-P1: abiding in C1's passage about Pat, valuing in P1's; trust in both.
        // C1-P2: valuing in C1's passage about Quinn; trust only as P2's contrast passage.
        // C2-P3: valuing in P3's account; trust in C2's passage about Sam.
        assert_eq!(plain, [Both, SourceOnly, Both]);
        let p = s
            .propositions
            .iter()
            .find(|p| p.to == ["trust"] && p.from == ["valuing", "abiding"])
            .expect("proposition");
        let (c1p1, c1p2) = (&p.dyads[0], &p.dyads[1]);
        assert_eq!(
            c1p1.target_codings.len(),
            3,
            "C1's and P1's trust codings; the field note and C2's passage are not accounts"
        );
        assert_eq!(
            (c1p2.target_contrast_passages, c1p2.target_contrast.len()),
            (1, 1)
        );
        assert_eq!(p.contrast_dyads, 1);
        assert!(s.rule_text.contains("its own accounts"));
    }

    #[test]
    fn stricter_readings_narrow_support_and_combine() {
        use Standing::*;
        // The target side from the patient's account: C2-P3's trust is only C2's.
        let (patient, s) = standings(reading(None, true));
        assert_eq!(patient, [Both, SourceOnly, SourceOnly]);
        assert!(s.rule_text.contains("patient's account"));
        // Overlapping: no passage of valuing or abiding overlaps one of trust.
        assert_eq!(
            standings(reading(Some(Proximity::Overlap), false)).0,
            [Apart, SourceOnly, Apart]
        );
        // The same turn: C1's turn about Pat, and P1's one turn, hold both; C2-P3's sides are
        // in two sources.
        let (turn, s) = standings(reading(Some(Proximity::SameTurn), false));
        assert_eq!(turn, [Both, SourceOnly, Apart]);
        assert_eq!(s.together.as_deref(), Some("turn"));
        assert!(s.rule_text.contains("same turn"));
        // One character apart ("me. I"): within 1, not within 0.
        assert_eq!(
            standings(reading(Some(Proximity::Near(1)), false)).0,
            [Both, SourceOnly, Apart]
        );
        assert_eq!(
            standings(reading(Some(Proximity::Near(0)), false)).0,
            [Apart, SourceOnly, Apart]
        );
        // Combined: the same turn, the target from the patient's account.
        assert_eq!(
            standings(reading(Some(Proximity::SameTurn), true)).0,
            [Both, SourceOnly, SourceOnly]
        );
    }

    #[test]
    fn a_dyads_quotes_include_its_counter_evidence() {
        let corpus = crate::test_support::attributed();
        let t = triangulate(&corpus, &Coders::All).expect("triangulation");
        let s = support(&corpus, &t, SideRule::Any);
        let n = s
            .propositions
            .iter()
            .find(|p| p.from == ["valuing", "abiding"] && p.to == ["trust"])
            .expect("proposition")
            .number;
        let ex = proposition_excerpts(&corpus, &s, n, "c1-p2").expect("excerpts");
        assert_eq!(ex.standing, Standing::SourceOnly);
        assert!(ex.target.is_empty());
        let contrast: Vec<&str> = ex.target_contrast.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(contrast, ["I do not trust doctors."]);
        assert_eq!(ex.source[0].text, "I listen to her.");
        assert_eq!(ex.rule_text, s.rule_text);
    }
}
