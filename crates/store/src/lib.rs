//! Persistence of a study. Callers see the [`Store`], [`Reader`] and [`Transaction`] traits;
//! [`SqliteStore`] implements them on one SQLite file per study (WAL, foreign keys, embedded
//! versioned migrations). A PostgreSQL backend implements the same traits.
//!
//! Every write goes through a [`Transaction`], which appends to the study's audit log in the
//! same transaction, and every edit names the version it read: a stale version is a
//! [`StoreError::Conflict`], never a silent overwrite.

mod error;
mod sqlite;

pub use error::StoreError;
pub use sqlite::{OpenOptions, SqliteStore};

use between_core::*;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The theory a study's codebook came from, as stored with the study.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredTheory {
    pub reference: TheoryRef,
    /// The theory file's text (TOML).
    pub text: String,
}

/// Which codings to read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodingFilter {
    pub source: Option<SourceId>,
    pub code: Option<CodeId>,
    pub coder: Option<String>,
}

/// One row of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub detail: serde_json::Value,
}

/// A source without its text and turns, for listings.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SourceInfo {
    pub id: SourceId,
    pub name: String,
    pub kind: SourceKind,
    pub participant: Option<ParticipantId>,
    pub dyad: Option<DyadId>,
    /// In code points.
    pub text_length: usize,
    pub turns: usize,
    pub interview: InterviewInfo,
    pub imported_at: String,
    pub blind: bool,
}

/// What blind mode is switched for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlindScope {
    Study,
    Source(SourceId),
}

/// One term of a de-identification mapping as stored: the only place original terms live.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PseudonymEntry {
    pub term: String,
    pub pseudonym: String,
    /// How many times it was replaced in the sources' texts.
    pub replacements: usize,
    /// Which de-identification run stored it, by whom and when.
    pub run: i64,
    pub actor: String,
    pub at: String,
}

/// What one de-identification run changed, as recorded (counts and sources, never terms).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeidentificationCounts {
    pub sources: Vec<SourceId>,
    pub replacements: usize,
    pub codings: usize,
    pub memos: usize,
    /// Attributed passages moved with their words.
    pub attributions: usize,
}

/// Reading a study. Lists come in a stable order (labels, names, or text position).
pub trait Reader {
    fn study(&self) -> Result<Study>;
    fn theory(&self) -> Result<Option<StoredTheory>>;
    fn participants(&self) -> Result<Vec<Participant>>;
    fn dyads(&self) -> Result<Vec<Dyad>>;
    fn source_infos(&self) -> Result<Vec<SourceInfo>>;
    fn source(&self, id: SourceId) -> Result<Source>;
    fn source_id_by_name(&self, name: &str) -> Result<Option<SourceId>>;
    /// A source's text length in code points, without reading the text.
    fn source_length(&self, id: SourceId) -> Result<usize>;
    /// A source's text alone (an export writing the texts needs nothing else of it).
    fn source_text(&self, id: SourceId) -> Result<String>;
    /// Sources in blind mode (not counting the study-wide switch).
    fn blind_sources(&self) -> Result<Vec<SourceId>>;
    fn codes(&self) -> Result<Vec<Code>>;
    /// Codings in source, then text order.
    fn codings(&self, filter: &CodingFilter) -> Result<Vec<Coding>>;
    /// The codings at positions `rows` of [`Reader::codings`] (same order), and how many
    /// there are in all: a page read without reading the rest.
    fn codings_page(
        &self,
        filter: &CodingFilter,
        rows: std::ops::Range<usize>,
    ) -> Result<(Vec<Coding>, usize)>;
    fn coding(&self, id: CodingId) -> Result<Coding>;
    /// How many codings each coder has in each source.
    fn coding_counts_by_source(&self) -> Result<Vec<(SourceId, String, usize)>>;
    /// How many codings each code has, as (code, contrast flag, count) (codes without any
    /// are absent).
    fn coding_counts(&self) -> Result<Vec<(CodeId, bool, usize)>>;
    /// All memos, or those on one target.
    fn memos(&self, target: Option<MemoTarget>) -> Result<Vec<Memo>>;
    fn cases(&self) -> Result<Vec<Case>>;
    /// The newest `limit` entries of the audit log, oldest first.
    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>>;
    fn accounts(&self) -> Result<Vec<Account>>;
    /// Every name an account has ever had: today's, and those the audit log recorded for
    /// accounts since renamed or removed.
    fn account_names_ever(&self) -> Result<Vec<String>>;
    /// An account by name (any case) with its argon2 password hash, for checking a login.
    fn account_with_hash(&self, name: &str) -> Result<Option<(Account, String)>>;
    /// An account by id, as stored now (a server checks its sessions against it).
    fn account(&self, id: AccountId) -> Result<Option<Account>>;
    /// The recording linked to each source that has one.
    fn media(&self) -> Result<Vec<Media>>;
    /// Every check of a transcript against its recording, oldest first.
    fn verifications(&self) -> Result<Vec<Verification>>;
    /// The de-identification mapping, oldest first (empty once destroyed).
    fn pseudonyms(&self) -> Result<Vec<PseudonymEntry>>;
    /// The team's exemplar quotes, by what they stand for, then position.
    fn exemplars(&self) -> Result<Vec<Exemplar>>;
    /// Attributed passages, all or one source's, in source then text order.
    fn attributions(&self, source: Option<SourceId>) -> Result<Vec<Attribution>>;
    /// The instruments the study added of its own (built-ins are not stored), by id.
    fn study_instruments(&self) -> Result<Vec<StudyInstrument>>;
    /// Every response with its answers, by participant, instrument, then date and session.
    fn responses(&self) -> Result<Vec<Response>>;
    /// The link whose token has this SHA-256 (hex), used or not.
    fn response_link(&self, token_hash: &str) -> Result<Option<ResponseLink>>;
    /// Every link, oldest first (their hashes, never tokens).
    fn response_links(&self) -> Result<Vec<ResponseLink>>;
    /// Clinician participants linked to accounts, with their sharing.
    fn clinician_accounts(&self) -> Result<Vec<ClinicianAccount>>;
    /// A number that changes whenever sources' texts may have changed, by any process (texts
    /// change only by de-identification): what a cache of texts is checked against.
    fn text_revision(&self) -> Result<i64>;
}

/// Writing a study, inside a transaction. Each call is recorded in the audit log.
/// `update_*` and `delete_*` take the object as the caller read it and fail with
/// [`StoreError::Conflict`] when its version is no longer current; on success the stored
/// version is one more than the one given.
pub trait Writer: Reader {
    /// Keeps the memory of a transaction that writes much (an import) small: pages spill to
    /// the write-ahead log early. Ends with the transaction.
    fn limit_cache_for_bulk(&mut self) -> Result<()>;
    /// Renames the study and replaces its description.
    fn update_study(&mut self, name: &str, description: &str) -> Result<()>;
    /// Who the following changes are recorded as (a batch of several people's changes).
    fn act_as(&mut self, actor: &str);
    fn insert_participant(&mut self, p: &Participant) -> Result<()>;
    fn update_participant(&mut self, p: &Participant) -> Result<()>;
    fn insert_dyad(&mut self, d: &Dyad) -> Result<()>;
    fn insert_source(&mut self, s: &Source) -> Result<()>;
    fn insert_code(&mut self, c: &Code) -> Result<()>;
    fn update_code(&mut self, c: &Code) -> Result<()>;
    fn delete_code(&mut self, c: &Code) -> Result<()>;
    fn insert_coding(&mut self, c: &Coding) -> Result<()>;
    /// Many codings at once (an import), recorded in the audit log as one entry with the
    /// number by coder.
    fn insert_codings(&mut self, codings: &[Coding]) -> Result<()>;
    fn update_coding(&mut self, c: &Coding) -> Result<()>;
    fn delete_coding(&mut self, c: &Coding) -> Result<()>;
    /// Moves every coding of `from` to `into` (a merge); returns how many moved.
    fn recode_all(&mut self, from: CodeId, into: CodeId) -> Result<usize>;
    /// Moves every memo on `from` to `into` (a merge); returns how many moved.
    fn retarget_memos(&mut self, from: MemoTarget, into: MemoTarget) -> Result<usize>;
    fn insert_memo(&mut self, m: &Memo) -> Result<()>;
    fn update_memo(&mut self, m: &Memo) -> Result<()>;
    fn upsert_case(&mut self, c: &Case) -> Result<()>;
    /// `password_hash` is an argon2 PHC string, never a password.
    fn insert_account(&mut self, a: &Account, password_hash: &str) -> Result<()>;
    fn update_password(&mut self, a: &Account, password_hash: &str) -> Result<()>;
    fn update_role(&mut self, a: &Account, role: AccountRole) -> Result<()>;
    fn delete_account(&mut self, a: &Account) -> Result<()>;
    fn set_blind(&mut self, scope: BlindScope, blind: bool) -> Result<()>;
    /// Attributes a passage (inside its source's text, once per target).
    fn insert_attribution(&mut self, a: &Attribution) -> Result<()>;
    /// Removes an attribution; returns it as it was ([`StoreError::NotFound`] when absent).
    fn delete_attribution(&mut self, id: AttributionId) -> Result<Attribution>;
    /// Stores a study's instrument version (never changed afterwards).
    fn insert_study_instrument(&mut self, i: &StudyInstrument) -> Result<()>;
    /// Stores a response and its answers; a duplicate submission is a
    /// [`StoreError::Constraint`].
    fn insert_response(&mut self, r: &Response) -> Result<()>;
    /// Stores a one-time link (its token's hash; the audit log records neither).
    fn insert_response_link(&mut self, l: &ResponseLink) -> Result<()>;
    /// Marks a link used at `at`; a second use is a [`StoreError::Constraint`].
    fn use_response_link(&mut self, id: ResponseLinkId, at: &str) -> Result<()>;
    /// Links a clinician participant to an account name (once).
    fn link_clinician_account(&mut self, c: &ClinicianAccount) -> Result<()>;
    /// Whether a linked clinician shares their own measures with the study's owners.
    fn set_self_care_shared(&mut self, participant: ParticipantId, shared: bool) -> Result<()>;
    /// Links a recording to its source, replacing any linked before.
    fn set_media(&mut self, m: &Media) -> Result<()>;
    /// Unlinks a source's recording; says whether there was one.
    fn delete_media(&mut self, source: SourceId) -> Result<bool>;
    fn insert_verification(&mut self, v: &Verification) -> Result<()>;

    // De-identification: `begin_deidentification`, the rewrites, then `finish_deidentification`,
    // all in one transaction. Nothing of it writes an original term to the audit log.
    /// Starts a run (memo passages may move until it finishes); returns its number.
    fn begin_deidentification(&mut self) -> Result<i64>;
    /// Replaces a source's text, its length, turns and speakers; `s.version` is the version read.
    fn rewrite_source(&mut self, s: &Source) -> Result<()>;
    /// Moves codings to new spans (each one's version goes up); returns how many moved.
    fn remap_codings(&mut self, spans: &[(CodingId, Span)]) -> Result<usize>;
    /// Moves memo passages to new spans (only during a run); returns how many moved.
    fn remap_memo_passages(&mut self, spans: &[(MemoId, Span)]) -> Result<usize>;
    /// Moves attributed passages to new spans (only during a run); returns how many moved.
    fn remap_attributions(&mut self, spans: &[(AttributionId, Span)]) -> Result<usize>;
    /// Stores terms of the run's mapping: `(term, pseudonym, replacements)`.
    fn insert_pseudonyms(&mut self, run: i64, entries: &[(String, String, usize)]) -> Result<()>;
    /// Ends the run and records what it changed.
    fn finish_deidentification(&mut self, run: i64, counts: &DeidentificationCounts) -> Result<()>;
    /// Deletes every stored term of the mapping (irreversible); returns how many.
    fn delete_pseudonyms(&mut self) -> Result<usize>;
    /// Marks a coding as an exemplar quote at `e.position`; later ones of the same target move
    /// down one.
    fn insert_exemplar(&mut self, e: &Exemplar) -> Result<()>;
    /// Unmarks it; later ones of the same target move up one. False when it was not marked.
    fn delete_exemplar(&mut self, coding: CodingId, target: &ExemplarFor) -> Result<bool>;
}

/// A unit of work: all its writes land together at [`Transaction::commit`], or none do
/// (dropping it rolls back).
pub trait Transaction: Writer {
    fn commit(self: Box<Self>) -> Result<()>;
}

/// A study's storage.
pub trait Store: Reader {
    /// Starts a write transaction on behalf of `actor` (recorded in the audit log). Waits up to
    /// the store's busy timeout for another writer, then fails with [`StoreError::Busy`].
    fn transaction(&mut self, actor: &str) -> Result<Box<dyn Transaction + '_>>;
    /// The study file, when the store is one (relative media paths start at its folder).
    fn location(&self) -> Option<&std::path::Path>;
    /// Rebuilds the file so that freed pages no longer hold deleted bytes (after
    /// de-identification or destroying its mapping), and empties the write-ahead log.
    fn vacuum(&mut self) -> Result<()>;
    /// Why every change is refused, when the study is open for reading only.
    fn read_only(&self) -> Option<&str>;
    /// Until the snapshot is dropped, every read sees the study as it was when it began,
    /// whatever other connections commit meanwhile.
    fn snapshot(&self) -> Result<Snapshot<'_>>;
    /// Another connection to the same study, independent of this one (reads that need not
    /// wait behind this one's writes).
    fn reopen(&self) -> Result<Box<dyn Store + Send>>;
}

/// A consistent view of a study for a series of reads ([`Store::snapshot`]); dropping it ends it.
pub struct Snapshot<'a> {
    _held: Box<dyn Held + 'a>,
}

/// Anything a backend keeps open for a snapshot's life.
trait Held {}
impl<T> Held for T {}

impl std::fmt::Debug for Snapshot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot").finish_non_exhaustive()
    }
}

impl<'a> Snapshot<'a> {
    fn holding(held: impl Held + 'a) -> Self {
        Self {
            _held: Box::new(held),
        }
    }
}
