//! Saturation: interviews in the order they were conducted, the codes each introduced, and a
//! stopping rule's verdict (definitions in `docs/findings.md`, "Saturation").
//!
//! - **Order**: sources of kind interview by `interview.date` (ISO dates compare as text;
//!   undated interviews last), then by import time, then by name (the corpus order).
//! - A code is **introduced** by the interview that holds its first coding (by the coders
//!   counted; contrast codings count, as they use the code too).
//! - An interview with **no codings** is taken as not yet coded: listed, but skipped by the
//!   stopping rule, where it would otherwise look like an interview that brought nothing new.
//! - **Stopping rules** (a run is some consecutive coded interviews):
//!   - *consecutive* (the default): saturation is reached at coded interview *i* when the `k`
//!     coded interviews after it together introduce fewer than `fewer_than` new codes
//!     (default: no new code in the next 3);
//!   - *guest* (Guest, Namey & Chen 2020, PLoS ONE 15(5): e0232076): the base is the codes of
//!     the first `base` coded interviews; saturation is reached at coded interview *i* (the
//!     base's last or later) when the `run` coded interviews after it introduce new codes
//!     numbering at most `threshold` × the base's codes.
//!
//!   The verdict names the earliest such *i* and how many clinicians and patients had been
//!   interviewed up to and including it. It is **contradicted** when the same test, applied
//!   after *i* (each later interview followed by its run, shorter at the end), fails: the
//!   verdict then names the later interviews that brought new codes.

use std::collections::HashSet;

use between_core::*;
use serde::{Deserialize, Serialize};

use crate::triangulation::{Coders, component_rows};
use crate::{Corpus, CorpusError};

/// A stopping rule that cannot be applied.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidRule(String);

/// How saturation is judged (module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum StoppingRule {
    /// The `k` coded interviews after the stopping point introduce fewer than `fewer_than` new
    /// codes (1: none at all).
    Consecutive { k: usize, fewer_than: usize },
    /// Guest, Namey & Chen (2020): new codes in a run of `run` coded interviews, divided by
    /// the codes of the first `base` coded interviews, at most `threshold` (0.05: 5%).
    Guest {
        base: usize,
        run: usize,
        threshold: f64,
    },
}

impl Default for StoppingRule {
    fn default() -> Self {
        Self::Consecutive {
            k: 3,
            fewer_than: 1,
        }
    }
}

/// The published example's parameters (Guest, Namey & Chen 2020): base 4, run 2, ≤ 5%.
pub const GUEST_DEFAULT: StoppingRule = StoppingRule::Guest {
    base: 4,
    run: 2,
    threshold: 0.05,
};

impl StoppingRule {
    pub fn new(k: usize, fewer_than: usize) -> Result<Self, InvalidRule> {
        if k == 0 || fewer_than == 0 {
            return Err(InvalidRule(format!(
                "the stopping rule needs k and fewer-than of at least 1 (given k = {k}, fewer-than = {fewer_than})"
            )));
        }
        Ok(Self::Consecutive { k, fewer_than })
    }

    pub fn guest(base: usize, run: usize, threshold: f64) -> Result<Self, InvalidRule> {
        if base == 0 || run == 0 {
            return Err(InvalidRule(format!(
                "Guest's method needs a base and a run of at least 1 interview (given base = {base}, run = {run})"
            )));
        }
        if !(0.0..1.0).contains(&threshold) {
            return Err(InvalidRule(format!(
                "the new-information threshold is a share of the base's codes, from 0 to below 1 (0.05 for 5%); given {threshold}"
            )));
        }
        Ok(Self::Guest {
            base,
            run,
            threshold,
        })
    }

    /// The rule a method's name and parameters ask for, each parameter defaulting as the
    /// method does (consecutive: k 3, fewer-than 1; guest: base 4, run 2, threshold 0.05);
    /// a parameter of the other method is refused.
    pub fn choose(
        method: Option<&str>,
        consecutive: (Option<usize>, Option<usize>),
        guest: (Option<usize>, Option<usize>, Option<f64>),
    ) -> Result<Self, InvalidRule> {
        let method = method.map(|m| m.trim().to_lowercase());
        match method.as_deref() {
            None | Some("" | "consecutive") => {
                if guest.0.is_some() || guest.1.is_some() || guest.2.is_some() {
                    return Err(InvalidRule(
                        "base, run and threshold go with the guest method".into(),
                    ));
                }
                Self::new(consecutive.0.unwrap_or(3), consecutive.1.unwrap_or(1))
            }
            Some("guest") => {
                if consecutive.0.is_some() || consecutive.1.is_some() {
                    return Err(InvalidRule(
                        "k and fewer-than go with the consecutive method".into(),
                    ));
                }
                Self::guest(
                    guest.0.unwrap_or(4),
                    guest.1.unwrap_or(2),
                    guest.2.unwrap_or(0.05),
                )
            }
            Some(other) => Err(InvalidRule(format!(
                "unknown saturation method '{other}': expected consecutive or guest"
            ))),
        }
    }

    pub fn describe(&self) -> String {
        match *self {
            Self::Consecutive { k, fewer_than: 1 } => {
                format!("no new code in {k} consecutive coded interviews")
            }
            Self::Consecutive { k, fewer_than } => {
                format!("fewer than {fewer_than} new codes in {k} consecutive coded interviews")
            }
            Self::Guest {
                base,
                run,
                threshold,
            } => format!(
                "Guest, Namey & Chen 2020: base {base} coded interviews, run {run}, new-information threshold ≤ {}",
                percent(threshold)
            ),
        }
    }

    /// How many coded interviews each test looks at after its stopping point.
    fn run_length(&self) -> usize {
        match *self {
            Self::Consecutive { k, .. } => k,
            Self::Guest { run, .. } => run,
        }
    }

    /// The earliest stopping point (index among the coded interviews).
    fn first_point(&self) -> usize {
        match *self {
            Self::Consecutive { .. } => 0,
            Self::Guest { base, .. } => base - 1,
        }
    }

    /// Whether `new` codes in a run after the stopping point mean saturation, the base having
    /// `base_codes` codes.
    fn holds(&self, new: usize, base_codes: usize) -> bool {
        match *self {
            Self::Consecutive { fewer_than, .. } => new < fewer_than,
            Self::Guest { threshold, .. } => {
                // Compared in whole codes, so that 1 of 20 is within 5% whatever the rounding.
                new as f64 <= threshold * base_codes as f64 + 1e-9
            }
        }
    }
}

/// A share as a percentage: `5%`, `12.5%`.
fn percent(share: f64) -> String {
    let p = format!("{:.1}", share * 100.0);
    format!("{}%", p.trim_end_matches(".0"))
}

/// A top-level theory component followed on the chart.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrackedComponent {
    pub id: String,
    pub name: String,
    pub colour: Option<String>,
}

/// One interview in the order conducted.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InterviewStep {
    /// 1-based position in the order conducted.
    pub position: usize,
    pub source: SourceId,
    pub name: String,
    pub date: Option<String>,
    /// The interviewee's label and role.
    pub participant: Option<String>,
    pub role: Option<Role>,
    /// Codings by the coders counted.
    pub codings: usize,
    pub coded: bool,
    /// Paths of the codes it introduced.
    pub new_codes: Vec<String>,
    pub cumulative: usize,
    /// Per tracked component (same order): codes introduced here, and so far.
    pub new_by_component: Vec<usize>,
    pub cumulative_by_component: Vec<usize>,
    /// Distinct clinicians and patients interviewed so far (this interview included).
    pub clinicians: usize,
    pub patients: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Verdict {
    Reached {
        /// Position of the stopping interview.
        at: usize,
        interview: String,
        /// Position of the last interview of the run that confirmed it.
        confirmed_by: usize,
        /// New codes in that run.
        new_in_run: usize,
        clinicians: usize,
        patients: usize,
        interviews: usize,
        /// Later interviews that brought new codes, when the same test fails after the
        /// stopping point (empty: not contradicted).
        contradicted_by: Vec<LaterNewCodes>,
    },
    NotYet {
        reason: String,
    },
}

impl Verdict {
    /// Reached, and no later data says otherwise.
    pub fn holds(&self) -> bool {
        matches!(self, Verdict::Reached { contradicted_by, .. } if contradicted_by.is_empty())
    }

    pub fn contradicted(&self) -> bool {
        matches!(self, Verdict::Reached { contradicted_by, .. } if !contradicted_by.is_empty())
    }
}

/// An interview after a verdict's confirming run that introduced codes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LaterNewCodes {
    pub position: usize,
    pub interview: String,
    pub new_codes: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Saturation {
    pub coders: Coders,
    pub rule: StoppingRule,
    pub components: Vec<TrackedComponent>,
    pub interviews: Vec<InterviewStep>,
    /// Distinct codes used in interviews.
    pub codes_used: usize,
    pub uncoded: usize,
    /// Guest's method: the codes of the base (none before the base is complete).
    pub base_codes: Option<usize>,
    pub verdict: Verdict,
    /// The verdict in words, with the rule and its parameters (as every page shows it).
    pub statement: String,
}

/// Interviews in order conducted: date, then import time, then name.
pub fn interview_order(corpus: &Corpus) -> Vec<&Source> {
    let mut interviews: Vec<(usize, &Source)> = corpus
        .sources
        .iter()
        .enumerate()
        .filter(|(_, s)| s.kind == SourceKind::Interview)
        .collect();
    interviews.sort_by(|(i, a), (j, b)| {
        let date = |s: &Source| {
            let d = s.interview.date.as_deref().map(str::trim);
            (
                d.is_none_or(str::is_empty),
                d.unwrap_or_default().to_string(),
            )
        };
        date(a)
            .cmp(&date(b))
            .then_with(|| a.imported_at.cmp(&b.imported_at))
            .then(i.cmp(j))
    });
    interviews.into_iter().map(|(_, s)| s).collect()
}

pub fn saturation(
    corpus: &Corpus,
    coders: &Coders,
    rule: StoppingRule,
) -> Result<Saturation, CorpusError> {
    coders.check(corpus)?;
    let rows = component_rows(corpus.theory.as_ref());
    let tracked: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].depth == 0).collect();
    let components = tracked
        .iter()
        .map(|&i| TrackedComponent {
            id: rows[i].id.clone(),
            name: rows[i].name.clone(),
            colour: rows[i].colour.clone(),
        })
        .collect();
    let top_of = |code: CodeId| -> Option<usize> {
        let component = corpus.code_component(code)?;
        let row = rows.iter().position(|r| r.id == component)?;
        tracked.iter().position(|&t| t == rows[row].top)
    };

    let mut seen: HashSet<CodeId> = HashSet::new();
    let mut people: HashSet<ParticipantId> = HashSet::new();
    let (mut clinicians, mut patients) = (0, 0);
    let mut cumulative_by_component = vec![0; tracked.len()];
    let mut interviews = Vec::new();
    for (i, source) in interview_order(corpus).into_iter().enumerate() {
        let account = corpus.account_of(source);
        if let Some(p) = account
            && people.insert(p.id)
        {
            match p.role {
                Role::Clinician => clinicians += 1,
                Role::Patient => patients += 1,
                _ => {}
            }
        }
        let mut codings = 0;
        let mut new_codes = Vec::new();
        let mut new_by_component = vec![0; tracked.len()];
        for coding in corpus.codings_of(source.id) {
            if !coders.counts(coding) {
                continue;
            }
            codings += 1;
            if seen.insert(coding.code) {
                new_codes.push(corpus.code_path(coding.code).to_string());
                if let Some(t) = top_of(coding.code) {
                    new_by_component[t] += 1;
                    cumulative_by_component[t] += 1;
                }
            }
        }
        interviews.push(InterviewStep {
            position: i + 1,
            source: source.id,
            name: source.name.clone(),
            date: source.interview.date.clone(),
            participant: account.map(|p| p.label.clone()),
            role: account.map(|p| p.role),
            codings,
            coded: codings > 0,
            new_codes,
            cumulative: seen.len(),
            new_by_component,
            cumulative_by_component: cumulative_by_component.clone(),
            clinicians,
            patients,
        });
    }
    let coded: Vec<&InterviewStep> = interviews.iter().filter(|s| s.coded).collect();
    let base_codes = match rule {
        StoppingRule::Guest { base, .. } => coded.get(base - 1).map(|s| s.cumulative),
        StoppingRule::Consecutive { .. } => None,
    };
    let verdict = verdict(&coded, interviews.len() - coded.len(), rule, base_codes);
    let statement = statement(&verdict, rule, base_codes, &coded);
    Ok(Saturation {
        coders: coders.clone(),
        rule,
        components,
        codes_used: seen.len(),
        uncoded: interviews.iter().filter(|s| !s.coded).count(),
        interviews,
        base_codes,
        verdict,
        statement,
    })
}

fn verdict(
    coded: &[&InterviewStep],
    uncoded: usize,
    rule: StoppingRule,
    base_codes: Option<usize>,
) -> Verdict {
    let skipped = if uncoded == 0 {
        String::new()
    } else {
        format!(" ({uncoded} interviews without codings are not counted)")
    };
    let needed = rule.first_point() + 1 + rule.run_length();
    if coded.len() < needed {
        return Verdict::NotYet {
            reason: format!(
                "only {} coded interviews; the rule ({}) needs at least {needed}{skipped}",
                coded.len(),
                rule.describe(),
            ),
        };
    }
    let base_codes = base_codes.unwrap_or(0);
    let new = |run: &[&InterviewStep]| run.iter().map(|s| s.new_codes.len()).sum::<usize>();
    let w = rule.run_length();
    // The run after coded interview j, shorter at the end.
    let run_after = |j: usize| &coded[(j + 1).min(coded.len())..(j + 1 + w).min(coded.len())];
    for j in rule.first_point()..coded.len() - w {
        let run = run_after(j);
        if !rule.holds(new(run), base_codes) {
            continue;
        }
        let point = coded[j];
        let confirmed_by = run[run.len() - 1].position;
        let contradicted =
            (j + 1..coded.len()).any(|later| !rule.holds(new(run_after(later)), base_codes));
        let contradicted_by = if contradicted {
            coded[j + 1 + w..]
                .iter()
                .filter(|s| !s.new_codes.is_empty())
                .map(|s| LaterNewCodes {
                    position: s.position,
                    interview: s.name.clone(),
                    new_codes: s.new_codes.len(),
                })
                .collect()
        } else {
            Vec::new()
        };
        return Verdict::Reached {
            at: point.position,
            interview: point.name.clone(),
            confirmed_by,
            new_in_run: new(run),
            clinicians: point.clinicians,
            patients: point.patients,
            interviews: point.position,
            contradicted_by,
        };
    }
    let last = &coded[coded.len() - w..];
    let brought = new(last);
    let reason = match rule {
        StoppingRule::Consecutive { .. } => format!(
            "the last {w} coded interviews introduced {brought} new codes; the rule is {}{skipped}",
            rule.describe()
        ),
        StoppingRule::Guest { .. } => format!(
            "no run met the threshold: the last ({}) introduced {brought} new codes, {} of the base's {base_codes}; the rule is {}{skipped}",
            span_of(last),
            percent(brought as f64 / base_codes.max(1) as f64),
            rule.describe()
        ),
    };
    Verdict::NotYet { reason }
}

/// `interview 7` or `interviews 7–9`.
fn span_of(run: &[&InterviewStep]) -> String {
    match run {
        [one] => format!("interview {}", one.position),
        [first, .., last] => format!("interviews {}–{}", first.position, last.position),
        [] => "no interview".into(),
    }
}

/// The verdict in words.
fn statement(
    verdict: &Verdict,
    rule: StoppingRule,
    base_codes: Option<usize>,
    coded: &[&InterviewStep],
) -> String {
    match verdict {
        Verdict::NotYet { reason } => format!("Saturation not yet reached: {reason}."),
        Verdict::Reached {
            at,
            interview,
            confirmed_by,
            new_in_run,
            clinicians,
            patients,
            contradicted_by,
            ..
        } => {
            let run: Vec<&InterviewStep> = coded
                .iter()
                .filter(|s| (at + 1..=*confirmed_by).contains(&s.position))
                .copied()
                .collect();
            let run = span_of(&run);
            let plural = |n: usize| if n == 1 { "" } else { "s" };
            let test = match (rule, base_codes) {
                (StoppingRule::Guest { .. }, Some(base)) => format!(
                    "{run} brought {new_in_run} new code{}, {} of the base's {base}",
                    plural(*new_in_run),
                    percent(*new_in_run as f64 / base.max(1) as f64)
                ),
                _ => format!("{run} brought {new_in_run} new code{}", plural(*new_in_run)),
            };
            if contradicted_by.is_empty() {
                format!(
                    "Saturation reached at interview {at} ({interview}): {clinicians} clinicians and {patients} patients interviewed; {test} (rule: {}).",
                    rule.describe()
                )
            } else {
                let later: Vec<String> = contradicted_by
                    .iter()
                    .map(|l| {
                        format!(
                            "interview {} ({}) brought {} new code{}",
                            l.position,
                            l.interview,
                            l.new_codes,
                            plural(l.new_codes)
                        )
                    })
                    .collect();
                format!(
                    "Saturation reached at interview {at} ({interview}) by the rule, but contradicted by later data: {}. ({test}; rule: {}.)",
                    later.join("; "),
                    rule.describe()
                )
            }
        }
    }
}

#[cfg(test)]
mod tests;
