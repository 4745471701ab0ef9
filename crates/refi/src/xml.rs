//! A small element tree read with quick-xml: namespaces resolved, entities other than the five
//! predefined ones and character references refused, every element's byte offset kept for
//! error messages.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use crate::RefiError;

/// An element: local name, namespace, attributes (unqualified ones by local name), child
/// elements and its own text (character data directly inside it, concatenated).
#[derive(Debug, Default)]
pub(crate) struct Element {
    pub name: String,
    pub ns: Option<String>,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
    /// Byte offset of the `<` in the document.
    pub pos: usize,
}

impl Element {
    /// The attribute's value, if present.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The children with this local name.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first child with this local name.
    pub fn first(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// A document's text with a way to turn byte offsets into lines and columns.
#[derive(Debug)]
pub(crate) struct Doc<'a> {
    pub file: &'a str,
    pub text: &'a str,
    /// Byte offsets where lines start, found once (a large project asks for many lines).
    line_starts: Vec<usize>,
}

impl<'a> Doc<'a> {
    pub fn new(file: &'a str, text: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter(|(_, b)| *b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        Self {
            file,
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, pos: usize) -> (usize, usize) {
        let pos = pos.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= pos);
        let start = self.line_starts[line - 1];
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
    String::from_utf8(bytes.to_vec()).map_err(|e| RefiError::Encoding {
        file: file.to_string(),
        offset: skipped + e.utf8_error().valid_up_to(),
    })
}

/// Parses a whole document into its root element. Refuses a DOCTYPE, undefined entities,
/// unclosed or mismatched elements and a second root.
pub(crate) fn parse(doc: &Doc<'_>) -> Result<Element, RefiError> {
    let mut reader = NsReader::from_str(doc.text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
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
                    name: local.as_ref().to_string(),
                    ns: match ns {
                        ResolveResult::Bound(n) => Some(n.as_ref().to_string()),
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
                    element
                        .attrs
                        .push((key.local_name().as_ref().to_string(), value.into_owned()));
                }
                if matches!(event, Event::Start(_)) {
                    stack.push(element);
                } else {
                    close(&mut stack, &mut root, element);
                }
            }
            Event::End(_) => match stack.pop() {
                Some(element) => close(&mut stack, &mut root, element),
                None => return Err(doc.xml_error(before, "an end tag without a start tag")),
            },
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&t.into_inner().replace("\r\n", "\n"));
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
                    top.text.push_str(&resolved);
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

fn close(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}
