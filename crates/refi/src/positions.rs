//! Text positions: what a file's `startPosition`/`endPosition` count, and their conversion to
//! code points of the source's text. A position that cannot be converted exactly (past the
//! end, inside a UTF-16 surrogate pair) is an error for the caller to report, never shifted.

use crate::PositionUnit;

/// Where a text's characters lie, for conversions in O(log n) without a copy of the text: its
/// length, the code points that take two UTF-16 units, and the byte offset of every
/// [`STRIDE`]th code point (the text itself is passed to the methods that read characters).
#[derive(Debug)]
pub(crate) struct TextIndex {
    len: usize,
    /// Code point offsets of the characters outside the BMP (a surrogate pair each in UTF-16).
    astral: Vec<usize>,
    /// `checkpoints[k]` = byte offset of code point `k * STRIDE`.
    checkpoints: Vec<usize>,
}

const STRIDE: usize = 64;

/// Why a position could not be converted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Misplaced {
    Negative,
    PastEnd,
    InSurrogatePair,
}

impl Misplaced {
    pub fn why(self) -> &'static str {
        match self {
            Misplaced::Negative => "a negative position",
            Misplaced::PastEnd => "past the end of the text",
            Misplaced::InSurrogatePair => "inside a UTF-16 surrogate pair (half a character)",
        }
    }
}
impl TextIndex {
    pub fn new(text: &str) -> TextIndex {
        let mut len = 0;
        let mut astral = Vec::new();
        let mut checkpoints = Vec::with_capacity(text.len() / STRIDE + 1);
        for (byte, c) in text.char_indices() {
            if len % STRIDE == 0 {
                checkpoints.push(byte);
            }
            if c.len_utf16() == 2 {
                astral.push(len);
            }
            len += 1;
        }
        TextIndex {
            len,
            astral,
            checkpoints,
        }
    }

    /// Length in code points.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The code point offset of `pos` counted in `unit` (`Auto` counts as code points).
    pub fn to_code_points(&self, pos: i64, unit: PositionUnit) -> Result<usize, Misplaced> {
        let pos = usize::try_from(pos).map_err(|_| Misplaced::Negative)?;
        let cp = match unit {
            PositionUnit::Utf16 => {
                // The j-th astral character starts at UTF-16 unit astral[j] + j.
                let k = partition(&self.astral, |j, a| a + j + 2 <= pos);
                if self.astral.get(k).is_some_and(|a| a + k + 1 == pos) {
                    return Err(Misplaced::InSurrogatePair);
                }
                pos - k
            }
            PositionUnit::CodePoints | PositionUnit::Auto => pos,
        };
        if cp <= self.len {
            Ok(cp)
        } else {
            Err(Misplaced::PastEnd)
        }
    }

    /// Byte offset of a code point offset (at most the length) in `text`.
    fn byte(&self, text: &str, cp: usize) -> usize {
        let from = self
            .checkpoints
            .get(cp / STRIDE)
            .copied()
            .unwrap_or(text.len());
        text[from..]
            .char_indices()
            .nth(cp % STRIDE)
            .map_or(text.len(), |(b, _)| from + b)
    }

    fn char_at(&self, text: &str, cp: usize) -> Option<char> {
        text[self.byte(text, cp)..].chars().next()
    }

    /// Whether a code point offset of `text` (the indexed text) is not inside a word (start,
    /// end, or next to a non-word character).
    pub fn on_boundary(&self, text: &str, cp: usize) -> bool {
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        cp == 0
            || cp >= self.len
            || !word(self.char_at(text, cp - 1))
            || !word(self.char_at(text, cp))
    }

    /// Whether `[start, end)` of `text` (the indexed text) equals `quote`, ignoring
    /// differences of whitespace (runs of spaces and line endings count as one space; ends
    /// trimmed).
    pub fn matches_quote(&self, text: &str, start: usize, end: usize, quote: &str) -> bool {
        if start > end || end > self.len {
            return false;
        }
        let found = squash(&text[self.byte(text, start)..self.byte(text, end)]);
        let quote = squash(quote);
        !quote.is_empty()
            && (found == quote
                || (quote.ends_with('…') && found.starts_with(quote.trim_end_matches('…'))))
    }
}

/// The number of leading entries `(j, v[j])` for which `pred` holds (it must hold for a
/// prefix only).
fn partition(v: &[usize], pred: impl Fn(usize, usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, v.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid, v[mid]) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A selection's raw positions as read, for scoring and converting.
#[derive(Debug, Clone)]
pub(crate) struct RawSpan<'a> {
    pub text: &'a TextIndex,
    /// The indexed text.
    pub source: &'a str,
    pub start: i64,
    pub end: i64,
    pub quote: Option<&'a str>,
}

/// How well one reading of the positions fits the texts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Score {
    /// Selections whose both ends convert and land on word boundaries.
    pub boundaries: usize,
    /// Selections whose text equals their quoted name.
    pub quotes: usize,
    /// Selections that convert at all.
    pub placed: usize,
}

impl Score {
    fn total(self) -> usize {
        self.boundaries + 2 * self.quotes + self.placed
    }
}

pub(crate) fn score(spans: &[RawSpan<'_>], unit: PositionUnit) -> Score {
    let mut score = Score::default();
    for span in spans {
        let (Ok(start), Ok(end)) = (
            span.text.to_code_points(span.start, unit),
            span.text.to_code_points(span.end, unit),
        ) else {
            continue;
        };
        score.placed += 1;
        if span.text.on_boundary(span.source, start) && span.text.on_boundary(span.source, end) {
            score.boundaries += 1;
        }
        if span
            .quote
            .is_some_and(|q| start < end && span.text.matches_quote(span.source, start, end, q))
        {
            score.quotes += 1;
        }
    }
    score
}

/// Most selections scored to decide the unit.
const SAMPLE: usize = 4000;

/// Decides the unit for `Auto`: the producer's (`NVivo` → UTF-16, others code points), unless
/// the other reading fits the texts better. Returns the unit and a sentence saying why.
pub(crate) fn decide(origin: Option<&str>, spans: &[RawSpan<'_>]) -> (PositionUnit, String) {
    let nvivo = origin.is_some_and(|o| o.trim_start().starts_with("NVivo"));
    let (default, other) = if nvivo {
        (PositionUnit::Utf16, PositionUnit::CodePoints)
    } else {
        (PositionUnit::CodePoints, PositionUnit::Utf16)
    };
    // A large project is judged on an even sample: thousands of selections decide as well as
    // hundreds of thousands, at a fraction of the cost.
    let step = spans.len().div_ceil(SAMPLE).max(1);
    let sample: Vec<RawSpan<'_>> = spans.iter().step_by(step).cloned().collect();
    let (a, b) = (score(&sample, default), score(&sample, other));
    let chosen = if b.total() > a.total() {
        other
    } else {
        default
    };
    let describe = |unit: PositionUnit, s: Score| {
        format!(
            "as {}: {} of {} selections placed, {} on word boundaries, {} matching their quoted names",
            unit_name(unit),
            s.placed,
            sample.len(),
            s.boundaries,
            s.quotes
        )
    };
    let why = format!(
        "text positions read as {} ({}, expected for {}; {}; {})",
        unit_name(chosen),
        if chosen == default {
            "the producer's unit"
        } else {
            "they fit the texts better than the producer's unit"
        },
        origin.unwrap_or("an unknown producer"),
        describe(default, a),
        describe(other, b),
    );
    let why = if sample.len() < spans.len() {
        format!(
            "{why}; judged on one selection in {step} of {}",
            spans.len()
        )
    } else {
        why
    };
    (chosen, why)
}

/// The unit's name in messages.
pub(crate) fn unit_name(unit: PositionUnit) -> &'static str {
    match unit {
        PositionUnit::Auto => "automatic",
        PositionUnit::CodePoints => "Unicode code points",
        PositionUnit::Utf16 => "UTF-16 code units",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_positions_convert_and_refuse_half_characters() {
        let index = TextIndex::new("a😀b\r\nc");
        assert_eq!(index.to_code_points(0, PositionUnit::Utf16), Ok(0));
        assert_eq!(index.to_code_points(1, PositionUnit::Utf16), Ok(1));
        assert_eq!(
            index.to_code_points(2, PositionUnit::Utf16),
            Err(Misplaced::InSurrogatePair)
        );
        assert_eq!(index.to_code_points(3, PositionUnit::Utf16), Ok(2));
        assert_eq!(index.to_code_points(7, PositionUnit::Utf16), Ok(6));
        assert_eq!(
            index.to_code_points(8, PositionUnit::Utf16),
            Err(Misplaced::PastEnd)
        );
        assert_eq!(index.to_code_points(6, PositionUnit::CodePoints), Ok(6));
        assert_eq!(
            index.to_code_points(7, PositionUnit::CodePoints),
            Err(Misplaced::PastEnd)
        );
        assert_eq!(
            index.to_code_points(-1, PositionUnit::CodePoints),
            Err(Misplaced::Negative)
        );
    }

    #[test]
    fn quotes_match_across_line_endings() {
        let text = "one two\r\nthree four";
        let index = TextIndex::new(text);
        assert!(index.matches_quote(text, 4, 14, "two three"));
        assert!(!index.matches_quote(text, 4, 14, "two four"));
        assert!(
            index.on_boundary(text, 3) && index.on_boundary(text, 4) && !index.on_boundary(text, 5)
        );
    }

    #[test]
    fn utf16_conversion_matches_a_table_of_every_offset() {
        let text = "😀a😀😀bé\n😀".repeat(30);
        let index = TextIndex::new(&text);
        let mut utf16 = vec![0];
        for c in text.chars() {
            utf16.push(utf16.last().copied().unwrap_or(0) + c.len_utf16());
        }
        for pos in 0..utf16.len() + 3 {
            let expected = match utf16.binary_search(&pos) {
                Ok(cp) => Ok(cp),
                Err(i) if i < utf16.len() => Err(Misplaced::InSurrogatePair),
                Err(_) => Err(Misplaced::PastEnd),
            };
            let pos = i64::try_from(pos).unwrap_or(i64::MAX);
            assert_eq!(index.to_code_points(pos, PositionUnit::Utf16), expected);
        }
        let chars: Vec<char> = text.chars().collect();
        for cp in 0..=chars.len() {
            let word = |c: char| c.is_alphanumeric() || c == '_';
            let expected = cp == 0 || cp >= chars.len() || !word(chars[cp - 1]) || !word(chars[cp]);
            assert_eq!(index.on_boundary(&text, cp), expected);
        }
        assert!(index.matches_quote(&text, 1, 2, "a"));
        let start = 8 * 7 + 2;
        assert!(index.matches_quote(&text, start, start + 3, "😀😀b"));
    }
}
