//! Shrout & Fleiss (1979) intraclass correlations from the two-way ANOVA of a complete
//! targets × raters table.

use serde::Serialize;

use crate::matrix::{require_complete, shape};
use crate::{PsychometricsError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[allow(non_snake_case)] // the names Shrout & Fleiss gave them, and the JSON keys
pub struct Icc {
    /// One-way random, single rater.
    pub ICC1: f64,
    /// Two-way random, absolute agreement, single rater.
    pub ICC2: f64,
    /// Two-way mixed, consistency, single rater.
    pub ICC3: f64,
    /// ICC1 for the mean of the k raters.
    pub ICC1k: f64,
    pub ICC2k: f64,
    pub ICC3k: f64,
}

/// The six ICCs of a complete table: rows are targets, columns raters.
pub fn icc(data: &[Vec<Option<f64>>]) -> Result<Icc> {
    let (n, k) = shape(data, "an ICC", 2)?;
    if n < 2 {
        return Err(PsychometricsError::TooFewRows {
            what: "an ICC",
            needed: 2,
            got: n,
            rows_rule: "(targets)",
        });
    }
    let x = require_complete(data, "an ICC")?;
    let (nf, kf) = (n as f64, k as f64);
    let grand = x.iter().flatten().sum::<f64>() / (nf * kf);
    let row_means: Vec<f64> = x.iter().map(|r| r.iter().sum::<f64>() / kf).collect();
    let col_means: Vec<f64> = (0..k)
        .map(|j| x.iter().map(|r| r[j]).sum::<f64>() / nf)
        .collect();
    let ss_total: f64 = x.iter().flatten().map(|v| (v - grand).powi(2)).sum();
    let ss_rows = kf * row_means.iter().map(|m| (m - grand).powi(2)).sum::<f64>();
    let ss_cols = nf * col_means.iter().map(|m| (m - grand).powi(2)).sum::<f64>();
    let ss_error = ss_total - ss_rows - ss_cols;
    let msr = ss_rows / (nf - 1.0);
    let msc = ss_cols / (kf - 1.0);
    let mse = ss_error / ((nf - 1.0) * (kf - 1.0));
    let msw = (ss_cols + ss_error) / (nf * (kf - 1.0));
    if msr <= 0.0 {
        return Err(PsychometricsError::Undefined {
            what: "an ICC",
            reason: "the targets do not differ",
        });
    }
    Ok(Icc {
        ICC1: (msr - msw) / (msr + (kf - 1.0) * msw),
        ICC2: (msr - mse) / (msr + (kf - 1.0) * mse + kf * (msc - mse) / nf),
        ICC3: (msr - mse) / (msr + (kf - 1.0) * mse),
        ICC1k: (msr - msw) / msr,
        ICC2k: (msr - mse) / (msr + (msc - mse) / nf),
        ICC3k: (msr - mse) / msr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrout_fleiss_table_2() {
        // Shrout & Fleiss (1979), Table 2: 6 targets × 4 judges; their Table 4 gives
        // ICC(1,1) = .17, ICC(2,1) = .29, ICC(3,1) = .71, ICC(1,4) = .44, ICC(2,4) = .62, ICC(3,4) = .91.
        let table = [
            [9.0, 2.0, 5.0, 8.0],
            [6.0, 1.0, 3.0, 2.0],
            [8.0, 4.0, 6.0, 8.0],
            [7.0, 1.0, 2.0, 6.0],
            [10.0, 5.0, 6.0, 9.0],
            [6.0, 2.0, 4.0, 7.0],
        ];
        let data: Vec<Vec<Option<f64>>> = table
            .iter()
            .map(|r| r.iter().map(|v| Some(*v)).collect())
            .collect();
        let got = icc(&data).unwrap();
        let round = |v: f64| (v * 100.0).round() / 100.0;
        assert_eq!(
            [
                got.ICC1, got.ICC2, got.ICC3, got.ICC1k, got.ICC2k, got.ICC3k
            ]
            .map(round),
            [0.17, 0.29, 0.71, 0.44, 0.62, 0.91]
        );
    }

    #[test]
    fn a_missing_rating_is_an_error_naming_its_cell() {
        let data = vec![vec![Some(1.0), Some(2.0)], vec![Some(3.0), None]];
        assert_eq!(
            icc(&data).unwrap_err().to_string(),
            "row 2, column 2: an ICC needs every cell; this one is missing"
        );
    }
}
