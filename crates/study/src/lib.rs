//! What a researcher does with a study — create it, add people and dyads, import transcripts,
//! keep the codebook, code, write memos, summarise — as one API over a [`Store`]. The CLI and the
//! web server call this; neither holds rules of its own.

mod accounts;
mod adjudication;
mod agreement;
mod attribution;
mod bundle;
mod codebook;
mod coding;
mod deidentify;
mod error;
mod exemplars;
mod import;
mod media;
mod people;
pub mod policy;
mod stats;
mod team;

use std::path::Path;

use between_core::{Study, StudyId, TheoryRef};
use between_model::Theory;
use between_store::{OpenOptions, SqliteStore, Store, StoredTheory};

pub use accounts::{MAX_ACCOUNT_NAME_CHARS, MIN_PASSWORD_CHARS, PasswordChecker, dummy_hash};
pub use adjudication::{
    Adjudicated, Adjudication, CONSENSUS_CODER, Difference, Disagreements, Passage, Seen, Version,
};
pub use agreement::{
    AgreementReport, AgreementUnit, CONTRAST_RULE, CodeAgreement, GroupAgreement, Measure,
};
pub use attribution::{AttributionView, MatchReason, NewAttribution, Suggestion, SuggestionKey};
pub use bundle::{BundleMerge, Merged, StudyBundle};
pub use codebook::{CodeNode, CodePath, checked_code_name};
pub use coding::{CodingTarget, CodingView, MemoView, NewCoding, TargetRef};
pub use deidentify::{
    AffectedSource, Applied, Candidate, CandidateKind, Destroyed, LabelChange, MatchOptions,
    Preview, Pseudonym, Replacement, TermCount, check_mapping,
};
pub use error::{StudyError, StudyResult};
pub use import::{ImportFile, ImportOptions, ImportReport, ImportedSource, SpeakerAssignment};
pub use media::{IMPORTED, is_transcript, recording_inside, recording_type};
pub use people::{NewDyad, NewParticipant};
pub use stats::{Count, Stats};
pub use team::{CodingEdit, CodingRequest, Excerpt};

/// An open study and who is working on it: recorded with every change, and asked by
/// [`policy`] about every guarded one.
pub struct Workbench {
    store: Box<dyn Store + Send>,
    actor: between_core::Account,
    /// Sources as read. Their `blind` flag can change and is read fresh each time.
    /// Shared with the workbenches [`Workbench::reopen`] makes: one copy of each text.
    sources: std::sync::Arc<std::sync::Mutex<SourceCache>>,
}

/// Sources as read, by id, and the store's text revision they were read at. A source's text,
/// turns and speakers change only by de-identification, which changes the revision (whichever
/// process runs it): then every source is read again.
#[derive(Default)]
struct SourceCache {
    revision: Option<i64>,
    by_id: std::collections::HashMap<between_core::SourceId, std::sync::Arc<between_core::Source>>,
}

impl std::fmt::Debug for Workbench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workbench")
            .field("actor", &self.actor.name)
            .finish_non_exhaustive()
    }
}

/// What a new study starts with.
#[derive(Clone, Debug, Default)]
pub struct NewStudy {
    pub name: String,
    pub description: String,
    /// The theory whose components become the codebook; `None` for an empty codebook.
    pub theory: Option<Theory>,
}

/// The current time as stored: RFC 3339, UTC.
pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("the current time formats")
}

impl Workbench {
    /// Creates a study file with the theory's codebook. Leaves no file behind on failure.
    pub fn create(
        path: &Path,
        new: NewStudy,
        options: &OpenOptions,
        actor: &str,
    ) -> StudyResult<Self> {
        let study = Study {
            id: StudyId::new(),
            name: if new.name.trim().is_empty() {
                default_name(path)
            } else {
                new.name
            },
            description: new.description,
            theory: new.theory.as_ref().map(theory_ref),
            created_at: now(),
            blind: false,
        };
        let stored = new.theory.as_ref().map(|t| StoredTheory {
            reference: theory_ref(t),
            text: t.to_toml(),
        });
        let store = SqliteStore::create(path, &study, stored.as_ref(), options)?;
        let mut bench = Self::with_store(Box::new(store), actor);
        if let Some(theory) = &new.theory
            && let Err(e) = bench.add_theory_codes(theory)
        {
            drop(bench);
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
        Ok(bench)
    }

    /// Opens an existing study file, acting as the local owner `actor` (see [`policy`]).
    pub fn open(path: &Path, options: &OpenOptions, actor: &str) -> StudyResult<Self> {
        Ok(Self::with_store(
            Box::new(SqliteStore::open(path, options)?),
            actor,
        ))
    }

    /// A workbench over any store (another backend, or one a test prepared), acting as the
    /// local owner `actor`.
    pub fn with_store(store: Box<dyn Store + Send>, actor: &str) -> Self {
        Self {
            store,
            actor: policy::local_owner(actor),
            sources: Default::default(),
        }
    }

    /// The same study on a connection of its own, as the same actor: its reads need not wait
    /// behind this one's changes.
    pub fn reopen(&self) -> StudyResult<Self> {
        let mut reader = Self::with_store(self.store.reopen()?, &self.actor.name);
        reader.actor = self.actor.clone();
        reader.sources = std::sync::Arc::clone(&self.sources);
        Ok(reader)
    }

    /// A source's immutable parts (text, turns, speakers), from memory after the first read
    /// (while no de-identification has changed texts since). Its `blind` flag here may be
    /// stale: ask the store for that.
    pub(crate) fn cached_source(
        &self,
        id: between_core::SourceId,
    ) -> StudyResult<std::sync::Arc<between_core::Source>> {
        if let Some(s) = self.source_cache()?.by_id.get(&id) {
            return Ok(s.clone());
        }
        let source = std::sync::Arc::new(self.store.source(id)?);
        self.lock_sources().by_id.insert(id, source.clone());
        Ok(source)
    }

    pub(crate) fn lock_sources(&self) -> std::sync::MutexGuard<'_, SourceCache> {
        // The cache holds whole sources only: a panic elsewhere leaves it consistent.
        self.sources.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cache of sources, emptied first when texts have changed since it was filled.
    fn source_cache(&self) -> StudyResult<std::sync::MutexGuard<'_, SourceCache>> {
        let revision = self.store.text_revision()?;
        let mut cache = self.lock_sources();
        if cache.revision != Some(revision) {
            cache.by_id.clear();
            cache.revision = Some(revision);
        }
        Ok(cache)
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// A write transaction recorded as the acting account, once `allowed` (a [`policy`]
    /// function) has said yes to it: the hook through which workflows in crates of their own
    /// (`between-measures`) write, without another group of methods here.
    pub fn transaction(
        &mut self,
        allowed: impl FnOnce(&between_core::Account) -> StudyResult<()>,
    ) -> StudyResult<Box<dyn between_store::Transaction + '_>> {
        allowed(&self.actor)?;
        Ok(self.store.transaction(&self.actor.name)?)
    }

    pub fn study(&self) -> StudyResult<Study> {
        Ok(self.store.study()?)
    }

    /// A number that grows with every change to the study (the audit log's last entry), for
    /// caches of derived data: equal revisions mean equal content.
    pub fn revision(&self) -> StudyResult<i64> {
        Ok(self.store.audit_log(1)?.first().map_or(0, |e| e.seq))
    }

    /// The theory the study's codebook came from, as the study keeps it.
    pub fn theory(&self) -> StudyResult<Option<Theory>> {
        match self.store.theory()? {
            None => Ok(None),
            Some(t) => Ok(Some(Theory::from_toml(&t.text, "the study's theory")?)),
        }
    }
}

fn theory_ref(t: &Theory) -> TheoryRef {
    TheoryRef {
        id: t.id.clone(),
        name: t.name.clone(),
        version: t.version.clone(),
    }
}

fn default_name(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| "Study".to_string(), |s| s.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests;
