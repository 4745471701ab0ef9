//! `/api/v1/studies/{slug}/query/…`: the questions of `between-findings` over the study's
//! corpus (frequencies, matrices and their cells, co-occurrence, boolean code queries, text
//! search, and coding every hit), and the page `/s/{slug}/query`. See docs/api.md.
//!
//! Everything is computed over `StudyHandle::corpus`, which refuses a coder while anything is
//! blind; the computations run on the blocking pool.

use std::sync::Arc;

use axum::extract::Query;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use between_core::{CodeId, Role, SourceId};
use between_findings::{
    CodeAllPlan, CodeQuery, CodingFilter, Corpus, Grouping, GroupingError, Proximity, QueryError,
    SearchFilter, TextQuery,
};
use serde::Deserialize;
use serde_json::json;

use crate::api::Body;
use crate::auth::Viewer;
use crate::pages::{PageViewer, shell};
use crate::paging::Page;
use crate::{ApiError, App, CodingEvent, over_corpus};

/// Context around excerpts unless asked otherwise (at most `between_findings::MAX_CONTEXT_CHARS`).
const CONTEXT: usize = 80;
/// Most hits a code-all preview lists (all are counted).
const LIMIT: usize = 500;

pub fn api_routes() -> Router<Arc<App>> {
    Router::new()
        .route("/frequencies", get(frequencies))
        .route("/matrix", get(matrix))
        .route("/cell", get(cell))
        .route("/cooccurrence", get(cooccurrence))
        .route("/cooccurrence/cell", get(cooccurrence_cell))
        .route("/codes", get(codes))
        .route("/search", get(search))
        .route("/search/code-all/preview", post(code_all_preview))
        .route("/search/code-all/apply", post(code_all_apply))
}

pub fn page_routes() -> Router<Arc<App>> {
    Router::new().route("/s/{slug}/query", get(page))
}

async fn page(PageViewer(v): PageViewer) -> Result<Html<String>, ApiError> {
    shell(&v, "query", "Queries".into(), String::new()).await
}

fn query_error(e: QueryError) -> ApiError {
    ApiError::bad_request(e.to_string())
}

fn grouping_error(e: GroupingError) -> ApiError {
    ApiError::bad_request(e.to_string())
}

/// Comma-separated values of a query parameter.
fn list(raw: &Option<String>) -> Vec<String> {
    raw.as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Code references (ids, paths, names) resolved in the corpus; none given: `None`.
fn codes_in(corpus: &Corpus, raw: &Option<String>) -> Result<Option<Vec<CodeId>>, ApiError> {
    let refs = list(raw);
    if refs.is_empty() {
        return Ok(None);
    }
    refs.iter()
        .map(|r| {
            corpus
                .resolve_code(r)
                .map(|c| c.id)
                .map_err(|e| ApiError::not_found(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn code_in(corpus: &Corpus, reference: &str) -> Result<CodeId, ApiError> {
    corpus
        .resolve_code(reference)
        .map(|c| c.id)
        .map_err(|e| ApiError::not_found(e.to_string()))
}

fn json_of<T: serde::Serialize>(value: T) -> Response {
    Json(value).into_response()
}

/// The parameters of the table endpoints (one flat struct: query strings do not nest).
/// Which codings count: `include_subcodes`, `coders=a,b`, `codes=a,b`; the grouping: `by`
/// (`role`, `source`, `participant`, `dyad`, `clinician`, `attribute:KEY`), or for a matrix
/// `cases` (`participants`, `dyads`, `sources`) or `attribute`; a cell: `code` and `column`
/// (a column key, or `total`); co-occurrence: `mode` (`overlap`, `turn`, `near`), `within`,
/// and a cell's codes `a` and `b`.
#[derive(Deserialize)]
struct Params {
    #[serde(default)]
    include_subcodes: bool,
    coders: Option<String>,
    codes: Option<String>,
    by: Option<String>,
    cases: Option<String>,
    attribute: Option<String>,
    code: Option<String>,
    column: Option<String>,
    mode: Option<String>,
    within: Option<usize>,
    a: Option<String>,
    b: Option<String>,
    context: Option<usize>,
}

impl Params {
    fn filter(&self) -> CodingFilter {
        let coders = list(&self.coders);
        CodingFilter {
            coders: (!coders.is_empty()).then_some(coders),
            include_subcodes: self.include_subcodes,
        }
    }

    fn grouping(&self, default: &str) -> Result<Grouping, ApiError> {
        let by = match (&self.attribute, &self.cases, &self.by) {
            (Some(key), _, _) => format!("attribute:{key}"),
            (None, Some(cases), _) => cases.clone(),
            (None, None, Some(by)) => by.clone(),
            (None, None, None) => default.to_string(),
        };
        by.parse().map_err(ApiError::bad_request)
    }

    fn proximity(&self) -> Result<Proximity, ApiError> {
        Proximity::parse(self.mode.as_deref().unwrap_or("overlap"), self.within)
            .map_err(ApiError::bad_request)
    }

    fn required<'a>(&self, value: &'a Option<String>, name: &str) -> Result<&'a str, ApiError> {
        value
            .as_deref()
            .ok_or_else(|| ApiError::bad_request(format!("give {name}")))
    }
}

async fn frequencies(viewer: Viewer, Query(q): Query<Params>) -> Result<Response, ApiError> {
    grouped(viewer, q, "role").await
}

async fn matrix(viewer: Viewer, Query(q): Query<Params>) -> Result<Response, ApiError> {
    grouped(viewer, q, "participants").await
}

async fn grouped(viewer: Viewer, q: Params, default: &str) -> Result<Response, ApiError> {
    let by = q.grouping(default)?;
    over_corpus(&viewer, move |corpus| {
        let codes = codes_in(corpus, &q.codes)?;
        let m = corpus.matrix(&by, codes.as_deref(), &q.filter());
        Ok(json_of(m.map_err(grouping_error)?))
    })
    .await
}

/// A matrix cell's excerpts: its codings, and its contrast codings apart, a page of each.
async fn cell(viewer: Viewer, page: Page, Query(q): Query<Params>) -> Result<Response, ApiError> {
    let by = q.grouping("participants")?;
    over_corpus(&viewer, move |corpus| {
        let code = code_in(corpus, q.required(&q.code, "the cell's code")?)?;
        let column = q.required(&q.column, "the cell's column")?;
        let m = corpus
            .matrix(&by, Some(&[code]), &q.filter())
            .map_err(grouping_error)?;
        let cell = m
            .cell(code, column)
            .ok_or_else(|| ApiError::not_found(format!("no column '{column}'")))?;
        let context = q.context.unwrap_or(CONTEXT);
        let label = m
            .columns
            .iter()
            .find(|c| c.key == column)
            .map_or_else(|| "total".to_string(), |c| c.label.clone());
        let rows = page.rows();
        let take = |at: &[u32]| {
            let shown = at.get(rows.start.min(at.len())..rows.end.min(at.len()));
            corpus.coding_excerpts(shown.unwrap_or_default(), context)
        };
        let total = cell.codings_at.len().max(cell.contrast_at.len());
        Ok(page.place(
            json!({
                "code": corpus.code_path(code),
                "column": label,
                "counts": cell,
                "total": total,
                "codings": take(&cell.codings_at),
                "contrast": take(&cell.contrast_at),
            }),
            total,
        ))
    })
    .await
}

async fn cooccurrence(viewer: Viewer, Query(q): Query<Params>) -> Result<Response, ApiError> {
    let proximity = q.proximity()?;
    over_corpus(&viewer, move |corpus| {
        let codes = codes_in(corpus, &q.codes)?;
        Ok(json_of(corpus.cooccurrence(
            proximity,
            codes.as_deref(),
            &q.filter(),
        )))
    })
    .await
}

/// The pairs of codings behind a co-occurrence cell, each as two excerpts, a page of them.
async fn cooccurrence_cell(
    viewer: Viewer,
    page: Page,
    Query(q): Query<Params>,
) -> Result<Response, ApiError> {
    let proximity = q.proximity()?;
    over_corpus(&viewer, move |corpus| {
        let a = code_in(corpus, q.required(&q.a, "code a")?)?;
        let b = code_in(corpus, q.required(&q.b, "code b")?)?;
        let m = corpus.cooccurrence(proximity, Some(&[a, b]), &q.filter());
        let pairs = m.pairs(a, b);
        let context = q.context.unwrap_or(CONTEXT);
        let rows = page.rows();
        let shown: Vec<_> = pairs
            .iter()
            .skip(rows.start)
            .take(rows.len())
            .map(|&(x, y)| {
                let both = corpus.coding_excerpts(&[x, y], context);
                json!({ "a": both.first(), "b": both.get(1) })
            })
            .collect();
        Ok(page.place(
            json!({
                "a": corpus.code_path(a),
                "b": corpus.code_path(b),
                "mode": m.mode,
                "include_subcodes": m.include_subcodes,
                "total": pairs.len(),
                "pairs": shown,
            }),
            pairs.len(),
        ))
    })
    .await
}

#[derive(Deserialize)]
struct CodesQuery {
    q: String,
    #[serde(default)]
    include_subcodes: bool,
    #[serde(default)]
    contrast: bool,
    coders: Option<String>,
    context: Option<usize>,
}

async fn codes(
    viewer: Viewer,
    page: Page,
    Query(q): Query<CodesQuery>,
) -> Result<Response, ApiError> {
    over_corpus(&viewer, move |corpus| {
        let query = CodeQuery::parse(&q.q, corpus, q.include_subcodes).map_err(query_error)?;
        let coders = list(&q.coders);
        let filter = CodingFilter {
            coders: (!coders.is_empty()).then_some(coders),
            include_subcodes: q.include_subcodes,
        };
        let result = corpus.code_query(
            &query,
            &filter,
            q.contrast,
            q.context.unwrap_or(CONTEXT),
            page.rows(),
        );
        placed(&page, &result, result.total)
    })
    .await
}

/// What to search: the text, and optionally sources (ids) and a speaker role.
#[derive(Deserialize, Clone)]
struct SearchQuery {
    q: String,
    sources: Option<String>,
    role: Option<String>,
    context: Option<usize>,
}

impl SearchQuery {
    fn parsed(&self) -> Result<(TextQuery, SearchFilter), ApiError> {
        let query = TextQuery::parse(&self.q).map_err(query_error)?;
        let sources = list(&self.sources)
            .iter()
            .map(|s| {
                s.parse::<SourceId>()
                    .map_err(|_| ApiError::not_found(format!("no source '{s}' (not an id)")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let role = match self.role.as_deref().filter(|r| !r.is_empty()) {
            Some(r) => Some(
                r.parse::<Role>()
                    .map_err(|e| ApiError::bad_request(e.to_string()))?,
            ),
            None => None,
        };
        Ok((
            query,
            SearchFilter {
                sources: (!sources.is_empty()).then_some(sources),
                role,
            },
        ))
    }
}

async fn search(
    viewer: Viewer,
    page: Page,
    Query(q): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    let (query, filter) = q.parsed()?;
    over_corpus(&viewer, move |corpus| {
        let result = corpus.search(&query, &filter, q.context.unwrap_or(CONTEXT), page.rows());
        placed(&page, &result, result.total)
    })
    .await
}

/// A result object of `total` rows with the page's place in it.
fn placed(page: &Page, result: &impl serde::Serialize, total: usize) -> Result<Response, ApiError> {
    let value =
        serde_json::to_value(result).map_err(|e| ApiError::internal(format!("a result: {e}")))?;
    Ok(page.place(value, total))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeAllBody {
    q: String,
    /// The code (id, path or name).
    code: String,
    sources: Option<Vec<SourceId>>,
    role: Option<Role>,
    context: Option<usize>,
    /// For apply: how many new codings the preview promised; a different count now (the
    /// study changed) is a conflict.
    expected: Option<usize>,
}

impl CodeAllBody {
    fn parsed(&self) -> Result<(TextQuery, SearchFilter), ApiError> {
        Ok((
            TextQuery::parse(&self.q).map_err(query_error)?,
            SearchFilter {
                sources: self.sources.clone(),
                role: self.role,
            },
        ))
    }
}

/// What coding every hit as the viewer would do, and the batch of codings it would make.
async fn plan(
    viewer: &Viewer,
    body: CodeAllBody,
    context: usize,
) -> Result<(CodeAllPlan, Vec<between_study::NewCoding>), ApiError> {
    // Asked before the plan is worked out; applying it asks again.
    between_study::policy::may_write(&viewer.account)?;
    let (query, filter) = body.parsed()?;
    let coder = viewer.account.name.clone();
    over_corpus(viewer, move |corpus| {
        let code = code_in(corpus, &body.code)?;
        let plan = corpus.plan_code_all(&query, &filter, code, &coder, context);
        let batch = plan.batch(corpus);
        Ok((plan, batch))
    })
    .await
}

async fn code_all_preview(
    viewer: Viewer,
    Body(body): Body<CodeAllBody>,
) -> Result<Response, ApiError> {
    let context = body.context.unwrap_or(CONTEXT);
    let (mut plan, _) = plan(&viewer, body, context).await?;
    let total = plan.hits.len();
    plan.hits.truncate(LIMIT);
    let mut value =
        serde_json::to_value(&plan).map_err(|e| ApiError::internal(format!("a preview: {e}")))?;
    value["total_hits"] = json!(total);
    Ok(json_of(value))
}

/// Codes every hit not yet coded so by the viewer, in one change.
async fn code_all_apply(
    viewer: Viewer,
    Body(body): Body<CodeAllBody>,
) -> Result<Response, ApiError> {
    let expected = body.expected;
    let (plan, batch) = plan(&viewer, body, 0).await?;
    if let Some(promised) = expected.filter(|n| *n != plan.to_code) {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "conflict",
            format!(
                "the study changed since the preview: {} hits would be coded now, not {promised}; preview again",
                plan.to_code
            ),
        ));
    }
    let (already, path) = (plan.already_coded, plan.code_path);
    let (made, blind) = viewer
        .study
        .run(&viewer.account, move |b| {
            let made = if batch.is_empty() {
                Vec::new()
            } else {
                b.apply_codings(batch)?
            };
            Ok((made, b.blindness()?))
        })
        .await?;
    for c in &made {
        viewer.study.announce(CodingEvent::of("created", c, &blind));
    }
    Ok((
        axum::http::StatusCode::CREATED,
        json_of(json!({
            "coded": made.len(),
            "already_coded": already,
            "code": path,
            "coder": viewer.account.name,
        })),
    )
        .into_response())
}
