//! Transcription markers (`<UNSURE>…</UNSURE>`, `<UNIN/>`, `<INAUDIBLE_SPEECH/>`, `<TAG/>`):
//! kept in the text, listed so that they can be told from speech.

use std::cmp::Reverse;

use between_core::Span;

// The types are the study's own (`between_core::Marker`): one definition for storage and display.
pub use between_core::{Marker, MarkerKind};

const OPEN: &str = "<UNSURE>";
const CLOSE: &str = "</UNSURE>";

/// The markers of `text`, by start and, for one start, the longest first. An `<UNSURE>` must be
/// closed on its line; unbalanced tags are reported in `warnings`.
pub(crate) fn find(text: &str, warnings: &mut Vec<String>) -> Vec<Marker> {
    let mut markers = Vec::new();
    // Open `<UNSURE>` tags: (code point offset, byte offset).
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut cp = 0;
    let mut last = 0;
    while let Some(found) = text[last..].find('<') {
        let at = last + found;
        let between = &text[last..at];
        if !open.is_empty() && between.contains('\n') {
            unclosed(&mut open, &mut markers, warnings);
        }
        cp += between.chars().count();
        let rest = &text[at..];
        let (len, kind) = if rest.starts_with(OPEN) {
            open.push((cp, at));
            (OPEN.len(), None)
        } else if rest.starts_with(CLOSE) {
            match open.pop() {
                Some((start, _)) => (CLOSE.len(), Some((start, MarkerKind::Unsure))),
                None => {
                    warnings.push(format!(
                        "character {cp}: {CLOSE} without an {OPEN} before it on its line"
                    ));
                    (CLOSE.len(), None)
                }
            }
        } else if let Some((len, name)) = self_closing(rest) {
            let kind = match name {
                "UNIN" => MarkerKind::Unintelligible,
                "INAUDIBLE_SPEECH" => MarkerKind::Inaudible,
                _ => MarkerKind::Other,
            };
            (len, Some((cp, kind)))
        } else {
            (1, None)
        };
        // Tags are ASCII: bytes are code points.
        cp += len;
        last = at + len;
        if let Some((start, kind)) = kind {
            markers.push(Marker {
                span: Span { start, end: cp },
                kind,
            });
        }
    }
    if !open.is_empty() {
        unclosed(&mut open, &mut markers, warnings);
    }
    markers.sort_by_key(|m| (m.span.start, Reverse(m.span.end)));
    markers
}

fn unclosed(open: &mut Vec<(usize, usize)>, markers: &mut Vec<Marker>, warnings: &mut Vec<String>) {
    for (start, _) in open.drain(..) {
        warnings.push(format!(
            "character {start}: {OPEN} is not closed on its line; only the tag is marked"
        ));
        markers.push(Marker {
            span: Span {
                start,
                end: start + OPEN.len(),
            },
            kind: MarkerKind::Other,
        });
    }
}

/// `<NAME/>` or `<NAME />` at the start of `s`: its length in bytes and the name.
fn self_closing(s: &str) -> Option<(usize, &str)> {
    let inner = &s[1..];
    let name_len = inner
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':')))
        .unwrap_or(inner.len());
    let name = &inner[..name_len];
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        return None;
    }
    let after = &inner[name_len..];
    let spaces = after.len() - after.trim_start_matches(' ').len();
    after[spaces..]
        .starts_with("/>")
        .then_some((1 + name_len + spaces + 2, name))
}

/// Whether every character of `span` is whitespace or part of a marker's tags (the words
/// inside `<UNSURE>…</UNSURE>` are speech).
pub(crate) fn only_markers(text: &str, span: Span, markers: &[Marker]) -> bool {
    let Some(said) = between_core::text::slice(text, span) else {
        return false;
    };
    let first = markers.partition_point(|m| m.span.start < span.start);
    let mut tags: Vec<Span> = Vec::new();
    for m in markers[first..]
        .iter()
        .take_while(|m| m.span.start < span.end)
    {
        match m.kind {
            MarkerKind::Unsure => {
                let (open, close) = (OPEN.len(), CLOSE.len());
                tags.push(Span {
                    start: m.span.start,
                    end: m.span.start + open,
                });
                tags.push(Span {
                    start: m.span.end - close,
                    end: m.span.end,
                });
            }
            _ => tags.push(m.span),
        }
    }
    !tags.is_empty()
        && said.chars().enumerate().all(|(i, c)| {
            let at = span.start + i;
            c.is_whitespace() || tags.iter().any(|m| m.start <= at && at < m.end)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> (Vec<(&str, MarkerKind)>, Vec<String>) {
        let mut warnings = Vec::new();
        let found = find(text, &mut warnings)
            .into_iter()
            .map(|m| (between_core::text::slice(text, m.span).unwrap(), m.kind))
            .collect();
        (found, warnings)
    }

    #[test]
    fn markers_with_nesting_and_non_ascii_text() {
        let (found, warnings) = kinds(
            "Zoë 🙂 <UNSURE><UNIN/> hypothyroïdism</UNSURE> “ok” <INAUDIBLE_SPEECH/> <LAUGH /> a<b",
        );
        assert_eq!(
            found,
            [
                (
                    "<UNSURE><UNIN/> hypothyroïdism</UNSURE>",
                    MarkerKind::Unsure
                ),
                ("<UNIN/>", MarkerKind::Unintelligible),
                ("<INAUDIBLE_SPEECH/>", MarkerKind::Inaudible),
                ("<LAUGH />", MarkerKind::Other),
            ]
        );
        assert!(warnings.is_empty());
        let (found, _) = kinds("<UNSURE></UNSURE>");
        assert_eq!(found, [("<UNSURE></UNSURE>", MarkerKind::Unsure)]);
    }

    #[test]
    fn unbalanced_unsure_is_a_warning() {
        let (found, warnings) = kinds("a <UNSURE>b\nc </UNSURE> d");
        assert_eq!(found, [("<UNSURE>", MarkerKind::Other)]);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("character 2: <UNSURE> is not closed"));
    }

    #[test]
    fn marker_only_spans() {
        let text = "A: <INAUDIBLE_SPEECH/>\n\nB: <UNIN/> yes\n\nC:  <UNIN/> <UNSURE>no</UNSURE> ";
        let markers = find(text, &mut Vec::new());
        let span = |s: &str| {
            let start = text.find(s).unwrap();
            Span {
                start,
                end: start + s.len(),
            }
        };
        assert!(only_markers(text, span("<INAUDIBLE_SPEECH/>"), &markers));
        assert!(!only_markers(text, span("<UNIN/> yes"), &markers));
        assert!(!only_markers(
            text,
            span(" <UNIN/> <UNSURE>no</UNSURE> "),
            &markers
        ));
        let empty = "<UNSURE> <UNIN/></UNSURE>";
        assert!(only_markers(
            empty,
            Span { start: 0, end: 25 },
            &find(empty, &mut Vec::new())
        ));
        assert!(!only_markers(text, span("A: "), &markers));
    }
}
