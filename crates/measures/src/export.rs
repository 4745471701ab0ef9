//! The long export for R, SPSS and Stata (one row per answer) and its data dictionary (every
//! variable with its label; for each item, its text and the scale's value labels from the
//! anchors). Only what the actor may see is exported.

use between_study::StudyResult;

use crate::Measures;

pub const EXPORT_COLUMNS: [&str; 11] = [
    "response_id",
    "instrument",
    "instrument_version",
    "participant",
    "dyad",
    "date",
    "session",
    "mode",
    "entered_by",
    "item",
    "value",
];

pub const DICTIONARY_COLUMNS: [&str; 5] = [
    "variable",
    "instrument",
    "instrument_version",
    "label",
    "value_labels",
];

/// The export table and the dictionary, as rows of text under their columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Export {
    pub rows: Vec<Vec<String>>,
    pub dictionary: Vec<Vec<String>>,
}

/// The labels of the export's own columns.
const COLUMN_LABELS: [&str; 11] = [
    "Response id",
    "Instrument id",
    "Instrument version",
    "Participant label",
    "Dyad label (empty: none)",
    "Date of the measurement (YYYY-MM-DD)",
    "Session number",
    "How it was entered (hand, imported, self-completed)",
    "Who entered it",
    "Item id (see the rows of each instrument below)",
    "The answer, a scale value (empty: left out)",
];

impl Measures<'_> {
    pub fn export(&self) -> StudyResult<Export> {
        let views = self.responses()?;
        let mut rows = Vec::new();
        for v in &views {
            let r = &v.response;
            for (item, value) in &r.answers {
                rows.push(vec![
                    r.id.to_string(),
                    r.instrument.clone(),
                    r.instrument_version.clone(),
                    v.participant_label.clone(),
                    v.dyad_label.clone().unwrap_or_default(),
                    r.occasion.date.clone().unwrap_or_default(),
                    r.occasion
                        .session
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                    r.mode.to_string(),
                    r.entered_by.clone(),
                    item.clone(),
                    value.map(|x| x.to_string()).unwrap_or_default(),
                ]);
            }
        }
        let mut dictionary: Vec<Vec<String>> = EXPORT_COLUMNS
            .iter()
            .zip(COLUMN_LABELS)
            .map(|(c, l)| {
                vec![
                    c.to_string(),
                    String::new(),
                    String::new(),
                    l.into(),
                    String::new(),
                ]
            })
            .collect();
        let mut used: Vec<(String, String)> = views
            .iter()
            .map(|v| {
                (
                    v.response.instrument.clone(),
                    v.response.instrument_version.clone(),
                )
            })
            .collect();
        used.sort();
        used.dedup();
        for (id, version) in used {
            let instrument = self.instrument(&id, Some(&version))?;
            let value_labels = instrument
                .scale
                .anchors
                .iter()
                .map(|a| format!("{}={}", a.value, a.label))
                .collect::<Vec<_>>()
                .join("; ");
            for item in &instrument.items {
                let reverse = if item.reverse { " (reverse-keyed)" } else { "" };
                dictionary.push(vec![
                    item.id.clone(),
                    id.clone(),
                    version.clone(),
                    format!("{}{reverse} [subscale {}]", item.text, item.subscale),
                    value_labels.clone(),
                ]);
            }
        }
        Ok(Export { rows, dictionary })
    }
}
