//! Internal consistency: Cronbach's α with Feldt's interval and item statistics, and
//! McDonald's ω from a one-factor model. Rows with a missing item are deleted (listwise).

use serde::Serialize;

use crate::distribution::f_quantile;
use crate::matrix::{complete_rows, covariance, shape};
use crate::{PsychometricsError, Result};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alpha {
    pub alpha: f64,
    /// Feldt's 95 % interval.
    pub ci95: [f64; 2],
    /// Rows with no missing item: the rows every figure here is computed on.
    pub n_complete: usize,
    pub items: Vec<ItemStatistics>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemStatistics {
    /// 1-based column.
    pub item: usize,
    /// Pearson r of the item with the sum of the other items; `None` when either has no variance.
    pub corrected_item_total: Option<f64>,
    /// α of the other items; `None` when only two items exist (one left has no α).
    pub alpha_if_deleted: Option<f64>,
}

const ROWS_RULE: &str = "with no missing item";

/// Cronbach's α over the complete rows, with Feldt's 95 % interval and per-item statistics.
pub fn cronbach_alpha(data: &[Vec<Option<f64>>]) -> Result<Alpha> {
    let (_, k) = shape(data, "Cronbach's alpha", 2)?;
    let (flat, n) = complete_rows(data, k);
    if n < 2 {
        return Err(PsychometricsError::TooFewRows {
            what: "Cronbach's alpha",
            needed: 2,
            got: n,
            rows_rule: ROWS_RULE,
        });
    }
    let cov = covariance(&flat, n, k);
    let alpha = alpha_of(&cov, None).ok_or(PsychometricsError::Undefined {
        what: "Cronbach's alpha",
        reason: "the total score does not vary",
    })?;
    // Feldt (1965): (1 − α)/(1 − α̂) ~ F(n − 1, (n − 1)(k − 1)).
    let d1 = n as f64 - 1.0;
    let d2 = d1 * (k as f64 - 1.0);
    let ci95 = [
        1.0 - (1.0 - alpha) * f_quantile(0.975, d1, d2),
        1.0 - (1.0 - alpha) * f_quantile(0.025, d1, d2),
    ];
    let total: f64 = cov.iter().flatten().sum();
    let items = (0..k)
        .map(|i| {
            let with_total: f64 = cov[i].iter().sum();
            let item_var = cov[i][i];
            // Sum of the others: var = total − 2·cov(i, all) + var(i); cov = cov(i, all) − var(i).
            let rest_var = total - 2.0 * with_total + item_var;
            let cov_rest = with_total - item_var;
            let denominator = (item_var * rest_var).sqrt();
            ItemStatistics {
                item: i + 1,
                corrected_item_total: (denominator > 0.0).then(|| cov_rest / denominator),
                alpha_if_deleted: if k > 2 { alpha_of(&cov, Some(i)) } else { None },
            }
        })
        .collect();
    Ok(Alpha {
        alpha,
        ci95,
        n_complete: n,
        items,
    })
}

/// α = k/(k − 1)·(1 − Σ var_i / var_total) from the covariance matrix, leaving out `without`.
fn alpha_of(cov: &[Vec<f64>], without: Option<usize>) -> Option<f64> {
    let keep = |i: usize| Some(i) != without;
    let k = (0..cov.len()).filter(|&i| keep(i)).count() as f64;
    let mut trace = 0.0;
    let mut total = 0.0;
    for (i, row) in cov.iter().enumerate().filter(|(i, _)| keep(*i)) {
        trace += row[i];
        total += row
            .iter()
            .enumerate()
            .filter(|(j, _)| keep(*j))
            .map(|(_, v)| v)
            .sum::<f64>();
    }
    (total > 0.0).then(|| k / (k - 1.0) * (1.0 - trace / total))
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Omega {
    pub omega: f64,
    /// The fitted loadings, in the items' units (the covariance metric).
    pub loadings: Vec<f64>,
    /// The items' unique variances, ψ_i = var_i − λ_i².
    pub uniquenesses: Vec<f64>,
    /// Principal-axis iterations until the communalities changed by less than 1e-10.
    pub iterations: usize,
}

/// McDonald's ω (one factor) of the complete rows, from their covariance matrix.
pub fn one_factor_omega(data: &[Vec<Option<f64>>]) -> Result<Omega> {
    let (_, k) = shape(data, "McDonald's omega", 3)?;
    let (flat, n) = complete_rows(data, k);
    if n < 2 {
        return Err(PsychometricsError::TooFewRows {
            what: "McDonald's omega",
            needed: 2,
            got: n,
            rows_rule: ROWS_RULE,
        });
    }
    omega_from_covariance(&covariance(&flat, n, k))
}

/// McDonald's ω = (Σλ)² / ((Σλ)² + Σψ) of a one-factor model fitted to a covariance (or
/// correlation) matrix by iterated principal axis factoring: start from the squared largest
/// covariance of each item with another, take the leading eigenvector of the matrix with those
/// communalities on its diagonal, set each communality to its loading squared (never above
/// the item's variance), and repeat until the communalities settle.
pub fn omega_from_covariance(cov: &[Vec<f64>]) -> Result<Omega> {
    let k = cov.len();
    if k < 3 {
        return Err(PsychometricsError::TooFewColumns {
            what: "McDonald's omega",
            needed: 3,
            got: k,
        });
    }
    if let Some(r) = cov.iter().position(|row| row.len() != k) {
        return Err(PsychometricsError::Ragged {
            row: r + 1,
            expected: k,
            got: cov[r].len(),
        });
    }
    if cov.iter().flatten().any(|v| !v.is_finite()) || (0..k).any(|i| cov[i][i] <= 0.0) {
        return Err(PsychometricsError::Invalid(
            "a covariance matrix needs finite values and positive variances".into(),
        ));
    }
    let variances: Vec<f64> = (0..k).map(|i| cov[i][i]).collect();
    let mut communality: Vec<f64> = (0..k)
        .map(|i| {
            let largest = (0..k)
                .filter(|&j| j != i)
                .map(|j| cov[i][j].abs() / cov[j][j].sqrt())
                .fold(0.0, f64::max);
            (largest * largest).min(variances[i])
        })
        .collect();
    let mut loadings = vec![0.0; k];
    let mut iterations = 0;
    for step in 1..=1000 {
        iterations = step;
        let mut reduced = cov.to_vec();
        for (i, row) in reduced.iter_mut().enumerate() {
            row[i] = communality[i];
        }
        let (value, vector) = leading_eigen(&reduced);
        let root = value.max(0.0).sqrt();
        // The factor's sign is arbitrary; orient it so the loadings sum to a positive number.
        let sign = if vector.iter().sum::<f64>() < 0.0 {
            -1.0
        } else {
            1.0
        };
        for (l, v) in loadings.iter_mut().zip(&vector) {
            *l = sign * v * root;
        }
        let mut change: f64 = 0.0;
        for i in 0..k {
            let next = (loadings[i] * loadings[i]).min(variances[i]);
            change = change.max((next - communality[i]).abs());
            communality[i] = next;
        }
        if change < 1e-10 {
            break;
        }
    }
    let uniquenesses: Vec<f64> = (0..k).map(|i| variances[i] - communality[i]).collect();
    let common = loadings.iter().sum::<f64>().powi(2);
    let unique: f64 = uniquenesses.iter().sum();
    if common + unique <= 0.0 {
        return Err(PsychometricsError::Undefined {
            what: "McDonald's omega",
            reason: "the items share no variance",
        });
    }
    Ok(Omega {
        omega: common / (common + unique),
        loadings,
        uniquenesses,
        iterations,
    })
}

/// The largest eigenvalue of a symmetric matrix and its unit eigenvector, by power iteration
/// on the matrix shifted by its Gershgorin bound (so every eigenvalue is non-negative and the
/// largest one, not the largest in magnitude, dominates).
fn leading_eigen(m: &[Vec<f64>]) -> (f64, Vec<f64>) {
    let k = m.len();
    let shift = m
        .iter()
        .map(|row| row.iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max);
    let mut v = vec![1.0 / (k as f64).sqrt(); k];
    let mut value = 0.0;
    for _ in 0..10_000 {
        let mut next: Vec<f64> = m
            .iter()
            .zip(&v)
            .map(|(row, vi)| row.iter().zip(&v).map(|(a, b)| a * b).sum::<f64>() + shift * vi)
            .collect();
        let norm = next.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            return (0.0, v);
        }
        for x in &mut next {
            *x /= norm;
        }
        let moved = next
            .iter()
            .zip(&v)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        v = next;
        value = norm - shift;
        if moved < 1e-14 {
            break;
        }
    }
    (value, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix_from(loadings: &[f64], uniquenesses: &[f64]) -> Vec<Vec<f64>> {
        let k = loadings.len();
        (0..k)
            .map(|i| {
                (0..k)
                    .map(|j| loadings[i] * loadings[j] + if i == j { uniquenesses[i] } else { 0.0 })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn omega_recovers_a_correlation_matrix_built_from_known_loadings() {
        let loadings = [0.8, 0.7, 0.6, 0.5];
        let psi: Vec<f64> = loadings.iter().map(|l: &f64| 1.0 - l * l).collect();
        let fit = omega_from_covariance(&matrix_from(&loadings, &psi)).unwrap();
        // By hand: Σλ = 2.6, (Σλ)² = 6.76; Σψ = 0.36 + 0.51 + 0.64 + 0.75 = 2.26.
        assert!((fit.omega - 6.76 / (6.76 + 2.26)).abs() < 1e-8, "{fit:?}");
        for (got, want) in fit.loadings.iter().zip(loadings) {
            assert!((got - want).abs() < 1e-6, "{fit:?}");
        }
    }

    #[test]
    fn omega_recovers_a_covariance_matrix_in_the_items_units() {
        let loadings = [2.0, 1.0, 1.5, 0.5, 1.0];
        let psi = [1.0, 2.0, 0.75, 0.25, 1.0];
        let fit = omega_from_covariance(&matrix_from(&loadings, &psi)).unwrap();
        // Σλ = 6, (Σλ)² = 36; Σψ = 5: ω = 36/41.
        assert!((fit.omega - 36.0 / 41.0).abs() < 1e-8, "{fit:?}");
        for (got, want) in fit.uniquenesses.iter().zip(psi) {
            assert!((got - want).abs() < 1e-6, "{fit:?}");
        }
    }

    #[test]
    fn omega_needs_three_items() {
        let err = omega_from_covariance(&[vec![1.0, 0.5], vec![0.5, 1.0]]).unwrap_err();
        assert!(matches!(
            err,
            PsychometricsError::TooFewColumns { needed: 3, .. }
        ));
    }

    #[test]
    fn alpha_deletes_incomplete_rows_and_reports_bad_input() {
        let data = vec![
            vec![Some(1.0), Some(2.0), Some(2.0)],
            vec![Some(2.0), None, Some(3.0)],
            vec![Some(3.0), Some(3.0), Some(4.0)],
            vec![Some(4.0), Some(5.0), Some(4.0)],
        ];
        let a = cronbach_alpha(&data).unwrap();
        assert_eq!(a.n_complete, 3);
        let without_missing: Vec<_> = data
            .iter()
            .filter(|r| r.iter().all(Option::is_some))
            .cloned()
            .collect();
        assert_eq!(cronbach_alpha(&without_missing).unwrap(), a);

        assert_eq!(cronbach_alpha(&[]).unwrap_err(), PsychometricsError::NoRows);
        assert!(matches!(
            cronbach_alpha(&[vec![Some(1.0)], vec![Some(2.0)]]).unwrap_err(),
            PsychometricsError::TooFewColumns { .. }
        ));
        assert_eq!(
            cronbach_alpha(&[vec![Some(1.0), Some(2.0)], vec![Some(2.0)]]).unwrap_err(),
            PsychometricsError::Ragged {
                row: 2,
                expected: 2,
                got: 1
            }
        );
        assert!(matches!(
            cronbach_alpha(&[vec![Some(1.0), Some(f64::NAN)]]).unwrap_err(),
            PsychometricsError::NotFinite(crate::Cell { row: 1, column: 2 })
        ));
        assert!(matches!(
            cronbach_alpha(&[vec![Some(1.0), Some(1.0)], vec![Some(1.0), Some(1.0)]]).unwrap_err(),
            PsychometricsError::Undefined { .. }
        ));
    }
}
