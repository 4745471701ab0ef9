//! `BETWEEN_CORPUS=DIR cargo bench -p between-agreement --bench unitized`: the 2016 unitized
//! family a study report computes, over a corpus made by
//! `python3 ../shared/bench/make_corpus.py --interviews 1000 --words 8000 --seed 1 --out DIR`
//! with its two coders (issue target: ≤ 2 s).
//!
//! The documents are pooled by concatenation (lengths in code points of the `.txt` files, in
//! name order), each coder's overlapping codings of one code are merged into their union, and
//! then, timed together: |uα per code, per group (a parent code with its children as the
//! values) |uα, cuα and (k)uα, the any-code |uα, and the pooled (global) |uα and cuα across the
//! groups. Reading the files is not timed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use between_agreement::Coefficient;
use between_agreement::unitized::{
    Segment, UnitizedFamily, Unitizing, UnitizingError, binary_for_code, merge_overlaps,
    pooled_across_families,
};

/// The corpus as read: the pooled continuum and every coding on it.
struct Corpus {
    length: i64,
    coders: Vec<String>,
    /// Parent codes in codebook order, each with its children.
    groups: Vec<(String, Vec<String>)>,
    /// `(coder, begin, end, code)` on the pooled continuum.
    codings: Vec<(usize, i64, i64, String)>,
    documents: usize,
}

/// One line of a CSV file split into fields (double quotes as RFC 4180 has them).
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                out.last_mut().expect("a field").push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            _ => out.last_mut().expect("a field").push(c),
        }
    }
    out
}

fn rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(fields)
        .collect()
}

fn read(dir: &Path) -> Corpus {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for row in rows(&dir.join("codebook.csv")) {
        let (code, parent) = (&row[0], &row[1]);
        if parent.is_empty() {
            groups.push((code.clone(), Vec::new()));
        } else {
            let g = groups
                .iter_mut()
                .find(|(p, _)| p == parent)
                .unwrap_or_else(|| panic!("parent {parent} not listed before {code}"));
            g.1.push(code.clone());
        }
    }
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the corpus folder")
        .map(|e| e.expect("a folder entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    names.sort();
    let mut offset: BTreeMap<String, i64> = BTreeMap::new();
    let mut length = 0i64;
    for p in &names {
        let text = std::fs::read_to_string(p).expect("a UTF-8 document");
        let name = p
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        offset.insert(name, length);
        length += text
            .strip_prefix('\u{feff}')
            .unwrap_or(&text)
            .chars()
            .count() as i64;
    }
    let mut coders: Vec<String> = Vec::new();
    let mut codings = Vec::new();
    for row in rows(&dir.join("codings.csv")) {
        let base = offset[&row[0]];
        let num = |s: &str| s.parse::<i64>().expect("an offset");
        let coder = match coders.iter().position(|c| *c == row[4]) {
            Some(i) => i,
            None => {
                coders.push(row[4].clone());
                coders.len() - 1
            }
        };
        codings.push((
            coder,
            base + num(&row[1]),
            base + num(&row[2]),
            row[3].clone(),
        ));
    }
    Corpus {
        length,
        coders,
        groups,
        codings,
        documents: names.len(),
    }
}

/// Each coder's segments cut so that none overlaps the one before it (begin moved to the end of
/// the previous; dropped when nothing is left): only for timing cuα and (k)uα on data whose
/// groups are mutually exclusive, never a rule of the study.
fn trimmed(mut segments: Vec<Segment>) -> (Vec<Segment>, usize) {
    segments.sort_by_key(|s| (s.coder, s.begin, s.length));
    let (mut out, mut cut) = (Vec::with_capacity(segments.len()), 0);
    let mut last: Option<(usize, i64)> = None;
    for mut s in segments {
        let end = s.begin + s.length;
        if let Some((coder, at)) = last
            && coder == s.coder
            && s.begin < at
        {
            cut += 1;
            if end <= at {
                continue;
            }
            s.begin = at;
            s.length = end - at;
        }
        last = Some((s.coder, s.begin + s.length));
        out.push(s);
    }
    (out, cut)
}

/// One group's coefficients, or why cuα and (k)uα were refused.
struct Group {
    name: String,
    binary: Coefficient,
    cu: Result<(Coefficient, f64), UnitizingError>,
    per_code: Vec<(String, Option<(Coefficient, f64)>)>,
}

struct Report {
    per_code: Vec<(String, Coefficient)>,
    groups: Vec<Group>,
    any_code: Coefficient,
    pooled_binary: Coefficient,
    pooled_cu: Coefficient,
    /// Segments cut to make the groups exclusive (with `exclusive`).
    cut: usize,
}

/// Everything the study report computes, from the codings as read; with `exclusive`, each
/// group's overlapping codes are first cut apart ([`trimmed`]) so that cuα is computed.
fn family(corpus: &Corpus, exclusive: bool) -> Report {
    let (length, m) = (corpus.length, corpus.coders.len());
    let data = |segments: Vec<Segment>| Unitizing {
        begin: 0,
        length,
        coders: m,
        segments,
    };
    let mut by_code: BTreeMap<&str, Vec<Segment>> = BTreeMap::new();
    for (coder, begin, end, code) in &corpus.codings {
        by_code.entry(code).or_default().push(Segment {
            coder: *coder,
            begin: *begin,
            length: end - begin,
            code: code.clone(),
        });
    }
    let by_code: BTreeMap<&str, Vec<Segment>> = by_code
        .into_iter()
        .map(|(c, s)| (c, merge_overlaps(s)))
        .collect();
    // |uα per code of the codebook (a parent, never applied here, is undefined).
    let mut per_code = Vec::new();
    for code in corpus
        .groups
        .iter()
        .flat_map(|(p, children)| std::iter::once(p).chain(children))
    {
        let only = data(by_code.get(code.as_str()).cloned().unwrap_or_default());
        per_code.push((
            code.to_string(),
            binary_for_code(&only, code).expect("valid segments"),
        ));
    }
    // Per group: the children as the values.
    let mut groups = Vec::new();
    let mut families = Vec::new();
    let (mut refused, mut cut) = (0, 0);
    for (parent, children) in &corpus.groups {
        let mut segments: Vec<Segment> = children
            .iter()
            .filter_map(|c| by_code.get(c.as_str()))
            .flatten()
            .cloned()
            .collect();
        if exclusive {
            let (kept, n) = trimmed(segments);
            segments = kept;
            cut += n;
        }
        let group = data(segments);
        match UnitizedFamily::new(&group) {
            Ok(f) => {
                groups.push(Group {
                    name: parent.clone(),
                    binary: f.binary(),
                    cu: Ok(f.cu_alpha()),
                    per_code: children
                        .iter()
                        .map(|c| (c.clone(), f.code_alpha(c)))
                        .collect(),
                });
                families.push(f);
            }
            Err(e) => {
                // Codes of the group overlap within a coder: cuα and (k)uα are refused; |uα
                // is taken on the union of the group's codes.
                refused += 1;
                let union = data(merge_overlaps(
                    group
                        .segments
                        .into_iter()
                        .map(|s| Segment {
                            code: parent.clone(),
                            ..s
                        })
                        .collect(),
                ));
                let f = UnitizedFamily::new(&union).expect("a union has no overlaps");
                groups.push(Group {
                    name: parent.clone(),
                    binary: f.binary(),
                    cu: Err(e),
                    per_code: Vec::new(),
                });
                families.push(f);
            }
        }
    }
    // Any code against uncoded.
    let any = data(merge_overlaps(
        corpus
            .codings
            .iter()
            .map(|(coder, begin, end, _)| Segment {
                coder: *coder,
                begin: *begin,
                length: end - begin,
                code: "coded".into(),
            })
            .collect(),
    ));
    let any_code = UnitizedFamily::new(&any).expect("merged segments").binary();
    let pooled = pooled_across_families(&families).expect("one continuum");
    let pooled_cu = if refused == 0 {
        pooled.cu_alpha
    } else {
        Coefficient::Undefined(format!(
            "refused: {refused} group(s) have overlapping codes within a coder"
        ))
    };
    Report {
        per_code,
        groups,
        any_code,
        pooled_binary: pooled.binary,
        pooled_cu,
        cut,
    }
}

fn show(c: &Coefficient) -> String {
    match c {
        // Every digit with BETWEEN_VERBOSE (to compare implementations), else four.
        Coefficient::Defined(v) if std::env::var_os("BETWEEN_VERBOSE").is_some() => {
            format!("{v:?}")
        }
        Coefficient::Defined(v) => format!("{v:.4}"),
        Coefficient::Undefined(r) => format!("undefined ({r})"),
    }
}

fn main() {
    let Some(dir) = std::env::var_os("BETWEEN_CORPUS") else {
        println!(
            "unitized bench skipped: set BETWEEN_CORPUS to a folder made by \
             `python3 ../shared/bench/make_corpus.py --interviews 1000 --words 8000 --seed 1 --out DIR`"
        );
        return;
    };
    let corpus = read(Path::new(&dir));
    assert!(
        corpus.coders.len() >= 2,
        "the corpus has fewer than two coders"
    );
    for exclusive in [false, true] {
        let report = family(&corpus, exclusive);
        println!(
            "{}",
            if exclusive {
                format!(
                    "groups made exclusive for timing cuα ({} of a coder's segments cut where sibling codes overlapped):",
                    report.cut
                )
            } else {
                "the corpus as it is:".to_string()
            }
        );
        print(&report);
        let mut times: Vec<Duration> = (0..7)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(family(std::hint::black_box(&corpus), exclusive));
                t.elapsed()
            })
            .collect();
        times.sort();
        let median = times[times.len() / 2];
        println!(
            "unitized family{} ({} documents, {} code points, {} codings by {} coders; {} codes, {} groups): median {:.1} ms of {} runs (min {:.1}, max {:.1}; target <= 2000 ms) {}",
            if exclusive { ", exclusive groups" } else { "" },
            corpus.documents,
            corpus.length,
            corpus.codings.len(),
            corpus.coders.len(),
            report.per_code.len(),
            report.groups.len(),
            median.as_secs_f64() * 1000.0,
            times.len(),
            times[0].as_secs_f64() * 1000.0,
            times[times.len() - 1].as_secs_f64() * 1000.0,
            if median <= Duration::from_secs(2) {
                "met"
            } else {
                "NOT met"
            }
        );
    }
}

fn print(report: &Report) {
    if std::env::var_os("BETWEEN_VERBOSE").is_some() {
        for (code, c) in &report.per_code {
            println!("  |uα[{code}] = {}", show(c));
        }
    }
    for g in &report.groups {
        let cu = match &g.cu {
            Ok((c, coverage)) => format!("cuα {} (coverage {coverage:.3})", show(c)),
            Err(e) => format!("cuα refused: {e}"),
        };
        let k: Vec<String> = g
            .per_code
            .iter()
            .map(|(c, v)| match v {
                Some((v, _)) => format!("({c})uα {}", show(v)),
                None => format!("({c})uα not in the data"),
            })
            .collect();
        println!(
            "  {}: |uα {}, {cu}; {}",
            g.name,
            show(&g.binary),
            k.join(", ")
        );
    }
    println!(
        "  any code |uα {}; pooled across {} groups: |uα {}, cuα {} (reading R2, not verified against ATLAS.ti)",
        show(&report.any_code),
        report.groups.len(),
        show(&report.pooled_binary),
        show(&report.pooled_cu)
    );
}
