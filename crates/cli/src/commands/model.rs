//! `between triangulate | propositions | figure | saturation`: the dyad and the model.

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result};
use between_findings::propositions::{self as props, Reading, SideRule, Support};
use between_findings::saturation::{self as sat, Saturation, StoppingRule};
use between_findings::triangulation::{
    self as tri, AccountExcerpts, Coders, Excerpt, Triangulation,
};
use between_findings::{Corpus, Proximity};

use super::{Ctx, csv_stdout, json};
use between_report::svg::ModelView;

use crate::args::{
    FigureArgs, FigureView, FindingFormat, MatrixView, PropositionsArgs, ReadingArgs,
    SaturationArgs, SideRuleArg, TriangulateArgs,
};

fn reading(a: &ReadingArgs) -> Result<Reading> {
    Ok(Reading {
        rule: match a.rule {
            SideRuleArg::Any => SideRule::Any,
            SideRuleArg::All => SideRule::All,
        },
        together: a
            .together
            .as_deref()
            .map(str::parse::<Proximity>)
            .transpose()
            .map_err(anyhow::Error::msg)?,
        target_from_patient: a.target_from_patient,
    })
}

/// Quotes under a heading that counts them: one quote per coding, so the heading says codings.
fn print_excerpts(out: &mut impl Write, heading: &str, excerpts: &[Excerpt]) -> Result<()> {
    writeln!(out, "{heading} ({} codings):", excerpts.len())?;
    print_quotes(out, excerpts)
}

fn print_quotes(out: &mut impl Write, excerpts: &[Excerpt]) -> Result<()> {
    for e in excerpts {
        writeln!(
            out,
            "  [{}] {} {}-{} ({}): \u{201c}{}\u{201d}",
            e.code_path,
            e.source_name,
            e.span.start,
            e.span.end,
            e.coder,
            e.text.replace('\n', " ")
        )?;
    }
    Ok(())
}

/// One account's quotes, headed by the passages the cell counts and the codings quoted.
fn print_account(out: &mut impl Write, heading: &str, account: &AccountExcerpts) -> Result<()> {
    writeln!(
        out,
        "{heading}: {} passages ({} codings):",
        account.passages,
        account.evidence.len()
    )?;
    print_quotes(out, &account.evidence)?;
    writeln!(
        out,
        "{heading}, contrast (not evidence): {} passages ({} codings):",
        account.contrast_passages,
        account.contrast.len()
    )?;
    print_quotes(out, &account.contrast)
}

pub(super) fn triangulate(ctx: &Ctx, a: TriangulateArgs) -> Result<()> {
    let corpus = ctx.corpus(&a.study)?;
    let t = tri::triangulate(&corpus, &Coders::from_option(a.coder.as_deref()))?;
    if let (Some(who), Some(component)) = (&a.general, &a.component) {
        let g = tri::general_excerpts(&corpus, &t, who, component)?;
        if a.format == FindingFormat::Json {
            return json(&g);
        }
        let mut out = io::stdout().lock();
        writeln!(
            out,
            "{} × {}, about no particular patient (counted for no dyad)",
            g.participant, g.component.name
        )?;
        return print_account(&mut out, "Passages", &g.excerpts);
    }
    if let Some(component) = &a.component {
        let dyad = a
            .dyad
            .as_deref()
            .context("--component needs --dyad or --general")?;
        let cell = tri::cell_excerpts(&corpus, &t, dyad, component)?;
        if a.format == FindingFormat::Json {
            return json(&cell);
        }
        let mut out = io::stdout().lock();
        writeln!(
            out,
            "{} × {}: {}",
            cell.dyad.label,
            cell.component.name,
            cell.presence.as_str()
        )?;
        print_account(&mut out, "Clinician's account", &cell.clinician)?;
        print_account(&mut out, "Patient's account", &cell.patient)?;
        print_account(
            &mut out,
            "Other sources about the dyad (not counted)",
            &cell.others,
        )?;
        return Ok(());
    }
    match a.format {
        FindingFormat::Json => json(&t),
        FindingFormat::Csv => triangulation_csv(&t),
        FindingFormat::Table => triangulation_table(&t, a.view),
    }
}

fn triangulation_csv(t: &Triangulation) -> Result<()> {
    let mut w = csv_stdout();
    w.write_record([
        "dyad",
        "clinician",
        "patient",
        "component",
        "component_name",
        "depth",
        "clinician_passages",
        "patient_passages",
        "presence",
        "clinician_contrast_passages",
        "patient_contrast_passages",
        "other_sources_passages",
        "clinician_codings",
        "patient_codings",
    ])?;
    let ids = |v: &[between_core::CodingId]| {
        v.iter()
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    for (d, dyad) in t.dyads.iter().enumerate() {
        for (c, component) in t.components.iter().enumerate() {
            let cell = &t.cells[d][c];
            w.write_record([
                dyad.label.clone(),
                dyad.clinician.clone(),
                dyad.patient.clone(),
                component.id.clone(),
                component.name.clone(),
                component.depth.to_string(),
                cell.clinician.passages.to_string(),
                cell.patient.passages.to_string(),
                cell.presence.as_str().to_string(),
                cell.clinician.contrast_passages.to_string(),
                cell.patient.contrast_passages.to_string(),
                cell.others.passages.to_string(),
                ids(&cell.clinician.codings),
                ids(&cell.patient.codings),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}

fn triangulation_table(t: &Triangulation, view: MatrixView) -> Result<()> {
    let mut out = io::stdout().lock();
    if t.components.is_empty() {
        writeln!(out, "The study has no theory: nothing to triangulate.")?;
        return Ok(());
    }
    // Components down, dyads across: a study has few dyads and many components.
    let name_width = t
        .components
        .iter()
        .map(|c| c.name.chars().count() + 2 * c.depth)
        .max()
        .unwrap_or(9)
        .max(9);
    let width = t
        .dyads
        .iter()
        .map(|d| d.label.len())
        .max()
        .unwrap_or(5)
        .max(5);
    write!(out, "{:<name_width$}", "component")?;
    for d in &t.dyads {
        write!(out, "  {:>width$}", d.label)?;
    }
    writeln!(out)?;
    for (c, component) in t.components.iter().enumerate() {
        let name = format!("{}{}", "  ".repeat(component.depth), component.name);
        write!(out, "{name:<name_width$}")?;
        for row in &t.cells {
            let cell = &row[c];
            let shown = match view {
                MatrixView::Counts => {
                    format!("{}/{}", cell.clinician.passages, cell.patient.passages)
                }
                MatrixView::Presence => match cell.presence {
                    tri::Presence::Both => "both",
                    tri::Presence::ClinicianOnly => "C",
                    tri::Presence::PatientOnly => "P",
                    tri::Presence::None => "-",
                }
                .to_string(),
            };
            write!(out, "  {shown:>width$}")?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "{}",
        match view {
            MatrixView::Counts =>
                "Cells: distinct passages in the clinician's / the patient's account (sub-components included).",
            MatrixView::Presence =>
                "Cells: both accounts, C clinician only, P patient only, - none (sub-components included).",
        }
    )?;
    let mut contrast = Vec::new();
    for (d, dyad) in t.dyads.iter().enumerate() {
        for (c, component) in t.components.iter().enumerate() {
            let cell = &t.cells[d][c];
            if cell.clinician.contrast_passages + cell.patient.contrast_passages > 0 {
                contrast.push(format!(
                    "  {} × {}: clinician {}, patient {}",
                    dyad.label,
                    component.name,
                    cell.clinician.contrast_passages,
                    cell.patient.contrast_passages
                ));
            }
        }
    }
    if !contrast.is_empty() {
        writeln!(out, "Contrast passages (reported apart, not evidence):")?;
        for line in contrast {
            writeln!(out, "{line}")?;
        }
    }
    if !t.general.is_empty() {
        writeln!(
            out,
            "About no particular patient (unattributed passages; counted for no dyad):"
        )?;
        for g in &t.general {
            let counts: Vec<String> = t
                .components
                .iter()
                .zip(&g.cells)
                .filter(|(c, e)| c.depth == 0 && e.passages > 0)
                .map(|(c, e)| format!("{} {}", c.name, e.passages))
                .collect();
            if !counts.is_empty() {
                writeln!(
                    out,
                    "  {} ({}): {}",
                    g.participant,
                    g.role.as_str(),
                    counts.join(", ")
                )?;
            }
        }
    }
    writeln!(out, "{} See docs/findings.md.", t.rule_text)?;
    Ok(())
}

fn support(corpus: &Corpus, coder: Option<&str>, r: &ReadingArgs) -> Result<Support> {
    let reading = reading(r)?;
    let t = tri::triangulate(corpus, &Coders::from_option(coder))?;
    Ok(props::support(corpus, &t, reading))
}

pub(super) fn propositions(ctx: &Ctx, a: PropositionsArgs) -> Result<()> {
    let corpus = ctx.corpus(&a.study)?;
    let s = support(&corpus, a.coder.as_deref(), &a.reading)?;
    if let (Some(number), Some(dyad)) = (a.number, &a.dyad) {
        let ex = props::proposition_excerpts(&corpus, &s, number, dyad)?;
        if a.format == FindingFormat::Json {
            return json(&ex);
        }
        let mut out = io::stdout().lock();
        writeln!(
            out,
            "P{} in {}: {}",
            ex.number,
            ex.dyad,
            ex.standing.as_str()
        )?;
        print_excerpts(&mut out, "Source side", &ex.source)?;
        print_excerpts(&mut out, "Target side", &ex.target)?;
        print_excerpts(
            &mut out,
            "Counter-evidence, source side (contrast)",
            &ex.source_contrast,
        )?;
        print_excerpts(
            &mut out,
            "Counter-evidence, target side (contrast)",
            &ex.target_contrast,
        )?;
        writeln!(out, "Rule: {}", ex.rule_text)?;
        return Ok(());
    }
    match a.format {
        FindingFormat::Json => json(&s),
        FindingFormat::Csv => {
            let mut w = csv_stdout();
            w.write_record([
                "number",
                "from",
                "to",
                "relation",
                "basis",
                "both",
                "both_not_together",
                "source_only",
                "target_only",
                "neither",
                "dyads_with_contrast",
                "dyads",
                "dyads_both",
                "rule",
            ])?;
            for p in &s.propositions {
                let both: Vec<&str> = p
                    .dyads
                    .iter()
                    .filter(|d| d.standing == props::Standing::Both)
                    .map(|d| d.dyad.as_str())
                    .collect();
                w.write_record([
                    p.number.to_string(),
                    p.from.join(" + "),
                    p.to.join(" + "),
                    p.relation.clone(),
                    p.basis.clone(),
                    p.both.to_string(),
                    p.apart.to_string(),
                    p.source_only.to_string(),
                    p.target_only.to_string(),
                    p.neither.to_string(),
                    p.contrast_dyads.to_string(),
                    s.dyad_count.to_string(),
                    both.join(" "),
                    s.rule_text.clone(),
                ])?;
            }
            w.flush()?;
            Ok(())
        }
        FindingFormat::Table => {
            let mut out = io::stdout().lock();
            if s.propositions.is_empty() {
                writeln!(out, "The study's theory states no propositions.")?;
                return Ok(());
            }
            writeln!(
                out,
                "{:<4} {:>5} {:>5} {:>7} {:>7} {:>7} {:>8}  proposition",
                "", "both", "apart", "source", "target", "neither", "contrast"
            )?;
            for p in &s.propositions {
                let edge = format!(
                    "{} {} {}",
                    p.from_names.join(" + "),
                    p.relation,
                    p.to_names.join(" + ")
                );
                writeln!(
                    out,
                    "{:<4} {:>5} {:>5} {:>7} {:>7} {:>7} {:>8}  {edge}",
                    format!("P{}", p.number),
                    p.both,
                    p.apart,
                    p.source_only,
                    p.target_only,
                    p.neither,
                    p.contrast_dyads
                )?;
            }
            writeln!(
                out,
                "Dyads (of {}) by where each proposition's sides are evidenced: both; both but not together (apart); source side only; target side only; neither. Contrast: dyads with counter-evidence (a contrast passage of either side).",
                s.dyad_count
            )?;
            writeln!(out, "Rule: {}", s.rule_text)?;
            Ok(())
        }
    }
}

fn write_svg(out: &Path, svg: &str) -> Result<()> {
    if out.as_os_str() == "-" {
        io::stdout().lock().write_all(svg.as_bytes())?;
        return Ok(());
    }
    std::fs::write(out, svg).with_context(|| format!("cannot write {}", out.display()))
}

pub(super) fn figure(ctx: &Ctx, a: FigureArgs) -> Result<()> {
    let corpus = ctx.corpus(&a.study)?;
    anyhow::ensure!(
        corpus.theory.is_some(),
        "the study has no theory: there is no model to draw"
    );
    let s = support(&corpus, a.coder.as_deref(), &a.reading)?;
    let to_stdout = a.out.as_os_str() == "-";
    let figures = match a.view {
        FigureView::Structure => vec![(ModelView::Structure, a.out.clone())],
        FigureView::Evidence => vec![(ModelView::Evidence, a.out.clone())],
        FigureView::Both => {
            anyhow::ensure!(
                !to_stdout,
                "two figures cannot both go to standard output: choose one with --view structure or --view evidence"
            );
            let stem = a.out.file_stem().unwrap_or_default().to_string_lossy();
            let evidence = a.out.with_file_name(format!("{stem}-evidence.svg"));
            vec![
                (ModelView::Structure, a.out.clone()),
                (ModelView::Evidence, evidence),
            ]
        }
    };
    for (view, out) in figures {
        write_svg(&out, &view.draw(&corpus, &s))?;
        if !to_stdout {
            eprintln!("wrote {}", out.display());
        }
    }
    Ok(())
}

pub(super) fn saturation(ctx: &Ctx, a: SaturationArgs) -> Result<()> {
    let corpus = ctx.corpus(&a.study)?;
    let rule = StoppingRule::choose(
        a.method.as_deref(),
        (a.k, a.fewer_than),
        (a.base, a.run, a.threshold),
    )?;
    let s = sat::saturation(&corpus, &Coders::from_option(a.coder.as_deref()), rule)?;
    if let Some(out) = &a.out {
        write_svg(out, &between_report::svg::saturation_chart(&s))?;
    }
    match a.format {
        FindingFormat::Json => json(&s),
        FindingFormat::Csv => saturation_csv(&s),
        FindingFormat::Table => saturation_table(&s),
    }
}

fn saturation_csv(s: &Saturation) -> Result<()> {
    let mut w = csv_stdout();
    let mut header: Vec<String> = [
        "position",
        "date",
        "interview",
        "participant",
        "role",
        "codings",
        "new_codes",
        "cumulative_codes",
        "clinicians",
        "patients",
    ]
    .map(String::from)
    .to_vec();
    header.extend(s.components.iter().map(|c| format!("cumulative_{}", c.id)));
    header.push("introduced".into());
    w.write_record(&header)?;
    for i in &s.interviews {
        let mut row = vec![
            i.position.to_string(),
            i.date.clone().unwrap_or_default(),
            i.name.clone(),
            i.participant.clone().unwrap_or_default(),
            i.role.map(|r| r.as_str().to_string()).unwrap_or_default(),
            i.codings.to_string(),
            i.new_codes.len().to_string(),
            i.cumulative.to_string(),
            i.clinicians.to_string(),
            i.patients.to_string(),
        ];
        row.extend(i.cumulative_by_component.iter().map(|n| n.to_string()));
        row.push(i.new_codes.join("; "));
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

fn saturation_table(s: &Saturation) -> Result<()> {
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{:>3}  {:<10}  {:<28} {:<8} {:>7} {:>4} {:>6}  {:>4} {:>4}",
        "#", "date", "interview", "who", "codings", "new", "total", "clin", "pat"
    )?;
    for i in &s.interviews {
        writeln!(
            out,
            "{:>3}  {:<10}  {:<28} {:<8} {:>7} {:>4} {:>6}  {:>4} {:>4}{}",
            i.position,
            i.date.as_deref().unwrap_or("-"),
            i.name,
            i.participant.as_deref().unwrap_or("-"),
            i.codings,
            i.new_codes.len(),
            i.cumulative,
            i.clinicians,
            i.patients,
            if i.coded { "" } else { "  (not coded yet)" }
        )?;
    }
    writeln!(out, "{}", s.statement)?;
    Ok(())
}
