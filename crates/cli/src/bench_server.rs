//! `between bench --server`: the web workbench's speed targets, measured over loopback against
//! `between serve` running as its own process (so its memory is its own).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use crate::bench::Measure;

pub const PASSWORD_FOR_BENCH: &str = "benchmark password";
const PASSWORD: &str = PASSWORD_FOR_BENCH;

/// A server process, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(study: &Path) -> Result<Server> {
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "serve",
            &study.display().to_string(),
            "--bind",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let line = lines
        .next()
        .ok_or_else(|| anyhow!("the server said nothing"))??;
    let url = line
        .split(" at ")
        .nth(1)
        .ok_or_else(|| anyhow!("unexpected first line: {line}"))?;
    let base = url
        .trim_end_matches('/')
        .replacen("/s/", "/api/v1/studies/", 1);
    // Keep reading its output so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok(Server { child, base })
}

/// The server's peak memory target for this workload (issue 13): resident memory, in MiB.
pub const SERVER_PEAK_MIB: f64 = 80.0;

/// The server process's resident memory, read from `/proc` (Linux; `None` elsewhere).
struct Memory {
    pid: u32,
}

impl Memory {
    /// The highest resident memory (MiB) since the process started or since the last
    /// [`Memory::new_peak`].
    fn peak_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        let kib: f64 = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        Some(kib / 1024.0)
    }

    /// Ends a phase: its peak, and a new peak starts (the kernel forgets the highest resident
    /// memory so far).
    fn new_peak(&self) -> f64 {
        let peak = self.peak_mib().unwrap_or(f64::NAN);
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5");
        peak
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

impl Client {
    async fn login(base: &str, name: &str) -> Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()?;
        let res = http
            .post(format!("{base}/session"))
            .json(&json!({"name": name, "password": PASSWORD}))
            .send()
            .await?;
        if !res.status().is_success() {
            bail!("login as {name}: {}", res.text().await?);
        }
        let cookie = res
            .headers()
            .get("set-cookie")
            .and_then(|c| c.to_str().ok())
            .and_then(|c| c.split(';').next())
            .ok_or_else(|| anyhow!("no session cookie"))?
            .to_string();
        let body: Value = res.json().await?;
        let csrf = body["csrf_token"].as_str().unwrap_or_default().to_string();
        Ok(Self {
            http,
            base: base.to_string(),
            cookie,
            csrf,
        })
    }

    async fn fetch(&self, path: &str) -> Result<reqwest::Response> {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await?;
        if !res.status().is_success() {
            bail!("GET {path}: {}", res.status());
        }
        Ok(res)
    }

    async fn get(&self, path: &str) -> Result<Value> {
        Ok(self.fetch(path).await?.json().await?)
    }

    /// Fetches and returns the server's own time for the request (its Server-Timing header).
    async fn server_time(&self, path: &str) -> Result<Duration> {
        let res = self.fetch(path).await?;
        let ms: f64 = res
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split("dur=").nth(1))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| anyhow!("no Server-Timing header"))?;
        res.bytes().await?;
        Ok(Duration::from_secs_f64(ms / 1000.0))
    }

    /// Follows a paged list (`offset`, `limit` at the most the server gives, `X-Total-Count`)
    /// to its end; returns how many rows came, the server's time for all pages, and the time
    /// until the last page's body was received.
    async fn every_page(&self, path: &str) -> Result<(usize, Duration, Duration)> {
        let started = Instant::now();
        let sep = if path.contains('?') { '&' } else { '?' };
        let (mut rows, mut server) = (0, Duration::ZERO);
        loop {
            let res = self
                .fetch(&format!(
                    "{path}{sep}offset={rows}&limit={}",
                    between_server::MAX_PAGE_ROWS
                ))
                .await?;
            let header = |name: &str| {
                res.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let total: usize = header("x-total-count")
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| anyhow!("{path}: no X-Total-Count header"))?;
            if let Some(ms) = header("server-timing")
                .and_then(|v| v.split("dur=").nth(1).and_then(|v| v.parse::<f64>().ok()))
            {
                server += Duration::from_secs_f64(ms / 1000.0);
            }
            let page: Value = res.json().await?;
            let got = page.as_array().map_or(0, Vec::len);
            rows += got;
            if got == 0 || rows >= total {
                return Ok((rows, server, started.elapsed()));
            }
        }
    }

    async fn post(&self, path: &str, body: &Value) -> Result<reqwest::StatusCode> {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await?;
        let status = res.status();
        res.bytes().await?;
        Ok(status)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs the server measurements on a study that already holds the corpus and both coders.
pub fn run(study: &Path, load_codings: usize, clients: usize) -> Result<Vec<Measure>> {
    let server = start(study)?;
    let memory = Memory {
        pid: server.child.id(),
    };
    // Each phase's peak, to see which work needs the memory.
    let mut phases: Vec<(&str, f64)> = Vec::new();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let reader = Client::login(&server.base, "coder1").await?;
        let sources = reader.get("/sources").await?;
        let sources: Vec<Value> = sources.as_array().cloned().unwrap_or_default();
        let first = sources.first().ok_or_else(|| anyhow!("no sources"))?["id"].as_str().unwrap_or_default().to_string();
        phases.push(("starting, logging in, listing sources", memory.new_peak()));

        // Opening a document: the transcript and all its codings.
        let mut opens = Vec::new();
        for _ in 0..200 {
            let text = reader.server_time(&format!("/sources/{first}")).await?;
            let (_, codings, _) = reader.every_page(&format!("/sources/{first}/codings")).await?;
            opens.push(text + codings);
        }
        opens.sort();
        phases.push(("opening a document 200 times", memory.new_peak()));

        // Listing every coding of a coder.
        let mut lists = Vec::new();
        for _ in 0..5 {
            lists.push(reader.every_page("/codings?coder=coder1").await?.2);
        }
        let listed = reader.every_page("/codings?coder=coder1").await?.0;
        lists.sort();
        phases.push(("listing a coder's codings 6 times", memory.new_peak()));

        // Concurrent coding: `clients` coders' browsers creating codings as fast as they can.
        let codebook = reader.get("/codebook").await?;
        let code = codebook[0]["code"]["id"].as_str().unwrap_or_default().to_string();
        let targets: Vec<(String, usize)> = sources
            .iter()
            .map(|s| (s["id"].as_str().unwrap_or_default().to_string(), s["text_length"].as_u64().unwrap_or(0) as usize))
            .collect();
        let per_client = load_codings.div_ceil(clients);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..clients {
            let client = Client::login(&server.base, if c % 2 == 0 { "coder1" } else { "coder2" }).await?;
            let (code, targets) = (code.clone(), targets.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per_client);
                for i in 0..per_client {
                    let (source, len) = &targets[(c * per_client + i) % targets.len()];
                    let start = (i * 37) % len.saturating_sub(50).max(1);
                    let body = json!({"source": source, "code": code, "start": start, "end": start + 40});
                    let t = Instant::now();
                    let status = client.post("/codings", &body).await?;
                    if status != reqwest::StatusCode::CREATED {
                        bail!("creating a coding: {status}");
                    }
                    latencies.push(t.elapsed());
                }
                Ok::<_, anyhow::Error>(latencies)
            }));
        }
        let mut latencies = Vec::new();
        for t in tasks {
            latencies.extend(t.await??);
        }
        let elapsed = started.elapsed();
        latencies.sort();
        let rate = latencies.len() as f64 / elapsed.as_secs_f64();
        phases.push(("logging in and coding, all clients", memory.new_peak()));
        let peak = phases.iter().map(|p| p.1).fold(f64::NAN, f64::max);
        if peak.is_nan() {
            bail!("the server's memory could not be read from /proc/{}/status: its target is unmeasured", server.child.id());
        }

        let (p50, p99, c99, list) = (ms(percentile(&opens, 0.5)), ms(percentile(&opens, 0.99)), ms(percentile(&latencies, 0.99)), ms(lists[2]));
        // The API answers a page at a time (at most MAX_PAGE_ROWS): the earlier target of 100 ms
        // for one whole list holds per page.
        let pages = listed.div_ceil(between_server::MAX_PAGE_ROWS).max(1);
        let per_page = list / pages as f64;
        let mut measures = vec![
            Measure::new("open a document view (server time), p50", p50, "ms", "<= 2 ms", p50 <= 2.0),
            Measure::new("open a document view (server time), p99", p99, "ms", "<= 10 ms", p99 <= 10.0),
            Measure::new(&format!("create codings, {clients} clients"), rate, "/s", ">= 2500/s", rate >= 2500.0),
            Measure::new("create a coding, p99", c99, "ms", "<= 15 ms", c99 <= 15.0),
            Measure::new(&format!("list a page of a coder's codings ({} rows at most)", between_server::MAX_PAGE_ROWS), per_page, "ms", "<= 100 ms", per_page <= 100.0),
            Measure::new(&format!("  all {pages} pages of their {listed} codings"), list, "ms", "none", true),
        ];
        measures.extend(phases.iter().map(|(phase, mib)| Measure::new(&format!("  peak while {phase}"), *mib, "MiB", "none", true)));
        measures.push(Measure::new(
            "server peak memory (resident)",
            peak,
            "MiB",
            &format!("<= {SERVER_PEAK_MIB} MiB"),
            peak <= SERVER_PEAK_MIB,
        ).required());
        Ok::<_, anyhow::Error>(measures)
    })
    .context("the server benchmark")
}
