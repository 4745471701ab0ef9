//! The SQL of relationship measures (migration 0009): study instruments, responses and their
//! answers, one-time links (by the token's hash; the audit log never sees either) and
//! clinicians' accounts with their sharing.

use std::collections::HashMap;

use between_core::*;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::json;

use super::{SqliteTx, collect, id_at};
use crate::{Result, StoreError};

const INSTRUMENT_COLUMNS: &str = "id, version, definition, added_by, added_at";
const RESPONSE_COLUMNS: &str = "id, instrument, instrument_version, participant_id, dyad_id, date, session, entered_by, entered_at, mode";
const LINK_COLUMNS: &str = "id, token_hash, instrument, instrument_version, participant_id, dyad_id, date, session, created_by, created_at, expires_at, used_at";

fn optional_id<T: std::str::FromStr>(r: &Row, i: usize) -> rusqlite::Result<Option<T>> {
    match r.get_ref(i)?.as_str_or_null()? {
        None => Ok(None),
        Some(_) => id_at(r, i).map(Some),
    }
}

fn occasion(r: &Row, date: usize) -> rusqlite::Result<Occasion> {
    Ok(Occasion {
        date: r.get(date)?,
        session: r.get(date + 1)?,
    })
}

fn instrument_row(r: &Row) -> rusqlite::Result<StudyInstrument> {
    Ok(StudyInstrument {
        id: r.get(0)?,
        version: r.get(1)?,
        definition: r.get(2)?,
        added_by: r.get(3)?,
        added_at: r.get(4)?,
    })
}

fn response_row(r: &Row) -> rusqlite::Result<Response> {
    let mode: String = r.get(9)?;
    Ok(Response {
        id: id_at(r, 0)?,
        instrument: r.get(1)?,
        instrument_version: r.get(2)?,
        participant: id_at(r, 3)?,
        dyad: optional_id(r, 4)?,
        occasion: occasion(r, 5)?,
        entered_by: r.get(7)?,
        entered_at: r.get(8)?,
        mode: mode.parse().map_err(|_| {
            rusqlite::Error::InvalidColumnType(9, mode, rusqlite::types::Type::Text)
        })?,
        answers: ResponseAnswers::new(),
    })
}

fn link_row(r: &Row) -> rusqlite::Result<ResponseLink> {
    Ok(ResponseLink {
        id: id_at(r, 0)?,
        token_hash: r.get(1)?,
        instrument: r.get(2)?,
        instrument_version: r.get(3)?,
        participant: id_at(r, 4)?,
        dyad: optional_id(r, 5)?,
        occasion: occasion(r, 6)?,
        created_by: r.get(8)?,
        created_at: r.get(9)?,
        expires_at: r.get(10)?,
        used_at: r.get(11)?,
    })
}

pub(super) fn study_instruments(conn: &Connection) -> rusqlite::Result<Vec<StudyInstrument>> {
    collect(
        conn,
        &format!("SELECT {INSTRUMENT_COLUMNS} FROM study_instrument ORDER BY id, added_at"),
        [],
        instrument_row,
    )
}

/// Every response with its answers, by participant, instrument, then date and session.
pub(super) fn responses(conn: &Connection) -> rusqlite::Result<Vec<Response>> {
    let mut responses = collect(
        conn,
        &format!(
            "SELECT {RESPONSE_COLUMNS} FROM response
             ORDER BY participant_id, instrument, instrument_version, coalesce(dyad_id, ''),
                      coalesce(date, ''), coalesce(session, 0), id"
        ),
        [],
        response_row,
    )?;
    let at: HashMap<ResponseId, usize> = responses
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id, i))
        .collect();
    let answers = collect(
        conn,
        "SELECT response_id, item, value FROM response_answer",
        [],
        |r| {
            Ok((
                id_at::<ResponseId>(r, 0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
            ))
        },
    )?;
    for (id, item, value) in answers {
        if let Some(&i) = at.get(&id) {
            responses[i].answers.insert(item, value);
        }
    }
    Ok(responses)
}

pub(super) fn response_link(
    conn: &Connection,
    token_hash: &str,
) -> rusqlite::Result<Option<ResponseLink>> {
    conn.prepare_cached(&format!(
        "SELECT {LINK_COLUMNS} FROM response_link WHERE token_hash = ?1"
    ))?
    .query_row([token_hash], link_row)
    .optional()
}

pub(super) fn response_links(conn: &Connection) -> rusqlite::Result<Vec<ResponseLink>> {
    collect(
        conn,
        &format!("SELECT {LINK_COLUMNS} FROM response_link ORDER BY created_at, id"),
        [],
        link_row,
    )
}

pub(super) fn clinician_accounts(conn: &Connection) -> rusqlite::Result<Vec<ClinicianAccount>> {
    collect(
        conn,
        "SELECT participant_id, account, shared FROM clinician_account ORDER BY account",
        [],
        |r| {
            Ok(ClinicianAccount {
                participant: id_at(r, 0)?,
                account: r.get(1)?,
                shared: r.get(2)?,
            })
        },
    )
}

impl SqliteTx<'_> {
    pub(super) fn insert_study_instrument_row(&self, i: &StudyInstrument) -> Result<()> {
        self.exec(
            &format!(
                "INSERT INTO study_instrument ({INSTRUMENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"
            ),
            params![i.id, i.version, i.definition, i.added_by, i.added_at],
        )?;
        self.log(
            "insert",
            "study_instrument",
            &format!("{}@{}", i.id, i.version),
            json!({ "id": i.id, "version": i.version }),
        )
    }

    pub(super) fn insert_response_row(&self, r: &Response) -> Result<()> {
        let id = r.id.to_string();
        self.exec(
            &format!(
                "INSERT INTO response ({RESPONSE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ),
            params![
                id,
                r.instrument,
                r.instrument_version,
                r.participant.to_string(),
                r.dyad.map(|d| d.to_string()),
                r.occasion.date,
                r.occasion.session,
                r.entered_by,
                r.entered_at,
                r.mode.as_str()
            ],
        )?;
        for (item, value) in &r.answers {
            self.exec(
                "INSERT INTO response_answer (response_id, item, value) VALUES (?1, ?2, ?3)",
                params![id, item, value],
            )?;
        }
        self.log(
            "insert",
            "response",
            &id,
            json!({
                "instrument": r.instrument, "version": r.instrument_version,
                "participant": r.participant, "dyad": r.dyad, "mode": r.mode,
                "answers": r.answers.len(),
            }),
        )
    }

    pub(super) fn insert_response_link_row(&self, l: &ResponseLink) -> Result<()> {
        let id = l.id.to_string();
        self.exec(
            &format!(
                "INSERT INTO response_link ({LINK_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL)"
            ),
            params![
                id,
                l.token_hash,
                l.instrument,
                l.instrument_version,
                l.participant.to_string(),
                l.dyad.map(|d| d.to_string()),
                l.occasion.date,
                l.occasion.session,
                l.created_by,
                l.created_at,
                l.expires_at
            ],
        )?;
        // Never the token, nor its hash.
        self.log(
            "insert",
            "response_link",
            &id,
            json!({
                "instrument": l.instrument, "version": l.instrument_version,
                "participant": l.participant, "expires_at": l.expires_at,
            }),
        )
    }

    pub(super) fn use_response_link_row(&self, id: ResponseLinkId, at: &str) -> Result<()> {
        let key = id.to_string();
        let changed = self.exec(
            "UPDATE response_link SET used_at = ?2 WHERE id = ?1",
            params![key, at],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound {
                entity: "response link",
                key,
            });
        }
        self.log("use", "response_link", &key, json!({ "at": at }))
    }

    pub(super) fn link_clinician_account_row(&self, c: &ClinicianAccount) -> Result<()> {
        let id = c.participant.to_string();
        self.exec(
            "INSERT INTO clinician_account (participant_id, account, shared) VALUES (?1, ?2, ?3)",
            params![id, c.account, c.shared],
        )?;
        self.log(
            "insert",
            "clinician_account",
            &id,
            json!({ "account": c.account, "shared": c.shared }),
        )
    }

    pub(super) fn set_self_care_shared_row(
        &self,
        participant: ParticipantId,
        shared: bool,
    ) -> Result<()> {
        let id = participant.to_string();
        let changed = self.exec(
            "UPDATE clinician_account SET shared = ?2 WHERE participant_id = ?1",
            params![id, shared],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound {
                entity: "clinician account",
                key: id,
            });
        }
        self.log(
            "update",
            "clinician_account",
            &id,
            json!({ "shared": shared }),
        )
    }
}
