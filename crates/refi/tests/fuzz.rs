//! Fuzz targets for REFI-QDA (see `between-fuzz`): `.qde`, `.qdpx` and `.qdc` read from real
//! tools' files, mutated; no input may panic, abort or take over 5 s.

use std::path::PathBuf;

use between_fuzz::{Sample, Seeds, fuzz};
use between_refi::{PositionUnit, ReadOptions, read_codebook, read_project};

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/refi-qda/samples")
}

fn sample(name: &str) -> Vec<u8> {
    let path = samples().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `.qde` inside a `.qdpx`.
fn qde_of(qdpx: &str) -> Vec<u8> {
    let Sample::Zip(entries) = Sample::new(sample(qdpx)) else {
        panic!("{qdpx} is not a zip");
    };
    entries
        .into_iter()
        .find(|(name, _)| name.ends_with(".qde"))
        .map(|(_, content)| content)
        .unwrap_or_else(|| panic!("no .qde in {qdpx}"))
}

/// Markup the readers look for. Nesting stays modest: deep code trees are refused by a depth
/// limit of their own (issue 13, point 2), not by this target.
const TOKENS: &[&str] = &[
    "<Code guid=\"0b3f6d8e-1111-4a2b-8c3d-000000000001\" name=\"x\" isCodable=\"true\">",
    "</Code>",
    "<Codes>",
    "</Codes>",
    "<TextSource guid=\"0b3f6d8e-1111-4a2b-8c3d-000000000002\" name=\"t\" plainTextPath=\"internal://a.txt\">",
    "<PlainTextContent>",
    "</PlainTextContent>",
    "<PlainTextSelection guid=\"0b3f6d8e-1111-4a2b-8c3d-000000000003\" startPosition=\"0\" endPosition=\"4\">",
    "<Coding guid=\"0b3f6d8e-1111-4a2b-8c3d-000000000004\"><CodeRef targetGUID=\"0b3f6d8e-1111-4a2b-8c3d-000000000001\"/></Coding>",
    "startPosition=\"-1\"",
    "endPosition=\"18446744073709551616\"",
    "basePath=\"/\"",
    "relative:///",
    "absolute:///etc/passwd",
    "internal://",
    "guid=\"\"",
    "xmlns=\"urn:QDA-XML:project:1.0\"",
    "<!DOCTYPE p [<!ENTITY e \"ee\">]>",
    "&e;",
    "&#0;",
    "&#x10FFFF;",
    "<![CDATA[x]]>",
    "<?xml version=\"1.0\" encoding=\"utf-16\"?>",
    "\u{feff}",
    "\r\n",
    "\"",
    ">",
    "</",
];

fn seeds() -> Seeds {
    Seeds::new().tokens(TOKENS)
}

fn read_every_way(name: &str, input: &[u8]) {
    for unit in [
        PositionUnit::Auto,
        PositionUnit::CodePoints,
        PositionUnit::Utf16,
    ] {
        let options = ReadOptions {
            unit,
            ..ReadOptions::default()
        };
        let _ = read_project(name, input, &options);
    }
}

#[test]
fn fuzz_qde() {
    let seeds = seeds()
        .sample(sample("atlasti-8.4_spec-annex-example.qde"))
        .sample(qde_of("qc-1.3.2_demo.qdpx"))
        .sample(qde_of("nvivo-mac-15.0_qc-roundtrip.qdpx"));
    fuzz("refi-qde", &seeds, |input| {
        read_every_way("fuzz.qde", input)
    });
}

#[test]
fn fuzz_qdpx() {
    let seeds = seeds()
        .sample(sample("qc-1.3.2_demo.qdpx"))
        .sample(sample("nvivo-mac-15.0_qc-roundtrip.qdpx"));
    fuzz("refi-qdpx", &seeds, |input| {
        read_every_way("fuzz.qdpx", input)
    });
}

#[test]
fn fuzz_qdc() {
    let seeds = seeds()
        .tokens(&["<CodeBook origin=\"x\" xmlns=\"urn:QDA-XML:codebook:1.0\">", "<Sets/>", "<Set guid=\"0b3f6d8e-1111-4a2b-8c3d-000000000005\" name=\"s\"><MemberCode targetGUID=\"0b3f6d8e-1111-4a2b-8c3d-000000000001\"/></Set>"])
        .sample(sample("qualcoder-3.8.2_codebook.qdc"))
        .sample(sample("taguette-1.4.1_codebook.qdc"));
    fuzz("refi-qdc", &seeds, |input| {
        let _ = read_codebook("fuzz.qdc", input);
    });
}
