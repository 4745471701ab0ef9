//! The report's tables as plain data (one [`Table`] is one CSV file and one XLSX sheet), built
//! from a [`Corpus`] — participant and practice characteristics, the model's components with
//! the team's exemplar quotes — and from an agreement report.

use std::collections::BTreeMap;

use between_core::*;
use between_findings::Corpus;
use between_study::{AgreementReport, Measure};

/// One cell: text, a count, or a number shown with a fixed number of decimals.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Count(usize),
    Number { value: f64, decimals: usize },
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Self {
        Cell::Text(s.into())
    }

    pub fn number(value: f64, decimals: usize) -> Self {
        if value.is_finite() {
            Cell::Number { value, decimals }
        } else {
            Cell::Empty
        }
    }

    /// As shown in HTML and written to CSV.
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Number { value, decimals } => format!("{value:.decimals$}"),
            Cell::Empty => String::new(),
        }
    }
}

/// A table of the report.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// File stem and sheet name: `participants`, `practices`, …
    pub id: String,
    pub title: String,
    /// What the reader needs to read it (denominators, rules).
    pub note: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// `years_in_practice` → `Years in practice`.
fn humanise(key: &str) -> String {
    let words = key.replace(['_', '-'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn share(part: usize, whole: usize) -> Cell {
    if whole == 0 {
        Cell::Empty
    } else {
        Cell::number(100.0 * part as f64 / whole as f64, 1)
    }
}

/// The characteristics of the participants of one role, from whatever attributes they have: an
/// attribute whose every recorded value is a number is summarised (mean, SD, range); any other
/// is counted by value, a value listing several with `;` counting once for each.
pub fn characteristics(corpus: &Corpus, role: Role, id: &str, title: &str) -> Table {
    let people: Vec<&Participant> = corpus
        .participants
        .iter()
        .filter(|p| p.role == role)
        .collect();
    let n = people.len();
    let mut keys: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in &people {
        for (k, v) in &p.attributes {
            let v = v.trim();
            if !v.is_empty() {
                keys.entry(k.as_str()).or_default().push(v);
            }
        }
    }
    let columns = [
        "Characteristic",
        "Value",
        "n",
        "%",
        "Mean",
        "SD",
        "Min",
        "Max",
    ];
    let mut rows = vec![vec![
        Cell::text(format!("{}s", humanise(role.as_str()))),
        Cell::text("all"),
        Cell::Count(n),
        share(n, n),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
    ]];
    for (key, values) in &keys {
        let name = humanise(key);
        let numbers: Option<Vec<f64>> = values.iter().map(|v| v.parse::<f64>().ok()).collect();
        match numbers {
            Some(xs) => {
                let count = xs.len();
                let mean = xs.iter().sum::<f64>() / count as f64;
                let sd = if count > 1 {
                    let ss: f64 = xs.iter().map(|x| (x - mean).powi(2)).sum();
                    Cell::number((ss / (count - 1) as f64).sqrt(), 1)
                } else {
                    Cell::Empty
                };
                let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
                let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                rows.push(vec![
                    Cell::text(name.clone()),
                    Cell::text("(numeric)"),
                    Cell::Count(count),
                    share(count, n),
                    Cell::number(mean, 1),
                    sd,
                    Cell::number(min, 0),
                    Cell::number(max, 0),
                ]);
            }
            None => {
                let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                for v in values {
                    let mut mine: Vec<&str> = v
                        .split(';')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .collect();
                    mine.sort_unstable();
                    mine.dedup();
                    for value in mine {
                        *counts.entry(value).or_default() += 1;
                    }
                }
                let mut counted: Vec<(&str, usize)> = counts.into_iter().collect();
                counted.sort_by(|a, b| {
                    b.1.cmp(&a.1)
                        .then_with(|| a.0.to_lowercase().cmp(&b.0.to_lowercase()))
                        .then(a.0.cmp(b.0))
                });
                for (value, count) in counted {
                    rows.push(vec![
                        Cell::text(name.clone()),
                        Cell::text(value),
                        Cell::Count(count),
                        share(count, n),
                        Cell::Empty,
                        Cell::Empty,
                        Cell::Empty,
                        Cell::Empty,
                    ]);
                }
            }
        }
        let missing = n - values.len();
        if missing > 0 {
            rows.push(vec![
                Cell::text(name),
                Cell::text("not recorded"),
                Cell::Count(missing),
                share(missing, n),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
            ]);
        }
    }
    Table {
        id: id.into(),
        title: title.into(),
        note: format!(
            "n = {n} {}s. % of all {}s. A numeric attribute: mean, sample SD (n − 1), range. \
             A value listing several with ';' counts once for each, so shares can add up to \
             more than 100%.",
            role.as_str(),
            role.as_str()
        ),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

/// The exemplar quotes of each component, in the team's order, as `“text” (source, label)`:
/// those chosen for the component itself, then for codes that stand for it.
fn exemplar_quotes(corpus: &Corpus) -> BTreeMap<&str, Vec<String>> {
    let codings: BTreeMap<CodingId, &Coding> = corpus.codings.iter().map(|c| (c.id, c)).collect();
    let mut out: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut code_exemplars: Vec<(&str, String)> = Vec::new();
    for e in &corpus.exemplars {
        let Some(coding) = codings.get(&e.coding) else {
            continue;
        };
        let Some(source) = corpus.source(coding.source) else {
            continue;
        };
        let who = corpus
            .account_of(source)
            .map_or_else(String::new, |p| format!(", {}", p.label));
        let quote = format!(
            "“{}” ({}{who})",
            corpus.text_of(source, coding.span).trim(),
            source.name
        );
        match &e.target {
            ExemplarFor::Component(c) => {
                if let Some(c) = corpus
                    .theory
                    .as_ref()
                    .and_then(|t| t.component(c))
                    .map(|c| c.id.as_str())
                {
                    out.entry(c).or_default().push(quote);
                }
            }
            ExemplarFor::Code(code) => {
                if let Some(c) = corpus.code_component(*code) {
                    code_exemplars.push((c, quote));
                }
            }
        }
    }
    for (c, quote) in code_exemplars {
        if let Some(id) = corpus
            .theory
            .as_ref()
            .and_then(|t| t.component(c))
            .map(|c| c.id.as_str())
        {
            out.entry(id).or_default().push(quote);
        }
    }
    out
}

/// The model's components with their definitions and the team's exemplar quotes (Table 3).
pub fn components(corpus: &Corpus) -> Table {
    let quotes = exemplar_quotes(corpus);
    let mut rows = Vec::new();
    if let Some(theory) = &corpus.theory {
        let mut parents: Vec<&str> = Vec::new();
        for (depth, c) in theory.components() {
            parents.truncate(depth);
            rows.push(vec![
                Cell::text(&c.name),
                Cell::text(parents.last().copied().unwrap_or("")),
                Cell::text(c.kind.as_str()),
                Cell::text(&c.definition),
                Cell::text(
                    quotes
                        .get(c.id.as_str())
                        .map(|q| q.join("\n"))
                        .unwrap_or_default(),
                ),
            ]);
            parents.push(&c.name);
        }
    }
    Table {
        id: "components".into(),
        title: "Model components, definitions and exemplar quotes".into(),
        note: match &corpus.theory {
            Some(t) => format!(
                "{} (version {}). Exemplar quotes are those the team chose, in its order.",
                t.name, t.version
            ),
            None => "The study has no theory.".into(),
        },
        columns: [
            "Component",
            "Part of",
            "Kind",
            "Definition",
            "Exemplar quotes",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect(),
        rows,
    }
}

/// The two coders with the most codings (ties by name), the report's default comparison.
pub fn agreement_coders(corpus: &Corpus) -> Option<[String; 2]> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &corpus.codings {
        *counts.entry(c.coder.as_str()).or_default() += 1;
    }
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    match ranked.as_slice() {
        [a, b, ..] => Some([a.0.to_string(), b.0.to_string()]),
        _ => None,
    }
}

fn measure_cell(m: &Measure) -> Cell {
    match m.value {
        Some(v) => Cell::number(v, 3),
        None => Cell::text("undefined"),
    }
}

/// The agreement summary: overall coefficients, then per code.
pub fn agreement(report: &AgreementReport) -> Vec<Table> {
    let unit = match report.unit {
        between_study::AgreementUnit::Characters => "characters".to_string(),
        between_study::AgreementUnit::Turns => "speaker turns".to_string(),
        between_study::AgreementUnit::Segments { min_overlap } => {
            format!("segments overlapping at least {min_overlap}")
        }
    };
    let note = format!(
        "Coders {}, over {} sources; unit: {unit} ({} units). {}",
        report.coders.join(" and "),
        report.sources.len(),
        report.units,
        report.contrast_rule
    );
    let overall = Table {
        id: "agreement".into(),
        title: "Inter-coder agreement".into(),
        note: note.clone(),
        columns: vec!["Coefficient".into(), "Value".into(), "Note".into()],
        rows: report
            .overall
            .iter()
            .map(|m| {
                vec![
                    Cell::text(m.name),
                    measure_cell(m),
                    Cell::text(m.undefined_reason.clone().unwrap_or_default()),
                ]
            })
            .collect(),
    };
    let names: Vec<&str> = report
        .codes
        .first()
        .map(|c| c.measures.iter().map(|m| m.name).collect())
        .unwrap_or_default();
    let mut columns = vec!["Code".to_string()];
    columns.extend(report.coders.iter().map(|c| format!("Codings by {c}")));
    columns.extend(names.iter().map(|n| n.to_string()));
    let per_code = Table {
        id: "agreement-by-code".into(),
        title: "Inter-coder agreement by code".into(),
        note,
        columns,
        rows: report
            .codes
            .iter()
            .map(|c| {
                let mut row = vec![Cell::text(&c.code)];
                row.extend(
                    report
                        .coders
                        .iter()
                        .map(|k| Cell::Count(c.codings.get(k).copied().unwrap_or(0))),
                );
                row.extend(names.iter().map(|n| {
                    c.measures
                        .iter()
                        .find(|m| m.name == *n)
                        .map_or(Cell::Empty, measure_cell)
                }));
                row
            })
            .collect(),
    };
    vec![overall, per_code]
}

#[cfg(test)]
mod tests {
    use super::*;
    use between_study::StudyBundle;

    fn person(label: &str, role: Role, attributes: &[(&str, &str)]) -> Participant {
        Participant {
            id: ParticipantId::new(),
            label: label.into(),
            role,
            name: None,
            attributes: attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            version: 1,
        }
    }

    fn row<'a>(t: &'a Table, characteristic: &str, value: &str) -> &'a [Cell] {
        t.rows
            .iter()
            .find(|r| r[0].display() == characteristic && r[1].display() == value)
            .unwrap_or_else(|| panic!("no row {characteristic} / {value}"))
    }

    #[test]
    fn characteristics_come_from_the_attributes_present() {
        let bundle = StudyBundle {
            participants: vec![
                person(
                    "P1",
                    Role::Patient,
                    &[
                        ("age", "60"),
                        ("sex", "female"),
                        ("conditions", "COPD; asthma"),
                    ],
                ),
                person(
                    "P2",
                    Role::Patient,
                    &[("age", "70"), ("sex", "male"), ("conditions", "COPD")],
                ),
                person("P3", Role::Patient, &[("sex", "female")]),
                person("C1", Role::Clinician, &[("discipline", "family medicine")]),
            ],
            ..Default::default()
        };
        let corpus = Corpus::new(bundle, None);
        let t = characteristics(&corpus, Role::Patient, "participants", "Patients");
        assert_eq!(row(&t, "Patients", "all")[2], Cell::Count(3));
        let age = row(&t, "Age", "(numeric)");
        assert_eq!(age[2], Cell::Count(2));
        assert_eq!(age[4].display(), "65.0");
        // Sample SD of 60 and 70: sqrt(((-5)² + 5²) / 1).
        assert_eq!(age[5].display(), format!("{:.1}", 50f64.sqrt()));
        assert_eq!(
            (age[6].display(), age[7].display()),
            ("60".into(), "70".into())
        );
        assert_eq!(row(&t, "Age", "not recorded")[2], Cell::Count(1));
        let female = row(&t, "Sex", "female");
        assert_eq!(
            (female[2].clone(), female[3].display()),
            (Cell::Count(2), "66.7".into())
        );
        assert_eq!(row(&t, "Conditions", "COPD")[2], Cell::Count(2));
        assert_eq!(row(&t, "Conditions", "asthma")[2], Cell::Count(1));
        assert!(
            t.rows.iter().all(|r| r[0].display() != "Discipline"),
            "clinicians' attributes are in their own table"
        );
    }

    #[test]
    fn the_two_busiest_coders_are_compared() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wb = between_sample::materialise(&dir.path().join("s.between"), &Default::default())
            .expect("sample");
        let corpus = Corpus::of(&wb).expect("corpus");
        let [a, b] = agreement_coders(&corpus).expect("two coders");
        let count = |who: &str| corpus.codings.iter().filter(|c| c.coder == who).count();
        assert!(count(&a) >= count(&b));
        assert!(
            corpus
                .codings
                .iter()
                .all(|c| c.coder == a || c.coder == b || count(&c.coder) <= count(&b))
        );
        let table = components(&corpus);
        let theory = corpus.theory.as_ref().expect("theory");
        assert_eq!(table.rows.len(), theory.components().len());
    }
}
