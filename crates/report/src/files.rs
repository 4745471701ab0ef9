//! Writing a report: `report.html`, one CSV per table, and `report.xlsx` with a sheet per table.

use std::path::{Path, PathBuf};

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

/// A table as CSV (RFC 4180, a header row, numbers as shown in the report).
pub fn csv(table: &Table) -> Result<Vec<u8>, ReportError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&table.columns)?;
    for row in &table.rows {
        w.write_record(row.iter().map(Cell::display))?;
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

/// Every table of the report as one workbook, a sheet per table (numbers as numbers). The
/// document's creation date is fixed, so the same report gives the same bytes.
pub fn xlsx(report: &Report) -> Result<Vec<u8>, ReportError> {
    let mut book = Workbook::new();
    book.set_properties(
        &DocProperties::new()
            .set_title(&report.title)
            .set_creation_datetime(&ExcelDateTime::from_ymd(2000, 1, 1)?),
    );
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let mut taken = Vec::new();
    for table in report.tables() {
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(&table.id, &mut taken))?;
        for (c, name) in table.columns.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, name, &bold)?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(s) if s.contains('\n') => {
                        sheet.write_string_with_format(r, c, s, &wrap)?;
                    }
                    Cell::Text(s) => {
                        sheet.write_string(r, c, s)?;
                    }
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
    Ok(written)
}
