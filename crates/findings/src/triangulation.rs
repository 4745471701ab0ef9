//! Dyad triangulation: for each dyad and each theory component, the evidence in the
//! clinician's account, in the patient's account, or in both (definitions in
//! `docs/findings.md`, "Dyad triangulation").
//!
//! - A coding is **evidence** for its code's component and for every ancestor of that
//!   component in the theory (evidence of `presence` is evidence of `valuing`).
//! - A source is the **clinician's account** of a dyad when its participant is the dyad's
//!   clinician and [`Corpus::dyads_of`] lists the dyad; likewise the patient's. Sources with no
//!   participant (a journal) or someone else's are no account of the dyad.
//! - Evidence is counted in **distinct passages**: codings of one cell side in one source whose
//!   spans overlap count once, so two coders coding the same passage (or a passage coded with a
//!   component and one of its sub-components) do not double it.
//! - **Contrast** codings are never evidence: they are listed and counted apart.

use std::collections::HashMap;

use between_core::*;
use between_model::{Kind, Theory};
use serde::{Deserialize, Serialize};

use crate::{Corpus, CorpusError};

/// Whose codings count.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "coders", content = "coder")]
pub enum Coders {
    /// Every coder's codings (overlaps merged into distinct passages).
    #[default]
    All,
    /// One coder's, e.g. the consensus coder after adjudication.
    Only(String),
}

impl Coders {
    /// `None` or empty for all coders, else that one coder.
    pub fn from_option(name: Option<&str>) -> Self {
        match name.map(str::trim) {
            None | Some("") => Self::All,
            Some(name) => Self::Only(name.to_string()),
        }
    }

    pub fn counts(&self, coding: &Coding) -> bool {
        match self {
            Self::All => true,
            Self::Only(name) => coding.coder == *name,
        }
    }

    /// Refuses a coder who has coded nothing in the study: most likely a typo.
    pub fn check(&self, corpus: &Corpus) -> Result<(), CorpusError> {
        match self {
            Self::Only(name) if !corpus.codings.iter().any(|c| c.coder == *name) => {
                Err(CorpusError::Unknown {
                    what: "coder",
                    given: name.clone(),
                })
            }
            _ => Ok(()),
        }
    }
}

/// One component of the theory, flattened depth first (parents before their subs).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComponentRow {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    /// 0 for a top-level component.
    pub depth: usize,
    /// Position of the parent in the same list.
    pub parent: Option<usize>,
    /// Position of the top-level component it belongs to (itself when top level).
    pub top: usize,
    /// `#rrggbb`, inherited from the nearest ancestor that has one.
    pub colour: Option<String>,
}

/// The theory's components, depth first, each with its parent and top-level component.
pub fn component_rows(theory: Option<&Theory>) -> Vec<ComponentRow> {
    let Some(theory) = theory else {
        return Vec::new();
    };
    let mut rows: Vec<ComponentRow> = Vec::new();
    // The latest row seen at each depth: the parent of the next row one level deeper.
    let mut stack: Vec<usize> = Vec::new();
    for (depth, c) in theory.components() {
        stack.truncate(depth);
        let parent = stack.last().copied();
        let top = stack.first().copied().unwrap_or(rows.len());
        let colour = c
            .colour
            .clone()
            .or_else(|| parent.and_then(|p| rows[p].colour.clone()));
        stack.push(rows.len());
        rows.push(ComponentRow {
            id: c.id.clone(),
            name: c.name.clone(),
            kind: c.kind,
            depth,
            parent,
            top,
            colour,
        });
    }
    rows
}

/// Which account(s) of a dyad hold evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Presence {
    Both,
    ClinicianOnly,
    PatientOnly,
    None,
}

impl Presence {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Both => "both",
            Self::ClinicianOnly => "clinician only",
            Self::PatientOnly => "patient only",
            Self::None => "none",
        }
    }

    pub fn any(self) -> bool {
        self != Self::None
    }
}

/// Which account of a dyad a source is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Account {
    Clinician,
    Patient,
}

/// One account's evidence in a cell.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Evidence {
    /// Distinct passages (overlapping codings in one source count once).
    pub passages: usize,
    /// The codings behind them, in corpus order.
    pub codings: Vec<CodingId>,
    /// Distinct contrast passages: reported, never evidence.
    pub contrast_passages: usize,
    pub contrast: Vec<CodingId>,
}

/// One dyad × component cell.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cell {
    pub clinician: Evidence,
    pub patient: Evidence,
    /// Which accounts hold evidence (kept with the cell for readers of the JSON).
    pub presence: Presence,
}

impl Cell {
    pub fn new(clinician: Evidence, patient: Evidence) -> Self {
        let presence = match (clinician.passages > 0, patient.passages > 0) {
            (true, true) => Presence::Both,
            (true, false) => Presence::ClinicianOnly,
            (false, true) => Presence::PatientOnly,
            (false, false) => Presence::None,
        };
        Self {
            clinician,
            patient,
            presence,
        }
    }

    pub fn presence(&self) -> Presence {
        self.presence
    }

    pub fn side(&self, account: Account) -> &Evidence {
        match account {
            Account::Clinician => &self.clinician,
            Account::Patient => &self.patient,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DyadRow {
    pub id: DyadId,
    pub label: String,
    pub clinician: String,
    pub patient: String,
}

/// The dyads × components matrix.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Triangulation {
    pub coders: Coders,
    pub components: Vec<ComponentRow>,
    pub dyads: Vec<DyadRow>,
    /// `cells[dyad][component]`, in the order of `dyads` and `components`.
    pub cells: Vec<Vec<Cell>>,
}

impl Triangulation {
    pub fn component_position(&self, id: &str) -> Result<usize, CorpusError> {
        self.components
            .iter()
            .position(|c| c.id == id)
            .ok_or_else(|| CorpusError::Unknown {
                what: "component",
                given: id.to_string(),
            })
    }

    pub fn dyad_position(&self, label_or_id: &str) -> Result<usize, CorpusError> {
        let wanted = label_or_id.trim();
        self.dyads
            .iter()
            .position(|d| d.label.eq_ignore_ascii_case(wanted) || d.id.to_string() == wanted)
            .ok_or_else(|| CorpusError::Unknown {
                what: "dyad",
                given: label_or_id.to_string(),
            })
    }

    /// In how many dyads each component has evidence (either account), in component order.
    pub fn dyads_with_evidence(&self) -> Vec<usize> {
        (0..self.components.len())
            .map(|c| {
                self.cells
                    .iter()
                    .filter(|row| row[c].presence().any())
                    .count()
            })
            .collect()
    }
}

/// The account a source is of a dyad, if it is one.
fn account_in(source: &Source, dyad: &Dyad) -> Option<Account> {
    let who = source.participant?;
    if who == dyad.clinician {
        Some(Account::Clinician)
    } else if who == dyad.patient {
        Some(Account::Patient)
    } else {
        None
    }
}

/// Distinct passages among codings (sorted by source, start): overlaps within a source merge.
pub(crate) fn distinct_passages(corpus: &Corpus, codings: &[usize]) -> usize {
    let mut spans: Vec<(SourceId, Span)> = codings
        .iter()
        .map(|&i| (corpus.codings[i].source, corpus.codings[i].span))
        .collect();
    spans.sort_by_key(|(s, span)| (corpus.source_position(*s), span.start, span.end));
    let mut count = 0;
    let mut current: Option<(SourceId, usize)> = None;
    for (source, span) in spans {
        match current {
            Some((s, end)) if s == source && span.start < end => {
                current = Some((s, end.max(span.end)));
            }
            _ => {
                count += 1;
                current = Some((source, span.end));
            }
        }
    }
    count
}

/// The dyads × components matrix of the study.
pub fn triangulate(corpus: &Corpus, coders: &Coders) -> Result<Triangulation, CorpusError> {
    coders.check(corpus)?;
    let components = component_rows(corpus.theory.as_ref());
    let position: HashMap<&str, usize> = components
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let dyad_position: HashMap<DyadId, usize> = corpus
        .dyads
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id, i))
        .collect();
    // [dyad][component][account][contrast] → coding indexes into corpus.codings.
    let mut found =
        vec![
            vec![[[Vec::new(), Vec::new()], [Vec::new(), Vec::new()]]; components.len()];
            corpus.dyads.len()
        ];
    let mut start = 0;
    for source in &corpus.sources {
        let codings = corpus.codings_of(source.id);
        let range = start..start + codings.len();
        start += codings.len();
        let accounts: Vec<(usize, Account)> = corpus
            .dyads_of(source)
            .into_iter()
            .filter_map(|d| Some((dyad_position[&d.id], account_in(source, d)?)))
            .collect();
        if accounts.is_empty() {
            continue;
        }
        for (i, coding) in range.zip(codings) {
            if !coders.counts(coding) {
                continue;
            }
            let Some(mut at) = corpus
                .code_component(coding.code)
                .and_then(|c| position.get(c).copied())
            else {
                continue;
            };
            loop {
                for &(d, account) in &accounts {
                    found[d][at][account as usize][usize::from(coding.contrast)].push(i);
                }
                match components[at].parent {
                    Some(p) => at = p,
                    None => break,
                }
            }
        }
    }
    let evidence = |lists: &[Vec<usize>; 2]| Evidence {
        passages: distinct_passages(corpus, &lists[0]),
        codings: lists[0].iter().map(|&i| corpus.codings[i].id).collect(),
        contrast_passages: distinct_passages(corpus, &lists[1]),
        contrast: lists[1].iter().map(|&i| corpus.codings[i].id).collect(),
    };
    let cells = found
        .iter()
        .map(|row| {
            row.iter()
                .map(|sides| {
                    Cell::new(
                        evidence(&sides[Account::Clinician as usize]),
                        evidence(&sides[Account::Patient as usize]),
                    )
                })
                .collect()
        })
        .collect();
    let label = |id: ParticipantId| {
        corpus
            .participant(id)
            .map_or_else(String::new, |p| p.label.clone())
    };
    let dyads = corpus
        .dyads
        .iter()
        .map(|d| DyadRow {
            id: d.id,
            label: d.label.clone(),
            clinician: label(d.clinician),
            patient: label(d.patient),
        })
        .collect();
    Ok(Triangulation {
        coders: coders.clone(),
        components,
        dyads,
        cells,
    })
}

/// One coding, quoted: its words only (no context), with its code and coder. Case studies
/// show the same quote with what they add ([`crate::cases::Excerpt`]); the queries'
/// [`crate::Excerpt`] is a passage in context that may stand for several codings, or none.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Excerpt {
    pub coding: CodingId,
    pub source: SourceId,
    pub source_name: String,
    pub span: Span,
    pub text: String,
    pub code: CodeId,
    pub code_path: String,
    pub coder: String,
    pub contrast: bool,
}

impl Excerpt {
    pub fn of(corpus: &Corpus, coding: &Coding) -> Self {
        let source = corpus.source(coding.source);
        Self {
            coding: coding.id,
            source: coding.source,
            source_name: source.map_or_else(String::new, |s| s.name.clone()),
            span: coding.span,
            text: source.map_or_else(String::new, |s| corpus.text_of(s, coding.span).to_string()),
            code: coding.code,
            code_path: corpus.code_path(coding.code).to_string(),
            coder: coding.coder.clone(),
            contrast: coding.contrast,
        }
    }

    /// The excerpts of codings by id, in the order given (unknown ids skipped).
    pub fn all(corpus: &Corpus, ids: &[CodingId]) -> Vec<Self> {
        let wanted: std::collections::HashSet<CodingId> = ids.iter().copied().collect();
        let by_id: HashMap<CodingId, &Coding> = corpus
            .codings
            .iter()
            .filter(|c| wanted.contains(&c.id))
            .map(|c| (c.id, c))
            .collect();
        ids.iter()
            .filter_map(|id| by_id.get(id).map(|c| Self::of(corpus, c)))
            .collect()
    }
}

/// The quotes behind one cell, from each account, contrast apart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CellExcerpts {
    pub dyad: DyadRow,
    pub component: ComponentRow,
    pub presence: Presence,
    pub clinician: Vec<Excerpt>,
    pub patient: Vec<Excerpt>,
    pub contrast_clinician: Vec<Excerpt>,
    pub contrast_patient: Vec<Excerpt>,
}

/// The excerpts of one cell, the dyad by label or id and the component by id.
pub fn cell_excerpts(
    corpus: &Corpus,
    triangulation: &Triangulation,
    dyad: &str,
    component: &str,
) -> Result<CellExcerpts, CorpusError> {
    let d = triangulation.dyad_position(dyad)?;
    let c = triangulation.component_position(component)?;
    let cell = &triangulation.cells[d][c];
    Ok(CellExcerpts {
        dyad: triangulation.dyads[d].clone(),
        component: triangulation.components[c].clone(),
        presence: cell.presence(),
        clinician: Excerpt::all(corpus, &cell.clinician.codings),
        patient: Excerpt::all(corpus, &cell.patient.codings),
        contrast_clinician: Excerpt::all(corpus, &cell.clinician.contrast),
        contrast_patient: Excerpt::all(corpus, &cell.patient.contrast),
    })
}

#[cfg(test)]
mod tests;
