//! Applying codes to spans, listing codings with their text, and memos.

use std::collections::HashMap;

use between_core::text::{self, CharIndex};
use between_core::*;

use crate::{CodePath, StudyError, StudyResult, Workbench, now, policy};

/// Where a coding goes in its source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodingTarget {
    /// Code point offsets, end exclusive.
    Offsets { start: usize, end: usize },
    /// An exact quote; `occurrence` (1-based) picks one when it occurs more than once.
    Quote {
        text: String,
        occurrence: Option<usize>,
    },
}

#[derive(Clone, Debug)]
pub struct NewCoding {
    /// Source name.
    pub source: String,
    /// Code path, name or component id.
    pub code: String,
    pub target: CodingTarget,
    /// Defaults to the workbench's actor.
    pub coder: Option<String>,
    pub memo: Option<String>,
    pub contrast: bool,
}

/// A coding with what a reader needs beside it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CodingView {
    pub coding: Coding,
    pub source: String,
    pub code_path: String,
    pub quote: String,
    /// The speaker label and role of the turn where the coding starts.
    pub speaker: Option<String>,
    pub role: Option<Role>,
    /// The source's participant and dyad labels.
    pub participant: Option<String>,
    pub dyad: Option<String>,
}

/// What a memo is attached to, as a user names it (`source:NAME`, `code:PATH`, `coding:ID`,
/// `dyad:LABEL`, `participant:LABEL`, or `study`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetRef(pub String);

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct MemoView {
    pub memo: Memo,
    /// The target as a person reads it (`dyad C1-P01`).
    pub about: String,
}

/// How people read ids: participant and dyad labels, source names.
struct Labels {
    participants: HashMap<ParticipantId, String>,
    dyads: HashMap<DyadId, String>,
    sources: HashMap<SourceId, String>,
}

/// Texts of sources loaded once per batch.
struct SourceCache {
    ids: HashMap<String, (SourceId, usize)>,
    texts: HashMap<SourceId, String>,
}

impl Workbench {
    /// Applies one code. Returns the stored coding.
    pub fn apply_code(&mut self, new: NewCoding) -> StudyResult<Coding> {
        let mut codings = self.apply_codings(vec![new]).map_err(unwrap_row)?;
        Ok(codings.remove(0))
    }

    /// Applies many codes in one transaction: all of them, or, at the first bad one, none
    /// (the error names its row, counting from 1).
    pub fn apply_codings(&mut self, batch: Vec<NewCoding>) -> StudyResult<Vec<Coding>> {
        self.must_write()?;
        let paths = self.code_paths()?;
        let mut cache = SourceCache {
            ids: self
                .store
                .source_infos()?
                .into_iter()
                .map(|s| (s.name, (s.id, s.text_length)))
                .collect(),
            texts: HashMap::new(),
        };
        let stamp = now();
        let mut codings = Vec::with_capacity(batch.len());
        for (i, new) in batch.into_iter().enumerate() {
            let coding = self
                .prepare(&paths, &mut cache, new, &stamp)
                .map_err(|e| e.at(format!("row {}", i + 1)))?;
            codings.push(coding);
        }
        let mut tx = self.store.transaction(&self.actor.name)?;
        for c in &codings {
            tx.insert_coding(c)?;
        }
        tx.commit()?;
        Ok(codings)
    }

    fn prepare(
        &self,
        paths: &CodePath,
        cache: &mut SourceCache,
        new: NewCoding,
        stamp: &str,
    ) -> StudyResult<Coding> {
        let &(source, length) = cache
            .ids
            .get(&new.source)
            .ok_or_else(|| StudyError::Unknown {
                what: "source",
                key: new.source.clone(),
            })?;
        let code = paths.resolve(&new.code)?;
        let span = match new.target {
            CodingTarget::Offsets { start, end } => {
                Span::checked(start, end, length).map_err(|error| StudyError::Span {
                    source_name: new.source.clone(),
                    error,
                })?
            }
            CodingTarget::Quote {
                text: quote,
                occurrence,
            } => {
                let text = match cache.texts.entry(source) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(self.cached_source(source)?.text.clone())
                    }
                };
                text::find_quote(text, &quote, occurrence).map_err(|error| StudyError::Quote {
                    source_name: new.source.clone(),
                    error,
                })?
            }
        };
        let coder = new.coder.unwrap_or_else(|| self.actor.name.clone());
        if coder.trim().is_empty() {
            return Err(StudyError::Invalid("a coding needs a coder".into()));
        }
        policy::may_write_as(&self.actor, &coder)?;
        Ok(Coding {
            id: CodingId::new(),
            source,
            code: code.id,
            span,
            coder,
            contrast: new.contrast,
            memo: new.memo.filter(|m| !m.trim().is_empty()),
            created_at: stamp.to_string(),
            updated_at: stamp.to_string(),
            version: 1,
        })
    }

    /// Codings with their quotes, optionally of one source, one code (and its sub-codes) or
    /// one coder, in source and text order.
    pub fn codings(
        &self,
        source: Option<&str>,
        code: Option<&str>,
        coder: Option<&str>,
    ) -> StudyResult<Vec<CodingView>> {
        let code = code
            .map(|c| self.code_paths()?.resolve(c).map(|c| c.id))
            .transpose()?;
        let source = source
            .map(|name| {
                self.store
                    .source_id_by_name(name)?
                    .ok_or_else(|| StudyError::Unknown {
                        what: "source",
                        key: name.to_string(),
                    })
            })
            .transpose()?;
        self.coding_views(source, code, coder)
    }

    pub(crate) fn views(
        &self,
        paths: &CodePath,
        codings: Vec<Coding>,
    ) -> StudyResult<Vec<CodingView>> {
        let labels = self.people_labels()?;
        let mut out = Vec::with_capacity(codings.len());
        // Codings come grouped by source: load each source once and index its text once.
        for group in codings.chunk_by(|a, b| a.source == b.source) {
            let source = self.cached_source(group[0].source)?;
            let index = CharIndex::new(&source.text);
            for c in group {
                let turn = source
                    .turns
                    .iter()
                    .find(|t| t.span.start <= c.span.start && c.span.start < t.span.end);
                out.push(CodingView {
                    source: source.name.clone(),
                    code_path: paths.path(c.code).to_string(),
                    quote: index.slice(c.span).unwrap_or_default().to_string(),
                    speaker: turn.and_then(|t| t.speaker.clone()),
                    role: source.speaker_at(c.span.start).map(|s| s.role),
                    participant: source
                        .participant
                        .and_then(|p| labels.participants.get(&p).cloned()),
                    dyad: source.dyad.and_then(|d| labels.dyads.get(&d).cloned()),
                    coding: c.clone(),
                });
            }
        }
        Ok(out)
    }

    /// Participant and dyad labels (small tables; source names are left empty).
    fn people_labels(&self) -> StudyResult<Labels> {
        Ok(Labels {
            participants: self
                .store
                .participants()?
                .into_iter()
                .map(|p| (p.id, p.label))
                .collect(),
            dyads: self
                .store
                .dyads()?
                .into_iter()
                .map(|d| (d.id, d.label))
                .collect(),
            sources: HashMap::new(),
        })
    }

    fn labels(&self) -> StudyResult<Labels> {
        let mut labels = self.people_labels()?;
        labels.sources = self
            .store
            .source_infos()?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        Ok(labels)
    }

    /// Resolves what a memo is to be attached to.
    pub fn memo_target(&self, target: &TargetRef) -> StudyResult<MemoTarget> {
        let raw = target.0.trim();
        let (kind, key) = raw.split_once(':').unwrap_or((raw, ""));
        let key = key.trim();
        Ok(match kind.trim().to_lowercase().as_str() {
            "study" => MemoTarget::Study,
            "source" => MemoTarget::Source(match key.parse::<SourceId>() {
                Ok(id) => self.store.source(id)?.id,
                Err(_) => {
                    self.store
                        .source_id_by_name(key)?
                        .ok_or_else(|| StudyError::Unknown {
                            what: "source",
                            key: key.to_string(),
                        })?
                }
            }),
            "code" => {
                let paths = self.code_paths()?;
                match key.parse::<CodeId>().ok().and_then(|id| paths.get(id)) {
                    Some(code) => MemoTarget::Code(code.id),
                    None => MemoTarget::Code(paths.resolve(key)?.id),
                }
            }
            "coding" => {
                let id = key.parse().map_err(|_| {
                    StudyError::Invalid(format!("'{key}' is not a coding id (a UUID)"))
                })?;
                MemoTarget::Coding(self.store.coding(id)?.id)
            }
            "dyad" => MemoTarget::Dyad(self.dyad(key)?.id),
            "participant" => MemoTarget::Participant(self.participant(key)?.id),
            _ => {
                return Err(StudyError::Invalid(format!(
                    "'{raw}' does not say what the memo is about: use study, source:NAME, code:PATH, coding:ID, dyad:LABEL or participant:LABEL"
                )));
            }
        })
    }

    pub fn add_memo(
        &mut self,
        target: &TargetRef,
        title: &str,
        text: &str,
        author: Option<&str>,
    ) -> StudyResult<Memo> {
        policy::may_write_as(&self.actor, author.unwrap_or(&self.actor.name))?;
        if text.trim().is_empty() {
            return Err(StudyError::Invalid("a memo needs some text".into()));
        }
        let target = self.memo_target(target)?;
        let stamp = now();
        let memo = Memo {
            id: MemoId::new(),
            target,
            passage: None,
            author: author.unwrap_or(&self.actor.name).to_string(),
            title: title.trim().to_string(),
            text: text.to_string(),
            created_at: stamp.clone(),
            updated_at: stamp,
            version: 1,
        };
        let mut tx = self.store.transaction(&self.actor.name)?;
        tx.insert_memo(&memo)?;
        tx.commit()?;
        Ok(memo)
    }

    /// Memos, all or those on one target, with what each is about.
    pub fn memos(&self, target: Option<MemoTarget>) -> StudyResult<Vec<MemoView>> {
        let memos = self.store.memos(target)?;
        let paths = self.code_paths()?;
        let labels = self.labels()?;
        Ok(memos
            .into_iter()
            .map(|memo| {
                let about = match &memo.target {
                    MemoTarget::Study => "study".to_string(),
                    MemoTarget::Source(id) => format!("source {}", label(&labels.sources, id)),
                    MemoTarget::Code(id) => format!("code {}", paths.path(*id)),
                    MemoTarget::Coding(id) => format!("coding {id}"),
                    MemoTarget::Dyad(id) => format!("dyad {}", label(&labels.dyads, id)),
                    MemoTarget::Participant(id) => {
                        format!("participant {}", label(&labels.participants, id))
                    }
                };
                MemoView { memo, about }
            })
            .collect())
    }
}

fn label<K: std::hash::Hash + Eq>(names: &HashMap<K, String>, key: &K) -> String {
    names.get(key).cloned().unwrap_or_default()
}

/// A one-row batch's error is about that row; say it without the row number.
fn unwrap_row(e: StudyError) -> StudyError {
    match e {
        StudyError::At { at, error } if at == "row 1" => *error,
        other => other,
    }
}
