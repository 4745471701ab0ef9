//! The report's tables of the model's evidence: proposition support, the dyad matrix, and
//! saturation (computed by `between_findings`; figures by [`crate::svg`]).

use between_findings::propositions::Support;
use between_findings::saturation::Saturation;
use between_findings::triangulation::Triangulation;

use crate::tables::{Cell, Table};

fn columns(names: &[&str]) -> Vec<String> {
    names.iter().map(|c| c.to_string()).collect()
}

/// The support of each proposition: in how many dyads both sides, only one, or neither are
/// evidenced, with the dyads holding counter-evidence.
pub fn propositions(support: &Support) -> Table {
    Table {
        id: "propositions".into(),
        title: "Proposition support across dyads".into(),
        note: format!(
            "Counts are dyads (of {}). {} \"Both, not together\": both sides evidenced but not \
             together as the rule asks. \"Counter-evidence\": dyads with a contrast passage of \
             either side in their own accounts.",
            support.dyad_count, support.rule_text
        ),
        columns: columns(&[
            "Proposition",
            "From",
            "Relation",
            "To",
            "Basis",
            "Both",
            "Both, not together",
            "Source only",
            "Target only",
            "Neither",
            "Counter-evidence",
        ]),
        rows: support
            .propositions
            .iter()
            .map(|p| {
                vec![
                    Cell::text(format!("P{}", p.number)),
                    Cell::text(p.from_names.join(" + ")),
                    Cell::text(&p.relation),
                    Cell::text(p.to_names.join(" + ")),
                    Cell::text(&p.basis),
                    Cell::Count(p.both),
                    Cell::Count(p.apart),
                    Cell::Count(p.source_only),
                    Cell::Count(p.target_only),
                    Cell::Count(p.neither),
                    Cell::Count(p.contrast_dyads),
                ]
            })
            .collect(),
    }
}

/// Dyads × top-level components: where each is evidenced, with the passages in the clinician's
/// and the patient's account.
pub fn dyad_matrix(t: &Triangulation) -> Table {
    let tops: Vec<usize> = (0..t.components.len())
        .filter(|&c| t.components[c].depth == 0)
        .collect();
    let mut cols = vec!["Dyad".to_string(), "Clinician".into(), "Patient".into()];
    cols.extend(tops.iter().map(|&c| t.components[c].name.clone()));
    Table {
        id: "dyad-matrix".into(),
        title: "Dyads × components".into(),
        note: format!(
            "Each cell: where the component is evidenced (both accounts, clinician only, \
             patient only, or —), then passages in the clinician's / patient's account. {} \
             Sub-components count for their component.",
            t.rule_text
        ),
        columns: cols,
        rows: t
            .dyads
            .iter()
            .zip(&t.cells)
            .map(|(d, cells)| {
                let mut row = vec![
                    Cell::text(&d.label),
                    Cell::text(&d.clinician),
                    Cell::text(&d.patient),
                ];
                row.extend(tops.iter().map(|&c| {
                    let cell = &cells[c];
                    let presence = cell.presence();
                    if presence.any() {
                        Cell::text(format!(
                            "{} ({}/{})",
                            presence.as_str(),
                            cell.clinician.passages,
                            cell.patient.passages
                        ))
                    } else {
                        Cell::text("—")
                    }
                }));
                row
            })
            .collect(),
    }
}

/// Per participant and top-level component: the passages about no particular dyad, which no
/// dyad counts.
pub fn general(t: &Triangulation) -> Table {
    let tops: Vec<usize> = (0..t.components.len())
        .filter(|&c| t.components[c].depth == 0)
        .collect();
    let mut cols = vec!["Participant".to_string(), "Role".into()];
    cols.extend(tops.iter().map(|&c| t.components[c].name.clone()));
    Table {
        id: "general-evidence".into(),
        title: "About no particular patient".into(),
        note: "Passages per component that are attributed to no dyad (a clinician's passages \
               about their patients in general): never counted in the dyad matrix or in \
               proposition support. Contrast passages are not counted."
            .into(),
        columns: cols,
        rows: t
            .general
            .iter()
            .map(|g| {
                let mut row = vec![Cell::text(&g.participant), Cell::text(g.role.as_str())];
                row.extend(tops.iter().map(|&c| Cell::Count(g.cells[c].passages)));
                row
            })
            .collect(),
    }
}

/// The rule's verdict, in words (the findings' own statement, as every page shows it).
pub fn verdict(s: &Saturation) -> String {
    s.statement.clone()
}

/// New and cumulative codes per interview, in the order conducted.
pub fn saturation(s: &Saturation) -> Table {
    let mut cols = columns(&[
        "#",
        "Interview",
        "Date",
        "Participant",
        "Role",
        "Codings",
        "New codes",
        "Cumulative codes",
    ]);
    cols.extend(
        s.components
            .iter()
            .map(|c| format!("{} (cumulative)", c.name)),
    );
    cols.push("Codes introduced".into());
    Table {
        id: "saturation".into(),
        title: "Saturation: codes introduced per interview".into(),
        note: format!(
            "{} {} distinct codes used; {} interviews not yet coded (skipped by the rule).",
            verdict(s),
            s.codes_used,
            s.uncoded
        ),
        columns: cols,
        rows: s
            .interviews
            .iter()
            .map(|i| {
                let mut row = vec![
                    Cell::Count(i.position),
                    Cell::text(&i.name),
                    Cell::text(i.date.clone().unwrap_or_default()),
                    Cell::text(i.participant.clone().unwrap_or_default()),
                    Cell::text(i.role.map(|r| r.as_str()).unwrap_or_default()),
                    Cell::Count(i.codings),
                    Cell::Count(i.new_codes.len()),
                    Cell::Count(i.cumulative),
                ];
                row.extend(i.cumulative_by_component.iter().map(|&n| Cell::Count(n)));
                row.push(Cell::text(i.new_codes.join("\n")));
                row
            })
            .collect(),
    }
}
