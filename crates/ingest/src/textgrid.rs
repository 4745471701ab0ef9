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
        match after.and_then(|a| a.strip_prefix('=')) {
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
