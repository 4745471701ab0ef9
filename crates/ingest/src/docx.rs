//! Word `.docx`: only `word/document.xml` is read (at most [`MAX_DOCUMENT_XML`] bytes once
//! decompressed). A paragraph starting with a label (`Label: text`, or a bold run ending the
//! label, with or without a colon) starts a turn, other paragraphs continue the turn before
//! them; a table of `speaker | text` or `time | speaker | text` rows is a turn per row.

use std::io::{Cursor, Read};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use regex::Regex;

use crate::plain::{is_label, label_of, parse_timestamp};
use crate::render::{Render, seconds_to_ms};
use crate::table::{SPEAKER, TEXT, find};
use crate::{At, ParseError, Transcript};

/// The most `word/document.xml` may decompress to: 256 MiB. A larger one (a zip bomb, or no
/// transcript) is refused.
pub const MAX_DOCUMENT_XML: u64 = 256 << 20;

const DOCUMENT: &str = "word/document.xml";

pub(crate) fn parse(bytes: &[u8], pattern: Option<&Regex>) -> Result<Transcript, ParseError> {
    let xml = document_xml(bytes, MAX_DOCUMENT_XML)?;
    let blocks = blocks(&xml)?;
    Ok(turns(blocks, pattern))
}

/// The text of `word/document.xml`, refusing more than `limit` bytes.
fn document_xml(bytes: &[u8], limit: u64) -> Result<String, ParseError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        ParseError::new(
            Some(At::Byte(0)),
            format!("not a Word document: the file is not a zip archive ({e})"),
        )
        .expected("a .docx file")
    })?;
    let mut entry = archive.by_name(DOCUMENT).map_err(|e| match e {
        zip::result::ZipError::FileNotFound => {
            ParseError::new(None, format!("the archive has no {DOCUMENT}"))
                .expected("a Word .docx, which holds word/document.xml")
        }
        e => ParseError::new(None, format!("{DOCUMENT} cannot be read: {e}")),
    })?;
    let too_large = || {
        ParseError::new(
            None,
            format!("{DOCUMENT} decompresses to more than {} MiB", limit >> 20),
        )
        .expected("a Word document of a transcript (a zip bomb is refused)")
    };
    if entry.size() > limit {
        return Err(too_large());
    }
    let mut xml = Vec::with_capacity(entry.size() as usize);
    (&mut entry)
        .take(limit + 1)
        .read_to_end(&mut xml)
        .map_err(|e| ParseError::new(None, format!("{DOCUMENT} cannot be decompressed: {e}")))?;
    if xml.len() as u64 > limit {
        return Err(too_large());
    }
    String::from_utf8(xml).map_err(|e| {
        ParseError::new(
            None,
            format!(
                "{DOCUMENT}, byte {}: invalid UTF-8",
                e.utf8_error().valid_up_to()
            ),
        )
        .expected("UTF-8 XML")
    })
}

#[derive(Debug, Default)]
struct Paragraph {
    /// (text, bold) runs.
    runs: Vec<(String, bool)>,
}

impl Paragraph {
    fn text(&self) -> String {
        self.runs.iter().map(|(t, _)| t.as_str()).collect()
    }
}

#[derive(Debug)]
enum Block {
    Paragraph(Paragraph),
    /// Rows of cells, a cell's paragraphs joined by `\n`.
    Table(Vec<Vec<String>>),
}

/// The body's paragraphs and tables (a nested table's text stays in its outer cell).
fn blocks(xml: &str) -> Result<Vec<Block>, ParseError> {
    let mut reader = Reader::from_str(xml);
    let mut blocks = Vec::new();
    let mut paragraph: Option<Paragraph> = None;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut tables = 0; // nesting depth
    let (mut in_run, mut in_props, mut in_text) = (false, false, false);
    loop {
        let event = reader.read_event().map_err(|e| {
            ParseError::new(
                None,
                format!(
                    "{DOCUMENT}, byte {}: malformed XML: {e}",
                    reader.error_position()
                ),
            )
            .expected("well-formed XML")
        })?;
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                "tbl" => {
                    tables += 1;
                    if tables == 1 {
                        rows.clear();
                    }
                }
                "tr" if tables == 1 => rows.push(Vec::new()),
                "tc" if tables == 1 => {
                    if let Some(row) = rows.last_mut() {
                        row.push(String::new());
                    }
                }
                "p" => paragraph = Some(Paragraph::default()),
                "r" => {
                    in_run = true;
                    if let Some(p) = &mut paragraph {
                        p.runs.push((String::new(), false));
                    }
                }
                "rPr" if in_run => in_props = true,
                "t" if in_run => in_text = true,
                "b" if in_props => set_bold(&mut paragraph, &e),
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                "b" if in_props => set_bold(&mut paragraph, &e),
                "tab" if in_run => push_text(&mut paragraph, "\t"),
                "br" | "cr" if in_run => push_text(&mut paragraph, "\n"),
                _ => {}
            },
            Event::Text(t) if in_text => push_text(&mut paragraph, &t.xml10_content()),
            Event::CData(t) if in_text => {
                push_text(&mut paragraph, &t.into_inner());
            }
            Event::GeneralRef(r) if in_text => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match r.as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                if let Some(c) = c {
                    push_text(&mut paragraph, c.encode_utf8(&mut [0; 4]));
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "rPr" => in_props = false,
                "r" => in_run = false,
                "p" => {
                    let Some(p) = paragraph.take() else {
                        continue;
                    };
                    if tables == 0 {
                        blocks.push(Block::Paragraph(p));
                    } else if let Some(cell) = rows.last_mut().and_then(|r| r.last_mut()) {
                        let text = p.text();
                        if !text.trim().is_empty() {
                            if !cell.is_empty() {
                                cell.push('\n');
                            }
                            cell.push_str(text.trim());
                        }
                    }
                }
                "tbl" => {
                    tables -= 1;
                    if tables == 0 {
                        blocks.push(Block::Table(std::mem::take(&mut rows)));
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(blocks)
}

fn set_bold(paragraph: &mut Option<Paragraph>, e: &BytesStart<'_>) {
    let on = match e.try_get_attribute("w:val") {
        Ok(Some(v)) => !matches!(v.value.as_ref(), "0" | "false" | "off"),
        _ => true,
    };
    if let Some(run) = paragraph.as_mut().and_then(|p| p.runs.last_mut()) {
        run.1 = on;
    }
}

fn push_text(paragraph: &mut Option<Paragraph>, s: &str) {
    if let Some(run) = paragraph.as_mut().and_then(|p| p.runs.last_mut()) {
        run.0.push_str(s);
    }
}

/// The turn being built: speaker, text, start.
type Open = (Option<String>, String, Option<u64>);

fn turns(blocks: Vec<Block>, pattern: Option<&Regex>) -> Transcript {
    let mut render = Render::default();
    let mut warnings = Vec::new();
    let mut open: Option<Open> = None;
    for block in blocks {
        match block {
            Block::Paragraph(p) => match labelled(&p, pattern) {
                Some((label, said)) => start(&mut render, &mut open, (Some(label), said, None)),
                None => continue_turn(&mut open, &p.text()),
            },
            Block::Table(rows) => {
                for (k, row) in rows.iter().enumerate() {
                    let cells: Vec<&str> = row.iter().map(String::as_str).collect();
                    if k == 0 && find(&cells, SPEAKER).is_some() && find(&cells, TEXT).is_some() {
                        continue;
                    }
                    let (time, speaker, said) = match cells.as_slice() {
                        [speaker, said] => (None, *speaker, *said),
                        [time, speaker, said] => (time_of(time), *speaker, *said),
                        _ => {
                            if k == 0 {
                                warnings.push(format!(
                                    "a table with {} columns is read as paragraphs (turn tables have speaker | text or time | speaker | text)",
                                    cells.len()
                                ));
                            }
                            for cell in cells {
                                continue_turn(&mut open, cell);
                            }
                            continue;
                        }
                    };
                    let speaker = speaker.trim().trim_end_matches(':').trim();
                    if speaker.is_empty() {
                        continue_turn(&mut open, said);
                    } else {
                        start(
                            &mut render,
                            &mut open,
                            (Some(speaker.to_string()), said.trim().to_string(), time),
                        );
                    }
                }
            }
        }
    }
    if let Some((s, text, ms)) = open {
        render.turn(s.as_deref(), &text, ms, None);
    }
    if render.is_empty() {
        warnings.push("the document has no text".to_string());
    }
    render.finish(warnings)
}

fn start(render: &mut Render, open: &mut Option<Open>, next: Open) {
    if let Some((s, text, ms)) = open.replace(next) {
        render.turn(s.as_deref(), &text, ms, None);
    }
}

fn continue_turn(open: &mut Option<Open>, said: &str) {
    let said = said.trim();
    if said.is_empty() {
        return;
    }
    match open {
        Some((_, text, _)) => {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(said);
        }
        None => *open = Some((None, said.to_string(), None)),
    }
}

/// `Label: text` (or the speaker pattern), else a bold run ending the label: the label and
/// what follows it.
fn labelled(p: &Paragraph, pattern: Option<&Regex>) -> Option<(String, String)> {
    let text = p.text();
    if let Ok(Some(head)) = label_of(&text, pattern) {
        return Some((
            head.label.to_string(),
            text[head.content_byte..].to_string(),
        ));
    }
    let bold: String = p
        .runs
        .iter()
        .take_while(|(_, b)| *b)
        .map(|(t, _)| t.as_str())
        .collect();
    let rest = text[bold.len()..].trim_start();
    let colon = bold.trim_end().ends_with(':');
    let label = bold.trim().trim_end_matches(':').trim_end();
    if label.is_empty() || !is_label(label) || rest.is_empty() && !colon {
        return None;
    }
    let rest = if colon {
        rest
    } else {
        rest.strip_prefix(':').unwrap_or(rest)
    };
    Some((label.to_string(), rest.trim_start().to_string()))
}

/// A table's time cell: `[00:01:02]`, `1:02`, or seconds.
fn time_of(cell: &str) -> Option<u64> {
    let cell = cell.trim().trim_start_matches('[').trim_end_matches(']');
    parse_timestamp(cell).or_else(|| cell.parse::<f64>().ok().and_then(seconds_to_ms))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::testing::timed;

    fn said(t: &Transcript) -> Vec<(Option<&str>, &str, Option<u64>)> {
        let timed = timed(t);
        assert!(
            timed.iter().all(|x| x.3.is_none()),
            "Word turns have no end"
        );
        timed
            .into_iter()
            .map(|(s, text, start, _)| (s, text, start))
            .collect()
    }

    /// A real .docx: a zip with [Content_Types].xml, word/document.xml and a style part.
    fn docx(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in entries {
            zip.start_file(*name, options).unwrap();
            zip.write_all(content.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn document(body: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}<w:sectPr/></w:body></w:document>"#
        )
    }

    fn word(body: &str) -> Vec<u8> {
        docx(&[
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#,
            ),
            ("word/document.xml", &document(body)),
            ("word/styles.xml", "<w:styles/>"),
        ])
    }

    const BOLD: &str = "<w:rPr><w:b/></w:rPr>";

    #[test]
    fn paragraphs_bold_labels_and_tables_of_turns() {
        let body = format!(
            concat!(
                r#"<w:p><w:pPr><w:rPr><w:b/></w:rPr></w:pPr><w:r><w:t>Interview 3 &amp; notes</w:t></w:r></w:p>"#,
                r#"<w:p><w:r><w:t xml:space="preserve">INTERVIEWER: How did it </w:t></w:r><w:r><w:t>start?</w:t></w:r></w:p>"#,
                r#"<w:p><w:r>{b}<w:t xml:space="preserve">Zoë </w:t></w:r><w:r><w:t>“Fine,” she said 🙂</w:t></w:r></w:p>"#,
                r#"<w:p><w:r><w:t>It was</w:t></w:r><w:r><w:br/><w:t>late.</w:t></w:r></w:p>"#,
                r#"<w:p/>"#,
                r#"<w:p><w:r>{b}<w:t>Dr Lee:</w:t></w:r><w:r><w:t xml:space="preserve"> Oui.</w:t></w:r></w:p>"#,
                r#"<w:p><w:r><w:rPr><w:b w:val="0"/></w:rPr><w:t>Plain words</w:t></w:r><w:r><w:t xml:space="preserve"> continue.</w:t></w:r></w:p>"#,
                r#"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Time</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Speaker</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Text</w:t></w:r></w:p></w:tc></w:tr>"#,
                r#"<w:tr><w:tc><w:p><w:r><w:t>[00:01:02]</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>P3</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Sí,</w:t></w:r></w:p><w:p><w:r><w:t>claro.</w:t></w:r></w:p></w:tc></w:tr>"#,
                r#"<w:tr><w:tc><w:p/></w:tc><w:tc><w:p/></w:tc><w:tc><w:p><w:r><w:t>And more.</w:t></w:r></w:p></w:tc></w:tr>"#,
                r#"</w:tbl>"#,
                r#"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>INTERVIEWER</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Merci &#x1F642;</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"#,
            ),
            b = BOLD
        );
        let t = parse(&word(&body), None).unwrap();
        assert_eq!(
            said(&t),
            [
                (None, "Interview 3 & notes", None),
                (Some("INTERVIEWER"), "How did it start?", None),
                (Some("Zoë"), "“Fine,” she said 🙂\nIt was\nlate.", None),
                (Some("Dr Lee"), "Oui.\nPlain words continue.", None),
                (Some("P3"), "Sí,\nclaro.\nAnd more.", Some(62_000)),
                (Some("INTERVIEWER"), "Merci 🙂", None),
            ]
        );
        assert_eq!(
            t.text,
            "Interview 3 & notes\n\nINTERVIEWER: How did it start?\n\nZoë: “Fine,” she said 🙂\nIt was\nlate.\n\nDr Lee: Oui.\nPlain words continue.\n\nP3: Sí,\nclaro.\nAnd more.\n\nINTERVIEWER: Merci 🙂"
        );
        assert_eq!(t.turns[2].span, between_core::Span { start: 58, end: 89 });
        assert!(t.warnings.is_empty(), "{:?}", t.warnings);
    }

    #[test]
    fn a_whole_bold_paragraph_is_a_heading_not_a_label() {
        let body = format!(
            r#"<w:p><w:r>{BOLD}<w:t>Part two</w:t></w:r></w:p><w:p><w:r><w:t>A: yes</w:t></w:r></w:p>"#
        );
        let t = parse(&word(&body), None).unwrap();
        assert_eq!(
            said(&t),
            [(None, "Part two", None), (Some("A"), "yes", None)]
        );
    }

    #[test]
    fn not_a_docx() {
        let e = parse(b"plain text, not a zip", None)
            .unwrap_err()
            .in_file("a.docx");
        assert!(
            e.to_string()
                .starts_with("a.docx: byte 0: not a Word document: the file is not a zip archive"),
            "{e}"
        );
        assert!(e.to_string().ends_with("(expected a .docx file)"), "{e}");
        let e = parse(&docx(&[("word/other.xml", "<x/>")]), None)
            .unwrap_err()
            .in_file("a.docx");
        assert_eq!(
            e.to_string(),
            "a.docx: the archive has no word/document.xml (expected a Word .docx, which holds word/document.xml)"
        );
        let e = parse(
            &docx(&[("word/document.xml", "<w:document><w:body></w:document>")]),
            None,
        )
        .unwrap_err();
        assert!(e.message.starts_with("word/document.xml, byte "), "{e}");
        assert!(e.message.contains("malformed XML"), "{e}");
    }

    #[test]
    fn a_zip_bomb_is_refused() {
        // 2 MiB of XML that compresses to a few kilobytes, against a 1 MiB limit.
        let padding = " ".repeat(2 << 20);
        let bomb = docx(&[("word/document.xml", &document(&padding))]);
        assert!(bomb.len() < 16 << 10, "{}", bomb.len());
        let e = document_xml(&bomb, 1 << 20).unwrap_err();
        assert_eq!(
            e.to_string(),
            ": word/document.xml decompresses to more than 1 MiB (expected a Word document of a transcript (a zip bomb is refused))"
        );
        assert!(document_xml(&bomb, 4 << 20).is_ok());
        assert_eq!(MAX_DOCUMENT_XML, 256 * 1024 * 1024);
    }
}
