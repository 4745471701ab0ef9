//! The REFI-QDA (QDA-XML 1.0) objects a text-centred tool exchanges, as plain data. GUIDs are
//! kept as read (braces stripped); compare them with [`same_guid`]. Text positions in
//! [`Selection`] are Unicode code points into the source's `text` once a project has been read
//! (the reader converts from the file's unit); a writer emits code points.

/// A GUID as text, 8-4-4-4-12 hex, without braces.
pub type Guid = String;

/// A GUID in the form this crate writes and compares: braces stripped, lower case.
pub fn normalize_guid(g: &str) -> String {
    bare_guid(g).to_ascii_lowercase()
}

/// The GUID without surrounding white space and braces.
pub(crate) fn bare_guid(g: &str) -> &str {
    g.trim().trim_matches(|c| c == '{' || c == '}')
}

/// A bare GUID of the standard form (8-4-4-4-12 hex digits, either case) as its number.
pub(crate) fn guid_number(g: &str) -> Option<u128> {
    let b = g.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut n: u128 = 0;
    for (i, &c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        n = (n << 4) | u128::from(digit);
    }
    Some(n)
}

/// Whether two GUIDs are the same (case and braces do not matter).
pub fn same_guid(a: &str, b: &str) -> bool {
    normalize_guid(a) == normalize_guid(b)
}

/// A `.qdpx`/`.qde` project.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Project {
    pub name: String,
    /// The producing tool (`origin`), e.g. "NVivo for Windows 12.6".
    pub origin: Option<String>,
    pub creating_user: Option<Guid>,
    pub creation_date_time: Option<String>,
    pub modifying_user: Option<Guid>,
    pub modified_date_time: Option<String>,
    pub base_path: Option<String>,
    pub users: Vec<User>,
    /// The codebook: top-level codes, each with its children.
    pub codes: Vec<Code>,
    pub variables: Vec<Variable>,
    pub cases: Vec<Case>,
    pub text_sources: Vec<TextSource>,
    pub media_sources: Vec<MediaSource>,
    pub notes: Vec<Note>,
    pub sets: Vec<Set>,
    pub description: Option<String>,
    /// Notes about the project itself.
    pub note_refs: Vec<Guid>,
}

/// A `.qdc` codebook.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Codebook {
    pub origin: Option<String>,
    pub codes: Vec<Code>,
    pub sets: Vec<Set>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct User {
    pub guid: Guid,
    pub name: Option<String>,
    pub id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Code {
    pub guid: Guid,
    pub name: String,
    /// `false` for a folder or category that is not applied to text.
    pub is_codable: bool,
    /// `#RRGGBB` (a reader expands `#RGB` and drops what it cannot read, with a warning).
    pub color: Option<String>,
    pub description: Option<String>,
    pub note_refs: Vec<Guid>,
    pub children: Vec<Code>,
}

impl Code {
    /// Every code of a hierarchy with its depth (1 at the top), parents before children.
    /// Without recursion, as every walk over codes: a file's hierarchy may be of any depth.
    pub fn walk(codes: &[Code]) -> impl Iterator<Item = (usize, &Code)> {
        let mut open = vec![codes.iter()];
        std::iter::from_fn(move || {
            loop {
                let depth = open.len();
                match open.last_mut()?.next() {
                    Some(c) => {
                        open.push(c.children.iter());
                        return Some((depth, c));
                    }
                    None => {
                        open.pop();
                    }
                }
            }
        })
    }
}

impl Drop for Code {
    /// Drops the children without recursion (the derived drop recurses once per level).
    fn drop(&mut self) {
        let mut below = std::mem::take(&mut self.children);
        while let Some(mut c) = below.pop() {
            below.append(&mut c.children);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VariableType {
    Text,
    Boolean,
    Integer,
    Float,
    Date,
    DateTime,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    pub guid: Guid,
    pub name: String,
    pub kind: VariableType,
    pub description: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Boolean(bool),
    Integer(i64),
    Float(f64),
    /// `xsd:date` as written (`2025-03-12`).
    Date(String),
    /// `xsd:dateTime` as written.
    DateTime(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct VariableValue {
    pub variable: Guid,
    pub value: Value,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Case {
    pub guid: Guid,
    /// Optional in the standard (MAXQDA and Quirkos omit it).
    pub name: Option<String>,
    pub description: Option<String>,
    pub code_refs: Vec<Guid>,
    pub values: Vec<VariableValue>,
    pub source_refs: Vec<Guid>,
    pub selection_refs: Vec<Guid>,
}

/// A text document with its text (read from `internal://…` or `PlainTextContent`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TextSource {
    pub guid: Guid,
    pub name: Option<String>,
    /// The text, BOM removed, line endings as the file has them.
    pub text: String,
    /// The path the text came from or goes to (`internal://<guid>.txt`).
    pub plain_text_path: Option<String>,
    pub description: Option<String>,
    pub creating_user: Option<Guid>,
    pub creation_date_time: Option<String>,
    pub modifying_user: Option<Guid>,
    pub modified_date_time: Option<String>,
    pub selections: Vec<Selection>,
    /// Codings of the whole document.
    pub codings: Vec<Coding>,
    pub note_refs: Vec<Guid>,
    pub values: Vec<VariableValue>,
}

/// A stretch of text, `[start, end)` in code points of its source's `text`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    pub guid: Guid,
    /// Often the quoted text (NVivo, ATLAS.ti): a reader compares it with the text found.
    pub name: Option<String>,
    pub start: usize,
    pub end: usize,
    pub creating_user: Option<Guid>,
    pub creation_date_time: Option<String>,
    pub modifying_user: Option<Guid>,
    pub modified_date_time: Option<String>,
    pub description: Option<String>,
    pub codings: Vec<Coding>,
    pub note_refs: Vec<Guid>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coding {
    pub guid: Guid,
    pub code: Guid,
    pub creating_user: Option<Guid>,
    pub creation_date_time: Option<String>,
    pub note_refs: Vec<Guid>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    Audio,
    Video,
}

/// An audio or video source, usually with a transcript synchronised to it.
#[derive(Clone, Debug, PartialEq)]
pub struct MediaSource {
    pub kind: MediaKind,
    pub guid: Guid,
    pub name: Option<String>,
    /// `internal://…`, `relative:///…` or `absolute:///…`.
    pub path: Option<String>,
    pub current_path: Option<String>,
    pub description: Option<String>,
    pub transcripts: Vec<Transcript>,
    /// `[begin, end)` in milliseconds.
    pub selections: Vec<MediaSelection>,
    pub codings: Vec<Coding>,
    pub note_refs: Vec<Guid>,
    pub values: Vec<VariableValue>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transcript {
    pub guid: Guid,
    pub name: Option<String>,
    pub text: String,
    pub plain_text_path: Option<String>,
    pub sync_points: Vec<SyncPoint>,
    /// Selections of the transcript's text, in code points (as for a text source).
    pub selections: Vec<Selection>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncPoint {
    pub guid: Guid,
    /// Milliseconds into the recording.
    pub time_ms: u64,
    /// Code points into the transcript's text.
    pub position: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MediaSelection {
    pub guid: Guid,
    pub name: Option<String>,
    pub begin_ms: u64,
    pub end_ms: u64,
    pub codings: Vec<Coding>,
    pub note_refs: Vec<Guid>,
}

/// A memo: a small text source of its own, attached to things by `NoteRef`s.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Note {
    pub guid: Guid,
    pub name: Option<String>,
    pub text: String,
    pub creating_user: Option<Guid>,
    pub creation_date_time: Option<String>,
    pub modifying_user: Option<Guid>,
    pub modified_date_time: Option<String>,
    pub description: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Set {
    pub guid: Guid,
    pub name: String,
    pub description: Option<String>,
    pub member_codes: Vec<Guid>,
    pub member_sources: Vec<Guid>,
    pub member_notes: Vec<Guid>,
}

/// What a text file's `startPosition`/`endPosition` count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PositionUnit {
    /// Decide per project: NVivo counts UTF-16 units, others code points; checked by how many
    /// selections land on word boundaries (and match their quoted names).
    Auto,
    /// Unicode code points, as the standard says (§10.2).
    CodePoints,
    /// UTF-16 code units (NVivo), CRLF counting two.
    Utf16,
}

/// What was not carried over, and why: said at every import and export (REFI-QDA §7).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// `(what, how many, why)`, e.g. `("PDFSource", 2, "between holds text sources only")`.
    pub dropped: Vec<(String, usize, String)>,
    /// Things a person should know (a selection that could not be placed, a colour that could
    /// not be read, the position unit chosen and why).
    pub warnings: Vec<String>,
    /// The unit text positions were read in.
    pub unit: Option<PositionUnit>,
    /// Selections that could not be placed in their text (left out, never shifted).
    pub unplaced: Vec<Unplaced>,
}

/// A text or transcript selection left out because its positions do not fit its text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unplaced {
    /// The source's (or transcript's) name, or its GUID when it has none.
    pub source: String,
    pub source_guid: Guid,
    pub selection: Guid,
    /// The positions as the file gives them (`None` when they could not be read at all).
    pub start: Option<i64>,
    pub end: Option<i64>,
    /// Why it cannot be placed: past the end, reversed, inside a surrogate pair, no text …
    pub why: String,
}

impl std::fmt::Display for Unplaced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pos = |p: Option<i64>| p.map_or_else(|| "?".to_string(), |p| p.to_string());
        write!(
            f,
            "selection {} of {} ({}–{}) not placed: {}",
            self.selection,
            self.source,
            pos(self.start),
            pos(self.end),
            self.why
        )
    }
}

impl Report {
    /// Adds a warning line.
    pub fn warn(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }

    /// Records `count` elements of a kind as not carried over.
    pub fn drop(&mut self, what: &str, count: usize, why: &str) {
        if count == 0 {
            return;
        }
        match self
            .dropped
            .iter_mut()
            .find(|(w, _, y)| w == what && y == why)
        {
            Some(entry) => entry.1 += count,
            None => self
                .dropped
                .push((what.to_string(), count, why.to_string())),
        }
    }
}
