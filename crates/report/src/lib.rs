//! Findings as documents: SVG figures (the model figure, the saturation chart), the study
//! report as one self-contained HTML file, its tables as CSV and XLSX, and a printable PDF.

pub mod evidence;
pub mod files;
pub mod html;
pub mod pdf;
pub mod svg;
pub mod tables;

use between_core::Role;
use between_findings::propositions::{SideRule, support};
use between_findings::saturation::{GUEST_DEFAULT, StoppingRule, saturation};
use between_findings::triangulation::{Coders, triangulate};
use between_findings::{Corpus, CorpusError};
use between_study::{AgreementReport, AgreementUnit, Count, Workbench};

pub use files::{ReportError, Written, write_report};
pub use tables::{Cell, Table};

/// A figure: an SVG drawn by this crate, with its caption.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub id: String,
    pub title: String,
    pub svg: String,
}

/// One section of the report: text, figures, tables.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub text: String,
    pub figures: Vec<Figure>,
    pub tables: Vec<Table>,
}

/// The study report, ready to be written as HTML, CSV, XLSX or PDF.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub title: String,
    pub subtitle: String,
    pub sections: Vec<Section>,
}

impl Report {
    /// Every table, in report order.
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.sections.iter().flat_map(|s| &s.tables)
    }

    pub fn html(&self, generated_at: &str) -> String {
        html::render(self, generated_at)
    }
}

fn section(id: &str, title: &str, text: &str, tables: Vec<Table>) -> Section {
    Section {
        id: id.into(),
        title: title.into(),
        text: text.into(),
        figures: Vec::new(),
        tables,
    }
}

/// The report of an open study from its `corpus`, with the agreement summary between `coders`
/// (two names), or by default between the two coders with most codings, over characters.
pub fn of_study(
    bench: &Workbench,
    corpus: &Corpus,
    coders: &[String],
) -> Result<Report, ReportError> {
    let pair = match coders {
        [] => tables::agreement_coders(corpus),
        [a, b] => Some([a.clone(), b.clone()]),
        _ => {
            return Err(ReportError::Study(between_study::StudyError::Invalid(
                "name two coders to compare, or none for the two with most codings".into(),
            )));
        }
    };
    let agreement = match pair {
        Some(pair) => Some(bench.agreement(&pair, &[], &[], AgreementUnit::Characters)?),
        None => None,
    };
    Ok(build(corpus, agreement.as_ref())?)
}

/// The report of a study: its corpus and, when there are two coders, their agreement (see
/// [`tables::agreement_coders`] for the default pair). The model's evidence counts every
/// coder's codings; propositions use the "any component of a side" rule; saturation the
/// default stopping rule (chart and table), with Guest, Namey & Chen's verdict beside it.
pub fn build(corpus: &Corpus, agreement: Option<&AgreementReport>) -> Result<Report, CorpusError> {
    let matrix = triangulate(corpus, &Coders::All)?;
    let supported = support(corpus, &matrix, SideRule::default());
    let saturated = saturation(corpus, &Coders::All, StoppingRule::default())?;
    let by_guest = saturation(corpus, &Coders::All, GUEST_DEFAULT)?;
    let count = |role: Role| {
        corpus
            .participants
            .iter()
            .filter(|p| p.role == role)
            .count()
    };
    let mut sections = vec![
        section(
            "participants",
            "Participant characteristics",
            "Patients, from the attributes recorded for them.",
            vec![tables::characteristics(
                corpus,
                Role::Patient,
                "participants",
                "Participant characteristics",
            )],
        ),
        section(
            "practices",
            "Practice and clinician characteristics",
            "Clinicians and their practices, from the attributes recorded for them.",
            vec![tables::characteristics(
                corpus,
                Role::Clinician,
                "practices",
                "Practice and clinician characteristics",
            )],
        ),
        section(
            "components",
            "Model components and exemplar quotes",
            "",
            vec![tables::components(corpus)],
        ),
        Section {
            figures: vec![
                Figure {
                    id: "model".into(),
                    title: "The model as its theory states it: components in columns by kind, each proposition numbered as in the table below.".into(),
                    svg: svg::ModelView::Structure.draw(corpus, &supported),
                },
                Figure {
                    id: "model-evidence".into(),
                    title: "The model weighted by the study's evidence: node area by the dyads that evidence a component, edge width by the dyads that support a proposition (the rule is stated on the figure).".into(),
                    svg: svg::ModelView::Evidence.draw(corpus, &supported),
                },
            ],
            ..section(
                "model",
                "The model figures and their propositions",
                "",
                vec![evidence::propositions(&supported)],
            )
        },
        section(
            "dyads",
            "The dyad matrix",
            "For each dyad and component, the evidence in the clinician's account, the patient's, or both; then the evidence about no particular patient, counted for no dyad.",
            vec![evidence::dyad_matrix(&matrix), evidence::general(&matrix)],
        ),
        Section {
            figures: vec![Figure {
                id: "saturation".into(),
                title: "New codes per interview and cumulative codes, in the order the interviews were conducted."
                    .into(),
                svg: svg::saturation_chart(&saturated),
            }],
            ..section(
                "saturation",
                "Saturation",
                &format!(
                    "{} {}",
                    evidence::verdict(&saturated),
                    evidence::verdict(&by_guest)
                ),
                vec![evidence::saturation(&saturated)],
            )
        },
    ];
    sections.push(match agreement {
        Some(a) => section(
            "agreement",
            "Inter-coder agreement",
            "Each coefficient under its published name; “undefined” where it cannot be computed (the reason is given).",
            tables::agreement(a),
        ),
        None => section(
            "agreement",
            "Inter-coder agreement",
            "Not computed: the study has fewer than two coders.",
            Vec::new(),
        ),
    });
    // Contrast codings apart, as every count of codings (docs/findings.md).
    let mut coded = Count::default();
    for c in &corpus.codings {
        coded.add(c.contrast, 1);
    }
    Ok(Report {
        title: format!("Report: {}", corpus.name),
        subtitle: format!(
            "{} clinicians, {} patients, {} dyads, {} sources, {}",
            count(Role::Clinician),
            count(Role::Patient),
            corpus.dyads.len(),
            corpus.sources.len(),
            coded.in_words()
        ),
        sections,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample_report() -> (tempfile::TempDir, Report) {
        let dir = tempfile::tempdir().expect("tempdir");
        let wb = between_sample::materialise(&dir.path().join("s.between"), &Default::default())
            .expect("sample");
        let corpus = Corpus::of(&wb).expect("corpus");
        let coders = tables::agreement_coders(&corpus).expect("two coders");
        let agreement = wb
            .agreement(&coders, &[], &[], AgreementUnit::Characters)
            .expect("agreement");
        let report = build(&corpus, Some(&agreement)).expect("report");
        (dir, report)
    }

    /// The saturation section says both methods' verdicts, each the findings' own statement,
    /// and the agreement tables state how contrast codings count.
    #[test]
    fn saturation_gives_both_verdicts_and_agreement_its_contrast_rule() {
        let (dir, report) = sample_report();
        let wb =
            between_sample::materialise(&dir.path().join("again.between"), &Default::default())
                .expect("sample");
        let corpus = Corpus::of(&wb).expect("corpus");
        let text = |id: &str| {
            report
                .sections
                .iter()
                .find(|s| s.id == id)
                .map(|s| s.text.clone())
                .expect(id)
        };
        let saturation_text = text("saturation");
        for rule in [StoppingRule::default(), GUEST_DEFAULT] {
            let s = saturation(&corpus, &Coders::All, rule).expect("saturation");
            assert!(
                saturation_text.contains(&s.statement),
                "{saturation_text} lacks {}",
                s.statement
            );
        }
        assert!(
            saturation_text.contains("contradicted"),
            "{saturation_text}"
        );
        let agreement: Vec<&Table> = report
            .tables()
            .filter(|t| t.id.starts_with("agreement"))
            .collect();
        assert!(!agreement.is_empty());
        assert!(
            agreement
                .iter()
                .any(|t| t.note.contains(between_study::CONTRAST_RULE)),
            "the contrast rule"
        );
    }

    #[test]
    fn the_subtitle_counts_codings_as_stats_does_with_contrast_apart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wb = between_sample::materialise(&dir.path().join("s.between"), &Default::default())
            .expect("sample");
        let report = build(&Corpus::of(&wb).expect("corpus"), None).expect("report");
        let stats = wb.stats().expect("stats");
        assert!(stats.contrast > 0, "the sample has contrast codings");
        assert!(
            report.subtitle.ends_with(&format!(
                ", {} codings (+{} contrast)",
                stats.codings, stats.contrast
            )),
            "{}",
            report.subtitle
        );
    }

    #[test]
    fn the_evidence_tables_state_their_rules_and_table_general_evidence_apart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wb = between_sample::materialise(&dir.path().join("s.between"), &Default::default())
            .expect("sample");
        let corpus = Corpus::of(&wb).expect("corpus");
        let report = build(&corpus, None).expect("report");
        let table = |id: &str| report.tables().find(|t| t.id == id).expect(id);
        let matrix = triangulate(&corpus, &Coders::All).expect("triangulation");
        let supported = support(&corpus, &matrix, SideRule::default());
        let propositions = table("propositions");
        assert!(propositions.note.contains(&supported.rule_text));
        let both = propositions
            .columns
            .iter()
            .position(|c| c == "Both")
            .unwrap();
        let counter = propositions
            .columns
            .iter()
            .position(|c| c == "Counter-evidence")
            .unwrap();
        for (row, p) in propositions.rows.iter().zip(&supported.propositions) {
            assert_eq!(row[both], Cell::Count(p.both));
            assert_eq!(row[counter], Cell::Count(p.contrast_dyads));
        }
        assert!(table("dyad-matrix").note.contains(matrix.rule_text));
        // The sample's clinicians speak of their patients in general too: tabled apart.
        let general = table("general-evidence");
        assert!(!matrix.general.is_empty());
        assert_eq!(general.rows.len(), matrix.general.len());
        let tops: Vec<usize> = (0..matrix.components.len())
            .filter(|&c| matrix.components[c].depth == 0)
            .collect();
        for (row, g) in general.rows.iter().zip(&matrix.general) {
            assert_eq!(row[0], Cell::text(&g.participant));
            for (k, &c) in tops.iter().enumerate() {
                assert_eq!(row[2 + k], Cell::Count(g.cells[c].passages));
            }
        }
    }

    #[test]
    fn the_report_is_one_self_contained_deterministic_file_with_every_table() {
        let (dir, report) = sample_report();
        let html = report.html("GENERATED");
        for section in [
            "Participant characteristics",
            "Practice and clinician characteristics",
            "Model components and exemplar quotes",
            "The model figures and their propositions",
            "The dyad matrix",
            "Saturation",
            "Inter-coder agreement",
        ] {
            assert!(html.contains(&format!("<h2>{section}</h2>")), "{section}");
        }
        assert_eq!(
            html.matches("<svg").count(),
            3,
            "the model's structure and evidence figures and the saturation chart"
        );
        for external in ["<script", "<link", " src=", "@import"] {
            assert!(!html.contains(external), "{external}");
        }
        assert_eq!(
            html.matches("url(").count(),
            html.matches("url(#").count(),
            "only references inside the file"
        );
        // The only addresses are SVG namespace names, which are never fetched.
        let mut rest = html.as_str();
        while let Some(at) = rest.find("http") {
            assert!(
                rest[at..].starts_with("http://www.w3.org/"),
                "{}",
                &rest[at..at + 40]
            );
            rest = &rest[at + 4..];
        }
        // Same study, same bytes, apart from the generated-at line.
        let (_dir2, again) = sample_report();
        assert_eq!(again.html("GENERATED"), html);
        assert_eq!(
            files::xlsx(&again).expect("xlsx"),
            files::xlsx(&report).expect("xlsx")
        );

        let out = dir.path().join("out");
        let written = write_report(&report, &out, "now").expect("written");
        let ids: Vec<&str> = report.tables().map(|t| t.id.as_str()).collect();
        for id in &ids {
            let csv = std::fs::read_to_string(out.join(format!("{id}.csv"))).expect("csv");
            let table = report.tables().find(|t| t.id == *id).expect("table");
            let mut reader = csv::Reader::from_reader(csv.as_bytes());
            assert_eq!(reader.records().count(), table.rows.len(), "{id}");
        }
        let figures: Vec<&str> = report
            .sections
            .iter()
            .flat_map(|s| &s.figures)
            .map(|f| f.id.as_str())
            .collect();
        assert_eq!(figures, ["model", "model-evidence", "saturation"]);
        for id in &figures {
            let svg = std::fs::read_to_string(out.join(format!("{id}.svg"))).expect("svg");
            assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{id}");
        }
        assert_eq!(written.files.len(), ids.len() + 2 + figures.len());
        let mut book =
            zip::ZipArchive::new(std::fs::File::open(out.join("report.xlsx")).expect("xlsx"))
                .expect("zip");
        let mut workbook = String::new();
        book.by_name("xl/workbook.xml")
            .expect("workbook.xml")
            .read_to_string(&mut workbook)
            .expect("read");
        for id in &ids {
            assert!(workbook.contains(&format!("name=\"{id}\"")), "sheet {id}");
        }
    }
}
