//! From codings to findings: what a study's codings say, computed over one in-memory
//! [`Corpus`] — a snapshot of the study (its `StudyBundle` and theory) with indexes built once.
//! Everything here is pure: no IO, no store; the CLI and the server build a corpus from a
//! `Workbench` and ask it questions.
//!
//! Attribution rules (documented in `docs/findings.md`):
//! - a coding's **speaker role** is the role of the speaker of the turn it starts in;
//! - a source is the **account** of its participant; a **passage** speaks for the dyads named by
//!   the attributions it overlaps, else for the dyad its source names (or a patient's one dyad);
//!   a clinician's unattributed passage speaks for no dyad (`Corpus::dyads_of_passage`);
//! - a coding's **component** is the theory component of its code or of the nearest ancestor
//!   code that has one;
//! - **contrast** codings are never evidence for a component; they are reported apart.

mod corpus;

// Queries: frequencies and matrices, co-occurrence, boolean code queries, text search.
mod boolean;
mod cooccur;
mod excerpt;
mod query;
mod search;

// The dyad and the model: triangulation, proposition support, saturation; case studies.
mod cases;
pub mod propositions;
pub mod saturation;
pub mod triangulation;

#[cfg(test)]
mod query_fixtures;
#[cfg(test)]
mod test_support;

pub use boolean::{CodeQuery, CodeQueryResult, MAX_QUERY_DEPTH, MAX_QUERY_OPERATORS};
pub use cases::{
    CaseMemo, Cases, ClinicianCase, ClinicianComponent, Comparison, ComparisonCell,
    ComponentEvidence, Contrast, DyadCase, DyadEvidence, Excerpt as CaseExcerpt, GeneralEvidence,
    KEY_EXCERPTS,
};
pub use cooccur::{CodeLabel, Cooccurrence, Proximity};
pub use corpus::{Corpus, CorpusError};
pub use excerpt::{Excerpt, MAX_CONTEXT_CHARS};
pub use query::{
    Cell, CodingExcerpt, CodingFilter, Column, Grouping, GroupingError, InterviewField, Matrix,
    MatrixRow, QueryError,
};
pub use search::{
    CodeAllPlan, PlannedHit, SearchFilter, SearchIndex, SearchResult, TextQuery, fold,
};
