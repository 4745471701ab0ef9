//! WebVTT and SRT subtitles: cues → turns with start and end times. A speaker is a voice tag
//! (`<v Name>`) or a `Name:` prefix; other inline tags are dropped (transcription markers such
//! as `<UNIN/>` and `<UNSURE>` are kept); consecutive cues of one named speaker are one turn
//! (unlabelled cues stay one turn each).
//!
//! Cues must be in order of start time. A cue starting before the previous cue of the same
//! speaker ended (or, when neither has a speaker, before the previous unlabelled cue ended) is
//! an error; a cue overlapping another speaker's (an unlabelled cue counting as another
//! speaker) is overlapping speech, kept with a warning.

use std::collections::HashMap;

use regex::Regex;

use crate::plain::format_timestamp as clock;
use crate::render::Render;
use crate::{ParseError, Transcript, plain};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Vtt,
    Srt,
}

impl Kind {
    fn timing(self) -> &'static str {
        match self {
            Kind::Vtt => "a cue timing 'hh:mm:ss.mmm --> hh:mm:ss.mmm' (hours optional)",
            Kind::Srt => "a cue timing 'hh:mm:ss,mmm --> hh:mm:ss,mmm'",
        }
    }
}

#[derive(Debug)]
struct Cue {
    /// 1-based line of the timing line.
    line: usize,
    start: u64,
    end: u64,
    /// (speaker, text) in order; one cue can hold several speakers.
    segments: Vec<(Option<String>, String)>,
}

pub(crate) fn parse(
    text: &str,
    kind: Kind,
    pattern: Option<&Regex>,
) -> Result<Transcript, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let mut i = 0;
    if kind == Kind::Vtt {
        let first = lines[0];
        let rest = first.strip_prefix("WEBVTT");
        if !rest.is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t'])) {
            return Err(ParseError::line(1, "a WebVTT file must start with WEBVTT")
                .expected("'WEBVTT' as the first line"));
        }
        // The header runs to the first blank line.
        while i < lines.len() && !lines[i].trim().is_empty() {
            i += 1;
        }
    }
    let mut cues = Vec::new();
    while i < lines.len() {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        let block = i;
        let mut end = i;
        while end < lines.len() && !lines[end].trim().is_empty() {
            end += 1;
        }
        i = end;
        if let Some(cue) = cue(&lines[block..end], block, kind, pattern)? {
            cues.push(cue);
        }
    }
    let warnings = check(&cues)?;
    Ok(merge(cues, text.len()).finish(warnings))
}

/// One block of lines, the first being line `first + 1`; `None` for VTT NOTE, STYLE, REGION.
fn cue(
    block: &[&str],
    first: usize,
    kind: Kind,
    pattern: Option<&Regex>,
) -> Result<Option<Cue>, ParseError> {
    let head = block[0].trim();
    let timing_at = match kind {
        Kind::Vtt => {
            let word = head.split([' ', '\t']).next().unwrap_or("");
            if matches!(word, "NOTE" | "STYLE" | "REGION") && !head.contains("-->") {
                return Ok(None);
            }
            usize::from(!head.contains("-->"))
        }
        Kind::Srt if head.contains("-->") => 0,
        Kind::Srt if head.bytes().all(|b| b.is_ascii_digit()) => 1,
        Kind::Srt => {
            return Err(
                ParseError::line(first + 1, format!("'{head}' is not a cue number"))
                    .expected("a cue number, then a timing line"),
            );
        }
    };
    let line = first + timing_at + 1;
    let Some(timing) = block.get(timing_at) else {
        return Err(
            ParseError::line(first + 1, format!("'{head}' is followed by no cue timing"))
                .expected(kind.timing()),
        );
    };
    let (start, end) = timings(timing, kind).ok_or_else(|| {
        ParseError::line(line, format!("malformed cue timing '{}'", timing.trim()))
            .expected(kind.timing())
    })?;
    if end < start {
        return Err(ParseError::line(
            line,
            format!(
                "the cue ends ({}) before it starts ({})",
                clock(end),
                clock(start)
            ),
        )
        .expected("an end at or after the start"));
    }
    let mut segments: Vec<(Option<String>, String)> = Vec::new();
    for (n, raw) in block[timing_at + 1..].iter().enumerate() {
        let (voice, said) = strip_tags(raw);
        let (speaker, said) = match voice {
            Some(v) => (Some(v), said),
            None => match plain::label_of(&said, pattern).map_err(|(what, expected)| {
                ParseError::line(line + 1 + n, what).expected(expected)
            })? {
                Some(head) => (
                    Some(head.label.to_string()),
                    said[head.content_byte..].to_string(),
                ),
                None => (None, said),
            },
        };
        let said = said.trim();
        match segments.last_mut() {
            Some((current, text)) if speaker.is_none() || *current == speaker => {
                if !said.is_empty() {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(said);
                }
            }
            _ => segments.push((speaker, said.to_string())),
        }
    }
    Ok(Some(Cue {
        line,
        start,
        end,
        segments,
    }))
}

/// `START --> END [settings]`.
fn timings(line: &str, kind: Kind) -> Option<(u64, u64)> {
    let (start, rest) = line.split_once("-->")?;
    let end = rest.split_whitespace().next()?;
    Some((timestamp(start.trim(), kind)?, timestamp(end, kind)?))
}

/// VTT: `[hh:]mm:ss.mmm`; SRT: `hh:mm:ss,mmm` (a `.` and 1-3 fraction digits accepted).
fn timestamp(s: &str, kind: Kind) -> Option<u64> {
    let (clock, fraction) = match kind {
        Kind::Vtt => s.split_once('.')?,
        Kind::Srt => s.split_once([',', '.'])?,
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let fraction_ok = match kind {
        Kind::Vtt => fraction.len() == 3,
        Kind::Srt => (1..=3).contains(&fraction.len()),
    };
    if !fraction_ok || !digits(fraction) {
        return None;
    }
    let parts: Vec<&str> = clock.split(':').collect();
    let (hours, minutes, seconds) = match (kind, parts.as_slice()) {
        (_, [h, m, s]) => (*h, *m, *s),
        (Kind::Vtt, [m, s]) => ("0", *m, *s),
        _ => return None,
    };
    if !digits(hours)
        || [minutes, seconds]
            .iter()
            .any(|p| p.len() != 2 || !digits(p))
    {
        return None;
    }
    let (h, m, sec): (u64, u64, u64) = (
        hours.parse().ok()?,
        minutes.parse().ok()?,
        seconds.parse().ok()?,
    );
    if m >= 60 || sec >= 60 {
        return None;
    }
    let ms = fraction.parse::<u64>().ok()? * 10u64.pow(3 - fraction.len() as u32);
    plain::clock_ms(h, m, sec, ms)
}

/// The voice of a line (`<v Name>`) and its text without tags (transcription markers
/// `<X/>`, `<UNSURE>`, `</UNSURE>` kept) and with character references decoded.
fn strip_tags(line: &str) -> (Option<String>, String) {
    let mut voice = None;
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find(['<', '&']) {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        if rest.starts_with('&') {
            match entity(rest) {
                Some((c, len)) => {
                    out.push(c);
                    rest = &rest[len..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
            continue;
        }
        let Some(close) = rest.find('>') else {
            break;
        };
        let tag = &rest[1..close];
        if tag.ends_with('/') || tag == "UNSURE" || tag == "/UNSURE" {
            out.push_str(&rest[..=close]);
        } else if let Some(v) = tag.strip_prefix('v')
            && (v.starts_with(['.', ' ', '\t']))
        {
            let name = v.split_once([' ', '\t']).map_or("", |(_, n)| n.trim());
            if voice.is_none() && !name.is_empty() {
                voice = Some(name.to_string());
            }
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    (voice, out)
}

/// A character reference at the start of `s` (`&amp;`, `&#233;`, `&#x1F642;`): the character
/// and the reference's length.
fn entity(s: &str) -> Option<(char, usize)> {
    let end = s.bytes().take(12).position(|b| b == b';')?;
    let name = &s[1..end];
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "lrm" => '\u{200e}',
        "rlm" => '\u{200f}',
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((c, end + 1))
}

/// Times in order, and no speaker overlapping itself; overlapping speech of two speakers is a
/// warning.
fn check(cues: &[Cue]) -> Result<Vec<String>, ParseError> {
    let mut warnings = Vec::new();
    // Per speaker: the end and line of their latest cue.
    let mut last: HashMap<Option<&str>, (u64, usize)> = HashMap::new();
    for (k, cue) in cues.iter().enumerate() {
        if k > 0 && cue.start < cues[k - 1].start {
            let before = &cues[k - 1];
            return Err(ParseError::line(
                cue.line,
                format!(
                    "the cue starts at {}, before the previous cue (line {}) started ({}): timestamps go backwards",
                    clock(cue.start),
                    before.line,
                    clock(before.start)
                ),
            )
            .expected("cues in order of start time"));
        }
        let speakers: Vec<Option<&str>> = cue.segments.iter().map(|(s, _)| s.as_deref()).collect();
        for speaker in &speakers {
            if let Some(&(end, line)) = last.get(speaker)
                && cue.start < end
            {
                let who = match speaker {
                    Some(s) => format!("the previous cue of {s}"),
                    None => "the previous cue, and neither has a speaker".to_string(),
                };
                return Err(ParseError::line(
                    cue.line,
                    format!(
                        "the cue starting at {} overlaps {who} (line {line}, ending at {})",
                        clock(cue.start),
                        clock(end)
                    ),
                )
                .expected(format!(
                    "a start at or after {}, or voices (<v Name>) telling the speakers apart",
                    clock(end)
                )));
            }
        }
        let mut overlapping = Vec::new();
        for (other, &(end, line)) in &last {
            if !speakers.contains(other) && cue.start < end {
                overlapping.push(format!(
                    "line {}: overlapping speech: the cue starting at {} begins before the cue of {} at line {line} ends ({}); both are kept",
                    cue.line,
                    clock(cue.start),
                    other.unwrap_or("no speaker"),
                    clock(end)
                ));
            }
        }
        overlapping.sort();
        warnings.extend(overlapping);
        for speaker in speakers {
            last.insert(speaker, (cue.end, cue.line));
        }
    }
    Ok(warnings)
}

/// Cues → turns: consecutive cues of one (named) speaker are one turn, from the start of the
/// first to the end of the last.
fn merge(cues: Vec<Cue>, capacity: usize) -> Render {
    let mut render = Render::with_capacity(capacity);
    let mut open: Option<(Option<String>, String, u64, u64)> = None;
    for cue in cues {
        let single = cue.segments.len() == 1;
        for (speaker, said) in cue.segments {
            if said.is_empty() {
                continue;
            }
            match &mut open {
                Some((current, text, _, end))
                    if single && speaker.is_some() && *current == speaker =>
                {
                    text.push('\n');
                    text.push_str(&said);
                    *end = cue.end;
                }
                _ => {
                    if let Some((s, text, start, end)) = open.take() {
                        render.turn(s.as_deref(), &text, Some(start), Some(end));
                    }
                    open = Some((speaker, said, cue.start, cue.end));
                }
            }
        }
    }
    if let Some((s, text, start, end)) = open {
        render.turn(s.as_deref(), &text, Some(start), Some(end));
    }
    render
}

#[cfg(test)]
mod tests {
    use super::*;
    use between_core::Span;
    use between_core::text::slice;
    use proptest::prelude::*;

    use crate::testing::timed as said;

    fn vtt(text: &str) -> Result<Transcript, ParseError> {
        parse(text, Kind::Vtt, None)
    }

    #[test]
    fn webvtt_voices_tags_and_merged_cues() {
        let t = vtt("WEBVTT - interview 3\r\nKind: captions\r\n\r\nNOTE recorded in Lyon\r\nby Zoë\r\n\r\nSTYLE\r\n::cue { color: white }\r\n\r\nintro\r\n00:01.000 --> 00:02.500 align:start\r\n<v.loud Dr Zoë Martin>Bonjour, <i>ça va</i>?</v>\r\n\r\n00:02.500 --> 00:04.000\r\n<v Dr Zoë Martin>“Fine” &amp; you 🙂\r\n\r\n00:00:04.000 --> 00:00:05.250\r\nPT: <c.yellow>Oui</c>. <UNIN/> merci\r\n\r\n00:05.250 --> 00:06.000\r\nno speaker here\r\n").unwrap();
        assert_eq!(
            t.text,
            "Dr Zoë Martin: Bonjour, ça va?\n“Fine” & you 🙂\n\nPT: Oui. <UNIN/> merci\n\nno speaker here"
        );
        assert_eq!(
            said(&t),
            [
                (
                    Some("Dr Zoë Martin"),
                    "Bonjour, ça va?\n“Fine” & you 🙂",
                    Some(1000),
                    Some(4000)
                ),
                (Some("PT"), "Oui. <UNIN/> merci", Some(4000), Some(5250)),
                (None, "no speaker here", Some(5250), Some(6000)),
            ]
        );
        assert_eq!(t.turns[0].span, Span { start: 15, end: 45 });
        assert_eq!(t.markers.len(), 1);
        assert!(t.warnings.is_empty());
    }

    #[test]
    fn srt_with_name_prefixes_and_html_tags() {
        let t = parse(
            "\u{feff}1\n00:00:01,000 --> 00:00:02,000\nINTERVIEWER: <i>Comment</i> ça a commencé ?\n\n2\n00:00:02,000 --> 00:00:03,500 X1:0 X2:10\nMs O’Neill: <font color=\"red\">Zoë</font> came 🙂\nin late.\n\n3\n00:00:03,500 --> 00:00:04,000\n<b>Ms O’Neill:</b> Really.\n",
            Kind::Srt,
            None,
        )
        .unwrap();
        assert_eq!(
            said(&t),
            [
                (
                    Some("INTERVIEWER"),
                    "Comment ça a commencé ?",
                    Some(1000),
                    Some(2000)
                ),
                (
                    Some("Ms O’Neill"),
                    "Zoë came 🙂\nin late.\nReally.",
                    Some(2000),
                    Some(4000)
                ),
            ]
        );
    }

    /// Found by fuzzing (`tests/fuzz.rs`): hours beyond what milliseconds in a u64 hold
    /// overflowed (a panic in debug builds, wrong times in release).
    #[test]
    fn hours_too_large_for_any_clock_are_not_a_timing() {
        let srt = "1\n99999999999990:00:01,000 --> 00:00:02,000\nA: hi\n";
        let e = crate::parse(
            "x.srt",
            srt.as_bytes(),
            crate::Format::Srt,
            &Default::default(),
        )
        .unwrap_err();
        assert_eq!(e.line_number(), Some(2), "{e}");
        let e = vtt("WEBVTT\n\n99999999999990:00:01.000 --> 99999999999990:00:02.000\nhi\n")
            .unwrap_err();
        assert_eq!(e.line_number(), Some(3), "{e}");
        // The largest hours that still fit are read as they are.
        let t = vtt("WEBVTT\n\n5000000000:00:01.000 --> 5000000000:00:02.000\nhi\n").unwrap();
        assert_eq!(t.turns[0].start_ms, Some(5_000_000_000 * 3_600_000 + 1000));
    }

    #[test]
    fn a_cue_with_two_voices_is_two_turns_at_the_same_times() {
        let t = vtt("WEBVTT\n\n00:01.000 --> 00:02.000\n<v A>Hi\n<v B>Hello\n").unwrap();
        assert_eq!(
            said(&t),
            [
                (Some("A"), "Hi", Some(1000), Some(2000)),
                (Some("B"), "Hello", Some(1000), Some(2000))
            ]
        );
        assert!(t.warnings.is_empty());
    }

    #[test]
    fn overlapping_speech_of_two_speakers_is_kept_with_a_warning() {
        let t = vtt("WEBVTT\n\n00:01.000 --> 00:03.000\n<v A>one\n\n00:02.000 --> 00:04.000\n<v B>two\n\n00:03.000 --> 00:05.000\n<v A>three\n").unwrap();
        assert_eq!(t.turns.len(), 3);
        assert_eq!(
            t.warnings,
            [
                "line 6: overlapping speech: the cue starting at 00:00:02.000 begins before the cue of A at line 3 ends (00:00:03.000); both are kept",
                "line 9: overlapping speech: the cue starting at 00:00:03.000 begins before the cue of B at line 6 ends (00:00:04.000); both are kept",
            ]
        );
    }

    fn error(text: &str, kind: Kind) -> (Option<usize>, String) {
        let e = parse(text, kind, None).unwrap_err().in_file("x");
        (e.line_number(), e.to_string())
    }

    #[test]
    fn bad_subtitles_name_the_line_and_what_was_expected() {
        let vtt = |t| error(t, Kind::Vtt);
        assert_eq!(
            vtt("WEBVTTX\n\n00:01.000 --> 00:02.000\nhi\n"),
            (
                Some(1),
                "x: line 1: a WebVTT file must start with WEBVTT (expected 'WEBVTT' as the first line)".into()
            )
        );
        assert_eq!(
            vtt("WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n\n00:02.00 --> 00:03.000\nho\n"),
            (
                Some(6),
                "x: line 6: malformed cue timing '00:02.00 --> 00:03.000' (expected a cue timing 'hh:mm:ss.mmm --> hh:mm:ss.mmm' (hours optional))".into()
            )
        );
        assert_eq!(vtt("WEBVTT\n\nid\nnot a timing\nhi\n").0, Some(4));
        assert_eq!(vtt("WEBVTT\n\njust text\n").0, Some(3));
        assert_eq!(
            vtt("WEBVTT\n\n00:03.000 --> 00:02.000\nhi\n"),
            (
                Some(3),
                "x: line 3: the cue ends (00:00:02.000) before it starts (00:00:03.000) (expected an end at or after the start)".into()
            )
        );
        let (line, message) =
            vtt("WEBVTT\n\n00:03.000 --> 00:04.000\n<v A>hi\n\n00:02.000 --> 00:05.000\n<v B>ho\n");
        assert_eq!(line, Some(6));
        assert!(
            message.contains(
                "before the previous cue (line 3) started (00:00:03.000): timestamps go backwards"
            ),
            "{message}"
        );
        let (line, message) =
            vtt("WEBVTT\n\n00:01.000 --> 00:04.000\n<v A>hi\n\n00:02.000 --> 00:05.000\n<v A>ho\n");
        assert_eq!(line, Some(6));
        assert!(
            message.contains("the cue starting at 00:00:02.000 overlaps the previous cue of A (line 3, ending at 00:00:04.000)"),
            "{message}"
        );
        let (line, message) =
            vtt("WEBVTT\n\n00:01.000 --> 00:04.000\nhi\n\n00:02.000 --> 00:05.000\nho\n");
        assert_eq!(line, Some(6));
        assert!(message.contains("neither has a speaker"), "{message}");

        let srt = |t| error(t, Kind::Srt);
        assert_eq!(
            srt("1\n00:00:01,000 --> 00:00:02,000\nhi\n\nTwo\n00:00:02,000 --> 00:00:03,000\nho\n"),
            (
                Some(5),
                "x: line 5: 'Two' is not a cue number (expected a cue number, then a timing line)"
                    .into()
            )
        );
        assert_eq!(
            srt("1\n00:00:01 --> 00:00:02,000\nhi\n").0,
            Some(2),
            "no milliseconds"
        );
        assert_eq!(
            srt("1\n00:01,000 --> 00:00:02,000\nhi\n").0,
            Some(2),
            "no hours"
        );
        assert_eq!(
            srt("1\n00:00:01,000 --> 00:00:02,000\nhi\n\n2\n").0,
            Some(5)
        );
    }

    proptest! {
        /// VTT → Transcript: every turn's span holds its cues' text, joined by `\n`, and has
        /// the first cue's start and the last cue's end.
        #[test]
        fn vtt_round_trip_keeps_every_cue_at_its_span(
            cues in proptest::collection::vec(
                (
                    proptest::option::of(prop_oneof![Just("Zoë"), Just("Dr O’Neill"), Just("P1")]),
                    "[a-zA-Zéü“”🙂😀.?!]([a-zA-Zéü“”🙂😀 ,.?!-]{0,12}[a-zA-Zéü“”🙂😀.?!])?",
                    0u64..5_000,
                ),
                1..25,
            )
        ) {
            let mut file = String::from("WEBVTT\n\n");
            let mut expected: Vec<(Option<&str>, String, u64, u64)> = Vec::new();
            let mut at = 0;
            for (speaker, text, len) in &cues {
                let (start, end) = (at, at + len);
                at = end;
                let voice = speaker.map(|s| format!("<v {s}>")).unwrap_or_default();
                file += &format!("{} --> {}\n{voice}{text}\n\n", clock(start), clock(end));
                match expected.last_mut() {
                    Some(last) if speaker.is_some() && last.0 == *speaker => {
                        last.1 = format!("{}\n{text}", last.1);
                        last.3 = end;
                    }
                    _ => expected.push((*speaker, text.clone(), start, end)),
                }
            }
            let t = vtt(&file).unwrap();
            prop_assert_eq!(t.turns.len(), expected.len());
            for (turn, (speaker, text, start, end)) in t.turns.iter().zip(&expected) {
                prop_assert_eq!(slice(&t.text, turn.span), Some(text.as_str()));
                prop_assert_eq!(turn.speaker.as_deref(), *speaker);
                prop_assert_eq!((turn.start_ms, turn.end_ms), (Some(*start), Some(*end)));
            }
            prop_assert!(t.warnings.is_empty());
        }
    }
}
