//! A plain numeric table, as `between scale` reads it: a header row naming the columns (items
//! or raters), then one row per respondent or target; an empty cell is missing.

use std::io::Read;

use crate::ExchangeError;

#[derive(Clone, Debug, PartialEq)]
pub struct PlainMatrix {
    /// The header row's names.
    pub columns: Vec<String>,
    /// `rows[row][column]`, `None` where the cell was empty.
    pub rows: Vec<Vec<Option<f64>>>,
}

/// Reads a plain matrix; a cell that is not a finite number is an error naming the file, its
/// line and its column.
pub fn read_matrix_csv(input: impl Read, origin: &str) -> Result<PlainMatrix, ExchangeError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(input);
    let row_error = |e: csv::Error| ExchangeError::Row {
        origin: origin.into(),
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    };
    let columns: Vec<String> = reader
        .headers()
        .map_err(row_error)?
        .iter()
        .map(|c| c.trim_start_matches('\u{feff}').to_string())
        .collect();
    if columns.iter().all(String::is_empty) {
        return Err(ExchangeError::File {
            origin: origin.into(),
            message: "no header row naming the columns".into(),
        });
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(row_error)?;
        let line = record.position().map_or(0, |p| p.line());
        let row = record
            .iter()
            .zip(&columns)
            .map(|(cell, name)| {
                if cell.is_empty() {
                    return Ok(None);
                }
                match cell.parse::<f64>() {
                    Ok(v) if v.is_finite() => Ok(Some(v)),
                    _ => Err(ExchangeError::Row {
                        origin: origin.into(),
                        line,
                        message: format!("column '{name}': '{cell}' is not a number"),
                    }),
                }
            })
            .collect::<Result<_, _>>()?;
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(ExchangeError::File {
            origin: origin.into(),
            message: "no rows of data under the header".into(),
        });
    }
    Ok(PlainMatrix { columns, rows })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_numbers_and_empty_cells_as_missing() {
        let m = read_matrix_csv("\u{feff}q1,q2\n1, 2\n3,\n".as_bytes(), "t.csv").unwrap();
        assert_eq!(m.columns, ["q1", "q2"]);
        assert_eq!(m.rows, [vec![Some(1.0), Some(2.0)], vec![Some(3.0), None]]);
    }

    #[test]
    fn a_bad_cell_names_the_file_line_and_column() {
        let err = read_matrix_csv("q1,q2\n1,2\n3,x\n".as_bytes(), "t.csv").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv, line 3: column 'q2': 'x' is not a number"
        );
        let err = read_matrix_csv("q1,q2\n1,2\n3\n".as_bytes(), "t.csv").unwrap_err();
        assert!(err.to_string().starts_with("t.csv, line 3:"), "{err}");
        let err = read_matrix_csv("q1,q2\n".as_bytes(), "t.csv").unwrap_err();
        assert_eq!(err.to_string(), "t.csv: no rows of data under the header");
        let err = read_matrix_csv("q1\nNaN\n".as_bytes(), "t.csv").unwrap_err();
        assert!(err.to_string().contains("'NaN' is not a number"), "{err}");
    }
}
