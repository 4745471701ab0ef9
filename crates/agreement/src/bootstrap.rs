//! Percentile bootstrap confidence intervals over units (Efron & Tibshirani 1993, ch. 13):
//! resample the table's units with replacement, recompute the coefficient, take the
//! (α/2, 1−α/2) quantiles. Seeded, so the same call gives the same interval everywhere.

use crate::{Coefficient, Table};

/// A confidence interval, with how many replicates it rests on.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
    pub confidence: f64,
    /// Replicates on which the coefficient was defined (the others had, e.g., no variation).
    pub replicates: usize,
    pub undefined_replicates: usize,
    pub seed: u64,
}

/// SplitMix64 (Steele, Lea & Flood 2014): a small, well-mixed generator whose output is fixed
/// by the seed on every platform, which is what a reproducible interval needs.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2⁻³² for tables of
    /// fewer than 2³² units).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }
}

/// The percentile interval of `coefficient` over `replicates` resamples of the units.
/// `None` when the table has no units or fewer than half the replicates are defined.
pub fn bootstrap(
    data: &Table,
    coefficient: impl Fn(&Table) -> Coefficient,
    replicates: usize,
    confidence: f64,
    seed: u64,
) -> Option<Interval> {
    if data.is_empty() || replicates == 0 || !(0.0..1.0).contains(&confidence) {
        return None;
    }
    let mut rng = SplitMix64(seed);
    let mut values = Vec::with_capacity(replicates);
    let mut sample: Vec<Vec<Option<f64>>> = Vec::with_capacity(data.len());
    for _ in 0..replicates {
        sample.clear();
        sample.extend((0..data.len()).map(|_| data[rng.below(data.len())].clone()));
        if let Some(v) = coefficient(&sample).value() {
            values.push(v);
        }
    }
    let undefined = replicates - values.len();
    if values.len() * 2 < replicates {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let quantile = |p: f64| values[((values.len() - 1) as f64 * p).round() as usize];
    let tail = (1.0 - confidence) / 2.0;
    Some(Interval {
        low: quantile(tail),
        high: quantile(1.0 - tail),
        confidence,
        replicates: values.len(),
        undefined_replicates: undefined,
        seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Level, krippendorff_alpha};

    fn table() -> Vec<Vec<Option<f64>>> {
        (0..60)
            .map(|i| {
                vec![
                    Some(f64::from(i % 4)),
                    Some(f64::from(if i % 7 == 0 { (i + 1) % 4 } else { i % 4 })),
                ]
            })
            .collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_interval() {
        let alpha = |t: &Table| krippendorff_alpha(t, Level::Nominal);
        let a = bootstrap(&table(), alpha, 1000, 0.95, 7).unwrap();
        let b = bootstrap(&table(), alpha, 1000, 0.95, 7).unwrap();
        let c = bootstrap(&table(), alpha, 1000, 0.95, 8).unwrap();
        assert_eq!(a, b);
        assert_ne!(
            (a.low, a.high),
            (c.low, c.high),
            "another seed, another resampling"
        );
        let point = alpha(&table()).value().unwrap();
        assert!(
            a.low < point && point <= a.high && a.high <= 1.0,
            "{a:?} around {point}"
        );
        assert_eq!(a.replicates + a.undefined_replicates, 1000);
    }

    #[test]
    fn perfect_agreement_has_a_point_interval_and_no_data_has_none() {
        let perfect: Vec<Vec<Option<f64>>> =
            (0..20).map(|i| vec![Some(f64::from(i % 3)); 3]).collect();
        let i = bootstrap(
            &perfect,
            |t| krippendorff_alpha(t, Level::Nominal),
            200,
            0.9,
            1,
        )
        .unwrap();
        assert_eq!((i.low, i.high), (1.0, 1.0));
        let same: Vec<Vec<Option<f64>>> = vec![vec![Some(1.0), Some(1.0)]; 5];
        assert!(
            bootstrap(
                &same,
                |t| krippendorff_alpha(t, Level::Nominal),
                100,
                0.95,
                1
            )
            .is_none(),
            "never defined"
        );
        assert!(bootstrap(&[], |t| krippendorff_alpha(t, Level::Nominal), 100, 0.95, 1).is_none());
    }
}
