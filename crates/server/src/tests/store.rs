//! The study file under pressure: a full disk, a read-only file, a busy study, another process
//! rewriting texts, recordings that lead out of the study's folder.

use super::*;
use between_store::{SqliteStore, Store};
use between_study::Workbench;

/// The sample world's study served again, opened with `options`.
fn reopened(options: &OpenOptions) -> World {
    let World { _dir: dir, .. } = world();
    let bench = Workbench::open(&dir.path().join("sample.between"), options, "t").unwrap();
    World {
        app: App::new(vec![StudyHandle::new("sample", bench)]),
        _dir: dir,
    }
}

fn memo(text: &str) -> Option<Value> {
    Some(json!({"on": "study", "title": "Note", "text": text}))
}

async fn memo_texts(w: &World, s: &Session) -> Vec<String> {
    let r = w.call(s, Method::GET, "/memos", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["memo"]["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_full_disk_answers_507_and_keeps_nothing_half_written() {
    // The file may not grow: as on a full disk.
    let w = reopened(&OpenOptions {
        size_limit: Some(1),
        ..Default::default()
    });
    let maria = w.login("sample", "maria").await;
    let before = memo_texts(&w, &maria).await;
    let big = "words ".repeat(100_000);
    let r = w.call(&maria, Method::POST, "/memos", memo(&big)).await;
    assert_eq!(r.status, StatusCode::INSUFFICIENT_STORAGE, "{}", r.text);
    assert_eq!(error_code(&r), "disk_full");
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("disk is full") && message.contains("not saved"),
        "{message}"
    );
    assert_eq!(memo_texts(&w, &maria).await, before, "nothing was kept");
}

#[tokio::test]
async fn a_read_only_study_answers_503_and_is_not_served_by_open() {
    let read_only = OpenOptions {
        read_only: true,
        ..Default::default()
    };
    let w = reopened(&read_only);
    let maria = w.login("sample", "maria").await;
    let r = w.call(&maria, Method::POST, "/memos", memo("x")).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    assert_eq!(error_code(&r), "read_only");
    assert!(r.text.contains("read-only"), "{}", r.text);
    // Reading still works.
    memo_texts(&w, &maria).await;

    // `between serve` refuses such a study up front rather than fail every change.
    let file = w._dir.path().join("sample.between");
    let err = App::open(&[&file], &read_only, false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("sample.between") && err.contains("read-only"),
        "{err}"
    );
    // A file the server may not write, as its permissions say (root writes anyway).
    let mut permissions = std::fs::metadata(&file).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&file, permissions).unwrap();
    if std::fs::OpenOptions::new().write(true).open(&file).is_ok() {
        eprintln!("skipped the unwritable file: this process may write it anyway (root)");
        return;
    }
    let err = App::open(&[&file], &OpenOptions::default(), false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not writable"), "{err}");
}

#[tokio::test]
async fn a_read_answers_while_a_write_waits_for_another_process() {
    let w = world();
    let maria = w.login("sample", "maria").await;
    // Another process holds the study's write lock.
    let mut other = SqliteStore::open(
        &w._dir.path().join("sample.between"),
        &OpenOptions::default(),
    )
    .unwrap();
    let lock = other.transaction("cli").unwrap();
    let write = w.call(&maria, Method::POST, "/memos", memo("after the lock"));
    tokio::pin!(write);
    // On until the write holds the study's writer, waiting there for the lock.
    let study = w.app.study("sample").unwrap();
    while study.writer.try_lock().is_ok() {
        tokio::select! {
            biased;
            written = &mut write => panic!("the write ended at once: {}", written.text),
            () = tokio::task::yield_now() => {}
        }
    }
    let read = tokio::select! {
        read = w.call(&maria, Method::GET, "/codebook", None) => read,
        written = &mut write => panic!("the write ended before the read: {}", written.text),
    };
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    drop(lock);
    let written = write.await;
    assert_eq!(written.status, StatusCode::CREATED, "{}", written.text);
}

#[tokio::test]
async fn a_deidentification_by_another_process_is_served_at_once() {
    let w = world();
    let maria = w.login("sample", "maria").await;
    let source = w.first_source(&maria, "p01-whitfield.txt").await;
    let id = source["id"].as_str().unwrap().to_string();
    let text = source["text"].as_str().unwrap().to_string();
    let term = "George";
    assert!(text.contains(term));
    let codings = w
        .call(&maria, Method::GET, &format!("/sources/{id}/codings"), None)
        .await;
    assert_eq!(codings.status, StatusCode::OK);
    // The command line, in a process of its own, de-identifies the study.
    let mut cli = Workbench::open(
        &w._dir.path().join("sample.between"),
        &OpenOptions::default(),
        "cli",
    )
    .unwrap();
    let applied = cli
        .deidentify(
            &[between_study::Pseudonym {
                term: term.into(),
                pseudonym: "[P1]".into(),
            }],
            Default::default(),
            None,
        )
        .unwrap();
    assert!(applied.vacuum_failed.is_none(), "{applied:?}");
    let after = w.first_source(&maria, "p01-whitfield.txt").await;
    let new_text = after["text"].as_str().unwrap();
    assert!(!new_text.contains(term), "the server served the old text");
    assert_eq!(new_text, cli.source("p01-whitfield.txt").unwrap().text);
    // Every coding still quotes its words in the text served.
    let codings = w
        .call(&maria, Method::GET, &format!("/sources/{id}/codings"), None)
        .await;
    let chars: Vec<char> = new_text.chars().collect();
    for c in codings.body.as_array().unwrap() {
        let span = &c["coding"]["span"];
        let (start, end) = (
            span["start"].as_u64().unwrap() as usize,
            span["end"].as_u64().unwrap() as usize,
        );
        let quoted: String = chars[start..end].iter().collect();
        assert_eq!(c["quote"].as_str().unwrap(), quoted);
    }
}

#[tokio::test]
async fn a_vacuum_that_fails_after_apply_says_the_change_was_saved() {
    let w = reopened(&OpenOptions {
        busy_timeout: std::time::Duration::from_millis(50),
        ..Default::default()
    });
    let owner = w.login("sample", "paul").await;
    // Another process reading the study keeps the write-ahead log from being emptied.
    let reader = SqliteStore::open(
        &w._dir.path().join("sample.between"),
        &OpenOptions::default(),
    )
    .unwrap();
    let snapshot = reader.snapshot().unwrap();
    let r = w
        .call(
            &owner,
            Method::POST,
            "/deidentify/apply",
            Some(json!({"mapping": [{"term": "George", "pseudonym": "[P1]"}]})),
        )
        .await;
    drop(snapshot);
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body["replacements"].as_u64().unwrap() > 0, "{}", r.text);
    let failed = r.body["vacuum_failed"].as_str().unwrap();
    assert!(
        failed.contains("applied and saved")
            && failed.contains("between deidentify")
            && failed.contains("--vacuum"),
        "{failed}"
    );
    let source = w.first_source(&owner, "p01-whitfield.txt").await;
    assert!(!source["text"].as_str().unwrap().contains("George"));
}

/// A project whose recordings name `paths`, one transcript each, as a `.qde`; GUIDs from
/// `first` on.
fn project_with_recordings(
    first: usize,
    base_path: Option<&str>,
    paths: &[(&str, String)],
) -> Vec<u8> {
    let guid = |n: usize| format!("00000000-0000-4000-8000-{n:012}");
    let project = between_refi::Project {
        name: "recordings".into(),
        base_path: base_path.map(String::from),
        media_sources: paths
            .iter()
            .enumerate()
            .map(|(i, (name, path))| between_refi::MediaSource {
                kind: between_refi::MediaKind::Audio,
                guid: guid(first + 2 * i),
                name: Some(name.to_string()),
                path: Some(path.clone()),
                transcripts: vec![between_refi::Transcript {
                    guid: guid(first + 2 * i + 1),
                    name: Some(name.to_string()),
                    text: "INTERVIEWER: Hello.\n".into(),
                    ..Default::default()
                }],
                current_path: None,
                description: None,
                selections: Vec::new(),
                codings: Vec::new(),
                note_refs: Vec::new(),
                values: Vec::new(),
            })
            .collect(),
        ..Default::default()
    };
    between_refi::write_project(&project).unwrap().into_bytes()
}

#[tokio::test]
async fn recordings_of_an_uploaded_project_stay_inside_the_study_folder() {
    let w = world();
    let owner = w.login("sample", "paul").await;
    let folder = std::fs::canonicalize(w._dir.path()).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let secret = std::fs::canonicalize(elsewhere.path())
        .unwrap()
        .join("secret.mp3");
    std::fs::write(&secret, b"ID3 the server's own file").unwrap();
    std::fs::create_dir(folder.join("audio")).unwrap();
    std::fs::write(folder.join("audio/ok.wav"), b"RIFF....WAVEfmt ").unwrap();
    std::os::unix::fs::symlink(&secret, folder.join("audio/link.mp3")).unwrap();
    let from_root = secret.display().to_string();
    let from_root = from_root.trim_start_matches('/');
    let escape = format!(
        "relative:///../{}/secret.mp3",
        elsewhere.path().file_name().unwrap().to_string_lossy()
    );
    let upload = |bytes: Vec<u8>| {
        w.raw(
            &owner,
            Method::POST,
            "/exchange/project?name=recordings.qde",
            &[(header::CONTENT_TYPE, "application/xml")],
            bytes,
        )
    };
    let uploads = [
        project_with_recordings(
            0,
            Some("/"),
            &[("root.txt", format!("relative:///{from_root}"))],
        ),
        project_with_recordings(
            100,
            None,
            &[
                ("absolute.txt", format!("absolute:///{from_root}")),
                ("escape.txt", escape),
                ("link.txt", "relative:///audio/link.mp3".into()),
                ("inside.txt", "relative:///audio/ok.wav".into()),
            ],
        ),
    ];
    let mut warnings = Vec::new();
    for bytes in uploads {
        let r = upload(bytes).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let body: Value =
            serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes()).unwrap();
        warnings.extend(
            body["report"]["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w.as_str().unwrap().to_string()),
        );
    }
    for refused in ["root.txt", "absolute.txt", "escape.txt", "link.txt"] {
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with(refused) && w.contains("outside the study's folder")),
            "{refused} is not reported: {warnings:?}"
        );
        let source = w.first_source(&owner, refused).await;
        assert!(
            source["media"].is_null(),
            "{refused} links {}",
            source["media"]
        );
    }
    // A file inside the folder links (relative to it) and streams.
    let inside = w.first_source(&owner, "inside.txt").await;
    let linked = w
        .app
        .study("sample")
        .unwrap()
        .read(&between_study::policy::local_owner("t"), |b| b.media())
        .await
        .unwrap();
    let paths: Vec<&str> = linked.values().map(|m| m.path.as_str()).collect();
    assert_eq!(paths, ["audio/ok.wav"], "{warnings:?}");
    let media = format!("/sources/{}/media", inside["id"].as_str().unwrap());
    let r = w.raw(&owner, Method::GET, &media, &[], Vec::new()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"RIFF....WAVEfmt ");
    // A link out of the folder put in its place later is not served.
    std::fs::remove_file(folder.join("audio/ok.wav")).unwrap();
    std::os::unix::fs::symlink(&secret, folder.join("audio/ok.wav")).unwrap();
    let r = w.call(&owner, Method::GET, &media, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(!r.text.contains("server's own file"));
}
