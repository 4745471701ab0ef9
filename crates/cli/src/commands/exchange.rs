//! `between export STUDY --format qdpx|qde|qdc`, `between import-project`, and `.qdc` codebooks:
//! REFI-QDA files in and out, each with its data-loss report.

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result};
use between_refi::{PositionUnit, Report};
use between_study::{NewStudy, Workbench};

use super::Ctx;
use crate::args::{ExchangeFormat, ExportArgs, ImportProjectArgs, UnitOfPositions};

pub(super) fn export(ctx: &Ctx, a: ExportArgs) -> Result<()> {
    let (Some(study), Some(out), Some(format)) = (a.study, a.out, a.format) else {
        anyhow::bail!("give the study, --format and where the file goes");
    };
    let bench = ctx.open(&study)?;
    if let ExchangeFormat::Qdpx = format {
        // Streamed into the file, a source at a time; a failed export leaves no file behind.
        let file = create_new(&out)?;
        let written = between_exchange::export_qdpx_to(&bench, io::BufWriter::new(file))
            .map_err(anyhow::Error::from)
            .and_then(|(w, report)| {
                let file = w.into_inner().map_err(|e| e.into_error())?;
                file.sync_all()?;
                Ok((file.metadata()?.len(), report))
            });
        let (len, report) = match written {
            Ok(x) => x,
            Err(e) => {
                let _ = std::fs::remove_file(&out);
                return Err(e.context(format!("{}: not exported", out.display())));
            }
        };
        outln!("wrote {} ({len} bytes)", out.display());
        return print_report(&report);
    }
    let (bytes, report) = match format {
        ExchangeFormat::Qdpx => between_exchange::export_qdpx(&bench)?,
        ExchangeFormat::Qde => {
            let (xml, report) = between_exchange::export_qde(&bench)?;
            (xml.into_bytes(), report)
        }
        ExchangeFormat::Qdc => (
            between_exchange::export_qdc(&bench)?.into_bytes(),
            Report::default(),
        ),
    };
    write_new(&out, &bytes)?;
    outln!("wrote {} ({} bytes)", out.display(), bytes.len());
    print_report(&report)
}

pub(super) fn import_project(ctx: &Ctx, a: ImportProjectArgs) -> Result<()> {
    let name = a.file.display().to_string();
    if let Err(e) = std::fs::metadata(&a.file) {
        anyhow::bail!("{name}: cannot read: {e}");
    }
    let unit = match a.unit {
        UnitOfPositions::Auto => PositionUnit::Auto,
        UnitOfPositions::CodePoints => PositionUnit::CodePoints,
        UnitOfPositions::Utf16 => PositionUnit::Utf16,
    };
    let (mut bench, path, made) = match (&a.into, &a.new) {
        (Some(into), _) => (ctx.open(into)?, into.clone(), false),
        (None, Some(new)) => {
            // Named after the project once it has been read.
            let bench = Workbench::create(new, NewStudy::default(), &ctx.options, &ctx.actor)?;
            (bench, new.clone(), true)
        }
        (None, None) => anyhow::bail!("say --into STUDY or --new STUDY"),
    };
    // Read as a stream into one change: all of it lands, or nothing.
    let input = between_refi::ProjectInput::File(&a.file);
    let (merged, report) =
        match between_exchange::import_project(&mut bench, &name, input, unit, made) {
            Ok(m) => m,
            Err(e) => {
                drop(bench);
                if made {
                    // A new study that could not take the project is not left half made.
                    for suffix in ["", "-wal", "-shm"] {
                        let mut file = path.clone().into_os_string();
                        file.push(suffix);
                        let _ = std::fs::remove_file(file);
                    }
                }
                return Err(e).with_context(|| format!("{name}: nothing was imported"));
            }
        };
    outln!(
        "imported into {}: {} sources, {} codes ({} matched), {} codings, {} memos, {} participants, {} dyads",
        path.display(),
        merged.sources,
        merged.codes_added,
        merged.codes_matched,
        merged.codings,
        merged.memos,
        merged.participants,
        merged.dyads
    );
    if merged.already_there > 0 {
        outln!(
            "{} objects were already in the study and were left as they are",
            merged.already_there
        );
    }
    for c in &merged.conflicts {
        outln!("conflict: {c}");
    }
    print_report(&report)
}

pub(super) fn import_codebook(ctx: &Ctx, study: &Path, file: &Path) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("{}: cannot read", file.display()))?;
    let (bundle, report) =
        between_exchange::read_codebook_file(&file.display().to_string(), &bytes)?;
    let merged = ctx
        .open(study)?
        .merge_bundle(bundle)
        .with_context(|| format!("{}: nothing was merged", file.display()))?;
    outln!(
        "merged {}: {} codes added, {} matched (by GUID, then path)",
        file.display(),
        merged.codes_added,
        merged.codes_matched
    );
    for c in &merged.conflicts {
        outln!("conflict: {c}");
    }
    print_report(&report)
}

fn print_report(report: &Report) -> Result<()> {
    if report.dropped.is_empty() {
        outln!("data loss: nothing was left out");
    }
    for (what, n, why) in &report.dropped {
        outln!("not carried over: {n} × {what} ({why})");
    }
    for w in &report.warnings {
        outln!("note: {w}");
    }
    Ok(())
}

/// Writes a file that must not exist yet (an export never overwrites).
fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = create_new(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// A file that must not exist yet, made empty.
fn create_new(path: &Path) -> Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("{}: cannot create (it may exist already)", path.display()))
}
