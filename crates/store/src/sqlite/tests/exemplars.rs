//! Exemplar quotes in the store: kept in the team's order, gone with their coding, logged.

use super::*;

fn exemplar(coding: CodingId, target: ExemplarFor, position: i64) -> Exemplar {
    Exemplar {
        coding,
        target,
        position,
        chosen_by: "maria".into(),
        chosen_at: NOW.into(),
    }
}

#[test]
fn exemplars_keep_their_order_and_go_with_their_coding() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(&dir);
    let s = source("one.txt", "she trusts him and he knows her");
    let c = code("Trust", None);
    let ks: Vec<Coding> = (0..3)
        .map(|i| coding(s.id, c.id, i * 5, i * 5 + 4))
        .collect();
    let trust = ExemplarFor::Component("trust".into());
    let mut tx = store.transaction("maria").unwrap();
    tx.insert_source(&s).unwrap();
    tx.insert_code(&c).unwrap();
    tx.insert_codings(&ks).unwrap();
    tx.insert_exemplar(&exemplar(ks[0].id, trust.clone(), 1))
        .unwrap();
    tx.insert_exemplar(&exemplar(ks[1].id, trust.clone(), 2))
        .unwrap();
    // In front: the others move down.
    tx.insert_exemplar(&exemplar(ks[2].id, trust.clone(), 1))
        .unwrap();
    // The same coding may also stand for a code.
    tx.insert_exemplar(&exemplar(ks[0].id, ExemplarFor::Code(c.id), 1))
        .unwrap();
    tx.commit().unwrap();
    let order = |store: &SqliteStore| -> Vec<(CodingId, ExemplarFor, i64)> {
        store
            .exemplars()
            .unwrap()
            .into_iter()
            .map(|e| (e.coding, e.target, e.position))
            .collect()
    };
    assert_eq!(
        order(&store),
        [
            (ks[2].id, trust.clone(), 1),
            (ks[0].id, trust.clone(), 2),
            (ks[1].id, trust.clone(), 3),
            (ks[0].id, ExemplarFor::Code(c.id), 1),
        ]
    );

    let mut tx = store.transaction("maria").unwrap();
    let twice = tx.insert_exemplar(&exemplar(ks[1].id, trust.clone(), 1));
    assert!(twice.is_err(), "a coding is an exemplar of a target once");
    drop(tx);

    let mut tx = store.transaction("maria").unwrap();
    assert!(tx.delete_exemplar(ks[2].id, &trust).unwrap());
    assert!(
        !tx.delete_exemplar(ks[2].id, &trust).unwrap(),
        "already gone"
    );
    tx.commit().unwrap();
    assert_eq!(
        order(&store)[..2],
        [(ks[0].id, trust.clone(), 1), (ks[1].id, trust.clone(), 2)]
    );

    let mut tx = store.transaction("maria").unwrap();
    tx.delete_coding(&ks[0]).unwrap();
    tx.commit().unwrap();
    assert_eq!(order(&store), [(ks[1].id, trust.clone(), 2)], "cascade");

    let log = store.audit_log(10).unwrap();
    let actions: Vec<&str> = log
        .iter()
        .filter(|e| e.entity == "exemplar")
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(actions, ["choose", "choose", "choose", "choose", "drop"]);
}

#[test]
fn an_exemplar_is_for_a_component_or_a_code_never_both() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(&dir);
    let s = source("one.txt", "text here");
    let c = code("Trust", None);
    let k = coding(s.id, c.id, 0, 4);
    let mut tx = store.transaction("maria").unwrap();
    tx.insert_source(&s).unwrap();
    tx.insert_code(&c).unwrap();
    tx.insert_coding(&k).unwrap();
    tx.commit().unwrap();
    let both = store.conn.execute(
        "INSERT INTO exemplar (coding_id, component, code_id, position, chosen_by, chosen_at)
         VALUES (?1, 'trust', ?2, 1, 'maria', 'now')",
        params![k.id.to_string(), c.id.to_string()],
    );
    assert!(both.is_err());
}
