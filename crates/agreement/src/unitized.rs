//! Agreement on unitizing a continuum (for text: which characters carry which code).
//!
//! Two definitions, as `shared/design/unitized-alpha.md` sets them out:
//! - Krippendorff's 1995/2004 u-alpha per category and overall (Krippendorff 1995, Sociol.
//!   Methodol. 25:47–76; 2004, *Content Analysis* 2nd ed., ch. 11), in the form DKPro Statistics
//!   implements: [`u_alpha_2004`].
//! - The 2016/2019 family (Krippendorff, Mathet, Bouvry & Widlöcher 2016, Quality & Quantity
//!   50:2347–2364; Krippendorff 2019 §12.6): uα, the binary |uα (coded against uncoded, overall
//!   and per code), cuα (which code, within stretches both coded) and (k)uα per code:
//!   [`UnitizedFamily`].
//!
//! Positions are integers (code points). Sums are kept as exact integers (i128) and divided only
//! at the end.

use std::collections::{BTreeMap, BTreeSet};

use crate::Coefficient;

/// One coder's coded stretch `[begin, begin + length)` with its code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub coder: usize,
    pub begin: i64,
    pub length: i64,
    pub code: String,
}

/// What is coded: the continuum `[begin, begin + length)`, the coders `0..coders` (a coder who
/// coded nothing still counts: all of the continuum is uncoded for them), and their segments.
#[derive(Clone, Debug)]
pub struct Unitizing {
    pub begin: i64,
    pub length: i64,
    pub coders: usize,
    pub segments: Vec<Segment>,
}

/// Data that the definitions cannot take, said precisely.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnitizingError {
    #[error("coder {coder}'s segment [{begin}, {end}) lies outside the continuum [{from}, {to})")]
    Outside {
        coder: usize,
        begin: i64,
        end: i64,
        from: i64,
        to: i64,
    },
    #[error(
        "coder {coder}'s segments overlap at [{begin}, {end}) ({first} and {second}); a coder's codes here must not overlap"
    )]
    Overlap {
        coder: usize,
        begin: i64,
        end: i64,
        first: String,
        second: String,
    },
    #[error("unitizing needs at least two coders")]
    TooFewCoders,
    #[error("a segment must be at least one position long")]
    Empty,
}

impl Unitizing {
    fn check(&self) -> Result<(), UnitizingError> {
        if self.coders < 2 {
            return Err(UnitizingError::TooFewCoders);
        }
        let end = self.begin + self.length;
        for s in &self.segments {
            if s.length < 1 {
                return Err(UnitizingError::Empty);
            }
            if s.begin < self.begin || s.begin + s.length > end || s.coder >= self.coders {
                return Err(UnitizingError::Outside {
                    coder: s.coder,
                    begin: s.begin,
                    end: s.begin + s.length,
                    from: self.begin,
                    to: end,
                });
            }
        }
        Ok(())
    }

    /// Coder `i`'s segments with `keep(code)`, sorted, refusing overlaps among them.
    fn units(
        &self,
        coder: usize,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Vec<&Segment>, UnitizingError> {
        let mut units: Vec<&Segment> = self
            .segments
            .iter()
            .filter(|s| s.coder == coder && keep(&s.code))
            .collect();
        units.sort_by_key(|s| (s.begin, s.length));
        for w in units.windows(2) {
            if w[1].begin < w[0].begin + w[0].length {
                return Err(UnitizingError::Overlap {
                    coder,
                    begin: w[1].begin,
                    end: (w[0].begin + w[0].length).min(w[1].begin + w[1].length),
                    first: w[0].code.clone(),
                    second: w[1].code.clone(),
                });
            }
        }
        Ok(units)
    }

    /// Coder `i`'s partition of the continuum into sections `(begin, length, Some(code) | None)`.
    fn partition<'a>(&self, units: &[&'a Segment]) -> Vec<(i64, i64, Option<&'a str>)> {
        let mut out = Vec::with_capacity(units.len() * 2 + 1);
        let mut at = self.begin;
        for u in units {
            if u.begin > at {
                out.push((at, u.begin - at, None));
            }
            out.push((u.begin, u.length, Some(u.code.as_str())));
            at = u.begin + u.length;
        }
        if at < self.begin + self.length {
            out.push((at, self.begin + self.length - at, None));
        }
        out
    }

    pub fn codes(&self) -> BTreeSet<&str> {
        self.segments.iter().map(|s| s.code.as_str()).collect()
    }
}

/// The 1995/2004 u-alpha's observed and expected disagreement for one category.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Disagreement {
    pub observed: f64,
    pub expected: f64,
}

impl Disagreement {
    pub fn alpha(&self) -> Coefficient {
        if self.expected == 0.0 {
            Coefficient::Undefined(
                "no expected disagreement (nothing was coded with this category)".into(),
            )
        } else {
            Coefficient::Defined(1.0 - self.observed / self.expected)
        }
    }
}

/// Krippendorff's 1995/2004 u-alpha for one category: D_o from the squared boundary
/// differences of overlapping sections, D_e from all possible unitizations.
pub fn u_alpha_2004(data: &Unitizing, category: &str) -> Result<Disagreement, UnitizingError> {
    data.check()?;
    let (m, l) = (data.coders as i128, data.length as i128);
    let partitions: Vec<Vec<(i64, i64, Option<&str>)>> = (0..data.coders)
        .map(|i| data.units(i, |c| c == category).map(|u| data.partition(&u)))
        .collect::<Result<_, _>>()?;
    // Observed: every overlapping pair of sections of two coders, once.
    let mut squared: i128 = 0;
    for i in 0..data.coders {
        for j in i + 1..data.coders {
            for &(b1, l1, v1) in &partitions[i] {
                for &(b2, l2, v2) in &partitions[j] {
                    let overlap = (b1 + l1).min(b2 + l2) - b1.max(b2);
                    if overlap <= 0 {
                        continue;
                    }
                    squared += match (v1, v2) {
                        (Some(_), Some(_)) => {
                            i128::from(b1 - b2).pow(2) + i128::from((b1 + l1) - (b2 + l2)).pow(2)
                        }
                        // A unit counts against a gap only when it lies wholly inside it.
                        (Some(_), None) if b1 >= b2 && b1 + l1 <= b2 + l2 => i128::from(l1).pow(2),
                        (None, Some(_)) if b2 >= b1 && b2 + l2 <= b1 + l1 => i128::from(l2).pow(2),
                        _ => 0,
                    };
                }
            }
        }
    }
    let observed = 2.0 * squared as f64 / (m * (m - 1) * l * l) as f64;
    // Expected.
    let units: Vec<i128> = partitions
        .iter()
        .flatten()
        .filter(|s| s.2.is_some())
        .map(|s| i128::from(s.1))
        .collect();
    let gaps: Vec<i128> = partitions
        .iter()
        .flatten()
        .filter(|s| s.2.is_none())
        .map(|s| i128::from(s.1))
        .collect();
    let n = units.len() as i128;
    let mut numerator: i128 = 0;
    for &u in &units {
        let within = (n - 1) * u * (u - 1) * (2 * u - 1) / 3;
        let placements: i128 = gaps.iter().filter(|&&g| g >= u).map(|&g| g - u + 1).sum();
        numerator += within + u * u * placements;
    }
    let denominator = m * l * (m * l - 1) - units.iter().map(|&u| u * (u - 1)).sum::<i128>();
    let expected = if numerator == 0 || denominator == 0 {
        0.0
    } else {
        2.0 / l as f64 * numerator as f64 / denominator as f64
    };
    Ok(Disagreement { observed, expected })
}

/// The 1995/2004 overall u-alpha: `1 − Σ_c D_o(c) / Σ_c D_e(c)` over the categories used.
pub fn u_alpha_2004_overall(data: &Unitizing) -> Result<Coefficient, UnitizingError> {
    let (mut observed, mut expected) = (0.0, 0.0);
    for code in data.codes() {
        let d = u_alpha_2004(data, code)?;
        observed += d.observed;
        expected += d.expected;
    }
    Ok(Disagreement { observed, expected }.alpha())
}

/// The 2016/2019 family on one set of mutually exclusive codes (a coder's codes must not
/// overlap), from the length coincidences of the coders' partitions.
#[derive(Clone, Debug)]
pub struct UnitizedFamily {
    /// Codes, in order; index 0 is ∅ (uncoded).
    codes: Vec<String>,
    /// Ordered-coder-pair coincidence counts per position, times (m − 1): l_ck·(m−1).
    pairs: Vec<Vec<i128>>,
    /// Self-pairing weights: Σ l² of coded segments, Σ l of gaps, per value.
    self_pairs: Vec<i128>,
    /// Σ over coded segments of (m−1)·p_g squared, per code (cuα's S*·(m−1)²).
    pairable: Vec<i128>,
    m: i128,
    length: i128,
}

impl UnitizedFamily {
    pub fn new(data: &Unitizing) -> Result<Self, UnitizingError> {
        data.check()?;
        let codes: Vec<String> = std::iter::once(String::new())
            .chain(data.codes().into_iter().map(String::from))
            .collect();
        let index: BTreeMap<&str, usize> = codes
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        let q = codes.len();
        let (m, length) = (data.coders, data.length);
        let partitions: Vec<Vec<(i64, i64, Option<&str>)>> = (0..m)
            .map(|i| data.units(i, |_| true).map(|u| data.partition(&u)))
            .collect::<Result<_, _>>()?;
        // The value of every coder at every position (positions relative to the continuum).
        let values: Vec<Vec<usize>> = partitions
            .iter()
            .map(|p| {
                let mut row = vec![0usize; length as usize];
                for &(b, l, v) in p {
                    if let Some(code) = v {
                        let k = index[code];
                        row[(b - data.begin) as usize..(b - data.begin + l) as usize]
                            .iter_mut()
                            .for_each(|x| *x = k);
                    }
                }
                row
            })
            .collect();
        let mut pairs = vec![vec![0i128; q]; q];
        for pos in 0..length as usize {
            for i in 0..m {
                for j in 0..m {
                    if i != j {
                        pairs[values[i][pos]][values[j][pos]] += 1;
                    }
                }
            }
        }
        let mut self_pairs = vec![0i128; q];
        let mut pairable = vec![0i128; q];
        for (i, p) in partitions.iter().enumerate() {
            for &(b, l, v) in p {
                match v {
                    None => self_pairs[0] += i128::from(l),
                    Some(code) => {
                        let k = index[code];
                        self_pairs[k] += i128::from(l).pow(2);
                        // (m−1)·p_g: how much of g the other coders coded, summed over them.
                        let start = (b - data.begin) as usize;
                        let covered: i128 = (0..m)
                            .filter(|&j| j != i)
                            .map(|j| {
                                values[j][start..start + l as usize]
                                    .iter()
                                    .filter(|&&x| x != 0)
                                    .count() as i128
                            })
                            .sum();
                        pairable[k] += covered * covered;
                    }
                }
            }
        }
        Ok(Self {
            codes,
            pairs,
            self_pairs,
            pairable,
            m: m as i128,
            length: i128::from(length),
        })
    }

    fn l(&self, c: usize, k: usize) -> f64 {
        self.pairs[c][k] as f64 / (self.m - 1) as f64
    }

    fn total(&self) -> f64 {
        (self.m * self.length) as f64
    }

    fn margin(&self, c: usize) -> f64 {
        (0..self.codes.len()).map(|k| self.l(c, k)).sum()
    }

    /// uα: nominal agreement over all values (∅ included), coded segments weighted as blocks.
    pub fn u_alpha(&self) -> Coefficient {
        let total = self.total();
        let s: f64 = self.self_pairs.iter().sum::<i128>() as f64;
        let scale = total - s / total;
        let observed_same: f64 = (0..self.codes.len()).map(|c| self.l(c, c)).sum();
        let expected_same: f64 = (0..self.codes.len())
            .map(|c| (self.margin(c).powi(2) - self.self_pairs[c] as f64) / scale)
            .sum();
        ratio_alpha(total - observed_same, total - expected_same)
    }

    /// |uα: coded (any code) against uncoded, segments kept as they are.
    pub fn binary(&self) -> Coefficient {
        let total = self.total();
        let s: f64 = self.self_pairs.iter().sum::<i128>() as f64;
        let gap = self.margin(0);
        let observed: f64 = (1..self.codes.len()).map(|k| self.l(0, k)).sum();
        let expected = gap * (total - gap) / (total - s / total);
        ratio_alpha(observed, expected)
    }

    /// The coincidence sub-matrix of coded matter (∅ left out) and cuα's expected values.
    fn coded(&self) -> Option<Coded> {
        let q = self.codes.len();
        let lstar: Vec<Vec<f64>> = (1..q)
            .map(|c| (1..q).map(|k| self.l(c, k)).collect())
            .collect();
        let total: f64 = lstar.iter().flatten().sum();
        if total == 0.0 {
            return None;
        }
        let margins: Vec<f64> = lstar.iter().map(|r| r.iter().sum()).collect();
        let per = |c: usize| self.pairable[c + 1] as f64 / ((self.m - 1) as f64).powi(2);
        let s: f64 = (0..q - 1).map(per).sum();
        let scale = total - s / total;
        let e: Vec<Vec<f64>> = (0..q - 1)
            .map(|c| {
                (0..q - 1)
                    .map(|k| (margins[c] * margins[k] - if c == k { per(c) } else { 0.0 }) / scale)
                    .collect()
            })
            .collect();
        Some(Coded {
            observed: lstar,
            expected: e,
            total,
        })
    }

    /// cuα: which code, within the stretches that two coders both coded (nominal metric), with
    /// the coverage (that share of all matter).
    pub fn cu_alpha(&self) -> (Coefficient, f64) {
        let Some(Coded {
            observed: lstar,
            expected: e,
            total,
        }) = self.coded()
        else {
            return (
                Coefficient::Undefined("no stretch was coded by two coders".into()),
                0.0,
            );
        };
        let same: f64 = (0..lstar.len()).map(|c| lstar[c][c]).sum();
        let expected_same: f64 = (0..e.len()).map(|c| e[c][c]).sum();
        (
            ratio_alpha(total - same, total - expected_same),
            total / self.total(),
        )
    }

    /// (k)uα for one code, with its coverage; `None` for a code not in the data.
    pub fn code_alpha(&self, code: &str) -> Option<(Coefficient, f64)> {
        let k = self.codes.iter().position(|c| c == code)?.checked_sub(1)?;
        let Some(Coded {
            observed: lstar,
            expected: e,
            ..
        }) = self.coded()
        else {
            return Some((
                Coefficient::Undefined("no stretch was coded by two coders".into()),
                0.0,
            ));
        };
        let l_k: f64 = lstar[k].iter().sum();
        let e_k: f64 = e[k].iter().sum();
        let coverage = l_k / self.margin(k + 1);
        if l_k == 0.0 || e_k == 0.0 {
            return Some((
                Coefficient::Undefined(format!(
                    "no stretch coded '{code}' was also coded by another coder"
                )),
                coverage,
            ));
        }
        Some((
            ratio_alpha((l_k - lstar[k][k]) / l_k, (e_k - e[k][k]) / e_k),
            coverage,
        ))
    }
}

/// cuα's coincidences among codes (∅ left out): observed, expected, and their total.
struct Coded {
    observed: Vec<Vec<f64>>,
    expected: Vec<Vec<f64>>,
    total: f64,
}

/// `1 − observed / expected` disagreement, undefined when nothing is expected.
fn ratio_alpha(observed: f64, expected: f64) -> Coefficient {
    if expected.abs() < 1e-12 {
        Coefficient::Undefined("no expected disagreement (the data hold no variation)".into())
    } else {
        Coefficient::Defined(1.0 - observed / expected)
    }
}

/// |uα for one code: the coders' stretches coded `code` against everything else.
pub fn binary_for_code(data: &Unitizing, code: &str) -> Result<Coefficient, UnitizingError> {
    let only = Unitizing {
        segments: data
            .segments
            .iter()
            .filter(|s| s.code == code)
            .cloned()
            .collect(),
        ..data.clone()
    };
    Ok(UnitizedFamily::new(&only)?.binary())
}

#[cfg(test)]
mod tests;
