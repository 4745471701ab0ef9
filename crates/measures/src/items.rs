//! A study's answers to one instrument as a respondents × items table, for the scale statistics
//! of `between-psychometrics` (the same figures `between scale alpha` gives on a plain CSV).

use between_instruments::Instrument;
use between_study::StudyResult;

use crate::Measures;

/// The responses the actor may see to one instrument version: one row per response (in the
/// order stored), one column per item in the instrument's order, reverse-keyed items already
/// turned (x → min + max − x), `None` for an item left out.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemTable {
    pub instrument: Instrument,
    pub items: Vec<String>,
    pub rows: Vec<Vec<Option<f64>>>,
}

impl Measures<'_> {
    /// The item table of `instrument` (`version`: the study's newest, or the built-in's).
    pub fn item_table(&self, instrument: &str, version: Option<&str>) -> StudyResult<ItemTable> {
        let instrument = self.instrument(instrument, version)?;
        let (min, max) = (instrument.scale.min, instrument.scale.max);
        let rows = self
            .responses()?
            .into_iter()
            .map(|v| v.response)
            .filter(|r| r.instrument == instrument.id && r.instrument_version == instrument.version)
            .map(|r| {
                instrument
                    .items
                    .iter()
                    .map(|item| {
                        let answer = r.answers.get(&item.id).copied().flatten()?;
                        let keyed = if item.reverse {
                            min + max - answer
                        } else {
                            answer
                        };
                        Some(f64::from(keyed))
                    })
                    .collect()
            })
            .collect();
        Ok(ItemTable {
            items: instrument.items.iter().map(|i| i.id.clone()).collect(),
            instrument,
            rows,
        })
    }
}
