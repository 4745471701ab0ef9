//! `/api/v1/studies/{slug}/deidentify/…` (owners only, as the study's policy decides): candidates, preview, apply, and the
//! stored mapping (export, destroy). See docs/api.md.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use between_core::{CodingId, SourceId};
use between_study::{MatchOptions, Pseudonym};
use serde::Deserialize;
use serde_json::json;

use crate::api::Body;
use crate::auth::Viewer;
use crate::paging::Page;
use crate::{ApiError, App, CodingEvent};

/// Most replacements a preview lists (all are counted).
const PREVIEW_LIMIT: usize = 2000;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/candidates", get(candidates))
        .route("/preview", post(preview))
        .route("/apply", post(apply))
        .route("/mapping", get(mapping).delete(destroy))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewBody {
    mapping: Vec<Pseudonym>,
    #[serde(default)]
    case_insensitive: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplyBody {
    mapping: Vec<Pseudonym>,
    #[serde(default)]
    case_insensitive: bool,
    /// The versions of the sources the preview showed: a source changed since is a conflict.
    versions: Option<BTreeMap<SourceId, i64>>,
}

async fn candidates(viewer: Viewer, page: Page) -> Result<Response, ApiError> {
    let list = viewer
        .study
        .read(&viewer.account, |b| b.deidentify_candidates())
        .await?;
    Ok(page.of(list))
}

async fn preview(viewer: Viewer, Body(body): Body<PreviewBody>) -> Result<Response, ApiError> {
    let options = MatchOptions {
        case_insensitive: body.case_insensitive,
    };
    let mut preview = viewer
        .study
        .read(&viewer.account, move |b| {
            b.deidentify_preview(&body.mapping, options)
        })
        .await?;
    let total = preview.replacements.len();
    preview.replacements.truncate(PREVIEW_LIMIT);
    let mut value = serde_json::to_value(&preview).expect("plain data serialises");
    value["total_replacements"] = json!(total);
    Ok(Json(value).into_response())
}

async fn apply(viewer: Viewer, Body(body): Body<ApplyBody>) -> Result<Response, ApiError> {
    let options = MatchOptions {
        case_insensitive: body.case_insensitive,
    };
    let applied = viewer
        .study
        .run(&viewer.account, move |b| {
            b.deidentify(&body.mapping, options, body.versions.as_ref())
        })
        .await?;
    // Every open document of these sources shows the old text: tell it to reload.
    for s in &applied.sources {
        viewer.study.announce(CodingEvent {
            action: "rewritten",
            source: s.id,
            coding: CodingId(Default::default()),
            coder: viewer.account.name.clone(),
            // A text rewritten is no one's coding: every open document reloads.
            blind: false,
        });
    }
    Ok(Json(applied).into_response())
}

async fn mapping(viewer: Viewer, page: Page) -> Result<Response, ApiError> {
    let entries = viewer
        .study
        .read(&viewer.account, |b| b.pseudonyms())
        .await?;
    Ok(page.of(entries))
}

async fn destroy(viewer: Viewer) -> Result<Response, ApiError> {
    let destroyed = viewer
        .study
        .run(&viewer.account, |b| b.destroy_pseudonyms())
        .await?;
    Ok(
        Json(json!({ "destroyed": destroyed.terms, "vacuum_failed": destroyed.vacuum_failed }))
            .into_response(),
    )
}
