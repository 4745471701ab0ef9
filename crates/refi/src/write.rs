//! Writing strictly what the QDA-XML 1.0 schemas accept: exact namespaces, the schemas' element
//! order, no empty list wrappers, `true`/`false`, `#RRGGBB`, lower-case GUIDs without braces,
//! positions in code points.
//!
//! Characters XML 1.0 does not allow (control characters other than tab, line feed and carriage
//! return; U+FFFE, U+FFFF) are **refused** with [`RefiError::Write`] naming the object: a text
//! is never silently changed. Carriage returns are written as `&#13;` (and tabs and line feeds
//! in attributes as references), so CRLF texts and multi-line names survive a reader's
//! line-end normalisation. Dates are written as given.

use std::borrow::Cow;
use std::fmt::{Display, Write as _};
use std::io::Write as _;

use crate::*;

const PROJECT_NS: &str = "urn:QDA-XML:project:1.0";
const CODEBOOK_NS: &str = "urn:QDA-XML:codebook:1.0";

/// How much of a streamed document is handed on at once.
const PIECE: usize = 1 << 20;

/// The project as a `.qde` document on its own: texts and transcripts inline as
/// `PlainTextContent` (no `plainTextPath`).
pub fn write_project(project: &Project) -> Result<String, RefiError> {
    ProjectWriter {
        w: Xml::new(),
        internal_texts: false,
    }
    .project(project)
}

/// The project as a `.qdpx` zip: `project.qde` plus `sources/<guid>.txt` for every text source
/// and transcript (UTF-8 without BOM), each referred to as `plainTextPath="internal://<guid>.txt"`;
/// notes keep their text inline.
pub fn write_qdpx(project: &Project) -> Result<Vec<u8>, RefiError> {
    let mut feed = ProjectSources(project);
    let cursor = write_qdpx_to(project, &mut feed, std::io::Cursor::new(Vec::new()))?;
    Ok(cursor.into_inner())
}

/// One source of a project, as a [`SourceFeed`] hands it to the writer.
#[derive(Debug)]
pub enum SourceItem<'a> {
    Text(&'a TextSource),
    Media(&'a MediaSource),
}

/// Where a streamed `.qdpx`'s sources come from, one at a time, so that a large project is
/// never whole in memory. The writer asks twice: once for the sources (text sources first,
/// then audio and video ones) with their selections, for `project.qde`; then for their texts
/// (and transcripts' texts), in the same order, for `sources/`.
pub trait SourceFeed {
    /// Whether there is any source at all (the `Sources` wrapper is left out otherwise).
    fn any(&mut self) -> Result<bool, RefiError>;
    /// Calls `each` with every source, text sources first.
    fn sources(
        &mut self,
        each: &mut dyn FnMut(SourceItem<'_>) -> Result<(), RefiError>,
    ) -> Result<(), RefiError>;
    /// Calls `each` with every text's GUID and text, in the order of [`SourceFeed::sources`]
    /// (a media source's transcripts in their order).
    fn texts(
        &mut self,
        each: &mut dyn FnMut(&str, &str) -> Result<(), RefiError>,
    ) -> Result<(), RefiError>;
}

/// A project's own sources as a feed.
struct ProjectSources<'p>(&'p Project);

impl SourceFeed for ProjectSources<'_> {
    fn any(&mut self) -> Result<bool, RefiError> {
        Ok(!self.0.text_sources.is_empty() || !self.0.media_sources.is_empty())
    }

    fn sources(
        &mut self,
        each: &mut dyn FnMut(SourceItem<'_>) -> Result<(), RefiError>,
    ) -> Result<(), RefiError> {
        for s in &self.0.text_sources {
            each(SourceItem::Text(s))?;
        }
        for m in &self.0.media_sources {
            each(SourceItem::Media(m))?;
        }
        Ok(())
    }

    fn texts(
        &mut self,
        each: &mut dyn FnMut(&str, &str) -> Result<(), RefiError>,
    ) -> Result<(), RefiError> {
        let texts = self
            .0
            .text_sources
            .iter()
            .map(|s| (&s.guid, &s.text))
            .chain(
                self.0
                    .media_sources
                    .iter()
                    .flat_map(|m| m.transcripts.iter().map(|t| (&t.guid, &t.text))),
            );
        for (guid, text) in texts {
            each(guid, text)?;
        }
        Ok(())
    }
}

/// [`write_qdpx`] streamed into `out` (a file, say): everything of `head` but its sources
/// (which are ignored), and the sources from `feed`, one at a time. The bytes are those
/// [`write_qdpx`] writes for the project with the feed's sources.
///
/// The archive is compressed on a thread of its own while the document is written (deflating
/// takes about as long as writing the XML); the document goes to it in pieces of about a MiB.
pub fn write_qdpx_to<W: std::io::Write + std::io::Seek + Send>(
    head: &Project,
    feed: &mut dyn SourceFeed,
    out: W,
) -> Result<W, RefiError> {
    std::thread::scope(|scope| {
        let (pieces, received) = std::sync::mpsc::sync_channel::<ZipPiece>(4);
        let zipper = scope.spawn(move || zip_pieces(received, out));
        let written = write_pieces(head, feed, &pieces);
        drop(pieces);
        let zipped = zipper
            .join()
            .unwrap_or_else(|_| Err(zip_error(&"the thread compressing it stopped unexpectedly")));
        // The archive's own error, if any, explains why the document could not be handed on.
        let out = zipped?;
        written.map(|()| out)
    })
}

/// What the writer hands the thread compressing the archive.
enum ZipPiece {
    /// Start the entry of this name.
    Entry(String),
    /// Bytes of the current entry.
    Bytes(Vec<u8>),
}

fn zip_error(e: &dyn Display) -> RefiError {
    RefiError::Write {
        what: "the .qdpx archive".into(),
        why: e.to_string(),
    }
}

fn zip_pieces<W: std::io::Write + std::io::Seek>(
    pieces: std::sync::mpsc::Receiver<ZipPiece>,
    out: W,
) -> Result<W, RefiError> {
    let mut zip = zip::ZipWriter::new(out);
    // The fastest deflate level: texts compress well at any level, and a study's export should
    // take seconds, not minutes.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    for piece in pieces {
        match piece {
            ZipPiece::Entry(name) => zip.start_file(name, options).map_err(|e| zip_error(&e))?,
            ZipPiece::Bytes(bytes) => zip.write_all(&bytes).map_err(|e| zip_error(&e))?,
        }
    }
    zip.finish().map_err(|e| zip_error(&e))
}

/// `project.qde`, then the texts, as pieces for [`zip_pieces`].
fn write_pieces(
    head: &Project,
    feed: &mut dyn SourceFeed,
    pieces: &std::sync::mpsc::SyncSender<ZipPiece>,
) -> Result<(), RefiError> {
    let send = |piece| {
        pieces
            .send(piece)
            .map_err(|_| zip_error(&"the thread compressing it stopped"))
    };
    send(ZipPiece::Entry("project.qde".into()))?;
    // The document goes into its entry as it is written, never whole in memory.
    let mut failed = None;
    let rest = {
        let mut sink = |piece: &str| {
            if failed.is_none()
                && let Err(e) = send(ZipPiece::Bytes(piece.as_bytes().to_vec()))
            {
                failed = Some(e);
            }
        };
        let mut writer = ProjectWriter {
            w: Xml::streaming(&mut sink),
            internal_texts: true,
        };
        writer.head(head)?;
        if feed.any()? {
            writer.w.open("Sources", &writer.w.attrs(&"Sources"));
            feed.sources(&mut |item| match item {
                SourceItem::Text(s) => writer.text_source(s),
                SourceItem::Media(m) => writer.media_source(m),
            })?;
            writer.w.close("Sources");
        }
        writer.tail(head)?
    };
    if let Some(e) = failed {
        return Err(e);
    }
    send(ZipPiece::Bytes(rest.into_bytes()))?;
    feed.texts(&mut |guid, text| {
        send(ZipPiece::Entry(format!("sources/{}", text_file(guid)?)))?;
        send(ZipPiece::Bytes(text.as_bytes().to_vec()))
    })
}

/// The codebook as a `.qdc` document (code notes are not part of the codebook schema and are
/// left out). Panics never; a codebook that cannot be written validly (see [`try_write_codebook`])
/// is written with the offending characters, colours or GUIDs left out.
pub fn write_codebook(codebook: &Codebook) -> String {
    let mut writer = CodebookWriter { w: Xml::new() };
    writer.w.lenient = true;
    writer.codebook(codebook).unwrap_or_default()
}

/// The codebook as a `.qdc` document, refusing what the schema does not allow (a character
/// XML 1.0 forbids, a malformed GUID or colour, no codes at all).
pub fn try_write_codebook(codebook: &Codebook) -> Result<String, RefiError> {
    CodebookWriter { w: Xml::new() }.codebook(codebook)
}

/// `<guid>.txt`, lower case.
fn text_file(guid: &str) -> Result<String, RefiError> {
    let mut name = String::with_capacity(40);
    push_guid(&mut name, guid, &"a text file name")?;
    name.push_str(".txt");
    Ok(name)
}

/// Whether `g` is already in written form: 8-4-4-4-12 lower-case hex.
fn written_guid(g: &str) -> bool {
    guid_number(g).is_some() && !g.bytes().any(|c| c.is_ascii_uppercase())
}

/// Appends the GUID in written form, or says why it is not 8-4-4-4-12 hex.
fn push_guid(out: &mut String, guid: &str, what: &dyn Display) -> Result<(), RefiError> {
    if written_guid(guid) {
        out.push_str(guid);
        return Ok(());
    }
    let g = normalize_guid(guid);
    if written_guid(&g) {
        out.push_str(&g);
        Ok(())
    } else {
        Err(RefiError::Write {
            what: what.to_string(),
            why: format!("{guid:?} is not a GUID (8-4-4-4-12 hex digits)"),
        })
    }
}

/// Whether XML 1.0 allows the character.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The first character XML 1.0 does not allow. Only control bytes and U+FFFE/U+FFFF (whose
/// UTF-8 starts with 0xEF) can be such characters, so most texts are passed over as bytes.
fn forbidden_char(value: &str) -> Option<char> {
    let suspect = |&b: &u8| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0xEF;
    if !value.as_bytes().iter().any(suspect) {
        return None;
    }
    value.chars().find(|&c| !xml_char(c))
}

/// Appends `value` escaped: `&`, `<`, `>` and carriage returns always; in an attribute also
/// quotes, tabs and line feeds (which a reader would otherwise normalise to spaces).
fn push_escaped(out: &mut String, value: &str, attribute: bool) {
    let mut plain = 0;
    for (i, &b) in value.as_bytes().iter().enumerate() {
        let reference = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'\r' => "&#13;",
            b'"' if attribute => "&quot;",
            b'\t' if attribute => "&#9;",
            b'\n' if attribute => "&#10;",
            _ => continue,
        };
        // `i` is at an ASCII byte, so both slices end on character boundaries.
        out.push_str(&value[plain..i]);
        out.push_str(reference);
        plain = i + 1;
    }
    out.push_str(&value[plain..]);
}

/// What an object is called in an error ("Coding 1b2c…"), made only if there is an error.
struct Label<'a>(&'a str, &'a str);

impl Display for Label<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.0, self.1)
    }
}

/// An XML document being written, with indentation between elements only.
struct Xml<'w> {
    out: String,
    depth: usize,
    /// Leave out what cannot be written instead of refusing it.
    lenient: bool,
    /// Where a large document goes as it is written (`out` then holds what is not yet handed
    /// on); without it the whole document stays in `out`.
    sink: Option<&'w mut dyn FnMut(&str)>,
}

/// Attributes of one element, checked and escaped as they are added.
struct Attrs<'a> {
    /// ` name="value"` for each, escaped.
    written: String,
    what: &'a dyn Display,
    lenient: bool,
}

impl Attrs<'_> {
    fn start(&mut self, name: &str) {
        self.written.push(' ');
        self.written.push_str(name);
        self.written.push_str("=\"");
    }

    fn text(&mut self, name: &'static str, value: &str) -> Result<&mut Self, RefiError> {
        let value = check_chars(value, self.what, name, self.lenient)?;
        self.start(name);
        push_escaped(&mut self.written, &value, true);
        self.written.push('"');
        Ok(self)
    }

    fn number(&mut self, name: &'static str, value: impl Display) -> &mut Self {
        self.start(name);
        write!(self.written, "{value}\"").expect("writing to a String");
        self
    }

    fn opt(&mut self, name: &'static str, value: Option<&String>) -> Result<&mut Self, RefiError> {
        match value {
            Some(v) => self.text(name, v),
            None => Ok(self),
        }
    }

    fn guid(&mut self, name: &'static str, value: &str) -> Result<&mut Self, RefiError> {
        let mark = self.written.len();
        self.start(name);
        let what = format_args!("{} ({name})", self.what);
        match push_guid(&mut self.written, value, &what) {
            Ok(()) => self.written.push('"'),
            Err(_) if self.lenient => self.written.truncate(mark),
            Err(e) => return Err(e),
        }
        Ok(self)
    }

    fn opt_guid(
        &mut self,
        name: &'static str,
        value: Option<&String>,
    ) -> Result<&mut Self, RefiError> {
        match value {
            Some(v) => self.guid(name, v),
            None => Ok(self),
        }
    }

    fn color(&mut self, value: Option<&String>) -> Result<&mut Self, RefiError> {
        let Some(c) = value else { return Ok(self) };
        let hex = c.strip_prefix('#').unwrap_or("");
        if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            self.start("color");
            self.written.push_str(c);
            self.written.push('"');
        } else if !self.lenient {
            return Err(RefiError::Write {
                what: self.what.to_string(),
                why: format!("the colour {c:?} is not #RRGGBB"),
            });
        }
        Ok(self)
    }
}

/// The value if XML 1.0 allows all its characters; leniently, without those it does not.
fn check_chars<'v>(
    value: &'v str,
    what: &dyn Display,
    field: &str,
    lenient: bool,
) -> Result<Cow<'v, str>, RefiError> {
    match forbidden_char(value) {
        None => Ok(Cow::Borrowed(value)),
        Some(_) if lenient => Ok(Cow::Owned(value.chars().filter(|&c| xml_char(c)).collect())),
        Some(c) => Err(RefiError::Write {
            what: format!("{what} ({field})"),
            why: format!(
                "it contains U+{:04X}, which XML 1.0 does not allow",
                u32::from(c)
            ),
        }),
    }
}

impl<'w> Xml<'w> {
    fn new() -> Xml<'w> {
        Xml {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            depth: 0,
            lenient: false,
            sink: None,
        }
    }

    /// Writes into `sink` in pieces of about a MiB.
    fn streaming(sink: &'w mut dyn FnMut(&str)) -> Xml<'w> {
        Xml {
            sink: Some(sink),
            ..Xml::new()
        }
    }

    fn attrs<'a>(&self, what: &'a dyn Display) -> Attrs<'a> {
        Attrs {
            written: String::with_capacity(256),
            what,
            lenient: self.lenient,
        }
    }

    /// Two spaces a level, up to 32 levels: a deeper document (a study's chain of codes made
    /// before their depth was limited) would otherwise grow with the square of its depth.
    fn indent(&mut self) {
        for _ in 0..self.depth.min(32) {
            self.out.push_str("  ");
        }
    }

    fn tag(&mut self, name: &str, attrs: &Attrs<'_>, empty: bool) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(&attrs.written);
        self.out.push_str(if empty { "/>\n" } else { ">\n" });
    }

    fn open(&mut self, name: &str, attrs: &Attrs<'_>) {
        self.tag(name, attrs, false);
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
        if self.out.len() >= PIECE
            && let Some(sink) = self.sink.as_mut()
        {
            sink(&self.out);
            self.out.clear();
        }
    }

    fn empty(&mut self, name: &str, attrs: &Attrs<'_>) {
        self.tag(name, attrs, true);
    }

    /// `<name>text</name>` with the text escaped exactly (no indentation inside).
    fn text(&mut self, name: &str, text: &str, what: &dyn Display) -> Result<(), RefiError> {
        let text = check_chars(text, what, name, self.lenient)?;
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        push_escaped(&mut self.out, &text, false);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
        Ok(())
    }

    fn opt_text(
        &mut self,
        name: &str,
        text: Option<&String>,
        what: &dyn Display,
    ) -> Result<(), RefiError> {
        match text {
            Some(t) => self.text(name, t, what),
            None => Ok(()),
        }
    }

    /// `<name targetGUID="…"/>` for each reference.
    fn refs(
        &mut self,
        name: &str,
        attr: &'static str,
        refs: &[Guid],
        what: &dyn Display,
    ) -> Result<(), RefiError> {
        for r in refs {
            let mut a = self.attrs(what);
            a.guid(attr, r)?;
            self.empty(name, &a);
        }
        Ok(())
    }

    /// A list wrapper, left out when the list is empty.
    fn wrapped<T>(
        &mut self,
        wrapper: &str,
        items: &[T],
        mut each: impl FnMut(&mut Self, &T) -> Result<(), RefiError>,
    ) -> Result<(), RefiError> {
        if items.is_empty() {
            return Ok(());
        }
        self.open(wrapper, &self.attrs(&wrapper));
        for item in items {
            each(self, item)?;
        }
        self.close(wrapper);
        Ok(())
    }
}

fn label<'a>(kind: &'a str, guid: &'a str) -> Label<'a> {
    Label(kind, guid)
}

struct ProjectWriter<'w> {
    w: Xml<'w>,
    /// Texts go to `sources/` (`plainTextPath`) rather than inline.
    internal_texts: bool,
}

impl ProjectWriter<'_> {
    fn project(mut self, p: &Project) -> Result<String, RefiError> {
        self.head(p)?;
        if !p.text_sources.is_empty() || !p.media_sources.is_empty() {
            self.w.open("Sources", &self.w.attrs(&"Sources"));
            for s in &p.text_sources {
                self.text_source(s)?;
            }
            for m in &p.media_sources {
                self.media_source(m)?;
            }
            self.w.close("Sources");
        }
        self.tail(p)
    }

    /// The project element and what comes before its sources.
    fn head(&mut self, p: &Project) -> Result<(), RefiError> {
        let mut a = self.w.attrs(&"the project");
        a.text("xmlns", PROJECT_NS)?
            .text("name", &p.name)?
            .opt("origin", p.origin.as_ref())?
            .opt_guid("creatingUserGUID", p.creating_user.as_ref())?
            .opt("creationDateTime", p.creation_date_time.as_ref())?
            .opt_guid("modifyingUserGUID", p.modifying_user.as_ref())?
            .opt("modifiedDateTime", p.modified_date_time.as_ref())?
            .opt("basePath", p.base_path.as_ref())?;
        self.w.open("Project", &a);
        self.w.wrapped("Users", &p.users, |w, u| {
            let what = label("User", &u.guid);
            let mut a = w.attrs(&what);
            a.guid("guid", &u.guid)?
                .opt("name", u.name.as_ref())?
                .opt("id", u.id.as_ref())?;
            w.empty("User", &a);
            Ok(())
        })?;
        if !p.codes.is_empty() {
            self.w.open("CodeBook", &self.w.attrs(&"CodeBook"));
            self.w.wrapped("Codes", &p.codes, |w, c| code(w, c, true))?;
            self.w.close("CodeBook");
        }
        self.w.wrapped("Variables", &p.variables, |w, v| {
            let what = label("Variable", &v.guid);
            let kind = match v.kind {
                VariableType::Text => "Text",
                VariableType::Boolean => "Boolean",
                VariableType::Integer => "Integer",
                VariableType::Float => "Float",
                VariableType::Date => "Date",
                VariableType::DateTime => "DateTime",
            };
            let mut a = w.attrs(&what);
            a.guid("guid", &v.guid)?
                .text("name", &v.name)?
                .text("typeOfVariable", kind)?;
            match &v.description {
                Some(d) => {
                    w.open("Variable", &a);
                    w.text("Description", d, &what)?;
                    w.close("Variable");
                }
                None => w.empty("Variable", &a),
            }
            Ok(())
        })?;
        self.w.wrapped("Cases", &p.cases, |w, c| {
            let what = label("Case", &c.guid);
            let mut a = w.attrs(&what);
            a.guid("guid", &c.guid)?.opt("name", c.name.as_ref())?;
            w.open("Case", &a);
            w.opt_text("Description", c.description.as_ref(), &what)?;
            w.refs("CodeRef", "targetGUID", &c.code_refs, &what)?;
            values(w, &c.values, &what)?;
            w.refs("SourceRef", "targetGUID", &c.source_refs, &what)?;
            w.refs("SelectionRef", "targetGUID", &c.selection_refs, &what)?;
            w.close("Case");
            Ok(())
        })?;
        Ok(())
    }

    /// What comes after the sources, and the end of the document (what is not yet handed on).
    fn tail(mut self, p: &Project) -> Result<String, RefiError> {
        self.w.wrapped("Notes", &p.notes, |w, n| {
            let what = label("Note", &n.guid);
            let mut a = w.attrs(&what);
            a.guid("guid", &n.guid)?
                .opt("name", n.name.as_ref())?
                .opt_guid("creatingUser", n.creating_user.as_ref())?
                .opt("creationDateTime", n.creation_date_time.as_ref())?
                .opt_guid("modifyingUser", n.modifying_user.as_ref())?
                .opt("modifiedDateTime", n.modified_date_time.as_ref())?;
            w.open("Note", &a);
            w.opt_text("Description", n.description.as_ref(), &what)?;
            w.text("PlainTextContent", &n.text, &what)?;
            w.close("Note");
            Ok(())
        })?;
        self.w.wrapped("Sets", &p.sets, |w, s| {
            let what = label("Set", &s.guid);
            let mut a = w.attrs(&what);
            a.guid("guid", &s.guid)?.text("name", &s.name)?;
            w.open("Set", &a);
            w.opt_text("Description", s.description.as_ref(), &what)?;
            w.refs("MemberCode", "targetGUID", &s.member_codes, &what)?;
            w.refs("MemberSource", "targetGUID", &s.member_sources, &what)?;
            w.refs("MemberNote", "targetGUID", &s.member_notes, &what)?;
            w.close("Set");
            Ok(())
        })?;
        self.w
            .opt_text("Description", p.description.as_ref(), &"the project")?;
        self.w
            .refs("NoteRef", "targetGUID", &p.note_refs, &"the project")?;
        self.w.close("Project");
        Ok(self.w.out)
    }

    /// The `plainTextPath` attribute or the `PlainTextContent` element, as this writer does it.
    fn text_path(&self, a: &mut Attrs<'_>, guid: &str) -> Result<(), RefiError> {
        if self.internal_texts {
            a.text("plainTextPath", &format!("internal://{}", text_file(guid)?))?;
        }
        Ok(())
    }

    fn text_content(&mut self, text: &str, what: &dyn Display) -> Result<(), RefiError> {
        if !self.internal_texts {
            self.w.text("PlainTextContent", text, what)?;
        }
        Ok(())
    }

    fn text_source(&mut self, s: &TextSource) -> Result<(), RefiError> {
        let what = label("TextSource", &s.guid);
        let mut a = self.w.attrs(&what);
        a.guid("guid", &s.guid)?.opt("name", s.name.as_ref())?;
        self.text_path(&mut a, &s.guid)?;
        a.opt_guid("creatingUser", s.creating_user.as_ref())?
            .opt("creationDateTime", s.creation_date_time.as_ref())?
            .opt_guid("modifyingUser", s.modifying_user.as_ref())?
            .opt("modifiedDateTime", s.modified_date_time.as_ref())?;
        self.w.open("TextSource", &a);
        self.w
            .opt_text("Description", s.description.as_ref(), &what)?;
        self.text_content(&s.text, &what)?;
        let length = s.text.chars().count();
        for sel in &s.selections {
            selection(&mut self.w, "PlainTextSelection", sel, Some(length))?;
        }
        codings(&mut self.w, &s.codings)?;
        self.w.refs("NoteRef", "targetGUID", &s.note_refs, &what)?;
        values(&mut self.w, &s.values, &what)?;
        self.w.close("TextSource");
        Ok(())
    }

    fn media_source(&mut self, m: &MediaSource) -> Result<(), RefiError> {
        let (element, selection_element) = match m.kind {
            MediaKind::Audio => ("AudioSource", "AudioSelection"),
            MediaKind::Video => ("VideoSource", "VideoSelection"),
        };
        let what = label(element, &m.guid);
        let mut a = self.w.attrs(&what);
        a.guid("guid", &m.guid)?
            .opt("name", m.name.as_ref())?
            .opt("path", m.path.as_ref())?
            .opt("currentPath", m.current_path.as_ref())?;
        self.w.open(element, &a);
        self.w
            .opt_text("Description", m.description.as_ref(), &what)?;
        for t in &m.transcripts {
            self.transcript(t)?;
        }
        for sel in &m.selections {
            let what = label(selection_element, &sel.guid);
            if sel.end_ms < sel.begin_ms {
                return Err(RefiError::Write {
                    what: what.to_string(),
                    why: format!(
                        "it ends ({}) before it begins ({})",
                        sel.end_ms, sel.begin_ms
                    ),
                });
            }
            let mut a = self.w.attrs(&what);
            a.guid("guid", &sel.guid)?
                .opt("name", sel.name.as_ref())?
                .number("begin", sel.begin_ms)
                .number("end", sel.end_ms);
            if sel.codings.is_empty() && sel.note_refs.is_empty() {
                self.w.empty(selection_element, &a);
            } else {
                self.w.open(selection_element, &a);
                codings(&mut self.w, &sel.codings)?;
                self.w
                    .refs("NoteRef", "targetGUID", &sel.note_refs, &what)?;
                self.w.close(selection_element);
            }
        }
        codings(&mut self.w, &m.codings)?;
        self.w.refs("NoteRef", "targetGUID", &m.note_refs, &what)?;
        values(&mut self.w, &m.values, &what)?;
        self.w.close(element);
        Ok(())
    }

    /// A transcript; its selections are written as `TranscriptSelection`s between the sync
    /// points at their start and end, which must exist.
    fn transcript(&mut self, t: &Transcript) -> Result<(), RefiError> {
        let what = label("Transcript", &t.guid);
        let mut a = self.w.attrs(&what);
        a.guid("guid", &t.guid)?.opt("name", t.name.as_ref())?;
        self.text_path(&mut a, &t.guid)?;
        self.w.open("Transcript", &a);
        self.text_content(&t.text, &what)?;
        let length = t.text.chars().count();
        for sp in &t.sync_points {
            let what = label("SyncPoint", &sp.guid);
            if sp.position > length {
                return Err(RefiError::Write {
                    what: what.to_string(),
                    why: format!(
                        "position {} is past the end of its transcript ({length})",
                        sp.position
                    ),
                });
            }
            let mut a = self.w.attrs(&what);
            a.guid("guid", &sp.guid)?
                .number("timeStamp", sp.time_ms)
                .number("position", sp.position);
            self.w.empty("SyncPoint", &a);
        }
        for sel in &t.selections {
            let what = label("transcript selection", &sel.guid);
            let at = |pos: usize| {
                t.sync_points.iter().find(|sp| sp.position == pos).ok_or_else(|| RefiError::Write {
                    what: what.to_string(),
                    why: format!("its transcript has no sync point at {pos}, which QDA-XML needs to express it"),
                })
            };
            let (from, to) = (at(sel.start)?, at(sel.end)?);
            let mut a = self.w.attrs(&what);
            a.guid("guid", &sel.guid)?
                .opt("name", sel.name.as_ref())?
                .guid("fromSyncPoint", &from.guid)?
                .guid("toSyncPoint", &to.guid)?;
            user_dates(&mut a, sel)?;
            self.w.open("TranscriptSelection", &a);
            selection_body(&mut self.w, sel, &what)?;
            self.w.close("TranscriptSelection");
        }
        self.w.close("Transcript");
        Ok(())
    }
}

fn user_dates(a: &mut Attrs<'_>, sel: &Selection) -> Result<(), RefiError> {
    a.opt_guid("creatingUser", sel.creating_user.as_ref())?
        .opt("creationDateTime", sel.creation_date_time.as_ref())?
        .opt_guid("modifyingUser", sel.modifying_user.as_ref())?
        .opt("modifiedDateTime", sel.modified_date_time.as_ref())?;
    Ok(())
}

fn selection_body(w: &mut Xml, sel: &Selection, what: &dyn Display) -> Result<(), RefiError> {
    w.opt_text("Description", sel.description.as_ref(), what)?;
    codings(w, &sel.codings)?;
    w.refs("NoteRef", "targetGUID", &sel.note_refs, what)
}

fn selection(
    w: &mut Xml,
    element: &str,
    sel: &Selection,
    length: Option<usize>,
) -> Result<(), RefiError> {
    let what = label(element, &sel.guid);
    if sel.end < sel.start || length.is_some_and(|n| sel.end > n) {
        return Err(RefiError::Write {
            what: what.to_string(),
            why: format!(
                "{}–{} is not a span of its text ({} characters)",
                sel.start,
                sel.end,
                length.unwrap_or(0)
            ),
        });
    }
    let mut a = w.attrs(&what);
    a.guid("guid", &sel.guid)?
        .opt("name", sel.name.as_ref())?
        .number("startPosition", sel.start)
        .number("endPosition", sel.end);
    user_dates(&mut a, sel)?;
    w.open(element, &a);
    selection_body(w, sel, &what)?;
    w.close(element);
    Ok(())
}

fn codings(w: &mut Xml, codings: &[Coding]) -> Result<(), RefiError> {
    for c in codings {
        let what = label("Coding", &c.guid);
        let mut a = w.attrs(&what);
        a.guid("guid", &c.guid)?
            .opt_guid("creatingUser", c.creating_user.as_ref())?
            .opt("creationDateTime", c.creation_date_time.as_ref())?;
        w.open("Coding", &a);
        w.refs(
            "CodeRef",
            "targetGUID",
            std::slice::from_ref(&c.code),
            &what,
        )?;
        w.refs("NoteRef", "targetGUID", &c.note_refs, &what)?;
        w.close("Coding");
    }
    Ok(())
}

fn values(w: &mut Xml, values: &[VariableValue], what: &dyn Display) -> Result<(), RefiError> {
    for v in values {
        w.open("VariableValue", &w.attrs(what));
        w.refs(
            "VariableRef",
            "targetGUID",
            std::slice::from_ref(&v.variable),
            what,
        )?;
        let (element, text) = match &v.value {
            Value::Text(t) => ("TextValue", t.clone()),
            Value::Boolean(b) => ("BooleanValue", b.to_string()),
            Value::Integer(i) => ("IntegerValue", i.to_string()),
            Value::Float(f) if f.is_finite() => ("FloatValue", f.to_string()),
            Value::Float(f) => {
                return Err(RefiError::Write {
                    what: what.to_string(),
                    why: format!("the value {f} is not a decimal number"),
                });
            }
            Value::Date(d) => ("DateValue", d.clone()),
            Value::DateTime(d) => ("DateTimeValue", d.clone()),
        };
        w.text(element, &text, what)?;
        w.close("VariableValue");
    }
    Ok(())
}

/// A code and its children; `notes` says whether `NoteRef`s belong (project, not codebook).
/// Depth first without recursion: a hierarchy of any depth cannot exhaust the stack.
fn code(w: &mut Xml, top: &Code, notes: bool) -> Result<(), RefiError> {
    // The children still to write of each open `Code`, innermost last.
    let mut open: Vec<std::slice::Iter<'_, Code>> = Vec::new();
    let mut next = Some(top);
    loop {
        if let Some(c) = next
            && code_start(w, c, notes)?
        {
            open.push(c.children.iter());
        }
        let Some(siblings) = open.last_mut() else {
            return Ok(());
        };
        next = siblings.next();
        if next.is_none() {
            open.pop();
            w.close("Code");
        }
    }
}

/// A code's start tag, description and note references; `true` if it was left open (for its
/// children and end tag), `false` if written as an empty element.
fn code_start(w: &mut Xml, c: &Code, notes: bool) -> Result<bool, RefiError> {
    let what = format!("Code {:?}", c.name);
    let mut a = w.attrs(&what);
    a.guid("guid", &c.guid)?
        .text("name", &c.name)?
        .text("isCodable", if c.is_codable { "true" } else { "false" })?
        .color(c.color.as_ref())?;
    let has_notes = notes && !c.note_refs.is_empty();
    if c.description.is_none() && !has_notes && c.children.is_empty() {
        w.empty("Code", &a);
        return Ok(false);
    }
    w.open("Code", &a);
    w.opt_text("Description", c.description.as_ref(), &what)?;
    if notes {
        w.refs("NoteRef", "targetGUID", &c.note_refs, &what)?;
    }
    Ok(true)
}

struct CodebookWriter {
    w: Xml<'static>,
}

impl CodebookWriter {
    fn codebook(mut self, book: &Codebook) -> Result<String, RefiError> {
        if book.codes.is_empty() && !self.w.lenient {
            return Err(RefiError::Write {
                what: "the codebook".into(),
                why: "it has no codes (Codes needs at least one Code)".into(),
            });
        }
        let mut a = self.w.attrs(&"the codebook");
        a.text("xmlns", CODEBOOK_NS)?
            .opt("origin", book.origin.as_ref())?;
        self.w.open("CodeBook", &a);
        self.w.open("Codes", &self.w.attrs(&"Codes"));
        for c in &book.codes {
            code(&mut self.w, c, false)?;
        }
        self.w.close("Codes");
        self.w.wrapped("Sets", &book.sets, |w, s| {
            let what = label("Set", &s.guid);
            let mut a = w.attrs(&what);
            a.guid("guid", &s.guid)?.text("name", &s.name)?;
            w.open("Set", &a);
            w.opt_text("Description", s.description.as_ref(), &what)?;
            // The codebook schema's MemberCode carries `guid`, not `targetGUID`.
            w.refs("MemberCode", "guid", &s.member_codes, &what)?;
            w.close("Set");
            Ok(())
        })?;
        self.w.close("CodeBook");
        Ok(self.w.out)
    }
}
