//! Saturation: interviews in the order they were conducted, the codes each introduced, and a
//! stopping rule's verdict (definitions in `docs/findings.md`, "Saturation").
//!
//! - **Order**: sources of kind interview by `interview.date` (ISO dates compare as text;
//!   undated interviews last), then by import time, then by name (the corpus order).
//! - A code is **introduced** by the interview that holds its first coding (by the coders
//!   counted; contrast codings count, as they use the code too).
//! - An interview with **no codings** is taken as not yet coded: listed, but skipped by the
//!   stopping rule, where it would otherwise look like an interview that brought nothing new.
//! - **Stopping rule**: saturation is reached at coded interview *i* when the `k` coded
//!   interviews after it together introduce fewer than `fewer_than` new codes (default: no new
//!   code in the next 3); the verdict names the earliest such *i* and how many clinicians and
//!   patients had been interviewed up to and including it.

use std::collections::HashSet;

use between_core::*;
use serde::{Deserialize, Serialize};

use crate::triangulation::{Coders, component_rows};
use crate::{Corpus, CorpusError};

/// A stopping rule that cannot be applied.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidRule(String);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoppingRule {
    /// How many coded interviews after the stopping point are looked at.
    pub k: usize,
    /// They must together introduce fewer than this many new codes (1: none at all).
    pub fewer_than: usize,
}

impl Default for StoppingRule {
    fn default() -> Self {
        Self {
            k: 3,
            fewer_than: 1,
        }
    }
}

impl StoppingRule {
    pub fn new(k: usize, fewer_than: usize) -> Result<Self, InvalidRule> {
        if k == 0 || fewer_than == 0 {
            return Err(InvalidRule(format!(
                "the stopping rule needs k and fewer-than of at least 1 (given k = {k}, fewer-than = {fewer_than})"
            )));
        }
        Ok(Self { k, fewer_than })
    }

    pub fn describe(&self) -> String {
        if self.fewer_than == 1 {
            format!("no new code in {} consecutive coded interviews", self.k)
        } else {
            format!(
                "fewer than {} new codes in {} consecutive coded interviews",
                self.fewer_than, self.k
            )
        }
    }
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
        clinicians: usize,
        patients: usize,
        interviews: usize,
    },
    NotYet {
        reason: String,
    },
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
    pub verdict: Verdict,
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
    let verdict = verdict(&interviews, rule);
    Ok(Saturation {
        coders: coders.clone(),
        rule,
        components,
        codes_used: seen.len(),
        uncoded: interviews.iter().filter(|s| !s.coded).count(),
        interviews,
        verdict,
    })
}

fn verdict(interviews: &[InterviewStep], rule: StoppingRule) -> Verdict {
    let coded: Vec<&InterviewStep> = interviews.iter().filter(|s| s.coded).collect();
    let uncoded = interviews.len() - coded.len();
    let skipped = if uncoded == 0 {
        String::new()
    } else {
        format!(" ({uncoded} interviews without codings are not counted)")
    };
    let new = |s: &&InterviewStep| s.new_codes.len();
    for (j, point) in coded.iter().enumerate() {
        let Some(run) = coded.get(j + 1..j + 1 + rule.k) else {
            break;
        };
        if run.iter().map(new).sum::<usize>() < rule.fewer_than {
            return Verdict::Reached {
                at: point.position,
                interview: point.name.clone(),
                confirmed_by: run[run.len() - 1].position,
                clinicians: point.clinicians,
                patients: point.patients,
                interviews: point.position,
            };
        }
    }
    let reason = if coded.len() <= rule.k {
        format!(
            "only {} coded interviews; the rule ({}) needs at least {}{skipped}",
            coded.len(),
            rule.describe(),
            rule.k + 1
        )
    } else {
        let last = &coded[coded.len() - rule.k..];
        format!(
            "the last {} coded interviews introduced {} new codes; the rule is {}{skipped}",
            rule.k,
            last.iter().map(new).sum::<usize>(),
            rule.describe()
        )
    };
    Verdict::NotYet { reason }
}

#[cfg(test)]
mod tests;
