//! Proposition support: for each edge of the theory (`from` → `to`), in how many dyads both
//! sides are evidenced, only the source side, only the target side, or neither (definitions
//! in `docs/findings.md`, "Proposition support"). Evidence is the triangulation's: a
//! component is evidenced in a dyad when either account holds a (non-contrast) passage of it
//! or of one of its sub-components.

use std::collections::HashSet;

use between_core::*;
use between_model::Kind;
use serde::{Deserialize, Serialize};

use crate::triangulation::{Excerpt, Triangulation};
use crate::{Corpus, CorpusError};

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

/// Where a dyad stands on one proposition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    Both,
    SourceOnly,
    TargetOnly,
    Neither,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Both => "both",
            Self::SourceOnly => "source only",
            Self::TargetOnly => "target only",
            Self::Neither => "neither",
        }
    }
}

/// One dyad on one proposition, with the codings behind each side (both accounts).
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
    pub source_only: usize,
    pub target_only: usize,
    pub neither: usize,
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
    pub dyad_count: usize,
    pub components: Vec<ComponentSupport>,
    pub propositions: Vec<PropositionSupport>,
}

impl Support {
    pub fn component(&self, id: &str) -> Option<&ComponentSupport> {
        self.components.iter().find(|c| c.id == id)
    }
}

/// The support of the theory's propositions in a triangulation.
pub fn support(corpus: &Corpus, triangulation: &Triangulation, rule: SideRule) -> Support {
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
    let propositions = corpus
        .theory
        .iter()
        .flat_map(|th| th.propositions.iter())
        .enumerate()
        .map(|(i, p)| {
            let from = positions(&p.from);
            let to = positions(&p.to);
            let mut counts = [0usize; 4];
            let dyads = t
                .dyads
                .iter()
                .enumerate()
                .map(|(d, row)| {
                    let cells = &t.cells[d];
                    let side = |components: &[usize]| -> (bool, Vec<CodingId>) {
                        let evidenced: Vec<usize> = components
                            .iter()
                            .copied()
                            .filter(|&c| cells[c].presence().any())
                            .collect();
                        let holds = match rule {
                            SideRule::Any => !evidenced.is_empty(),
                            SideRule::All => {
                                !components.is_empty() && evidenced.len() == components.len()
                            }
                        };
                        let mut seen = HashSet::new();
                        let codings = evidenced
                            .iter()
                            .flat_map(|&c| {
                                cells[c]
                                    .clinician
                                    .codings
                                    .iter()
                                    .chain(&cells[c].patient.codings)
                            })
                            .copied()
                            .filter(|id| seen.insert(*id))
                            .collect();
                        (holds, codings)
                    };
                    let (source, source_codings) = side(&from);
                    let (target, target_codings) = side(&to);
                    let standing = match (source, target) {
                        (true, true) => Standing::Both,
                        (true, false) => Standing::SourceOnly,
                        (false, true) => Standing::TargetOnly,
                        (false, false) => Standing::Neither,
                    };
                    counts[standing as usize] += 1;
                    DyadStanding {
                        dyad: row.label.clone(),
                        standing,
                        source_codings,
                        target_codings,
                    }
                })
                .collect();
            PropositionSupport {
                number: i + 1,
                from: p.from.clone(),
                to: p.to.clone(),
                from_names: names(&p.from),
                to_names: names(&p.to),
                relation: p.relation.clone(),
                basis: p.basis.as_str().to_string(),
                note: p.note.clone(),
                both: counts[Standing::Both as usize],
                source_only: counts[Standing::SourceOnly as usize],
                target_only: counts[Standing::TargetOnly as usize],
                neither: counts[Standing::Neither as usize],
                dyads,
            }
        })
        .collect();
    Support {
        rule,
        dyad_count: t.dyads.len(),
        components,
        propositions,
    }
}

/// The quotes behind one proposition in one dyad.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PropositionExcerpts {
    pub number: usize,
    pub dyad: String,
    pub standing: Standing,
    pub source: Vec<Excerpt>,
    pub target: Vec<Excerpt>,
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
        source: Excerpt::all(corpus, &d.source_codings),
        target: Excerpt::all(corpus, &d.target_codings),
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
        // Any: abiding (C1's interview) and trust (C1's interview) in both dyads.
        let any = support(&corpus, &t, SideRule::Any);
        assert_eq!(standing(&any, to_trust), [Standing::Both, Standing::Both]);
        // All: valuing too, which only P1's account holds.
        let all = support(&corpus, &t, SideRule::All);
        assert_eq!(
            standing(&all, to_trust),
            [Standing::Both, Standing::TargetOnly]
        );
        // Nothing of healing is coded.
        assert_eq!(
            standing(&any, to_healing),
            [Standing::SourceOnly, Standing::SourceOnly]
        );
        assert_eq!(any.component("valuing").map(|c| c.dyads), Some(1));
        assert_eq!(
            any.component("trust").map(|c| (c.dyads, c.both_accounts)),
            Some((2, 0))
        );
    }
}
