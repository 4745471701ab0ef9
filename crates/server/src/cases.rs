//! Case studies, exemplar quotes and the study report, for the browser (pages) and as JSON
//! (`/api/v1/studies/{slug}/cases/…`, `/exemplars`, `/report/…`; docs/api.md). Reads go
//! through the study's cached corpus, which refuses coders while anything is blind.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use between_core::*;
use between_findings::{Cases, ClinicianCase, Comparison, Corpus, DyadCase};
use between_study::policy::Capabilities;
use serde::Deserialize;

use crate::api::Body;
use crate::auth::Viewer;
use crate::pages::{Common, PageViewer, render};
use crate::paging::Page;
use crate::{ApiError, App};

/// Key excerpts per account and component on a dyad's page and in the API.
const DYAD_EXCERPTS: usize = between_findings::KEY_EXCERPTS;
/// Fewer on a clinician's page, which shows every dyad of theirs.
const CLINICIAN_EXCERPTS: usize = 2;

pub fn api_routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/v1/studies/{slug}/cases", get(cases_json))
        .route("/api/v1/studies/{slug}/cases/dyad/{label}", get(dyad_json))
        .route(
            "/api/v1/studies/{slug}/cases/clinician/{label}",
            get(clinician_json),
        )
        .route(
            "/api/v1/studies/{slug}/cases/{kind}/{label}/narrative",
            put(write_narrative),
        )
        .route(
            "/api/v1/studies/{slug}/exemplars",
            get(exemplars).post(choose_exemplar),
        )
        .route(
            "/api/v1/studies/{slug}/exemplars/{coding}",
            axum::routing::delete(drop_exemplar),
        )
}

pub fn page_routes() -> Router<Arc<App>> {
    Router::new()
        .route("/s/{slug}/cases", get(cases_page))
        .route("/s/{slug}/cases/dyad/{label}", get(dyad_page))
        .route("/s/{slug}/cases/clinician/{label}", get(clinician_page))
        .route("/s/{slug}/report", get(report_page))
        .route("/s/{slug}/report/{file}", get(report_file))
}

async fn corpus(v: &Viewer) -> Result<Arc<Corpus>, ApiError> {
    v.study.corpus(&v.account).await
}

/// The labels of the dyads and clinicians that have case studies to show.
fn subjects(corpus: &Corpus) -> (Vec<String>, Vec<String>) {
    (
        corpus.dyads.iter().map(|d| d.label.clone()).collect(),
        corpus
            .participants
            .iter()
            .filter(|p| p.role == Role::Clinician)
            .map(|p| p.label.clone())
            .collect(),
    )
}

// ---- API

async fn cases_json(viewer: Viewer) -> Result<Response, ApiError> {
    let corpus = corpus(&viewer).await?;
    let (dyads, clinicians) = subjects(&corpus);
    let comparison = Cases::new(&corpus, 1).comparison();
    Ok(Json(serde_json::json!({
        "dyads": dyads,
        "clinicians": clinicians,
        "comparison": comparison,
    }))
    .into_response())
}

async fn dyad_json(
    viewer: Viewer,
    Path((_, label)): Path<(String, String)>,
) -> Result<Json<DyadCase>, ApiError> {
    let corpus = corpus(&viewer).await?;
    let case = Cases::new(&corpus, DYAD_EXCERPTS).dyad(&label)?;
    Ok(Json(case))
}

async fn clinician_json(
    viewer: Viewer,
    Path((_, label)): Path<(String, String)>,
) -> Result<Json<ClinicianCase>, ApiError> {
    let corpus = corpus(&viewer).await?;
    let case = Cases::new(&corpus, CLINICIAN_EXCERPTS).clinician(&label)?;
    Ok(Json(case))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NarrativeBody {
    text: String,
    /// The version the writer started from; none for a first narrative.
    version: Option<i64>,
}

async fn write_narrative(
    viewer: Viewer,
    Path((_, kind, label)): Path<(String, String, String)>,
    Body(body): Body<NarrativeBody>,
) -> Result<Json<Case>, ApiError> {
    if kind != "dyad" && kind != "clinician" {
        return Err(ApiError::not_found(format!(
            "no case kind '{kind}': dyad or clinician"
        )));
    }
    let case = viewer
        .study
        .run(&viewer.account, move |b| {
            let subject = b.case_subject(&format!("{kind}:{label}"))?;
            b.write_case(subject, &body.text, body.version)
        })
        .await?;
    Ok(Json(case))
}

/// An exemplar with its words, for listings.
#[derive(serde::Serialize)]
struct ExemplarView {
    #[serde(flatten)]
    exemplar: Exemplar,
    source: String,
    code: String,
    text: String,
}

async fn exemplars(viewer: Viewer, page: Page) -> Result<Response, ApiError> {
    let corpus = corpus(&viewer).await?;
    let codings: std::collections::HashMap<CodingId, &Coding> =
        corpus.codings.iter().map(|c| (c.id, c)).collect();
    Ok(page.of(corpus
        .exemplars
        .iter()
        .filter_map(|e| {
            let coding = codings.get(&e.coding)?;
            let source = corpus.source(coding.source)?;
            Some(ExemplarView {
                exemplar: e.clone(),
                source: source.name.clone(),
                code: corpus.code_path(coding.code).to_string(),
                text: corpus.text_of(source, coding.span).to_string(),
            })
        })
        .collect::<Vec<_>>()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExemplarBody {
    coding: CodingId,
    /// A theory component's id or a code (`component:ID`, `code:PATH`).
    #[serde(rename = "for")]
    target: String,
    position: Option<i64>,
}

async fn choose_exemplar(
    viewer: Viewer,
    Body(body): Body<ExemplarBody>,
) -> Result<(StatusCode, Json<Exemplar>), ApiError> {
    let exemplar = viewer
        .study
        .run(&viewer.account, move |b| {
            let target = b.exemplar_target(&body.target)?;
            b.choose_exemplar(body.coding, target, body.position)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(exemplar)))
}

#[derive(Deserialize)]
struct ForQuery {
    #[serde(rename = "for")]
    target: String,
}

async fn drop_exemplar(
    viewer: Viewer,
    Path((_, coding)): Path<(String, String)>,
    Query(q): Query<ForQuery>,
) -> Result<StatusCode, ApiError> {
    let coding: CodingId = coding
        .parse()
        .map_err(|_| ApiError::not_found(format!("no coding '{coding}' (not an id)")))?;
    viewer
        .study
        .run(&viewer.account, move |b| {
            let target = b.exemplar_target(&q.target)?;
            b.drop_exemplar(coding, &target)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- pages

/// The frame of a page over `corpus` (its study name is the corpus's).
fn frame(v: &Viewer, corpus: &Corpus) -> Common {
    Common::new(v, corpus.name.clone())
}

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    slug: String,
    study_name: String,
    account: String,
    role: String,
    csrf: String,
    can: Capabilities,
    dyads: Vec<String>,
    clinicians: Vec<String>,
    comparison: Comparison,
}

async fn cases_page(PageViewer(v): PageViewer) -> Result<Html<String>, ApiError> {
    let corpus = corpus(&v).await?;
    let f = frame(&v, &corpus);
    let (dyads, clinicians) = subjects(&corpus);
    render(&CasesPage {
        slug: f.slug,
        study_name: f.study_name,
        account: f.account,
        role: f.role,
        csrf: f.csrf,
        can: f.can,
        dyads,
        clinicians,
        comparison: Cases::new(&corpus, 1).comparison(),
    })
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    slug: String,
    study_name: String,
    account: String,
    role: String,
    csrf: String,
    can: Capabilities,
    kind: &'static str,
    label: String,
    dyad: Option<DyadCase>,
    clinician: Option<ClinicianCase>,
    narrative: String,
    version: String,
}

fn case_page(
    v: &Viewer,
    corpus: &Corpus,
    kind: &'static str,
    label: String,
    dyad: Option<DyadCase>,
    clinician: Option<ClinicianCase>,
) -> Result<Html<String>, ApiError> {
    let f = frame(v, corpus);
    let narrative = dyad
        .as_ref()
        .and_then(|d| d.narrative.clone())
        .or_else(|| clinician.as_ref().and_then(|c| c.narrative.clone()));
    render(&CasePage {
        slug: f.slug,
        study_name: f.study_name,
        account: f.account,
        role: f.role,
        csrf: f.csrf,
        can: f.can,
        kind,
        label,
        dyad,
        clinician,
        version: narrative
            .as_ref()
            .map(|c| c.version.to_string())
            .unwrap_or_default(),
        narrative: narrative.map(|c| c.text).unwrap_or_default(),
    })
}

async fn dyad_page(
    PageViewer(v): PageViewer,
    Path((_, label)): Path<(String, String)>,
) -> Result<Html<String>, ApiError> {
    let corpus = corpus(&v).await?;
    let case = Cases::new(&corpus, DYAD_EXCERPTS).dyad(&label)?;
    case_page(&v, &corpus, "dyad", case.dyad.clone(), Some(case), None)
}

async fn clinician_page(
    PageViewer(v): PageViewer,
    Path((_, label)): Path<(String, String)>,
) -> Result<Html<String>, ApiError> {
    let corpus = corpus(&v).await?;
    let case = Cases::new(&corpus, CLINICIAN_EXCERPTS).clinician(&label)?;
    case_page(
        &v,
        &corpus,
        "clinician",
        case.clinician.clone(),
        None,
        Some(case),
    )
}

// ---- the report

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    slug: String,
    study_name: String,
    account: String,
    role: String,
    csrf: String,
    can: Capabilities,
    tables: Vec<(String, String)>,
}

async fn study_report(v: &Viewer) -> Result<(Arc<Corpus>, between_report::Report), ApiError> {
    let corpus = corpus(v).await?;
    let shared = Arc::clone(&corpus);
    let report = v
        .study
        .read(&v.account, move |b| {
            between_report::of_study(b, &shared, &[]).map_err(|e| match e {
                between_report::ReportError::Study(s) => s,
                other => between_study::StudyError::Invalid(other.to_string()),
            })
        })
        .await?;
    Ok((corpus, report))
}

async fn report_page(PageViewer(v): PageViewer) -> Result<Html<String>, ApiError> {
    let (corpus, report) = study_report(&v).await?;
    let f = frame(&v, &corpus);
    render(&ReportPage {
        slug: f.slug,
        study_name: f.study_name,
        account: f.account,
        role: f.role,
        csrf: f.csrf,
        can: f.can,
        tables: report
            .tables()
            .map(|t| (t.id.clone(), t.title.clone()))
            .collect(),
    })
}

/// `report.html` (shown in the page's frame), `report.xlsx`, or `TABLE.csv`.
async fn report_file(
    PageViewer(v): PageViewer,
    Path((_, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (_, report) = study_report(&v).await?;
    let attachment = |mime: &'static str, bytes: Vec<u8>| {
        (
            [
                (header::CONTENT_TYPE, mime.to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{file}\""),
                ),
            ],
            bytes,
        )
            .into_response()
    };
    let failed = |e: between_report::ReportError| ApiError::internal(e.to_string());
    if file == "report.html" {
        // The report is one self-contained file with its own inline style and no scripts:
        // this page alone may use inline style, may be framed by the study's own pages, and
        // may load nothing at all.
        return Ok((
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
                ),
                (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
            ],
            report.html(&between_study::now()),
        )
            .into_response());
    }
    if file == "report.xlsx" {
        let bytes = between_report::files::xlsx(&report).map_err(failed)?;
        return Ok(attachment(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            bytes,
        ));
    }
    if file == "report.pdf" {
        let html = report.html(&between_study::now());
        let bytes = tokio::task::spawn_blocking(move || print_pdf(&html))
            .await
            .map_err(|e| ApiError::internal(format!("printing failed: {e}")))??;
        return Ok(attachment("application/pdf", bytes));
    }
    if let Some(id) = file.strip_suffix(".csv")
        && let Some(table) = report.tables().find(|t| t.id == id)
    {
        let bytes = between_report::files::csv(table).map_err(failed)?;
        return Ok(attachment("text/csv; charset=utf-8", bytes));
    }
    Err(ApiError::not_found(format!(
        "no report file '{file}': report.html, report.pdf, report.xlsx or TABLE.csv"
    )))
}

/// The report printed by headless Chromium; without one on this machine, 503 saying so.
fn print_pdf(html: &str) -> Result<Vec<u8>, ApiError> {
    between_report::pdf::print_html(html).map_err(|e| match e {
        between_report::ReportError::Pdf(why) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", why)
        }
        other => ApiError::internal(other.to_string()),
    })
}
