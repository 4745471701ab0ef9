//! Relationship measures in the store (migration 0009): a study file from before it keeps
//! everything; a duplicate submission is refused; a link is used once; the token is never in
//! the audit log; a response's instrument version never changes.

use super::*;

fn people(store: &mut SqliteStore) -> (Participant, Participant, Dyad) {
    let clinician = person("C1", Role::Clinician);
    let patient = person("P01", Role::Patient);
    let d = Dyad {
        id: DyadId::new(),
        label: "C1-P01".into(),
        clinician: clinician.id,
        patient: patient.id,
        relationship_start: None,
        notes: String::new(),
        version: 1,
    };
    let mut tx = store.transaction("t").unwrap();
    tx.insert_participant(&clinician).unwrap();
    tx.insert_participant(&patient).unwrap();
    tx.insert_dyad(&d).unwrap();
    tx.commit().unwrap();
    (clinician, patient, d)
}

fn response(participant: ParticipantId, dyad: Option<DyadId>, session: u32) -> Response {
    Response {
        id: ResponseId::new(),
        instrument: "wai-sr".into(),
        instrument_version: "2006.1".into(),
        participant,
        dyad,
        occasion: Occasion {
            date: Some("2026-03-01".into()),
            session: Some(session),
        },
        entered_by: "maria".into(),
        entered_at: NOW.into(),
        mode: EntryMode::Hand,
        answers: [("1".to_string(), Some(4)), ("2".to_string(), None)].into(),
    }
}

fn link(participant: ParticipantId, hash: &str) -> ResponseLink {
    ResponseLink {
        id: ResponseLinkId::new(),
        token_hash: hash.into(),
        instrument: "wai-sr".into(),
        instrument_version: "2006.1".into(),
        participant,
        dyad: None,
        occasion: Occasion {
            date: None,
            session: Some(2),
        },
        created_by: "maria".into(),
        created_at: NOW.into(),
        expires_at: "2026-12-01T10:00:00Z".into(),
        used_at: None,
    }
}

#[test]
fn responses_round_trip_and_a_duplicate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(&dir);
    let (_, patient, d) = people(&mut store);
    let first = response(patient.id, Some(d.id), 1);
    let mut tx = store.transaction("maria").unwrap();
    tx.insert_response(&first).unwrap();
    tx.commit().unwrap();
    assert_eq!(store.responses().unwrap(), vec![first.clone()]);

    let again = Response {
        id: ResponseId::new(),
        ..first.clone()
    };
    let mut tx = store.transaction("maria").unwrap();
    let refused = tx.insert_response(&again).unwrap_err();
    assert!(refused.to_string().contains("already stored"), "{refused}");
    drop(tx);
    // Another session is not a duplicate.
    let mut tx = store.transaction("maria").unwrap();
    tx.insert_response(&response(patient.id, Some(d.id), 2))
        .unwrap();
    tx.commit().unwrap();
    assert_eq!(store.responses().unwrap().len(), 2);
    assert!(
        store
            .conn
            .execute("UPDATE response SET instrument_version = '9'", [])
            .is_err(),
        "a response's instrument version never changes"
    );
    assert!(
        store
            .conn
            .execute("UPDATE response_answer SET value = 1", [])
            .is_err()
    );
}

#[test]
fn a_response_needs_a_time_and_its_participant_in_its_dyad() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(&dir);
    let (_, patient, d) = people(&mut store);
    let stranger = person("P09", Role::Patient);
    let mut tx = store.transaction("t").unwrap();
    tx.insert_participant(&stranger).unwrap();
    assert!(
        tx.insert_response(&response(stranger.id, Some(d.id), 1))
            .is_err()
    );
    let mut timeless = response(patient.id, None, 1);
    timeless.occasion = Occasion::default();
    assert!(tx.insert_response(&timeless).is_err());
}

#[test]
fn a_link_is_used_once_and_its_token_is_never_logged() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(&dir);
    let (_, patient, _) = people(&mut store);
    let hash = "ab".repeat(32);
    let l = link(patient.id, &hash);
    let mut tx = store.transaction("maria").unwrap();
    tx.insert_response_link(&l).unwrap();
    tx.commit().unwrap();
    assert_eq!(store.response_link(&hash).unwrap(), Some(l.clone()));
    assert_eq!(store.response_link(&"cd".repeat(32)).unwrap(), None);

    let mut tx = store.transaction("link").unwrap();
    tx.use_response_link(l.id, NOW).unwrap();
    tx.commit().unwrap();
    let mut tx = store.transaction("link").unwrap();
    let again = tx.use_response_link(l.id, NOW).unwrap_err();
    assert!(again.to_string().contains("already been used"), "{again}");
    drop(tx);
    assert_eq!(
        store
            .response_link(&hash)
            .unwrap()
            .unwrap()
            .used_at
            .as_deref(),
        Some(NOW)
    );
    let log = serde_json::to_string(&store.audit_log(100).unwrap()).unwrap();
    assert!(!log.contains(&hash), "the audit log holds no token hash");
}

#[test]
fn clinician_accounts_are_set_once_and_sharing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(&dir);
    let (clinician, patient, _) = people(&mut store);
    let mut tx = store.transaction("t").unwrap();
    let of = |p: &Participant, account: &str| ClinicianAccount {
        participant: p.id,
        account: account.into(),
        shared: false,
    };
    assert!(tx.link_clinician_account(&of(&patient, "pat")).is_err());
    tx.link_clinician_account(&of(&clinician, "osei")).unwrap();
    tx.set_self_care_shared(clinician.id, true).unwrap();
    assert!(tx.set_self_care_shared(patient.id, true).is_err());
    tx.commit().unwrap();
    assert_eq!(
        store.clinician_accounts().unwrap(),
        vec![ClinicianAccount {
            shared: true,
            ..of(&clinician, "osei")
        }]
    );
    assert!(
        store
            .conn
            .execute("UPDATE clinician_account SET account = 'owner'", [])
            .is_err()
    );
}

#[test]
fn a_study_file_from_before_measures_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.between");
    let mut conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "application_id", APPLICATION_ID)
        .unwrap();
    Migrations::new(MIGRATIONS[..8].iter().map(|sql| M::up(sql)).collect())
        .to_latest(&mut conn)
        .unwrap();
    drop(conn);
    let study = study();
    let clinician = person("C1", Role::Clinician);
    {
        // Written by the schema before measures, through plain SQL as that version did.
        let conn = Connection::open(&path).unwrap();
        conn.execute(
            "INSERT INTO study (id, name, created_at) VALUES (?1, 'Old', ?2)",
            params![study.id.to_string(), NOW],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO participant (id, label, role) VALUES (?1, 'C1', 'clinician')",
            [clinician.id.to_string()],
        )
        .unwrap();
    }
    let mut store = SqliteStore::open(&path, &OpenOptions::default()).unwrap();
    assert_eq!(store.study().unwrap().name, "Old");
    let kept = store.participants().unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].label, "C1");
    assert!(store.responses().unwrap().is_empty());
    let mut tx = store.transaction("t").unwrap();
    tx.insert_response(&response(clinician.id, None, 1))
        .unwrap();
    tx.commit().unwrap();
    assert_eq!(store.responses().unwrap().len(), 1);
}
