//! Theories as data. A theory is a TOML file (format: `docs/theory-format.md`) of components
//! with kinds, nested sub-dimensions, definitions and indicators, and propositions (edges)
//! labelled with where they come from. Three theories are embedded; users load their own from a
//! path. A theory becomes a study's codebook through [`Theory::codebook`].
//!
//! No component name is known to Rust code: everything specific to a theory is in its file.

use std::collections::HashSet;
use std::path::Path;

use between_core::MAX_CODE_DEPTH;
use serde::{Deserialize, Serialize};

/// A theory: a named, versioned set of components and propositions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theory {
    /// Stable identifier, kebab-case (e.g. `healing-relationship-model`).
    pub id: String,
    pub name: String,
    /// The theory file's own version; a study records the version its codebook came from.
    pub version: String,
    /// How settled the theory is: `published`, `configurable default`, `draft`, …
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub citations: Vec<String>,
    #[serde(default, rename = "component", skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Component>,
    #[serde(default, rename = "proposition", skip_serializing_if = "Vec::is_empty")]
    pub propositions: Vec<Proposition>,
    #[serde(default, rename = "marker", skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<Marker>,
}

/// What role a component plays in its theory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The phenomenon the theory explains (e.g. healing).
    Concept,
    /// One facet of a concept's definition.
    Facet,
    /// A process that builds or sustains something.
    Process,
    /// A sub-dimension of another component.
    Dimension,
    /// A result of the processes.
    Outcome,
    /// A capability of a person that supports processes.
    Competency,
    /// A structural element (e.g. the alliance's goals, tasks, bond).
    Element,
    /// Something that happens at a moment (e.g. an alliance rupture).
    Event,
    /// A point of view from which a case is examined.
    Perspective,
}

/// A component of a theory, with its sub-dimensions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Unique in the theory, kebab-case. Codes keep it as their link to the theory.
    pub id: String,
    pub name: String,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub definition: String,
    /// What to look for in text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indicators: Vec<String>,
    /// `#rrggbb`; sub-dimensions inherit their parent's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<String>,
    #[serde(default, rename = "sub", skip_serializing_if = "Vec::is_empty")]
    pub subs: Vec<Component>,
}

impl Kind {
    /// The kind as written in theory files.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Concept => "concept",
            Kind::Facet => "facet",
            Kind::Process => "process",
            Kind::Dimension => "dimension",
            Kind::Outcome => "outcome",
            Kind::Competency => "competency",
            Kind::Element => "element",
            Kind::Event => "event",
            Kind::Perspective => "perspective",
        }
    }
}

/// Where a proposition comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// Stated in the theory's published source.
    StatedInSource,
    /// Assumed by this project; to be tested or revised.
    ProjectAssumption,
}

impl Basis {
    /// The basis as written in theory files.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::StatedInSource => "stated in source",
            Basis::ProjectAssumption => "project assumption",
        }
    }
}

/// An edge of the theory: components that together lead to, or support, others.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposition {
    pub from: Vec<String>,
    pub to: Vec<String>,
    /// `leads-to`, `supports`, … (free text, shown on the figure).
    pub relation: String,
    pub basis: Basis,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A flag a coding can carry under this theory (e.g. a contrast case), not a code of its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marker {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub definition: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TheoryError {
    #[error("{origin}: not a valid theory file: {message}")]
    Syntax { origin: String, message: String },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
    #[error("{origin}: cannot read: {source}")]
    Io {
        origin: String,
        source: std::io::Error,
    },
    #[error(
        "no theory named '{0}'; `between model list` shows the built-in ones, or give a path to a theory file"
    )]
    Unknown(String),
}

/// A code to create when a theory becomes a codebook, in pre-order (parents before children).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeSeed {
    pub name: String,
    /// Index of the parent in the same list.
    pub parent: Option<usize>,
    pub component: String,
    pub definition: String,
    pub indicators: Vec<String>,
    pub colour: String,
}

/// Colours for top-level components without one of their own: distinct, readable on white.
const PALETTE: &[&str] = &[
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22",
];

impl Theory {
    /// Parses and validates a theory from TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, TheoryError> {
        let theory: Theory = toml::from_str(text).map_err(|e| TheoryError::Syntax {
            origin: origin.into(),
            message: e.to_string(),
        })?;
        theory.validate().map_err(|message| TheoryError::Invalid {
            origin: origin.into(),
            message,
        })?;
        Ok(theory)
    }

    /// Parses and validates a theory from JSON text (the same structure as the TOML).
    pub fn from_json(text: &str, origin: &str) -> Result<Self, TheoryError> {
        let theory: Theory = serde_json::from_str(text).map_err(|e| TheoryError::Syntax {
            origin: origin.into(),
            message: e.to_string(),
        })?;
        theory.validate().map_err(|message| TheoryError::Invalid {
            origin: origin.into(),
            message,
        })?;
        Ok(theory)
    }

    /// Reads a theory file (`.toml`, or `.json`).
    pub fn from_path(path: &Path) -> Result<Self, TheoryError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TheoryError::Io {
            origin: origin.clone(),
            source,
        })?;
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            Self::from_json(&text, &origin)
        } else {
            Self::from_toml(&text, &origin)
        }
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a theory always serialises to TOML")
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a theory always serialises to JSON")
    }

    /// Every component, depth first, with its depth (0 for top level).
    pub fn components(&self) -> Vec<(usize, &Component)> {
        // Without recursion: a theory is checked for depth only once read.
        let mut out = Vec::new();
        let mut open = vec![self.components.iter()];
        while let Some(siblings) = open.last_mut() {
            match siblings.next() {
                Some(c) => {
                    out.push((open.len() - 1, c));
                    open.push(c.subs.iter());
                }
                None => {
                    open.pop();
                }
            }
        }
        out
    }

    pub fn component(&self, id: &str) -> Option<&Component> {
        self.components()
            .into_iter()
            .map(|(_, c)| c)
            .find(|c| c.id == id)
    }

    fn validate(&self) -> Result<(), String> {
        if !is_identifier(&self.id) {
            return Err(format!(
                "theory id '{}' must be kebab-case letters, digits and dashes",
                self.id
            ));
        }
        if self.name.trim().is_empty() || self.version.trim().is_empty() {
            return Err("a theory needs a name and a version".into());
        }
        let mut seen = HashSet::new();
        for (depth, c) in self.components() {
            // Each component becomes a code, nested as the components are.
            if depth + 1 > MAX_CODE_DEPTH {
                return Err(format!(
                    "component '{}' is nested {} deep, more than the limit of {MAX_CODE_DEPTH}",
                    c.id,
                    depth + 1
                ));
            }
            if !is_identifier(&c.id) {
                return Err(format!(
                    "component id '{}' must be kebab-case letters, digits and dashes",
                    c.id
                ));
            }
            if !seen.insert(c.id.as_str()) {
                return Err(format!("component id '{}' is used twice", c.id));
            }
            if let Err(e) = between_core::code_name(&c.name) {
                return Err(format!("component '{}' cannot name a code: {e}", c.id));
            }
            if let Some(colour) = &c.colour
                && !is_colour(colour)
            {
                return Err(format!(
                    "component '{}': colour '{colour}' is not #rrggbb",
                    c.id
                ));
            }
        }
        for (i, p) in self.propositions.iter().enumerate() {
            if p.from.is_empty() || p.to.is_empty() {
                return Err(format!(
                    "proposition {} needs components on both sides",
                    i + 1
                ));
            }
            for id in p.from.iter().chain(&p.to) {
                if !seen.contains(id.as_str()) {
                    return Err(format!(
                        "proposition {} names '{id}', which is not a component of this theory",
                        i + 1
                    ));
                }
            }
        }
        let mut markers = HashSet::new();
        for m in &self.markers {
            if !markers.insert(m.id.as_str()) || seen.contains(m.id.as_str()) {
                return Err(format!("marker id '{}' is used twice", m.id));
            }
        }
        Ok(())
    }

    /// The codebook this theory becomes: one code per component, nested as the components are.
    pub fn codebook(&self) -> Vec<CodeSeed> {
        let mut out: Vec<CodeSeed> = Vec::new();
        // The components still to visit under each open one, with its seed's index.
        let mut open = vec![(None, self.components.iter().enumerate())];
        while let Some((parent, siblings)) = open.last_mut() {
            let parent = *parent;
            let Some((i, c)) = siblings.next() else {
                open.pop();
                continue;
            };
            let inherited = parent.map(|p: usize| out[p].colour.as_str());
            let colour = c
                .colour
                .as_deref()
                .or(inherited)
                .unwrap_or(PALETTE[i % PALETTE.len()])
                .to_string();
            out.push(CodeSeed {
                name: c.name.trim().to_string(),
                parent,
                component: c.id.clone(),
                definition: c.definition.clone(),
                indicators: c.indicators.clone(),
                colour,
            });
            open.push((Some(out.len() - 1), c.subs.iter().enumerate()));
        }
        out
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_colour(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// The theories that ship inside `between`, as their file names and TOML text.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "healing-relationship-model.toml",
        include_str!("../theories/healing-relationship-model.toml"),
    ),
    (
        "therapeutic-alliance.toml",
        include_str!("../theories/therapeutic-alliance.toml"),
    ),
    (
        "interpersonal-dynamics.toml",
        include_str!("../theories/interpersonal-dynamics.toml"),
    ),
];

/// The built-in theories, parsed.
pub fn builtin() -> Vec<Theory> {
    BUILTIN
        .iter()
        .map(|(file, text)| {
            Theory::from_toml(text, file).expect("built-in theories are valid (tested)")
        })
        .collect()
}

/// A theory by built-in id (or unambiguous prefix of one), or else by path to a theory file.
pub fn resolve(name: &str) -> Result<Theory, TheoryError> {
    let all = builtin();
    if let Some(t) = all.iter().find(|t| t.id == name) {
        return Ok(t.clone());
    }
    let prefixed: Vec<_> = all.iter().filter(|t| t.id.starts_with(name)).collect();
    if let [one] = prefixed.as_slice() {
        return Ok((*one).clone());
    }
    let path = Path::new(name);
    if path.is_file() {
        return Theory::from_path(path);
    }
    Err(TheoryError::Unknown(name.to_string()))
}

#[cfg(test)]
mod tests;
