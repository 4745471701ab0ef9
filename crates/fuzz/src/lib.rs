//! Fuzzing the parsers on stable Rust, as ordinary tests that `cargo nextest run` runs.
//!
//! A target is a function of bytes that must never panic, abort or take longer than
//! [`INPUT_TIME_LIMIT`] on one input. [`fuzz`] feeds it, for [`budget`] (the environment
//! variable [`BUDGET_VAR`], seconds per target), inputs that [arbtest] draws: arbitrary bytes,
//! and mutations of real samples (bytes flipped, inserted, deleted, duplicated, spliced from
//! another sample, format tokens inserted; inside a zip, one entry mutated and the zip rebuilt,
//! so that the parser gets past the container). Every sample is first tried as it is.
//!
//! A failing input is saved under [`failure_dir`] and named in the test's failure; the input
//! being tried is always in `NAME-current.bin` there, so a stack overflow (which aborts the
//! process before anything can be said) leaves its input behind too. A saved input replays
//! with `BETWEEN_FUZZ_REPLAY=FILE`.

use std::fmt::Write as _;
use std::io::{Cursor, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use arbtest::arbitrary::{self, Unstructured};

/// The longest one input may take, the bar of issue 13.
pub const INPUT_TIME_LIMIT: Duration = Duration::from_secs(5);
/// Seconds of fuzzing per target; `0` only tries the samples as they are.
pub const BUDGET_VAR: &str = "BETWEEN_FUZZ_SECONDS";
/// Seconds per target when [`BUDGET_VAR`] is not set: fourteen targets make 84 s of fuzzing,
/// about 42 s on two cores, under CI's two minutes.
pub const DEFAULT_SECONDS: u64 = 6;
/// Where failing inputs are saved (default: `between-fuzz` in the system's temporary folder).
pub const DIR_VAR: &str = "BETWEEN_FUZZ_DIR";
/// A saved input to run alone instead of fuzzing.
pub const REPLAY_VAR: &str = "BETWEEN_FUZZ_REPLAY";
/// Inputs grown by mutation stop growing here, so that one iteration stays quick.
const MAX_GROWN: usize = 1 << 20;

/// How long each target is fuzzed.
pub fn budget() -> Duration {
    let seconds = std::env::var(BUDGET_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(DEFAULT_SECONDS);
    Duration::from_secs(seconds)
}

/// Where failing inputs are saved.
pub fn failure_dir() -> PathBuf {
    std::env::var_os(DIR_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("between-fuzz"))
}

/// A real input to start mutations from.
#[derive(Clone, Debug)]
pub enum Sample {
    Bytes(Vec<u8>),
    /// A zip's entries (name, content), mutated inside and zipped again.
    Zip(Vec<(String, Vec<u8>)>),
}

impl Sample {
    /// A sample as its bytes; a zip is kept as its entries.
    pub fn new(bytes: Vec<u8>) -> Self {
        match bytes.starts_with(b"PK\x03\x04").then(|| unzip(&bytes)) {
            Some(Some(entries)) => Sample::Zip(entries),
            _ => Sample::Bytes(bytes),
        }
    }

    /// The sample as a parser reads it.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Sample::Bytes(b) => b.clone(),
            Sample::Zip(entries) => zip(entries),
        }
    }
}

/// The samples and the format's tokens that mutations insert.
#[derive(Clone, Debug, Default)]
pub struct Seeds {
    pub samples: Vec<Sample>,
    pub tokens: Vec<Vec<u8>>,
}

impl Seeds {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn sample(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.samples.push(Sample::new(bytes.into()));
        self
    }

    /// Every file in `dir` whose name ends with one of `extensions` (case-insensitive), in
    /// name order, at most `limit` of them.
    pub fn files(mut self, dir: impl AsRef<Path>, extensions: &[&str], limit: usize) -> Self {
        let dir = dir.as_ref();
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.to_string_lossy().to_lowercase();
                extensions.iter().any(|x| name.ends_with(&x.to_lowercase()))
            })
            .collect();
        paths.sort();
        assert!(
            !paths.is_empty(),
            "{}: no {extensions:?} files",
            dir.display()
        );
        for path in paths.into_iter().take(limit) {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            self.samples.push(Sample::new(bytes));
        }
        self
    }

    pub fn tokens<T: AsRef<[u8]>>(mut self, tokens: &[T]) -> Self {
        self.tokens
            .extend(tokens.iter().map(|t| t.as_ref().to_vec()));
        self
    }
}

/// What a target did with one input.
enum Outcome {
    Done(Duration),
    Panicked(String),
}

/// Runs `target` on its own thread (a default 2 MiB stack, as a server's worker has), an input
/// at a time, so that an input that never ends is caught by a timeout rather than a hung test.
struct Worker {
    inputs: mpsc::Sender<Arc<Vec<u8>>>,
    outcomes: mpsc::Receiver<Outcome>,
}

impl Worker {
    fn start(mut target: impl FnMut(&[u8]) + Send + 'static) -> Self {
        let (inputs, inbox) = mpsc::channel::<Arc<Vec<u8>>>();
        let (outbox, outcomes) = mpsc::channel();
        std::thread::Builder::new()
            .name("fuzz-target".into())
            .spawn(move || {
                for input in inbox {
                    let t = Instant::now();
                    let outcome = match catch_unwind(AssertUnwindSafe(|| target(&input))) {
                        Ok(()) => Outcome::Done(t.elapsed()),
                        Err(payload) => Outcome::Panicked(panic_message(payload.as_ref())),
                    };
                    if outbox.send(outcome).is_err() {
                        return;
                    }
                }
            })
            .expect("a thread for the fuzz target");
        Self { inputs, outcomes }
    }

    fn run(&self, input: Arc<Vec<u8>>) -> Result<Duration, String> {
        self.inputs
            .send(input)
            .expect("the fuzz target's thread is alive");
        match self.outcomes.recv_timeout(INPUT_TIME_LIMIT) {
            Ok(Outcome::Done(took)) if took > INPUT_TIME_LIMIT => {
                Err(format!("took {took:?}, over {INPUT_TIME_LIMIT:?}"))
            }
            Ok(Outcome::Done(took)) => Ok(took),
            Ok(Outcome::Panicked(message)) => Err(format!("panicked: {message}")),
            Err(_) => Err(format!("did not finish within {INPUT_TIME_LIMIT:?}")),
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic without a message)".into())
}

/// The current input, on disk before it runs.
struct Current {
    file: std::fs::File,
}

impl Current {
    fn open(path: &Path) -> Self {
        let file =
            std::fs::File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Self { file }
    }

    fn keep(&mut self, input: &[u8]) {
        use std::io::Seek;
        // Best effort: the copy only matters when the process aborts.
        let _ = self.file.set_len(0);
        let _ = self.file.rewind();
        let _ = self.file.write_all(input);
    }
}

/// Fuzzes `target` for [`budget`]: first every sample as it is, then mutations and arbitrary
/// bytes. Panics (failing the test) on the first input that panics the target or takes over
/// [`INPUT_TIME_LIMIT`], naming the file the input was saved to.
pub fn fuzz(name: &str, seeds: &Seeds, target: impl FnMut(&[u8]) + Send + 'static) {
    let dir = failure_dir();
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let current_path = dir.join(format!("{name}-current.bin"));
    eprintln!(
        "{name}: the input being tried is in {} (an abort leaves it there)",
        current_path.display()
    );
    let mut current = Current::open(&current_path);
    let worker = Worker::start(target);
    let mut stats = Stats::default();
    let mut try_input = |input: Vec<u8>, stats: &mut Stats| {
        current.keep(&input);
        let input = Arc::new(input);
        match worker.run(Arc::clone(&input)) {
            Ok(took) => stats.record(took, input.len()),
            Err(what) => {
                let saved = save(&dir, name, &input);
                panic!(
                    "{name}: an input of {} bytes {what}; saved as {} (replay: {REPLAY_VAR}={} cargo nextest run -E 'test({name})')",
                    input.len(),
                    saved.display(),
                    saved.display()
                );
            }
        }
    };
    if let Some(replay) = std::env::var_os(REPLAY_VAR) {
        let bytes = std::fs::read(&replay)
            .unwrap_or_else(|e| panic!("{}: {e}", Path::new(&replay).display()));
        try_input(bytes, &mut stats);
        return;
    }
    for sample in &seeds.samples {
        try_input(sample.bytes(), &mut stats);
    }
    let budget = budget();
    if !budget.is_zero() {
        arbtest::arbtest(|u| {
            let input = generate(u, seeds)?;
            try_input(input, &mut stats);
            Ok(())
        })
        // Mutations need few random bytes; more would only cost time to draw.
        .size_max(8 << 10)
        .budget(budget)
        .run();
    }
    eprintln!("{name}: {}", stats.summary());
}

#[derive(Default)]
struct Stats {
    inputs: u64,
    total: Duration,
    slowest: Duration,
    slowest_len: usize,
}

impl Stats {
    fn record(&mut self, took: Duration, len: usize) {
        self.inputs += 1;
        self.total += took;
        if took > self.slowest {
            self.slowest = took;
            self.slowest_len = len;
        }
    }

    fn summary(&self) -> String {
        format!(
            "{} inputs in {:.1?} of parsing; the slowest took {:.1?} ({} bytes)",
            self.inputs, self.total, self.slowest, self.slowest_len
        )
    }
}

fn save(dir: &Path, name: &str, input: &[u8]) -> PathBuf {
    // FNV-1a: a stable name per input, so the same crash is saved once.
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let path = dir.join(format!("{name}-{hash:016x}.bin"));
    if let Err(e) = std::fs::write(&path, input) {
        eprintln!("{}: {e}", path.display());
    }
    path
}

/// One input: arbitrary bytes now and then, else a mutated sample.
fn generate(u: &mut Unstructured<'_>, seeds: &Seeds) -> arbitrary::Result<Vec<u8>> {
    if seeds.samples.is_empty() || u.ratio(1, 8)? {
        let len = u.int_in_range(0..=512)?;
        return Ok(u.bytes(len.min(u.len()))?.to_vec());
    }
    let sample = u.choose(&seeds.samples)?;
    match sample {
        Sample::Bytes(bytes) => mutate(u, bytes.clone(), seeds),
        Sample::Zip(entries) if u.ratio(1, 8)? => mutate(u, zip(entries), seeds),
        Sample::Zip(entries) => {
            let mut entries = entries.clone();
            match u.int_in_range(0..=9)? {
                0 if entries.len() > 1 => {
                    let gone = u.choose_index(entries.len())?;
                    entries.remove(gone);
                }
                1 => {
                    let i = u.choose_index(entries.len())?;
                    entries[i].0 = String::from_utf8_lossy(&mutate(
                        u,
                        entries[i].0.clone().into_bytes(),
                        seeds,
                    )?)
                    .into_owned();
                }
                _ => {
                    // The XML entries are where the parsers are.
                    let xml: Vec<usize> = (0..entries.len())
                        .filter(|&i| is_markup(&entries[i].0))
                        .collect();
                    let i = if xml.is_empty() {
                        u.choose_index(entries.len())?
                    } else {
                        *u.choose(&xml)?
                    };
                    let content = std::mem::take(&mut entries[i].1);
                    entries[i].1 = mutate(u, content, seeds)?;
                }
            }
            Ok(zip(&entries))
        }
    }
}

fn is_markup(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [".xml", ".qde", ".rels"].iter().any(|x| name.ends_with(x))
}

/// One to eight mutations of `bytes`.
fn mutate(
    u: &mut Unstructured<'_>,
    mut bytes: Vec<u8>,
    seeds: &Seeds,
) -> arbitrary::Result<Vec<u8>> {
    for _ in 0..u.int_in_range(1..=8)? {
        let len = bytes.len();
        let at = if len == 0 {
            0
        } else {
            u.int_in_range(0..=len)?
        };
        match u.int_in_range(0..=8)? {
            0 if at < len => bytes[at] = u.arbitrary()?,
            1 if at < len => bytes[at] ^= 1 << u.int_in_range(0..=7)?,
            2 => {
                let n = u.int_in_range(1..=16)?;
                let insert = u.bytes(n.min(u.len()))?.to_vec();
                bytes.splice(at..at, insert);
            }
            3 if at < len => {
                let n = u.int_in_range(1..=(len - at).min(256))?;
                bytes.drain(at..at + n);
            }
            4 if at < len && len < MAX_GROWN => {
                // A stretch repeated: more of the same structure.
                let n = u.int_in_range(1..=(len - at).min(4096))?;
                let copy = bytes[at..at + n].to_vec();
                let to = u.int_in_range(0..=len)?;
                bytes.splice(to..to, copy);
            }
            5 | 6 if !seeds.tokens.is_empty() => {
                let token = u.choose(&seeds.tokens)?.clone();
                bytes.splice(at..at, token);
            }
            7 if !seeds.samples.is_empty() => {
                // A piece of another sample (for a zip, of its first markup entry).
                let other = match u.choose(&seeds.samples)? {
                    Sample::Bytes(b) => b,
                    Sample::Zip(entries) => match entries.iter().find(|(n, _)| is_markup(n)) {
                        Some((_, b)) => b,
                        None => continue,
                    },
                };
                if other.is_empty() {
                    continue;
                }
                let from = u.choose_index(other.len())?;
                let n = u.int_in_range(1..=(other.len() - from).min(1024))?;
                bytes.splice(at..at, other[from..from + n].iter().copied());
            }
            8 => bytes.truncate(at),
            _ => {}
        }
    }
    Ok(bytes)
}

fn unzip(bytes: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let mut entries = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).ok()?;
        if entry.is_dir() {
            continue;
        }
        let mut content = Vec::new();
        entry.read_to_end(&mut content).ok()?;
        entries.push((entry.name().ok()?.to_string(), content));
    }
    Some(entries)
}

/// The entries as a zip, stored (compressing would only cost time).
pub fn zip(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(false);
    let mut names = String::new();
    for (name, content) in entries {
        // A mutated name may repeat another: the writer refuses duplicates, a reader must
        // still cope with odd names.
        if out.start_file(name.as_str(), options).is_err() {
            names.clear();
            let _ = write!(names, "{name}~");
            if out.start_file(names.as_str(), options).is_err() {
                continue;
            }
        }
        let _ = out.write_all(content);
    }
    out.finish().map(Cursor::into_inner).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_target_fails_with_its_input_saved() {
        let seeds = Seeds::new()
            .sample(b"fine".to_vec())
            .sample(b"boom".to_vec());
        let failure = catch_unwind(|| {
            fuzz("harness-self-test", &seeds, |input| {
                assert!(input != b"boom", "the target fell over");
            })
        })
        .expect_err("the crashing sample fails the run");
        let message = panic_message(failure.as_ref());
        assert!(
            message.contains("panicked: the target fell over"),
            "{message}"
        );
        let saved = message
            .split("saved as ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .expect("the message names the saved file");
        assert_eq!(std::fs::read(saved).expect("saved input"), b"boom");
    }

    #[test]
    fn zipped_samples_are_mutated_inside_and_stay_zips() {
        let entries = vec![
            (
                "project.qde".to_string(),
                b"<Project><Codes/></Project>".to_vec(),
            ),
            ("sources/a.txt".to_string(), b"hello".to_vec()),
        ];
        let sample = Sample::new(zip(&entries));
        assert!(matches!(&sample, Sample::Zip(e) if *e == entries));
        let seeds = Seeds {
            samples: vec![sample],
            tokens: vec![b"<Code>".to_vec()],
        };
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mut u = Unstructured::new(&noise);
        let mut zips = 0;
        for _ in 0..20 {
            let input = generate(&mut u, &seeds).expect("an input");
            zips += usize::from(unzip(&input).is_some());
        }
        assert!(zips > 10, "most inputs stay readable zips ({zips} of 20)");
    }
}
