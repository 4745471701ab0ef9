//! `between bench`: the foundation's speed targets, measured end to end through the same library
//! calls the commands make, on a corpus from `shared/bench/make_corpus.py`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
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
    /// Missing this target fails the bench (exit status 1), after every result is printed.
    #[serde(skip)]
    required: bool,
}

impl Measure {
    pub fn new(name: &str, value: f64, unit: &'static str, target: &str, met: bool) -> Self {
        Self {
            name: name.to_string(),
            value,
            unit,
            target: target.to_string(),
            met,
            required: false,
        }
    }

    /// A target that fails the bench when missed: one that does not depend on the machine's
    /// load (memory, not time).
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

pub fn run(actor: &str, args: BenchArgs) -> Result<()> {
    if let Some(file) = &args.import_qdpx {
        return import_in_this_process(actor, file);
    }
    if args.scale {
        let (m, summary) = crate::bench_scale::run()?;
        return print(&[m], args.format, Some(&summary));
    }
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

    let apply_target = (files.len() as f64 / 100.0).max(1.0);
    let mut measures = vec![
        Measure::new(
            "import (read, parse, store, commit)",
            mb_per_s,
            "MB/s",
            ">= 25 MB/s",
            mb_per_s >= 25.0,
        ),
        // The foundation's target is for the 100-transcript corpus: 1 s per 100 transcripts.
        Measure::new(
            "apply codings.csv (coder1)",
            apply.as_secs_f64(),
            "s",
            &format!("<= {apply_target} s (1 s per 100 transcripts)"),
            apply.as_secs_f64() <= apply_target,
        ),
        Measure::new(
            "list the codings of one document (median)",
            median.as_secs_f64() * 1000.0,
            "ms",
            "<= 5 ms",
            median.as_secs_f64() <= 0.005,
        ),
    ];
    if args.server || args.agreement || args.refi || args.report || args.findings {
        let rows = between_exchange::read_codings_csv(
            std::fs::File::open(corpus.join("codings.csv"))?,
            "codings.csv",
            Some("coder2"),
        )?;
        bench.apply_codings(rows)?;
    }
    // First: memory is measured as growth, which memory freed by earlier steps would hide.
    if args.refi {
        measures.extend(refi(&bench, actor, report.bytes, args.repeat.clamp(1, 9))?);
    }
    if args.agreement {
        measures.extend(agreement(&bench, args.repeat.clamp(1, 5))?);
    }
    if args.report {
        measures.extend(crate::bench_report::run(&bench, args.repeat.clamp(1, 5))?);
    }
    if args.findings {
        measures.extend(crate::bench_findings::run(&bench, args.repeat.clamp(1, 5))?);
    }
    let mut findings_summary = None;
    if args.findings {
        let (found, summary) = crate::bench_queries::run(&bench, args.repeat.clamp(1, 10))?;
        measures.extend(found);
        findings_summary = Some(summary);
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
    let mut summary = format!(
        "corpus: {} transcripts, {:.1} MB; {applied} codings applied; {listed} codings in {first}",
        report.sources.len(),
        report.bytes as f64 / 1e6
    );
    if let Some(found) = findings_summary {
        summary = format!("{summary}\n{found}");
    }
    print(&measures, args.format, Some(&summary))?;
    let missed: Vec<String> = measures
        .iter()
        .filter(|m| m.required && !m.met)
        .map(|m| {
            format!(
                "{} was {:.1} {}, target {}",
                m.name.trim(),
                m.value,
                m.unit,
                m.target
            )
        })
        .collect();
    if !missed.is_empty() {
        bail!("required targets missed: {}", missed.join("; "));
    }
    Ok(())
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
fn primock(actor: &str, folder: &Path, runs: usize) -> Result<Measure> {
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

/// The median time of `runs` runs of `f`.
pub fn median(runs: usize, f: &mut dyn FnMut() -> Result<()>) -> Result<Duration> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

/// The process's resident memory now and at its peak since the last reset, in bytes (Linux).
fn memory() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// The CPU time (user and system) the process has used, in seconds (Linux; 0 elsewhere): on a
/// busy machine a phase's CPU time varies less than its wall time.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The fields after the command's name (which is in parentheses and may hold spaces):
    // utime and stime are the 12th and 13th, in clock ticks (100 a second on Linux).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// The import half of [`refi`], in a process of its own: prints the codings imported and the
/// process's peak resident memory (bytes).
fn import_in_this_process(actor: &str, file: &Path) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut copy = Workbench::create(
        &dir.path().join("copy.between"),
        NewStudy::default(),
        &OpenOptions::default(),
        actor,
    )?;
    let (merged, _) = between_exchange::import_project(
        &mut copy,
        &file.display().to_string(),
        between_refi::ProjectInput::File(file),
        between_refi::PositionUnit::Auto,
        true,
    )?;
    let peak = memory().map_or(0, |m| m.1);
    println!("{} {peak}", merged.codings);
    Ok(())
}

/// Starts a new peak: the kernel forgets the highest resident memory seen so far.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Exporting the study as a `.qdpx` and importing that into a new study, with the memory each
/// needs beyond what the process held before (target: at most twice the corpus): the median
/// time and the largest memory of `runs` runs each.
fn refi(bench: &Workbench, actor: &str, corpus_bytes: u64, runs: usize) -> Result<Vec<Measure>> {
    let verbose = std::env::var_os("BETWEEN_BENCH_PHASES").is_some();
    let cpu_at_start = std::cell::Cell::new(cpu_seconds());
    let phase = |what: &str, t: Instant| {
        if verbose {
            let (rss, peak) = memory().unwrap_or_default();
            let cpu = cpu_seconds();
            eprintln!(
                "  {what}: {:.3} s, {:.3} s of CPU (resident {:.0} MB, peak {:.0} MB)",
                t.elapsed().as_secs_f64(),
                cpu - cpu_at_start.replace(cpu),
                rss as f64 / 1e6,
                peak as f64 / 1e6
            );
        }
    };
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("bench.qdpx");
    let mut export_mb: f64 = 0.0;
    let export = median(runs, &mut || {
        let _ = std::fs::remove_file(&file);
        reset_peak();
        let before = memory().map_or(0, |m| m.0);
        let t = Instant::now();
        cpu_at_start.set(cpu_seconds());
        // As `between export` does: streamed into the file, a source at a time.
        let out = io::BufWriter::new(std::fs::File::create(&file)?);
        let (out, _) = between_exchange::export_qdpx_to(bench, out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        phase("export_qdpx_to (streamed into a file)", t);
        let peak = memory().map_or(0, |m| m.1);
        export_mb = export_mb.max(peak.saturating_sub(before) as f64 / 1e6);
        Ok(())
    })?
    .as_secs_f64();
    let qdpx_bytes = std::fs::metadata(&file)?.len();
    // To profile an import on its own (`between bench --import-qdpx FILE`).
    if let Some(keep) = std::env::var_os("BETWEEN_BENCH_KEEP_QDPX") {
        std::fs::copy(&file, keep)?;
    }
    // The import runs in a process of its own, whose peak resident memory is all it needed
    // (memory the export freed could hide growth here).
    let mut import_mb: f64 = 0.0;
    let mut imported = 0;
    let import = median(runs, &mut || {
        let start = Instant::now();
        let out = std::process::Command::new(std::env::current_exe()?)
            .arg("--as")
            .arg(actor)
            .arg("bench")
            .arg("--import-qdpx")
            .arg(&file)
            .stderr(std::process::Stdio::inherit())
            .output()?;
        anyhow::ensure!(out.status.success(), "the import failed: {}", out.status);
        let printed = String::from_utf8_lossy(&out.stdout);
        let mut numbers = printed.split_whitespace().map(str::parse::<u64>);
        let (Some(Ok(codings)), Some(Ok(peak))) = (numbers.next(), numbers.next()) else {
            bail!("the import printed {printed:?}, not its codings and peak memory");
        };
        imported = codings;
        import_mb = import_mb.max(peak as f64 / 1e6);
        phase(
            "import-project (its own process, streamed from the file)",
            start,
        );
        Ok(())
    })?
    .as_secs_f64();
    let limit = 2.0 * corpus_bytes as f64 / 1e6;
    let target = format!("<= {limit:.0} MB");
    Ok(vec![
        Measure::new(
            &format!("REFI-QDA export ({:.1} MB .qdpx)", qdpx_bytes as f64 / 1e6),
            export,
            "s",
            "<= 3 s",
            export <= 3.0,
        ),
        Measure::new(
            "  memory beyond the open study",
            export_mb,
            "MB",
            &target,
            export_mb <= limit,
        ),
        Measure::new(
            &format!("REFI-QDA import into a new study ({imported} codings)"),
            import,
            "s",
            "<= 5 s",
            import <= 5.0,
        ),
        Measure::new(
            "  peak memory of the importing process",
            import_mb,
            "MB",
            &target,
            import_mb <= limit,
        ),
    ])
}

/// The study's agreement report between the corpus's two coders over characters (every code,
/// every group, the global values; codings read from the study file each time), and the
/// disagreement viewer's passages.
fn agreement(bench: &Workbench, runs: usize) -> Result<Vec<Measure>> {
    let coders = ["coder1".to_string(), "coder2".to_string()];
    let report = median(runs, &mut || {
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
    let passages = median(runs, &mut || {
        bench.disagreements(&owner, &coders, &[], &[], None, 0..usize::MAX)?;
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
