//! `/api/v1/studies/{slug}/…`: JSON in, library call, JSON out (docs/api.md).

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use between_core::*;
use between_study::{Adjudication, AgreementUnit, CodingEdit, CodingRequest, TargetRef};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use crate::auth::{self, ClientAddr, Viewer};
use crate::paging::Page;
use crate::{ApiError, App, CodingEvent};

/// Characters of context around an excerpt.
const EXCERPT_CONTEXT: usize = 80;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(study))
        .route("/session", post(login).get(session).delete(logout))
        .route("/participants", get(participants))
        .route("/dyads", get(dyads))
        .route("/sources", get(sources))
        .route("/sources/{id}", get(source))
        .route("/sources/{id}/codings", get(source_codings))
        .route("/sources/{id}/media", get(source_media))
        .route("/sources/{id}/verification", post(verify_source))
        .route("/verification", get(verification))
        .route("/codings", get(codings).post(create_coding))
        .route(
            "/codings/{id}",
            axum::routing::patch(edit_coding).delete(delete_coding),
        )
        .route("/codebook", get(codebook))
        .route("/codes", post(create_code))
        .route("/codes/{id}", axum::routing::patch(edit_code))
        .route("/codes/{id}/merge", post(merge_code))
        .route("/codes/{id}/excerpts", get(excerpts))
        .route("/memos", get(memos).post(create_memo))
        .route("/blind", put(set_blind))
        .route("/coders", get(coders))
        .route("/agreement", get(agreement))
        .route("/disagreements", get(disagreements))
        .route("/consensus", post(adjudicate))
        .route("/events", get(events))
}

/// `Json<T>` whose rejections use the API's error shape.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(e) => Err(json_error(e)),
        }
    }
}

fn json_error(e: JsonRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request is larger than {} bytes", crate::MAX_BODY_BYTES),
        );
    }
    ApiError::bad_request(e.body_text())
}

fn parse_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::not_found(format!("no {what} '{raw}' (not an id)")))
}

type ApiResult<T = Json<Value>> = Result<T, ApiError>;

/// Serialises once, straight to the response body.
fn to_json<T: serde::Serialize>(v: T) -> Response {
    Json(v).into_response()
}

// ---- session

#[derive(Deserialize)]
struct LoginBody {
    name: String,
    password: String,
}

async fn login(
    State(app): State<Arc<App>>,
    Path(slug): Path<String>,
    addr: ClientAddr,
    Body(body): Body<LoginBody>,
) -> ApiResult<Response> {
    let study = app.study(&slug)?;
    let (account, token, csrf) =
        auth::login(&app, &study, addr, &body.name, &body.password).await?;
    let cookie = app.set_cookie(&token);
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(json!({ "account": account, "csrf_token": csrf })),
    )
        .into_response())
}

async fn session(viewer: Viewer) -> ApiResult {
    Ok(Json(
        json!({ "account": viewer.account, "csrf_token": viewer.csrf }),
    ))
}

async fn logout(State(app): State<Arc<App>>, viewer: Viewer) -> Response {
    app.sessions.end(&viewer.token);
    (
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, app.clear_cookie())],
    )
        .into_response()
}

// ---- reading

async fn study(viewer: Viewer) -> ApiResult {
    let who = viewer.account.clone();
    viewer
        .study
        .read(&viewer.account, move |b| {
            let study = b.study()?;
            let visible: between_study::Count = b.coding_counts_seen_by(&who)?.into_values().sum();
            Ok(json!({
                "name": study.name,
                "description": study.description,
                "theory": study.theory,
                "blind": study.blind,
                "counts": {
                    "participants": b.participants()?.len(),
                    "dyads": b.dyads()?.len(),
                    "sources": b.sources()?.len(),
                    "codes": b.codebook()?.len(),
                    "codings": visible.codings,
                    "contrast": visible.contrast,
                    "memos": b.visible_memos(&who, b.memos(None)?)?.len(),
                },
            }))
        })
        .await
        .map(Json)
}

async fn participants(viewer: Viewer, page: Page) -> ApiResult<Response> {
    viewer
        .study
        .read(&viewer.account, |b| b.participants())
        .await
        .map(|rows| page.of(rows))
}

async fn dyads(viewer: Viewer, page: Page) -> ApiResult<Response> {
    viewer
        .study
        .read(&viewer.account, |b| b.dyads())
        .await
        .map(|rows| page.of(rows))
}

async fn sources(viewer: Viewer, page: Page) -> ApiResult<Response> {
    let who = viewer.account.clone();
    viewer
        .study
        .read(&viewer.account, move |b| {
            let by_source = b.coding_progress(&who)?;
            let list: Vec<Value> = b
                .sources()?
                .into_iter()
                .map(|s| {
                    let mut v = serde_json::to_value(&s).expect("plain data");
                    v["codings_by_coder"] =
                        json!(by_source.get(&s.id).cloned().unwrap_or_default());
                    v
                })
                .collect();
            Ok(list)
        })
        .await
        .map(|rows: Vec<Value>| page.of(rows))
}

/// A source as the document view reads it: participant and dyad by label.
#[derive(serde::Serialize)]
struct SourceDocument<'a> {
    id: SourceId,
    name: &'a str,
    kind: SourceKind,
    text: &'a str,
    turns: &'a [Turn],
    speakers: &'a [Speaker],
    markers: &'a [Marker],
    interview: &'a InterviewInfo,
    imported_at: &'a str,
    blind: bool,
    participant: Option<String>,
    dyad: Option<String>,
    /// The linked recording, streamed from `…/sources/{id}/media`.
    media: Option<MediaInfo>,
    /// The latest check of the transcript against its recording.
    verification: Option<Verification>,
}

#[derive(serde::Serialize)]
struct MediaInfo {
    mime: String,
    bytes: u64,
    video: bool,
}

async fn source(viewer: Viewer, Path((_, id)): Path<(String, String)>) -> ApiResult<Response> {
    let id: SourceId = parse_id(&id, "source")?;
    viewer
        .study
        .read(&viewer.account, move |b| {
            let s = b.source_by_id(id)?;
            let participant = s.participant.and_then(|p| {
                b.participants()
                    .ok()?
                    .into_iter()
                    .find(|x| x.id == p)
                    .map(|x| x.label)
            });
            let dyad = s.dyad.and_then(|d| {
                b.dyads()
                    .ok()?
                    .into_iter()
                    .find(|x| x.id == d)
                    .map(|x| x.label)
            });
            let media = b.media()?.remove(&s.id).map(|m| MediaInfo {
                video: m.is_video(),
                mime: m.mime,
                bytes: m.bytes,
            });
            let verification = b.verifications()?.remove(&s.id);
            let document = SourceDocument {
                media,
                verification,
                id: s.id,
                name: &s.name,
                kind: s.kind,
                text: &s.text,
                turns: &s.turns,
                speakers: &s.speakers,
                markers: &s.markers,
                interview: &s.interview,
                imported_at: &s.imported_at,
                blind: s.blind,
                participant,
                dyad,
            };
            Ok(to_json(document))
        })
        .await
}

async fn source_codings(
    viewer: Viewer,
    Path((_, id)): Path<(String, String)>,
    page: Page,
) -> ApiResult<Response> {
    let id: SourceId = parse_id(&id, "source")?;
    coding_page(viewer, page, Some(id), None, None).await
}

/// A page of the codings the viewer may see; only that page is read with its text.
async fn coding_page(
    viewer: Viewer,
    page: Page,
    source: Option<SourceId>,
    code: Option<CodeId>,
    coder: Option<String>,
) -> ApiResult<Response> {
    let who = viewer.account.clone();
    let rows = page.rows();
    let (views, total) = viewer
        .study
        .read(&viewer.account, move |b| {
            if let Some(id) = source {
                b.source_by_id(id)?;
            }
            let (shown, total) =
                b.codings_page_seen_by(&who, source, code, coder.as_deref(), rows)?;
            Ok((b.views_of(shown)?, total))
        })
        .await?;
    Ok(page.answer(views, total))
}

/// The source's recording, streamed from its file with range requests (a browser seeks
/// without downloading it all; nothing is read whole into memory).
async fn source_media(
    viewer: Viewer,
    Path((_, id)): Path<(String, String)>,
    request: Request,
) -> ApiResult<Response> {
    let id: SourceId = parse_id(&id, "source")?;
    let (media, file) = viewer
        .study
        .read(&viewer.account, move |b| b.media_file(id))
        .await?;
    if !file.is_file() {
        return Err(ApiError::not_found(format!(
            "the recording {} is not where it was linked from; link it again with `between media attach`",
            media.path
        )));
    }
    let served = tower::ServiceExt::oneshot(
        tower_http::services::ServeFile::new_with_mime(
            &file,
            &media.mime.parse().map_err(|_| {
                ApiError::internal(format!(
                    "stored media type '{}' is not a MIME type",
                    media.mime
                ))
            })?,
        ),
        request,
    )
    .await
    .map_err(|e| ApiError::internal(format!("the recording could not be read: {e}")))?;
    let mut response = served.map(axum::body::Body::new);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}

#[derive(Deserialize)]
struct CodingQuery {
    coder: Option<String>,
    code: Option<String>,
    source: Option<String>,
}

async fn codings(viewer: Viewer, page: Page, Query(q): Query<CodingQuery>) -> ApiResult<Response> {
    let code = q
        .code
        .as_deref()
        .map(|c| parse_id::<CodeId>(c, "code"))
        .transpose()?;
    let source = q
        .source
        .as_deref()
        .map(|s| parse_id::<SourceId>(s, "source"))
        .transpose()?;
    coding_page(viewer, page, source, code, q.coder).await
}

async fn codebook(viewer: Viewer, page: Page) -> ApiResult<Response> {
    let who = viewer.account.clone();
    viewer
        .study
        .read(&viewer.account, move |b| b.codebook_seen_by(&who))
        .await
        .map(|rows| page.of(rows))
}

async fn excerpts(
    viewer: Viewer,
    Path((_, id)): Path<(String, String)>,
    page: Page,
) -> ApiResult<Response> {
    let id: CodeId = parse_id(&id, "code")?;
    let who = viewer.account.clone();
    let rows = page.rows();
    let (excerpts, total) = viewer
        .study
        .read(&viewer.account, move |b| {
            b.excerpts_seen_by(&who, id, EXCERPT_CONTEXT, rows)
        })
        .await?;
    Ok(page.answer(excerpts, total))
}

#[derive(Deserialize)]
struct MemoQuery {
    on: Option<String>,
}

async fn memos(viewer: Viewer, page: Page, Query(q): Query<MemoQuery>) -> ApiResult<Response> {
    let who = viewer.account.clone();
    viewer
        .study
        .read(&viewer.account, move |b| {
            let target = q.on.map(|t| b.memo_target(&TargetRef(t))).transpose()?;
            b.visible_memos(&who, b.memos(target)?)
        })
        .await
        .map(|rows| page.of(rows))
}

// ---- writing

async fn create_coding(
    viewer: Viewer,
    Body(body): Body<CodingRequest>,
) -> ApiResult<(StatusCode, Response)> {
    let view = viewer
        .study
        .create_coding(viewer.account.clone(), body)
        .await?;
    Ok((StatusCode::CREATED, to_json(view)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditCodingBody {
    version: i64,
    #[serde(flatten)]
    edit: CodingEdit,
}

async fn edit_coding(
    viewer: Viewer,
    Path((_, id)): Path<(String, String)>,
    Body(body): Body<EditCodingBody>,
) -> ApiResult<Response> {
    let id: CodingId = parse_id(&id, "coding")?;
    let who = viewer.account.clone();
    let (view, blind) = viewer
        .study
        .run(&viewer.account, move |b| {
            Ok((
                b.edit_coding(&who, id, body.version, body.edit)?,
                b.blindness()?,
            ))
        })
        .await?;
    viewer
        .study
        .announce(CodingEvent::of("updated", &view.coding, &blind));
    Ok(to_json(view))
}

#[derive(Deserialize)]
struct VersionQuery {
    version: Option<i64>,
}

async fn delete_coding(
    viewer: Viewer,
    Path((_, id)): Path<(String, String)>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<StatusCode> {
    let id: CodingId = parse_id(&id, "coding")?;
    let version = q
        .version
        .ok_or_else(|| ApiError::bad_request("say which version you are deleting: ?version=N"))?;
    let who = viewer.account.clone();
    let (gone, blind) = viewer
        .study
        .run(&viewer.account, move |b| {
            Ok((b.delete_coding(&who, id, version)?, b.blindness()?))
        })
        .await?;
    viewer
        .study
        .announce(CodingEvent::of("deleted", &gone, &blind));
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCodeBody {
    name: String,
    parent: Option<CodeId>,
    colour: Option<String>,
    #[serde(default)]
    definition: String,
}

async fn create_code(
    viewer: Viewer,
    Body(body): Body<NewCodeBody>,
) -> ApiResult<(StatusCode, Response)> {
    let code = viewer
        .study
        .run(&viewer.account, move |b| {
            let parent = body.parent.map(|p| p.to_string());
            b.add_code(
                &body.name,
                parent.as_deref(),
                body.colour.as_deref(),
                &body.definition,
            )
        })
        .await?;
    Ok((StatusCode::CREATED, to_json(code)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditCodeBody {
    version: i64,
    name: Option<String>,
    /// Absent: stays; `null`: to the top level; an id: under that code.
    #[serde(default, with = "double_option")]
    parent: Option<Option<CodeId>>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

async fn edit_code(
    viewer: Viewer,
    Path((_, id)): Path<(String, String)>,
    Body(body): Body<EditCodeBody>,
) -> ApiResult<Response> {
    let id: CodeId = parse_id(&id, "code")?;
    viewer
        .study
        .run(&viewer.account, move |b| {
            b.edit_code(id, body.version, body.name.as_deref(), body.parent)
        })
        .await
        .map(to_json)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    into: CodeId,
}

async fn merge_code(
    viewer: Viewer,
    Path((_, id)): Path<(String, String)>,
    Body(body): Body<MergeBody>,
) -> ApiResult {
    let id: CodeId = parse_id(&id, "code")?;
    let moved = viewer
        .study
        .run(&viewer.account, move |b| {
            b.merge_codes(&id.to_string(), &body.into.to_string())
        })
        .await?;
    Ok(Json(json!({ "moved": moved })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMemoBody {
    on: String,
    #[serde(default)]
    title: String,
    text: String,
    /// A passage of the source the memo is on (code points, end exclusive).
    start: Option<usize>,
    end: Option<usize>,
}

async fn create_memo(
    viewer: Viewer,
    Body(body): Body<NewMemoBody>,
) -> ApiResult<(StatusCode, Response)> {
    let author = viewer.account.name.clone();
    let memo = viewer
        .study
        .run(&viewer.account, move |b| match (body.start, body.end) {
            (None, None) => b.add_memo(&TargetRef(body.on), &body.title, &body.text, Some(&author)),
            (Some(start), Some(end)) => match b.memo_target(&TargetRef(body.on))? {
                MemoTarget::Source(source) => b.add_passage_memo(
                    source,
                    Span { start, end },
                    &body.title,
                    &body.text,
                    Some(&author),
                ),
                _ => Err(between_study::StudyError::Invalid(
                    "only a memo on a source can be about a passage".into(),
                )),
            },
            _ => Err(between_study::StudyError::Invalid(
                "a passage needs both start and end".into(),
            )),
        })
        .await?;
    Ok((StatusCode::CREATED, to_json(memo)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlindBody {
    source: Option<SourceId>,
    blind: bool,
}

async fn set_blind(viewer: Viewer, Body(body): Body<BlindBody>) -> ApiResult<StatusCode> {
    viewer
        .study
        .run(&viewer.account, move |b| {
            let name = body
                .source
                .map(|id| b.source_by_id(id).map(|s| s.name.clone()))
                .transpose()?;
            b.set_blind(name.as_deref(), body.blind)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    #[serde(default)]
    note: String,
}

/// Records that the logged-in account checked the transcript against its recording.
async fn verify_source(
    viewer: Viewer,
    Path((_, id)): Path<(String, String)>,
    Body(body): Body<VerifyBody>,
) -> ApiResult<(StatusCode, Response)> {
    let id: SourceId = parse_id(&id, "source")?;
    let who = viewer.account.name.clone();
    let v = viewer
        .study
        .run(&viewer.account, move |b| {
            b.verify_transcript(&who, &id.to_string(), &body.note)
        })
        .await?;
    Ok((StatusCode::CREATED, to_json(v)))
}

/// Every transcript with its latest check, or none.
async fn verification(viewer: Viewer, page: Page) -> ApiResult<Response> {
    viewer
        .study
        .read(&viewer.account, |b| {
            let latest = b.verifications()?;
            Ok(b.sources()?
                .into_iter()
                .filter(|s| between_study::is_transcript(s.kind))
                .map(|s| {
                    json!({
                        "source": s.id,
                        "name": s.name,
                        "verification": latest.get(&s.id),
                    })
                })
                .collect::<Vec<_>>())
        })
        .await
        .map(|rows| page.of(rows))
}

// ---- agreement between coders

/// Which coders, sources and codes to compare; lists are comma-separated (names or ids).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompareQuery {
    coders: String,
    #[serde(default)]
    sources: String,
    #[serde(default)]
    codes: String,
    /// A code whose sub-codes are compared (instead of `codes`).
    group: Option<String>,
    #[serde(default)]
    unit: Option<String>,
    min_overlap: Option<f64>,
    consensus: Option<String>,
    /// Most passages returned (all are counted), from `offset` on.
    limit: Option<usize>,
    offset: Option<usize>,
}

/// Passages the disagreement viewer gets unless it asks for another number.
const PASSAGES: usize = 500;

fn list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

impl CompareQuery {
    fn unit(&self) -> Result<AgreementUnit, ApiError> {
        match self.unit.as_deref().unwrap_or("characters") {
            "characters" => Ok(AgreementUnit::Characters),
            "turns" => Ok(AgreementUnit::Turns),
            "segments" => {
                let min_overlap = self.min_overlap.unwrap_or(0.6);
                if !(min_overlap > 0.0 && min_overlap <= 1.0) {
                    return Err(ApiError::bad_request(
                        "min_overlap is a share of a segment: more than 0, at most 1",
                    ));
                }
                Ok(AgreementUnit::Segments { min_overlap })
            }
            other => Err(ApiError::bad_request(format!(
                "unit '{other}' is not one of characters, turns, segments"
            ))),
        }
    }

    /// The codes compared: a group's sub-codes, or those listed.
    fn codes(&self, b: &between_study::Workbench) -> between_study::StudyResult<Vec<String>> {
        match &self.group {
            Some(group) if !group.trim().is_empty() => Ok(b
                .sub_codes(group.trim())?
                .iter()
                .map(ToString::to_string)
                .collect()),
            _ => Ok(list(&self.codes)),
        }
    }
}

/// Everyone who has coded, with how many codings (for choosing whom to compare).
async fn coders(viewer: Viewer, page: Page) -> ApiResult<Response> {
    let who = viewer.account.clone();
    viewer
        .study
        .read(&viewer.account, move |b| {
            b.may_compare(&who, &[])?;
            let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
            for c in b.codings(None, None, None)? {
                *counts.entry(c.coding.coder).or_default() += 1;
            }
            Ok(counts
                .into_iter()
                .map(|(name, codings)| json!({ "name": name, "codings": codings }))
                .collect::<Vec<_>>())
        })
        .await
        .map(|rows| page.of(rows))
}

async fn agreement(viewer: Viewer, Query(q): Query<CompareQuery>) -> ApiResult<Response> {
    let unit = q.unit()?;
    let who = viewer.account.clone();
    viewer
        .study
        .read(&viewer.account, move |b| {
            let sources = list(&q.sources);
            b.may_compare(&who, &sources)?;
            b.agreement(&list(&q.coders), &sources, &q.codes(b)?, unit)
        })
        .await
        .map(to_json)
}

async fn disagreements(viewer: Viewer, Query(q): Query<CompareQuery>) -> ApiResult<Response> {
    let who = viewer.account.clone();
    viewer
        .study
        .read(&viewer.account, move |b| {
            b.disagreements(
                &who,
                &list(&q.coders),
                &list(&q.sources),
                &q.codes(b)?,
                q.consensus.as_deref(),
                {
                    let from = q.offset.unwrap_or(0);
                    from..from.saturating_add(q.limit.unwrap_or(PASSAGES).min(crate::MAX_PAGE_ROWS))
                },
            )
        })
        .await
        .map(to_json)
}

async fn adjudicate(
    viewer: Viewer,
    Body(body): Body<Adjudication>,
) -> ApiResult<(StatusCode, Response)> {
    let who = viewer.account.clone();
    let source = body.source;
    let (done, blind) = viewer
        .study
        .run(&viewer.account, move |b| {
            Ok((b.adjudicate(&who, body)?, b.blindness()?))
        })
        .await?;
    let consensus = done.consensus_coder.clone();
    let blind = blind.covers(source);
    for id in &done.replaced {
        viewer.study.announce(CodingEvent {
            action: "deleted",
            source,
            coding: *id,
            coder: consensus.clone(),
            blind,
        });
    }
    for c in &done.consensus {
        viewer.study.announce(CodingEvent {
            action: "created",
            source,
            coding: c.coding.id,
            coder: c.coding.coder.clone(),
            blind,
        });
    }
    Ok((StatusCode::CREATED, to_json(done)))
}

// ---- live

async fn events(
    State(app): State<Arc<App>>,
    viewer: Viewer,
) -> Sse<impl tokio_stream::Stream<Item = Result<Event, Infallible>>> {
    let who = viewer.account.clone();
    let stream = BroadcastStream::new(viewer.study.events.subscribe()).filter_map(move |e| {
        // A lagging client misses some events; the next one makes it re-read anyway.
        e.ok()
            .filter(|e| !between_study::policy::hides_work_of(&who, &e.coder, e.blind))
            .map(|e| {
                Ok(Event::default()
                    .event("coding")
                    .json_data(e)
                    .expect("plain data serialises"))
            })
    });
    // A first event at once, so the browser knows the stream is open before anything happens.
    let hello = tokio_stream::once(Ok(Event::default().event("ready").data("{}")));
    let stream = auth::while_session_lives(app, &viewer, hello.chain(stream));
    Sse::new(stream).keep_alive(KeepAlive::default())
}
