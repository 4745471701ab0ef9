use between_core::{QuoteError, SpanError, UnknownName};

pub type StudyResult<T> = Result<T, StudyError>;

#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error(transparent)]
    Store(#[from] between_store::StoreError),
    #[error(transparent)]
    Theory(#[from] between_model::TheoryError),
    #[error("{file}: {source}")]
    Decode {
        file: String,
        source: between_ingest::DecodeError,
    },
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Parse(#[from] between_ingest::ParseError),
    #[error("{file}: the file is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge { file: String, size: u64, limit: u64 },
    #[error("'{source_name}': {error}")]
    Quote {
        source_name: String,
        error: QuoteError,
    },
    #[error("'{source_name}': {error}")]
    Span {
        source_name: String,
        error: SpanError,
    },
    #[error("no code '{0}' in the codebook; `between codebook list` shows the codes")]
    UnknownCode(String),
    #[error("the code name '{reference}' is ambiguous: it could be {}; give the full path", .paths.join(" or "))]
    AmbiguousCode {
        reference: String,
        paths: Vec<String>,
    },
    #[error("no {what} '{key}' in this study")]
    Unknown { what: &'static str, key: String },
    #[error("{0}")]
    Name(#[from] UnknownName),
    #[error("{0}")]
    Invalid(String),
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("{at}: {error}")]
    At { at: String, error: Box<StudyError> },
}

impl StudyError {
    /// The same error, said to have happened at `at` (a file, a row).
    pub fn at(self, at: impl Into<String>) -> Self {
        StudyError::At {
            at: at.into(),
            error: Box::new(self),
        }
    }
}
