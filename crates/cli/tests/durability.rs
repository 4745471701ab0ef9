//! A server killed with SIGKILL in the middle of a coding load loses no acknowledged coding
//! (every 201 means the coding was committed to disk) and leaves an intact study file.

#![allow(clippy::unwrap_used)] // a failing test step should stop the test

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

const PASSWORD: &str = "a durable password";
/// Acknowledged codings after which the server is killed.
const KILL_AFTER: usize = 300;
const CLIENTS: usize = 8;

fn between(dir: &Path, args: &[&str], input: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_between"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "between {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts `between serve` and returns it with its API base URL, read from its first line.
fn serve(dir: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_between"))
        .args(["serve", "d.between", "--bind", "127.0.0.1:0"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    std::thread::spawn(move || for _ in lines {});
    let url = first
        .split(" at ")
        .nth(1)
        .unwrap()
        .trim_end_matches('/')
        .replacen("/s/", "/api/v1/studies/", 1);
    (child, url)
}

async fn login(http: &reqwest::Client, base: &str) -> (String, String) {
    let res = http
        .post(format!("{base}/session"))
        .json(&json!({"name": "maria", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let body: Value = res.json().await.unwrap();
    (cookie, body["csrf_token"].as_str().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_coding_load_loses_no_acknowledged_coding() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    between(d, &["init", "d.between", "--no-theory"], "");
    between(d, &["codebook", "add", "d.between", "Hope"], "");
    for i in 0..4 {
        std::fs::write(
            d.join(format!("t{i}.txt")),
            format!(
                "INTERVIEWER: Question {i}?\n\nPATIENT: {}\n",
                "I hoped for more. ".repeat(60)
            ),
        )
        .unwrap();
    }
    between(
        d,
        &[
            "import",
            "d.between",
            "t0.txt",
            "t1.txt",
            "t2.txt",
            "t3.txt",
        ],
        "",
    );
    between(
        d,
        &["user", "add", "d.between", "maria", "--role", "coder"],
        &format!("{PASSWORD}\n"),
    );

    let (mut server, base) = serve(d);
    let http = reqwest::Client::new();
    let (cookie, csrf) = login(&http, &base).await;
    let get = |path: String| {
        http.get(format!("{base}{path}"))
            .header("cookie", &cookie)
            .send()
    };
    let sources: Value = get("/sources".into()).await.unwrap().json().await.unwrap();
    let codebook: Value = get("/codebook".into()).await.unwrap().json().await.unwrap();
    let code = codebook[0]["code"]["id"].as_str().unwrap().to_string();
    let targets: Vec<String> = sources
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();

    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (http, base, cookie, csrf, code, targets) = (
            http.clone(),
            base.clone(),
            cookie.clone(),
            csrf.clone(),
            code.clone(),
            targets.clone(),
        );
        let (acknowledged, count) = (acknowledged.clone(), count.clone());
        clients.push(tokio::spawn(async move {
            // Each client codes until the server is gone; only 201 answers count as promises.
            for i in 0.. {
                let start = (c * 13 + i * 7) % 900;
                let body = json!({"source": targets[i % targets.len()], "code": code, "start": start, "end": start + 20});
                let sent = http.post(format!("{base}/codings")).header("cookie", &cookie).header("x-csrf-token", &csrf).json(&body).send().await;
                let Ok(res) = sent else { break };
                if res.status() != reqwest::StatusCode::CREATED {
                    break;
                }
                let Ok(view) = res.json::<Value>().await else { break };
                acknowledged.lock().unwrap().push(view["coding"]["id"].as_str().unwrap().to_string());
                count.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    // Kill in the middle of the load: once enough codings are acknowledged, while clients send.
    let mut watch = tokio::time::interval(std::time::Duration::from_millis(5));
    while count.load(Ordering::SeqCst) < KILL_AFTER {
        watch.tick().await;
        assert!(
            server.try_wait().unwrap().is_none(),
            "the server stopped on its own"
        );
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    for c in clients {
        c.await.unwrap();
    }
    let promised: HashSet<String> = acknowledged.lock().unwrap().iter().cloned().collect();
    assert!(promised.len() >= KILL_AFTER);

    // Restart and count: every acknowledged coding is there.
    let (mut server, base) = serve(d);
    let (cookie, _) = login(&http, &base).await;
    // The list comes a page at a time: read pages until an empty one.
    let mut stored: HashSet<String> = HashSet::new();
    loop {
        let page: Value = http
            .get(format!(
                "{base}/codings?coder=maria&limit=1000&offset={}",
                stored.len()
            ))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let page = page.as_array().unwrap();
        if page.is_empty() {
            break;
        }
        stored.extend(
            page.iter()
                .map(|v| v["coding"]["id"].as_str().unwrap().to_string()),
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let lost: Vec<&String> = promised.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged codings were lost: {lost:?}",
        lost.len(),
        promised.len()
    );
    let conn = rusqlite::Connection::open(d.join("d.between")).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
