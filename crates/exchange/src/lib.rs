//! Moving a study's data in and out of other tools' formats. For now: tables (CSV) of codings
//! and codebooks. Reading is strict about structure and names the line of any problem.

mod csv_tables;
mod matrix;
mod ratings;
mod refi;
mod responses;

pub use csv_tables::{read_codebook_csv, read_codings_csv, write_codings_csv};
pub use matrix::{PlainMatrix, read_matrix_csv};
pub use ratings::{Ratings, read_ratings_csv};
pub use refi::{
    ORIGIN, export_qdc, export_qde, export_qdpx, export_qdpx_to, from_refi, import_project,
    read_codebook_file, read_project_file, to_refi,
};
pub use responses::{
    AnswerCell, RESPONSE_KEY_COLUMNS, ResponseRow, ResponseShape, read_responses_csv,
    write_table_csv,
};

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("{origin}, line {line}: {message}")]
    Row {
        origin: String,
        line: u64,
        message: String,
    },
    #[error("{origin}: {message}")]
    File { origin: String, message: String },
    #[error("writing: {0}")]
    Write(String),
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Refi(#[from] between_refi::RefiError),
    #[error(transparent)]
    Study(#[from] between_study::StudyError),
}

impl From<csv::Error> for ExchangeError {
    /// Keeps IO errors as such, so a caller can tell a closed pipe from bad data.
    fn from(e: csv::Error) -> Self {
        let message = e.to_string();
        match e.into_kind() {
            csv::ErrorKind::Io(io) => ExchangeError::Io(io),
            _ => ExchangeError::Write(message),
        }
    }
}
