//! De-identification in the store: rewrites only inside a run, passages kept in the text,
//! terms never in the audit log.

use super::*;

fn passage_memo(s: SourceId, start: usize, end: usize) -> Memo {
    Memo {
        id: MemoId::new(),
        target: MemoTarget::Source(s),
        passage: Some(Span { start, end }),
        author: "maria".into(),
        title: String::new(),
        text: "m".into(),
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
        version: 1,
    }
}

#[test]
fn texts_and_passages_change_only_inside_a_run_and_stay_inside_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(&dir);
    let s = source("one.txt", "Ruiz said so");
    let c = code("C", None);
    let k = coding(s.id, c.id, 5, 12);
    let m = passage_memo(s.id, 0, 4);
    let mut tx = store.transaction("t").unwrap();
    tx.insert_source(&s).unwrap();
    tx.insert_code(&c).unwrap();
    tx.insert_coding(&k).unwrap();
    tx.insert_memo(&m).unwrap();
    tx.commit().unwrap();

    let new = Source {
        text: "[A] said so".into(),
        turns: vec![Turn {
            span: Span { start: 0, end: 11 },
            ..s.turns[0].clone()
        }],
        ..s.clone()
    };
    let moved = Span { start: 0, end: 3 };
    let mut tx = store.transaction("t").unwrap();
    let refused = tx.rewrite_source(&new).unwrap_err().to_string();
    assert!(
        refused.contains("only during a de-identification"),
        "{refused}"
    );
    assert!(tx.remap_memo_passages(&[(m.id, moved)]).is_err());
    drop(tx);
    // The database itself refuses a passage change outside a run.
    let raw = store
        .conn
        .execute("UPDATE memo SET passage_end = 3", [])
        .unwrap_err()
        .to_string();
    assert!(raw.contains("only by de-identification"), "{raw}");

    let mut tx = store.transaction("t").unwrap();
    let run = tx.begin_deidentification().unwrap();
    assert!(tx.begin_deidentification().is_err(), "one run at a time");
    tx.rewrite_source(&new).unwrap();
    // A passage past the new end is refused by the trigger, even during a run.
    let past = tx
        .remap_memo_passages(&[(m.id, Span { start: 0, end: 12 })])
        .unwrap_err()
        .to_string();
    assert!(past.contains("past the end"), "{past}");
    assert_eq!(tx.remap_memo_passages(&[(m.id, moved)]).unwrap(), 1);
    assert_eq!(
        tx.remap_codings(&[(k.id, Span { start: 4, end: 11 })])
            .unwrap(),
        1
    );
    tx.insert_pseudonyms(run, &[("Ruiz".into(), "[A]".into(), 1)])
        .unwrap();
    tx.finish_deidentification(
        run,
        &DeidentificationCounts {
            sources: vec![s.id],
            replacements: 1,
            codings: 1,
            memos: 1,
            attributions: 0,
        },
    )
    .unwrap();
    tx.commit().unwrap();

    let after = store.source(s.id).unwrap();
    assert_eq!((after.text.as_str(), after.version), ("[A] said so", 2));
    assert_eq!(store.source_length(s.id).unwrap(), 11);
    assert_eq!(after.turns, new.turns, "turns replaced as given");
    assert_eq!(store.coding(k.id).unwrap().version, 2);
    assert_eq!(store.memos(None).unwrap()[0].passage, Some(moved));
    let mapping = store.pseudonyms().unwrap();
    assert_eq!((mapping[0].term.as_str(), mapping[0].run), ("Ruiz", run));
    let log = serde_json::to_string(&store.audit_log(50).unwrap()).unwrap();
    assert!(!log.contains("Ruiz"), "{log}");
    // A stale version is a conflict.
    let mut tx = store.transaction("t").unwrap();
    tx.begin_deidentification().unwrap();
    let stale = tx.rewrite_source(&new).unwrap_err();
    assert!(matches!(stale, StoreError::Conflict { .. }), "{stale}");
    drop(tx);
    let mut tx = store.transaction("t").unwrap();
    assert_eq!(tx.delete_pseudonyms().unwrap(), 1);
    tx.commit().unwrap();
    store.vacuum().unwrap();
    assert!(store.pseudonyms().unwrap().is_empty());
    assert!(store.check_integrity().unwrap().is_empty());
}
