//! Numbers beside words across dyads (a joint display): per dyad, the latest scores of one
//! instrument beside the coded evidence for the theory components its subscales and items
//! are linked to, counted by the dyad triangulation's rule.

use between_findings::Corpus;
use between_findings::triangulation::{Coders, triangulate};
use between_study::{StudyError, StudyResult};

use crate::{Measures, Subject};

/// How a joint display's score columns are read, as every view of it states.
pub const SCORE_RULE: &str = "Scores: each subscale and the total of the dyad's latest response \
    to the instrument (latest by date, then session), by the instrument's scoring rule; empty \
    when the dyad has no response or the missing-data rule leaves the score out.";

/// One dyad's row.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct JointRow {
    pub dyad: String,
    pub responses: usize,
    /// The latest response's date or session, as shown.
    pub latest: Option<String>,
    /// In the order of [`JointDisplay::subscales`], then the total.
    pub scores: Vec<Option<f64>>,
    /// Per linked component (in the order of [`JointDisplay::components`]): distinct passages
    /// in the clinician's and in the patient's account.
    pub evidence: Vec<(usize, usize)>,
}

/// Dyads × (scores, evidence per linked component).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct JointDisplay {
    pub instrument: String,
    pub instrument_version: String,
    pub subscales: Vec<String>,
    /// Linked components of the study's theory: (id, name).
    pub components: Vec<(String, String)>,
    pub score_rule: &'static str,
    /// The triangulation's rule for the evidence columns.
    pub evidence_rule: &'static str,
    pub rows: Vec<JointRow>,
}

impl JointDisplay {
    /// The display as a table (header, then a row per dyad): dyad, responses, latest, each
    /// subscale and the total, then per linked component its clinician's and patient's
    /// passages. What a CSV, a spreadsheet or a printed table shows.
    pub fn table(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let mut columns = vec!["dyad".to_string(), "responses".into(), "latest".into()];
        columns.extend(self.subscales.iter().cloned());
        columns.push("total".into());
        for (id, _) in &self.components {
            columns.push(format!("{id} (clinician)"));
            columns.push(format!("{id} (patient)"));
        }
        let figure = |v: &Option<f64>| v.map(|v| format!("{v}")).unwrap_or_default();
        let rows = self
            .rows
            .iter()
            .map(|r| {
                let mut row = vec![
                    r.dyad.clone(),
                    r.responses.to_string(),
                    r.latest.clone().unwrap_or_default(),
                ];
                row.extend(r.scores.iter().map(figure));
                for (clinician, patient) in &r.evidence {
                    row.push(clinician.to_string());
                    row.push(patient.to_string());
                }
                row
            })
            .collect();
        (columns, rows)
    }
}

impl Measures<'_> {
    /// The joint display of `instrument` over every dyad of `corpus` (a snapshot of this study).
    pub fn joint_display(
        &self,
        corpus: &Corpus,
        instrument: &str,
        version: Option<&str>,
    ) -> StudyResult<JointDisplay> {
        let instrument = self.instrument(instrument, version)?;
        let matrix =
            triangulate(corpus, &Coders::All).map_err(|e| StudyError::Invalid(e.to_string()))?;
        let theory = corpus.theory.as_ref().map(|t| t.id.as_str());
        let mut linked: Vec<usize> = Vec::new();
        let links = instrument
            .subscales
            .iter()
            .flat_map(|s| &s.links)
            .chain(instrument.items.iter().flat_map(|i| &i.links));
        for link in links.filter(|l| Some(l.theory.as_str()) == theory) {
            if let Ok(c) = matrix.component_position(&link.component)
                && !linked.contains(&c)
            {
                linked.push(c);
            }
        }
        let mut rows = Vec::with_capacity(matrix.dyads.len());
        for (d, dyad) in matrix.dyads.iter().enumerate() {
            let series: Vec<_> = self
                .trajectories(&Subject::Dyad(dyad.label.clone()))?
                .into_iter()
                .filter(|t| {
                    t.instrument == instrument.id && t.instrument_version == instrument.version
                })
                .flat_map(|t| t.points)
                .collect();
            // Trajectories are each in time order; across participants, order by the same rule.
            let latest = series.iter().max_by(|a, b| {
                (&a.occasion.date, a.occasion.session).cmp(&(&b.occasion.date, b.occasion.session))
            });
            let scores = match latest {
                None => vec![None; instrument.subscales.len() + 1],
                Some(p) => instrument
                    .subscales
                    .iter()
                    .map(|s| p.scores.subscale(&s.id).and_then(|s| s.score))
                    .chain([p.scores.total.score])
                    .collect(),
            };
            rows.push(JointRow {
                dyad: dyad.label.clone(),
                responses: series.len(),
                latest: latest.map(|p| match (&p.occasion.date, p.occasion.session) {
                    (Some(date), _) => date.clone(),
                    (None, Some(s)) => format!("session {s}"),
                    (None, None) => String::new(),
                }),
                scores,
                evidence: linked
                    .iter()
                    .map(|&c| {
                        let cell = &matrix.cells[d][c];
                        (cell.clinician.passages, cell.patient.passages)
                    })
                    .collect(),
            });
        }
        Ok(JointDisplay {
            instrument: instrument.id.clone(),
            instrument_version: instrument.version.clone(),
            subscales: instrument.subscales.iter().map(|s| s.id.clone()).collect(),
            components: linked
                .iter()
                .map(|&c| {
                    (
                        matrix.components[c].id.clone(),
                        matrix.components[c].name.clone(),
                    )
                })
                .collect(),
            score_rule: SCORE_RULE,
            evidence_rule: matrix.rule_text,
            rows,
        })
    }
}
