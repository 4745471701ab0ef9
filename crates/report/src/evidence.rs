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
/// evidenced.
pub fn propositions(support: &Support) -> Table {
    Table {
        id: "propositions".into(),
        title: "Proposition support across dyads".into(),
        note: format!(
            "{} dyads. A side (a list of components) counts as evidenced in a dyad when {} of its \
             components is, in either account; contrast passages never count.",
            support.dyad_count,
            match support.rule {
                between_findings::propositions::SideRule::Any => "any",
                between_findings::propositions::SideRule::All => "every one",
            }
        ),
        columns: columns(&[
            "Proposition",
            "From",
            "Relation",
            "To",
            "Basis",
            "Both",
            "Source only",
            "Target only",
            "Neither",
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
                    Cell::Count(p.source_only),
                    Cell::Count(p.target_only),
                    Cell::Count(p.neither),
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
        note: "Each cell: where the component is evidenced (both accounts, clinician only, \
               patient only, or —), then passages in the clinician's / patient's account. \
               Sub-components count for their component; contrast passages are not counted."
            .into(),
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
