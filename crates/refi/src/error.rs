//! What can go wrong reading or writing REFI-QDA files.

/// An error that stops a read or a write. Each names the file, zip entry or object concerned,
/// and where it can, the line and column (1-based, columns in characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefiError {
    /// The `.qdpx` is not a readable zip archive.
    #[error("{file}: not a readable zip archive: {reason}")]
    Zip { file: String, reason: String },
    /// A zip entry's name is absolute, climbs out with `..`, or uses backslashes.
    #[error("zip entry {entry:?} has an unsafe path: {why}")]
    UnsafePath { entry: String, why: String },
    /// A zip entry is a symbolic link (unix mode `S_IFLNK` in its external attributes).
    #[error("zip entry {entry:?} is a symbolic link, which a project may not contain")]
    Symlink { entry: String },
    /// The archive has more entries than [`crate::Limits::max_entries`].
    #[error("the archive has {count} entries, more than the limit of {limit}")]
    TooManyEntries { count: usize, limit: usize },
    /// Reading an entry would take the archive past [`crate::Limits::max_total_uncompressed`].
    #[error("zip entry {entry:?} takes the uncompressed size past the limit of {limit} bytes")]
    TooLarge { entry: String, limit: u64 },
    /// An entry expands more than [`crate::Limits::max_ratio`] times (a zip bomb).
    #[error(
        "zip entry {entry:?} expands {ratio} times ({size} bytes from {compressed}), more than the limit of {limit}"
    )]
    Ratio {
        entry: String,
        size: u64,
        compressed: u64,
        ratio: u64,
        limit: u64,
    },
    /// A zip entry could not be read (corrupt data, bad checksum).
    #[error("zip entry {entry:?} cannot be read: {reason}")]
    Entry { entry: String, reason: String },
    /// The archive has no `*.qde` file at its root.
    #[error("{file}: the archive holds no .qde project file at its root")]
    NoProject { file: String },
    /// The archive has more than one `*.qde` file at its root.
    #[error(
        "{file}: the archive holds more than one .qde project file at its root ({first} and {second})"
    )]
    SeveralProjects {
        file: String,
        first: String,
        second: String,
    },
    /// The XML has a document type declaration (which could define entities).
    #[error("{file} line {line}, column {column}: DOCTYPE/entities are not allowed")]
    Doctype {
        file: String,
        line: usize,
        column: usize,
    },
    /// The XML (or a text file) is not UTF-8.
    #[error("{file}: not UTF-8 (byte {offset})")]
    Encoding { file: String, offset: usize },
    /// The XML is not well-formed.
    #[error("{file} line {line}, column {column}: invalid XML: {message}")]
    Xml {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// Elements nest deeper than [`crate::MAX_XML_DEPTH`].
    #[error("{file} line {line}: elements nest more than {limit} deep, the limit")]
    TooDeep {
        file: String,
        line: usize,
        limit: usize,
    },
    /// The root element is not the one expected (`Project` or `CodeBook` in a QDA-XML namespace).
    #[error(
        "{file}: the root element is {found}, expected <{expected}> in the namespace {namespace}"
    )]
    WrongRoot {
        file: String,
        found: String,
        expected: String,
        namespace: String,
    },
    /// A required attribute or child element is missing.
    #[error("{file} line {line}: <{element}> lacks its required {what}")]
    Missing {
        file: String,
        line: usize,
        element: String,
        what: String,
    },
    /// Two objects carry the same GUID.
    #[error(
        "{file}: the GUID {guid} is used twice, by <{first}> (line {first_line}) and <{second}> (line {second_line})"
    )]
    DuplicateGuid {
        file: String,
        guid: String,
        first: String,
        first_line: usize,
        second: String,
        second_line: usize,
    },
    /// A `Coding`'s `CodeRef` names a code the codebook does not have.
    #[error(
        "{file} line {line}: Coding {coding} refers to the code {code}, which the codebook does not have"
    )]
    UnknownCode {
        file: String,
        line: usize,
        coding: String,
        code: String,
    },
    /// A streamed read met a part of the project that belongs before the sources after them
    /// (against the schema's order): read it again without streaming.
    #[error(
        "{file} line {line}: <{element}> comes after the sources; the project must be read whole"
    )]
    NotStreamable {
        file: String,
        element: String,
        line: usize,
    },
    /// Something in the project cannot be written as valid QDA-XML (a character XML 1.0 does
    /// not allow, a GUID or colour of the wrong form, a number the schema cannot express …).
    #[error("cannot write {what}: {why}")]
    Write { what: String, why: String },
}
