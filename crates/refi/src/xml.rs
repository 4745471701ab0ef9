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

/// Parses a whole document into its root element. Refuses a DOCTYPE, undefined entities,
/// unclosed or mismatched elements and a second root.
pub(crate) fn parse<'a>(doc: &Doc<'a>) -> Result<Element<'a>, RefiError> {
    let text: &'a str = doc.text;
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element<'a>> = Vec::new();
    // Closed elements waiting for their parent to close, and where each open element's
    // children begin among them: every list of children and attributes is allocated once, at
    // its exact size (a large project has hundreds of thousands of small elements).
    let mut done: Vec<Element<'a>> = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    let mut attrs: Vec<(Cow<'a, str>, Cow<'a, str>)> = Vec::new();
    let mut root: Option<Element<'a>> = None;
    let mut namespaces: Vec<Rc<str>> = Vec::new();
    loop {
        let before = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_event().map_err(|e| {
            let at = usize::try_from(reader.error_position()).unwrap_or(before);
            doc.xml_error(at, e.to_string())
        })?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if root.is_some() && stack.is_empty() {
                    return Err(doc.xml_error(before, "a second root element"));
                }
                let (ns, local) = reader.resolver().resolve_element(e.name());
                let mut element = Element {
                    name: lift(text, local.as_ref()),
                    ns: match ns {
                        ResolveResult::Bound(n) => {
                            let n = n.as_ref();
                            match namespaces.iter().find(|k| &***k == n) {
                                Some(k) => Some(Rc::clone(k)),
                                None => {
                                    let k: Rc<str> = Rc::from(n);
                                    namespaces.push(Rc::clone(&k));
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
                    },
                    pos: before,
                    ..Element::default()
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
                    attrs.push((lift(text, key.local_name().as_ref()), lift_cow(text, value)));
                }
                element.attrs = Vec::with_capacity(attrs.len());
                element.attrs.append(&mut attrs); // `attrs` keeps its room for the next element
                if matches!(event, Event::Start(_)) {
                    stack.push(element);
                    starts.push(done.len());
                } else if stack.is_empty() {
                    root = Some(element);
                } else {
                    done.push(element);
                }
            }
            Event::End(_) => match (stack.pop(), starts.pop()) {
                (Some(mut element), Some(start)) => {
                    element.children = done.drain(start..).collect();
                    if stack.is_empty() {
                        root = Some(element);
                    } else {
                        done.push(element);
                    }
                }
                _ => return Err(doc.xml_error(before, "an end tag without a start tag")),
            },
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    push_text(&mut top.text, t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    let inner = t.into_inner();
                    let content = if inner.contains("\r\n") {
                        Cow::Owned(inner.replace("\r\n", "\n"))
                    } else {
                        inner
                    };
                    push_text(&mut top.text, content);
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
                if let Some(top) = stack.last_mut() {
                    push_text(&mut top.text, Cow::Owned(resolved));
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
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(doc.xml_error(
            doc.text.len(),
            format!("the document ends before <{}> is closed", open.name),
        ));
    }
    root.ok_or_else(|| doc.xml_error(0, "no root element"))
}
