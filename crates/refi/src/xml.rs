//! A small element tree read with quick-xml: namespaces resolved, entities other than the five
//! predefined ones and character references refused, every element's byte offset kept for
//! error messages.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::rc::Rc;

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use crate::RefiError;

/// An element: local name, namespace, attributes (unqualified ones by local name), child
/// elements and its own text (character data directly inside it, concatenated).
/// Names, attributes and text borrow from the document's text where they can (an attribute
/// or text that needed unescaping is owned).
#[derive(Debug, Default)]
pub(crate) struct Element<'a> {
    pub name: Cow<'a, str>,
    /// Shared between the elements of one namespace.
    pub ns: Option<Rc<str>>,
    pub attrs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    pub children: Vec<Element<'a>>,
    pub text: Cow<'a, str>,
    /// Byte offset of the `<` in the document.
    pub pos: usize,
}

impl<'a> Element<'a> {
    /// The attribute's value, if present.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_ref())
    }

    /// The children with this local name.
    pub fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Element<'a>> + 's {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first child with this local name.
    pub fn first(&self, name: &str) -> Option<&Element<'a>> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// A document's text with a way to turn byte offsets into lines and columns.
#[derive(Debug)]
pub(crate) struct Doc<'a> {
    pub file: &'a str,
    pub text: &'a str,
    /// Byte offsets where lines start, found once when first asked (a large project asks for
    /// many lines, a clean one for none).
    line_starts: OnceCell<Vec<usize>>,
}

impl<'a> Doc<'a> {
    pub fn new(file: &'a str, text: &'a str) -> Self {
        Self {
            file,
            text,
            line_starts: OnceCell::new(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, pos: usize) -> (usize, usize) {
        let pos = pos.min(self.text.len());
        let line_starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(
                    self.text
                        .bytes()
                        .enumerate()
                        .filter(|(_, b)| *b == b'\n')
                        .map(|(i, _)| i + 1),
                )
                .collect()
        });
        let line = line_starts.partition_point(|&s| s <= pos);
        let start = line_starts[line - 1];
        let column = String::from_utf8_lossy(&self.text.as_bytes()[start..pos])
            .chars()
            .count()
            + 1;
        (line, column)
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, pos: usize) -> usize {
        self.line_col(pos).0
    }

    fn xml_error(&self, pos: usize, message: impl Into<String>) -> RefiError {
        let (line, column) = self.line_col(pos);
        RefiError::Xml {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        }
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

/// `s` as a slice of `text` when it lies inside it (quick-xml hands out slices of its input
/// with the lifetime of the event), else a copy.
fn lift<'a>(text: &'a str, s: &str) -> Cow<'a, str> {
    let base = text.as_ptr() as usize;
    let at = (s.as_ptr() as usize).wrapping_sub(base);
    match text.get(at..at.wrapping_add(s.len())) {
        Some(t) if at <= text.len() && t.as_ptr() == s.as_ptr() => Cow::Borrowed(t),
        _ => Cow::Owned(s.to_string()),
    }
}

fn lift_cow<'a>(text: &'a str, c: Cow<'_, str>) -> Cow<'a, str> {
    match c {
        Cow::Borrowed(s) => lift(text, s),
        Cow::Owned(s) => Cow::Owned(s),
    }
}

/// Appends character data to an element's text, borrowing while it is one piece.
fn push_text<'a>(text: &mut Cow<'a, str>, more: Cow<'a, str>) {
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
pub(crate) enum Item<'a> {
    Start(Element<'a>),
    End,
    Text(Cow<'a, str>),
    /// The end of the document, after its root element.
    Eof,
}

/// A pull parser over a document: [`Pull::next`] gives one [`Item`] at a time in document
/// order, [`Pull::subtree`] reads a (small) element whole, [`Pull::skip`] passes one by.
/// Refuses a DOCTYPE, undefined entities, undeclared namespace prefixes, unclosed or
/// mismatched elements and a second root, each with its line and column.
pub(crate) struct Pull<'d, 'a> {
    doc: &'d Doc<'a>,
    reader: NsReader<&'a [u8]>,
    /// Shared between the elements of one namespace.
    namespaces: Vec<Rc<str>>,
    /// Room for one element's attributes, reused.
    attrs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// Local names of the open elements, outermost first.
    open: Vec<Cow<'a, str>>,
    root_seen: bool,
}

impl<'d, 'a> Pull<'d, 'a> {
    pub fn new(doc: &'d Doc<'a>) -> Self {
        let mut reader = NsReader::from_str(doc.text);
        reader.config_mut().check_end_names = true;
        reader.config_mut().expand_empty_elements = true;
        Pull {
            doc,
            reader,
            namespaces: Vec::new(),
            attrs: Vec::new(),
            open: Vec::new(),
            root_seen: false,
        }
    }

    /// How many elements are open.
    pub fn depth(&self) -> usize {
        self.open.len()
    }

    /// The next item of the document.
    pub fn next(&mut self) -> Result<Item<'a>, RefiError> {
        let doc = self.doc;
        let text: &'a str = doc.text;
        loop {
            let before = usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX);
            let event = self.reader.read_event().map_err(|e| {
                let at = usize::try_from(self.reader.error_position()).unwrap_or(before);
                doc.xml_error(at, e.to_string())
            })?;
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    if self.root_seen && self.open.is_empty() {
                        return Err(doc.xml_error(before, "a second root element"));
                    }
                    let (ns, local) = self.reader.resolver().resolve_element(e.name());
                    let ns = match ns {
                        ResolveResult::Bound(n) => {
                            let n = n.as_ref();
                            match self.namespaces.iter().find(|k| &***k == n) {
                                Some(k) => Some(Rc::clone(k)),
                                None => {
                                    let k: Rc<str> = Rc::from(n);
                                    self.namespaces.push(Rc::clone(&k));
                                    Some(k)
                                }
                            }
                        }
                        ResolveResult::Unbound => None,
                        ResolveResult::Unknown(p) => {
                            return Err(
                                doc.xml_error(before, format!("undeclared namespace prefix {p:?}"))
                            );
                        }
                    };
                    for attr in e.attributes() {
                        let attr = attr.map_err(|err| doc.xml_error(before, err.to_string()))?;
                        let key = attr.key;
                        if key.as_namespace_binding().is_some() {
                            continue;
                        }
                        let value = attr
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|err| doc.xml_error(before, err.to_string()))?;
                        self.attrs
                            .push((lift(text, key.local_name().as_ref()), lift_cow(text, value)));
                    }
                    let mut attrs = Vec::with_capacity(self.attrs.len());
                    attrs.append(&mut self.attrs); // `self.attrs` keeps its room
                    let element = Element {
                        name: lift(text, local.as_ref()),
                        ns,
                        attrs,
                        pos: before,
                        ..Element::default()
                    };
                    self.root_seen = true;
                    self.open.push(element.name.clone());
                    return Ok(Item::Start(element));
                }
                Event::End(_) => {
                    if self.open.pop().is_none() {
                        return Err(doc.xml_error(before, "an end tag without a start tag"));
                    }
                    return Ok(Item::End);
                }
                Event::Text(t) => {
                    let t = t.xml10_content();
                    if !self.open.is_empty() && !t.is_empty() {
                        return Ok(Item::Text(lift_cow(text, t)));
                    }
                }
                Event::CData(t) => {
                    let inner = t.into_inner();
                    let content = if inner.contains("\r\n") {
                        Cow::Owned(inner.replace("\r\n", "\n"))
                    } else {
                        lift_cow(text, inner)
                    };
                    if !self.open.is_empty() && !content.is_empty() {
                        return Ok(Item::Text(content));
                    }
                }
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => match quick_xml::escape::resolve_predefined_entity(&r) {
                            Some(s) => s.to_string(),
                            None => {
                                return Err(doc.xml_error(
                                    before,
                                    format!("the entity &{}; is not defined (DOCTYPE/entities are not allowed)", &*r),
                                ));
                            }
                        },
                        Err(err) => return Err(doc.xml_error(before, err.to_string())),
                    };
                    if !self.open.is_empty() {
                        return Ok(Item::Text(Cow::Owned(resolved)));
                    }
                }
                Event::DocType(_) => {
                    let (line, column) = doc.line_col(before);
                    return Err(RefiError::Doctype {
                        file: doc.file.to_string(),
                        line,
                        column,
                    });
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => {
                    if let Some(open) = self.open.last() {
                        return Err(doc.xml_error(
                            doc.text.len(),
                            format!("the document ends before <{open}> is closed"),
                        ));
                    }
                    if !self.root_seen {
                        return Err(doc.xml_error(0, "no root element"));
                    }
                    return Ok(Item::Eof);
                }
            }
        }
    }

    /// The next element inside the current one (its start), or `None` at the current
    /// element's end (which is then read); text between the elements is passed by.
    pub fn child(&mut self) -> Result<Option<Element<'a>>, RefiError> {
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
    pub fn subtree(&mut self, start: Element<'a>) -> Result<Element<'a>, RefiError> {
        // Closed elements waiting for their parent to close, and where each open element's
        // children begin among them: every list of children is allocated once, at its size.
        let mut stack = vec![start];
        let mut done: Vec<Element<'a>> = Vec::new();
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
    pub fn text(&mut self) -> Result<Cow<'a, str>, RefiError> {
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
}

/// Parses a whole document into its root element (see [`Pull`] for what is refused).
pub(crate) fn parse<'a>(doc: &Doc<'a>) -> Result<Element<'a>, RefiError> {
    let mut pull = Pull::new(doc);
    let root = loop {
        match pull.next()? {
            Item::Start(root) => break pull.subtree(root)?,
            Item::Text(_) | Item::End => {}
            Item::Eof => return Err(doc.xml_error(0, "no root element")),
        }
    };
    match pull.next()? {
        Item::Eof => Ok(root),
        // A second root is refused by `next`; nothing else can follow the root.
        other => unreachable!("after the root: {other:?}"),
    }
}
