//! The command line, as clap sees it.

use std::path::PathBuf;

use between_core::{AccountRole, Role, SourceKind};
use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "between",
    version,
    about = "A workbench for studying healing relationships between clinicians and patients",
    long_about = "A workbench for studying healing relationships between clinicians and patients.\n\n\
        A study lives in one file (SQLite). Every study command takes the study file as its first \
        argument, e.g. `between import study.between interview.txt`.\n\n\
        Start with `between demo`, which writes a fictional sample study and summarises it.",
    after_help = "Exit codes: 0 success, 1 error, 2 wrong usage."
)]
pub struct Cli {
    /// Who is working (recorded as coder and in the audit log) [default: $BETWEEN_USER or $USER]
    #[arg(long = "as", global = true, value_name = "NAME")]
    pub actor: Option<String>,

    /// How long to wait for another process writing the same study before failing as busy
    #[arg(
        long,
        global = true,
        value_name = "MS",
        default_value_t = 5000,
        env = "BETWEEN_BUSY_TIMEOUT_MS"
    )]
    pub busy_timeout_ms: u64,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new study file, its codebook generated from a theory
    Init(InitArgs),
    /// Add or list participants (clinicians, patients, others)
    #[command(subcommand)]
    Participant(ParticipantCmd),
    /// Add or list clinician–patient dyads
    #[command(subcommand)]
    Dyad(DyadCmd),
    /// Import transcripts (plain text with speaker turns); all files or none
    Import(ImportArgs),
    /// List sources, or show one with its turns
    #[command(subcommand)]
    Source(SourceCmd),
    /// Link recordings (audio, video) to sources; list them
    #[command(subcommand)]
    Media(MediaCmd),
    /// Record that a transcript was checked against its recording, or list those not yet checked
    Verify(VerifyArgs),
    /// List and edit the codebook
    #[command(subcommand)]
    Codebook(CodebookCmd),
    /// Apply a code to a span of a source, given by offsets or by an exact quote
    Code(CodeArgs),
    /// List or import codings
    #[command(subcommand)]
    Codings(CodingsCmd),
    /// Attribute passages to the participants or dyads they speak about (by quote, offsets, a
    /// CSV table, or by confirming suggestions); remove or list them
    Attribute(AttributeArgs),
    /// Write or list memos
    #[command(subcommand)]
    Memo(MemoCmd),
    /// Write or show a dyad's or clinician's case study
    #[command(subcommand)]
    Case(CaseCmd),
    /// Accounts for the web workbench (owner, coder, auditor)
    #[command(subcommand)]
    User(UserCmd),
    /// Switch blind coding on or off, for the study or one source (owner's decision)
    Blind(BlindArgs),
    /// Export a study as a REFI-QDA project or codebook (`between export STUDY --format qdpx
    /// OUT.qdpx`), or its codings as a table (`between export codings STUDY`)
    Export(ExportArgs),
    /// Import a REFI-QDA project (.qdpx or .qde from ATLAS.ti, NVivo, MAXQDA, QualCoder…)
    /// into a new study or into an existing one; all of it or nothing
    ImportProject(ImportProjectArgs),
    /// Counts per code, speaker role, dyad and coder
    Stats(StatsArgs),
    /// Show the study's audit trail (who changed what, when)
    Audit(AuditArgs),
    /// Replace names and places with pseudonyms in every source, keeping every coding on its
    /// words: suggest terms, preview, apply; export or destroy the mapping
    Deidentify(DeidentifyArgs),
    /// Inter-coder agreement from a units × coders table (one row per unit, one column per
    /// coder, empty cell = missing)
    Agree(AgreeArgs),
    /// Theories as data: list, show and export them
    #[command(subcommand)]
    Model(ModelCmd),
    /// Questionnaires as data: list, show, export and validate them; add licensed wording
    #[command(subcommand)]
    Instrument(InstrumentCmd),
    /// Relationship measures in a study: its instruments, responses (by hand, from CSV, by
    /// one-time link), scores over time with ruptures and repairs, the long export
    Measure(MeasureArgs),
    /// Serve studies to a team's browsers (web workbench and JSON API)
    Serve(ServeArgs),
    /// Write the fictional sample study (or reuse it), summarise it and serve it
    Demo(DemoArgs),
    /// Measure import, coding and listing speed on a corpus from shared/bench/make_corpus.py
    Bench(BenchArgs),
    /// Ask the codings: frequencies by group, code × case matrices, co-occurrence, boolean
    /// code queries (`between query STUDY freq --by role`)
    Query(QueryArgs),
    /// Search the study's text (words, "phrases", wildcards; case and accents ignored) as
    /// keyword in context; optionally code every hit (preview, then --apply)
    Search(SearchArgs),
    /// Write the study report: report.html (one self-contained file), a CSV per table,
    /// report.xlsx (a sheet per table), and with --pdf report.pdf
    Report(ReportArgs),
    /// The team's exemplar quotes: mark a coding as one for a theory component or a code,
    /// remove it, list them
    Exemplar(ExemplarArgs),
    /// Dyads × theory components: the evidence in the clinician's and the patient's accounts
    Triangulate(TriangulateArgs),
    /// Each proposition of the theory: in how many dyads both sides are evidenced in the dyad's
    /// own accounts, with counter-evidence
    Propositions(PropositionsArgs),
    /// The model figures (SVG): the model's structure, and the model weighted by evidence
    Figure(FigureArgs),
    /// Codes introduced per interview in the order conducted, and the stopping rule's verdict
    Saturation(SaturationArgs),
    /// Psychometrics on a plain CSV (a header row of item or rater names; an empty cell is
    /// missing): reliability, ICCs, reliable change, scoring, ruptures
    Scale(ScaleArgs),
}

/// `between scale alpha|icc|rci|score|ruptures …` on plain data, or `between scale STUDY
/// --instrument ID` for a study's answers to one instrument.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ScaleArgs {
    #[command(subcommand)]
    pub cmd: Option<ScaleCmd>,
    /// A study file: alpha, item statistics, omega, floor and ceiling and missingness of its
    /// responses to --instrument (reverse-keyed items turned), as `scale alpha` gives them
    #[arg(requires = "instrument")]
    pub study: Option<PathBuf>,
    /// The instrument's id
    #[arg(long)]
    pub instrument: Option<String>,
    /// Its version (default: the study's newest, or the built-in's)
    #[arg(long, requires = "instrument")]
    pub version: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Subcommand, Debug)]
pub enum ScaleCmd {
    /// Cronbach's alpha with Feldt's 95 % interval, item statistics, McDonald's omega and
    /// missingness (rows are respondents, columns items; rows with a missing item are deleted)
    Alpha {
        #[arg(long, value_name = "FILE.csv")]
        data: PathBuf,
        /// The scale's minimum, for floor effects (with --max)
        #[arg(long, requires = "max", allow_negative_numbers = true)]
        min: Option<f64>,
        /// The scale's maximum, for ceiling effects (with --min)
        #[arg(long, requires = "min", allow_negative_numbers = true)]
        max: Option<f64>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The six Shrout–Fleiss ICCs (rows are targets, columns raters; every cell needed)
    Icc {
        #[arg(long, value_name = "FILE.csv")]
        data: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Jacobson & Truax's reliable change index between two scores
    Rci {
        #[arg(long, allow_negative_numbers = true)]
        pre: f64,
        #[arg(long, allow_negative_numbers = true)]
        post: f64,
        /// The standard deviation of the pre scores (e.g. a norm group's)
        #[arg(long)]
        sd_pre: f64,
        /// The scale's reliability (e.g. alpha or test–retest), in [0, 1)
        #[arg(long)]
        reliability: f64,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Totals and means per respondent, reverse-keyed items flipped (x → min + max − x)
    Score {
        #[arg(long, value_name = "FILE.csv")]
        data: PathBuf,
        #[arg(long, allow_negative_numbers = true)]
        min: f64,
        #[arg(long, allow_negative_numbers = true)]
        max: f64,
        /// Reverse-keyed items, 1-based column numbers
        #[arg(long, value_delimiter = ',', value_name = "N,N")]
        reverse: Vec<usize>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Ruptures and repairs in a series of measurements in time order
    Ruptures {
        /// The measurements, in time order
        #[arg(
            long,
            value_delimiter = ',',
            required = true,
            allow_negative_numbers = true
        )]
        series: Vec<f64>,
        /// A rupture drops by more than this many points
        #[arg(long, conflicts_with_all = ["sd", "reliability"], required_unless_present = "sd")]
        threshold: Option<f64>,
        /// Or a reliable drop (Jacobson & Truax): the scores' standard deviation
        #[arg(long, requires = "reliability")]
        sd: Option<f64>,
        /// …and the scale's reliability
        #[arg(long, requires = "sd")]
        reliability: Option<f64>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ListFormat {
    #[default]
    Text,
    Json,
    Csv,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The study file to create (must not exist)
    pub study: PathBuf,
    /// The study's name [default: the file name]
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, default_value = "")]
    pub description: String,
    /// A built-in theory (`between model list`) or a theory file's path
    #[arg(
        long,
        default_value = "healing-relationship-model",
        conflicts_with = "no_theory"
    )]
    pub theory: String,
    /// Start with an empty codebook
    #[arg(long)]
    pub no_theory: bool,
}

#[derive(Subcommand, Debug)]
pub enum ParticipantCmd {
    /// Add a participant
    Add {
        study: PathBuf,
        /// The study's short name for them, e.g. P01
        label: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// A pseudonym or display name
        #[arg(long)]
        name: Option<String>,
        /// An attribute, e.g. --attr age=54 --attr "discipline=family medicine"
        #[arg(long = "attr", value_name = "KEY=VALUE", value_parser = parse_pair)]
        attributes: Vec<(String, String)>,
    },
    /// List participants
    List {
        study: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Subcommand, Debug)]
pub enum DyadCmd {
    /// Pair a clinician with a patient
    Add {
        study: PathBuf,
        /// The clinician's participant label
        clinician: String,
        /// The patient's participant label
        patient: String,
        /// When the relationship began (e.g. 2003)
        #[arg(long)]
        since: Option<String>,
        #[arg(long, default_value = "")]
        notes: String,
        /// The dyad's label [default: CLINICIAN-PATIENT]
        #[arg(long)]
        label: Option<String>,
    },
    /// List dyads
    List {
        study: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    pub study: PathBuf,
    /// Transcript files or folders of them. Plain text: a line `LABEL: text` (optionally after
    /// `[hh:mm:ss]`) starts a turn. Praat TextGrids named `NAME_SPEAKER.TextGrid` that share
    /// NAME are one consultation, a channel per speaker, merged by time
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The files' format [default: by extension, then by content]
    #[arg(long, value_enum, default_value_t)]
    pub format: FormatArg,
    /// The files' encoding when not UTF-8 or UTF-16 with a byte-order mark (windows-1252, latin1, …)
    #[arg(long)]
    pub encoding: Option<String>,
    /// A regular expression for speaker labels at line starts, with a group `speaker` (and
    /// optionally `time`), e.g. '^(?P<speaker>DR|PT):\s*'
    #[arg(long, value_name = "REGEX")]
    pub speaker_pattern: Option<String>,
    /// CSV/TSV columns by header name or 1-based number: --columns speaker=Who,start=2,end=3,text=Said
    #[arg(long, value_delimiter = ',', value_name = "FIELD=COLUMN")]
    pub columns: Vec<String>,
    #[arg(long, value_parser = parse_kind, default_value = "interview")]
    pub kind: SourceKind,
    /// Whose account this is (participant label)
    #[arg(long)]
    pub participant: Option<String>,
    /// The dyad it belongs to (dyad label)
    #[arg(long)]
    pub dyad: Option<String>,
    #[arg(long)]
    pub interviewer: Option<String>,
    /// Interview date (YYYY-MM-DD)
    #[arg(long)]
    pub date: Option<String>,
    #[arg(long, value_name = "MINUTES")]
    pub duration: Option<u32>,
    /// Someone else present, e.g. --others-present spouse
    #[arg(long = "others-present", value_name = "WHO")]
    pub others_present: Vec<String>,
    #[arg(long)]
    pub guide_version: Option<String>,
    /// Consent was recorded
    #[arg(long)]
    pub consent: bool,
    /// Link a speaker label: --speaker "DR LEE=C1" or --speaker "SPOUSE=other"
    #[arg(long = "speaker", value_name = "LABEL=WHO")]
    pub speakers: Vec<String>,
    /// Source name, for a single file [default: the file name]
    #[arg(long)]
    pub name: Option<String>,
    /// Refuse files larger than this
    #[arg(long, default_value_t = 64 * 1024 * 1024)]
    pub max_bytes: u64,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FormatArg {
    #[default]
    Auto,
    Txt,
    Docx,
    Vtt,
    Srt,
    Textgrid,
    Csv,
    Tsv,
}

#[derive(Subcommand, Debug)]
pub enum SourceCmd {
    /// List sources
    List {
        study: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Show a source's turns with their offsets
    Show { study: PathBuf, name: String },
}

#[derive(Subcommand, Debug)]
pub enum MediaCmd {
    /// Link a recording to a source (the file stays where it is; the web view plays it)
    Attach {
        study: PathBuf,
        source: String,
        file: PathBuf,
    },
    /// Unlink a source's recording (the file is left alone)
    Detach { study: PathBuf, source: String },
    /// List the linked recordings
    List {
        study: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    pub study: PathBuf,
    /// The transcript checked [default: list the transcripts not yet checked]
    pub source: Option<String>,
    /// What was checked or corrected
    #[arg(long, default_value = "")]
    pub note: String,
}

#[derive(Subcommand, Debug)]
pub enum CodebookCmd {
    /// Show the codebook as a tree with coding counts
    List {
        study: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Add a code (an open code, or any code)
    Add {
        study: PathBuf,
        name: String,
        /// The parent code (path, name or theory component id)
        #[arg(long)]
        parent: Option<String>,
        /// #rrggbb [default: the parent's]
        #[arg(long)]
        colour: Option<String>,
        #[arg(long, default_value = "")]
        definition: String,
    },
    /// Rename a code
    Rename {
        study: PathBuf,
        code: String,
        new_name: String,
    },
    /// Move a code (with its sub-codes) under another code, or to the top level
    Move {
        study: PathBuf,
        code: String,
        #[arg(long, required_unless_present = "root", conflicts_with = "root")]
        to: Option<String>,
        #[arg(long)]
        root: bool,
    },
    /// Merge a code into another: its codings, memos and sub-codes move, then it is deleted
    Merge {
        study: PathBuf,
        from: String,
        into: String,
    },
    /// Add codes from a CSV table with columns code,parent, or merge a REFI-QDA codebook
    /// (.qdc: by GUID, then by path; differences reported)
    Import { study: PathBuf, file: PathBuf },
}

#[derive(Args, Debug)]
pub struct CodeArgs {
    pub study: PathBuf,
    /// The source's name (`between source list`)
    pub source: String,
    /// The code: path (Valuing/Presence), unique name, or theory component id
    pub code: String,
    /// First character, counted in Unicode code points from 0
    #[arg(long, requires = "end", conflicts_with = "quote")]
    pub start: Option<usize>,
    /// One past the last character (exclusive)
    #[arg(long, requires = "start")]
    pub end: Option<usize>,
    /// The exact text to code
    #[arg(long, required_unless_present = "start")]
    pub quote: Option<String>,
    /// Which occurrence of the quote, when it occurs more than once (from 1)
    #[arg(long, requires = "quote")]
    pub occurrence: Option<usize>,
    /// The coder [default: --as]
    #[arg(long)]
    pub coder: Option<String>,
    #[arg(long)]
    pub memo: Option<String>,
    /// A contrast case (e.g. about another clinician): reported apart, never as evidence
    #[arg(long)]
    pub contrast: bool,
}

#[derive(Subcommand, Debug)]
pub enum CodingsCmd {
    /// List codings with their quotes
    List {
        study: PathBuf,
        #[arg(long)]
        source: Option<String>,
        /// Only this code and its sub-codes
        #[arg(long)]
        code: Option<String>,
        #[arg(long)]
        coder: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: ListFormat,
    },
    /// Apply codings from a CSV table (document,start,end,code[,coder] or document,quote,code…)
    Import {
        study: PathBuf,
        file: PathBuf,
        /// Only rows of this coder
        #[arg(long)]
        only_coder: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum MemoCmd {
    /// Write a memo
    Add {
        study: PathBuf,
        /// study, source:NAME, code:PATH, coding:ID, dyad:LABEL or participant:LABEL
        #[arg(long, default_value = "study")]
        on: String,
        #[arg(long)]
        text: String,
        #[arg(long, default_value = "")]
        title: String,
        /// [default: --as]
        #[arg(long)]
        author: Option<String>,
    },
    /// List memos
    List {
        study: PathBuf,
        /// Only memos on this (as for add)
        #[arg(long)]
        on: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(Subcommand, Debug)]
pub enum CaseCmd {
    /// Write a case study's narrative (from --text or a file)
    Write {
        study: PathBuf,
        /// dyad:LABEL or clinician:LABEL
        subject: String,
        #[arg(long, conflicts_with = "file", required_unless_present = "file")]
        text: Option<String>,
        #[arg(long)]
        file: Option<PathBuf>,
        /// The version you edited (shown by `case show`); required to replace an existing text
        #[arg(long)]
        version: Option<i64>,
    },
    /// Show a case study's narrative
    Show { study: PathBuf, subject: String },
}

#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// Add an account; the password is read from standard input (first line)
    Add {
        study: PathBuf,
        name: String,
        #[arg(long, value_parser = parse_account_role)]
        role: AccountRole,
    },
    /// Set an account's password, read from standard input (first line); its sessions on a
    /// running server end
    Password { study: PathBuf, name: String },
    /// Give an account another role; its sessions on a running server end (the last owner
    /// stays an owner)
    Role {
        study: PathBuf,
        name: String,
        #[arg(long, value_parser = parse_account_role)]
        role: AccountRole,
    },
    /// Remove an account; its codings and memos stay, under its name, and its sessions on a
    /// running server end (the last owner stays)
    Remove { study: PathBuf, name: String },
    /// List accounts
    List { study: PathBuf },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Args, Debug)]
pub struct BlindArgs {
    pub study: PathBuf,
    #[arg(value_enum)]
    pub mode: OnOff,
    /// Only this source [default: the whole study]
    #[arg(long)]
    pub source: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TableFormat {
    #[default]
    Csv,
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub what: Option<ExportCmd>,
    /// The study
    #[arg(required = true)]
    pub study: Option<PathBuf>,
    /// Where the project or codebook goes
    #[arg(required = true)]
    pub out: Option<PathBuf>,
    /// qdpx: the whole study (zip); qde: the project XML alone, texts inline; qdc: the codebook
    #[arg(long, value_enum, required = true)]
    pub format: Option<ExchangeFormat>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExchangeFormat {
    Qdpx,
    Qde,
    Qdc,
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("target").required(true).args(["into", "new"]))]
pub struct ImportProjectArgs {
    /// The project: .qdpx, or a bare .qde
    pub file: PathBuf,
    /// Merge into this study (codes by GUID, then path; participants and dyads by label)
    #[arg(long)]
    pub into: Option<PathBuf>,
    /// Make this new study from it
    #[arg(long)]
    pub new: Option<PathBuf>,
    /// What the file's text positions count [default: by producer, checked on the texts]
    #[arg(long, value_enum, default_value_t)]
    pub unit: UnitOfPositions,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UnitOfPositions {
    #[default]
    Auto,
    CodePoints,
    Utf16,
}

#[derive(Subcommand, Debug)]
pub enum ExportCmd {
    /// Every coding: quote, code path, coder, participant, dyad, speaker role…
    Codings {
        study: PathBuf,
        #[arg(long, value_enum, default_value_t)]
        format: TableFormat,
        /// Write here instead of standard output
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    pub study: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    pub study: PathBuf,
    /// How many of the newest entries
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Args, Debug)]
#[command(
    group(clap::ArgGroup::new("action").required(true).args(["suggest", "preview", "apply", "export_mapping", "destroy_mapping", "vacuum"])),
    after_help = "Examples:\n  between deidentify study.between --suggest\n  between deidentify study.between --map \"Dr Ruiz=[Clinician A]\" --map \"Samuel=[Patient B]\" --preview\n  between deidentify study.between --mapping names.csv --apply\n  between deidentify study.between --export-mapping key.csv\n  between deidentify study.between --destroy-mapping --yes"
)]
pub struct DeidentifyArgs {
    pub study: PathBuf,
    /// Print candidate terms: capitalised words inside sentences, participants' names and
    /// labels, speaker labels that are not roles
    #[arg(long)]
    pub suggest: bool,
    /// Print every replacement the mapping would make, with context and totals; changes nothing
    #[arg(long, requires = "terms")]
    pub preview: bool,
    /// Rewrite every affected source, remap every coding, store the mapping, vacuum the file
    #[arg(long, requires = "terms")]
    pub apply: bool,
    /// A term and its pseudonym, "TERM=PSEUDONYM" (repeatable)
    #[arg(long = "map", value_name = "TERM=PSEUDONYM", group = "terms")]
    pub map: Vec<String>,
    /// The mapping as a CSV file: term,pseudonym (a header row "term,pseudonym" is optional)
    #[arg(long, value_name = "FILE.csv", group = "terms")]
    pub mapping: Option<PathBuf>,
    /// Match terms whatever their case ("Dr Ruiz" also replaces "DR RUIZ")
    #[arg(long)]
    pub case_insensitive: bool,
    /// Write the stored mapping (the original terms) to a new CSV file
    #[arg(long, value_name = "FILE.csv")]
    pub export_mapping: Option<PathBuf>,
    /// Delete the stored mapping for good, then vacuum the file (needs --yes)
    #[arg(long)]
    pub destroy_mapping: bool,
    /// Confirm --destroy-mapping: it cannot be undone
    #[arg(long)]
    pub yes: bool,
    /// Rebuild the study file so that no free page keeps deleted words (--apply and
    /// --destroy-mapping do it; this is for when that failed)
    #[arg(long)]
    pub vacuum: bool,
    /// With --suggest and --preview
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatisticArg {
    /// Krippendorff's alpha (see --level)
    Alpha,
    /// Cohen's kappa, two coders (see --weights)
    Kappa,
    /// Fleiss' kappa (unequal raters per unit as Gwet 2014)
    Fleiss,
    /// Gwet's AC1; with --weights, AC2
    Ac1,
    /// Brennan–Prediger kappa
    Bp,
    /// Scott's pi, two coders
    Pi,
    /// Percent agreement
    Percent,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LevelArg {
    #[default]
    Nominal,
    Ordinal,
    Interval,
    Ratio,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WeightsArg {
    #[default]
    None,
    Linear,
    Quadratic,
}

#[derive(Args, Debug)]
pub struct AgreeArgs {
    /// A study: agreement between its coders, per code (with --coders)
    #[arg(
        required_unless_present = "data",
        conflicts_with = "data",
        requires = "coders"
    )]
    pub study: Option<PathBuf>,
    /// Coders to compare (with a study), comma-separated
    #[arg(long, value_delimiter = ',')]
    pub coders: Vec<String>,
    /// Only these sources (with a study), comma-separated [default: all]
    #[arg(long, value_delimiter = ',')]
    pub sources: Vec<String>,
    /// Only these codes (with a study), comma-separated [default: every code the coders used]
    #[arg(long, value_delimiter = ',')]
    pub codes: Vec<String>,
    /// The code whose sub-codes to compare (with a study), instead of --codes
    #[arg(long, conflicts_with = "codes")]
    pub group: Option<String>,
    /// What a unit is (with a study)
    #[arg(long, value_enum, default_value_t)]
    pub unit: UnitArg,
    /// With --unit segments: how much two segments must overlap (intersection over union)
    #[arg(long, default_value_t = 0.6)]
    pub min_overlap: f64,
    /// The table (CSV): one row per unit, one column per coder, empty cell = missing
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The coefficient (with --data)
    #[arg(long, value_enum, required_unless_present = "study")]
    pub statistic: Option<StatisticArg>,
    #[arg(long, value_enum, default_value_t)]
    pub level: LevelArg,
    /// Agreement weights by category position (with --statistic kappa or ac1)
    #[arg(long, value_enum, default_value_t)]
    pub weights: WeightsArg,
    /// The categories in order, comma-separated (used by weights, AC1 and Brennan–Prediger)
    #[arg(long, value_delimiter = ',')]
    pub categories: Option<Vec<String>>,
    /// The first row names the coders [default: guessed]
    #[arg(long, conflicts_with = "no_header")]
    pub header: bool,
    /// The first row is a unit
    #[arg(long)]
    pub no_header: bool,
    /// Also a percentile bootstrap confidence interval over this many resamples of the units
    #[arg(long, value_name = "REPLICATES")]
    pub bootstrap: Option<usize>,
    /// The bootstrap's seed: the same seed gives the same interval
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UnitArg {
    #[default]
    Characters,
    Turns,
    Segments,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReportFormat {
    #[default]
    Text,
    Json,
    Csv,
    Html,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TheoryFormat {
    Toml,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum ModelCmd {
    /// The built-in theories
    List,
    /// A theory's components, definitions and propositions
    Show {
        /// A built-in theory's id, or a theory file's path
        name: String,
    },
    /// A theory as a file, to edit and load again
    Export {
        name: String,
        #[arg(long, value_enum, default_value = "toml")]
        format: TheoryFormat,
    },
}

#[derive(Subcommand, Debug)]
pub enum InstrumentCmd {
    /// The built-in instruments
    List,
    /// An instrument's items, subscales, scale, scoring rule, links, citation and licence
    Show {
        /// A built-in instrument's id, or an instrument file's path (.toml or .json)
        instrument: String,
    },
    /// An instrument as a file, to edit and load again
    Export {
        instrument: String,
        #[arg(long, value_enum, default_value = "toml")]
        format: TheoryFormat,
    },
    /// Check an instrument file: "ok", or every problem found
    Validate { file: PathBuf },
    /// Write an instrument file with the item wording a team holds, from its own CSV table
    /// (columns item,text; one row per item)
    ImportItems {
        /// A built-in instrument's id, or an instrument file's path
        #[arg(long)]
        instrument: String,
        #[arg(long)]
        items: PathBuf,
        /// Where the complete instrument file goes (.toml, or .json)
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where the sample study goes (reused if it is already there)
    #[arg(long, default_value = "between-demo.between")]
    pub out: PathBuf,
    /// Only write and summarise the study, do not serve it
    #[arg(long)]
    pub no_serve: bool,
    /// Where to serve it (port 0: any free port)
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: String,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Study files; each is served at /s/NAME/ (NAME: the file name without extension)
    #[arg(required = true)]
    pub studies: Vec<PathBuf>,
    /// Address to listen on. The default is this machine only; another address exposes the
    /// study's health data to the network, so put it behind TLS
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Browsers reach the server over HTTPS through a proxy that ends TLS (nginx, Caddy…):
    /// the session cookie gets `Secure` and the `__Host-` prefix, so it is never sent over
    /// plain HTTP, and the login rate limit takes the client's address from the last entry of
    /// `X-Forwarded-For`, which the proxy must append (bind to 127.0.0.1 so only it connects)
    #[arg(long)]
    pub tls_proxy: bool,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// A corpus made by `python3 ../shared/bench/make_corpus.py --interviews 100 --words 8000 --seed 1 --out DIR`
    #[arg(long, required_unless_present_any = ["primock", "import_qdpx", "scale"])]
    pub corpus: Option<PathBuf>,
    /// Instead: score 100,000 respondents × 30 items (generated in memory, seeded) and compute
    /// Cronbach's alpha and the item statistics; target ≤ 100 ms
    #[arg(long, conflicts_with_all = ["corpus", "primock", "import_qdpx"])]
    pub scale: bool,
    /// (Used by --refi.) Import this .qdpx into a new study, streamed as `between
    /// import-project` does, and print the codings imported and this process's peak
    /// resident memory in bytes
    #[arg(long, hide = true, conflicts_with_all = ["corpus", "primock"])]
    pub import_qdpx: Option<PathBuf>,
    /// Instead: time importing the PriMock57 TextGrids (../shared/data/primock57/transcripts),
    /// parse, merge and store, into a new study
    #[arg(long, conflicts_with = "corpus")]
    pub primock: Option<PathBuf>,
    /// How many times to list one document's codings
    #[arg(long, default_value_t = 200)]
    pub repeat: usize,
    /// Also measure the web server: document views, concurrent coding, listing, memory
    #[arg(long)]
    pub server: bool,
    /// Also measure the agreement report and the disagreement passages between both coders
    #[arg(long)]
    pub agreement: bool,
    /// Also measure REFI-QDA export and import of the study (both coders), time and memory
    #[arg(long)]
    pub refi: bool,
    /// Codings to create through the API in the load run (with --server)
    #[arg(long, default_value_t = 8000)]
    pub load_codings: usize,
    /// Concurrent clients in the load run (with --server)
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// Also measure the findings: the queries (code × case matrix, co-occurrence, text search
    /// with KWIC) and dyad triangulation, proposition support, saturation and their figures
    /// (participants, dyads and a theory added in memory)
    #[arg(long)]
    pub findings: bool,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Also measure the full study report (HTML, CSV, XLSX; both coders), with clinicians,
    /// patients, dyads, dates and theory components synthesised deterministically
    #[arg(long)]
    pub report: bool,
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|e: between_core::UnknownName| e.to_string())
}

fn parse_account_role(s: &str) -> Result<AccountRole, String> {
    s.parse()
        .map_err(|e: between_core::UnknownName| e.to_string())
}

fn parse_kind(s: &str) -> Result<SourceKind, String> {
    s.parse()
        .map_err(|e: between_core::UnknownName| e.to_string())
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not KEY=VALUE"))?;
    if k.trim().is_empty() {
        return Err(format!("'{s}' has no key"));
    }
    Ok((k.trim().to_string(), v.trim().to_string()))
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    pub study: PathBuf,
    /// The folder to write into (created if missing; earlier report files are replaced)
    #[arg(long)]
    pub out: PathBuf,
    /// Also print report.pdf with headless Chromium (BETWEEN_CHROMIUM, or chromium,
    /// chromium-browser or google-chrome on PATH)
    #[arg(long)]
    pub pdf: bool,
    /// The two coders compared in the agreement summary [default: the two with most codings]
    #[arg(long, num_args = 2, value_names = ["CODER", "CODER"])]
    pub coders: Vec<String>,
}

#[derive(Args, Debug)]
pub struct AttributeArgs {
    pub study: PathBuf,
    #[command(subcommand)]
    pub action: AttributeCmd,
}

#[derive(Subcommand, Debug)]
pub enum AttributeCmd {
    /// Attribute a passage (a quote, or offsets) to one or more participants or dyads
    Add {
        #[arg(long)]
        source: String,
        /// The passage's exact words
        #[arg(long, conflicts_with_all = ["start", "end"], required_unless_present = "start")]
        quote: Option<String>,
        /// Which occurrence of the quote (1 first), when it occurs more than once
        #[arg(long, requires = "quote")]
        occurrence: Option<usize>,
        /// Code point offsets, end exclusive
        #[arg(long, requires = "end")]
        start: Option<usize>,
        #[arg(long, requires = "start")]
        end: Option<usize>,
        /// Participant or dyad labels (or ids), separated by commas: P03,C1-P04
        #[arg(long, value_delimiter = ',', required = true)]
        about: Vec<String>,
    },
    /// Remove an attribution (its id, from `attribute list`)
    Remove { id: String },
    /// List attributions
    List {
        #[arg(long)]
        source: Option<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Attribute every row of a CSV table (columns source, about, and start and end or quote):
    /// all rows or none
    Import { file: PathBuf },
    /// Suggest turns that mention a participant by label, name, pseudonym or an alias; stores
    /// nothing (confirm them by key)
    Suggest {
        #[arg(long)]
        source: Option<String>,
        /// A word or phrase that stands for a participant: --alias "the Boss=C1"
        #[arg(long = "alias", value_name = "WORDS=LABEL")]
        aliases: Vec<String>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Attribute the turns of suggestions, by their keys (from `attribute suggest`)
    Confirm {
        #[arg(required = true)]
        keys: Vec<String>,
    },
}

#[derive(Args, Debug)]
pub struct ExemplarArgs {
    pub study: PathBuf,
    #[command(subcommand)]
    pub action: ExemplarCmd,
}

#[derive(Subcommand, Debug)]
pub enum ExemplarCmd {
    /// Mark a coding (its id, from `codings list`) as an exemplar quote
    Add {
        coding: String,
        /// A theory component's id, or a code (`component:ID`, `code:PATH` to be explicit)
        #[arg(long = "for")]
        target: String,
        /// Where in the team's order (1 first) [default: last]
        #[arg(long)]
        position: Option<i64>,
    },
    /// Unmark it
    Remove {
        coding: String,
        #[arg(long = "for")]
        target: String,
    },
    /// List the exemplars in the team's order
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FindingFormat {
    #[default]
    Table,
    Csv,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MatrixView {
    /// Distinct passages in each account, clinician/patient
    #[default]
    Counts,
    /// Both, clinician only, patient only or none
    Presence,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SideRuleArg {
    /// A side is evidenced when any of its components is
    #[default]
    Any,
    /// A side is evidenced when every one of its components is
    All,
}

/// How proposition support is read (`docs/findings.md`, "Proposition support").
#[derive(Args, Debug, Clone)]
pub struct ReadingArgs {
    /// When a side (a list of components) counts as evidenced in a dyad
    #[arg(long, value_enum, default_value_t)]
    pub rule: SideRuleArg,
    /// Also require both sides together in one source of the dyad's accounts: `overlap`
    /// (passages sharing a character), `turn` (starting in the same turn) or `near:N`
    /// (within N characters)
    #[arg(long, value_name = "HOW")]
    pub together: Option<String>,
    /// Also require the target side in the patient's account
    #[arg(long)]
    pub target_from_patient: bool,
}

/// What every dyad count means, said under the commands that show one.
const ATTRIBUTION_RULE: &str = between_findings::triangulation::ACCOUNTS_RULE;

#[derive(Args, Debug)]
#[command(after_help = format!("{ATTRIBUTION_RULE}\n\nExamples:\n  between triangulate study.between\n  between triangulate study.between --view presence --coder consensus\n  between triangulate study.between --dyad C1-P01 --component trust\n  between triangulate study.between --general C1 --component trust"))]
pub struct TriangulateArgs {
    pub study: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    pub view: MatrixView,
    /// Count only this coder's codings (e.g. `consensus`) [default: every coder]
    #[arg(long, value_name = "NAME")]
    pub coder: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: FindingFormat,
    /// With --component: print the quotes behind one cell
    #[arg(long, value_name = "LABEL", requires = "component")]
    pub dyad: Option<String>,
    /// With --component: print a participant's quotes about no particular patient
    #[arg(
        long,
        value_name = "LABEL",
        requires = "component",
        conflicts_with = "dyad"
    )]
    pub general: Option<String>,
    /// A theory component id (e.g. `trust`), with --dyad or --general
    #[arg(long, value_name = "ID")]
    pub component: Option<String>,
}

#[derive(Args, Debug)]
#[command(after_help = format!("{ATTRIBUTION_RULE}\n\nExamples:\n  between propositions study.between\n  between propositions study.between --rule all --format csv\n  between propositions study.between --together turn --target-from-patient\n  between propositions study.between --number 2 --dyad C1-P01"))]
pub struct PropositionsArgs {
    pub study: PathBuf,
    #[command(flatten)]
    pub reading: ReadingArgs,
    #[arg(long, value_name = "NAME")]
    pub coder: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: FindingFormat,
    /// With --dyad: print the quotes behind proposition N (as numbered in the table)
    #[arg(long, value_name = "N", requires = "dyad")]
    pub number: Option<usize>,
    #[arg(long, value_name = "LABEL", requires = "number")]
    pub dyad: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FigureView {
    /// Both: the structure to FILE.svg, the evidence to FILE-evidence.svg
    #[default]
    Both,
    /// The model as its theory states it (columns by kind, numbered propositions)
    Structure,
    /// The model weighted by the study's evidence (node area, edge width; the rule on the figure)
    Evidence,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  between figure study.between --out model.svg   # model.svg and model-evidence.svg\n  between figure study.between --view evidence --rule all --out - > evidence.svg"
)]
pub struct FigureArgs {
    pub study: PathBuf,
    /// Where to write the SVG (`-` for standard output, with one view)
    #[arg(long, value_name = "FILE.svg")]
    pub out: PathBuf,
    /// Which model figure
    #[arg(long, value_enum, default_value_t)]
    pub view: FigureView,
    #[command(flatten)]
    pub reading: ReadingArgs,
    #[arg(long, value_name = "NAME")]
    pub coder: Option<String>,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Consecutive (the default): saturation is reached at interview i when the K coded interviews after it together introduce fewer than M new codes. Guest (Guest, Namey & Chen 2020, PLoS ONE 15(5): e0232076): when the new codes of the RUN coded interviews after i, divided by the codes of the first BASE coded interviews, are at most THRESHOLD. Either verdict says when later interviews contradict it. See docs/findings.md.\n\nExamples:\n  between saturation study.between\n  between saturation study.between --k 2 --out saturation.svg\n  between saturation study.between --k 4 --fewer-than 2 --format csv\n  between saturation study.between --method guest --base 4 --run 2 --threshold 0.05"
)]
pub struct SaturationArgs {
    pub study: PathBuf,
    /// The stopping rule: consecutive or guest
    #[arg(long, value_name = "METHOD")]
    pub method: Option<String>,
    /// consecutive: how many consecutive coded interviews the rule looks at [default: 3]
    #[arg(long)]
    pub k: Option<usize>,
    /// consecutive: they must bring fewer than this many new codes together (1: none) [default: 1]
    #[arg(long, value_name = "M")]
    pub fewer_than: Option<usize>,
    /// guest: the first BASE coded interviews make the base [default: 4]
    #[arg(long)]
    pub base: Option<usize>,
    /// guest: the run of coded interviews after the stopping point [default: 2]
    #[arg(long)]
    pub run: Option<usize>,
    /// guest: new codes in the run at most this share of the base's codes [default: 0.05]
    #[arg(long)]
    pub threshold: Option<f64>,
    #[arg(long, value_name = "NAME")]
    pub coder: Option<String>,
    /// Also write the chart as SVG
    #[arg(long, value_name = "FILE.svg")]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: FindingFormat,
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    pub study: PathBuf,
    #[command(subcommand)]
    pub query: QueryCmd,
}

/// Which codings a query counts.
#[derive(Args, Debug, Clone)]
pub struct CodingChoice {
    /// A code's count includes its sub-codes' codings
    #[arg(long)]
    pub include_subcodes: bool,
    /// Only this coder's codings (repeatable) [default: everyone's]
    #[arg(long = "coder", value_name = "NAME")]
    pub coders: Vec<String>,
    /// Only these codes (path, name or component id; repeatable) [default: every code]
    #[arg(long = "code", value_name = "CODE")]
    pub codes: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum QueryCmd {
    /// Code frequencies by group: codings, contrast codings (apart), sources, cases
    Freq {
        /// role, source, participant, dyad, clinician (with their patients), or attribute:KEY
        #[arg(long, default_value = "role")]
        by: String,
        #[command(flatten)]
        choice: CodingChoice,
        #[arg(long, value_enum, default_value_t)]
        format: ListFormat,
    },
    /// Codes × cases (participants, dyads or sources) or × the values of an attribute
    Matrix {
        #[arg(long, value_enum, conflicts_with = "attribute")]
        cases: Option<CaseKind>,
        /// A participant attribute, e.g. sex
        #[arg(long, value_name = "KEY")]
        attribute: Option<String>,
        #[command(flatten)]
        choice: CodingChoice,
        #[arg(long, value_enum, default_value_t)]
        format: ListFormat,
    },
    /// Codes × codes: pairs of one coder's codings that overlap, share a turn or lie near
    Cooccur {
        #[arg(long, value_enum, default_value_t)]
        mode: CooccurMode,
        /// With --mode near: at most this many characters apart
        #[arg(long, value_name = "N")]
        within: Option<usize>,
        #[command(flatten)]
        choice: CodingChoice,
        #[arg(long, value_enum, default_value_t)]
        format: ListFormat,
    },
    /// Passages by a boolean code query: A AND B, A OR B, A NOT B, A OVERLAPPING B,
    /// A NEAR 200 B, with parentheses (docs/findings.md)
    Codes {
        expression: String,
        /// Characters of context either side (whole words)
        #[arg(long, default_value_t = 80)]
        context: usize,
        /// A code stands for itself and its sub-codes
        #[arg(long)]
        include_subcodes: bool,
        /// Let contrast codings take part
        #[arg(long)]
        contrast: bool,
        /// Only this coder's codings (repeatable)
        #[arg(long = "coder", value_name = "NAME")]
        coders: Vec<String>,
        /// Passages shown at most (all are counted)
        #[arg(long, default_value_t = 200)]
        limit: usize,
        #[arg(long, value_enum, default_value_t)]
        format: ListFormat,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CaseKind {
    #[default]
    Participants,
    Dyads,
    Sources,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CooccurMode {
    #[default]
    Overlap,
    Turn,
    Near,
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    pub study: PathBuf,
    /// Words, "phrases" and wildcards (trust*, t?ust); a hit is any of them
    pub text: String,
    /// Characters of context either side (whole words)
    #[arg(long, default_value_t = 60)]
    pub context: usize,
    /// Only this source (repeatable)
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<String>,
    /// Only words said by speakers of this role
    #[arg(long, value_parser = parse_role)]
    pub role: Option<Role>,
    /// Hits shown at most (all are counted)
    #[arg(long, default_value_t = 200)]
    pub limit: usize,
    /// Code every hit with this code: a preview, unless --apply
    #[arg(long, value_name = "CODE", requires = "coder")]
    pub code_all: Option<String>,
    /// Who codes the hits (with --code-all)
    #[arg(long, value_name = "NAME")]
    pub coder: Option<String>,
    /// Make the codings (all in one change), leaving hits the coder already coded so
    #[arg(long, requires = "code_all")]
    pub apply: bool,
    #[arg(long, value_enum, default_value_t)]
    pub format: ListFormat,
}

#[derive(Args, Debug)]
pub struct MeasureArgs {
    pub study: PathBuf,
    #[command(subcommand)]
    pub action: MeasureCmd,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShapeArg {
    /// One row per response: participant, dyad, date, session, then a column per item id
    Wide,
    /// One row per answer: participant, dyad, date, session, item, value
    Long,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    On,
    Off,
}

#[derive(Subcommand, Debug)]
pub enum MeasureInstrumentCmd {
    /// Add the study's own instrument (TOML or JSON, validated; owners)
    Add { file: PathBuf },
    /// The instruments the study can use: built-in, then its own
    List,
}

#[derive(Subcommand, Debug)]
pub enum MeasureCmd {
    #[command(subcommand)]
    Instrument(MeasureInstrumentCmd),
    /// Enter one response by hand (a paper questionnaire)
    Enter {
        #[arg(long)]
        instrument: String,
        /// [default: the study's newest version, else the built-in's]
        #[arg(long)]
        version: Option<String>,
        #[arg(long)]
        participant: String,
        #[arg(long)]
        dyad: Option<String>,
        /// YYYY-MM-DD (a date or a session, or both)
        #[arg(long, required_unless_present = "session")]
        date: Option<String>,
        #[arg(long)]
        session: Option<u32>,
        /// ITEM=VALUE, comma-separated or repeated; ITEM= for an item left out
        #[arg(long = "answer", value_delimiter = ',', required = true)]
        answers: Vec<String>,
    },
    /// Import responses of one instrument from CSV, all or nothing
    Import {
        #[arg(long, value_enum)]
        format: ShapeArg,
        #[arg(long)]
        instrument: String,
        #[arg(long)]
        version: Option<String>,
        file: PathBuf,
    },
    /// The responses you may see, with their scores
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Scores over time of a dyad or a clinician, with ruptures and repairs
    Scores {
        #[arg(
            long,
            required_unless_present = "clinician",
            conflicts_with = "clinician"
        )]
        dyad: Option<String>,
        #[arg(long)]
        clinician: Option<String>,
        /// A rupture is a drop of more than this many points
        #[arg(long, conflicts_with_all = ["sd", "reliability"])]
        threshold: Option<f64>,
        /// With --reliability: a rupture is a reliable drop (Jacobson & Truax)
        #[arg(long, requires = "reliability")]
        sd: Option<f64>,
        #[arg(long, requires = "sd")]
        reliability: Option<f64>,
        /// The score read for ruptures: total or a subscale id
        #[arg(long, default_value = "total")]
        score: String,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Numbers beside words: per dyad, the latest scores of an instrument beside the coded
    /// passages of the theory components it is linked to (the rules printed with it)
    Joint {
        #[arg(long)]
        instrument: String,
        #[arg(long)]
        version: Option<String>,
        /// Also write the table as CSV
        #[arg(long, value_name = "OUT.csv")]
        csv: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Make a one-time link to a questionnaire (prints its token once)
    Link {
        #[arg(long)]
        participant: String,
        #[arg(long)]
        instrument: String,
        #[arg(long)]
        version: Option<String>,
        #[arg(long)]
        dyad: Option<String>,
        #[arg(long, required_unless_present = "session")]
        date: Option<String>,
        #[arg(long)]
        session: Option<u32>,
        /// How long it lasts, 1 to 30 days
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
    /// Say which account a clinician participant is (owners; once)
    Account {
        #[arg(long)]
        participant: String,
        #[arg(long)]
        account: String,
    },
    /// Share your own (self-care) measures with the study's owners, or stop
    Share {
        #[arg(long)]
        participant: String,
        #[arg(value_enum)]
        switch: Switch,
    },
    /// Export the responses as a long CSV (one row per answer) with a data dictionary
    Export {
        #[arg(long)]
        long: PathBuf,
        #[arg(long)]
        dictionary: PathBuf,
    },
}
