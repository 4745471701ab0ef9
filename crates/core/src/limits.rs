//! Limits on what people name and nest, whoever stores or shows it (listed in SECURITY.md).

/// The deepest a code may sit in a codebook: a top-level code is at depth 1, its sub-code at
/// depth 2. Creating, moving, merging and importing codes keep every code at most this deep.
pub const MAX_CODE_DEPTH: usize = 64;

/// The longest a code name may be, in characters (after trimming).
pub const MAX_CODE_NAME_CHARS: usize = 200;

/// Most characters of context either side of a passage, whatever a caller asks for: context
/// is for reading a passage in place, and an unbounded one is a copy of the study.
pub const MAX_CONTEXT_CHARS: usize = 1_000;

/// Why a name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("it is empty")]
    Empty,
    #[error("it has {chars} characters, more than the limit of {limit}")]
    TooLong { chars: usize, limit: usize },
    #[error("it contains the control character U+{0:04X} (tabs and line breaks included)")]
    Control(u32),
    #[error("it contains the bidirectional formatting character U+{0:04X}")]
    Bidirectional(u32),
    #[error("it contains '/', which separates the codes of a path")]
    Slash,
}

/// A code name as kept: trimmed, non-empty, at most [`MAX_CODE_NAME_CHARS`] characters,
/// without control characters (C0 and C1: tab, line feed, NUL…), without characters that
/// reorder how text displays (U+200E, U+200F, U+202A–U+202E, U+2066–U+2069, which can make a
/// name read as another), and without '/' (paths are `Parent/Child`).
pub fn code_name(name: &str) -> Result<&str, NameError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    let chars = name.chars().count();
    if chars > MAX_CODE_NAME_CHARS {
        return Err(NameError::TooLong {
            chars,
            limit: MAX_CODE_NAME_CHARS,
        });
    }
    for c in name.chars() {
        if c.is_control() {
            return Err(NameError::Control(c.into()));
        }
        if matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        {
            return Err(NameError::Bidirectional(c.into()));
        }
        if c == '/' {
            return Err(NameError::Slash);
        }
    }
    Ok(name)
}

/// A name as an error message shows it: quoted with control characters escaped, and cut
/// after 40 characters (a refused name may be 100,000 long).
pub fn shown_name(name: &str) -> String {
    const SHOWN: usize = 40;
    let cut: String = name.chars().take(SHOWN).collect();
    let more = if name.chars().nth(SHOWN).is_some() {
        "…"
    } else {
        ""
    };
    format!("{cut:?}{more}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_names_are_trimmed_printable_short_and_without_slashes() {
        assert_eq!(code_name("  Hope "), Ok("Hope"));
        assert_eq!(
            code_name("Hoffnung – ängstlich ✓"),
            Ok("Hoffnung – ängstlich ✓")
        );
        assert_eq!(code_name(" \t "), Err(NameError::Empty));
        for (name, code) in [
            ("a\tb", 0x09),
            ("a\nb", 0x0A),
            ("a\0b", 0x00),
            ("a\u{85}b", 0x85),
        ] {
            assert_eq!(code_name(name), Err(NameError::Control(code)), "{name:?}");
        }
        for c in [
            '\u{200E}', '\u{200F}', '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}',
        ] {
            assert_eq!(
                code_name(&format!("evil{c}txt")),
                Err(NameError::Bidirectional(c.into()))
            );
        }
        assert_eq!(code_name("a/b"), Err(NameError::Slash));
        let longest = "é".repeat(MAX_CODE_NAME_CHARS);
        assert_eq!(code_name(&longest), Ok(longest.as_str()));
        assert_eq!(
            code_name(&"x".repeat(100_000)),
            Err(NameError::TooLong {
                chars: 100_000,
                limit: MAX_CODE_NAME_CHARS
            })
        );
    }

    #[test]
    fn shown_names_are_escaped_and_cut() {
        assert_eq!(shown_name("a\tb"), "\"a\\tb\"");
        assert_eq!(
            shown_name(&"x".repeat(100)),
            format!("{:?}…", "x".repeat(40))
        );
    }
}
