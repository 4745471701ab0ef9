//! The web server's memory on the benchmark's workload (issue 13, point 9): `between bench
//! --server` serves a 100-interview study from a process of its own, opens documents, lists a
//! coder's codings and codes from many clients at once, and reports the server's peak resident
//! memory against its target.

mod common;

use common::*;

#[test]
fn the_server_stays_within_its_memory_target_under_the_benchmark() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = generated_corpus(dir.path(), 100, 8000, 1);
    let run = between(
        dir.path(),
        &[
            "bench",
            "--corpus",
            &corpus.display().to_string(),
            "--server",
            "--repeat",
            "1",
            "--load-codings",
            "2000",
            "--format",
            "json",
        ],
    );
    let measures = json(&run);
    let peak = measures
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["name"]
                .as_str()
                .unwrap()
                .starts_with("server peak memory")
        })
        .unwrap_or_else(|| panic!("no server memory in {measures}"));
    let mib = peak["value"].as_f64().unwrap();
    assert!(
        mib <= 80.0,
        "the server peaked at {mib:.1} MiB: {measures:#}"
    );
    assert_eq!(run.code(), 0, "{}", run.stderr());
}
