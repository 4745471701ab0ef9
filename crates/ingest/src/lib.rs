//! Transcript formats → [`Transcript`]: a text and its speaker turns as spans of that text, plus
//! the transcription markers in it. Nothing here touches a study.
//!
//! # Entry point
//!
//! ```no_run
//! use between_ingest::{Format, ParseOptions, parse};
//! let bytes = std::fs::read("interview.vtt").unwrap();
//! let t = parse("interview.vtt", &bytes, Format::Auto, &ParseOptions::default()).unwrap();
//! for turn in &t.turns {
//!     println!("{:?} {:?}..{:?}", turn.speaker, turn.start_ms, turn.end_ms);
//! }
//! ```
//!
//! - [`parse`]`(name, bytes, format, options) -> Result<Transcript, ParseError>` reads one file.
//!   [`Format::Auto`] calls [`Format::detect`]`(name, bytes)`: the extension first, then the
//!   content (`WEBVTT`, `File type = "ooTextFile"`, zip magic, an SRT cue `1` / `00:00:01,000 -->`),
//!   else plain text.
//! - [`parse_textgrid`]`(name, bytes, default_speaker) -> Result<TextGrid, ParseError>` and
//!   [`merge_dialogue`]`(Vec<TextGrid>) -> Transcript` turn one Praat TextGrid per speaker
//!   channel into one dialogue ordered by start time (ties: by end, then by input order).
//! - [`parse_plain`], [`prose`], [`decode`] and [`parse_timestamp`] are the older plain-text
//!   building blocks; [`parse_plain_with`] is [`parse_plain`] with a speaker pattern,
//!   [`decode_with`] is [`decode`] with an explicit encoding, [`format_timestamp`] is the
//!   inverse of [`parse_timestamp`].
//!
//! # The text
//!
//! Plain text is kept exactly as the file has it (BOM removed, line endings kept), so offsets
//! other tools computed on the file hold. Every other format is **rendered** from its turns:
//! `LABEL: text` paragraphs separated by a blank line (`\n\n`); an unlabelled turn has no
//! prefix; the lines of one turn are joined by `\n`. A turn's span covers its text only, not
//! the label. All offsets are Unicode code points, end exclusive.
//!
//! # Formats
//!
//! | format | turns | times |
//! |---|---|---|
//! | `Txt` | a line starting with `LABEL:` (or [`ParseOptions::speaker_pattern`]) starts a turn; `[hh:mm:ss]` before the label | start |
//! | `Docx` | paragraphs; `Label: text` or a bold label run; tables of `speaker \| text` or `time \| speaker \| text` | start (tables) |
//! | `Vtt`, `Srt` | cues; `<v Name>` or `Name:`; consecutive cues of one speaker merge | start, end |
//! | `TextGrid` | non-blank intervals, one tier per speaker | start, end |
//! | `Csv`, `Tsv` | one row per utterance (speaker, start, end, text), ordered by start | start, end |
//!
//! # Markers
//!
//! `<UNSURE>…</UNSURE>`, `<UNIN/>`, `<INAUDIBLE_SPEECH/>` and any other self-closing `<TAG/>`
//! stay in the text and are listed in [`Transcript::markers`] so that a view can tell them from
//! speech. A turn holding only markers is still a turn ([`Transcript::is_marker_only`]).
//!
//! # Errors
//!
//! [`ParseError`] names the file and, where it can, the line, CSV row or byte offset:
//! `day1.TextGrid: line 14: expected 'xmax = <number>'`,
//! `talk.vtt: line 9: the cue ends (00:00:01.000) before it starts (00:00:02.000)`,
//! `notes.txt: byte 14: invalid UTF-8 (expected UTF-8 or UTF-16 with a byte-order mark, or give the encoding)`.
//! Warnings (overlapping speech, point tiers ignored, no speaker labels) are in
//! [`Transcript::warnings`].

mod decode;
mod docx;
mod format;
mod markers;
mod plain;
mod render;
mod subtitles;
mod table;
mod textgrid;

pub use decode::{DecodeError, decode, decode_with};
pub use docx::MAX_DOCUMENT_XML;
pub use format::Format;
pub use markers::{Marker, MarkerKind};
pub use plain::{format_timestamp, parse_plain, parse_plain_with, parse_timestamp, prose};
pub use table::{Column, Columns};
pub use textgrid::{Interval, TextGrid, Tier, merge_dialogue, parse_textgrid};

use std::fmt;

use between_core::Turn;

/// A parsed transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transcript {
    pub text: String,
    /// In text order, not overlapping.
    pub turns: Vec<Turn>,
    /// Things a person should know about the parse (e.g. no speaker labels were found).
    pub warnings: Vec<String>,
    /// Transcription markers in the text, by start (an `Unsure` stretch comes before the
    /// markers inside it).
    pub markers: Vec<Marker>,
}

impl Transcript {
    /// A transcript whose markers are found in `text`.
    pub fn new(text: String, turns: Vec<Turn>, mut warnings: Vec<String>) -> Self {
        let markers = markers::find(&text, &mut warnings);
        Self {
            text,
            turns,
            warnings,
            markers,
        }
    }

    /// Speaker labels in order of first appearance.
    pub fn speakers(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for label in self.turns.iter().filter_map(|t| t.speaker.as_deref()) {
            if !seen.contains(&label) {
                seen.push(label);
            }
        }
        seen
    }

    /// Whether `turn` holds only markers (and spaces): timed speech with no words, such as an
    /// interval that is only `<INAUDIBLE_SPEECH/>`.
    pub fn is_marker_only(&self, turn: &Turn) -> bool {
        markers::only_markers(&self.text, turn.span, &self.markers)
    }
}

/// What to do beyond the defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// A regular expression recognising a speaker label at the start of a line (plain text, Word
    /// paragraphs, subtitle cues), with a named group `speaker` and optionally `time`, e.g.
    /// `^(?P<speaker>DR|PT):\s*`. What follows the match is what the speaker says.
    pub speaker_pattern: Option<String>,
    /// An encoding label (`windows-1252`, `latin1`, `utf-16le`, …) for files that are not UTF-8
    /// or UTF-16 with a byte-order mark.
    pub encoding: Option<String>,
    /// The speaker of a TextGrid tier with a generic name (`Speaker`, empty), e.g. from the file
    /// name. Without it such tiers are unlabelled.
    pub default_speaker: Option<String>,
    /// Which columns of a CSV/TSV table hold what; by default found by header name.
    pub columns: Columns,
    /// The CSV delimiter; by default `\t` for TSV and sniffed for CSV.
    pub delimiter: Option<u8>,
}

/// Where in a file a [`ParseError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// 1-based line of the (decoded) text.
    Line(usize),
    /// 0-based byte offset in the file.
    Byte(usize),
    /// 1-based row of a table, the header being row 1 when there is one.
    Row(usize),
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Line(n) => write!(f, "line {n}"),
            At::Byte(n) => write!(f, "byte {n}"),
            At::Row(n) => write!(f, "row {n}"),
        }
    }
}

/// A file that could not be read as a transcript: `NAME: line L: what was wrong (expected …)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub file: String,
    pub at: Option<At>,
    pub message: String,
    pub expected: Option<String>,
}

impl ParseError {
    pub(crate) fn new(at: Option<At>, message: impl Into<String>) -> Self {
        Self {
            file: String::new(),
            at,
            message: message.into(),
            expected: None,
        }
    }

    pub(crate) fn line(line: usize, message: impl Into<String>) -> Self {
        Self::new(Some(At::Line(line)), message)
    }

    pub(crate) fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    pub(crate) fn in_file(mut self, name: &str) -> Self {
        name.clone_into(&mut self.file);
        self
    }

    /// The line, if the error has one.
    pub fn line_number(&self) -> Option<usize> {
        match self.at {
            Some(At::Line(n)) => Some(n),
            _ => None,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file)?;
        if let Some(at) = self.at {
            write!(f, "{at}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(expected) = &self.expected {
            write!(f, " (expected {expected})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

/// Parses one transcript file of `format` ([`Format::Auto`]: detected from the name and bytes).
pub fn parse(
    name: &str,
    bytes: &[u8],
    format: Format,
    options: &ParseOptions,
) -> Result<Transcript, ParseError> {
    parse_as(name, bytes, format, options).map_err(|e| e.in_file(name))
}

fn parse_as(
    name: &str,
    bytes: &[u8],
    format: Format,
    options: &ParseOptions,
) -> Result<Transcript, ParseError> {
    let format = match format {
        Format::Auto => Format::detect(name, bytes),
        f => f,
    };
    let text = || decode_with(bytes, options.encoding.as_deref());
    let pattern = || plain::compile(options.speaker_pattern.as_deref());
    match format {
        Format::Auto | Format::Txt => {
            if bytes.starts_with(&format::OLE_MAGIC) {
                return Err(ParseError::new(
                    Some(At::Byte(0)),
                    "an old binary Word (.doc) file cannot be read",
                )
                .expected("a .docx, or the document saved as text"));
            }
            parse_plain_with(text()?, pattern()?.as_ref())
        }
        Format::Docx => docx::parse(bytes, pattern()?.as_ref()),
        Format::Vtt => subtitles::parse(&text()?, subtitles::Kind::Vtt, pattern()?.as_ref()),
        Format::Srt => subtitles::parse(&text()?, subtitles::Kind::Srt, pattern()?.as_ref()),
        Format::TextGrid => {
            let mut grid = textgrid::parse_text(&text()?, options.default_speaker.as_deref())?;
            name.clone_into(&mut grid.name);
            Ok(merge_dialogue(vec![grid]))
        }
        Format::Csv | Format::Tsv => table::parse(&text()?, format, options),
    }
}

/// What tests compare: turns as (speaker, text) or (speaker, text, start, end).
#[cfg(test)]
pub(crate) mod testing {
    use between_core::text::slice;

    use crate::Transcript;

    pub(crate) type Timed<'a> = (Option<&'a str>, &'a str, Option<u64>, Option<u64>);

    pub(crate) fn said(t: &Transcript) -> Vec<(Option<&str>, &str)> {
        timed(t)
            .into_iter()
            .map(|(s, text, _, _)| (s, text))
            .collect()
    }

    pub(crate) fn timed(t: &Transcript) -> Vec<Timed<'_>> {
        t.turns
            .iter()
            .map(|x| {
                let text = slice(&t.text, x.span).expect("a turn's span is in its text");
                (x.speaker.as_deref(), text, x.start_ms, x.end_ms)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::said as turns;

    #[test]
    fn one_entry_point_detects_and_parses_every_format() {
        let d = ParseOptions::default();
        let vtt = parse(
            "x.vtt",
            "WEBVTT\n\n00:01.000 --> 00:02.000\n<v Zoë>Salut 🙂\n".as_bytes(),
            Format::Auto,
            &d,
        )
        .unwrap();
        assert_eq!(turns(&vtt), [(Some("Zoë"), "Salut 🙂")]);
        let srt = parse(
            "upload",
            b"1\n00:00:01,000 --> 00:00:02,000\nA: hi\n",
            Format::Auto,
            &d,
        )
        .unwrap();
        assert_eq!(turns(&srt), [(Some("A"), "hi")]);
        let tsv = parse("x.tsv", b"speaker\ttext\nA\tok\n", Format::Auto, &d).unwrap();
        assert_eq!(turns(&tsv), [(Some("A"), "ok")]);
        let txt = parse("x.txt", "DR: “Hi”\n".as_bytes(), Format::Auto, &d).unwrap();
        assert_eq!(turns(&txt), [(Some("DR"), "“Hi”")]);
        assert_eq!(
            txt.text, "DR: “Hi”\n",
            "plain text is kept as the file has it"
        );
        let grid = "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\n0\n1\n<exists>\n1\n\"IntervalTier\"\n\"Speaker\"\n0\n1\n1\n0\n1\n\"<UNIN/> oui\"\n";
        let options = ParseOptions {
            default_speaker: Some("patient".into()),
            ..ParseOptions::default()
        };
        let t = parse("p.TextGrid", grid.as_bytes(), Format::Auto, &options).unwrap();
        assert_eq!(turns(&t), [(Some("patient"), "<UNIN/> oui")]);
        assert_eq!(t.markers[0].kind, MarkerKind::Unintelligible);
        assert_eq!(t.markers[0].span, between_core::Span { start: 9, end: 16 });
        let t = parse("p.TextGrid", grid.as_bytes(), Format::TextGrid, &d).unwrap();
        assert_eq!(turns(&t), [(None, "<UNIN/> oui")]);
        assert_eq!(t.warnings.len(), 1);
        assert!(
            t.warnings[0].starts_with("p.TextGrid: line 8: the tier 'Speaker'"),
            "{:?}",
            t.warnings
        );
    }

    #[test]
    fn speaker_patterns_and_encodings_reach_every_text_format() {
        let options = ParseOptions {
            speaker_pattern: Some(r"^(?P<speaker>DR|PT)\s*>\s*".into()),
            encoding: Some("windows-1252".into()),
            ..ParseOptions::default()
        };
        let t = parse(
            "a.txt",
            b"DR > Caf\xE9?\nPT > Oui \x93merci\x94\n",
            Format::Txt,
            &options,
        )
        .unwrap();
        assert_eq!(
            turns(&t),
            [(Some("DR"), "Café?"), (Some("PT"), "Oui “merci”")]
        );
        let vtt = b"WEBVTT\n\n00:01.000 --> 00:02.000\nPT > D\xE9j\xE0\n";
        let t = parse("a.vtt", vtt, Format::Auto, &options).unwrap();
        assert_eq!(turns(&t), [(Some("PT"), "Déjà")]);
    }

    #[test]
    fn errors_name_the_file_and_where() {
        let d = ParseOptions::default();
        let e = parse("notes.txt", b"A: fine\nB: caf\xE9\n", Format::Auto, &d).unwrap_err();
        assert_eq!(
            e.to_string(),
            "notes.txt: byte 14: invalid UTF-8 (line 2) (expected UTF-8, or UTF-16 with a byte-order mark; or give the file's encoding)"
        );
        assert_eq!(e.at, Some(At::Byte(14)));
        let klingon = ParseOptions {
            encoding: Some("klingon".into()),
            ..ParseOptions::default()
        };
        let e = parse("a.txt", b"hi", Format::Txt, &klingon).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("a.txt: unknown encoding 'klingon'"),
            "{e}"
        );
        let e = parse("x.vtt", b"WEBVT\n", Format::Auto, &d).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.vtt: line 1: a WebVTT file must start with WEBVTT (expected 'WEBVTT' as the first line)"
        );
        let e = parse("old.doc", &format::OLE_MAGIC, Format::Auto, &d).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("old.doc: byte 0: an old binary Word (.doc) file"),
            "{e}"
        );
        let e = parse("x.docx", b"not a zip", Format::Auto, &d).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("x.docx: byte 0: not a Word document"),
            "{e}"
        );
        let bad = ParseOptions {
            speaker_pattern: Some("(".into()),
            ..ParseOptions::default()
        };
        let e = parse("a.txt", b"A: b", Format::Txt, &bad).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("a.txt: the speaker pattern is not a regular expression"),
            "{e}"
        );
        let e = parse("e.csv", b"", Format::Auto, &d).unwrap_err();
        assert_eq!(
            e.to_string(),
            "e.csv: the file is empty (expected a transcript)"
        );
    }
}
