//! Server-rendered pages. The dashboard is rendered here; the document view, codebook and memo
//! pages are shells that the ES modules in `assets/` fill through the API.

use std::sync::Arc;

use askama::Template;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use between_core::SourceId;
use between_study::policy::{self, Capabilities};
use serde::Deserialize;

use crate::auth::{self, ClientAddr, Viewer};
use crate::{ApiError, App};

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(index))
        .route("/s/{slug}/login", get(login_page).post(login_form))
        .route("/s/{slug}/logout", axum::routing::post(logout_form))
        .route("/s/{slug}/blind", axum::routing::post(blind_form))
        .route("/s/{slug}/", get(dashboard))
        .route("/s/{slug}/sources/{id}", get(document))
        .route("/s/{slug}/codebook", get(codebook))
        .route("/s/{slug}/memos", get(memos))
        .route("/s/{slug}/agreement", get(agreement))
        .route("/s/{slug}/deidentify", get(deidentify))
        .route("/s/{slug}/exchange", get(exchange))
}

pub(crate) fn render(t: &impl Template) -> Result<Html<String>, ApiError> {
    t.render()
        .map(Html)
        .map_err(|e| ApiError::internal(format!("template: {e}")))
}

/// A page's viewer: without a session, the page sends the browser to the login form.
pub(crate) struct PageViewer(pub(crate) Viewer);

impl FromRequestParts<Arc<App>> for PageViewer {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Response> {
        match Viewer::from_request_parts(parts, app).await {
            Ok(v) => Ok(PageViewer(v)),
            Err(e) if e.status == StatusCode::UNAUTHORIZED || e.status == StatusCode::FORBIDDEN => {
                let slug = parts
                    .uri
                    .path()
                    .trim_start_matches("/s/")
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                Err(Redirect::to(&format!("/s/{slug}/login")).into_response())
            }
            Err(e) => Err(e.into_response()),
        }
    }
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
    slugs: Vec<&'a str>,
}

async fn index(State(app): State<Arc<App>>) -> Result<Html<String>, ApiError> {
    render(&IndexPage { slugs: app.slugs() })
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    slug: String,
    error: Option<String>,
}

async fn login_page(
    State(app): State<Arc<App>>,
    Path(slug): Path<String>,
) -> Result<Html<String>, ApiError> {
    app.study(&slug)?;
    render(&LoginPage { slug, error: None })
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
}

/// A form post from another site would carry our cookie-less request anyway, but refuse
/// foreign origins outright (login CSRF).
fn same_origin(headers: &HeaderMap) -> bool {
    let value = |name| {
        headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
    };
    if let Some(site) = value("sec-fetch-site") {
        return site == "same-origin" || site == "none";
    }
    let Some(origin) = value(header::ORIGIN.as_str()) else {
        return true;
    };
    let host = value(header::HOST.as_str()).unwrap_or_default();
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest == host)
}

async fn login_form(
    State(app): State<Arc<App>>,
    Path(slug): Path<String>,
    addr: ClientAddr,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let study = app.study(&slug)?;
    if !same_origin(&headers) {
        return Err(ApiError::forbidden("a login from another site was refused"));
    }
    match auth::login(&app, &study, addr, &form.name, &form.password).await {
        Ok((_, token, _)) => Ok((
            [(header::SET_COOKIE, app.set_cookie(&token))],
            Redirect::to(&format!("/s/{slug}/")),
        )
            .into_response()),
        Err(e)
            if e.status == StatusCode::UNAUTHORIZED
                || e.status == StatusCode::TOO_MANY_REQUESTS
                || e.status == StatusCode::BAD_REQUEST =>
        {
            Ok((
                e.status,
                render(&LoginPage {
                    slug,
                    error: Some(e.message),
                })?,
            )
                .into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf: String,
}

/// The viewer behind a form post, which carries its CSRF token in a field (forms cannot set
/// headers).
async fn form_viewer(
    app: &Arc<App>,
    slug: &str,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Viewer, ApiError> {
    Viewer::of(app, app.study(slug)?, headers, Some(Some(csrf))).await
}

/// Ends the session. A wrong CSRF token changes nothing (the session stays, and so does its
/// cookie): another site must not log people out.
async fn logout_form(
    State(app): State<Arc<App>>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Result<Response, ApiError> {
    match form_viewer(&app, &slug, &headers, &form.csrf).await {
        Ok(viewer) => app.sessions.end(&viewer.token),
        // No session left: clearing the cookie is all there is to do.
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {}
        Err(e) => return Err(e),
    }
    Ok((
        [(header::SET_COOKIE, app.clear_cookie())],
        Redirect::to(&format!("/s/{slug}/login")),
    )
        .into_response())
}

#[derive(Deserialize)]
struct BlindForm {
    csrf: String,
    blind: String,
}

/// The owner's switch for blind coding of the whole study, on the dashboard.
async fn blind_form(
    State(app): State<Arc<App>>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Form(form): Form<BlindForm>,
) -> Result<Response, ApiError> {
    let viewer = form_viewer(&app, &slug, &headers, &form.csrf).await?;
    let on = form.blind == "on";
    viewer
        .study
        .run(&viewer.account, move |b| b.set_blind(None, on))
        .await?;
    Ok(Redirect::to(&format!("/s/{slug}/")).into_response())
}

/// What every page's frame needs (`base.html` and `nav.html`).
pub(crate) struct Common {
    pub(crate) slug: String,
    pub(crate) study_name: String,
    pub(crate) account: String,
    /// The account's role, for display only; what to offer comes from `can`.
    pub(crate) role: String,
    pub(crate) csrf: String,
    pub(crate) can: Capabilities,
}

impl Common {
    pub(crate) fn new(v: &Viewer, study_name: String) -> Self {
        Self {
            slug: v.study.slug.clone(),
            study_name,
            account: v.account.name.clone(),
            role: v.account.role.to_string(),
            csrf: v.csrf.clone(),
            can: policy::capabilities(&v.account),
        }
    }
}

pub(crate) async fn common(v: &Viewer) -> Result<Common, ApiError> {
    let name = v
        .study
        .read(&v.account, |b| b.study().map(|s| s.name))
        .await?;
    Ok(Common::new(v, name))
}

struct SourceRow {
    id: SourceId,
    name: String,
    kind: String,
    date: String,
    others_present: String,
    blind: bool,
    /// "by NAME, DATE", "not yet" for a transcript, empty for a field note or journal.
    verified: String,
    media: bool,
    progress: Vec<(String, usize, usize)>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    slug: String,
    study_name: String,
    account: String,
    role: String,
    csrf: String,
    can: Capabilities,
    description: String,
    blind: bool,
    sources: Vec<SourceRow>,
    unverified: Vec<(SourceId, String)>,
    participants: Vec<(String, String, String, String)>,
    dyads: Vec<(String, String, String)>,
    memos: Vec<(String, String, String, String, String)>,
}

/// Memos shown on the dashboard.
const LATEST_MEMOS: usize = 5;

async fn dashboard(PageViewer(v): PageViewer) -> Result<Html<String>, ApiError> {
    let c = common(&v).await?;
    let who = v.account.clone();
    let page = v
        .study
        .read(&v.account, move |b| {
            let study = b.study()?;
            let counts = b.coding_progress(&who)?;
            let most = counts
                .values()
                .flat_map(|m| m.values())
                .copied()
                .max()
                .unwrap_or(1);
            let checks = b.verifications()?;
            let media = b.media()?;
            let unverified = b
                .unverified()?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect();
            let sources = b
                .sources()?
                .into_iter()
                .map(|s| SourceRow {
                    verified: match checks.get(&s.id) {
                        Some(v) => format!(
                            "by {}, {}",
                            v.verified_by,
                            v.verified_at.get(..10).unwrap_or(&v.verified_at)
                        ),
                        None if between_study::is_transcript(s.kind) => "not yet".into(),
                        None => String::new(),
                    },
                    media: media.contains_key(&s.id),
                    id: s.id,
                    name: s.name,
                    kind: s.kind.to_string(),
                    date: s.interview.date.unwrap_or_default(),
                    others_present: s.interview.others_present.join(", "),
                    blind: s.blind,
                    progress: counts
                        .get(&s.id)
                        .map(|m| m.iter().map(|(k, n)| (k.clone(), *n, most)).collect())
                        .unwrap_or_default(),
                })
                .collect();
            let participants = b
                .participants()?
                .into_iter()
                .map(|p| {
                    let attrs = p
                        .attributes
                        .iter()
                        .map(|(k, v)| format!("{k}: {v}"))
                        .collect::<Vec<_>>()
                        .join("; ");
                    (
                        p.label,
                        p.role.to_string(),
                        p.name.unwrap_or_default(),
                        attrs,
                    )
                })
                .collect();
            let dyads = b
                .dyads()?
                .into_iter()
                .map(|d| (d.label, d.relationship_start.unwrap_or_default(), d.notes))
                .collect();
            let mut memos = b.visible_memos(&who, b.memos(None)?)?;
            memos.reverse();
            let memos = memos
                .into_iter()
                .take(LATEST_MEMOS)
                .map(|m| {
                    (
                        m.memo.title,
                        m.about,
                        m.memo.author,
                        m.memo.created_at,
                        m.memo.text,
                    )
                })
                .collect();
            Ok(DashboardPage {
                slug: c.slug,
                study_name: c.study_name,
                account: c.account,
                role: c.role,
                csrf: c.csrf,
                can: c.can,
                description: study.description,
                blind: study.blind,
                sources,
                unverified,
                participants,
                dyads,
                memos,
            })
        })
        .await?;
    render(&page)
}

#[derive(Template)]
#[template(path = "shell.html")]
struct ShellPage {
    slug: String,
    study_name: String,
    account: String,
    role: String,
    csrf: String,
    can: Capabilities,
    title: String,
    page: &'static str,
    source_id: String,
}

pub(crate) async fn shell(
    v: &Viewer,
    page: &'static str,
    title: String,
    source_id: String,
) -> Result<Html<String>, ApiError> {
    let c = common(v).await?;
    render(&ShellPage {
        slug: c.slug,
        study_name: c.study_name,
        account: c.account,
        role: c.role,
        csrf: c.csrf,
        can: c.can,
        title,
        page,
        source_id,
    })
}

async fn document(
    PageViewer(v): PageViewer,
    Path((_, id)): Path<(String, String)>,
) -> Result<Html<String>, ApiError> {
    let id: SourceId = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no source '{id}'")))?;
    let name = v
        .study
        .read(&v.account, move |b| {
            b.source_by_id(id).map(|s| s.name.clone())
        })
        .await?;
    shell(&v, "document", name, id.to_string()).await
}

async fn codebook(PageViewer(v): PageViewer) -> Result<Html<String>, ApiError> {
    shell(&v, "codebook", "Codebook".into(), String::new()).await
}

async fn memos(PageViewer(v): PageViewer) -> Result<Html<String>, ApiError> {
    shell(&v, "memos", "Memos".into(), String::new()).await
}

async fn agreement(PageViewer(v): PageViewer) -> Result<Html<String>, ApiError> {
    shell(&v, "agreement", "Agreement".into(), String::new()).await
}

/// Owners only: the page holds the study's identifying terms.
async fn deidentify(PageViewer(v): PageViewer) -> Result<Html<String>, ApiError> {
    policy::may_deidentify(&v.account)?;
    shell(&v, "deidentify", "De-identify".into(), String::new()).await
}

/// Owners only: exports hold the whole study.
async fn exchange(PageViewer(v): PageViewer) -> Result<Html<String>, ApiError> {
    policy::may_exchange(&v.account)?;
    shell(&v, "exchange", "Exchange".into(), String::new()).await
}
