//! Sessions (random tokens in an HttpOnly, SameSite=Strict cookie), CSRF tokens for every
//! state-changing request, a per-name and per-address login rate limit, and the [`Viewer`]
//! extractor that every protected route takes — so no route can forget to check.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use between_core::Account;

use crate::{ApiError, App, StudyHandle};

pub const COOKIE: &str = "between_session";
/// How long a session lasts without being used.
const IDLE: Duration = Duration::from_secs(8 * 3600);
/// Failed logins allowed per name and per address within [`WINDOW`].
const MAX_FAILURES: usize = 5;
const WINDOW: Duration = Duration::from_secs(300);

#[derive(Clone, Debug)]
pub struct Session {
    pub slug: String,
    pub account: Account,
    pub csrf: String,
    last_used: Instant,
}

#[derive(Debug, Default)]
pub struct Sessions {
    by_token: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
    checker: PasswordChecker,
}

type Check = (String, String, tokio::sync::oneshot::Sender<bool>);

/// Checks passwords one at a time on a thread of its own. An argon2 check needs about 19 MiB,
/// freed after it: one at a time, a burst of logins never needs more, and cannot starve the
/// study's work.
#[derive(Debug)]
struct PasswordChecker {
    queue: Mutex<std::sync::mpsc::Sender<Check>>,
}

impl Default for PasswordChecker {
    fn default() -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<Check>();
        std::thread::Builder::new()
            .name("password-checks".into())
            .spawn(move || {
                let mut checker = between_study::PasswordChecker;
                for (password, hash, reply) in rx {
                    let _ = reply.send(checker.verify(&password, &hash));
                }
            })
            .expect("a thread can be started");
        Self {
            queue: Mutex::new(tx),
        }
    }
}

impl PasswordChecker {
    async fn verify(&self, password: String, hash: String) -> bool {
        let (reply, answer) = tokio::sync::oneshot::channel();
        if lock(&self.queue).send((password, hash, reply)).is_err() {
            return false;
        }
        answer.await.unwrap_or(false)
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Sessions {
    /// Starts a session; returns the cookie token and the CSRF token.
    pub fn start(&self, slug: &str, account: Account) -> (String, String) {
        let token = random_token();
        let csrf = random_token();
        let session = Session {
            slug: slug.to_string(),
            account,
            csrf: csrf.clone(),
            last_used: Instant::now(),
        };
        let mut all = lock(&self.by_token);
        all.retain(|_, s| s.last_used.elapsed() < IDLE);
        all.insert(token.clone(), session);
        (token, csrf)
    }

    /// A live session of `slug`.
    pub fn of(&self, token: &str, slug: &str) -> Option<Session> {
        self.get(token).filter(|s| s.slug == slug)
    }

    pub fn end(&self, token: &str) {
        lock(&self.by_token).remove(token);
    }

    fn get(&self, token: &str) -> Option<Session> {
        let mut all = lock(&self.by_token);
        let session = all.get_mut(token)?;
        if session.last_used.elapsed() >= IDLE {
            all.remove(token);
            return None;
        }
        session.last_used = Instant::now();
        Some(session.clone())
    }

    /// Whether another attempt is allowed for these keys (a name, an address).
    pub fn may_try(&self, keys: &[String]) -> bool {
        let mut failures = lock(&self.failures);
        keys.iter().all(|k| {
            let times = failures.entry(k.clone()).or_default();
            times.retain(|t| t.elapsed() < WINDOW);
            times.len() < MAX_FAILURES
        })
    }

    pub fn failed(&self, keys: &[String]) {
        let mut failures = lock(&self.failures);
        for k in keys {
            failures.entry(k.clone()).or_default().push(Instant::now());
        }
    }

    pub fn succeeded(&self, keys: &[String]) {
        let mut failures = lock(&self.failures);
        for k in keys {
            failures.remove(k);
        }
    }
}

pub fn token_from(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

pub fn set_cookie(token: &str) -> String {
    format!(
        "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        IDLE.as_secs()
    )
}

pub fn clear_cookie() -> String {
    format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

/// The study slug of a `/s/{slug}/…` or `/api/v1/studies/{slug}/…` path.
fn slug_of_path(path: &str) -> Option<&str> {
    let rest = path
        .strip_prefix("/api/v1/studies/")
        .or_else(|| path.strip_prefix("/s/"))?;
    rest.split('/').next().filter(|s| !s.is_empty())
}

/// The client's address, when the server knows it (not in in-process tests).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

/// A logged-in person, on the study their session belongs to. Taking it checks the session;
/// for `POST`, `PATCH`, `PUT` and `DELETE` it also checks the CSRF token.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub study: Arc<StudyHandle>,
    pub account: Account,
    pub csrf: String,
    pub token: String,
}

impl FromRequestParts<Arc<App>> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        // Nested routers see the path without their prefix; the original has the slug.
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path().to_string(), |o| o.path().to_string());
        let slug =
            slug_of_path(&path).ok_or_else(|| ApiError::not_found("no study in this address"))?;
        let study = app.study(slug)?;
        let token =
            token_from(&parts.headers).ok_or_else(|| ApiError::unauthenticated("log in first"))?;
        let session = app
            .sessions
            .get(&token)
            .ok_or_else(|| ApiError::unauthenticated("your session has ended; log in again"))?;
        if session.slug != study.slug {
            return Err(ApiError::forbidden("your session is for another study"));
        }
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            if sent != Some(session.csrf.as_str()) {
                return Err(ApiError::forbidden(
                    "missing or wrong CSRF token (X-CSRF-Token); reload the page",
                ));
            }
        }
        Ok(Viewer {
            study,
            account: session.account,
            csrf: session.csrf,
            token,
        })
    }
}

impl Viewer {
    pub fn must_own(&self) -> Result<(), ApiError> {
        if self.account.role == between_core::AccountRole::Owner {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "only an owner may do this; {} is a {}",
                self.account.name, self.account.role
            )))
        }
    }
}

/// The login check, rate-limited per name and per address. `Ok(None)` is a wrong name or
/// password (one message for both).
pub async fn login(
    app: &Arc<App>,
    study: &Arc<StudyHandle>,
    addr: ClientAddr,
    name: &str,
    password: &str,
) -> Result<(Account, String, String), ApiError> {
    let mut keys = vec![format!("{}/{}", study.slug, name.trim().to_lowercase())];
    if let Some(a) = addr.0 {
        keys.push(a.ip().to_string());
    }
    if !app.sessions.may_try(&keys) {
        return Err(ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many failed logins; wait a few minutes and try again",
        ));
    }
    let n = name.to_string();
    let record = study
        .run("login", move |bench| bench.login_record(&n))
        .await?;
    // An unknown name is checked against a dummy hash, so it takes as long as a wrong password.
    let (account, hash) = match record {
        Some((account, hash)) => (Some(account), hash),
        None => (None, between_study::dummy_hash().to_string()),
    };
    let matches = app
        .sessions
        .checker
        .verify(password.to_string(), hash)
        .await;
    let account = account.filter(|_| matches);
    match account {
        Some(account) => {
            app.sessions.succeeded(&keys);
            let (token, csrf) = app.sessions.start(&study.slug, account.clone());
            Ok((account, token, csrf))
        }
        None => {
            app.sessions.failed(&keys);
            Err(ApiError::unauthenticated("wrong name or password"))
        }
    }
}
