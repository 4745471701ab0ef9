//! Text positions. The core counts positions in Unicode code points, end exclusive (the unit
//! REFI-QDA uses); UTF-8 byte and UTF-16 unit positions are converted here and only here.

use serde::{Deserialize, Serialize};

/// A half-open range `[start, end)` of code points in a source's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpanError {
    #[error("the span {start}..{end} is empty or reversed: the end must be greater than the start")]
    Empty { start: usize, end: usize },
    #[error("the span {start}..{end} lies outside the text, which has {len} characters")]
    OutOfRange {
        start: usize,
        end: usize,
        len: usize,
    },
}

impl Span {
    /// A span checked against a text of `len` code points.
    pub fn checked(start: usize, end: usize, len: usize) -> Result<Self, SpanError> {
        if end <= start {
            return Err(SpanError::Empty { start, end });
        }
        if end > len {
            return Err(SpanError::OutOfRange { start, end, len });
        }
        Ok(Self { start, end })
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Number of code points in `text`.
pub fn char_len(text: &str) -> usize {
    text.chars().count()
}

/// Byte offset of code point `cp` in `text` (`text.len()` when `cp` is the end).
pub fn byte_offset(text: &str, cp: usize) -> Option<usize> {
    if cp == 0 {
        return Some(0);
    }
    match text.char_indices().nth(cp) {
        Some((b, _)) => Some(b),
        None if char_len(text) == cp => Some(text.len()),
        None => None,
    }
}

/// The text of `span`, or `None` when it does not fit the text.
pub fn slice(text: &str, span: Span) -> Option<&str> {
    let start = byte_offset(text, span.start)?;
    let len = text[start..]
        .char_indices()
        .nth(span.len())
        .map_or(text.len() - start, |(b, _)| b);
    if !span.is_empty() && start + len > text.len() {
        return None;
    }
    let piece = &text[start..start + len];
    (char_len(piece) == span.len()).then_some(piece)
}

/// Code point offset of byte offset `byte` (which must lie on a character boundary).
pub fn cp_of_byte(text: &str, byte: usize) -> Option<usize> {
    text.is_char_boundary(byte).then(|| char_len(&text[..byte]))
}

/// Code point offset of a UTF-16 unit offset, as browsers and NVivo count.
/// `None` when the offset is past the end or splits a surrogate pair.
pub fn cp_of_utf16(text: &str, unit: usize) -> Option<usize> {
    let mut units = 0;
    for (cp, c) in text.chars().enumerate() {
        if units == unit {
            return Some(cp);
        }
        units += c.len_utf16();
        if units > unit {
            return None;
        }
    }
    (units == unit).then(|| char_len(text))
}

/// UTF-16 unit offset of code point offset `cp`.
pub fn utf16_of_cp(text: &str, cp: usize) -> Option<usize> {
    let mut units = 0;
    let mut count = 0;
    for c in text.chars() {
        if count == cp {
            return Some(units);
        }
        units += c.len_utf16();
        count += 1;
    }
    (count == cp).then_some(units)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    #[error("the quote is empty")]
    Empty,
    #[error("the quote does not occur in the text")]
    NotFound,
    #[error(
        "the quote occurs {} times (at characters {}); give --occurrence N or offsets to say which",
        .0.len(),
        .0.iter().map(|s| s.start.to_string()).collect::<Vec<_>>().join(", ")
    )]
    Ambiguous(Vec<Span>),
    #[error("the quote occurs {found} times, so occurrence {wanted} does not exist")]
    NoSuchOccurrence { wanted: usize, found: usize },
}

/// Every place `quote` occurs in `text`, as code point spans (overlapping occurrences included).
pub fn find_all(text: &str, quote: &str) -> Vec<Span> {
    if quote.is_empty() {
        return Vec::new();
    }
    let quote_len = char_len(quote);
    let mut found = Vec::new();
    let mut cp = 0;
    let mut last_byte = 0;
    let mut from = 0;
    while let Some(rel) = text[from..].find(quote) {
        let byte = from + rel;
        cp += char_len(&text[last_byte..byte]);
        last_byte = byte;
        found.push(Span {
            start: cp,
            end: cp + quote_len,
        });
        // Step one character on, so overlapping occurrences are seen too.
        from = byte + text[byte..].chars().next().map_or(1, char::len_utf8);
    }
    found
}

/// The span of `quote` in `text`. With `occurrence` (1-based) picks one of several; without it
/// a quote that occurs more than once is an error listing where, so nothing is coded by guess.
pub fn find_quote(text: &str, quote: &str, occurrence: Option<usize>) -> Result<Span, QuoteError> {
    if quote.is_empty() {
        return Err(QuoteError::Empty);
    }
    let found = find_all(text, quote);
    match (occurrence, found.len()) {
        (_, 0) => Err(QuoteError::NotFound),
        (None, 1) => Ok(found[0]),
        (None, _) => Err(QuoteError::Ambiguous(found)),
        (Some(k), n) if k >= 1 && k <= n => Ok(found[k - 1]),
        (Some(k), n) => Err(QuoteError::NoSuchOccurrence {
            wanted: k,
            found: n,
        }),
    }
}

/// Maps code point offsets to byte offsets in one pass, for callers that slice many spans of
/// one text (listing every coding of a document) without rescanning it from the start each time.
#[derive(Debug)]
pub struct CharIndex<'a> {
    text: &'a str,
    /// Byte offset of every 64th code point.
    checkpoints: Vec<usize>,
    len: usize,
}

const STRIDE: usize = 64;

impl<'a> CharIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let mut checkpoints = Vec::with_capacity(text.len() / STRIDE + 1);
        let mut len = 0;
        for (cp, (b, _)) in text.char_indices().enumerate() {
            if cp % STRIDE == 0 {
                checkpoints.push(b);
            }
            len = cp + 1;
        }
        Self {
            text,
            checkpoints,
            len,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn byte(&self, cp: usize) -> Option<usize> {
        if cp > self.len {
            return None;
        }
        if cp == self.len {
            return Some(self.text.len());
        }
        let base = self.checkpoints[cp / STRIDE];
        self.text[base..]
            .char_indices()
            .nth(cp % STRIDE)
            .map(|(b, _)| base + b)
    }

    pub fn slice(&self, span: Span) -> Option<&'a str> {
        if span.end < span.start {
            return None;
        }
        Some(&self.text[self.byte(span.start)?..self.byte(span.end)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spans_are_checked() {
        assert_eq!(
            Span::checked(2, 2, 10),
            Err(SpanError::Empty { start: 2, end: 2 })
        );
        assert_eq!(
            Span::checked(3, 2, 10),
            Err(SpanError::Empty { start: 3, end: 2 })
        );
        assert_eq!(
            Span::checked(0, 11, 10),
            Err(SpanError::OutOfRange {
                start: 0,
                end: 11,
                len: 10
            })
        );
        assert_eq!(Span::checked(0, 10, 10), Ok(Span { start: 0, end: 10 }));
    }

    #[test]
    fn slices_count_code_points() {
        let text = "Zoë said 🙂 — fine\r\nnext";
        let span = find_quote(text, "🙂 — fine", None).unwrap();
        assert_eq!(span, Span { start: 9, end: 17 });
        assert_eq!(slice(text, span), Some("🙂 — fine"));
        assert_eq!(CharIndex::new(text).slice(span), Some("🙂 — fine"));
        assert_eq!(
            utf16_of_cp(text, 10),
            Some(11),
            "the emoji is two UTF-16 units"
        );
        assert_eq!(
            cp_of_utf16(text, 10),
            None,
            "a surrogate pair cannot be split"
        );
        assert_eq!(slice(text, Span { start: 20, end: 30 }), None);
    }

    #[test]
    fn quotes_must_be_unambiguous() {
        let text = "I trust her. I trust her completely.";
        assert!(
            matches!(find_quote(text, "I trust her", None), Err(QuoteError::Ambiguous(v)) if v.len() == 2)
        );
        assert_eq!(
            find_quote(text, "I trust her", Some(2)),
            Ok(Span { start: 13, end: 24 })
        );
        assert_eq!(
            find_quote(text, "I trust her", Some(3)),
            Err(QuoteError::NoSuchOccurrence {
                wanted: 3,
                found: 2
            })
        );
        assert_eq!(
            find_quote(text, "distrust", None),
            Err(QuoteError::NotFound)
        );
        assert_eq!(
            find_all("aaa", "aa").len(),
            2,
            "overlapping occurrences count"
        );
    }

    fn non_ascii_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("a".to_string()),
                Just("é".to_string()),
                Just("e\u{301}".to_string()),
                Just("🙂".to_string()),
                Just("\r\n".to_string()),
                Just("Łukasz".to_string()),
                Just("—".to_string()),
                Just(" ".to_string()),
                Just("中".to_string()),
            ],
            0..40,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn offset_conversions_round_trip(text in non_ascii_text()) {
            let len = char_len(&text);
            let index = CharIndex::new(&text);
            prop_assert_eq!(index.len(), len);
            for cp in 0..=len {
                let b = byte_offset(&text, cp).unwrap();
                prop_assert_eq!(index.byte(cp), Some(b));
                prop_assert_eq!(cp_of_byte(&text, b), Some(cp));
                let u = utf16_of_cp(&text, cp).unwrap();
                prop_assert_eq!(cp_of_utf16(&text, u), Some(cp));
                prop_assert_eq!(u, text[..b].encode_utf16().count());
            }
            prop_assert_eq!(index.byte(len + 1), None);
        }

        #[test]
        fn every_span_slices_and_is_found_again(text in non_ascii_text(), a in 0usize..200, b in 0usize..200) {
            let len = char_len(&text);
            prop_assume!(len > 0);
            let (start, end) = (a % len, b % len + 1);
            prop_assume!(end > start);
            let span = Span::checked(start, end, len).unwrap();
            let piece = slice(&text, span).unwrap();
            prop_assert_eq!(char_len(piece), span.len());
            prop_assert_eq!(CharIndex::new(&text).slice(span), Some(piece));
            let found = find_all(&text, piece);
            prop_assert!(found.contains(&span));
        }
    }
}
