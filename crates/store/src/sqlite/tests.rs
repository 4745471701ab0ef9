use super::*;
use std::time::Duration;

const NOW: &str = "2026-11-22T10:00:00Z";

fn study() -> Study {
    Study {
        id: StudyId::new(),
        name: "Test".into(),
        description: String::new(),
        theory: None,
        created_at: NOW.into(),
        blind: false,
    }
}

fn new_store(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::create(
        &dir.path().join("s.between"),
        &study(),
        None,
        &OpenOptions::default(),
    )
    .unwrap()
}

fn person(label: &str, role: Role) -> Participant {
    Participant {
        id: ParticipantId::new(),
        label: label.into(),
        role,
        name: None,
        attributes: Default::default(),
        version: 1,
    }
}

fn source(name: &str, text: &str) -> Source {
    Source {
        id: SourceId::new(),
        name: name.into(),
        kind: SourceKind::Interview,
        participant: None,
        dyad: None,
        text: text.into(),
        turns: vec![Turn {
            span: Span {
                start: 0,
                end: text.chars().count(),
            },
            speaker: Some("A".into()),
            start_ms: Some(5),
            end_ms: None,
        }],
        speakers: vec![],
        markers: Vec::new(),
        interview: InterviewInfo {
            others_present: vec!["spouse".into()],
            consent_recorded: Some(true),
            ..Default::default()
        },
        imported_at: NOW.into(),
        blind: false,
        version: 1,
    }
}

fn code(name: &str, parent: Option<CodeId>) -> Code {
    Code {
        id: CodeId::new(),
        parent,
        name: name.into(),
        colour: "#112233".into(),
        definition: String::new(),
        indicators: vec!["x".into()],
        component: None,
        version: 1,
    }
}

fn coding(source: SourceId, code: CodeId, start: usize, end: usize) -> Coding {
    Coding {
        id: CodingId::new(),
        source,
        code,
        span: Span { start, end },
        coder: "maria".into(),
        contrast: false,
        memo: None,
        created_at: NOW.into(),
        updated_at: NOW.into(),
        version: 1,
    }
}

#[test]
fn objects_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(&dir);
    let (c, p) = (person("C1", Role::Clinician), person("P1", Role::Patient));
    let dyad = Dyad {
        id: DyadId::new(),
        label: "C1-P1".into(),
        clinician: c.id,
        patient: p.id,
        relationship_start: Some("2003".into()),
        notes: "n".into(),
        version: 1,
    };
    let s = source("one.txt", "Zoë 🙂 trusts her");
    let parent = code("Valuing", None);
    let child = code("Presence", Some(parent.id));
    let k = coding(s.id, child.id, 2, 5);
    let memo = Memo {
        id: MemoId::new(),
        target: MemoTarget::Dyad(dyad.id),
        passage: None,
        author: "maria".into(),
        title: "t".into(),
        text: "m".into(),
        created_at: NOW.into(),
        updated_at: NOW.into(),
        version: 1,
    };
    let study_memo = Memo {
        id: MemoId::new(),
        target: MemoTarget::Study,
        ..memo.clone()
    };
    let case = Case {
        id: CaseId::new(),
        subject: CaseSubject::Dyad(dyad.id),
        text: "story".into(),
        updated_at: NOW.into(),
        version: 1,
    };
    let mut tx = store.transaction("maria").unwrap();
    tx.insert_participant(&c).unwrap();
    tx.insert_participant(&p).unwrap();
    tx.insert_dyad(&dyad).unwrap();
    tx.insert_source(&s).unwrap();
    tx.insert_code(&parent).unwrap();
    tx.insert_code(&child).unwrap();
    tx.insert_coding(&k).unwrap();
    tx.insert_memo(&memo).unwrap();
    tx.insert_memo(&study_memo).unwrap();
    tx.upsert_case(&case).unwrap();
    tx.commit().unwrap();

    assert_eq!(store.participants().unwrap(), [c, p]);
    assert_eq!(store.dyads().unwrap(), std::slice::from_ref(&dyad));
    assert_eq!(store.source(s.id).unwrap(), s);
    assert_eq!(store.source_text(s.id).unwrap(), s.text);
    assert_eq!(store.source_id_by_name("one.txt").unwrap(), Some(s.id));
    assert_eq!(store.source_infos().unwrap()[0].text_length, 16);
    assert_eq!(store.codes().unwrap(), [parent, child.clone()]);
    assert_eq!(
        store
            .codings(&CodingFilter {
                code: Some(child.id),
                ..Default::default()
            })
            .unwrap(),
        std::slice::from_ref(&k)
    );
    assert_eq!(store.coding(k.id).unwrap(), k);
    assert_eq!(
        store.memos(Some(MemoTarget::Dyad(dyad.id))).unwrap(),
        [memo]
    );
    assert_eq!(store.memos(Some(MemoTarget::Study)).unwrap(), [study_memo]);
    assert_eq!(store.memos(None).unwrap().len(), 2);
    assert_eq!(store.cases().unwrap(), [case]);
    let log = store.audit_log(100).unwrap();
    assert_eq!(log[0].action, "create");
    assert_eq!(log.len(), 11, "one entry per change: {log:#?}");
    assert!(log[1..].iter().all(|e| e.actor == "maria"));
    assert!(store.check_integrity().unwrap().is_empty());
}

#[test]
fn the_database_refuses_impossible_codings() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(&dir);
    let s = source("one.txt", "short");
    let c = code("A", None);
    let mut tx = store.transaction("t").unwrap();
    tx.insert_source(&s).unwrap();
    tx.insert_code(&c).unwrap();
    let err = tx.insert_coding(&coding(s.id, c.id, 0, 6)).unwrap_err();
    assert!(err.to_string().contains("past the end"), "{err}");
    assert!(matches!(
        tx.insert_coding(&coding(s.id, c.id, 3, 3)),
        Err(StoreError::Constraint(_))
    ));
    assert!(matches!(
        tx.insert_coding(&coding(s.id, CodeId::new(), 0, 2)),
        Err(StoreError::Constraint(_))
    ));
    let mut fits = coding(s.id, c.id, 0, 5);
    tx.insert_coding(&fits).unwrap();
    fits.span.end = 6;
    let err = tx.update_coding(&fits).unwrap_err();
    assert!(err.to_string().contains("past the end"), "{err}");
    let err = tx.insert_code(&code("a", None)).unwrap_err();
    assert!(
        err.to_string().contains("already"),
        "sibling names are unique, ignoring case: {err}"
    );
}

#[test]
fn many_turns_are_stored_in_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(&dir);
    // More than one statement's worth, and a rest in statements of other sizes.
    let n = 1234;
    let mut s = source("long.txt", &"ab".repeat(n));
    s.turns = (0..n)
        .map(|i| Turn {
            span: Span {
                start: 2 * i,
                end: 2 * i + 2,
            },
            speaker: Some(["A", "B"][i % 2].into()),
            start_ms: Some(i as u64 * 10),
            end_ms: (i % 3 == 0).then_some(i as u64 * 10 + 5),
        })
        .collect();
    let mut tx = store.transaction("t").unwrap();
    tx.insert_source(&s).unwrap();
    tx.commit().unwrap();
    assert_eq!(store.source(s.id).unwrap().turns, s.turns);

    let mut outside = source("outside.txt", "abc");
    outside.turns[0].span.end = 4;
    let mut tx = store.transaction("t").unwrap();
    let err = tx.insert_source(&outside).unwrap_err();
    assert!(err.to_string().contains("turn 1 of 'outside.txt'"), "{err}");
}

#[test]
fn many_codings_at_once_are_stored_and_each_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(&dir);
    let s = source("one.txt", "some words here");
    let c = code("A", None);
    // More than one statement's worth, and a last statement of another size.
    let n = 1234;
    let codings: Vec<Coding> = (0..n)
        .map(|i| coding(s.id, c.id, i % 10, i % 10 + 5))
        .collect();
    let mut tx = store.transaction("t").unwrap();
    tx.insert_source(&s).unwrap();
    tx.insert_code(&c).unwrap();
    tx.insert_codings(&codings).unwrap();
    tx.commit().unwrap();
    let mut stored = store.codings(&CodingFilter::default()).unwrap();
    stored.sort_by_key(|k| k.id);
    let mut expected = codings.clone();
    expected.sort_by_key(|k| k.id);
    assert_eq!(stored, expected);

    // One coding past the end of its text, deep in a batch: none of them is stored.
    for bad in [n - 1, 700, 3] {
        let mut more: Vec<Coding> = (0..n).map(|i| coding(s.id, c.id, 0, 1 + i % 10)).collect();
        more[bad].span.end = 16;
        let mut tx = store.transaction("t").unwrap();
        let err = tx.insert_codings(&more).unwrap_err();
        assert!(err.to_string().contains("past the end"), "{err}");
        drop(tx);
        assert_eq!(store.codings(&CodingFilter::default()).unwrap().len(), n);
    }
    // A coding of no code is refused too.
    let mut tx = store.transaction("t").unwrap();
    let err = tx
        .insert_codings(&[coding(s.id, c.id, 0, 2), coding(s.id, CodeId::new(), 0, 2)])
        .unwrap_err();
    assert!(matches!(err, StoreError::Constraint(_)), "{err}");
}

#[test]
fn stale_versions_conflict_and_nothing_is_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(&dir);
    let s = source("one.txt", "some words here");
    let c = code("A", None);
    let k = coding(s.id, c.id, 0, 4);
    let mut tx = store.transaction("t").unwrap();
    tx.insert_source(&s).unwrap();
    tx.insert_code(&c).unwrap();
    tx.insert_coding(&k).unwrap();
    tx.commit().unwrap();

    let mut first = k.clone();
    first.span.end = 10;
    let mut second = k.clone();
    second.contrast = true;
    let mut tx = store.transaction("maria").unwrap();
    tx.update_coding(&first).unwrap();
    tx.commit().unwrap();
    let mut tx = store.transaction("sam").unwrap();
    let err = tx.update_coding(&second).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: 1,
                current: Some(2),
                ..
            }
        ),
        "{err}"
    );
    assert!(matches!(
        tx.delete_coding(&second),
        Err(StoreError::Conflict { .. })
    ));
    drop(tx);
    let stored = store.coding(k.id).unwrap();
    assert_eq!(
        (stored.span.end, stored.contrast, stored.version),
        (10, false, 2)
    );
}

#[test]
fn a_dropped_transaction_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(&dir);
    let mut tx = store.transaction("t").unwrap();
    tx.insert_source(&source("a.txt", "text")).unwrap();
    drop(tx);
    assert!(store.source_infos().unwrap().is_empty());
    assert_eq!(store.audit_log(10).unwrap().len(), 1);
}

#[test]
fn the_audit_log_is_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(&dir);
    let conn = Connection::open(store.path()).unwrap();
    assert!(
        conn.execute("UPDATE audit_log SET actor = 'x'", [])
            .unwrap_err()
            .to_string()
            .contains("append-only")
    );
    assert!(
        conn.execute("DELETE FROM audit_log", [])
            .unwrap_err()
            .to_string()
            .contains("append-only")
    );
}

#[test]
fn files_that_are_not_studies_are_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let opts = OpenOptions::default();
    let missing = dir.path().join("missing.between");
    assert!(matches!(
        SqliteStore::open(&missing, &opts),
        Err(StoreError::NoSuchFile(_))
    ));
    assert!(!missing.exists(), "opening never creates");

    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "INTERVIEWER: this is a transcript, not a study\n".repeat(100),
    )
    .unwrap();
    let err = SqliteStore::open(&text, &opts).unwrap_err();
    assert!(matches!(err, StoreError::NotAStudy { .. }), "{err}");
    assert!(err.to_string().contains("not an SQLite database"), "{err}");

    let other = dir.path().join("other.sqlite");
    Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t (x);")
        .unwrap();
    let err = SqliteStore::open(&other, &opts).unwrap_err();
    assert!(err.to_string().contains("another program"), "{err}");

    let store = new_store(&dir);
    let path = store.path().to_path_buf();
    drop(store);
    assert!(matches!(
        SqliteStore::create(&path, &study(), None, &opts),
        Err(StoreError::AlreadyExists(_))
    ));
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = SqliteStore::open(&path, &opts).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("newer version of between"));
}

#[test]
fn files_are_wal_with_foreign_keys_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(&dir);
    let path = store.path().to_path_buf();
    let id = store.study().unwrap().id;
    drop(store);
    let store = SqliteStore::open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(store.study().unwrap().id, id);
    let mode: String = store
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    let fk: i64 = store
        .conn
        .pragma_query_value(None, "foreign_keys", |r| r.get(0))
        .unwrap();
    let version: i64 = store
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!((mode.as_str(), fk, version), ("wal", 1, schema_version()));
}

#[test]
fn a_second_writer_gets_a_clear_busy_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = new_store(&dir);
    let short = OpenOptions {
        busy_timeout: Duration::from_millis(100),
        ..Default::default()
    };
    let mut second = SqliteStore::open(first.path(), &short).unwrap();
    let tx = first.transaction("maria").unwrap();
    let err = second
        .transaction("sam")
        .err()
        .expect("the study is locked by the first writer");
    assert!(
        matches!(err, StoreError::Busy { waited_ms: 100, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("busy"));
    assert!(
        second.study().is_ok(),
        "readers are not blocked by a writer in WAL mode"
    );
    drop(tx);
    assert!(
        second.transaction("sam").is_ok(),
        "free again once the first writer is done"
    );
}

#[test]
fn a_full_disk_is_a_clear_error_and_the_change_is_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = new_store(&dir).path().to_path_buf();
    // The file may not grow: as on a full disk (SQLITE_FULL either way).
    let full = OpenOptions {
        size_limit: Some(1),
        ..Default::default()
    };
    let mut store = SqliteStore::open(&path, &full).unwrap();
    let mut tx = store.transaction("maria").unwrap();
    tx.insert_participant(&person("P01", Role::Patient))
        .unwrap();
    let err = tx
        .insert_source(&source("big.txt", &"words ".repeat(100_000)))
        .and_then(|()| tx.commit())
        .expect_err("the file cannot grow");
    assert!(matches!(err, StoreError::Full { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("s.between") && message.contains("disk is full"),
        "{message}"
    );
    // Nothing of the change is kept, and the study takes changes again once there is room.
    let mut roomy = SqliteStore::open(&path, &OpenOptions::default()).unwrap();
    assert!(roomy.participants().unwrap().is_empty());
    assert!(roomy.source_infos().unwrap().is_empty());
    let tx = roomy.transaction("maria").unwrap();
    tx.commit().unwrap();
}

#[test]
fn a_study_opened_read_only_refuses_changes_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = new_store(&dir).path().to_path_buf();
    let read_only = OpenOptions {
        read_only: true,
        ..Default::default()
    };
    let mut store = SqliteStore::open(&path, &read_only).unwrap();
    assert_eq!(store.read_only(), Some("opened for reading only"));
    assert_eq!(store.study().unwrap().name, "Test");
    let err = store.transaction("maria").err().expect("refused");
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    assert!(err.to_string().contains("read-only"), "{err}");
    assert!(store.vacuum().is_err());
}

#[test]
fn a_snapshot_reads_one_moment_and_texts_have_a_revision() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = new_store(&dir);
    let reader = SqliteStore::open(writer.path(), &OpenOptions::default()).unwrap();
    assert_eq!(reader.text_revision().unwrap(), 0);
    let snapshot = reader.snapshot().unwrap();
    let mut tx = writer.transaction("maria").unwrap();
    tx.insert_participant(&person("P01", Role::Patient))
        .unwrap();
    let run = tx.begin_deidentification().unwrap();
    tx.finish_deidentification(run, &Default::default())
        .unwrap();
    tx.commit().unwrap();
    assert!(
        reader.participants().unwrap().is_empty(),
        "the snapshot's moment"
    );
    assert_eq!(reader.text_revision().unwrap(), 0);
    drop(snapshot);
    assert_eq!(reader.participants().unwrap().len(), 1);
    assert_eq!(reader.text_revision().unwrap(), run);
}

#[test]
fn accounts_and_blind_mode() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(&dir);
    let account = Account {
        id: AccountId::new(),
        name: "Maria".into(),
        role: AccountRole::Coder,
        created_at: NOW.into(),
        version: 1,
    };
    let s = source("one.txt", "text");
    let mut tx = store.transaction("owner").unwrap();
    tx.insert_account(&account, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")
        .unwrap();
    assert!(
        matches!(
            tx.insert_account(
                &Account {
                    id: AccountId::new(),
                    ..account.clone()
                },
                "$argon2id$x"
            ),
            Err(StoreError::Constraint(_))
        ),
        "names are unique, ignoring case"
    );
    assert!(
        tx.insert_account(
            &Account {
                id: AccountId::new(),
                name: "sam".into(),
                ..account.clone()
            },
            "plaintext"
        )
        .is_err(),
        "only hashes are stored"
    );
    tx.insert_source(&s).unwrap();
    tx.set_blind(BlindScope::Study, true).unwrap();
    tx.set_blind(BlindScope::Source(s.id), true).unwrap();
    assert!(matches!(
        tx.set_blind(BlindScope::Source(SourceId::new()), true),
        Err(StoreError::NotFound { .. })
    ));
    tx.update_password(&account, "$argon2id$new").unwrap();
    tx.commit().unwrap();
    assert_eq!(
        store.accounts().unwrap(),
        [Account {
            version: 2,
            ..account.clone()
        }]
    );
    let (found, hash) = store.account_with_hash("maria").unwrap().unwrap();
    assert_eq!(
        (found.name.as_str(), hash.as_str()),
        ("Maria", "$argon2id$new")
    );
    assert!(store.study().unwrap().blind);
    assert!(store.source(s.id).unwrap().blind && store.source_infos().unwrap()[0].blind);
    let log = serde_json::to_string(&store.audit_log(100).unwrap()).unwrap();
    assert!(
        !log.contains("argon2"),
        "no secrets in the audit log: {log}"
    );
}

#[test]
fn an_older_study_file_is_upgraded_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.between");
    let mut conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "application_id", APPLICATION_ID)
        .unwrap();
    Migrations::new(vec![M::up(MIGRATIONS[0])])
        .to_latest(&mut conn)
        .unwrap();
    conn.execute(
        "INSERT INTO study (id, name, created_at) VALUES (?1, 'Old', ?2)",
        params![StudyId::new().to_string(), NOW],
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(store.study().unwrap().name, "Old");
    assert!(!store.study().unwrap().blind);
    assert!(store.accounts().unwrap().is_empty());
    let version: i64 = store
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, schema_version());
}

mod attributions;
mod deidentify;
mod exemplars;
mod measures;

/// A bulk write's small page cache ends with it, whether it commits or rolls back.
#[test]
fn a_bulk_writes_small_cache_ends_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(&dir);
    let cache = |s: &SqliteStore| -> i64 {
        s.conn
            .pragma_query_value(None, "cache_size", |r| r.get(0))
            .unwrap()
    };
    assert_eq!(cache(&store), CACHE_KIB);
    let mut tx = store.transaction("t").unwrap();
    tx.limit_cache_for_bulk().unwrap();
    drop(tx); // rolled back
    store.transaction("t").unwrap().commit().unwrap();
    assert_eq!(cache(&store), CACHE_KIB);
    let mut tx = store.transaction("t").unwrap();
    tx.limit_cache_for_bulk().unwrap();
    tx.update_study("Renamed", "d").unwrap();
    tx.commit().unwrap();
    assert_eq!(cache(&store), CACHE_KIB);
    assert_eq!(store.study().unwrap().name, "Renamed");
}
