//! De-identifying the sample study: every participant's name and every speaker label that names
//! someone becomes a pseudonym; afterwards every coding quotes the same words with the
//! pseudonyms in them, no coding is lost and the file is sound.

#![allow(clippy::unwrap_used)] // a failing test step should stop the test

use std::collections::BTreeMap;

use between_core::text::CharIndex;
use between_store::{OpenOptions, SqliteStore};
use between_study::{CandidateKind, MatchOptions, Pseudonym};

/// Byte ranges of whole-word occurrences, leftmost and longest first (a reference written
/// apart from the study crate's matcher).
fn occurrences<'a>(text: &str, mapping: &'a [Pseudonym]) -> Vec<(usize, usize, &'a str)> {
    let mut sorted: Vec<&Pseudonym> = mapping.iter().collect();
    sorted.sort_by_key(|p| std::cmp::Reverse(p.term.chars().count()));
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let hit = sorted.iter().find(|p| {
            text[i..].starts_with(&p.term)
                && !word(text[..i].chars().next_back())
                && !word(text[i + p.term.len()..].chars().next())
        });
        match hit {
            Some(p) => {
                out.push((i, i + p.term.len(), p.pseudonym.as_str()));
                i += p.term.len();
            }
            None => i += text[i..].chars().next().map_or(1, char::len_utf8),
        }
    }
    out
}

#[test]
fn the_sample_pseudonymised_keeps_every_coding_on_its_words() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sample.between");
    let mut bench = between_sample::materialise(&path, &OpenOptions::default()).unwrap();
    bench.act_as(between_study::policy::local_owner("paul"));
    let people = [CandidateKind::ParticipantName, CandidateKind::SpeakerLabel];
    let mapping: Vec<Pseudonym> = bench
        .deidentify_candidates()
        .unwrap()
        .into_iter()
        .filter(|c| c.kinds.iter().any(|k| people.contains(k)))
        .enumerate()
        .map(|(i, c)| Pseudonym {
            term: c.term,
            pseudonym: format!("[Person {}]", i + 1),
        })
        .collect();
    let terms: Vec<&str> = mapping.iter().map(|p| p.term.as_str()).collect();
    for expected in ["Dr Amara Osei", "Osei", "George", "DR RUIZ", "Whitfield"] {
        assert!(
            terms.contains(&expected),
            "{expected} not offered: {terms:?}"
        );
    }
    let old_texts: BTreeMap<String, String> = bench
        .sources()
        .unwrap()
        .into_iter()
        .map(|s| (s.name.clone(), bench.source(&s.name).unwrap().text))
        .collect();
    let before = bench.codings(None, None, None).unwrap();
    let stats_before = bench.stats().unwrap();

    let applied = bench
        .deidentify(&mapping, MatchOptions::default(), None)
        .unwrap();
    assert!(
        applied.replacements > 100 && applied.codings > 100,
        "{applied:?}"
    );
    bench.vacuum().unwrap();

    let after: BTreeMap<_, _> = bench
        .codings(None, None, None)
        .unwrap()
        .into_iter()
        .map(|v| (v.coding.id, v))
        .collect();
    assert_eq!(after.len(), before.len(), "no coding lost");
    let mut changed = 0;
    for old in &before {
        let text = &old_texts[&old.source];
        let index = CharIndex::new(text);
        let (bs, be) = (
            index.byte(old.coding.span.start).unwrap(),
            index.byte(old.coding.span.end).unwrap(),
        );
        let mut expected = String::new();
        let mut at = bs;
        for (s, e, p) in occurrences(text, &mapping) {
            let cuts = |b: usize| s < b && b < e;
            assert!(!(cuts(bs) || cuts(be)), "a sample quote cuts a name");
            if bs <= s && e <= be {
                expected.push_str(&text[at..s]);
                expected.push_str(p);
                at = e;
            }
        }
        expected.push_str(&text[at..be]);
        let new = &after[&old.coding.id];
        assert_eq!(
            new.quote, expected,
            "coding {} in {}",
            old.coding.id, old.source
        );
        assert_eq!(
            (&new.code_path, &new.coding.coder),
            (&old.code_path, &old.coding.coder)
        );
        changed += usize::from(new.quote != old.quote);
    }
    assert!(changed > 10, "only {changed} quotes held a name");
    let stats_after = bench.stats().unwrap();
    let counts = |s: &between_study::Stats| -> Vec<(String, usize)> {
        s.by_code
            .iter()
            .map(|(k, c)| (k.clone(), c.codings))
            .collect()
    };
    assert_eq!(
        counts(&stats_after),
        counts(&stats_before),
        "coding counts unchanged"
    );
    for text in bench
        .sources()
        .unwrap()
        .iter()
        .map(|s| bench.source(&s.name).unwrap().text)
    {
        assert!(!text.contains("George") && !text.contains("DR RUIZ"));
    }
    drop(bench);
    let store = SqliteStore::open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(store.check_integrity().unwrap(), Vec::<String>::new());
}
