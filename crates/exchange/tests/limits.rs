//! Deep code trees and bad code names through REFI-QDA: a study at the depth limit exports and
//! imports again; deeper files (nested codes, nested elements) and names between cannot take
//! are refused naming the file, and nothing is written. A study made before the limit, with a
//! chain of any depth, still exports (every walk over codes is iterative).

#![allow(clippy::unwrap_used)]

use std::io::Write as _;
use std::path::Path;

use between_core::{Code, CodeId, MAX_CODE_DEPTH};
use between_refi::PositionUnit;
use between_store::{OpenOptions, SqliteStore, Store};
use between_study::{NewStudy, Workbench};

fn empty(path: &Path) -> Workbench {
    Workbench::create(path, NewStudy::default(), &OpenOptions::default(), "t").unwrap()
}

/// A chain of `depth` codes `L1/L2/…`, written to the study's file without the Workbench's
/// checks (as a study made before the limit could hold).
fn chain_in_store(path: &Path, depth: usize) -> Vec<CodeId> {
    let mut store = SqliteStore::open(path, &OpenOptions::default()).unwrap();
    let mut tx = store.transaction("t").unwrap();
    let mut ids = Vec::new();
    for level in 1..=depth {
        let code = Code {
            id: CodeId::new(),
            parent: ids.last().copied(),
            name: format!("L{level}"),
            colour: "#123456".into(),
            definition: String::new(),
            indicators: Vec::new(),
            component: None,
            version: 1,
        };
        tx.insert_code(&code).unwrap();
        ids.push(code.id);
    }
    tx.commit().unwrap();
    ids
}

/// A `.qde` whose codes nest `depth` deep; `name` names the deepest.
fn nested_qde(depth: usize, name: &str) -> String {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="deep"><CodeBook><Codes>"#,
    );
    for level in 1..=depth {
        let name = if level == depth {
            name.to_string()
        } else {
            format!("L{level}")
        };
        xml += &format!(
            r#"<Code guid="{:08x}-0000-4000-8000-000000000000" name="{name}" isCodable="true">"#,
            level
        );
    }
    xml += &"</Code>".repeat(depth);
    xml += "</Codes></CodeBook></Project>";
    xml
}

/// The same codes as a `.qdc` codebook.
fn nested_qdc(depth: usize) -> String {
    nested_qde(depth, &format!("L{depth}"))
        .replace(
            r#"<Project xmlns="urn:QDA-XML:project:1.0" name="deep"><CodeBook>"#,
            r#"<CodeBook xmlns="urn:QDA-XML:codebook:1.0">"#,
        )
        .replace("</CodeBook></Project>", "</CodeBook>")
}

/// A `.qdpx` holding `qde` as its project (stored: deflated, such a repetitive file would
/// be refused as a zip bomb before its depth is seen).
fn qdpx_of(qde: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("project.qde", stored).unwrap();
    zip.write_all(qde.as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}

/// Imports `bytes` (a `.qde` or `.qdpx` named `name`) into `study` as the server and the CLI
/// do: the error, and that the study holds no more codes than before.
fn refused_import(study: &mut Workbench, name: &str, bytes: &[u8]) -> String {
    let before = study.codebook().unwrap().len();
    let err = between_exchange::import_project(
        study,
        name,
        between_refi::ProjectInput::Bytes(bytes),
        PositionUnit::Auto,
        false,
    )
    .expect_err(name)
    .to_string();
    assert_eq!(study.codebook().unwrap().len(), before, "nothing written");
    err
}

#[test]
fn a_study_at_the_depth_limit_exports_and_imports_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut study = empty(&dir.path().join("deep.between"));
    let mut parent: Option<String> = None;
    for level in 1..=MAX_CODE_DEPTH {
        let code = study
            .add_code(&format!("L{level}"), parent.as_deref(), None, "")
            .unwrap();
        parent = Some(code.id.to_string());
    }
    let err = study
        .add_code("one too deep", parent.as_deref(), None, "")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("65 levels deep, more than the limit of 64"),
        "{err}"
    );

    let (qdpx, _) = between_exchange::export_qdpx(&study).unwrap();
    let (qde, _) = between_exchange::export_qde(&study).unwrap();
    let qdc = between_exchange::export_qdc(&study).unwrap();
    let mut copy = empty(&dir.path().join("copy.between"));
    between_exchange::import_project(
        &mut copy,
        "deep.qdpx",
        between_refi::ProjectInput::Bytes(&qdpx),
        PositionUnit::Auto,
        false,
    )
    .unwrap();
    let deepest = |b: &Workbench| b.codebook().unwrap().iter().map(|n| n.depth).max();
    assert_eq!(
        deepest(&copy),
        Some(MAX_CODE_DEPTH - 1),
        "depth counts from 0"
    );
    let (bundle, _) =
        between_exchange::read_project_file("deep.qde", qde.as_bytes(), PositionUnit::Auto)
            .unwrap();
    assert_eq!(bundle.codes.len(), MAX_CODE_DEPTH);
    let (bundle, _) = between_exchange::read_codebook_file("deep.qdc", qdc.as_bytes()).unwrap();
    let mut merged = empty(&dir.path().join("merged.between"));
    merged.merge_bundle(bundle).unwrap();
    assert_eq!(deepest(&merged), Some(MAX_CODE_DEPTH - 1));
}

/// On `main` before the limits, each of these aborted the process (a stack overflow).
#[test]
fn a_chain_of_1500_codes_exports_and_its_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.between");
    drop(empty(&path));
    chain_in_store(&path, 1_500);
    let old = Workbench::open(&path, &OpenOptions::default(), "t").unwrap();
    assert_eq!(old.codebook().unwrap().len(), 1_500);
    let (qdpx, _) = between_exchange::export_qdpx(&old).unwrap();
    let (qde, _) = between_exchange::export_qde(&old).unwrap();
    let qdc = between_exchange::export_qdc(&old).unwrap();
    assert_eq!(qde.matches("<Code ").count(), 1_500);

    let mut study = empty(&dir.path().join("new.between"));
    for (name, bytes) in [("old.qdpx", &qdpx[..]), ("old.qde", qde.as_bytes())] {
        let err = refused_import(&mut study, name, bytes);
        assert!(
            err.starts_with(name) && err.contains("elements nest more than 128 deep"),
            "{err}"
        );
    }
    let err = between_exchange::read_codebook_file("old.qdc", qdc.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("old.qdc line 1") && err.contains("more than 128 deep"),
        "{err}"
    );
}

#[test]
fn files_with_codes_nested_too_deep_are_refused_naming_file_and_depth() {
    let dir = tempfile::tempdir().unwrap();
    let mut study = empty(&dir.path().join("s.between"));
    // Deeper than the XML reader goes.
    for depth in [1_500, 100_000] {
        let qde = nested_qde(depth, "deepest");
        for (name, bytes) in [
            ("deep.qde", qde.clone().into_bytes()),
            ("deep.qdpx", qdpx_of(&qde)),
        ] {
            let err = refused_import(&mut study, name, &bytes);
            assert!(
                err.starts_with(name) && err.contains("more than 128 deep"),
                "{err}"
            );
        }
        let err = between_exchange::read_codebook_file("deep.qdc", nested_qdc(depth).as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("deep.qdc line 1: elements nest more than 128 deep"),
            "{err}"
        );
    }
    // Deeper than a study's codes go, within what the XML reader takes.
    let qde = nested_qde(MAX_CODE_DEPTH + 1, "L65");
    for (name, bytes) in [
        ("deep.qde", qde.clone().into_bytes()),
        ("deep.qdpx", qdpx_of(&qde)),
    ] {
        let err = refused_import(&mut study, name, &bytes);
        assert!(
            err.starts_with(&format!("{name}: the code \"L65\""))
                && err.contains("is 65 levels deep, more than the limit of 64"),
            "{err}"
        );
    }
    let err = between_exchange::read_codebook_file("deep.qdc", nested_qdc(65).as_bytes())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("deep.qdc: the code \"L65\"") && err.contains("65 levels deep"),
        "{err}"
    );
}

/// A codebook of 60 levels, its top code matched (by GUID) to a code 10 deep in the study,
/// would put its 56th level 65 deep: the merge is refused whole.
#[test]
fn merging_a_codebook_under_a_deep_code_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.between");
    drop(empty(&path));
    let ids = chain_in_store(&path, 10);
    let mut study = Workbench::open(&path, &OpenOptions::default(), "t").unwrap();
    let qdc = nested_qdc(60).replacen(
        "00000001-0000-4000-8000-000000000000",
        &ids[9].to_string(),
        1,
    );
    let (bundle, _) = between_exchange::read_codebook_file("deep.qdc", qdc.as_bytes()).unwrap();
    let err = study.merge_bundle(bundle).unwrap_err().to_string();
    assert!(
        err.contains("\"L56\" would be 65 levels deep, more than the limit of 64"),
        "{err}"
    );
    assert_eq!(study.codebook().unwrap().len(), 10, "nothing written");
}

#[test]
fn code_names_between_cannot_take_are_refused_naming_file_and_code() {
    let dir = tempfile::tempdir().unwrap();
    let mut study = empty(&dir.path().join("s.between"));
    let long = "x".repeat(100_000);
    for (name, why) in [
        ("tab&#9;here", "control character U+0009"),
        ("line&#10;break", "control character U+000A"),
        (
            "evil\u{202E}txt.exe",
            "bidirectional formatting character U+202E",
        ),
        (
            long.as_str(),
            "100000 characters, more than the limit of 200",
        ),
    ] {
        let err = refused_import(&mut study, "names.qde", nested_qde(2, name).as_bytes());
        assert!(
            err.starts_with("names.qde: the code ") && err.contains(why),
            "{err}"
        );
        assert!(err.len() < 300, "the name is cut short in the message");
    }
    // '/' and a sibling's name are changed, as before, not refused.
    let (bundle, report) = between_exchange::read_project_file(
        "slash.qde",
        nested_qde(2, "a/b").as_bytes(),
        PositionUnit::Auto,
    )
    .unwrap();
    assert_eq!(bundle.codes[1].name, "a∕b");
    assert!(report.warnings.iter().any(|w| w.contains("renamed")));
}
