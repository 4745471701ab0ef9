//! `between report STUDY --out DIR [--pdf]` and `between exemplar STUDY add|remove|list`.

use std::io::{self, Write};

use anyhow::{Context, Result};
use between_core::{CodingId, ExemplarFor};
use between_findings::Corpus;
use between_study::Workbench;

use super::{Ctx, json};
use crate::args::{ExemplarArgs, ExemplarCmd, Format, ReportArgs};

pub(super) fn report(ctx: &Ctx, a: ReportArgs) -> Result<()> {
    let bench = ctx.open(&a.study)?;
    let report = between_report::of_study(&bench, &Corpus::of(&bench)?, &a.coders)?;
    let written = between_report::write_report(&report, &a.out, &between_study::now())?;
    for f in &written.files {
        outln!("wrote {}", f.display());
    }
    if a.pdf {
        let pdf = a.out.join("report.pdf");
        between_report::pdf::print(&a.out.join("report.html"), &pdf)?;
        outln!("wrote {}", pdf.display());
    }
    Ok(())
}

fn coding_id(s: &str) -> Result<CodingId> {
    s.trim()
        .parse()
        .ok()
        .with_context(|| format!("'{s}' is not a coding id (see `between codings list`)"))
}

pub(super) fn exemplar(ctx: &Ctx, a: ExemplarArgs) -> Result<()> {
    let mut bench = ctx.open(&a.study)?;
    match a.action {
        ExemplarCmd::Add {
            coding,
            target,
            position,
        } => {
            let target = bench.exemplar_target(&target)?;
            let e = bench.choose_exemplar(coding_id(&coding)?, target, position)?;
            outln!(
                "exemplar {} of {}",
                e.position,
                describe(&bench, &e.target)?
            );
        }
        ExemplarCmd::Remove { coding, target } => {
            let target = bench.exemplar_target(&target)?;
            bench.drop_exemplar(coding_id(&coding)?, &target)?;
            outln!("removed");
        }
        ExemplarCmd::List { format } => {
            let corpus = Corpus::of(&bench)?;
            if format == Format::Json {
                return json(&corpus.exemplars);
            }
            for e in &corpus.exemplars {
                let Some(coding) = corpus.codings.iter().find(|c| c.id == e.coding) else {
                    continue;
                };
                let source = corpus.source(coding.source);
                outln!(
                    "{} #{} · {} · {} · chosen by {}\n  “{}”",
                    describe(&bench, &e.target)?,
                    e.position,
                    e.coding,
                    source.map_or("?", |s| s.name.as_str()),
                    e.chosen_by,
                    source.map_or("", |s| corpus.text_of(s, coding.span))
                );
            }
        }
    }
    Ok(())
}

fn describe(bench: &Workbench, target: &ExemplarFor) -> Result<String> {
    Ok(match target {
        ExemplarFor::Component(c) => format!("component {c}"),
        ExemplarFor::Code(id) => format!("code {}", bench.code_paths()?.path(*id)),
    })
}
