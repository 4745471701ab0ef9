//! Passages of a source shown with the words around them (keyword in context).

pub use between_core::MAX_CONTEXT_CHARS;
use between_core::{CodingId, Role, SourceId, Span, text};
use serde::Serialize;

use crate::Corpus;

/// A passage of a source with up to `context` characters either side (at most
/// [`MAX_CONTEXT_CHARS`]), cut at whole words
/// (keyword in context), as the queries return it: a text-search hit (no coding) or passages
/// merged from several codings, hence `codings` rather than one coding's code and coder (see
/// [`crate::CodingExcerpt`] for one coding in context, and [`crate::triangulation::Excerpt`]
/// for one coding quoted without context).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Excerpt {
    pub source: SourceId,
    pub source_name: String,
    /// Code points, end exclusive.
    pub span: Span,
    pub before: String,
    pub text: String,
    pub after: String,
    /// The speaker label and role of the turn the passage starts in.
    pub speaker: Option<String>,
    pub role: Option<Role>,
    /// The codings behind the passage (empty for a text-search hit).
    pub codings: Vec<CodingId>,
}

/// Whether `c` belongs to a word (letters, digits, and the marks on them).
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || unicode_normalization::char::is_combining_mark(c)
}

/// The text before byte `at` of `text`: at most `context` characters, starting at a word's
/// beginning (a word cut by the limit is left out).
pub(crate) fn context_before(text: &str, at: usize, context: usize) -> &str {
    let head = &text[..at];
    let mut start = at;
    for (b, _) in head.char_indices().rev().take(context) {
        start = b;
    }
    if start > 0 {
        let cut_inside_word = head[..start].chars().next_back().is_some_and(is_word_char)
            && head[start..].chars().next().is_some_and(is_word_char);
        if cut_inside_word {
            start = head[start..]
                .char_indices()
                .find(|(_, c)| !is_word_char(*c))
                .map_or(at, |(b, _)| start + b);
        }
    }
    head[start..].trim_start()
}

/// The text from byte `at` of `text`: at most `context` characters, ending at a word's end.
pub(crate) fn context_after(text: &str, at: usize, context: usize) -> &str {
    let tail = &text[at..];
    let end = tail
        .char_indices()
        .nth(context)
        .map_or(tail.len(), |(b, _)| b);
    let mut end = end;
    if end < tail.len() {
        let cut_inside_word = tail[..end].chars().next_back().is_some_and(is_word_char)
            && tail[end..].chars().next().is_some_and(is_word_char);
        if cut_inside_word {
            end = tail[..end]
                .char_indices()
                .rev()
                .find(|(_, c)| !is_word_char(*c))
                .map_or(0, |(b, c)| b + c.len_utf8());
        }
    }
    tail[..end].trim_end()
}

impl Corpus {
    /// A passage of the source at `position` (in `sources`) with its context.
    pub fn excerpt(
        &self,
        position: usize,
        span: Span,
        context: usize,
        codings: Vec<CodingId>,
    ) -> Excerpt {
        let source = &self.sources[position];
        let start = text::byte_offset(&source.text, span.start).unwrap_or(source.text.len());
        let end = start
            + source.text[start..]
                .char_indices()
                .nth(span.len())
                .map_or(source.text.len() - start, |(b, _)| b);
        self.excerpt_at_bytes(position, span, start..end, context, codings)
    }

    /// As [`Corpus::excerpt`], with the span's byte range already known.
    pub(crate) fn excerpt_at_bytes(
        &self,
        position: usize,
        span: Span,
        bytes: std::ops::Range<usize>,
        context: usize,
        codings: Vec<CodingId>,
    ) -> Excerpt {
        let context = context.min(MAX_CONTEXT_CHARS);
        let source = &self.sources[position];
        let speaker = source.speaker_at(span.start);
        let label = source
            .turns
            .get(source.turns.partition_point(|t| t.span.end <= span.start))
            .filter(|t| t.span.start <= span.start)
            .and_then(|t| t.speaker.clone());
        Excerpt {
            source: source.id,
            source_name: source.name.clone(),
            span,
            before: context_before(&source.text, bytes.start, context).to_string(),
            text: source.text[bytes.clone()].to_string(),
            after: context_after(&source.text, bytes.end, context).to_string(),
            speaker: label,
            role: speaker.map(|s| s.role),
            codings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_clamped_whatever_is_asked() {
        let corpus = crate::test_support::sample();
        let (position, source) = corpus
            .sources
            .iter()
            .enumerate()
            .max_by_key(|(_, s)| s.text.chars().count())
            .expect("a source");
        let middle = source.text.chars().count() / 2;
        assert!(middle > MAX_CONTEXT_CHARS, "a source long enough to clamp");
        let span = Span {
            start: middle,
            end: middle + 1,
        };
        let e = corpus.excerpt(position, span, 1_000_000_000, Vec::new());
        for side in [&e.before, &e.after] {
            let n = side.chars().count();
            assert!(n <= MAX_CONTEXT_CHARS && n > MAX_CONTEXT_CHARS / 2, "{n}");
        }
    }

    #[test]
    fn context_keeps_whole_words() {
        let t = "the quick brown fox jumps";
        let at = t.find("fox").expect("fox");
        // 8 characters back is "k brown ": "k" is the end of a cut word and is left out.
        assert_eq!(context_before(t, at, 8), "brown ");
        assert_eq!(context_before(t, at, 100), "the quick brown ");
        let end = at + 3;
        // 5 characters on is " jump": the cut word is left out, and the space with it.
        assert_eq!(context_after(t, end, 5), "");
        assert_eq!(context_after(t, end, 6), " jumps");
        assert_eq!(context_before(t, 0, 10), "");
        let jose = "José".len();
        assert_eq!(
            context_after("José sé", jose, 2),
            "",
            "the cut 'sé' is left out"
        );
        assert_eq!(context_after("José sé", jose, 3), " sé");
    }
}
