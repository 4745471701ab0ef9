//! Suggested attributions: every turn that mentions a participant — by label, name (its given
//! and family names, not titles), the pseudonym that replaced their name, or an alias the person
//! chose — in a source that is not their own account nor their dyad's, and not yet attributed
//! to them. A suggestion is only shown; confirming it attributes the turn.

use std::collections::HashMap;

use between_core::*;

use super::resolve_target;
use crate::{StudyError, StudyResult, Workbench};

/// Words before a name that are not part of it.
const TITLES: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "doctor",
    "prof",
    "professor",
    "np",
    "nurse",
    "sir",
    "dame",
    "rev",
    "fr",
    "sr",
];

/// Why a word points at a participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchReason {
    /// Their label (`P03`).
    Label,
    /// Their given or family name.
    Name,
    /// The pseudonym that replaced their name in a de-identification.
    Pseudonym,
    /// An alias given for them when asking for suggestions.
    Alias,
}

impl MatchReason {
    fn says(self) -> &'static str {
        match self {
            MatchReason::Label => "their label",
            MatchReason::Name => "their name",
            MatchReason::Pseudonym => "the pseudonym that replaced their name",
            MatchReason::Alias => "an alias given for them",
        }
    }
}

/// A turn that could be attributed to a participant, and why. Nothing is stored until a person
/// confirms it ([`Workbench::confirm_suggestions`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Suggestion {
    /// Names the suggestion for confirming it: `SOURCE:START-END:LABEL`.
    pub key: String,
    pub source: String,
    /// The turn (or, in a text without speakers, the paragraph).
    pub span: Span,
    pub participant: ParticipantId,
    /// The participant's label.
    pub about: String,
    /// The word as the text has it, and where.
    pub matched: String,
    pub matched_at: Span,
    pub reason: MatchReason,
    /// The reason as a person reads it: "'George' is their name (P01)".
    pub why: String,
}

/// A suggestion's key taken apart: what confirming it attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuggestionKey {
    pub source: String,
    pub span: Span,
    pub about: String,
}

impl std::fmt::Display for SuggestionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            source,
            span,
            about,
        } = self;
        write!(f, "{source}:{}-{}:{about}", span.start, span.end)
    }
}

impl SuggestionKey {
    /// Reads `SOURCE:START-END:LABEL`; a source's name may itself hold `:`, so every split
    /// whose middle is a span is offered to `is_source`.
    pub fn parse(key: &str, is_source: impl Fn(&str) -> bool) -> StudyResult<Self> {
        for (i, _) in key.match_indices(':') {
            let (source, rest) = (&key[..i], &key[i + 1..]);
            let Some((span, about)) = rest.split_once(':') else {
                continue;
            };
            let Some((start, end)) = span.split_once('-') else {
                continue;
            };
            if let (Ok(start), Ok(end)) = (start.parse(), end.parse())
                && is_source(source)
                && !about.trim().is_empty()
            {
                return Ok(Self {
                    source: source.to_string(),
                    span: Span { start, end },
                    about: about.to_string(),
                });
            }
        }
        Err(StudyError::Invalid(format!(
            "'{key}' is not a suggestion's key (SOURCE:START-END:LABEL of a source in this study)"
        )))
    }
}

/// One word or phrase that points at a participant, folded for comparing.
struct Term {
    folded: Vec<char>,
    /// Where its first word starts in `folded` (a pseudonym such as `[A]` starts before it).
    anchor: usize,
    participant: usize,
    reason: MatchReason,
}

fn fold(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl Workbench {
    /// Suggested attributions in one source (`source`) or all, `aliases` pairing a word or
    /// phrase with the participant (label or id) it stands for. In source, then text order.
    pub fn attribution_suggestions(
        &self,
        source: Option<&str>,
        aliases: &[(String, String)],
    ) -> StudyResult<Vec<Suggestion>> {
        let participants = self.store.participants()?;
        let dyads = self.store.dyads()?;
        let terms = self.terms(&participants, aliases)?;
        let mut by_first_word: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, t) in terms.iter().enumerate() {
            let word: String = t.folded[t.anchor..]
                .iter()
                .take_while(|c| is_word(**c))
                .collect();
            by_first_word.entry(word).or_default().push(i);
        }
        let sources = match source {
            Some(name) => vec![self.source_ref(name)?],
            None => self
                .store
                .source_infos()?
                .into_iter()
                .map(|s| s.id)
                .collect(),
        };
        let attributions = self.store.attributions(None)?;
        let mut out = Vec::new();
        for id in sources {
            let source = self.cached_source(id)?;
            let units = units_of(&source);
            let text: Vec<char> = source.text.chars().collect();
            let folded: Vec<char> = text.iter().map(|c| fold(*c)).collect();
            // The first mention of each participant in each unit.
            let mut found: Vec<(usize, usize, Span, MatchReason)> = Vec::new();
            for (at, word) in words(&folded) {
                let Some(candidates) = by_first_word.get(&word) else {
                    continue;
                };
                for &t in candidates {
                    let term = &terms[t];
                    let Some(span) = matches_at(&folded, at, term) else {
                        continue;
                    };
                    let unit = units.partition_point(|u| u.end <= span.start);
                    if unit == units.len() || units[unit].start > span.start {
                        continue;
                    }
                    if !found.iter().any(|f| f.0 == unit && f.1 == term.participant) {
                        found.push((unit, term.participant, span, term.reason));
                    }
                }
            }
            found.sort_by_key(|f| (f.0, f.1));
            for (unit, p, at, reason) in found {
                let person = &participants[p];
                let span = units[unit];
                if !self.may_suggest(&source, span, person, &dyads, &attributions) {
                    continue;
                }
                let matched: String = text[at.start..at.end].iter().collect();
                out.push(Suggestion {
                    key: SuggestionKey {
                        source: source.name.clone(),
                        span,
                        about: person.label.clone(),
                    }
                    .to_string(),
                    source: source.name.clone(),
                    span,
                    participant: person.id,
                    about: person.label.clone(),
                    why: format!("'{matched}' is {} ({})", reason.says(), person.label),
                    matched,
                    matched_at: at,
                    reason,
                });
            }
        }
        Ok(out)
    }

    /// Attributes the turns of the suggestions `keys` name, in one change (all or none).
    pub fn confirm_suggestions(&mut self, keys: &[String]) -> StudyResult<Vec<Attribution>> {
        let names: std::collections::HashSet<String> = self
            .store
            .source_infos()?
            .into_iter()
            .map(|s| s.name)
            .collect();
        let mut batch = Vec::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            let k = SuggestionKey::parse(key.trim(), |s| names.contains(s))
                .map_err(|e| e.at(format!("suggestion {}", i + 1)))?;
            batch.push(super::NewAttribution {
                source: k.source,
                target: crate::CodingTarget::Offsets {
                    start: k.span.start,
                    end: k.span.end,
                },
                about: vec![k.about],
            });
        }
        self.attribute_all(batch)
    }

    /// Every participant's label, name parts and pseudonyms, and the aliases given.
    fn terms(
        &self,
        participants: &[Participant],
        aliases: &[(String, String)],
    ) -> StudyResult<Vec<Term>> {
        let mapping = self.store.pseudonyms()?;
        let mut terms = Vec::new();
        let mut add = |text: &str, participant: usize, reason: MatchReason| {
            let folded: Vec<char> = text.trim().chars().map(fold).collect();
            if let Some(anchor) = folded.iter().position(|c| is_word(*c)) {
                terms.push(Term {
                    folded,
                    anchor,
                    participant,
                    reason,
                });
            }
        };
        for (i, p) in participants.iter().enumerate() {
            add(&p.label, i, MatchReason::Label);
            let name = p.name.as_deref().unwrap_or_default();
            let parts = name_parts(name);
            for part in &parts {
                add(part, i, MatchReason::Name);
            }
            for entry in &mapping {
                let term = entry.term.trim();
                let of_them = term.eq_ignore_ascii_case(name.trim())
                    || term.eq_ignore_ascii_case(&p.label)
                    || parts.iter().any(|part| term.eq_ignore_ascii_case(part));
                if of_them && !term.is_empty() {
                    add(&entry.pseudonym, i, MatchReason::Pseudonym);
                }
            }
        }
        let dyads = self.store.dyads()?;
        for (alias, who) in aliases {
            if alias.trim().is_empty() {
                return Err(StudyError::Invalid(format!("an empty alias for '{who}'")));
            }
            let i = match resolve_target(who, participants, &dyads)? {
                AttributionTarget::Participant(id) => participants
                    .iter()
                    .position(|p| p.id == id)
                    .expect("resolved among these participants"),
                AttributionTarget::Dyad(_) => {
                    return Err(StudyError::Invalid(format!(
                        "the alias '{alias}' names the dyad '{who}'; an alias stands for a participant"
                    )));
                }
            };
            add(alias, i, MatchReason::Alias);
        }
        Ok(terms)
    }

    /// Whether a unit of `source` mentioning `person` is worth suggesting: not their own
    /// account nor their dyad's, not their own words, and not yet attributed to them or to
    /// one of their dyads (any overlap counts).
    fn may_suggest(
        &self,
        source: &Source,
        span: Span,
        person: &Participant,
        dyads: &[Dyad],
        attributions: &[Attribution],
    ) -> bool {
        let theirs: Vec<DyadId> = dyads
            .iter()
            .filter(|d| d.clinician == person.id || d.patient == person.id)
            .map(|d| d.id)
            .collect();
        if source.participant == Some(person.id) || source.dyad.is_some_and(|d| theirs.contains(&d))
        {
            return false;
        }
        if source
            .speaker_at(span.start)
            .is_some_and(|s| s.participant == Some(person.id))
        {
            return false;
        }
        !attributions.iter().any(|a| {
            a.source == source.id
                && a.span.start < span.end
                && span.start < a.span.end
                && match a.about {
                    AttributionTarget::Participant(p) => p == person.id,
                    AttributionTarget::Dyad(d) => theirs.contains(&d),
                }
        })
    }
}

/// The given and family names of a full name: its words but titles and initials.
fn name_parts(name: &str) -> Vec<String> {
    name.split(|c: char| c.is_whitespace() || c == ',')
        .map(|w| w.trim_matches(|c: char| !is_word(c)))
        .filter(|w| w.chars().count() > 1 && !TITLES.contains(&w.to_lowercase().as_str()))
        .map(str::to_string)
        .collect()
}

/// The units a suggestion attributes, in text order: the speaker turns, or, in a text without
/// speakers (a field note), its paragraphs.
fn units_of(source: &Source) -> Vec<Span> {
    if source.turns.iter().any(|t| t.speaker.is_some()) {
        return source
            .turns
            .iter()
            .map(|t| t.span)
            .filter(|s| s.end > s.start)
            .collect();
    }
    let mut units = Vec::new();
    let mut start: Option<usize> = None;
    let mut end = 0;
    let mut at = 0;
    for line in source.text.split_inclusive('\n') {
        let length = line.chars().count();
        if line.trim().is_empty() {
            if let Some(s) = start.take() {
                units.push(Span { start: s, end });
            }
        } else {
            start.get_or_insert(at);
            end = at + line.trim_end().chars().count();
        }
        at += length;
    }
    if let Some(s) = start {
        units.push(Span { start: s, end });
    }
    units
}

/// Each word of a folded text: where it starts and the word.
fn words(folded: &[char]) -> impl Iterator<Item = (usize, String)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < folded.len() && !is_word(folded[i]) {
            i += 1;
        }
        if i >= folded.len() {
            return None;
        }
        let start = i;
        while i < folded.len() && is_word(folded[i]) {
            i += 1;
        }
        Some((start, folded[start..i].iter().collect()))
    })
}

/// Where `term` occurs as whole words with its first word at `word`, if it does.
fn matches_at(folded: &[char], word: usize, term: &Term) -> Option<Span> {
    let start = word.checked_sub(term.anchor)?;
    let end = start + term.folded.len();
    if end > folded.len() || folded[start..end] != term.folded[..] {
        return None;
    }
    let edge = |inside: char, outside: Option<&char>| {
        !is_word(inside) || !outside.is_some_and(|c| is_word(*c))
    };
    let before = start.checked_sub(1).and_then(|i| folded.get(i));
    (edge(term.folded[0], before) && edge(term.folded[term.folded.len() - 1], folded.get(end)))
        .then_some(Span { start, end })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_titles_and_initials() {
        assert_eq!(name_parts("Mr George Whitfield"), ["George", "Whitfield"]);
        assert_eq!(name_parts("NP Helen Marsh"), ["Helen", "Marsh"]);
        assert_eq!(name_parts("Dr. J. Ruiz-Díaz"), ["Ruiz-Díaz"]);
    }

    #[test]
    fn keys_read_back_even_when_a_source_name_holds_colons() {
        let written = SuggestionKey {
            source: "a:b.txt".into(),
            span: Span { start: 3, end: 9 },
            about: "P01".into(),
        };
        let key = written.to_string();
        assert_eq!(key, "a:b.txt:3-9:P01");
        assert_eq!(
            SuggestionKey::parse(&key, |s| s == "a:b.txt").unwrap(),
            written
        );
        assert!(SuggestionKey::parse(&key, |s| s == "other.txt").is_err());
        assert!(SuggestionKey::parse("a.txt:3-x:P01", |_| true).is_err());
    }

    #[test]
    fn terms_match_whole_words_in_any_case() {
        let term = |text: &str| Term {
            folded: text.chars().map(fold).collect(),
            anchor: text.chars().position(is_word).unwrap(),
            participant: 0,
            reason: MatchReason::Name,
        };
        let text: Vec<char> = "Georgette and GEORGE met [A] and [A]x"
            .chars()
            .map(fold)
            .collect();
        let at = |t: &Term| -> Vec<Span> {
            words(&text)
                .filter_map(|(i, _)| matches_at(&text, i, t))
                .collect()
        };
        assert_eq!(at(&term("George")), vec![Span { start: 14, end: 20 }]);
        // "[A]" ends in a non-word character, so "[A]x" still holds it.
        assert_eq!(
            at(&term("[A]")),
            vec![Span { start: 25, end: 28 }, Span { start: 33, end: 36 }]
        );
    }

    #[test]
    fn a_text_without_speakers_is_taken_a_paragraph_at_a_time() {
        let text = "First line\nstill first.\n\n  \nSecond.\n";
        let source = Source {
            id: SourceId::new(),
            name: "n".into(),
            kind: SourceKind::FieldNote,
            participant: None,
            dyad: None,
            text: text.into(),
            turns: vec![Turn {
                span: Span { start: 0, end: 36 },
                speaker: None,
                start_ms: None,
                end_ms: None,
            }],
            speakers: vec![],
            markers: vec![],
            interview: Default::default(),
            imported_at: String::new(),
            blind: false,
            version: 1,
        };
        assert_eq!(
            units_of(&source),
            vec![Span { start: 0, end: 23 }, Span { start: 28, end: 35 }]
        );
    }
}
