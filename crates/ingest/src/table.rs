//! CSV/TSV utterance tables: one row per utterance (speaker, start, end, text), ordered by
//! start time when every row has one.

use crate::plain::parse_timestamp;
use crate::render::{Render, seconds_to_ms};
use crate::{At, Format, ParseError, ParseOptions, Transcript};

/// A column of a table: by header name (case-insensitive) or 0-based index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    Name(String),
    Index(usize),
}

/// Which columns hold what. A column not given is found by its header (e.g. `speaker`,
/// `participant`; `start`, `begin`, `xmin`; `end`, `stop`, `xmax`; `text`, `utterance`,
/// `transcript`). Without a header, a table of four columns is speaker, start, end, text and
/// one of two is speaker, text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    pub speaker: Option<Column>,
    pub start: Option<Column>,
    pub end: Option<Column>,
    pub text: Option<Column>,
    /// Whether the first row is a header; by default, when it names a column.
    pub header: Option<bool>,
}

pub(crate) const SPEAKER: &[&str] = &[
    "speaker",
    "participant",
    "who",
    "name",
    "label",
    "tier",
    "role",
];
const START: &[&str] = &[
    "start",
    "begin",
    "start time",
    "start_time",
    "starttime",
    "from",
    "xmin",
    "onset",
    "time",
];
const END: &[&str] = &[
    "end", "stop", "end time", "end_time", "endtime", "to", "xmax", "offset",
];
pub(crate) const TEXT: &[&str] = &[
    "text",
    "utterance",
    "transcript",
    "transcription",
    "content",
    "words",
    "annotation",
    "what",
    "said",
];

/// Where each field is in a row.
#[derive(Debug)]
struct Layout {
    speaker: Option<usize>,
    start: Option<usize>,
    end: Option<usize>,
    text: usize,
}

pub(crate) fn parse(
    text: &str,
    format: Format,
    options: &ParseOptions,
) -> Result<Transcript, ParseError> {
    let delimiter = options.delimiter.unwrap_or_else(|| match format {
        Format::Tsv => b'\t',
        _ => sniff(text),
    });
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = reader.records().enumerate();
    let Some((_, first)) = rows.next() else {
        return Err(ParseError::new(Some(At::Row(1)), "the table has no rows"));
    };
    let first = first.map_err(|e| csv_error(1, &e))?;
    let first: Vec<&str> = first.iter().collect();
    let cols = &options.columns;
    let header = cols.header.unwrap_or_else(|| {
        [&cols.speaker, &cols.start, &cols.end, &cols.text]
            .iter()
            .any(|c| matches!(c, Some(Column::Name(_))))
            || [SPEAKER, START, END, TEXT]
                .iter()
                .any(|names| find(&first, names).is_some())
    });
    let layout = layout(&first, header, cols)?;
    let mut utterances = Vec::new();
    if !header {
        utterances.extend(row(&first, 1, &layout)?);
    }
    for (k, record) in rows {
        let number = k + 1;
        let record = record.map_err(|e| csv_error(number, &e))?;
        let fields: Vec<&str> = record.iter().collect();
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        utterances.extend(row(&fields, number, &layout)?);
    }
    if utterances.iter().all(|u| u.1.is_some()) {
        utterances.sort_by_key(|u| (u.1, u.2));
    }
    let mut render = Render::with_capacity(text.len());
    for (speaker, start, end, said) in &utterances {
        render.turn(speaker.as_deref(), said, *start, *end);
    }
    let mut warnings = Vec::new();
    if render.is_empty() {
        warnings.push("the table has no utterances with text".to_string());
    }
    Ok(render.finish(warnings))
}

type Utterance = (Option<String>, Option<u64>, Option<u64>, String);

fn row(fields: &[&str], number: usize, layout: &Layout) -> Result<Option<Utterance>, ParseError> {
    let at = Some(At::Row(number));
    let field = |index: usize, what: &str| {
        fields.get(index).copied().ok_or_else(|| {
            ParseError::new(
                at,
                format!(
                    "the row has {} fields, but the {what} is field {}",
                    fields.len(),
                    index + 1
                ),
            )
            .expected(format!("at least {} fields", index + 1))
        })
    };
    let said = field(layout.text, "text")?.trim();
    if said.is_empty() {
        return Ok(None);
    }
    let time = |index: Option<usize>, what: &str| -> Result<Option<u64>, ParseError> {
        let Some(index) = index else {
            return Ok(None);
        };
        let cell = field(index, what)?.trim();
        if cell.is_empty() {
            return Ok(None);
        }
        let ms = if cell.contains(':') {
            parse_timestamp(cell)
        } else {
            cell.parse::<f64>().ok().and_then(seconds_to_ms)
        };
        ms.map(Some).ok_or_else(|| {
            ParseError::new(at, format!("'{cell}' in the {what} column is not a time"))
                .expected("seconds (12.5) or hh:mm:ss.mmm")
        })
    };
    let start = time(layout.start, "start")?;
    let end = time(layout.end, "end")?;
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        return Err(ParseError::new(
            at,
            format!("the utterance ends ({e} ms) before it starts ({s} ms)"),
        )
        .expected("an end at or after the start"));
    }
    let speaker = match layout.speaker {
        Some(i) => Some(field(i, "speaker")?.trim()).filter(|s| !s.is_empty()),
        None => None,
    };
    Ok(Some((
        speaker.map(str::to_string),
        start,
        end,
        said.to_string(),
    )))
}

fn layout(first: &[&str], header: bool, cols: &Columns) -> Result<Layout, ParseError> {
    let at = Some(At::Row(1));
    let resolve = |given: &Option<Column>, names: &[&str]| -> Result<Option<usize>, ParseError> {
        match given {
            Some(Column::Index(i)) => Ok(Some(*i)),
            Some(Column::Name(name)) if header => {
                find(first, &[name.as_str()]).map(Some).ok_or_else(|| {
                    ParseError::new(at, format!("no column named '{name}' in the header"))
                        .expected(format!("one of: {}", first.join(", ")))
                })
            }
            Some(Column::Name(name)) => Err(ParseError::new(
                at,
                format!("the column '{name}' is given by name, but the table has no header"),
            )
            .expected("a header row, or the column by index")),
            None if header => Ok(find(first, names)),
            None => Ok(None),
        }
    };
    let mut layout = Layout {
        speaker: resolve(&cols.speaker, SPEAKER)?,
        start: resolve(&cols.start, START)?,
        end: resolve(&cols.end, END)?,
        text: usize::MAX,
    };
    match resolve(&cols.text, TEXT)? {
        Some(text) => layout.text = text,
        None if header => {
            return Err(
                ParseError::new(at, "the header names no text column").expected(
                    "a column named text, utterance or transcript, or the text column given",
                ),
            );
        }
        None => {
            let given = [&cols.speaker, &cols.start, &cols.end]
                .iter()
                .any(|c| c.is_some());
            match first.len() {
                4 if !given => {
                    layout = Layout {
                        speaker: Some(0),
                        start: Some(1),
                        end: Some(2),
                        text: 3,
                    };
                }
                2 if !given => {
                    layout.speaker = Some(0);
                    layout.text = 1;
                }
                n => {
                    return Err(ParseError::new(
                        at,
                        format!("the table has no header and {n} columns, so which holds what is not known"),
                    )
                    .expected("a header row (speaker, start, end, text), or the columns given"));
                }
            }
        }
    }
    Ok(layout)
}

pub(crate) fn find(header: &[&str], names: &[&str]) -> Option<usize> {
    header.iter().position(|h| {
        let h = h.trim();
        names.iter().any(|n| h.eq_ignore_ascii_case(n))
    })
}

/// The likeliest delimiter of the first line: tab, semicolon or comma.
fn sniff(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let count = |c: char| first.matches(c).count();
    [b'\t', b';', b',']
        .into_iter()
        .max_by_key(|&d| (count(char::from(d)), d == b','))
        .filter(|&d| count(char::from(d)) > 0)
        .unwrap_or(b',')
}

fn csv_error(row: usize, e: &csv::Error) -> ParseError {
    ParseError::new(Some(At::Row(row)), format!("the table cannot be read: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::timed as said;

    fn table(text: &str, format: Format, options: &ParseOptions) -> Result<Transcript, ParseError> {
        parse(text, format, options)
    }

    #[test]
    fn rows_by_header_name_ordered_by_start() {
        let t = table(
            "Text,Speaker,Begin,End\n\"Zoë: “fine”, really 🙂\",patient,00:00:02.5,4\nBonjour,doctor,0,2.5\n,doctor,5,6\n",
            Format::Csv,
            &ParseOptions::default(),
        )
        .unwrap();
        assert_eq!(
            said(&t),
            [
                (Some("doctor"), "Bonjour", Some(0), Some(2500)),
                (
                    Some("patient"),
                    "Zoë: “fine”, really 🙂",
                    Some(2500),
                    Some(4000)
                ),
            ]
        );
        assert_eq!(t.text, "doctor: Bonjour\n\npatient: Zoë: “fine”, really 🙂");
    }

    #[test]
    fn tsv_semicolons_and_columns_by_index_or_name() {
        let t = table(
            "A\t1\t2\tOui\nB\t2\t3\tNon\n",
            Format::Tsv,
            &ParseOptions::default(),
        )
        .unwrap();
        assert_eq!(said(&t)[1], (Some("B"), "Non", Some(2000), Some(3000)));
        let t = table(
            "who;what\nA;un; deux\n",
            Format::Csv,
            &ParseOptions::default(),
        );
        assert_eq!(said(&t.unwrap()), [(Some("A"), "un", None, None)]);
        let options = ParseOptions {
            columns: Columns {
                speaker: Some(Column::Index(2)),
                text: Some(Column::Name("Remark".into())),
                start: Some(Column::Name("t".into())),
                ..Columns::default()
            },
            ..ParseOptions::default()
        };
        let t = table("remark,t,spk\nça,1:02,X\n", Format::Csv, &options).unwrap();
        assert_eq!(said(&t), [(Some("X"), "ça", Some(62_000), None)]);
    }

    fn error(text: &str, options: &ParseOptions) -> String {
        table(text, Format::Csv, options)
            .unwrap_err()
            .in_file("u.csv")
            .to_string()
    }

    #[test]
    fn bad_rows_are_named() {
        let d = ParseOptions::default();
        assert_eq!(
            error("speaker,start,end,text\nA,0,1,ok\nB,soon,2,no\n", &d),
            "u.csv: row 3: 'soon' in the start column is not a time (expected seconds (12.5) or hh:mm:ss.mmm)"
        );
        assert_eq!(
            error("speaker,start,end,text\nA,3,1,no\n", &d),
            "u.csv: row 2: the utterance ends (1000 ms) before it starts (3000 ms) (expected an end at or after the start)"
        );
        assert_eq!(
            error("speaker,start,end,text\nA,0,1\n", &d),
            "u.csv: row 2: the row has 3 fields, but the text is field 4 (expected at least 4 fields)"
        );
        assert_eq!(
            error("speaker,start\nA,0\n", &d),
            "u.csv: row 1: the header names no text column (expected a column named text, utterance or transcript, or the text column given)"
        );
        assert!(
            error("A,0,1\n", &d).starts_with("u.csv: row 1: the table has no header and 3 columns")
        );
        let named = ParseOptions {
            columns: Columns {
                text: Some(Column::Name("words said".into())),
                ..Columns::default()
            },
            ..ParseOptions::default()
        };
        assert_eq!(
            error("speaker,text\nA,b\n", &named),
            "u.csv: row 1: no column named 'words said' in the header (expected one of: speaker, text)"
        );
    }
}
