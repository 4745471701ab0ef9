//! De-identification: a table of identifying terms and their pseudonyms ("Dr Ruiz" →
//! "[Clinician A]"), suggested candidates, a preview of every replacement, and one atomic change
//! that rewrites the text of every affected source and moves every coding, turn and memo passage
//! with it, so no coding slips off its words. The mapping is stored apart (the only place the
//! original terms live) and can be exported or destroyed.
//!
//! Offsets are code points, end exclusive. Terms match whole words, case-sensitively unless
//! asked otherwise, the longest term first at each position. A position before a replacement
//! stays; one after it shifts by the difference in length; a boundary strictly inside a
//! replaced term snaps to the pseudonym's start (a start) or end (an end), so a coding of the
//! name codes the pseudonym.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use between_core::text::CharIndex;
use between_core::*;
use between_store::{CodingFilter, DeidentificationCounts, PseudonymEntry, Reader, StoreError};

use crate::{StudyError, StudyResult, Workbench, now};

/// Characters of context either side of a previewed replacement.
const CONTEXT: usize = 40;

/// Titles that start a name but are not one ("Dr" in "Dr Amara Osei").
const TITLES: &[&str] = &[
    "Dr", "Dr.", "Mr", "Mr.", "Mrs", "Mrs.", "Ms", "Ms.", "Miss", "Mx", "Prof", "Prof.", "NP",
    "Nurse", "Sr", "Fr",
];

/// One row of the mapping: every whole-word occurrence of `term` becomes `pseudonym`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pseudonym {
    pub term: String,
    pub pseudonym: String,
}

impl std::str::FromStr for Pseudonym {
    type Err = StudyError;
    /// `TERM=PSEUDONYM` (the last `=` splits, so a term may not contain one).
    fn from_str(s: &str) -> StudyResult<Self> {
        let (term, pseudonym) = s.split_once('=').ok_or_else(|| {
            StudyError::Invalid(format!(
                "'{s}' is not TERM=PSEUDONYM (e.g. \"Dr Ruiz=[Clinician A]\")"
            ))
        })?;
        Ok(Pseudonym {
            term: term.trim().to_string(),
            pseudonym: pseudonym.trim().to_string(),
        })
    }
}

/// How terms match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct MatchOptions {
    /// "Dr Ruiz" also matches "DR RUIZ" (a speaker label, say).
    #[serde(default)]
    pub case_insensitive: bool,
}

/// Where a candidate comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CandidateKind {
    /// Capitalised words inside a sentence.
    Text,
    ParticipantName,
    ParticipantLabel,
    SpeakerLabel,
}

/// A term that may identify someone, with how often it occurs (as a mapping would match it).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Candidate {
    pub term: String,
    /// Whole-word, case-sensitive occurrences in every source's text.
    pub count: usize,
    pub kinds: Vec<CandidateKind>,
    /// Sources it occurs in, with counts, by name.
    pub sources: Vec<(String, usize)>,
}

/// One replacement in a source's text, with its context.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Replacement {
    pub source: SourceId,
    pub source_name: String,
    /// In the text as it is now.
    pub span: Span,
    pub old: String,
    pub new: String,
    pub before: String,
    pub after: String,
}

/// A speaker label that a term rewrites.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LabelChange {
    pub source_name: String,
    pub old: String,
    pub new: String,
}

/// How often one term of the mapping matched.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TermCount {
    pub term: String,
    pub pseudonym: String,
    pub count: usize,
}

/// A source the mapping changes, at the version seen (pass it back to apply).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AffectedSource {
    pub id: SourceId,
    pub name: String,
    pub version: i64,
    pub replacements: usize,
}

/// Everything a mapping would change, changing nothing.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Preview {
    pub replacements: Vec<Replacement>,
    pub labels: Vec<LabelChange>,
    pub terms: Vec<TermCount>,
    pub sources: Vec<AffectedSource>,
    /// Memos (title or text), coding memos and case narratives that contain a term.
    pub notes: usize,
}

/// What an apply changed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Applied {
    /// The run's number in the study.
    pub run: i64,
    /// The sources rewritten, each at its new version.
    pub sources: Vec<AffectedSource>,
    pub replacements: usize,
    pub labels: usize,
    /// Codings whose offsets moved.
    pub codings: usize,
    /// Memo passages that moved.
    pub passages: usize,
    /// Attributed passages that moved.
    pub attributions: usize,
    /// Memos, coding memos and case narratives whose words were replaced.
    pub notes: usize,
    pub terms: Vec<TermCount>,
    /// Set when the change was saved but the file could not be rebuilt afterwards: why, and
    /// what to do (its free pages may still hold the original words).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vacuum_failed: Option<String>,
}

/// What destroying the stored mapping did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Destroyed {
    /// How many original terms were deleted.
    pub terms: usize,
    /// As in [`Applied::vacuum_failed`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vacuum_failed: Option<String>,
}

// ---- matching ------------------------------------------------------------------------------

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A character as compared: itself, or its lower case when that is one character (so offsets
/// stay the same whatever the case).
fn fold(c: char, insensitive: bool) -> char {
    if !insensitive {
        return c;
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// A found term: where, and which row of the mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Found {
    span: Span,
    row: usize,
}

/// Finds a mapping's terms in texts: whole words, leftmost, longest term first.
struct Matcher {
    /// Folded terms with their mapping row, longest first.
    terms: Vec<(Vec<char>, usize)>,
    /// Indexes into `terms` by folded first character.
    by_first: HashMap<char, Vec<usize>>,
    insensitive: bool,
}

impl Matcher {
    fn new(mapping: &[Pseudonym], options: MatchOptions) -> Self {
        let insensitive = options.case_insensitive;
        let mut terms: Vec<(Vec<char>, usize)> = mapping
            .iter()
            .enumerate()
            .map(|(row, p)| (p.term.chars().map(|c| fold(c, insensitive)).collect(), row))
            .collect();
        terms.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        let mut by_first: HashMap<char, Vec<usize>> = HashMap::new();
        for (i, (t, _)) in terms.iter().enumerate() {
            if let Some(&c) = t.first() {
                by_first.entry(c).or_default().push(i);
            }
        }
        Self {
            terms,
            by_first,
            insensitive,
        }
    }

    fn find(&self, text: &[char]) -> Vec<Found> {
        let folded: std::borrow::Cow<[char]> = if self.insensitive {
            text.iter().map(|&c| fold(c, true)).collect()
        } else {
            text.into()
        };
        let mut out = Vec::new();
        let mut i = 0;
        while i < folded.len() {
            let hit = self.by_first.get(&folded[i]).and_then(|candidates| {
                candidates
                    .iter()
                    .map(|&t| &self.terms[t])
                    .find(|(term, _)| whole_word_at(&folded, i, term))
            });
            match hit {
                Some((term, row)) => {
                    out.push(Found {
                        span: Span {
                            start: i,
                            end: i + term.len(),
                        },
                        row: *row,
                    });
                    i += term.len();
                }
                None => i += 1,
            }
        }
        out
    }

    fn find_str(&self, text: &str) -> Vec<Found> {
        self.find(&text.chars().collect::<Vec<_>>())
    }
}

/// `term` occurs at `i` of `text` as whole words: no word character runs on into it.
fn whole_word_at(text: &[char], i: usize, term: &[char]) -> bool {
    let end = i + term.len();
    end <= text.len()
        && text[i..end] == *term
        && stands_alone(
            term.first().copied(),
            term.last().copied(),
            i.checked_sub(1).map(|b| text[b]),
            text.get(end).copied(),
        )
}

/// Whether a term with these first and last characters, found between `before` and `after`,
/// is whole words (a term's edge that is not a word character may touch anything).
fn stands_alone(
    first: Option<char>,
    last: Option<char>,
    before: Option<char>,
    after: Option<char>,
) -> bool {
    let glued = |edge: Option<char>, next: Option<char>| {
        edge.is_some_and(is_word) && next.is_some_and(is_word)
    };
    !(glued(first, before) || glued(last, after))
}

/// One replacement as done: the old span and the pseudonym's span in the new text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Edit {
    old: Span,
    new: Span,
}

/// The text with every found term replaced, and where each replacement went.
fn rewrite(text: &[char], found: &[Found], mapping: &[Pseudonym]) -> (String, Vec<Edit>) {
    let mut out = String::with_capacity(text.len());
    let mut edits = Vec::with_capacity(found.len());
    let (mut at, mut written) = (0, 0);
    for f in found {
        out.extend(&text[at..f.span.start]);
        written += f.span.start - at;
        let pseudonym = &mapping[f.row].pseudonym;
        let len = pseudonym.chars().count();
        out.push_str(pseudonym);
        edits.push(Edit {
            old: f.span,
            new: Span {
                start: written,
                end: written + len,
            },
        });
        written += len;
        at = f.span.end;
    }
    out.extend(&text[at..]);
    (out, edits)
}

/// Old positions → new positions, given a text's edits in order.
struct Remap<'a> {
    edits: &'a [Edit],
}

impl Remap<'_> {
    /// Where position `p` goes; `start` says whether it starts a span (else it ends one).
    fn position(&self, p: usize, start: bool) -> usize {
        let before = self.edits.partition_point(|e| e.old.start < p);
        let Some(e) = before.checked_sub(1).map(|i| self.edits[i]) else {
            return p;
        };
        if p < e.old.end {
            // Strictly inside a replaced term.
            if start { e.new.start } else { e.new.end }
        } else {
            p - e.old.end + e.new.end
        }
    }

    fn span(&self, s: Span) -> Span {
        Span {
            start: self.position(s.start, true),
            end: self.position(s.end, false),
        }
    }
}

/// The mapping as given, checked: terms and pseudonyms not empty, no term twice, and no
/// pseudonym that contains a term (it would be replaced again by a later run, or chain).
pub fn check_mapping(mapping: &[Pseudonym], options: MatchOptions) -> StudyResult<()> {
    if mapping.is_empty() {
        return Err(StudyError::Invalid(
            "the mapping is empty: give at least one TERM=PSEUDONYM".into(),
        ));
    }
    let mut seen: BTreeMap<Vec<char>, &str> = BTreeMap::new();
    for (i, p) in mapping.iter().enumerate() {
        let row = i + 1;
        if p.term.trim().is_empty() {
            return Err(StudyError::Invalid(format!(
                "row {row} of the mapping has an empty term"
            )));
        }
        if p.term.trim() != p.term {
            return Err(StudyError::Invalid(format!(
                "the term '{}' (row {row}) starts or ends with spaces",
                p.term
            )));
        }
        if p.pseudonym.trim().is_empty() {
            return Err(StudyError::Invalid(format!(
                "the term '{}' (row {row}) has an empty pseudonym; a coding of it would vanish",
                p.term
            )));
        }
        let key: Vec<char> = p
            .term
            .chars()
            .map(|c| fold(c, options.case_insensitive))
            .collect();
        if let Some(first) = seen.insert(key, &p.term) {
            return Err(StudyError::Invalid(format!(
                "the term '{}' is mapped twice (again as '{}', row {row}); give each term one pseudonym",
                first, p.term
            )));
        }
    }
    let matcher = Matcher::new(mapping, options);
    for p in mapping {
        if let Some(f) = matcher.find_str(&p.pseudonym).first() {
            return Err(StudyError::Invalid(format!(
                "the pseudonym '{}' (for '{}') contains the term '{}', which the mapping replaces too; choose a pseudonym without it",
                p.pseudonym, p.term, mapping[f.row].term
            )));
        }
    }
    Ok(())
}

/// A source's new text, turns and speakers under a mapping, and how positions move.
struct Plan {
    source: Source,
    edits: Vec<Edit>,
    found: Vec<Found>,
    labels: Vec<LabelChange>,
    /// Rows of the mapping that matched a speaker label.
    label_rows: BTreeSet<usize>,
}

/// `text` rewritten, when a term occurs in it; the rows of the mapping that matched go to `rows`.
fn replace_in(
    matcher: &Matcher,
    mapping: &[Pseudonym],
    text: &str,
    rows: &mut BTreeSet<usize>,
) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let found = matcher.find(&chars);
    rows.extend(found.iter().map(|f| f.row));
    (!found.is_empty()).then(|| rewrite(&chars, &found, mapping).0)
}

/// What the mapping does to one source; `None` when it changes nothing there.
fn plan(source: &Source, matcher: &Matcher, mapping: &[Pseudonym]) -> StudyResult<Option<Plan>> {
    let chars: Vec<char> = source.text.chars().collect();
    let found = matcher.find(&chars);
    let mut renamed: BTreeMap<String, String> = BTreeMap::new();
    let mut label_rows = BTreeSet::new();
    for label in source
        .speakers
        .iter()
        .map(|s| &s.label)
        .chain(source.turns.iter().filter_map(|t| t.speaker.as_ref()))
    {
        if let Some(new) = replace_in(matcher, mapping, label, &mut label_rows) {
            renamed.insert(label.clone(), new);
        }
    }
    if found.is_empty() && renamed.is_empty() {
        return Ok(None);
    }
    let (text, edits) = rewrite(&chars, &found, mapping);
    let remap = Remap { edits: &edits };
    let label = |l: &String| renamed.get(l).cloned().unwrap_or_else(|| l.clone());
    let mut speakers: Vec<Speaker> = Vec::with_capacity(source.speakers.len());
    for s in &source.speakers {
        let new = Speaker {
            label: label(&s.label),
            ..s.clone()
        };
        match speakers.iter().find(|x| x.label == new.label) {
            Some(same) if same.role == new.role && same.participant == new.participant => {}
            Some(_) => {
                return Err(StudyError::Invalid(format!(
                    "in '{}', two different speakers would both be labelled '{}'; map their names to different pseudonyms",
                    source.name, new.label
                )));
            }
            None => speakers.push(new),
        }
    }
    let turns = source
        .turns
        .iter()
        .map(|t| Turn {
            span: remap.span(t.span),
            speaker: t.speaker.as_ref().map(label),
            ..t.clone()
        })
        .collect();
    // A transcriber's mark moves with its words like a coding.
    let markers = source
        .markers
        .iter()
        .map(|m| Marker {
            span: remap.span(m.span),
            kind: m.kind,
        })
        .collect();
    let labels = renamed
        .into_iter()
        .map(|(old, new)| LabelChange {
            source_name: source.name.clone(),
            old,
            new,
        })
        .collect();
    Ok(Some(Plan {
        source: Source {
            text,
            turns,
            speakers,
            markers,
            ..source.clone()
        },
        edits,
        found,
        labels,
        label_rows,
    }))
}

fn term_counts(mapping: &[Pseudonym], plans: &[Plan]) -> Vec<TermCount> {
    let mut counts = vec![0; mapping.len()];
    for f in plans.iter().flat_map(|p| &p.found) {
        counts[f.row] += 1;
    }
    mapping
        .iter()
        .zip(counts)
        .map(|(p, count)| TermCount {
            term: p.term.clone(),
            pseudonym: p.pseudonym.clone(),
            count,
        })
        .collect()
}

fn no_match(plans: &[Plan]) -> StudyResult<()> {
    if plans.is_empty() {
        return Err(StudyError::Invalid(
            "none of the mapping's terms occurs in any source (terms match whole words and, unless asked otherwise, case)".into(),
        ));
    }
    Ok(())
}

fn affected(plans: &[Plan], version_after: i64) -> Vec<AffectedSource> {
    plans
        .iter()
        .map(|p| AffectedSource {
            id: p.source.id,
            name: p.source.name.clone(),
            version: p.source.version + version_after,
            replacements: p.found.len(),
        })
        .collect()
}

// ---- candidates ----------------------------------------------------------------------------

/// Runs of capitalised words inside sentences of `text` (within `spans`): each run of words
/// joined by single spaces is one candidate, less its first word when that starts a sentence.
fn capitalised_runs(text: &str, spans: &[Span]) -> BTreeSet<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = BTreeSet::new();
    for span in spans {
        let end = span.end.min(chars.len());
        let mut i = span.start.min(end);
        let mut sentence_start = true;
        // The run being built: its words and whether its first word starts a sentence.
        let mut run: Vec<String> = Vec::new();
        let mut run_initial = false;
        let flush = |run: &mut Vec<String>, initial: bool, out: &mut BTreeSet<String>| {
            let keep_first = run.len() > 1 && TITLES.contains(&run[0].as_str());
            let words = if initial && !keep_first {
                &run[1.min(run.len())..]
            } else {
                &run[..]
            };
            let words: Vec<&str> = words
                .iter()
                .map(String::as_str)
                .skip_while(|w| words_skipped(w))
                .collect();
            let only_a_title = words.len() == 1 && TITLES.contains(&words[0]);
            if !(words.is_empty() || only_a_title) {
                out.insert(words.join(" "));
            }
            run.clear();
        };
        while i < end {
            let c = chars[i];
            if is_word(c) {
                let from = i;
                while i < end && (is_word(chars[i]) || joins_word(&chars, i, end)) {
                    i += 1;
                }
                let word: String = chars[from..i].iter().collect();
                let title_dot = i < end && chars[i] == '.' && TITLES.contains(&word.as_str());
                if c.is_uppercase() {
                    if run.is_empty() {
                        run_initial = sentence_start;
                    }
                    run.push(if title_dot { format!("{word}.") } else { word });
                    // A run goes on across one space (or "Dr. ").
                    let next = if title_dot { i + 1 } else { i };
                    let continues =
                        next + 1 < end && chars[next] == ' ' && chars[next + 1].is_uppercase();
                    if continues {
                        i = next + 1;
                        sentence_start = false;
                        continue;
                    }
                }
                flush(&mut run, run_initial, &mut out);
                sentence_start = false;
                if title_dot {
                    i += 1;
                }
                continue;
            }
            if matches!(c, '.' | '!' | '?' | ':' | '\n' | '…') {
                sentence_start = true;
            }
            i += 1;
        }
        flush(&mut run, run_initial, &mut out);
    }
    out
}

/// A run without its leading common words ("And Dr Ruiz" → "Dr Ruiz"), or `None` when nothing
/// but common words, "I" or a lone title is left.
fn without_common_words(run: &str, common: &HashSet<String>) -> Option<String> {
    // "That’s" is as common as "that".
    let stem = |w: &str| {
        w.split(|c: char| !is_word(c))
            .next()
            .unwrap_or(w)
            .to_lowercase()
    };
    let words: Vec<&str> = run
        .split(' ')
        .skip_while(|w| words_skipped(w) || common.contains(&stem(w)))
        .collect();
    let only_a_title = words.len() == 1 && TITLES.contains(&words[0]);
    let a_letter = words.len() == 1 && words[0].chars().count() == 1;
    (!words.is_empty() && !only_a_title && !a_letter).then(|| words.join(" "))
}

/// An apostrophe or hyphen inside a word ("O'Brien", "Jean-Luc", "don’t").
fn joins_word(chars: &[char], i: usize, end: usize) -> bool {
    matches!(chars[i], '\'' | '’' | '-')
        && i > 0
        && is_word(chars[i - 1])
        && i + 1 < end
        && is_word(chars[i + 1])
}

/// Capitalised words that say nothing about anyone: "I", "I'm", and the like.
fn words_skipped(word: &str) -> bool {
    word == "I" || word.starts_with("I'") || word.starts_with("I’") || word == "OK"
}

/// Whole-word, case-sensitive occurrences of `term` in `text`, as a mapping of it alone would
/// match them (found by substring search, then checked at the edges).
fn count_whole_words(text: &str, term: &str) -> usize {
    let (first, last) = (term.chars().next(), term.chars().next_back());
    let mut count = 0;
    let mut from = 0;
    while let Some(at) = text[from..].find(term).map(|b| b + from) {
        let end = at + term.len();
        let (before, after) = (text[..at].chars().next_back(), text[end..].chars().next());
        if stands_alone(first, last, before, after) {
            count += 1;
            from = end;
        } else {
            from = at + text[at..].chars().next().map_or(1, char::len_utf8);
        }
    }
    count
}

/// A speaker label that names a role, not a person (`INTERVIEWER`, `Patient 2`).
fn is_role_label(label: &str) -> bool {
    let words: String = label
        .trim_end_matches(|c: char| c.is_ascii_digit() || c.is_whitespace())
        .to_string();
    words.parse::<Role>().is_ok()
}

/// The parts of a name worth a candidate of their own: all but titles and initials.
fn name_parts(name: &str) -> impl Iterator<Item = &str> {
    name.split_whitespace()
        .filter(|w| !TITLES.contains(w) && w.chars().filter(|c| is_word(*c)).count() > 1)
}

impl Workbench {
    /// Terms that may identify someone: capitalised words and phrases inside sentences,
    /// participants' names (and their parts) and labels, and speaker labels that are not roles;
    /// each with its whole-word occurrences per source, most frequent first.
    pub fn deidentify_candidates(&self) -> StudyResult<Vec<Candidate>> {
        self.must_deidentify()?;
        let mut kinds: BTreeMap<String, BTreeSet<CandidateKind>> = BTreeMap::new();
        let mut add = |term: &str, kind| {
            let term = term.trim();
            if !term.is_empty() {
                kinds.entry(term.to_string()).or_default().insert(kind);
            }
        };
        for p in self.store.participants()? {
            add(&p.label, CandidateKind::ParticipantLabel);
            if let Some(name) = &p.name {
                add(name, CandidateKind::ParticipantName);
                for part in name_parts(name) {
                    add(part, CandidateKind::ParticipantName);
                }
            }
        }
        let sources: Vec<std::sync::Arc<Source>> = self
            .store
            .source_infos()?
            .into_iter()
            .map(|s| self.cached_source(s.id))
            .collect::<StudyResult<_>>()?;
        // Words the study also writes in lower case are common words ("And", "She"), not names.
        let common: HashSet<String> = sources
            .iter()
            .flat_map(|s| s.text.split(|c: char| !is_word(c)))
            .filter(|w| w.chars().next().is_some_and(char::is_lowercase))
            .map(str::to_string)
            .collect();
        for s in &sources {
            let spans: Vec<Span> = if s.turns.is_empty() {
                vec![Span {
                    start: 0,
                    end: text::char_len(&s.text),
                }]
            } else {
                s.turns.iter().map(|t| t.span).collect()
            };
            for run in capitalised_runs(&s.text, &spans) {
                if let Some(run) = without_common_words(&run, &common) {
                    add(&run, CandidateKind::Text);
                }
            }
            for sp in s.speakers.iter().filter(|sp| !is_role_label(&sp.label)) {
                add(&sp.label, CandidateKind::SpeakerLabel);
            }
        }
        // Every candidate counted as if it alone were mapped.
        let mut out: Vec<Candidate> = kinds
            .into_iter()
            .map(|(term, kinds)| {
                let sources: Vec<(String, usize)> = sources
                    .iter()
                    .map(|s| (s.name.clone(), count_whole_words(&s.text, &term)))
                    .filter(|(_, n)| *n > 0)
                    .collect();
                Candidate {
                    count: sources.iter().map(|(_, n)| n).sum(),
                    kinds: kinds.into_iter().collect(),
                    sources,
                    term,
                }
            })
            .filter(|c| c.count > 0 || !c.kinds.contains(&CandidateKind::Text))
            .collect();
        out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.term.cmp(&b.term)));
        Ok(out)
    }

    /// Every replacement the mapping would make, with context, and the totals; changes nothing.
    pub fn deidentify_preview(
        &self,
        mapping: &[Pseudonym],
        options: MatchOptions,
    ) -> StudyResult<Preview> {
        self.must_deidentify()?;
        check_mapping(mapping, options)?;
        let matcher = Matcher::new(mapping, options);
        let mut plans = Vec::new();
        for info in self.store.source_infos()? {
            let source = self.store.source(info.id)?;
            if let Some(p) = plan(&source, &matcher, mapping)? {
                plans.push((source, p));
            }
        }
        let (notes, _) = notes_in(&*self.store, &matcher, mapping)?;
        let notes = notes.len();
        let (sources, plans): (Vec<Source>, Vec<Plan>) = plans.into_iter().unzip();
        if notes == 0 {
            no_match(&plans)?;
        }
        let mut replacements = Vec::new();
        for (source, p) in sources.iter().zip(&plans) {
            let index = CharIndex::new(&source.text);
            let piece = |s: Span| index.slice(s).unwrap_or_default().to_string();
            for f in &p.found {
                replacements.push(Replacement {
                    source: source.id,
                    source_name: source.name.clone(),
                    span: f.span,
                    old: piece(f.span),
                    new: mapping[f.row].pseudonym.clone(),
                    before: piece(Span {
                        start: f.span.start.saturating_sub(CONTEXT),
                        end: f.span.start,
                    }),
                    after: piece(Span {
                        start: f.span.end,
                        end: (f.span.end + CONTEXT).min(index.len()),
                    }),
                });
            }
        }
        Ok(Preview {
            replacements,
            labels: plans.iter().flat_map(|p| p.labels.clone()).collect(),
            terms: term_counts(mapping, &plans),
            sources: affected(&plans, 0),
            notes,
        })
    }

    /// Applies the mapping in one change: every affected source's text, turns and speaker
    /// labels rewritten (its version goes up), every coding, memo passage and attributed passage
    /// on it moved with its words, memos, coding memos and case narratives rewritten, and the
    /// mapping stored apart. With `expected` (source → version, as a preview gave them), refused as a conflict
    /// when an affected source is not at the version expected. The audit log records the
    /// sources and counts, never the terms. Then the file is rebuilt so that no free page keeps
    /// the old texts ([`Applied::vacuum_failed`] says when that failed).
    pub fn deidentify(
        &mut self,
        mapping: &[Pseudonym],
        options: MatchOptions,
        expected: Option<&BTreeMap<SourceId, i64>>,
    ) -> StudyResult<Applied> {
        self.must_deidentify()?;
        check_mapping(mapping, options)?;
        let matcher = Matcher::new(mapping, options);
        let stamp = now();
        let mut tx = self.store.transaction(&self.actor.name)?;
        // Everything is read inside the change, so nothing written meanwhile is missed.
        let mut plans = Vec::new();
        for info in tx.source_infos()? {
            let source = tx.source(info.id)?;
            if let Some(p) = plan(&source, &matcher, mapping)? {
                plans.push(p);
            }
        }
        let (notes, mut matched) = notes_in(&*tx, &matcher, mapping)?;
        if notes.is_empty() {
            no_match(&plans)?;
        }
        if let Some(expected) = expected {
            for p in &plans {
                let seen = expected.get(&p.source.id).copied();
                if seen != Some(p.source.version) {
                    return Err(StoreError::Conflict {
                        entity: "source",
                        id: p.source.id.to_string(),
                        expected: seen.unwrap_or(0),
                        current: Some(p.source.version),
                    }
                    .into());
                }
            }
        }
        let run = tx.begin_deidentification()?;
        let mut counts = DeidentificationCounts::default();
        let mut passages = 0;
        let mut moved_memos: BTreeSet<MemoId> = BTreeSet::new();
        let mut coding_notes: HashMap<CodingId, String> = notes
            .iter()
            .filter_map(|n| match n {
                Note::Coding(c) => Some((c.id, c.memo.clone().unwrap_or_default())),
                _ => None,
            })
            .collect();
        for p in &plans {
            let id = p.source.id;
            // The text (and its length) first, so the codings' new spans fit it.
            tx.rewrite_source(&p.source)?;
            let remap = Remap { edits: &p.edits };
            let mut moved = Vec::new();
            for c in tx.codings(&CodingFilter {
                source: Some(id),
                ..Default::default()
            })? {
                let span = remap.span(c.span);
                if let Some(memo) = coding_notes.remove(&c.id) {
                    tx.update_coding(&Coding {
                        span,
                        memo: Some(memo),
                        updated_at: stamp.clone(),
                        ..c.clone()
                    })?;
                    counts.codings += usize::from(span != c.span);
                } else if span != c.span {
                    moved.push((c.id, span));
                }
            }
            if !moved.is_empty() {
                counts.codings += tx.remap_codings(&moved)?;
            }
            let spans: Vec<(MemoId, Span)> = tx
                .memos(Some(MemoTarget::Source(id)))?
                .into_iter()
                .filter_map(|m| {
                    let old = m.passage?;
                    let new = remap.span(old);
                    (new != old).then_some((m.id, new))
                })
                .collect();
            if !spans.is_empty() {
                passages += tx.remap_memo_passages(&spans)?;
            }
            moved_memos.extend(spans.iter().map(|(id, _)| *id));
            counts.attributions += move_attributions(&mut *tx, id, &remap)?;
            counts.sources.push(id);
            counts.replacements += p.found.len();
        }
        for n in &notes {
            match n {
                Note::Memo(m) => tx.update_memo(&Memo {
                    updated_at: stamp.clone(),
                    // Its passage moved above, which counted as a change.
                    version: m.version + i64::from(moved_memos.contains(&m.id)),
                    ..m.clone()
                })?,
                Note::Coding(c) if coding_notes.contains_key(&c.id) => {
                    // A coding memo on a source the mapping did not touch.
                    tx.update_coding(&Coding {
                        updated_at: stamp.clone(),
                        ..c.clone()
                    })?;
                }
                Note::Coding(_) => {}
                Note::Case(c) => tx.upsert_case(&Case {
                    updated_at: stamp.clone(),
                    ..c.clone()
                })?,
            }
        }
        counts.memos = passages + notes.len();
        let terms = term_counts(mapping, &plans);
        // Every term that matched anywhere (a text, a label, a memo) is kept; one that matched
        // nothing was never in the study and is not stored.
        for p in &plans {
            matched.extend(p.found.iter().map(|f| f.row));
            matched.extend(p.label_rows.iter().copied());
        }
        let stored: Vec<(String, String, usize)> = terms
            .iter()
            .enumerate()
            .filter(|(row, _)| matched.contains(row))
            .map(|(_, t)| (t.term.clone(), t.pseudonym.clone(), t.count))
            .collect();
        tx.insert_pseudonyms(run, &stored)?;
        tx.finish_deidentification(run, &counts)?;
        tx.commit()?;
        // The cached texts are now the old ones: the cache sees the run's number and forgets them.
        Ok(Applied {
            run,
            sources: affected(&plans, 1),
            replacements: counts.replacements,
            labels: plans.iter().map(|p| p.labels.len()).sum(),
            codings: counts.codings,
            passages,
            attributions: counts.attributions,
            notes: notes.len(),
            terms,
            vacuum_failed: self.vacuum_after("the de-identification"),
        })
    }

    /// The stored mapping (original terms): for the owner's export only.
    pub fn pseudonyms(&self) -> StudyResult<Vec<PseudonymEntry>> {
        self.must_deidentify()?;
        Ok(self.store.pseudonyms()?)
    }

    /// Deletes every stored original term, irreversibly, then rebuilds the file so that no
    /// free page keeps them.
    pub fn destroy_pseudonyms(&mut self) -> StudyResult<Destroyed> {
        self.must_deidentify()?;
        let mut tx = self.store.transaction(&self.actor.name)?;
        let terms = tx.delete_pseudonyms()?;
        tx.commit()?;
        Ok(Destroyed {
            terms,
            vacuum_failed: self.vacuum_after("destroying the mapping"),
        })
    }

    /// Rebuilds the study file so deleted bytes (old texts, destroyed terms) are gone from it.
    pub fn vacuum(&mut self) -> StudyResult<()> {
        Ok(self.store.vacuum()?)
    }

    /// Rebuilds the file after `change`, which has committed whatever happens here: a failure
    /// is no error of the change but what to tell whoever made it.
    fn vacuum_after(&mut self, change: &str) -> Option<String> {
        let failed = self.vacuum().err()?;
        let file = self
            .store
            .location()
            .map_or_else(|| "STUDY".to_string(), |p| p.display().to_string());
        Some(format!(
            "{change} was applied and saved, but the study file could not be rebuilt afterwards, so its free pages may still hold the original words ({failed}). Free some disk space, or wait until nobody else is reading the study, then run `between deidentify {file} --vacuum`"
        ))
    }
}

/// Moves a rewritten source's attributed passages with their words; returns how many moved.
/// Two passages of one target that the rewrite makes the same (both edges snapped to one
/// pseudonym) are one: the second is removed.
fn move_attributions(
    tx: &mut dyn between_store::Transaction,
    source: SourceId,
    remap: &Remap,
) -> StudyResult<usize> {
    let mut kept: BTreeSet<(Span, AttributionTarget)> = BTreeSet::new();
    let mut moved = Vec::new();
    for a in tx.attributions(Some(source))? {
        let span = remap.span(a.span);
        if !kept.insert((span, a.about)) {
            tx.delete_attribution(a.id)?;
        } else if span != a.span {
            moved.push((a.id, span));
        }
    }
    if moved.is_empty() {
        return Ok(0);
    }
    Ok(tx.remap_attributions(&moved)?)
}

/// Memos, coding memos and case narratives with a term in them, rewritten, and the rows of the
/// mapping that matched in them.
fn notes_in(
    store: &dyn Reader,
    matcher: &Matcher,
    mapping: &[Pseudonym],
) -> StudyResult<(Vec<Note>, BTreeSet<usize>)> {
    let mut rows = BTreeSet::new();
    let mut notes = Vec::new();
    for mut m in store.memos(None)? {
        let title = replace_in(matcher, mapping, &m.title, &mut rows);
        let text = replace_in(matcher, mapping, &m.text, &mut rows);
        if title.is_some() || text.is_some() {
            m.title = title.unwrap_or(m.title);
            m.text = text.unwrap_or(m.text);
            notes.push(Note::Memo(m));
        }
    }
    for mut c in store.codings(&CodingFilter::default())? {
        let memo = c.memo.as_deref().unwrap_or_default();
        if let Some(new) = replace_in(matcher, mapping, memo, &mut rows) {
            c.memo = Some(new);
            notes.push(Note::Coding(c));
        }
    }
    for mut c in store.cases()? {
        if let Some(new) = replace_in(matcher, mapping, &c.text, &mut rows) {
            c.text = new;
            notes.push(Note::Case(c));
        }
    }
    Ok((notes, rows))
}

/// A free text outside the sources that contains a term, already rewritten.
enum Note {
    Memo(Memo),
    Coding(Coding),
    Case(Case),
}

#[cfg(test)]
mod tests;
