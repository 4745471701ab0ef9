//! Code frequencies and code × case / code × attribute matrices: per code (rows) and group
//! (columns), how many codings, how many contrast codings (apart, never added in), and in how
//! many sources and cases (participants' accounts) the code occurs. Each cell keeps its
//! codings, so a cell can be opened to its excerpts.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use between_core::{CodeId, Coding, CodingId, ParticipantId, Role};
use serde::Serialize;

use crate::Corpus;
use crate::excerpt::Excerpt;

/// A query that could not be read: where (1-based character position) and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("at character {position}: {message}")]
pub struct QueryError {
    pub position: usize,
    pub message: String,
}

/// What the columns of a frequency table or matrix are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grouping {
    /// Each source.
    Source,
    /// The role of the speaker of the turn a coding starts in.
    Role,
    /// Whose account the source is.
    Participant,
    /// The dyads the source speaks for (`Corpus::dyads_of`): a clinician's interview that
    /// names no dyad counts for each of that clinician's dyads.
    Dyad,
    /// A clinician with all their patients: the clinician's own accounts and those of the
    /// patients of their dyads.
    Clinician,
    /// The value of a participant attribute of the account's participant.
    Attribute(String),
}

impl fmt::Display for Grouping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grouping::Source => f.write_str("source"),
            Grouping::Role => f.write_str("role"),
            Grouping::Participant => f.write_str("participant"),
            Grouping::Dyad => f.write_str("dyad"),
            Grouping::Clinician => f.write_str("clinician"),
            Grouping::Attribute(key) => write!(f, "attribute:{key}"),
        }
    }
}

impl FromStr for Grouping {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Some(key) = s.strip_prefix("attribute:") {
            if key.trim().is_empty() {
                return Err("attribute: needs a key, e.g. attribute:sex".into());
            }
            return Ok(Grouping::Attribute(key.trim().to_string()));
        }
        Ok(match s.to_lowercase().trim_end_matches('s') {
            "source" => Grouping::Source,
            "role" => Grouping::Role,
            "participant" | "case" => Grouping::Participant,
            "dyad" => Grouping::Dyad,
            "clinician" => Grouping::Clinician,
            _ => {
                return Err(format!(
                    "unknown grouping '{s}': expected source, role, participant, dyad, clinician or attribute:KEY"
                ));
            }
        })
    }
}

/// Which codings a table counts.
#[derive(Clone, Debug, Default)]
pub struct CodingFilter {
    /// Only these coders' codings (none: everyone's).
    pub coders: Option<Vec<String>>,
    /// A code's count includes the codings of every code under it.
    pub include_subcodes: bool,
}

impl CodingFilter {
    pub(crate) fn admits(&self, coding: &Coding) -> bool {
        self.coders
            .as_ref()
            .is_none_or(|cs| cs.contains(&coding.coder))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Column {
    /// An id (source, participant, dyad), a role, or an attribute value; empty for codings
    /// that belong to no group (a source with no participant, a turn with no speaker).
    pub key: String,
    pub label: String,
}

/// One code's counts in one group.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Cell {
    /// Codings that are not contrast codings.
    pub codings: usize,
    /// Contrast codings, counted apart.
    pub contrast: usize,
    /// Distinct sources with a (non-contrast) coding.
    pub sources: usize,
    /// Distinct participants whose accounts have a (non-contrast) coding.
    pub cases: usize,
    /// The cell's codings, as positions in the corpus's `codings` (in that order).
    #[serde(skip)]
    pub codings_at: Vec<u32>,
    /// Its contrast codings, likewise.
    #[serde(skip)]
    pub contrast_at: Vec<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MatrixRow {
    pub code: CodeId,
    pub path: String,
    pub cells: Vec<Cell>,
    /// The code over all groups (distinct sources and cases, each coding once).
    pub total: Cell,
}

/// Codes × groups.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Matrix {
    pub by: String,
    pub include_subcodes: bool,
    pub columns: Vec<Column>,
    pub rows: Vec<MatrixRow>,
}

impl Matrix {
    /// A cell by code and column key.
    pub fn cell(&self, code: CodeId, column: &str) -> Option<&Cell> {
        let row = self.rows.iter().find(|r| r.code == code)?;
        if column == "total" {
            return Some(&row.total);
        }
        let c = self.columns.iter().position(|c| c.key == column)?;
        row.cells.get(c)
    }
}

/// Counts being gathered for a cell.
#[derive(Default)]
struct Tally {
    cell: Cell,
    last_source: Option<usize>,
    cases: Vec<ParticipantId>,
}

impl Tally {
    fn add(&mut self, at: u32, coding: &Coding, source: usize, case: Option<ParticipantId>) {
        if coding.contrast {
            self.cell.contrast += 1;
            self.cell.contrast_at.push(at);
            return;
        }
        self.cell.codings += 1;
        self.cell.codings_at.push(at);
        if self.last_source != Some(source) {
            self.last_source = Some(source);
            self.cell.sources += 1;
            self.cases.extend(case);
        }
    }

    fn finish(mut self) -> Cell {
        self.cases.sort_unstable();
        self.cases.dedup();
        self.cell.cases = self.cases.len();
        self.cell
    }
}

/// One coding in context with its code and coder: a query cell's keyword-in-context line.
/// The dyad and model findings quote codings without context ([`crate::triangulation::Excerpt`],
/// leaner JSON for the many quotes a proposition has).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CodingExcerpt {
    pub coding: CodingId,
    pub code_path: String,
    pub coder: String,
    pub contrast: bool,
    #[serde(flatten)]
    pub excerpt: Excerpt,
}

const NO_GROUP: &str = "(none)";

impl Corpus {
    /// Per code, the rows it counts for: itself, and with sub-codes its ancestors too.
    fn row_targets(&self, rows: &[CodeId], include_subcodes: bool) -> Vec<Vec<usize>> {
        let row_of: HashMap<CodeId, usize> =
            rows.iter().enumerate().map(|(i, c)| (*c, i)).collect();
        self.codes()
            .iter()
            .map(|code| {
                let counted = if include_subcodes { usize::MAX } else { 1 };
                self.ancestors_and_self(code)
                    .take(counted)
                    .filter_map(|c| row_of.get(&c.id).copied())
                    .collect()
            })
            .collect()
    }

    /// The clinicians a source counts for: its own clinician, or the clinicians of the dyads
    /// it speaks for.
    fn clinicians_of(&self, source: &between_core::Source) -> BTreeSet<ParticipantId> {
        match self.account_of(source) {
            Some(p) if p.role == Role::Clinician => BTreeSet::from([p.id]),
            _ => self.dyads_of(source).iter().map(|d| d.clinician).collect(),
        }
    }

    /// The columns of a grouping and, per source, the columns its codings go to (`None` for
    /// a grouping by role, which is decided per coding).
    fn columns(&self, by: &Grouping) -> (Vec<Column>, Option<Vec<Vec<usize>>>) {
        let participant_column = |id: ParticipantId| Column {
            key: id.to_string(),
            label: self.participant(id).map_or("?", |p| &p.label).to_string(),
        };
        match by {
            Grouping::Role => (
                Role::ALL
                    .iter()
                    .map(|r| Column {
                        key: r.to_string(),
                        label: r.to_string(),
                    })
                    .collect(),
                None,
            ),
            Grouping::Source => (
                self.sources
                    .iter()
                    .map(|s| Column {
                        key: s.id.to_string(),
                        label: s.name.clone(),
                    })
                    .collect(),
                Some((0..self.sources.len()).map(|i| vec![i]).collect()),
            ),
            Grouping::Participant => {
                let columns = self
                    .participants
                    .iter()
                    .map(|p| participant_column(p.id))
                    .collect();
                let of = self
                    .sources
                    .iter()
                    .map(|s| {
                        s.participant
                            .and_then(|p| self.participants.iter().position(|q| q.id == p))
                            .into_iter()
                            .collect()
                    })
                    .collect();
                (columns, Some(of))
            }
            Grouping::Dyad => {
                let columns = self
                    .dyads
                    .iter()
                    .map(|d| Column {
                        key: d.id.to_string(),
                        label: d.label.clone(),
                    })
                    .collect();
                let of = self
                    .sources
                    .iter()
                    .map(|s| {
                        self.dyads_of(s)
                            .iter()
                            .filter_map(|d| self.dyads.iter().position(|e| e.id == d.id))
                            .collect()
                    })
                    .collect();
                (columns, Some(of))
            }
            Grouping::Clinician => {
                let clinicians: Vec<ParticipantId> = self
                    .participants
                    .iter()
                    .filter(|p| p.role == Role::Clinician)
                    .map(|p| p.id)
                    .collect();
                let of = self
                    .sources
                    .iter()
                    .map(|s| {
                        self.clinicians_of(s)
                            .iter()
                            .filter_map(|c| clinicians.iter().position(|d| d == c))
                            .collect()
                    })
                    .collect();
                (
                    clinicians.into_iter().map(participant_column).collect(),
                    Some(of),
                )
            }
            Grouping::Attribute(key) => {
                let values: BTreeSet<&str> = self
                    .participants
                    .iter()
                    .filter_map(|p| p.attributes.get(key).map(String::as_str))
                    .collect();
                let values: Vec<&str> = values.into_iter().collect();
                let of = self
                    .sources
                    .iter()
                    .map(|s| {
                        self.account_of(s)
                            .and_then(|p| p.attributes.get(key))
                            .and_then(|v| values.iter().position(|w| w == v))
                            .into_iter()
                            .collect()
                    })
                    .collect();
                (
                    values
                        .iter()
                        .map(|v| Column {
                            key: v.to_string(),
                            label: v.to_string(),
                        })
                        .collect(),
                    Some(of),
                )
            }
        }
    }

    /// Codes (`codes`, or every code, parents first) × the groups of `by`. Codings that
    /// belong to no group are in a last column with an empty key, present only when needed.
    pub fn matrix(&self, by: &Grouping, codes: Option<&[CodeId]>, filter: &CodingFilter) -> Matrix {
        let rows: Vec<CodeId> = match codes {
            Some(c) => c.to_vec(),
            None => self.codes().iter().map(|c| c.id).collect(),
        };
        let targets = self.row_targets(&rows, filter.include_subcodes);
        let (mut columns, per_source) = self.columns(by);
        let width = columns.len() + 1; // the last: no group
        let mut tallies: Vec<Tally> = (0..rows.len() * width).map(|_| Tally::default()).collect();
        let mut totals: Vec<Tally> = (0..rows.len()).map(|_| Tally::default()).collect();
        let mut roles = Vec::new();
        for (s, source) in self.sources.iter().enumerate() {
            let case = source.participant;
            let range = self.source_range(source.id);
            for (k, coding) in self.codings[range.clone()].iter().enumerate() {
                let at = (range.start + k) as u32;
                if !filter.admits(coding) {
                    continue;
                }
                let Some(code) = self.code_position(coding.code) else {
                    continue;
                };
                let groups: &[usize] = match &per_source {
                    Some(of) => &of[s],
                    None => {
                        roles.clear();
                        roles.extend(
                            self.speaker_role(coding)
                                .and_then(|r| Role::ALL.iter().position(|q| *q == r)),
                        );
                        &roles
                    }
                };
                for &row in &targets[code] {
                    totals[row].add(at, coding, s, case);
                    if groups.is_empty() {
                        tallies[row * width + width - 1].add(at, coding, s, case);
                    }
                    for &g in groups {
                        tallies[row * width + g].add(at, coding, s, case);
                    }
                }
            }
        }
        let ungrouped_used = tallies
            .chunks(width)
            .any(|row| row[width - 1].cell.codings + row[width - 1].cell.contrast > 0);
        if ungrouped_used {
            columns.push(Column {
                key: String::new(),
                label: NO_GROUP.into(),
            });
        }
        let mut tallies = tallies.into_iter();
        let rows = rows
            .iter()
            .zip(totals)
            .map(|(&code, total)| {
                let mut cells: Vec<Cell> =
                    tallies.by_ref().take(width).map(Tally::finish).collect();
                if !ungrouped_used {
                    cells.pop();
                }
                MatrixRow {
                    code,
                    path: self.code_path(code).to_string(),
                    cells,
                    total: total.finish(),
                }
            })
            .collect();
        Matrix {
            by: by.to_string(),
            include_subcodes: filter.include_subcodes,
            columns,
            rows,
        }
    }

    /// The codings at these positions in `codings` (as a cell or a co-occurrence gives them),
    /// as excerpts with `context` characters either side.
    pub fn coding_excerpts(&self, positions: &[u32], context: usize) -> Vec<CodingExcerpt> {
        positions
            .iter()
            .filter_map(|&at| {
                let c = self.codings.get(at as usize)?;
                let position = self.source_position(c.source)?;
                Some(CodingExcerpt {
                    coding: c.id,
                    code_path: self.code_path(c.code).to_string(),
                    coder: c.coder.clone(),
                    contrast: c.contrast,
                    excerpt: self.excerpt(position, c.span, context, vec![c.id]),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query_fixtures::{TWO_TURNS, corpus_with};
    use crate::test_support::sample;

    /// s1 (P1, north): [`TWO_TURNS`]; s2 (P2, south): "B: small hope".
    fn two_sources() -> Corpus {
        corpus_with(
            &[TWO_TURNS, "B: small hope"],
            &[
                (0, "Hope", 3, 7, "ann", false),
                (0, "Small hope", 27, 31, "ann", false),
                (0, "Trust", 17, 22, "ann", false),
                (0, "Trust", 17, 22, "bob", true),
                (1, "Small hope", 3, 13, "bob", false),
            ],
        )
    }

    fn row<'a>(m: &'a Matrix, path: &str) -> &'a MatrixRow {
        m.rows.iter().find(|r| r.path == path).expect("row")
    }

    #[test]
    fn counts_by_role_with_contrast_apart_and_subcodes_on_request() {
        let corpus = two_sources();
        let plain = corpus.matrix(&Grouping::Role, None, &CodingFilter::default());
        let col = |m: &Matrix, key: &str| m.columns.iter().position(|c| c.key == key).expect("col");
        let (clin, pat) = (col(&plain, "clinician"), col(&plain, "patient"));
        let hope = row(&plain, "Hope");
        assert_eq!((hope.cells[clin].codings, hope.cells[pat].codings), (1, 0));
        let trust = row(&plain, "Trust");
        assert_eq!(
            (trust.cells[pat].codings, trust.cells[pat].contrast),
            (1, 1)
        );
        assert_eq!(trust.total.sources, 1);
        let with_subcodes = CodingFilter {
            include_subcodes: true,
            ..Default::default()
        };
        let rolled = corpus.matrix(&Grouping::Role, None, &with_subcodes);
        let hope = row(&rolled, "Hope");
        assert_eq!((hope.cells[clin].codings, hope.cells[pat].codings), (1, 2));
        assert_eq!(
            (hope.total.codings, hope.total.sources, hope.total.cases),
            (3, 2, 2)
        );
        assert_eq!(row(&rolled, "Hope/Small hope").total.codings, 2);
        assert!(
            !plain.columns.iter().any(|c| c.key.is_empty()),
            "every coding has a speaker"
        );
        let only_ann = CodingFilter {
            coders: Some(vec!["ann".into()]),
            include_subcodes: true,
        };
        let ann = corpus.matrix(&Grouping::Role, None, &only_ann);
        assert_eq!(
            row(&ann, "Trust").total.contrast,
            0,
            "bob's contrast left out"
        );
    }

    #[test]
    fn counts_by_attribute_and_opens_cells() {
        let corpus = two_sources();
        let by = Grouping::Attribute("site".into());
        let m = corpus.matrix(&by, None, &CodingFilter::default());
        let keys: Vec<&str> = m.columns.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["north", "south"]);
        let small = row(&m, "Hope/Small hope");
        assert_eq!((small.cells[0].codings, small.cells[1].codings), (1, 1));
        let code = small.code;
        let cell = m.cell(code, "south").expect("cell");
        let excerpts = corpus.coding_excerpts(&cell.codings_at, 40);
        assert_eq!(excerpts.len(), 1);
        assert_eq!(excerpts[0].excerpt.text, "small hope");
        assert_eq!(excerpts[0].excerpt.before, "B: ");
        assert_eq!(excerpts[0].coder, "bob");
        assert!("attribute:".parse::<Grouping>().is_err());
        assert_eq!("dyads".parse::<Grouping>(), Ok(Grouping::Dyad));
    }

    #[test]
    fn sample_clinicians_count_their_patients_accounts() {
        let corpus = sample();
        let f = CodingFilter::default();
        let by_participant = corpus.matrix(&Grouping::Participant, None, &f);
        let by_clinician = corpus.matrix(&Grouping::Clinician, None, &f);
        let by_dyad = corpus.matrix(&Grouping::Dyad, None, &f);
        // A clinician's column is their own accounts plus their patients' (each patient in
        // the sample has one clinician), so it sums those participants' columns.
        for (c, column) in by_clinician.columns.iter().enumerate() {
            let clinician: ParticipantId = column.key.parse().expect("id");
            let mut members = vec![clinician];
            members.extend(
                corpus
                    .dyads
                    .iter()
                    .filter(|d| d.clinician == clinician)
                    .map(|d| d.patient),
            );
            for (r, row) in by_clinician.rows.iter().enumerate() {
                let summed: usize = by_participant
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(_, pc)| members.iter().any(|m| m.to_string() == pc.key))
                    .map(|(pi, _)| by_participant.rows[r].cells[pi].codings)
                    .sum();
                assert_eq!(
                    row.cells[c].codings, summed,
                    "{} {}",
                    row.path, column.label
                );
            }
        }
        // Totals do not depend on the grouping.
        for (a, b) in by_participant.rows.iter().zip(&by_dyad.rows) {
            assert_eq!(a.total, b.total);
        }
        let total: usize = by_participant
            .rows
            .iter()
            .map(|r| r.total.codings + r.total.contrast)
            .sum();
        assert_eq!(total, corpus.codings.len());
    }
}
