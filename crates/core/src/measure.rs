//! Relationship measures: questionnaire responses, the instruments a study keeps, the one-time
//! links through which a participant answers, and whether a clinician shares their own
//! (self-care) measures. Scoring lives in `between-instruments`; the workflow in
//! `between-measures`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{DyadId, EntryMode, ParticipantId, ResponseId, ResponseLinkId};

/// One answer per item id: the scale value chosen, or `None` when it was left out.
pub type ResponseAnswers = BTreeMap<String, Option<i32>>;

/// An instrument a study added of its own, as stored: its definition never changes once a
/// response uses its version (add a new version instead).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyInstrument {
    pub id: String,
    pub version: String,
    /// The definition in the instrument format, as JSON.
    pub definition: String,
    pub added_by: String,
    pub added_at: String,
}

/// When a measurement was taken: a date (`YYYY-MM-DD`), a session number, or both.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Occasion {
    pub date: Option<String>,
    pub session: Option<u32>,
}

/// One completed questionnaire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    pub id: ResponseId,
    pub instrument: String,
    pub instrument_version: String,
    pub participant: ParticipantId,
    pub dyad: Option<DyadId>,
    pub occasion: Occasion,
    /// Who entered it (the account or local user; for a self-completed one, who made the link).
    pub entered_by: String,
    pub entered_at: String,
    pub mode: EntryMode,
    pub answers: ResponseAnswers,
}

/// A one-time link to a questionnaire. The token itself is never stored: only its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseLink {
    pub id: ResponseLinkId,
    /// Lowercase hex SHA-256 of the token.
    #[serde(skip_serializing)]
    pub token_hash: String,
    pub instrument: String,
    pub instrument_version: String,
    pub participant: ParticipantId,
    pub dyad: Option<DyadId>,
    pub occasion: Occasion,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: String,
    /// Set once, when the questionnaire was submitted through it.
    pub used_at: Option<String>,
}

/// The account a clinician participant is (by account name), and whether they share their own
/// measures with the study's owners.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicianAccount {
    pub participant: ParticipantId,
    pub account: String,
    pub shared: bool,
}
