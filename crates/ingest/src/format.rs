//! Which format a file is in: by extension, else by content.

/// The magic of an OLE compound file (old binary Word `.doc`).
pub(crate) const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// A transcript file format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// Detect with [`Format::detect`].
    #[default]
    Auto,
    Txt,
    Docx,
    Vtt,
    Srt,
    TextGrid,
    Csv,
    Tsv,
}

impl Format {
    /// The format of a file named `name` with these bytes: the extension when it is a known
    /// one, else the content (zip magic → Word, `WEBVTT`, `File type = "ooTextFile"`, an SRT cue
    /// `1` / `00:00:01,000 --> …`), else plain text.
    pub fn detect(name: &str, bytes: &[u8]) -> Format {
        let extension = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        match extension.as_str() {
            "txt" | "text" | "md" => return Format::Txt,
            "docx" => return Format::Docx,
            "vtt" | "webvtt" => return Format::Vtt,
            "srt" => return Format::Srt,
            "textgrid" => return Format::TextGrid,
            "csv" => return Format::Csv,
            "tsv" | "tab" => return Format::Tsv,
            _ => {}
        }
        if bytes.starts_with(ZIP_MAGIC) {
            return Format::Docx;
        }
        let head = sniff_text(bytes);
        let head = head.trim_start_matches('\u{feff}');
        if head.starts_with("WEBVTT") {
            Format::Vtt
        } else if head.starts_with("File type = \"ooTextFile") {
            Format::TextGrid
        } else if looks_like_srt(head) {
            Format::Srt
        } else {
            Format::Txt
        }
    }

    /// The usual file extension (without the dot); `None` for [`Format::Auto`].
    pub fn extension(self) -> Option<&'static str> {
        Some(match self {
            Format::Auto => return None,
            Format::Txt => "txt",
            Format::Docx => "docx",
            Format::Vtt => "vtt",
            Format::Srt => "srt",
            Format::TextGrid => "TextGrid",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
        })
    }
}

/// The first kilobyte or so as text, for sniffing (UTF-16 with a BOM decoded, invalid bytes
/// replaced).
fn sniff_text(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(1024)];
    let utf16 = |rest: &[u8], unit: fn([u8; 2]) -> u16| {
        let units = rest.chunks_exact(2).map(|c| unit([c[0], c[1]]));
        char::decode_utf16(units)
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    };
    if let Some(rest) = head.strip_prefix(b"\xFF\xFE") {
        utf16(rest, u16::from_le_bytes)
    } else if let Some(rest) = head.strip_prefix(b"\xFE\xFF") {
        utf16(rest, u16::from_be_bytes)
    } else {
        String::from_utf8_lossy(head).into_owned()
    }
}

fn looks_like_srt(head: &str) -> bool {
    let mut lines = head.lines().map(str::trim).skip_while(|l| l.is_empty());
    let (Some(number), Some(timing)) = (lines.next(), lines.next()) else {
        return false;
    };
    !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && timing
            .split_once("-->")
            .is_some_and(|(start, _)| start.trim().contains(','))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_first_then_content() {
        assert_eq!(Format::detect("a.TextGrid", b""), Format::TextGrid);
        assert_eq!(Format::detect("A.DOCX", b""), Format::Docx);
        assert_eq!(Format::detect("a.vtt", b"hello"), Format::Vtt);
        assert_eq!(Format::detect("a.tsv", b""), Format::Tsv);
        assert_eq!(Format::detect("a.csv", b""), Format::Csv);
        assert_eq!(Format::detect("a.srt", b""), Format::Srt);
        assert_eq!(Format::detect("a.txt", b"WEBVTT\n"), Format::Txt);
        assert_eq!(Format::detect("upload", b"WEBVTT\n\n"), Format::Vtt);
        assert_eq!(Format::detect("upload", b"\xEF\xBB\xBFWEBVTT"), Format::Vtt);
        assert_eq!(
            Format::detect("x", b"File type = \"ooTextFile\"\r\nObject class"),
            Format::TextGrid
        );
        let utf16: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(
                "File type = \"ooTextFile\"\n"
                    .encode_utf16()
                    .flat_map(u16::to_be_bytes),
            )
            .collect();
        assert_eq!(Format::detect("x", &utf16), Format::TextGrid);
        assert_eq!(Format::detect("x", b"PK\x03\x04rest"), Format::Docx);
        assert_eq!(
            Format::detect("x", b"1\r\n00:00:01,000 --> 00:00:02,000\r\nHi\r\n"),
            Format::Srt
        );
        assert_eq!(
            Format::detect("x", b"1\n00:00:01.000 --> 00:00:02.000\nHi\n"),
            Format::Txt,
            "SRT uses a comma"
        );
        assert_eq!(Format::detect("x", b"DR: Hello\n"), Format::Txt);
    }
}
