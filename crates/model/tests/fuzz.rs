//! Fuzz target for theory files (see `between-fuzz`): any TOML or JSON, mutated from the
//! embedded theories, may not panic, abort or take over 5 s; a theory that validates can be
//! written out and turned into a codebook.

use std::path::PathBuf;

use between_fuzz::{Seeds, fuzz};
use between_model::Theory;

#[test]
fn fuzz_theory_files() {
    let theories = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("theories");
    let json: Vec<Vec<u8>> = between_model::builtin()
        .iter()
        .map(|t| t.to_json().into_bytes())
        .collect();
    let mut seeds = Seeds::new()
        .tokens(&[
            "[[components]]\n",
            "[[components.children]]\n",
            "id = \"x\"\n",
            "name = \"\"\n",
            "kind = \"outcome\"\n",
            "parent = \"x\"\n",
            "= 1e309\n",
            "= -9223372036854775809\n",
            "'''",
            "\"\"\"",
            "\\u0000",
            "\u{202e}",
            "{ a = 1 }",
            "[1, [2, [3]]]",
        ])
        .files(&theories, &[".toml"], 8);
    for j in json {
        seeds = seeds.sample(j);
    }
    fuzz("model-theory", &seeds, |input| {
        let text = String::from_utf8_lossy(input);
        for theory in [
            Theory::from_toml(&text, "fuzz.toml"),
            Theory::from_json(&text, "fuzz.json"),
        ]
        .into_iter()
        .flatten()
        {
            let _ = theory.codebook();
            let _ = theory.components();
            Theory::from_toml(&theory.to_toml(), "written.toml")
                .unwrap_or_else(|e| panic!("a valid theory, written out, reads back: {e}"));
        }
    });
}
