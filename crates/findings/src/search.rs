//! Text search across a study: words, "phrases", wildcards (`trust*`, `?`), case- and
//! accent-insensitive, as keyword-in-context results; and the plan for coding every hit.
//!
//! The index is built once per [`Corpus`], on first use: every source's words, folded (NFKD,
//! combining marks dropped, lower case), as ids into one vocabulary, with their byte and
//! code-point spans, and for every word where it occurs. A word is a run of letters and digits
//! (with their marks), an apostrophe between two of them included (`don't`).

use std::collections::{HashMap, HashSet};
use std::fmt;

use between_core::{CodeId, CodingId, Role, SourceId, Span};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::excerpt::{Excerpt, is_word_char};
use crate::{Corpus, QueryError};

/// Folds text for comparison: compatibility decomposition, marks dropped, lower case, and the
/// typographic apostrophe as the plain one (`José’s` → `jose's`).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out);
    out
}

fn fold_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        out.extend(text.chars().map(|c| c.to_ascii_lowercase()));
        return;
    }
    for c in text.nfkd().filter(|c| !is_combining_mark(*c)) {
        if c == '’' {
            out.push('\'');
        } else {
            out.extend(c.to_lowercase());
        }
    }
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '’'
}

/// A word of a source: its byte span and its code-point span.
#[derive(Clone, Copy, Debug)]
struct Token {
    bytes: (u32, u32),
    cps: (u32, u32),
}

/// The words of `text`, in order, with their spans; `extra` chars also count as word chars
/// (the wildcards, in a query).
fn tokens<'t>(text: &'t str, extra: &[char]) -> Vec<(Token, &'t str)> {
    let word = |c: char| is_word_char(c) || extra.contains(&c);
    let mut out = Vec::new();
    let mut chars = text.char_indices().enumerate().peekable();
    while let Some((cp, (b, c))) = chars.next() {
        if !word(c) {
            continue;
        }
        let (start_cp, start_b) = (cp, b);
        let (mut end_cp, mut end_b) = (cp + 1, b + c.len_utf8());
        while let Some(&(cp2, (b2, c2))) = chars.peek() {
            if word(c2) {
                chars.next();
                (end_cp, end_b) = (cp2 + 1, b2 + c2.len_utf8());
            } else if is_apostrophe(c2)
                && text[b2 + c2.len_utf8()..].chars().next().is_some_and(word)
            {
                chars.next();
            } else {
                break;
            }
        }
        out.push((
            Token {
                bytes: (start_b as u32, end_b as u32),
                cps: (start_cp as u32, end_cp as u32),
            },
            &text[start_b..end_b],
        ));
    }
    out
}

/// Every source's words, folded, and where each word occurs.
pub struct SearchIndex {
    vocabulary: HashMap<String, u32>,
    /// Per word id: (source position, token position) of each occurrence, in text order.
    postings: Vec<Vec<(u32, u32)>>,
    /// Per source: its words' ids and spans.
    ids: Vec<Vec<u32>>,
    spans: Vec<Vec<Token>>,
}

impl fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SearchIndex")
            .field("words", &self.vocabulary.len())
            .field("sources", &self.ids.len())
            .finish_non_exhaustive()
    }
}

impl SearchIndex {
    pub fn build(corpus: &Corpus) -> Self {
        let mut vocabulary: HashMap<String, u32> = HashMap::new();
        let mut postings: Vec<Vec<(u32, u32)>> = Vec::new();
        let mut ids = Vec::with_capacity(corpus.sources.len());
        let mut spans = Vec::with_capacity(corpus.sources.len());
        let mut folded = String::new();
        for (s, source) in corpus.sources.iter().enumerate() {
            let words = tokens(&source.text, &[]);
            let mut source_ids = Vec::with_capacity(words.len());
            let mut source_spans = Vec::with_capacity(words.len());
            for (t, (token, word)) in words.into_iter().enumerate() {
                fold_into(word, &mut folded);
                let id = match vocabulary.get(folded.as_str()) {
                    Some(&id) => id,
                    None => {
                        let id = postings.len() as u32;
                        vocabulary.insert(folded.clone(), id);
                        postings.push(Vec::new());
                        id
                    }
                };
                postings[id as usize].push((s as u32, t as u32));
                source_ids.push(id);
                source_spans.push(token);
            }
            ids.push(source_ids);
            spans.push(source_spans);
        }
        Self {
            vocabulary,
            postings,
            ids,
            spans,
        }
    }

    /// Distinct words, folded.
    pub fn words(&self) -> usize {
        self.vocabulary.len()
    }
}

/// One word of a query: an exact (folded) word or a pattern with `*` (any letters, none
/// included) and `?` (one letter).
#[derive(Clone, Debug, PartialEq)]
enum Term {
    Word(String),
    Pattern(Vec<char>),
}

/// A parsed text query: hits of any of its alternatives (each a word or a phrase).
#[derive(Clone, Debug, PartialEq)]
pub struct TextQuery {
    alternatives: Vec<Vec<Term>>,
}

impl TextQuery {
    /// Words and `"quoted phrases"`, separated by spaces: a hit is an occurrence of any of
    /// them. An unquoted word with punctuation inside (`self-care`) is the phrase of its words.
    pub fn parse(query: &str) -> Result<Self, QueryError> {
        let mut alternatives = Vec::new();
        let mut rest = query;
        let mut at = 0; // code points consumed
        loop {
            let trimmed = rest.trim_start();
            at += rest.chars().count() - trimmed.chars().count();
            rest = trimmed;
            let Some(first) = rest.chars().next() else {
                break;
            };
            let (piece, len) = if first == '"' {
                let inner = &rest[1..];
                let close = inner.find('"').ok_or_else(|| QueryError {
                    position: at + 1,
                    message: "this quote is never closed".into(),
                })?;
                (&inner[..close], close + 2)
            } else {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (&rest[..end], end)
            };
            let terms: Vec<Term> = tokens(piece, &['*', '?'])
                .into_iter()
                .map(|(_, w)| {
                    let folded = fold(w);
                    if folded.contains(['*', '?']) {
                        Term::Pattern(folded.chars().collect())
                    } else {
                        Term::Word(folded)
                    }
                })
                .collect();
            if terms.is_empty() && first == '"' {
                return Err(QueryError {
                    position: at + 1,
                    message: "this phrase has no words".into(),
                });
            }
            if !terms.is_empty() {
                alternatives.push(terms);
            }
            at += rest[..len].chars().count();
            rest = &rest[len..];
        }
        if alternatives.is_empty() {
            return Err(QueryError {
                position: 1,
                message: "give a word or a \"phrase\" to search for".into(),
            });
        }
        Ok(Self { alternatives })
    }
}

/// `*` any run of characters (none included), `?` exactly one.
fn glob(pattern: &[char], word: &str) -> bool {
    let word: Vec<char> = word.chars().collect();
    let (mut p, mut w) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while w < word.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == word[w]) {
            p += 1;
            w += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, w));
            p += 1;
        } else if let Some((sp, sw)) = star {
            p = sp + 1;
            w = sw + 1;
            star = Some((sp, sw + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Which sources and speakers a search looks at.
#[derive(Clone, Debug, Default)]
pub struct SearchFilter {
    /// Only these sources (none: all).
    pub sources: Option<Vec<SourceId>>,
    /// Only words said by a speaker of this role.
    pub role: Option<Role>,
}

/// A search's hits: how many in all, in how many sources, and the first of them in context.
#[derive(Clone, Debug, Serialize)]
pub struct SearchResult {
    pub total: usize,
    pub sources: usize,
    pub hits: Vec<Excerpt>,
}

/// A hit: the source's position, the first and last word's positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Hit {
    source: u32,
    first: u32,
    last: u32,
}

impl Corpus {
    /// The text search index, built on first use.
    pub fn search_index(&self) -> &SearchIndex {
        self.search.get_or_init(|| SearchIndex::build(self))
    }

    fn hits(&self, query: &TextQuery, filter: &SearchFilter) -> Vec<Hit> {
        let index = self.search_index();
        let wanted: Option<HashSet<usize>> = filter.sources.as_ref().map(|ids| {
            ids.iter()
                .filter_map(|id| self.source_position(*id))
                .collect()
        });
        let mut hits = Vec::new();
        for phrase in &query.alternatives {
            // Per term: the word ids it matches.
            let sets: Vec<HashSet<u32>> = phrase
                .iter()
                .map(|term| match term {
                    Term::Word(w) => index.vocabulary.get(w).copied().into_iter().collect(),
                    Term::Pattern(p) => index
                        .vocabulary
                        .iter()
                        .filter(|(w, _)| glob(p, w))
                        .map(|(_, &id)| id)
                        .collect(),
                })
                .collect();
            for &first in &sets[0] {
                for &(s, t) in &index.postings[first as usize] {
                    if wanted.as_ref().is_some_and(|w| !w.contains(&(s as usize))) {
                        continue;
                    }
                    let ids = &index.ids[s as usize];
                    let fits = sets[1..].iter().enumerate().all(|(k, set)| {
                        ids.get(t as usize + k + 1)
                            .is_some_and(|id| set.contains(id))
                    });
                    if !fits {
                        continue;
                    }
                    if let Some(role) = filter.role {
                        let cp = index.spans[s as usize][t as usize].cps.0 as usize;
                        let said_by = self.sources[s as usize].speaker_at(cp).map(|sp| sp.role);
                        if said_by != Some(role) {
                            continue;
                        }
                    }
                    hits.push(Hit {
                        source: s,
                        first: t,
                        last: t + phrase.len() as u32 - 1,
                    });
                }
            }
        }
        hits.sort_unstable();
        hits.dedup();
        hits
    }

    fn hit_span(&self, hit: Hit) -> (Span, std::ops::Range<usize>) {
        let spans = &self.search_index().spans[hit.source as usize];
        let (a, b) = (spans[hit.first as usize], spans[hit.last as usize]);
        (
            Span {
                start: a.cps.0 as usize,
                end: b.cps.1 as usize,
            },
            a.bytes.0 as usize..b.bytes.1 as usize,
        )
    }

    /// Searches the study's text; all hits are counted, those at positions `shown` (in source
    /// and text order) come with `context` characters either side.
    pub fn search(
        &self,
        query: &TextQuery,
        filter: &SearchFilter,
        context: usize,
        shown: std::ops::Range<usize>,
    ) -> SearchResult {
        let hits = self.hits(query, filter);
        let sources = {
            let mut s: Vec<u32> = hits.iter().map(|h| h.source).collect();
            s.dedup();
            s.len()
        };
        let shown = hits
            .iter()
            .skip(shown.start)
            .take(shown.len())
            .map(|&h| {
                let (span, bytes) = self.hit_span(h);
                self.excerpt_at_bytes(h.source as usize, span, bytes, context, Vec::new())
            })
            .collect();
        SearchResult {
            total: hits.len(),
            sources,
            hits: shown,
        }
    }

    /// What coding every hit with `code` as `coder` would do: each hit, with that coder's
    /// codings of that code it overlaps (such a hit is left as it is).
    pub fn plan_code_all(
        &self,
        query: &TextQuery,
        filter: &SearchFilter,
        code: CodeId,
        coder: &str,
        context: usize,
    ) -> CodeAllPlan {
        let hits = self.hits(query, filter);
        let mut planned = Vec::with_capacity(hits.len());
        let mut sources = HashSet::new();
        for h in hits {
            let (span, bytes) = self.hit_span(h);
            let source = &self.sources[h.source as usize];
            let overlapping: Vec<CodingId> = self
                .codings_of(source.id)
                .iter()
                .take_while(|c| c.span.start < span.end)
                .filter(|c| c.code == code && c.coder == coder && c.span.overlaps(&span))
                .map(|c| c.id)
                .collect();
            sources.insert(h.source);
            planned.push(PlannedHit {
                already_coded: !overlapping.is_empty(),
                excerpt: self.excerpt_at_bytes(
                    h.source as usize,
                    span,
                    bytes,
                    context,
                    overlapping,
                ),
            });
        }
        let already = planned.iter().filter(|p| p.already_coded).count();
        CodeAllPlan {
            code,
            code_path: self.code_path(code).to_string(),
            coder: coder.to_string(),
            sources: sources.len(),
            to_code: planned.len() - already,
            already_coded: already,
            hits: planned,
        }
    }
}

/// What "code all hits" would do; the new codings are those of the hits not already coded.
#[derive(Clone, Debug, Serialize)]
pub struct CodeAllPlan {
    pub code: CodeId,
    pub code_path: String,
    pub coder: String,
    pub sources: usize,
    pub to_code: usize,
    pub already_coded: usize,
    pub hits: Vec<PlannedHit>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlannedHit {
    /// The hit; its `codings` are the coder's codings of the code that it overlaps.
    pub excerpt: Excerpt,
    pub already_coded: bool,
}

impl CodeAllPlan {
    /// The (source, span) of each coding to make.
    pub fn new_codings(&self) -> Vec<(SourceId, Span)> {
        self.hits
            .iter()
            .filter(|h| !h.already_coded)
            .map(|h| (h.excerpt.source, h.excerpt.span))
            .collect()
    }

    /// The new codings as one batch for `Workbench::apply_codings` (all in one change).
    pub fn batch(&self, corpus: &Corpus) -> Vec<between_study::NewCoding> {
        self.new_codings()
            .into_iter()
            .filter_map(|(source, span)| {
                Some(between_study::NewCoding {
                    source: corpus.source(source)?.name.clone(),
                    code: self.code.to_string(),
                    target: between_study::CodingTarget::Offsets {
                        start: span.start,
                        end: span.end,
                    },
                    coder: Some(self.coder.clone()),
                    memo: None,
                    contrast: false,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query_fixtures::{corpus_of, corpus_with};
    use crate::test_support::sample;

    fn texts(r: &SearchResult) -> Vec<&str> {
        r.hits.iter().map(|h| h.text.as_str()).collect()
    }

    #[test]
    fn folds_case_accents_and_apostrophes() {
        assert_eq!(fold("José’s CAFÉ"), "jose's cafe");
        assert_eq!(fold("ﬁne"), "fine", "compatibility decomposition");
        assert!(glob(&['t', 'r', '*'], "trust") && glob(&['t', '?', 'u', '*'], "trust"));
        assert!(!glob(&['t', '?', 's', 't'], "trust") && glob(&['*'], ""));
    }

    #[test]
    fn finds_words_phrases_and_wildcards_in_context() {
        let corpus = corpus_of(&[
            "DR A: I trust José. Trusting takes time.\n\nPAT B: I don't trust easily; jose knows it.",
        ]);
        let all = SearchFilter::default();
        let q = |s| TextQuery::parse(s).expect("query");
        let r = corpus.search(&q("trust"), &all, 10, 0..100);
        assert_eq!(texts(&r), ["trust", "trust"], "whole words only");
        let r = corpus.search(&q("trust*"), &all, 10, 0..100);
        assert_eq!(texts(&r), ["trust", "Trusting", "trust"]);
        let r = corpus.search(&q("JOSE"), &all, 10, 0..100);
        assert_eq!(texts(&r), ["José", "jose"], "case and accents folded");
        let r = corpus.search(&q("\"don’t trust\""), &all, 10, 0..100);
        assert_eq!(texts(&r), ["don't trust"]);
        assert_eq!(r.hits[0].before, "PAT B: I ", "whole words of context");
        assert_eq!(r.hits[0].after, " easily;", "the cut 'jose' is left out");
        let r = corpus.search(&q("t?ust time"), &all, 0, 0..100);
        assert_eq!(
            texts(&r),
            ["trust", "time", "trust"],
            "alternatives, in text order"
        );
        assert_eq!(r.total, 3);
        let r = corpus.search(&q("trust"), &all, 0, 0..1);
        assert_eq!(
            (r.total, r.hits.len()),
            (2, 1),
            "all counted, the first shown"
        );
        // Spans are code points: "José" has a 2-byte é before the second sentence.
        let text = &corpus.sources[0].text;
        for h in &corpus.search(&q("trust* jose"), &all, 0, 0..100).hits {
            assert_eq!(
                between_core::text::slice(text, h.span),
                Some(h.text.as_str())
            );
        }
    }

    #[test]
    fn filters_by_speaker_role_and_reports_bad_queries() {
        let corpus = sample();
        let q = TextQuery::parse("trust*").expect("query");
        let patients = SearchFilter {
            role: Some(Role::Patient),
            ..Default::default()
        };
        let everyone = corpus.search(&q, &SearchFilter::default(), 20, 0..usize::MAX);
        let theirs = corpus.search(&q, &patients, 20, 0..usize::MAX);
        assert!(theirs.total > 0 && theirs.total < everyone.total);
        assert!(theirs.hits.iter().all(|h| h.role == Some(Role::Patient)));
        let err = TextQuery::parse("care \"open").expect_err("unclosed");
        assert_eq!(err.position, 6);
        assert!(TextQuery::parse("  ").is_err());
    }

    #[test]
    fn plans_coding_every_hit_leaving_coded_ones() {
        let corpus = corpus_with(
            &["A: hope and hope\n\nB: more hope"],
            &[(0, "Hope", 3, 7, "ann", false)],
        );
        let code = corpus.resolve_code("Hope").expect("code").id;
        let q = TextQuery::parse("hope").expect("query");
        let plan = corpus.plan_code_all(&q, &SearchFilter::default(), code, "ann", 5);
        assert_eq!(
            (plan.to_code, plan.already_coded),
            (2, 1),
            "ann coded the first"
        );
        assert!(plan.hits[0].already_coded);
        let spans: Vec<Span> = plan.new_codings().into_iter().map(|(_, s)| s).collect();
        assert_eq!(
            spans,
            [Span { start: 12, end: 16 }, Span { start: 26, end: 30 }]
        );
        let batch = plan.batch(&corpus);
        assert_eq!(batch.len(), 2);
        assert!(
            batch
                .iter()
                .all(|n| n.source == "s1" && n.coder.as_deref() == Some("ann") && !n.contrast)
        );
        let other = corpus.plan_code_all(&q, &SearchFilter::default(), code, "bob", 5);
        assert_eq!(other.to_code, 3, "another coder's codings do not count");
    }
}
