//! Fuzz target for boolean code queries (see `between-fuzz`): any query text, parsed against the
//! sample study and run, may not panic, abort or take over 5 s.

use between_findings::{CodeQuery, CodingFilter, Corpus};
use between_fuzz::{Seeds, fuzz};
use between_store::OpenOptions;

#[test]
fn fuzz_boolean_queries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bench = between_sample::materialise(&dir.path().join("s.between"), &OpenOptions::default())
        .expect("the sample study");
    let corpus = Corpus::of(&bench).expect("corpus");
    let names: Vec<String> = corpus
        .codes()
        .iter()
        .take(24)
        .map(|c| c.name.clone())
        .collect();
    let quoted: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    let mut seeds = Seeds::new().tokens(&names).tokens(&quoted).tokens(&[
        " AND ",
        " OR ",
        " NOT ",
        " AND NOT ",
        " OVERLAPPING ",
        " NEAR 3 ",
        " NEAR(0) ",
        " NEAR/18446744073709551616 ",
        " near -1 ",
        "(",
        ")",
        "\"",
        " ",
        "\u{0}",
        "\u{202e}",
    ]);
    let a = &names[0];
    let b = names.get(1).unwrap_or(a);
    let c = names.get(2).unwrap_or(a);
    for query in [
        a.clone(),
        format!("{a} AND ({b} OR \"{c}\")"),
        format!("({a} NEAR 5 {b}) NOT {c}"),
        format!("{a} OVERLAPPING {b} OR {c} NEAR/2 {a}"),
        format!("NOT {a}"),
        format!("(({a}) AND NOT ({b}))"),
    ] {
        seeds = seeds.sample(query.into_bytes());
    }
    let filters = [
        CodingFilter::default(),
        CodingFilter {
            coders: Some(vec!["nobody".into()]),
            include_subcodes: true,
        },
    ];
    fuzz("findings-boolean", &seeds, move |input| {
        let query = String::from_utf8_lossy(input);
        for subcodes in [false, true] {
            if let Ok(q) = CodeQuery::parse(&query, &corpus, subcodes) {
                for filter in &filters {
                    corpus.code_query(&q, filter, subcodes, 40, 0..20);
                }
            }
        }
    });
}
