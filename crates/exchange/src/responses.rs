//! Questionnaire responses as tables (`docs/measures.md`). Wide: one row per response —
//! `participant, dyad, date, session`, then one column per item id. Long: one row per answer —
//! `participant, dyad, date, session, item, value`; rows with the same first four cells are
//! one response. An empty value is an item left out. Errors name the line and column.

use std::io::Read;

use crate::ExchangeError;

/// The columns that say whose response it is and when, first in both shapes.
pub const RESPONSE_KEY_COLUMNS: [&str; 4] = ["participant", "dyad", "date", "session"];

/// Whether a table has one row per response or one per answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseShape {
    Wide,
    Long,
}

/// One answer as read, with where it was (for errors the caller finds later).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerCell {
    pub item: String,
    pub value: Option<i32>,
    pub line: u64,
    /// 1-based.
    pub column: usize,
}

/// One response as read: the text of its key cells, its line (the first, in long form), and
/// its answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseRow {
    pub line: u64,
    pub participant: String,
    pub dyad: Option<String>,
    pub date: Option<String>,
    pub session: Option<u32>,
    pub answers: Vec<AnswerCell>,
}

/// Reads a table of responses, all or nothing: the first error (line and column) stops it.
pub fn read_responses_csv(
    input: impl Read,
    origin: &str,
    shape: ResponseShape,
) -> Result<Vec<ResponseRow>, ExchangeError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(input);
    let row_error = |line: u64, message: String| ExchangeError::Row {
        origin: origin.into(),
        line,
        message,
    };
    let mut records = reader.records();
    let header: Vec<String> = match records.next() {
        None => {
            return Err(ExchangeError::File {
                origin: origin.into(),
                message: "the table is empty".into(),
            });
        }
        Some(r) => r
            .map_err(|e| row_error(1, e.to_string()))?
            .iter()
            .map(|c| c.trim_start_matches('\u{feff}').to_lowercase())
            .collect(),
    };
    let expected: Vec<&str> = match shape {
        ResponseShape::Wide => RESPONSE_KEY_COLUMNS.to_vec(),
        ResponseShape::Long => [&RESPONSE_KEY_COLUMNS[..], &["item", "value"]].concat(),
    };
    if header.len() < expected.len() || header[..expected.len()] != expected[..] {
        return Err(row_error(
            1,
            format!(
                "the header must begin with {} (it has {})",
                expected.join(","),
                header.join(",")
            ),
        ));
    }
    if shape == ResponseShape::Long && header.len() > expected.len() {
        return Err(row_error(
            1,
            format!(
                "a long table has exactly the columns {}",
                expected.join(",")
            ),
        ));
    }
    if shape == ResponseShape::Wide && header.len() == expected.len() {
        return Err(row_error(1, "a wide table needs a column per item".into()));
    }
    let mut rows: Vec<ResponseRow> = Vec::new();
    for record in records {
        let record =
            record.map_err(|e| row_error(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let cell = |i: usize| record.get(i).unwrap_or("").to_string();
        let optional = |i: usize| Some(cell(i)).filter(|c| !c.is_empty());
        let at = |column: usize, message: String| {
            row_error(
                line,
                format!("column {column} ({}): {message}", header[column - 1]),
            )
        };
        let participant = cell(0);
        if participant.is_empty() {
            return Err(at(1, "the participant is missing".into()));
        }
        let session = match optional(3) {
            None => None,
            Some(s) => Some(
                s.parse::<u32>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| at(4, format!("'{s}' is not a session number (1, 2, …)")))?,
            ),
        };
        let value = |column: usize| -> Result<Option<i32>, ExchangeError> {
            match optional(column - 1) {
                None => Ok(None),
                Some(v) => v
                    .parse::<i32>()
                    .map(Some)
                    .map_err(|_| at(column, format!("'{v}' is not a whole number"))),
            }
        };
        let key = ResponseRow {
            line,
            participant,
            dyad: optional(1),
            date: optional(2),
            session,
            answers: Vec::new(),
        };
        match shape {
            ResponseShape::Wide => {
                let mut row = key;
                for column in expected.len() + 1..=header.len() {
                    row.answers.push(AnswerCell {
                        item: header[column - 1].clone(),
                        value: value(column)?,
                        line,
                        column,
                    });
                }
                rows.push(row);
            }
            ResponseShape::Long => {
                let item = cell(4);
                if item.is_empty() {
                    return Err(at(5, "the item is missing".into()));
                }
                let answer = AnswerCell {
                    item,
                    value: value(6)?,
                    line,
                    column: 6,
                };
                let same = |r: &&mut ResponseRow| {
                    r.participant == key.participant
                        && r.dyad == key.dyad
                        && r.date == key.date
                        && r.session == key.session
                };
                match rows.iter_mut().find(same) {
                    Some(r) => {
                        if r.answers.iter().any(|a| a.item == answer.item) {
                            return Err(at(
                                5,
                                format!(
                                    "item '{}' is answered twice in this response",
                                    answer.item
                                ),
                            ));
                        }
                        r.answers.push(answer);
                    }
                    None => rows.push(ResponseRow {
                        answers: vec![answer],
                        ..key
                    }),
                }
            }
        }
    }
    if rows.is_empty() {
        return Err(ExchangeError::File {
            origin: origin.into(),
            message: "the table has a header but no responses".into(),
        });
    }
    Ok(rows)
}

/// Writes a table of text cells under its columns; a cell a spreadsheet would run as a formula
/// is neutralised (`between_core::spreadsheet`).
pub fn write_table_csv(
    columns: &[&str],
    rows: &[Vec<String>],
    out: impl std::io::Write,
) -> Result<(), ExchangeError> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(columns)?;
    for row in rows {
        w.write_record(
            row.iter()
                .map(|c| between_core::spreadsheet::neutralise(c).into_owned()),
        )?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Answers = Vec<(String, Option<i32>)>;

    #[test]
    fn wide_and_long_give_the_same_responses() {
        let wide = "participant,dyad,date,session,1,2\nP01,C1-P01,2026-03-01,1,4,\nP01,C1-P01,2026-03-08,2,5,3\n";
        let long = "participant,dyad,date,session,item,value\n\
                    P01,C1-P01,2026-03-01,1,1,4\nP01,C1-P01,2026-03-01,1,2,\n\
                    P01,C1-P01,2026-03-08,2,1,5\nP01,C1-P01,2026-03-08,2,2,3\n";
        let w = read_responses_csv(wide.as_bytes(), "w.csv", ResponseShape::Wide).unwrap();
        let l = read_responses_csv(long.as_bytes(), "l.csv", ResponseShape::Long).unwrap();
        let plain = |rows: Vec<ResponseRow>| -> Vec<(String, Option<u32>, Answers)> {
            rows.into_iter()
                .map(|r| {
                    (
                        r.participant,
                        r.session,
                        r.answers.into_iter().map(|a| (a.item, a.value)).collect(),
                    )
                })
                .collect()
        };
        assert_eq!(plain(w), plain(l));
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let bad = "participant,dyad,date,session,1,2\nP01,,,1,4,5\nP02,,,2,4,x\n";
        let e = read_responses_csv(bad.as_bytes(), "w.csv", ResponseShape::Wide)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3") && e.contains("column 6 (2)") && e.contains("'x'"),
            "{e}"
        );
        let session = "participant,dyad,date,session,item,value\nP01,,,0,1,4\n";
        let e = read_responses_csv(session.as_bytes(), "l.csv", ResponseShape::Long)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("column 4"), "{e}");
        let twice = "participant,dyad,date,session,item,value\nP01,,,1,1,4\nP01,,,1,1,5\n";
        let e = read_responses_csv(twice.as_bytes(), "l.csv", ResponseShape::Long)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("twice"), "{e}");
        let header = "who,dyad,date,session,1\nP01,,,1,4\n";
        assert!(read_responses_csv(header.as_bytes(), "w.csv", ResponseShape::Wide).is_err());
    }
}
