//! `between instrument list|show|export|validate|import-items`: reading files and printing;
//! the format, its rules and the scoring are `between_instruments`'.

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use between_instruments::{Format, Instrument, InstrumentError};

use crate::args::{InstrumentCmd, TheoryFormat};

pub(super) fn run(c: InstrumentCmd) -> Result<()> {
    match c {
        InstrumentCmd::List => {
            outln!(
                "{:<32} {:<8} {:<10} {:>5}  name — status",
                "id",
                "version",
                "responds",
                "items"
            );
            for i in between_instruments::builtin() {
                outln!(
                    "{:<32} {:<8} {:<10} {:>5}  {} — {}",
                    i.id,
                    i.version,
                    i.respondent.as_str(),
                    i.items.len(),
                    i.name,
                    i.status
                );
            }
        }
        InstrumentCmd::Show { instrument } => show(&resolve(&instrument)?)?,
        InstrumentCmd::Export { instrument, format } => {
            let i = resolve(&instrument)?;
            match format {
                TheoryFormat::Toml => out!("{}", i.to_toml()),
                TheoryFormat::Json => outln!("{}", i.to_json()),
            }
        }
        InstrumentCmd::Validate { file } => {
            let i = read(&file)?;
            outln!(
                "{}: ok ({} items in {} subscales)",
                file.display(),
                i.items.len(),
                i.subscales.len()
            );
        }
        InstrumentCmd::ImportItems {
            instrument,
            items,
            out,
        } => {
            let origin = items.display().to_string();
            let worded = resolve(&instrument)?.with_item_texts(&rows(&items)?, &origin)?;
            let format = Format::of_file_name(&out.to_string_lossy());
            std::fs::write(&out, worded.serialise(format))
                .with_context(|| format!("cannot write {}", out.display()))?;
            outln!(
                "wrote {} ({}, {} items worded)",
                out.display(),
                worded.id,
                worded.items.len()
            );
        }
    }
    Ok(())
}

/// A built-in instrument by id, else an instrument file.
fn resolve(name: &str) -> Result<Instrument> {
    if let Ok(i) = between_instruments::find(name) {
        return Ok(i);
    }
    let path = Path::new(name);
    if path.is_file() {
        return read(path);
    }
    Err(InstrumentError::Unknown(name.to_string()).into())
}

fn read(path: &Path) -> Result<Instrument> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("{origin}: cannot read"))?;
    Ok(Instrument::parse(
        &text,
        Format::of_file_name(&origin),
        &origin,
    )?)
}

/// The (line, item, text) rows of a CSV table with the columns item and text.
fn rows(path: &Path) -> Result<Vec<(u64, String, String)>> {
    let origin = path.display();
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("{origin}: cannot read"))?;
    let headers = reader
        .headers()
        .with_context(|| format!("{origin}: line 1"))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (Some(item), Some(text)) = (column("item"), column("text")) else {
        bail!(
            "{origin}: line 1: the table needs the columns item and text (found: {})",
            headers.iter().collect::<Vec<_>>().join(", ")
        );
    };
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("{origin}: not a CSV table"))?;
        let line = record.position().map_or(0, |p| p.line());
        let cell = |i: usize| record.get(i).unwrap_or("").to_string();
        out.push((line, cell(item), cell(text)));
    }
    Ok(out)
}

fn show(i: &Instrument) -> Result<()> {
    outln!("{} {} — {}", i.name, i.version, i.status);
    outln!("id: {}; answered by: {}", i.id, i.respondent.as_str());
    outln!("licence: {}", i.licence);
    for c in &i.citations {
        outln!("citation: {c}");
    }
    if !i.notes.trim().is_empty() {
        outln!("notes: {}", i.notes.trim());
    }
    let anchors: Vec<String> = i
        .scale
        .anchors
        .iter()
        .map(|a| format!("{} = {}", a.value, a.label))
        .collect();
    outln!(
        "\nscale: {} to {}{}",
        i.scale.min,
        i.scale.max,
        if anchors.is_empty() {
            String::new()
        } else {
            format!(" ({})", anchors.join(", "))
        }
    );
    outln!("scoring: {}", i.scoring_rule());
    outln!("\nsubscales:");
    for s in &i.subscales {
        let items: Vec<&str> = i.items_of(&s.id).map(|it| it.id.as_str()).collect();
        outln!(
            "  {} [{}]: items {}{}",
            s.name,
            s.id,
            items.join(", "),
            links(&s.links)
        );
    }
    outln!("\nitems:");
    for it in &i.items {
        outln!(
            "  {} [{}]{} {}{}",
            it.id,
            it.subscale,
            if it.reverse { " (reverse-keyed)" } else { "" },
            it.text,
            links(&it.links)
        );
    }
    Ok(())
}

fn links(links: &[between_instruments::Link]) -> String {
    if links.is_empty() {
        return String::new();
    }
    let names: Vec<String> = links
        .iter()
        .map(|l| format!("{}/{}", l.theory, l.component))
        .collect();
    format!(" → {}", names.join(", "))
}
