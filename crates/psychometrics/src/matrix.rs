//! Checking a matrix's shape and values, and taking its complete rows.

use crate::{Cell, PsychometricsError, Result};

/// Rows and columns of a rectangular matrix of finite values (or missing cells), with at least
/// one row and `min_columns` columns.
pub(crate) fn shape(
    data: &[Vec<Option<f64>>],
    what: &'static str,
    min_columns: usize,
) -> Result<(usize, usize)> {
    let first = data.first().ok_or(PsychometricsError::NoRows)?;
    let columns = first.len();
    if columns < min_columns {
        return Err(PsychometricsError::TooFewColumns {
            what,
            needed: min_columns,
            got: columns,
        });
    }
    for (r, row) in data.iter().enumerate() {
        if row.len() != columns {
            return Err(PsychometricsError::Ragged {
                row: r + 1,
                expected: columns,
                got: row.len(),
            });
        }
        if let Some(c) = row.iter().position(|v| v.is_some_and(|v| !v.is_finite())) {
            return Err(PsychometricsError::NotFinite(Cell {
                row: r + 1,
                column: c + 1,
            }));
        }
    }
    Ok((data.len(), columns))
}

/// The rows with no missing cell (listwise deletion), flattened row by row.
pub(crate) fn complete_rows(data: &[Vec<Option<f64>>], columns: usize) -> (Vec<f64>, usize) {
    let mut flat = Vec::with_capacity(data.len() * columns);
    let mut n = 0;
    for row in data {
        if row.iter().all(Option::is_some) {
            flat.extend(row.iter().flatten());
            n += 1;
        }
    }
    (flat, n)
}

/// Every cell, or an error naming the first missing one.
pub(crate) fn require_complete(
    data: &[Vec<Option<f64>>],
    what: &'static str,
) -> Result<Vec<Vec<f64>>> {
    data.iter()
        .enumerate()
        .map(|(r, row)| {
            row.iter()
                .enumerate()
                .map(|(c, v)| {
                    v.ok_or(PsychometricsError::Missing(
                        Cell {
                            row: r + 1,
                            column: c + 1,
                        },
                        what,
                    ))
                })
                .collect()
        })
        .collect()
}

/// The sample covariance matrix (n − 1 in the denominator) of `n` rows of `k` values, flat.
#[allow(clippy::needless_range_loop)]
pub(crate) fn covariance(flat: &[f64], n: usize, k: usize) -> Vec<Vec<f64>> {
    let mut means = vec![0.0; k];
    for row in flat.chunks_exact(k) {
        for (m, x) in means.iter_mut().zip(row) {
            *m += x;
        }
    }
    for m in &mut means {
        *m /= n as f64;
    }
    // Upper triangle, row by row, packed: the accumulators stay in cache however many rows.
    let mut packed = vec![0.0; k * (k + 1) / 2];
    let mut centred = vec![0.0; k];
    for row in flat.chunks_exact(k) {
        for ((c, x), m) in centred.iter_mut().zip(row).zip(&means) {
            *c = x - m;
        }
        let mut at = 0;
        for i in 0..k {
            let ci = centred[i];
            let acc = &mut packed[at..at + k - i];
            for (a, cj) in acc.iter_mut().zip(&centred[i..]) {
                *a += ci * cj;
            }
            at += k - i;
        }
    }
    // Filled from the packed triangle into both halves, hence indices.
    let mut cov = vec![vec![0.0; k]; k];
    let mut packed = packed.into_iter().map(|v| v / (n as f64 - 1.0));
    for i in 0..k {
        for j in i..k {
            let v = packed.next().unwrap_or_default();
            cov[i][j] = v;
            cov[j][i] = v;
        }
    }
    cov
}
