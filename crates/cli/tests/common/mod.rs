//! Helpers shared by the command-line tests: run the `between` binary in a folder (as `maria`)
//! and check how it ended and what it printed.

// Each test file is its own crate and uses only some of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A finished run of the binary.
pub struct Run {
    pub out: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
    /// Asserts that the run succeeded.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code(),
            0,
            "stdout: {}\nstderr: {}",
            self.stdout(),
            self.stderr()
        );
        self
    }
    /// Asserts that the run failed with exit code 1 and `message` on stderr.
    #[track_caller]
    pub fn fails_with(self, message: &str) -> Self {
        assert_eq!(
            self.code(),
            1,
            "expected an error; stdout: {}\nstderr: {}",
            self.stdout(),
            self.stderr()
        );
        assert!(
            self.stderr().contains(message),
            "stderr lacks {message:?}: {}",
            self.stderr()
        );
        self
    }
}

/// Runs `between ARGS` in `dir` as the user `maria`, with the default busy timeout.
pub fn between(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_between"))
        .args(args)
        .current_dir(dir)
        .env("BETWEEN_USER", "maria")
        .env_remove("BETWEEN_BUSY_TIMEOUT_MS")
        .output()
        .expect("the between binary runs");
    Run { out }
}

/// Runs `between ARGS` in `dir` with `input` on stdin.
pub fn between_with_input(dir: &Path, args: &[&str], input: &str) -> Run {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_between"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the between binary starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("stdin is written");
    Run {
        out: child.wait_with_output().expect("the between binary runs"),
    }
}

/// Runs `between ARGS` in `dir`, asserts that it succeeded and returns its stdout.
#[track_caller]
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let run = between(dir, args);
    assert!(
        run.out.status.success(),
        "{args:?}\nstdout: {}\nstderr: {}",
        run.stdout(),
        run.stderr()
    );
    run.stdout()
}

/// Runs `between ARGS` in `dir` and asserts that it exits with `code` and `message` on stderr.
#[track_caller]
pub fn fails(dir: &Path, args: &[&str], code: i32, message: &str) {
    let run = between(dir, args);
    let stderr = run.stderr();
    assert_eq!(run.out.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(
        stderr.contains(message),
        "{args:?}: stderr lacks {message:?}: {stderr}"
    );
}

/// Writes `bytes` to `dir/name` and returns that path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("the file is written");
    path
}

/// What a test reads as JSON: a [`Run`]'s stdout, or text already taken from one.
pub trait Printed {
    fn printed(&self) -> String;
}

impl Printed for Run {
    fn printed(&self) -> String {
        self.stdout()
    }
}

impl Printed for str {
    fn printed(&self) -> String {
        self.to_string()
    }
}

impl Printed for String {
    fn printed(&self) -> String {
        self.clone()
    }
}

/// `out` read as JSON.
pub fn json<P: Printed + ?Sized>(out: &P) -> serde_json::Value {
    let text = out.printed();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Writes a generated corpus of `interviews` transcripts of about `words` words each (from
/// `shared/bench/make_corpus.py`, beside the repository) to `dir/corpus` and returns its path.
pub fn generated_corpus(dir: &Path, interviews: u32, words: u32, seed: u32) -> PathBuf {
    let generator =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench/make_corpus.py");
    assert!(
        generator.exists(),
        "shared/bench/make_corpus.py is beside the repository"
    );
    let corpus = dir.join("corpus");
    let made = Command::new("python3")
        .arg(&generator)
        .args(["--interviews", &interviews.to_string()])
        .args(["--words", &words.to_string()])
        .args(["--seed", &seed.to_string()])
        .arg("--out")
        .arg(&corpus)
        .output()
        .expect("python3 runs");
    assert!(made.status.success(), "{made:?}");
    corpus
}
