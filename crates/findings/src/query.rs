//! Code frequencies and code × case / code × attribute matrices: per code (rows) and group
//! (columns), how many codings, how many contrast codings (apart, never added in), and in how
//! many sources and cases (participants' accounts) the code occurs. Each cell keeps its
//! codings, so a cell can be opened to its excerpts.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use between_core::{CodeId, Coding, CodingId, DyadId, InterviewInfo, ParticipantId, Role, Source};
use between_study::Count;
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
    /// The dyads a coding's passage speaks for (`Corpus::dyads_of_passage`): a clinician's
    /// passage attributed to no one counts for no dyad.
    Dyad,
    /// A clinician with all their patients: the clinician's own accounts, and the passages
    /// that speak for their dyads.
    Clinician,
    /// The value of an attribute of the account's participant; `attribute:KEY` that no
    /// participant has but an interview does is read as [`Grouping::Interview`].
    Attribute(String),
    /// A value recorded with the interview a coding is in.
    Interview(InterviewField),
}

/// What an interview records beside its text (`between_core::InterviewInfo`), as a grouping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InterviewField {
    Interviewer,
    Date,
    DurationMinutes,
    /// Several values: a coding counts once under each.
    OthersPresent,
    GuideVersion,
    ConsentRecorded,
}

impl InterviewField {
    pub const ALL: [InterviewField; 6] = [
        InterviewField::Interviewer,
        InterviewField::Date,
        InterviewField::DurationMinutes,
        InterviewField::OthersPresent,
        InterviewField::GuideVersion,
        InterviewField::ConsentRecorded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InterviewField::Interviewer => "interviewer",
            InterviewField::Date => "date",
            InterviewField::DurationMinutes => "duration_minutes",
            InterviewField::OthersPresent => "others_present",
            InterviewField::GuideVersion => "guide_version",
            InterviewField::ConsentRecorded => "consent_recorded",
        }
    }

    /// The field's values in one interview (none when not recorded).
    pub fn values(self, info: &InterviewInfo) -> Vec<String> {
        match self {
            InterviewField::Interviewer => info.interviewer.iter().cloned().collect(),
            InterviewField::Date => info.date.iter().cloned().collect(),
            InterviewField::DurationMinutes => {
                info.duration_minutes.iter().map(u32::to_string).collect()
            }
            InterviewField::OthersPresent => info.others_present.clone(),
            InterviewField::GuideVersion => info.guide_version.iter().cloned().collect(),
            InterviewField::ConsentRecorded => info
                .consent_recorded
                .map(|yes| if yes { "yes" } else { "no" }.to_string())
                .into_iter()
                .collect(),
        }
    }
}

impl FromStr for InterviewField {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        InterviewField::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s) || f.as_str().replace('_', "-") == s)
            .ok_or_else(|| {
                let known: Vec<&str> = InterviewField::ALL.iter().map(|f| f.as_str()).collect();
                format!(
                    "an interview records no '{s}': expected {}",
                    known.join(", ")
                )
            })
    }
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
            Grouping::Interview(field) => write!(f, "interview:{}", field.as_str()),
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
        if let Some(key) = s.strip_prefix("interview:") {
            return key.parse().map(Grouping::Interview);
        }
        Ok(match s.to_lowercase().trim_end_matches('s') {
            "source" => Grouping::Source,
            "role" => Grouping::Role,
            "participant" | "case" => Grouping::Participant,
            "dyad" => Grouping::Dyad,
            "clinician" => Grouping::Clinician,
            _ => {
                return Err(format!(
                    "unknown grouping '{s}': expected source, role, participant, dyad, clinician, attribute:KEY or interview:KEY"
                ));
            }
        })
    }
}

impl Grouping {
    /// Where a coding goes, as the table says under it (`docs/findings.md`, "Queries").
    pub fn rule(&self) -> &'static str {
        match self {
            Grouping::Source => "A coding counts for its source.",
            Grouping::Role => {
                "A coding counts for the role of the speaker of the turn it starts in."
            }
            Grouping::Participant => {
                "A coding counts for the participant whose account its source is."
            }
            Grouping::Dyad => {
                "A coding counts for each dyad its passage speaks for: the dyads of the \
                 attributions it overlaps, else the dyad its source names (a patient's account: \
                 the patient's one dyad). A clinician's passage attributed to no one is about \
                 no particular dyad and counts for none. A passage attributed to two dyads \
                 counts for both, so a row's columns can add up to more than its total, which \
                 counts each coding once."
            }
            Grouping::Clinician => {
                "A coding counts for the clinician whose account it is in, and for the \
                 clinicians of the dyads its passage speaks for (as by dyad), so a row's \
                 columns can add up to more than its total, which counts each coding once."
            }
            Grouping::Attribute(_) => {
                "A coding counts under the value of the attribute of its account's participant."
            }
            Grouping::Interview(_) => {
                "A coding counts under its interview's value; with several values (others \
                 present) once under each, so a row's columns can add up to more than its \
                 total, which counts each coding once."
            }
        }
    }

    /// The label of the column of codings that belong to no group.
    fn no_group_label(&self) -> &'static str {
        match self {
            Grouping::Dyad => "(about no particular dyad)",
            Grouping::Interview(_) => "(not recorded)",
            _ => "(none)",
        }
    }
}

/// A grouping that names what the study does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GroupingError(pub String);

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
    /// Where a coding goes and how the counts read, for under the table.
    pub rule: String,
    pub include_subcodes: bool,
    pub columns: Vec<Column>,
    pub rows: Vec<MatrixRow>,
    /// Per column, the codings of the table's codes, each once (a coding of a sub-code too
    /// counts once here, however many rows it is in).
    pub totals: Vec<Cell>,
}

impl Cell {
    /// The cell's codings by the one rule of every count (`between_study::Count`).
    pub fn count(&self) -> Count {
        Count {
            codings: self.codings,
            contrast: self.contrast,
        }
    }
}

impl Matrix {
    /// Per column (by label), its codings each once: what `between stats` shows per dyad.
    pub fn column_counts(&self) -> BTreeMap<String, Count> {
        self.columns
            .iter()
            .zip(&self.totals)
            .map(|(c, cell)| (c.label.clone(), cell.count()))
            .collect()
    }

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

/// Where a grouping puts a coding.
enum Placement {
    /// By its source: per source, its columns.
    Source(Vec<Vec<usize>>),
    /// By the role of its speaker (columns in `Role::ALL` order).
    SpeakerRole,
    /// By the dyads its passage speaks for: the column of each dyad.
    Dyads(HashMap<DyadId, usize>),
    /// By its account's clinician and the clinicians of the dyads its passage speaks for.
    Clinicians(HashMap<ParticipantId, usize>),
}

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

    /// The grouping `attribute:KEY` stands for: the participants' attribute, else the
    /// interviews' field of that name; an error naming what there is when neither has it.
    fn resolved(&self, by: &Grouping) -> Result<Grouping, GroupingError> {
        let Grouping::Attribute(key) = by else {
            return Ok(by.clone());
        };
        if self
            .participants
            .iter()
            .any(|p| p.attributes.contains_key(key))
        {
            return Ok(by.clone());
        }
        if let Ok(field) = key.parse::<InterviewField>() {
            return Ok(Grouping::Interview(field));
        }
        let known: BTreeSet<&str> = self
            .participants
            .iter()
            .flat_map(|p| p.attributes.keys().map(String::as_str))
            .collect();
        let known: Vec<&str> = known.into_iter().collect();
        let interview: Vec<&str> = InterviewField::ALL.iter().map(|f| f.as_str()).collect();
        Err(GroupingError(format!(
            "no participant has the attribute '{key}' (theirs: {}) and an interview records no such thing ({})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            },
            interview.join(", ")
        )))
    }

    /// The columns of a grouping and where it puts a coding.
    fn columns(&self, by: &Grouping) -> (Vec<Column>, Placement) {
        let participant_column = |id: ParticipantId| Column {
            key: id.to_string(),
            label: self.participant(id).map_or("?", |p| &p.label).to_string(),
        };
        let by_value = |of: Vec<Vec<&str>>| {
            let values: BTreeSet<&str> = of.iter().flatten().copied().collect();
            let values: Vec<&str> = values.into_iter().collect();
            let columns = values
                .iter()
                .map(|v| Column {
                    key: v.to_string(),
                    label: v.to_string(),
                })
                .collect();
            let of = of
                .iter()
                .map(|vs| {
                    vs.iter()
                        .filter_map(|v| values.binary_search(v).ok())
                        .collect()
                })
                .collect();
            (columns, Placement::Source(of))
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
                Placement::SpeakerRole,
            ),
            Grouping::Source => (
                self.sources
                    .iter()
                    .map(|s| Column {
                        key: s.id.to_string(),
                        label: s.name.clone(),
                    })
                    .collect(),
                Placement::Source((0..self.sources.len()).map(|i| vec![i]).collect()),
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
                (columns, Placement::Source(of))
            }
            Grouping::Dyad => (
                self.dyads
                    .iter()
                    .map(|d| Column {
                        key: d.id.to_string(),
                        label: d.label.clone(),
                    })
                    .collect(),
                Placement::Dyads(
                    self.dyads
                        .iter()
                        .enumerate()
                        .map(|(i, d)| (d.id, i))
                        .collect(),
                ),
            ),
            Grouping::Clinician => {
                let clinicians: Vec<ParticipantId> = self
                    .participants
                    .iter()
                    .filter(|p| p.role == Role::Clinician)
                    .map(|p| p.id)
                    .collect();
                let at = clinicians
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (*c, i))
                    .collect();
                (
                    clinicians.into_iter().map(participant_column).collect(),
                    Placement::Clinicians(at),
                )
            }
            Grouping::Attribute(key) => by_value(
                self.sources
                    .iter()
                    .map(|s| {
                        self.account_of(s)
                            .and_then(|p| p.attributes.get(key))
                            .map(String::as_str)
                            .into_iter()
                            .collect()
                    })
                    .collect(),
            ),
            Grouping::Interview(field) => {
                let values: Vec<Vec<String>> = self
                    .sources
                    .iter()
                    .map(|s| field.values(&s.interview))
                    .collect();
                let (columns, placement) = by_value(
                    values
                        .iter()
                        .map(|vs| vs.iter().map(String::as_str).collect())
                        .collect(),
                );
                (columns, placement)
            }
        }
    }

    /// The columns `placement` puts a coding of `source` (at `s` in `sources`) in, into `out`.
    fn place(
        &self,
        placement: &Placement,
        s: usize,
        source: &Source,
        coding: &Coding,
        out: &mut Vec<usize>,
    ) {
        out.clear();
        match placement {
            Placement::Source(of) => out.extend_from_slice(&of[s]),
            Placement::SpeakerRole => out.extend(
                self.speaker_role(coding)
                    .and_then(|r| Role::ALL.iter().position(|q| *q == r)),
            ),
            Placement::Dyads(at) => out.extend(
                self.dyads_of_passage(source, coding.span)
                    .iter()
                    .filter_map(|d| at.get(&d.id).copied()),
            ),
            Placement::Clinicians(at) => {
                let own = self
                    .account_of(source)
                    .filter(|p| p.role == Role::Clinician)
                    .map(|p| p.id);
                let theirs = self.dyads_of_passage(source, coding.span);
                out.extend(
                    own.into_iter()
                        .chain(theirs.iter().map(|d| d.clinician))
                        .filter_map(|c| at.get(&c).copied()),
                );
                out.sort_unstable();
                out.dedup();
            }
        }
    }

    /// Codes (`codes`, or every code, parents first) × the groups of `by`. Codings that
    /// belong to no group are in a last column with an empty key, present only when needed.
    pub fn matrix(
        &self,
        by: &Grouping,
        codes: Option<&[CodeId]>,
        filter: &CodingFilter,
    ) -> Result<Matrix, GroupingError> {
        let by = self.resolved(by)?;
        let rows: Vec<CodeId> = match codes {
            Some(c) => c.to_vec(),
            None => self.codes().iter().map(|c| c.id).collect(),
        };
        let targets = self.row_targets(&rows, filter.include_subcodes);
        let (mut columns, placement) = self.columns(&by);
        let width = columns.len() + 1; // the last: no group
        let mut tallies: Vec<Tally> = (0..rows.len() * width).map(|_| Tally::default()).collect();
        let mut totals: Vec<Tally> = (0..rows.len()).map(|_| Tally::default()).collect();
        let mut column_totals: Vec<Tally> = (0..width).map(|_| Tally::default()).collect();
        let mut groups = Vec::new();
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
                if targets[code].is_empty() {
                    continue;
                }
                self.place(&placement, s, source, coding, &mut groups);
                if groups.is_empty() {
                    groups.push(width - 1);
                }
                for &g in &groups {
                    column_totals[g].add(at, coding, s, case);
                }
                for &row in &targets[code] {
                    totals[row].add(at, coding, s, case);
                    for &g in &groups {
                        tallies[row * width + g].add(at, coding, s, case);
                    }
                }
            }
        }
        let ungrouped_used =
            column_totals[width - 1].cell.codings + column_totals[width - 1].cell.contrast > 0;
        if ungrouped_used {
            columns.push(Column {
                key: String::new(),
                label: by.no_group_label().into(),
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
        let mut column_totals: Vec<Cell> = column_totals.into_iter().map(Tally::finish).collect();
        if !ungrouped_used {
            column_totals.pop();
        }
        Ok(Matrix {
            by: by.to_string(),
            rule: format!(
                "{} Contrast codings are counted apart, never added in.{}",
                by.rule(),
                if filter.include_subcodes {
                    " A code's row also counts the codings of every code under it."
                } else {
                    ""
                }
            ),
            include_subcodes: filter.include_subcodes,
            columns,
            rows,
            totals: column_totals,
        })
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
    use crate::query_fixtures::{TWO_TURNS, bundle_with, corpus_with};
    use crate::test_support::sample;
    use between_core::{Attribution, AttributionId, AttributionTarget, Dyad, Span};

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
        let plain = corpus
            .matrix(&Grouping::Role, None, &CodingFilter::default())
            .expect("a matrix");
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
        let rolled = corpus
            .matrix(&Grouping::Role, None, &with_subcodes)
            .expect("a matrix");
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
        let ann = corpus
            .matrix(&Grouping::Role, None, &only_ann)
            .expect("a matrix");
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
        let m = corpus
            .matrix(&by, None, &CodingFilter::default())
            .expect("a matrix");
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

    /// P1 is a clinician with two patients, P2 (dyad P1-P2) and P3 (P1-P3). In P1's
    /// interview ([`TWO_TURNS`]) ann codes Hope on "hope" (3..7, attributed to no one), Trust
    /// on "trust" (17..22, about P2; bob's contrast coding too) and Hope on the last "hope"
    /// (27..31, in a passage about dyad P1-P3 and one about P2). P2's account: bob's Hope;
    /// P3's: ann's Hope. Others present: spouse and daughter at P1's interview, spouse at
    /// P2's, nothing recorded at P3's.
    fn a_clinician_with_two_patients() -> Corpus {
        let mut bundle = bundle_with(
            &[TWO_TURNS, "B: small hope", "B: hope"],
            &[
                (0, "Hope", 3, 7, "ann", false),
                (0, "Trust", 17, 22, "ann", false),
                (0, "Trust", 17, 22, "bob", true),
                (0, "Hope", 27, 31, "ann", false),
                (1, "Hope", 3, 13, "bob", false),
                (2, "Hope", 3, 7, "ann", false),
            ],
        );
        bundle.participants[0].role = Role::Clinician;
        let [p1, p2, p3] = [0, 1, 2].map(|i| bundle.participants[i].id);
        bundle.dyads = [p2, p3]
            .iter()
            .enumerate()
            .map(|(i, &patient)| Dyad {
                id: DyadId::new(),
                label: format!("P1-P{}", i + 2),
                clinician: p1,
                patient,
                relationship_start: None,
                notes: String::new(),
                version: 1,
            })
            .collect();
        let about = |start, end, about| Attribution {
            id: AttributionId::new(),
            source: bundle.sources[0].id,
            span: Span { start, end },
            about,
            attributed_by: "ann".into(),
            attributed_at: String::new(),
        };
        bundle.attributions = vec![
            about(17, 22, AttributionTarget::Participant(p2)),
            about(23, 31, AttributionTarget::Dyad(bundle.dyads[1].id)),
            about(27, 31, AttributionTarget::Participant(p2)),
        ];
        bundle.sources[0].interview.others_present = vec!["spouse".into(), "daughter".into()];
        bundle.sources[0].interview.consent_recorded = Some(true);
        bundle.sources[1].interview.others_present = vec!["spouse".into()];
        Corpus::new(bundle, None)
    }

    fn cell<'a>(m: &'a Matrix, path: &str, label: &str) -> &'a Cell {
        let c = m
            .columns
            .iter()
            .position(|c| c.label == label)
            .unwrap_or_else(|| panic!("no column {label}"));
        &row(m, path).cells[c]
    }

    fn column_total<'a>(m: &'a Matrix, label: &str) -> &'a Cell {
        let c = m
            .columns
            .iter()
            .position(|c| c.label == label)
            .expect("col");
        &m.totals[c]
    }

    #[test]
    fn by_dyad_each_coding_counts_for_the_dyads_its_passage_speaks_for() {
        let corpus = a_clinician_with_two_patients();
        let m = corpus
            .matrix(&Grouping::Dyad, None, &CodingFilter::default())
            .expect("a matrix");
        let labels: Vec<&str> = m.columns.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["P1-P2", "P1-P3", "(about no particular dyad)"]);
        let counts = |c: &Cell| (c.codings, c.contrast);
        assert_eq!(counts(cell(&m, "Hope", "P1-P2")), (2, 0));
        assert_eq!(counts(cell(&m, "Hope", "P1-P3")), (2, 0));
        assert_eq!(
            counts(cell(&m, "Hope", "(about no particular dyad)")),
            (1, 0),
            "the clinician's unattributed 'hope' is about no particular dyad"
        );
        assert_eq!(counts(&row(&m, "Hope").total), (4, 0));
        assert_eq!(counts(cell(&m, "Trust", "P1-P2")), (1, 1));
        assert_eq!(counts(cell(&m, "Trust", "P1-P3")), (0, 0));
        // The columns add up to the total and once more for the passage about two dyads.
        let hope = row(&m, "Hope");
        let summed: usize = hope.cells.iter().map(|c| c.codings).sum();
        assert_eq!(summed, hope.total.codings + 1);
        assert!(m.rule.contains("counts for both") && m.rule.contains("apart"));
        // Per column, every coding of the table once.
        assert_eq!(counts(column_total(&m, "P1-P2")), (3, 1));
        assert_eq!(counts(column_total(&m, "P1-P3")), (2, 0));
        assert_eq!(column_total(&m, "P1-P2").cases, 2, "P1's and P2's accounts");

        let by_clinician = corpus
            .matrix(&Grouping::Clinician, None, &CodingFilter::default())
            .expect("a matrix");
        let labels: Vec<&str> = by_clinician
            .columns
            .iter()
            .map(|c| c.label.as_str())
            .collect();
        assert_eq!(labels, ["P1"], "the clinician's own passages are theirs");
        assert_eq!(counts(cell(&by_clinician, "Hope", "P1")), (4, 0));
        assert_eq!(counts(cell(&by_clinician, "Trust", "P1")), (1, 1));
    }

    #[test]
    fn interview_details_group_like_participant_attributes() {
        let corpus = a_clinician_with_two_patients();
        let f = CodingFilter::default();
        let m = corpus
            .matrix(&Grouping::Attribute("others_present".into()), None, &f)
            .expect("others_present is an interview's");
        assert_eq!(m.by, "interview:others_present");
        let labels: Vec<&str> = m.columns.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["daughter", "spouse", "(not recorded)"]);
        assert_eq!(cell(&m, "Hope", "daughter").codings, 2);
        assert_eq!(
            cell(&m, "Hope", "spouse").codings,
            3,
            "P1's two and P2's one"
        );
        assert_eq!(cell(&m, "Hope", "(not recorded)").codings, 1);
        assert_eq!(
            (
                column_total(&m, "spouse").codings,
                column_total(&m, "spouse").contrast
            ),
            (4, 1)
        );
        let explicit: Grouping = "interview:others_present".parse().expect("a grouping");
        assert_eq!(corpus.matrix(&explicit, None, &f), Ok(m));

        let consent = corpus
            .matrix(
                &"interview:consent_recorded".parse().expect("a grouping"),
                None,
                &f,
            )
            .expect("a matrix");
        assert_eq!(cell(&consent, "Hope", "yes").codings, 2);
        assert_eq!(cell(&consent, "Hope", "(not recorded)").codings, 2);

        let unknown = corpus
            .matrix(&Grouping::Attribute("nonsense".into()), None, &f)
            .expect_err("no one has it");
        assert!(
            unknown.0.contains("'nonsense'") && unknown.0.contains("site"),
            "{unknown}"
        );
        let wrong = "interview:mood"
            .parse::<Grouping>()
            .expect_err("not recorded");
        assert!(wrong.contains("others_present"), "{wrong}");
    }

    #[test]
    fn the_sample_counts_clinicians_with_their_patients_and_dyads_by_attribution() {
        let corpus = sample();
        let f = CodingFilter::default();
        let by_participant = corpus
            .matrix(&Grouping::Participant, None, &f)
            .expect("a matrix");
        let by_clinician = corpus
            .matrix(&Grouping::Clinician, None, &f)
            .expect("a matrix");
        let by_dyad = corpus.matrix(&Grouping::Dyad, None, &f).expect("a matrix");
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
        // By dyad, a clinician's words count only for the dyad they are attributed to: the
        // Boss is George (P01), so C1-P01 counts it and C1-P04 does not.
        let boss_at = corpus
            .codings
            .iter()
            .position(|c| {
                let source = corpus.source(c.source).expect("source");
                corpus
                    .text_of(source, c.span)
                    .starts_with("George calls me the Boss")
            })
            .expect("the Boss is coded");
        let boss_row = by_dyad
            .rows
            .iter()
            .find(|r| r.code == corpus.codings[boss_at].code)
            .expect("row");
        let in_column = |label: &str| {
            let c = by_dyad
                .columns
                .iter()
                .position(|c| c.label == label)
                .unwrap_or_else(|| panic!("no column {label}"));
            &boss_row.cells[c]
        };
        let counts_boss = |label: &str| in_column(label).codings_at.contains(&(boss_at as u32));
        assert!(counts_boss("C1-P01") && !counts_boss("C1-P04"));
        // A clinician's unattributed words are about no particular dyad, apart; and a passage
        // about two dyads counts in both columns, once in the total.
        let mut extra = 0;
        let mut general_codings = 0;
        for c in &corpus.codings {
            let source = corpus.source(c.source).expect("source");
            match corpus.dyads_of_passage(source, c.span).len() {
                0 => general_codings += 1,
                n => extra += n - 1,
            }
        }
        assert!(
            general_codings > 0 && extra > 0,
            "the sample has both kinds"
        );
        let cells: usize = by_dyad
            .rows
            .iter()
            .flat_map(|r| &r.cells)
            .map(|c| c.codings + c.contrast)
            .sum();
        assert_eq!(cells, corpus.codings.len() + extra);
        let none = by_dyad.columns.len() - 1;
        assert_eq!(by_dyad.columns[none].label, "(about no particular dyad)");
        assert_eq!(by_dyad.totals[none].count().all(), general_codings);
        let total: usize = by_participant
            .rows
            .iter()
            .map(|r| r.total.codings + r.total.contrast)
            .sum();
        assert_eq!(total, corpus.codings.len());
    }
}
