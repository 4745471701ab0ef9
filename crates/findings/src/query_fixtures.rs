//! Small corpora for the query tests, whose answers can be worked out by reading them (the
//! sample study is `test_support::sample`).

use std::collections::BTreeMap;

use between_core::*;
use between_study::StudyBundle;

use crate::Corpus;

pub(crate) fn corpus_of(texts: &[&str]) -> Corpus {
    corpus_with(texts, &[])
}

/// One source of two turns, `A: hope here` (3..12) and `B: trust and hope` (17..31).
pub(crate) const TWO_TURNS: &str = "A: hope here\n\nB: trust and hope";

/// [`TWO_TURNS`] as the one source of [`corpus_with`], with ann's codings Hope over turn A,
/// Trust on its "here" (8..12) and Trust on turn B's "trust" (17..22), then `more`.
pub(crate) fn two_turns(more: &[(usize, &str, usize, usize, &str, bool)]) -> Corpus {
    let mut codings = vec![
        (0, "Hope", 3, 12, "ann", false),
        (0, "Trust", 8, 12, "ann", false),
        (0, "Trust", 17, 22, "ann", false),
    ];
    codings.extend_from_slice(more);
    corpus_with(&[TWO_TURNS], &codings)
}

/// One source per text, each the account of its own participant `P1`, `P2`… (patients;
/// attribute `site`: `north` for the odd ones, `south` for the even ones). Turns are
/// `LABEL: words` separated by blank lines; speaker `A` is a clinician, `B` a patient.
/// Codes: `Hope`, its child `Hope/Small hope`, and `Trust`. Codings: (source, code name,
/// start, end, coder, contrast).
pub(crate) fn corpus_with(
    texts: &[&str],
    codings: &[(usize, &str, usize, usize, &str, bool)],
) -> Corpus {
    Corpus::new(bundle_with(texts, codings), None)
}

/// The study of [`corpus_with`] as a bundle, for a test to add dyads, attributions or
/// interview details to before building its corpus.
pub(crate) fn bundle_with(
    texts: &[&str],
    codings: &[(usize, &str, usize, usize, &str, bool)],
) -> StudyBundle {
    let code = |name: &str, parent: Option<CodeId>| Code {
        id: CodeId::new(),
        parent,
        name: name.into(),
        colour: "#336699".into(),
        definition: String::new(),
        indicators: Vec::new(),
        component: None,
        version: 1,
    };
    let hope = code("Hope", None);
    let small = code("Small hope", Some(hope.id));
    let trust = code("Trust", None);
    let codes = vec![hope, small, trust];
    let participants: Vec<Participant> = (0..texts.len())
        .map(|i| Participant {
            id: ParticipantId::new(),
            label: format!("P{}", i + 1),
            role: Role::Patient,
            name: None,
            attributes: BTreeMap::from([(
                "site".to_string(),
                if i % 2 == 0 { "north" } else { "south" }.to_string(),
            )]),
            version: 1,
        })
        .collect();
    let sources: Vec<Source> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut turns = Vec::new();
            let mut at = 0;
            for chunk in t.split("\n\n") {
                if let Some((label, _)) = chunk.split_once(": ") {
                    let start = at + label.chars().count() + 2;
                    turns.push(Turn {
                        span: Span {
                            start,
                            end: at + chunk.chars().count(),
                        },
                        speaker: Some(label.to_string()),
                        start_ms: None,
                        end_ms: None,
                    });
                }
                at += chunk.chars().count() + 2;
            }
            let speaker = |label: &str, role| Speaker {
                label: label.into(),
                role,
                participant: None,
            };
            Source {
                id: SourceId::new(),
                name: format!("s{}", i + 1),
                kind: SourceKind::Interview,
                participant: Some(participants[i].id),
                dyad: None,
                text: t.to_string(),
                turns,
                speakers: vec![speaker("A", Role::Clinician), speaker("B", Role::Patient)],
                markers: Vec::new(),
                interview: InterviewInfo::default(),
                imported_at: String::new(),
                blind: false,
                version: 1,
            }
        })
        .collect();
    let codings = codings
        .iter()
        .map(|&(s, name, start, end, coder, contrast)| Coding {
            id: CodingId::new(),
            source: sources[s].id,
            code: codes
                .iter()
                .find(|c| c.name == name)
                .expect("a fixture code")
                .id,
            span: Span { start, end },
            coder: coder.into(),
            contrast,
            memo: None,
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
        })
        .collect();
    StudyBundle {
        name: "fixture".into(),
        description: String::new(),
        participants,
        dyads: Vec::new(),
        codes,
        sources,
        codings,
        memos: Vec::new(),
        media: Vec::new(),
        cases: Vec::new(),
        attributions: Vec::new(),
    }
}
