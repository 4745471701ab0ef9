//! Tests against the real samples in `../shared/refi-qda/samples`, the XSDs (validated with
//! `xmllint`), round trips, and malicious input.

use std::io::Write as _;
use std::process::Command;

use crate::*;

const SAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/refi-qda/samples/"
);
const SCHEMAS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/refi-qda/schemas/v1.0/"
);

/// Every sample that is a project (not a codebook).
const PROJECT_SAMPLES: [&str; 5] = [
    "nvivo-win-12.6_oltas0517.qdpx",
    "nvivo-mac-12.7_OltasSzkepticizmus_17June.qdpx",
    "nvivo-mac-15.0_qc-roundtrip.qdpx",
    "qc-1.3.2_demo.qdpx",
    "atlasti-8.4_spec-annex-example.qde",
];

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!("{SAMPLES}{name}")).unwrap_or_else(|e| panic!("sample {name}: {e}"))
}

fn read_sample(name: &str) -> (Project, Report) {
    read_project(name, &sample(name), &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn count_codes(codes: &[Code]) -> usize {
    codes.iter().map(|c| 1 + count_codes(&c.children)).sum()
}

fn counts(p: &Project) -> (usize, usize, usize, usize) {
    let selections = p.text_sources.iter().map(|s| s.selections.len()).sum();
    let codings = p
        .text_sources
        .iter()
        .map(|s| s.codings.len() + s.selections.iter().map(|x| x.codings.len()).sum::<usize>())
        .sum();
    (
        count_codes(&p.codes),
        p.text_sources.len(),
        selections,
        codings,
    )
}

fn warned(report: &Report, needle: &str) -> bool {
    report.warnings.iter().any(|w| w.contains(needle))
}

fn dropped(report: &Report, what: &str) -> usize {
    report
        .dropped
        .iter()
        .filter(|(w, _, _)| w == what)
        .map(|(_, n, _)| n)
        .sum()
}

/// Validates a document against one of the XSDs with xmllint; fails (never skips) when
/// xmllint is missing.
fn validate(xml: &str, schema: &str) {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(xml.as_bytes()).expect("write temp file");
    let output = Command::new("xmllint")
        .args(["--noout", "--schema", &format!("{SCHEMAS}{schema}")])
        .arg(file.path())
        .output()
        .expect("xmllint must be installed (Debian: apt-get install -y libxml2-utils)");
    assert!(
        output.status.success(),
        "{schema} validation failed:\n{}\n--- document (start) ---\n{}",
        String::from_utf8_lossy(&output.stderr),
        xml.chars().take(3000).collect::<String>()
    );
}

fn word_boundary_share(p: &Project) -> f64 {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut good = 0;
    let mut all = 0;
    for s in &p.text_sources {
        let chars: Vec<char> = s.text.chars().collect();
        let boundary =
            |i: usize| i == 0 || i >= chars.len() || !word(chars[i - 1]) || !word(chars[i]);
        for sel in &s.selections {
            all += 1;
            if boundary(sel.start) && boundary(sel.end) {
                good += 1;
            }
        }
    }
    f64::from(good) / f64::from(all.max(1))
}

// ---------------------------------------------------------------- samples

#[test]
fn nvivo_windows_reads_as_utf16_on_word_boundaries() {
    let (p, report) = read_sample("nvivo-win-12.6_oltas0517.qdpx");
    assert_eq!(counts(&p), (152, 2, 303, 303), "{report:#?}");
    assert_eq!(report.unit, Some(PositionUnit::Utf16));
    assert!(report.unplaced.is_empty(), "{:?}", report.unplaced);
    assert!(
        warned(&report, "UTF-16 code units"),
        "{:?}",
        report.warnings
    );
    let share = word_boundary_share(&p);
    assert!(share >= 0.95, "only {share} on word boundaries");
    let text = &p.text_sources[0].text;
    assert!(
        !text.starts_with('\u{feff}') && text.contains("\r\n"),
        "BOM stripped, CRLF kept"
    );
}

#[test]
fn nvivo_mac_reads_as_utf16_on_word_boundaries() {
    let (p, report) = read_sample("nvivo-mac-12.7_OltasSzkepticizmus_17June.qdpx");
    assert_eq!(counts(&p), (152, 2, 297, 297), "{report:#?}");
    assert_eq!(report.unit, Some(PositionUnit::Utf16));
    assert!(word_boundary_share(&p) >= 0.95);
    assert_eq!(p.users[0].id.as_deref(), Some("SF"));
    let all: Vec<&Code> = read::all_codes(&p.codes).collect();
    assert!(all.iter().any(|c| !c.is_codable), "a folder");
    assert!(all.iter().any(|c| c.color.as_deref() == Some("#00ff7f")));
}

#[test]
fn nvivo_15_round_trip_reports_its_lost_texts() {
    let (p, report) = read_sample("nvivo-mac-15.0_qc-roundtrip.qdpx");
    assert_eq!(counts(&p), (262, 2, 0, 0));
    let lost = report
        .warnings
        .iter()
        .filter(|w| w.contains("may have lost it"))
        .count();
    assert_eq!(lost, 2, "{:?}", report.warnings);
}

#[test]
fn qc_demo_warns_about_non_internal_paths() {
    let (p, report) = read_sample("qc-1.3.2_demo.qdpx");
    assert_eq!(counts(&p), (262, 2, 158, 205), "{report:#?}");
    assert_eq!(report.unit, Some(PositionUnit::CodePoints));
    assert!(
        warned(&report, "\"board_2017.txt\" is not an internal:// URL"),
        "{:?}",
        report.warnings
    );
    assert!(warned(&report, "\"admin-1.txt\" is not an internal:// URL"));
    assert!(
        p.text_sources
            .iter()
            .all(|s| s.name.is_none() && !s.text.is_empty())
    );
}

#[test]
fn atlas_example_reads_transcripts_and_reports_what_it_drops() {
    let (p, report) = read_sample("atlasti-8.4_spec-annex-example.qde");
    // A bare .qde whose texts are in a zip it does not have: the sources stay, with empty text,
    // and their 6 selections cannot be placed.
    assert_eq!(counts(&p), (14, 6, 0, 0));
    assert_eq!(report.unplaced.len(), 6, "{:?}", report.unplaced);
    assert!(
        report
            .unplaced
            .iter()
            .all(|u| u.why.contains("could not be read"))
    );
    assert_eq!(p.media_sources.len(), 3);
    let transcripts: Vec<&Transcript> = p
        .media_sources
        .iter()
        .flat_map(|m| &m.transcripts)
        .collect();
    assert_eq!(transcripts.len(), 3);
    // Without their texts only the sync points at position 0 can be placed.
    assert_eq!(
        transcripts
            .iter()
            .map(|t| t.sync_points.len())
            .sum::<usize>(),
        3
    );
    assert_eq!(dropped(&report, "SyncPoint"), 10);
    let video = p
        .media_sources
        .iter()
        .find(|m| m.name.as_deref() == Some("1994 Diet Coke-Diet Coke Break.mp4"))
        .expect("video");
    assert_eq!(video.kind, MediaKind::Video);
    assert_eq!(
        (video.selections[1].begin_ms, video.selections[1].end_ms),
        (14706, 17706)
    );
    assert_eq!(dropped(&report, "PDFSource"), 2);
    assert_eq!(dropped(&report, "PictureSource"), 1);
    assert_eq!(dropped(&report, "Link"), 1);
    assert_eq!(dropped(&report, "Graph"), 1);
    assert_eq!(p.notes.len(), 2);
    assert_eq!(
        p.notes[0].text,
        "This is a great project by a dynamic team of researcher-developers. "
    );
    assert_eq!(p.sets.len(), 16);
    assert_eq!(
        p.sets
            .iter()
            .find(|s| s.name == "<3")
            .map(|s| s.member_codes.len()),
        Some(0)
    );
    // Set members that were PDF or picture sources are gone, and said so.
    assert!(
        p.sets
            .iter()
            .find(|s| s.name == "PDFs")
            .is_some_and(|s| s.member_sources.is_empty())
    );
    assert!(dropped(&report, "reference") >= 3);
}

#[test]
fn atlas_example_with_its_texts_places_quote_and_sync_points() {
    // The annex example without its zip: give it the one text two of its objects share
    // (TextSource "1994 Diet Coke…" and the video's transcript), CRLF-free, quote at 139–195.
    let quote = "Oh, that was great. See you tomorrow? Eleven thirty. Mm.";
    let filler = |n: usize| "la ".repeat(n / 3 + 1).chars().take(n).collect::<String>();
    let text = format!("{}{quote}{}", filler(139), filler(30));
    let zip = zip_of(&[
        ("project.qde", &sample("atlasti-8.4_spec-annex-example.qde")),
        (
            "sources/230B768E-5A3D-42B7-BE92-2A3721177944.txt",
            text.as_bytes(),
        ),
    ]);
    let (p, report) = open_zip(&zip, Limits::default()).expect("read");
    assert_eq!(report.unit, Some(PositionUnit::CodePoints));
    let source = p
        .text_sources
        .iter()
        .find(|s| s.guid == "57C6099B-934F-4C86-90F2-CC6C2F2A3CC3")
        .expect("source");
    assert_eq!(
        (source.selections[0].start, source.selections[0].end),
        (139, 195)
    );
    assert_eq!(source.selections[0].name.as_deref(), Some(quote));
    let diet = p
        .media_sources
        .iter()
        .flat_map(|m| &m.transcripts)
        .find(|t| t.guid == "81F25050-2768-4160-A403-85E07B4B1093")
        .expect("transcript");
    assert_eq!(diet.sync_points.len(), 11);
    assert_eq!(
        (diet.sync_points[1].time_ms, diet.sync_points[1].position),
        (2260, 20)
    );
    assert_eq!(
        (diet.sync_points[10].time_ms, diet.sync_points[10].position),
        (40348, 192)
    );
    assert_eq!(
        report.unplaced.len(),
        5,
        "the other five texts are still missing"
    );
}

#[test]
fn codebooks_read() {
    let (book, report) =
        read_codebook("qualcoder.qdc", &sample("qualcoder-3.8.2_codebook.qdc")).expect("qualcoder");
    assert_eq!(count_codes(&book.codes), 38);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let all: Vec<&Code> = read::all_codes(&book.codes).collect();
    assert!(all.iter().any(|c| !c.is_codable));
    assert!(
        all.iter()
            .any(|c| c.description.as_deref().is_some_and(|d| d.contains('\n')))
    );

    let (book, report) =
        read_codebook("taguette.qdc", &sample("taguette-1.4.1_codebook.qdc")).expect("taguette");
    assert_eq!(count_codes(&book.codes), 3);
    assert!(book.sets.is_empty());
    assert!(warned(&report, "empty <Sets/>"), "{:?}", report.warnings);
}

#[test]
fn every_sample_rewrites_to_valid_xml() {
    for name in PROJECT_SAMPLES {
        let (p, _) = read_sample(name);
        let xml = write_project(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        validate(&xml, "Project.xsd");
        let zip = write_qdpx(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (again, report) =
            read_project("again.qdpx", &zip, &ReadOptions::default()).expect("re-read");
        assert!(report.unplaced.is_empty(), "{name}: {:?}", report.unplaced);
        assert_eq!(counts(&again), counts(&p), "{name}");
        for (a, b) in again.text_sources.iter().zip(&p.text_sources) {
            assert_eq!(a.text, b.text);
            assert_eq!(a.selections, b.selections, "{name}: positions survive");
        }
    }
    for name in [
        "qualcoder-3.8.2_codebook.qdc",
        "taguette-1.4.1_codebook.qdc",
    ] {
        let (book, _) = read_codebook(name, &sample(name)).expect("codebook");
        let xml = try_write_codebook(&book).expect("write");
        validate(&xml, "Codebook.xsd");
        assert_eq!(write_codebook(&book), xml);
        let (again, _) = read_codebook(name, xml.as_bytes()).expect("re-read");
        let lower = |mut b: Codebook| {
            fn lower_codes(codes: &mut [Code]) {
                for c in codes {
                    c.guid = normalize_guid(&c.guid);
                    lower_codes(&mut c.children);
                }
            }
            lower_codes(&mut b.codes);
            b
        };
        assert_eq!(
            again,
            lower(book),
            "the same codebook, GUIDs now lower case"
        );
    }
}

// ---------------------------------------------------------------- writing

const U1: &str = "0b3f6d8e-1111-4a2b-8c3d-000000000001";

fn g(n: u32) -> String {
    format!("5a1e0000-0000-4000-8000-{n:012x}")
}

/// A project using every element this crate writes.
fn synthetic() -> Project {
    let text = "Zoë said: \"I'm 😀 fine\" & <ok>\r\nSecond line\twith tab 🎉 end.\r\n".to_string();
    let start = text.chars().position(|c| c == '😀').expect("emoji");
    let code = |n: u32, name: &str, children: Vec<Code>| Code {
        guid: g(n),
        name: name.into(),
        is_codable: n != 1,
        color: (n == 2).then(|| "#A1B2C3".to_string()),
        description: (n == 2).then(|| "multi\nline <desc> & \"quotes\"".to_string()),
        note_refs: if n == 3 { vec![g(90)] } else { vec![] },
        children,
    };
    let coding = |n: u32, code: u32| Coding {
        guid: g(n),
        code: g(code),
        creating_user: Some(U1.into()),
        creation_date_time: Some("2025-01-02T03:04:05Z".into()),
        note_refs: vec![],
    };
    let transcript_text = "A: hello\nB: hi 😀 there\n".to_string();
    Project {
        name: "Synthetic \"project\"".into(),
        origin: Some("between test".into()),
        creating_user: Some(U1.into()),
        creation_date_time: Some("2025-01-01T00:00:00Z".into()),
        modifying_user: Some(U1.into()),
        modified_date_time: Some("2025-01-02T00:00:00Z".into()),
        base_path: Some("/tmp".into()),
        users: vec![
            User {
                guid: U1.into(),
                name: Some("Ana".into()),
                id: Some("AN".into()),
            },
            User {
                guid: g(101),
                name: None,
                id: None,
            },
        ],
        codes: vec![
            code(
                1,
                "Folder",
                vec![code(2, "Child", vec![code(3, "Grandchild", vec![])])],
            ),
            code(4, "Top", vec![]),
        ],
        variables: vec![
            Variable {
                guid: g(10),
                name: "text".into(),
                kind: VariableType::Text,
                description: Some("a text".into()),
            },
            Variable {
                guid: g(11),
                name: "bool".into(),
                kind: VariableType::Boolean,
                description: None,
            },
            Variable {
                guid: g(12),
                name: "int".into(),
                kind: VariableType::Integer,
                description: None,
            },
            Variable {
                guid: g(13),
                name: "float".into(),
                kind: VariableType::Float,
                description: None,
            },
            Variable {
                guid: g(14),
                name: "date".into(),
                kind: VariableType::Date,
                description: None,
            },
            Variable {
                guid: g(15),
                name: "datetime".into(),
                kind: VariableType::DateTime,
                description: None,
            },
        ],
        cases: vec![Case {
            guid: g(20),
            name: Some("Case A".into()),
            description: Some("first case".into()),
            code_refs: vec![g(4)],
            values: vec![
                VariableValue {
                    variable: g(10),
                    value: Value::Text("x < y".into()),
                },
                VariableValue {
                    variable: g(11),
                    value: Value::Boolean(true),
                },
                VariableValue {
                    variable: g(12),
                    value: Value::Integer(-42),
                },
                VariableValue {
                    variable: g(13),
                    value: Value::Float(3.25),
                },
                VariableValue {
                    variable: g(14),
                    value: Value::Date("2025-03-12".into()),
                },
                VariableValue {
                    variable: g(15),
                    value: Value::DateTime("2025-03-12T10:00:00Z".into()),
                },
            ],
            source_refs: vec![g(30)],
            selection_refs: vec![g(31)],
        }],
        text_sources: vec![TextSource {
            guid: g(30),
            name: Some("Interview 1".into()),
            plain_text_path: Some(format!("internal://{}.txt", g(30))),
            description: Some("an interview".into()),
            creating_user: Some(U1.into()),
            creation_date_time: Some("2025-01-01T00:00:00Z".into()),
            modifying_user: Some(U1.into()),
            modified_date_time: Some("2025-01-01T00:00:00Z".into()),
            selections: vec![
                Selection {
                    guid: g(31),
                    name: Some("😀 fine".into()),
                    start,
                    end: start + 6,
                    creating_user: Some(U1.into()),
                    creation_date_time: Some("2025-01-01T00:00:00Z".into()),
                    modifying_user: Some(U1.into()),
                    modified_date_time: Some("2025-01-01T00:00:00Z".into()),
                    description: Some("a comment".into()),
                    codings: vec![coding(32, 2), coding(33, 4)],
                    note_refs: vec![g(90)],
                },
                Selection {
                    guid: g(34),
                    name: Some("line\r\nSecond".into()),
                    start: text
                        .find("<ok>")
                        .map(|b| text[..b].chars().count() + 5)
                        .expect("ok"),
                    end: text.chars().count() - 2,
                    codings: vec![Coding {
                        note_refs: vec![g(90)],
                        ..coding(35, 3)
                    }],
                    ..Selection::default()
                },
            ],
            codings: vec![coding(36, 4)],
            note_refs: vec![g(90)],
            values: vec![VariableValue {
                variable: g(12),
                value: Value::Integer(7),
            }],
            text,
        }],
        media_sources: vec![MediaSource {
            kind: MediaKind::Audio,
            guid: g(40),
            name: Some("Recording".into()),
            path: Some("relative:///rec.m4a".into()),
            current_path: Some("/home/ana/rec.m4a".into()),
            description: Some("the recording".into()),
            transcripts: vec![Transcript {
                guid: g(41),
                name: Some("Transcript".into()),
                plain_text_path: Some(format!("internal://{}.txt", g(41))),
                sync_points: vec![
                    SyncPoint {
                        guid: g(42),
                        time_ms: 0,
                        position: 0,
                    },
                    SyncPoint {
                        guid: g(43),
                        time_ms: 1500,
                        position: 9,
                    },
                    SyncPoint {
                        guid: g(44),
                        time_ms: 4000,
                        position: transcript_text.chars().count(),
                    },
                ],
                selections: vec![Selection {
                    guid: g(45),
                    name: Some("B".into()),
                    start: 9,
                    end: transcript_text.chars().count(),
                    codings: vec![coding(46, 3)],
                    ..Selection::default()
                }],
                text: transcript_text,
            }],
            selections: vec![MediaSelection {
                guid: g(47),
                name: Some("0:01–0:04".into()),
                begin_ms: 1000,
                end_ms: 4000,
                codings: vec![coding(48, 4)],
                note_refs: vec![g(90)],
            }],
            codings: vec![coding(49, 4)],
            note_refs: vec![g(90)],
            values: vec![VariableValue {
                variable: g(11),
                value: Value::Boolean(false),
            }],
        }],
        notes: vec![Note {
            guid: g(90),
            name: Some("Memo".into()),
            text: "A memo\r\nwith 😀 and CRLF".into(),
            creating_user: Some(U1.into()),
            creation_date_time: Some("2025-01-01T00:00:00Z".into()),
            modifying_user: None,
            modified_date_time: None,
            description: Some("memo description".into()),
        }],
        sets: vec![
            Set {
                guid: g(50),
                name: "Set".into(),
                description: Some("a set".into()),
                member_codes: vec![g(2)],
                member_sources: vec![g(30), g(40)],
                member_notes: vec![g(90)],
            },
            Set {
                guid: g(51),
                name: "Empty set".into(),
                ..Set::default()
            },
        ],
        description: Some("project description".into()),
        note_refs: vec![g(90)],
    }
}

#[test]
fn synthetic_project_is_valid_and_round_trips() {
    let project = synthetic();
    let xml = write_project(&project).expect("write");
    validate(&xml, "Project.xsd");
    assert!(xml.contains("xmlns=\"urn:QDA-XML:project:1.0\"") && !xml.contains("<Sets/>"));

    // Inline texts: no paths come back.
    let (back, report) =
        read_project("p.qde", xml.as_bytes(), &ReadOptions::default()).expect("read .qde");
    assert!(report.unplaced.is_empty(), "{report:#?}");
    assert_eq!(
        report.unit,
        Some(PositionUnit::CodePoints),
        "{:?}",
        report.warnings
    );
    let mut expected = project.clone();
    expected.text_sources[0].plain_text_path = None;
    expected.media_sources[0].transcripts[0].plain_text_path = None;
    assert_eq!(back, expected);

    // The archive: texts in sources/, paths internal://.
    let zip = write_qdpx(&project).expect("write qdpx");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.clone())).expect("zip");
    let qde = {
        let mut entry = archive.by_name("project.qde").expect("project.qde");
        let mut s = String::new();
        std::io::Read::read_to_string(&mut entry, &mut s).expect("utf-8");
        s
    };
    validate(&qde, "Project.xsd");
    assert!(
        !qde.contains("<PlainTextContent>A:")
            && qde.contains(&format!("plainTextPath=\"internal://{}.txt\"", g(30)))
    );
    let mut text = Vec::new();
    std::io::Read::read_to_end(
        &mut archive
            .by_name(&format!("sources/{}.txt", g(30)))
            .expect("text"),
        &mut text,
    )
    .expect("read");
    assert_eq!(
        text,
        project.text_sources[0].text.as_bytes(),
        "UTF-8 without BOM, CRLF kept"
    );
    let (back, report) = read_project("p.qdpx", &zip, &ReadOptions::default()).expect("read .qdpx");
    assert!(
        report
            .warnings
            .iter()
            .all(|w| w.starts_with("text positions read as")),
        "{:?}",
        report.warnings
    );
    assert_eq!(back, project);
}

#[test]
fn writer_normalises_and_refuses() {
    let mut p = synthetic();
    p.users[0].guid = format!("{{{}}}", U1.to_uppercase());
    p.codes[0].color = Some("#abcdef".into());
    let xml = write_project(&p).expect("write");
    assert!(
        xml.contains(&format!("guid=\"{U1}\"")),
        "lower case, no braces"
    );

    let refused = |change: &dyn Fn(&mut Project), needle: &str| {
        let mut bad = synthetic();
        change(&mut bad);
        let err = write_project(&bad).expect_err(needle);
        assert!(
            matches!(err, RefiError::Write { .. }) && err.to_string().contains(needle),
            "{err}"
        );
    };
    refused(&|p| p.notes[0].text = "bell \u{7}".into(), "U+0007");
    refused(&|p| p.notes[0].text = "bell \u{7}".into(), &g(90));
    refused(&|p| p.codes[1].color = Some("red".into()), "not #RRGGBB");
    refused(
        &|p| p.text_sources[0].selections[0].end = 10_000,
        "not a span",
    );
    refused(
        &|p| p.media_sources[0].transcripts[0].selections[0].start = 3,
        "no sync point at 3",
    );
    refused(&|p| p.cases[0].guid = "not-a-guid".into(), "not a GUID");
    refused(
        &|p| p.cases[0].values[3].value = Value::Float(f64::NAN),
        "not a decimal",
    );
}

#[test]
fn codebook_writes_valid_and_round_trips() {
    let p = synthetic();
    let book = Codebook {
        origin: Some("between".into()),
        codes: p.codes.iter().cloned().map(strip_notes).collect(),
        sets: vec![Set {
            guid: g(60),
            name: "codes".into(),
            description: Some("d".into()),
            member_codes: vec![g(2), g(4)],
            ..Set::default()
        }],
    };
    let xml = try_write_codebook(&book).expect("write");
    validate(&xml, "Codebook.xsd");
    assert!(xml.contains("<MemberCode guid="));
    let (back, report) = read_codebook("b.qdc", xml.as_bytes()).expect("read");
    assert!(report.warnings.is_empty());
    assert_eq!(back, book);

    let mut bad = book.clone();
    bad.codes[0].name = "x\u{1}y".into();
    assert!(try_write_codebook(&bad).is_err());
    let lenient = write_codebook(&bad);
    validate(&lenient, "Codebook.xsd");
    assert!(lenient.contains("name=\"xy\""));

    // Only U+FFFE and U+FFFF of the characters whose UTF-8 starts with 0xEF are refused.
    for refused in ["\u{FFFE}", "\u{FFFF}", "\u{0}", "\u{1F}"] {
        bad.codes[0].name = format!("a{refused}b");
        assert!(try_write_codebook(&bad).is_err(), "{refused:?} written");
    }
    let mut allowed = book.clone();
    allowed.codes[0].name = "\u{FFFD}\u{FEFF}\u{EFFF}\u{F900}é\t&\"<>\r\n".into();
    let xml = try_write_codebook(&allowed).expect("allowed characters");
    let (back, _) = read_codebook("b.qdc", xml.as_bytes()).expect("read");
    assert_eq!(back.codes[0].name, allowed.codes[0].name);
}

fn strip_notes(mut c: Code) -> Code {
    c.note_refs.clear();
    c.children = std::mem::take(&mut c.children)
        .into_iter()
        .map(strip_notes)
        .collect();
    c
}

#[test]
fn a_streamed_archive_reports_its_writers_and_its_documents_errors() {
    /// A file that fills up after its second field's bytes.
    #[derive(Debug)]
    struct Full(std::io::Cursor<Vec<u8>>, usize);
    impl std::io::Write for Full {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if self.0.get_ref().len() + bytes.len() > self.1 {
                return Err(std::io::Error::other("the disk is full"));
            }
            self.0.write(bytes)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl std::io::Seek for Full {
        fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
            self.0.seek(to)
        }
    }
    struct NoSources;
    impl SourceFeed for NoSources {
        fn any(&mut self) -> Result<bool, RefiError> {
            Ok(false)
        }
        fn sources(
            &mut self,
            _: &mut dyn FnMut(SourceItem<'_>) -> Result<(), RefiError>,
        ) -> Result<(), RefiError> {
            Ok(())
        }
        fn texts(
            &mut self,
            _: &mut dyn FnMut(&str, &str) -> Result<(), RefiError>,
        ) -> Result<(), RefiError> {
            Ok(())
        }
    }
    let p = synthetic();
    let full = Full(std::io::Cursor::new(Vec::new()), 100);
    let err = write_qdpx_to(&p, &mut NoSources, full).unwrap_err();
    assert!(err.to_string().contains("the disk is full"), "{err}");

    let mut bad = p.clone();
    bad.text_sources[0].name = Some("a\u{1}b".into());
    let err = write_qdpx(&bad).unwrap_err();
    assert!(err.to_string().contains("TextSource"), "{err}");
}

#[test]
fn namespaces_are_resolved_in_their_scope() {
    let xml = r#"<q:A xmlns:q="urn:a" xmlns="urn:d"><B/><q:C xmlns:q="urn:c"><q:D/></q:C><q:E/><F xmlns=""><G/></F><H/></q:A>"#;
    let root = xml::parse("t.xml", xml).expect("parse");
    let ns = |e: &xml::Element| e.ns.as_deref().map(String::from);
    let mut found = vec![(root.name.to_string(), ns(&root))];
    fn walk(e: &xml::Element, found: &mut Vec<(String, Option<String>)>) {
        for c in &e.children {
            found.push((c.name.to_string(), c.ns.as_deref().map(String::from)));
            walk(c, found);
        }
    }
    walk(&root, &mut found);
    let expected = [
        ("A", Some("urn:a")),
        ("B", Some("urn:d")),
        ("C", Some("urn:c")),
        ("D", Some("urn:c")),
        ("E", Some("urn:a")),
        ("F", None),
        ("G", None),
        ("H", Some("urn:d")),
    ];
    let expected: Vec<(String, Option<String>)> = expected
        .iter()
        .map(|(n, u)| (n.to_string(), u.map(String::from)))
        .collect();
    assert_eq!(found, expected);
    assert!(root.attrs.is_empty(), "declarations are not attributes");
    let err = xml::parse("t.xml", "<A><q:B/></A>").unwrap_err();
    assert!(
        err.to_string().contains("undeclared namespace prefix"),
        "{err}"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Any text (astral emoji, CRLF, markup characters) with any selection survives
        /// `write_qdpx` → `read_project` and `write_project` → `read_project` exactly.
        #[test]
        fn texts_and_positions_survive(
            parts in proptest::collection::vec(prop_oneof![
                Just("😀".to_string()), Just("\r\n".to_string()), Just("é".to_string()),
                Just("&<>\"'".to_string()), Just(" ".to_string()), Just("\t".to_string()), "[a-zA-Z]{1,6}",
            ], 1..40),
            a in 0usize..1000, b in 0usize..1000,
        ) {
            let text: String = parts.concat();
            let n = text.chars().count();
            let (s, e) = (a % n, b % n);
            let (start, end) = (s.min(e), s.max(e) + 1);
            let mut project = synthetic();
            let source = &mut project.text_sources[0];
            source.selections.truncate(1);
            source.selections[0].start = start;
            source.selections[0].end = end;
            source.selections[0].name = Some(text.chars().skip(start).take(end - start).collect());
            source.text = text.clone();
            project.notes[0].text = text;
            let zip = write_qdpx(&project).expect("write");
            let (back, report) = read_project("p.qdpx", &zip, &ReadOptions { unit: PositionUnit::CodePoints, ..ReadOptions::default() }).expect("read");
            prop_assert!(report.unplaced.is_empty());
            prop_assert_eq!(&back, &project);
            let xml = write_project(&project).expect("write");
            let (back, _) = read_project("p.qde", xml.as_bytes(), &ReadOptions { unit: PositionUnit::CodePoints, ..ReadOptions::default() }).expect("read");
            prop_assert_eq!(&back.text_sources[0].text, &project.text_sources[0].text);
            prop_assert_eq!(&back.text_sources[0].selections, &project.text_sources[0].selections);
            prop_assert_eq!(&back.notes, &project.notes);
        }
    }
}

// ---------------------------------------------------------------- reading edge cases

const MINI: &str = r##"<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1:0" name="mini" origin="NVivo for Windows 12.6">
  <CodeBook><Codes>
    <Code guid="{AAAAAAAA-0000-4000-8000-000000000001}" name="c" isCodable="1" color="#f0a"/>
    <Code guid="aaaaaaaa-0000-4000-8000-000000000002" name="d" isCodable="0" color="blue"/>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="aaaaaaaa-0000-4000-8000-000000000010" name="t">
      <PlainTextContent>ab😀cd efg</PlainTextContent>
      <PlainTextSelection guid="aaaaaaaa-0000-4000-8000-000000000011" name="cd" startPosition="4" endPosition="6">
        <Coding guid="aaaaaaaa-0000-4000-8000-000000000012"><CodeRef targetGUID="AAAAAAAA-0000-4000-8000-000000000001"/></Coding>
        <NoteRef targetGUID="aaaaaaaa-0000-4000-8000-0000000000ff"/>
      </PlainTextSelection>
      <PlainTextSelection guid="aaaaaaaa-0000-4000-8000-000000000013" startPosition="3" endPosition="6"/>
      <PlainTextSelection guid="aaaaaaaa-0000-4000-8000-000000000014" startPosition="6" endPosition="40"/>
      <PlainTextSelection guid="aaaaaaaa-0000-4000-8000-000000000015" startPosition="7" endPosition="6"/>
      <PlainTextSelection guid="aaaaaaaa-0000-4000-8000-000000000016" startPosition="7" endPosition="7"/>
    </TextSource>
  </Sources>
</Project>"##;

#[test]
fn lenient_reading_and_unplaceable_selections() {
    let (p, report) =
        read_project("mini.qde", MINI.as_bytes(), &ReadOptions::default()).expect("read");
    assert_eq!(
        p.codes[0].guid, "AAAAAAAA-0000-4000-8000-000000000001",
        "braces stripped, case kept"
    );
    assert!(p.codes[0].is_codable && !p.codes[1].is_codable);
    assert_eq!(p.codes[0].color.as_deref(), Some("#ff00aa"));
    assert_eq!(p.codes[1].color, None);
    assert!(warned(&report, "\"blue\""));
    assert!(warned(&report, "namespace urn:QDA-XML:project:1:0"));
    assert_eq!(report.unit, Some(PositionUnit::Utf16));
    let s = &p.text_sources[0];
    assert_eq!(s.selections.len(), 1);
    assert_eq!(
        (s.selections[0].start, s.selections[0].end),
        (3, 5),
        "UTF-16 4..6 = code points 3..5 (\"cd\")"
    );
    assert!(
        s.selections[0].note_refs.is_empty(),
        "dangling NoteRef left out"
    );
    assert!(warned(&report, "NoteRef"));
    let why: Vec<(&str, &str)> = report
        .unplaced
        .iter()
        .map(|u| (&u.selection[34..], u.why.as_str()))
        .collect();
    assert_eq!(why.len(), 3, "{why:?}");
    assert!(why[0].1.contains("surrogate"), "{why:?}");
    assert!(why[1].1.contains("past the end"), "{why:?}");
    assert!(why[2].1.contains("before the start"), "{why:?}");
    assert_eq!(report.unplaced[0].source, "t");
    assert_eq!(
        (report.unplaced[1].start, report.unplaced[1].end),
        (Some(6), Some(40))
    );
    assert!(warned(&report, "is empty"));

    // Read as code points, the selection 4..6 is "cd" too? No: "😀c" is 2..4, so 4..6 is "d ".
    let options = ReadOptions {
        unit: PositionUnit::CodePoints,
        ..ReadOptions::default()
    };
    let (p, report) = read_project("mini.qde", MINI.as_bytes(), &options).expect("read");
    assert_eq!(report.unit, Some(PositionUnit::CodePoints));
    assert_eq!(p.text_sources[0].selections.len(), 2);
}

#[test]
fn no_namespace_and_bom_are_accepted() {
    let xml = MINI.replace(" xmlns=\"urn:QDA-XML:project:1:0\"", "");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(xml.replace('\n', "\r\n").as_bytes());
    let (p, report) = read_project("mini.qde", &bytes, &ReadOptions::default()).expect("read");
    assert_eq!(p.codes.len(), 2);
    assert!(warned(&report, "no namespace"));
    let other = MINI.replace("urn:QDA-XML:project:1:0", "urn:example");
    assert!(matches!(
        read_project("x.qde", other.as_bytes(), &ReadOptions::default()),
        Err(RefiError::WrongRoot { .. })
    ));
}

#[test]
fn bad_xml_is_refused_with_its_place() {
    let doctype = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n{}",
        MINI.lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n")
            .replace("name=\"t\"", "name=\"&e;\"")
    );
    match read_project("evil.qde", doctype.as_bytes(), &ReadOptions::default()) {
        Err(e @ RefiError::Doctype { line: 2, .. }) => {
            assert!(e.to_string().contains("DOCTYPE/entities are not allowed"))
        }
        other => panic!("{other:?}"),
    }
    let entity = MINI.replace("name=\"cd\"", "name=\"&e;\"");
    assert!(matches!(
        read_project("e.qde", entity.as_bytes(), &ReadOptions::default()),
        Err(RefiError::Xml { .. })
    ));

    let truncated = &MINI[..MINI.len() / 2];
    match read_project("cut.qde", truncated.as_bytes(), &ReadOptions::default()) {
        Err(RefiError::Xml { line, .. }) => assert!(line > 1),
        other => panic!("{other:?}"),
    }
    let mismatched = MINI.replace("</Sources>", "</Source>");
    match read_project("m.qde", mismatched.as_bytes(), &ReadOptions::default()) {
        Err(RefiError::Xml { line, .. }) => assert_eq!(line, 19),
        other => panic!("{other:?}"),
    }
}

#[test]
fn duplicate_guids_and_unknown_codes_are_refused() {
    let dup = MINI.replace(
        "aaaaaaaa-0000-4000-8000-000000000013",
        "AAAAAAAA-0000-4000-8000-000000000010",
    );
    match read_project("d.qde", dup.as_bytes(), &ReadOptions::default()) {
        Err(e @ RefiError::DuplicateGuid { .. }) => {
            let s = e.to_string();
            assert!(
                s.contains("<TextSource> (line 8)") && s.contains("<PlainTextSelection> (line 14)"),
                "{s}"
            );
        }
        other => panic!("{other:?}"),
    }
    let unknown = MINI.replace(
        "targetGUID=\"AAAAAAAA-0000-4000-8000-000000000001\"",
        "targetGUID=\"aaaaaaaa-0000-4000-8000-0000000000ee\"",
    );
    match read_project("u.qde", unknown.as_bytes(), &ReadOptions::default()) {
        Err(e @ RefiError::UnknownCode { line: 11, .. }) => {
            assert!(e.to_string().contains("0000000000ee"))
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------- the streaming reader

/// A project whose parts come in another order than the XSD's (notes and sets first, the
/// codebook after the sources), with elements between does not know at every level.
const SHUFFLED: &str = r##"<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="shuffled">
  <Notes>
    <Note guid="bbbbbbbb-0000-4000-8000-000000000030" name="n"><PlainTextContent>a note</PlainTextContent></Note>
  </Notes>
  <Extra one="1"><Inner/></Extra>
  <Sources>
    <TextSource guid="bbbbbbbb-0000-4000-8000-000000000010" name="t">
      <PlainTextSelection guid="bbbbbbbb-0000-4000-8000-000000000011" startPosition="0" endPosition="5">
        <Coding guid="bbbbbbbb-0000-4000-8000-000000000012" creatingUser="{bbbbbbbb-0000-4000-8000-000000000040}">
          <Weight>3</Weight>
          <CodeRef targetGUID="{BBBBBBBB-0000-4000-8000-000000000001}"/>
          <NoteRef targetGUID="bbbbbbbb-0000-4000-8000-000000000030"/>
        </Coding>
        <Description>first</Description>
        <Description>second</Description>
        <Colour>red</Colour>
      </PlainTextSelection>
      <Coding guid="bbbbbbbb-0000-4000-8000-000000000013"><CodeRef targetGUID="bbbbbbbb-0000-4000-8000-000000000002"/></Coding>
      <Margin/>
      <PlainTextContent>Hello world, &amp; <![CDATA[<more>]]></PlainTextContent>
      <Description>the source</Description>
      <PlainTextSelection guid="bbbbbbbb-0000-4000-8000-000000000014" startPosition="6" endPosition="11"/>
    </TextSource>
    <PDFSource guid="bbbbbbbb-0000-4000-8000-000000000020">
      <PDFSelection guid="bbbbbbbb-0000-4000-8000-000000000021">
        <Coding guid="bbbbbbbb-0000-4000-8000-000000000022"><CodeRef targetGUID="bbbbbbbb-0000-4000-8000-000000000001"/></Coding>
        <Coding guid="bbbbbbbb-0000-4000-8000-000000000023"><CodeRef targetGUID="bbbbbbbb-0000-4000-8000-000000000001"/></Coding>
      </PDFSelection>
    </PDFSource>
  </Sources>
  <CodeBook><Codes>
    <Code guid="bbbbbbbb-0000-4000-8000-000000000001" name="c" isCodable="true"/>
    <Code guid="bbbbbbbb-0000-4000-8000-000000000002" name="d" isCodable="true"/>
  </Codes></CodeBook>
  <Description>the project</Description>
  <NoteRef targetGUID="bbbbbbbb-0000-4000-8000-000000000030"/>
</Project>"##;

#[test]
fn parts_in_any_order_are_read() {
    let (p, report) =
        read_project("s.qde", SHUFFLED.as_bytes(), &ReadOptions::default()).expect("read");
    assert_eq!(count_codes(&p.codes), 2);
    assert_eq!(p.notes.len(), 1);
    assert_eq!(p.description.as_deref(), Some("the project"));
    assert_eq!(p.note_refs, ["bbbbbbbb-0000-4000-8000-000000000030"]);
    let s = &p.text_sources[0];
    assert_eq!(
        s.text, "Hello world, & <more>",
        "text, entity and CDATA joined"
    );
    assert_eq!(s.description.as_deref(), Some("the source"));
    assert_eq!(s.codings.len(), 1);
    assert_eq!(s.codings[0].code, "bbbbbbbb-0000-4000-8000-000000000002");
    let texts: Vec<&str> = s
        .selections
        .iter()
        .map(|x| &s.text[x.start..x.end])
        .collect();
    assert_eq!(texts, ["Hello", "world"]);
    let first = &s.selections[0];
    assert_eq!(
        first.description.as_deref(),
        Some("first"),
        "the first description"
    );
    assert_eq!(first.codings.len(), 1);
    let coding = &first.codings[0];
    assert_eq!(
        coding.code, "BBBBBBBB-0000-4000-8000-000000000001",
        "braces stripped"
    );
    assert_eq!(
        coding.creating_user.as_deref(),
        Some("bbbbbbbb-0000-4000-8000-000000000040")
    );
    assert_eq!(coding.note_refs, ["bbbbbbbb-0000-4000-8000-000000000030"]);
    // What between does not read is counted where it was, once each, never silently lost.
    for (what, n) in [
        ("Extra", 1),
        ("Inner", 0),
        ("Weight", 1),
        ("Colour", 1),
        ("Margin", 1),
        ("PDFSource", 1),
        ("Coding", 2),
    ] {
        assert_eq!(dropped(&report, what), n, "{what}: {:?}", report.dropped);
    }
    assert!(
        report
            .dropped
            .iter()
            .any(|(w, _, why)| w == "Weight" && why.contains("<Coding>"))
    );
    assert!(
        report
            .dropped
            .iter()
            .any(|(w, _, why)| w == "Margin" && why.contains("<TextSource>"))
    );
    assert!(
        report
            .dropped
            .iter()
            .any(|(w, _, why)| w == "Extra" && why.contains("<Project>"))
    );
}

#[test]
fn a_coding_of_no_code_is_refused_wherever_the_codebook_is() {
    // Codebook after the sources: the first unknown code in document order is named.
    let unknown = SHUFFLED
        .replace(
            "<CodeRef targetGUID=\"bbbbbbbb-0000-4000-8000-000000000002\"/>",
            "<CodeRef targetGUID=\"bbbbbbbb-0000-4000-8000-0000000000ee\"/>",
        )
        .replace(
            "<CodeRef targetGUID=\"{BBBBBBBB-0000-4000-8000-000000000001}\"/>",
            "<CodeRef targetGUID=\"bbbbbbbb-0000-4000-8000-0000000000dd\"/>",
        );
    match read_project("u.qde", unknown.as_bytes(), &ReadOptions::default()) {
        Err(RefiError::UnknownCode { line, code, .. }) => {
            assert_eq!(
                (line, code.as_str()),
                (10, "bbbbbbbb-0000-4000-8000-0000000000dd")
            );
        }
        other => panic!("{other:?}"),
    }
    // A coding without its CodeRef.
    let bare = SHUFFLED.replace(
        "<Coding guid=\"bbbbbbbb-0000-4000-8000-000000000013\"><CodeRef targetGUID=\"bbbbbbbb-0000-4000-8000-000000000002\"/></Coding>",
        "<Coding guid=\"bbbbbbbb-0000-4000-8000-000000000013\"/>",
    );
    match read_project("b.qde", bare.as_bytes(), &ReadOptions::default()) {
        Err(e @ RefiError::Missing { line: 19, .. }) => {
            assert!(
                e.to_string()
                    .contains("<Coding> lacks its required CodeRef"),
                "{e}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn errors_deep_in_the_sources_name_their_line_and_column() {
    let at = |xml: &str| match read_project("e.qde", xml.as_bytes(), &ReadOptions::default()) {
        Err(RefiError::Xml {
            line,
            column,
            message,
            ..
        }) => (line, column, message),
        other => panic!("{other:?}"),
    };
    // A mismatched end tag inside a coding.
    let (line, column, _) = at(&SHUFFLED.replace("<Weight>3</Weight>", "<Weight>3</Wait>"));
    assert_eq!((line, column), (11, 20), "at the end tag");
    // An undefined entity in a selection's attribute.
    let (line, _, message) =
        at(&SHUFFLED.replace("startPosition=\"6\"", "name=\"&nbsp;\" startPosition=\"6\""));
    assert_eq!(line, 23);
    assert!(message.contains("nbsp"), "{message}");
    // An undeclared prefix.
    let (line, column, message) = at(&SHUFFLED.replace("<Margin/>", "<x:Margin/>"));
    assert_eq!((line, column), (20, 7));
    assert!(message.contains("undeclared namespace prefix"), "{message}");
    // Cut off inside a selection.
    let cut = &SHUFFLED[..SHUFFLED.find("<Colour>").expect("there")];
    let (_, _, message) = at(cut);
    assert!(
        message.contains("ends before <PlainTextSelection> is closed"),
        "{message}"
    );
    // A second root.
    let (line, _, message) = at(&format!("{SHUFFLED}\n<Project/>"));
    assert_eq!(line, 39);
    assert!(message.contains("second root"), "{message}");
    // A GUID used twice, by a coding of the stream and a note read before it.
    let dup = SHUFFLED.replace(
        "Coding guid=\"bbbbbbbb-0000-4000-8000-000000000013\"",
        "Coding guid=\"{BBBBBBBB-0000-4000-8000-000000000030}\"",
    );
    match read_project("d.qde", dup.as_bytes(), &ReadOptions::default()) {
        Err(e @ RefiError::DuplicateGuid { .. }) => {
            let s = e.to_string();
            assert!(
                s.contains("<Note> (line 4)") && s.contains("<Coding> (line 19)"),
                "{s}"
            );
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------- malicious archives

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).expect("start");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("finish").into_inner()
}

fn open_zip(bytes: &[u8], limits: Limits) -> Result<(Project, Report), RefiError> {
    read_project(
        "evil.qdpx",
        bytes,
        &ReadOptions {
            limits,
            ..ReadOptions::default()
        },
    )
}

#[test]
fn unsafe_archives_are_refused() {
    let qde = MINI.as_bytes();
    for (name, why) in [
        ("../evil.txt", ".."),
        ("/abs.txt", "absolute"),
        ("sources\\..\\x.txt", "backslash"),
    ] {
        let zip = zip_of(&[("project.qde", qde), (name, b"x")]);
        match open_zip(&zip, Limits::default()) {
            Err(RefiError::UnsafePath { entry, why: w }) => {
                assert_eq!(entry, name);
                assert!(w.contains(why), "{w}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }

    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("project.qde", options).expect("start");
    zip.write_all(qde).expect("write");
    zip.add_symlink("sources/link.txt", "/etc/passwd", options)
        .expect("symlink");
    let zip = zip.finish().expect("finish").into_inner();
    assert!(
        matches!(open_zip(&zip, Limits::default()), Err(RefiError::Symlink { entry }) if entry == "sources/link.txt")
    );

    let zeros = vec![0u8; 100 << 20];
    let bomb = zip_of(&[("project.qde", qde), ("sources/zeros.txt", &zeros)]);
    drop(zeros);
    assert!(bomb.len() < 1 << 20, "compressed small");
    assert!(
        matches!(open_zip(&bomb, Limits::default()), Err(RefiError::Ratio { ratio, .. }) if ratio > 200)
    );
    let lowered = Limits {
        max_total_uncompressed: 10 << 20,
        max_ratio: u64::MAX,
        ..Limits::default()
    };
    assert!(
        matches!(open_zip(&bomb, lowered), Err(RefiError::TooLarge { limit, .. }) if limit == 10 << 20)
    );

    let two = zip_of(&[("project.qde", qde), ("other.QDE", qde)]);
    assert!(matches!(
        open_zip(&two, Limits::default()),
        Err(RefiError::SeveralProjects { .. })
    ));
    let none = zip_of(&[("sources/project.qde", qde)]);
    assert!(matches!(
        open_zip(&none, Limits::default()),
        Err(RefiError::NoProject { .. })
    ));
    let many: Vec<(String, Vec<u8>)> = (0..20)
        .map(|i| (format!("sources/{i}.txt"), vec![]))
        .collect();
    let many: Vec<(&str, &[u8])> = many
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .chain([("p.qde", qde)])
        .collect();
    let limits = Limits {
        max_entries: 10,
        ..Limits::default()
    };
    assert!(matches!(
        open_zip(&zip_of(&many), limits),
        Err(RefiError::TooManyEntries {
            count: 21,
            limit: 10
        })
    ));
}

#[test]
fn archive_layouts_real_tools_write() {
    // Any .qde name, `Sources/` capitalised, a BOM on the text, a `.root` entry, a selection
    // beyond its text.
    let qde = r#"<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="ATLAS.ti 26"><Sources>
<TextSource guid="aaaaaaaa-0000-4000-8000-000000000010" plainTextPath="internal://AAAAAAAA-0000-4000-8000-000000000010.txt">
<PlainTextSelection guid="aaaaaaaa-0000-4000-8000-000000000011" startPosition="0" endPosition="5"/>
<PlainTextSelection guid="aaaaaaaa-0000-4000-8000-000000000012" startPosition="5" endPosition="99"/>
</TextSource></Sources></Project>"#;
    let zip = zip_of(&[
        ("Trial.qde", qde.as_bytes()),
        ("Sources/.root", b""),
        (
            "Sources/AAAAAAAA-0000-4000-8000-000000000010.txt",
            "\u{feff}hello world".as_bytes(),
        ),
    ]);
    let (p, report) = open_zip(&zip, Limits::default()).expect("read");
    assert_eq!(p.text_sources[0].text, "hello world");
    assert_eq!(p.text_sources[0].selections.len(), 1);
    let u = &report.unplaced[0];
    assert_eq!(
        (u.selection.as_str(), u.start, u.end),
        ("aaaaaaaa-0000-4000-8000-000000000012", Some(5), Some(99))
    );
    assert!(u.why.contains("past the end"), "{u}");
    assert_eq!(dropped(&report, "PlainTextSelection"), 1);
}

/// A sink that keeps what it is given, in order, and checks that order.
#[derive(Default)]
struct Recorder {
    whole: read::Collect,
    calls: Vec<&'static str>,
}

impl ProjectSink for Recorder {
    type Error = RefiError;

    fn head(&mut self, project: &Project, report: &mut Report) -> Result<(), RefiError> {
        assert!(
            self.calls.is_empty(),
            "the head comes first: {:?}",
            self.calls
        );
        self.calls.push("head");
        self.whole.head(project, report)
    }

    fn source(&mut self, source: ReadSource, report: &mut Report) -> Result<(), RefiError> {
        assert_eq!(self.calls.first(), Some(&"head"));
        self.calls.push("source");
        self.whole.source(source, report)
    }

    fn tail(&mut self, project: Project, report: &mut Report) -> Result<(), RefiError> {
        assert!(!self.calls.contains(&"tail"));
        self.calls.push("tail");
        self.whole.tail(project, report)
    }
}

fn read_streamed(
    name: &str,
    input: ProjectInput<'_>,
) -> Result<(Project, Report, usize), RefiError> {
    let mut sink = Recorder::default();
    let options = ReadOptions {
        streamed: true,
        ..ReadOptions::default()
    };
    let report = read_project_into(name, input, &options, &mut sink)?;
    assert_eq!(sink.calls.last(), Some(&"tail"));
    let sources = sink.calls.iter().filter(|c| **c == "source").count();
    Ok((sink.whole.into_project(), report, sources))
}

#[test]
fn a_streamed_read_from_a_file_gives_what_a_whole_read_gives() {
    for name in PROJECT_SAMPLES {
        let (whole, whole_report) = read_sample(name);
        let path = std::path::PathBuf::from(format!("{SAMPLES}{name}"));
        let (streamed, report, sources) = read_streamed(name, ProjectInput::File(&path))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(streamed, whole, "{name}");
        // The same report; a streamed read says things as it meets them.
        let sorted = |mut r: Report| {
            r.dropped.sort();
            r.warnings.sort();
            r
        };
        assert_eq!(sorted(report), sorted(whole_report), "{name}");
        assert_eq!(
            sources,
            whole.text_sources.len() + whole.media_sources.len(),
            "{name}"
        );
    }
    // Texts with characters outside the BMP wait for the unit to be decided; the rest go on.
    let astral = MINI.replace("</PlainTextContent>", " 😀</PlainTextContent>");
    let (whole, whole_report) =
        read_project("a.qde", astral.as_bytes(), &ReadOptions::default()).expect("whole");
    let (streamed, report, _) =
        read_streamed("a.qde", ProjectInput::Bytes(astral.as_bytes())).expect("streamed");
    assert_eq!(streamed, whole);
    assert_eq!(report.unit, whole_report.unit);
    assert_eq!(report.unplaced, whole_report.unplaced);
}

#[test]
fn a_project_out_of_order_cannot_be_streamed_and_says_so() {
    match read_streamed("s.qde", ProjectInput::Bytes(SHUFFLED.as_bytes())) {
        Err(e @ RefiError::NotStreamable { .. }) => {
            assert!(e.to_string().contains("comes after the sources"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // Read whole, it is read.
    read_project("s.qde", SHUFFLED.as_bytes(), &ReadOptions::default()).expect("whole");
}

#[test]
fn a_file_that_is_not_there_is_named() {
    let path = std::path::Path::new("/nonexistent/p.qdpx");
    match read_streamed("p.qdpx", ProjectInput::File(path)) {
        Err(e) => assert!(e.to_string().contains("/nonexistent/p.qdpx"), "{e}"),
        Ok(_) => panic!("read a file that is not there"),
    }
}

/// A `.qde` whose zip header claims it is small is stopped as soon as it is read past that:
/// what the header says gains nothing.
#[test]
fn a_project_document_larger_than_its_header_says_is_stopped_while_read() {
    let padding = " ".repeat(3 << 20);
    let qde = MINI.replacen("<Users>", &format!("<!--{padding}--><Users>"), 1);
    let mut zip = zip_of(&[("project.qde", qde.as_bytes())]);
    // Rewrite the declared uncompressed size (local header at 22, central directory at 24).
    let size = u32::try_from(qde.len()).unwrap().to_le_bytes();
    let small = 1000u32.to_le_bytes();
    let mut patched = 0;
    for at in 0..zip.len() - 4 {
        if zip[at..at + 4] == size {
            zip[at..at + 4].copy_from_slice(&small);
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "both headers give the size");
    let limits = Limits {
        max_total_uncompressed: 1 << 20,
        ..Limits::default()
    };
    match open_zip(&zip, limits) {
        Err(e @ RefiError::Entry { .. }) => {
            let message = e.to_string();
            assert!(message.contains("evil.qdpx: project.qde"), "{message}");
            assert!(message.contains("larger than its declared"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

/// A chain of `depth` codes, each the only child of the one before.
fn code_chain(depth: usize) -> Vec<Code> {
    let mut chain = Vec::new();
    for level in (1..=depth).rev() {
        chain = vec![Code {
            guid: format!("{level:08x}-0000-4000-8000-000000000000"),
            name: format!("L{level}"),
            is_codable: true,
            color: None,
            description: None,
            note_refs: Vec::new(),
            children: chain,
        }];
    }
    chain
}

/// On `main` a `.qde` of 100,000 nested codes aborted the reader (and writing or dropping a
/// deep hierarchy recursed as deep): elements nest at most [`MAX_XML_DEPTH`], and every walk
/// over codes is iterative.
#[test]
fn documents_nested_deeper_than_the_limit_are_refused_with_file_and_line() {
    let project = |inner: &str| {
        format!(
            "<?xml version=\"1.0\"?>\n<Project xmlns=\"urn:QDA-XML:project:1.0\" name=\"p\">\n{inner}</Project>"
        )
    };
    // Project, Description and 126 more: at the limit.
    let at_limit = project(&format!(
        "<Description>{}{}</Description>",
        "<x>".repeat(MAX_XML_DEPTH - 2),
        "</x>".repeat(MAX_XML_DEPTH - 2)
    ));
    read_project("ok.qde", at_limit.as_bytes(), &ReadOptions::default()).expect("at the limit");
    let deep = |name: &str, n: usize| {
        project(&format!(
            "<CodeBook><Codes>{}{}</Codes></CodeBook>",
            format!("<{name} guid=\"00000000-0000-4000-8000-000000000000\" name=\"a\">").repeat(n),
            format!("</{name}>").repeat(n)
        ))
    };
    for (name, n) in [("Code", 1_500), ("Code", 100_000), ("Anything", 100_000)] {
        let xml = deep(name, n);
        let err = read_project("deep.qde", xml.as_bytes(), &ReadOptions::default())
            .expect_err("too deep");
        assert_eq!(
            err,
            RefiError::TooDeep {
                file: "deep.qde".into(),
                line: 3,
                limit: MAX_XML_DEPTH
            }
        );
        assert_eq!(
            err.to_string(),
            "deep.qde line 3: elements nest more than 128 deep, the limit"
        );
    }
    let qdc = deep("Code", 100_000)
        .replace(
            "<Project xmlns=\"urn:QDA-XML:project:1.0\" name=\"p\">\n<CodeBook>",
            "<CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\">",
        )
        .replace("</CodeBook></Project>", "</CodeBook>");
    assert!(matches!(
        read_codebook("deep.qdc", qdc.as_bytes()),
        Err(RefiError::TooDeep { .. })
    ));
}

#[test]
fn deep_hierarchies_are_written_read_and_dropped_without_recursion() {
    // Written: 100,000 levels (a study made before its codes had a limit).
    let codes = code_chain(100_000);
    assert_eq!(
        Code::walk(&codes).map(|(depth, _)| depth).max(),
        Some(100_000)
    );
    let xml = write_codebook(&Codebook {
        origin: None,
        codes,
        sets: Vec::new(),
    });
    assert_eq!(xml.matches("<Code ").count(), 100_000);
    // Read: as deep as the XML limit lets codes go (CodeBook and Codes above them).
    let codes = code_chain(MAX_XML_DEPTH - 2);
    let xml = write_codebook(&Codebook {
        origin: None,
        codes: codes.clone(),
        sets: Vec::new(),
    });
    let (back, _) = read_codebook("ok.qdc", xml.as_bytes()).expect("read");
    assert_eq!(back.codes, codes);
    let walked: Vec<(usize, &str)> = Code::walk(&back.codes)
        .map(|(depth, c)| (depth, c.name.as_str()))
        .take(3)
        .collect();
    assert_eq!(walked, [(1, "L1"), (2, "L2"), (3, "L3")]);
}
