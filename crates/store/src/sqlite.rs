//! The SQLite backend: one file per study.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use between_core::text::Span;
use between_core::*;
use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Row, TransactionBehavior, params,
};
use rusqlite_migration::{M, Migrations};
use serde_json::json;

use crate::*;

/// Marks a SQLite file as a `between` study (`PRAGMA application_id`), ASCII "BTWN".
const APPLICATION_ID: i64 = 0x4254_574E;

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_initial.sql"),
    include_str!("../migrations/sqlite/0002_accounts_and_blind_coding.sql"),
    include_str!("../migrations/sqlite/0003_memo_passages.sql"),
    include_str!("../migrations/sqlite/0004_media_and_verification.sql"),
    include_str!("../migrations/sqlite/0005_deidentification.sql"),
    include_str!("../migrations/sqlite/0006_exemplars.sql"),
    include_str!("../migrations/sqlite/0007_source_length_index.sql"),
    include_str!("../migrations/sqlite/0008_attributions.sql"),
    include_str!("../migrations/sqlite/0009_measures.sql"),
];

fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect())
}

/// The schema version this build writes.
pub fn schema_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Codings one `INSERT` of [`Writer::insert_codings`] stores (ten parameters each, well
/// under SQLite's limit of 32 766).
const CODINGS_PER_INSERT: usize = 128;

/// Turns one `INSERT` of a source's turns stores (seven parameters each).
const TURNS_PER_INSERT: usize = 128;

/// A batched `INSERT` into one table: its statements' SQL for every size its `batches` gives,
/// made once (making it for every batch cost as much as a tenth of an import).
struct BatchedInsert {
    /// The table and its columns, as `INSERT INTO` names them.
    table: &'static str,
    columns: usize,
    most: usize,
    sql: OnceLock<Vec<String>>,
}

impl BatchedInsert {
    const fn new(table: &'static str, columns: usize, most: usize) -> Self {
        BatchedInsert {
            table,
            columns,
            most,
            sql: OnceLock::new(),
        }
    }

    /// The SQL for a batch of `rows` (a size [`BatchedInsert::batches`] gives).
    fn sql(&self, rows: usize) -> &str {
        let all = self.sql.get_or_init(|| {
            (0..=self.most.ilog2())
                .map(|k| 1 << k)
                .filter(|&n| n < self.most)
                .chain([self.most])
                .map(|n| insert_rows_sql(self.table, self.columns, n))
                .collect()
        });
        let i = if rows == self.most {
            all.len() - 1
        } else {
            rows.ilog2() as usize
        };
        debug_assert!(rows == self.most || rows.is_power_of_two());
        &all[i]
    }

    /// `rows` in batches of `most`, the rest in batches of powers of two: few sizes, so few
    /// statements to prepare and cache however many rows there are.
    fn batches<'r, T>(&self, mut rows: &'r [T]) -> impl Iterator<Item = &'r [T]> + use<'r, T> {
        let most = self.most;
        std::iter::from_fn(move || {
            if rows.is_empty() {
                return None;
            }
            let n = if rows.len() >= most {
                most
            } else {
                1 << rows.len().ilog2()
            };
            let (batch, rest) = rows.split_at(n);
            rows = rest;
            Some(batch)
        })
    }
}

static INSERT_TURNS: BatchedInsert = BatchedInsert::new(
    "turn (source_id, seq, start, \"end\", speaker, start_ms, end_ms)",
    7,
    TURNS_PER_INSERT,
);

static INSERT_CODINGS: BatchedInsert = BatchedInsert::new(
    "coding (id, source_id, code_id, start, \"end\", coder, contrast, memo, created_at, updated_at)",
    10,
    CODINGS_PER_INSERT,
);

/// `INSERT INTO {table} VALUES (?1, …), (…), …` for `rows` rows of `columns` parameters.
fn insert_rows_sql(table: &str, columns: usize, rows: usize) -> String {
    let mut sql = format!("INSERT INTO {table} VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            write!(sql, "?{}", row * columns + column + 1).expect("writing to a String");
        }
        sql.push(')');
    }
    sql
}

#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// How long a write waits for another process's write to finish before failing as busy.
    pub busy_timeout: Duration,
    /// Open the study for reading only: every change is refused ([`StoreError::ReadOnly`]).
    /// A file the process may not write is opened so whatever this says.
    pub read_only: bool,
    /// The most bytes the study file may grow to (SQLite's `max_page_count`): a change that
    /// would pass it is refused as on a full disk ([`StoreError::Full`]). `None`: the disk's room.
    pub size_limit: Option<u64>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(5),
            read_only: false,
            size_limit: None,
        }
    }
}

#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    options: OpenOptions,
    /// Why changes are refused, when the study is open for reading only.
    read_only: Option<String>,
    /// Whether a bulk write lowered the connection's page cache (and it is still low).
    bulk_cache: std::cell::Cell<bool>,
}

impl SqliteStore {
    /// Creates a new study file. Refuses to overwrite anything; on failure leaves no file.
    pub fn create(
        path: &Path,
        study: &Study,
        theory: Option<&StoredTheory>,
        options: &OpenOptions,
    ) -> Result<Self> {
        if path.exists() {
            return Err(StoreError::AlreadyExists(path.to_path_buf()));
        }
        let result = Self::create_inner(path, study, theory, options);
        if result.is_err() {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut p = path.as_os_str().to_owned();
                p.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
        }
        result
    }

    fn create_inner(
        path: &Path,
        study: &Study,
        theory: Option<&StoredTheory>,
        options: &OpenOptions,
    ) -> Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| map_err(path, options, e))?;
        let mut store = Self {
            bulk_cache: std::cell::Cell::new(false),
            conn,
            path: path.to_path_buf(),
            options: options.clone(),
            read_only: None,
        };
        store.configure()?;
        let err = |e| map_err(path, options, e);
        store
            .conn
            .pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(err)?;
        migrations()
            .to_latest(&mut store.conn)
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        let tx = store.conn.transaction().map_err(err)?;
        tx.execute(
            "INSERT INTO study (id, name, description, theory_id, theory_name, theory_version, theory_text, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                study.id.to_string(),
                study.name,
                study.description,
                theory.map(|t| &t.reference.id),
                theory.map(|t| &t.reference.name),
                theory.map(|t| &t.reference.version),
                theory.map(|t| &t.text),
                study.created_at,
            ],
        )
        .map_err(err)?;
        audit(
            &tx,
            "system",
            "create",
            "study",
            Some(&study.id.to_string()),
            &json!({ "name": study.name }),
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(store)
    }

    /// Opens an existing study file, upgrading its schema if it is older than this build's.
    pub fn open(path: &Path, options: &OpenOptions) -> Result<Self> {
        if !path.is_file() {
            return Err(StoreError::NoSuchFile(path.to_path_buf()));
        }
        let access = if options.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        };
        let conn = Connection::open_with_flags(path, access | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| map_err(path, options, e))?;
        // SQLite opens a file it may not write for reading, silently.
        let read_only = if options.read_only {
            Some("opened for reading only".to_string())
        } else if conn
            .is_readonly(rusqlite::MAIN_DB)
            .map_err(|e| map_err(path, options, e))?
        {
            Some("the file is not writable".to_string())
        } else {
            None
        };
        let not_a_study = |reason: &str| StoreError::NotAStudy {
            path: path.to_path_buf(),
            reason: reason.into(),
        };
        let app_id: i64 = match conn.pragma_query_value(None, "application_id", |r| r.get(0)) {
            Ok(id) => id,
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) => {
                return Err(not_a_study("not an SQLite database"));
            }
            Err(e) => return Err(map_err(path, options, e)),
        };
        if app_id != APPLICATION_ID {
            return Err(not_a_study("an SQLite database that another program made"));
        }
        let found: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| map_err(path, options, e))?;
        if found > schema_version() {
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found,
                known: schema_version(),
            });
        }
        if found < schema_version()
            && let Some(reason) = read_only
        {
            return Err(StoreError::ReadOnly {
                path: path.to_path_buf(),
                reason: format!(
                    "{reason}, and its schema {found} needs upgrading to {}",
                    schema_version()
                ),
            });
        }
        let mut store = Self {
            bulk_cache: std::cell::Cell::new(false),
            conn,
            path: path.to_path_buf(),
            options: options.clone(),
            read_only,
        };
        store.configure()?;
        if found < schema_version() {
            migrations()
                .to_latest(&mut store.conn)
                .map_err(|e| StoreError::Migration(e.to_string()))?;
        }
        Ok(store)
    }

    fn configure(&mut self) -> Result<()> {
        let err = |e| map_err(&self.path, &self.options, e);
        self.conn
            .busy_timeout(self.options.busy_timeout)
            .map_err(err)?;
        // Room for the batched inserts' statements (a few sizes each) beside the rest.
        self.conn.set_prepared_statement_cache_capacity(64);
        self.conn
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        // Switching the journal writes to the file: a study opened for reading is only asked.
        let mode: String = if self.read_only.is_some() {
            self.conn
                .pragma_query_value(None, "journal_mode", |r| r.get(0))
                .map_err(err)?
        } else {
            self.conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
                .map_err(err)?
        };
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Corrupt(format!(
                "could not switch to WAL journaling (got {mode})"
            )));
        }
        // FULL: a committed transaction survives a power cut, not only a crash.
        self.conn
            .pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        // 8 MiB of page cache (the default is 2). More showed no gain for imports, exports or
        // reports (bench/README.md), and a server keeps it for as long as it runs.
        self.conn
            .pragma_update(None, "cache_size", CACHE_KIB)
            .map_err(err)?;
        if let Some(limit) = self.options.size_limit {
            let page: u64 = self
                .conn
                .pragma_query_value(None, "page_size", |r| r.get(0))
                .map_err(err)?;
            // SQLite never sets it below the file's current size.
            self.conn
                .pragma_update(None, "max_page_count", (limit / page).max(1))
                .map_err(err)?;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs SQLite's own consistency checks (`integrity_check`, `foreign_key_check`).
    pub fn check_integrity(&self) -> Result<Vec<String>> {
        let err = |e| self.err(e);
        let mut problems: Vec<String> = self
            .conn
            .prepare("PRAGMA integrity_check")
            .and_then(|mut s| s.query_map([], |r| r.get::<_, String>(0))?.collect())
            .map_err(err)?;
        problems.retain(|p| p != "ok");
        let fk: Vec<String> = self
            .conn
            .prepare("PRAGMA foreign_key_check")
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok(format!("foreign key broken in {}", r.get::<_, String>(0)?))
                })?
                .collect()
            })
            .map_err(err)?;
        problems.extend(fk);
        Ok(problems)
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        map_err(&self.path, &self.options, e)
    }
}

fn map_err(path: &Path, options: &OpenOptions, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy {
            path: path.to_path_buf(),
            waited_ms: options.busy_timeout.as_millis() as u64,
        },
        Some(ErrorCode::NotADatabase) => StoreError::NotAStudy {
            path: path.to_path_buf(),
            reason: "not an SQLite database".into(),
        },
        Some(ErrorCode::ConstraintViolation) => StoreError::Constraint(constraint_message(&e)),
        Some(ErrorCode::DiskFull) => StoreError::Full {
            path: path.to_path_buf(),
        },
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly {
            path: path.to_path_buf(),
            reason: e.to_string(),
        },
        Some(
            ErrorCode::CannotOpen
            | ErrorCode::SystemIoFailure
            | ErrorCode::PermissionDenied
            | ErrorCode::NoLargeFileSupport,
        ) => StoreError::Unavailable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        },
        _ => StoreError::Sqlite {
            path: path.to_path_buf(),
            source: e,
        },
    }
}

fn constraint_message(e: &rusqlite::Error) -> String {
    let raw = match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
        other => other.to_string(),
    };
    if raw.contains("FOREIGN KEY") {
        "it refers to something that does not exist, or something else still refers to it".into()
    } else if raw.contains("response_once") {
        "a response to this instrument version by this participant (and dyad) on that date and session is already stored".into()
    } else if raw.contains("attribution_once") {
        "that passage is already attributed to them".into()
    } else if let Some(cols) = raw.strip_prefix("UNIQUE constraint failed: ") {
        format!("another entry already has the same {cols}")
    } else if raw.contains("code_sibling_name") || raw.contains("code.name") {
        "a code with that name already exists under the same parent".into()
    } else {
        raw
    }
}

fn audit(
    conn: &Connection,
    actor: &str,
    action: &str,
    entity: &str,
    id: Option<&str>,
    detail: &serde_json::Value,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log (at, actor, action, entity, entity_id, detail)
         VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![actor, action, entity, id, detail.to_string()])?;
    Ok(())
}

/// What both the store and its transactions read through.
trait Conn {
    fn conn(&self) -> &Connection;
    fn fail(&self, e: rusqlite::Error) -> StoreError;
}

impl Conn for SqliteStore {
    fn conn(&self) -> &Connection {
        &self.conn
    }
    fn fail(&self, e: rusqlite::Error) -> StoreError {
        self.err(e)
    }
}

/// An id read as text from column `i`.
fn id_text<T: std::str::FromStr>(s: &str, i: usize) -> rusqlite::Result<T> {
    s.parse().map_err(|_| {
        rusqlite::Error::InvalidColumnType(i, format!("bad id {s}"), rusqlite::types::Type::Text)
    })
}

fn parse_id<T: std::str::FromStr>(s: String) -> rusqlite::Result<T> {
    id_text(&s, 0)
}

/// The id in column `i`, read in place (ids are most of what a row holds).
fn id_at<T: std::str::FromStr>(r: &Row, i: usize) -> rusqlite::Result<T> {
    id_text(r.get_ref(i)?.as_str()?, i)
}

fn parse_json<T: serde::de::DeserializeOwned>(s: String) -> rusqlite::Result<T> {
    serde_json::from_str(&s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn parse_name<T: std::str::FromStr<Err = UnknownName>>(s: String) -> rusqlite::Result<T> {
    s.parse().map_err(|e: UnknownName| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn opt_id<T: std::str::FromStr>(s: Option<String>) -> rusqlite::Result<Option<T>> {
    s.map(parse_id).transpose()
}

fn participant_row(r: &Row) -> rusqlite::Result<Participant> {
    Ok(Participant {
        id: id_at(r, 0)?,
        label: r.get(1)?,
        role: parse_name(r.get(2)?)?,
        name: r.get(3)?,
        attributes: parse_json(r.get(4)?)?,
        version: r.get(5)?,
    })
}

fn dyad_row(r: &Row) -> rusqlite::Result<Dyad> {
    Ok(Dyad {
        id: id_at(r, 0)?,
        label: r.get(1)?,
        clinician: id_at(r, 2)?,
        patient: id_at(r, 3)?,
        relationship_start: r.get(4)?,
        notes: r.get(5)?,
        version: r.get(6)?,
    })
}

const SOURCE_COLUMNS: &str =
    "id, name, kind, participant_id, dyad_id, text_length, interviewer, interview_date,
    duration_minutes, others_present, guide_version, consent_recorded, imported_at, version, blind";

fn interview_info(r: &Row, at: usize) -> rusqlite::Result<InterviewInfo> {
    Ok(InterviewInfo {
        interviewer: r.get(at)?,
        date: r.get(at + 1)?,
        duration_minutes: r.get(at + 2)?,
        others_present: parse_json(r.get(at + 3)?)?,
        guide_version: r.get(at + 4)?,
        consent_recorded: r.get(at + 5)?,
    })
}

fn code_row(r: &Row) -> rusqlite::Result<Code> {
    Ok(Code {
        id: id_at(r, 0)?,
        parent: opt_id(r.get(1)?)?,
        name: r.get(2)?,
        colour: r.get(3)?,
        definition: r.get(4)?,
        indicators: parse_json(r.get(5)?)?,
        component: r.get(6)?,
        version: r.get(7)?,
    })
}

const CODING_COLUMNS: &str = "id, source_id, code_id, start, \"end\", coder, contrast, memo, created_at, updated_at, version";

fn coding_row(r: &Row) -> rusqlite::Result<Coding> {
    Ok(Coding {
        id: id_at(r, 0)?,
        source: id_at(r, 1)?,
        code: id_at(r, 2)?,
        span: Span {
            start: r.get(3)?,
            end: r.get(4)?,
        },
        coder: r.get(5)?,
        contrast: r.get(6)?,
        memo: r.get(7)?,
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
        version: r.get(10)?,
    })
}

const MEMO_COLUMNS: &str = "id, target_kind, source_id, code_id, coding_id, dyad_id, participant_id, author, title, text, created_at, updated_at, version, passage_start, passage_end";

fn memo_row(r: &Row) -> rusqlite::Result<Memo> {
    let kind: String = r.get(1)?;
    let target_id: Option<String> = [2, 3, 4, 5, 6]
        .iter()
        .find_map(|&i| r.get::<_, Option<String>>(i).ok().flatten());
    let id = || {
        target_id
            .clone()
            .map(parse_id)
            .transpose()?
            .ok_or(rusqlite::Error::InvalidQuery)
    };
    let target = match kind.as_str() {
        "study" => MemoTarget::Study,
        "source" => MemoTarget::Source(SourceId(id()?)),
        "code" => MemoTarget::Code(CodeId(id()?)),
        "coding" => MemoTarget::Coding(CodingId(id()?)),
        "dyad" => MemoTarget::Dyad(DyadId(id()?)),
        _ => MemoTarget::Participant(ParticipantId(id()?)),
    };
    let passage = match (
        r.get::<_, Option<usize>>(13)?,
        r.get::<_, Option<usize>>(14)?,
    ) {
        (Some(start), Some(end)) => Some(Span { start, end }),
        _ => None,
    };
    Ok(Memo {
        id: id_at(r, 0)?,
        target,
        passage,
        author: r.get(7)?,
        title: r.get(8)?,
        text: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
        version: r.get(12)?,
    })
}

/// The column a memo target's id lives in, and the id.
fn memo_target_column(t: &MemoTarget) -> Option<(&'static str, String)> {
    match t {
        MemoTarget::Study => None,
        MemoTarget::Source(id) => Some(("source_id", id.to_string())),
        MemoTarget::Code(id) => Some(("code_id", id.to_string())),
        MemoTarget::Coding(id) => Some(("coding_id", id.to_string())),
        MemoTarget::Dyad(id) => Some(("dyad_id", id.to_string())),
        MemoTarget::Participant(id) => Some(("participant_id", id.to_string())),
    }
}

/// The `WHERE` condition of a [`CodingFilter`] and its values, in order (`?1`, `?2`, …).
fn coding_condition(filter: &CodingFilter) -> (String, Vec<String>) {
    let mut condition = String::from("1 = 1");
    let mut values: Vec<String> = Vec::new();
    for (column, value) in [
        ("source_id", filter.source.map(|s| s.to_string())),
        ("code_id", filter.code.map(|c| c.to_string())),
        ("coder", filter.coder.clone()),
    ] {
        if let Some(v) = value {
            values.push(v);
            condition.push_str(&format!(" AND {column} = ?{}", values.len()));
        }
    }
    (condition, values)
}

fn collect<T>(
    conn: &Connection,
    sql: &str,
    p: impl rusqlite::Params,
    f: impl FnMut(&Row) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    conn.prepare_cached(sql)?.query_map(p, f)?.collect()
}

impl<C: Conn> Reader for C {
    fn study(&self) -> Result<Study> {
        self.conn()
            .query_row(
                "SELECT id, name, description, theory_id, theory_name, theory_version, created_at, blind FROM study",
                [],
                |r| {
                    let theory_id: Option<String> = r.get(3)?;
                    Ok(Study {
                        id: id_at(r, 0)?,
                        name: r.get(1)?,
                        description: r.get(2)?,
                        theory: match theory_id {
                            Some(id) => Some(TheoryRef { id, name: r.get(4)?, version: r.get(5)? }),
                            None => None,
                        },
                        created_at: r.get(6)?,
                        blind: r.get(7)?,
                    })
                },
            )
            .map_err(|e| self.fail(e))
    }

    fn theory(&self) -> Result<Option<StoredTheory>> {
        self.conn()
            .query_row(
                "SELECT theory_id, theory_name, theory_version, theory_text FROM study",
                [],
                |r| {
                    let id: Option<String> = r.get(0)?;
                    Ok(match id {
                        Some(id) => Some(StoredTheory {
                            reference: TheoryRef {
                                id,
                                name: r.get(1)?,
                                version: r.get(2)?,
                            },
                            text: r.get(3)?,
                        }),
                        None => None,
                    })
                },
            )
            .map_err(|e| self.fail(e))
    }

    fn participants(&self) -> Result<Vec<Participant>> {
        collect(
            self.conn(),
            "SELECT id, label, role, name, attributes, version FROM participant ORDER BY label",
            [],
            participant_row,
        )
        .map_err(|e| self.fail(e))
    }

    fn dyads(&self) -> Result<Vec<Dyad>> {
        collect(
            self.conn(),
            "SELECT id, label, clinician_id, patient_id, relationship_start, notes, version FROM dyad ORDER BY label",
            [],
            dyad_row,
        )
        .map_err(|e| self.fail(e))
    }

    fn source_infos(&self) -> Result<Vec<SourceInfo>> {
        let sql = format!(
            "SELECT {SOURCE_COLUMNS}, (SELECT count(*) FROM turn WHERE turn.source_id = source.id)
             FROM source ORDER BY name"
        );
        collect(self.conn(), &sql, [], |r| {
            Ok(SourceInfo {
                id: id_at(r, 0)?,
                name: r.get(1)?,
                kind: parse_name(r.get(2)?)?,
                participant: opt_id(r.get(3)?)?,
                dyad: opt_id(r.get(4)?)?,
                text_length: r.get(5)?,
                interview: interview_info(r, 6)?,
                imported_at: r.get(12)?,
                blind: r.get(14)?,
                turns: r.get(15)?,
            })
        })
        .map_err(|e| self.fail(e))
    }

    fn source(&self, id: SourceId) -> Result<Source> {
        let conn = self.conn();
        let sql = format!("SELECT {SOURCE_COLUMNS}, text FROM source WHERE id = ?1");
        let source = conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_row([id.to_string()], |r| {
                    Ok(Source {
                        id,
                        name: r.get(1)?,
                        kind: parse_name(r.get(2)?)?,
                        participant: opt_id(r.get(3)?)?,
                        dyad: opt_id(r.get(4)?)?,
                        interview: interview_info(r, 6)?,
                        imported_at: r.get(12)?,
                        version: r.get(13)?,
                        blind: r.get(14)?,
                        text: r.get(15)?,
                        turns: Vec::new(),
                        speakers: Vec::new(),
                        markers: Vec::new(),
                    })
                })
                .optional()
            })
            .map_err(|e| self.fail(e))?;
        let mut source = source.ok_or_else(|| StoreError::NotFound {
            entity: "source",
            key: id.to_string(),
        })?;
        source.turns = collect(
            conn,
            "SELECT start, \"end\", speaker, start_ms, end_ms FROM turn WHERE source_id = ?1 ORDER BY seq",
            [id.to_string()],
            |r| {
                Ok(Turn {
                    span: Span { start: r.get(0)?, end: r.get(1)? },
                    speaker: r.get(2)?,
                    start_ms: r.get(3)?,
                    end_ms: r.get(4)?,
                })
            },
        )
        .map_err(|e| self.fail(e))?;
        source.speakers = collect(
            conn,
            "SELECT label, role, participant_id FROM speaker WHERE source_id = ?1 ORDER BY label",
            [id.to_string()],
            |r| {
                Ok(Speaker {
                    label: r.get(0)?,
                    role: parse_name(r.get(1)?)?,
                    participant: opt_id(r.get(2)?)?,
                })
            },
        )
        .map_err(|e| self.fail(e))?;
        source.markers = collect(
            conn,
            "SELECT start, \"end\", kind FROM marker WHERE source_id = ?1 ORDER BY start, \"end\"",
            [id.to_string()],
            |r| {
                Ok(Marker {
                    span: Span {
                        start: r.get(0)?,
                        end: r.get(1)?,
                    },
                    kind: parse_name(r.get(2)?)?,
                })
            },
        )
        .map_err(|e| self.fail(e))?;
        Ok(source)
    }

    fn source_id_by_name(&self, name: &str) -> Result<Option<SourceId>> {
        self.conn()
            .prepare_cached("SELECT id FROM source WHERE name = ?1")
            .and_then(|mut s| s.query_row([name], |r| id_at(r, 0)).optional())
            .map_err(|e| self.fail(e))
    }

    fn coding_counts_by_source(&self) -> Result<Vec<(SourceId, String, usize)>> {
        collect(
            self.conn(),
            "SELECT source_id, coder, count(*) FROM coding GROUP BY source_id, coder ORDER BY source_id, coder",
            [],
            |r| Ok((id_at(r, 0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(|e| self.fail(e))
    }

    fn coding_counts(&self) -> Result<Vec<(CodeId, bool, usize)>> {
        collect(
            self.conn(),
            "SELECT code_id, contrast, count(*) FROM coding GROUP BY code_id, contrast",
            [],
            |r| Ok((id_at(r, 0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(|e| self.fail(e))
    }

    fn source_length(&self, id: SourceId) -> Result<usize> {
        self.conn()
            .prepare_cached("SELECT text_length FROM source WHERE id = ?1")
            .and_then(|mut s| s.query_row([id.to_string()], |r| r.get(0)).optional())
            .map_err(|e| self.fail(e))?
            .ok_or_else(|| StoreError::NotFound {
                entity: "source",
                key: id.to_string(),
            })
    }

    fn source_text(&self, id: SourceId) -> Result<String> {
        self.conn()
            .prepare_cached("SELECT text FROM source WHERE id = ?1")
            .and_then(|mut s| s.query_row([id.to_string()], |r| r.get(0)).optional())
            .map_err(|e| self.fail(e))?
            .ok_or_else(|| StoreError::NotFound {
                entity: "source",
                key: id.to_string(),
            })
    }

    fn blind_sources(&self) -> Result<Vec<SourceId>> {
        collect(
            self.conn(),
            "SELECT id FROM source WHERE blind = 1",
            [],
            |r| id_at(r, 0),
        )
        .map_err(|e| self.fail(e))
    }

    fn codes(&self) -> Result<Vec<Code>> {
        collect(
            self.conn(),
            "SELECT id, parent_id, name, colour, definition, indicators, component, version FROM code ORDER BY rowid",
            [],
            code_row,
        )
        .map_err(|e| self.fail(e))
    }

    fn codings(&self, filter: &CodingFilter) -> Result<Vec<Coding>> {
        let (condition, values) = coding_condition(filter);
        collect(
            self.conn(),
            &format!(
                "SELECT {CODING_COLUMNS} FROM coding WHERE {condition} ORDER BY source_id, start, \"end\", id"
            ),
            rusqlite::params_from_iter(values),
            coding_row,
        )
        .map_err(|e| self.fail(e))
    }

    fn codings_page(
        &self,
        filter: &CodingFilter,
        rows: std::ops::Range<usize>,
    ) -> Result<(Vec<Coding>, usize)> {
        let (condition, values) = coding_condition(filter);
        let total: i64 = self
            .conn()
            .prepare_cached(&format!("SELECT count(*) FROM coding WHERE {condition}"))
            .and_then(|mut s| s.query_row(rusqlite::params_from_iter(&values), |r| r.get(0)))
            .map_err(|e| self.fail(e))?;
        let page = collect(
            self.conn(),
            &format!(
                "SELECT {CODING_COLUMNS} FROM coding WHERE {condition} ORDER BY source_id, start, \"end\", id LIMIT {} OFFSET {}",
                i64::try_from(rows.len()).unwrap_or(i64::MAX),
                i64::try_from(rows.start).unwrap_or(i64::MAX)
            ),
            rusqlite::params_from_iter(values),
            coding_row,
        )
        .map_err(|e| self.fail(e))?;
        Ok((page, usize::try_from(total).unwrap_or(0)))
    }

    fn coding(&self, id: CodingId) -> Result<Coding> {
        let sql = format!("SELECT {CODING_COLUMNS} FROM coding WHERE id = ?1");
        self.conn()
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row([id.to_string()], coding_row).optional())
            .map_err(|e| self.fail(e))?
            .ok_or_else(|| StoreError::NotFound {
                entity: "coding",
                key: id.to_string(),
            })
    }

    fn memos(&self, target: Option<MemoTarget>) -> Result<Vec<Memo>> {
        let conn = self.conn();
        let result = match target {
            None => collect(
                conn,
                &format!("SELECT {MEMO_COLUMNS} FROM memo ORDER BY created_at, id"),
                [],
                memo_row,
            ),
            Some(t) => match memo_target_column(&t) {
                None => collect(
                    conn,
                    &format!(
                        "SELECT {MEMO_COLUMNS} FROM memo WHERE target_kind = 'study' ORDER BY created_at, id"
                    ),
                    [],
                    memo_row,
                ),
                Some((column, id)) => collect(
                    conn,
                    &format!(
                        "SELECT {MEMO_COLUMNS} FROM memo WHERE {column} = ?1 ORDER BY created_at, id"
                    ),
                    [id],
                    memo_row,
                ),
            },
        };
        result.map_err(|e| self.fail(e))
    }

    fn cases(&self) -> Result<Vec<Case>> {
        collect(
            self.conn(),
            "SELECT id, subject_kind, dyad_id, clinician_id, text, updated_at, version FROM case_study ORDER BY updated_at",
            [],
            |r| {
                let kind: String = r.get(1)?;
                let subject = if kind == "dyad" {
                    CaseSubject::Dyad(id_at(r, 2)?)
                } else {
                    CaseSubject::Clinician(id_at(r, 3)?)
                };
                Ok(Case { id: id_at(r, 0)?, subject, text: r.get(4)?, updated_at: r.get(5)?, version: r.get(6)? })
            },
        )
        .map_err(|e| self.fail(e))
    }

    fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        let mut entries = collect(
            self.conn(),
            "SELECT seq, at, actor, action, entity, entity_id, detail FROM audit_log ORDER BY seq DESC LIMIT ?1",
            [limit as i64],
            |r| {
                Ok(AuditEntry {
                    seq: r.get(0)?,
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    entity: r.get(4)?,
                    entity_id: r.get(5)?,
                    detail: parse_json(r.get(6)?)?,
                })
            },
        )
        .map_err(|e| self.fail(e))?;
        entries.reverse();
        Ok(entries)
    }

    fn accounts(&self) -> Result<Vec<Account>> {
        collect(
            self.conn(),
            "SELECT id, name, role, created_at, version FROM account ORDER BY name",
            [],
            account_row,
        )
        .map_err(|e| self.fail(e))
    }

    fn account_names_ever(&self) -> Result<Vec<String>> {
        collect(
            self.conn(),
            "SELECT name FROM account
             UNION SELECT json_extract(detail, '$.name') FROM audit_log
              WHERE entity = 'account' AND json_extract(detail, '$.name') IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .map_err(|e| self.fail(e))
    }

    fn account_with_hash(&self, name: &str) -> Result<Option<(Account, String)>> {
        self.conn()
            .prepare_cached("SELECT id, name, role, created_at, version, password_hash FROM account WHERE name = ?1")
            .and_then(|mut s| s.query_row([name], |r| Ok((account_row(r)?, r.get(5)?))).optional())
            .map_err(|e| self.fail(e))
    }

    fn account(&self, id: AccountId) -> Result<Option<Account>> {
        self.conn()
            .prepare_cached("SELECT id, name, role, created_at, version FROM account WHERE id = ?1")
            .and_then(|mut s| s.query_row([id.to_string()], account_row).optional())
            .map_err(|e| self.fail(e))
    }

    fn media(&self) -> Result<Vec<Media>> {
        collect(
            self.conn(),
            "SELECT source_id, path, mime, bytes, attached_at, attached_by FROM media ORDER BY source_id",
            [],
            |r| {
                Ok(Media {
                    source: id_at(r, 0)?,
                    path: r.get(1)?,
                    mime: r.get(2)?,
                    bytes: r.get(3)?,
                    attached_at: r.get(4)?,
                    attached_by: r.get(5)?,
                })
            },
        )
        .map_err(|e| self.fail(e))
    }

    fn verifications(&self) -> Result<Vec<Verification>> {
        collect(
            self.conn(),
            "SELECT source_id, verified_by, verified_at, note FROM verification ORDER BY verified_at, id",
            [],
            |r| {
                Ok(Verification {
                    source: id_at(r, 0)?,
                    verified_by: r.get(1)?,
                    verified_at: r.get(2)?,
                    note: r.get(3)?,
                })
            },
        )
        .map_err(|e| self.fail(e))
    }

    fn pseudonyms(&self) -> Result<Vec<PseudonymEntry>> {
        deidentify::pseudonyms(self.conn()).map_err(|e| self.fail(e))
    }

    fn exemplars(&self) -> Result<Vec<Exemplar>> {
        collect(
            self.conn(),
            "SELECT coding_id, component, code_id, position, chosen_by, chosen_at FROM exemplar
             ORDER BY component IS NULL, component, code_id, position",
            [],
            |r| {
                let component: Option<String> = r.get(1)?;
                let target = match component {
                    Some(c) => ExemplarFor::Component(c),
                    None => ExemplarFor::Code(id_at(r, 2)?),
                };
                Ok(Exemplar {
                    coding: id_at(r, 0)?,
                    target,
                    position: r.get(3)?,
                    chosen_by: r.get(4)?,
                    chosen_at: r.get(5)?,
                })
            },
        )
        .map_err(|e| self.fail(e))
    }

    fn attributions(&self, source: Option<SourceId>) -> Result<Vec<Attribution>> {
        attribution::attributions(self.conn(), source).map_err(|e| self.fail(e))
    }

    fn study_instruments(&self) -> Result<Vec<StudyInstrument>> {
        measure::study_instruments(self.conn()).map_err(|e| self.fail(e))
    }

    fn responses(&self) -> Result<Vec<Response>> {
        measure::responses(self.conn()).map_err(|e| self.fail(e))
    }

    fn response_link(&self, token_hash: &str) -> Result<Option<ResponseLink>> {
        measure::response_link(self.conn(), token_hash).map_err(|e| self.fail(e))
    }

    fn response_links(&self) -> Result<Vec<ResponseLink>> {
        measure::response_links(self.conn()).map_err(|e| self.fail(e))
    }

    fn clinician_accounts(&self) -> Result<Vec<ClinicianAccount>> {
        measure::clinician_accounts(self.conn()).map_err(|e| self.fail(e))
    }

    fn text_revision(&self) -> Result<i64> {
        // The runs' numbers only grow (AUTOINCREMENT), and every rewrite of a text is in one.
        self.conn()
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM deidentification")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(|e| self.fail(e))
    }
}

fn account_row(r: &Row) -> rusqlite::Result<Account> {
    Ok(Account {
        id: id_at(r, 0)?,
        name: r.get(1)?,
        role: parse_name(r.get(2)?)?,
        created_at: r.get(3)?,
        version: r.get(4)?,
    })
}

impl Store for SqliteStore {
    fn transaction(&mut self, actor: &str) -> Result<Box<dyn Transaction + '_>> {
        if let Some(reason) = &self.read_only {
            return Err(StoreError::ReadOnly {
                path: self.path.clone(),
                reason: reason.clone(),
            });
        }
        let options = self.options.clone();
        // A bulk write that was rolled back leaves its small cache.
        if self.bulk_cache.replace(false) {
            self.conn
                .pragma_update(None, "cache_size", CACHE_KIB)
                .map_err(|e| map_err(&self.path, &options, e))?;
        }
        // IMMEDIATE takes the write lock now, so a busy study fails here, before any work.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| map_err(&self.path, &options, e))?;
        Ok(Box::new(SqliteTx {
            tx,
            actor: actor.to_string(),
            path: &self.path,
            options,
            bulk_cache: &self.bulk_cache,
        }))
    }

    fn location(&self) -> Option<&Path> {
        Some(&self.path)
    }

    fn vacuum(&mut self) -> Result<()> {
        self.vacuum_file()
    }

    fn read_only(&self) -> Option<&str> {
        self.read_only.as_deref()
    }

    fn snapshot(&self) -> Result<Snapshot<'_>> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        // A deferred transaction takes its snapshot at its first read.
        tx.query_row("SELECT count(*) FROM study", [], |r| r.get::<_, i64>(0))
            .map_err(|e| self.err(e))?;
        Ok(Snapshot::holding(tx))
    }

    fn reopen(&self) -> Result<Box<dyn Store + Send>> {
        let reader = Self::open(&self.path, &self.options)?;
        // A second connection serves reads of pages and single objects; the writer's cache
        // holds what changes touch, and memory is counted per process.
        reader
            .conn
            .pragma_update(None, "cache_size", READ_CACHE_KIB)
            .map_err(|e| reader.err(e))?;
        Ok(Box::new(reader))
    }
}

/// The page cache, in KiB as `PRAGMA cache_size` takes it (negative), and during a bulk write.
const CACHE_KIB: i64 = -8192;
const BULK_CACHE_KIB: i64 = -8192;
/// The page cache of a second, reading connection ([`Store::reopen`]).
const READ_CACHE_KIB: i64 = -2048;

struct SqliteTx<'a> {
    tx: rusqlite::Transaction<'a>,
    actor: String,
    path: &'a Path,
    options: OpenOptions,
    bulk_cache: &'a std::cell::Cell<bool>,
}

impl Conn for SqliteTx<'_> {
    fn conn(&self) -> &Connection {
        &self.tx
    }
    fn fail(&self, e: rusqlite::Error) -> StoreError {
        map_err(self.path, &self.options, e)
    }
}

impl SqliteTx<'_> {
    fn log(&self, action: &str, entity: &str, id: &str, detail: serde_json::Value) -> Result<()> {
        audit(&self.tx, &self.actor, action, entity, Some(id), &detail).map_err(|e| self.fail(e))
    }

    fn exec(&self, sql: &str, p: impl rusqlite::Params) -> Result<usize> {
        self.tx
            .prepare_cached(sql)
            .and_then(|mut s| s.execute(p))
            .map_err(|e| self.fail(e))
    }

    /// After an update or delete that matched no row: why not.
    fn conflict(&self, table: &'static str, id: &str, expected: i64) -> StoreError {
        let current = self
            .tx
            .query_row(
                &format!("SELECT version FROM {table} WHERE id = ?1"),
                [id],
                |r| r.get(0),
            )
            .optional()
            .ok()
            .flatten();
        StoreError::Conflict {
            entity: table,
            id: id.to_string(),
            expected,
            current,
        }
    }

    /// A source's turns (checked against its text's `length`) and speakers.
    fn insert_turns_and_speakers(&self, s: &Source, length: usize) -> Result<()> {
        let id = s.id.to_string();
        if let Some((seq, t)) = s
            .turns
            .iter()
            .enumerate()
            .find(|(_, t)| t.span.end > length || t.span.end < t.span.start)
        {
            return Err(StoreError::Constraint(format!(
                "turn {} of '{}' ({}..{}) lies outside the text ({length} characters)",
                seq + 1,
                s.name,
                t.span.start,
                t.span.end
            )));
        }
        // Many rows a statement, as for codings: a statement per turn costs more than the row.
        let mut seq = 0;
        for turns in INSERT_TURNS.batches(&s.turns) {
            let mut stmt = self
                .tx
                .prepare_cached(INSERT_TURNS.sql(turns.len()))
                .map_err(|e| self.fail(e))?;
            for (i, t) in turns.iter().enumerate() {
                let at = i * INSERT_TURNS.columns;
                stmt.raw_bind_parameter(at + 1, &id)
                    .and_then(|()| stmt.raw_bind_parameter(at + 2, seq + i))
                    .and_then(|()| stmt.raw_bind_parameter(at + 3, t.span.start))
                    .and_then(|()| stmt.raw_bind_parameter(at + 4, t.span.end))
                    .and_then(|()| stmt.raw_bind_parameter(at + 5, &t.speaker))
                    .and_then(|()| stmt.raw_bind_parameter(at + 6, t.start_ms))
                    .and_then(|()| stmt.raw_bind_parameter(at + 7, t.end_ms))
                    .map_err(|e| self.fail(e))?;
            }
            stmt.raw_execute()
                .map_err(|e| map_err(self.path, &self.options, e))?;
            seq += turns.len();
        }
        for sp in &s.speakers {
            self.exec(
                "INSERT INTO speaker (source_id, label, role, participant_id) VALUES (?1, ?2, ?3, ?4)",
                params![id, sp.label, sp.role.as_str(), sp.participant.map(|p| p.to_string())],
            )?;
        }
        for m in &s.markers {
            if m.span.end > length {
                return Err(StoreError::Constraint(format!(
                    "a {} mark of '{}' ({}..{}) lies outside the text ({length} characters)",
                    m.kind, s.name, m.span.start, m.span.end
                )));
            }
            self.exec(
                "INSERT OR IGNORE INTO marker (source_id, start, \"end\", kind) VALUES (?1, ?2, ?3, ?4)",
                params![id, m.span.start, m.span.end, m.kind.as_str()],
            )?;
        }
        Ok(())
    }

    fn versioned(
        &self,
        table: &'static str,
        id: &str,
        expected: i64,
        changed: usize,
    ) -> Result<()> {
        if changed == 1 {
            Ok(())
        } else {
            Err(self.conflict(table, id, expected))
        }
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serialises")
}

impl Writer for SqliteTx<'_> {
    fn limit_cache_for_bulk(&mut self) -> Result<()> {
        self.bulk_cache.set(true);
        self.tx
            .pragma_update(None, "cache_size", BULK_CACHE_KIB)
            .map_err(|e| map_err(self.path, &self.options, e))
    }

    fn update_study(&mut self, name: &str, description: &str) -> Result<()> {
        self.exec(
            "UPDATE study SET name = ?1, description = ?2",
            params![name, description],
        )?;
        self.log("update", "study", "name", json!({ "name": name }))
    }

    fn act_as(&mut self, actor: &str) {
        self.actor = actor.to_string();
    }

    fn insert_participant(&mut self, p: &Participant) -> Result<()> {
        self.exec(
            "INSERT INTO participant (id, label, role, name, attributes) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![p.id.to_string(), p.label, p.role.as_str(), p.name, to_json(&p.attributes)],
        )?;
        self.log(
            "insert",
            "participant",
            &p.id.to_string(),
            json!({ "label": p.label, "role": p.role }),
        )
    }

    fn update_participant(&mut self, p: &Participant) -> Result<()> {
        let id = p.id.to_string();
        let n = self.exec(
            "UPDATE participant SET label = ?2, role = ?3, name = ?4, attributes = ?5, version = version + 1
             WHERE id = ?1 AND version = ?6",
            params![id, p.label, p.role.as_str(), p.name, to_json(&p.attributes), p.version],
        )?;
        self.versioned("participant", &id, p.version, n)?;
        self.log(
            "update",
            "participant",
            &id,
            json!({ "label": p.label, "attributes": p.attributes }),
        )
    }

    fn insert_dyad(&mut self, d: &Dyad) -> Result<()> {
        self.exec(
            "INSERT INTO dyad (id, label, clinician_id, patient_id, relationship_start, notes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![d.id.to_string(), d.label, d.clinician.to_string(), d.patient.to_string(), d.relationship_start, d.notes],
        )?;
        self.log(
            "insert",
            "dyad",
            &d.id.to_string(),
            json!({ "label": d.label }),
        )
    }

    fn insert_source(&mut self, s: &Source) -> Result<()> {
        let id = s.id.to_string();
        let length = text::char_len(&s.text);
        let info = &s.interview;
        self.exec(
            "INSERT INTO source (id, name, kind, participant_id, dyad_id, text, text_length, interviewer, interview_date,
                 duration_minutes, others_present, guide_version, consent_recorded, imported_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                id,
                s.name,
                s.kind.as_str(),
                s.participant.map(|p| p.to_string()),
                s.dyad.map(|d| d.to_string()),
                s.text,
                length,
                info.interviewer,
                info.date,
                info.duration_minutes,
                to_json(&info.others_present),
                info.guide_version,
                info.consent_recorded,
                s.imported_at,
            ],
        )?;
        self.insert_turns_and_speakers(s, length)?;
        self.log(
            "insert",
            "source",
            &id,
            json!({ "name": s.name, "kind": s.kind, "characters": length, "turns": s.turns.len() }),
        )
    }

    fn insert_code(&mut self, c: &Code) -> Result<()> {
        self.exec(
            "INSERT INTO code (id, parent_id, name, colour, definition, indicators, component) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                c.id.to_string(),
                c.parent.map(|p| p.to_string()),
                c.name,
                c.colour,
                c.definition,
                to_json(&c.indicators),
                c.component
            ],
        )?;
        self.log(
            "insert",
            "code",
            &c.id.to_string(),
            json!({ "name": c.name, "parent": c.parent, "component": c.component }),
        )
    }

    fn update_code(&mut self, c: &Code) -> Result<()> {
        let id = c.id.to_string();
        let n = self.exec(
            "UPDATE code SET parent_id = ?2, name = ?3, colour = ?4, definition = ?5, indicators = ?6, component = ?7,
                 version = version + 1
             WHERE id = ?1 AND version = ?8",
            params![
                id,
                c.parent.map(|p| p.to_string()),
                c.name,
                c.colour,
                c.definition,
                to_json(&c.indicators),
                c.component,
                c.version
            ],
        )?;
        self.versioned("code", &id, c.version, n)?;
        self.log(
            "update",
            "code",
            &id,
            json!({ "name": c.name, "parent": c.parent }),
        )
    }

    fn delete_code(&mut self, c: &Code) -> Result<()> {
        let id = c.id.to_string();
        let n = self.exec(
            "DELETE FROM code WHERE id = ?1 AND version = ?2",
            params![id, c.version],
        )?;
        self.versioned("code", &id, c.version, n)?;
        self.log("delete", "code", &id, json!({ "name": c.name }))
    }

    fn insert_coding(&mut self, c: &Coding) -> Result<()> {
        let id = c.id.to_string();
        self.exec(
            "INSERT INTO coding (id, source_id, code_id, start, \"end\", coder, contrast, memo, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                id,
                c.source.to_string(),
                c.code.to_string(),
                c.span.start,
                c.span.end,
                c.coder,
                c.contrast,
                c.memo,
                c.created_at,
                c.updated_at
            ],
        )?;
        self.log(
            "insert",
            "coding",
            &id,
            json!({ "source": c.source, "code": c.code, "start": c.span.start, "end": c.span.end, "coder": c.coder, "contrast": c.contrast }),
        )
    }

    fn insert_codings(&mut self, codings: &[Coding]) -> Result<()> {
        let mut by_coder: std::collections::BTreeMap<&str, usize> = Default::default();
        // Many rows a statement: SQLite copies each page a statement changes into its statement
        // journal once per statement (the insert trigger can abort one), so one row a statement
        // copies four pages for every coding. The trigger still checks every row.
        for batch in INSERT_CODINGS.batches(codings) {
            let mut stmt = self
                .tx
                .prepare_cached(INSERT_CODINGS.sql(batch.len()))
                .map_err(|e| self.fail(e))?;
            for (i, c) in batch.iter().enumerate() {
                let at = i * INSERT_CODINGS.columns;
                let bind = |stmt: &mut rusqlite::CachedStatement<'_>,
                            k: usize,
                            v: &dyn rusqlite::ToSql| {
                    stmt.raw_bind_parameter(at + k, v)
                };
                // The ids as text made on the stack (SQLite copies bound text).
                let mut ids = [[0; 36]; 3];
                let [id, source, code] = &mut ids;
                let id: &str = c.id.0.hyphenated().encode_lower(id);
                let source: &str = c.source.0.hyphenated().encode_lower(source);
                let code: &str = c.code.0.hyphenated().encode_lower(code);
                bind(&mut stmt, 1, &id)
                    .and_then(|()| bind(&mut stmt, 2, &source))
                    .and_then(|()| bind(&mut stmt, 3, &code))
                    .and_then(|()| bind(&mut stmt, 4, &c.span.start))
                    .and_then(|()| bind(&mut stmt, 5, &c.span.end))
                    .and_then(|()| bind(&mut stmt, 6, &c.coder))
                    .and_then(|()| bind(&mut stmt, 7, &c.contrast))
                    .and_then(|()| bind(&mut stmt, 8, &c.memo))
                    .and_then(|()| bind(&mut stmt, 9, &c.created_at))
                    .and_then(|()| bind(&mut stmt, 10, &c.updated_at))
                    .map_err(|e| self.fail(e))?;
                *by_coder.entry(c.coder.as_str()).or_default() += 1;
            }
            stmt.raw_execute()
                .map_err(|e| map_err(self.path, &self.options, e))?;
        }
        self.log(
            "import",
            "coding",
            "",
            json!({ "codings": codings.len(), "by_coder": by_coder }),
        )
    }

    fn update_coding(&mut self, c: &Coding) -> Result<()> {
        let id = c.id.to_string();
        let n = self.exec(
            "UPDATE coding SET code_id = ?2, start = ?3, \"end\" = ?4, contrast = ?5, memo = ?6, updated_at = ?7,
                 version = version + 1
             WHERE id = ?1 AND version = ?8",
            params![id, c.code.to_string(), c.span.start, c.span.end, c.contrast, c.memo, c.updated_at, c.version],
        )?;
        self.versioned("coding", &id, c.version, n)?;
        self.log(
            "update",
            "coding",
            &id,
            json!({ "code": c.code, "start": c.span.start, "end": c.span.end, "contrast": c.contrast }),
        )
    }

    fn delete_coding(&mut self, c: &Coding) -> Result<()> {
        let id = c.id.to_string();
        let n = self.exec(
            "DELETE FROM coding WHERE id = ?1 AND version = ?2",
            params![id, c.version],
        )?;
        self.versioned("coding", &id, c.version, n)?;
        self.log(
            "delete",
            "coding",
            &id,
            json!({ "source": c.source, "code": c.code, "coder": c.coder }),
        )
    }

    fn recode_all(&mut self, from: CodeId, into: CodeId) -> Result<usize> {
        let n = self.exec(
            "UPDATE coding SET code_id = ?2, version = version + 1, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
             WHERE code_id = ?1",
            params![from.to_string(), into.to_string()],
        )?;
        self.log(
            "recode",
            "coding",
            &from.to_string(),
            json!({ "from": from, "into": into, "codings": n }),
        )?;
        Ok(n)
    }

    fn retarget_memos(&mut self, from: MemoTarget, into: MemoTarget) -> Result<usize> {
        let (Some((from_col, from_id)), Some((into_col, into_id))) =
            (memo_target_column(&from), memo_target_column(&into))
        else {
            return Err(StoreError::Constraint(
                "memos on the study itself cannot be moved".into(),
            ));
        };
        let sql = format!(
            "UPDATE memo SET {from_col} = NULL, {into_col} = ?2, target_kind = ?3, version = version + 1 WHERE {from_col} = ?1"
        );
        let n = self.exec(&sql, params![from_id, into_id, into.kind()])?;
        self.log(
            "retarget",
            "memo",
            &from_id,
            json!({ "from": from, "into": into, "memos": n }),
        )?;
        Ok(n)
    }

    fn insert_memo(&mut self, m: &Memo) -> Result<()> {
        let id = m.id.to_string();
        let sql = match memo_target_column(&m.target) {
            Some((column, _)) => format!(
                "INSERT INTO memo (id, target_kind, {column}, author, title, text, created_at, updated_at, passage_start, passage_end)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
            ),
            None => "INSERT INTO memo (id, target_kind, author, title, text, created_at, updated_at, passage_start, passage_end)
                     VALUES (?1, ?2, ?4, ?5, ?6, ?7, ?8, ?9, ?10) -- ?3"
                .to_string(),
        };
        let target_id = memo_target_column(&m.target).map(|(_, id)| id);
        self.exec(
            &sql,
            params![
                id,
                m.target.kind(),
                target_id,
                m.author,
                m.title,
                m.text,
                m.created_at,
                m.updated_at,
                m.passage.map(|p| p.start),
                m.passage.map(|p| p.end)
            ],
        )?;
        self.log(
            "insert",
            "memo",
            &id,
            json!({ "target": m.target, "passage": m.passage, "title": m.title, "author": m.author }),
        )
    }

    fn update_memo(&mut self, m: &Memo) -> Result<()> {
        let id = m.id.to_string();
        let n = self.exec(
            "UPDATE memo SET title = ?2, text = ?3, updated_at = ?4, version = version + 1 WHERE id = ?1 AND version = ?5",
            params![id, m.title, m.text, m.updated_at, m.version],
        )?;
        self.versioned("memo", &id, m.version, n)?;
        self.log("update", "memo", &id, json!({ "title": m.title }))
    }

    fn upsert_case(&mut self, c: &Case) -> Result<()> {
        let id = c.id.to_string();
        let (kind, dyad, clinician) = match c.subject {
            CaseSubject::Dyad(d) => ("dyad", Some(d.to_string()), None),
            CaseSubject::Clinician(p) => ("clinician", None, Some(p.to_string())),
        };
        let exists: bool = self
            .tx
            .query_row(
                "SELECT count(*) FROM case_study WHERE id = ?1",
                [&id],
                |r| r.get::<_, i64>(0),
            )
            .map_err(|e| self.fail(e))?
            > 0;
        if exists {
            let n = self.exec(
                "UPDATE case_study SET text = ?2, updated_at = ?3, version = version + 1 WHERE id = ?1 AND version = ?4",
                params![id, c.text, c.updated_at, c.version],
            )?;
            self.versioned("case_study", &id, c.version, n)?;
            self.log("update", "case", &id, json!({ "subject": c.subject }))
        } else {
            self.exec(
                "INSERT INTO case_study (id, subject_kind, dyad_id, clinician_id, text, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, kind, dyad, clinician, c.text, c.updated_at],
            )?;
            self.log("insert", "case", &id, json!({ "subject": c.subject }))
        }
    }

    fn insert_account(&mut self, a: &Account, password_hash: &str) -> Result<()> {
        let id = a.id.to_string();
        self.exec(
            "INSERT INTO account (id, name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, a.name, a.role.as_str(), password_hash, a.created_at],
        )?;
        // The hash stays out of the audit log, like every secret.
        self.log(
            "insert",
            "account",
            &id,
            json!({ "name": a.name, "role": a.role }),
        )
    }

    fn update_password(&mut self, a: &Account, password_hash: &str) -> Result<()> {
        let id = a.id.to_string();
        let n = self.exec(
            "UPDATE account SET password_hash = ?2, version = version + 1 WHERE id = ?1 AND version = ?3",
            params![id, password_hash, a.version],
        )?;
        self.versioned("account", &id, a.version, n)?;
        self.log(
            "update",
            "account",
            &id,
            json!({ "name": a.name, "changed": "password" }),
        )
    }

    fn update_role(&mut self, a: &Account, role: AccountRole) -> Result<()> {
        let id = a.id.to_string();
        let n = self.exec(
            "UPDATE account SET role = ?2, version = version + 1 WHERE id = ?1 AND version = ?3",
            params![id, role.as_str(), a.version],
        )?;
        self.versioned("account", &id, a.version, n)?;
        self.log(
            "update",
            "account",
            &id,
            json!({ "name": a.name, "changed": "role", "from": a.role, "to": role }),
        )
    }

    fn delete_account(&mut self, a: &Account) -> Result<()> {
        let id = a.id.to_string();
        let n = self.exec(
            "DELETE FROM account WHERE id = ?1 AND version = ?2",
            params![id, a.version],
        )?;
        self.versioned("account", &id, a.version, n)?;
        self.log(
            "delete",
            "account",
            &id,
            json!({ "name": a.name, "role": a.role }),
        )
    }

    fn begin_deidentification(&mut self) -> Result<i64> {
        self.begin_run()
    }

    fn rewrite_source(&mut self, s: &Source) -> Result<()> {
        self.rewrite(s)
    }

    fn remap_codings(&mut self, spans: &[(CodingId, Span)]) -> Result<usize> {
        self.remap_coding_spans(spans)
    }

    fn remap_memo_passages(&mut self, spans: &[(MemoId, Span)]) -> Result<usize> {
        self.remap_passages(spans)
    }

    fn remap_attributions(&mut self, spans: &[(AttributionId, Span)]) -> Result<usize> {
        self.remap_attribution_spans(spans)
    }

    fn insert_pseudonyms(&mut self, run: i64, entries: &[(String, String, usize)]) -> Result<()> {
        self.store_pseudonyms(run, entries)
    }

    fn finish_deidentification(&mut self, run: i64, counts: &DeidentificationCounts) -> Result<()> {
        self.finish_run(run, counts)
    }

    fn delete_pseudonyms(&mut self) -> Result<usize> {
        self.destroy_pseudonyms()
    }

    fn insert_exemplar(&mut self, e: &Exemplar) -> Result<()> {
        self.insert_exemplar_row(e)
    }

    fn delete_exemplar(&mut self, coding: CodingId, target: &ExemplarFor) -> Result<bool> {
        self.delete_exemplar_row(coding, target)
    }

    fn insert_attribution(&mut self, a: &Attribution) -> Result<()> {
        self.insert_attribution_row(a)
    }

    fn delete_attribution(&mut self, id: AttributionId) -> Result<Attribution> {
        self.delete_attribution_row(id)
    }

    fn insert_study_instrument(&mut self, i: &StudyInstrument) -> Result<()> {
        self.insert_study_instrument_row(i)
    }

    fn insert_response(&mut self, r: &Response) -> Result<()> {
        self.insert_response_row(r)
    }

    fn insert_response_link(&mut self, l: &ResponseLink) -> Result<()> {
        self.insert_response_link_row(l)
    }

    fn use_response_link(&mut self, id: ResponseLinkId, at: &str) -> Result<()> {
        self.use_response_link_row(id, at)
    }

    fn link_clinician_account(&mut self, c: &ClinicianAccount) -> Result<()> {
        self.link_clinician_account_row(c)
    }

    fn set_self_care_shared(&mut self, participant: ParticipantId, shared: bool) -> Result<()> {
        self.set_self_care_shared_row(participant, shared)
    }

    fn set_blind(&mut self, scope: BlindScope, blind: bool) -> Result<()> {
        match scope {
            BlindScope::Study => {
                self.exec("UPDATE study SET blind = ?1", params![blind])?;
                self.log("update", "study", "blind", json!({ "blind": blind }))
            }
            BlindScope::Source(id) => {
                let n = self.exec(
                    "UPDATE source SET blind = ?2 WHERE id = ?1",
                    params![id.to_string(), blind],
                )?;
                if n == 0 {
                    return Err(StoreError::NotFound {
                        entity: "source",
                        key: id.to_string(),
                    });
                }
                self.log(
                    "update",
                    "source",
                    &id.to_string(),
                    json!({ "blind": blind }),
                )
            }
        }
    }

    fn set_media(&mut self, m: &Media) -> Result<()> {
        let id = m.source.to_string();
        self.exec(
            "INSERT INTO media (source_id, path, mime, bytes, attached_at, attached_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (source_id) DO UPDATE SET path = excluded.path, mime = excluded.mime,
                 bytes = excluded.bytes, attached_at = excluded.attached_at, attached_by = excluded.attached_by",
            params![id, m.path, m.mime, m.bytes, m.attached_at, m.attached_by],
        )?;
        self.log(
            "link",
            "media",
            &id,
            json!({ "path": m.path, "mime": m.mime, "bytes": m.bytes }),
        )
    }

    fn delete_media(&mut self, source: SourceId) -> Result<bool> {
        let id = source.to_string();
        let n = self.exec("DELETE FROM media WHERE source_id = ?1", params![id])?;
        if n > 0 {
            self.log("unlink", "media", &id, json!({}))?;
        }
        Ok(n > 0)
    }

    fn insert_verification(&mut self, v: &Verification) -> Result<()> {
        let id = v.source.to_string();
        self.exec(
            "INSERT INTO verification (source_id, verified_by, verified_at, note) VALUES (?1, ?2, ?3, ?4)",
            params![id, v.verified_by, v.verified_at, v.note],
        )?;
        self.log(
            "verify",
            "source",
            &id,
            json!({ "verified_by": v.verified_by, "note": v.note }),
        )
    }
}

/// An exemplar target as its two columns (`component`, `code_id`).
fn exemplar_columns(target: &ExemplarFor) -> (Option<String>, Option<String>) {
    match target {
        ExemplarFor::Component(c) => (Some(c.clone()), None),
        ExemplarFor::Code(c) => (None, Some(c.to_string())),
    }
}

impl SqliteTx<'_> {
    fn insert_exemplar_row(&self, e: &Exemplar) -> Result<()> {
        let (component, code) = exemplar_columns(&e.target);
        let id = e.coding.to_string();
        // Make room at the position (two steps, as the order index is not unique).
        self.exec(
            "UPDATE exemplar SET position = position + 1
             WHERE component IS ?1 AND code_id IS ?2 AND position >= ?3",
            params![component, code, e.position],
        )?;
        self.exec(
            "INSERT INTO exemplar (coding_id, component, code_id, position, chosen_by, chosen_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, component, code, e.position, e.chosen_by, e.chosen_at],
        )?;
        self.log(
            "choose",
            "exemplar",
            &id,
            json!({ "for": e.target, "position": e.position }),
        )
    }

    fn delete_exemplar_row(&self, coding: CodingId, target: &ExemplarFor) -> Result<bool> {
        let (component, code) = exemplar_columns(target);
        let id = coding.to_string();
        let position: Option<i64> = self
            .tx
            .query_row(
                "DELETE FROM exemplar WHERE coding_id = ?1 AND component IS ?2 AND code_id IS ?3
                 RETURNING position",
                params![id, component, code],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.fail(e))?;
        let Some(position) = position else {
            return Ok(false);
        };
        self.exec(
            "UPDATE exemplar SET position = position - 1
             WHERE component IS ?1 AND code_id IS ?2 AND position > ?3",
            params![component, code, position],
        )?;
        self.log("drop", "exemplar", &id, json!({ "for": target }))?;
        Ok(true)
    }
}

impl Transaction for SqliteTx<'_> {
    fn commit(self: Box<Self>) -> Result<()> {
        let SqliteTx {
            tx,
            path,
            options,
            bulk_cache,
            ..
        } = *self;
        // The cache is the connection's: a bulk write's smaller one ends with it.
        if bulk_cache.replace(false) {
            tx.pragma_update(None, "cache_size", CACHE_KIB)
                .map_err(|e| map_err(path, &options, e))?;
        }
        tx.commit().map_err(|e| map_err(path, &options, e))
    }
}

mod attribution;
mod deidentify;
mod measure;

#[cfg(test)]
mod tests;
