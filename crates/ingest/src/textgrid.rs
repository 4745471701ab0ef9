//! Praat TextGrids (text files, long and short form): one interval tier per speaker; the
//! non-blank intervals are utterances, blank ones silence. [`merge_dialogue`] interleaves the
//! tiers of one or more TextGrids (one per speaker channel) into one dialogue.

use crate::render::{Render, seconds_to_ms};
use crate::{ParseError, Transcript, decode};

/// One utterance of a tier: a non-blank interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Interval {
    /// Seconds.
    pub start: f64,
    pub end: f64,
    /// As written, less surrounding whitespace (`""` unescaped, line ends as `\n`).
    pub text: String,
    /// The line of the interval's `xmin`.
    pub line: usize,
}

/// An interval tier.
#[derive(Clone, Debug, PartialEq)]
pub struct Tier {
    pub name: String,
    /// The tier name, or for a generic name (`Speaker`, empty) the default speaker given.
    pub speaker: Option<String>,
    /// Its utterances in order; silence (blank intervals) is left out.
    pub intervals: Vec<Interval>,
}

/// A parsed TextGrid.
#[derive(Clone, Debug, PartialEq)]
pub struct TextGrid {
    /// The file name, for warnings.
    pub name: String,
    pub start: f64,
    pub end: f64,
    pub tiers: Vec<Tier>,
    /// E.g. point tiers, which are ignored.
    pub warnings: Vec<String>,
}

/// Parses a TextGrid file (UTF-8, or UTF-16 with a byte-order mark). A tier whose name is
/// generic (`Speaker`, empty) gets `default_speaker` (e.g. from the file name).
pub fn parse_textgrid(
    name: &str,
    bytes: &[u8],
    default_speaker: Option<&str>,
) -> Result<TextGrid, ParseError> {
    let parsed = if bytes.starts_with(b"ooBinaryFile") {
        Err(
            ParseError::new(Some(crate::At::Byte(0)), "a binary TextGrid cannot be read")
                .expected("a text TextGrid (in Praat: Save as text file)"),
        )
    } else {
        decode(bytes)
            .map_err(ParseError::from)
            .and_then(|text| parse_text(&text, default_speaker))
    };
    let mut grid = parsed.map_err(|e| e.in_file(name))?;
    name.clone_into(&mut grid.name);
    Ok(grid)
}

/// Merges the tiers of `grids` (e.g. the doctor's and the patient's channel of one
/// consultation) into one dialogue: every utterance a turn, ordered by start time, ties by end
/// time, then by input order (grid, tier, interval).
pub fn merge_dialogue(grids: Vec<TextGrid>) -> Transcript {
    let mut warnings = Vec::new();
    let mut all: Vec<(&Option<String>, &Interval)> = Vec::new();
    for grid in &grids {
        for w in &grid.warnings {
            warnings.push(if grid.name.is_empty() {
                w.clone()
            } else {
                format!("{}: {w}", grid.name)
            });
        }
        for tier in &grid.tiers {
            all.extend(tier.intervals.iter().map(|i| (&tier.speaker, i)));
        }
    }
    all.sort_by(|a, b| {
        a.1.start
            .total_cmp(&b.1.start)
            .then(a.1.end.total_cmp(&b.1.end))
    });
    let bytes = all.iter().map(|(_, i)| i.text.len() + 16).sum();
    let mut render = Render::with_capacity(bytes);
    for (speaker, interval) in all {
        render.turn(
            speaker.as_deref(),
            &interval.text,
            seconds_to_ms(interval.start),
            seconds_to_ms(interval.end),
        );
    }
    render.finish(warnings)
}

/// Parses a decoded TextGrid.
pub(crate) fn parse_text(
    text: &str,
    default_speaker: Option<&str>,
) -> Result<TextGrid, ParseError> {
    let mut s = Scan {
        s: text,
        pos: 0,
        line: 1,
        long: true,
    };
    let file_type = s.string("File type")?;
    if !matches!(file_type.as_str(), "ooTextFile" | "ooTextFile short") {
        return Err(
            ParseError::line(1, format!("the file type is '{file_type}'"))
                .expected("File type = \"ooTextFile\""),
        );
    }
    let class = s.string("Object class")?;
    if class != "TextGrid" {
        return Err(
            ParseError::line(s.line, format!("the object class is '{class}'"))
                .expected("Object class = \"TextGrid\""),
        );
    }
    s.skip_space();
    s.long = s.rest().starts_with(|c: char| c.is_ascii_alphabetic());
    let start = s.number("xmin")?;
    let end = s.number("xmax")?;
    s.flag("tiers?")?;
    let (count, count_line) = s.size("size")?;
    if s.long && count > 0 {
        s.header("item", None, "")?;
    }
    let mut tiers = Vec::new();
    let mut warnings = Vec::new();
    for k in 1..=count {
        if s.long {
            let missing = format!("size = {count} at line {count_line}, but tier {k} is missing");
            s.header("item", Some(k), &missing)?;
        }
        let class_line = s.next_line();
        let class = s.string("class")?;
        let name = s.string("name")?;
        s.number("xmin")?;
        s.number("xmax")?;
        match class.as_str() {
            "IntervalTier" => {
                let intervals = s.intervals()?;
                let generic = name.trim().is_empty() || name.trim().eq_ignore_ascii_case("speaker");
                let speaker = if generic {
                    if default_speaker.is_none() {
                        warnings.push(format!(
                            "line {class_line}: the tier '{name}' has a generic name and no speaker was given; its turns are unlabelled"
                        ));
                    }
                    default_speaker.map(str::to_string)
                } else {
                    Some(name.trim().to_string())
                };
                tiers.push(Tier {
                    name,
                    speaker,
                    intervals,
                });
            }
            "TextTier" => {
                s.points()?;
                warnings.push(format!(
                    "line {class_line}: the point tier (TextTier) '{name}' is ignored; only interval tiers are turns"
                ));
            }
            other => {
                return Err(
                    ParseError::line(class_line, format!("unknown tier class '{other}'"))
                        .expected("class = \"IntervalTier\" or \"TextTier\""),
                );
            }
        }
    }
    s.skip_space();
    if !s.rest().is_empty() {
        return Err(ParseError::line(
            s.line,
            format!("found '{}' after the last tier", s.peek_line()),
        )
        .expected(format!(
            "the end of the file after {count} tiers (size = {count} at line {count_line})"
        )));
    }
    Ok(TextGrid {
        name: String::new(),
        start,
        end,
        tiers,
        warnings,
    })
}

/// A cursor over a TextGrid's text. In the long form every value follows `key =`; in the short
/// form values follow each other.
struct Scan<'a> {
    s: &'a str,
    pos: usize,
    /// 1-based line of `pos`.
    line: usize,
    long: bool,
}

impl<'a> Scan<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn advance(&mut self, len: usize) {
        let taken = &self.s[self.pos..self.pos + len];
        self.line += taken.bytes().filter(|&b| b == b'\n').count();
        self.pos += len;
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        let len = rest.len() - rest.trim_start().len();
        self.advance(len);
    }

    /// The line the next token is on.
    fn next_line(&mut self) -> usize {
        self.skip_space();
        self.line
    }

    /// The rest of the current line, trimmed, for messages.
    fn peek_line(&self) -> &'a str {
        let rest = self.rest();
        let line = rest.split(['\r', '\n']).next().unwrap_or("").trim();
        match line.char_indices().nth(40) {
            Some((b, _)) => &line[..b],
            None => line,
        }
    }

    fn found(&self) -> String {
        match self.peek_line() {
            "" if self.rest().trim().is_empty() => "the end of the file".to_string(),
            l => format!("'{l}'"),
        }
    }

    /// Long form: `key =`; short form: nothing.
    fn key(&mut self, key: &str, value: &str) -> Result<(), ParseError> {
        self.skip_space();
        if !self.long {
            return Ok(());
        }
        let rest = self.rest();
        let after = rest
            .strip_prefix(key)
            .map(|a| a.trim_start_matches([' ', '\t']));
        // `tiers? <exists>` has no `=`.
        let value_at = if key.ends_with('?') {
            after
        } else {
            after.and_then(|a| a.strip_prefix('='))
        };
        match value_at {
            Some(value_part) => {
                let value_part = value_part.trim_start_matches([' ', '\t']);
                self.advance(rest.len() - value_part.len());
                Ok(())
            }
            None => Err(
                ParseError::line(self.line, format!("found {}", self.found()))
                    .expected(format!("'{key} = {value}'")),
            ),
        }
    }

    /// The next whitespace-separated token.
    fn token(&mut self) -> &'a str {
        let rest = self.rest();
        let len = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
        self.advance(len);
        &rest[..len]
    }

    fn number(&mut self, key: &str) -> Result<f64, ParseError> {
        self.key(key, "<number>")?;
        let line = self.line;
        let found = self.found();
        let token = self.token();
        token
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| {
                let expected = if self.long {
                    format!("'{key} = <number>'")
                } else {
                    format!("a number ({key})")
                };
                ParseError::line(line, format!("found {found}")).expected(expected)
            })
    }

    /// A count: `intervals: size = N`, its value and line.
    fn size(&mut self, key: &str) -> Result<(usize, usize), ParseError> {
        self.key(key, "<count>")?;
        let line = self.line;
        let found = self.found();
        let token = self.token();
        match token.parse::<usize>() {
            Ok(n) => Ok((n, line)),
            Err(_) => Err(ParseError::line(line, format!("found {found}")).expected(
                if self.long {
                    format!("'{key} = <count>'")
                } else {
                    format!("a count ({key})")
                },
            )),
        }
    }

    fn flag(&mut self, key: &str) -> Result<(), ParseError> {
        self.key(key, "<exists>")?;
        let line = self.line;
        let found = self.found();
        match self.token() {
            "<exists>" => Ok(()),
            _ => Err(
                ParseError::line(line, format!("found {found}")).expected(format!(
                    "'{key} <exists>'{}",
                    if self.long { "" } else { " or <exists>" }
                )),
            ),
        }
    }

    /// A quoted string, `""` standing for `"`; it may run over several lines.
    fn string(&mut self, key: &str) -> Result<String, ParseError> {
        self.key(key, "\"<text>\"")?;
        let line = self.line;
        let rest = self.rest();
        let Some(body) = rest.strip_prefix('"') else {
            let what = if self.long {
                format!("'{key} = \"<text>\"'")
            } else {
                format!("a quoted text ({key})")
            };
            return Err(ParseError::line(line, format!("found {}", self.found())).expected(what));
        };
        let mut value = String::new();
        let mut from = 0;
        loop {
            let Some(quote) = body[from..].find('"') else {
                return Err(ParseError::line(line, "the quoted text is not closed")
                    .expected("a closing '\"' (a quote inside a text is written \"\")"));
            };
            value.push_str(&body[from..from + quote]);
            let next = from + quote + 1;
            if body[next..].starts_with('"') {
                value.push('"');
                from = next + 1;
            } else {
                self.advance(1 + next);
                break;
            }
        }
        if value.contains('\r') {
            value = value.replace("\r\n", "\n");
        }
        Ok(value)
    }

    /// `name [k]:` (long form only); `k` `None` for `item []:`.
    fn header(&mut self, name: &str, k: Option<usize>, missing: &str) -> Result<(), ParseError> {
        self.skip_space();
        let rest = self.rest();
        let want = match k {
            Some(k) => format!("{name} [{k}]:"),
            None => format!("{name} []:"),
        };
        let matched = rest.strip_prefix(name).and_then(|a| {
            let a = a.trim_start_matches([' ', '\t']);
            let inner = a.strip_prefix('[')?;
            let close = inner.find(']')?;
            let index = inner[..close].trim();
            let ok = match k {
                Some(k) => index.parse::<usize>().ok() == Some(k),
                None => index.is_empty(),
            };
            let after = inner[close + 1..]
                .trim_start_matches([' ', '\t'])
                .strip_prefix(':')?;
            ok.then_some(rest.len() - after.len())
        });
        match matched {
            Some(len) => {
                self.advance(len);
                Ok(())
            }
            None => {
                let message = if missing.is_empty() {
                    format!("found {}", self.found())
                } else {
                    format!("{missing}: found {}", self.found())
                };
                Err(ParseError::line(self.line, message).expected(format!("'{want}'")))
            }
        }
    }

    /// After a tier's `xmax`: `intervals: size = N` and the intervals; blank ones dropped.
    fn intervals(&mut self) -> Result<Vec<Interval>, ParseError> {
        let (count, count_line) = self.size("intervals: size")?;
        let mut kept = Vec::with_capacity(count.min(1 << 16));
        // (start, end, line) of the interval before.
        let mut before: Option<(f64, f64, usize)> = None;
        for k in 1..=count {
            if self.long {
                let missing = format!(
                    "intervals: size = {count} at line {count_line}, but interval {k} is missing"
                );
                self.header("intervals", Some(k), &missing)?;
            }
            let line = self.next_line();
            let start = self.number("xmin")?;
            let end = self.number("xmax")?;
            let text = self.string("text")?;
            check_order(k, (start, end, line), before)?;
            before = Some((start, end, line));
            let trimmed = text.trim();
            if !trimmed.is_empty() {
                kept.push(Interval {
                    start,
                    end,
                    text: if trimmed.len() == text.len() {
                        text
                    } else {
                        trimmed.to_string()
                    },
                    line,
                });
            }
        }
        self.skip_space();
        if self.long && self.rest().starts_with("intervals") {
            return Err(ParseError::line(
                self.line,
                format!(
                    "intervals: size = {count} at line {count_line}, but more intervals follow"
                ),
            )
            .expected(format!("{count} intervals")));
        }
        Ok(kept)
    }

    /// After a point tier's `xmax`: `points: size = N` and the points, read and dropped.
    fn points(&mut self) -> Result<(), ParseError> {
        let (count, count_line) = self.size("points: size")?;
        for k in 1..=count {
            if self.long {
                let missing = format!(
                    "points: size = {count} at line {count_line}, but point {k} is missing"
                );
                self.header("points", Some(k), &missing)?;
                let key = if self.rest().trim_start().starts_with("time") {
                    "time"
                } else {
                    "number"
                };
                self.number(key)?;
            } else {
                self.number("number")?;
            }
            self.string("mark")?;
        }
        Ok(())
    }
}

/// Interval `k` at `(start, end, line)` must not end before it starts, go back in time or
/// overlap the one before.
fn check_order(
    k: usize,
    (start, end, line): (f64, f64, usize),
    before: Option<(f64, f64, usize)>,
) -> Result<(), ParseError> {
    if end < start {
        return Err(ParseError::line(
            line,
            format!("interval {k} ends ({end} s) before it starts ({start} s)"),
        )
        .expected("xmax at or after xmin"));
    }
    if let Some((b_start, b_end, b_line)) = before {
        if start < b_start {
            return Err(ParseError::line(
                line,
                format!(
                    "interval {k} starts at {start} s, before interval {} (line {b_line}) started ({b_start} s): intervals go backwards",
                    k - 1
                ),
            )
            .expected("intervals in order of time"));
        }
        if start < b_end {
            return Err(ParseError::line(
                line,
                format!(
                    "interval {k} starts at {start} s, before interval {} (line {b_line}) ends ({b_end} s): intervals of one tier overlap",
                    k - 1
                ),
            )
            .expected(format!("xmin = {b_end} or later")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MarkerKind;
    use between_core::text::slice;

    /// A long-form TextGrid with one interval tier, CRLF line ends, tab indents, trailing
    /// spaces on some lines.
    fn long(tier: &str, intervals: &[(f64, f64, &str)]) -> String {
        let end = intervals.last().map_or(0.0, |i| i.1);
        let mut s = format!(
            "File type = \"ooTextFile\"\r\nObject class = \"TextGrid\"\r\n\r\nxmin = 0\r\nxmax = {end} \r\ntiers? <exists> \r\nsize = 1\r\nitem []: \r\n\titem [1]:\r\n\t\tclass = \"IntervalTier\" \r\n\t\tname = \"{tier}\"\r\n\t\txmin = 0 \r\n\t\txmax = {end}\r\n\t\tintervals: size = {}\r\n",
            intervals.len()
        );
        for (k, (a, b, t)) in intervals.iter().enumerate() {
            s += &format!(
                "\t\tintervals [{}]:\r\n\t\t\txmin = {a}\r\n\t\t\txmax = {b} \r\n\t\t\ttext = \"{}\"\r\n",
                k + 1,
                t.replace('"', "\"\"")
            );
        }
        s + "\r\n"
    }

    fn utterances(grid: &TextGrid) -> Vec<(f64, f64, &str, usize)> {
        grid.tiers[0]
            .intervals
            .iter()
            .map(|i| (i.start, i.end, i.text.as_str(), i.line))
            .collect()
    }

    #[test]
    fn long_form_with_escapes_silence_and_non_ascii() {
        let text = long(
            "Speaker",
            &[
                (0.0, 1.5, ""),
                (1.5, 2.25, "Zoë said “fine” 🙂, \"really\""),
                (2.25, 3.0, "  "),
                (3.0, 4.0, "<INAUDIBLE_SPEECH/>"),
            ],
        );
        let grid = parse_textgrid("day1_doctor.TextGrid", text.as_bytes(), Some("doctor")).unwrap();
        assert_eq!((grid.start, grid.end), (0.0, 4.0));
        assert_eq!(grid.tiers[0].speaker.as_deref(), Some("doctor"));
        assert_eq!(
            utterances(&grid),
            [
                (1.5, 2.25, "Zoë said “fine” 🙂, \"really\"", 20),
                (3.0, 4.0, "<INAUDIBLE_SPEECH/>", 28),
            ]
        );
        assert!(grid.warnings.is_empty());
        let t = merge_dialogue(vec![grid]);
        assert_eq!(
            t.text,
            "doctor: Zoë said “fine” 🙂, \"really\"\n\ndoctor: <INAUDIBLE_SPEECH/>"
        );
        assert_eq!(t.turns[0].span, between_core::Span { start: 8, end: 35 });
        assert_eq!(
            (t.turns[0].start_ms, t.turns[0].end_ms),
            (Some(1500), Some(2250))
        );
        assert_eq!(t.markers.len(), 1);
        assert_eq!(t.markers[0].kind, MarkerKind::Inaudible);
        assert!(t.is_marker_only(&t.turns[1]));
        assert!(!t.is_marker_only(&t.turns[0]));
    }

    #[test]
    fn a_named_tier_is_its_speaker_and_a_generic_one_without_default_is_unlabelled() {
        let grid = parse_text(&long("Patient", &[(0.0, 1.0, "Oui")]), Some("x")).unwrap();
        assert_eq!(grid.tiers[0].speaker.as_deref(), Some("Patient"));
        let grid = parse_text(&long("", &[(0.0, 1.0, "Oui")]), None).unwrap();
        assert_eq!(grid.tiers[0].speaker, None);
        assert_eq!(grid.warnings.len(), 1);
        assert!(
            grid.warnings[0].starts_with("line 10: the tier ''"),
            "{:?}",
            grid.warnings
        );
    }

    #[test]
    fn short_form_in_utf16_with_a_point_tier() {
        let text = "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\n0\n2.5\n<exists>\n2\n\"TextTier\"\n\"events\"\n0\n2.5\n1\n1.0\n\"cough\"\n\"IntervalTier\"\n\"Zoë\"\n0\n2.5\n2\n0\n1.25\n\"Bonjour \"\"toi\"\" 🙂\"\n1.25\n2.5\n\"\"\n";
        let bytes: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        let grid = parse_textgrid("short.TextGrid", &bytes, None).unwrap();
        assert_eq!(grid.tiers.len(), 1);
        assert_eq!(grid.tiers[0].speaker.as_deref(), Some("Zoë"));
        assert_eq!(utterances(&grid), [(0.0, 1.25, "Bonjour \"toi\" 🙂", 20)]);
        assert_eq!(
            grid.warnings,
            [
                "line 8: the point tier (TextTier) 'events' is ignored; only interval tiers are turns"
            ]
        );
    }

    #[test]
    fn long_form_point_tiers_and_multi_line_text() {
        let text = "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\nxmin = 0\nxmax = 2\ntiers? <exists>\nsize = 2\nitem []:\n    item [1]:\n        class = \"TextTier\"\n        name = \"bell\"\n        xmin = 0\n        xmax = 2\n        points: size = 1\n        points [1]:\n            number = 0.5\n            mark = \"ring\"\n    item [2]:\n        class = \"IntervalTier\"\n        name = \"A\"\n        xmin = 0\n        xmax = 2\n        intervals: size = 1\n        intervals [1]:\n            xmin = 0\n            xmax = 2\n            text = \"two\r\nlines\"\n";
        let grid = parse_text(text, None).unwrap();
        assert_eq!(utterances(&grid), [(0.0, 2.0, "two\nlines", 25)]);
        assert_eq!(grid.warnings.len(), 1);
    }

    fn error(text: &str) -> (Option<usize>, String) {
        let e = parse_textgrid("bad.TextGrid", text.as_bytes(), None).unwrap_err();
        (e.line_number(), e.to_string())
    }

    #[test]
    fn malformed_files_name_the_line_and_what_was_expected() {
        let good = long("A", &[(0.0, 1.0, "a"), (1.0, 2.0, "b")]);
        // Lines 20-22 are the second interval's xmin, xmax and text.
        let broken = good.replace(
            "xmax = 2 \r\n\t\t\ttext = \"b\"",
            "xmux = 2\r\n\t\t\ttext = \"b\"",
        );
        assert_eq!(
            error(&broken),
            (
                Some(21),
                "bad.TextGrid: line 21: found 'xmux = 2' (expected 'xmax = <number>')".into()
            )
        );
        let nan = good.replace("xmin = 1\r\n", "xmin = one\r\n");
        assert_eq!(
            error(&nan),
            (
                Some(20),
                "bad.TextGrid: line 20: found 'one' (expected 'xmin = <number>')".into()
            )
        );
        let fewer = good.replace("intervals: size = 2", "intervals: size = 3");
        let (line, message) = error(&fewer);
        assert_eq!(line, Some(24), "the end of the file");
        assert!(
            message.contains("intervals: size = 3 at line 14, but interval 3 is missing: found the end of the file (expected 'intervals [3]:')"),
            "{message}"
        );
        let more = good.replace("intervals: size = 2", "intervals: size = 1");
        assert_eq!(
            error(&more),
            (
                Some(19),
                "bad.TextGrid: line 19: intervals: size = 1 at line 14, but more intervals follow (expected 1 intervals)".into()
            )
        );
        let unclosed = good.replace("text = \"b\"", "text = \"b");
        assert_eq!(error(&unclosed).0, Some(22));
        assert!(error(&unclosed).1.contains("not closed"));
        let (line, message) = error(&good.replace("ooTextFile", "ooBinaryFile"));
        assert_eq!(line, Some(1));
        assert!(
            message.contains("the file type is 'ooBinaryFile'"),
            "{message}"
        );
        let (line, message) =
            error(&good.replace("Object class = \"TextGrid\"", "Object class = \"Sound\""));
        assert_eq!(line, Some(2));
        assert!(
            message.contains("(expected Object class = \"TextGrid\")"),
            "{message}"
        );
        let short = "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\n0\n1\n<exists>\n1\n\"IntervalTier\"\n\"A\"\n0\n1\n2\n0\n1\n\"a\"\n";
        let (line, message) = error(short);
        assert_eq!(line, Some(16));
        assert!(
            message.contains("found the end of the file (expected a number (xmin))"),
            "{message}"
        );
        let e = parse_textgrid("bin.TextGrid", b"ooBinaryFile\x08TextGrid", None).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("bin.TextGrid: byte 0: a binary TextGrid"),
            "{e}"
        );
    }

    #[test]
    fn intervals_must_not_go_backwards_overlap_or_end_before_they_start() {
        let (line, message) = error(&long("A", &[(0.0, 1.0, "a"), (0.5, 2.0, "b")]));
        assert_eq!(line, Some(20));
        assert!(
            message.ends_with("line 20: interval 2 starts at 0.5 s, before interval 1 (line 16) ends (1 s): intervals of one tier overlap (expected xmin = 1 or later)"),
            "{message}"
        );
        let (line, message) = error(&long("A", &[(1.0, 2.0, "a"), (0.5, 0.7, "b")]));
        assert_eq!(line, Some(20));
        assert!(message.contains("intervals go backwards"), "{message}");
        let (line, message) = error(&long("A", &[(0.0, 1.0, "a"), (1.0, 0.9, "b")]));
        assert_eq!(line, Some(20));
        assert!(
            message.contains("interval 2 ends (0.9 s) before it starts (1 s)"),
            "{message}"
        );
    }

    #[test]
    fn merging_orders_by_start_then_end_then_input() {
        let a = parse_text(&long("A", &[(0.0, 2.0, "a1"), (2.0, 3.0, "a2")]), None).unwrap();
        let b = parse_text(&long("B", &[(0.0, 1.0, "b1"), (2.0, 3.0, "b2")]), None).unwrap();
        let t = merge_dialogue(vec![a, b]);
        let said: Vec<(Option<&str>, &str)> = t
            .turns
            .iter()
            .map(|x| (x.speaker.as_deref(), slice(&t.text, x.span).unwrap()))
            .collect();
        assert_eq!(
            said,
            [
                (Some("B"), "b1"),
                (Some("A"), "a1"),
                (Some("A"), "a2"),
                (Some("B"), "b2")
            ]
        );
    }

    const PRIMOCK: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/primock57/transcripts"
    );

    /// Every PriMock57 consultation: the doctor's and the patient's channel merged into one
    /// dialogue, with the totals FORMAT.md gives.
    #[test]
    fn primock57_consultations_merge_into_dialogues() {
        let mut names: Vec<String> = std::fs::read_dir(PRIMOCK)
            .expect("../shared/data/primock57 is beside the repository")
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with("_doctor.TextGrid"))
            .collect();
        names.sort();
        assert_eq!(names.len(), 57);
        let (mut turns, mut tag_only) = (0, 0);
        let mut kinds = std::collections::HashMap::new();
        for doctor in &names {
            let patient = doctor.replace("_doctor", "_patient");
            let mut grids = Vec::new();
            let mut non_empty = 0;
            for (file, who) in [(doctor, "doctor"), (&patient, "patient")] {
                let bytes = std::fs::read(format!("{PRIMOCK}/{file}")).unwrap();
                let grid = parse_textgrid(file, &bytes, Some(who)).unwrap();
                assert_eq!(grid.tiers.len(), 1, "{file}");
                assert!(grid.warnings.is_empty(), "{file}: {:?}", grid.warnings);
                let tier = &grid.tiers[0];
                // day1_consultation01 names its tiers "Doctor" and "Patient".
                assert!(
                    tier.speaker
                        .as_deref()
                        .is_some_and(|s| s.eq_ignore_ascii_case(who)),
                    "{file}: {:?}",
                    tier.speaker
                );
                assert!((25..=95).contains(&tier.intervals.len()), "{file}");
                non_empty += tier.intervals.len();
                grids.push(grid);
            }
            let t = merge_dialogue(grids);
            assert_eq!(t.turns.len(), non_empty, "{doctor}");
            assert_eq!(t.speakers().len(), 2, "{doctor}");
            assert!(
                t.turns
                    .windows(2)
                    .all(|w| w[0].start_ms.is_some() && w[0].start_ms <= w[1].start_ms),
                "{doctor}: turns sorted by start"
            );
            // Both speakers take turns: the dialogue changes speaker many times.
            let changes = t
                .turns
                .windows(2)
                .filter(|w| w[0].speaker != w[1].speaker)
                .count();
            assert!(changes * 4 >= t.turns.len(), "{doctor}: {changes} changes");
            for turn in &t.turns {
                let said = slice(&t.text, turn.span).unwrap();
                assert!(
                    !said.is_empty() && said.trim() == said,
                    "{doctor}: {said:?}"
                );
                assert!(turn.end_ms >= turn.start_ms);
            }
            turns += t.turns.len();
            tag_only += t.turns.iter().filter(|x| t.is_marker_only(x)).count();
            for m in &t.markers {
                *kinds.entry(m.kind).or_insert(0) += 1;
                let tag = slice(&t.text, m.span).unwrap();
                assert!(tag.starts_with('<') && tag.ends_with('>'), "{tag}");
            }
            assert!(t.warnings.is_empty(), "{doctor}: {:?}", t.warnings);
        }
        assert_eq!(turns, 7_108);
        assert_eq!(tag_only, 381);
        assert_eq!(kinds.get(&MarkerKind::Unsure), Some(&1_132));
        assert_eq!(kinds.get(&MarkerKind::Unintelligible), Some(&1_359));
        assert_eq!(kinds.get(&MarkerKind::Inaudible), Some(&814));
        assert_eq!(kinds.get(&MarkerKind::Other), None);
    }
}
