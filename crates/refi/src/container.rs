//! The `.qdpx` zip container, read defensively: unsafe names, symbolic links and zip bombs
//! are refused before anything is decompressed, and every entry is read through a reader
//! capped at what the limits still allow, so a header that lies about sizes gains nothing.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{Read, Seek};
use std::rc::Rc;

use zip::ZipArchive;

use crate::RefiError;

/// How much a `.qdpx` may hold. The defaults allow any real project (the spec caps an internal
/// file at 2³¹−1 bytes) and refuse zip bombs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Total uncompressed bytes read from the archive (default 2 GiB).
    pub max_total_uncompressed: u64,
    /// Highest uncompressed/compressed ratio of one entry … (default 200)
    pub max_ratio: u64,
    /// … for entries larger than this many bytes (default 1 MiB; small entries may compress
    /// better).
    pub ratio_applies_above: u64,
    /// Most entries an archive may have (default 100 000).
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_uncompressed: 2 << 30,
            max_ratio: 200,
            ratio_applies_above: 1 << 20,
            max_entries: 100_000,
        }
    }
}

/// What an archive is read from: its bytes where they are, or a file (never read whole).
pub(crate) trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// An opened archive: the root `.qde`'s name and the other entries by name.
pub(crate) struct Archive<'a> {
    zip: ZipArchive<Box<dyn ReadSeek + 'a>>,
    limits: Limits,
    read_so_far: u64,
    /// Entry name → index, for files (not folders).
    entries: HashMap<String, usize>,
    pub qde: String,
}

impl std::fmt::Debug for Archive<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Archive")
            .field("qde", &self.qde)
            .field("entries", &self.entries.len())
            .finish()
    }
}

const S_IFMT: u32 = 0o170_000;
const S_IFLNK: u32 = 0o120_000;

/// Why an entry name is unsafe, if it is.
fn unsafe_name(name: &str) -> Option<&'static str> {
    if name.contains('\\') {
        return Some("it contains a backslash");
    }
    if name.starts_with('/') || name.as_bytes().get(1) == Some(&b':') {
        return Some("it is absolute");
    }
    if name.split('/').any(|part| part == "..") {
        return Some("it climbs out of the archive with ..");
    }
    if name.contains('\0') {
        return Some("it contains a NUL byte");
    }
    None
}

impl<'a> Archive<'a> {
    /// Opens a zip and checks every entry's name, type and declared size before reading any.
    pub fn open(
        file: &str,
        input: Box<dyn ReadSeek + 'a>,
        limits: Limits,
    ) -> Result<Archive<'a>, RefiError> {
        let zip_error = |e: zip::result::ZipError| RefiError::Zip {
            file: file.to_string(),
            reason: e.to_string(),
        };
        let mut zip = ZipArchive::new(input).map_err(zip_error)?;
        if zip.len() > limits.max_entries {
            return Err(RefiError::TooManyEntries {
                count: zip.len(),
                limit: limits.max_entries,
            });
        }
        let mut entries = HashMap::new();
        let mut qdes = Vec::new();
        let mut declared_total: u64 = 0;
        for index in 0..zip.len() {
            let entry = zip.by_index_raw(index).map_err(zip_error)?;
            let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
            if let Some(why) = unsafe_name(&name) {
                return Err(RefiError::UnsafePath {
                    entry: name,
                    why: why.to_string(),
                });
            }
            if entry.unix_mode().is_some_and(|m| m & S_IFMT == S_IFLNK) || entry.is_symlink() {
                return Err(RefiError::Symlink { entry: name });
            }
            if entry.is_dir() {
                continue;
            }
            check_ratio(&name, entry.size(), entry.compressed_size(), &limits)?;
            declared_total = declared_total.saturating_add(entry.size());
            if declared_total > limits.max_total_uncompressed {
                return Err(RefiError::TooLarge {
                    entry: name,
                    limit: limits.max_total_uncompressed,
                });
            }
            if !name.contains('/') && name.to_ascii_lowercase().ends_with(".qde") {
                qdes.push(name.clone());
            }
            entries.insert(name, index);
        }
        let qde = match qdes.as_slice() {
            [] => {
                return Err(RefiError::NoProject {
                    file: file.to_string(),
                });
            }
            [one] => one.clone(),
            [first, second, ..] => {
                return Err(RefiError::SeveralProjects {
                    file: file.to_string(),
                    first: first.clone(),
                    second: second.clone(),
                });
            }
        };
        Ok(Archive {
            zip,
            limits,
            read_so_far: 0,
            entries,
            qde,
        })
    }

    /// Reads an entry by exact name, within the limits.
    pub fn read(&mut self, name: &str) -> Result<Vec<u8>, RefiError> {
        let Some(&index) = self.entries.get(name) else {
            return Err(RefiError::Entry {
                entry: name.to_string(),
                reason: "no such entry".into(),
            });
        };
        let entry_error = |e: String| RefiError::Entry {
            entry: name.to_string(),
            reason: e,
        };
        let mut entry = self
            .zip
            .by_index(index)
            .map_err(|e| entry_error(e.to_string()))?;
        let compressed = entry.compressed_size();
        let allowed = self
            .limits
            .max_total_uncompressed
            .saturating_sub(self.read_so_far);
        // Room for the declared size, unless it is more than the limits could let through (a
        // lying header cannot make us allocate much; a larger entry still grows as it is read).
        let plausible = compressed
            .saturating_mul(self.limits.max_ratio)
            .max(self.limits.ratio_applies_above)
            .min(allowed.saturating_add(1));
        let capacity = entry.size().min(plausible);
        let mut out = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
        (&mut entry)
            .take(allowed.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| entry_error(e.to_string()))?;
        let size = out.len() as u64;
        if size > allowed {
            return Err(RefiError::TooLarge {
                entry: name.to_string(),
                limit: self.limits.max_total_uncompressed,
            });
        }
        check_ratio(name, size, compressed, &self.limits)?;
        self.read_so_far += size;
        Ok(out)
    }

    /// An entry by exact name as a stream, within the limits: reading past them fails, and
    /// the reason is then in the returned cell (the stream's reader sees only an I/O error).
    pub fn stream(
        &mut self,
        name: &str,
    ) -> Result<(impl Read + '_, Rc<RefCell<Option<RefiError>>>), RefiError> {
        let Some(&index) = self.entries.get(name) else {
            return Err(RefiError::Entry {
                entry: name.to_string(),
                reason: "no such entry".into(),
            });
        };
        let entry = self.zip.by_index(index).map_err(|e| RefiError::Entry {
            entry: name.to_string(),
            reason: e.to_string(),
        })?;
        let compressed = entry.compressed_size();
        let allowed = self
            .limits
            .max_total_uncompressed
            .saturating_sub(self.read_so_far);
        let why = Rc::new(RefCell::new(None));
        let capped = Capped {
            entry,
            name: name.to_string(),
            compressed,
            read: 0,
            allowed,
            limits: self.limits,
            why: Rc::clone(&why),
        };
        Ok((capped, why))
    }

    /// Finds a file in the sources folder (`sources/`, any case) by name: the exact name first,
    /// then ignoring case. Returns the entry's name and whether only a case-insensitive match
    /// was found.
    pub fn find_source(&self, file_name: &str) -> Option<(String, bool)> {
        let in_sources = |entry: &str| {
            entry
                .split_once('/')
                .filter(|(folder, _)| folder.eq_ignore_ascii_case("sources"))
                .map(|(_, rest)| rest.to_string())
        };
        let mut inexact = None;
        for entry in self.entries.keys() {
            if let Some(rest) = in_sources(entry) {
                if rest == file_name {
                    return Some((entry.clone(), false));
                }
                if rest.eq_ignore_ascii_case(file_name) {
                    inexact = Some((entry.clone(), true));
                }
            }
        }
        inexact
    }
}

fn check_ratio(name: &str, size: u64, compressed: u64, limits: &Limits) -> Result<(), RefiError> {
    if size > limits.ratio_applies_above {
        let ratio = size / compressed.max(1);
        if ratio > limits.max_ratio {
            return Err(RefiError::Ratio {
                entry: name.to_string(),
                size,
                compressed,
                ratio,
                limit: limits.max_ratio,
            });
        }
    }
    Ok(())
}

/// An entry's reader that stops at the archive's limits (total size, ratio), whatever its
/// header declared.
struct Capped<R> {
    entry: R,
    name: String,
    compressed: u64,
    read: u64,
    allowed: u64,
    limits: Limits,
    why: Rc<RefCell<Option<RefiError>>>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.entry.read(out)?;
        self.read += n as u64;
        let refused = if self.read > self.allowed {
            Some(RefiError::TooLarge {
                entry: self.name.clone(),
                limit: self.limits.max_total_uncompressed,
            })
        } else {
            check_ratio(&self.name, self.read, self.compressed, &self.limits).err()
        };
        if let Some(why) = refused {
            let message = why.to_string();
            *self.why.borrow_mut() = Some(why);
            return Err(std::io::Error::other(message));
        }
        Ok(n)
    }
}
