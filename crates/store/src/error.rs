use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: no such study file", .0.display())]
    NoSuchFile(PathBuf),
    #[error("{}: a file already exists there; choose another name or remove it", .0.display())]
    AlreadyExists(PathBuf),
    #[error("{}: not a between study file ({reason})", .path.display())]
    NotAStudy { path: PathBuf, reason: String },
    #[error(
        "{}: the study was written by a newer version of between (schema {found}; this version knows up to {known}); upgrade between to open it",
        .path.display()
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error(
        "{}: the study is busy: another process has been writing to it for more than {waited_ms} ms; try again when it has finished",
        .path.display()
    )]
    Busy { path: PathBuf, waited_ms: u64 },
    #[error(
        "{}: the disk is full (or the study reached its size limit): the change was not saved; free some space and try again",
        .path.display()
    )]
    Full { path: PathBuf },
    #[error(
        "{}: the study is read-only here ({reason}): changes are refused; make the file and its folder writable, then open it again",
        .path.display()
    )]
    ReadOnly { path: PathBuf, reason: String },
    #[error(
        "{}: the study file cannot be reached ({reason}): the change was not saved; check the disk and try again",
        .path.display()
    )]
    Unavailable { path: PathBuf, reason: String },
    #[error(
        "conflict: the {entity} {id} was changed by someone else (you edited version {expected}, it is now at {}); reload and try again",
        .current.map_or("deleted".to_string(), |v| format!("version {v}"))
    )]
    Conflict {
        entity: &'static str,
        id: String,
        expected: i64,
        current: Option<i64>,
    },
    #[error("no {entity} '{key}' in this study")]
    NotFound { entity: &'static str, key: String },
    #[error("refused: {0}")]
    Constraint(String),
    #[error("the study file could not be upgraded: {0}")]
    Migration(String),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("{}: {source}", .path.display())]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
}
