//! The UI's files, compiled into the binary: no CDN, no network, works offline.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::{ApiError, App};

const FILES: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../assets/app.css"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/api.js"),
    ),
    (
        "document.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/document.js"),
    ),
    (
        "attribution.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/attribution.js"),
    ),
    (
        "codebook.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/codebook.js"),
    ),
    (
        "memos.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/memos.js"),
    ),
    (
        "exchange.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/exchange.js"),
    ),
    (
        "agreement.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/agreement.js"),
    ),
    (
        "deidentify.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/deidentify.js"),
    ),
    (
        "cases.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/cases.js"),
    ),
    (
        "model.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/model.js"),
    ),
    (
        "model.css",
        "text/css; charset=utf-8",
        include_str!("../assets/model.css"),
    ),
    (
        "query.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/query.js"),
    ),
];

pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/assets/{file}", get(asset))
}

async fn asset(Path(file): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let (_, mime, body) = FILES
        .iter()
        .find(|(name, _, _)| *name == file)
        .ok_or_else(|| ApiError::not_found(format!("no asset '{file}'")))?;
    Ok((
        [
            (header::CONTENT_TYPE, *mime),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        *body,
    ))
}
