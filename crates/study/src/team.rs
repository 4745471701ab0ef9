//! What the members of a team do as themselves (through the web): code as their account, edit
//! and remove codings with the version they saw, read excerpts. Who may do which is asked of
//! [`crate::policy`].

use std::collections::HashMap;
use std::sync::Arc;

use between_core::text::CharIndex;
use between_core::*;
use between_store::CodingFilter;

use crate::policy::{may_change_coding, may_write};
use crate::{CodingView, StudyError, StudyResult, Workbench, now};

/// Changes to a coding; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct CodingEdit {
    pub start: Option<usize>,
    pub end: Option<usize>,
    pub code: Option<CodeId>,
    pub contrast: Option<bool>,
    /// `Some(None)` would be ambiguous in JSON; an empty memo removes it.
    pub memo: Option<String>,
}

/// A new coding, as a front end asks for it.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodingRequest {
    pub source: SourceId,
    pub code: CodeId,
    pub start: usize,
    pub end: usize,
    #[serde(default)]
    pub contrast: bool,
    pub memo: Option<String>,
}

/// A coded passage with the text around it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Excerpt {
    pub view: CodingView,
    pub before: String,
    pub after: String,
}

impl Workbench {
    /// One coding as a reader sees it.
    pub fn coding_view(&self, id: CodingId) -> StudyResult<CodingView> {
        let coding = self.store.coding(id)?;
        let paths = self.code_paths()?;
        Ok(self.views(&paths, vec![coding])?.remove(0))
    }

    /// Codings by ids (source, code and its sub-codes, coder), in text order.
    pub fn coding_views(
        &self,
        source: Option<SourceId>,
        code: Option<CodeId>,
        coder: Option<&str>,
    ) -> StudyResult<Vec<CodingView>> {
        let paths = self.code_paths()?;
        let codings = self.codings_of(&paths, source, code, coder)?;
        self.views(&paths, codings)
    }

    /// As [`Workbench::coding_views`], those `viewer` may see, at positions `rows` and without
    /// their text (read only the ones shown with [`Workbench::views_of`]), and how many there
    /// are in all. Where nothing is hidden from `viewer` and no code is asked for (whose
    /// sub-codes count too), only the page is read.
    pub fn codings_page_seen_by(
        &self,
        viewer: &Account,
        source: Option<SourceId>,
        code: Option<CodeId>,
        coder: Option<&str>,
        rows: std::ops::Range<usize>,
    ) -> StudyResult<(Vec<Coding>, usize)> {
        let blind = self.blindness()?;
        if code.is_none() && !blind.restricts(viewer) {
            let filter = CodingFilter {
                source,
                code: None,
                coder: coder.map(str::to_string),
            };
            return Ok(self.store.codings_page(&filter, rows)?);
        }
        let mut all = self.codings_of(&self.code_paths()?, source, code, coder)?;
        all.retain(|c| !blind.hides(viewer, c.source, &c.coder));
        let total = all.len();
        Ok((
            all.into_iter().skip(rows.start).take(rows.len()).collect(),
            total,
        ))
    }

    /// Codings as a reader sees them (quote, speaker, people), in the order given.
    pub fn views_of(&self, codings: Vec<Coding>) -> StudyResult<Vec<CodingView>> {
        self.views(&self.code_paths()?, codings)
    }

    fn codings_of(
        &self,
        paths: &crate::CodePath,
        source: Option<SourceId>,
        code: Option<CodeId>,
        coder: Option<&str>,
    ) -> StudyResult<Vec<Coding>> {
        let filter = CodingFilter {
            source,
            code: None,
            coder: coder.map(str::to_string),
        };
        let mut codings = self.store.codings(&filter)?;
        if let Some(code) = code {
            let wanted = paths.descendants(code);
            codings.retain(|c| wanted.contains(&c.code));
        }
        Ok(codings)
    }

    pub fn source_by_id(&self, id: SourceId) -> StudyResult<Arc<Source>> {
        let mut source = self.cached_source(id)?;
        let blind = self.store.blind_sources()?.contains(&id);
        if source.blind != blind {
            Arc::make_mut(&mut source).blind = blind;
        }
        Ok(source)
    }

    /// Codes a span as `who` (the coder is their account name).
    pub fn create_coding(
        &mut self,
        who: &Account,
        request: CodingRequest,
    ) -> StudyResult<CodingView> {
        self.create_codings(vec![(who.clone(), request)])?.remove(0)
    }

    /// Codes many spans, each as its account, in one transaction (one disk sync for all: a server
    /// gathers concurrent requests into such batches). Each request gets its own answer; a
    /// request that is wrong does not stop the others.
    pub fn create_codings(
        &mut self,
        batch: Vec<(Account, CodingRequest)>,
    ) -> StudyResult<Vec<StudyResult<CodingView>>> {
        let paths = self.code_paths()?;
        let mut lengths: HashMap<SourceId, usize> = HashMap::new();
        let stamp = now();
        let mut prepared: Vec<StudyResult<(Account, Coding)>> = Vec::with_capacity(batch.len());
        for (who, r) in batch {
            let coding = (|| {
                may_write(&who)?;
                let length = match lengths.get(&r.source) {
                    Some(l) => *l,
                    None => {
                        let l = self.store.source_length(r.source)?;
                        lengths.insert(r.source, l);
                        l
                    }
                };
                let code = paths
                    .get(r.code)
                    .ok_or_else(|| StudyError::UnknownCode(r.code.to_string()))?;
                let span =
                    Span::checked(r.start, r.end, length).map_err(|error| StudyError::Span {
                        source_name: r.source.to_string(),
                        error,
                    })?;
                Ok(Coding {
                    id: CodingId::new(),
                    source: r.source,
                    code: code.id,
                    span,
                    coder: who.name.clone(),
                    contrast: r.contrast,
                    memo: r.memo.filter(|m| !m.trim().is_empty()),
                    created_at: stamp.clone(),
                    updated_at: stamp.clone(),
                    version: 1,
                })
            })();
            prepared.push(coding.map(|c| (who, c)));
        }
        let mut tx = self.store.transaction(&self.actor.name)?;
        for (who, coding) in prepared.iter().flatten() {
            tx.act_as(&who.name);
            tx.insert_coding(coding)?;
        }
        tx.commit()?;
        // Read back, one source at a time, and answer in the order asked.
        let mut created: Vec<Coding> = prepared.iter().flatten().map(|(_, c)| c.clone()).collect();
        created.sort_by_key(|c| c.source);
        let mut views: HashMap<CodingId, CodingView> = self
            .views(&paths, created)?
            .into_iter()
            .map(|v| (v.coding.id, v))
            .collect();
        Ok(prepared
            .into_iter()
            .map(|p| {
                p.and_then(|(_, c)| {
                    views
                        .remove(&c.id)
                        .ok_or_else(|| StudyError::Invalid("a coding vanished".into()))
                })
            })
            .collect())
    }

    /// Changes a coding, refusing if `version` is not the stored one.
    pub fn edit_coding(
        &mut self,
        who: &Account,
        id: CodingId,
        version: i64,
        edit: CodingEdit,
    ) -> StudyResult<CodingView> {
        let mut coding = self.store.coding(id)?;
        may_change_coding(who, &coding)?;
        let source = self.cached_source(coding.source)?;
        let start = edit.start.unwrap_or(coding.span.start);
        let end = edit.end.unwrap_or(coding.span.end);
        coding.span = Span::checked(start, end, text::char_len(&source.text)).map_err(|error| {
            StudyError::Span {
                source_name: source.name.clone(),
                error,
            }
        })?;
        if let Some(code) = edit.code {
            coding.code = self
                .code_paths()?
                .get(code)
                .ok_or_else(|| StudyError::UnknownCode(code.to_string()))?
                .id;
        }
        if let Some(contrast) = edit.contrast {
            coding.contrast = contrast;
        }
        if let Some(memo) = edit.memo {
            coding.memo = Some(memo).filter(|m| !m.trim().is_empty());
        }
        coding.version = version;
        coding.updated_at = now();
        let mut tx = self.store.transaction(&who.name)?;
        tx.update_coding(&coding)?;
        tx.commit()?;
        self.coding_view(id)
    }

    /// Removes a coding, refusing if `version` is not the stored one.
    pub fn delete_coding(
        &mut self,
        who: &Account,
        id: CodingId,
        version: i64,
    ) -> StudyResult<Coding> {
        let mut coding = self.store.coding(id)?;
        may_change_coding(who, &coding)?;
        coding.version = version;
        let mut tx = self.store.transaction(&who.name)?;
        tx.delete_coding(&coding)?;
        tx.commit()?;
        Ok(coding)
    }

    /// Every coding of a code and its sub-codes, with `chars` characters of context either side
    /// (at most [`MAX_CONTEXT_CHARS`]).
    pub fn excerpts(&self, code: CodeId, chars: usize) -> StudyResult<Vec<Excerpt>> {
        let paths = self.code_paths()?;
        if paths.get(code).is_none() {
            return Err(StudyError::UnknownCode(code.to_string()));
        }
        let codings = self.codings_of(&paths, None, Some(code), None)?;
        self.excerpts_of(codings, chars)
    }

    /// The excerpts of a code `viewer` may see, those at positions `shown`, and how many there
    /// are in all.
    pub fn excerpts_seen_by(
        &self,
        viewer: &Account,
        code: CodeId,
        chars: usize,
        shown: std::ops::Range<usize>,
    ) -> StudyResult<(Vec<Excerpt>, usize)> {
        if self.code_paths()?.get(code).is_none() {
            return Err(StudyError::UnknownCode(code.to_string()));
        }
        let (page, total) = self.codings_page_seen_by(viewer, None, Some(code), None, shown)?;
        Ok((self.excerpts_of(page, chars)?, total))
    }

    /// Codings (in source order) in context.
    fn excerpts_of(&self, codings: Vec<Coding>, chars: usize) -> StudyResult<Vec<Excerpt>> {
        let chars = chars.min(MAX_CONTEXT_CHARS);
        let views = self.views_of(codings)?;
        let mut out = Vec::with_capacity(views.len());
        for group in views.chunk_by(|a, b| a.coding.source == b.coding.source) {
            let source = self.cached_source(group[0].coding.source)?;
            let index = CharIndex::new(&source.text);
            for v in group {
                let span = v.coding.span;
                let before = Span {
                    start: span.start.saturating_sub(chars),
                    end: span.start,
                };
                let after = Span {
                    start: span.end,
                    end: (span.end + chars).min(index.len()),
                };
                out.push(Excerpt {
                    view: v.clone(),
                    before: index.slice(before).unwrap_or_default().to_string(),
                    after: index.slice(after).unwrap_or_default().to_string(),
                });
            }
        }
        Ok(out)
    }
}
