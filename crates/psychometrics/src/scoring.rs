//! Scoring a scale (reverse-keyed items, totals, means) and how its answers are spread: floor
//! and ceiling effects and missingness.

use serde::Serialize;

use crate::matrix::shape;
use crate::{Cell, PsychometricsError, Result};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    /// Per respondent, the sum of the items after reverse-keying; `None` if an item is missing
    /// (a missing-data rule such as prorating belongs to the instrument).
    pub totals: Vec<Option<f64>>,
    /// Per respondent, the total divided by the number of items.
    pub means: Vec<Option<f64>>,
}

fn check_scale(min: f64, max: f64) -> Result<()> {
    if min.is_finite() && max.is_finite() && min < max {
        Ok(())
    } else {
        Err(PsychometricsError::Invalid(format!(
            "a scale needs a minimum below its maximum, not [{min}, {max}]"
        )))
    }
}

fn check_in_scale(data: &[Vec<Option<f64>>], min: f64, max: f64) -> Result<()> {
    for (r, row) in data.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if let Some(v) = *v
                && !(min..=max).contains(&v)
            {
                return Err(PsychometricsError::OutOfScale {
                    cell: Cell {
                        row: r + 1,
                        column: c + 1,
                    },
                    value: v,
                    min,
                    max,
                });
            }
        }
    }
    Ok(())
}

/// Totals and means per respondent on a scale [min, max], the listed 1-based items reversed
/// (x → min + max − x).
pub fn score(data: &[Vec<Option<f64>>], min: f64, max: f64, reverse: &[usize]) -> Result<Scores> {
    let (_, k) = shape(data, "scoring", 1)?;
    check_scale(min, max)?;
    check_in_scale(data, min, max)?;
    let mut reversed = vec![false; k];
    for &item in reverse {
        if item == 0 || item > k {
            return Err(PsychometricsError::Invalid(format!(
                "reverse-keyed item {item} does not exist; items are numbered 1 to {k}"
            )));
        }
        reversed[item - 1] = true;
    }
    let flip = min + max;
    let totals: Vec<Option<f64>> = data
        .iter()
        .map(|row| {
            row.iter()
                .zip(&reversed)
                .map(|(v, &r)| v.map(|v| if r { flip - v } else { v }))
                .sum::<Option<f64>>()
        })
        .collect();
    let means = totals.iter().map(|t| t.map(|t| t / k as f64)).collect();
    Ok(Scores { totals, means })
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Share {
    /// Share of the answers at the scale's minimum.
    pub floor: f64,
    /// Share of the answers at the scale's maximum.
    pub ceiling: f64,
    /// The answers the shares are of.
    pub answered: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ItemDistribution {
    /// 1-based column.
    pub item: usize,
    #[serde(flatten)]
    pub share: Share,
    /// Share of all respondents who left the item empty.
    pub missing: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FloorCeiling {
    pub items: Vec<ItemDistribution>,
    /// For the total, of the respondents with every item: at k·min, at k·max.
    pub total: Share,
}

/// Per item (column), the share of all rows where it is missing.
pub fn missing_shares(data: &[Vec<Option<f64>>]) -> Result<Vec<f64>> {
    let (n, k) = shape(data, "missingness", 1)?;
    Ok((0..k)
        .map(|j| data.iter().filter(|r| r[j].is_none()).count() as f64 / n as f64)
        .collect())
}

/// Floor and ceiling effects per item and for the total, and missingness per item.
pub fn floor_ceiling(data: &[Vec<Option<f64>>], min: f64, max: f64) -> Result<FloorCeiling> {
    let (_, k) = shape(data, "floor and ceiling effects", 1)?;
    check_scale(min, max)?;
    check_in_scale(data, min, max)?;
    let share = |values: &mut dyn Iterator<Item = f64>, low: f64, high: f64| {
        let (mut floor, mut ceiling, mut answered) = (0usize, 0usize, 0usize);
        for v in values {
            answered += 1;
            floor += usize::from(v == low);
            ceiling += usize::from(v == high);
        }
        let of = |count: usize| {
            if answered == 0 {
                0.0
            } else {
                count as f64 / answered as f64
            }
        };
        Share {
            floor: of(floor),
            ceiling: of(ceiling),
            answered,
        }
    };
    let items = (0..k)
        .zip(missing_shares(data)?)
        .map(|(j, missing)| ItemDistribution {
            item: j + 1,
            share: share(&mut data.iter().filter_map(|r| r[j]), min, max),
            missing,
        })
        .collect();
    let totals = &mut data
        .iter()
        .filter_map(|r| r.iter().copied().sum::<Option<f64>>());
    let total = share(totals, k as f64 * min, k as f64 * max);
    Ok(FloorCeiling { items, total })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[&[Option<f64>]]) -> Vec<Vec<Option<f64>>> {
        v.iter().map(|r| r.to_vec()).collect()
    }

    #[test]
    fn reverse_keyed_items_are_flipped_and_missing_leaves_no_total() {
        let data = rows(&[&[Some(1.0), Some(5.0)], &[Some(2.0), None]]);
        let s = score(&data, 1.0, 5.0, &[2]).unwrap();
        assert_eq!(s.totals, [Some(2.0), None]);
        assert_eq!(s.means, [Some(1.0), None]);
        assert!(score(&data, 1.0, 5.0, &[3]).is_err());
        assert!(score(&data, 5.0, 1.0, &[]).is_err());
        assert_eq!(
            score(&data, 2.0, 5.0, &[]).unwrap_err().to_string(),
            "row 1, column 1: 1 is outside the scale [2, 5]"
        );
    }

    #[test]
    fn floor_ceiling_and_missing_shares() {
        let data = rows(&[
            &[Some(1.0), Some(1.0)],
            &[Some(1.0), Some(4.0)],
            &[Some(4.0), None],
            &[Some(2.0), Some(1.0)],
        ]);
        let fc = floor_ceiling(&data, 1.0, 4.0).unwrap();
        assert_eq!(fc.items[0].share.floor, 0.5);
        assert_eq!(fc.items[0].share.ceiling, 0.25);
        assert_eq!(fc.items[0].missing, 0.0);
        assert_eq!(fc.items[1].share.answered, 3);
        assert_eq!(fc.items[1].missing, 0.25);
        // Totals of the complete rows: 2 (the floor, 2·1), 5, 3.
        assert_eq!(fc.total.answered, 3);
        assert_eq!(fc.total.floor, 1.0 / 3.0);
        assert_eq!(fc.total.ceiling, 0.0);
    }
}
