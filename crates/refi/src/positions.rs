//! Text positions: what a file's `startPosition`/`endPosition` count, and their conversion to
//! code points of the source's text. A position that cannot be converted exactly (past the
//! end, inside a UTF-16 surrogate pair) is an error for the caller to report, never shifted.

use crate::PositionUnit;

/// A text's characters with their UTF-16 offsets, for conversions in O(log n).
#[derive(Debug)]
pub(crate) struct TextIndex {
    chars: Vec<char>,
    /// `utf16[i]` = UTF-16 units before code point `i`; one more entry than `chars`.
    utf16: Vec<usize>,
}

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
        let chars: Vec<char> = text.chars().collect();
        let mut utf16 = Vec::with_capacity(chars.len() + 1);
        let mut units = 0;
        utf16.push(0);
        for c in &chars {
            units += c.len_utf16();
            utf16.push(units);
        }
        TextIndex { chars, utf16 }
    }

    /// Length in code points.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// The code point offset of `pos` counted in `unit` (`Auto` counts as code points).
    pub fn to_code_points(&self, pos: i64, unit: PositionUnit) -> Result<usize, Misplaced> {
        let pos = usize::try_from(pos).map_err(|_| Misplaced::Negative)?;
        match unit {
            PositionUnit::Utf16 => match self.utf16.binary_search(&pos) {
                Ok(cp) => Ok(cp),
                Err(i) if i < self.utf16.len() => Err(Misplaced::InSurrogatePair),
                Err(_) => Err(Misplaced::PastEnd),
            },
            PositionUnit::CodePoints | PositionUnit::Auto => {
                if pos <= self.chars.len() {
                    Ok(pos)
                } else {
                    Err(Misplaced::PastEnd)
                }
            }
        }
    }

    /// Whether a code point offset is not inside a word (start, end, or next to a non-word
    /// character).
    pub fn on_boundary(&self, cp: usize) -> bool {
        let word = |c: char| c.is_alphanumeric() || c == '_';
        cp == 0 || cp >= self.chars.len() || !word(self.chars[cp - 1]) || !word(self.chars[cp])
    }

    /// Whether the text of `[start, end)` equals `quote`, ignoring differences of whitespace
    /// (runs of spaces and line endings count as one space; ends trimmed).
    pub fn matches_quote(&self, start: usize, end: usize, quote: &str) -> bool {
        let Some(span) = self.chars.get(start..end) else {
            return false;
        };
        let mut found = span.iter().copied().collect::<String>();
        found = squash(&found);
        let quote = squash(quote);
        !quote.is_empty()
            && (found == quote
                || (quote.ends_with('…') && found.starts_with(quote.trim_end_matches('…'))))
    }
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A selection's raw positions as read, for scoring and converting.
#[derive(Debug, Clone)]
pub(crate) struct RawSpan<'a> {
    pub text: &'a TextIndex,
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
        if span.text.on_boundary(start) && span.text.on_boundary(end) {
            score.boundaries += 1;
        }
        if span
            .quote
            .is_some_and(|q| start < end && span.text.matches_quote(start, end, q))
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
            "{why}; judged on every {step}th of {} selections",
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
        let index = TextIndex::new("one two\r\nthree four");
        assert!(index.matches_quote(4, 14, "two three"));
        assert!(!index.matches_quote(4, 14, "two four"));
        assert!(index.on_boundary(3) && index.on_boundary(4) && !index.on_boundary(5));
    }
}
