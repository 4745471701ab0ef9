//! A units × coders table as papers and other tools give it: one row per unit, one column per
//! coder, an empty cell where a coder did not code the unit. An optional header row names the
//! coders. Cells are numbers, or labels mapped to numbers by the declared categories' order.

use std::io::Read;

use crate::ExchangeError;

#[derive(Clone, Debug, PartialEq)]
pub struct Ratings {
    pub coders: Vec<String>,
    /// `table[unit][coder]`; labels are replaced by their position in `categories`.
    pub table: Vec<Vec<Option<f64>>>,
    /// The categories in order, as numbers (labels: positions 0, 1, …).
    pub categories: Vec<f64>,
    /// The labels behind the numbers, when the cells were labels.
    pub labels: Option<Vec<String>>,
}

/// Reads a ratings table. `declared` are the categories the user names (`--categories a,b,c`),
/// in order; without them, the sorted distinct values (or labels) of the table. `header` says
/// whether the first row names the coders; `None` guesses (names over numbers).
pub fn read_ratings_csv(
    input: impl Read,
    origin: &str,
    declared: Option<&[String]>,
    header: Option<bool>,
) -> Result<Ratings, ExchangeError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(input);
    let mut rows: Vec<(u64, Vec<String>)> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ExchangeError::Row {
            origin: origin.into(),
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        rows.push((
            line,
            record
                .iter()
                .map(|c| c.trim_start_matches('\u{feff}').to_string())
                .collect(),
        ));
    }
    if rows.is_empty() {
        return Err(ExchangeError::File {
            origin: origin.into(),
            message: "the table is empty".into(),
        });
    }
    let is_number = |c: &str| c.is_empty() || c.parse::<f64>().is_ok_and(f64::is_finite);
    // A first row of names over numbers is a header.
    let all_numbers = rows[1..]
        .iter()
        .all(|(_, r)| r.iter().all(|c| is_number(c)));
    let first_is_header =
        header.unwrap_or(rows.len() > 1 && all_numbers && !rows[0].1.iter().all(|c| is_number(c)));
    if first_is_header && rows.len() == 1 {
        return Err(ExchangeError::File {
            origin: origin.into(),
            message: "the table has a header but no units".into(),
        });
    }
    let coders = if first_is_header {
        rows.remove(0).1
    } else {
        (1..=rows[0].1.len())
            .map(|i| format!("coder {i}"))
            .collect()
    };
    let numeric = rows.iter().all(|(_, r)| r.iter().all(|c| is_number(c)))
        && declared.is_none_or(|d| d.iter().all(|c| c.parse::<f64>().is_ok()));
    if numeric {
        let table = rows
            .iter()
            .map(|(_, r)| r.iter().map(|c| c.parse::<f64>().ok()).collect())
            .collect::<Vec<_>>();
        let categories = match declared {
            Some(d) => d.iter().map(|c| c.parse().unwrap_or_default()).collect(),
            None => {
                let mut v: Vec<f64> = rows
                    .iter()
                    .flat_map(|(_, r)| r.iter().filter_map(|c| c.parse().ok()))
                    .collect();
                v.sort_by(f64::total_cmp);
                v.dedup();
                v
            }
        };
        return Ok(Ratings {
            coders,
            table,
            categories,
            labels: None,
        });
    }
    let labels: Vec<String> = match declared {
        Some(d) => d.to_vec(),
        None => {
            let mut v: Vec<String> = rows
                .iter()
                .flat_map(|(_, r)| r.iter().filter(|c| !c.is_empty()).cloned())
                .collect();
            v.sort();
            v.dedup();
            v
        }
    };
    let mut table = Vec::with_capacity(rows.len());
    for (line, row) in &rows {
        let mut unit = Vec::with_capacity(row.len());
        for cell in row {
            if cell.is_empty() {
                unit.push(None);
            } else {
                let i =
                    labels
                        .iter()
                        .position(|l| l == cell)
                        .ok_or_else(|| ExchangeError::Row {
                            origin: origin.into(),
                            line: *line,
                            message: format!(
                                "'{cell}' is not one of the declared categories ({})",
                                labels.join(", ")
                            ),
                        })?;
                unit.push(Some(i as f64));
            }
        }
        table.push(unit);
    }
    let categories = (0..labels.len()).map(|i| i as f64).collect();
    Ok(Ratings {
        coders,
        table,
        categories,
        labels: Some(labels),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_with_a_header_and_gaps() {
        let r = read_ratings_csv("ann,bob\n1,1\n2,\n,3\n".as_bytes(), "m.csv", None, None).unwrap();
        assert_eq!(r.coders, ["ann", "bob"]);
        assert_eq!(
            r.table,
            [
                vec![Some(1.0), Some(1.0)],
                vec![Some(2.0), None],
                vec![None, Some(3.0)]
            ]
        );
        assert_eq!(r.categories, [1.0, 2.0, 3.0]);
    }

    #[test]
    fn labels_follow_the_declared_order() {
        let declared = ["low".to_string(), "mid".into(), "high".into()];
        let r = read_ratings_csv(
            "high,low\nmid,mid\n".as_bytes(),
            "m.csv",
            Some(&declared),
            None,
        )
        .unwrap();
        assert_eq!(
            r.table,
            [vec![Some(2.0), Some(0.0)], vec![Some(1.0), Some(1.0)]]
        );
        assert_eq!(r.coders, ["coder 1", "coder 2"]);
        let err = read_ratings_csv("high,odd\n".as_bytes(), "m.csv", Some(&declared), None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "m.csv, line 1: 'odd' is not one of the declared categories (low, mid, high)"
        );
        let err = read_ratings_csv("1,2\n3\n".as_bytes(), "m.csv", None, None)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("m.csv, line 2"), "{err}");
        let r = read_ratings_csv(
            "ann,bob\nhigh,low\n".as_bytes(),
            "m.csv",
            Some(&declared),
            Some(true),
        )
        .unwrap();
        assert_eq!((r.coders[0].as_str(), r.table.len()), ("ann", 1));
    }
}
