use super::*;
use crate::{ImportFile, NewParticipant, NewStudy};
use between_store::OpenOptions;

fn map(pairs: &[(&str, &str)]) -> Vec<Pseudonym> {
    pairs
        .iter()
        .map(|(t, p)| Pseudonym {
            term: t.to_string(),
            pseudonym: p.to_string(),
        })
        .collect()
}

fn replaced(text: &str, pairs: &[(&str, &str)], options: MatchOptions) -> (String, Vec<Edit>) {
    let mapping = map(pairs);
    let chars: Vec<char> = text.chars().collect();
    let found = Matcher::new(&mapping, options).find(&chars);
    rewrite(&chars, &found, &mapping)
}

#[test]
fn terms_match_whole_words_longest_first_and_case_only_when_asked() {
    let pairs = [("Ruiz", "[R]"), ("Dr Ruiz", "[Clinician A]")];
    let (text, _) = replaced(
        "Dr Ruiz met Ruiz, not Ruizo or McRuiz; DR RUIZ.",
        &pairs,
        MatchOptions::default(),
    );
    assert_eq!(text, "[Clinician A] met [R], not Ruizo or McRuiz; DR RUIZ.");
    let (text, _) = replaced(
        "DR RUIZ: hello, dr ruiz",
        &pairs,
        MatchOptions {
            case_insensitive: true,
        },
    );
    assert_eq!(text, "[Clinician A]: hello, [Clinician A]");
    // Non-ASCII terms and neighbours count in code points.
    let (text, edits) = replaced(
        "Zoë🙂Zoë, naïveZoë",
        &[("Zoë", "[P]")],
        MatchOptions::default(),
    );
    assert_eq!(text, "[P]🙂[P], naïveZoë");
    assert_eq!(
        edits[1],
        Edit {
            old: Span { start: 4, end: 7 },
            new: Span { start: 4, end: 7 }
        }
    );
}

#[test]
fn positions_stay_before_shift_after_and_snap_inside_a_term() {
    // "ab Ruiz cd": Ruiz (3..7) becomes "[Clinician A]" (3..16): 9 longer.
    let (text, edits) = replaced(
        "ab Ruiz cd",
        &[("Ruiz", "[Clinician A]")],
        Default::default(),
    );
    assert_eq!(text, "ab [Clinician A] cd");
    let r = Remap { edits: &edits };
    let span = |start, end| r.span(Span { start, end });
    assert_eq!(span(0, 2), Span { start: 0, end: 2 }, "before stays");
    assert_eq!(span(8, 10), Span { start: 17, end: 19 }, "after shifts");
    assert_eq!(
        span(3, 7),
        Span { start: 3, end: 16 },
        "the name becomes the pseudonym"
    );
    assert_eq!(
        span(0, 5),
        Span { start: 0, end: 16 },
        "an end inside snaps to the end"
    );
    assert_eq!(
        span(5, 10),
        Span { start: 3, end: 19 },
        "a start inside snaps to the start"
    );
    assert_eq!(
        span(4, 6),
        Span { start: 3, end: 16 },
        "inside becomes the whole pseudonym"
    );
    assert_eq!(
        span(7, 8),
        Span { start: 16, end: 17 },
        "right after the term"
    );
    // Shorter pseudonyms shift the other way.
    let (text, edits) = replaced(
        "Dr Amara Osei and Osei",
        &[("Dr Amara Osei", "[C]"), ("Osei", "O")],
        Default::default(),
    );
    assert_eq!(text, "[C] and O");
    let r = Remap { edits: &edits };
    assert_eq!(
        r.span(Span { start: 14, end: 17 }),
        Span { start: 4, end: 7 }
    );
}

#[test]
fn a_mapping_is_refused_with_its_reason() {
    let check = |pairs: &[(&str, &str)]| {
        check_mapping(&map(pairs), MatchOptions::default())
            .unwrap_err()
            .to_string()
    };
    assert!(check(&[]).contains("empty"));
    assert!(check(&[("  ", "[A]")]).contains("empty term"));
    assert!(check(&[("Ruiz", " ")]).contains("empty pseudonym"));
    assert!(check(&[("Ruiz", "[A]"), ("Ruiz", "[B]")]).contains("mapped twice"));
    assert!(check(&[("Ruiz", "[A]"), ("Osei", "Dr Ruiz")]).contains("contains the term 'Ruiz'"));
    assert!(check(&[("Ruiz", "Ruiz Jr")]).contains("contains the term"));
    // Case-insensitively, "ruiz" and "Ruiz" are one term.
    let err = check_mapping(
        &map(&[("Ruiz", "[A]"), ("RUIZ", "[B]")]),
        MatchOptions {
            case_insensitive: true,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("mapped twice"), "{err}");
    // A pseudonym may contain a term's letters inside a longer word.
    check_mapping(&map(&[("Ruiz", "[Ruizian]")]), MatchOptions::default()).unwrap();
    assert!("no equals".parse::<Pseudonym>().is_err());
    assert_eq!(
        "Dr Ruiz = [Clinician A]".parse::<Pseudonym>().unwrap(),
        map(&[("Dr Ruiz", "[Clinician A]")])[0]
    );
}

#[test]
fn candidates_are_capitalised_runs_inside_sentences() {
    let text = "Tell me about Samuel. Samuel came from Mercer Street with Dr Ruiz, and I'm glad.\nThe Fulton Street bridge! Dr. Osei said OK.";
    let runs = capitalised_runs(
        text,
        &[Span {
            start: 0,
            end: text.chars().count(),
        }],
    );
    let runs: Vec<&str> = runs.iter().map(String::as_str).collect();
    assert_eq!(
        runs,
        [
            "Dr Ruiz",
            "Dr. Osei",
            "Fulton Street",
            "Mercer Street",
            "Samuel"
        ]
    );
    assert!(
        is_role_label("INTERVIEWER") && is_role_label("Patient 2") && !is_role_label("DR RUIZ")
    );
    assert_eq!(count_whole_words("Ruiz, Ruizo, McRuiz, Ruiz", "Ruiz"), 2);
    assert_eq!(count_whole_words("Zoë Zoëy", "Zoë"), 1);
}

// ---- on a study file -----------------------------------------------------------------------

const INTERVIEW: &str = "INTERVIEWER: Tell me about Dr Ruiz.\n\nDR RUIZ: I am Tomás. Dr Ruiz to patients — Samuel calls me Doc.\n\nSAMUEL: Dr Ruiz listens 🙂. Ruiz is kind.\n";

fn study(dir: &tempfile::TempDir) -> Workbench {
    let mut b = Workbench::create(
        &dir.path().join("d.between"),
        NewStudy {
            name: "D".into(),
            ..Default::default()
        },
        &OpenOptions::default(),
        "paul",
    )
    .unwrap();
    b.add_code("Trust", None, None, "").unwrap();
    b.add_participant(NewParticipant {
        label: "C2".into(),
        role: Some(Role::Clinician),
        name: Some("Dr Tomás Ruiz".into()),
        ..Default::default()
    })
    .unwrap();
    b.import_files(
        vec![ImportFile {
            name: "c2.txt".into(),
            bytes: INTERVIEW.as_bytes().to_vec(),
        }],
        &crate::ImportOptions {
            speakers: vec![
                "DR RUIZ=C2".parse().unwrap(),
                "SAMUEL=patient".parse().unwrap(),
            ],
            ..Default::default()
        },
        &mut |_, _| {},
    )
    .unwrap();
    b
}

fn code_quote(b: &mut Workbench, quote: &str, memo: Option<&str>) -> Coding {
    b.apply_code(crate::NewCoding {
        source: "c2.txt".into(),
        code: "Trust".into(),
        target: crate::CodingTarget::Quote {
            text: quote.into(),
            occurrence: None,
        },
        coder: Some("maria".into()),
        memo: memo.map(String::from),
        contrast: false,
    })
    .unwrap()
}

fn quotes(b: &Workbench) -> Vec<String> {
    b.codings(None, None, None)
        .unwrap()
        .into_iter()
        .map(|v| v.quote)
        .collect()
}

#[test]
fn apply_rewrites_texts_labels_codings_and_passages_in_one_change() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = study(&dir);
    code_quote(&mut b, "Dr Ruiz listens 🙂", Some("Samuel trusts Ruiz"));
    code_quote(&mut b, "uiz is ki", None); // starts inside a term
    code_quote(&mut b, "Samuel calls me Doc", None);
    code_quote(&mut b, "I am Tomás", None); // after a replaced label
    code_quote(&mut b, "Tell me", None); // before every replacement
    let source = b.source("c2.txt").unwrap();
    let passage = text::find_quote(&source.text, "Ruiz is kind", None).unwrap();
    b.add_passage_memo(source.id, passage, "About Dr Ruiz", "kind", None)
        .unwrap();
    // The cache holds the old text now.
    assert!(quotes(&b).contains(&"Dr Ruiz listens 🙂".to_string()));

    let mapping = map(&[
        ("Dr Ruiz", "[Clinician A]"),
        ("Ruiz", "[A]"),
        ("Samuel", "[Patient B]"),
        ("Nobody", "[N]"),
    ]);
    let options = MatchOptions {
        case_insensitive: true,
    };
    let preview = b.deidentify_preview(&mapping, options).unwrap();
    assert_eq!(
        b.source("c2.txt").unwrap().text,
        INTERVIEW,
        "a preview changes nothing"
    );
    let counts: Vec<usize> = preview.terms.iter().map(|t| t.count).collect();
    assert_eq!(counts, [4, 1, 2, 0]);
    assert_eq!(preview.replacements.len(), 7);
    let first = &preview.replacements[0];
    assert_eq!(
        (first.old.as_str(), first.new.as_str()),
        ("Dr Ruiz", "[Clinician A]")
    );
    assert_eq!(first.before, "INTERVIEWER: Tell me about ");
    assert_eq!(preview.labels.len(), 2, "{:?}", preview.labels);
    assert_eq!(
        preview.notes, 2,
        "the passage memo's title and the coding memo"
    );
    assert_eq!(preview.sources[0].version, 1);

    let versions: BTreeMap<SourceId, i64> =
        preview.sources.iter().map(|s| (s.id, s.version)).collect();
    let applied = b.deidentify(&mapping, options, Some(&versions)).unwrap();
    assert_eq!(
        (applied.replacements, applied.labels, applied.notes),
        (7, 2, 2)
    );
    assert_eq!(applied.sources[0].version, 2);

    let after = b.source("c2.txt").unwrap();
    assert_eq!(
        after.text,
        "INTERVIEWER: Tell me about [Clinician A].\n\n[CLINICIAN A]: I am Tomás. [Clinician A] to patients — [Patient B] calls me Doc.\n\n[PATIENT B]: [Clinician A] listens 🙂. [A] is kind.\n"
            .replace("[CLINICIAN A]", "[Clinician A]")
            .replace("[PATIENT B]", "[Patient B]")
    );
    assert_eq!(after.version, 2);
    let labels: Vec<&str> = after.speakers.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(labels, ["INTERVIEWER", "[Clinician A]", "[Patient B]"]);
    // Turns still hold exactly what each speaker said.
    let said: Vec<(&str, String)> = after
        .turns
        .iter()
        .map(|t| {
            (
                t.speaker.as_deref().unwrap_or(""),
                text::slice(&after.text, t.span).unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        said[2],
        (
            "[Patient B]",
            "[Clinician A] listens 🙂. [A] is kind.".to_string()
        )
    );
    assert_eq!(
        quotes(&b),
        [
            "Tell me",
            "I am Tomás",
            "[Patient B] calls me Doc",
            "[Clinician A] listens 🙂",
            "[A] is ki"
        ],
        "the cache was cleared and every coding is on its words"
    );
    let views = b.codings(None, None, None).unwrap();
    assert_eq!(
        views[3].coding.memo.as_deref(),
        Some("[Patient B] trusts [A]")
    );
    assert_eq!(
        views[0].coding.version, 1,
        "a coding before every replacement is untouched"
    );
    assert!(views[1].coding.version > 1);
    let memo = &b.memos(None).unwrap()[0].memo;
    assert_eq!(memo.title, "About [Clinician A]");
    assert_eq!(
        text::slice(&after.text, memo.passage.unwrap()),
        Some("[A] is kind")
    );

    // The mapping lives in its own table; the audit log has counts, not terms.
    let stored = b.pseudonyms().unwrap();
    let terms: Vec<(&str, usize)> = stored
        .iter()
        .map(|p| (p.term.as_str(), p.replacements))
        .collect();
    assert_eq!(
        terms,
        [("Dr Ruiz", 4), ("Ruiz", 1), ("Samuel", 2)],
        "an unmatched term is not kept"
    );
    assert_eq!(stored[0].actor, "paul");
    let log = serde_json::to_string(&b.store().audit_log(100).unwrap()).unwrap();
    let since: Vec<_> = b.store().audit_log(10).unwrap();
    assert!(
        since
            .iter()
            .any(|e| e.action == "apply" && e.detail["replacements"] == 7)
    );
    for term in ["Samuel", "Nobody"] {
        assert!(!log.contains(term), "the audit log names {term}");
    }

    // Stale versions are a conflict now.
    let err = b
        .deidentify(
            &map(&[("Tomás", "[T]")]),
            Default::default(),
            Some(&versions),
        )
        .unwrap_err();
    assert!(
        matches!(err, StudyError::Store(StoreError::Conflict { .. })),
        "{err}"
    );
    assert!(b.source("c2.txt").unwrap().text.contains("Tomás"));
    let err = b
        .deidentify(&map(&[("Ruiz", "[A]")]), Default::default(), None)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("none of the mapping's terms occurs"),
        "{err}"
    );
}

/// Every byte of the study file and its write-ahead log.
fn file_bytes(dir: &tempfile::TempDir) -> Vec<u8> {
    let mut bytes = std::fs::read(dir.path().join("d.between")).unwrap();
    if let Ok(wal) = std::fs::read(dir.path().join("d.between-wal")) {
        bytes.extend(wal);
    }
    bytes
}

fn holds(bytes: &[u8], term: &str) -> bool {
    bytes.windows(term.len()).any(|w| w == term.as_bytes())
}

#[test]
fn destroying_the_mapping_and_vacuuming_leaves_no_term_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = study(&dir);
    code_quote(&mut b, "Samuel calls me Doc", None);
    // "Samuel" is only in the text (the speaker label is "SAMUEL").
    let secret = "Samuel";
    assert!(holds(&file_bytes(&dir), secret));
    b.deidentify(&map(&[(secret, "[Patient B]")]), Default::default(), None)
        .unwrap();
    assert_eq!(quotes(&b), ["[Patient B] calls me Doc"]);
    b.vacuum().unwrap();
    assert!(
        holds(&file_bytes(&dir), secret),
        "the mapping keeps the term until it is destroyed"
    );
    assert_eq!(b.pseudonyms().unwrap().len(), 1);
    assert_eq!(b.destroy_pseudonyms().unwrap().terms, 1);
    assert!(b.pseudonyms().unwrap().is_empty());
    b.vacuum().unwrap();
    assert!(
        !holds(&file_bytes(&dir), secret),
        "the term is gone from the file"
    );
    assert_eq!(b.destroy_pseudonyms().unwrap().terms, 0);
}

#[test]
fn another_workbench_reads_the_new_texts_after_a_deidentification() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = study(&dir);
    code_quote(&mut b, "Samuel calls me Doc", None);
    // Another process (a server) with the study open has read the text.
    let a = Workbench::open(&dir.path().join("d.between"), &OpenOptions::default(), "a").unwrap();
    assert_eq!(quotes(&a), ["Samuel calls me Doc"]);
    b.deidentify(&map(&[("Samuel", "[Patient B]")]), Default::default(), None)
        .unwrap();
    assert_eq!(quotes(&a), ["[Patient B] calls me Doc"]);
    assert!(!a.source("c2.txt").unwrap().text.contains("Samuel"));
}

#[test]
fn a_failed_vacuum_after_apply_says_the_change_was_saved_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    drop(study(&dir));
    let file = dir.path().join("d.between");
    let short = OpenOptions {
        busy_timeout: std::time::Duration::from_millis(50),
        ..Default::default()
    };
    let mut b = Workbench::open(&file, &short, "paul").unwrap();
    // A reader in another process keeps the write-ahead log from being emptied.
    let reader = Workbench::open(&file, &OpenOptions::default(), "ada").unwrap();
    let snapshot = reader.store().snapshot().unwrap();
    let applied = b
        .deidentify(&map(&[("Samuel", "[Patient B]")]), Default::default(), None)
        .unwrap();
    drop(snapshot);
    let failed = applied.vacuum_failed.expect("the vacuum failed");
    assert!(
        failed.starts_with("the de-identification was applied and saved")
            && failed.contains(&format!("between deidentify {} --vacuum", file.display())),
        "{failed}"
    );
    assert!(!b.source("c2.txt").unwrap().text.contains("Samuel"));
    b.vacuum().unwrap();
}

#[test]
fn candidates_name_people_places_and_speakers_but_not_roles() {
    let dir = tempfile::tempdir().unwrap();
    let b = study(&dir);
    let candidates = b.deidentify_candidates().unwrap();
    let find = |term: &str| candidates.iter().find(|c| c.term == term);
    let dr = find("Dr Ruiz").unwrap();
    assert_eq!(dr.count, 3);
    assert_eq!(dr.sources, [("c2.txt".to_string(), 3)]);
    assert_eq!(dr.kinds, [CandidateKind::Text]);
    assert_eq!(
        find("DR RUIZ").unwrap().kinds,
        [CandidateKind::SpeakerLabel]
    );
    assert_eq!(
        find("Dr Tomás Ruiz").unwrap().count,
        0,
        "the full name is offered anyway"
    );
    assert_eq!(
        find("Tomás").unwrap().kinds,
        [CandidateKind::Text, CandidateKind::ParticipantName]
    );
    assert!(find("C2").is_some(), "labels too");
    assert!(find("INTERVIEWER").is_none() && find("Tell").is_none() && find("I").is_none());
    assert_eq!(
        candidates[0].count,
        candidates.iter().map(|c| c.count).max().unwrap()
    );
}

/// The reference for the property test, written independently of the matcher: byte-wise,
/// leftmost, longest first, whole words. Returns (byte start, byte end, pseudonym).
fn naive_matches<'a>(text: &str, pairs: &[(&'a str, &'a str)]) -> Vec<(usize, usize, &'a str)> {
    let mut sorted = pairs.to_vec();
    sorted.sort_by_key(|(t, _)| std::cmp::Reverse(t.chars().count()));
    let word_at = |s: Option<char>| s.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let hit = sorted.iter().find(|(t, _)| {
            text[i..].starts_with(t)
                && !(word_at(t.chars().next()) && word_at(text[..i].chars().next_back()))
                && !(word_at(t.chars().next_back()) && word_at(text[i + t.len()..].chars().next()))
        });
        match hit {
            Some((t, p)) => {
                out.push((i, i + t.len(), *p));
                i += t.len();
            }
            None => i += text[i..].chars().next().map_or(1, char::len_utf8),
        }
    }
    out
}

mod property {
    use super::*;
    use proptest::prelude::*;

    const PAIRS: &[(&str, &str)] = &[
        ("Dr Ruiz", "[Clinician A]"),
        ("Ruiz", "R"),
        ("Zoë", "[Patient 🙂]"),
        ("Osei", "[C]"),
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// After apply, a coding (or memo passage) whose boundaries were not inside a replaced
        /// term quotes exactly the old quote with the same replacements made; one whose
        /// boundaries were covers the whole pseudonym; every one stays inside the text.
        #[test]
        fn codings_keep_their_words(
            tokens in proptest::collection::vec((prop_oneof![
                Just("Dr"), Just("Ruiz"), Just("Zoë"), Just("Osei"), Just("the"), Just("naïve"),
                Just("🙂"), Just("Ruizo"), Just("e\u{301}"), Just("中文"), Just("—"), Just("\n")
            ], prop_oneof![Just(" "), Just(""), Just(", ")]), 4..40),
            chosen in proptest::collection::vec(any::<bool>(), PAIRS.len()),
            cuts in proptest::collection::vec((0usize..1000, 1usize..60), 1..6),
        ) {
            let pairs: Vec<(&str, &str)> =
                PAIRS.iter().zip(&chosen).filter(|(_, c)| **c).map(|(p, _)| *p).collect();
            let body: String = tokens.iter().map(|(w, sep)| format!("{w}{sep}")).collect();
            let text = format!("P3: {body}x\n");
            let dir = tempfile::tempdir().unwrap();
            let mut b = Workbench::create(&dir.path().join("p.between"), NewStudy::default(), &OpenOptions::default(), "t").unwrap();
            b.add_code("C", None, None, "").unwrap();
            b.import_files(vec![ImportFile { name: "s.txt".into(), bytes: text.clone().into_bytes() }], &Default::default(), &mut |_, _| {}).unwrap();
            let len = text.chars().count();
            let mut spans = Vec::new();
            for (a, l) in &cuts {
                let start = a % (len - 1);
                let end = (start + l).min(len);
                spans.push(Span { start, end });
                b.apply_code(crate::NewCoding {
                    source: "s.txt".into(), code: "C".into(),
                    target: crate::CodingTarget::Offsets { start, end },
                    coder: None, memo: None, contrast: false,
                }).unwrap();
            }
            let id = b.source("s.txt").unwrap().id;
            b.add_passage_memo(id, spans[0], "", "m", None).unwrap();
            let old_codings = b.codings(None, None, None).unwrap();
            let result = b.deidentify(&map(&pairs), MatchOptions::default(), None);
            let matches = naive_matches(&text, &pairs);
            if matches.is_empty() {
                prop_assert!(result.is_err());
                return Ok(());
            }
            result.unwrap();
            let new_text = b.source("s.txt").unwrap().text;
            // The reference rewrite of the whole text.
            let mut expected_text = String::new();
            let mut at = 0;
            for (s, e, p) in &matches {
                expected_text.push_str(&text[at..*s]);
                expected_text.push_str(p);
                at = *e;
            }
            expected_text.push_str(&text[at..]);
            prop_assert_eq!(&new_text, &expected_text);
            let index = CharIndex::new(&text);
            let expected_quote = |span: Span| -> Option<String> {
                let (bs, be) = (index.byte(span.start).unwrap(), index.byte(span.end).unwrap());
                if matches.iter().any(|(s, e, _)| (*s < bs && bs < *e) || (*s < be && be < *e)) {
                    return None; // a boundary inside a term
                }
                let mut out = String::new();
                let mut at = bs;
                for (s, e, p) in matches.iter().filter(|(s, e, _)| bs <= *s && *e <= be) {
                    out.push_str(&text[at..*s]);
                    out.push_str(p);
                    at = *e;
                }
                out.push_str(&text[at..be]);
                Some(out)
            };
            let new_len = new_text.chars().count();
            let check = |old: Span, new: Span| -> Result<(), TestCaseError> {
                prop_assert!(new.start < new.end && new.end <= new_len, "{:?} in {}", new, new_len);
                let quote = text::slice(&new_text, new).unwrap();
                match expected_quote(old) {
                    Some(q) => prop_assert_eq!(quote, q),
                    None => {
                        // It covers the pseudonym of each term its boundaries cut.
                        let (bs, be) = (index.byte(old.start).unwrap(), index.byte(old.end).unwrap());
                        for (_, _, p) in matches.iter().filter(|(s, e, _)| *s < be && bs < *e) {
                            prop_assert!(quote.contains(p), "{quote:?} lacks {p:?}");
                        }
                    }
                }
                Ok(())
            };
            let new_codings = b.codings(None, None, None).unwrap();
            prop_assert_eq!(new_codings.len(), old_codings.len());
            for old in &old_codings {
                let new = new_codings.iter().find(|n| n.coding.id == old.coding.id).unwrap();
                check(old.coding.span, new.coding.span)?;
            }
            let memo = &b.memos(None).unwrap()[0].memo;
            check(spans[0], memo.passage.unwrap())?;
            prop_assert!(b.store().audit_log(1000).unwrap().iter().all(|e| !e.detail.to_string().contains("Zoë")));
        }
    }
}
