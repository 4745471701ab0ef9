//! Moving a study's data in and out of other tools' formats. For now: tables (CSV) of codings
//! and codebooks. Reading is strict about structure and names the line of any problem.

mod csv_tables;

pub use csv_tables::{read_codebook_csv, read_codings_csv, write_codings_csv};

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
    Write(#[from] csv::Error),
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
}
