//! The SQL of attributed passages. Their spans move only in a de-identification run
//! (`remap_attribution_spans`); the triggers of migration 0008 enforce it.

use between_core::text::Span;
use between_core::*;
use rusqlite::{OptionalExtension, Row, params};
use serde_json::json;

use super::{Conn, SqliteTx, collect, id_at};
use crate::{Result, StoreError};

const COLUMNS: &str =
    "id, source_id, start, \"end\", participant_id, dyad_id, attributed_by, attributed_at";

fn row(r: &Row) -> rusqlite::Result<Attribution> {
    let about = match r.get::<_, Option<String>>(4)? {
        Some(_) => AttributionTarget::Participant(id_at(r, 4)?),
        None => AttributionTarget::Dyad(id_at(r, 5)?),
    };
    Ok(Attribution {
        id: id_at(r, 0)?,
        source: id_at(r, 1)?,
        span: Span {
            start: r.get(2)?,
            end: r.get(3)?,
        },
        about,
        attributed_by: r.get(6)?,
        attributed_at: r.get(7)?,
    })
}

/// The participant and dyad columns of a target.
fn target_columns(about: AttributionTarget) -> (Option<String>, Option<String>) {
    match about {
        AttributionTarget::Participant(p) => (Some(p.to_string()), None),
        AttributionTarget::Dyad(d) => (None, Some(d.to_string())),
    }
}

pub(super) fn attributions(
    conn: &rusqlite::Connection,
    source: Option<SourceId>,
) -> rusqlite::Result<Vec<Attribution>> {
    // The unique index (source, start, end, target) gives the order.
    let order =
        "ORDER BY source_id, start, \"end\", coalesce(participant_id, ''), coalesce(dyad_id, '')";
    match source {
        None => collect(
            conn,
            &format!("SELECT {COLUMNS} FROM attribution {order}"),
            [],
            row,
        ),
        Some(s) => collect(
            conn,
            &format!("SELECT {COLUMNS} FROM attribution WHERE source_id = ?1 {order}"),
            [s.to_string()],
            row,
        ),
    }
}

fn logged(a: &Attribution) -> serde_json::Value {
    json!({ "source": a.source, "start": a.span.start, "end": a.span.end, "about": a.about })
}

impl SqliteTx<'_> {
    pub(super) fn insert_attribution_row(&self, a: &Attribution) -> Result<()> {
        let id = a.id.to_string();
        let (participant, dyad) = target_columns(a.about);
        self.exec(
            &format!("INSERT INTO attribution ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
            params![
                id,
                a.source.to_string(),
                a.span.start,
                a.span.end,
                participant,
                dyad,
                a.attributed_by,
                a.attributed_at
            ],
        )?;
        self.log("insert", "attribution", &id, logged(a))
    }

    pub(super) fn delete_attribution_row(&self, id: AttributionId) -> Result<Attribution> {
        let key = id.to_string();
        let gone = self
            .tx
            .query_row(
                &format!("DELETE FROM attribution WHERE id = ?1 RETURNING {COLUMNS}"),
                [&key],
                row,
            )
            .optional()
            .map_err(|e| self.fail(e))?
            .ok_or(StoreError::NotFound {
                entity: "attribution",
                key: key.clone(),
            })?;
        self.log("delete", "attribution", &key, logged(&gone))?;
        Ok(gone)
    }

    pub(super) fn remap_attribution_spans(
        &mut self,
        spans: &[(AttributionId, Span)],
    ) -> Result<usize> {
        let run = self.require_run("attributed passages move")?;
        let sql = "UPDATE attribution SET start = ?2, \"end\" = ?3 WHERE id = ?1";
        self.move_spans(
            "attribution",
            sql,
            spans.iter().map(|(id, s)| (id.to_string(), *s)),
        )?;
        self.log_run(
            run,
            "remap",
            "attribution",
            json!({ "attributions": spans.len() }),
        )?;
        Ok(spans.len())
    }
}
