//! REFI-QDA through whole studies: the sample study round-trips object by object, exports
//! validate against the standard's XSDs, every real sample imports, and bad files leave a study
//! as it was.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use between_core::{Attribution, AttributionId, AttributionTarget, ParticipantId, Source, Span};
use between_refi::PositionUnit;
use between_store::OpenOptions;
use between_study::{NewStudy, StudyBundle, Workbench};

fn shared(rest: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rest)
}

fn sample(dir: &Path) -> Workbench {
    between_sample::materialise(&dir.join("sample.between"), &OpenOptions::default()).unwrap()
}

/// The sample study with a recording linked to C2's interview.
fn sample_with_recording(dir: &Path) -> Workbench {
    let mut study = sample(dir);
    let audio = dir.join("c2.wav");
    std::fs::write(&audio, b"RIFF....WAVEfmt ").unwrap();
    study.attach_media("c2-ruiz.txt", &audio).unwrap();
    study
}

fn empty(path: &Path) -> Workbench {
    Workbench::create(path, NewStudy::default(), &OpenOptions::default(), "t").unwrap()
}

/// Everything the two studies hold, with what differs by nature (versions) evened out.
fn comparable(mut b: StudyBundle) -> StudyBundle {
    b.codes.sort_by_key(|c| c.id);
    for c in &mut b.codes {
        c.version = 1;
    }
    b.participants.sort_by_key(|p| p.id);
    b.dyads.sort_by_key(|d| d.id);
    b.sources.sort_by_key(|s| s.id);
    for s in &mut b.sources {
        s.version = 1;
        s.speakers.sort_by(|a, b| a.label.cmp(&b.label));
    }
    b.codings.sort_by_key(|c| c.id);
    for c in &mut b.codings {
        c.version = 1;
    }
    b.memos.sort_by_key(|m| m.id);
    for m in &mut b.memos {
        m.version = 1;
    }
    b.cases.sort_by_key(|c| c.id);
    for c in &mut b.cases {
        c.version = 1;
    }
    b.attributions.sort_by_key(|a| a.id);
    b.name.clear();
    b
}

#[test]
fn the_sample_study_round_trips_object_by_object() {
    let dir = tempfile::tempdir().unwrap();
    let original = sample(dir.path());
    let (qdpx, report) = between_exchange::export_qdpx(&original).unwrap();
    assert!(report.dropped.is_empty(), "{report:?}");
    let (bundle, report) =
        between_exchange::read_project_file("sample.qdpx", &qdpx, PositionUnit::Auto).unwrap();
    assert!(report.dropped.is_empty(), "{report:?}");
    let new = NewStudy {
        name: bundle.name.clone(),
        description: bundle.description.clone(),
        theory: None,
    };
    let mut copy = Workbench::create(
        &dir.path().join("copy.between"),
        new,
        &OpenOptions::default(),
        "t",
    )
    .unwrap();
    let merged = copy.merge_bundle(bundle).unwrap();
    assert_eq!(merged.codings, 404);
    let (a, b) = (original.bundle().unwrap(), copy.bundle().unwrap());
    // Every coding quotes the same text.
    let quotes = |w: &Workbench| -> Vec<(String, String, String)> {
        let mut q: Vec<_> = w
            .codings(None, None, None)
            .unwrap()
            .into_iter()
            .map(|v| (v.coding.id.to_string(), v.code_path, v.quote))
            .collect();
        q.sort();
        q
    };
    assert_eq!(quotes(&original), quotes(&copy));
    let (a, b) = (comparable(a), comparable(b));
    assert_eq!(a.description, b.description);
    assert_eq!(a.participants, b.participants);
    assert_eq!(a.dyads, b.dyads);
    assert_eq!(a.codes, b.codes);
    for (x, y) in a.sources.iter().zip(&b.sources) {
        assert_eq!(x, y, "source {}", x.name);
    }
    assert_eq!(a.sources.len(), b.sources.len());
    for (x, y) in a.codings.iter().zip(&b.codings) {
        assert_eq!(x, y);
    }
    assert_eq!(a.memos, b.memos);
    assert_eq!(a.cases, b.cases);
    assert_eq!(a, b);
    // And again: the second export is the first, byte for byte.
    let (again, _) = between_exchange::export_qdpx(&copy).unwrap();
    assert!(again == qdpx, "a second round trip changed the export");
}

/// The streamed export (sources read one at a time, into a file) writes exactly the bytes of
/// the whole project written at once, with a recording, memos on passages and blind mode.
#[test]
fn the_streamed_export_is_the_whole_project_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let study = sample_with_recording(dir.path());
    let folder = study.study_folder().map(|f| f.display().to_string());
    let (project, whole_report) =
        between_exchange::to_refi(&study.bundle().unwrap(), folder.as_deref());
    let whole = between_refi::write_qdpx(&project).unwrap();
    let (streamed, report) = between_exchange::export_qdpx(&study).unwrap();
    assert_eq!(report, whole_report);
    assert!(streamed == whole, "the streamed export differs");
    let path = dir.path().join("out.qdpx");
    let file = std::fs::File::create(&path).unwrap();
    between_exchange::export_qdpx_to(&study, std::io::BufWriter::new(file)).unwrap();
    assert!(std::fs::read(&path).unwrap() == whole, "the file differs");
}

/// Validates with xmllint (Debian's libxml2-utils; .ci/run installs it).
fn validate(xml: &str, schema: &str, dir: &Path) {
    let file = dir.join("check.xml");
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(shared(&format!("refi-qda/schemas/v1.0/{schema}")))
        .arg(&file)
        .output()
        .expect("xmllint runs (apt-get install libxml2-utils)");
    assert!(
        out.status.success(),
        "{schema}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn exports_validate_against_the_xsds() {
    let dir = tempfile::tempdir().unwrap();
    // With a recording, the source becomes an audio source with a synchronised transcript.
    let study = sample_with_recording(dir.path());
    let (qde, _) = between_exchange::export_qde(&study).unwrap();
    assert!(
        qde.contains("<AudioSource") && qde.contains("<SyncPoint"),
        "no audio source"
    );
    validate(&qde, "Project.xsd", dir.path());
    let (qdpx, _) = between_exchange::export_qdpx(&study).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(qdpx)).unwrap();
    let mut inner = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("project.qde").unwrap(), &mut inner).unwrap();
    validate(&inner, "Project.xsd", dir.path());
    assert!(
        zip.file_names()
            .map(|n| n.unwrap().to_string())
            .filter(|n| n != "project.qde")
            .all(|n| n.starts_with("sources/") && n.ends_with(".txt")),
        "texts go in sources/ named by GUID"
    );
    validate(
        &between_exchange::export_qdc(&study).unwrap(),
        "Codebook.xsd",
        dir.path(),
    );
}

#[test]
fn every_sample_imports_into_a_study() {
    let dir = tempfile::tempdir().unwrap();
    // (file, sources, codes, codings)
    for (file, sources, codes, codings) in [
        ("nvivo-win-12.6_oltas0517.qdpx", 2, 152, 303),
        ("nvivo-mac-12.7_OltasSzkepticizmus_17June.qdpx", 2, 152, 297),
        ("nvivo-mac-15.0_qc-roundtrip.qdpx", 2, 262, 0),
        ("qc-1.3.2_demo.qdpx", 2, 262, 205),
        ("atlasti-8.4_spec-annex-example.qde", 9, 14, 0),
    ] {
        let bytes = std::fs::read(shared(&format!("refi-qda/samples/{file}"))).unwrap();
        let (bundle, report) =
            between_exchange::read_project_file(file, &bytes, PositionUnit::Auto).unwrap();
        let mut study = empty(&dir.path().join(format!("{file}.between")));
        let merged = study.merge_bundle(bundle).unwrap();
        assert_eq!(
            (merged.sources, merged.codes_added, merged.codings),
            (sources, codes, codings),
            "{file}: {report:?}"
        );
        if file.starts_with("nvivo-win") || file.starts_with("nvivo-mac-12") {
            assert_eq!(report.unit, Some(PositionUnit::Utf16), "{file}");
            // Selections land on word boundaries once read as UTF-16 units.
            let views = study.codings(None, None, None).unwrap();
            let clean = views
                .iter()
                .filter(|v| {
                    let q = v.quote.trim_matches(|c: char| c.is_whitespace());
                    !q.is_empty() && q.len() == v.quote.trim_end().trim_start().len()
                })
                .count();
            assert!(
                clean * 100 >= views.len() * 95,
                "{file}: {clean} of {}",
                views.len()
            );
        }
    }
    for (file, codes) in [
        ("qualcoder-3.8.2_codebook.qdc", 38),
        ("taguette-1.4.1_codebook.qdc", 3),
    ] {
        let bytes = std::fs::read(shared(&format!("refi-qda/samples/{file}"))).unwrap();
        let (bundle, _) = between_exchange::read_codebook_file(file, &bytes).unwrap();
        let mut study = empty(&dir.path().join(format!("{file}.between")));
        assert_eq!(
            study.merge_bundle(bundle.clone()).unwrap().codes_added,
            codes,
            "{file}"
        );
        // Merging the same codebook again matches every code by GUID.
        let again = study.merge_bundle(bundle).unwrap();
        assert_eq!(
            (again.codes_added, again.codes_matched),
            (0, codes),
            "{file}"
        );
    }
}

#[test]
fn a_bad_project_leaves_the_study_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let mut study = sample(dir.path());
    let before = study.bundle().unwrap();
    let (qdpx, _) = between_exchange::export_qdpx(&study).unwrap();
    // The same sources again under other ids but the same names: refused as a whole.
    let (mut bundle, _) =
        between_exchange::read_project_file("sample.qdpx", &qdpx, PositionUnit::Auto).unwrap();
    for s in &mut bundle.sources {
        s.id = between_core::SourceId::new();
    }
    let err = study.merge_bundle(bundle).unwrap_err().to_string();
    assert!(
        err.contains("already has another source of that name"),
        "{err}"
    );
    // An XML bomb of entities.
    let evil = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><Project xmlns="urn:QDA-XML:project:1.0" name="x">&e;</Project>"#;
    let err = between_exchange::read_project_file("evil.qde", evil.as_bytes(), PositionUnit::Auto)
        .unwrap_err()
        .to_string();
    assert!(err.to_lowercase().contains("doctype"), "{err}");
    assert_eq!(comparable(study.bundle().unwrap()), comparable(before));
}

/// `between import-project` reads a file as a stream, a source at a time, into one change:
/// the study it makes is the one exported, named as it was; a project that turns out bad
/// after its sources have been written leaves nothing behind.
#[test]
fn a_project_streamed_from_a_file_lands_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let original = sample(dir.path());
    let file = dir.path().join("sample.qdpx");
    let (qdpx, _) = between_exchange::export_qdpx(&original).unwrap();
    std::fs::write(&file, &qdpx).unwrap();
    let mut copy = Workbench::create(
        &dir.path().join("copy.between"),
        NewStudy::default(),
        &OpenOptions::default(),
        "t",
    )
    .unwrap();
    let (merged, report) = between_exchange::import_project(
        &mut copy,
        "sample.qdpx",
        between_refi::ProjectInput::File(&file),
        PositionUnit::Auto,
        true,
    )
    .unwrap();
    assert!(report.dropped.is_empty(), "{report:?}");
    assert_eq!(merged.codings, 404);
    assert_eq!(copy.study().unwrap().name, original.study().unwrap().name);
    let (a, b) = (original.bundle().unwrap(), copy.bundle().unwrap());
    assert_eq!(a.description, b.description);
    assert_eq!(comparable(a), comparable(b));

    // A note that takes a source's GUID comes after every source: the import fails, says
    // where, and the study holds nothing of it.
    let (qde, _) = between_exchange::export_qde(&original).unwrap();
    let source_guid = original.bundle().unwrap().sources[0].id.to_string();
    let note_at = qde.find("<Note guid=\"").expect("the sample has notes") + "<Note guid=\"".len();
    let mut bad = qde.clone();
    bad.replace_range(note_at..note_at + 36, &source_guid);
    let bad_file = dir.path().join("bad.qde");
    std::fs::write(&bad_file, &bad).unwrap();
    let mut target = empty(&dir.path().join("target.between"));
    let before = comparable(target.bundle().unwrap());
    let err = between_exchange::import_project(
        &mut target,
        "bad.qde",
        between_refi::ProjectInput::File(&bad_file),
        PositionUnit::Auto,
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(&source_guid) && err.contains("<Note>"),
        "{err}"
    );
    assert!(
        err.contains("<TextSource> (line") || err.contains("<AudioSource> (line"),
        "{err}"
    );
    assert_eq!(comparable(target.bundle().unwrap()), before);

    // A project whose codebook comes after its sources is read whole instead.
    let codebook_start = qde.find("<CodeBook>").expect("a codebook");
    let codebook_end = qde.find("</CodeBook>").expect("its end") + "</CodeBook>".len();
    let codebook = &qde[codebook_start..codebook_end];
    let mut shuffled = qde.clone();
    shuffled.replace_range(codebook_start..codebook_end, "");
    let notes = shuffled.find("<Notes>").expect("notes");
    shuffled.insert_str(notes, codebook);
    let shuffled_file = dir.path().join("shuffled.qde");
    std::fs::write(&shuffled_file, &shuffled).unwrap();
    let mut again = empty(&dir.path().join("again.between"));
    let (merged, _) = between_exchange::import_project(
        &mut again,
        "shuffled.qde",
        between_refi::ProjectInput::File(&shuffled_file),
        PositionUnit::Auto,
        false,
    )
    .unwrap();
    assert_eq!(merged.codings, 404);
    assert_eq!(
        comparable(again.bundle().unwrap()).codings,
        comparable(original.bundle().unwrap()).codings
    );
}

/// Where `quote` is in a source's text, in code points.
fn span_of(source: &Source, quote: &str) -> Span {
    let at = source.text.find(quote).expect("the quote is in the text");
    let start = source.text[..at].chars().count();
    Span {
        start,
        end: start + quote.chars().count(),
    }
}

fn attribution(source: &Source, quote: &str, about: AttributionTarget) -> Attribution {
    Attribution {
        id: AttributionId::new(),
        source: source.id,
        span: span_of(source, quote),
        about,
        attributed_by: "Amal".into(),
        attributed_at: "2026-01-05T10:00:00Z".into(),
    }
}

/// The `project.qde` of a `.qdpx`.
fn project_qde(qdpx: &[u8]) -> String {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(qdpx)).unwrap();
    let mut qde = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("project.qde").unwrap(), &mut qde).unwrap();
    qde
}

/// Passages of a clinician's interview attributed to a patient and to a dyad (one of them
/// also coded, one in a transcript of a recording) become selections their cases name; the
/// project validates, and reads back to the same attributions with nothing lost.
#[test]
fn attributions_to_a_participant_and_a_dyad_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let study = sample_with_recording(dir.path());
    let mut bundle = study.bundle().unwrap();
    let source = |name: &str| bundle.sources.iter().find(|s| s.name == name).unwrap();
    let participant = |label: &str| {
        let p = bundle.participants.iter().find(|p| p.label == label);
        AttributionTarget::Participant(p.unwrap().id)
    };
    let dyad_of = |patient: AttributionTarget| {
        let d = bundle
            .dyads
            .iter()
            .find(|d| AttributionTarget::Participant(d.patient) == patient);
        AttributionTarget::Dyad(d.unwrap().id)
    };
    let (c1, c2) = (source("c1-osei.txt"), source("c2-ruiz.txt"));
    let coded = bundle.codings.iter().find(|c| c.source == c1.id).unwrap();
    let coded_quote: String = c1
        .text
        .chars()
        .skip(coded.span.start)
        .take(coded.span.end - coded.span.start)
        .collect();
    let c2_words: String = c2.text.chars().skip(200).take(40).collect();
    let attributions = vec![
        attribution(c1, "George calls me the Boss", participant("P01")),
        attribution(c1, "Lucía Fernández", dyad_of(participant("P02"))),
        attribution(c1, &coded_quote, participant("P03")),
        attribution(c2, &c2_words, participant("P05")),
    ];
    bundle.attributions = attributions.clone();
    let folder = study.study_folder().map(|f| f.display().to_string());
    let (project, report) = between_exchange::to_refi(&bundle, folder.as_deref());
    assert!(report.dropped.is_empty(), "{report:?}");
    let qdpx = between_refi::write_qdpx(&project).unwrap();
    let qde = project_qde(&qdpx);
    validate(&qde, "Project.xsd", dir.path());
    for a in &attributions {
        assert!(
            qde.contains(&format!("<SelectionRef targetGUID=\"{}\"/>", a.id)),
            "a case names the selection of {a:?}"
        );
    }
    let (back, report) =
        between_exchange::read_project_file("attributed.qdpx", &qdpx, PositionUnit::Auto).unwrap();
    assert!(report.dropped.is_empty(), "{report:?}");
    assert_eq!(
        comparable(back.clone()).attributions,
        comparable(bundle.clone()).attributions
    );
    // The recorded source is still its participant's (the case names its transcript).
    let recorded = back.sources.iter().find(|s| s.name == c2.name).unwrap();
    assert_eq!(recorded.participant, c2.participant);
    // The coded passage keeps its coding beside its attribution.
    assert!(
        back.codings
            .iter()
            .any(|c| c.id == coded.id && c.span == coded.span)
    );
}

/// Another tool's project: a case (no `between: case` variable) names a coded selection of
/// someone else's interview, a selection of its own interview, a stretch of a recording and a
/// selection the project does not have. The first becomes an attribution to the participant
/// the case became (and stays coded), as it does for a second case naming it; the others are
/// said in the report, each by its GUID.
#[test]
fn a_case_selection_ref_from_another_tool_becomes_an_attribution() {
    let dir = tempfile::tempdir().unwrap();
    let g = |n: u32| format!("aaaaaaaa-0000-4000-8000-{n:012}");
    let (anna, ben, cleo, anna_says, ben_says) = (g(1), g(2), g(4), g(10), g(20));
    let (code, about_anna, own, timed, missing) = (g(3), g(11), g(21), g(31), g(99));
    let qde = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="other" origin="MAXQDA 2022">
  <Users><User guid="{user}" name="Kim"/></Users>
  <CodeBook><Codes><Code guid="{code}" name="Trust" isCodable="true"/></Codes></CodeBook>
  <Cases>
    <Case guid="{anna}" name="Anna"><SourceRef targetGUID="{anna_says}"/><SelectionRef targetGUID="{about_anna}"/><SelectionRef targetGUID="{own}"/><SelectionRef targetGUID="{timed}"/><SelectionRef targetGUID="{missing}"/></Case>
    <Case guid="{ben}" name="Ben"><SourceRef targetGUID="{ben_says}"/></Case>
    <Case guid="{cleo}" name="Cleo"><SelectionRef targetGUID="{about_anna}"/></Case>
  </Cases>
  <Sources>
    <TextSource guid="{anna_says}" name="Anna's interview"><PlainTextContent>I trust Ben.</PlainTextContent>
      <PlainTextSelection guid="{own}" startPosition="2" endPosition="7" creatingUser="{user}"/>
    </TextSource>
    <TextSource guid="{ben_says}" name="Ben's interview"><PlainTextContent>Anna trusts me now.</PlainTextContent>
      <PlainTextSelection guid="{about_anna}" name="Anna trusts me" startPosition="0" endPosition="14" creatingUser="{user}" creationDateTime="2025-02-01T09:00:00Z">
        <Coding guid="{coding}" creatingUser="{user}"><CodeRef targetGUID="{code}"/></Coding>
      </PlainTextSelection>
    </TextSource>
    <AudioSource guid="{audio}" name="call" path="relative:///call.wav">
      <AudioSelection guid="{timed}" begin="0" end="1000"/>
    </AudioSource>
  </Sources>
</Project>"#,
        user = g(50),
        coding = g(12),
        audio = g(30),
    );
    validate(&qde, "Project.xsd", dir.path());
    let (bundle, report) =
        between_exchange::read_project_file("other.qde", qde.as_bytes(), PositionUnit::Auto)
            .unwrap();
    let case_id = |guid: &str| ParticipantId(guid.parse().unwrap());
    let about_anna_id: AttributionId = about_anna.parse().unwrap();
    let mut got: Vec<(AttributionTarget, Span, String)> = bundle
        .attributions
        .iter()
        .map(|a| (a.about, a.span, a.attributed_by.clone()))
        .collect();
    got.sort();
    let mut expected = vec![
        (
            AttributionTarget::Participant(case_id(&anna)),
            Span { start: 0, end: 14 },
            "Kim".to_string(),
        ),
        (
            AttributionTarget::Participant(case_id(&cleo)),
            Span { start: 0, end: 14 },
            "Kim".to_string(),
        ),
    ];
    expected.sort();
    assert_eq!(got, expected, "{report:?}");
    // The first case's attribution is the selection's own GUID, the second's another one.
    assert!(bundle.attributions.iter().any(|a| a.id == about_anna_id));
    assert_ne!(bundle.attributions[0].id, bundle.attributions[1].id);
    assert!(
        bundle
            .attributions
            .iter()
            .all(|a| a.attributed_at == "2025-02-01T09:00:00Z"
                || a.about == AttributionTarget::Participant(case_id(&ben)))
    );
    assert_eq!(
        bundle.codings.len(),
        1,
        "the attributed selection keeps its coding"
    );
    let named = |guid: &str| {
        report
            .warnings
            .iter()
            .any(|w| w.contains("Anna") && w.contains(guid))
    };
    assert!(named(&own), "Anna's own account: {report:?}");
    assert!(named(&timed), "the recording's stretch: {report:?}");
    assert!(
        named(&missing),
        "the selection the project lacks: {report:?}"
    );
    let dropped = |why: &str| {
        report
            .dropped
            .iter()
            .filter(|(what, _, w)| what == "SelectionRef" && w.contains(why))
            .map(|(_, n, _)| n)
            .sum::<usize>()
    };
    assert_eq!(dropped("own account"), 1, "{report:?}");
    assert_eq!(dropped("recording"), 1, "{report:?}");
    assert_eq!(dropped("no selection"), 1, "{report:?}");
}
