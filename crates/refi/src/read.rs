//! Reading projects and codebooks leniently: what real tools write is accepted, what cannot be
//! carried over is said in the [`Report`], and what would corrupt data (duplicate GUIDs, a
//! coding of no code, unsafe archives, entity tricks) is refused with a [`RefiError`].

use std::collections::{HashMap, HashSet};

use crate::container::{Archive, Limits};
use crate::positions::{self, RawSpan, TextIndex};
use crate::xml::{self, Doc, Element, Item, Pull, decode_text, decode_vec};
use crate::*;

/// How to read a project.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// What the file's text positions count; [`PositionUnit::Auto`] decides (see there).
    pub unit: PositionUnit,
    /// What a `.qdpx` may hold.
    pub limits: Limits,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            unit: PositionUnit::Auto,
            limits: Limits::default(),
        }
    }
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
    let is_zip = bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06");
    let (archive, doc_name, text) = if is_zip {
        let mut archive = Archive::open(file_name, bytes, options.limits)?;
        let qde = archive.qde.clone();
        let xml_bytes = archive.read(&qde)?;
        let doc_name = format!("{file_name}: {qde}");
        let text = decode_vec(&doc_name, xml_bytes)?;
        (Some(archive), doc_name, text)
    } else {
        (None, file_name.to_string(), decode_text(file_name, bytes)?)
    };
    let doc = Doc::new(&doc_name, &text);
    let mut pull = Pull::new(&doc);
    let root = loop {
        match pull.next()? {
            Item::Start(root) => break root,
            Item::Text(_) | Item::End => {}
            Item::Eof => unreachable!("a document without a root is refused"),
        }
    };
    let mut reader = Reader::new(&doc, archive);
    reader.check_root(&root, "Project", PROJECT_NS)?;
    let (mut project, pending, pending_transcripts) = reader.project(&mut pull, root)?;
    match pull.next()? {
        Item::Eof => {}
        other => unreachable!("after the root: {other:?}"),
    }
    // The document, its archive and the GUIDs' places are no longer needed: free them before
    // the texts are indexed.
    let mut rest = reader.finish(&project)?;
    drop(pull);
    drop(doc);
    drop(text);
    rest.place(&mut project, pending, pending_transcripts, options.unit);
    rest.check_references(&mut project);
    Ok((project, rest.report))
}

/// Reads a `.qdc` codebook (a BOM, CRLF, namespace variants and Taguette's invalid empty
/// `<Sets/>` are accepted, the last with a warning).
pub fn read_codebook(file_name: &str, bytes: &[u8]) -> Result<(Codebook, Report), RefiError> {
    let text = decode_text(file_name, bytes)?;
    let doc = Doc::new(file_name, &text);
    let root = xml::parse(&doc)?;
    let mut reader = Reader::new(&doc, None);
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

/// Every code of a hierarchy, parents before children.
pub(crate) fn all_codes(codes: &[Code]) -> Box<dyn Iterator<Item = &Code> + '_> {
    Box::new(
        codes
            .iter()
            .flat_map(|c| std::iter::once(c).chain(all_codes(&c.children))),
    )
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

struct Reader<'d> {
    doc: &'d Doc<'d>,
    archive: Option<Archive<'d>>,
    report: Report,
    /// Normalised GUID → byte offset of the `<` of every object kept.
    /// (The element's name is read back from the document at that offset when needed.)
    guids: HashMap<GuidKey, usize>,
    /// The normalised GUIDs of every code read so far.
    code_keys: HashSet<GuidKey>,
    /// Codings (guid, code guid, line) whose code was not (yet) known when they were read, in
    /// document order: checked against the whole codebook once the project has been read
    /// (a file may put its codebook after its sources).
    unknown_codings: Vec<(Guid, Guid, usize)>,
}

/// What is left to do once the document has been read: place the selections and check the
/// references (the document itself is no longer needed).
struct Finish {
    report: Report,
}

impl<'d> Reader<'d> {
    fn new(doc: &'d Doc<'d>, archive: Option<Archive<'d>>) -> Self {
        Reader {
            doc,
            archive,
            report: Report::default(),
            guids: HashMap::new(),
            code_keys: HashSet::new(),
            unknown_codings: Vec::new(),
        }
    }

    /// Refuses the first coding (in document order) of a code the codebook does not have.
    fn finish(self, project: &Project) -> Result<Finish, RefiError> {
        if !self.unknown_codings.is_empty() {
            let codes: HashSet<GuidKey> = all_codes(&project.codes)
                .map(|c| guid_key(&c.guid))
                .collect();
            if let Some((coding, code, line)) = self
                .unknown_codings
                .into_iter()
                .find(|(_, code, _)| !codes.contains(&guid_key(code)))
            {
                return Err(RefiError::UnknownCode {
                    file: self.doc.file.to_string(),
                    line,
                    coding,
                    code,
                });
            }
        }
        Ok(Finish {
            report: self.report,
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
                file: self.doc.file.to_string(),
                found,
                expected: name.to_string(),
                namespace: format!("{ns_prefix}1.0"),
            });
        }
        Ok(())
    }

    fn missing(&self, el: &Element, what: &str) -> RefiError {
        RefiError::Missing {
            file: self.doc.file.to_string(),
            line: self.doc.line(el.pos),
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

    /// The object's `guid`, registered as taken.
    fn guid(&mut self, el: &Element) -> Result<Guid, RefiError> {
        let raw = el
            .attr("guid")
            .ok_or_else(|| self.missing(el, "attribute guid"))?;
        let guid = strip_braces(raw);
        match self.guids.entry(guid_key(&guid)) {
            std::collections::hash_map::Entry::Occupied(first) => {
                let first_pos = *first.get();
                Err(RefiError::DuplicateGuid {
                    file: self.doc.file.to_string(),
                    guid,
                    first: element_name_at(self.doc.text, first_pos).to_string(),
                    first_line: self.doc.line(first_pos),
                    second: el.name.to_string(),
                    second_line: self.doc.line(el.pos),
                })
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(el.pos);
                Ok(guid)
            }
        }
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
                    self.doc.line(el.pos),
                    el.name
                ));
                default
            }
            Some(v) => parse_bool(v).unwrap_or_else(|| {
                let line = self.doc.line(el.pos);
                self.report.warn(format!(
                    "line {line}: <{}> {attr}={v:?} is not a boolean; read as {default}",
                    el.name
                ));
                default
            }),
        }
    }

    fn codes(&mut self, codes: &Element) -> Result<Vec<Code>, RefiError> {
        self.unknown(codes, &["Code"]);
        codes.all("Code").map(|c| self.code(c)).collect()
    }

    fn code(&mut self, el: &Element) -> Result<Code, RefiError> {
        self.unknown(el, &["Description", "NoteRef", "Code"]);
        let guid = self.guid(el)?;
        let name = el.attr("name").map(str::to_string).unwrap_or_else(|| {
            self.report.warn(format!(
                "line {}: code {guid} has no name",
                self.doc.line(el.pos)
            ));
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
        let children = el
            .all("Code")
            .map(|c| self.code(c))
            .collect::<Result<_, _>>()?;
        Ok(Code {
            guid,
            name,
            is_codable,
            color,
            description: description(el),
            note_refs: refs(el, "NoteRef"),
            children,
        })
    }

    fn sets(&mut self, sets: &Element) -> Result<Vec<Set>, RefiError> {
        if sets.first("Set").is_none() {
            self.report.warn(format!(
                "line {}: an empty <Sets/> is not valid QDA-XML (Sets needs at least one Set); read as no sets",
                self.doc.line(sets.pos)
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

    /// The project with its selections still in raw positions, and its texts waiting for
    /// [`Finish::place`] (then [`Finish::check_references`]), read from the root's start to
    /// its end. The sources are read element by element as they come; the other parts
    /// (codebook, users, variables, cases, notes, sets …) are small and read whole.
    #[allow(clippy::type_complexity)]
    fn project(
        &mut self,
        p: &mut Pull<'_, 'd>,
        root: Element<'d>,
    ) -> Result<(Project, Vec<PendingText>, Vec<PendingText>), RefiError> {
        let name = root.attr("name").map(str::to_string).unwrap_or_else(|| {
            self.report.warn("the project has no name");
            String::new()
        });
        let mut project = Project {
            name,
            origin: attr(&root, "origin"),
            creating_user: guid_attr(&root, "creatingUserGUID"),
            creation_date_time: attr(&root, "creationDateTime"),
            modifying_user: guid_attr(&root, "modifyingUserGUID"),
            modified_date_time: attr(&root, "modifiedDateTime"),
            base_path: attr(&root, "basePath"),
            ..Project::default()
        };
        let mut pending: Vec<PendingText> = Vec::new();
        let mut pending_transcripts: Vec<PendingText> = Vec::new();
        while let Some(el) = p.child()? {
            match &*el.name {
                "Sources" => {
                    self.sources(p, &mut project, &mut pending, &mut pending_transcripts)?
                }
                "Users" => {
                    let users = p.subtree(el)?;
                    self.unknown(&users, &["User"]);
                    for u in users.all("User") {
                        let user = User {
                            guid: self.guid(u)?,
                            name: attr(u, "name"),
                            id: attr(u, "id"),
                        };
                        project.users.push(user);
                    }
                }
                "CodeBook" => {
                    let book = p.subtree(el)?;
                    self.unknown(&book, &["Codes"]);
                    for codes in book.all("Codes") {
                        let mut codes = self.codes(codes)?;
                        self.code_keys
                            .extend(all_codes(&codes).map(|c| guid_key(&c.guid)));
                        project.codes.append(&mut codes);
                    }
                }
                "Variables" => {
                    let variables = p.subtree(el)?;
                    self.unknown(&variables, &["Variable"]);
                    for v in variables.all("Variable") {
                        let variable = self.variable(v)?;
                        project.variables.extend(variable);
                    }
                }
                "Cases" => {
                    let cases = p.subtree(el)?;
                    self.unknown(&cases, &["Case"]);
                    for c in cases.all("Case") {
                        let case = self.case(c)?;
                        project.cases.push(case);
                    }
                }
                "Notes" => {
                    let notes = p.subtree(el)?;
                    self.unknown(&notes, &["Note"]);
                    for n in notes.all("Note") {
                        let note = self.note(n)?;
                        project.notes.push(note);
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
                    project.sets.append(&mut sets);
                }
                "Description" => {
                    let text = p.text()?;
                    project.description.get_or_insert_with(|| text.into_owned());
                }
                "NoteRef" => {
                    project
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
        Ok((project, pending, pending_transcripts))
    }

    /// The sources inside `<Sources>`, up to its end.
    fn sources(
        &mut self,
        p: &mut Pull<'_, 'd>,
        project: &mut Project,
        pending: &mut Vec<PendingText>,
        pending_transcripts: &mut Vec<PendingText>,
    ) -> Result<(), RefiError> {
        while let Some(s) = p.child()? {
            match &*s.name {
                "TextSource" => {
                    let (source, text) = self.text_source(p, s)?;
                    project.text_sources.push(source);
                    pending.push(text);
                }
                "AudioSource" | "VideoSource" => {
                    let s = p.subtree(s)?;
                    let (source, mut texts) = self.media_source(&s)?;
                    project.media_sources.push(source);
                    pending_transcripts.append(&mut texts);
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
        let line = self.doc.line(vv.pos);
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
    fn text_source(
        &mut self,
        p: &mut Pull<'_, 'd>,
        s: Element<'d>,
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
    fn selection(
        &mut self,
        p: &mut Pull<'_, 'd>,
        sel: Element<'d>,
    ) -> Result<(Selection, RawPositions), RefiError> {
        let int = |name: &str| {
            let v = sel.attr(name).ok_or_else(|| format!("no {name}"))?;
            v.trim()
                .parse::<i64>()
                .map_err(|_| format!("{name}={v:?} is not an integer"))
        };
        let positions = int("startPosition").and_then(|s| Ok((s, int("endPosition")?)));
        let mut selection = Selection {
            guid: self.guid(&sel)?,
            name: attr(&sel, "name"),
            creating_user: guid_attr(&sel, "creatingUser"),
            creation_date_time: attr(&sel, "creationDateTime"),
            modifying_user: guid_attr(&sel, "modifyingUser"),
            modified_date_time: attr(&sel, "modifiedDateTime"),
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
    fn coding(&mut self, p: &mut Pull<'_, 'd>, c: Element<'d>) -> Result<Coding, RefiError> {
        let guid = self.guid(&c)?;
        let mut code = None;
        let mut note_refs = Vec::new();
        while let Some(el) = p.child()? {
            match &*el.name {
                "CodeRef" => {
                    if code.is_none() {
                        code = Some(strip_braces(&self.req(&el, "targetGUID")?));
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
        self.check_code(&guid, &code, c.pos);
        Ok(Coding {
            guid,
            code,
            creating_user: guid_attr(&c, "creatingUser"),
            creation_date_time: attr(&c, "creationDateTime"),
            note_refs,
        })
    }

    /// Notes a coding whose code the codebook read so far does not have.
    fn check_code(&mut self, coding: &str, code: &str, pos: usize) {
        if !self.code_keys.contains(&guid_key(code)) {
            let line = self.doc.line(pos);
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
                self.check_code(&guid, &code, c.pos);
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

impl Finish {
    /// Decides the position unit and converts every selection and sync point, leaving out
    /// (and reporting) what cannot be placed.
    fn place(
        &mut self,
        project: &mut Project,
        pending: Vec<PendingText>,
        pending_transcripts: Vec<PendingText>,
        unit: PositionUnit,
    ) {
        let indexes: Vec<Option<TextIndex>> = pending
            .iter()
            .chain(&pending_transcripts)
            .map(|p| p.text.as_deref().map(TextIndex::new))
            .collect();
        let mut spans = Vec::new();
        let transcripts: Vec<&Transcript> = project
            .media_sources
            .iter()
            .flat_map(|m| &m.transcripts)
            .collect();
        let selections_of = |i: usize| -> &[Selection] {
            if i < project.text_sources.len() {
                &project.text_sources[i].selections
            } else {
                &transcripts[i - project.text_sources.len()].selections
            }
        };
        for (i, p) in pending.iter().chain(&pending_transcripts).enumerate() {
            let (Some(index), Some(source)) = (&indexes[i], p.text.as_deref()) else {
                continue;
            };
            let offset = p.raw.len() - selections_of(i).len(); // sync points come first
            for (j, raw) in p.raw.iter().enumerate() {
                if let Ok((start, end)) = raw {
                    let quote = j
                        .checked_sub(offset)
                        .and_then(|k| selections_of(i)[k].name.as_deref());
                    if j >= offset {
                        spans.push(RawSpan {
                            text: index,
                            source,
                            start: *start,
                            end: *end,
                            quote,
                        });
                    }
                }
            }
        }
        let unit = match unit {
            PositionUnit::Auto if !spans.is_empty() => {
                let (unit, why) = positions::decide(project.origin.as_deref(), &spans);
                self.report.warn(why);
                unit
            }
            PositionUnit::Auto => {
                if project
                    .origin
                    .as_deref()
                    .is_some_and(|o| o.trim_start().starts_with("NVivo"))
                {
                    PositionUnit::Utf16
                } else {
                    PositionUnit::CodePoints
                }
            }
            other => other,
        };
        self.report.unit = Some(unit);
        drop(spans);

        let mut texts = pending.into_iter().chain(pending_transcripts).zip(indexes);
        for source in &mut project.text_sources {
            let Some((p, index)) = texts.next() else {
                break;
            };
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
        }
        for transcript in project
            .media_sources
            .iter_mut()
            .flat_map(|m| &mut m.transcripts)
        {
            let Some((p, index)) = texts.next() else {
                break;
            };
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

    /// Refuses codings of unknown codes; drops (with a report) references to objects that are
    /// not there or not kept.
    fn check_references(&mut self, project: &mut Project) {
        let codes: HashSet<String> = all_codes(&project.codes)
            .map(|c| normalize_guid(&c.guid))
            .collect();
        let notes: HashSet<String> = project
            .notes
            .iter()
            .map(|n| normalize_guid(&n.guid))
            .collect();
        let mut dangling_notes = 0;
        visit_note_refs(project, &mut |refs| {
            retain_known(refs, &notes, &mut dangling_notes)
        });
        if dangling_notes > 0 {
            self.report.warn(format!(
                "{dangling_notes} NoteRef(s) name no note of the project; left out"
            ));
            self.report.drop("NoteRef", dangling_notes, "names no note");
        }
        let sources: HashSet<String> = project
            .text_sources
            .iter()
            .map(|s| &s.guid)
            .chain(project.media_sources.iter().map(|m| &m.guid))
            .map(|g| normalize_guid(g))
            .collect();
        let selections: HashSet<String> = project
            .text_sources
            .iter()
            .flat_map(|s| s.selections.iter().map(|x| &x.guid))
            .chain(project.media_sources.iter().flat_map(|m| {
                m.selections.iter().map(|x| &x.guid).chain(
                    m.transcripts
                        .iter()
                        .flat_map(|t| t.selections.iter().map(|x| &x.guid)),
                )
            }))
            .map(|g| normalize_guid(g))
            .collect();
        let variables: HashSet<String> = project
            .variables
            .iter()
            .map(|v| normalize_guid(&v.guid))
            .collect();
        let mut dangling = 0;
        let mut dangling_values = 0;
        let mut values = |values: &mut Vec<VariableValue>| {
            let before = values.len();
            values.retain(|v| variables.contains(&normalize_guid(&v.variable)));
            dangling_values += before - values.len();
        };
        for case in &mut project.cases {
            retain_known(&mut case.code_refs, &codes, &mut dangling);
            retain_known(&mut case.source_refs, &sources, &mut dangling);
            retain_known(&mut case.selection_refs, &selections, &mut dangling);
            values(&mut case.values);
        }
        for source in &mut project.text_sources {
            values(&mut source.values);
        }
        for source in &mut project.media_sources {
            values(&mut source.values);
        }
        for set in &mut project.sets {
            retain_known(&mut set.member_codes, &codes, &mut dangling);
            retain_known(&mut set.member_sources, &sources, &mut dangling);
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

/// Calls `f` on every list of note references in the project.
fn visit_note_refs(project: &mut Project, f: &mut dyn FnMut(&mut Vec<Guid>)) {
    fn codes_of(codes: &mut [Code], f: &mut dyn FnMut(&mut Vec<Guid>)) {
        for code in codes {
            f(&mut code.note_refs);
            codes_of(&mut code.children, f);
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
    let t = g.trim().trim_matches(|c| c == '{' || c == '}');
    let b = t.as_bytes();
    if b.len() == 36 && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-') {
        let mut n: u128 = 0;
        let mut ok = true;
        for (i, &c) in b.iter().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                continue;
            }
            match (c as char).to_digit(16) {
                Some(d) => n = (n << 4) | u128::from(d),
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            return GuidKey::Number(n);
        }
    }
    GuidKey::Text(normalize_guid(g))
}

/// The local name of the element whose `<` is at `pos`.
fn element_name_at(text: &str, pos: usize) -> &str {
    let rest = text.get(pos + 1..).unwrap_or("");
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(rest.len());
    let qname = &rest[..end];
    qname.rsplit(':').next().unwrap_or(qname)
}

fn attr(el: &Element, name: &str) -> Option<String> {
    el.attr(name).map(str::to_string)
}

fn guid_attr(el: &Element, name: &str) -> Option<Guid> {
    el.attr(name).map(strip_braces)
}

fn strip_braces(g: &str) -> Guid {
    g.trim().trim_matches(|c| c == '{' || c == '}').to_string()
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
