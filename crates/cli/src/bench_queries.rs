//! `between bench --findings` (with the model findings in `bench_findings`): the query targets (code × case matrix and co-occurrence
//! ≤ 100 ms, text search with keyword in context p95 ≤ 50 ms) on the benchmark corpus, which
//! has no participants: each interview gets one, deterministically (odd interviews clinicians,
//! even ones patients, clinician 2k−1 and patient 2k a dyad; attributes `age` and `sex`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Result;
use between_core::{Dyad, DyadId, Participant, ParticipantId, Role, Speaker};
use between_findings::{
    CodeQuery, CodingFilter, Corpus, Grouping, Proximity, SearchFilter, TextQuery,
};
use between_study::{StudyBundle, Workbench};

use crate::bench::Measure;

/// About fifty searches a team would run: words, phrases, wildcards, accented names.
const QUERIES: &[&str] = &[
    "trust",
    "hope",
    "pain",
    "doctor",
    "nurse",
    "family",
    "daughter",
    "husband",
    "waiting",
    "diagnosis",
    "medication",
    "sleep",
    "fatigue",
    "listened",
    "understood",
    "worried",
    "bills",
    "insurance",
    "appointment",
    "specialist",
    "\"side effects\"",
    "\"night shifts\"",
    "\"bus fare\"",
    "\"waiting list\"",
    "\"got used to\"",
    "\"every single day\"",
    "\"my daughter\"",
    "\"the nurse\"",
    "\"before breakfast\"",
    "\"I felt\"",
    "trust*",
    "hope*",
    "listen*",
    "understand*",
    "worr*",
    "medic*",
    "appoint*",
    "remember*",
    "complain*",
    "struggl*",
    "t?ust",
    "ni?ht",
    "Jürgen",
    "jurgen",
    "José",
    "jose",
    "Zoë",
    "café",
    "naïve",
    "\"side effect*\"",
];

/// Times `f` `runs` times; the times sorted.
fn times(runs: usize, mut f: impl FnMut()) -> Vec<Duration> {
    times_and_cpu(runs, &mut f).0
}

/// As [`times`], with the CPU time this thread spent per run (milliseconds), which other
/// processes on a busy machine do not inflate as they do the wall-clock times.
fn times_and_cpu(runs: usize, f: &mut dyn FnMut()) -> (Vec<Duration>, Option<f64>) {
    let cpu_before = thread_cpu_ms();
    let mut out: Vec<Duration> = (0..runs.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    let cpu = match (cpu_before, thread_cpu_ms()) {
        (Some(a), Some(b)) => Some((b - a) / runs.max(1) as f64),
        _ => None,
    };
    out.sort();
    (out, cpu)
}

/// User and system time of the calling thread so far (Linux: /proc/thread-self/stat, in
/// clock ticks of 10 ms).
fn thread_cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // The command name, in parentheses, may hold spaces: count fields after it.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    // Fields 14 and 15 of the whole line are the 12th and 13th after the name.
    Some((ticks(11)? + ticks(12)?) * 10.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// The study's content with synthetic participants and dyads, as described above.
fn with_participants(mut bundle: StudyBundle) -> StudyBundle {
    bundle.participants.clear();
    bundle.dyads.clear();
    for (i, source) in bundle.sources.iter_mut().enumerate() {
        let role = if i % 2 == 0 {
            Role::Clinician
        } else {
            Role::Patient
        };
        let id = ParticipantId::new();
        let participant = Participant {
            id,
            label: format!("{}{:04}", if i % 2 == 0 { "C" } else { "P" }, i + 1),
            role,
            name: None,
            attributes: BTreeMap::from([
                ("age".to_string(), (25 + (i * 7) % 60).to_string()),
                (
                    "sex".to_string(),
                    if i % 3 == 0 { "female" } else { "male" }.to_string(),
                ),
            ]),
            version: 1,
        };
        source.participant = Some(id);
        for s in &mut source.speakers {
            s.role = if s.label.to_uppercase().contains("INTERVIEW") {
                Role::Interviewer
            } else {
                role
            };
            s.participant = (s.role == role).then_some(id);
        }
        if source.speakers.is_empty() {
            source.speakers = source
                .turns
                .iter()
                .filter_map(|t| t.speaker.clone())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .map(|label| Speaker {
                    role: if label.to_uppercase().contains("INTERVIEW") {
                        Role::Interviewer
                    } else {
                        role
                    },
                    label,
                    participant: None,
                })
                .collect();
        }
        if i % 2 == 1 {
            let clinician = bundle.participants[i - 1].id;
            bundle.dyads.push(Dyad {
                id: DyadId::new(),
                label: format!("D{:04}", i / 2 + 1),
                clinician,
                patient: id,
                relationship_start: None,
                notes: String::new(),
                version: 1,
            });
        }
        bundle.participants.push(participant);
    }
    bundle
}

/// The measures for one corpus (`label`: whose codings it holds).
fn measure(corpus: &Corpus, label: &str, runs: usize) -> Vec<Measure> {
    let f = CodingFilter::default();
    let mut out = Vec::new();
    let mut timed = |name: String, (sorted, cpu): (Vec<Duration>, Option<f64>), target_ms: f64| {
        let median = sorted[sorted.len() / 2];
        let name = match cpu {
            Some(cpu) => format!("{name} [CPU {cpu:.0} ms]"),
            None => name,
        };
        out.push(Measure::new(
            &name,
            ms(median),
            "ms",
            &format!("<= {target_ms:.0} ms"),
            ms(median) <= target_ms,
        ));
    };
    for by in [
        Grouping::Participant,
        Grouping::Dyad,
        Grouping::Attribute("sex".into()),
    ] {
        let t = times_and_cpu(runs, &mut || {
            std::hint::black_box(corpus.matrix(&by, None, &f).ok());
        });
        timed(format!("{label}: code × {by} matrix (median)"), t, 100.0);
    }
    let with_subcodes = CodingFilter {
        include_subcodes: true,
        ..Default::default()
    };
    let t = times_and_cpu(runs, &mut || {
        std::hint::black_box(
            corpus
                .matrix(&Grouping::Participant, None, &with_subcodes)
                .ok(),
        );
    });
    timed(
        format!("{label}: code × participant, with sub-codes (median)"),
        t,
        100.0,
    );
    for p in [
        Proximity::Overlap,
        Proximity::Near(200),
        Proximity::SameTurn,
    ] {
        let t = times_and_cpu(runs, &mut || {
            std::hint::black_box(corpus.cooccurrence(p, None, &f));
        });
        timed(format!("{label}: co-occurrence, {p} (median)"), t, 100.0);
    }
    // Boolean queries over the two most used codes (no target: reported).
    let mut used: Vec<(usize, &str)> = corpus
        .codes()
        .iter()
        .map(|c| {
            let n = corpus.codings.iter().filter(|x| x.code == c.id).count();
            (n, corpus.code_path(c.id))
        })
        .collect();
    used.sort_by(|a, b| b.cmp(a));
    if let [(_, a), (_, b), ..] = used[..] {
        for op in ["OR", "AND", "NOT", "NEAR 200"] {
            let expression = format!("\"{a}\" {op} \"{b}\"");
            let Ok(q) = CodeQuery::parse(&expression, corpus, false) else {
                continue;
            };
            let t = times(runs, || {
                std::hint::black_box(corpus.code_query(&q, &f, false, 80, 0..200));
            });
            out.push(Measure::new(
                &format!("{label}: code query A {op} B (median)"),
                ms(t[t.len() / 2]),
                "ms",
                "none",
                true,
            ));
        }
    }
    out
}

pub fn run(bench: &Workbench, runs: usize) -> Result<(Vec<Measure>, String)> {
    let bundle = with_participants(bench.bundle()?);
    let theory = bench.theory()?;
    let start = Instant::now();
    let both = Corpus::new(bundle.clone(), theory.clone());
    let build = start.elapsed();
    let mut coder1 = bundle;
    coder1.codings.retain(|c| c.coder == "coder1");
    let coder1 = Corpus::new(coder1, theory);

    let mut measures = vec![Measure::new(
        "build the corpus (both coders)",
        ms(build),
        "ms",
        "none",
        true,
    )];
    let start = Instant::now();
    let words = both.search_index().words();
    let index = start.elapsed();
    measures.push(Measure::new(
        &format!("build the text search index ({words} distinct words, once)"),
        ms(index),
        "ms",
        "none",
        true,
    ));
    measures.extend(measure(&coder1, "coder1", runs));
    measures.extend(measure(&both, "both coders", runs));

    let queries: Vec<TextQuery> = QUERIES
        .iter()
        .map(|q| TextQuery::parse(q))
        .collect::<Result<_, _>>()?;
    let all = SearchFilter::default();
    let mut hits = 0;
    let mut each = Vec::new();
    let cpu_before = thread_cpu_ms();
    for _ in 0..runs.max(1) {
        for q in &queries {
            let start = Instant::now();
            let r = both.search(q, &all, 60, 0..200);
            each.push(start.elapsed());
            hits += r.total;
        }
    }
    let cpu_mean = match (cpu_before, thread_cpu_ms()) {
        (Some(a), Some(b)) => format!(
            " [CPU {:.1} ms a search on average]",
            (b - a) / each.len() as f64
        ),
        _ => String::new(),
    };
    each.sort();
    let (p50, p95) = (percentile(&each, 0.5), percentile(&each, 0.95));
    measures.push(Measure::new(
        &format!(
            "text search, KWIC of the first 200 ({} queries, p50){cpu_mean}",
            queries.len()
        ),
        ms(p50),
        "ms",
        "none",
        true,
    ));
    measures.push(Measure::new(
        "text search, KWIC of the first 200 (p95)",
        ms(p95),
        "ms",
        "<= 50 ms",
        ms(p95) <= 50.0,
    ));
    let summary = format!(
        "findings: {} participants, {} dyads; coder1 {} codings, both coders {} codings; {} search hits per round",
        both.participants.len(),
        both.dyads.len(),
        coder1.codings.len(),
        both.codings.len(),
        hits / runs.max(1)
    );
    Ok((measures, summary))
}
