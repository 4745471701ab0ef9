//! Transcript formats → [`Transcript`]: the text exactly as the file has it (so positions that
//! other tools computed on the file still hold) and its speaker turns as spans of that text.
//! Nothing here touches a study.

mod decode;
mod plain;

pub use decode::{DecodeError, decode};
pub use plain::{parse_plain, parse_timestamp, prose};

use between_core::Turn;

/// A parsed transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transcript {
    pub text: String,
    /// In text order, not overlapping.
    pub turns: Vec<Turn>,
    /// Things a person should know about the parse (e.g. no speaker labels were found).
    pub warnings: Vec<String>,
}

impl Transcript {
    /// Speaker labels in order of first appearance.
    pub fn speakers(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for label in self.turns.iter().filter_map(|t| t.speaker.as_deref()) {
            if !seen.contains(&label) {
                seen.push(label);
            }
        }
        seen
    }
}
