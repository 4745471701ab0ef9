//! Behind a coefficient: the passages where the compared coders' codings of a code differ, side
//! by side, and the team's adjudication of them — one coder's version accepted into a consensus
//! coder, or a discussion memo on the passage.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use between_core::text::CharIndex;
use between_core::*;
use between_store::StoreError;

use crate::{CodingView, MemoView, StudyError, StudyResult, Workbench, now, policy};

/// The coder adjudicated codings go to unless another is named.
pub const CONSENSUS_CODER: &str = "consensus";

/// Characters of context shown either side of a passage.
const CONTEXT: usize = 80;

/// How the coders' versions of a passage differ; the order is the order of review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Difference {
    /// At least one coder did not apply the code here at all.
    Missing,
    /// Every coder applied it here, but their stretches differ.
    Boundaries,
    /// Every coder coded exactly the same stretches.
    Agreed,
}

/// One coder's version of a passage.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Version {
    pub coder: String,
    /// Their codings of the passage's code that lie in it.
    pub codings: Vec<CodingView>,
    /// Their codings of the other compared codes that overlap it: what they coded instead.
    pub instead: Vec<CodingView>,
}

/// A stretch of one source where at least one compared coder applied one code: the coders'
/// overlapping codings of that code, chained together.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Passage {
    pub source: SourceId,
    pub source_name: String,
    pub code: CodeId,
    pub code_path: String,
    pub span: Span,
    pub text: String,
    pub before: String,
    pub after: String,
    pub difference: Difference,
    /// One per compared coder, in the order they were given.
    pub versions: Vec<Version>,
    /// The consensus coder's codings of the code that overlap the passage.
    pub consensus: Vec<CodingView>,
    /// The coder whose version the consensus now equals, if any.
    pub accepted: Option<String>,
    /// Memos on this source about a passage that overlaps this one.
    pub discussion: Vec<MemoView>,
}

/// The passages of a comparison, disagreements first, with counts.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Disagreements {
    pub coders: Vec<String>,
    pub consensus_coder: String,
    pub missing: usize,
    pub boundaries: usize,
    pub agreed: usize,
    /// Where `passages` start among all the passages counted.
    pub offset: usize,
    pub passages: Vec<Passage>,
}

/// A consensus coding as the adjudicator saw it.
#[derive(Clone, Copy, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seen {
    pub id: CodingId,
    pub version: i64,
}

/// "Accept `accept`'s version of `code` in `[start, end)` of `source`", replacing what the
/// consensus coder had there (`replacing`, with the versions seen; anything else is a conflict).
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adjudication {
    pub source: SourceId,
    pub code: CodeId,
    pub start: usize,
    pub end: usize,
    pub accept: String,
    #[serde(default)]
    pub replacing: Vec<Seen>,
    /// Defaults to [`CONSENSUS_CODER`].
    pub consensus: Option<String>,
}

/// What an adjudication left: the consensus codings now in the passage.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Adjudicated {
    pub consensus_coder: String,
    pub consensus: Vec<CodingView>,
    /// The consensus codings it replaced.
    pub replaced: Vec<CodingId>,
    /// The memo recording that the accepted version codes nothing here (else no memo).
    pub memo: Option<Memo>,
}

impl Workbench {
    /// Every passage where one of `coders` applied one of `codes` in `sources` (as for
    /// [`Workbench::agreement`]), each coder's version of it and the consensus coder's,
    /// disagreements first; all are counted, those at positions `rows` are returned.
    pub fn disagreements(
        &self,
        who: &Account,
        coders: &[String],
        sources: &[String],
        codes: &[String],
        consensus: Option<&str>,
        rows: std::ops::Range<usize>,
    ) -> StudyResult<Disagreements> {
        self.may_compare(who, sources)?;
        let consensus = policy::consensus_coder(consensus, coders, &self.account_names()?)?;
        let scope = self.agreement_scope(coders, sources, codes)?;
        let coder_index = |name: &str| coders.iter().position(|c| c.eq_ignore_ascii_case(name));
        let order: BTreeMap<SourceId, usize> = scope
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| (*s, i))
            .collect();
        let mut codings = scope.codings;
        codings.sort_by_key(|c| (order[&c.source], c.code, c.span.start, c.span.end));
        // First every passage, cheaply: where, which code, how the versions differ.
        let mut found: Vec<(Difference, usize, Span, &[Coding])> = Vec::new();
        for same in codings.chunk_by(|a, b| a.source == b.source && a.code == b.code) {
            for cluster in clusters(same) {
                let span = Span {
                    start: cluster.iter().map(|c| c.span.start).min().unwrap_or(0),
                    end: cluster.iter().map(|c| c.span.end).max().unwrap_or(0),
                };
                let stretches: Vec<Vec<Span>> = (0..coders.len())
                    .map(|i| {
                        union(
                            cluster
                                .iter()
                                .filter(|c| coder_index(&c.coder) == Some(i))
                                .map(|c| c.span),
                        )
                    })
                    .collect();
                let difference = if stretches.iter().any(Vec::is_empty) {
                    Difference::Missing
                } else if stretches.windows(2).all(|w| w[0] == w[1]) {
                    Difference::Agreed
                } else {
                    Difference::Boundaries
                };
                found.push((difference, order[&cluster[0].source], span, cluster));
            }
        }
        found.sort_by_key(|(d, source, span, _)| (*d, *source, span.start, span.end));
        let count = |d: Difference| found.iter().filter(|p| p.0 == d).count();
        let (missing, boundaries, agreed) = (
            count(Difference::Missing),
            count(Difference::Boundaries),
            count(Difference::Agreed),
        );
        found.drain(..rows.start.min(found.len()));
        found.truncate(rows.len());
        // Then what a reader needs beside the passages shown.
        let shown: BTreeSet<SourceId> = found.iter().map(|p| p.3[0].source).collect();
        let in_codes: BTreeSet<CodeId> = scope.codes.iter().copied().collect();
        let consensus_codings: Vec<Coding> = self
            .store
            .codings(&between_store::CodingFilter {
                coder: Some(consensus.clone()),
                ..Default::default()
            })?
            .into_iter()
            .filter(|c| shown.contains(&c.source) && in_codes.contains(&c.code))
            .collect();
        let nearby: Vec<Coding> = codings
            .iter()
            .filter(|c| shown.contains(&c.source))
            .cloned()
            .chain(consensus_codings.iter().cloned())
            .collect();
        let views: BTreeMap<CodingId, CodingView> = self
            .views(&scope.paths, sorted_by_source(nearby))?
            .into_iter()
            .map(|v| (v.coding.id, v))
            .collect();
        let memos: Vec<MemoView> = self
            .memos(None)?
            .into_iter()
            .filter(|m| m.memo.passage.is_some())
            .collect();
        // Each source's codings, the compared coders' and the consensus's, looked up per passage.
        let mut in_source: HashMap<SourceId, (Vec<&Coding>, Vec<&Coding>)> = HashMap::new();
        for c in codings.iter().filter(|c| shown.contains(&c.source)) {
            in_source.entry(c.source).or_default().0.push(c);
        }
        for c in &consensus_codings {
            in_source.entry(c.source).or_default().1.push(c);
        }
        let none = (Vec::new(), Vec::new());
        let mut passages = Vec::with_capacity(found.len());
        for (difference, _, span, cluster) in found {
            let (source_id, code) = (cluster[0].source, cluster[0].code);
            let source = self.cached_source(source_id)?;
            let index = CharIndex::new(&source.text);
            let (here, consensus_in_source) = in_source.get(&source_id).unwrap_or(&none);
            let overlapping = |c: &&&Coding| c.span.overlaps(&span);
            let versions: Vec<Version> = coders
                .iter()
                .enumerate()
                .map(|(i, coder)| Version {
                    coder: coder.clone(),
                    codings: cluster
                        .iter()
                        .filter(|c| coder_index(&c.coder) == Some(i))
                        .map(|c| views[&c.id].clone())
                        .collect(),
                    instead: here
                        .iter()
                        .filter(overlapping)
                        .filter(|c| c.code != code && coder_index(&c.coder) == Some(i))
                        .map(|c| views[&c.id].clone())
                        .collect(),
                })
                .collect();
            let consensus_here: Vec<CodingView> = consensus_in_source
                .iter()
                .filter(overlapping)
                .filter(|c| c.code == code)
                .map(|c| views[&c.id].clone())
                .collect();
            let agreed_with = union(consensus_here.iter().map(|c| c.coding.span));
            let accepted = versions
                .iter()
                .find(|v| {
                    !agreed_with.is_empty()
                        && union(v.codings.iter().map(|c| c.coding.span)) == agreed_with
                })
                .map(|v| v.coder.clone());
            let around = |s: Span| index.slice(s).unwrap_or_default().to_string();
            passages.push(Passage {
                source: source.id,
                source_name: source.name.clone(),
                code,
                code_path: scope.paths.path(code).to_string(),
                span,
                text: around(span),
                before: around(Span {
                    start: span.start.saturating_sub(CONTEXT),
                    end: span.start,
                }),
                after: around(Span {
                    start: span.end,
                    end: (span.end + CONTEXT).min(index.len()),
                }),
                difference,
                versions,
                consensus: consensus_here,
                accepted,
                discussion: memos
                    .iter()
                    .filter(|m| {
                        m.memo.target == MemoTarget::Source(source.id)
                            && m.memo.passage.is_some_and(|p| p.overlaps(&span))
                    })
                    .cloned()
                    .collect(),
            });
        }
        Ok(Disagreements {
            coders: coders.to_vec(),
            consensus_coder: consensus,
            missing,
            boundaries,
            agreed,
            offset: rows.start,
            passages,
        })
    }

    /// Accepts one coder's version of a passage into the consensus coder, in one change: the
    /// consensus codings of the code overlapping the passage are replaced by copies of the
    /// accepted coder's codings of it there. Refused as a conflict when the consensus there is no
    /// longer what the adjudicator saw. When the accepted version codes nothing, a memo on the
    /// passage says so (the consensus then has no coding to show it).
    ///
    /// Who may: a writer who may compare coders on the source. The consensus coder is never an
    /// account ([`policy::consensus_coder`]), so only codings no person owns are replaced.
    pub fn adjudicate(&mut self, who: &Account, a: Adjudication) -> StudyResult<Adjudicated> {
        policy::may_write(who)?;
        let source = self.cached_source(a.source)?;
        self.may_compare(who, &[source.id.to_string()])?;
        let consensus = policy::consensus_coder(
            a.consensus.as_deref(),
            std::slice::from_ref(&a.accept),
            &self.account_names()?,
        )?;
        let paths = self.code_paths()?;
        let code = paths
            .get(a.code)
            .ok_or_else(|| StudyError::UnknownCode(a.code.to_string()))?
            .clone();
        let span =
            Span::checked(a.start, a.end, text::char_len(&source.text)).map_err(|error| {
                StudyError::Span {
                    source_name: source.name.clone(),
                    error,
                }
            })?;
        let in_passage = |c: &Coding| c.code == code.id && c.span.overlaps(&span);
        let of = |coder: &str| -> StudyResult<Vec<Coding>> {
            Ok(self
                .store
                .codings(&between_store::CodingFilter {
                    source: Some(source.id),
                    code: None,
                    coder: Some(coder.to_string()),
                })?
                .into_iter()
                .filter(|c| in_passage(c))
                .collect())
        };
        let accepted = of(&a.accept)?;
        let mut current = of(&consensus)?;
        // What the adjudicator saw must still be what is there.
        let seen: BTreeMap<CodingId, i64> = a.replacing.iter().map(|s| (s.id, s.version)).collect();
        for c in &current {
            if seen.get(&c.id) != Some(&c.version) {
                return Err(StoreError::Conflict {
                    entity: "consensus coding",
                    id: c.id.to_string(),
                    expected: seen.get(&c.id).copied().unwrap_or(0),
                    current: Some(c.version),
                }
                .into());
            }
        }
        if let Some(gone) = a
            .replacing
            .iter()
            .find(|s| !current.iter().any(|c| c.id == s.id))
        {
            return Err(StoreError::Conflict {
                entity: "consensus coding",
                id: gone.id.to_string(),
                expected: gone.version,
                current: None,
            }
            .into());
        }
        let stamp = now();
        let copies: Vec<Coding> = accepted
            .iter()
            .map(|c| Coding {
                id: CodingId::new(),
                coder: consensus.clone(),
                created_at: stamp.clone(),
                updated_at: stamp.clone(),
                version: 1,
                ..c.clone()
            })
            .collect();
        let memo = accepted.is_empty().then(|| Memo {
            id: MemoId::new(),
            target: MemoTarget::Source(source.id),
            passage: Some(span),
            author: who.name.clone(),
            title: format!("Adjudicated: {} not applied here", paths.path(code.id)),
            text: format!(
                "{}'s version was accepted into {consensus}: this passage is not coded {}.",
                a.accept,
                paths.path(code.id)
            ),
            created_at: stamp.clone(),
            updated_at: stamp.clone(),
            version: 1,
        });
        let mut tx = self.store.transaction(&who.name)?;
        current.sort_by_key(|c| c.span.start);
        for c in &current {
            tx.delete_coding(c)?;
        }
        for c in &copies {
            tx.insert_coding(c)?;
        }
        if let Some(m) = &memo {
            tx.insert_memo(m)?;
        }
        tx.commit()?;
        Ok(Adjudicated {
            consensus: self.views(&paths, copies)?,
            consensus_coder: consensus,
            replaced: current.iter().map(|c| c.id).collect(),
            memo,
        })
    }

    /// A memo about one passage of a source (a discussion of how to code it, say).
    pub fn add_passage_memo(
        &mut self,
        source: SourceId,
        passage: Span,
        title: &str,
        text: &str,
        author: Option<&str>,
    ) -> StudyResult<Memo> {
        policy::may_write_as(&self.actor, author.unwrap_or(&self.actor.name))?;
        if text.trim().is_empty() {
            return Err(StudyError::Invalid("a memo needs some text".into()));
        }
        let s = self.cached_source(source)?;
        let passage = Span::checked(passage.start, passage.end, text::char_len(&s.text)).map_err(
            |error| StudyError::Span {
                source_name: s.name.clone(),
                error,
            },
        )?;
        let stamp = now();
        let memo = Memo {
            id: MemoId::new(),
            target: MemoTarget::Source(source),
            passage: Some(passage),
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
}

/// Codings (sorted by start) chained by overlap; abutting ones stay apart.
fn clusters(sorted: &[Coding]) -> Vec<&[Coding]> {
    let mut out = Vec::new();
    let (mut from, mut end) = (0, 0);
    for (i, c) in sorted.iter().enumerate() {
        if i > from && c.span.start >= end {
            out.push(&sorted[from..i]);
            from = i;
        }
        end = if i == from {
            c.span.end
        } else {
            end.max(c.span.end)
        };
    }
    if from < sorted.len() {
        out.push(&sorted[from..]);
    }
    out
}

/// Overlapping spans merged; abutting ones stay apart (a boundary the coder drew).
fn union(spans: impl Iterator<Item = Span>) -> Vec<Span> {
    let mut spans: Vec<Span> = spans.collect();
    spans.sort();
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if s.start < last.end => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

fn sorted_by_source(mut codings: Vec<Coding>) -> Vec<Coding> {
    codings.sort_by_key(|c| (c.source, c.span.start));
    codings
}
