//! Dyad triangulation: for each dyad and each theory component, the evidence in the
//! clinician's account, in the patient's account, or in both (definitions in
//! `docs/findings.md`, "Dyad triangulation" and "Accounts and attribution").
//!
//! - A coding is **evidence** for its code's component and for every ancestor of that
//!   component in the theory (evidence of `presence` is evidence of `valuing`).
//! - A coding speaks for the dyads [`Corpus::dyads_of_passage`] gives its span (the one rule):
//!   for each, it is in the **clinician's account** when its source is the dyad's clinician's,
//!   the **patient's account** when the patient's, else among **other sources** about the dyad
//!   (a field note, another clinician's interview), which are quoted but never counted.
//! - A coding that speaks for no dyad is its participant's **general** evidence ("about no
//!   particular patient"), reported per participant and never counted for any dyad.
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

/// Which account of a dyad a passage is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Account {
    Clinician,
    Patient,
    /// A source about the dyad that is neither party's account: quoted, never counted.
    Other,
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

impl Evidence {
    /// The evidence of coding positions (`[evidence, contrast]`, into `corpus.codings`).
    fn of(corpus: &Corpus, lists: &[Vec<usize>; 2]) -> Self {
        Self {
            passages: distinct_passages(corpus, &lists[0]),
            codings: lists[0].iter().map(|&i| corpus.codings[i].id).collect(),
            contrast_passages: distinct_passages(corpus, &lists[1]),
            contrast: lists[1].iter().map(|&i| corpus.codings[i].id).collect(),
        }
    }
}

/// One dyad × component cell.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cell {
    pub clinician: Evidence,
    pub patient: Evidence,
    /// Sources about the dyad that are neither party's account: quoted, never in `presence`.
    pub others: Evidence,
    /// Which accounts hold evidence (kept with the cell for readers of the JSON).
    pub presence: Presence,
}

impl Cell {
    pub fn new(clinician: Evidence, patient: Evidence, others: Evidence) -> Self {
        let presence = match (clinician.passages > 0, patient.passages > 0) {
            (true, true) => Presence::Both,
            (true, false) => Presence::ClinicianOnly,
            (false, true) => Presence::PatientOnly,
            (false, false) => Presence::None,
        };
        Self {
            clinician,
            patient,
            others,
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
            Account::Other => &self.others,
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

/// A participant's evidence that speaks for no dyad: "about no particular patient".
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GeneralRow {
    pub participant: String,
    pub role: Role,
    /// One per component, in the order of [`Triangulation::components`].
    pub cells: Vec<Evidence>,
}

/// Which passages count for a dyad, in words: said wherever a dyad count is shown
/// (`docs/findings.md`, "Accounts and attribution").
pub const ACCOUNTS_RULE: &str = "A passage counts for the dyads it is attributed to (by dyad, \
     or by a participant of the dyad); unattributed, for the dyad its source names or a \
     patient's one dyad. It is in the clinician's account when its source is the dyad's \
     clinician's, the patient's account when the patient's; other sources about the dyad \
     (field notes, another clinician) are quoted, never counted. A clinician's unattributed \
     passages are about no particular patient: shown apart, never counted for a dyad. Counts \
     are distinct passages (overlapping codings in one source count once); contrast codings \
     are listed apart, never counted.";

/// The dyads × components matrix.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Triangulation {
    /// [`ACCOUNTS_RULE`], so every view of the matrix can state it.
    pub rule_text: &'static str,
    pub coders: Coders,
    pub components: Vec<ComponentRow>,
    pub dyads: Vec<DyadRow>,
    /// `cells[dyad][component]`, in the order of `dyads` and `components`.
    pub cells: Vec<Vec<Cell>>,
    /// Participants (in study order) with evidence about no particular dyad; never counted in
    /// `cells`.
    pub general: Vec<GeneralRow>,
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

    /// A participant's general evidence, by label; `None` when they have none.
    pub fn general_of(&self, participant: &str) -> Option<&GeneralRow> {
        let wanted = participant.trim();
        self.general
            .iter()
            .find(|g| g.participant.eq_ignore_ascii_case(wanted))
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

/// Where a coding's evidence goes under the one rule ([`Corpus::dyads_of_passage`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// A dyad (its position in `corpus.dyads`) and the account the coding is in.
    Dyad(usize, Account),
    /// No dyad: the source's participant's general evidence.
    General(ParticipantId),
}

/// Calls `found` with each coding's position in `corpus.codings`, the coding, and each place
/// its evidence goes; a coding about no dyad in a source of no participant goes nowhere.
pub(crate) fn place_codings(corpus: &Corpus, mut found: impl FnMut(usize, &Coding, Place)) {
    let dyad_position: HashMap<DyadId, usize> = corpus
        .dyads
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id, i))
        .collect();
    let places = |source: &Source, dyads: Vec<&Dyad>| -> Vec<Place> {
        if dyads.is_empty() {
            return source.participant.map(Place::General).into_iter().collect();
        }
        dyads
            .into_iter()
            .map(|d| {
                let account = account_in(source, d).unwrap_or(Account::Other);
                Place::Dyad(dyad_position[&d.id], account)
            })
            .collect()
    };
    for source in &corpus.sources {
        let range = corpus.source_range(source.id);
        let codings = &corpus.codings[range.clone()];
        // Most sources have no attributions: their passages all speak for the general dyads.
        let whole = corpus
            .attributions_of(source.id)
            .is_empty()
            .then(|| places(source, corpus.general_dyads_of(source)));
        for (i, coding) in range.zip(codings) {
            let at = match &whole {
                Some(p) => p.clone(),
                None => places(source, corpus.dyads_of_passage(source, coding.span)),
            };
            for place in at {
                found(i, coding, place);
            }
        }
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

/// Distinct passages among codings (positions in `corpus.codings`): overlaps within a source
/// merge.
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

/// Coding positions per component, `[evidence, contrast]`.
type Found = Vec<[Vec<usize>; 2]>;

/// The dyads × components matrix of the study.
pub fn triangulate(corpus: &Corpus, coders: &Coders) -> Result<Triangulation, CorpusError> {
    coders.check(corpus)?;
    let components = component_rows(corpus.theory.as_ref());
    let position: HashMap<&str, usize> = components
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let empty: Found = vec![[Vec::new(), Vec::new()]; components.len()];
    // [dyad][account] → per component; the general evidence per participant.
    let mut found: Vec<[Found; 3]> =
        vec![[empty.clone(), empty.clone(), empty.clone()]; corpus.dyads.len()];
    let mut general: HashMap<ParticipantId, Found> = HashMap::new();
    place_codings(corpus, |i, coding, place| {
        if !coders.counts(coding) {
            return;
        }
        let Some(mut at) = corpus
            .code_component(coding.code)
            .and_then(|c| position.get(c).copied())
        else {
            return;
        };
        let lists = match place {
            Place::Dyad(d, account) => &mut found[d][account as usize],
            Place::General(p) => general.entry(p).or_insert_with(|| empty.clone()),
        };
        loop {
            lists[at][usize::from(coding.contrast)].push(i);
            match components[at].parent {
                Some(p) => at = p,
                None => break,
            }
        }
    });
    let cells = found
        .iter()
        .map(|[clinician, patient, others]| {
            (0..components.len())
                .map(|c| {
                    Cell::new(
                        Evidence::of(corpus, &clinician[c]),
                        Evidence::of(corpus, &patient[c]),
                        Evidence::of(corpus, &others[c]),
                    )
                })
                .collect()
        })
        .collect();
    let general = corpus
        .participants
        .iter()
        .filter_map(|p| {
            let lists = general.get(&p.id)?;
            Some(GeneralRow {
                participant: p.label.clone(),
                role: p.role,
                cells: lists.iter().map(|l| Evidence::of(corpus, l)).collect(),
            })
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
        rule_text: ACCOUNTS_RULE,
        coders: coders.clone(),
        components,
        dyads,
        cells,
        general,
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

/// One account's quotes in a cell, with the counts the cell shows: `passages` distinct
/// passages behind `evidence` (one quote per coding, so there may be more quotes than
/// passages).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccountExcerpts {
    pub passages: usize,
    pub evidence: Vec<Excerpt>,
    pub contrast_passages: usize,
    pub contrast: Vec<Excerpt>,
}

impl AccountExcerpts {
    pub fn of(corpus: &Corpus, evidence: &Evidence) -> Self {
        Self {
            passages: evidence.passages,
            evidence: Excerpt::all(corpus, &evidence.codings),
            contrast_passages: evidence.contrast_passages,
            contrast: Excerpt::all(corpus, &evidence.contrast),
        }
    }
}

/// The quotes behind one cell, from each account and from other sources about the dyad,
/// contrast apart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CellExcerpts {
    pub dyad: DyadRow,
    pub component: ComponentRow,
    pub presence: Presence,
    pub clinician: AccountExcerpts,
    pub patient: AccountExcerpts,
    /// Not counted in `presence`.
    pub others: AccountExcerpts,
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
        clinician: AccountExcerpts::of(corpus, &cell.clinician),
        patient: AccountExcerpts::of(corpus, &cell.patient),
        others: AccountExcerpts::of(corpus, &cell.others),
    })
}

/// The quotes of a participant's evidence of one component about no particular dyad.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GeneralExcerpts {
    pub participant: String,
    pub role: Role,
    pub component: ComponentRow,
    pub excerpts: AccountExcerpts,
}

/// A participant's (by label) general evidence of a component (by id); empty when they have
/// none.
pub fn general_excerpts(
    corpus: &Corpus,
    triangulation: &Triangulation,
    participant: &str,
    component: &str,
) -> Result<GeneralExcerpts, CorpusError> {
    let who = corpus.participant_by_label(participant)?;
    let c = triangulation.component_position(component)?;
    let none = Evidence::default();
    let evidence = triangulation
        .general_of(&who.label)
        .map_or(&none, |g| &g.cells[c]);
    Ok(GeneralExcerpts {
        participant: who.label.clone(),
        role: who.role,
        component: triangulation.components[c].clone(),
        excerpts: AccountExcerpts::of(corpus, evidence),
    })
}

#[cfg(test)]
mod tests;
