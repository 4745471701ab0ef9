//! One function per command: library call, then output.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use between_core::{InterviewInfo, SourceId, text};
use between_ingest::{Column, Columns, Format as FileFormat, ParseOptions};
use between_store::OpenOptions;
use between_study::*;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::args::*;

/// `println!` that returns the write error (a closed pipe ends the command quietly in `main`);
/// defined before the submodules so that they use it too.
macro_rules! outln {
    ($($t:tt)*) => { writeln!(io::stdout(), $($t)*)? };
}
macro_rules! out {
    ($($t:tt)*) => { write!(io::stdout(), $($t)*)? };
}

mod attribute;
mod deidentify;
mod exchange;
mod instrument;
mod measure;
mod model;
mod query;
mod report;
mod scale;

struct Ctx {
    actor: String,
    options: OpenOptions,
}

impl Ctx {
    fn open(&self, study: &Path) -> Result<Workbench> {
        Ok(Workbench::open(study, &self.options, &self.actor)?)
    }

    /// The study's findings snapshot.
    fn corpus(&self, study: &Path) -> Result<between_findings::Corpus> {
        Ok(between_findings::Corpus::of(&self.open(study)?)?)
    }
}

/// A CSV writer on standard output.
fn csv_stdout() -> CsvOut {
    CsvOut(csv::Writer::from_writer(io::stdout().lock()))
}

/// A command's CSV table: every cell a text, of which those a spreadsheet would run as a
/// formula are neutralised (`between_core::spreadsheet`; numbers stay numbers).
struct CsvOut(csv::Writer<io::StdoutLock<'static>>);

impl CsvOut {
    fn write_record<T: AsRef<str>>(&mut self, record: impl IntoIterator<Item = T>) -> Result<()> {
        for cell in record {
            let cell = between_core::spreadsheet::neutralise_unless_number(cell.as_ref());
            self.0.write_field(cell.as_bytes())?;
        }
        self.0.write_record(None::<&[u8]>)?;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

fn default_actor() -> String {
    ["BETWEEN_USER", "USER", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
        .unwrap_or_else(|| "researcher".to_string())
}

fn json<T: Serialize>(value: &T) -> Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

pub fn run(cli: Cli) -> Result<()> {
    let ctx = Ctx {
        actor: cli.actor.unwrap_or_else(default_actor),
        options: OpenOptions {
            busy_timeout: Duration::from_millis(cli.busy_timeout_ms),
            ..Default::default()
        },
    };
    match cli.command {
        Command::Init(a) => init(&ctx, a),
        Command::Participant(c) => participant(&ctx, c),
        Command::Dyad(c) => dyad(&ctx, c),
        Command::Import(a) => import(&ctx, a),
        Command::Source(c) => source(&ctx, c),
        Command::Media(c) => media(&ctx, c),
        Command::Verify(a) => verify(&ctx, a),
        Command::Codebook(c) => codebook(&ctx, c),
        Command::Code(a) => code(&ctx, a),
        Command::Codings(c) => codings(&ctx, c),
        Command::Attribute(a) => attribute::attribute(&ctx, a),
        Command::Memo(c) => memo(&ctx, c),
        Command::Case(c) => case(&ctx, c),
        Command::User(c) => user(&ctx, c),
        Command::Blind(a) => {
            ctx.open(&a.study)?
                .set_blind(a.source.as_deref(), a.mode == OnOff::On)?;
            let what = a
                .source
                .map_or("the study".to_string(), |s| format!("source {s}"));
            outln!(
                "blind coding {} for {what}",
                if a.mode == OnOff::On { "on" } else { "off" }
            );
            Ok(())
        }
        Command::Export(ExportArgs {
            what:
                Some(ExportCmd::Codings {
                    study,
                    format: TableFormat::Csv,
                    out,
                }),
            ..
        }) => {
            let views = ctx.open(&study)?.codings(None, None, None)?;
            write_csv(&views, out.as_deref())
        }
        Command::Export(a) => exchange::export(&ctx, a),
        Command::ImportProject(a) => exchange::import_project(&ctx, a),
        Command::Stats(a) => {
            let stats = stats_of(&ctx.open(&a.study)?)?;
            match a.format {
                Format::Json => json(&stats),
                Format::Text => print_stats(&stats),
            }
        }
        Command::Audit(a) => {
            let log = ctx.open(&a.study)?.store().audit_log(a.limit)?;
            match a.format {
                Format::Json => json(&log),
                Format::Text => {
                    for e in log {
                        outln!(
                            "{:>6}  {}  {:<10} {:<8} {:<12} {}",
                            e.seq,
                            e.at,
                            e.actor,
                            e.action,
                            e.entity,
                            e.detail
                        );
                    }
                    Ok(())
                }
            }
        }
        Command::Deidentify(a) => deidentify::run(&ctx, a),
        Command::Model(c) => model(c),
        Command::Instrument(c) => instrument::run(c),
        Command::Measure(a) => measure::run(&ctx, a),
        Command::Agree(a) => agree(&ctx, a),
        Command::Serve(a) => {
            let app = between_server::App::open(&a.studies, &ctx.options, a.tls_proxy)?;
            serve(app, &a.bind, &[])
        }
        Command::Query(a) => query::query(&ctx, a),
        Command::Search(a) => query::search(&ctx, a),
        Command::Demo(a) => demo(&ctx, a),
        Command::Bench(a) => crate::bench::run(&ctx.actor, a),
        Command::Report(a) => report::report(&ctx, a),
        Command::Exemplar(a) => report::exemplar(&ctx, a),
        Command::Triangulate(a) => model::triangulate(&ctx, a),
        Command::Propositions(a) => model::propositions(&ctx, a),
        Command::Figure(a) => model::figure(&ctx, a),
        Command::Saturation(a) => model::saturation(&ctx, a),
        Command::Scale(a) => scale::run(&ctx, a),
    }
}

fn init(ctx: &Ctx, a: InitArgs) -> Result<()> {
    let theory = if a.no_theory {
        None
    } else {
        Some(between_model::resolve(&a.theory)?)
    };
    let bench = Workbench::create(
        &a.study,
        NewStudy {
            name: a.name.unwrap_or_default(),
            description: a.description,
            theory,
        },
        &ctx.options,
        &ctx.actor,
    )?;
    let study = bench.study()?;
    let codes = bench.codebook()?.len();
    match study.theory {
        Some(t) => outln!(
            "created {} with {codes} codes from {} {}",
            a.study.display(),
            t.name,
            t.version
        ),
        None => outln!("created {} with an empty codebook", a.study.display()),
    }
    Ok(())
}

fn participant(ctx: &Ctx, c: ParticipantCmd) -> Result<()> {
    match c {
        ParticipantCmd::Add {
            study,
            label,
            role,
            name,
            attributes,
        } => {
            let p = ctx.open(&study)?.add_participant(NewParticipant {
                label,
                role: Some(role),
                name,
                attributes: attributes.into_iter().collect(),
            })?;
            outln!("added {} {} ({})", p.role, p.label, p.id);
        }
        ParticipantCmd::List { study, format } => {
            let people = ctx.open(&study)?.participants()?;
            if format == Format::Json {
                return json(&people);
            }
            for p in people {
                let attrs: Vec<String> = p
                    .attributes
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                outln!(
                    "{:<8} {:<10} {:<28} {}",
                    p.label,
                    p.role,
                    p.name.unwrap_or_default(),
                    attrs.join("; ")
                );
            }
        }
    }
    Ok(())
}

fn dyad(ctx: &Ctx, c: DyadCmd) -> Result<()> {
    match c {
        DyadCmd::Add {
            study,
            clinician,
            patient,
            since,
            notes,
            label,
        } => {
            let d = ctx.open(&study)?.add_dyad(NewDyad {
                clinician,
                patient,
                label,
                relationship_start: since,
                notes,
            })?;
            outln!("added dyad {} ({})", d.label, d.id);
        }
        DyadCmd::List { study, format } => {
            let bench = ctx.open(&study)?;
            let dyads = bench.dyads()?;
            if format == Format::Json {
                return json(&dyads);
            }
            for d in dyads {
                outln!(
                    "{:<10} since {:<6} {}",
                    d.label,
                    d.relationship_start.unwrap_or_else(|| "?".into()),
                    d.notes
                );
            }
        }
    }
    Ok(())
}

fn import(ctx: &Ctx, a: ImportArgs) -> Result<()> {
    let mut bench = ctx.open(&a.study)?;
    let options = ImportOptions {
        kind: a.kind,
        participant: a.participant,
        dyad: a.dyad,
        interview: InterviewInfo {
            interviewer: a.interviewer,
            date: a.date,
            duration_minutes: a.duration,
            others_present: a.others_present,
            guide_version: a.guide_version,
            consent_recorded: a.consent.then_some(true),
        },
        speakers: a
            .speakers
            .iter()
            .map(|s| s.parse())
            .collect::<Result<_, String>>()
            .map_err(anyhow::Error::msg)?,
        name: a.name,
        max_bytes: a.max_bytes,
        format: match a.format {
            FormatArg::Auto => FileFormat::Auto,
            FormatArg::Txt => FileFormat::Txt,
            FormatArg::Docx => FileFormat::Docx,
            FormatArg::Vtt => FileFormat::Vtt,
            FormatArg::Srt => FileFormat::Srt,
            FormatArg::Textgrid => FileFormat::TextGrid,
            FormatArg::Csv => FileFormat::Csv,
            FormatArg::Tsv => FileFormat::Tsv,
        },
        parse: ParseOptions {
            speaker_pattern: a.speaker_pattern,
            encoding: a.encoding,
            columns: columns(&a.columns)?,
            ..Default::default()
        },
    };
    let files = expand_folders(&a.files, options.format)?;
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {msg}")
            .expect("a valid template"),
    );
    let report = bench.import_paths(&files, &options, &mut |name, bytes| {
        bar.set_message(name.to_string());
        bar.inc(bytes);
    });
    bar.finish_and_clear();
    let report = report?;
    for s in &report.sources {
        let speakers: Vec<String> = s
            .speakers
            .iter()
            .map(|sp| format!("{} ({})", sp.label, sp.role))
            .collect();
        outln!(
            "imported {}: {} turns, {} characters; speakers: {}",
            s.name,
            s.turns,
            s.characters,
            speakers.join(", ")
        );
        for w in &s.warnings {
            eprintln!("warning: {}: {w}", s.name);
        }
    }
    outln!("{} source(s), {} bytes", report.sources.len(), report.bytes);
    Ok(())
}

fn source(ctx: &Ctx, c: SourceCmd) -> Result<()> {
    match c {
        SourceCmd::List { study, format } => {
            let sources = ctx.open(&study)?.sources()?;
            if format == Format::Json {
                return json(&sources);
            }
            for s in sources {
                outln!(
                    "{:<28} {:<10} {:>7} chars {:>4} turns  {}",
                    s.name,
                    s.kind,
                    s.text_length,
                    s.turns,
                    s.interview.date.unwrap_or_default()
                );
            }
        }
        SourceCmd::Show { study, name } => {
            let source = ctx.open(&study)?.source(&name)?;
            let index = text::CharIndex::new(&source.text);
            for t in &source.turns {
                let said = index.slice(t.span).unwrap_or_default();
                let who = t.speaker.as_deref().unwrap_or("-");
                let at = t.start_ms.map(|ms| {
                    format!(
                        "{:02}:{:02}:{:02} ",
                        ms / 3_600_000,
                        ms / 60_000 % 60,
                        ms / 1000 % 60
                    )
                });
                outln!(
                    "[{}..{}] {}{who}: {said}",
                    t.span.start,
                    t.span.end,
                    at.unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

/// `speaker=Who,start=2` → which CSV/TSV column holds what (a number is 1-based).
fn columns(given: &[String]) -> Result<Columns> {
    let mut columns = Columns::default();
    for pair in given {
        let (field, column) = pair
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--columns: '{pair}' is not FIELD=COLUMN"))?;
        let column = match column.trim().parse::<usize>() {
            Ok(0) => anyhow::bail!("--columns: column numbers start at 1"),
            Ok(n) => Column::Index(n - 1),
            Err(_) => Column::Name(column.trim().to_string()),
        };
        let slot = match field.trim() {
            "speaker" => &mut columns.speaker,
            "start" => &mut columns.start,
            "end" => &mut columns.end,
            "text" => &mut columns.text,
            other => anyhow::bail!("--columns: '{other}' is not one of speaker, start, end, text"),
        };
        *slot = Some(column);
    }
    Ok(columns)
}

/// The files given, with each folder replaced by the transcripts in it (not its subfolders):
/// files of the format asked for, or of any format between reads.
fn expand_folders(
    paths: &[std::path::PathBuf],
    format: FileFormat,
) -> Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        let mut inside: Vec<std::path::PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("{}: cannot read the folder", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .filter(|p| {
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default();
                let ext = FileFormat::detect(&name, b"").extension();
                !name.starts_with('.')
                    && p.extension().is_some_and(|e| {
                        ext.is_some_and(|x| e.eq_ignore_ascii_case(x))
                            && (format == FileFormat::Auto
                                || FileFormat::detect(&name, b"") == format)
                    })
            })
            .collect();
        if inside.is_empty() {
            anyhow::bail!("{}: no transcripts in this folder", path.display());
        }
        inside.sort();
        out.extend(inside);
    }
    Ok(out)
}

fn media(ctx: &Ctx, c: MediaCmd) -> Result<()> {
    match c {
        MediaCmd::Attach {
            study,
            source,
            file,
        } => {
            let m = ctx.open(&study)?.attach_media(&source, &file)?;
            outln!(
                "linked {} ({}, {} bytes) to {source}",
                m.path,
                m.mime,
                m.bytes
            );
        }
        MediaCmd::Detach { study, source } => {
            ctx.open(&study)?.detach_media(&source)?;
            outln!("unlinked the recording of {source}");
        }
        MediaCmd::List { study, format } => {
            let bench = ctx.open(&study)?;
            let names: std::collections::HashMap<SourceId, String> = bench
                .sources()?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect();
            let media = bench.media()?;
            if format == Format::Json {
                return json(&media.values().collect::<Vec<_>>());
            }
            for m in media.values() {
                let state = match bench.recording_path(m) {
                    Ok(file) if file.is_file() => "",
                    Ok(_) | Err(StudyError::Unknown { .. }) => "  (file missing)",
                    Err(StudyError::Forbidden(_)) => "  (outside the study's folder: not served)",
                    Err(e) => return Err(e.into()),
                };
                outln!(
                    "{:<28} {:<12} {:>12} bytes  {}{state}",
                    names.get(&m.source).map_or("?", String::as_str),
                    m.mime,
                    m.bytes,
                    m.path
                );
            }
        }
    }
    Ok(())
}

fn verify(ctx: &Ctx, a: VerifyArgs) -> Result<()> {
    let mut bench = ctx.open(&a.study)?;
    match a.source {
        Some(source) => {
            let v = bench.verify_transcript(&ctx.actor, &source, &a.note)?;
            outln!(
                "{source}: checked by {} at {}",
                v.verified_by,
                v.verified_at
            );
        }
        None => {
            let unverified = bench.unverified()?;
            if unverified.is_empty() {
                outln!("every transcript has been checked against its recording");
            }
            for s in unverified {
                outln!("{}", s.name);
            }
        }
    }
    Ok(())
}

fn codebook(ctx: &Ctx, c: CodebookCmd) -> Result<()> {
    match c {
        CodebookCmd::List { study, format } => {
            let book = ctx.open(&study)?.codebook()?;
            if format == Format::Json {
                return json(&book);
            }
            for n in book {
                let link = n
                    .code
                    .component
                    .as_deref()
                    .map(|c| format!("  [{c}]"))
                    .unwrap_or_default();
                outln!(
                    "{}{} ({}) {}{link}",
                    "  ".repeat(n.depth),
                    n.code.name,
                    n.count,
                    n.code.colour
                );
            }
        }
        CodebookCmd::Add {
            study,
            name,
            parent,
            colour,
            definition,
        } => {
            let mut bench = ctx.open(&study)?;
            let code = bench.add_code(&name, parent.as_deref(), colour.as_deref(), &definition)?;
            outln!("added {}", bench.code_paths()?.path(code.id));
        }
        CodebookCmd::Rename {
            study,
            code,
            new_name,
        } => {
            let mut bench = ctx.open(&study)?;
            let renamed = bench.rename_code(&code, &new_name)?;
            outln!("renamed to {}", bench.code_paths()?.path(renamed.id));
        }
        CodebookCmd::Move {
            study,
            code,
            to,
            root,
        } => {
            let mut bench = ctx.open(&study)?;
            let moved = bench.move_code(&code, if root { None } else { to.as_deref() })?;
            outln!("moved to {}", bench.code_paths()?.path(moved.id));
        }
        CodebookCmd::Merge { study, from, into } => {
            let n = ctx.open(&study)?.merge_codes(&from, &into)?;
            outln!("merged '{from}' into '{into}': {n} coding(s) moved");
        }
        CodebookCmd::Import { study, file }
            if file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("qdc")) =>
        {
            exchange::import_codebook(ctx, &study, &file)?;
        }
        CodebookCmd::Import { study, file } => {
            let origin = file.display().to_string();
            let rows = between_exchange::read_codebook_csv(open(&file)?, &origin)?;
            let n = ctx
                .open(&study)?
                .add_codes(&rows)
                .with_context(|| origin.clone())?;
            outln!("added {n} code(s) from {origin}");
        }
    }
    Ok(())
}

fn open(path: &Path) -> Result<File> {
    File::open(path).with_context(|| format!("{}: cannot open", path.display()))
}

fn code(ctx: &Ctx, a: CodeArgs) -> Result<()> {
    let target = match (a.start, a.end, a.quote) {
        (Some(start), Some(end), _) => CodingTarget::Offsets { start, end },
        (_, _, Some(text)) => CodingTarget::Quote {
            text,
            occurrence: a.occurrence,
        },
        _ => anyhow::bail!("give --start and --end, or --quote"),
    };
    let mut bench = ctx.open(&a.study)?;
    let coding = bench.apply_code(NewCoding {
        source: a.source,
        code: a.code,
        target,
        coder: a.coder,
        memo: a.memo,
        contrast: a.contrast,
    })?;
    let path = bench.code_paths()?.path(coding.code).to_string();
    outln!(
        "coded {}..{} as {path} by {}{} ({})",
        coding.span.start,
        coding.span.end,
        coding.coder,
        if coding.contrast { " (contrast)" } else { "" },
        coding.id
    );
    Ok(())
}

fn codings(ctx: &Ctx, c: CodingsCmd) -> Result<()> {
    match c {
        CodingsCmd::List {
            study,
            source,
            code,
            coder,
            format,
        } => {
            let views =
                ctx.open(&study)?
                    .codings(source.as_deref(), code.as_deref(), coder.as_deref())?;
            match format {
                ListFormat::Json => json(&views),
                ListFormat::Csv => write_csv(&views, None),
                ListFormat::Text => {
                    let mut out = BufWriter::new(io::stdout().lock());
                    for v in views {
                        let c = &v.coding;
                        writeln!(
                            out,
                            "{} {}..{} {} [{}{}] {}: “{}”",
                            v.source,
                            c.span.start,
                            c.span.end,
                            v.code_path,
                            c.coder,
                            if c.contrast { ", contrast" } else { "" },
                            v.speaker.as_deref().unwrap_or("-"),
                            v.quote.replace('\n', " ")
                        )?;
                    }
                    Ok(())
                }
            }
        }
        CodingsCmd::Import {
            study,
            file,
            only_coder,
        } => {
            let origin = file.display().to_string();
            let rows =
                between_exchange::read_codings_csv(open(&file)?, &origin, only_coder.as_deref())?;
            let n = ctx
                .open(&study)?
                .apply_codings(rows)
                .with_context(|| origin.clone())?
                .len();
            outln!("applied {n} coding(s) from {origin}");
            Ok(())
        }
    }
}

fn write_csv(views: &[CodingView], out: Option<&Path>) -> Result<()> {
    match out {
        Some(path) => {
            let file =
                File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
            between_exchange::write_codings_csv(views, BufWriter::new(file))?;
            eprintln!("wrote {} coding(s) to {}", views.len(), path.display());
        }
        None => between_exchange::write_codings_csv(views, BufWriter::new(io::stdout().lock()))?,
    }
    Ok(())
}

fn memo(ctx: &Ctx, c: MemoCmd) -> Result<()> {
    match c {
        MemoCmd::Add {
            study,
            on,
            text,
            title,
            author,
        } => {
            let memo =
                ctx.open(&study)?
                    .add_memo(&TargetRef(on), &title, &text, author.as_deref())?;
            outln!("memo {} written", memo.id);
        }
        MemoCmd::List { study, on, format } => {
            let bench = ctx.open(&study)?;
            let target = on.map(|t| bench.memo_target(&TargetRef(t))).transpose()?;
            let memos = bench.memos(target)?;
            if format == Format::Json {
                return json(&memos);
            }
            for m in memos {
                outln!(
                    "— {} · {} · {} · {}\n{}\n",
                    m.memo.title,
                    m.about,
                    m.memo.author,
                    m.memo.created_at,
                    m.memo.text
                );
            }
        }
    }
    Ok(())
}

/// A password from the first line of standard input (prompting when it is a terminal), so it
/// never appears in the shell history or the process list.
fn read_password() -> Result<String> {
    use std::io::IsTerminal;
    if io::stdin().is_terminal() {
        eprint!(
            "password (input is shown; at least {} characters): ",
            MIN_PASSWORD_CHARS
        );
    }
    let mut line = String::new();
    io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn user(ctx: &Ctx, c: UserCmd) -> Result<()> {
    match c {
        UserCmd::Add { study, name, role } => {
            let mut bench = ctx.open(&study)?;
            let account = bench.add_account(&name, role, &read_password()?)?;
            outln!("added {} {}", account.role, account.name);
        }
        UserCmd::Password { study, name } => {
            ctx.open(&study)?.set_password(&name, &read_password()?)?;
            outln!("password of {name} changed");
        }
        UserCmd::Role { study, name, role } => {
            let account = ctx.open(&study)?.set_role(&name, role)?;
            outln!("the role of {} is now {}", account.name, account.role);
        }
        UserCmd::Remove { study, name } => {
            let account = ctx.open(&study)?.remove_account(&name)?;
            outln!("removed {} {}", account.role, account.name);
        }
        UserCmd::List { study } => {
            for a in ctx.open(&study)?.accounts()? {
                outln!("{:<20} {:<8} since {}", a.name, a.role, a.created_at);
            }
        }
    }
    Ok(())
}

fn case(ctx: &Ctx, c: CaseCmd) -> Result<()> {
    match c {
        CaseCmd::Write {
            study,
            subject,
            text,
            file,
            version,
        } => {
            let text = match (text, file) {
                (Some(t), _) => t,
                (None, Some(f)) => std::fs::read_to_string(&f)
                    .with_context(|| format!("{}: cannot read", f.display()))?,
                (None, None) => anyhow::bail!("give --text or --file"),
            };
            let mut bench = ctx.open(&study)?;
            let subject_id = bench.case_subject(&subject)?;
            let case = bench.write_case(subject_id, &text, version)?;
            outln!("case study of {subject} saved (version {})", case.version);
        }
        CaseCmd::Show { study, subject } => {
            let bench = ctx.open(&study)?;
            match bench.case(bench.case_subject(&subject)?)? {
                Some(c) => outln!(
                    "{subject} · version {} · {}\n\n{}",
                    c.version,
                    c.updated_at,
                    c.text
                ),
                None => outln!("no case study of {subject} yet"),
            }
        }
    }
    Ok(())
}

fn agree(ctx: &Ctx, a: AgreeArgs) -> Result<()> {
    use between_agreement::{Level, Statistic, Weights};
    if let Some(study) = &a.study {
        return agree_in_study(ctx, study, &a);
    }
    let Some(data) = &a.data else {
        anyhow::bail!("give a study or --data")
    };
    let origin = data.display().to_string();
    let header = if a.header {
        Some(true)
    } else if a.no_header {
        Some(false)
    } else {
        None
    };
    let ratings =
        between_exchange::read_ratings_csv(open(data)?, &origin, a.categories.as_deref(), header)?;
    let statistic = match a
        .statistic
        .ok_or_else(|| anyhow::anyhow!("give --statistic"))?
    {
        StatisticArg::Alpha => Statistic::Alpha,
        StatisticArg::Kappa => Statistic::Kappa,
        StatisticArg::Fleiss => Statistic::Fleiss,
        StatisticArg::Ac1 => Statistic::Ac1,
        StatisticArg::Bp => Statistic::BrennanPrediger,
        StatisticArg::Pi => Statistic::Pi,
        StatisticArg::Percent => Statistic::Percent,
    };
    let level = match a.level {
        LevelArg::Nominal => Level::Nominal,
        LevelArg::Ordinal => Level::Ordinal,
        LevelArg::Interval => Level::Interval,
        LevelArg::Ratio => Level::Ratio,
    };
    if ratings.labels.is_some()
        && matches!(level, Level::Interval | Level::Ratio)
        && statistic == Statistic::Alpha
    {
        anyhow::bail!(
            "{origin}: the cells are labels, not numbers, so interval or ratio alpha has no meaning"
        );
    }
    let weights = match a.weights {
        WeightsArg::None => Weights::Unweighted,
        WeightsArg::Linear => Weights::Linear,
        WeightsArg::Quadratic => Weights::Quadratic,
    };
    if weights != Weights::Unweighted && !matches!(statistic, Statistic::Kappa | Statistic::Ac1) {
        anyhow::bail!(
            "--weights applies to Cohen's kappa and Gwet's AC1 (giving AC2), not to {}",
            statistic.title(level, Weights::Unweighted)
        );
    }
    let value = statistic.compute(&ratings.table, &ratings.categories, level, weights);
    let title = statistic.title(level, weights);
    let interval = a.bootstrap.and_then(|replicates| {
        let compute = |t: &between_agreement::Table| {
            statistic.compute(t, &ratings.categories, level, weights)
        };
        between_agreement::bootstrap(&ratings.table, compute, replicates, a.confidence, a.seed)
    });
    match a.format {
        ReportFormat::Csv | ReportFormat::Html => anyhow::bail!("--data prints text or json"),
        ReportFormat::Json => json(&serde_json::json!({
            "statistic": title,
            "value": value.value(),
            "undefined_reason": value.undefined_reason(),
            "n_units": ratings.table.len(),
            "coders": ratings.coders,
            "interval": interval,
        })),
        ReportFormat::Text => {
            match value.value() {
                Some(v) => outln!(
                    "{title}: {v:.4} ({} units, {} coders)",
                    ratings.table.len(),
                    ratings.coders.len()
                ),
                None => outln!(
                    "{title}: undefined: {}",
                    value.undefined_reason().unwrap_or_default()
                ),
            }
            match (&interval, a.bootstrap) {
                (Some(i), _) => outln!(
                    "{:.0}% bootstrap interval: {:.4} to {:.4} ({} resamples, seed {}, {} undefined)",
                    i.confidence * 100.0,
                    i.low,
                    i.high,
                    i.replicates,
                    i.seed,
                    i.undefined_replicates
                ),
                (None, Some(_)) => outln!(
                    "bootstrap interval: undefined (the coefficient is undefined on most resamples)"
                ),
                (None, None) => {}
            }
            Ok(())
        }
    }
}

fn agree_in_study(ctx: &Ctx, study: &Path, a: &AgreeArgs) -> Result<()> {
    let bench = ctx.open(study)?;
    let codes: Vec<String> = match &a.group {
        Some(group) => bench
            .sub_codes(group)?
            .iter()
            .map(ToString::to_string)
            .collect(),
        None => a.codes.clone(),
    };
    let unit = match a.unit {
        UnitArg::Characters => AgreementUnit::Characters,
        UnitArg::Turns => AgreementUnit::Turns,
        UnitArg::Segments => AgreementUnit::Segments {
            min_overlap: a.min_overlap,
        },
    };
    let report = bench.agreement(&a.coders, &a.sources, &codes, unit)?;
    let names: Vec<&str> = report
        .codes
        .first()
        .map(|c| c.measures.iter().map(|m| m.name).collect())
        .unwrap_or_default();
    let cell = |m: &Measure| {
        m.value
            .map_or_else(|| "undefined".to_string(), |v| format!("{v:.4}"))
    };
    match a.format {
        ReportFormat::Json => json(&report),
        ReportFormat::Csv => {
            let mut w = csv_stdout();
            let mut header = vec!["code".to_string()];
            header.extend(report.coders.iter().map(|c| format!("codings by {c}")));
            header.extend(names.iter().map(|n| n.to_string()));
            w.write_record(&header)?;
            for row in &report.codes {
                let mut record = vec![row.code.clone()];
                record.extend(
                    report
                        .coders
                        .iter()
                        .map(|c| row.codings.get(c).copied().unwrap_or(0).to_string()),
                );
                record.extend(
                    row.measures
                        .iter()
                        .map(|m| m.value.map(|v| v.to_string()).unwrap_or_default()),
                );
                w.write_record(&record)?;
            }
            w.flush()?;
            Ok(())
        }
        ReportFormat::Html => {
            let esc = |s: &str| {
                s.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            };
            outln!(
                "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Agreement</title>"
            );
            outln!(
                "<h1>Agreement between {}</h1>",
                esc(&report.coders.join(", "))
            );
            outln!(
                "<p>{} sources, {} units ({:?})</p><table><thead><tr><th scope=\"col\">Code</th>",
                report.sources.len(),
                report.units,
                report.unit
            );
            for n in &names {
                outln!("<th scope=\"col\">{}</th>", esc(n));
            }
            outln!("</tr></thead><tbody>");
            for row in &report.codes {
                let cells: String = row
                    .measures
                    .iter()
                    .map(|m| format!("<td>{}</td>", cell(m)))
                    .collect();
                outln!("<tr><th scope=\"row\">{}</th>{cells}</tr>", esc(&row.code));
            }
            outln!("</tbody></table>");
            if !report.groups.is_empty() {
                outln!(
                    "<h2>Groups of sibling codes</h2><table><thead><tr><th scope=\"col\">Group</th>"
                );
                for m in &report.groups[0].measures {
                    outln!("<th scope=\"col\">{}</th>", esc(m.name));
                }
                outln!("</tr></thead><tbody>");
                for g in &report.groups {
                    let cells: String = g
                        .measures
                        .iter()
                        .map(|m| format!("<td>{}</td>", cell(m)))
                        .collect();
                    outln!("<tr><th scope=\"row\">{}</th>{cells}</tr>", esc(&g.group));
                }
                outln!("</tbody></table>");
            }
            for m in &report.overall {
                outln!("<p>{}: {}</p>", esc(m.name), cell(m));
            }
            outln!("<p>{}</p>", esc(report.contrast_rule));
            Ok(())
        }
        ReportFormat::Text => {
            outln!(
                "{} sources, {} units; coders {}",
                report.sources.len(),
                report.units,
                report.coders.join(", ")
            );
            outln!("{}", report.contrast_rule);
            outln!(
                "{:<48} {}",
                "code",
                names
                    .iter()
                    .map(|n| format!("{n:>12.12}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            for row in &report.codes {
                outln!(
                    "{:<48} {}",
                    row.code,
                    row.measures
                        .iter()
                        .map(|m| format!("{:>12}", cell(m)))
                        .collect::<Vec<_>>()
                        .join(" ")
                );
            }
            if let Some(first) = report.groups.first() {
                outln!(
                    "\n{:<48} {}",
                    "group of sibling codes",
                    first
                        .measures
                        .iter()
                        .map(|m| format!("{:>12.12}", m.name))
                        .collect::<Vec<_>>()
                        .join(" ")
                );
                for g in &report.groups {
                    outln!(
                        "{:<48} {}",
                        g.group,
                        g.measures
                            .iter()
                            .map(|m| format!("{:>12}", cell(m)))
                            .collect::<Vec<_>>()
                            .join(" ")
                    );
                }
            }
            for m in &report.overall {
                outln!("{}: {}", m.name, cell(m));
            }
            if !names.is_empty() {
                outln!("\ncolumns: {}", names.join("; "));
            }
            Ok(())
        }
    }
}

/// The study's counts, and per dyad the codings of `query freq --by dyad` (a passage counts
/// for the dyads it speaks for, which only the findings know).
#[derive(Serialize)]
struct StatsWithDyads {
    #[serde(flatten)]
    stats: Stats,
    by_dyad: std::collections::BTreeMap<String, Count>,
    by_dyad_rule: String,
}

fn stats_of(bench: &Workbench) -> Result<StatsWithDyads> {
    let by_dyad = between_findings::Corpus::of(bench)?.matrix(
        &between_findings::Grouping::Dyad,
        None,
        &Default::default(),
    )?;
    Ok(StatsWithDyads {
        stats: bench.stats()?,
        by_dyad: by_dyad.column_counts(),
        by_dyad_rule: by_dyad.rule,
    })
}

fn print_stats(all: &StatsWithDyads) -> Result<()> {
    let s = &all.stats;
    outln!("{}", s.study);
    if let Some(t) = &s.theory {
        outln!("theory: {t}");
    }
    outln!(
        "{} participants, {} dyads, {} sources, {} codes, {} memos",
        s.participants,
        s.dyads,
        s.sources,
        s.codes,
        s.memos
    );
    outln!(
        "codings: {} (contrast codings are counted apart, never added in)",
        s.count()
    );
    for (title, map, rule) in [
        ("by speaker role", &s.by_role, None),
        ("by coder", &s.by_coder, None),
        ("by dyad", &all.by_dyad, Some(&all.by_dyad_rule)),
        ("by code", &s.by_code, None),
    ] {
        outln!("\n{title}:");
        for (key, c) in map {
            outln!("  {key:<60} {c:>5}");
        }
        if let Some(rule) = rule {
            outln!("  {rule}");
        }
    }
    Ok(())
}

fn model(c: ModelCmd) -> Result<()> {
    match c {
        ModelCmd::List => {
            for t in between_model::builtin() {
                let status = if t.status.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", t.status)
                };
                outln!("{:<28} {} {}{status}", t.id, t.name, t.version);
            }
        }
        ModelCmd::Show { name } => {
            let t = between_model::resolve(&name)?;
            outln!(
                "{} {} — {}\n{}\n",
                t.name,
                t.version,
                t.status,
                t.description.trim()
            );
            for (depth, c) in t.components() {
                outln!(
                    "{}{} [{}] ({}): {}",
                    "  ".repeat(depth),
                    c.name,
                    c.id,
                    c.kind.as_str(),
                    c.definition
                );
            }
            outln!("\npropositions:");
            for p in &t.propositions {
                outln!(
                    "  {} —{}→ {}  ({}{})",
                    p.from.join(" + "),
                    p.relation,
                    p.to.join(" + "),
                    p.basis.as_str(),
                    if p.note.is_empty() {
                        String::new()
                    } else {
                        format!("; {}", p.note)
                    }
                );
            }
            for m in &t.markers {
                outln!("\nmarker {} [{}]: {}", m.name, m.id, m.definition);
            }
        }
        ModelCmd::Export { name, format } => {
            let t = between_model::resolve(&name)?;
            match format {
                TheoryFormat::Toml => out!("{}", t.to_toml()),
                TheoryFormat::Json => outln!("{}", t.to_json()),
            }
        }
    }
    Ok(())
}

/// Accounts of the demo: name and role. Their passwords are new at every start.
const DEMO_ACCOUNTS: &[(&str, between_core::AccountRole)] = &[
    ("paul", between_core::AccountRole::Owner),
    ("maria", between_core::AccountRole::Coder),
    ("sam", between_core::AccountRole::Coder),
    ("ada", between_core::AccountRole::Auditor),
];

fn demo(ctx: &Ctx, a: DemoArgs) -> Result<()> {
    let mut bench = if a.out.exists() {
        let bench = Workbench::open(&a.out, &ctx.options, &ctx.actor).with_context(|| {
            format!(
                "{} exists and is not a study this demo can reuse; give another --out",
                a.out.display()
            )
        })?;
        outln!("reusing the sample study at {}", a.out.display());
        bench
    } else {
        let bench = between_sample::materialise(&a.out, &ctx.options)?;
        outln!("wrote the FICTIONAL sample study to {}", a.out.display());
        bench
    };
    print_stats(&stats_of(&bench)?)?;
    if a.no_serve {
        outln!(
            "\nTry: between codings list {} --code Trust",
            a.out.display()
        );
        return Ok(());
    }
    let mut logins = Vec::new();
    for (name, role) in DEMO_ACCOUNTS {
        let password = fresh_password()?;
        if bench.accounts()?.iter().any(|acc| acc.name == *name) {
            bench.set_password(name, &password)?;
        } else {
            bench.add_account(name, *role, &password)?;
        }
        logins.push(format!("  {name:<6} ({role:<7}) password: {password}"));
    }
    let slug = between_server::slug_of(&a.out);
    let app = between_server::App::new(vec![between_server::StudyHandle::new(&slug, bench)]);
    serve(app, &a.bind, &logins)
}

/// A random password of 16 letters and digits for a demo account.
fn fresh_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

fn serve(app: std::sync::Arc<between_server::App>, bind: &str, logins: &[String]) -> Result<()> {
    crate::give_back_freed_memory_at_once();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(between_server::WORKER_THREADS)
        .max_blocking_threads(between_server::BLOCKING_THREADS)
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("cannot listen on {bind}"))?;
        let addr = listener.local_addr()?;
        if !addr.ip().is_loopback() {
            eprintln!(
                "warning: serving on {addr}, reachable from other machines; use TLS in front of it"
            );
        }
        for slug in app.slugs() {
            outln!("serving {slug} at http://{addr}/s/{slug}/");
        }
        if !logins.is_empty() {
            outln!("demo logins (new passwords at every start):");
            for l in logins {
                outln!("{l}");
            }
        }
        outln!("press Ctrl-C to stop");
        io::stdout().flush()?;
        between_server::serve(listener, app).await?;
        Ok(())
    })
}
