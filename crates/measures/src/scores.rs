//! Scores over time: a dyad's or a clinician's responses, scored by each instrument's rule and
//! put in time order, one series per instrument version, participant and dyad.

use between_core::*;
use between_instruments::Scores;
pub use between_psychometrics::RuptureRule;
use between_study::{StudyError, StudyResult};

use crate::Measures;

/// Whose scores: a dyad's (both members' responses about it), or a clinician's (their own
/// responses, and those in any of their dyads).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Dyad(String),
    Clinician(String),
}

/// The order of a series, in words (shown with every trajectory).
pub const ORDER_RULE: &str = "Responses are in date order, then session number; a response \
     with no date comes before the dated ones. A response whose score the missing-data rule \
     leaves out is shown without it and skipped when looking for ruptures.";

/// One measurement of a series.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Point {
    pub response: ResponseId,
    pub occasion: Occasion,
    pub mode: EntryMode,
    pub scores: Scores,
}

/// One instrument version answered by one participant (in one dyad, or none), over time.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Trajectory {
    pub instrument: String,
    pub instrument_version: String,
    pub instrument_name: String,
    pub participant: String,
    pub dyad: Option<String>,
    /// The instrument's scoring rule in words.
    pub scoring_rule: String,
    pub points: Vec<Point>,
    /// Under the rule asked for, on the score asked for; empty when none was.
    pub ruptures: Vec<RuptureAt>,
}

/// What to look for ruptures in: a rule, and the score it reads ("total" or a subscale id).
#[derive(Clone, Debug, PartialEq)]
pub struct RuptureCriterion {
    pub rule: RuptureRule,
    pub score: String,
}

/// A rupture between two measurements, and its repair if one came.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RuptureAt {
    pub score: String,
    pub before: Occasion,
    pub after: Occasion,
    pub drop: f64,
    pub repaired: Option<Occasion>,
}

/// A subject's trajectories, with the rules that made them.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ScoresOverTime {
    pub order_rule: &'static str,
    /// The rupture rule in words, with its numbers, when ruptures were asked for.
    pub rupture_rule: Option<String>,
    pub trajectories: Vec<Trajectory>,
}

impl Measures<'_> {
    /// The subject's trajectories and, when a criterion is given, each one's ruptures and
    /// repairs (`between_psychometrics::ruptures`: measurements without that score skipped).
    pub fn scores(
        &self,
        subject: &Subject,
        criterion: Option<&RuptureCriterion>,
    ) -> StudyResult<ScoresOverTime> {
        let mut trajectories = self.trajectories(subject)?;
        let rupture_rule = match criterion {
            None => None,
            Some(c) => {
                let invalid = |e: between_psychometrics::PsychometricsError| {
                    StudyError::Invalid(e.to_string())
                };
                let words = c.rule.describe().map_err(invalid)?;
                for t in &mut trajectories {
                    let scored: Vec<(&Point, f64)> = t
                        .points
                        .iter()
                        .map(|p| score_of(p, &c.score).map(|s| s.map(|s| (p, s))))
                        .collect::<StudyResult<Vec<_>>>()?
                        .into_iter()
                        .flatten()
                        .collect();
                    let values: Vec<f64> = scored.iter().map(|(_, v)| *v).collect();
                    t.ruptures = between_psychometrics::ruptures(&values, c.rule)
                        .map_err(invalid)?
                        .into_iter()
                        .map(|r| RuptureAt {
                            score: c.score.clone(),
                            before: scored[r.before].0.occasion.clone(),
                            after: scored[r.after].0.occasion.clone(),
                            drop: r.drop,
                            repaired: r.repaired_at.map(|i| scored[i].0.occasion.clone()),
                        })
                        .collect();
                }
                Some(format!("{words} Read on the {} score.", c.score))
            }
        };
        Ok(ScoresOverTime {
            order_rule: ORDER_RULE,
            rupture_rule,
            trajectories,
        })
    }

    /// The subject's series the actor may see, each in time order ([`ORDER_RULE`]).
    pub fn trajectories(&self, subject: &Subject) -> StudyResult<Vec<Trajectory>> {
        let store = self.bench.store();
        let (dyads, participant): (Vec<Dyad>, Option<ParticipantId>) = match subject {
            Subject::Dyad(label) => (vec![self.dyad(label)?], None),
            Subject::Clinician(label) => {
                let c = self.participant(label)?;
                if c.role != Role::Clinician {
                    return Err(StudyError::Invalid(format!(
                        "{} is a {}, not a clinician",
                        c.label, c.role
                    )));
                }
                let theirs = store
                    .dyads()?
                    .into_iter()
                    .filter(|d| d.clinician == c.id)
                    .collect();
                (theirs, Some(c.id))
            }
        };
        let instruments = self.instruments()?;
        let mut series: Vec<Trajectory> = Vec::new();
        for view in self.responses()? {
            let r = &view.response;
            let in_dyad = r.dyad.is_some_and(|d| dyads.iter().any(|x| x.id == d));
            if !(in_dyad || participant == Some(r.participant)) {
                continue;
            }
            let point = Point {
                response: r.id,
                occasion: r.occasion.clone(),
                mode: r.mode,
                scores: view.scores.clone(),
            };
            let same = |t: &&mut Trajectory| {
                t.instrument == r.instrument
                    && t.instrument_version == r.instrument_version
                    && t.participant == view.participant_label
                    && t.dyad == view.dyad_label
            };
            match series.iter_mut().find(same) {
                Some(t) => t.points.push(point),
                None => {
                    let instrument = instruments
                        .iter()
                        .find(|i| i.id == r.instrument && i.version == r.instrument_version)
                        .expect("responses() found it");
                    series.push(Trajectory {
                        instrument: r.instrument.clone(),
                        instrument_version: r.instrument_version.clone(),
                        instrument_name: instrument.name.clone(),
                        participant: view.participant_label.clone(),
                        dyad: view.dyad_label.clone(),
                        scoring_rule: instrument.scoring_rule(),
                        points: vec![point],
                        ruptures: Vec::new(),
                    });
                }
            }
        }
        for t in &mut series {
            t.points.sort_by(|a, b| a.occasion.cmp(&b.occasion));
        }
        Ok(series)
    }
}

/// A point's total (`"total"`) or subscale score; an unknown subscale is an error naming those
/// there are.
fn score_of(p: &Point, which: &str) -> StudyResult<Option<f64>> {
    if which == "total" {
        return Ok(p.scores.total.score);
    }
    match p.scores.subscale(which) {
        Some(s) => Ok(s.score),
        None => Err(StudyError::Invalid(format!(
            "no subscale '{which}'; the scores are total, {}",
            p.scores
                .subscales
                .iter()
                .map(|s| s.subscale.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}
