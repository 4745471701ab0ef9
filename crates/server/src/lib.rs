//! The web workbench: HTTP for the study operations of `between-study`. Handlers only translate
//! (HTTP ⇄ library calls); sessions, CSRF and rate limits live in `auth`, pages in `pages`.
//!
//! A study has two `Workbench`es on connections of their own, one for writes and one for reads,
//! each behind an async mutex and used on the blocking thread pool, as SQLite calls block: a
//! write waiting for another process's lock holds up neither reads nor a thread waiting for the
//! mutex. Changes to codings are broadcast to the study's event stream.

mod api;
mod assets;
mod attribution;
mod auth;
mod cases;
mod deidentify;
mod error;
mod exchange;
mod model_findings;
mod pages;
mod paging;
mod query;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Request, header};
use axum::response::Response;
use between_core::Account;
use between_findings::Corpus;
use between_store::OpenOptions;
use between_study::{CodingRequest, CodingView, StudyResult, Workbench, policy};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::sync::{Mutex as AsyncMutex, broadcast, mpsc, oneshot};

pub use error::ApiError;
pub use paging::{DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A change other people looking at the same source should see.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CodingEvent {
    pub action: &'static str,
    pub source: between_core::SourceId,
    pub coding: between_core::CodingId,
    pub coder: String,
    /// Whether blind coding was on for the source when it happened: then a coder other than
    /// `coder` does not hear of it (`between_study::policy::hides_work_of`).
    #[serde(skip)]
    pub blind: bool,
}

impl CodingEvent {
    /// `action` done to `coding`, blind or not as `blind` says for its source.
    fn of(action: &'static str, coding: &between_core::Coding, blind: &policy::Blindness) -> Self {
        Self {
            action,
            source: coding.source,
            coding: coding.id,
            coder: coding.coder.clone(),
            blind: blind.covers(coding.source),
        }
    }
}

/// A passage attributed, or an attribution removed: others looking at the source redraw it.
/// Attributions are not hidden by blind coding, so everyone reading the study hears of them.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AttributionEvent {
    pub action: &'static str,
    pub source: between_core::SourceId,
    pub attribution: between_core::AttributionId,
    pub by: String,
}

/// What the study's event stream carries, each under its own SSE event name.
#[derive(Clone, Debug)]
pub enum LiveEvent {
    Coding(CodingEvent),
    Attribution(AttributionEvent),
}

impl From<CodingEvent> for LiveEvent {
    fn from(e: CodingEvent) -> Self {
        Self::Coding(e)
    }
}

impl From<AttributionEvent> for LiveEvent {
    fn from(e: AttributionEvent) -> Self {
        Self::Attribution(e)
    }
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
    /// Changes, one at a time.
    writer: Arc<AsyncMutex<Workbench>>,
    /// Reads, on a second connection, so they never wait behind a change (`None`: the store
    /// has no second connection, and reads share the writer's).
    reader: Option<Arc<AsyncMutex<Workbench>>>,
    events: broadcast::Sender<LiveEvent>,
    /// Started on first use, inside the server's runtime.
    batcher: OnceLock<mpsc::UnboundedSender<Pending>>,
    /// The study as last analysed, with the revision it was built at.
    corpus: Mutex<Option<(i64, Arc<Corpus>)>>,
}

impl StudyHandle {
    pub fn new(slug: &str, mut bench: Workbench) -> Self {
        // Between requests the study acts as nobody who may change it; each request acts as
        // its account (`run`, `read`).
        bench.act_as(policy::bystander("server"));
        let reader = match bench.reopen() {
            Ok(reader) => Some(Arc::new(AsyncMutex::new(reader))),
            Err(e) => {
                eprintln!("{slug}: reads share the writer's connection: {e}");
                None
            }
        };
        Self {
            slug: slug.to_string(),
            writer: Arc::new(AsyncMutex::new(bench)),
            reader,
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
        self.read(who, move |bench| {
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

    /// Runs `f`, which may change the study, on the blocking pool, acting as `actor` (whom the
    /// study's policy asks about every guarded call). Waits for the writer without holding a
    /// thread.
    async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        actor: &Account,
        f: impl FnOnce(&mut Workbench) -> StudyResult<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        // A panic in a request unlocks the mutex (tokio's do not poison), and the store's
        // transactions roll back on unwind, so the data behind it stays consistent.
        let mut bench = Arc::clone(&self.writer).lock_owned().await;
        let actor = actor.clone();
        tokio::task::spawn_blocking(move || {
            bench.act_as(actor);
            f(&mut bench)
        })
        .await
        .map_err(|e| ApiError::internal(format!("a request failed: {e}")))?
        .map_err(ApiError::from)
    }

    /// Runs `f`, which only reads, on the reading connection, in one snapshot of the study:
    /// everything it reads is of the same moment, whatever other processes commit meanwhile.
    async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        actor: &Account,
        f: impl FnOnce(&Workbench) -> StudyResult<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let connection = self.reader.as_ref().unwrap_or(&self.writer);
        let mut bench = Arc::clone(connection).lock_owned().await;
        let actor = actor.clone();
        tokio::task::spawn_blocking(move || {
            bench.act_as(actor);
            let _snapshot = bench.store().snapshot()?;
            f(&bench)
        })
        .await
        .map_err(|e| ApiError::internal(format!("a request failed: {e}")))?
        .map_err(ApiError::from)
    }

    fn announce(&self, event: impl Into<LiveEvent>) {
        // No receivers is fine: nobody is watching.
        let _ = self.events.send(event.into());
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
            .run(&policy::bystander("server"), move |b| {
                Ok((b.create_codings(requests)?, b.blindness()?))
            })
            .await
        {
            Ok((results, blind)) => {
                for (result, reply) in results.into_iter().zip(replies) {
                    if let Ok(view) = &result {
                        study.announce(CodingEvent::of("created", &view.coding, &blind));
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
    /// Browsers reach the server over HTTPS, through a proxy that ends TLS: the session
    /// cookie is `Secure` (see [`auth::SECURE_COOKIE`]).
    tls_proxy: bool,
}

impl App {
    pub fn new(handles: Vec<StudyHandle>) -> Arc<Self> {
        Self::with_tls_proxy(handles, false)
    }

    /// `tls_proxy`: browsers reach the server over HTTPS through a proxy that ends TLS.
    pub fn with_tls_proxy(handles: Vec<StudyHandle>, tls_proxy: bool) -> Arc<Self> {
        Arc::new(Self {
            studies: handles
                .into_iter()
                .map(|h| (h.slug.clone(), Arc::new(h)))
                .collect(),
            sessions: auth::Sessions::default(),
            tls_proxy,
        })
    }

    /// Opens study files; each is served under its file name without extension. A study that
    /// cannot be written is refused: a server whose every change would fail is no use.
    pub fn open(
        paths: &[impl AsRef<Path>],
        options: &OpenOptions,
        tls_proxy: bool,
    ) -> StudyResult<Arc<Self>> {
        let mut handles = Vec::new();
        for path in paths {
            let path = path.as_ref();
            let slug = slug_of(path);
            if handles.iter().any(|h: &StudyHandle| h.slug == slug) {
                return Err(between_study::StudyError::Invalid(format!(
                    "two studies would both be served as '{slug}'; rename one file"
                )));
            }
            let bench = Workbench::open(path, options, "server")?;
            if let Some(reason) = bench.store().read_only() {
                return Err(between_store::StoreError::ReadOnly {
                    path: path.to_path_buf(),
                    reason: format!("{reason}; the server needs to write it"),
                }
                .into());
            }
            handles.push(StudyHandle::new(&slug, bench));
        }
        Ok(Self::with_tls_proxy(handles, tls_proxy))
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
        .nest("/api/v1/studies/{slug}", attribution::routes())
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

/// Threads for blocking study work: one for a change (which may wait for another process's
/// write lock) and one for reads beside it. A study's changes and its reads are each
/// serialised by a mutex anyway; more threads would only each keep a memory arena.
pub const BLOCKING_THREADS: usize = 2;

/// How long a client may take to send a request's headers, counted from when the server
/// starts waiting for them: on a new connection, and between requests on a kept-alive one, so
/// it is also how long an idle connection stays open. A response being sent (an event
/// stream) is not waiting for headers and is never cut by it.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(15);
/// Most connections open at once (a browser opens up to six, plus its event stream). One
/// more is closed at once, unanswered, until another ends.
pub const MAX_CONNECTIONS: usize = 256;
/// How long stopping waits for requests in flight (event streams never end by themselves).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The server's limits on connections; [`Default`] is [`HEADER_TIMEOUT`] and
/// [`MAX_CONNECTIONS`] (tests choose smaller ones).
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: HEADER_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

/// Threads for the server's asynchronous work (HTTP, JSON, sessions), which is light beside
/// the study's: one keeps up with 16 coders' browsers, and every thread keeps its own
/// allocator pages (bench/README.md, server memory).
pub const WORKER_THREADS: usize = 1;

/// Serves until the process is stopped (Ctrl-C).
pub async fn serve(listener: tokio::net::TcpListener, app: Arc<App>) -> std::io::Result<()> {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    serve_with(listener, app, ConnectionLimits::default(), ctrl_c).await;
    Ok(())
}

/// Serves HTTP/1.1 with `limits` until `shutdown` completes, then waits up to
/// [`SHUTDOWN_GRACE`] for the requests in flight.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let router = router(app);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(e) => {
                    wait_after_failed_accept(&e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Over the cap the connection is dropped (closed) before anything is read.
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            continue;
        };
        // Small responses go out at once, not held back for more (Nagle).
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            tower::ServiceExt::oneshot(router.clone(), request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that goes away or times out is no error of the server's.
            let _ = connection.await;
            drop(slot);
        });
    }
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {}
    }
}

/// After a failed accept: at once if only that connection failed; after a second if the
/// process is out of file descriptors (or the like), which other connections will free.
async fn wait_after_failed_accept(e: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        eprintln!("accepting a connection failed: {e}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
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
