//! Attributed passages in the store: inside the text, about one participant or dyad, once each,
//! moved only by de-identification, gone with their source, every change in the audit log.

use super::*;

fn attribution(
    source: SourceId,
    start: usize,
    end: usize,
    about: AttributionTarget,
) -> Attribution {
    Attribution {
        id: AttributionId::new(),
        source,
        span: Span { start, end },
        about,
        attributed_by: "maria".into(),
        attributed_at: NOW.into(),
    }
}

/// A study with one source ("Ruiz spoke of George"), a clinician, a patient and their dyad.
fn setup(store: &mut SqliteStore) -> (Source, Participant, Dyad) {
    let s = source("c2.txt", "Ruiz spoke of George");
    let clinician = person("C2", Role::Clinician);
    let patient = person("P05", Role::Patient);
    let d = Dyad {
        id: DyadId::new(),
        label: "C2-P05".into(),
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
    tx.insert_source(&s).unwrap();
    tx.commit().unwrap();
    (s, patient, d)
}

#[test]
fn attributions_round_trip_once_each_inside_the_text_and_are_logged() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(&dir);
    let (s, patient, d) = setup(&mut store);
    let about_patient = attribution(s.id, 14, 20, AttributionTarget::Participant(patient.id));
    let about_dyad = attribution(s.id, 0, 4, AttributionTarget::Dyad(d.id));
    let mut tx = store.transaction("maria").unwrap();
    tx.insert_attribution(&about_patient).unwrap();
    tx.insert_attribution(&about_dyad).unwrap();
    tx.commit().unwrap();
    assert_eq!(
        store.attributions(Some(s.id)).unwrap(),
        vec![about_dyad.clone(), about_patient.clone()],
        "in text order"
    );
    assert!(
        store
            .attributions(Some(SourceId::new()))
            .unwrap()
            .is_empty()
    );

    let mut tx = store.transaction("maria").unwrap();
    let again = tx
        .insert_attribution(&Attribution {
            id: AttributionId::new(),
            ..about_patient.clone()
        })
        .unwrap_err()
        .to_string();
    assert!(again.contains("already attributed"), "{again}");
    let past = tx
        .insert_attribution(&attribution(s.id, 10, 21, AttributionTarget::Dyad(d.id)))
        .unwrap_err()
        .to_string();
    assert!(past.contains("past the end"), "{past}");
    let empty = tx.insert_attribution(&attribution(s.id, 3, 3, AttributionTarget::Dyad(d.id)));
    assert!(empty.is_err(), "an empty passage");
    let nobody = tx.insert_attribution(&attribution(
        s.id,
        0,
        3,
        AttributionTarget::Participant(ParticipantId::new()),
    ));
    assert!(nobody.is_err(), "a participant who does not exist");
    drop(tx);
    // The database refuses a passage about both, or about no one.
    for (participant, dyad) in [
        (Some(patient.id.to_string()), Some(d.id.to_string())),
        (None, None),
    ] {
        let refused = store.conn.execute(
            "INSERT INTO attribution (id, source_id, start, \"end\", participant_id, dyad_id, attributed_by, attributed_at)
             VALUES (?1, ?2, 0, 3, ?3, ?4, 'maria', ?5)",
            params![AttributionId::new().to_string(), s.id.to_string(), participant, dyad, NOW],
        );
        assert!(refused.is_err(), "{participant:?} {dyad:?}");
    }

    let mut tx = store.transaction("paul").unwrap();
    assert_eq!(tx.delete_attribution(about_dyad.id).unwrap(), about_dyad);
    let missing = tx.delete_attribution(about_dyad.id).unwrap_err();
    assert!(matches!(missing, StoreError::NotFound { .. }), "{missing}");
    tx.commit().unwrap();
    assert_eq!(
        store.attributions(None).unwrap(),
        vec![about_patient.clone()]
    );
    let log = store.audit_log(10).unwrap();
    let logged: Vec<(&str, &str, Option<&str>)> = log
        .iter()
        .filter(|e| e.entity == "attribution")
        .map(|e| (e.action.as_str(), e.actor.as_str(), e.entity_id.as_deref()))
        .collect();
    let (ours, dyads) = (about_patient.id.to_string(), about_dyad.id.to_string());
    assert_eq!(
        logged,
        vec![
            ("insert", "maria", Some(ours.as_str())),
            ("insert", "maria", Some(dyads.as_str())),
            ("delete", "paul", Some(dyads.as_str())),
        ]
    );
}

#[test]
fn attributed_passages_move_only_in_a_run_and_go_with_their_source() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = new_store(&dir);
    let (s, patient, _) = setup(&mut store);
    let a = attribution(s.id, 14, 20, AttributionTarget::Participant(patient.id));
    let mut tx = store.transaction("t").unwrap();
    tx.insert_attribution(&a).unwrap();
    let moved = Span { start: 10, end: 13 };
    let outside = tx
        .remap_attributions(&[(a.id, moved)])
        .unwrap_err()
        .to_string();
    assert!(
        outside.contains("only during a de-identification"),
        "{outside}"
    );
    tx.commit().unwrap();
    let raw = store
        .conn
        .execute("UPDATE attribution SET start = 1", [])
        .unwrap_err()
        .to_string();
    assert!(raw.contains("only by de-identification"), "{raw}");
    // Even during a run, whom a passage is about does not change.
    let retarget = store
        .conn
        .execute_batch(
            "BEGIN; INSERT INTO deidentification (at, actor, active) VALUES ('now', 't', 1);
             UPDATE attribution SET participant_id = NULL, dyad_id = (SELECT id FROM dyad);",
        )
        .unwrap_err()
        .to_string();
    store.conn.execute_batch("ROLLBACK").unwrap();
    assert!(retarget.contains("do not change"), "{retarget}");

    let new = Source {
        text: "Ruiz spoke of [B]".into(),
        turns: vec![Turn {
            span: Span { start: 0, end: 17 },
            ..s.turns[0].clone()
        }],
        ..s.clone()
    };
    let mut tx = store.transaction("t").unwrap();
    let run = tx.begin_deidentification().unwrap();
    tx.rewrite_source(&new).unwrap();
    let past = tx
        .remap_attributions(&[(a.id, Span { start: 14, end: 20 })])
        .unwrap_err()
        .to_string();
    assert!(past.contains("past the end"), "{past}");
    assert_eq!(
        tx.remap_attributions(&[(a.id, Span { start: 14, end: 17 })])
            .unwrap(),
        1
    );
    tx.finish_deidentification(
        run,
        &DeidentificationCounts {
            sources: vec![s.id],
            replacements: 1,
            attributions: 1,
            ..Default::default()
        },
    )
    .unwrap();
    tx.commit().unwrap();
    assert_eq!(
        store.attributions(None).unwrap()[0].span,
        Span { start: 14, end: 17 }
    );
    let recorded: i64 = store
        .conn
        .query_row(
            "SELECT attributions FROM deidentification WHERE seq = ?1",
            [run],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(recorded, 1);

    // A source removed (only ever by hand) takes its attributions with it.
    store
        .conn
        .execute("DELETE FROM source WHERE id = ?1", [s.id.to_string()])
        .unwrap();
    assert!(store.attributions(None).unwrap().is_empty());
}
