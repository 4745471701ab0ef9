//! The dyad and the model: `/api/v1/studies/{slug}/findings/…` (triangulation, its cells'
//! quotes, proposition support, the model figure, saturation and its chart) and the pages
//! `/s/{slug}/dyads`, `/s/{slug}/model`, `/s/{slug}/saturation`. Everything is computed by
//! `between_findings` over the study's cached corpus; see docs/api.md and docs/findings.md.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Query};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use between_findings::propositions::{self as props, Reading, SideRule};
use between_findings::saturation::{self as sat, StoppingRule};
use between_findings::triangulation::{self as tri, Coders};
use between_findings::{Corpus, Proximity};
use between_report::svg::ModelView;
use serde::Deserialize;

use crate::auth::Viewer;
use crate::pages::{PageViewer, shell};
use crate::{ApiError, App, over_corpus};

const API: &str = "/api/v1/studies/{slug}/findings";

pub fn api_routes() -> Router<Arc<App>> {
    Router::new()
        .route(&format!("{API}/triangulation"), get(triangulation))
        .route(&format!("{API}/triangulation/cell"), get(cell))
        .route(&format!("{API}/triangulation/general"), get(general))
        .route(&format!("{API}/propositions"), get(propositions))
        .route(
            &format!("{API}/propositions/excerpts"),
            get(proposition_excerpts),
        )
        .route(&format!("{API}/figure.svg"), get(figure))
        .route(&format!("{API}/saturation"), get(saturation))
        .route(&format!("{API}/saturation.svg"), get(saturation_svg))
}

pub fn page_routes() -> Router<Arc<App>> {
    Router::new()
        .route("/s/{slug}/dyads", get(dyads_page))
        .route("/s/{slug}/model", get(model_page))
        .route("/s/{slug}/saturation", get(saturation_page))
}

#[derive(Deserialize, Default)]
struct Options {
    coder: Option<String>,
    /// `any` (default) or `all`.
    rule: Option<String>,
    /// `overlap`, `turn` or `near:N`: both sides of a proposition together in one source.
    together: Option<String>,
    /// The target side of a proposition from the patient's account.
    #[serde(default)]
    target_from_patient: bool,
    dyad: Option<String>,
    participant: Option<String>,
    component: Option<String>,
    number: Option<usize>,
    /// Saturation: `consecutive` (default; `k`, `fewer_than`) or `guest` (`base`, `run`,
    /// `threshold`).
    method: Option<String>,
    k: Option<usize>,
    fewer_than: Option<usize>,
    base: Option<usize>,
    run: Option<usize>,
    threshold: Option<f64>,
    /// The model figure: `structure` (default) or `evidence`.
    view: Option<String>,
}

/// The query string, a malformed one (`k=three`) answered in the API's error shape.
struct Params(Options);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<Options>::from_request_parts(parts, state)
            .await
            .map(|Query(o)| Params(o))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

impl Options {
    fn coders(&self) -> Coders {
        Coders::from_option(self.coder.as_deref())
    }

    fn reading(&self) -> Result<Reading, ApiError> {
        let rule: SideRule = self
            .rule
            .as_deref()
            .map_or(Ok(SideRule::Any), str::parse)
            .map_err(ApiError::bad_request)?;
        let together = self
            .together
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(str::parse::<Proximity>)
            .transpose()
            .map_err(ApiError::bad_request)?;
        Ok(Reading {
            rule,
            together,
            target_from_patient: self.target_from_patient,
        })
    }

    fn model_view(&self) -> Result<ModelView, ApiError> {
        self.view
            .as_deref()
            .map_or(Ok(ModelView::Structure), str::parse)
            .map_err(ApiError::bad_request)
    }

    fn stopping_rule(&self) -> Result<StoppingRule, ApiError> {
        StoppingRule::choose(
            self.method.as_deref(),
            (self.k, self.fewer_than),
            (self.base, self.run, self.threshold),
        )
        .map_err(|e| ApiError::bad_request(e.to_string()))
    }

    fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, ApiError> {
        value
            .as_deref()
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| ApiError::bad_request(format!("'{name}' is required")))
    }
}

fn svg(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn triangulation(viewer: Viewer, Params(o): Params) -> Result<Response, ApiError> {
    let t = over_corpus(&viewer, move |c| {
        tri::triangulate(c, &o.coders()).map_err(ApiError::from)
    })
    .await?;
    Ok(Json(t).into_response())
}

async fn cell(viewer: Viewer, Params(o): Params) -> Result<Response, ApiError> {
    let cell = over_corpus(&viewer, move |c| {
        let dyad = Options::required(&o.dyad, "dyad")?;
        let component = Options::required(&o.component, "component")?;
        let t = tri::triangulate(c, &o.coders())?;
        tri::cell_excerpts(c, &t, dyad, component).map_err(ApiError::from)
    })
    .await?;
    Ok(Json(cell).into_response())
}

async fn general(viewer: Viewer, Params(o): Params) -> Result<Response, ApiError> {
    let quotes = over_corpus(&viewer, move |c| {
        let participant = Options::required(&o.participant, "participant")?;
        let component = Options::required(&o.component, "component")?;
        let t = tri::triangulate(c, &o.coders())?;
        tri::general_excerpts(c, &t, participant, component).map_err(ApiError::from)
    })
    .await?;
    Ok(Json(quotes).into_response())
}

fn support(c: &Corpus, o: &Options) -> Result<props::Support, ApiError> {
    let reading = o.reading()?;
    let t = tri::triangulate(c, &o.coders())?;
    Ok(props::support(c, &t, reading))
}

async fn propositions(viewer: Viewer, Params(o): Params) -> Result<Response, ApiError> {
    let s = over_corpus(&viewer, move |c| support(c, &o)).await?;
    Ok(Json(s).into_response())
}

async fn proposition_excerpts(viewer: Viewer, Params(o): Params) -> Result<Response, ApiError> {
    let ex = over_corpus(&viewer, move |c| {
        let dyad = Options::required(&o.dyad, "dyad")?;
        let number = o
            .number
            .ok_or_else(|| ApiError::bad_request("'number' is required"))?;
        let s = support(c, &o)?;
        props::proposition_excerpts(c, &s, number, dyad).map_err(ApiError::from)
    })
    .await?;
    Ok(Json(ex).into_response())
}

async fn figure(viewer: Viewer, Params(o): Params) -> Result<Response, ApiError> {
    let body = over_corpus(&viewer, move |c| {
        if c.theory.is_none() {
            return Err(ApiError::not_found(
                "the study has no theory: no model to draw",
            ));
        }
        Ok(o.model_view()?.draw(c, &support(c, &o)?))
    })
    .await?;
    Ok(svg(body))
}

fn saturation_of(c: &Corpus, o: &Options) -> Result<sat::Saturation, ApiError> {
    sat::saturation(c, &o.coders(), o.stopping_rule()?).map_err(ApiError::from)
}

async fn saturation(viewer: Viewer, Params(o): Params) -> Result<Response, ApiError> {
    let s = over_corpus(&viewer, move |c| saturation_of(c, &o)).await?;
    Ok(Json(s).into_response())
}

async fn saturation_svg(viewer: Viewer, Params(o): Params) -> Result<Response, ApiError> {
    let body = over_corpus(&viewer, move |c| {
        Ok(between_report::svg::saturation_chart(&saturation_of(
            c, &o,
        )?))
    })
    .await?;
    Ok(svg(body))
}

// The pages are shells that `assets/model.js` fills through the API.

async fn dyads_page(PageViewer(v): PageViewer) -> Result<Html<String>, ApiError> {
    shell(&v, "dyads", "Dyads × components".into(), String::new()).await
}

async fn model_page(PageViewer(v): PageViewer) -> Result<Html<String>, ApiError> {
    shell(&v, "model", "The model's evidence".into(), String::new()).await
}

async fn saturation_page(PageViewer(v): PageViewer) -> Result<Html<String>, ApiError> {
    shell(&v, "saturation", "Saturation".into(), String::new()).await
}
