//! Parsing throughput against the 50 MB/s target: the PriMock57 TextGrids (all 114, parsed and
//! merged per consultation, several times over), a generated multi-MB WebVTT file and a
//! generated multi-MB plain transcript. `cargo bench -p between-ingest`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use between_ingest::format_timestamp as clock;
use between_ingest::{Format, ParseOptions, merge_dialogue, parse, parse_textgrid};

const TARGET_MB_S: f64 = 50.0;
const PRIMOCK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/primock57/transcripts"
);

fn main() {
    let mut results = Vec::new();

    // (doctor, patient) file pairs, every consultation.
    let mut pairs = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(PRIMOCK)
        .expect("../shared/data/primock57 is beside the repository")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with("_doctor.TextGrid"))
        .collect();
    names.sort();
    for doctor in &names {
        let patient = doctor.replace("_doctor", "_patient");
        let read = |n: &str| std::fs::read(format!("{PRIMOCK}/{n}")).expect("readable");
        pairs.push((
            (doctor.clone(), read(doctor)),
            (patient.clone(), read(&patient)),
        ));
    }
    let once: usize = pairs.iter().map(|(d, p)| d.1.len() + p.1.len()).sum();
    let rounds = (16 << 20) / once + 1;
    results.push(measure(
        &format!("TextGrid (114 PriMock57 files x {rounds}, parsed and merged)"),
        once * rounds,
        || {
            let mut turns = 0;
            for _ in 0..rounds {
                for ((dn, db), (pn, pb)) in &pairs {
                    let d = parse_textgrid(dn, db, Some("doctor")).expect("parses");
                    let p = parse_textgrid(pn, pb, Some("patient")).expect("parses");
                    turns += merge_dialogue(vec![d, p]).turns.len();
                }
            }
            assert_eq!(turns, 7_108 * rounds);
        },
    ));

    let vtt = generated_vtt(16 << 20);
    results.push(measure("WebVTT (generated)", vtt.len(), || {
        let t = parse(
            "bench.vtt",
            vtt.as_bytes(),
            Format::Vtt,
            &ParseOptions::default(),
        )
        .expect("parses");
        assert!(t.turns.len() > 1000);
        black_box(t);
    }));

    let txt = generated_plain(16 << 20);
    results.push(measure("plain text (generated)", txt.len(), || {
        let t = parse(
            "bench.txt",
            txt.as_bytes(),
            Format::Txt,
            &ParseOptions::default(),
        )
        .expect("parses");
        assert!(t.turns.len() > 1000);
        black_box(t);
    }));

    println!();
    let mut all_ok = true;
    for (name, mb_s) in results {
        let ok = mb_s >= TARGET_MB_S;
        all_ok &= ok;
        println!(
            "{name:<62} {mb_s:>8.1} MB/s  (target {TARGET_MB_S} MB/s: {})",
            if ok { "met" } else { "MISSED" }
        );
    }
    if !all_ok {
        std::process::exit(1);
    }
}

/// Best of five runs, in MB/s (10^6 bytes).
fn measure(name: &str, bytes: usize, mut run: impl FnMut()) -> (String, f64) {
    run(); // warm up
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        run();
        best = best.min(start.elapsed());
    }
    let mb_s = bytes as f64 / 1e6 / best.as_secs_f64();
    println!(
        "{name}: {:.1} MB in {:.1} ms",
        bytes as f64 / 1e6,
        best.as_secs_f64() * 1e3
    );
    (name.to_string(), mb_s)
}

const SENTENCES: [&str; 6] = [
    "Zoë said it started on Tuesday — “a dull ache” 🙂, mostly at night.",
    "And the tablets, did they help at all?",
    "Um, a bit. <UNSURE>Maybe</UNSURE> the first two days, then <UNIN/> not really.",
    "Any fever, nausea, or changes in appetite since then?",
    "Non, pas vraiment; I’ve been eating normally, just tired.",
    "OK. Let’s have a look and then talk about what we do next.",
];

/// A WebVTT file of at least `bytes` bytes: alternating voices, sometimes two cues in a row of
/// one speaker, CRLF line ends.
fn generated_vtt(bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 256);
    s.push_str("WEBVTT - generated consultation\r\n\r\n");
    let mut at = 0u64;
    let mut k = 0usize;
    while s.len() < bytes {
        let speaker = if (k / 3 + k).is_multiple_of(2) {
            "Dr Okafor"
        } else {
            "Zoë Martin"
        };
        let len = 1_000 + (k as u64 * 37) % 4_000;
        s.push_str(&format!(
            "{}\r\n{} --> {}\r\n<v {speaker}>{}\r\n<i>{}</i>\r\n\r\n",
            k + 1,
            clock(at),
            clock(at + len),
            SENTENCES[k % SENTENCES.len()],
            SENTENCES[(k + 3) % SENTENCES.len()],
        ));
        at += len;
        k += 1;
    }
    s
}

/// A plain transcript of at least `bytes` bytes: `[hh:mm:ss] LABEL: text`, continuation lines.
fn generated_plain(bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 256);
    s.push_str("Interview 12, clinic B, 3 May\n\n");
    let mut k = 0usize;
    while s.len() < bytes {
        let speaker = if k.is_multiple_of(2) {
            "INTERVIEWER"
        } else {
            "Ms O’Neill"
        };
        s.push_str(&format!(
            "[{}] {speaker}: {}\n{}\n\n",
            &clock(k as u64 * 4_000)[..8],
            SENTENCES[k % SENTENCES.len()],
            SENTENCES[(k + 1) % SENTENCES.len()],
        ));
        k += 1;
    }
    s
}
