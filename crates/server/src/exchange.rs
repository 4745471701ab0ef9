//! `/api/v1/studies/{slug}/exchange/…` (owners only, as the study's policy decides): the study as a REFI-QDA project or
//! codebook, and projects or codebooks from other tools merged into it, each with its
//! data-loss report. See docs/api.md and docs/refi-qda.md.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use between_refi::{PositionUnit, Report};
use between_study::policy;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Viewer;
use crate::{ApiError, App};

/// Largest project accepted for import (texts compress well; recordings are never inside).
pub const MAX_PROJECT_BYTES: usize = 256 * 1024 * 1024;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/project.qdpx", get(export_project))
        .route("/codebook.qdc", get(export_codebook))
        .route("/project", post(import_project))
        .route("/codebook", post(import_codebook))
        .layer(DefaultBodyLimit::max(MAX_PROJECT_BYTES))
}

fn report_json(report: &Report) -> Value {
    json!({
        "dropped": report
            .dropped
            .iter()
            .map(|(what, count, why)| json!({ "what": what, "count": count, "why": why }))
            .collect::<Vec<_>>(),
        "warnings": report.warnings,
    })
}

fn exchange_error(e: between_exchange::ExchangeError) -> ApiError {
    match e {
        between_exchange::ExchangeError::Study(s) => ApiError::from(s),
        other => ApiError::bad_request(other.to_string()),
    }
}

fn download(bytes: Vec<u8>, mime: &'static str, name: String, report: &Report) -> Response {
    let summary = report
        .dropped
        .iter()
        .map(|(what, n, _)| format!("{n} {what}"))
        .collect::<Vec<_>>()
        .join(", ");
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (
                header::HeaderName::from_static("x-between-not-carried-over"),
                if summary.is_empty() {
                    "nothing".into()
                } else {
                    summary
                },
            ),
        ],
        bytes,
    )
        .into_response()
}

async fn export_project(viewer: Viewer) -> Result<Response, ApiError> {
    export(
        viewer,
        "qdpx",
        "application/zip",
        between_exchange::export_qdpx,
    )
    .await
}

async fn export_codebook(viewer: Viewer) -> Result<Response, ApiError> {
    export(viewer, "qdc", "application/xml", |b| {
        Ok((
            between_exchange::export_qdc(b)?.into_bytes(),
            Report::default(),
        ))
    })
    .await
}

/// Writes a study as a file, with what it could not carry over.
type Writer =
    fn(&between_study::Workbench) -> Result<(Vec<u8>, Report), between_exchange::ExchangeError>;

/// The study written by `write`, as an attachment named for the study.
async fn export(
    viewer: Viewer,
    extension: &str,
    mime: &'static str,
    write: Writer,
) -> Result<Response, ApiError> {
    let name = format!("{}.{extension}", viewer.study.slug);
    let (bytes, report) = viewer
        .study
        .read(&viewer.account, move |b| Ok(write(b)))
        .await?
        .map_err(exchange_error)?;
    Ok(download(bytes, mime, name, &report))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    /// The file's name, for messages and to tell `.qde` from `.qdpx`.
    name: String,
    #[serde(default)]
    unit: Option<String>,
}

/// Reads the project first (nothing is touched if it is bad), then merges it in one change.
async fn import_project(
    viewer: Viewer,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    // Asked before the upload is read: only those who may import get a parser to work.
    policy::may_exchange(&viewer.account)?;
    let unit = match q.unit.as_deref().unwrap_or("auto") {
        "auto" => PositionUnit::Auto,
        "code-points" => PositionUnit::CodePoints,
        "utf16" => PositionUnit::Utf16,
        other => {
            return Err(ApiError::bad_request(format!(
                "unit '{other}' is not one of auto, code-points, utf16"
            )));
        }
    };
    // Read a source at a time straight into the study, in one change: the project is never
    // held whole beside its upload.
    let (merged, report) = viewer
        .study
        .run(&viewer.account, move |b| {
            let input = between_refi::ProjectInput::Bytes(&body);
            Ok(between_exchange::import_project(
                b, &q.name, input, unit, false,
            ))
        })
        .await?
        .map_err(exchange_error)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "merged": merged, "report": report_json(&report) })),
    ))
}

async fn import_codebook(
    viewer: Viewer,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    policy::may_exchange(&viewer.account)?;
    merge(viewer, move || {
        between_exchange::read_codebook_file(&q.name, &body)
    })
    .await
}

/// Reads a file off the async threads, then merges what it holds into the study.
async fn merge(
    viewer: Viewer,
    read: impl FnOnce() -> Result<(between_study::StudyBundle, Report), between_exchange::ExchangeError>
    + Send
    + 'static,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (bundle, report) = tokio::task::spawn_blocking(read)
        .await
        .map_err(|e| ApiError::internal(format!("reading the file failed: {e}")))?
        .map_err(exchange_error)?;
    let merged = viewer
        .study
        .run(&viewer.account, move |b| b.merge_bundle(bundle))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "merged": merged, "report": report_json(&report) })),
    ))
}
