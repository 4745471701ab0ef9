//! One respondent's answers scored under an instrument's rule (`Instrument::scoring_rule`
//! states it in words; `docs/instrument-format.md` in full).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::{Instrument, Method};

/// One respondent's answers: item id → the scale value chosen, or `None` when the item was
/// left out. An item absent from the map is missing too.
pub type Answers = BTreeMap<String, Option<i32>>;

/// The score of one subscale, or of the total, with what it rests on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoreOf {
    /// Items it is made of.
    pub items: usize,
    /// Of those, answered.
    pub answered: usize,
    /// `None` when more items are missing than the rule allows.
    pub score: Option<f64>,
    /// True when some items were missing and the score was prorated from the others.
    pub prorated: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubscaleScore {
    pub subscale: String,
    #[serde(flatten)]
    pub score: ScoreOf,
}

/// Every subscale's score, in the instrument's order, and the total over all items.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scores {
    pub subscales: Vec<SubscaleScore>,
    pub total: ScoreOf,
}

impl Scores {
    pub fn subscale(&self, id: &str) -> Option<&ScoreOf> {
        self.subscales
            .iter()
            .find(|s| s.subscale == id)
            .map(|s| &s.score)
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScoreError {
    #[error("item '{item}' is not an item of {instrument}")]
    UnknownItem { item: String, instrument: String },
    #[error("item '{item}': {value} is outside the scale {min}–{max}")]
    OutOfRange {
        item: String,
        value: i32,
        min: i32,
        max: i32,
    },
}

impl Instrument {
    /// Scores one respondent: reverse-keyed items count as min + max − x; a subscale (and the
    /// total) with at most `max_missing_percent` % of its items missing is prorated, with more
    /// it has no score. Unknown items and values off the scale are errors naming the item.
    pub fn score(&self, answers: &Answers) -> Result<Scores, ScoreError> {
        let (min, max) = (self.scale.min, self.scale.max);
        let mut keyed: HashMap<&str, f64> = HashMap::with_capacity(answers.len());
        for (id, value) in answers {
            let item =
                self.items
                    .iter()
                    .find(|i| &i.id == id)
                    .ok_or_else(|| ScoreError::UnknownItem {
                        item: id.clone(),
                        instrument: self.id.clone(),
                    })?;
            let Some(value) = *value else { continue };
            if value < min || value > max {
                return Err(ScoreError::OutOfRange {
                    item: id.clone(),
                    value,
                    min,
                    max,
                });
            }
            let value = if item.reverse {
                min + max - value
            } else {
                value
            };
            keyed.insert(item.id.as_str(), f64::from(value));
        }
        let of = |items: &mut dyn Iterator<Item = &crate::Item>| {
            let values: Vec<Option<f64>> =
                items.map(|i| keyed.get(i.id.as_str()).copied()).collect();
            self.combine(&values)
        };
        let subscales = self
            .subscales
            .iter()
            .map(|s| SubscaleScore {
                subscale: s.id.clone(),
                score: of(&mut self.items_of(&s.id)),
            })
            .collect();
        let total = of(&mut self.items.iter());
        Ok(Scores { subscales, total })
    }

    /// The rule applied to one group of (keyed) item values, `None` for a missing one.
    fn combine(&self, values: &[Option<f64>]) -> ScoreOf {
        let items = values.len();
        let answered: Vec<f64> = values.iter().flatten().copied().collect();
        let missing = items - answered.len();
        // Integer arithmetic, so that exactly N % missing is inside the rule.
        let allowed = missing * 100 <= self.scoring.max_missing_percent as usize * items;
        let score = (allowed && !answered.is_empty()).then(|| {
            let mean = answered.iter().sum::<f64>() / answered.len() as f64;
            match self.scoring.method {
                Method::Mean => mean,
                Method::Sum if missing == 0 => answered.iter().sum(),
                Method::Sum => mean * items as f64,
            }
        });
        ScoreOf {
            items,
            answered: answered.len(),
            prorated: score.is_some() && missing > 0,
            score,
        }
    }
}
