//! Fuzz targets for what a study imports (see `between-fuzz`): REFI-QDA projects and codebooks
//! mapped to a study and merged into one, and the codings, codebook and ratings tables. No input
//! may panic, abort or take over 5 s.

use std::path::{Path, PathBuf};

use between_exchange::{
    import_project, read_codebook_csv, read_codebook_file, read_codings_csv, read_ratings_csv,
};
use between_fuzz::{Seeds, fuzz};
use between_refi::{PositionUnit, ProjectInput};
use between_store::OpenOptions;
use between_study::{NewStudy, Workbench};

fn shared(rest: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rest)
}

fn refi_sample(name: &str) -> Vec<u8> {
    let path = shared("refi-qda/samples").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A study that takes imports; a fresh one after every `FRESH_AFTER` imports that landed, so
/// that it does not grow for the whole run. In memory-backed storage where there is one, as
/// every landed import is a durable commit.
struct Study {
    /// Kept for as long as the study: dropping it removes the study's folder.
    _dir: tempfile::TempDir,
    bench: Workbench,
    landed: usize,
}

const FRESH_AFTER: usize = 32;

impl Study {
    fn new() -> Self {
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        }
        .expect("a temporary folder");
        let bench = Workbench::create(
            &dir.path().join("fuzz.between"),
            NewStudy::default(),
            &OpenOptions::default(),
            "fuzz",
        )
        .expect("a study");
        Self {
            _dir: dir,
            bench,
            landed: 0,
        }
    }

    fn landed(&mut self) {
        self.landed += 1;
        if self.landed >= FRESH_AFTER {
            *self = Self::new();
        }
    }
}

#[test]
fn fuzz_project_import() {
    let ours = {
        let dir = tempfile::tempdir().expect("tempdir");
        let bench =
            between_sample::materialise(&dir.path().join("s.between"), &OpenOptions::default())
                .expect("the sample study");
        between_exchange::export_qdpx(&bench).expect("export").0
    };
    let seeds = Seeds::new()
        .tokens(&[
            "</Code>",
            "<Code guid=\"0b3f6d8e-1111-4a2b-8c3d-000000000001\" name=\"x\" isCodable=\"true\"/>",
            "<Description>",
            "<Variable guid=\"0b3f6d8e-1111-4a2b-8c3d-000000000006\" name=\"role\" typeOfVariable=\"Text\"/>",
            "<VariableValue><VariableRef targetGUID=\"0b3f6d8e-1111-4a2b-8c3d-000000000006\"/><TextValue>patient</TextValue></VariableValue>",
            "<Case guid=\"0b3f6d8e-1111-4a2b-8c3d-000000000007\" name=\"P1\">",
            "<SourceRef targetGUID=\"",
            "<NoteRef targetGUID=\"",
            "startPosition=\"0\"",
            "endPosition=\"99999\"",
            "<AudioSource guid=\"0b3f6d8e-1111-4a2b-8c3d-000000000008\" path=\"relative:///a.mp3\">",
            "basePath=\"/\"",
            "\u{202e}",
            "\t",
        ])
        .sample(ours)
        .sample(refi_sample("qc-1.3.2_demo.qdpx"))
        .sample(refi_sample("atlasti-8.4_spec-annex-example.qde"));
    let mut study = Study::new();
    fuzz("exchange-project-import", &seeds, move |input| {
        let imported = import_project(
            &mut study.bench,
            "fuzz.qdpx",
            ProjectInput::Bytes(input),
            PositionUnit::Auto,
            true,
        );
        if imported.is_ok() {
            study.landed();
        }
    });
}

#[test]
fn fuzz_codebook_merge() {
    let seeds = Seeds::new()
        .tokens(&[
            "<Code guid=\"0b3f6d8e-1111-4a2b-8c3d-000000000001\" name=\"x\" isCodable=\"true\">",
            "</Code>",
            "name=\"\"",
            "name=\"a/b\"",
        ])
        .sample(refi_sample("qualcoder-3.8.2_codebook.qdc"))
        .sample(refi_sample("taguette-1.4.1_codebook.qdc"));
    let mut study = Study::new();
    fuzz("exchange-codebook-merge", &seeds, move |input| {
        if let Ok((bundle, _)) = read_codebook_file("fuzz.qdc", input)
            && study.bench.merge_bundle(bundle).is_ok()
        {
            study.landed();
        }
    });
}

#[test]
fn fuzz_tables() {
    let seeds = Seeds::new()
        .tokens(&[",", "\"", "\n", "\u{feff}", "-1", "18446744073709551616", "true", "'=1", "NA"])
        .sample(b"document,start,end,code,coder,memo,contrast\ninterview_001.txt,164,422,Peer support,coder1,\"a, memo\",no\n".to_vec())
        .sample(b"source,quote,code\na.txt,I trust her,Trust\n".to_vec())
        .sample(b"\xef\xbb\xbfcode,parent\nSymptoms,\nPain,Symptoms\n".to_vec())
        .sample(b"ann,bob,cy\n1,1,\n2,,3\nlow,high,mid\n".to_vec());
    let declared = vec!["low".to_string(), "mid".to_string(), "high".to_string()];
    fuzz("exchange-tables", &seeds, move |input| {
        let _ = read_codings_csv(input, "fuzz.csv", None);
        let _ = read_codings_csv(input, "fuzz.csv", Some("coder1"));
        let _ = read_codebook_csv(input, "fuzz.csv");
        for header in [None, Some(true), Some(false)] {
            let _ = read_ratings_csv(input, "fuzz.csv", None, header);
            let _ = read_ratings_csv(input, "fuzz.csv", Some(&declared), header);
        }
    });
}
