//! `between bench`: the foundation's speed targets, measured end to end through the same library
//! calls the commands make, on a corpus from `shared/bench/make_corpus.py`.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use between_store::OpenOptions;
use between_study::{NewStudy, Workbench};
use serde::Serialize;

use crate::args::{BenchArgs, Format};

macro_rules! outln {
    ($($t:tt)*) => { writeln!(io::stdout(), $($t)*)? };
}

#[derive(Serialize)]
pub struct Measure {
    name: String,
    value: f64,
    unit: &'static str,
    target: String,
    met: bool,
}

impl Measure {
    pub fn new(name: &str, value: f64, unit: &'static str, target: &str, met: bool) -> Self {
        Self {
            name: name.to_string(),
            value,
            unit,
            target: target.to_string(),
            met,
        }
    }
}

pub fn run(actor: &str, args: BenchArgs) -> Result<()> {
    if let Some(folder) = &args.primock {
        let m = primock(actor, folder, args.repeat.clamp(1, 9))?;
        return print(&[m], args.format, None);
    }
    let corpus = args.corpus.clone().unwrap_or_default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .with_context(|| format!("{}: cannot read the corpus folder", corpus.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!(
            "{}: no .txt transcripts; make a corpus with shared/bench/make_corpus.py",
            corpus.display()
        );
    }
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.between");
    let mut bench = Workbench::create(
        &path,
        NewStudy {
            name: "bench".into(),
            ..Default::default()
        },
        &OpenOptions::default(),
        actor,
    )?;
    let book = between_exchange::read_codebook_csv(
        std::fs::File::open(corpus.join("codebook.csv"))?,
        "codebook.csv",
    )?;
    bench.add_codes(&book)?;

    let start = Instant::now();
    let report = bench.import_paths(&files, &Default::default(), &mut |_, _| {})?;
    let import = start.elapsed();
    let mb_per_s = report.bytes as f64 / 1e6 / import.as_secs_f64();

    let start = Instant::now();
    let rows = between_exchange::read_codings_csv(
        std::fs::File::open(corpus.join("codings.csv"))?,
        "codings.csv",
        Some("coder1"),
    )?;
    let applied = bench.apply_codings(rows)?.len();
    let apply = start.elapsed();

    let first = report
        .sources
        .first()
        .map(|s| s.name.clone())
        .unwrap_or_default();
    let mut times: Vec<Duration> = (0..args.repeat.max(1))
        .map(|_| {
            let start = Instant::now();
            let n = bench.codings(Some(&first), None, None).map(|v| v.len());
            (start.elapsed(), n)
        })
        .map(|(t, n)| n.map(|_| t))
        .collect::<Result<_, _>>()?;
    times.sort();
    let median = times[times.len() / 2];
    let listed = bench.codings(Some(&first), None, None)?.len();

    let mut measures = vec![
        Measure::new(
            "import (read, parse, store, commit)",
            mb_per_s,
            "MB/s",
            ">= 25 MB/s",
            mb_per_s >= 25.0,
        ),
        Measure::new(
            "apply codings.csv (coder1)",
            apply.as_secs_f64(),
            "s",
            "<= 1 s",
            apply.as_secs_f64() <= 1.0,
        ),
        Measure::new(
            "list the codings of one document (median)",
            median.as_secs_f64() * 1000.0,
            "ms",
            "<= 5 ms",
            median.as_secs_f64() <= 0.005,
        ),
    ];
    if args.server || args.agreement {
        let rows = between_exchange::read_codings_csv(
            std::fs::File::open(corpus.join("codings.csv"))?,
            "codings.csv",
            Some("coder2"),
        )?;
        bench.apply_codings(rows)?;
    }
    if args.agreement {
        measures.extend(agreement(&bench, args.repeat.clamp(1, 5))?);
    }
    if args.server {
        for name in ["coder1", "coder2"] {
            bench.add_account(
                name,
                between_core::AccountRole::Coder,
                crate::bench_server::PASSWORD_FOR_BENCH,
            )?;
        }
        drop(bench);
        measures.extend(crate::bench_server::run(
            &path,
            args.load_codings,
            args.clients,
        )?);
    }
    let summary = format!(
        "corpus: {} transcripts, {:.1} MB; {applied} codings applied; {listed} codings in {first}",
        report.sources.len(),
        report.bytes as f64 / 1e6
    );
    print(&measures, args.format, Some(&summary))
}

fn print(measures: &[Measure], format: Format, summary: Option<&str>) -> Result<()> {
    match format {
        Format::Json => outln!("{}", serde_json::to_string_pretty(measures)?),
        Format::Text => {
            if let Some(s) = summary {
                outln!("{s}");
            }
            for m in measures {
                outln!(
                    "{:<44} {:>9.3} {:<4} target {:<10} {}",
                    m.name,
                    m.value,
                    m.unit,
                    m.target,
                    if m.met { "met" } else { "MISSED" }
                );
            }
        }
    }
    Ok(())
}

/// Importing every TextGrid of `folder` (parse, merge a consultation's channels, store, commit)
/// into a new study, the median of `runs`.
fn primock(actor: &str, folder: &std::path::Path, runs: usize) -> Result<Measure> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .with_context(|| format!("{}: cannot read the folder", folder.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("textgrid"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("{}: no .TextGrid files", folder.display());
    }
    let mut times = Vec::with_capacity(runs);
    let mut consultations = 0;
    for _ in 0..runs {
        let dir = tempfile::tempdir()?;
        let mut bench = Workbench::create(
            &dir.path().join("primock.between"),
            NewStudy {
                name: "PriMock57".into(),
                ..Default::default()
            },
            &OpenOptions::default(),
            actor,
        )?;
        let options = between_study::ImportOptions {
            format: between_ingest::Format::TextGrid,
            ..Default::default()
        };
        let start = Instant::now();
        consultations = bench
            .import_paths(&files, &options, &mut |_, _| {})?
            .sources
            .len();
        times.push(start.elapsed());
    }
    times.sort();
    let median = times[times.len() / 2].as_secs_f64();
    Ok(Measure::new(
        &format!(
            "import {} TextGrids as {consultations} consultations (median)",
            files.len()
        ),
        median,
        "s",
        "<= 1 s",
        median <= 1.0,
    ))
}

/// The study's agreement report between the corpus's two coders over characters (every code,
/// every group, the global values; codings read from the study file each time), and the
/// disagreement viewer's passages.
fn agreement(bench: &Workbench, runs: usize) -> Result<Vec<Measure>> {
    let coders = ["coder1".to_string(), "coder2".to_string()];
    let median = |f: &dyn Fn() -> Result<()>| -> Result<Duration> {
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let start = Instant::now();
            f()?;
            times.push(start.elapsed());
        }
        times.sort();
        Ok(times[times.len() / 2])
    };
    let report = median(&|| {
        bench.agreement(&coders, &[], &[], between_study::AgreementUnit::Characters)?;
        Ok(())
    })?;
    let owner = between_core::Account {
        id: between_core::AccountId::new(),
        name: "bench".into(),
        role: between_core::AccountRole::Owner,
        created_at: String::new(),
        version: 1,
    };
    let passages = median(&|| {
        bench.disagreements(&owner, &coders, &[], &[], None, usize::MAX)?;
        Ok(())
    })?;
    Ok(vec![
        Measure::new(
            "agreement report, two coders, characters (median)",
            report.as_secs_f64(),
            "s",
            "<= 2 s",
            report.as_secs_f64() <= 2.0,
        ),
        Measure::new(
            "disagreement passages, two coders (median)",
            passages.as_secs_f64(),
            "s",
            "none",
            true,
        ),
    ])
}
