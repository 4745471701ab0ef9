//! The web workbench: HTTP for the study operations of `between-study`. Handlers only translate
//! (HTTP ⇄ library calls); sessions, CSRF and rate limits live in `auth`, pages in `pages`.
//!
//! A study's `Workbench` sits behind a mutex and is used on the blocking thread pool, as SQLite
//! calls block; changes to codings are broadcast to the study's event stream.

mod api;
mod assets;
mod auth;
mod cases;
mod deidentify;
mod error;
mod exchange;
mod model_findings;
mod pages;
mod query;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use between_core::Account;
use between_findings::Corpus;
use between_store::OpenOptions;
use between_study::{CodingRequest, CodingView, StudyResult, Workbench};
use tokio::sync::{broadcast, mpsc, oneshot};

pub use error::ApiError;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A change other people looking at the same source should see.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CodingEvent {
    pub action: &'static str,
    pub source: between_core::SourceId,
    pub coding: between_core::CodingId,
    pub coder: String,
}

/// A coding request waiting for the next batch, with where its answer goes.
type Pending = (
    Account,
    CodingRequest,
    oneshot::Sender<Result<CodingView, ApiError>>,
);

/// Most coding requests written in one transaction.
const MAX_BATCH: usize = 512;

/// One served study.
pub struct StudyHandle {
    pub slug: String,
    bench: Mutex<Workbench>,
    events: broadcast::Sender<CodingEvent>,
    /// Started on first use, inside the server's runtime.
    batcher: OnceLock<mpsc::UnboundedSender<Pending>>,
    /// The study as last analysed, with the revision it was built at.
    corpus: Mutex<Option<(i64, Arc<Corpus>)>>,
}

impl StudyHandle {
    pub fn new(slug: &str, bench: Workbench) -> Self {
        Self {
            slug: slug.to_string(),
            bench: Mutex::new(bench),
            events: broadcast::channel(1024).0,
            batcher: OnceLock::new(),
            corpus: Mutex::new(None),
        }
    }

    /// The study as a [`Corpus`] for findings, rebuilt only when the study has changed since
    /// it was last built. Comparing everyone's codings is refused to a coder while anything is
    /// blind (the same rule as comparing coders).
    async fn corpus(self: &Arc<Self>, who: &Account) -> Result<Arc<Corpus>, ApiError> {
        let me = Arc::clone(self);
        let viewer = who.clone();
        self.run(&who.name, move |bench| {
            bench.may_compare(&viewer, &[])?;
            let revision = bench.revision()?;
            let mut cached = me.corpus.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, corpus)) = cached.as_ref()
                && *at == revision
            {
                return Ok(Arc::clone(corpus));
            }
            let corpus = Arc::new(Corpus::of(bench)?);
            *cached = Some((revision, Arc::clone(&corpus)));
            Ok(corpus)
        })
        .await
    }

    /// Creates a coding through the study's batcher: requests that arrive while a batch is
    /// being written wait and go together into the next transaction (group commit), so many
    /// coders at once cost one disk sync per batch, not one per coding. Answers only after
    /// the commit: an acknowledged coding is on disk.
    async fn create_coding(
        self: &Arc<Self>,
        who: Account,
        request: CodingRequest,
    ) -> Result<CodingView, ApiError> {
        let queue = self.batcher.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(write_batches(Arc::clone(self), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        queue
            .send((who, request, reply))
            .map_err(|_| ApiError::internal("the coding writer stopped"))?;
        answer
            .await
            .map_err(|_| ApiError::internal("the coding writer stopped"))?
    }

    /// Runs `f` on the study on the blocking pool, as `actor`.
    async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        actor: &str,
        f: impl FnOnce(&mut Workbench) -> StudyResult<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let me = Arc::clone(self);
        let actor = actor.to_string();
        tokio::task::spawn_blocking(move || {
            // A panic in another request must not lock the study for good: the store's
            // transactions roll back on unwind, so the data behind the mutex is consistent.
            let mut bench = me
                .bench
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            bench.set_actor(&actor);
            f(&mut bench)
        })
        .await
        .map_err(|e| ApiError::internal(format!("a request failed: {e}")))?
        .map_err(ApiError::from)
    }

    fn announce(&self, event: CodingEvent) {
        // No receivers is fine: nobody is watching.
        let _ = self.events.send(event);
    }
}

async fn write_batches(study: Arc<StudyHandle>, mut queue: mpsc::UnboundedReceiver<Pending>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let (requests, replies): (Vec<_>, Vec<_>) =
            batch.into_iter().map(|(a, r, tx)| ((a, r), tx)).unzip();
        match study
            .run("server", move |b| b.create_codings(requests))
            .await
        {
            Ok(results) => {
                for (result, reply) in results.into_iter().zip(replies) {
                    if let Ok(view) = &result {
                        study.announce(CodingEvent {
                            action: "created",
                            source: view.coding.source,
                            coding: view.coding.id,
                            coder: view.coding.coder.clone(),
                        });
                    }
                    let _ = reply.send(result.map_err(ApiError::from));
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

impl std::fmt::Debug for StudyHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StudyHandle")
            .field("slug", &self.slug)
            .finish_non_exhaustive()
    }
}

/// Everything the server holds.
#[derive(Debug)]
pub struct App {
    studies: HashMap<String, Arc<StudyHandle>>,
    sessions: auth::Sessions,
}

impl App {
    pub fn new(handles: Vec<StudyHandle>) -> Arc<Self> {
        Arc::new(Self {
            studies: handles
                .into_iter()
                .map(|h| (h.slug.clone(), Arc::new(h)))
                .collect(),
            sessions: auth::Sessions::default(),
        })
    }

    /// Opens study files; each is served under its file name without extension.
    pub fn open(paths: &[impl AsRef<Path>], options: &OpenOptions) -> StudyResult<Arc<Self>> {
        let mut handles = Vec::new();
        for path in paths {
            let path = path.as_ref();
            let slug = slug_of(path);
            if handles.iter().any(|h: &StudyHandle| h.slug == slug) {
                return Err(between_study::StudyError::Invalid(format!(
                    "two studies would both be served as '{slug}'; rename one file"
                )));
            }
            handles.push(StudyHandle::new(
                &slug,
                Workbench::open(path, options, "server")?,
            ));
        }
        Ok(Self::new(handles))
    }

    pub fn slugs(&self) -> Vec<&str> {
        let mut slugs: Vec<&str> = self.studies.keys().map(String::as_str).collect();
        slugs.sort();
        slugs
    }

    fn study(&self, slug: &str) -> Result<Arc<StudyHandle>, ApiError> {
        self.studies
            .get(slug)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("no study '{slug}' is served here")))
    }
}

/// `interviews-2025.between` → `interviews-2025`; characters other than letters, digits, `-`
/// and `_` become `-`, so the slug is safe in a URL.
pub fn slug_of(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map_or_else(|| "study".to_string(), |s| s.to_string_lossy().into_owned());
    stem.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The whole HTTP surface.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .merge(pages::routes())
        .nest("/api/v1/studies/{slug}", api::routes())
        .nest("/api/v1/studies/{slug}/deidentify", deidentify::routes())
        .nest("/api/v1/studies/{slug}/exchange", exchange::routes())
        .nest("/api/v1/studies/{slug}/query", query::api_routes())
        .merge(query::page_routes())
        .merge(cases::api_routes())
        .merge(cases::page_routes())
        .merge(model_findings::api_routes())
        .merge(model_findings::page_routes())
        .merge(assets::routes())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn(server_timing))
        .with_state(app)
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    // A response that set its own policy (the self-contained report) keeps it.
    let set = |h: &mut axum::http::HeaderMap, name, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; media-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on our own
    // form posts, and the login form's origin check could not tell them from another site's.
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    response
}

/// `Server-Timing: app;dur=MS`: how long the server worked on a request (body included, as
/// responses are built whole), for the browser's developer tools and the benchmark.
async fn server_timing(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let mut response = next.run(request).await;
    let value = format!("app;dur={:.3}", started.elapsed().as_secs_f64() * 1000.0);
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().insert("server-timing", v);
    }
    response
}

/// Threads for blocking study work. A study's work is serialised by its mutex anyway; more
/// threads would only each keep a memory arena.
pub const BLOCKING_THREADS: usize = 1;

/// Threads for the server's asynchronous work (HTTP, JSON, sessions), which is light beside
/// the study's: one keeps up with 16 coders' browsers, and every thread keeps its own
/// allocator pages (bench/README.md, server memory).
pub const WORKER_THREADS: usize = 1;

/// Serves until the process is stopped (Ctrl-C).
pub async fn serve(listener: tokio::net::TcpListener, app: Arc<App>) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Runs `finding` over the viewer's corpus (see `StudyHandle::corpus`) on the blocking pool.
async fn over_corpus<T: Send + 'static>(
    viewer: &auth::Viewer,
    finding: impl FnOnce(&Corpus) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let corpus = viewer.study.corpus(&viewer.account).await?;
    tokio::task::spawn_blocking(move || finding(&corpus))
        .await
        .map_err(|e| ApiError::internal(format!("a finding failed: {e}")))?
}

#[cfg(test)]
mod tests;
