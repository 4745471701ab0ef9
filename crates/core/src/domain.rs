//! The study's objects. Timestamps are RFC 3339 strings in UTC, as stored and exported.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::id::*;
use crate::text::Span;

/// Generates `as_str`, `Display`, `FromStr` and `ALL` for a fieldless enum with kebab-case names.
macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, UnknownName> {
                let wanted = s.trim().to_lowercase().replace(['_', ' '], "-");
                Self::ALL.iter().copied().find(|v| v.as_str() == wanted).ok_or_else(|| UnknownName {
                    what: stringify!($name),
                    given: s.to_string(),
                    expected: Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
                })
            }
        }
    };
}

/// A name that is not one of an enumeration's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{given}': expected one of {expected}")]
pub struct UnknownName {
    pub what: &'static str,
    pub given: String,
    pub expected: String,
}

named_enum! {
    /// The part a person plays: in the study (participants) or in a conversation (speakers).
    Role {
        Clinician => "clinician",
        Patient => "patient",
        Interviewer => "interviewer",
        Other => "other",
    }
}

named_enum! {
    /// How a questionnaire response came in: typed from paper by staff, imported from a
    /// table, or completed by the participant through a one-time link.
    EntryMode {
        Hand => "hand",
        Imported => "imported",
        SelfCompleted => "self-completed",
    }
}

named_enum! {
    /// What a source is.
    SourceKind {
        Interview => "interview",
        FieldNote => "field-note",
        Journal => "journal",
        Encounter => "encounter",
    }
}

named_enum! {
    /// A transcriber's mark in the text: visible, but not speech.
    MarkerKind {
        Unsure => "unsure",
        Unintelligible => "unintelligible",
        Inaudible => "inaudible",
        Other => "other",
    }
}

/// Where a transcription mark (`<UNSURE>…</UNSURE>`, `<UNIN/>`) stands in a source's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    pub span: Span,
    pub kind: MarkerKind,
}

named_enum! {
    /// What an account may do: owners manage the study, coders code, auditors only read.
    AccountRole {
        Owner => "owner",
        Coder => "coder",
        Auditor => "auditor",
    }
}

/// Someone who works on the study in the browser. Their name is the coder name of their codings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub role: AccountRole,
    pub created_at: String,
    pub version: i64,
}

/// A study: one study file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Study {
    pub id: StudyId,
    pub name: String,
    pub description: String,
    /// The theory the codebook was generated from, if any.
    pub theory: Option<TheoryRef>,
    pub created_at: String,
    /// Blind coding for the whole study: each coder sees only their own codings.
    pub blind: bool,
}

/// Which theory, in which version, a study's codebook came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TheoryRef {
    pub id: String,
    pub name: String,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    pub id: ParticipantId,
    /// The study's short name for the person, unique in the study (e.g. `P03`).
    pub label: String,
    pub role: Role,
    /// A pseudonym or display name; real names belong in a separate key, not here.
    pub name: Option<String>,
    /// Free attributes: age, sex, discipline, years in practice, practice setting, conditions…
    pub attributes: BTreeMap<String, String>,
    pub version: i64,
}

/// A clinician–patient pair, the unit of the healing-relationship case study.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dyad {
    pub id: DyadId,
    /// Unique in the study; by default `CLINICIAN-PATIENT` labels (e.g. `C1-P03`).
    pub label: String,
    pub clinician: ParticipantId,
    pub patient: ParticipantId,
    pub relationship_start: Option<String>,
    pub notes: String,
    pub version: i64,
}

/// One speaker turn: a span of the source's text said by one speaker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// What was said, without the speaker label or timestamp.
    pub span: Span,
    /// The label as written in the transcript (`DR OSEI`), if any.
    pub speaker: Option<String>,
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
}

/// Who a speaker label of a source stands for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Speaker {
    pub label: String,
    pub role: Role,
    pub participant: Option<ParticipantId>,
}

/// The interview's circumstances, which the analysis compares (e.g. spouse present or not).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterviewInfo {
    pub interviewer: Option<String>,
    /// ISO date of the interview.
    pub date: Option<String>,
    pub duration_minutes: Option<u32>,
    pub others_present: Vec<String>,
    pub guide_version: Option<String>,
    pub consent_recorded: Option<bool>,
}

/// A document of the study. Its text never changes once coded except through an operation that
/// remaps every coding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub id: SourceId,
    /// Unique in the study; by default the file name it was imported from.
    pub name: String,
    pub kind: SourceKind,
    /// The person whose account this is (the interviewee), if any.
    pub participant: Option<ParticipantId>,
    pub dyad: Option<DyadId>,
    pub text: String,
    pub turns: Vec<Turn>,
    pub speakers: Vec<Speaker>,
    /// Transcription marks in the text, in text order.
    #[serde(default)]
    pub markers: Vec<Marker>,
    pub interview: InterviewInfo,
    pub imported_at: String,
    /// Blind coding for this source.
    pub blind: bool,
    pub version: i64,
}

impl Source {
    /// Who said the code point at `cp`: the speaker of the turn that contains it.
    pub fn speaker_at(&self, cp: usize) -> Option<&Speaker> {
        let i = self.turns.partition_point(|t| t.span.end <= cp);
        let turn = self.turns.get(i).filter(|t| t.span.start <= cp)?;
        let label = turn.speaker.as_deref()?;
        self.speakers.iter().find(|s| s.label == label)
    }
}

/// A code of the study's codebook, possibly generated from a theory component.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Code {
    pub id: CodeId,
    pub parent: Option<CodeId>,
    pub name: String,
    /// `#rrggbb`.
    pub colour: String,
    pub definition: String,
    pub indicators: Vec<String>,
    /// The theory component this code stands for (its id in the theory), if any.
    pub component: Option<String>,
    pub version: i64,
}

/// One application of a code to a span of a source, by one coder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coding {
    pub id: CodingId,
    pub source: SourceId,
    pub code: CodeId,
    pub span: Span,
    pub coder: String,
    /// A contrast (negative) case: evidence of what the component is not, reported apart.
    pub contrast: bool,
    pub memo: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// What a memo is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum MemoTarget {
    Study,
    Source(SourceId),
    Code(CodeId),
    Coding(CodingId),
    Dyad(DyadId),
    Participant(ParticipantId),
}

impl MemoTarget {
    pub fn kind(&self) -> &'static str {
        match self {
            MemoTarget::Study => "study",
            MemoTarget::Source(_) => "source",
            MemoTarget::Code(_) => "code",
            MemoTarget::Coding(_) => "coding",
            MemoTarget::Dyad(_) => "dyad",
            MemoTarget::Participant(_) => "participant",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Memo {
    pub id: MemoId,
    pub target: MemoTarget,
    /// For a memo on a source: the passage it is about (a discussion of a disagreement, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passage: Option<Span>,
    pub author: String,
    pub title: String,
    pub text: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// Whom a passage is about: a participant (a clinician speaking of patient P03) or a dyad (a
/// field note about the pair).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum AttributionTarget {
    Participant(ParticipantId),
    Dyad(DyadId),
}

/// A passage of a source attributed to a case it speaks about, by a person (suggestions are
/// never stored until someone confirms them). A clinician's passage counts as evidence for a
/// dyad only through an attribution; see `docs/findings.md`, "Accounts and attribution".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    pub id: AttributionId,
    pub source: SourceId,
    pub span: Span,
    pub about: AttributionTarget,
    pub attributed_by: String,
    pub attributed_at: String,
}

/// What a case study is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum CaseSubject {
    Dyad(DyadId),
    Clinician(ParticipantId),
}

/// A case study's narrative, written by the team.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: CaseId,
    pub subject: CaseSubject,
    pub text: String,
    pub updated_at: String,
    pub version: i64,
}

/// Checks a `#rrggbb` colour.
pub fn is_colour(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_leniently_and_list_choices() {
        assert_eq!(
            "Field note".parse::<SourceKind>(),
            Ok(SourceKind::FieldNote)
        );
        assert_eq!("CLINICIAN".parse::<Role>(), Ok(Role::Clinician));
        let err = "doctor".parse::<Role>().unwrap_err();
        assert!(
            err.to_string()
                .contains("clinician, patient, interviewer, other"),
            "{err}"
        );
    }

    #[test]
    fn speaker_at_finds_the_turn() {
        let p = ParticipantId::new();
        let source = Source {
            id: SourceId::new(),
            name: "x".into(),
            kind: SourceKind::Interview,
            participant: None,
            dyad: None,
            text: "A: hi\n\nB: yo".into(),
            turns: vec![
                Turn {
                    span: Span { start: 3, end: 5 },
                    speaker: Some("A".into()),
                    start_ms: None,
                    end_ms: None,
                },
                Turn {
                    span: Span { start: 10, end: 12 },
                    speaker: Some("B".into()),
                    start_ms: None,
                    end_ms: None,
                },
            ],
            speakers: vec![Speaker {
                label: "B".into(),
                role: Role::Patient,
                participant: Some(p),
            }],
            markers: Vec::new(),
            interview: InterviewInfo::default(),
            imported_at: String::new(),
            blind: false,
            version: 1,
        };
        assert_eq!(source.speaker_at(11).map(|s| s.role), Some(Role::Patient));
        assert_eq!(source.speaker_at(3), None, "A has no speaker entry");
        assert_eq!(source.speaker_at(7), None, "between turns");
        assert!(is_colour("#a1B2c3") && !is_colour("red"));
    }
}

/// A recording linked to a source (the file is not copied into the study).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    pub source: SourceId,
    /// Relative to the study file's folder, or absolute.
    pub path: String,
    pub mime: String,
    /// The file's size when it was linked.
    pub bytes: u64,
    pub attached_at: String,
    pub attached_by: String,
}

impl Media {
    pub fn is_video(&self) -> bool {
        self.mime.starts_with("video/")
    }
}

/// A check of a transcript against its recording.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub source: SourceId,
    pub verified_by: String,
    pub verified_at: String,
    pub note: String,
}

/// What an exemplar quote stands for: a theory component (by its id in the theory) or a code.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum ExemplarFor {
    Component(String),
    Code(CodeId),
}

/// A coding the team chose as an exemplar quote (for the paper's table of components), in the
/// team's order: `position` 1 is shown first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exemplar {
    pub coding: CodingId,
    pub target: ExemplarFor,
    pub position: i64,
    pub chosen_by: String,
    pub chosen_at: String,
}
