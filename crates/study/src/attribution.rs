//! Attributing passages to the participant or dyad they speak about: by offsets or quote, in a
//! batch (all or nothing), from a CSV table, and by confirming suggestions (`suggestions`).
//! A clinician's passage counts for a dyad only through an attribution (`docs/findings.md`,
//! "Accounts and attribution"); nothing is attributed without a person asking for it.

mod suggestions;

use std::collections::HashSet;

use between_core::text::{self, CharIndex};
use between_core::*;

use crate::{CodingTarget, StudyError, StudyResult, Workbench, now, policy};

pub use suggestions::{MatchReason, Suggestion, SuggestionKey};

/// A passage to attribute, as a person names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAttribution {
    /// Source name (or id).
    pub source: String,
    pub target: CodingTarget,
    /// Participant or dyad labels (any case) or ids; one attribution each.
    pub about: Vec<String>,
}

/// An attribution with what a reader needs beside it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct AttributionView {
    pub attribution: Attribution,
    pub source: String,
    /// The participant's or dyad's label.
    pub about: String,
    pub quote: String,
}

/// A column of an attribution's row, named in its errors.
const SOURCE: &str = "source";
const ABOUT: &str = "about";
const QUOTE: &str = "quote";
const OFFSETS: &str = "start/end";

impl Workbench {
    /// Attributed passages, all or one source's, in source and text order, with their quotes.
    pub fn attributions(&self, source: Option<&str>) -> StudyResult<Vec<AttributionView>> {
        let source = source.map(|s| self.source_ref(s)).transpose()?;
        let attributions = self.store.attributions(source)?;
        let participants = self.store.participants()?;
        let dyads = self.store.dyads()?;
        let mut out = Vec::with_capacity(attributions.len());
        for group in attributions.chunk_by(|a, b| a.source == b.source) {
            let source = self.cached_source(group[0].source)?;
            let index = CharIndex::new(&source.text);
            for a in group {
                out.push(AttributionView {
                    source: source.name.clone(),
                    about: target_label(a.about, &participants, &dyads),
                    quote: index.slice(a.span).unwrap_or_default().to_string(),
                    attribution: a.clone(),
                });
            }
        }
        Ok(out)
    }

    /// Attributes `span` of `source` to each of `about` (one attribution each), in one change.
    pub fn attribute(
        &mut self,
        source: &str,
        span: Span,
        about: &[String],
    ) -> StudyResult<Vec<Attribution>> {
        let new = NewAttribution {
            source: source.to_string(),
            target: CodingTarget::Offsets {
                start: span.start,
                end: span.end,
            },
            about: about.to_vec(),
        };
        self.attribute_all(vec![new]).map_err(unwrap_row)
    }

    /// Attributes the words `quote` of `source` (an ambiguous quote is refused with where it
    /// occurs, unless `occurrence`, 1-based, picks one) to each of `about`.
    pub fn attribute_quote(
        &mut self,
        source: &str,
        quote: &str,
        occurrence: Option<usize>,
        about: &[String],
    ) -> StudyResult<Vec<Attribution>> {
        let new = NewAttribution {
            source: source.to_string(),
            target: CodingTarget::Quote {
                text: quote.to_string(),
                occurrence,
            },
            about: about.to_vec(),
        };
        self.attribute_all(vec![new]).map_err(unwrap_row)
    }

    /// Attributes every passage of `batch` in one change: all of them, or, at the first bad
    /// one, none (the error names its row, counting from 1, and the column).
    pub fn attribute_all(&mut self, batch: Vec<NewAttribution>) -> StudyResult<Vec<Attribution>> {
        self.attribute_rows(batch.into_iter().enumerate().map(|(i, n)| (i + 1, n)))
    }

    /// Reads a CSV table of attributions (columns `source`, `about`, and `start` and `end` or
    /// `quote`; optional `occurrence`; `about` may name several, separated by `;` or `,`) and
    /// attributes them all in one change, or none: an error names the row as a spreadsheet
    /// shows it (the header is row 1) and the column.
    pub fn import_attributions_csv(
        &mut self,
        input: impl std::io::Read,
    ) -> StudyResult<Vec<Attribution>> {
        let rows = read_csv(input)?;
        self.attribute_rows(rows)
    }

    /// Removes an attribution (its maker, or an owner); returns it as it was.
    pub fn remove_attribution(&mut self, id: AttributionId) -> StudyResult<Attribution> {
        let found = self
            .store
            .attributions(None)?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| StudyError::Unknown {
                what: "attribution",
                key: id.to_string(),
            })?;
        policy::may_remove_attribution(&self.actor, &found)?;
        let mut tx = self.store.transaction(&self.actor.name)?;
        let gone = tx.delete_attribution(id)?;
        tx.commit()?;
        Ok(gone)
    }

    /// Whom `about` names: a participant or dyad label (any case) or id.
    pub fn attribution_target(&self, about: &str) -> StudyResult<AttributionTarget> {
        resolve_target(about, &self.store.participants()?, &self.store.dyads()?)
    }

    /// Rows numbered as their errors should say, checked first, then stored in one change.
    fn attribute_rows(
        &mut self,
        rows: impl IntoIterator<Item = (usize, NewAttribution)>,
    ) -> StudyResult<Vec<Attribution>> {
        policy::may_attribute(&self.actor)?;
        let participants = self.store.participants()?;
        let dyads = self.store.dyads()?;
        let mut taken: HashSet<(SourceId, Span, AttributionTarget)> = self
            .store
            .attributions(None)?
            .into_iter()
            .map(|a| (a.source, a.span, a.about))
            .collect();
        let stamp = now();
        let mut out = Vec::new();
        for (row, new) in rows {
            let at = |column: &str| format!("row {row}, column {column}");
            let source = self.source_ref(&new.source).map_err(|e| e.at(at(SOURCE)))?;
            let (span, column) = self.span_of(source, &new.source, new.target)?;
            let span = span.map_err(|e| e.at(at(column)))?;
            let about =
                resolve_all(&new.about, &participants, &dyads).map_err(|e| e.at(at(ABOUT)))?;
            let own = self.cached_source(source)?.participant;
            if let ([AttributionTarget::Participant(p)], Some(owner)) = (about.as_slice(), own)
                && *p == owner
            {
                let label = target_label(about[0], &participants, &dyads);
                return Err(StudyError::Invalid(format!(
                    "'{}' is {label}'s own account, so its passages are {label}'s already; attribute it to someone else it speaks about, or to a dyad",
                    new.source
                ))
                .at(at(ABOUT)));
            }
            for target in about {
                if !taken.insert((source, span, target)) {
                    return Err(StudyError::Invalid(format!(
                        "that passage is already attributed to {}",
                        target_label(target, &participants, &dyads)
                    ))
                    .at(at(ABOUT)));
                }
                out.push(Attribution {
                    id: AttributionId::new(),
                    source,
                    span,
                    about: target,
                    attributed_by: self.actor.name.clone(),
                    attributed_at: stamp.clone(),
                });
            }
        }
        let mut tx = self.store.transaction(&self.actor.name)?;
        for a in &out {
            tx.insert_attribution(a)?;
        }
        tx.commit()?;
        Ok(out)
    }

    /// The span a target names in a source, or why not (with the column at fault).
    fn span_of(
        &self,
        source: SourceId,
        name: &str,
        target: CodingTarget,
    ) -> StudyResult<(StudyResult<Span>, &'static str)> {
        Ok(match target {
            CodingTarget::Offsets { start, end } => {
                let length = self.store.source_length(source)?;
                let span = Span::checked(start, end, length).map_err(|error| StudyError::Span {
                    source_name: name.to_string(),
                    error,
                });
                (span, OFFSETS)
            }
            CodingTarget::Quote {
                text: quote,
                occurrence,
            } => {
                let source = self.cached_source(source)?;
                let span = text::find_quote(&source.text, &quote, occurrence).map_err(|error| {
                    StudyError::Quote {
                        source_name: name.to_string(),
                        error,
                    }
                });
                (span, QUOTE)
            }
        })
    }
}

/// Each of `about` resolved; at least one.
fn resolve_all(
    about: &[String],
    participants: &[Participant],
    dyads: &[Dyad],
) -> StudyResult<Vec<AttributionTarget>> {
    let named: Vec<&str> = about
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
        .collect();
    if named.is_empty() {
        return Err(StudyError::Invalid(
            "say whom the passage is about: a participant or dyad label".into(),
        ));
    }
    let mut out = Vec::with_capacity(named.len());
    for key in named {
        let target = resolve_target(key, participants, dyads)?;
        if !out.contains(&target) {
            out.push(target);
        }
    }
    Ok(out)
}

fn resolve_target(
    key: &str,
    participants: &[Participant],
    dyads: &[Dyad],
) -> StudyResult<AttributionTarget> {
    let key = key.trim();
    let participant = participants
        .iter()
        .find(|p| p.label.eq_ignore_ascii_case(key) || p.id.to_string() == key);
    let dyad = dyads
        .iter()
        .find(|d| d.label.eq_ignore_ascii_case(key) || d.id.to_string() == key);
    match (participant, dyad) {
        (Some(p), None) => Ok(AttributionTarget::Participant(p.id)),
        (None, Some(d)) => Ok(AttributionTarget::Dyad(d.id)),
        (Some(_), Some(_)) => Err(StudyError::Invalid(format!(
            "'{key}' is both a participant's and a dyad's label; give the id"
        ))),
        (None, None) => Err(StudyError::Unknown {
            what: "participant or dyad",
            key: key.to_string(),
        }),
    }
}

/// A target as people read it: the participant's or dyad's label.
pub(crate) fn target_label(
    target: AttributionTarget,
    participants: &[Participant],
    dyads: &[Dyad],
) -> String {
    match target {
        AttributionTarget::Participant(id) => participants
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.label.clone()),
        AttributionTarget::Dyad(id) => dyads.iter().find(|d| d.id == id).map(|d| d.label.clone()),
    }
    .unwrap_or_default()
}

/// The rows of an attributions table, numbered as a spreadsheet shows them.
fn read_csv(input: impl std::io::Read) -> StudyResult<Vec<(usize, NewAttribution)>> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let bad = |e: csv::Error| StudyError::Invalid(format!("the attributions table: {e}"));
    let header: Vec<String> = reader
        .headers()
        .map_err(bad)?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (source, about) = match (column(SOURCE), column(ABOUT)) {
        (Some(s), Some(a)) => (s, a),
        _ => {
            return Err(StudyError::Invalid(
                "row 1: the header needs the columns source and about, and start and end or quote"
                    .into(),
            ));
        }
    };
    let (start, end, quote, occurrence) = (
        column("start"),
        column("end"),
        column(QUOTE),
        column("occurrence"),
    );
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let record = record.map_err(|e| StudyError::Invalid(format!("row {row}: {e}")))?;
        let cell = |at: Option<usize>| {
            at.and_then(|i| record.get(i))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let number = |name: &str, at: Option<usize>| -> StudyResult<Option<usize>> {
            cell(at)
                .map(|v| {
                    v.parse::<usize>().map_err(|_| {
                        StudyError::Invalid(format!("'{v}' is not a whole number"))
                            .at(format!("row {row}, column {name}"))
                    })
                })
                .transpose()
        };
        let target = match (number("start", start)?, number("end", end)?, cell(quote)) {
            (Some(start), Some(end), None) => CodingTarget::Offsets { start, end },
            (None, None, Some(text)) => CodingTarget::Quote {
                text: text.to_string(),
                occurrence: number("occurrence", occurrence)?,
            },
            _ => {
                return Err(StudyError::Invalid(
                    "give both start and end, or a quote (not both)".into(),
                )
                .at(format!("row {row}, column {OFFSETS}/{QUOTE}")));
            }
        };
        let missing = |name: &str| {
            StudyError::Invalid("the cell is empty".into()).at(format!("row {row}, column {name}"))
        };
        rows.push((
            row,
            NewAttribution {
                source: cell(Some(source))
                    .ok_or_else(|| missing(SOURCE))?
                    .to_string(),
                target,
                about: cell(Some(about))
                    .ok_or_else(|| missing(ABOUT))?
                    .split([';', ','])
                    .map(str::to_string)
                    .collect(),
            },
        ));
    }
    Ok(rows)
}

/// A one-row batch's error is about that passage; say it without the row number.
fn unwrap_row(e: StudyError) -> StudyError {
    match e {
        StudyError::At { at, error } if at.starts_with("row 1, ") => *error,
        other => other,
    }
}

#[cfg(test)]
mod tests;
