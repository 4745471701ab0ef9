//! Plain-text transcripts: a line that starts with a speaker label (`INTERVIEWER:`, `Dr Lee:`,
//! `P3:`, optionally after a timestamp such as `[00:01:02]`) starts a turn; lines without one
//! continue the turn before them. Text before the first label is an unlabelled turn.

use between_core::{Span, Turn};
use regex::Regex;

use crate::{ParseError, Transcript};

/// The longest speaker label recognised, in characters, and in words.
const MAX_LABEL_CHARS: usize = 40;
const MAX_LABEL_WORDS: usize = 4;

/// Parses a decoded plain-text transcript.
pub fn parse_plain(text: String) -> Transcript {
    match split(text, &mut |line, _| {
        Ok::<_, std::convert::Infallible>(speaker_line(line))
    }) {
        Ok(t) => t,
        Err(never) => match never {},
    }
}

/// [`parse_plain`] with an optional speaker pattern (see [`crate::ParseOptions`]) instead of
/// the built-in `LABEL:` recognition. An error names the line whose `time` is no timestamp.
pub fn parse_plain_with(text: String, pattern: Option<&Regex>) -> Result<Transcript, ParseError> {
    let Some(pattern) = pattern else {
        return Ok(parse_plain(text));
    };
    split(text, &mut |line, number| {
        pattern_line(line, pattern).map_err(|e| ParseError::line(number, e.0).expected(e.1))
    })
}

/// Compiles a speaker pattern: it must have a group named `speaker`.
pub(crate) fn compile(pattern: Option<&str>) -> Result<Option<Regex>, ParseError> {
    let Some(pattern) = pattern else {
        return Ok(None);
    };
    let regex = Regex::new(pattern).map_err(|e| {
        ParseError::new(
            None,
            format!("the speaker pattern is not a regular expression: {e}"),
        )
    })?;
    if !regex.capture_names().any(|n| n == Some("speaker")) {
        return Err(ParseError::new(
            None,
            format!("the speaker pattern '{pattern}' has no group named 'speaker'"),
        )
        .expected("a group (?P<speaker>…), e.g. ^(?P<speaker>DR|PT):\\s*"));
    }
    Ok(Some(regex))
}

/// The speaker label at the start of `line`: `pattern`'s when there is one, else the built-in
/// `[timestamp] LABEL:` recognition. An error is (what was wrong, what was expected).
pub(crate) fn label_of<'a>(
    line: &'a str,
    pattern: Option<&Regex>,
) -> Result<Option<Head<'a>>, (String, &'static str)> {
    match pattern {
        Some(p) => pattern_line(line, p),
        None => Ok(speaker_line(line)),
    }
}

fn pattern_line<'a>(
    line: &'a str,
    pattern: &Regex,
) -> Result<Option<Head<'a>>, (String, &'static str)> {
    let Some(caps) = pattern.captures(line) else {
        return Ok(None);
    };
    let whole = caps.get(0).map_or(0..0, |m| m.range());
    let Some(label) = caps.name("speaker").map(|m| m.as_str().trim()) else {
        return Ok(None);
    };
    if whole.start != 0 || label.is_empty() {
        return Ok(None);
    }
    let start_ms = match caps.name("time") {
        Some(t) if !t.as_str().trim().is_empty() => {
            Some(parse_timestamp(t.as_str().trim()).ok_or_else(|| {
                (
                    format!("'{}' is not a timestamp", t.as_str()),
                    "hh:mm:ss or mm:ss, optionally with .mmm",
                )
            })?)
        }
        _ => None,
    };
    let rest = &line[whole.end..];
    let content_byte = line.len() - rest.trim_start().len();
    Ok(Some(Head {
        label,
        start_ms,
        content_start: line[..content_byte].chars().count(),
        content_byte,
    }))
}

/// A line's speaker label, if it has one.
type HeadResult<'a, E> = Result<Option<Head<'a>>, E>;

/// Splits a text into turns at the lines `head` recognises as starting one.
fn split<E>(
    text: String,
    head: &mut dyn FnMut(&str, usize) -> HeadResult<'_, E>,
) -> Result<Transcript, E> {
    let mut turns: Vec<Turn> = Vec::new();
    // The turn being built: its label, timestamp, start, and the end of its last non-blank line.
    let mut open: Option<(Option<String>, Option<u64>, usize, usize)> = None;
    let mut cp = 0; // code point offset of the current line's start
    for (number, raw) in text.split_inclusive('\n').enumerate() {
        let line_chars = raw.chars().count();
        let line = raw.trim_end_matches(['\n', '\r']);
        if let Some(head) = head(line, number + 1)? {
            if let Some(turn) = open.take() {
                push(&mut turns, turn);
            }
            let start = cp + head.content_start;
            let end = cp + line.chars().count() - trailing_space(line);
            open = Some((
                Some(head.label.to_string()),
                head.start_ms,
                start,
                end.max(start),
            ));
        } else if !line.trim().is_empty() {
            let lead = line.chars().take_while(|c| c.is_whitespace()).count();
            let end = cp + line.chars().count() - trailing_space(line);
            match &mut open {
                Some(turn) => turn.3 = end,
                None => open = Some((None, None, cp + lead, end)),
            }
        }
        cp += line_chars;
    }
    if let Some(turn) = open.take() {
        push(&mut turns, turn);
    }
    let mut warnings = Vec::new();
    if turns.iter().all(|t| t.speaker.is_none()) {
        warnings.push(
            "no speaker labels were recognised; the text is kept as one unlabelled turn"
                .to_string(),
        );
        let mut whole = prose(text);
        whole.warnings.extend(warnings);
        return Ok(whole);
    }
    Ok(Transcript::new(text, turns, warnings))
}

/// Prose (field notes, journals): the whole text as one unlabelled turn.
pub fn prose(text: String) -> Transcript {
    let lead = text.chars().take_while(|c| c.is_whitespace()).count();
    let end = text.chars().count() - trailing_space(&text);
    let turns = vec![Turn {
        span: Span {
            start: lead,
            end: end.max(lead),
        },
        speaker: None,
        start_ms: None,
        end_ms: None,
    }];
    Transcript::new(text, turns, Vec::new())
}

fn push(
    turns: &mut Vec<Turn>,
    (speaker, start_ms, start, end): (Option<String>, Option<u64>, usize, usize),
) {
    turns.push(Turn {
        span: Span { start, end },
        speaker,
        start_ms,
        end_ms: None,
    });
}

fn trailing_space(s: &str) -> usize {
    s.chars().rev().take_while(|c| c.is_whitespace()).count()
}

pub(crate) struct Head<'a> {
    pub(crate) label: &'a str,
    pub(crate) start_ms: Option<u64>,
    /// Code point offset, in the line, of what the speaker says.
    content_start: usize,
    /// Byte offset, in the line, of what the speaker says.
    pub(crate) content_byte: usize,
}

/// Recognises `[timestamp] LABEL: ` at the start of a line.
fn speaker_line(line: &str) -> Option<Head<'_>> {
    let mut rest = line;
    let mut start_ms = None;
    if let Some(after) = rest.strip_prefix('[')
        && let Some(close) = after.find(']')
        && let Some(ms) = parse_timestamp(&after[..close])
    {
        start_ms = Some(ms);
        rest = after[close + 1..].trim_start();
    }
    let colon = rest.find(':')?;
    let label = rest[..colon].trim_end();
    let after = &rest[colon + 1..];
    if !(after.is_empty() || after.starts_with([' ', '\t'])) || !is_label(label) {
        return None;
    }
    let spoken = after.trim_start();
    let content_byte = line.len() - spoken.len();
    Some(Head {
        label,
        start_ms,
        content_start: line[..content_byte].chars().count(),
        content_byte,
    })
}

pub(crate) fn is_label(label: &str) -> bool {
    let mut chars = label.chars();
    chars.next().is_some_and(char::is_alphabetic)
        && label.chars().count() <= MAX_LABEL_CHARS
        && label.split_whitespace().count() <= MAX_LABEL_WORDS
        && label.chars().all(|c| {
            c.is_alphanumeric() || matches!(c, ' ' | '.' | '\'' | '’' | '-' | '_' | '(' | ')')
        })
}

/// Milliseconds as `hh:mm:ss.mmm` (the inverse of [`parse_timestamp`]).
pub fn format_timestamp(ms: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// `hh:mm:ss`, `mm:ss` or either with `.fff` → milliseconds.
pub fn parse_timestamp(s: &str) -> Option<u64> {
    let (clock, fraction) = match s.split_once(['.', ',']) {
        Some((c, f)) => (c, Some(f)),
        None => (s, None),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len())
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 2 && p != &parts[0])
    {
        return None;
    }
    let mut values = [0u64; 3];
    for (i, p) in parts.iter().enumerate() {
        let v: u64 = p
            .parse()
            .ok()
            .filter(|_| p.bytes().all(|b| b.is_ascii_digit()))?;
        if i > 0 && v >= 60 {
            return None;
        }
        values[i + 3 - parts.len()] = v;
    }
    let ms = match fraction {
        Some(f) if !f.is_empty() && f.len() <= 3 && f.bytes().all(|b| b.is_ascii_digit()) => {
            f.parse::<u64>().ok()? * 10u64.pow(3 - f.len() as u32)
        }
        Some(_) => return None,
        None => 0,
    };
    let [hours, minutes, seconds] = values;
    clock_ms(hours, minutes, seconds, ms)
}

/// The milliseconds of a clock time, if they fit in a u64 (a file may claim any number of
/// hours).
pub(crate) fn clock_ms(hours: u64, minutes: u64, seconds: u64, millis: u64) -> Option<u64> {
    hours
        .checked_mul(60)?
        .checked_add(minutes)?
        .checked_mul(60)?
        .checked_add(seconds)?
        .checked_mul(1000)?
        .checked_add(millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::said;

    #[test]
    fn speaker_lines_start_turns_and_other_lines_continue_them() {
        let t = parse_plain(
            "Interview 3, 12 May\n\nINTERVIEWER: How did it start?\n\nDr Lee: Zoë came in — worried.\nShe said 🙂 “fine”.\n\nP3: Yes: fine.  \n".into(),
        );
        assert_eq!(
            said(&t),
            [
                (None, "Interview 3, 12 May"),
                (Some("INTERVIEWER"), "How did it start?"),
                (
                    Some("Dr Lee"),
                    "Zoë came in — worried.\nShe said 🙂 “fine”."
                ),
                (Some("P3"), "Yes: fine."),
            ]
        );
        assert!(t.warnings.is_empty());
        assert_eq!(t.speakers(), ["INTERVIEWER", "Dr Lee", "P3"]);
    }

    #[test]
    fn timestamps_and_crlf() {
        let t = parse_plain(
            "[00:01:02] DR RUIZ: Hello.\r\n\r\n[01:05.5] MR NOVAK: Hi —\r\nthere.\r\n".into(),
        );
        assert_eq!(
            said(&t),
            [
                (Some("DR RUIZ"), "Hello."),
                (Some("MR NOVAK"), "Hi —\r\nthere.")
            ]
        );
        assert_eq!(t.turns[0].start_ms, Some(62_000));
        assert_eq!(t.turns[1].start_ms, Some(65_500));
    }

    #[test]
    fn prose_is_kept_as_one_unlabelled_turn_with_a_warning() {
        let t =
            parse_plain("  We met at 10:30 in the clinic. It rained: a lot.\nThe end.\n".into());
        assert_eq!(
            said(&t),
            [(
                None,
                "We met at 10:30 in the clinic. It rained: a lot.\nThe end."
            )]
        );
        assert_eq!(t.warnings.len(), 1);
    }

    #[test]
    fn speaker_patterns_with_times() {
        let pattern = compile(Some(
            r"^(?:(?P<time>\d+:\d+) )?(?P<speaker>DR|PT)\s*[-:]\s*",
        ))
        .unwrap()
        .unwrap();
        let t = parse_plain_with(
            "Clinic notes\n01:02 DR - Zoë, “hi” 🙂\nNurse: not a label here\nPT: Oui.\n".into(),
            Some(&pattern),
        )
        .unwrap();
        assert_eq!(
            said(&t),
            [
                (None, "Clinic notes"),
                (Some("DR"), "Zoë, “hi” 🙂\nNurse: not a label here"),
                (Some("PT"), "Oui."),
            ]
        );
        assert_eq!(t.turns[1].span, Span { start: 24, end: 59 });
        assert_eq!(t.turns[1].start_ms, Some(62_000));
        assert_eq!(t.turns[2].start_ms, None);

        let timed = compile(Some(r"^\[(?P<time>[^\]]*)\] (?P<speaker>\w+): "))
            .unwrap()
            .unwrap();
        let e = parse_plain_with("[00:01] A: ok\n[soon] B: no\n".into(), Some(&timed)).unwrap_err();
        assert_eq!(e.line_number(), Some(2));
        assert_eq!(
            e.in_file("t.txt").to_string(),
            "t.txt: line 2: 'soon' is not a timestamp (expected hh:mm:ss or mm:ss, optionally with .mmm)"
        );
        let e = compile(Some("^(?P<who>DR):")).unwrap_err();
        assert!(e.message.contains("no group named 'speaker'"), "{e}");
        assert!(compile(Some("(")).is_err());
    }

    #[test]
    fn labels_are_short_names() {
        assert!(speaker_line("MS FERNÁNDEZ: sí").is_some());
        assert!(speaker_line("Mrs O’Neill: yes").is_some());
        assert!(
            speaker_line("What I mean to say here is this: no").is_none(),
            "too many words"
        );
        assert!(speaker_line("http://example.org").is_none());
        assert!(
            speaker_line("12: twelve").is_none(),
            "labels start with a letter"
        );
        assert_eq!(parse_timestamp("1:02:03"), Some(3_723_000));
        assert_eq!(parse_timestamp("00:61"), None);
        assert_eq!(parse_timestamp("ab:cd"), None);
        assert_eq!(format_timestamp(3_723_004), "01:02:03.004");
        for ms in [0, 999, 59_999, 3_600_000, 86_399_999] {
            assert_eq!(parse_timestamp(&format_timestamp(ms)), Some(ms));
        }
    }

    /// Found by fuzzing (`tests/fuzz.rs`): more hours than milliseconds in a u64 hold
    /// overflowed (a panic in debug builds, wrong times in release).
    #[test]
    fn hours_too_large_for_any_clock_are_not_a_time() {
        assert_eq!(parse_timestamp("99999999999999999:00:00"), None);
        assert_eq!(parse_timestamp("5124095576030431:00:00"), None);
        assert_eq!(
            parse_timestamp("5000000000:00:00.5"),
            Some(5_000_000_000 * 3_600_000 + 500)
        );
    }
}
