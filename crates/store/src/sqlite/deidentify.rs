//! The SQL of de-identification: rewriting sources' texts, moving codings and memo passages with
//! them, and the mapping table. The audit log gets counts and ids, never a term.

use between_core::text::{self, Span};
use between_core::*;
use rusqlite::{OptionalExtension, params};
use serde_json::json;

use super::{Conn, SqliteStore, SqliteTx, audit, collect};
use crate::{DeidentificationCounts, PseudonymEntry, Result, StoreError};

pub(super) fn pseudonyms(conn: &rusqlite::Connection) -> rusqlite::Result<Vec<PseudonymEntry>> {
    collect(
        conn,
        "SELECT p.term, p.pseudonym, p.replacements, p.run, d.actor, d.at
         FROM pseudonym p JOIN deidentification d ON d.seq = p.run ORDER BY p.id",
        [],
        |r| {
            Ok(PseudonymEntry {
                term: r.get(0)?,
                pseudonym: r.get(1)?,
                replacements: r.get(2)?,
                run: r.get(3)?,
                actor: r.get(4)?,
                at: r.get(5)?,
            })
        },
    )
}

impl SqliteStore {
    pub(super) fn vacuum_file(&mut self) -> Result<()> {
        self.conn.execute_batch("VACUUM").map_err(|e| self.err(e))?;
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if busy != 0 {
            return Err(StoreError::Busy {
                path: self.path.clone(),
                waited_ms: self.options.busy_timeout.as_millis() as u64,
            });
        }
        Ok(())
    }
}

impl SqliteTx<'_> {
    pub(super) fn begin_run(&mut self) -> Result<i64> {
        if self.active_run()?.is_some() {
            return Err(StoreError::Constraint(
                "a de-identification is already under way in this change".into(),
            ));
        }
        self.exec(
            "INSERT INTO deidentification (at, actor, active) VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?1, 1)",
            params![self.actor],
        )?;
        Ok(self.tx.last_insert_rowid())
    }

    fn active_run(&self) -> Result<Option<i64>> {
        self.tx
            .query_row(
                "SELECT seq FROM deidentification WHERE active = 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.fail(e))
    }

    /// The run these rewrites belong to: one must be under way.
    pub(super) fn require_run(&self, what: &str) -> Result<i64> {
        self.active_run()?.ok_or_else(|| {
            StoreError::Constraint(format!("{what} only during a de-identification run"))
        })
    }

    pub(super) fn rewrite(&mut self, s: &Source) -> Result<()> {
        self.require_run("a source's text is rewritten")?;
        let id = s.id.to_string();
        let length = text::char_len(&s.text);
        let n = self.exec(
            "UPDATE source SET text = ?2, text_length = ?3, version = version + 1 WHERE id = ?1 AND version = ?4",
            params![id, s.text, length, s.version],
        )?;
        self.versioned("source", &id, s.version, n)?;
        self.exec("DELETE FROM turn WHERE source_id = ?1", [&id])?;
        self.exec("DELETE FROM speaker WHERE source_id = ?1", [&id])?;
        self.exec("DELETE FROM marker WHERE source_id = ?1", [&id])?;
        self.insert_turns_and_speakers(s, length)?;
        self.log(
            "rewrite",
            "source",
            &id,
            json!({ "characters": length, "turns": s.turns.len(), "version": s.version + 1 }),
        )
    }

    pub(super) fn remap_coding_spans(&mut self, spans: &[(CodingId, Span)]) -> Result<usize> {
        let run = self.require_run("codings are remapped")?;
        let sql = "UPDATE coding SET start = ?2, \"end\" = ?3, version = version + 1,
                       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                   WHERE id = ?1";
        self.move_spans(
            "coding",
            sql,
            spans.iter().map(|(id, s)| (id.to_string(), *s)),
        )?;
        self.log_run(run, "remap", "coding", json!({ "codings": spans.len() }))?;
        Ok(spans.len())
    }

    pub(super) fn remap_passages(&mut self, spans: &[(MemoId, Span)]) -> Result<usize> {
        let run = self.require_run("memo passages move")?;
        let sql = "UPDATE memo SET passage_start = ?2, passage_end = ?3, version = version + 1 WHERE id = ?1";
        self.move_spans(
            "memo",
            sql,
            spans.iter().map(|(id, s)| (id.to_string(), *s)),
        )?;
        self.log_run(run, "remap", "memo", json!({ "passages": spans.len() }))?;
        Ok(spans.len())
    }

    /// Runs `sql` (`?1` id, `?2` start, `?3` end) for each span; every id must exist.
    pub(super) fn move_spans(
        &self,
        entity: &'static str,
        sql: &str,
        spans: impl Iterator<Item = (String, Span)>,
    ) -> Result<()> {
        for (id, span) in spans {
            if self.exec(sql, params![id, span.start, span.end])? != 1 {
                return Err(StoreError::NotFound { entity, key: id });
            }
        }
        Ok(())
    }

    pub(super) fn store_pseudonyms(
        &mut self,
        run: i64,
        entries: &[(String, String, usize)],
    ) -> Result<()> {
        for (term, pseudonym, replacements) in entries {
            self.exec(
                "INSERT INTO pseudonym (run, term, pseudonym, replacements) VALUES (?1, ?2, ?3, ?4)",
                params![run, term, pseudonym, replacements],
            )?;
        }
        // How many, never which: the terms are what identifies people.
        self.log_run(
            run,
            "insert",
            "pseudonym",
            json!({ "terms": entries.len() }),
        )
    }

    pub(super) fn finish_run(&mut self, run: i64, c: &DeidentificationCounts) -> Result<()> {
        let n = self.exec(
            "UPDATE deidentification SET active = 0, sources = ?2, replacements = ?3, codings = ?4, memos = ?5,
                 attributions = ?6
             WHERE seq = ?1 AND active = 1",
            params![run, c.sources.len(), c.replacements, c.codings, c.memos, c.attributions],
        )?;
        if n != 1 {
            return Err(StoreError::NotFound {
                entity: "de-identification run",
                key: run.to_string(),
            });
        }
        self.log_run(
            run,
            "apply",
            "deidentification",
            json!({
                "sources": c.sources,
                "replacements": c.replacements,
                "codings": c.codings,
                "memos": c.memos,
                "attributions": c.attributions,
            }),
        )
    }

    pub(super) fn destroy_pseudonyms(&mut self) -> Result<usize> {
        let n = self.exec("DELETE FROM pseudonym", [])?;
        audit(
            &self.tx,
            &self.actor,
            "destroy",
            "pseudonym",
            None,
            &json!({ "terms": n }),
        )
        .map_err(|e| self.fail(e))?;
        Ok(n)
    }

    pub(super) fn log_run(
        &self,
        run: i64,
        action: &str,
        entity: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        self.log(action, entity, &format!("run {run}"), detail)
    }
}
