//! Agreement on unitizing a continuum (for text: which characters carry which code).
//!
//! The definitions as `shared/design/unitized-alpha.md` sets them out:
//! - Krippendorff's 1995/2004 u-alpha per category and overall (Krippendorff 1995, Sociol.
//!   Methodol. 25:47–76; 2004, *Content Analysis* 2nd ed., ch. 11), in the form DKPro Statistics
//!   implements: [`u_alpha_2004`].
//! - The 2016/2019 family (Krippendorff, Mathet, Bouvry & Widlöcher 2016, Quality & Quantity
//!   50:2347–2364; Krippendorff 2019 §12.6): uα, the binary |uα (coded against uncoded, overall
//!   and per code), cuα (which code, within stretches both coded) and (k)uα per code:
//!   [`UnitizedFamily`], computed by one sweep over the coders' segment boundaries (cost
//!   independent of the continuum's length).
//! - A pooled ("global") |uα and cuα across several groups of codes, reading R2 of the design
//!   note (not verified against ATLAS.ti): [`pooled_across_groups`].
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
    #[error(
        "groups to pool must share one continuum and roster: [{}, {}) with {} coders against [{}, {}) with {} coders",
        first.0, first.1, first.2, other.0, other.1, other.2
    )]
    DifferentGroups {
        /// `(begin, end, coders)` of the first group and of one that differs.
        first: (i64, i64, usize),
        other: (i64, i64, usize),
    },
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

    /// Every coder's segments with `keep(code)`, each coder's sorted, refusing overlaps among
    /// them (the first overlap of the lowest-numbered coder that has one). One pass over the
    /// segments; nothing is cloned.
    fn units_by_coder(
        &self,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Vec<Vec<&Segment>>, UnitizingError> {
        let mut by_coder: Vec<Vec<&Segment>> = vec![Vec::new(); self.coders];
        for s in self.segments.iter().filter(|s| keep(&s.code)) {
            by_coder[s.coder].push(s);
        }
        for (coder, units) in by_coder.iter_mut().enumerate() {
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
        }
        Ok(by_coder)
    }

    /// A coder's partition of the continuum into sections `(begin, length, value)`, the value
    /// `value(unit)` for a unit and `gap` for the uncoded stretches between them. `units` are
    /// sorted and do not overlap.
    fn sections<'a, V: Copy>(
        &self,
        units: &[&'a Segment],
        value: impl Fn(&'a Segment) -> V,
        gap: V,
    ) -> Vec<(i64, i64, V)> {
        let mut out = Vec::with_capacity(units.len() * 2 + 1);
        let mut at = self.begin;
        for &u in units {
            if u.begin > at {
                out.push((at, u.begin - at, gap));
            }
            out.push((u.begin, u.length, value(u)));
            at = u.begin + u.length;
        }
        if at < self.begin + self.length {
            out.push((at, self.begin + self.length - at, gap));
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
///
/// Each pair of coders' partitions is walked once in step (both are sorted and cover the
/// continuum), and the gaps a unit fits in are found in the sorted gap lengths with suffix sums,
/// so the cost is O(m²·n + n log n) for n sections, with the same integers as the pairwise
/// definition.
pub fn u_alpha_2004(data: &Unitizing, category: &str) -> Result<Disagreement, UnitizingError> {
    data.check()?;
    let (m, l) = (data.coders as i128, data.length as i128);
    let partitions: Vec<Vec<(i64, i64, bool)>> = data
        .units_by_coder(|c| c == category)?
        .iter()
        .map(|u| data.sections(u, |_| true, false))
        .collect();
    // Observed: every overlapping pair of sections of two coders, once.
    let mut squared: i128 = 0;
    for i in 0..data.coders {
        for j in i + 1..data.coders {
            let (p, q) = (&partitions[i], &partitions[j]);
            let (mut a, mut b) = (0, 0);
            while a < p.len() && b < q.len() {
                let (b1, l1, v1) = p[a];
                let (b2, l2, v2) = q[b];
                let (e1, e2) = (b1 + l1, b2 + l2);
                if e1.min(e2) > b1.max(b2) {
                    squared += match (v1, v2) {
                        (true, true) => i128::from(b1 - b2).pow(2) + i128::from(e1 - e2).pow(2),
                        // A unit counts against a gap only when it lies wholly inside it.
                        (true, false) if b1 >= b2 && e1 <= e2 => i128::from(l1).pow(2),
                        (false, true) if b2 >= b1 && e2 <= e1 => i128::from(l2).pow(2),
                        _ => 0,
                    };
                }
                if e1 <= e2 {
                    a += 1;
                }
                if e2 <= e1 {
                    b += 1;
                }
            }
        }
    }
    let observed = 2.0 * squared as f64 / (m * (m - 1) * l * l) as f64;
    // Expected.
    let units: Vec<i128> = partitions
        .iter()
        .flatten()
        .filter(|s| s.2)
        .map(|s| i128::from(s.1))
        .collect();
    let mut gaps: Vec<i128> = partitions
        .iter()
        .flatten()
        .filter(|s| !s.2)
        .map(|s| i128::from(s.1))
        .collect();
    gaps.sort_unstable();
    // above[k] = Σ gaps[k..].
    let mut above = vec![0i128; gaps.len() + 1];
    for k in (0..gaps.len()).rev() {
        above[k] = above[k + 1] + gaps[k];
    }
    let n = units.len() as i128;
    let mut numerator: i128 = 0;
    for &u in &units {
        let within = (n - 1) * u * (u - 1) * (2 * u - 1) / 3;
        // Σ_{g ≥ u} (g − u + 1).
        let first = gaps.partition_point(|&g| g < u);
        let placements = above[first] - (u - 1) * (gaps.len() - first) as i128;
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
    begin: i64,
    length: i128,
}

impl UnitizedFamily {
    /// The coincidences of `data`'s partitions; refuses overlapping segments within a coder.
    ///
    /// Cost O(n log n + E·m²) time and O(n + q²) memory for n segments, E ≤ 2n + 1 elementary
    /// intervals and q codes, whatever the continuum's length.
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
        let sections: Vec<Vec<(i64, i64, usize)>> = data
            .units_by_coder(|_| true)?
            .iter()
            .map(|u| data.sections(u, |s| index[s.code.as_str()], 0))
            .collect();
        Ok(Self::from_sections(codes, data, &sections))
    }

    /// The sweep over the coders' partitions (`sections[i]`: coder i's sorted sections covering
    /// the continuum, value 0 = ∅, `v` = `codes[v]`).
    ///
    /// The boundaries of all coders' sections cut the continuum into elementary intervals on
    /// which every coder has one value. Each interval adds its length to l_ck·(m−1) once per
    /// ordered pair of coders (c from the first, k from the second), and, for every coder who
    /// coded it, its length times the number of other coders who also coded it to that coder's
    /// current segment's (m−1)·p_g, which is squared when the segment ends. The integers are
    /// those of counting position by position.
    fn from_sections(
        codes: Vec<String>,
        data: &Unitizing,
        sections: &[Vec<(i64, i64, usize)>],
    ) -> Self {
        let q = codes.len();
        let m = data.coders;
        let mut pairs = vec![vec![0i128; q]; q];
        let mut self_pairs = vec![0i128; q];
        let mut pairable = vec![0i128; q];
        for p in sections {
            for &(_, l, v) in p {
                self_pairs[v] += if v == 0 {
                    i128::from(l)
                } else {
                    i128::from(l).pow(2)
                };
            }
        }
        let end = data.begin + data.length;
        let mut at = vec![0usize; m];
        let mut values = vec![0usize; m];
        // (m−1)·p_g accumulated so far for each coder's current section.
        let mut covered = vec![0i128; m];
        let mut position = data.begin;
        while position < end {
            let mut next = end;
            for i in 0..m {
                let (b, l, v) = sections[i][at[i]];
                values[i] = v;
                next = next.min(b + l);
            }
            let len = i128::from(next - position);
            let coded = values.iter().filter(|&&v| v != 0).count() as i128;
            for (i, &vi) in values.iter().enumerate() {
                let row = &mut pairs[vi];
                for (j, &vj) in values.iter().enumerate() {
                    if i != j {
                        row[vj] += len;
                    }
                }
                if vi != 0 {
                    covered[i] += len * (coded - 1);
                }
            }
            for i in 0..m {
                let (b, l, v) = sections[i][at[i]];
                if b + l == next {
                    if v != 0 {
                        pairable[v] += covered[i] * covered[i];
                    }
                    covered[i] = 0;
                    at[i] += 1;
                }
            }
            position = next;
        }
        Self {
            codes,
            pairs,
            self_pairs,
            pairable,
            m: m as i128,
            begin: data.begin,
            length: i128::from(data.length),
        }
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

    /// |uα's un-normalised disagreements: observed l_∅+ and expected e_∅+ (|uα = 1 − l_∅+/e_∅+).
    pub fn binary_disagreement(&self) -> Disagreement {
        let total = self.total();
        let s: f64 = self.self_pairs.iter().sum::<i128>() as f64;
        let gap = self.margin(0);
        let observed: f64 = (1..self.codes.len()).map(|k| self.l(0, k)).sum();
        let expected = gap * (total - gap) / (total - s / total);
        Disagreement { observed, expected }
    }

    /// |uα: coded (any code) against uncoded, segments kept as they are.
    pub fn binary(&self) -> Coefficient {
        let d = self.binary_disagreement();
        ratio_alpha(d.observed, d.expected)
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

    /// cuα's un-normalised disagreements (nominal metric): observed l*.. − Σ_c l*_cc and
    /// expected l*.. − Σ_c e*_cc, with the coverage l*../l..; `None` when no stretch was coded
    /// by two coders.
    pub fn cu_disagreement(&self) -> Option<(Disagreement, f64)> {
        let Coded {
            observed: lstar,
            expected: e,
            total,
        } = self.coded()?;
        let same: f64 = (0..lstar.len()).map(|c| lstar[c][c]).sum();
        let expected_same: f64 = (0..e.len()).map(|c| e[c][c]).sum();
        Some((
            Disagreement {
                observed: total - same,
                expected: total - expected_same,
            },
            total / self.total(),
        ))
    }

    /// cuα: which code, within the stretches that two coders both coded (nominal metric), with
    /// the coverage (that share of all matter).
    pub fn cu_alpha(&self) -> (Coefficient, f64) {
        match self.cu_disagreement() {
            Some((d, coverage)) => (ratio_alpha(d.observed, d.expected), coverage),
            None => (
                Coefficient::Undefined("no stretch was coded by two coders".into()),
                0.0,
            ),
        }
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

    /// The codes this family was computed on, in order (∅ not included).
    pub fn codes(&self) -> &[String] {
        &self.codes[1..]
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
    ratio_alpha_or(
        observed,
        expected,
        "no expected disagreement (the data hold no variation)",
    )
}

fn ratio_alpha_or(observed: f64, expected: f64, reason: &str) -> Coefficient {
    if expected.abs() < 1e-12 {
        Coefficient::Undefined(reason.into())
    } else {
        Coefficient::Defined(1.0 - observed / expected)
    }
}

/// Each coder's overlapping segments of one code merged into their union (a coder who codes
/// the same stretch twice with one code has coded it once). Abutting segments stay apart:
/// where one ends and the next begins is a boundary the coder drew.
pub fn merge_overlaps(mut segments: Vec<Segment>) -> Vec<Segment> {
    segments.sort_by(|a, b| (a.coder, &a.code, a.begin).cmp(&(b.coder, &b.code, b.begin)));
    let mut out: Vec<Segment> = Vec::with_capacity(segments.len());
    for s in segments {
        if let Some(last) = out.last_mut()
            && last.coder == s.coder
            && last.code == s.code
            && s.begin < last.begin + last.length
        {
            last.length = last.length.max(s.begin + s.length - last.begin);
            continue;
        }
        out.push(s);
    }
    out
}

/// |uα for one code: the coders' stretches coded `code` against everything else. Only the
/// segments with that code are looked at (none is cloned); other codes may overlap them.
pub fn binary_for_code(data: &Unitizing, code: &str) -> Result<Coefficient, UnitizingError> {
    data.check()?;
    let units = data.units_by_coder(|c| c == code)?;
    let codes: Vec<String> = if units.iter().all(Vec::is_empty) {
        vec![String::new()]
    } else {
        vec![String::new(), code.to_string()]
    };
    let sections: Vec<Vec<(i64, i64, usize)>> =
        units.iter().map(|u| data.sections(u, |_| 1, 0)).collect();
    Ok(UnitizedFamily::from_sections(codes, data, &sections).binary())
}

/// The pooled ("global") coefficients across several groups of codes: `1 − Σ_d D_o(d) /
/// Σ_d D_e(d)` over the groups d, as the 1995/2004 overall value pools its categories.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PooledAcrossGroups {
    /// Pooled |uα: D_o(d) = l_∅+ and D_e(d) = e_∅+ of each group's binary coefficient.
    pub binary: Coefficient,
    /// Pooled cuα: D_o(d) = l*.. − Σ_c l*_cc and D_e(d) = l*.. − Σ_c e*_cc of each group's
    /// cuα (nominal); a group with no stretch coded by two coders adds nothing.
    pub cu_alpha: Coefficient,
    /// How many groups were pooled.
    pub groups: usize,
}

/// The global |uα and cuα across groups (ATLAS.ti's semantic domains): each group is a
/// `Unitizing` of mutually exclusive codes over the same continuum with the same coders, and
/// the pooled value is `1 − Σ_d D_o(d) / Σ_d D_e(d)`, D being the group's un-normalised
/// observed and expected disagreement (see [`PooledAcrossGroups`]).
///
/// This is reading **R2** of `shared/design/unitized-alpha.md` §2. ATLAS.ti's own definition of
/// its global α-binary and Cu-α was not found, so this is NOT verified against ATLAS.ti output
/// and must not be reported as equal to it. With one group it equals that group's |uα and cuα.
/// Undefined (with the reason) when no group has expected disagreement. Refuses groups that
/// differ in continuum or coders, and a group whose codes overlap within a coder.
pub fn pooled_across_groups(groups: &[Unitizing]) -> Result<PooledAcrossGroups, UnitizingError> {
    if let Some(first) = groups.first()
        && let Some(other) = groups
            .iter()
            .find(|g| (g.begin, g.length, g.coders) != (first.begin, first.length, first.coders))
    {
        return Err(UnitizingError::DifferentGroups {
            first: (first.begin, first.begin + first.length, first.coders),
            other: (other.begin, other.begin + other.length, other.coders),
        });
    }
    let families: Vec<UnitizedFamily> = groups
        .iter()
        .map(UnitizedFamily::new)
        .collect::<Result<_, _>>()?;
    pooled_across_families(&families)
}

/// [`pooled_across_groups`] from the groups' families already computed (the same continuum
/// length and coders; refused otherwise).
pub fn pooled_across_families(
    families: &[UnitizedFamily],
) -> Result<PooledAcrossGroups, UnitizingError> {
    if let Some(first) = families.first()
        && let Some(other) = families
            .iter()
            .find(|f| (f.begin, f.length, f.m) != (first.begin, first.length, first.m))
    {
        let span = |f: &UnitizedFamily| (f.begin, f.begin + f.length as i64, f.m as usize);
        return Err(UnitizingError::DifferentGroups {
            first: span(first),
            other: span(other),
        });
    }
    let (mut bo, mut be, mut co, mut ce) = (0.0, 0.0, 0.0, 0.0);
    for f in families {
        let b = f.binary_disagreement();
        bo += b.observed;
        be += b.expected;
        if let Some((c, _)) = f.cu_disagreement() {
            co += c.observed;
            ce += c.expected;
        }
    }
    Ok(PooledAcrossGroups {
        binary: ratio_alpha_or(
            bo,
            be,
            "no group has expected disagreement (no group's coding varies between coded and uncoded)",
        ),
        cu_alpha: ratio_alpha_or(
            co,
            ce,
            "no group has expected disagreement within stretches coded by two coders",
        ),
        groups: families.len(),
    })
}

#[cfg(test)]
mod tests;
