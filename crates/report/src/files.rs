//! Writing a report: `report.html`, one CSV per table, `report.xlsx` with a sheet per table,
//! and one SVG per figure.

use std::path::{Path, PathBuf};

use between_core::spreadsheet;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

use crate::Report;
use crate::tables::{Cell, Table};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("writing a table as CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing the XLSX workbook: {0}")]
    Xlsx(#[from] XlsxError),
    #[error("{0}")]
    Pdf(String),
    #[error(transparent)]
    Study(#[from] between_study::StudyError),
    #[error(transparent)]
    Corpus(#[from] between_findings::CorpusError),
}

/// The files a report run wrote.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Written {
    pub files: Vec<PathBuf>,
}

/// A table as CSV (RFC 4180, a header row, numbers as shown in the report). Text a spreadsheet
/// would run as a formula gets an apostrophe in front (`between_core::spreadsheet`); numbers,
/// negative ones too, stay numbers.
pub fn csv(table: &Table) -> Result<Vec<u8>, ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(
        table
            .columns
            .iter()
            .map(|c| spreadsheet::neutralise(c).into_owned()),
    )?;
    for row in &table.rows {
        w.write_record(row.iter().map(|cell| match cell {
            Cell::Text(s) => spreadsheet::neutralise(s).into_owned(),
            number => number.display(),
        }))?;
    }
    w.into_inner()
        .map_err(|e| ReportError::Csv(e.into_error().into()))
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`, unique.
fn sheet_name(id: &str, taken: &mut Vec<String>) -> String {
    let base: String = id
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '-' } else { c })
        .take(28)
        .collect();
    let mut name = base.clone();
    let mut n = 2;
    while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
        name = format!("{base}-{n}");
        n += 1;
    }
    taken.push(name.clone());
    name
}

/// Every table of the report as one workbook, a sheet per table (numbers as numbers). Text is
/// always a string cell, which a spreadsheet never evaluates; formula-like text
/// (`between_core::spreadsheet`) also gets the "quote prefix" style, Excel's own apostrophe,
/// so that editing the cell keeps it text, while its value stays exactly the report's. The
/// document's creation date is fixed, so the same report gives the same bytes.
pub fn xlsx(report: &Report) -> Result<Vec<u8>, ReportError> {
    let mut book = Workbook::new();
    book.set_properties(
        &DocProperties::new()
            .set_title(&report.title)
            .set_creation_datetime(&ExcelDateTime::from_ymd(2000, 1, 1)?),
    );
    let bold = Format::new().set_bold();
    let text_formats = TextFormats::new();
    let mut taken = Vec::new();
    for table in report.tables() {
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(&table.id, &mut taken))?;
        for (c, name) in table.columns.iter().enumerate() {
            let format = if spreadsheet::is_formula_like(name) {
                &bold.clone().set_quote_prefix()
            } else {
                &bold
            };
            sheet.write_string_with_format(0, c as u16, name, format)?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(s) => match text_formats.of(s) {
                        Some(format) => {
                            sheet.write_string_with_format(r, c, s, format)?;
                        }
                        None => {
                            sheet.write_string(r, c, s)?;
                        }
                    },
                    Cell::Count(n) => {
                        sheet.write_number(r, c, *n as f64)?;
                    }
                    Cell::Number { value, decimals } => {
                        let format = Format::new().set_num_format(if *decimals == 0 {
                            "0".to_string()
                        } else {
                            format!("0.{}", "0".repeat(*decimals))
                        });
                        sheet.write_number_with_format(r, c, *value, &format)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
        sheet.set_freeze_panes(1, 0)?;
    }
    Ok(book.save_to_buffer()?)
}

/// The formats a text cell may need: wrapped when it has several lines, quote-prefixed when it
/// looks like a formula.
struct TextFormats {
    wrap: Format,
    quoted: Format,
    wrap_quoted: Format,
}

impl TextFormats {
    fn new() -> Self {
        let wrap = Format::new().set_text_wrap();
        Self {
            quoted: Format::new().set_quote_prefix(),
            wrap_quoted: wrap.clone().set_quote_prefix(),
            wrap,
        }
    }

    fn of(&self, text: &str) -> Option<&Format> {
        match (text.contains('\n'), spreadsheet::is_formula_like(text)) {
            (false, false) => None,
            (true, false) => Some(&self.wrap),
            (false, true) => Some(&self.quoted),
            (true, true) => Some(&self.wrap_quoted),
        }
    }
}

fn write(path: &Path, bytes: &[u8], written: &mut Written) -> Result<(), ReportError> {
    std::fs::write(path, bytes).map_err(|source| ReportError::Io {
        path: path.display().to_string(),
        source,
    })?;
    written.files.push(path.to_path_buf());
    Ok(())
}

/// Writes `report.html`, `report.xlsx` and `TABLE.csv` for every table into `dir` (created if
/// missing; files of an earlier run are replaced).
pub fn write_report(
    report: &Report,
    dir: &Path,
    generated_at: &str,
) -> Result<Written, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let mut written = Written::default();
    write(
        &dir.join("report.html"),
        report.html(generated_at).as_bytes(),
        &mut written,
    )?;
    for table in report.tables() {
        write(
            &dir.join(format!("{}.csv", table.id)),
            &csv(table)?,
            &mut written,
        )?;
    }
    write(&dir.join("report.xlsx"), &xlsx(report)?, &mut written)?;
    for figure in report.sections.iter().flat_map(|s| &s.figures) {
        write(
            &dir.join(format!("{}.svg", figure.id)),
            figure.svg.as_bytes(),
            &mut written,
        )?;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::Section;

    fn report_of(table: Table) -> Report {
        Report {
            title: "T".into(),
            subtitle: String::new(),
            sections: vec![Section {
                id: "s".into(),
                title: "S".into(),
                text: String::new(),
                figures: Vec::new(),
                tables: vec![table],
            }],
        }
    }

    fn formulas() -> Table {
        Table {
            id: "codes".into(),
            title: "Codes".into(),
            note: String::new(),
            columns: vec!["code".into(), "memo".into(), "alpha".into(), "n".into()],
            rows: vec![
                vec![
                    Cell::text("=HYPERLINK(\"http://x.example\",\"y\")"),
                    Cell::text("+1"),
                    Cell::number(-0.25, 2),
                    Cell::Count(3),
                ],
                vec![
                    Cell::text("@SUM(A1)"),
                    Cell::text("-2+3\nsecond line"),
                    Cell::number(0.5, 1),
                    Cell::Empty,
                ],
                vec![
                    Cell::text("Trust"),
                    Cell::text("it's fine"),
                    Cell::Empty,
                    Cell::Empty,
                ],
            ],
        }
    }

    #[test]
    fn csv_cells_that_look_like_formulas_get_an_apostrophe_numbers_do_not() {
        let bytes = csv(&formulas()).expect("csv");
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.expect("row").iter().map(str::to_string).collect())
            .collect();
        assert_eq!(
            rows,
            [
                [
                    "'=HYPERLINK(\"http://x.example\",\"y\")",
                    "'+1",
                    "-0.25",
                    "3"
                ],
                ["'@SUM(A1)", "'-2+3\nsecond line", "0.5", ""],
                ["Trust", "it's fine", "", ""],
            ]
        );
    }

    /// A cell of a sheet's XML.
    #[derive(Clone, Debug)]
    struct XmlCell {
        reference: String,
        /// `t`: `s` for a shared string, empty for a number.
        kind: String,
        /// `s`: the index of its cell format.
        style: String,
        formula: bool,
        /// The number, or the shared string's text.
        value: String,
    }

    /// The first sheet's cells, the styles' XML and the sheet's XML.
    fn sheet_cells(xlsx: &[u8]) -> (Vec<XmlCell>, String, String) {
        let mut book = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).expect("zip");
        let mut read = |name: &str| {
            let mut s = String::new();
            book.by_name(name)
                .expect(name)
                .read_to_string(&mut s)
                .expect("read");
            s
        };
        let (sheet, strings, styles) = (
            read("xl/worksheets/sheet1.xml"),
            read("xl/sharedStrings.xml"),
            read("xl/styles.xml"),
        );
        let shared: Vec<String> = strings
            .split("<t")
            .skip(1)
            .map(|t| {
                let t = &t[t.find('>').expect(">") + 1..];
                t[..t.find("</t>").expect("</t>")].to_string()
            })
            .collect();
        let cells = sheet
            .split("<c r=\"")
            .skip(1)
            .map(|c| {
                let end = c.find("</c>").or_else(|| c.find("/>")).expect("cell end");
                let c = &c[..end];
                let attr = |name: &str| {
                    c.split(&format!(" {name}=\""))
                        .nth(1)
                        .map(|v| v[..v.find('"').expect("\"")].to_string())
                        .unwrap_or_default()
                };
                let reference = c[..c.find('"').expect("\"")].to_string();
                let value = c
                    .split("<v>")
                    .nth(1)
                    .map(|v| v[..v.find("</v>").expect("</v>")].to_string())
                    .unwrap_or_default();
                let kind = attr("t");
                let value = if kind == "s" {
                    shared[value.parse::<usize>().expect("index")].clone()
                } else {
                    value
                };
                XmlCell {
                    reference,
                    kind,
                    style: attr("s"),
                    formula: c.contains("<f>"),
                    value,
                }
            })
            .collect();
        (cells, styles, sheet)
    }

    #[test]
    fn xlsx_text_is_always_a_string_and_formula_like_text_is_quote_prefixed() {
        let bytes = xlsx(&report_of(formulas())).expect("xlsx");
        let (cells, styles, sheet) = sheet_cells(&bytes);
        assert!(!sheet.contains("<f>"), "no formulas: {sheet}");
        let cell = |r: &str| {
            cells
                .iter()
                .find(|c| c.reference == r)
                .unwrap_or_else(|| panic!("{r} in {cells:?}"))
                .clone()
        };
        // The cell XFs in order; a cell's `s` is an index into them.
        let xfs: Vec<&str> = styles
            .split("<cellXfs")
            .nth(1)
            .expect("cellXfs")
            .split("<xf ")
            .skip(1)
            .collect();
        let quote_prefixed = |style: &str| {
            let i: usize = if style.is_empty() {
                0
            } else {
                style.parse().expect("s")
            };
            xfs[i].contains("quotePrefix=\"1\"")
        };
        for (r, text) in [
            ("A2", "=HYPERLINK(\"http://x.example\",\"y\")"),
            ("B2", "+1"),
            ("A3", "@SUM(A1)"),
            ("B3", "-2+3\nsecond line"),
        ] {
            let c = cell(r);
            assert_eq!(
                (c.kind.as_str(), c.formula, c.value.as_str()),
                ("s", false, text),
                "{r}: a string, the text as it is"
            );
            assert!(quote_prefixed(&c.style), "{r} is quote-prefixed");
        }
        let c = cell("C2");
        assert_eq!(
            (c.kind.as_str(), c.value.as_str()),
            ("", "-0.25"),
            "a number stays a number"
        );
        assert!(!quote_prefixed(&c.style));
        let c = cell("A4");
        assert_eq!(c.value, "Trust");
        assert!(
            !quote_prefixed(&c.style),
            "plain text keeps the default style"
        );
    }
}
