//! `/api/v1/studies/{slug}/…attributions…`: passages attributed to the participant or dyad they
//! speak about, and the suggestions a person confirms one by one (docs/api.md). Who may do
//! what is `between_study::policy`'s: coders and owners attribute, coders remove only their own.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use between_core::{Attribution, AttributionId, SourceId, Span};
use between_study::{AttributionView, StudyResult, Workbench};
use serde::Deserialize;

use crate::api::{Body, parse_id};
use crate::auth::Viewer;
use crate::paging::Page;
use crate::{ApiError, App, AttributionEvent};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/sources/{id}/attributions", get(source_attributions))
        .route("/attributions", get(attributions).post(attribute))
        .route("/attributions/{id}", delete(remove))
        .route("/attributions/suggestions", get(suggestions))
        .route("/attributions/suggestions/confirm", post(confirm))
}

/// A source's attributed passages, in text order, with whom each is about and its words.
async fn source_attributions(
    viewer: Viewer,
    Path((_, id)): Path<(String, String)>,
    page: Page,
) -> Result<Response, ApiError> {
    let id: SourceId = parse_id(&id, "source")?;
    list(viewer, page, Some(id)).await
}

#[derive(Deserialize)]
struct ListQuery {
    source: Option<String>,
}

/// Every attributed passage of the study (or of `?source=ID`).
async fn attributions(
    viewer: Viewer,
    page: Page,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let source = q
        .source
        .as_deref()
        .map(|s| parse_id::<SourceId>(s, "source"))
        .transpose()?;
    list(viewer, page, source).await
}

async fn list(viewer: Viewer, page: Page, source: Option<SourceId>) -> Result<Response, ApiError> {
    let rows = viewer
        .study
        .read(&viewer.account, move |b| {
            b.attributions(source.map(|s| s.to_string()).as_deref())
        })
        .await?;
    Ok(page.of(rows))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAttributionBody {
    source: SourceId,
    start: usize,
    end: usize,
    /// A participant's or dyad's label (any case) or id.
    about: String,
}

/// Attributes a span of a source to one participant or dyad: 201 with the attribution.
async fn attribute(
    viewer: Viewer,
    Body(body): Body<NewAttributionBody>,
) -> Result<(StatusCode, Response), ApiError> {
    let made = viewer
        .study
        .run(&viewer.account, move |b| {
            let span = Span {
                start: body.start,
                end: body.end,
            };
            let made = b.attribute(&body.source.to_string(), span, &[body.about])?;
            views_of(b, &made)
        })
        .await?;
    announce(&viewer, "created", &made);
    let view = made
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("an attribution was made but not read back"))?;
    Ok((StatusCode::CREATED, axum::Json(view).into_response()))
}

async fn remove(
    viewer: Viewer,
    Path((_, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id: AttributionId = parse_id(&id, "attribution")?;
    let gone = viewer
        .study
        .run(&viewer.account, move |b| b.remove_attribution(id))
        .await?;
    viewer.study.announce(AttributionEvent {
        action: "deleted",
        source: gone.source,
        attribution: gone.id,
        by: viewer.account.name.clone(),
    });
    Ok(StatusCode::NO_CONTENT)
}

/// Suggestions in one source (`?source=ID`) or all, with aliases as `?alias=WORDS=LABEL`
/// (repeated): turns that mention a participant, which nothing attributes until confirmed.
async fn suggestions(
    viewer: Viewer,
    page: Page,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let mut source = None;
    let mut aliases = Vec::new();
    for (name, value) in pairs {
        match name.as_str() {
            "source" => source = Some(parse_id::<SourceId>(&value, "source")?.to_string()),
            "alias" => aliases.push(alias(&value)?),
            "offset" | "limit" => {}
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}': give source, alias, offset or limit"
                )));
            }
        }
    }
    let rows = viewer
        .study
        .read(&viewer.account, move |b| {
            b.attribution_suggestions(source.as_deref(), &aliases)
        })
        .await?;
    Ok(page.of(rows))
}

/// `WORDS=LABEL`, as `between attribute suggest --alias` takes it.
fn alias(raw: &str) -> Result<(String, String), ApiError> {
    match raw.rsplit_once('=') {
        Some((words, who)) => Ok((words.trim().to_string(), who.trim().to_string())),
        None => Err(ApiError::bad_request(format!(
            "alias '{raw}': give WORDS=LABEL, as in alias=the%20Boss%3DC1"
        ))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    keys: Vec<String>,
}

/// Attributes the turns of the suggestions `keys` name, all or none: 201 with what was made.
async fn confirm(
    viewer: Viewer,
    Body(body): Body<ConfirmBody>,
) -> Result<(StatusCode, Response), ApiError> {
    if body.keys.is_empty() {
        return Err(ApiError::bad_request(
            "say which suggestions to confirm: {\"keys\": [KEY, …]}",
        ));
    }
    let made = viewer
        .study
        .run(&viewer.account, move |b| {
            let made = b.confirm_suggestions(&body.keys)?;
            views_of(b, &made)
        })
        .await?;
    announce(&viewer, "created", &made);
    Ok((StatusCode::CREATED, axum::Json(made).into_response()))
}

/// `made` as a reader sees them: with whom each is about and its words.
fn views_of(b: &Workbench, made: &[Attribution]) -> StudyResult<Vec<AttributionView>> {
    let mut sources: Vec<SourceId> = Vec::new();
    for a in made {
        if !sources.contains(&a.source) {
            sources.push(a.source);
        }
    }
    let mut views = Vec::with_capacity(made.len());
    for source in sources {
        views.extend(
            b.attributions(Some(&source.to_string()))?
                .into_iter()
                .filter(|v| made.iter().any(|m| m.id == v.attribution.id)),
        );
    }
    Ok(views)
}

fn announce(viewer: &Viewer, action: &'static str, views: &[AttributionView]) {
    for v in views {
        viewer.study.announce(AttributionEvent {
            action,
            source: v.attribution.source,
            attribution: v.attribution.id,
            by: v.attribution.attributed_by.clone(),
        });
    }
}
