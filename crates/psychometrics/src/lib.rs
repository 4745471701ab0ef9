//! Psychometrics as pure functions over plain data: a matrix `&[Vec<Option<f64>>]` of rows
//! (respondents or targets) × columns (items or raters), `None` where a cell is missing.
//! No I/O. The formulas and rules are written in `docs/psychometrics.md`.

mod change;
mod distribution;
mod icc;
mod matrix;
mod reliability;
mod scoring;

pub use change::{Direction, ReliableChange, Rupture, RuptureRule, reliable_change, ruptures};
pub use icc::{Icc, icc};
pub use reliability::{
    Alpha, ItemStatistics, Omega, cronbach_alpha, omega_from_covariance, one_factor_omega,
};
pub use scoring::{
    FloorCeiling, ItemDistribution, Scores, Share, floor_ceiling, missing_shares, score,
};

/// A cell's place in the matrix, 1-based (row 1 is the first row of data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub row: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PsychometricsError {
    #[error("there are no rows of data")]
    NoRows,
    #[error("{what} needs at least {needed} columns; the data has {got}")]
    TooFewColumns {
        what: &'static str,
        needed: usize,
        got: usize,
    },
    #[error("{what} needs at least {needed} rows {rows_rule}; the data has {got}")]
    TooFewRows {
        what: &'static str,
        needed: usize,
        got: usize,
        rows_rule: &'static str,
    },
    #[error("row {row} has {got} cells, but the first row has {expected}")]
    Ragged {
        row: usize,
        expected: usize,
        got: usize,
    },
    #[error("row {}, column {}: the value is not a finite number", .0.row, .0.column)]
    NotFinite(Cell),
    #[error("row {}, column {}: {what} needs every cell; this one is missing", .0.row, .0.column, what = .1)]
    Missing(Cell, &'static str),
    #[error("row {}, column {}: {value} is outside the scale [{min}, {max}]", .cell.row, .cell.column)]
    OutOfScale {
        cell: Cell,
        value: f64,
        min: f64,
        max: f64,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("{what} is undefined: {reason}")]
    Undefined {
        what: &'static str,
        reason: &'static str,
    },
}

pub type Result<T> = std::result::Result<T, PsychometricsError>;

#[cfg(test)]
mod vectors;
