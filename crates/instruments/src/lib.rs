//! Questionnaires as data: an instrument's items, response scale, scoring rule and links to
//! theory components, read from TOML or JSON (format: `docs/instrument-format.md`), validated,
//! and scored for one respondent ([`score`]). Pure: it parses the text it is given and reads
//! no file; the built-in instruments are embedded.
//!
//! No copyrighted item wording ships here: published instruments carry their structure and a
//! placeholder text per item, and a team holding the wording adds it with
//! [`Instrument::with_item_texts`].

use std::collections::{BTreeMap, HashSet};

use between_model::Theory;
use serde::{Deserialize, Serialize};

mod score;

pub use score::{Answers, ScoreError, ScoreOf, Scores, SubscaleScore};

/// The largest instrument file read (bytes of text).
pub const MAX_FILE_BYTES: usize = 1 << 20;
/// The most items an instrument has.
pub const MAX_ITEMS: usize = 500;
/// The most subscales an instrument has.
pub const MAX_SUBSCALES: usize = 50;
/// The longest item text, in characters.
pub const MAX_TEXT_CHARS: usize = 1_000;
/// The longest name, version, status, licence, anchor label, id or citation, in characters.
pub const MAX_LABEL_CHARS: usize = 500;
/// The longest notes, in characters.
pub const MAX_NOTES_CHARS: usize = 10_000;
/// The most citations, and the most links on one item or subscale.
pub const MAX_LIST: usize = 20;
/// Scale values lie within ±this, so reverse keying (min + max − x) cannot overflow.
pub const MAX_SCALE_MAGNITUDE: i32 = 1_000;
/// The most points on a response scale (max − min + 1).
pub const MAX_SCALE_POINTS: i32 = 101;
/// The default of the missing-data rule: a subscale is prorated when at most this percentage
/// of its items is missing.
pub const DEFAULT_MAX_MISSING_PERCENT: u32 = 20;

/// An instrument: items on one response scale, grouped in subscales, with its scoring rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instrument {
    /// Stable identifier, kebab-case (e.g. `wai-sr`).
    pub id: String,
    pub name: String,
    /// The file's own version; a response belongs to one version.
    pub version: String,
    /// How settled it is, shown wherever the instrument is: "published structure",
    /// "unvalidated, for piloting", …
    pub status: String,
    /// Who answers it.
    pub respondent: Respondent,
    /// Terms of use of the structure and of the wording.
    pub licence: String,
    #[serde(default)]
    pub citations: Vec<String>,
    /// Where the structure comes from, what is not checked, how to add the wording.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    pub scale: Scale,
    pub scoring: Scoring,
    #[serde(rename = "subscale")]
    pub subscales: Vec<Subscale>,
    #[serde(rename = "item")]
    pub items: Vec<Item>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Respondent {
    Patient,
    Clinician,
    Observer,
}

impl Respondent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Patient => "patient",
            Self::Clinician => "clinician",
            Self::Observer => "observer",
        }
    }
}

/// The response scale every item is answered on: whole numbers from `min` to `max`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    pub min: i32,
    pub max: i32,
    /// Labels for some or all points.
    #[serde(default, rename = "anchor")]
    pub anchors: Vec<Anchor>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    pub value: i32,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    pub method: Method,
    /// A subscale (and the total) is prorated when at most this percentage of its items is
    /// missing; otherwise it has no score.
    #[serde(default = "default_max_missing")]
    pub max_missing_percent: u32,
}

fn default_max_missing() -> u32 {
    DEFAULT_MAX_MISSING_PERCENT
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    Sum,
    Mean,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscale {
    pub id: String,
    pub name: String,
    #[serde(default, rename = "link", skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: String,
    pub text: String,
    pub subscale: String,
    /// Scored as min + max − x.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reverse: bool,
    #[serde(default, rename = "link", skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
}

/// A link from an item or subscale to a component of a built-in theory: where scores and
/// codings meet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub theory: String,
    pub component: String,
}

/// The two spellings of the one structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Toml,
    Json,
}

impl Format {
    /// JSON for a `.json` file name, TOML for anything else.
    pub fn of_file_name(name: &str) -> Self {
        let json = name
            .rsplit_once('.')
            .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("json"));
        if json { Self::Json } else { Self::Toml }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InstrumentError {
    #[error("{origin}: not a valid instrument file: {message}")]
    Syntax { origin: String, message: String },
    /// Every problem, one a line, each prefixed with the file's name.
    #[error("{}", problems.iter().map(|p| format!("{origin}: {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        origin: String,
        problems: Vec<String>,
    },
    #[error(
        "no instrument named '{0}'; `between instrument list` shows the built-in ones, or give a path to an instrument file"
    )]
    Unknown(String),
}

impl Instrument {
    /// Parses and validates an instrument; `origin` (a file name) names it in errors.
    pub fn parse(text: &str, format: Format, origin: &str) -> Result<Self, InstrumentError> {
        let syntax = |message: String| InstrumentError::Syntax {
            origin: origin.into(),
            message,
        };
        if text.len() > MAX_FILE_BYTES {
            return Err(syntax(format!(
                "{} bytes, more than the limit of {MAX_FILE_BYTES}",
                text.len()
            )));
        }
        let instrument: Self = match format {
            Format::Toml => toml::from_str(text).map_err(|e| syntax(e.to_string()))?,
            Format::Json => serde_json::from_str(text).map_err(|e| syntax(e.to_string()))?,
        };
        instrument.validate(origin)?;
        Ok(instrument)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("an instrument always serialises to TOML")
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("an instrument always serialises to JSON")
    }

    pub fn serialise(&self, format: Format) -> String {
        match format {
            Format::Toml => self.to_toml(),
            Format::Json => self.to_json(),
        }
    }

    /// Every problem found, or nothing; `origin` names the instrument in the error.
    pub fn validate(&self, origin: &str) -> Result<(), InstrumentError> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(InstrumentError::Invalid {
                origin: origin.into(),
                problems,
            })
        }
    }

    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut p = |s: String| out.push(s);
        let theories = between_model::builtin();
        identifier(&mut p, "instrument id", &self.id);
        for (what, value) in [
            ("name", &self.name),
            ("version", &self.version),
            ("status", &self.status),
            ("licence", &self.licence),
        ] {
            label(&mut p, what, value);
        }
        if self.citations.len() > MAX_LIST {
            p(format!(
                "{} citations, more than the limit of {MAX_LIST}",
                self.citations.len()
            ));
        }
        for (i, c) in self.citations.iter().enumerate() {
            label(&mut p, &format!("citation {}", i + 1), c);
        }
        if self.notes.chars().count() > MAX_NOTES_CHARS {
            p(format!(
                "notes are longer than the limit of {MAX_NOTES_CHARS} characters"
            ));
        }
        self.scale_problems(&mut p);
        if self.scoring.max_missing_percent > 100 {
            p(format!(
                "scoring: max_missing_percent is {}, which is not a percentage (0 to 100)",
                self.scoring.max_missing_percent
            ));
        }
        if self.subscales.len() > MAX_SUBSCALES {
            p(format!(
                "{} subscales, more than the limit of {MAX_SUBSCALES}",
                self.subscales.len()
            ));
        }
        if self.items.is_empty() {
            p("an instrument needs at least one item".into());
        }
        if self.items.len() > MAX_ITEMS {
            p(format!(
                "{} items, more than the limit of {MAX_ITEMS}",
                self.items.len()
            ));
        }
        let mut subscales = HashSet::new();
        for s in &self.subscales {
            identifier(&mut p, "subscale id", &s.id);
            label(&mut p, &format!("subscale '{}': name", s.id), &s.name);
            if !subscales.insert(s.id.as_str()) {
                p(format!("subscale id '{}' is used twice", s.id));
            }
            links(&mut p, &theories, &format!("subscale '{}'", s.id), &s.links);
            if !self.items.iter().any(|i| i.subscale == s.id) {
                p(format!("subscale '{}' has no items", s.id));
            }
        }
        let mut items = HashSet::new();
        for i in &self.items {
            identifier(&mut p, "item id", &i.id);
            if !items.insert(i.id.as_str()) {
                p(format!("item id '{}' is used twice", i.id));
            }
            if i.text.trim().is_empty() {
                p(format!("item '{}' has no text", i.id));
            }
            if i.text.chars().count() > MAX_TEXT_CHARS {
                p(format!(
                    "item '{}': text is longer than the limit of {MAX_TEXT_CHARS} characters",
                    i.id
                ));
            }
            if !subscales.contains(i.subscale.as_str()) {
                p(format!(
                    "item '{}' is in subscale '{}', which is not declared",
                    i.id, i.subscale
                ));
            }
            links(&mut p, &theories, &format!("item '{}'", i.id), &i.links);
        }
        out
    }

    fn scale_problems(&self, p: &mut impl FnMut(String)) {
        let Scale { min, max, anchors } = &self.scale;
        let (min, max) = (*min, *max);
        if min.abs() > MAX_SCALE_MAGNITUDE || max.abs() > MAX_SCALE_MAGNITUDE {
            p(format!(
                "scale: min and max must lie between -{MAX_SCALE_MAGNITUDE} and {MAX_SCALE_MAGNITUDE}"
            ));
            return;
        }
        if min >= max {
            p(format!("scale: min ({min}) must be less than max ({max})"));
            return;
        }
        if max - min + 1 > MAX_SCALE_POINTS {
            p(format!(
                "scale: {} points, more than the limit of {MAX_SCALE_POINTS}",
                max - min + 1
            ));
        }
        let mut seen = HashSet::new();
        for a in anchors {
            if a.value < min || a.value > max {
                p(format!(
                    "scale: anchor '{}' is at {}, outside the scale {min}–{max}",
                    a.label, a.value
                ));
            }
            if !seen.insert(a.value) {
                p(format!("scale: two anchors at {}", a.value));
            }
            label(p, &format!("scale: anchor at {}", a.value), &a.label);
        }
    }

    /// The items of a subscale, in the instrument's order.
    pub fn items_of<'a>(&'a self, subscale: &'a str) -> impl Iterator<Item = &'a Item> + 'a {
        self.items.iter().filter(move |i| i.subscale == subscale)
    }

    /// The anchor label of a scale point, if it has one.
    pub fn anchor(&self, value: i32) -> Option<&str> {
        self.scale
            .anchors
            .iter()
            .find(|a| a.value == value)
            .map(|a| a.label.as_str())
    }

    /// The scoring rule in words, as `show` and every score's caption state it.
    pub fn scoring_rule(&self) -> String {
        let Scale { min, max, .. } = self.scale;
        let n = self.scoring.max_missing_percent;
        let (what, prorated) = match self.scoring.method {
            Method::Sum => (
                "the sum of its items",
                "the mean of the answered items × the number of items",
            ),
            Method::Mean => ("the mean of its items", "the mean of the answered items"),
        };
        format!(
            "Each subscale, and the total over all items, is {what} (a reverse-keyed item x \
             counts as {min} + {max} − x). When at most {n} % of its items are missing it is \
             prorated: {prorated}; when more are missing it has no score."
        )
    }

    /// This instrument with the wording a team holds: `rows` are (line, item id, text) as read
    /// from its table, `origin` the table's file name. Every item needs exactly one row;
    /// errors name the file and line.
    pub fn with_item_texts(
        &self,
        rows: &[(u64, String, String)],
        origin: &str,
    ) -> Result<Self, InstrumentError> {
        let mut problems = Vec::new();
        let mut texts: BTreeMap<&str, (u64, &str)> = BTreeMap::new();
        for (line, item, text) in rows {
            let item = item.trim();
            if !self.items.iter().any(|i| i.id == item) {
                problems.push(format!(
                    "line {line}: item '{item}' is not an item of {}",
                    self.id
                ));
            } else if let Some((first, _)) = texts.get(item) {
                problems.push(format!(
                    "line {line}: item '{item}' again (first on line {first})"
                ));
            } else {
                texts.insert(item, (*line, text.as_str()));
            }
        }
        let mut out = self.clone();
        for i in &mut out.items {
            match texts.get(i.id.as_str()) {
                Some((_, text)) => i.text = text.trim().to_string(),
                None => problems.push(format!("item '{}' has no row", i.id)),
            }
        }
        if problems.is_empty() {
            // The wording must meet the same limits as any item text.
            out.validate(origin)?;
            Ok(out)
        } else {
            Err(InstrumentError::Invalid {
                origin: origin.into(),
                problems,
            })
        }
    }
}

fn identifier(p: &mut impl FnMut(String), what: &str, s: &str) {
    let ok = !s.is_empty()
        && s.chars().count() <= MAX_LABEL_CHARS
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if !ok {
        p(format!(
            "{what} '{s}' must be kebab-case: lower-case letters, digits and dashes"
        ));
    }
}

fn label(p: &mut impl FnMut(String), what: &str, s: &str) {
    if s.trim().is_empty() {
        p(format!("{what} is empty"));
    } else if s.chars().count() > MAX_LABEL_CHARS {
        p(format!(
            "{what} is longer than the limit of {MAX_LABEL_CHARS} characters"
        ));
    }
}

fn links(p: &mut impl FnMut(String), theories: &[Theory], owner: &str, links: &[Link]) {
    if links.len() > MAX_LIST {
        p(format!(
            "{owner}: {} links, more than the limit of {MAX_LIST}",
            links.len()
        ));
        return;
    }
    for l in links {
        let theory = theories.iter().find(|t| t.id == l.theory);
        match theory {
            None => p(format!(
                "{owner}: links to theory '{}', which is not a built-in theory (`between model list`)",
                l.theory
            )),
            Some(t) if t.component(&l.component).is_none() => p(format!(
                "{owner}: links to '{}', which is not a component of {}",
                l.component, l.theory
            )),
            Some(_) => {}
        }
    }
}

/// The instruments that ship inside `between`, as their file names and TOML text.
pub const BUILTIN: &[(&str, &str)] = &[
    ("wai-sr.toml", include_str!("../instruments/wai-sr.toml")),
    ("maas.toml", include_str!("../instruments/maas.toml")),
    (
        "healing-relationship-patient.toml",
        include_str!("../instruments/healing-relationship-patient.toml"),
    ),
    (
        "healing-relationship-clinician.toml",
        include_str!("../instruments/healing-relationship-clinician.toml"),
    ),
];

/// The built-in instruments, parsed.
pub fn builtin() -> Vec<Instrument> {
    BUILTIN
        .iter()
        .map(|(file, text)| {
            Instrument::parse(text, Format::Toml, file)
                .expect("built-in instruments are valid (tested)")
        })
        .collect()
}

/// A built-in instrument by its exact id.
pub fn find(id: &str) -> Result<Instrument, InstrumentError> {
    builtin()
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(|| InstrumentError::Unknown(id.to_string()))
}

#[cfg(test)]
mod tests;
