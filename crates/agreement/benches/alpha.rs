//! `cargo bench -p between-agreement`: Krippendorff's nominal alpha over 1,000,000 units ×
//! 4 coders, 5 categories, 10% missing (issue target: ≤ 50 ms).
//!
//! With `BETWEEN_DUMP=PATH` the table is also written to PATH for other implementations
//! (`bench/krippendorff_compare.sh`): one byte per cell, units × coders in row order (unit 0's
//! four coders first), the category 0–4 or 255 for missing.

use std::time::{Duration, Instant};

use between_agreement::{Level, krippendorff_alpha};

fn main() {
    // A fixed linear congruential generator: the same data on every run, no dependency.
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as u32
    };
    let data: Vec<Vec<Option<f64>>> = (0..1_000_000)
        .map(|_| {
            let truth = f64::from(next() % 5);
            (0..4)
                .map(|_| match next() % 100 {
                    0..10 => None,
                    10..30 => Some(f64::from(next() % 5)),
                    _ => Some(truth),
                })
                .collect()
        })
        .collect();
    if let Some(path) = std::env::var_os("BETWEEN_DUMP") {
        let bytes: Vec<u8> = data
            .iter()
            .flatten()
            .map(|v| v.map_or(255, |x| x as u8))
            .collect();
        std::fs::write(&path, bytes).expect("the dump file is writable");
        println!(
            "wrote the table to {}",
            std::path::Path::new(&path).display()
        );
    }
    let mut times: Vec<Duration> = (0..7)
        .map(|_| {
            let t = Instant::now();
            let alpha = krippendorff_alpha(&data, Level::Nominal);
            std::hint::black_box(alpha);
            t.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "krippendorff nominal alpha, 1,000,000 units x 4 coders, 5 categories, 10% missing: median {:.1} ms (target <= 50 ms) = {}",
        median.as_secs_f64() * 1000.0,
        krippendorff_alpha(&data, Level::Nominal)
            .value()
            .unwrap_or(f64::NAN)
    );
}
