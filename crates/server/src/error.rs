//! One error shape for every failure: `{"error": {"code", "message"}}` with the right status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use between_store::StoreError;
use between_study::StudyError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", m)
    }
    pub fn unauthenticated(m: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", m)
    }
    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", m)
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", m)
    }
    pub fn internal(m: impl Into<String>) -> Self {
        // Details go to the server's log, not to the client.
        eprintln!("internal error: {}", m.into());
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on the server; nothing was changed",
        )
    }
}

/// A finding asked about a dyad, clinician, component or proposition the study does not have.
impl From<between_findings::CorpusError> for ApiError {
    fn from(e: between_findings::CorpusError) -> Self {
        match e {
            between_findings::CorpusError::Unknown { .. } => Self::not_found(e.to_string()),
            between_findings::CorpusError::Code(e) => e.into(),
        }
    }
}

impl From<StudyError> for ApiError {
    fn from(e: StudyError) -> Self {
        let message = e.to_string();
        match e {
            StudyError::At { error, .. } => {
                let inner = ApiError::from(*error);
                Self { message, ..inner }
            }
            StudyError::Store(s) => match s {
                StoreError::NotFound { .. } => Self::not_found(message),
                StoreError::Conflict { .. } | StoreError::Constraint(_) => {
                    Self::new(StatusCode::CONFLICT, "conflict", message)
                }
                StoreError::Busy { .. } => {
                    Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message)
                }
                StoreError::Full { .. } => {
                    Self::new(StatusCode::INSUFFICIENT_STORAGE, "disk_full", message)
                }
                StoreError::ReadOnly { .. } => {
                    Self::new(StatusCode::SERVICE_UNAVAILABLE, "read_only", message)
                }
                StoreError::Unavailable { .. } => {
                    Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
                }
                other => Self::internal(other.to_string()),
            },
            StudyError::Unknown { .. } | StudyError::UnknownCode(_) => Self::not_found(message),
            StudyError::Forbidden(_) => Self::forbidden(message),
            StudyError::Span { .. }
            | StudyError::Quote { .. }
            | StudyError::Invalid(_)
            | StudyError::Name(_)
            | StudyError::AmbiguousCode { .. }
            | StudyError::TooLarge { .. }
            | StudyError::Decode { .. }
            | StudyError::Parse(_) => Self::bad_request(message),
            StudyError::Theory(_) | StudyError::Io { .. } => Self::internal(message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}
