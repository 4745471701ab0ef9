//! Change between measurements: Jacobson & Truax's reliable change index, and ruptures and
//! repairs in a series of measurements.

use serde::Serialize;

use crate::{PsychometricsError, Result};

/// The criterion of reliable change: |RCI| must exceed it.
pub const RCI_CRITERION: f64 = 1.96;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
    /// Post equals pre.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReliableChange {
    pub rci: f64,
    pub reliable: bool,
    pub direction: Direction,
}

/// SE = sd·√(1 − reliability), the standard error of measurement.
fn standard_error(sd: f64, reliability: f64) -> Result<f64> {
    if !(sd.is_finite() && sd > 0.0) {
        return Err(PsychometricsError::Invalid(format!(
            "the standard deviation must be a positive number, not {sd}"
        )));
    }
    if !(reliability.is_finite() && (0.0..1.0).contains(&reliability)) {
        return Err(PsychometricsError::Invalid(format!(
            "the reliability must be at least 0 and below 1, not {reliability}"
        )));
    }
    Ok(sd * (1.0 - reliability).sqrt())
}

/// rci = (post − pre) / √(2·SE²), SE = sd_pre·√(1 − reliability); reliable when |rci| > 1.96.
pub fn reliable_change(
    pre: f64,
    post: f64,
    sd_pre: f64,
    reliability: f64,
) -> Result<ReliableChange> {
    if !(pre.is_finite() && post.is_finite()) {
        return Err(PsychometricsError::Invalid(
            "pre and post must be finite numbers".into(),
        ));
    }
    let se = standard_error(sd_pre, reliability)?;
    let rci = (post - pre) / (2.0 * se * se).sqrt();
    Ok(ReliableChange {
        rci,
        reliable: rci.abs() > RCI_CRITERION,
        direction: if post > pre {
            Direction::Up
        } else if post < pre {
            Direction::Down
        } else {
            Direction::None
        },
    })
}

/// What counts as a rupture: a drop between consecutive measurements larger than this.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RuptureRule {
    /// A reliable drop (Jacobson & Truax): larger than 1.96·√2·SE, SE = sd·√(1 − reliability).
    ReliableChange { sd: f64, reliability: f64 },
    /// A drop larger than the number of points the user sets.
    Threshold(f64),
}

impl RuptureRule {
    /// The smallest drop that is *not* a rupture; a rupture drops by more.
    pub fn criterion(&self) -> Result<f64> {
        match *self {
            RuptureRule::ReliableChange { sd, reliability } => {
                Ok(RCI_CRITERION * std::f64::consts::SQRT_2 * standard_error(sd, reliability)?)
            }
            RuptureRule::Threshold(t) if t.is_finite() && t > 0.0 => Ok(t),
            RuptureRule::Threshold(t) => Err(PsychometricsError::Invalid(format!(
                "a rupture threshold must be a positive number, not {t}"
            ))),
        }
    }

    /// The rule in words, with its numbers.
    pub fn describe(&self) -> Result<String> {
        let criterion = self.criterion()?;
        let why = match *self {
            RuptureRule::ReliableChange { sd, reliability } => format!(
                "a reliable drop (Jacobson & Truax: 1.96 × √2 × SE, SE = {sd} × √(1 − {reliability}))"
            ),
            RuptureRule::Threshold(_) => "the threshold set".to_string(),
        };
        Ok(format!(
            "A rupture is a drop between consecutive measurements of more than {criterion:.3} \
             points, {why}; a drop of exactly {criterion:.3} is not one. A repair is the first \
             later measurement at or above the level before the rupture."
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rupture {
    /// 0-based index of the measurement before the drop.
    pub before: usize,
    /// 0-based index of the measurement after the drop.
    pub after: usize,
    /// How far it fell (positive).
    pub drop: f64,
    /// 0-based index of the first later measurement at or above `before`'s level.
    pub repaired_at: Option<usize>,
}

/// The ruptures in a series of measurements in time order, each with its repair if any.
pub fn ruptures(series: &[f64], rule: RuptureRule) -> Result<Vec<Rupture>> {
    let criterion = rule.criterion()?;
    if let Some(i) = series.iter().position(|v| !v.is_finite()) {
        return Err(PsychometricsError::Invalid(format!(
            "measurement {} is not a finite number",
            i + 1
        )));
    }
    Ok(series
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[0] - w[1] > criterion)
        .map(|(before, w)| Rupture {
            before,
            after: before + 1,
            drop: w[0] - w[1],
            repaired_at: series[before + 2..]
                .iter()
                .position(|v| *v >= w[0])
                .map(|p| before + 2 + p),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(r: &[Rupture]) -> Vec<(usize, usize, Option<usize>)> {
        r.iter()
            .map(|r| (r.before, r.after, r.repaired_at))
            .collect()
    }

    const THREE: RuptureRule = RuptureRule::Threshold(3.0);

    #[test]
    fn a_steady_series_has_no_rupture() {
        assert!(
            ruptures(&[40.0, 41.0, 39.0, 38.0, 40.0], THREE)
                .unwrap()
                .is_empty()
        );
        assert!(ruptures(&[], THREE).unwrap().is_empty());
        assert!(ruptures(&[40.0], THREE).unwrap().is_empty());
    }

    #[test]
    fn a_rupture_is_repaired_by_the_first_return_to_its_earlier_level() {
        let r = ruptures(&[40.0, 42.0, 35.0, 38.0, 42.0, 45.0], THREE).unwrap();
        assert_eq!(at(&r), [(1, 2, Some(4))]);
        assert_eq!(r[0].drop, 7.0);
    }

    #[test]
    fn a_rupture_never_regained_stays_unrepaired() {
        let r = ruptures(&[40.0, 42.0, 35.0, 38.0, 41.9], THREE).unwrap();
        assert_eq!(at(&r), [(1, 2, None)]);
    }

    #[test]
    fn two_ruptures_each_with_their_own_repair() {
        let r = ruptures(&[40.0, 30.0, 40.0, 44.0, 36.0, 39.0, 44.0], THREE).unwrap();
        assert_eq!(at(&r), [(0, 1, Some(2)), (3, 4, Some(6))]);
    }

    #[test]
    fn a_drop_exactly_at_the_criterion_is_not_a_rupture() {
        assert!(ruptures(&[5.0, 2.0], THREE).unwrap().is_empty());
        assert_eq!(at(&ruptures(&[5.0, 1.99], THREE).unwrap()), [(0, 1, None)]);
    }

    #[test]
    fn the_reliable_change_criterion_and_a_threshold_can_disagree() {
        // SE = 5·√(1 − 0.84) = 2; criterion 1.96·√2·2 ≈ 5.544.
        let reliable = RuptureRule::ReliableChange {
            sd: 5.0,
            reliability: 0.84,
        };
        let criterion = reliable.criterion().unwrap();
        assert!((criterion - 1.96 * 2f64.sqrt() * 2.0).abs() < 1e-12);
        let series = [40.0, 35.0, 40.0, 34.0, 41.0];
        assert_eq!(at(&ruptures(&series, reliable).unwrap()), [(2, 3, Some(4))]);
        assert_eq!(
            at(&ruptures(&series, THREE).unwrap()),
            [(0, 1, Some(2)), (2, 3, Some(4))]
        );
        // A drop just above and one just below the criterion.
        assert_eq!(
            ruptures(&[40.0, 40.0 - criterion - 1e-9], reliable)
                .unwrap()
                .len(),
            1
        );
        assert!(
            ruptures(&[40.0, 40.0 - criterion + 1e-9], reliable)
                .unwrap()
                .is_empty()
        );
        assert!(reliable.describe().unwrap().contains("more than 5.544"));
    }

    #[test]
    fn bad_rules_and_series_are_errors() {
        assert!(ruptures(&[1.0], RuptureRule::Threshold(0.0)).is_err());
        assert!(
            ruptures(
                &[1.0],
                RuptureRule::ReliableChange {
                    sd: 1.0,
                    reliability: 1.0
                }
            )
            .is_err()
        );
        assert!(ruptures(&[1.0, f64::NAN], THREE).is_err());
        assert!(reliable_change(1.0, 2.0, -1.0, 0.8).is_err());
    }
}
