//! Scores over time: a dyad's or a clinician's responses, scored by each instrument's rule and
//! put in time order, one series per instrument version, participant and dyad.

use between_core::*;
use between_instruments::Scores;
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
}

impl Measures<'_> {
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
