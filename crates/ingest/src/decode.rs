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
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            let at = e.valid_up_to();
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
    fn empty_files_are_refused() {
        assert_eq!(decode(b""), Err(DecodeError::Empty));
        assert_eq!(decode(b"\xEF\xBB\xBF \r\n\n"), Err(DecodeError::Empty));
    }
}
