//! Reading XML with quick-xml as a stream (a document is never held whole): namespaces
//! resolved, entities other than the five predefined ones and character references refused,
//! every element's line kept for messages.

use std::borrow::Cow;
use std::io::{BufRead, Read};
use std::rc::Rc;

use quick_xml::events::Event;
use quick_xml::name::PrefixDeclaration;
use quick_xml::reader::Reader;

use crate::RefiError;

/// How deep elements may nest in a document: far more than QDA-XML needs (a project's codes
/// sit three levels down, and a study's codes nest at most 64 deep), few enough
/// that every walk over an element tree is cheap.
pub const MAX_XML_DEPTH: usize = 128;

/// An element: local name, namespace, attributes (unqualified ones by local name), child
/// elements and its own text (character data directly inside it, concatenated).
#[derive(Debug, Default)]
pub(crate) struct Element {
    pub name: Cow<'static, str>,
    /// Shared between the elements of one namespace.
    pub ns: Option<Rc<str>>,
    pub attrs: Vec<(Cow<'static, str>, Cow<'static, str>)>,
    pub children: Vec<Element>,
    pub text: Cow<'static, str>,
    /// The line its start tag begins on.
    pub line: usize,
}

impl Element {
    /// The attribute's value, if present.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_ref())
    }

    /// The attribute's value, taken out of the element (to be read once: it is left empty).
    pub fn take(&mut self, name: &str) -> Option<String> {
        self.attrs
            .iter_mut()
            .find(|(n, _)| n == name)
            .map(|(_, v)| std::mem::take(v).into_owned())
    }

    /// The children with this local name.
    pub fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Element> + 's {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first child with this local name.
    pub fn first(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// Where a byte offset of a document lies: 1-based line and column (in characters). Found by
/// reading the document again (only an error asks), so a document is never held whole.
pub(crate) type Locate<'l> = &'l dyn Fn(u64) -> (usize, usize);

/// Line and column of `offset` in the bytes `input` gives (read once, in pieces).
pub(crate) fn locate_in(mut input: impl Read, offset: u64) -> (usize, usize) {
    let (mut line, mut column) = (1, 1);
    let mut at: u64 = 0;
    let mut chunk = vec![0; 1 << 16];
    'read: loop {
        let n = match input.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &b in &chunk[..n] {
            if at >= offset {
                break 'read;
            }
            at += 1;
            if b == b'\n' {
                line += 1;
                column = 1;
            } else if b & 0xC0 != 0x80 {
                column += 1;
            }
        }
    }
    (line, column)
}

/// A reader that counts the lines of what has been consumed: quick-xml consumes exactly what
/// it has parsed, so the count is the line an event starts on.
pub(crate) struct Lines<R> {
    inner: R,
    line: usize,
    consumed: u64,
}

impl<R: BufRead> Lines<R> {
    pub fn new(inner: R) -> Self {
        Lines {
            inner,
            line: 1,
            consumed: 0,
        }
    }
}

impl<R: BufRead> Read for Lines<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Lines<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        // The bytes are still in the buffer: filling it again reads nothing.
        if let Ok(buffered) = self.inner.fill_buf() {
            let n = n.min(buffered.len());
            self.line += buffered[..n].iter().filter(|&&b| b == b'\n').count();
        }
        self.consumed += n as u64;
        self.inner.consume(n);
    }
}

/// Strips a UTF-8 BOM and decodes UTF-8 (or UTF-16 with a BOM); `file` names it in errors.
pub(crate) fn decode_text(file: &str, bytes: &[u8]) -> Result<String, RefiError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return utf8(file, rest, 3);
    }
    let utf16 = |rest: &[u8], be: bool| {
        let units = rest.chunks(2).map(|c| match (c, be) {
            ([a, b], true) => u16::from_be_bytes([*a, *b]),
            ([a, b], false) => u16::from_le_bytes([*a, *b]),
            _ => 0xDC00, // a lone trailing byte: an unpaired surrogate, reported below
        });
        char::decode_utf16(units)
            .enumerate()
            .map(|(i, c)| {
                c.map_err(|_| RefiError::Encoding {
                    file: file.to_string(),
                    offset: 2 + 2 * i,
                })
            })
            .collect::<Result<String, _>>()
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, false),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, true),
        _ => utf8(file, bytes, 0),
    }
}

fn utf8(file: &str, bytes: &[u8], skipped: usize) -> Result<String, RefiError> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => Err(RefiError::Encoding {
            file: file.to_string(),
            offset: skipped + e.valid_up_to(),
        }),
    }
}

/// [`decode_text`] of bytes it may keep: UTF-8 without a BOM is not copied.
pub(crate) fn decode_vec(file: &str, bytes: Vec<u8>) -> Result<String, RefiError> {
    if bytes.starts_with(b"\xEF\xBB\xBF")
        || bytes.starts_with(b"\xFF\xFE")
        || bytes.starts_with(b"\xFE\xFF")
    {
        return decode_text(file, &bytes);
    }
    String::from_utf8(bytes).map_err(|e| RefiError::Encoding {
        file: file.to_string(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// `Some` of the name as a `&'static str` if it is one of those listed.
macro_rules! known_name {
    ($name:expr; $($known:literal)*) => {
        match $name { $($known => Some($known),)* _ => None }
    };
}

/// A name: one QDA-XML gives elements and attributes without copying (as nearly every name of
/// a large project is), any other copied.
fn interned(name: &str) -> Cow<'static, str> {
    let known = known_name!(name;
        "AudioSelection" "AudioSource" "BooleanValue" "Case" "CodeBook" "CodeRef" "Code"
        "Codes" "Coding" "DateTimeValue" "DateValue" "Description" "FloatValue" "Graphs"
        "IntegerValue" "Links" "MemberCode" "MemberNote" "MemberSource" "NoteRef" "Note"
        "Notes" "PDFSource" "PDFSelection" "PictureSelection" "PictureSource"
        "PlainTextContent" "PlainTextSelection" "Project" "Representation" "SelectionRef"
        "Set" "Sets" "SourceRef" "Sources" "SyncPoint" "TextSource" "TextValue"
        "Transcript" "TranscriptSelection" "User" "Users" "Variable" "VariableRef"
        "VariableValue" "Variables" "VideoSelection" "VideoSource" "basePath" "begin"
        "color" "creatingUser" "creatingUserGUID" "creationDateTime" "currentPath" "end"
        "endPosition" "fromSyncPoint" "guid" "id" "isCodable" "modifiedDateTime"
        "modifyingUser" "modifyingUserGUID" "name" "origin" "path" "plainTextPath"
        "position" "richTextPath" "startPosition" "targetGUID" "timeStamp" "toSyncPoint"
        "typeOfVariable" "xmlns"
    );
    match known {
        Some(n) => Cow::Borrowed(n),
        None => Cow::Owned(name.to_string()),
    }
}

/// Line breaks followed by up to 64 spaces or 16 tabs: the indentation between elements.
const SPACES: &str = "\n                                                                ";
const TABS: &str = "\n\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";

/// Character data as kept: indentation (most of a document's character data) without a copy.
fn kept_text(t: Cow<'_, str>) -> Cow<'static, str> {
    let indentation = [SPACES, TABS]
        .into_iter()
        .find(|pool| pool.starts_with(&*t));
    match indentation {
        Some(pool) => Cow::Borrowed(&pool[..t.len()]),
        None => Cow::Owned(t.into_owned()),
    }
}

/// Appends character data to an element's text.
fn push_text(text: &mut Cow<'static, str>, more: Cow<'static, str>) {
    if more.is_empty() {
        return;
    }
    if text.is_empty() {
        *text = more;
    } else {
        text.to_mut().push_str(&more);
    }
}

/// What [`Pull::next`] hands out: an element's start (its attributes, no children or text
/// yet), its end, or a piece of its character data. An empty element (`<a/>`) is a start
/// followed by an end.
#[derive(Debug)]
pub(crate) enum Item {
    Start(Element),
    End,
    Text(Cow<'static, str>),
    /// The end of the document, after its root element.
    Eof,
}

/// A namespace declared on an element `depth` deep: for `prefix`, or the default (`None`);
/// `ns` is `None` where the default namespace is undeclared.
struct Binding {
    depth: usize,
    prefix: Option<Box<str>>,
    ns: Option<Rc<str>>,
}

/// A pull parser over a document read as a stream: [`Pull::next`] gives one [`Item`] at a
/// time in document order, [`Pull::subtree`] reads a (small) element whole, [`Pull::skip`]
/// passes one by. Refuses a DOCTYPE, undefined entities, undeclared namespace prefixes,
/// unclosed or mismatched elements, a second root and text that is not UTF-8, each with its
/// line and column.
pub(crate) struct Pull<'l, R> {
    file: &'l str,
    locate: Locate<'l>,
    reader: Reader<Lines<R>>,
    buf: Vec<u8>,
    /// Shared between the elements of one namespace.
    namespaces: Vec<Rc<str>>,
    /// The namespace declarations in scope, innermost last. Resolved here rather than by
    /// quick-xml's `NsReader`, which reads every element's attributes a second time for them.
    bindings: Vec<Binding>,
    /// Local names of the open elements, outermost first.
    open: Vec<Cow<'static, str>>,
    root_seen: bool,
}

impl<'l, R: BufRead> Pull<'l, R> {
    /// `input` is the document's bytes as UTF-8 (a BOM is passed by); `locate` finds a byte
    /// offset's line and column for an error message.
    pub fn new(file: &'l str, input: R, locate: Locate<'l>) -> Self {
        let mut reader = Reader::from_reader(Lines::new(input));
        reader.config_mut().check_end_names = true;
        reader.config_mut().expand_empty_elements = true;
        Pull {
            file,
            locate,
            reader,
            buf: Vec::new(),
            namespaces: Vec::new(),
            bindings: Vec::new(),
            open: Vec::new(),
            root_seen: false,
        }
    }

    /// The namespace, shared with the elements already read in it.
    fn namespace(&mut self, name: &str) -> Rc<str> {
        if let Some(known) = self.namespaces.iter().find(|k| &***k == name) {
            return Rc::clone(known);
        }
        let ns: Rc<str> = Rc::from(name);
        self.namespaces.push(Rc::clone(&ns));
        ns
    }

    /// How many elements are open.
    pub fn depth(&self) -> usize {
        self.open.len()
    }

    /// The line the parser is on.
    fn line(&self) -> usize {
        self.reader.get_ref().line
    }

    fn xml_error(&self, at: u64, message: impl Into<String>) -> RefiError {
        let (line, column) = (self.locate)(at);
        RefiError::Xml {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    /// The next item of the document.
    pub fn next(&mut self) -> Result<Item, RefiError> {
        // The event borrows the buffer, which is taken out meanwhile so that errors can be
        // made from `self`.
        let mut buf = std::mem::take(&mut self.buf);
        let item = self.next_into(&mut buf);
        self.buf = buf;
        item
    }

    fn next_into(&mut self, buf: &mut Vec<u8>) -> Result<Item, RefiError> {
        loop {
            let before = self.reader.buffer_position();
            let line = self.line();
            buf.clear();
            let event = match self.reader.read_event_into(buf) {
                Ok(event) => event,
                Err(e) => {
                    let at = self.reader.error_position();
                    return Err(self.xml_error(at, e.to_string()));
                }
            };
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    if self.root_seen && self.open.is_empty() {
                        return Err(self.xml_error(before, "a second root element"));
                    }
                    let depth = self.open.len() + 1;
                    if depth > MAX_XML_DEPTH {
                        return Err(RefiError::TooDeep {
                            file: self.file.to_string(),
                            line,
                            limit: MAX_XML_DEPTH,
                        });
                    }
                    let mut attrs = Vec::new();
                    for attr in e.attributes() {
                        let attr = attr.map_err(|err| self.xml_error(before, err.to_string()))?;
                        // Most values need no normalising (no reference, no line break or
                        // tab): they are taken as they are, which is most of a large read.
                        let plain = !attr
                            .value
                            .bytes()
                            .any(|b| matches!(b, b'&' | b'\t' | b'\n' | b'\r'));
                        let value = if plain {
                            attr.value
                        } else {
                            attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .map_err(|err| self.xml_error(before, err.to_string()))?
                        };
                        if let Some(declared) = attr.key.as_namespace_binding() {
                            let prefix = match declared {
                                PrefixDeclaration::Default => None,
                                PrefixDeclaration::Named(p) => Some(Box::from(p)),
                            };
                            // `xmlns=""` undeclares the default namespace.
                            let ns = (!value.is_empty()).then(|| self.namespace(&value));
                            self.bindings.push(Binding { depth, prefix, ns });
                            continue;
                        }
                        let key = interned(attr.key.local_name().as_ref());
                        attrs.push((key, Cow::Owned(value.into_owned())));
                    }
                    let qname = e.name();
                    let prefix = qname.prefix().map(|p| p.into_inner());
                    let bound = self
                        .bindings
                        .iter()
                        .rev()
                        .find(|b| b.prefix.as_deref() == prefix);
                    let ns = match (bound, prefix) {
                        (Some(b), _) => b.ns.clone(),
                        (None, None) => None,
                        (None, Some(p)) => {
                            return Err(self
                                .xml_error(before, format!("undeclared namespace prefix {p:?}")));
                        }
                    };
                    let name = interned(qname.local_name().as_ref());
                    self.root_seen = true;
                    self.open.push(name.clone());
                    return Ok(Item::Start(Element {
                        name,
                        ns,
                        attrs,
                        line,
                        ..Element::default()
                    }));
                }
                Event::End(_) => {
                    if self.open.pop().is_none() {
                        return Err(self.xml_error(before, "an end tag without a start tag"));
                    }
                    let depth = self.open.len();
                    while self.bindings.last().is_some_and(|b| b.depth > depth) {
                        self.bindings.pop();
                    }
                    return Ok(Item::End);
                }
                Event::Text(t) => {
                    if self.open.is_empty() {
                        continue;
                    }
                    let t = t.xml10_content();
                    if !t.is_empty() {
                        return Ok(Item::Text(kept_text(t)));
                    }
                }
                Event::CData(t) => {
                    let inner = t.into_inner().into_owned();
                    let content = if inner.contains("\r\n") {
                        inner.replace("\r\n", "\n")
                    } else {
                        inner
                    };
                    if !self.open.is_empty() && !content.is_empty() {
                        return Ok(Item::Text(Cow::Owned(content)));
                    }
                }
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => match quick_xml::escape::resolve_predefined_entity(&r) {
                            Some(s) => s.to_string(),
                            None => {
                                let name = r.to_string();
                                return Err(self.xml_error(
                                    before,
                                    format!("the entity &{name}; is not defined (DOCTYPE/entities are not allowed)"),
                                ));
                            }
                        },
                        Err(err) => return Err(self.xml_error(before, err.to_string())),
                    };
                    if !self.open.is_empty() {
                        return Ok(Item::Text(Cow::Owned(resolved)));
                    }
                }
                Event::DocType(_) => {
                    let (line, column) = (self.locate)(before);
                    return Err(RefiError::Doctype {
                        file: self.file.to_string(),
                        line,
                        column,
                    });
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => {
                    if let Some(open) = self.open.last() {
                        let message = format!("the document ends before <{open}> is closed");
                        return Err(self.xml_error(self.reader.buffer_position(), message));
                    }
                    if !self.root_seen {
                        return Err(self.xml_error(0, "no root element"));
                    }
                    return Ok(Item::Eof);
                }
            }
        }
    }

    /// The next element inside the current one (its start), or `None` at the current
    /// element's end (which is then read); text between the elements is passed by.
    pub fn child(&mut self) -> Result<Option<Element>, RefiError> {
        loop {
            match self.next()? {
                Item::Start(el) => return Ok(Some(el)),
                Item::Text(_) => {}
                Item::End => return Ok(None),
                Item::Eof => unreachable!("the document cannot end inside an element"),
            }
        }
    }

    /// The element whose start `next` has just given, read whole: its children and text,
    /// up to and including its end.
    pub fn subtree(&mut self, start: Element) -> Result<Element, RefiError> {
        // Closed elements waiting for their parent to close, and where each open element's
        // children begin among them: every list of children is allocated once, at its size.
        let mut stack = vec![start];
        let mut done: Vec<Element> = Vec::new();
        let mut starts: Vec<usize> = vec![0];
        loop {
            match self.next()? {
                Item::Start(element) => {
                    stack.push(element);
                    starts.push(done.len());
                }
                Item::End => {
                    let (Some(mut element), Some(start)) = (stack.pop(), starts.pop()) else {
                        unreachable!("every end has its start on the stack");
                    };
                    element.children = done.drain(start..).collect();
                    if stack.is_empty() {
                        return Ok(element);
                    }
                    done.push(element);
                }
                Item::Text(t) => {
                    if let Some(top) = stack.last_mut() {
                        push_text(&mut top.text, t);
                    }
                }
                Item::Eof => unreachable!("the document cannot end inside an element"),
            }
        }
    }

    /// Passes by the element whose start `next` has just given (its end included); returns
    /// how many elements inside it are named `count`.
    pub fn skip(&mut self, count: &str) -> Result<usize, RefiError> {
        let depth = self.depth();
        let mut n = 0;
        loop {
            match self.next()? {
                Item::Start(e) => n += usize::from(e.name == count),
                Item::End if self.depth() < depth => return Ok(n),
                Item::End | Item::Text(_) => {}
                Item::Eof => unreachable!("the document cannot end inside an element"),
            }
        }
    }

    /// The text directly inside the element whose start `next` has just given, up to and
    /// including its end (elements inside it are passed by).
    pub fn text(&mut self) -> Result<Cow<'static, str>, RefiError> {
        let depth = self.depth();
        let mut text = Cow::Borrowed("");
        loop {
            match self.next()? {
                Item::Text(t) if self.depth() == depth => push_text(&mut text, t),
                Item::End if self.depth() < depth => return Ok(text),
                Item::Start(_) | Item::End | Item::Text(_) => {}
                Item::Eof => unreachable!("the document cannot end inside an element"),
            }
        }
    }

    /// The root element's start (what comes before it is passed by).
    pub fn root(&mut self) -> Result<Element, RefiError> {
        loop {
            match self.next()? {
                Item::Start(root) => return Ok(root),
                Item::Text(_) | Item::End => {}
                Item::Eof => return Err(self.xml_error(0, "no root element")),
            }
        }
    }

    /// After the root's end: the end of the document (a second root is refused by `next`).
    pub fn end(&mut self) -> Result<(), RefiError> {
        match self.next()? {
            Item::Eof => Ok(()),
            other => unreachable!("after the root: {other:?}"),
        }
    }
}

/// Parses a whole (small) document into its root element (see [`Pull`] for what is refused).
pub(crate) fn parse(file: &str, text: &str) -> Result<Element, RefiError> {
    let locate = |at: u64| locate_in(text.as_bytes(), at);
    let mut pull = Pull::new(file, text.as_bytes(), &locate);
    let root = pull.root()?;
    let root = pull.subtree(root)?;
    pull.end()?;
    Ok(root)
}
