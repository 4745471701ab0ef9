//! `between bench --findings`: dyad triangulation, proposition support, saturation and their
//! SVG figures over the benchmark corpus. The corpus has interviews, a codebook and two coders'
//! codings but no theory, participants or dyads; this adds them deterministically in memory
//! (the study file is not changed): the Healing Relationship Model, code *i* standing for
//! component *i* mod the number of components, every 20th interview a clinician's own, each
//! other interview a patient's, in a dyad with the clinician interviewed before, and interview
//! dates in file order.

use std::time::{Duration, Instant};

use anyhow::Result;
use between_core::*;
use between_findings::Corpus;
use between_findings::propositions::{SideRule, support};
use between_findings::saturation::{StoppingRule, saturation};
use between_findings::triangulation::{Coders, triangulate};
use between_study::Workbench;

use crate::bench::{Measure, median};

/// One clinician for every this many interviews.
const INTERVIEWS_PER_CLINICIAN: usize = 20;

fn person(label: String, role: Role) -> Participant {
    Participant {
        id: ParticipantId::new(),
        label,
        role,
        name: None,
        attributes: Default::default(),
        version: 1,
    }
}

/// The benchmark study as a corpus with a theory, participants, dyads and dates.
fn corpus(bench: &Workbench) -> Result<Corpus> {
    let mut bundle = bench.bundle()?;
    let theory = between_model::resolve("healing-relationship-model")?;
    let components: Vec<String> = theory
        .components()
        .into_iter()
        .map(|(_, c)| c.id.clone())
        .collect();
    for (i, code) in bundle.codes.iter_mut().enumerate() {
        code.component = Some(components[i % components.len()].clone());
    }
    bundle.sources.sort_by(|a, b| a.name.cmp(&b.name));
    let mut clinician: Option<ParticipantId> = None;
    for (i, source) in bundle.sources.iter_mut().enumerate() {
        source.kind = SourceKind::Interview;
        source.interview.date = Some(format!(
            "{:04}-{:02}-{:02}",
            2020 + i / 336,
            1 + (i / 28) % 12,
            1 + i % 28
        ));
        if i % INTERVIEWS_PER_CLINICIAN == 0 || clinician.is_none() {
            let c = person(
                format!("C{}", i / INTERVIEWS_PER_CLINICIAN + 1),
                Role::Clinician,
            );
            clinician = Some(c.id);
            source.participant = Some(c.id);
            bundle.participants.push(c);
            continue;
        }
        let p = person(format!("P{i:04}"), Role::Patient);
        let c = clinician.unwrap_or(p.id);
        let dyad = Dyad {
            id: DyadId::new(),
            label: format!("C{}-P{i:04}", i / INTERVIEWS_PER_CLINICIAN + 1),
            clinician: c,
            patient: p.id,
            relationship_start: None,
            notes: String::new(),
            version: 1,
        };
        source.participant = Some(p.id);
        source.dyad = Some(dyad.id);
        bundle.participants.push(p);
        bundle.dyads.push(dyad);
    }
    Ok(Corpus::new(bundle, Some(theory)))
}

pub fn run(bench: &Workbench, runs: usize) -> Result<Vec<Measure>> {
    let start = Instant::now();
    let corpus = corpus(bench)?;
    let build = start.elapsed();
    let coders = Coders::All;
    let t = triangulate(&corpus, &coders)?;
    let s = support(&corpus, &t, SideRule::Any);
    let sat = saturation(&corpus, &coders, StoppingRule::default())?;
    let triangulation = median(runs, &mut || {
        triangulate(&corpus, &coders)?;
        Ok(())
    })?;
    let propositions = median(runs, &mut || {
        support(&corpus, &t, SideRule::Any);
        Ok(())
    })?;
    let saturation_time = median(runs, &mut || {
        saturation(&corpus, &coders, StoppingRule::default())?;
        Ok(())
    })?;
    let figures = median(runs, &mut || {
        for view in between_report::svg::ModelView::ALL {
            view.draw(&corpus, &s);
        }
        between_report::svg::saturation_chart(&sat);
        Ok(())
    })?;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let under_a_second = |d: Duration| d.as_secs_f64() < 1.0;
    Ok(vec![
        Measure::new(
            &format!(
                "findings corpus from the study ({} codings, {} dyads)",
                corpus.codings.len(),
                corpus.dyads.len()
            ),
            ms(build),
            "ms",
            "none",
            true,
        ),
        Measure::new(
            &format!(
                "dyad triangulation, {} × {} (median)",
                t.dyads.len(),
                t.components.len()
            ),
            ms(triangulation),
            "ms",
            "< 1000 ms",
            under_a_second(triangulation),
        ),
        Measure::new(
            &format!("proposition support, {} (median)", s.propositions.len()),
            ms(propositions),
            "ms",
            "< 1000 ms",
            under_a_second(propositions),
        ),
        Measure::new(
            &format!("saturation, {} interviews (median)", sat.interviews.len()),
            ms(saturation_time),
            "ms",
            "< 1000 ms",
            under_a_second(saturation_time),
        ),
        Measure::new(
            "model figure + saturation chart SVG (median)",
            ms(figures),
            "ms",
            "< 1000 ms",
            under_a_second(figures),
        ),
    ])
}
