//! Rendering turns of a structured format into a transcript text: `LABEL: text` paragraphs
//! separated by a blank line, each turn's span covering its text only.

use between_core::{Span, Turn};

use crate::Transcript;

#[derive(Debug, Default)]
pub(crate) struct Render {
    text: String,
    /// Code points in `text`.
    cp: usize,
    turns: Vec<Turn>,
}

impl Render {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        Self {
            text: String::with_capacity(bytes),
            ..Self::default()
        }
    }

    /// Adds a turn; `said` is trimmed, and a turn with nothing said is left out.
    pub(crate) fn turn(
        &mut self,
        speaker: Option<&str>,
        said: &str,
        start_ms: Option<u64>,
        end_ms: Option<u64>,
    ) {
        let said = said.trim();
        if said.is_empty() {
            return;
        }
        if !self.turns.is_empty() {
            self.push("\n\n");
        }
        if let Some(label) = speaker {
            self.push(label);
            self.push(": ");
        }
        let start = self.cp;
        self.push(said);
        self.turns.push(Turn {
            span: Span {
                start,
                end: self.cp,
            },
            speaker: speaker.map(str::to_string),
            start_ms,
            end_ms,
        });
    }

    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.cp += s.chars().count();
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.turns.is_empty()
    }

    pub(crate) fn finish(self, warnings: Vec<String>) -> Transcript {
        Transcript::new(self.text, self.turns, warnings)
    }
}

/// Seconds (`12.5`, `1e2`) → milliseconds, rounded; `None` unless finite and not negative.
pub(crate) fn seconds_to_ms(seconds: f64) -> Option<u64> {
    (seconds.is_finite() && seconds >= 0.0).then(|| (seconds * 1000.0).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use between_core::text::slice;

    #[test]
    fn renders_labelled_paragraphs_with_spans_on_the_text() {
        let mut r = Render::default();
        r.turn(Some("Zoë"), " “Hi” 🙂 ", Some(0), Some(1500));
        r.turn(None, "  ", None, None);
        r.turn(None, "(door)", None, None);
        r.turn(Some("DR"), "Bonjour\nça va", Some(1500), None);
        let t = r.finish(Vec::new());
        assert_eq!(t.text, "Zoë: “Hi” 🙂\n\n(door)\n\nDR: Bonjour\nça va");
        let said: Vec<&str> = t
            .turns
            .iter()
            .map(|x| slice(&t.text, x.span).unwrap())
            .collect();
        assert_eq!(said, ["“Hi” 🙂", "(door)", "Bonjour\nça va"]);
        assert_eq!(t.turns[0].span, Span { start: 5, end: 11 });
        assert_eq!(t.turns[0].end_ms, Some(1500));
        assert_eq!(seconds_to_ms(2.5334561157322537), Some(2533));
        assert_eq!(seconds_to_ms(-1.0), None);
    }
}
