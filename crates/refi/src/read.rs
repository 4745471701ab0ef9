//! Reading projects and codebooks leniently: what real tools write is accepted, what cannot be
//! carried over is said in the [`Report`], and what would corrupt data (duplicate GUIDs, a
//! coding of no code, unsafe archives, entity tricks) is refused with a [`RefiError`].

use std::collections::{HashMap, HashSet};

use rustc_hash::FxHashSet;

use std::io::{BufRead, Read};

use crate::container::{Archive, Limits, ReadSeek};
use crate::positions::{self, RawSpan, TextIndex};
use crate::xml::{self, Element, Item, Pull, decode_text, decode_vec, locate_in};
use crate::*;

/// How to read a project.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// What the file's text positions count; [`PositionUnit::Auto`] decides (see there).
    pub unit: PositionUnit,
    /// What a `.qdpx` may hold.
    pub limits: Limits,
    /// Hand each source to the sink as soon as it is read ([`read_project_into`]). A project
    /// whose codebook, users, variables or cases come after its sources (against the schema's
    /// order) then fails with [`RefiError::NotStreamable`]: read it again without streaming.
    pub streamed: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            unit: PositionUnit::Auto,
            limits: Limits::default(),
            streamed: false,
        }
    }
}

/// Where a project is read from: its bytes, or a file (read as a stream, never whole).
#[derive(Clone, Copy, Debug)]
pub enum ProjectInput<'a> {
    Bytes(&'a [u8]),
    File(&'a std::path::Path),
}

/// A source as read, its selections placed (code points of its text).
#[derive(Clone, Debug, PartialEq)]
pub enum ReadSource {
    Text(TextSource),
    Media(MediaSource),
}

/// Takes a project in document order, as [`read_project_into`] reads it: first everything
/// that comes before the sources, then each source, then the rest.
pub trait ProjectSink {
    type Error: From<RefiError>;
    /// The project's attributes, users, codebook, variables and cases (no sources, notes or
    /// sets yet; a case may still name sources or selections the project turns out not to
    /// have).
    fn head(&mut self, project: &Project, report: &mut Report) -> Result<(), Self::Error>;
    /// One source. Its note references may name notes the project does not have (the notes
    /// come later): [`ProjectSink::tail`] has the notes there are.
    fn source(&mut self, source: ReadSource, report: &mut Report) -> Result<(), Self::Error>;
    /// Everything but the sources, references checked: notes, sets, the description.
    fn tail(&mut self, project: Project, report: &mut Report) -> Result<(), Self::Error>;
}

const PROJECT_NS: &str = "urn:QDA-XML:project:";
const CODEBOOK_NS: &str = "urn:QDA-XML:codebook:";
const ONLY_TEXT: &str = "between holds text and audio/video transcripts only";

/// Reads a project: a `.qdpx` zip (recognised by its content, not its name) with one `*.qde`
/// at its root and its texts in `sources/` (any case), or a bare `.qde` whose texts are inline
/// (`PlainTextContent`). Text positions are converted to code points of each text (see
/// [`ReadOptions::unit`]); selections that cannot be placed are left out and listed in
/// [`Report::unplaced`]. PDF and picture sources, links and graphs are reported as dropped.
pub fn read_project(
    file_name: &str,
    bytes: &[u8],
    options: &ReadOptions,
) -> Result<(Project, Report), RefiError> {
    let mut collect = Collect::default();
    let options = ReadOptions {
        streamed: false,
        ..*options
    };
    let report = read_project_into(
        file_name,
        ProjectInput::Bytes(bytes),
        &options,
        &mut collect,
    )?;
    Ok((collect.project, report))
}

/// Reads a project as [`read_project`] does, handing it to `sink` in pieces: with
/// [`ReadOptions::streamed`], a source at a time as it is read, so that a project larger than
/// memory can be brought in (the document and the texts are read as streams).
/// When this fails, the sink may have been given part of the project: it should not keep it.
pub fn read_project_into<S: ProjectSink>(
    file_name: &str,
    input: ProjectInput<'_>,
    options: &ReadOptions,
    sink: &mut S,
) -> Result<Report, S::Error> {
    let open = |what: &str| -> Result<Box<dyn ReadSeek + '_>, RefiError> {
        match input {
            ProjectInput::Bytes(b) => Ok(Box::new(std::io::Cursor::new(b))),
            ProjectInput::File(path) => {
                let file = std::fs::File::open(path).map_err(|e| RefiError::Entry {
                    entry: format!("{what} {}", path.display()),
                    reason: e.to_string(),
                })?;
                Ok(Box::new(std::io::BufReader::new(file)))
            }
        }
    };
    let mut head = [0u8; 4];
    let n = read_up_to(file_name, &mut *open("the project")?, &mut head)?;
    let is_zip = head[..n].starts_with(b"PK\x03\x04") || head[..n].starts_with(b"PK\x05\x06");
    let mut texts = None;
    let mut document = if is_zip {
        let archive = Archive::open(file_name, open("the project")?, options.limits)?;
        let qde = archive.qde.clone();
        texts = Some(archive);
        Document::Entry {
            name: format!("{file_name}: {qde}"),
            entry: qde,
        }
    } else {
        Document::Whole {
            name: file_name.to_string(),
        }
    };
    // A document in UTF-16 is decoded whole first (no tool writes a large one).
    let utf16 = document.with::<_, RefiError>(&open, options.limits, &mut |r| {
        let mut bom = [0u8; 2];
        Ok(read_up_to(document.name(), r, &mut bom)? == 2
            && matches!(bom, [0xFF, 0xFE] | [0xFE, 0xFF]))
    })?;
    if utf16 {
        let mut bytes = Vec::new();
        document.with::<_, RefiError>(&open, options.limits, &mut |r| {
            r.read_to_end(&mut bytes).map_err(|e| RefiError::Entry {
                entry: document.name().to_string(),
                reason: e.to_string(),
            })
        })?;
        let text = decode_vec(document.name(), bytes)?;
        document = Document::Decoded {
            name: document.name().to_string(),
            text: text.into_bytes(),
        };
    }
    let name = document.name().to_string();
    let locate = |at: u64| {
        let mut place = (1, 1);
        let _ = document.with::<_, RefiError>(&open, options.limits, &mut |r| {
            place = locate_in(r, at);
            Ok(())
        });
        place
    };
    let first_with = |key: &GuidKey| {
        let mut found = None;
        let _ = document.with::<_, RefiError>(&open, options.limits, &mut |r| {
            found = first_with_guid(&name, r, key);
            Ok(())
        });
        found
    };
    let mut reader = Reader::new(&name, texts, sink, options);
    reader.first_with_guid = Some(&first_with);
    document.with::<_, S::Error>(&open, options.limits, &mut |r| {
        let mut pull = Pull::new(&name, r, &locate);
        let root = pull.root()?;
        reader.check_root(&root, "Project", PROJECT_NS)?;
        reader.project(&mut pull, root)?;
        pull.end()?;
        Ok(())
    })?;
    reader.finish()
}

/// Fills `buf` as far as the input (`what`) goes; returns how much it holds.
fn read_up_to(what: &str, r: &mut dyn Read, buf: &mut [u8]) -> Result<usize, RefiError> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(RefiError::Entry {
                    entry: what.to_string(),
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(n)
}

/// Opens the project's input from its start (`what` names it in an error).
type Open<'o, 'i> = &'o dyn Fn(&str) -> Result<Box<dyn ReadSeek + 'i>, RefiError>;

/// Finds the first element with a GUID: its name and line.
type FirstWithGuid<'d> = &'d dyn Fn(&GuidKey) -> Option<(String, usize)>;

/// Where the project's XML document is.
enum Document {
    /// A bare `.qde`: the input itself.
    Whole { name: String },
    /// The root `.qde` of a `.qdpx`.
    Entry { name: String, entry: String },
    /// Decoded from UTF-16.
    Decoded { name: String, text: Vec<u8> },
}

impl Document {
    fn name(&self) -> &str {
        match self {
            Document::Whole { name }
            | Document::Entry { name, .. }
            | Document::Decoded { name, .. } => name,
        }
    }

    /// Calls `f` with the document as a stream from its start (each call reads it again).
    fn with<'i, T, E: From<RefiError>>(
        &self,
        open: Open<'_, 'i>,
        limits: Limits,
        f: &mut dyn FnMut(&mut dyn BufRead) -> Result<T, E>,
    ) -> Result<T, E> {
        match self {
            Document::Whole { .. } => {
                let mut r = std::io::BufReader::with_capacity(1 << 16, open("the project")?);
                f(&mut r)
            }
            Document::Decoded { text, .. } => f(&mut text.as_slice()),
            Document::Entry { name, entry } => {
                let mut archive = Archive::open(name, open("the project")?, limits)?;
                let (stream, refused) = archive.stream(entry)?;
                let mut r = std::io::BufReader::with_capacity(1 << 16, stream);
                let result = f(&mut r);
                // A limit reached while reading says so, not as the parser's I/O error.
                match refused.borrow_mut().take() {
                    Some(why) => Err(E::from(why)),
                    None => result,
                }
            }
        }
    }
}

/// The first element in `input` whose `guid` is `key`: its name and line.
fn first_with_guid(file: &str, input: &mut dyn BufRead, key: &GuidKey) -> Option<(String, usize)> {
    let nowhere = |_: u64| (0, 0);
    let mut pull = Pull::new(file, input, &nowhere);
    loop {
        match pull.next().ok()? {
            Item::Start(e) if e.attr("guid").is_some_and(|g| guid_key(g) == *key) => {
                return Some((e.name.into_owned(), e.line));
            }
            Item::Eof => return None,
            _ => {}
        }
    }
}

/// Reads a `.qdc` codebook (a BOM, CRLF, namespace variants and Taguette's invalid empty
/// `<Sets/>` are accepted, the last with a warning).
pub fn read_codebook(file_name: &str, bytes: &[u8]) -> Result<(Codebook, Report), RefiError> {
    let text = decode_text(file_name, bytes)?;
    let root = xml::parse(file_name, &text)?;
    let mut none = Collect::default();
    let mut reader = Reader::new(file_name, None, &mut none, &ReadOptions::default());
    reader.check_root(&root, "CodeBook", CODEBOOK_NS)?;
    let mut codebook = Codebook {
        origin: root.attr("origin").map(str::to_string),
        ..Codebook::default()
    };
    reader.unknown(&root, &["Codes", "Sets"]);
    if let Some(codes) = root.first("Codes") {
        codebook.codes = reader.codes(codes)?;
    }
    if let Some(sets) = root.first("Sets") {
        codebook.sets = reader.sets(sets)?;
    }
    let known: HashSet<String> = all_codes(&codebook.codes)
        .map(|c| normalize_guid(&c.guid))
        .collect();
    let mut dangling = 0;
    for set in &mut codebook.sets {
        retain_known(&mut set.member_codes, &known, &mut dangling);
    }
    reader
        .report
        .drop("MemberCode", dangling, "names no code of the codebook");
    Ok((codebook, reader.report))
}

/// The sink of [`read_project`]: the whole project.
#[derive(Default)]
pub(crate) struct Collect {
    project: Project,
    text_sources: Vec<TextSource>,
    media_sources: Vec<MediaSource>,
}

impl Collect {
    #[cfg(test)]
    pub(crate) fn into_project(self) -> Project {
        self.project
    }
}

impl ProjectSink for Collect {
    type Error = RefiError;

    fn head(&mut self, _: &Project, _: &mut Report) -> Result<(), RefiError> {
        Ok(())
    }

    fn source(&mut self, source: ReadSource, _: &mut Report) -> Result<(), RefiError> {
        match source {
            ReadSource::Text(t) => self.text_sources.push(t),
            ReadSource::Media(m) => self.media_sources.push(m),
        }
        Ok(())
    }

    fn tail(&mut self, project: Project, _: &mut Report) -> Result<(), RefiError> {
        self.project = project;
        self.project.text_sources = std::mem::take(&mut self.text_sources);
        self.project.media_sources = std::mem::take(&mut self.media_sources);
        // The reader has counted the references to notes that are not there; they go.
        let notes: HashSet<String> = self
            .project
            .notes
            .iter()
            .map(|n| normalize_guid(&n.guid))
            .collect();
        let mut dangling = 0;
        visit_note_refs(&mut self.project, &mut |refs| {
            retain_known(refs, &notes, &mut dangling)
        });
        Ok(())
    }
}

/// Every code of a hierarchy, parents before children.
pub(crate) fn all_codes(codes: &[Code]) -> impl Iterator<Item = &Code> {
    Code::walk(codes).map(|(_, c)| c)
}

fn retain_known(refs: &mut Vec<Guid>, known: &HashSet<String>, dropped: &mut usize) {
    let before = refs.len();
    refs.retain(|g| known.contains(&normalize_guid(g)));
    *dropped += before - refs.len();
}

/// A selection's raw `(start, end)` as the file gives them, or why they cannot be read.
type RawPositions = Result<(i64, i64), String>;

/// A text whose selections wait for the unit to be decided.
#[derive(Debug)]
struct PendingText {
    /// The text, if it could be read.
    text: Option<String>,
    /// Raw `(start, end)` per selection of the source or transcript (`None`: unresolvable).
    raw: Vec<RawPositions>,
}

/// A source read whose selections wait for the position unit to be decided.
enum Waiting {
    Text(TextSource, PendingText),
    Media(MediaSource, Vec<PendingText>),
}

struct Reader<'d, S> {
    file: &'d str,
    /// The archive the texts are read from (`None` for a bare `.qde`).
    archive: Option<Archive<'d>>,
    sink: &'d mut S,
    streamed: bool,
    report: Report,
    /// Everything of the project but its sources, as read so far.
    project: Project,
    /// Whether [`ProjectSink::head`] has been called.
    head_given: bool,
    /// The unit the positions are read in, once decided.
    unit: Option<PositionUnit>,
    /// Sources whose placement depends on the unit (their texts have characters outside the
    /// BMP), until it is decided, and how many selections they hold.
    waiting: Vec<Waiting>,
    waiting_selections: usize,
    /// Whether any source had a selection.
    selections_read: bool,
    /// The GUID of every object read: standard ones as numbers, others as text.
    /// Every GUID read so far (Fx, a fast hash: a project is no adversary choosing GUIDs
    /// that collide).
    guid_numbers: FxHashSet<u128>,
    guid_texts: HashSet<String>,
    /// Where a GUID was first used, found by reading the document again (for the message).
    first_with_guid: Option<FirstWithGuid<'d>>,
    /// The normalised GUIDs of every code read so far.
    code_keys: FxHashSet<GuidKey>,
    /// The sources' GUIDs.
    source_keys: HashSet<GuidKey>,
    /// The notes the sources refer to (checked once the notes have been read).
    source_note_refs: Vec<GuidKey>,
    dangling_values: usize,
    /// Codings (guid, code guid, line) whose code was not (yet) known when they were read, in
    /// document order: checked against the whole codebook once the project has been read
    /// (a file may put its codebook after its sources).
    unknown_codings: Vec<(Guid, Guid, usize)>,
}

/// Most selections waiting for the unit to be decided.
const DECIDE_AFTER: usize = 4000;

impl<'d, S: ProjectSink> Reader<'d, S> {
    fn new(
        file: &'d str,
        archive: Option<Archive<'d>>,
        sink: &'d mut S,
        options: &ReadOptions,
    ) -> Self {
        Reader {
            file,
            archive,
            sink,
            streamed: options.streamed,
            report: Report::default(),
            project: Project::default(),
            head_given: false,
            unit: match options.unit {
                PositionUnit::Auto => None,
                unit => Some(unit),
            },
            waiting: Vec::new(),
            waiting_selections: 0,
            selections_read: false,
            guid_numbers: FxHashSet::default(),
            guid_texts: HashSet::new(),
            first_with_guid: None,
            code_keys: FxHashSet::default(),
            source_keys: HashSet::new(),
            source_note_refs: Vec::new(),
            dangling_values: 0,
            unknown_codings: Vec::new(),
        }
    }

    /// After the document: refuses the first coding (in document order) of a code the
    /// codebook does not have, places what waits, checks the references, and hands the sink
    /// the rest.
    fn finish(mut self) -> Result<Report, S::Error> {
        if let Some((coding, code, line)) = std::mem::take(&mut self.unknown_codings)
            .into_iter()
            .find(|(_, code, _)| !self.code_keys.contains(&guid_key(code)))
        {
            return Err(RefiError::UnknownCode {
                file: self.file.to_string(),
                line,
                coding,
                code,
            }
            .into());
        }
        self.give_head()?;
        self.decide_unit();
        self.flush()?;
        let unit = self.unit.unwrap_or(PositionUnit::CodePoints);
        self.report.unit = Some(unit);
        self.check_references();
        let project = std::mem::take(&mut self.project);
        self.sink.tail(project, &mut self.report)?;
        Ok(self.report)
    }

    fn give_head(&mut self) -> Result<(), S::Error> {
        if !self.head_given {
            self.head_given = true;
            self.sink.head(&self.project, &mut self.report)?;
        }
        Ok(())
    }

    /// A source read: placed and handed on, or kept until the unit is decided.
    fn deliver(&mut self, source: Waiting) -> Result<(), S::Error> {
        let needs_unit = |p: &PendingText| p.text.as_deref().is_some_and(has_astral);
        self.selections_read |= match &source {
            Waiting::Text(s, _) => !s.selections.is_empty(),
            Waiting::Media(m, _) => m.transcripts.iter().any(|t| !t.selections.is_empty()),
        };
        let depends = match &source {
            Waiting::Text(_, p) => needs_unit(p),
            Waiting::Media(_, ps) => ps.iter().any(needs_unit),
        };
        if !self.streamed || (depends && self.unit.is_none()) {
            self.waiting_selections += match &source {
                Waiting::Text(_, p) => p.raw.len(),
                Waiting::Media(_, ps) => ps.iter().map(|p| p.raw.len()).sum(),
            };
            self.waiting.push(source);
            if self.streamed && self.waiting_selections >= DECIDE_AFTER {
                self.decide_unit();
                self.flush()?;
            }
            return Ok(());
        }
        self.give_head()?;
        // Without characters outside the BMP both units count alike.
        let unit = self.unit.unwrap_or(PositionUnit::CodePoints);
        let placed = self.place(source, unit);
        self.sink.source(placed, &mut self.report)
    }

    /// Places and hands on the sources waiting for the unit (decided by now).
    fn flush(&mut self) -> Result<(), S::Error> {
        self.give_head()?;
        let unit = self.unit.unwrap_or(PositionUnit::CodePoints);
        for source in std::mem::take(&mut self.waiting) {
            let placed = self.place(source, unit);
            self.sink.source(placed, &mut self.report)?;
        }
        self.waiting_selections = 0;
        Ok(())
    }

    /// Decides the unit for `Auto` from the selections waiting (the only ones whose placement
    /// depends on it), or by the producer when there are none.
    fn decide_unit(&mut self) {
        if self.unit.is_some() {
            return;
        }
        let origin = self.project.origin.as_deref();
        // Each text with its selections (a transcript's raw positions start with its sync
        // points).
        let texts: Vec<(&PendingText, &[Selection])> = self
            .waiting
            .iter()
            .flat_map(|w| match w {
                Waiting::Text(s, p) => vec![(p, s.selections.as_slice())],
                Waiting::Media(m, ps) => ps
                    .iter()
                    .zip(&m.transcripts)
                    .map(|(p, t)| (p, t.selections.as_slice()))
                    .collect(),
            })
            .collect();
        // Only texts with characters outside the BMP tell the units apart (a whole read waits
        // with every text; they decide as they would streamed).
        let texts: Vec<_> = texts
            .into_iter()
            .filter(|(p, _)| p.text.as_deref().is_some_and(has_astral))
            .collect();
        let indexes: Vec<Option<TextIndex>> = texts
            .iter()
            .map(|(p, _)| p.text.as_deref().map(TextIndex::new))
            .collect();
        let mut spans = Vec::new();
        for ((p, selections), index) in texts.iter().zip(&indexes) {
            let (Some(index), Some(text)) = (index, p.text.as_deref()) else {
                continue;
            };
            let offset = p.raw.len() - selections.len();
            for (raw, selection) in p.raw[offset..].iter().zip(selections.iter()) {
                if let Ok((start, end)) = raw {
                    spans.push(RawSpan {
                        text: index,
                        source: text,
                        start: *start,
                        end: *end,
                        quote: selection.name.as_deref(),
                    });
                }
            }
        }
        let unit = if spans.is_empty() {
            let unit = if origin.is_some_and(|o| o.trim_start().starts_with("NVivo")) {
                PositionUnit::Utf16
            } else {
                PositionUnit::CodePoints
            };
            if self.selections_read {
                self.report.warn(format!(
                    "text positions read as {} (the unit of {}; no selected text has characters outside the BMP, the only ones the two units count differently)",
                    positions::unit_name(unit),
                    origin.unwrap_or("an unknown producer"),
                ));
            }
            unit
        } else {
            let (unit, why) = positions::decide(origin, &spans);
            self.report.warn(why);
            unit
        };
        self.unit = Some(unit);
    }

    /// Converts a source's selections (and sync points) to code points of its text.
    fn place(&mut self, source: Waiting, unit: PositionUnit) -> ReadSource {
        match source {
            Waiting::Text(mut source, p) => {
                self.check_values(&mut source.values);
                let index = p.text.as_deref().map(TextIndex::new);
                let label = source.name.clone().unwrap_or_else(|| source.guid.clone());
                let selections = std::mem::take(&mut source.selections);
                source.selections = self.convert(
                    &label,
                    &source.guid,
                    selections,
                    &p.raw,
                    index.as_ref(),
                    unit,
                );
                source.text = p.text.unwrap_or_default();
                ReadSource::Text(source)
            }
            Waiting::Media(mut media, pending) => {
                self.check_values(&mut media.values);
                for (transcript, p) in media.transcripts.iter_mut().zip(pending) {
                    self.place_transcript(transcript, p, unit);
                }
                ReadSource::Media(media)
            }
        }
    }

    /// Leaves out (and counts) values of variables the project does not define.
    fn check_values(&mut self, values: &mut Vec<VariableValue>) {
        let before = values.len();
        let variables = &self.project.variables;
        values.retain(|v| {
            let key = guid_key(&v.variable);
            variables.iter().any(|k| guid_key(&k.guid) == key)
        });
        self.dangling_values += before - values.len();
    }

    /// Notes the notes a source refers to (they are checked once the notes have been read).
    fn collect_note_refs(&mut self, source: &Waiting) {
        let mut refs: Vec<&Guid> = Vec::new();
        fn codings(cs: &[Coding]) -> impl Iterator<Item = &Guid> {
            cs.iter().flat_map(|c| &c.note_refs)
        }
        match source {
            Waiting::Text(s, _) => {
                refs.extend(&s.note_refs);
                refs.extend(codings(&s.codings));
                for sel in &s.selections {
                    refs.extend(&sel.note_refs);
                    refs.extend(codings(&sel.codings));
                }
            }
            Waiting::Media(m, _) => {
                refs.extend(&m.note_refs);
                refs.extend(codings(&m.codings));
                for sel in &m.selections {
                    refs.extend(&sel.note_refs);
                    refs.extend(codings(&sel.codings));
                }
                for sel in m.transcripts.iter().flat_map(|t| &t.selections) {
                    refs.extend(&sel.note_refs);
                    refs.extend(codings(&sel.codings));
                }
            }
        }
        self.source_note_refs
            .extend(refs.into_iter().map(|g| guid_key(g)));
    }

    /// The object's `guid`, registered as taken.
    fn guid(&mut self, el: &Element) -> Result<Guid, RefiError> {
        let raw = el
            .attr("guid")
            .ok_or_else(|| self.missing(el, "attribute guid"))?;
        self.register_guid(strip_braces(raw), el)
    }

    /// [`Reader::guid`], the attribute taken out of the element.
    fn take_guid(&mut self, el: &mut Element) -> Result<Guid, RefiError> {
        match el.take("guid") {
            Some(raw) => self.register_guid(braces_stripped(raw), el),
            None => Err(self.missing(el, "attribute guid")),
        }
    }

    /// The GUID of `el`, or an error if an element before it had it.
    fn register_guid(&mut self, guid: Guid, el: &Element) -> Result<Guid, RefiError> {
        let key = guid_key(&guid);
        let new = match &key {
            GuidKey::Number(n) => self.guid_numbers.insert(*n),
            GuidKey::Text(t) => self.guid_texts.insert(t.clone()),
        };
        if new {
            return Ok(guid);
        }
        let (first, first_line) = self
            .first_with_guid
            .and_then(|find| find(&key))
            .unwrap_or_else(|| ("?".into(), 0));
        Err(RefiError::DuplicateGuid {
            file: self.file.to_string(),
            guid,
            first,
            first_line,
            second: el.name.to_string(),
            second_line: el.line,
        })
    }

    fn check_root(&mut self, root: &Element, name: &str, ns_prefix: &str) -> Result<(), RefiError> {
        let namespace_ok = match &root.ns {
            None => {
                self.report.warn(format!(
                    "<{}> has no namespace; read as {ns_prefix}1.0",
                    root.name
                ));
                true
            }
            Some(ns) if ns.starts_with(ns_prefix) => {
                if **ns != *format!("{ns_prefix}1.0") {
                    self.report
                        .warn(format!("namespace {ns} read as {ns_prefix}1.0"));
                }
                true
            }
            Some(_) => false,
        };
        if root.name != name || !namespace_ok {
            let found = match &root.ns {
                Some(ns) => format!("<{}> in the namespace {ns}", root.name),
                None => format!("<{}>", root.name),
            };
            return Err(RefiError::WrongRoot {
                file: self.file.to_string(),
                found,
                expected: name.to_string(),
                namespace: format!("{ns_prefix}1.0"),
            });
        }
        Ok(())
    }

    fn missing(&self, el: &Element, what: &str) -> RefiError {
        RefiError::Missing {
            file: self.file.to_string(),
            line: el.line,
            element: el.name.to_string(),
            what: what.to_string(),
        }
    }

    /// A required attribute.
    fn req(&self, el: &Element, attr: &str) -> Result<String, RefiError> {
        el.attr(attr)
            .map(str::to_string)
            .ok_or_else(|| self.missing(el, &format!("attribute {attr}")))
    }

    /// Reports children this reader does not know (or does not keep) as dropped.
    fn unknown(&mut self, el: &Element, known: &[&str]) {
        for child in &el.children {
            if !known.contains(&&*child.name) {
                let why = format!("not read inside <{}>", el.name);
                self.report.drop(&child.name, 1, &why);
            }
        }
    }

    fn bool_attr(&mut self, el: &Element, attr: &str, default: bool) -> bool {
        match el.attr(attr) {
            None => {
                self.report.warn(format!(
                    "line {}: <{}> has no {attr}; read as {default}",
                    el.line, el.name
                ));
                default
            }
            Some(v) => parse_bool(v).unwrap_or_else(|| {
                let line = el.line;
                self.report.warn(format!(
                    "line {line}: <{}> {attr}={v:?} is not a boolean; read as {default}",
                    el.name
                ));
                default
            }),
        }
    }

    /// The codes under `Codes`, without recursion (the elements nest at most
    /// [`crate::MAX_XML_DEPTH`] deep, but each level here would take a large frame).
    fn codes(&mut self, codes: &Element) -> Result<Vec<Code>, RefiError> {
        self.unknown(codes, &["Code"]);
        // Each open code with the child elements still to read; the top holds the result.
        let mut open: Vec<(Code, _)> = Vec::new();
        let mut top = Vec::new();
        let mut next = codes.all("Code");
        loop {
            match next.next() {
                Some(el) => {
                    let code = self.code(el)?;
                    open.push((code, std::mem::replace(&mut next, el.all("Code"))));
                }
                None => {
                    let Some((code, siblings)) = open.pop() else {
                        return Ok(top);
                    };
                    next = siblings;
                    match open.last_mut() {
                        Some((parent, _)) => parent.children.push(code),
                        None => top.push(code),
                    }
                }
            }
        }
    }

    /// One code without its children.
    fn code(&mut self, el: &Element) -> Result<Code, RefiError> {
        self.unknown(el, &["Description", "NoteRef", "Code"]);
        let guid = self.guid(el)?;
        let name = el.attr("name").map(str::to_string).unwrap_or_else(|| {
            self.report
                .warn(format!("line {}: code {guid} has no name", el.line));
            String::new()
        });
        let is_codable = self.bool_attr(el, "isCodable", true);
        let color = el.attr("color").and_then(|c| {
            let parsed = parse_color(c);
            if parsed.is_none() {
                self.report.warn(format!(
                    "code {name:?}: the colour {c:?} is not #RRGGBB or #RGB; dropped"
                ));
            }
            parsed
        });
        Ok(Code {
            guid,
            name,
            is_codable,
            color,
            description: description(el),
            note_refs: refs(el, "NoteRef"),
            children: Vec::new(),
        })
    }

    fn sets(&mut self, sets: &Element) -> Result<Vec<Set>, RefiError> {
        if sets.first("Set").is_none() {
            self.report.warn(format!(
                "line {}: an empty <Sets/> is not valid QDA-XML (Sets needs at least one Set); read as no sets",
                sets.line
            ));
        }
        self.unknown(sets, &["Set"]);
        sets.all("Set")
            .map(|s| {
                self.unknown(
                    s,
                    &["Description", "MemberCode", "MemberSource", "MemberNote"],
                );
                let member = |name| {
                    s.all(name)
                        .filter_map(|m| m.attr("targetGUID").or(m.attr("guid")))
                        .map(strip_braces)
                        .collect()
                };
                Ok(Set {
                    guid: self.guid(s)?,
                    name: self.req(s, "name")?,
                    description: description(s),
                    member_codes: member("MemberCode"),
                    member_sources: member("MemberSource"),
                    member_notes: member("MemberNote"),
                })
            })
            .collect()
    }

    /// The project read from the root's start to its end. The sources are read element by
    /// element and handed on as they come ([`Reader::deliver`]); the other parts (codebook,
    /// users, variables, cases, notes, sets …) are small and read whole.
    fn project<R: BufRead>(&mut self, p: &mut Pull<'_, R>, root: Element) -> Result<(), S::Error> {
        let name = root.attr("name").map(str::to_string).unwrap_or_else(|| {
            self.report.warn("the project has no name");
            String::new()
        });
        self.project = Project {
            name,
            origin: attr(&root, "origin"),
            creating_user: guid_attr(&root, "creatingUserGUID"),
            creation_date_time: attr(&root, "creationDateTime"),
            modifying_user: guid_attr(&root, "modifyingUserGUID"),
            modified_date_time: attr(&root, "modifiedDateTime"),
            base_path: attr(&root, "basePath"),
            ..Project::default()
        };
        while let Some(el) = p.child()? {
            if self.head_given && matches!(&*el.name, "Users" | "CodeBook" | "Variables" | "Cases")
            {
                return Err(RefiError::NotStreamable {
                    file: self.file.to_string(),
                    element: el.name.to_string(),
                    line: el.line,
                }
                .into());
            }
            match &*el.name {
                "Sources" => self.sources(p)?,
                "Users" => {
                    let users = p.subtree(el)?;
                    self.unknown(&users, &["User"]);
                    for u in users.all("User") {
                        let user = User {
                            guid: self.guid(u)?,
                            name: attr(u, "name"),
                            id: attr(u, "id"),
                        };
                        self.project.users.push(user);
                    }
                }
                "CodeBook" => {
                    let book = p.subtree(el)?;
                    self.unknown(&book, &["Codes"]);
                    for codes in book.all("Codes") {
                        let mut codes = self.codes(codes)?;
                        self.code_keys
                            .extend(all_codes(&codes).map(|c| guid_key(&c.guid)));
                        self.project.codes.append(&mut codes);
                    }
                }
                "Variables" => {
                    let variables = p.subtree(el)?;
                    self.unknown(&variables, &["Variable"]);
                    for v in variables.all("Variable") {
                        let variable = self.variable(v)?;
                        self.project.variables.extend(variable);
                    }
                }
                "Cases" => {
                    let cases = p.subtree(el)?;
                    self.unknown(&cases, &["Case"]);
                    for c in cases.all("Case") {
                        let case = self.case(c)?;
                        self.project.cases.push(case);
                    }
                }
                "Notes" => {
                    let notes = p.subtree(el)?;
                    self.unknown(&notes, &["Note"]);
                    for n in notes.all("Note") {
                        let note = self.note(n)?;
                        self.project.notes.push(note);
                    }
                }
                "Links" => {
                    let n = p.skip("Link")?;
                    self.report
                        .drop("Link", n, "between does not hold links between objects");
                }
                "Graphs" => {
                    let n = p.skip("Graph")?;
                    self.report
                        .drop("Graph", n, "between does not hold graphs (network views)");
                }
                "Sets" => {
                    let sets = p.subtree(el)?;
                    let mut sets = self.sets(&sets)?;
                    self.project.sets.append(&mut sets);
                }
                "Description" => {
                    let text = p.text()?;
                    self.project
                        .description
                        .get_or_insert_with(|| text.into_owned());
                }
                "NoteRef" => {
                    self.project
                        .note_refs
                        .extend(el.attr("targetGUID").map(strip_braces));
                    p.skip("")?;
                }
                other => {
                    self.report.drop(other, 1, "not read inside <Project>");
                    p.skip("")?;
                }
            }
        }
        Ok(())
    }

    /// The sources inside `<Sources>`, up to its end.
    fn sources<R: BufRead>(&mut self, p: &mut Pull<'_, R>) -> Result<(), S::Error> {
        while let Some(s) = p.child()? {
            match &*s.name {
                "TextSource" => {
                    let (source, text) = self.text_source(p, s)?;
                    self.source_keys.insert(guid_key(&source.guid));
                    let source = Waiting::Text(source, text);
                    self.collect_note_refs(&source);
                    self.deliver(source)?;
                }
                "AudioSource" | "VideoSource" => {
                    let s = p.subtree(s)?;
                    let (source, texts) = self.media_source(&s)?;
                    // A case may name the recording or a transcript of it (between names the
                    // transcript, which it holds as the source).
                    self.source_keys.insert(guid_key(&source.guid));
                    self.source_keys
                        .extend(source.transcripts.iter().map(|t| guid_key(&t.guid)));
                    let source = Waiting::Media(source, texts);
                    self.collect_note_refs(&source);
                    self.deliver(source)?;
                }
                "PDFSource" | "PictureSource" => {
                    self.report.drop(&s.name, 1, ONLY_TEXT);
                    let codings = p.skip("Coding")?;
                    self.report
                        .drop("Coding", codings, "on a PDF or picture source");
                }
                other => {
                    self.report.drop(other, 1, "not a QDA-XML 1.0 source");
                    p.skip("")?;
                }
            }
        }
        Ok(())
    }

    fn case(&mut self, c: &Element) -> Result<Case, RefiError> {
        self.unknown(
            c,
            &[
                "Description",
                "CodeRef",
                "VariableValue",
                "SourceRef",
                "SelectionRef",
            ],
        );
        Ok(Case {
            guid: self.guid(c)?,
            name: attr(c, "name"),
            description: description(c),
            code_refs: refs(c, "CodeRef"),
            values: self.values(c),
            source_refs: refs(c, "SourceRef"),
            selection_refs: refs(c, "SelectionRef"),
        })
    }

    fn variable(&mut self, v: &Element) -> Result<Option<Variable>, RefiError> {
        self.unknown(v, &["Description"]);
        let guid = self.guid(v)?;
        let name = self.req(v, "name")?;
        let kind = match v.attr("typeOfVariable").map(str::trim) {
            Some("Text") => VariableType::Text,
            Some("Boolean") => VariableType::Boolean,
            Some("Integer") => VariableType::Integer,
            Some("Float") => VariableType::Float,
            Some("Date") => VariableType::Date,
            Some("DateTime") => VariableType::DateTime,
            other => {
                self.report.warn(format!(
                    "variable {name:?} has the unknown type {other:?}; dropped"
                ));
                self.report.drop("Variable", 1, "of an unknown type");
                return Ok(None);
            }
        };
        Ok(Some(Variable {
            guid,
            name,
            kind,
            description: description(v),
        }))
    }

    fn values(&mut self, el: &Element) -> Vec<VariableValue> {
        el.all("VariableValue")
            .filter_map(|vv| self.value(vv))
            .collect()
    }

    /// A `VariableValue`, or `None` (with a warning) when it cannot be read.
    fn value(&mut self, vv: &Element) -> Option<VariableValue> {
        let line = vv.line;
        let Some(variable) = vv
            .first("VariableRef")
            .and_then(|r| r.attr("targetGUID"))
            .map(strip_braces)
        else {
            self.report.warn(format!(
                "line {line}: a VariableValue without a VariableRef; dropped"
            ));
            return None;
        };
        let Some(v) = vv.children.iter().find(|c| c.name != "VariableRef") else {
            self.report.warn(format!(
                "line {line}: a VariableValue without a value; dropped"
            ));
            return None;
        };
        let t = v.text.trim();
        let value = match &*v.name {
            "TextValue" => Some(Value::Text(v.text.to_string())),
            "BooleanValue" => parse_bool(t).map(Value::Boolean),
            "IntegerValue" => t.parse().ok().map(Value::Integer),
            "FloatValue" => t
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Value::Float),
            "DateValue" => Some(Value::Date(t.to_string())),
            "DateTimeValue" => Some(Value::DateTime(t.to_string())),
            _ => None,
        };
        if value.is_none() {
            self.report.warn(format!(
                "line {line}: <{}>{t}</{}> cannot be read; dropped",
                v.name, v.name
            ));
        }
        value.map(|value| VariableValue { variable, value })
    }

    /// The text of a source, note or transcript, from `PlainTextContent` or its `plainTextPath`.
    fn resolve_text(&mut self, what: &str, el: &Element) -> Result<Option<String>, RefiError> {
        if let Some(content) = el.first("PlainTextContent") {
            return Ok(Some(content_text(&content.text)));
        }
        self.text_at_path(what, el.attr("plainTextPath"))
    }

    /// The text a `plainTextPath` names, read from the archive's sources folder.
    fn text_at_path(
        &mut self,
        what: &str,
        path: Option<&str>,
    ) -> Result<Option<String>, RefiError> {
        let Some(path) = path else {
            self.report.warn(format!(
                "{what} has neither PlainTextContent nor plainTextPath: its text is empty"
            ));
            return Ok(None);
        };
        let (file_name, internal) = match path.strip_prefix("internal://") {
            Some(name) => (name, true),
            None if path.starts_with("relative://") || path.starts_with("absolute://") => {
                self.report.warn(format!(
                    "{what}: its text {path:?} lies outside the project and cannot be read"
                ));
                return Ok(None);
            }
            None => (path.rsplit('/').next().unwrap_or(path), false),
        };
        let Some(archive) = self.archive.as_mut() else {
            self.report.warn(format!(
                "{what}: {path:?} cannot be read from a bare .qde (no sources folder)"
            ));
            return Ok(None);
        };
        let Some((entry, inexact)) = archive.find_source(file_name) else {
            self.report.warn(format!(
                "{what}: {path:?} is not in the archive's sources folder"
            ));
            return Ok(None);
        };
        if !internal {
            self.report.warn(format!(
                "{what}: plainTextPath {path:?} is not an internal:// URL (other tools lose such texts); read {entry}"
            ));
        } else if inexact {
            self.report.warn(format!(
                "{what}: {path:?} found as {entry} (letter case differs)"
            ));
        }
        let bytes = archive.read(&entry)?;
        Ok(Some(decode_vec(&entry, bytes)?))
    }

    /// A text source, read from its start (just given by `p`) to its end.
    fn text_source<R: BufRead>(
        &mut self,
        p: &mut Pull<'_, R>,
        s: Element,
    ) -> Result<(TextSource, PendingText), RefiError> {
        let guid = self.guid(&s)?;
        let name = attr(&s, "name");
        if s.attr("richTextPath").is_some() {
            self.report
                .drop("richTextPath", 1, "between reads the plain text only");
        }
        let mut source = TextSource {
            guid,
            name,
            text: String::new(),
            plain_text_path: attr(&s, "plainTextPath"),
            creating_user: guid_attr(&s, "creatingUser"),
            creation_date_time: attr(&s, "creationDateTime"),
            modifying_user: guid_attr(&s, "modifyingUser"),
            modified_date_time: attr(&s, "modifiedDateTime"),
            ..TextSource::default()
        };
        let mut content: Option<String> = None;
        let mut raw = Vec::new();
        while let Some(el) = p.child()? {
            match &*el.name {
                "PlainTextSelection" => {
                    let (selection, positions) = self.selection(p, el)?;
                    source.selections.push(selection);
                    raw.push(positions);
                }
                "Coding" => {
                    let coding = self.coding(p, el)?;
                    source.codings.push(coding);
                }
                "Description" => {
                    let text = p.text()?;
                    source.description.get_or_insert_with(|| text.into_owned());
                }
                "PlainTextContent" => {
                    let text = p.text()?;
                    content.get_or_insert_with(|| content_text(&text));
                }
                "NoteRef" => {
                    source
                        .note_refs
                        .extend(el.attr("targetGUID").map(strip_braces));
                    p.skip("")?;
                }
                "VariableValue" => {
                    let vv = p.subtree(el)?;
                    source.values.extend(self.value(&vv));
                }
                other => {
                    self.report.drop(other, 1, "not read inside <TextSource>");
                    p.skip("")?;
                }
            }
        }
        let what = format!(
            "TextSource {}",
            source
                .name
                .as_deref()
                .map_or_else(|| source.guid.clone(), |n| format!("{n:?}"))
        );
        let text = match content {
            Some(text) => Some(text),
            None => self.text_at_path(&what, s.attr("plainTextPath"))?,
        };
        if let Some(t) = text.as_deref().filter(|t| t.trim().is_empty()) {
            self.report.warn(format!(
                "{what} has no text ({} characters, all white space): the tool that wrote it may have lost it",
                t.chars().count()
            ));
        }
        Ok((source, PendingText { text, raw }))
    }

    /// A text selection with its raw positions (an `Err` says why they cannot be read), read
    /// from its start (just given by `p`) to its end.
    fn selection<R: BufRead>(
        &mut self,
        p: &mut Pull<'_, R>,
        sel: Element,
    ) -> Result<(Selection, RawPositions), RefiError> {
        let int = |name: &str| {
            let v = sel.attr(name).ok_or_else(|| format!("no {name}"))?;
            v.trim()
                .parse::<i64>()
                .map_err(|_| format!("{name}={v:?} is not an integer"))
        };
        let positions = int("startPosition").and_then(|s| Ok((s, int("endPosition")?)));
        let mut sel = sel;
        let mut selection = Selection {
            guid: self.take_guid(&mut sel)?,
            name: sel.take("name"),
            creating_user: take_guid_attr(&mut sel, "creatingUser"),
            creation_date_time: sel.take("creationDateTime"),
            modifying_user: take_guid_attr(&mut sel, "modifyingUser"),
            modified_date_time: sel.take("modifiedDateTime"),
            ..Selection::default()
        };
        while let Some(el) = p.child()? {
            match &*el.name {
                "Coding" => {
                    let coding = self.coding(p, el)?;
                    selection.codings.push(coding);
                }
                "Description" => {
                    let text = p.text()?;
                    selection
                        .description
                        .get_or_insert_with(|| text.into_owned());
                }
                "NoteRef" => {
                    selection
                        .note_refs
                        .extend(el.attr("targetGUID").map(strip_braces));
                    p.skip("")?;
                }
                other => {
                    self.report
                        .drop(other, 1, "not read inside <PlainTextSelection>");
                    p.skip("")?;
                }
            }
        }
        Ok((selection, positions))
    }

    /// A coding, read from its start (just given by `p`) to its end.
    fn coding<R: BufRead>(
        &mut self,
        p: &mut Pull<'_, R>,
        mut c: Element,
    ) -> Result<Coding, RefiError> {
        let guid = self.take_guid(&mut c)?;
        let mut code = None;
        let mut note_refs = Vec::new();
        while let Some(el) = p.child()? {
            match &*el.name {
                "CodeRef" => {
                    if code.is_none() {
                        let mut el = el;
                        let target = el.take("targetGUID");
                        code = Some(match target {
                            Some(g) => braces_stripped(g),
                            None => return Err(self.missing(&el, "attribute targetGUID")),
                        });
                    }
                    p.skip("")?;
                }
                "NoteRef" => {
                    note_refs.extend(el.attr("targetGUID").map(strip_braces));
                    p.skip("")?;
                }
                other => {
                    self.report.drop(other, 1, "not read inside <Coding>");
                    p.skip("")?;
                }
            }
        }
        let code = code.ok_or_else(|| self.missing(&c, "CodeRef"))?;
        self.check_code(&guid, &code, c.line);
        Ok(Coding {
            guid,
            code,
            creating_user: take_guid_attr(&mut c, "creatingUser"),
            creation_date_time: c.take("creationDateTime"),
            note_refs,
        })
    }

    /// Notes a coding whose code the codebook read so far does not have.
    fn check_code(&mut self, coding: &str, code: &str, line: usize) {
        if !self.code_keys.contains(&guid_key(code)) {
            self.unknown_codings
                .push((coding.to_string(), code.to_string(), line));
        }
    }

    /// The codings directly inside an element read whole (a media source or selection).
    fn codings(&mut self, el: &Element) -> Result<Vec<Coding>, RefiError> {
        el.all("Coding")
            .map(|c| {
                self.unknown(c, &["CodeRef", "NoteRef"]);
                let guid = self.guid(c)?;
                let code_ref = c
                    .first("CodeRef")
                    .ok_or_else(|| self.missing(c, "CodeRef"))?;
                let code = strip_braces(&self.req(code_ref, "targetGUID")?);
                self.check_code(&guid, &code, c.line);
                Ok(Coding {
                    guid,
                    code,
                    creating_user: guid_attr(c, "creatingUser"),
                    creation_date_time: attr(c, "creationDateTime"),
                    note_refs: refs(c, "NoteRef"),
                })
            })
            .collect()
    }

    fn media_source(&mut self, s: &Element) -> Result<(MediaSource, Vec<PendingText>), RefiError> {
        let (kind, selection_name) = if s.name == "AudioSource" {
            (MediaKind::Audio, "AudioSelection")
        } else {
            (MediaKind::Video, "VideoSelection")
        };
        self.unknown(
            s,
            &[
                "Description",
                "Transcript",
                selection_name,
                "Coding",
                "NoteRef",
                "VariableValue",
            ],
        );
        let mut source = MediaSource {
            kind,
            guid: self.guid(s)?,
            name: attr(s, "name"),
            path: attr(s, "path"),
            current_path: attr(s, "currentPath"),
            description: description(s),
            transcripts: Vec::new(),
            selections: Vec::new(),
            codings: self.codings(s)?,
            note_refs: refs(s, "NoteRef"),
            values: self.values(s),
        };
        let mut pending = Vec::new();
        for t in s.all("Transcript") {
            let (transcript, text) = self.transcript(t)?;
            source.transcripts.push(transcript);
            pending.push(text);
        }
        for sel in s.all(selection_name) {
            self.unknown(sel, &["Description", "Coding", "NoteRef"]);
            let guid = self.guid(sel)?;
            let ms = |name| sel.attr(name).and_then(|v| v.trim().parse::<u64>().ok());
            let codings = self.codings(sel)?;
            match (ms("begin"), ms("end")) {
                (Some(begin_ms), Some(end_ms)) if begin_ms <= end_ms => {
                    source.selections.push(MediaSelection {
                        guid,
                        name: attr(sel, "name"),
                        begin_ms,
                        end_ms,
                        codings,
                        note_refs: refs(sel, "NoteRef"),
                    })
                }
                _ => {
                    self.report.warn(format!(
                        "{selection_name} {guid}: begin {:?} and end {:?} are not a time span in milliseconds; dropped",
                        sel.attr("begin"),
                        sel.attr("end")
                    ));
                    self.report.drop(selection_name, 1, "not a time span");
                }
            }
        }
        Ok((source, pending))
    }

    fn transcript(&mut self, t: &Element) -> Result<(Transcript, PendingText), RefiError> {
        self.unknown(
            t,
            &[
                "Description",
                "PlainTextContent",
                "SyncPoint",
                "TranscriptSelection",
                "NoteRef",
            ],
        );
        let guid = self.guid(t)?;
        let name = attr(t, "name");
        let what = format!(
            "Transcript {}",
            name.as_deref()
                .map_or_else(|| guid.clone(), |n| format!("{n:?}"))
        );
        let text = self.resolve_text(&what, t)?;
        let mut transcript = Transcript {
            guid,
            name,
            plain_text_path: attr(t, "plainTextPath"),
            ..Transcript::default()
        };
        // Sync points first (as pseudo-selections of length 0), then the selections between them.
        let mut raw = Vec::new();
        let mut sync_raw: HashMap<String, i64> = HashMap::new();
        for sp in t.all("SyncPoint") {
            let guid = self.guid(sp)?;
            let int = |name| sp.attr(name).and_then(|v| v.trim().parse::<i64>().ok());
            match (
                int("timeStamp").and_then(|t| u64::try_from(t).ok()),
                int("position"),
            ) {
                (Some(time_ms), Some(position)) => {
                    sync_raw.insert(normalize_guid(&guid), position);
                    transcript.sync_points.push(SyncPoint {
                        guid,
                        time_ms,
                        position: 0,
                    });
                    raw.push(Ok((position, position)));
                }
                _ => {
                    self.report.warn(format!(
                        "{what}: sync point {guid} lacks a time stamp or position; dropped"
                    ));
                    self.report
                        .drop("SyncPoint", 1, "without a time stamp or position");
                }
            }
        }
        for sel in t.all("TranscriptSelection") {
            self.unknown(sel, &["Description", "Coding", "NoteRef"]);
            let end_of = |name: &str| {
                let g = sel.attr(name).ok_or_else(|| format!("no {name}"))?;
                sync_raw
                    .get(&normalize_guid(g))
                    .copied()
                    .ok_or_else(|| format!("{name} {g} names no sync point of the transcript"))
            };
            let positions = end_of("fromSyncPoint").and_then(|s| Ok((s, end_of("toSyncPoint")?)));
            let selection = Selection {
                guid: self.guid(sel)?,
                name: attr(sel, "name"),
                creating_user: guid_attr(sel, "creatingUser"),
                creation_date_time: attr(sel, "creationDateTime"),
                modifying_user: guid_attr(sel, "modifyingUser"),
                modified_date_time: attr(sel, "modifiedDateTime"),
                description: description(sel),
                codings: self.codings(sel)?,
                note_refs: refs(sel, "NoteRef"),
                ..Selection::default()
            };
            transcript.selections.push(selection);
            raw.push(positions);
        }
        Ok((transcript, PendingText { text, raw }))
    }

    fn note(&mut self, n: &Element) -> Result<Note, RefiError> {
        self.unknown(n, &["Description", "PlainTextContent"]);
        let guid = self.guid(n)?;
        let name = attr(n, "name");
        let what = format!(
            "Note {}",
            name.as_deref()
                .map_or_else(|| guid.clone(), |n| format!("{n:?}"))
        );
        let text = self.resolve_text(&what, n)?.unwrap_or_default();
        Ok(Note {
            guid,
            name,
            text,
            creating_user: guid_attr(n, "creatingUser"),
            creation_date_time: attr(n, "creationDateTime"),
            modifying_user: guid_attr(n, "modifyingUser"),
            modified_date_time: attr(n, "modifiedDateTime"),
            description: description(n),
        })
    }
}

impl<S: ProjectSink> Reader<'_, S> {
    /// Converts a transcript's sync points and selections to code points of its text, leaving
    /// out (and reporting) what cannot be placed.
    fn place_transcript(
        &mut self,
        transcript: &mut Transcript,
        p: PendingText,
        unit: PositionUnit,
    ) {
        let index = p.text.as_deref().map(TextIndex::new);
        let label = transcript
            .name
            .clone()
            .unwrap_or_else(|| transcript.guid.clone());
        let n_sync = transcript.sync_points.len();
        let (sync_raw, sel_raw) = p.raw.split_at(n_sync);
        let mut kept = Vec::new();
        for (sp, raw) in std::mem::take(&mut transcript.sync_points)
            .into_iter()
            .zip(sync_raw)
        {
            let Ok((pos, _)) = raw else { continue };
            let converted = match &index {
                Some(index) => index.to_code_points(*pos, unit).map_err(|m| m.why()),
                None if *pos == 0 => Ok(0),
                None => Err("the transcript's text could not be read"),
            };
            match converted {
                Ok(position) => kept.push(SyncPoint { position, ..sp }),
                Err(why) => {
                    self.report.warn(format!(
                        "{label}: sync point {} at {pos} dropped: {why}",
                        sp.guid
                    ));
                    self.report
                        .drop("SyncPoint", 1, "could not be placed in its transcript");
                }
            }
        }
        transcript.sync_points = kept;
        let selections = std::mem::take(&mut transcript.selections);
        transcript.selections = self.convert(
            &label,
            &transcript.guid,
            selections,
            sel_raw,
            index.as_ref(),
            unit,
        );
        transcript.text = p.text.unwrap_or_default();
    }

    fn convert(
        &mut self,
        label: &str,
        source_guid: &str,
        selections: Vec<Selection>,
        raw: &[RawPositions],
        index: Option<&TextIndex>,
        unit: PositionUnit,
    ) -> Vec<Selection> {
        let mut kept = Vec::new();
        for (selection, raw) in selections.into_iter().zip(raw) {
            let (start, end) = match raw {
                Ok((s, e)) => (Some(*s), Some(*e)),
                Err(_) => (None, None),
            };
            let placed = raw.clone().and_then(|(s, e)| {
                let index = index.ok_or("the source's text could not be read")?;
                let at = |p: i64, which: &str| {
                    index
                        .to_code_points(p, unit)
                        .map_err(|m| format!("the {which} is {}", m.why()))
                };
                let (cs, ce) = (at(s, "start")?, at(e, "end")?);
                if cs > ce {
                    return Err(format!(
                        "the end comes before the start (text of {} characters)",
                        index.len()
                    ));
                }
                Ok((cs, ce))
            });
            match placed {
                Ok((s, e)) if s == e => {
                    self.report.warn(format!(
                        "{label}: selection {} is empty (at {s}); dropped",
                        selection.guid
                    ));
                    self.report
                        .drop("PlainTextSelection", 1, "empty (zero length)");
                }
                Ok((s, e)) => kept.push(Selection {
                    start: s,
                    end: e,
                    ..selection
                }),
                Err(why) => {
                    self.report
                        .drop("PlainTextSelection", 1, "could not be placed in its text");
                    self.report.unplaced.push(Unplaced {
                        source: label.to_string(),
                        source_guid: source_guid.to_string(),
                        selection: selection.guid,
                        start,
                        end,
                        why,
                    });
                }
            }
        }
        kept
    }

    /// Drops (with a report) references to objects that are not there or not kept: in the
    /// project's own parts here; in the sources, those to notes are counted (the sink was
    /// given them before the notes were read).
    fn check_references(&mut self) {
        let project = &mut self.project;
        let codes: HashSet<String> = all_codes(&project.codes)
            .map(|c| normalize_guid(&c.guid))
            .collect();
        let notes: HashSet<String> = project
            .notes
            .iter()
            .map(|n| normalize_guid(&n.guid))
            .collect();
        let note_keys: HashSet<GuidKey> = project.notes.iter().map(|n| guid_key(&n.guid)).collect();
        let mut dangling_notes = self
            .source_note_refs
            .iter()
            .filter(|k| !note_keys.contains(k))
            .count();
        visit_note_refs(project, &mut |refs| {
            retain_known(refs, &notes, &mut dangling_notes)
        });
        if dangling_notes > 0 {
            self.report.warn(format!(
                "{dangling_notes} NoteRef(s) name no note of the project; left out"
            ));
            self.report.drop("NoteRef", dangling_notes, "names no note");
        }
        let mut dangling = 0;
        let mut dangling_values = self.dangling_values;
        let variables: HashSet<String> = project
            .variables
            .iter()
            .map(|v| normalize_guid(&v.guid))
            .collect();
        for case in &mut project.cases {
            retain_known(&mut case.code_refs, &codes, &mut dangling);
            let before = case.source_refs.len();
            case.source_refs
                .retain(|g| self.source_keys.contains(&guid_key(g)));
            dangling += before - case.source_refs.len();
            // A selection never there (or in a source not read) is named: a case's selections
            // are what it is about.
            let (numbers, texts) = (&self.guid_numbers, &self.guid_texts);
            let (mut kept, mut gone) = (Vec::new(), Vec::new());
            for g in std::mem::take(&mut case.selection_refs) {
                let known = match guid_key(&g) {
                    GuidKey::Number(n) => numbers.contains(&n),
                    GuidKey::Text(t) => texts.contains(&t),
                };
                if known { kept.push(g) } else { gone.push(g) }
            }
            case.selection_refs = kept;
            let case_name = case.name.as_deref().unwrap_or(&case.guid);
            for g in &gone {
                self.report.warn(format!(
                    "case {case_name}: SelectionRef {g} names no selection of the project (or one in a PDF or picture source); left out"
                ));
            }
            self.report.drop(
                "SelectionRef",
                gone.len(),
                "names no selection between read",
            );
            let before = case.values.len();
            case.values
                .retain(|v| variables.contains(&normalize_guid(&v.variable)));
            dangling_values += before - case.values.len();
        }
        for set in &mut project.sets {
            retain_known(&mut set.member_codes, &codes, &mut dangling);
            let before = set.member_sources.len();
            set.member_sources
                .retain(|g| self.source_keys.contains(&guid_key(g)));
            dangling += before - set.member_sources.len();
            retain_known(&mut set.member_notes, &notes, &mut dangling);
        }
        self.report.drop(
            "reference",
            dangling,
            "to an object the project does not have or between does not hold",
        );
        self.report.drop(
            "VariableValue",
            dangling_values,
            "of a variable the project does not define",
        );
    }
}

/// Whether a text has characters outside the BMP (two UTF-16 units each): only then do the
/// two position units differ.
fn has_astral(text: &str) -> bool {
    text.bytes().any(|b| b >= 0xF0)
}

/// Calls `f` on every list of note references in the project.
fn visit_note_refs(project: &mut Project, f: &mut dyn FnMut(&mut Vec<Guid>)) {
    fn codes_of(codes: &mut [Code], f: &mut dyn FnMut(&mut Vec<Guid>)) {
        let mut left: Vec<&mut Code> = codes.iter_mut().collect();
        while let Some(code) = left.pop() {
            f(&mut code.note_refs);
            left.extend(code.children.iter_mut());
        }
    }
    fn codings(codings: &mut [Coding], f: &mut dyn FnMut(&mut Vec<Guid>)) {
        codings.iter_mut().for_each(|c| f(&mut c.note_refs));
    }
    fn selections(selections: &mut [Selection], f: &mut dyn FnMut(&mut Vec<Guid>)) {
        for s in selections {
            f(&mut s.note_refs);
            codings(&mut s.codings, f);
        }
    }
    f(&mut project.note_refs);
    codes_of(&mut project.codes, f);
    for s in &mut project.text_sources {
        f(&mut s.note_refs);
        codings(&mut s.codings, f);
        selections(&mut s.selections, f);
    }
    for m in &mut project.media_sources {
        f(&mut m.note_refs);
        codings(&mut m.codings, f);
        for s in &mut m.selections {
            f(&mut s.note_refs);
            codings(&mut s.codings, f);
        }
        for t in &mut m.transcripts {
            selections(&mut t.selections, f);
        }
    }
}

/// A GUID as compared: a standard `8-4-4-4-12` GUID as its number (no allocation), anything
/// else as [`normalize_guid`] gives it. Two GUIDs have the same key exactly when they
/// normalise to the same text.
#[derive(Debug, Hash, PartialEq, Eq)]
enum GuidKey {
    Number(u128),
    Text(String),
}

fn guid_key(g: &str) -> GuidKey {
    match guid_number(bare_guid(g)) {
        Some(n) => GuidKey::Number(n),
        None => GuidKey::Text(normalize_guid(g)),
    }
}

fn attr(el: &Element, name: &str) -> Option<String> {
    el.attr(name).map(str::to_string)
}

fn guid_attr(el: &Element, name: &str) -> Option<Guid> {
    el.attr(name).map(strip_braces)
}

fn strip_braces(g: &str) -> Guid {
    bare_guid(g).to_string()
}

/// [`strip_braces`] of a GUID it may keep (most need nothing stripped).
fn braces_stripped(g: String) -> Guid {
    if bare_guid(&g).len() == g.len() {
        g
    } else {
        strip_braces(&g)
    }
}

fn take_guid_attr(el: &mut Element, name: &str) -> Option<Guid> {
    el.take(name).map(braces_stripped)
}

/// A `PlainTextContent`'s text, a BOM at its start removed.
fn content_text(text: &str) -> String {
    text.strip_prefix('\u{feff}').unwrap_or(text).to_string()
}

fn description(el: &Element) -> Option<String> {
    el.first("Description").map(|d| d.text.to_string())
}

fn refs(el: &Element, name: &str) -> Vec<Guid> {
    el.all(name)
        .filter_map(|r| r.attr("targetGUID"))
        .map(strip_braces)
        .collect()
}

/// `xsd:boolean`, leniently: `true`/`false`/`1`/`0`, any case, spaces trimmed.
fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// `#RRGGBB`, or `#RGB` expanded; `#RRGGBBAA` loses its alpha. Anything else is `None`.
fn parse_color(c: &str) -> Option<String> {
    let hex = c.trim().strip_prefix('#')?;
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    match hex.len() {
        3 => Some(format!(
            "#{}",
            hex.chars().flat_map(|c| [c, c]).collect::<String>()
        )),
        6 => Some(format!("#{hex}")),
        8 => Some(format!("#{}", &hex[..6])),
        _ => None,
    }
}
