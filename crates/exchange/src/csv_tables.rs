use std::collections::HashMap;
use std::io::{Read, Write};

use between_core::spreadsheet;
use between_study::{CodingTarget, CodingView, NewCoding};

use crate::ExchangeError;

/// Columns of the codings export, in order.
pub const CODING_COLUMNS: &[&str] = &[
    "coding_id",
    "source",
    "start",
    "end",
    "quote",
    "code",
    "coder",
    "contrast",
    "memo",
    "speaker",
    "role",
    "participant",
    "dyad",
    "created_at",
    "updated_at",
];

/// One row per coding: where, what text, which code (full path), who coded it, and whose account.
/// A cell a spreadsheet would run as a formula gets an apostrophe in front, which
/// [`read_codings_csv`] removes again (`between_core::spreadsheet`).
pub fn write_codings_csv(codings: &[CodingView], out: impl Write) -> Result<(), ExchangeError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CODING_COLUMNS)?;
    for v in codings {
        let c = &v.coding;
        let row = [
            c.id.to_string(),
            v.source.clone(),
            c.span.start.to_string(),
            c.span.end.to_string(),
            v.quote.clone(),
            v.code_path.clone(),
            c.coder.clone(),
            c.contrast.to_string(),
            c.memo.clone().unwrap_or_default(),
            v.speaker.clone().unwrap_or_default(),
            v.role.map(|r| r.to_string()).unwrap_or_default(),
            v.participant.clone().unwrap_or_default(),
            v.dyad.clone().unwrap_or_default(),
            c.created_at.clone(),
            c.updated_at.clone(),
        ];
        // Every column is text or a whole number ≥ 0, which never looks like a formula.
        for cell in &row {
            w.write_field(spreadsheet::neutralise(cell).as_bytes())?;
        }
        w.write_record(None::<&[u8]>)?;
    }
    w.flush()?;
    Ok(())
}

/// A CSV with a header row, its columns found by name.
struct Table {
    origin: String,
    columns: HashMap<String, usize>,
    rows: Vec<(u64, csv::StringRecord)>,
}

impl Table {
    fn read(input: impl Read, origin: &str, required: &[&str]) -> Result<Self, ExchangeError> {
        let mut r = csv::ReaderBuilder::new().flexible(false).from_reader(input);
        let row_err = |e: csv::Error| {
            let line = e.position().map_or(0, |p| p.line());
            ExchangeError::Row {
                origin: origin.into(),
                line,
                message: e.to_string(),
            }
        };
        let header = r.headers().map_err(row_err)?.clone();
        let columns: HashMap<String, usize> = header
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().trim_start_matches('\u{feff}').to_lowercase(), i))
            .collect();
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|c| !columns.contains_key(*c))
            .collect();
        if !missing.is_empty() {
            return Err(ExchangeError::File {
                origin: origin.into(),
                message: format!(
                    "the header lacks the column(s) {} (it has: {})",
                    missing.join(", "),
                    header.iter().collect::<Vec<_>>().join(", ")
                ),
            });
        }
        let mut rows = Vec::new();
        for record in r.records() {
            let record = record.map_err(row_err)?;
            let line = record.position().map_or(0, |p| p.line());
            rows.push((line, record));
        }
        Ok(Self {
            origin: origin.into(),
            columns,
            rows,
        })
    }

    /// A cell, trimmed, without the apostrophe our writers put before formula-like text.
    fn get<'r>(&self, record: &'r csv::StringRecord, column: &str) -> Option<&'r str> {
        self.columns
            .get(column)
            .and_then(|&i| record.get(i))
            .map(|cell| spreadsheet::restore(cell).trim())
            .filter(|s| !s.is_empty())
    }

    fn err(&self, line: u64, message: impl Into<String>) -> ExchangeError {
        ExchangeError::Row {
            origin: self.origin.clone(),
            line,
            message: message.into(),
        }
    }
}

/// A codebook table with columns `code` and `parent` (empty for top-level codes).
pub fn read_codebook_csv(
    input: impl Read,
    origin: &str,
) -> Result<Vec<(String, Option<String>)>, ExchangeError> {
    let table = Table::read(input, origin, &["code"])?;
    table
        .rows
        .iter()
        .map(|(line, r)| {
            let code = table
                .get(r, "code")
                .ok_or_else(|| table.err(*line, "the code column is empty"))?;
            Ok((code.to_string(), table.get(r, "parent").map(str::to_string)))
        })
        .collect()
}

/// A codings table: `document` (or `source`), `code`, and either `start` and `end` (code point
/// offsets, end exclusive) or `quote`; optional `coder`, `memo`, `contrast`. With `only_coder`,
/// rows of other coders are skipped.
pub fn read_codings_csv(
    input: impl Read,
    origin: &str,
    only_coder: Option<&str>,
) -> Result<Vec<NewCoding>, ExchangeError> {
    let mut table = Table::read(input, origin, &["code"])?;
    if !table.columns.contains_key("document") {
        match table.columns.get("source").copied() {
            Some(i) => {
                table.columns.insert("document".into(), i);
            }
            None => return Err(table.err(1, "the header needs a document (or source) column")),
        }
    }
    let mut out = Vec::with_capacity(table.rows.len());
    for (line, r) in &table.rows {
        let line = *line;
        let coder = table.get(r, "coder").map(str::to_string);
        if only_coder.is_some_and(|wanted| coder.as_deref() != Some(wanted)) {
            continue;
        }
        let number = |column: &str| -> Result<Option<usize>, ExchangeError> {
            table
                .get(r, column)
                .map(|v| {
                    v.parse::<usize>().map_err(|_| {
                        table.err(line, format!("{column} '{v}' is not a whole number"))
                    })
                })
                .transpose()
        };
        let target = match (number("start")?, number("end")?, table.get(r, "quote")) {
            (Some(start), Some(end), _) => CodingTarget::Offsets { start, end },
            (None, None, Some(quote)) => CodingTarget::Quote {
                text: quote.to_string(),
                occurrence: None,
            },
            _ => return Err(table.err(line, "give both start and end, or a quote")),
        };
        let contrast = match table.get(r, "contrast").map(str::to_lowercase).as_deref() {
            None | Some("false" | "0" | "no") => false,
            Some("true" | "1" | "yes") => true,
            Some(other) => {
                return Err(table.err(line, format!("contrast '{other}' is not true or false")));
            }
        };
        out.push(NewCoding {
            source: table
                .get(r, "document")
                .ok_or_else(|| table.err(line, "the document column is empty"))?
                .to_string(),
            code: table
                .get(r, "code")
                .ok_or_else(|| table.err(line, "the code column is empty"))?
                .to_string(),
            target,
            coder,
            memo: table.get(r, "memo").map(str::to_string),
            contrast,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_cells_are_neutralised_and_read_back_as_they_were() {
        use between_core::{CodeId, Coding, CodingId, SourceId, Span};
        let view = CodingView {
            coding: Coding {
                id: CodingId::new(),
                source: SourceId::new(),
                code: CodeId::new(),
                span: Span { start: 3, end: 9 },
                coder: "@ann".into(),
                contrast: false,
                memo: Some("+1".into()),
                created_at: "2025-01-01T00:00:00Z".into(),
                updated_at: "2025-01-01T00:00:00Z".into(),
                version: 1,
            },
            source: "-2+3.txt".into(),
            code_path: "=HYPERLINK(\"http://x.example\",\"y\")".into(),
            quote: "'=1+1".into(),
            speaker: Some("\t=cmd".into()),
            role: None,
            participant: Some("it's me".into()),
            dyad: None,
        };
        let mut out = Vec::new();
        write_codings_csv(std::slice::from_ref(&view), &mut out).unwrap();
        let mut reader = csv::Reader::from_reader(out.as_slice());
        let header = reader.headers().unwrap().clone();
        let row = reader.records().next().unwrap().unwrap();
        let cell = |name: &str| &row[header.iter().position(|h| h == name).unwrap()];
        for (column, written) in [
            ("source", "'-2+3.txt"),
            ("code", "'=HYPERLINK(\"http://x.example\",\"y\")"),
            ("coder", "'@ann"),
            ("memo", "'+1"),
            ("quote", "''=1+1"),
            ("speaker", "'\t=cmd"),
            ("participant", "it's me"),
            ("start", "3"),
        ] {
            assert_eq!(cell(column), written, "{column}");
        }
        let back = read_codings_csv(out.as_slice(), "c.csv", None).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(
            (back[0].source.as_str(), back[0].code.as_str()),
            ("-2+3.txt", view.code_path.as_str())
        );
        assert_eq!(
            (back[0].coder.as_deref(), back[0].memo.as_deref()),
            (Some("@ann"), Some("+1"))
        );
        assert_eq!(back[0].target, CodingTarget::Offsets { start: 3, end: 9 });
    }

    #[test]
    fn codings_tables_are_read_with_line_numbers() {
        let csv = "document,start,end,code,coder\ninterview_001.txt,164,422,Peer support,coder1\ninterview_001.txt,1,2,Hope,coder2\n";
        let all = read_codings_csv(csv.as_bytes(), "c.csv", None).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(
            all[0].target,
            CodingTarget::Offsets {
                start: 164,
                end: 422
            }
        );
        assert_eq!(
            read_codings_csv(csv.as_bytes(), "c.csv", Some("coder2"))
                .unwrap()
                .len(),
            1
        );
        let bad = "document,start,end,code\na.txt,1,x,Hope\n";
        let err = read_codings_csv(bad.as_bytes(), "c.csv", None)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "c.csv, line 2: end 'x' is not a whole number");
        let ragged = "document,start,end,code\na.txt,1,2\n";
        assert!(
            read_codings_csv(ragged.as_bytes(), "c.csv", None)
                .unwrap_err()
                .to_string()
                .starts_with("c.csv, line 2")
        );
        let quote = "source,quote,code,contrast\na.txt,I trust her,Trust,true\n";
        let q = read_codings_csv(quote.as_bytes(), "q.csv", None).unwrap();
        assert!(
            q[0].contrast
                && matches!(&q[0].target, CodingTarget::Quote { text, .. } if text == "I trust her")
        );
    }

    #[test]
    fn codebook_tables_need_a_code_column() {
        let book = read_codebook_csv(
            "\u{feff}code,parent\nSymptoms,\nPain,Symptoms\n".as_bytes(),
            "b.csv",
        )
        .unwrap();
        assert_eq!(
            book,
            [
                ("Symptoms".into(), None),
                ("Pain".into(), Some("Symptoms".into()))
            ]
        );
        let err = read_codebook_csv("name,parent\nx,\n".as_bytes(), "b.csv")
            .unwrap_err()
            .to_string();
        assert!(err.contains("lacks the column(s) code"), "{err}");
    }
}
