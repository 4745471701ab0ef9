//! Inter-coder agreement coefficients as pure functions over plain data: a units × coders
//! table of values, `None` where a coder did not code a unit. Nothing here knows the domain.
//!
//! Definitions follow the published sources exactly (see each function), as restated in
//! `shared/agreement-vectors/README.md`, whose vectors the tests check:
//! - Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. ASC papers 43.
//! - Cohen, J. (1960), Educ. Psychol. Meas. 20:37–46; weighted: Cohen (1968).
//! - Scott, W.A. (1955), Public Opinion Quarterly 19:321–325.
//! - Fleiss, J.L. (1971), Psychol. Bull. 76:378–382, with Gwet (2014)'s handling of unequal
//!   numbers of raters per unit.
//! - Gwet, K.L. (2014). Handbook of Inter-Rater Reliability, 4th ed. (AC1, percent agreement).
//! - Brennan, R.L. & Prediger, D.J. (1981), Educ. Psychol. Meas. 41:687–699.
//!
//! A coefficient that is not defined for the data (nothing pairable, no variation) is
//! [`Coefficient::Undefined`] with the reason, never NaN.

use std::collections::BTreeMap;

mod bootstrap;
pub mod unitized;

pub use bootstrap::{Interval, bootstrap};

/// A units × coders table: `data[unit][coder]`, `None` = not coded.
pub type Table = [Vec<Option<f64>>];

/// A coefficient's value, or why it has none.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coefficient {
    Defined(f64),
    Undefined(String),
}

impl Coefficient {
    pub fn value(&self) -> Option<f64> {
        match self {
            Coefficient::Defined(v) => Some(*v),
            Coefficient::Undefined(_) => None,
        }
    }

    pub fn undefined_reason(&self) -> Option<&str> {
        match self {
            Coefficient::Defined(_) => None,
            Coefficient::Undefined(r) => Some(r),
        }
    }

    fn ratio(numerator: f64, denominator: f64, reason: &str) -> Self {
        if denominator.abs() < 1e-15 {
            Coefficient::Undefined(reason.to_string())
        } else {
            Coefficient::Defined(numerator / denominator)
        }
    }
}

/// Krippendorff's levels of measurement: which differences between values count how much.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Nominal,
    Ordinal,
    Interval,
    Ratio,
}

/// Weights for Cohen's kappa, by the categories' positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weights {
    Unweighted,
    Linear,
    Quadratic,
}

/// Values compared exactly: the categories a table uses, in order, each with an index.
fn index_of(values: &[f64]) -> impl Fn(f64) -> Option<usize> + '_ {
    move |v| values.iter().position(|c| *c == v)
}

/// Distinct values kept in a list while they are few (the usual case: a handful of
/// categories), so a million-unit table costs one pass, not a sort of every value.
const FEW: usize = 64;

/// The sorted distinct values of a table.
pub fn categories_of(data: &Table) -> Vec<f64> {
    let mut distinct: Vec<f64> = Vec::new();
    for v in data.iter().flatten().flatten() {
        if !distinct.contains(v) {
            if distinct.len() == FEW {
                let mut all: Vec<f64> = data
                    .iter()
                    .flatten()
                    .flatten()
                    .map(|v| f64::from_bits(bits_of(*v)))
                    .collect();
                all.sort_by(f64::total_cmp);
                all.dedup();
                return all;
            }
            distinct.push(f64::from_bits(bits_of(*v)));
        }
    }
    distinct.sort_by(f64::total_cmp);
    distinct
}

/// Krippendorff's alpha (Krippendorff 2011). Units with fewer than two values are not pairable
/// and are skipped. With the coincidence matrix o over the values present,
/// `alpha = 1 − (n − 1) Σ o_ck δ²(c,k) / Σ n_c n_k δ²(c,k)`.
pub fn krippendorff_alpha(data: &Table, level: Level) -> Coefficient {
    let (values, o) = coincidences(data);
    let q = values.len();
    let n_c: Vec<f64> = (0..q).map(|c| (0..q).map(|k| o[c * q + k]).sum()).collect();
    let n: f64 = n_c.iter().sum();
    if n == 0.0 {
        return Coefficient::Undefined(
            "no unit has two or more values, so nothing is pairable".into(),
        );
    }
    let delta2 = |c: usize, k: usize| -> f64 {
        let (a, b) = (values[c], values[k]);
        match level {
            Level::Nominal => f64::from(u8::from(c != k)),
            Level::Interval => (a - b).powi(2),
            Level::Ratio => {
                if a + b == 0.0 {
                    0.0
                } else {
                    ((a - b) / (a + b)).powi(2)
                }
            }
            Level::Ordinal => {
                let (lo, hi) = (c.min(k), c.max(k));
                let between: f64 = n_c[lo..=hi].iter().sum();
                (between - (n_c[c] + n_c[k]) / 2.0).powi(2)
            }
        }
    };
    let (mut observed, mut expected) = (0.0, 0.0);
    for c in 0..q {
        for k in 0..q {
            if c == k {
                continue;
            }
            let d = delta2(c, k);
            observed += o[c * q + k] * d;
            expected += n_c[c] * n_c[k] * d;
        }
    }
    if expected == 0.0 {
        return Coefficient::Undefined(
            "the data hold no variation (every pairable value is the same)".into(),
        );
    }
    Coefficient::Defined(1.0 - (n - 1.0) * observed / expected)
}

/// The most unit patterns (see [`tallied`]) counted for one table: 1 MiB of counts, enough for
/// e.g. 2 coders with up to 10 categories, 4 with 7, 9 with 5. A table of fewer units than
/// that gets at most [`SMALL_PATTERNS`] or one per unit, since the pattern counts are cleared
/// and read back whole.
const PATTERNS: usize = 1 << 17;
const SMALL_PATTERNS: usize = 1 << 12;

/// `-0.0` and `0.0` are one category.
fn bits_of(v: f64) -> u64 {
    if v == 0.0 { 0 } else { v.to_bits() }
}

/// Categories (as [`bits_of`]) numbered in the order they first appear, so that a table is
/// numbered in the same pass that counts it; put in order of value at the end.
#[derive(Default)]
struct Seen(Vec<u64>);

impl Seen {
    /// A scan without an early exit: where a value is found is unpredictable, and a branch on
    /// it would cost more than the few extra comparisons.
    fn find(&self, bits: u64) -> Option<usize> {
        let mut found = usize::MAX;
        for (i, s) in self.0.iter().enumerate() {
            if *s == bits {
                found = i;
            }
        }
        (found != usize::MAX).then_some(found)
    }

    fn push(&mut self, bits: u64) -> usize {
        self.0.push(bits);
        self.0.len() - 1
    }

    /// The values in order, and each category's position among them.
    fn sorted(&self) -> (Vec<f64>, Vec<usize>) {
        let mut order: Vec<usize> = (0..self.0.len()).collect();
        order.sort_by(|&a, &b| f64::from_bits(self.0[a]).total_cmp(&f64::from_bits(self.0[b])));
        let mut rank = vec![0; order.len()];
        for (r, &c) in order.iter().enumerate() {
            rank[c] = r;
        }
        (
            order.iter().map(|&c| f64::from_bits(self.0[c])).collect(),
            rank,
        )
    }
}

/// The coincidence matrix (row-major, `q × q`) over the table's sorted distinct values, by the
/// fastest way that fits the table.
fn coincidences(data: &Table) -> (Vec<f64>, Vec<f64>) {
    tallied(data)
        .or_else(|| by_unit(data))
        .unwrap_or_else(|| coincidences_of_many(data))
}

/// A unit's coincidences depend only on how many of its values fall in each category, its
/// pattern. So the pass over the table only counts the units of each pattern, a pattern being
/// the per-category counts read as the digits of one number (base: the most values a unit can
/// hold, plus one), and each pattern's coincidences are added once at the end: one increment
/// per unit, and no floating point until then. `None` if the table has too many patterns.
fn tallied(data: &Table) -> Option<(Vec<f64>, Vec<f64>)> {
    let radix = data.iter().map(Vec::len).max().unwrap_or(0) + 1;
    let limit = PATTERNS.min(data.len().max(SMALL_PATTERNS));
    let mut seen = Seen::default();
    // Category c's digit has place value radix^c.
    let mut place: Vec<usize> = Vec::new();
    let mut units_of: Vec<u64> = vec![0];
    for unit in data {
        let mut pattern = 0;
        for v in unit.iter().flatten() {
            let bits = bits_of(*v);
            let c = match seen.find(bits) {
                Some(c) => c,
                None => {
                    // A new category adds a digit; the patterns counted so far keep their
                    // numbers (their new digit is 0).
                    let size = units_of.len().checked_mul(radix)?;
                    if size > limit {
                        return None;
                    }
                    place.push(units_of.len());
                    units_of.resize(size, 0);
                    seen.push(bits)
                }
            };
            pattern += place[c];
        }
        units_of[pattern] += 1;
    }

    let (values, rank) = seen.sorted();
    let q = values.len();
    let mut o = vec![0.0f64; q * q];
    let mut counts = vec![0u64; q];
    for (pattern, &units) in units_of.iter().enumerate() {
        if units == 0 {
            continue;
        }
        let mut rest = pattern;
        for count in &mut counts {
            *count = (rest % radix) as u64;
            rest /= radix;
        }
        let m: u64 = counts.iter().sum();
        if m < 2 {
            continue;
        }
        for (c, &nc) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
            for (k, &nk) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
                let pairs = nc * if c == k { nk - 1 } else { nk };
                o[rank[c] * q + rank[k]] += (units * pairs) as f64 / (m - 1) as f64;
            }
        }
    }
    Some((values, o))
}

/// A coincidence matrix (`q × q`) filled unit by unit, from each unit's category indices.
struct ByUnit {
    q: usize,
    o: Vec<f64>,
    counts: Vec<usize>,
    // The categories present in the current unit, so that the work per unit grows with its
    // values, not with the number of categories.
    present: Vec<usize>,
}

impl ByUnit {
    fn new(q: usize) -> Self {
        ByUnit {
            q,
            o: vec![0.0; q * q],
            counts: vec![0; q],
            present: Vec::new(),
        }
    }

    fn add(&mut self, unit: &[usize]) {
        let m = unit.len();
        if m < 2 {
            return;
        }
        for &c in unit {
            if self.counts[c] == 0 {
                self.present.push(c);
            }
            self.counts[c] += 1;
        }
        let scale = 1.0 / (m as f64 - 1.0);
        for &c in &self.present {
            for &k in &self.present {
                let (nc, nk) = (self.counts[c], self.counts[k]);
                let pairs = nc * if c == k { nk - 1 } else { nk };
                self.o[c * self.q + k] += pairs as f64 * scale;
            }
        }
        for &c in &self.present {
            self.counts[c] = 0;
        }
        self.present.clear();
    }
}

/// Unit by unit, for tables with too many patterns but at most [`FEW`] distinct values (many
/// coders, say). `None` if there are more.
fn by_unit(data: &Table) -> Option<(Vec<f64>, Vec<f64>)> {
    let mut seen = Seen::default();
    let mut matrix = ByUnit::new(FEW);
    let mut indices: Vec<usize> = Vec::new();
    for unit in data {
        indices.clear();
        for v in unit.iter().flatten() {
            let bits = bits_of(*v);
            indices.push(match seen.find(bits) {
                Some(c) => c,
                None if seen.0.len() < FEW => seen.push(bits),
                None => return None,
            });
        }
        matrix.add(&indices);
    }
    let (values, rank) = seen.sorted();
    let q = values.len();
    let mut o = vec![0.0; q * q];
    for c in 0..q {
        for k in 0..q {
            o[rank[c] * q + rank[k]] = matrix.o[c * FEW + k];
        }
    }
    Some((values, o))
}

/// The same for tables with many distinct values, numbered by their sorted position.
fn coincidences_of_many(data: &Table) -> (Vec<f64>, Vec<f64>) {
    let values = categories_of(data);
    let mut matrix = ByUnit::new(values.len());
    let mut indices: Vec<usize> = Vec::new();
    for unit in data {
        indices.clear();
        indices.extend(unit.iter().flatten().map(|v| {
            let v = f64::from_bits(bits_of(*v));
            values
                .binary_search_by(|x| x.total_cmp(&v))
                .expect("every value is a category")
        }));
        matrix.add(&indices);
    }
    (values, matrix.o)
}

/// The complete pairs of a two-coder table, or why there are none.
fn pairs(data: &Table) -> Result<Vec<(f64, f64)>, Coefficient> {
    if data.iter().any(|u| u.len() != 2) {
        return Err(Coefficient::Undefined(
            "this coefficient compares exactly two coders".into(),
        ));
    }
    let pairs: Vec<(f64, f64)> = data.iter().filter_map(|u| Some((u[0]?, u[1]?))).collect();
    if pairs.is_empty() {
        return Err(Coefficient::Undefined(
            "no unit was coded by both coders".into(),
        ));
    }
    Ok(pairs)
}

/// Cohen's kappa for two coders, optionally weighted by category position (linear
/// `1 − |i−j|/(q−1)`, quadratic `1 − (i−j)²/(q−1)²`). Units missing either rating are dropped.
/// `kappa = (p_o − p_e) / (1 − p_e)`.
pub fn cohen_kappa(data: &Table, categories: &[f64], weights: Weights) -> Coefficient {
    let pairs = match pairs(data) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let index = index_of(categories);
    let q = categories.len();
    let weight = |i: usize, j: usize| agreement_weight(weights, q, i, j);
    let n = pairs.len() as f64;
    let mut joint = vec![0.0f64; q * q];
    for (a, b) in &pairs {
        let (Some(i), Some(j)) = (index(*a), index(*b)) else {
            return Coefficient::Undefined(format!(
                "a value ({a} or {b}) is not one of the declared categories"
            ));
        };
        joint[i * q + j] += 1.0 / n;
    }
    let row: Vec<f64> = (0..q)
        .map(|i| (0..q).map(|j| joint[i * q + j]).sum())
        .collect();
    let col: Vec<f64> = (0..q)
        .map(|j| (0..q).map(|i| joint[i * q + j]).sum())
        .collect();
    let (mut p_o, mut p_e) = (0.0, 0.0);
    for i in 0..q {
        for j in 0..q {
            p_o += weight(i, j) * joint[i * q + j];
            p_e += weight(i, j) * row[i] * col[j];
        }
    }
    Coefficient::ratio(
        p_o - p_e,
        1.0 - p_e,
        "chance agreement is 1 (both coders used a single category)",
    )
}

/// How much categories at positions `i` and `j` of `q` agree: 1 on the diagonal, and off it 0
/// (unweighted), `1 − |i−j|/(q−1)` (linear) or `1 − (i−j)²/(q−1)²` (quadratic).
fn agreement_weight(weights: Weights, q: usize, i: usize, j: usize) -> f64 {
    let span = (q.max(2) - 1) as f64;
    let d = i.abs_diff(j) as f64;
    match weights {
        Weights::Unweighted => f64::from(u8::from(i == j)),
        Weights::Linear => 1.0 - d / span,
        Weights::Quadratic => 1.0 - (d / span).powi(2),
    }
}

/// Scott's pi for two coders over complete pairs: `p_e = Σ ((n_kA + n_kB) / 2N)²`.
pub fn scott_pi(data: &Table) -> Coefficient {
    let pairs = match pairs(data) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let n = pairs.len() as f64;
    let p_o = pairs.iter().filter(|(a, b)| a == b).count() as f64 / n;
    let mut marginal: BTreeMap<u64, f64> = BTreeMap::new();
    for (a, b) in &pairs {
        *marginal.entry(a.to_bits()).or_default() += 1.0;
        *marginal.entry(b.to_bits()).or_default() += 1.0;
    }
    let p_e: f64 = marginal.values().map(|m| (m / (2.0 * n)).powi(2)).sum();
    Coefficient::ratio(
        p_o - p_e,
        1.0 - p_e,
        "chance agreement is 1 (a single category was used)",
    )
}

/// The Gwet (2014) quantities: percent agreement over units with two or more ratings, and the
/// mean proportion of each category over units with at least one rating.
struct Gwet {
    p_a: Option<f64>,
    pi: Vec<f64>,
}

/// With weights, a pair of ratings agrees by the weight of its two categories (Gwet 2014,
/// ch. 3: `r*_ik = Σ_l w_kl r_il` in place of `r_ik`).
fn gwet(data: &Table, categories: &[f64], weights: Weights) -> Result<Gwet, Coefficient> {
    let index = index_of(categories);
    let q = categories.len();
    let w: Vec<f64> = (0..q * q)
        .map(|x| agreement_weight(weights, q, x / q, x % q))
        .collect();
    let (mut agreement, mut pairable) = (0.0, 0usize);
    let mut pi = vec![0.0f64; q];
    let mut rated = 0usize;
    let mut r_k = vec![0usize; q];
    for unit in data {
        r_k.iter_mut().for_each(|r| *r = 0);
        let mut r = 0usize;
        for v in unit.iter().flatten() {
            let k = index(*v).ok_or_else(|| {
                Coefficient::Undefined(format!(
                    "the value {v} is not one of the declared categories"
                ))
            })?;
            r_k[k] += 1;
            r += 1;
        }
        if r == 0 {
            continue;
        }
        rated += 1;
        for k in 0..q {
            pi[k] += r_k[k] as f64 / r as f64;
        }
        if r >= 2 {
            pairable += 1;
            let agreeing: f64 = if weights == Weights::Unweighted {
                r_k.iter().map(|&x| (x * x.saturating_sub(1)) as f64).sum()
            } else {
                (0..q)
                    .filter(|&k| r_k[k] > 0)
                    .map(|k| {
                        let weighted: f64 = (0..q).map(|l| w[k * q + l] * r_k[l] as f64).sum();
                        r_k[k] as f64 * (weighted - 1.0)
                    })
                    .sum()
            };
            agreement += agreeing / (r * (r - 1)) as f64;
        }
    }
    if rated == 0 {
        return Err(Coefficient::Undefined("no unit has a rating".into()));
    }
    pi.iter_mut().for_each(|p| *p /= rated as f64);
    Ok(Gwet {
        p_a: (pairable > 0).then(|| agreement / pairable as f64),
        pi,
    })
}

fn gwet_coefficient(
    data: &Table,
    categories: &[f64],
    weights: Weights,
    chance: impl Fn(&[f64]) -> f64,
) -> Coefficient {
    let g = match gwet(data, categories, weights) {
        Ok(g) => g,
        Err(e) => return e,
    };
    let Some(p_a) = g.p_a else {
        return Coefficient::Undefined("no unit was rated by two or more coders".into());
    };
    let p_e = chance(&g.pi);
    Coefficient::ratio(
        p_a - p_e,
        1.0 - p_e,
        "chance agreement is 1 (a single category was used)",
    )
}

/// Percent agreement (Gwet 2014): the mean, over units rated at least twice, of the share of
/// agreeing pairs of ratings.
pub fn percent_agreement(data: &Table, categories: &[f64]) -> Coefficient {
    match gwet(data, categories, Weights::Unweighted) {
        Err(e) => e,
        Ok(Gwet { p_a: Some(p), .. }) => Coefficient::Defined(p),
        Ok(_) => Coefficient::Undefined("no unit was rated by two or more coders".into()),
    }
}

/// Fleiss' kappa, `p_e = Σ π_k²`; with unequal raters per unit as Gwet (2014).
pub fn fleiss_kappa(data: &Table, categories: &[f64]) -> Coefficient {
    gwet_coefficient(data, categories, Weights::Unweighted, |pi| {
        pi.iter().map(|p| p * p).sum()
    })
}

/// Gwet's AC1, `p_e = Σ π_k (1 − π_k) / (q − 1)` over the declared categories.
pub fn gwet_ac1(data: &Table, categories: &[f64]) -> Coefficient {
    gwet_ac2(data, categories, Weights::Unweighted)
}

/// Gwet's AC2 (Gwet 2014, ch. 3; AC1 when unweighted): weighted percent agreement against
/// `p_e = T_w / (q(q − 1)) · Σ π_k (1 − π_k)`, `T_w` the sum of all weights. Weights are by
/// position in the declared categories, as for Cohen's kappa here (the same as Gwet's
/// value-based weights when the categories are equally spaced).
pub fn gwet_ac2(data: &Table, categories: &[f64], weights: Weights) -> Coefficient {
    let name = if weights == Weights::Unweighted {
        "AC1"
    } else {
        "AC2"
    };
    if categories.len() < 2 {
        return Coefficient::Undefined(format!("{name} needs at least two declared categories"));
    }
    let q = categories.len();
    let total_weight: f64 = (0..q * q)
        .map(|x| agreement_weight(weights, q, x / q, x % q))
        .sum();
    let scale = total_weight / (q * (q - 1)) as f64;
    gwet_coefficient(data, categories, weights, |pi| {
        scale * pi.iter().map(|p| p * (1.0 - p)).sum::<f64>()
    })
}

/// Brennan–Prediger's kappa, `p_e = 1/q` over the declared categories.
pub fn brennan_prediger(data: &Table, categories: &[f64]) -> Coefficient {
    if categories.is_empty() {
        return Coefficient::Undefined("no categories were declared".into());
    }
    let q = categories.len() as f64;
    gwet_coefficient(data, categories, Weights::Unweighted, |_| 1.0 / q)
}

#[cfg(test)]
mod tests;

/// Every coefficient for units × coders data, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Statistic {
    Alpha,
    Kappa,
    Fleiss,
    Ac1,
    BrennanPrediger,
    Pi,
    Percent,
}

impl Statistic {
    /// The coefficient's full name, to print beside its value.
    pub fn title(self, level: Level, weights: Weights) -> String {
        match self {
            Statistic::Alpha => format!(
                "Krippendorff's alpha ({})",
                format!("{level:?}").to_lowercase()
            ),
            Statistic::Kappa => match weights {
                Weights::Unweighted => "Cohen's kappa".into(),
                w => format!(
                    "Cohen's kappa ({} weights)",
                    format!("{w:?}").to_lowercase()
                ),
            },
            Statistic::Fleiss => "Fleiss' kappa".into(),
            Statistic::Ac1 => match weights {
                Weights::Unweighted => "Gwet's AC1".into(),
                w => format!("Gwet's AC2 ({} weights)", format!("{w:?}").to_lowercase()),
            },
            Statistic::BrennanPrediger => "Brennan–Prediger kappa".into(),
            Statistic::Pi => "Scott's pi".into(),
            Statistic::Percent => "percent agreement".into(),
        }
    }

    /// Computes it. `categories` are the declared categories, in order (weights and AC1/BP use
    /// them); alpha uses the values present.
    pub fn compute(
        self,
        data: &Table,
        categories: &[f64],
        level: Level,
        weights: Weights,
    ) -> Coefficient {
        match self {
            Statistic::Alpha => krippendorff_alpha(data, level),
            Statistic::Kappa => cohen_kappa(data, categories, weights),
            Statistic::Fleiss => fleiss_kappa(data, categories),
            Statistic::Ac1 => gwet_ac2(data, categories, weights),
            Statistic::BrennanPrediger => brennan_prediger(data, categories),
            Statistic::Pi => scott_pi(data),
            Statistic::Percent => percent_agreement(data, categories),
        }
    }
}

/// Percent agreement and Cohen's kappa for two coders' yes/no judgements given as counts:
/// `both` yes, only the first, only the second, `neither`. The same values as the functions
/// above on the table those counts describe, without building it (a character-level table of
/// a long text has millions of rows).
pub fn binary_agreement(
    both: u64,
    only_first: u64,
    only_second: u64,
    neither: u64,
) -> (Coefficient, Coefficient) {
    let n = (both + only_first + only_second + neither) as f64;
    if n == 0.0 {
        let none = Coefficient::Undefined("there are no units".into());
        return (none.clone(), none);
    }
    let p_o = (both + neither) as f64 / n;
    let first_yes = (both + only_first) as f64 / n;
    let second_yes = (both + only_second) as f64 / n;
    let p_e = first_yes * second_yes + (1.0 - first_yes) * (1.0 - second_yes);
    (
        Coefficient::Defined(p_o),
        Coefficient::ratio(
            p_o - p_e,
            1.0 - p_e,
            "chance agreement is 1 (both coders said the same everywhere)",
        ),
    )
}
