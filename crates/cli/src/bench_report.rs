//! `between bench --report`: the full study report on a benchmark corpus. The corpus has no
//! participants, dyads, dates or theory, so they are synthesised deterministically in the
//! study's snapshot (not written to the study): the first 40 interviews are clinicians' (one
//! each), every later one a patient's, in a dyad with clinician `n mod 40`; one interview a
//! day; top-level codes stand for the Healing Relationship Model's top-level components in
//! turn (their sub-codes inherit).

use std::time::{Duration, Instant};

use anyhow::Result;
use between_core::*;
use between_findings::Corpus;
use between_study::{StudyBundle, Workbench};

use crate::bench::Measure;

const CLINICIANS: usize = 40;

fn person(label: String, role: Role, attributes: &[(&str, String)]) -> Participant {
    Participant {
        id: ParticipantId::new(),
        label,
        role,
        name: None,
        attributes: attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        version: 1,
    }
}

/// The bundle with people, dyads, dates and components filled in.
fn synthesise(mut bundle: StudyBundle, theory: &between_model::Theory) -> StudyBundle {
    let tops: Vec<&str> = theory.components.iter().map(|c| c.id.as_str()).collect();
    let roots = bundle.codes.iter_mut().filter(|c| c.parent.is_none());
    for (i, code) in roots.enumerate() {
        code.component = Some(tops[i % tops.len()].to_string());
    }
    let settings = ["rural", "urban", "suburban", "academic"];
    let disciplines = ["family medicine", "internal medicine", "nurse practitioner"];
    let conditions = [
        "diabetes",
        "COPD",
        "depression",
        "heart failure",
        "cancer",
        "chronic pain",
    ];
    let mut clinicians = Vec::new();
    for (i, source) in bundle.sources.iter_mut().enumerate() {
        source.interview.date = Some(format!(
            "{:04}-{:02}-{:02}",
            2025 + i / 336,
            (i % 336) / 28 + 1,
            i % 28 + 1
        ));
        let participant = if i < CLINICIANS {
            let p = person(
                format!("C{:02}", i + 1),
                Role::Clinician,
                &[
                    ("discipline", disciplines[i % 3].into()),
                    ("years_in_practice", (5 + i * 7 % 30).to_string()),
                    ("practice_setting", settings[i % 4].into()),
                ],
            );
            clinicians.push(p.id);
            p
        } else {
            let p = person(
                format!("P{:04}", i + 1),
                Role::Patient,
                &[
                    ("age", (25 + i * 37 % 60).to_string()),
                    ("sex", ["female", "male"][i % 2].into()),
                    (
                        "conditions",
                        format!("{}; {}", conditions[i % 6], conditions[(i / 6) % 6]),
                    ),
                ],
            );
            let dyad = Dyad {
                id: DyadId::new(),
                label: format!("C{:02}-{}", i % CLINICIANS + 1, p.label),
                clinician: clinicians[i % CLINICIANS],
                patient: p.id,
                relationship_start: None,
                notes: String::new(),
                version: 1,
            };
            source.dyad = Some(dyad.id);
            bundle.dyads.push(dyad);
            p
        };
        source.participant = Some(participant.id);
        bundle.participants.push(participant);
    }
    bundle
}

/// Times the study's snapshot, the agreement summary, the report and writing its files.
pub fn run(bench: &Workbench, runs: usize) -> Result<Vec<Measure>> {
    let theory = between_model::resolve("healing-relationship-model")?;
    let mut totals = Vec::new();
    let mut last = (0, 0, Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for _ in 0..runs {
        let dir = tempfile::tempdir()?;
        let start = Instant::now();
        let bundle = bench.bundle()?;
        let snapshot = start.elapsed();
        // Synthesis stands in for data a real study has: not timed.
        let bundle = synthesise(bundle, &theory);
        let start = Instant::now();
        let corpus = Corpus::new(bundle, Some(theory.clone()));
        let report = between_report::of_study(bench, &corpus, &[])?;
        let built = start.elapsed();
        let written = between_report::write_report(&report, dir.path(), "bench")?;
        let total = snapshot + start.elapsed();
        let html = std::fs::metadata(dir.path().join("report.html"))?.len();
        last = (written.files.len(), html as usize, snapshot, built, total);
        totals.push(total);
    }
    totals.sort();
    let median = totals[totals.len() / 2];
    let (files, html, snapshot, built, _) = last;
    Ok(vec![
        Measure::new(
            "full report: snapshot, agreement, HTML + CSV + XLSX (median)",
            median.as_secs_f64(),
            "s",
            "<= 5 s",
            median.as_secs_f64() <= 5.0,
        ),
        Measure::new(
            "  of which reading the study's snapshot (last run)",
            snapshot.as_secs_f64(),
            "s",
            "none",
            true,
        ),
        Measure::new(
            "  of which indexes, agreement, findings and tables (last run)",
            built.as_secs_f64(),
            "s",
            "none",
            true,
        ),
        Measure::new(
            &format!("report files written ({files}; report.html {html} bytes)"),
            files as f64,
            "files",
            "none",
            true,
        ),
    ])
}
