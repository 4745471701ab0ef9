//! Case studies: a dyad's two accounts side by side per theory component, a clinician's dyads,
//! and clinicians compared by component.
//!
//! Rules (documented in `docs/findings.md`):
//! - the components are the theory's top-level components; a coding counts for the top-level
//!   component its code's component sits under (a sub-dimension counts for its parent);
//! - a dyad's **clinician account** is every passage of the dyad's clinician's sources that
//!   speaks for the dyad ([`Corpus::dyads_of_passage`], the dyad matrix's rule); its **patient
//!   account** likewise; other sources (a field note without a participant) are in neither;
//! - a clinician's passages that speak for no dyad are their **general** evidence, shown apart
//!   on their page and never counted for a dyad;
//! - **passages** are counted as in the dyad matrix (overlapping codings in a source are one
//!   passage); excerpts show each coded span once, however many coders coded it;
//! - **key excerpts**: the team's exemplars of the component (or of one under it) first, in the
//!   team's order; then the passages most coded (codings of any code overlapping them), then the
//!   longest, then in text order;
//! - **contrast** codings are listed apart and never counted as evidence.

use std::collections::{HashMap, HashSet};

use between_core::*;
use serde::Serialize;

use crate::triangulation::{Account, Place, place_codings};
use crate::{Corpus, CorpusError};

/// How many key excerpts a case shows per account and component, unless asked otherwise.
pub const KEY_EXCERPTS: usize = 3;

/// One coding quoted as a case shows it: the quote of the dyad matrix's cells
/// ([`crate::triangulation::Excerpt`], its fields flattened in JSON) and what a case adds to it.
/// Unlike the queries' [`crate::Excerpt`] it is always one coding and has no context around it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Excerpt {
    #[serde(flatten)]
    pub quote: crate::triangulation::Excerpt,
    /// The coder's note on the coding, if any.
    pub note: Option<String>,
    /// Codings (of any code, by any coder) overlapping the passage, itself included.
    pub codings_here: usize,
    /// Chosen by the team as an exemplar of the component (or of one under it).
    pub exemplar: bool,
}

/// A component's evidence in one dyad.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComponentEvidence {
    pub component: String,
    pub name: String,
    pub kind: String,
    pub definition: String,
    /// Passages in the clinician's account, and the key ones.
    pub clinician_passages: usize,
    pub clinician: Vec<Excerpt>,
    pub patient_passages: usize,
    pub patient: Vec<Excerpt>,
}

impl ComponentEvidence {
    /// `clinician`, `patient`, `both` or `none`: where the component is evidenced.
    pub fn evidenced_in(&self) -> &'static str {
        match (self.clinician_passages > 0, self.patient_passages > 0) {
            (true, true) => "both",
            (true, false) => "clinician",
            (false, true) => "patient",
            (false, false) => "none",
        }
    }
}

/// A memo relevant to a case, with what it is about.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseMemo {
    pub id: MemoId,
    /// `dyad C1-P01`, `participant C1`, `source p01.txt`, `code Valuing/Presence`, `coding …`.
    pub about: String,
    pub title: String,
    pub author: String,
    pub text: String,
    /// For a memo on a passage: the passage's words.
    pub passage: Option<String>,
}

/// Which side of a dyad a contrast passage is from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Contrast {
    /// `clinician` or `patient`.
    pub account: &'static str,
    pub component: Option<String>,
    pub excerpt: Excerpt,
}

/// A dyad case study.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DyadCase {
    pub dyad: String,
    pub clinician: String,
    pub clinician_name: Option<String>,
    pub patient: String,
    pub patient_name: Option<String>,
    pub relationship_start: Option<String>,
    pub clinician_sources: Vec<String>,
    pub patient_sources: Vec<String>,
    pub components: Vec<ComponentEvidence>,
    pub contrasts: Vec<Contrast>,
    pub memos: Vec<CaseMemo>,
    pub narrative: Option<Case>,
}

/// One dyad's evidence for one component, in a clinician's case.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DyadEvidence {
    pub dyad: String,
    pub patient: String,
    pub evidence: ComponentEvidence,
}

/// A component across a clinician's dyads.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClinicianComponent {
    pub component: String,
    pub name: String,
    pub definition: String,
    pub dyads: Vec<DyadEvidence>,
}

/// A clinician case study: all of that clinician's dyads.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClinicianCase {
    pub clinician: String,
    pub clinician_name: Option<String>,
    pub dyads: Vec<DyadCase>,
    pub components: Vec<ClinicianComponent>,
    /// Per top-level component: the clinician's evidence about no particular patient.
    pub general: Vec<GeneralEvidence>,
    pub memos: Vec<CaseMemo>,
    pub narrative: Option<Case>,
}

/// A clinician's evidence of a component about no particular patient: never counted for a
/// dyad.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GeneralEvidence {
    pub component: String,
    pub name: String,
    pub passages: usize,
    pub excerpts: Vec<Excerpt>,
}

/// One cell of the cross-case comparison: a clinician's evidence for a component.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComparisonCell {
    /// Dyads with evidence in either account.
    pub dyads: usize,
    /// Passages across both accounts of all their dyads (a passage that speaks for several of
    /// their dyads counted once).
    pub passages: usize,
    /// The clinician's passages about no particular patient: apart, not in `passages`.
    pub general_passages: usize,
    pub key: Option<Excerpt>,
}

/// Clinicians side by side by component.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// Labels, with each clinician's dyad count.
    pub clinicians: Vec<(String, usize)>,
    /// Per component: id, name, one cell per clinician.
    pub rows: Vec<(String, String, Vec<ComparisonCell>)>,
}

/// A top-level component and every component id under it.
struct TopComponent<'a> {
    component: &'a between_model::Component,
    ids: HashSet<&'a str>,
}

fn top_components(corpus: &Corpus) -> Vec<TopComponent<'_>> {
    fn collect<'a>(c: &'a between_model::Component, out: &mut HashSet<&'a str>) {
        out.insert(&c.id);
        for s in &c.subs {
            collect(s, out);
        }
    }
    corpus
        .theory
        .iter()
        .flat_map(|t| &t.components)
        .map(|component| {
            let mut ids = HashSet::new();
            collect(component, &mut ids);
            TopComponent { component, ids }
        })
        .collect()
}

/// What cases are computed with: the corpus and its indexes for cases.
pub struct Cases<'a> {
    corpus: &'a Corpus,
    tops: Vec<TopComponent<'a>>,
    /// Per coding: the exemplar targets (component ids) it was chosen for.
    exemplar_rank: HashMap<CodingId, i64>,
    exemplar_components: HashMap<CodingId, Vec<&'a str>>,
    /// Per dyad (in `corpus.dyads` order): the positions in `corpus.codings` of the codings in
    /// its clinician's and its patient's account, contrast included.
    accounts: Vec<[Vec<usize>; 2]>,
    /// Per participant: the positions of their codings that speak for no dyad.
    general: HashMap<ParticipantId, Vec<usize>>,
    per_account: usize,
}

impl std::fmt::Debug for Cases<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cases")
            .field("per_account", &self.per_account)
            .finish_non_exhaustive()
    }
}

impl<'a> Cases<'a> {
    /// Cases over `corpus`, with `per_account` key excerpts per account and component.
    pub fn new(corpus: &'a Corpus, per_account: usize) -> Self {
        let mut exemplar_rank = HashMap::new();
        let mut exemplar_components: HashMap<CodingId, Vec<&str>> = HashMap::new();
        for e in &corpus.exemplars {
            let rank = exemplar_rank.entry(e.coding).or_insert(e.position);
            *rank = (*rank).min(e.position);
            if let ExemplarFor::Component(c) = &e.target {
                exemplar_components
                    .entry(e.coding)
                    .or_default()
                    .push(c.as_str());
            }
        }
        let mut accounts = vec![[Vec::new(), Vec::new()]; corpus.dyads.len()];
        let mut general: HashMap<ParticipantId, Vec<usize>> = HashMap::new();
        place_codings(corpus, |i, _, place| match place {
            Place::Dyad(d, Account::Clinician) => accounts[d][0].push(i),
            Place::Dyad(d, Account::Patient) => accounts[d][1].push(i),
            Place::Dyad(_, Account::Other) => {}
            Place::General(p) => general.entry(p).or_default().push(i),
        });
        Self {
            corpus,
            tops: top_components(corpus),
            exemplar_rank,
            exemplar_components,
            accounts,
            general,
            per_account,
        }
    }

    fn excerpt(&self, source: &Source, coding: &Coding, top: Option<&TopComponent>) -> Excerpt {
        let here = self
            .corpus
            .codings_of(source.id)
            .iter()
            .take_while(|c| c.span.start < coding.span.end)
            .filter(|c| c.span.end > coding.span.start)
            .count();
        let exemplar = top.is_some_and(|t| {
            self.exemplar_components
                .get(&coding.id)
                .is_some_and(|cs| cs.iter().any(|c| t.ids.contains(c)))
        });
        Excerpt {
            quote: crate::triangulation::Excerpt::of(self.corpus, coding),
            note: coding.memo.clone(),
            codings_here: here,
            exemplar,
        }
    }

    /// The evidence for `top` among codings (positions in `corpus.codings`): the passage count
    /// and the key excerpts.
    fn evidence(&self, codings: &[usize], top: &TopComponent) -> (usize, Vec<Excerpt>) {
        let mut seen = HashSet::new();
        let mut all = Vec::new();
        let mut counted = Vec::new();
        for &i in codings {
            let coding = &self.corpus.codings[i];
            if coding.contrast {
                continue;
            }
            let Some(component) = self.corpus.code_component(coding.code) else {
                continue;
            };
            if !top.ids.contains(component) {
                continue;
            }
            counted.push(i);
            if seen.insert((coding.source, coding.span))
                && let Some(source) = self.corpus.source(coding.source)
            {
                all.push(self.excerpt(source, coding, Some(top)));
            }
        }
        let passages = crate::triangulation::distinct_passages(self.corpus, &counted);
        all.sort_by(|a, b| {
            let rank = |e: &Excerpt| {
                e.exemplar
                    .then(|| self.exemplar_rank.get(&e.quote.coding).copied())
                    .flatten()
            };
            match (rank(a), rank(b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => b
                    .codings_here
                    .cmp(&a.codings_here)
                    .then(b.quote.span.len().cmp(&a.quote.span.len())),
            }
            .then_with(|| {
                let at = |e: &Excerpt| (self.corpus.source_position(e.quote.source), e.quote.span);
                at(a).cmp(&at(b))
            })
        });
        all.truncate(self.per_account);
        (passages, all)
    }

    fn sources_of(&self, participant: ParticipantId, dyad: DyadId) -> Vec<&'a Source> {
        self.corpus
            .sources
            .iter()
            .filter(|s| s.participant == Some(participant))
            .filter(|s| self.corpus.dyads_of(s).iter().any(|d| d.id == dyad))
            .collect()
    }

    fn general_of(&self, participant: ParticipantId) -> &[usize] {
        self.general.get(&participant).map_or(&[], Vec::as_slice)
    }

    fn memo(&self, memo: &Memo, about: String) -> CaseMemo {
        let passage = match (memo.target, memo.passage) {
            (MemoTarget::Source(s), Some(span)) => self
                .corpus
                .source(s)
                .map(|s| self.corpus.text_of(s, span).to_string()),
            _ => None,
        };
        CaseMemo {
            id: memo.id,
            about,
            title: memo.title.clone(),
            author: memo.author.clone(),
            text: memo.text.clone(),
            passage,
        }
    }

    /// Memos on the dyads, participants, sources, codings (of those sources) and codes involved.
    fn memos(
        &self,
        dyads: &[DyadId],
        people: &[ParticipantId],
        sources: &[&Source],
    ) -> Vec<CaseMemo> {
        let source_ids: HashSet<SourceId> = sources.iter().map(|s| s.id).collect();
        let codings: HashMap<CodingId, &Coding> = sources
            .iter()
            .flat_map(|s| self.corpus.codings_of(s.id))
            .map(|c| (c.id, c))
            .collect();
        let codes: HashSet<CodeId> = codings.values().map(|c| c.code).collect();
        self.corpus
            .memos
            .iter()
            .filter_map(|m| {
                let about = match m.target {
                    MemoTarget::Dyad(d) if dyads.contains(&d) => {
                        format!("dyad {}", self.corpus.dyad(d)?.label)
                    }
                    MemoTarget::Participant(p) if people.contains(&p) => {
                        format!("participant {}", self.corpus.participant(p)?.label)
                    }
                    MemoTarget::Source(s) if source_ids.contains(&s) => {
                        format!("source {}", self.corpus.source(s)?.name)
                    }
                    MemoTarget::Coding(c) if codings.contains_key(&c) => {
                        let c = codings[&c];
                        format!(
                            "coding of {} in {}",
                            self.corpus.code_path(c.code),
                            self.corpus.source(c.source)?.name
                        )
                    }
                    MemoTarget::Code(c) if codes.contains(&c) => {
                        format!("code {}", self.corpus.code_path(c))
                    }
                    _ => return None,
                };
                Some(self.memo(m, about))
            })
            .collect()
    }

    fn narrative(&self, subject: CaseSubject) -> Option<Case> {
        self.corpus
            .cases
            .iter()
            .find(|c| c.subject == subject)
            .cloned()
    }

    /// The case study of a dyad, by label.
    pub fn dyad(&self, label: &str) -> Result<DyadCase, CorpusError> {
        let dyad = self.corpus.dyad_by_label(label)?;
        Ok(self.dyad_case(dyad))
    }

    /// The positions of the codings in a dyad's clinician's and patient's accounts.
    fn accounts_of(&self, dyad: &Dyad) -> &[Vec<usize>; 2] {
        let d = self
            .corpus
            .dyads
            .iter()
            .position(|d| d.id == dyad.id)
            .expect("a dyad of the corpus");
        &self.accounts[d]
    }

    fn dyad_case(&self, dyad: &Dyad) -> DyadCase {
        let corpus = self.corpus;
        let clinician = corpus.participant(dyad.clinician);
        let patient = corpus.participant(dyad.patient);
        let clinician_sources = self.sources_of(dyad.clinician, dyad.id);
        let patient_sources = self.sources_of(dyad.patient, dyad.id);
        let [clinician_codings, patient_codings] = self.accounts_of(dyad);
        let components = self
            .tops
            .iter()
            .map(|top| {
                let (clinician_passages, clinician) = self.evidence(clinician_codings, top);
                let (patient_passages, patient) = self.evidence(patient_codings, top);
                ComponentEvidence {
                    component: top.component.id.clone(),
                    name: top.component.name.clone(),
                    kind: top.component.kind.as_str().to_string(),
                    definition: top.component.definition.clone(),
                    clinician_passages,
                    clinician,
                    patient_passages,
                    patient,
                }
            })
            .collect();
        let mut contrasts = Vec::new();
        for (account, codings) in [
            ("clinician", clinician_codings),
            ("patient", patient_codings),
        ] {
            let mut seen = HashSet::new();
            for &i in codings {
                let coding = &corpus.codings[i];
                let Some(source) = corpus.source(coding.source) else {
                    continue;
                };
                if coding.contrast && seen.insert((source.id, coding.span)) {
                    let component = corpus.code_component(coding.code).and_then(|c| {
                        self.tops
                            .iter()
                            .find(|t| t.ids.contains(c))
                            .map(|t| t.component.name.clone())
                    });
                    contrasts.push(Contrast {
                        account,
                        component,
                        excerpt: self.excerpt(source, coding, None),
                    });
                }
            }
        }
        let all_sources: Vec<&Source> = clinician_sources
            .iter()
            .chain(&patient_sources)
            .copied()
            .collect();
        let memos = self.memos(&[dyad.id], &[dyad.clinician, dyad.patient], &all_sources);
        let names = |s: &[&Source]| s.iter().map(|s| s.name.clone()).collect();
        DyadCase {
            dyad: dyad.label.clone(),
            clinician: clinician.map_or_else(|| "?".into(), |p| p.label.clone()),
            clinician_name: clinician.and_then(|p| p.name.clone()),
            patient: patient.map_or_else(|| "?".into(), |p| p.label.clone()),
            patient_name: patient.and_then(|p| p.name.clone()),
            relationship_start: dyad.relationship_start.clone(),
            clinician_sources: names(&clinician_sources),
            patient_sources: names(&patient_sources),
            components,
            contrasts,
            memos,
            narrative: self.narrative(CaseSubject::Dyad(dyad.id)),
        }
    }

    fn clinician_by_label(&self, label: &str) -> Result<&'a Participant, CorpusError> {
        let p = self.corpus.participant_by_label(label)?;
        if p.role == Role::Clinician {
            Ok(p)
        } else {
            Err(CorpusError::Unknown {
                what: "clinician",
                given: label.to_string(),
            })
        }
    }

    /// The case study of a clinician, by label: every one of their dyads, per component.
    pub fn clinician(&self, label: &str) -> Result<ClinicianCase, CorpusError> {
        let clinician = self.clinician_by_label(label)?;
        let dyads: Vec<DyadCase> = self
            .corpus
            .dyads
            .iter()
            .filter(|d| d.clinician == clinician.id)
            .map(|d| self.dyad_case(d))
            .collect();
        let components = self
            .tops
            .iter()
            .enumerate()
            .map(|(i, top)| ClinicianComponent {
                component: top.component.id.clone(),
                name: top.component.name.clone(),
                definition: top.component.definition.clone(),
                dyads: dyads
                    .iter()
                    .map(|d| DyadEvidence {
                        dyad: d.dyad.clone(),
                        patient: d.patient.clone(),
                        evidence: d.components[i].clone(),
                    })
                    .collect(),
            })
            .collect();
        let general_codings = self.general_of(clinician.id);
        let general = self
            .tops
            .iter()
            .map(|top| {
                let (passages, excerpts) = self.evidence(general_codings, top);
                GeneralEvidence {
                    component: top.component.id.clone(),
                    name: top.component.name.clone(),
                    passages,
                    excerpts,
                }
            })
            .collect();
        let memos = self.memos(
            &[],
            &[clinician.id],
            &self
                .corpus
                .sources
                .iter()
                .filter(|s| s.participant == Some(clinician.id))
                .collect::<Vec<_>>(),
        );
        Ok(ClinicianCase {
            clinician: clinician.label.clone(),
            clinician_name: clinician.name.clone(),
            dyads,
            components,
            general,
            memos,
            narrative: self.narrative(CaseSubject::Clinician(clinician.id)),
        })
    }

    /// Clinicians side by side by component.
    pub fn comparison(&self) -> Comparison {
        let clinicians: Vec<&Participant> = self
            .corpus
            .participants
            .iter()
            .filter(|p| p.role == Role::Clinician)
            .collect();
        // Per clinician: their dyads' accounts, and every coding in one of them once.
        struct Theirs<'c> {
            accounts: Vec<&'c [Vec<usize>; 2]>,
            all: Vec<usize>,
            general: &'c [usize],
        }
        let per_clinician: Vec<Theirs> = clinicians
            .iter()
            .map(|c| {
                let accounts: Vec<&[Vec<usize>; 2]> = self
                    .corpus
                    .dyads
                    .iter()
                    .filter(|d| d.clinician == c.id)
                    .map(|d| self.accounts_of(d))
                    .collect();
                let mut all: Vec<usize> = accounts
                    .iter()
                    .copied()
                    .flatten()
                    .flatten()
                    .copied()
                    .collect();
                all.sort_unstable();
                all.dedup();
                Theirs {
                    accounts,
                    all,
                    general: self.general_of(c.id),
                }
            })
            .collect();
        let rows = self
            .tops
            .iter()
            .map(|top| {
                let cells = per_clinician
                    .iter()
                    .map(|theirs| {
                        let dyads = theirs
                            .accounts
                            .iter()
                            .filter(|[c, p]| {
                                self.evidence(c, top).0 > 0 || self.evidence(p, top).0 > 0
                            })
                            .count();
                        let (passages, key) = self.evidence(&theirs.all, top);
                        ComparisonCell {
                            dyads,
                            passages,
                            general_passages: self.evidence(theirs.general, top).0,
                            key: key.into_iter().next(),
                        }
                    })
                    .collect();
                (top.component.id.clone(), top.component.name.clone(), cells)
            })
            .collect();
        Comparison {
            clinicians: clinicians
                .iter()
                .zip(&per_clinician)
                .map(|(c, s)| (c.label.clone(), s.accounts.len()))
                .collect(),
            rows,
        }
    }
}

#[cfg(test)]
mod tests;
