//! Agreement between coders of this study: the study's codings turned into the plain data the
//! `between-agreement` crate computes on. Sources are pooled by concatenation (for the 2016
//! unitized family that is exact: coded stretches never cross a source).
//!
//! A contrast coding is a judgement of its own: "code X as a contrast case" is a category
//! apart from "code X", so one coder's evidence and another's contrast coding of the same
//! words disagree in every figure ([`CONTRAST_RULE`]).

use std::collections::{BTreeMap, BTreeSet};

use between_agreement::unitized::{
    Segment, UnitizedFamily, Unitizing, binary_for_code, merge_overlaps, pooled_across_families,
};
use between_agreement::{
    Coefficient, Level, Weights, binary_agreement, cohen_kappa, fleiss_kappa, krippendorff_alpha,
    percent_agreement,
};
use between_core::*;

use crate::{StudyError, StudyResult, Workbench};

/// How contrast codings take part, as every page showing agreement states it.
pub const CONTRAST_RULE: &str = "A contrast coding is a category of its own (the rows \
    \"CODE (contrast)\"): one coder's coding of a code and another's contrast coding of it on the \
    same words are opposite judgements, counted as disagreement.";

/// A code as a coder applied it: as evidence, or as a contrast case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Category {
    code: CodeId,
    contrast: bool,
}

impl Category {
    fn of(coding: &Coding) -> Self {
        Self {
            code: coding.code,
            contrast: coding.contrast,
        }
    }

    /// The category's name in the agreement crate's data.
    fn key(self) -> String {
        if self.contrast {
            format!("{} contrast", self.code)
        } else {
            self.code.to_string()
        }
    }

    fn label(self, paths: &crate::CodePath) -> String {
        let path = paths.path(self.code);
        if self.contrast {
            format!("{path} (contrast)")
        } else {
            path.to_string()
        }
    }
}

/// What counts as a unit of agreement.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AgreementUnit {
    /// Every character (code point) of the text.
    Characters,
    /// Every speaker turn: code present (a coding overlaps it) or not.
    Turns,
    /// Coded segments matched across two coders when they overlap enough.
    Segments { min_overlap: f64 },
}

/// One coefficient, named as it should be reported.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Measure {
    pub name: &'static str,
    pub value: Option<f64>,
    pub undefined_reason: Option<String>,
}

impl Measure {
    fn of(name: &'static str, c: Coefficient) -> Self {
        Self {
            name,
            value: c.value(),
            undefined_reason: c.undefined_reason().map(String::from),
        }
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct CodeAgreement {
    /// The code's path, with " (contrast)" for its contrast codings.
    pub code: String,
    /// Whether the row is the code's contrast codings.
    pub contrast: bool,
    /// How many codings each coder made with this code (sub-codes not included), contrast
    /// codings only on the contrast row.
    pub codings: BTreeMap<String, usize>,
    pub measures: Vec<Measure>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct AgreementReport {
    pub unit: AgreementUnit,
    pub coders: Vec<String>,
    pub sources: Vec<String>,
    /// The length of the pooled text, in code points, or the number of turns.
    pub units: usize,
    pub codes: Vec<CodeAgreement>,
    /// Per group of sibling codes (a code's sub-codes, or the top-level codes), over characters.
    pub groups: Vec<GroupAgreement>,
    pub overall: Vec<Measure>,
    /// How contrast codings count ([`CONTRAST_RULE`]).
    pub contrast_rule: &'static str,
}

/// Agreement on one group of sibling codes, meant to be mutually exclusive (ATLAS.ti's
/// semantic domain).
#[derive(Clone, Debug, serde::Serialize)]
pub struct GroupAgreement {
    /// The parent's path, or "(top level)".
    pub group: String,
    pub codes: Vec<String>,
    pub measures: Vec<Measure>,
}

impl Workbench {
    /// Agreement between `coders` on `sources` (all when empty) for `codes` (all used codes
    /// when empty; a code stands for itself, not its sub-codes).
    pub fn agreement(
        &self,
        coders: &[String],
        sources: &[String],
        codes: &[String],
        unit: AgreementUnit,
    ) -> StudyResult<AgreementReport> {
        let Scope {
            paths,
            sources: chosen_sources,
            codes: code_ids,
            codings: all,
        } = self.agreement_scope(coders, sources, codes)?;
        let coder_index = |name: &str| coders.iter().position(|c| c.eq_ignore_ascii_case(name));
        // The pooled continuum: each chosen source placed after the previous one.
        let mut offset: BTreeMap<SourceId, i64> = BTreeMap::new();
        let mut turns: Vec<(SourceId, Span)> = Vec::new();
        let mut length: i64 = 0;
        let mut names = Vec::new();
        for id in &chosen_sources {
            let source = self.cached_source(*id)?;
            offset.insert(*id, length);
            length += text::char_len(&source.text) as i64;
            turns.extend(source.turns.iter().map(|t| (*id, t.span)));
            names.push(source.name.clone());
        }
        let relevant: Vec<(&Coding, usize)> = all
            .iter()
            .filter_map(|c| coder_index(&c.coder).map(|i| (c, i)))
            .collect();
        let segment = |c: &Coding, i: usize| Segment {
            coder: i,
            begin: offset[&c.source] + c.span.start as i64,
            length: c.span.len() as i64,
            code: Category::of(c).key(),
        };
        // Each chosen code, then its contrast codings when the compared coders made any.
        let categories: Vec<Category> = code_ids
            .iter()
            .flat_map(|&code| {
                let contrast = Category {
                    code,
                    contrast: true,
                };
                let used = relevant.iter().any(|(c, _)| Category::of(c) == contrast);
                [
                    Some(Category {
                        code,
                        contrast: false,
                    }),
                    used.then_some(contrast),
                ]
            })
            .flatten()
            .collect();
        let m = coders.len();
        let mut rows = Vec::new();
        // Segments matched, of all segments, over every code (for MAXQDA's overall figures).
        let mut segments_matched = (0usize, 0usize);
        for category in &categories {
            let mine: Vec<(&Coding, usize)> = relevant
                .iter()
                .filter(|(c, _)| Category::of(c) == *category)
                .copied()
                .collect();
            let mut counts: BTreeMap<String, usize> =
                coders.iter().map(|c| (c.clone(), 0)).collect();
            for (_, i) in &mine {
                *counts.entry(coders[*i].clone()).or_default() += 1;
            }
            let measures = match unit {
                AgreementUnit::Characters => {
                    let data = Unitizing {
                        begin: 0,
                        length,
                        coders: m,
                        segments: merge_overlaps(
                            mine.iter().map(|(c, i)| segment(c, *i)).collect(),
                        ),
                    };
                    let binary = binary_for_code(&data, &category.key())
                        .map_err(|e| StudyError::Invalid(e.to_string()))?;
                    let mut out = vec![Measure::of("α-binary (|uα, Krippendorff 2016)", binary)];
                    if m == 2 {
                        let (a, b) = (covered(&data, 0), covered(&data, 1));
                        let both = overlap(&a, &b);
                        let (first, second) = (total(&a), total(&b));
                        // Added before subtracting: the two coders together may cover more than the text.
                        let neither = length as u64 + both - first - second;
                        let (percent, kappa) =
                            binary_agreement(both, first - both, second - both, neither);
                        out.push(Measure::of(
                            "percent agreement over characters (NVivo)",
                            percent,
                        ));
                        out.push(Measure::of("Cohen's kappa over characters (NVivo)", kappa));
                    }
                    out
                }
                AgreementUnit::Turns => {
                    let table: Vec<Vec<Option<f64>>> = turns
                        .iter()
                        .map(|(source, span)| {
                            (0..m)
                                .map(|i| {
                                    let present = mine.iter().any(|(c, ci)| {
                                        *ci == i && c.source == *source && c.span.overlaps(span)
                                    });
                                    Some(f64::from(u8::from(present)))
                                })
                                .collect()
                        })
                        .collect();
                    let mut out = vec![
                        Measure::of(
                            "Krippendorff's alpha (nominal) over turns",
                            krippendorff_alpha(&table, Level::Nominal),
                        ),
                        Measure::of(
                            "percent agreement over turns",
                            percent_agreement(&table, &[0.0, 1.0]),
                        ),
                    ];
                    out.push(if m == 2 {
                        Measure::of(
                            "Cohen's kappa over turns",
                            cohen_kappa(&table, &[0.0, 1.0], Weights::Unweighted),
                        )
                    } else {
                        Measure::of(
                            "Fleiss' kappa over turns",
                            fleiss_kappa(&table, &[0.0, 1.0]),
                        )
                    });
                    out
                }
                AgreementUnit::Segments { min_overlap } => {
                    if m != 2 {
                        return Err(StudyError::Invalid(
                            "segment matching compares exactly two coders".into(),
                        ));
                    }
                    let spans = |i: usize| -> Vec<(i64, i64)> {
                        mine.iter()
                            .filter(|(_, ci)| *ci == i)
                            .map(|(c, _)| {
                                (
                                    segment(c, i).begin,
                                    segment(c, i).begin + segment(c, i).length,
                                )
                            })
                            .collect()
                    };
                    let (a, b) = (spans(0), spans(1));
                    let matches = |x: &(i64, i64), ys: &[(i64, i64)]| {
                        ys.iter().any(|y| {
                            let inter = (x.1.min(y.1) - x.0.max(y.0)).max(0) as f64;
                            let union = (x.1.max(y.1) - x.0.min(y.0)) as f64;
                            inter / union >= min_overlap
                        })
                    };
                    let agreed = a.iter().filter(|x| matches(x, &b)).count()
                        + b.iter().filter(|y| matches(y, &a)).count();
                    let total = a.len() + b.len();
                    segments_matched.0 += agreed;
                    segments_matched.1 += total;
                    vec![Measure::of(
                        "segment agreement (share of segments the other coder matched)",
                        if total == 0 {
                            Coefficient::Undefined("neither coder used this code".into())
                        } else {
                            Coefficient::Defined(agreed as f64 / total as f64)
                        },
                    )]
                }
            };
            rows.push(CodeAgreement {
                code: category.label(&paths),
                contrast: category.contrast,
                codings: counts,
                measures,
            });
        }
        let mut groups = Vec::new();
        let overall = match unit {
            AgreementUnit::Segments { .. } => {
                // MAXQDA's table over all codes: observed agreement is the share of all
                // segments matched, chance agreement 1/q for q codes (Brennan & Prediger 1981).
                let (agreed, total) = segments_matched;
                let observed = if total == 0 {
                    Coefficient::Undefined("neither coder used these codes".into())
                } else {
                    Coefficient::Defined(agreed as f64 / total as f64)
                };
                let q = categories.len() as f64;
                let kappa = match observed.value() {
                    _ if categories.len() < 2 => Coefficient::Undefined(
                        "chance agreement 1/q needs at least two codes".into(),
                    ),
                    None => observed.clone(),
                    Some(p) => Coefficient::Defined((p - 1.0 / q) / (1.0 - 1.0 / q)),
                };
                vec![
                    Measure::of("segment agreement over all codes (MAXQDA)", observed),
                    Measure::of(
                        "kappa over segments, chance 1/number of codes (Brennan & Prediger; MAXQDA)",
                        kappa,
                    ),
                ]
            }
            AgreementUnit::Characters => {
                let unitizing = |segments: Vec<Segment>| Unitizing {
                    begin: 0,
                    length,
                    coders: m,
                    segments: merge_overlaps(segments),
                };
                let as_one = |c: &Coding, i: usize| Segment {
                    code: "coded".into(),
                    ..segment(c, i)
                };
                let invalid = |e: between_agreement::unitized::UnitizingError| {
                    StudyError::Invalid(e.to_string())
                };
                // Coded (any chosen code) against uncoded: each coder's codings merged into one.
                let family = UnitizedFamily::new(&unitizing(
                    relevant.iter().map(|(c, i)| as_one(c, *i)).collect(),
                ))
                .map_err(invalid)?;
                let mut out = vec![Measure::of(
                    "α-binary, any code against uncoded (|uα)",
                    family.binary(),
                )];
                // Which code, where both coded: defined only if each coder's chosen codes are
                // mutually exclusive (a group such as the sub-codes of one code).
                match UnitizedFamily::new(&unitizing(
                    relevant.iter().map(|(c, i)| segment(c, *i)).collect(),
                )) {
                    Ok(f) => {
                        let (cu, coverage) = f.cu_alpha();
                        out.push(Measure::of("cu-α, which code where both coded (cuα)", cu));
                        out.push(Measure::of(
                            "coverage of cu-α (share coded by both)",
                            Coefficient::Defined(coverage),
                        ));
                    }
                    Err(e) => out.push(Measure::of(
                        "cu-α, which code where both coded (cuα)",
                        Coefficient::Undefined(format!(
                            "the codes are not mutually exclusive: {e}"
                        )),
                    )),
                }
                // Groups of sibling codes, in codebook order, and the global values across them.
                let mut siblings: Vec<(Option<CodeId>, Vec<Category>)> = Vec::new();
                for category in &categories {
                    let parent = paths.get(category.code).and_then(|c| c.parent);
                    match siblings.iter_mut().find(|(p, _)| *p == parent) {
                        Some((_, members)) => members.push(*category),
                        None => siblings.push((parent, vec![*category])),
                    }
                }
                let mut binaries = Vec::new();
                let mut exclusive = Vec::new();
                let mut not_exclusive = Vec::new();
                let mut within: BTreeMap<Category, Coefficient> = BTreeMap::new();
                for (parent, members) in &siblings {
                    let name = parent.map_or("(top level)", |p| paths.path(p)).to_string();
                    let mine: Vec<(&Coding, usize)> = relevant
                        .iter()
                        .filter(|(c, _)| members.contains(&Category::of(c)))
                        .copied()
                        .collect();
                    let binary = UnitizedFamily::new(&unitizing(
                        mine.iter().map(|(c, i)| as_one(c, *i)).collect(),
                    ))
                    .map_err(invalid)?;
                    let mut measures =
                        vec![Measure::of("α-binary of the group (|uα)", binary.binary())];
                    binaries.push(binary);
                    match UnitizedFamily::new(&unitizing(
                        mine.iter().map(|(c, i)| segment(c, *i)).collect(),
                    )) {
                        Ok(f) => {
                            let (cu, coverage) = f.cu_alpha();
                            measures.push(Measure::of("cu-α within the group (cuα)", cu));
                            measures.push(Measure::of(
                                "coverage of cu-α (share coded by both)",
                                Coefficient::Defined(coverage),
                            ));
                            for category in members {
                                if let Some((k, _)) = f.code_alpha(&category.key()) {
                                    // The crate names a category as given: its key here.
                                    let k = match k {
                                        Coefficient::Undefined(why) => Coefficient::Undefined(
                                            why.replace(&category.key(), &category.label(&paths)),
                                        ),
                                        defined => defined,
                                    };
                                    within.insert(*category, k);
                                }
                            }
                            exclusive.push(f);
                        }
                        Err(e) => {
                            let why = format!("the group's codes are not mutually exclusive: {e}");
                            measures.push(Measure::of(
                                "cu-α within the group (cuα)",
                                Coefficient::Undefined(why.clone()),
                            ));
                            measures.push(Measure::of(
                                "coverage of cu-α (share coded by both)",
                                Coefficient::Undefined(why.clone()),
                            ));
                            for category in members {
                                within.insert(*category, Coefficient::Undefined(why.clone()));
                            }
                            not_exclusive.push(name.clone());
                        }
                    }
                    groups.push(GroupAgreement {
                        group: name,
                        codes: members.iter().map(|c| c.label(&paths)).collect(),
                        measures,
                    });
                }
                for (row, category) in rows.iter_mut().zip(&categories) {
                    row.measures.push(Measure::of(
                        "(k)uα, this code within its group",
                        within.remove(category).unwrap_or_else(|| {
                            Coefficient::Undefined("nobody used this code".into())
                        }),
                    ));
                }
                out.push(Measure::of(
                    "global α-binary across groups (pooled |uα; reading R2, not verified against ATLAS.ti)",
                    pooled_across_families(&binaries).map_err(invalid)?.binary,
                ));
                out.push(Measure::of(
                    "global cu-α across groups (pooled cuα; reading R2, not verified against ATLAS.ti)",
                    if not_exclusive.is_empty() {
                        pooled_across_families(&exclusive).map_err(invalid)?.cu_alpha
                    } else {
                        Coefficient::Undefined(format!(
                            "the codes of {} are not mutually exclusive within a coder",
                            not_exclusive.join(", ")
                        ))
                    },
                ));
                out
            }
            _ => Vec::new(),
        };
        let units = match unit {
            AgreementUnit::Turns => turns.len(),
            _ => length as usize,
        };
        Ok(AgreementReport {
            unit,
            coders: coders.to_vec(),
            sources: names,
            units,
            codes: rows,
            groups,
            overall,
            contrast_rule: CONTRAST_RULE,
        })
    }
}

/// What a comparison of coders covers: the sources, the codes, and the compared coders'
/// codings of those codes in those sources.
pub(crate) struct Scope {
    pub paths: crate::CodePath,
    pub sources: Vec<SourceId>,
    pub codes: Vec<CodeId>,
    pub codings: Vec<Coding>,
}

impl Workbench {
    /// Resolves a comparison of `coders` on `sources` (all when empty) for `codes` (all codes
    /// the coders used when empty; a code stands for itself, not its sub-codes).
    pub(crate) fn agreement_scope(
        &self,
        coders: &[String],
        sources: &[String],
        codes: &[String],
    ) -> StudyResult<Scope> {
        if coders.len() < 2 {
            return Err(StudyError::Invalid(
                "agreement needs at least two coders".into(),
            ));
        }
        let paths = self.code_paths()?;
        let chosen_sources: Vec<SourceId> = if sources.is_empty() {
            self.store
                .source_infos()?
                .into_iter()
                .map(|s| s.id)
                .collect()
        } else {
            self.source_ids(sources)?
        };
        let all: Vec<Coding> = self.store.codings(&Default::default())?;
        let compared = |name: &str| coders.iter().any(|c| c.eq_ignore_ascii_case(name));
        let known: BTreeSet<String> = all.iter().map(|c| c.coder.to_lowercase()).collect();
        for c in coders {
            if !known.contains(&c.to_lowercase()) {
                return Err(StudyError::Unknown {
                    what: "coder with codings",
                    key: c.clone(),
                });
            }
        }
        let code_ids: Vec<CodeId> = if codes.is_empty() {
            let used: BTreeSet<CodeId> = all
                .iter()
                .filter(|c| compared(&c.coder))
                .map(|c| c.code)
                .collect();
            paths
                .codes()
                .iter()
                .map(|c| c.id)
                .filter(|id| used.contains(id))
                .collect()
        } else {
            codes
                .iter()
                .map(
                    |c| match c.parse::<CodeId>().ok().and_then(|id| paths.get(id)) {
                        Some(code) => Ok(code.id),
                        None => paths.resolve(c).map(|c| c.id),
                    },
                )
                .collect::<StudyResult<_>>()?
        };
        let in_sources: BTreeSet<SourceId> = chosen_sources.iter().copied().collect();
        let in_codes: BTreeSet<CodeId> = code_ids.iter().copied().collect();
        let codings = all
            .into_iter()
            .filter(|c| {
                in_sources.contains(&c.source) && in_codes.contains(&c.code) && compared(&c.coder)
            })
            .collect();
        Ok(Scope {
            paths,
            sources: chosen_sources,
            codes: code_ids,
            codings,
        })
    }
}

/// A coder's merged stretches, as sorted `[begin, end)` pairs.
fn covered(data: &Unitizing, coder: usize) -> Vec<(i64, i64)> {
    let mut spans: Vec<(i64, i64)> = data
        .segments
        .iter()
        .filter(|s| s.coder == coder)
        .map(|s| (s.begin, s.begin + s.length))
        .collect();
    spans.sort_unstable();
    spans
}

fn total(spans: &[(i64, i64)]) -> u64 {
    spans.iter().map(|(b, e)| (e - b) as u64).sum()
}

/// The length two sorted lists of disjoint stretches share.
fn overlap(a: &[(i64, i64)], b: &[(i64, i64)]) -> u64 {
    let (mut i, mut j, mut shared) = (0, 0, 0u64);
    while i < a.len() && j < b.len() {
        let (start, end) = (a[i].0.max(b[j].0), a[i].1.min(b[j].1));
        if end > start {
            shared += (end - start) as u64;
        }
        if a[i].1 < b[j].1 { i += 1 } else { j += 1 }
    }
    shared
}
