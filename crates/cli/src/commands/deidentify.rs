//! `between deidentify`: suggest terms, preview and apply a mapping, export or destroy it.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use between_study::{MatchOptions, Pseudonym, StudyError};

use super::{Ctx, json};
use crate::args::{DeidentifyArgs, Format};

pub(super) fn run(ctx: &Ctx, a: DeidentifyArgs) -> Result<()> {
    let mut out = io::stdout().lock();
    let options = MatchOptions {
        case_insensitive: a.case_insensitive,
    };
    if a.suggest {
        let candidates = ctx.open(&a.study)?.deidentify_candidates()?;
        if a.format == Format::Json {
            return json(&candidates);
        }
        writeln!(out, "{:>6}  {:<32} {:<40} sources", "count", "term", "from")?;
        for c in &candidates {
            let kinds: Vec<String> = c
                .kinds
                .iter()
                .map(|k| serde_json::to_value(k).map(|v| v.as_str().unwrap_or("").to_string()))
                .collect::<Result<_, _>>()?;
            let sources: Vec<String> = c
                .sources
                .iter()
                .map(|(s, n)| format!("{s} ({n})"))
                .collect();
            writeln!(
                out,
                "{:>6}  {:<32} {:<40} {}",
                c.count,
                c.term,
                kinds.join(", "),
                sources.join(", ")
            )?;
        }
        writeln!(
            out,
            "{} candidates. Map the ones that identify someone: --map \"TERM=PSEUDONYM\" --preview",
            candidates.len()
        )?;
        return Ok(());
    }
    if let Some(file) = &a.export_mapping {
        let entries = ctx.open(&a.study)?.pseudonyms()?;
        let handle = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(file)
            .with_context(|| {
                format!(
                    "cannot create {} (it holds identifying terms, so an existing file is not overwritten)",
                    file.display()
                )
            })?;
        let mut w = csv::Writer::from_writer(handle);
        w.write_record(["term", "pseudonym", "replacements", "run", "actor", "at"])?;
        // Terms come from transcripts: one that reads as a formula is neutralised, as in every
        // CSV the workbench writes.
        for e in &entries {
            let row = [
                e.term.as_str(),
                &e.pseudonym,
                &e.replacements.to_string(),
                &e.run.to_string(),
                &e.actor,
                &e.at,
            ];
            w.write_record(row.map(|cell| {
                between_core::spreadsheet::neutralise_unless_number(cell).into_owned()
            }))?;
        }
        w.flush()?;
        writeln!(
            out,
            "wrote {} terms to {}; it identifies people: keep it apart from the study",
            entries.len(),
            file.display()
        )?;
        return Ok(());
    }
    if a.vacuum {
        ctx.open(&a.study)?.vacuum()?;
        writeln!(
            out,
            "vacuumed {}: no free page keeps deleted words",
            a.study.display()
        )?;
        return Ok(());
    }
    if a.destroy_mapping {
        if !a.yes {
            bail!(
                "destroying the mapping cannot be undone: the study will keep no original terms. Export it first if you need it (--export-mapping FILE), then add --yes"
            );
        }
        let destroyed = ctx.open(&a.study)?.destroy_pseudonyms()?;
        if let Some(failed) = destroyed.vacuum_failed {
            bail!(
                "destroyed the mapping ({} terms); {failed}",
                destroyed.terms
            );
        }
        writeln!(
            out,
            "destroyed the mapping ({} terms) and vacuumed the study file",
            destroyed.terms
        )?;
        return Ok(());
    }
    let mapping = match &a.mapping {
        Some(file) => read_mapping(file)?,
        None => a
            .map
            .iter()
            .map(|m| m.parse::<Pseudonym>())
            .collect::<Result<_, StudyError>>()?,
    };
    if a.preview {
        let preview = ctx.open(&a.study)?.deidentify_preview(&mapping, options)?;
        if a.format == Format::Json {
            return json(&preview);
        }
        for r in &preview.replacements {
            writeln!(
                out,
                "{} {}..{}  …{}[{} → {}]{}…",
                r.source_name,
                r.span.start,
                r.span.end,
                one_line(&r.before),
                r.old,
                r.new,
                one_line(&r.after)
            )?;
        }
        for l in &preview.labels {
            writeln!(
                out,
                "{} speaker label  {} → {}",
                l.source_name, l.old, l.new
            )?;
        }
        writeln!(out)?;
        for t in &preview.terms {
            let note = if t.count == 0 {
                "  (in no text, or only inside a longer term)"
            } else {
                ""
            };
            writeln!(out, "{:>6}  {} → {}{note}", t.count, t.term, t.pseudonym)?;
        }
        writeln!(
            out,
            "{} replacements in {} sources, {} speaker labels, {} memos or narratives; nothing changed (--apply does it)",
            preview.replacements.len(),
            preview.sources.len(),
            preview.labels.len(),
            preview.notes
        )?;
        return Ok(());
    }
    let applied = ctx.open(&a.study)?.deidentify(&mapping, options, None)?;
    for s in &applied.sources {
        writeln!(
            out,
            "{}: {} replacements (version {})",
            s.name, s.replacements, s.version
        )?;
    }
    for t in applied.terms.iter().filter(|t| t.count == 0) {
        writeln!(
            out,
            "warning: '{}' was replaced in no text (absent, or only inside a longer term)",
            t.term
        )?;
    }
    writeln!(
        out,
        "{} replacements in {} sources; {} speaker labels; {} codings and {} memo passages moved with their words; {} memos or narratives rewritten",
        applied.replacements,
        applied.sources.len(),
        applied.labels,
        applied.codings,
        applied.passages,
        applied.notes
    )?;
    writeln!(
        out,
        "the mapping is stored in the study: export it (--export-mapping FILE) and destroy it (--destroy-mapping --yes) to keep no original terms"
    )?;
    if let Some(failed) = applied.vacuum_failed {
        bail!("{failed}");
    }
    Ok(())
}

/// Context shown on one line: line breaks as ⏎.
fn one_line(s: &str) -> String {
    s.replace("\r\n", "⏎").replace(['\n', '\r'], "⏎")
}

/// `term,pseudonym` rows, with or without a header; errors name the row.
fn read_mapping(file: &Path) -> Result<Vec<Pseudonym>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let mut mapping = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 1;
        let row = row.with_context(|| format!("{} line {line}", file.display()))?;
        let cells: Vec<&str> = row.iter().map(str::trim).collect();
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        if i == 0
            && cells
                .first()
                .is_some_and(|c| c.eq_ignore_ascii_case("term"))
        {
            continue;
        }
        if cells.len() != 2 {
            bail!(
                "{} line {line}: expected two columns, term,pseudonym; found {}",
                file.display(),
                cells.len()
            );
        }
        if let Some(first) = seen.insert(cells[0].to_string(), line) {
            bail!(
                "{} line {line}: the term '{}' is mapped twice (first on line {first})",
                file.display(),
                cells[0]
            );
        }
        mapping.push(Pseudonym {
            term: cells[0].to_string(),
            pseudonym: cells[1].to_string(),
        });
    }
    if mapping.is_empty() {
        bail!("{} has no term,pseudonym rows", file.display());
    }
    Ok(mapping)
}
