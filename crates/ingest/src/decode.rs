//! Bytes → text: UTF-8 (with or without BOM) or UTF-16 with a BOM; anything else is an error
//! that names where the file stops being text.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the file is empty")]
    Empty,
    #[error(
        "invalid UTF-8 at byte offset {offset} (line {line}): the file is not UTF-8 text; save it as UTF-8 or UTF-16 with a byte-order mark"
    )]
    InvalidUtf8 { offset: usize, line: usize },
    #[error("invalid UTF-16 at byte offset {offset}: an unpaired surrogate")]
    InvalidUtf16 { offset: usize },
    #[error("UTF-16 text with an odd number of bytes ({len})")]
    OddUtf16 { len: usize },
    #[error(
        "a NUL byte at byte offset {offset}: the file looks like UTF-16 without a byte-order mark, or is not text; give its encoding (e.g. utf-16le)"
    )]
    Nul { offset: usize },
    #[error(
        "unknown encoding '{label}' (expected a label such as utf-8, windows-1252, latin1, utf-16le)"
    )]
    UnknownEncoding { label: String },
    #[error("invalid {encoding} at byte offset {offset}: the file is not {encoding} text")]
    Invalid {
        encoding: &'static str,
        offset: usize,
    },
}

impl DecodeError {
    /// The byte offset the error is at, if it has one.
    pub fn offset(&self) -> Option<usize> {
        match self {
            DecodeError::Empty | DecodeError::UnknownEncoding { .. } => None,
            DecodeError::InvalidUtf8 { offset, .. }
            | DecodeError::InvalidUtf16 { offset }
            | DecodeError::Nul { offset }
            | DecodeError::Invalid { offset, .. } => Some(*offset),
            DecodeError::OddUtf16 { len } => Some(len - 1),
        }
    }
}

impl From<DecodeError> for crate::ParseError {
    fn from(e: DecodeError) -> Self {
        let at = e.offset().map(crate::At::Byte);
        let (message, expected) = match &e {
            DecodeError::Empty => ("the file is empty".to_string(), "a transcript"),
            DecodeError::InvalidUtf8 { line, .. } => (
                format!("invalid UTF-8 (line {line})"),
                "UTF-8, or UTF-16 with a byte-order mark; or give the file's encoding",
            ),
            DecodeError::InvalidUtf16 { .. } => (
                "invalid UTF-16: an unpaired surrogate".to_string(),
                "UTF-16 text",
            ),
            DecodeError::OddUtf16 { len } => (
                format!("UTF-16 text with an odd number of bytes ({len})"),
                "UTF-16 text",
            ),
            DecodeError::Nul { .. } => (
                "a NUL byte: the file looks like UTF-16 without a byte-order mark, or is not text"
                    .to_string(),
                "text; give its encoding, e.g. utf-16le",
            ),
            DecodeError::UnknownEncoding { label } => (
                format!("unknown encoding '{label}'"),
                "a label such as utf-8, windows-1252, latin1, utf-16le",
            ),
            DecodeError::Invalid { encoding, .. } => {
                (format!("invalid {encoding}"), "text in the given encoding")
            }
        };
        crate::ParseError::new(at, message).expected(expected)
    }
}

/// Decodes with an explicit encoding label (`windows-1252`, `latin1`, `utf-16le`, … as the
/// WHATWG Encoding Standard names them), or as [`decode`] does when there is none. A byte-order
/// mark of the given encoding is dropped; a malformed sequence is an error with its offset.
pub fn decode_with(bytes: &[u8], encoding: Option<&str>) -> Result<String, DecodeError> {
    let Some(label) = encoding else {
        return decode(bytes);
    };
    let encoding = encoding_rs::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
        DecodeError::UnknownEncoding {
            label: label.to_string(),
        }
    })?;
    let mut decoder = encoding.new_decoder_with_bom_removal();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(3));
    let mut text = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut text, true);
    match result {
        encoding_rs::DecoderResult::InputEmpty => {}
        encoding_rs::DecoderResult::Malformed(bad, extra) => {
            return Err(DecodeError::Invalid {
                encoding: encoding.name(),
                offset: read - usize::from(bad) - usize::from(extra),
            });
        }
        encoding_rs::DecoderResult::OutputFull => {
            unreachable!("the buffer was sized for the input")
        }
    }
    if text.trim().is_empty() {
        return Err(DecodeError::Empty);
    }
    Ok(text)
}

/// Decodes a transcript file's bytes. The byte-order mark is dropped; nothing else changes.
pub fn decode(bytes: &[u8]) -> Result<String, DecodeError> {
    let text = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        utf8(rest, 3)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        utf16(rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        utf16(rest, u16::from_be_bytes)?
    } else {
        utf8(bytes, 0)?
    };
    if text.trim().is_empty() {
        return Err(DecodeError::Empty);
    }
    Ok(text)
}

fn utf8(bytes: &[u8], skipped: usize) -> Result<String, DecodeError> {
    let (valid, error) = match std::str::from_utf8(bytes) {
        Ok(s) => (s, None),
        Err(e) => (
            // Valid up to there.
            std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
            Some(e.valid_up_to()),
        ),
    };
    // A NUL says more (UTF-16 without a BOM) than the invalid byte after it.
    if let Some(at) = valid.find('\0') {
        return Err(DecodeError::Nul {
            offset: skipped + at,
        });
    }
    match error {
        None => Ok(valid.to_string()),
        Some(at) => {
            let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
            Err(DecodeError::InvalidUtf8 {
                offset: skipped + at,
                line,
            })
        }
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, DecodeError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(DecodeError::OddUtf16 {
            len: bytes.len() + 2,
        });
    }
    let units = bytes.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut text = String::with_capacity(bytes.len());
    let mut offset = 2;
    for r in char::decode_utf16(units) {
        match r {
            Ok(c) => {
                offset += c.len_utf16() * 2;
                text.push(c);
            }
            Err(_) => return Err(DecodeError::InvalidUtf16 { offset }),
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_with_and_without_bom() {
        assert_eq!(decode("Zoë 🙂".as_bytes()).unwrap(), "Zoë 🙂");
        assert_eq!(decode(b"\xEF\xBB\xBFhi").unwrap(), "hi");
    }

    #[test]
    fn decodes_utf16_with_bom() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("Zoë 🙂".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("Zoë 🙂".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&le).unwrap(), "Zoë 🙂");
        assert_eq!(decode(&be).unwrap(), "Zoë 🙂");
        assert_eq!(
            decode(&[0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00]),
            Err(DecodeError::InvalidUtf16 { offset: 2 })
        );
    }

    #[test]
    fn names_the_offset_of_invalid_utf8() {
        let bytes = b"A: fine\nB: caf\xE9 au lait\n";
        assert_eq!(
            decode(bytes),
            Err(DecodeError::InvalidUtf8 {
                offset: 14,
                line: 2
            })
        );
        assert_eq!(
            decode(b"\xEF\xBB\xBFab\xFF"),
            Err(DecodeError::InvalidUtf8 { offset: 5, line: 1 })
        );
    }

    #[test]
    fn explicit_encodings() {
        assert_eq!(
            decode_with(b"Zo\xEB \x93fine\x94", Some("windows-1252")).unwrap(),
            "Zoë “fine”"
        );
        assert_eq!(decode_with(b"caf\xE9", Some("latin1")).unwrap(), "café");
        let le: Vec<u8> = "Zoë 🙂".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(decode_with(&le, Some("utf-16le")).unwrap(), "Zoë 🙂");
        assert_eq!(decode(&le), Err(DecodeError::Nul { offset: 1 }));
        assert_eq!(
            decode_with(b"ab\xFFc", Some("utf-8")),
            Err(DecodeError::Invalid {
                encoding: "UTF-8",
                offset: 2
            })
        );
        assert_eq!(
            decode_with(b"ab", Some("klingon")),
            Err(DecodeError::UnknownEncoding {
                label: "klingon".into()
            })
        );
        assert_eq!(decode_with(b"ab", None).unwrap(), "ab");
    }

    #[test]
    fn empty_files_are_refused() {
        assert_eq!(decode(b""), Err(DecodeError::Empty));
        assert_eq!(decode(b"\xEF\xBB\xBF \r\n\n"), Err(DecodeError::Empty));
    }
}
