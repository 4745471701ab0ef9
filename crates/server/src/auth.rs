//! Sessions (random tokens in an HttpOnly, SameSite=Strict cookie, checked against the stored
//! account on every use), CSRF tokens for every state-changing request, the login rate limit
//! ([`LoginLimiter`]), and the [`Viewer`] extractor that every protected route takes — so no
//! route can forget to check.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use between_core::Account;

use crate::{ApiError, App, StudyHandle};

/// The session cookie's name; behind a TLS proxy it is [`SECURE_COOKIE`].
pub const COOKIE: &str = "between_session";
/// The session cookie's name when the server is reached over HTTPS (`between serve
/// --tls-proxy`): the `__Host-` prefix makes browsers accept it only with `Secure`, `Path=/`
/// and no `Domain`, so no other host or plain-HTTP page can set or overwrite it.
pub const SECURE_COOKIE: &str = "__Host-between_session";
/// How long a session lasts without being used.
const IDLE: Duration = Duration::from_secs(8 * 3600);
/// How often a live event stream checks its session against the stored account (a change
/// made in this server ends the stream at once; one made by another process, within this).
pub const SESSION_RECHECK: Duration = Duration::from_secs(15);

#[derive(Clone, Debug)]
pub struct Session {
    pub slug: String,
    pub account: Account,
    pub csrf: String,
    last_used: Instant,
}

#[derive(Debug)]
pub struct Sessions {
    by_token: Mutex<HashMap<String, Session>>,
    /// Counts the sessions ended in this process, so event streams can look at theirs.
    ended: tokio::sync::watch::Sender<u64>,
    limiter: LoginLimiter,
    checker: PasswordChecker,
}

impl Default for Sessions {
    fn default() -> Self {
        Self {
            by_token: Mutex::default(),
            ended: tokio::sync::watch::Sender::new(0),
            limiter: LoginLimiter::default(),
            checker: PasswordChecker::default(),
        }
    }
}

/// The login rate limit. Every attempt takes a slot under one lock *before* its password is
/// checked, so parallel guesses cannot slip past; a wrong password keeps its slot for
/// [`WINDOW`], a right one gives it back. The slots are counted
///
/// - per name and client address: [`PAIR_ATTEMPTS`] in [`WINDOW`]. This stops guessing one
///   account from one place, and never touches another name or another address;
/// - per name, from any address: [`NAME_ATTEMPTS`] in [`WINDOW`]. This bounds guessing one
///   account from many addresses. Someone can make that account's own person wait, never
///   another account's;
/// - never by address alone: behind a reverse proxy every user shares one address, and one
///   person's failures must not deny another account's right password.
///
/// The address is the connection's, or behind `--tls-proxy` the one the proxy forwarded
/// ([`ClientAddr`]).
///
/// A right password also clears the failures of its name at its address. Names longer than
/// [`between_study::MAX_ACCOUNT_NAME_CHARS`] are refused before anything is counted; counts
/// expire after [`WINDOW`], and at most [`MAX_TRACKED`] names and pairs are kept (the
/// longest idle dropped first), so unique names cannot grow the server's memory.
#[derive(Debug, Default)]
struct LoginLimiter {
    attempts: Mutex<HashMap<String, Vec<Instant>>>,
}

/// Login attempts allowed per name and client address within [`WINDOW`].
pub const PAIR_ATTEMPTS: usize = 5;
/// Login attempts allowed per name, from all addresses together, within [`WINDOW`].
pub const NAME_ATTEMPTS: usize = 20;
/// How long a failed login counts.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Most names and (name, address) pairs the limiter remembers (a few MiB at most).
pub const MAX_TRACKED: usize = 10_000;

/// The slots one attempt took, given back if its password is right.
struct Reservation {
    name: String,
    pair: String,
    at: Instant,
}

impl LoginLimiter {
    /// Takes a slot for an attempt at `name` (already lower-cased, with its study) from
    /// `address`, or `None` when one of its limits is reached.
    fn reserve(&self, name: String, address: &str) -> Option<Reservation> {
        let pair = format!("{name}\n{address}");
        let now = Instant::now();
        let mut attempts = lock(&self.attempts);
        let mut room = |key: &str, limit: usize| {
            attempts.get_mut(key).is_none_or(|times| {
                times.retain(|t| now.duration_since(*t) < WINDOW);
                times.len() < limit
            })
        };
        if !(room(&pair, PAIR_ATTEMPTS) && room(&name, NAME_ATTEMPTS)) {
            return None;
        }
        for key in [&name, &pair] {
            attempts.entry(key.clone()).or_default().push(now);
        }
        if attempts.len() > MAX_TRACKED {
            forget_stalest(&mut attempts, now);
        }
        Some(Reservation {
            name,
            pair,
            at: now,
        })
    }

    fn succeeded(&self, reservation: Reservation) {
        let mut attempts = lock(&self.attempts);
        attempts.remove(&reservation.pair);
        if let Some(times) = attempts.get_mut(&reservation.name)
            && let Some(i) = times.iter().position(|t| *t == reservation.at)
        {
            times.swap_remove(i);
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        lock(&self.attempts).len()
    }
}

/// Drops expired counts, then the longest idle keys until a tenth of [`MAX_TRACKED`] is free
/// (so this runs once per many new keys, not on each).
fn forget_stalest(attempts: &mut HashMap<String, Vec<Instant>>, now: Instant) {
    attempts.retain(|_, times| {
        times.retain(|t| now.duration_since(*t) < WINDOW);
        !times.is_empty()
    });
    let keep = MAX_TRACKED - MAX_TRACKED / 10;
    if attempts.len() <= keep {
        return;
    }
    let mut last_used: Vec<Instant> = attempts
        .values()
        .filter_map(|times| times.iter().max().copied())
        .collect();
    let drop = attempts.len() - keep;
    let (_, cutoff, _) = last_used.select_nth_unstable(drop - 1);
    let cutoff = *cutoff;
    attempts.retain(|_, times| times.iter().max().is_some_and(|t| *t > cutoff));
}

type Check = (String, String, tokio::sync::oneshot::Sender<bool>);

/// Checks passwords one at a time on a thread of its own. An argon2 check needs about 19 MiB,
/// freed after it: one at a time, a burst of logins never needs more, and cannot starve the
/// study's work.
#[derive(Debug)]
struct PasswordChecker {
    queue: Mutex<std::sync::mpsc::Sender<Check>>,
    /// Passwords checked so far (the rate limit's tests count them).
    checked: std::sync::atomic::AtomicUsize,
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
            checked: Default::default(),
        }
    }
}

impl PasswordChecker {
    async fn verify(&self, password: String, hash: String) -> bool {
        self.checked
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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

    pub fn end(&self, token: &str) {
        if lock(&self.by_token).remove(token).is_some() {
            self.ended.send_modify(|n| *n += 1);
        }
    }

    /// Passwords checked so far.
    #[cfg(test)]
    pub(crate) fn passwords_checked(&self) -> usize {
        self.checker
            .checked
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Names and (name, address) pairs the login rate limit remembers.
    #[cfg(test)]
    pub(crate) fn login_keys_tracked(&self) -> usize {
        self.limiter.tracked()
    }

    /// The session behind `token` if it has not expired; `touch` counts this as a use.
    fn get(&self, token: &str, touch: bool) -> Option<Session> {
        let mut all = lock(&self.by_token);
        let session = all.get_mut(token)?;
        if session.last_used.elapsed() >= IDLE {
            all.remove(token);
            drop(all);
            self.ended.send_modify(|n| *n += 1);
            return None;
        }
        if touch {
            session.last_used = Instant::now();
        }
        Some(session.clone())
    }
}

/// The live session behind `token` on `study`, checked against the account as stored now:
/// removing the account or changing its password or role (each moves its version) ends the
/// session, also when another process (the command line) made the change. `touch` counts
/// this as a use of the session.
async fn current_session(
    app: &App,
    study: &Arc<StudyHandle>,
    token: &str,
    touch: bool,
) -> Result<Session, ApiError> {
    let session = app
        .sessions
        .get(token, touch)
        .ok_or_else(|| ApiError::unauthenticated("your session has ended; log in again"))?;
    if session.slug != study.slug {
        return Err(ApiError::forbidden("your session is for another study"));
    }
    let id = session.account.id;
    let stored = study
        .read(&session.account, move |bench| bench.account(id))
        .await?;
    if stored.is_none_or(|a| a.version != session.account.version) {
        app.sessions.end(token);
        return Err(ApiError::unauthenticated(
            "your account was changed or removed; log in again",
        ));
    }
    Ok(session)
}

/// `stream` until the viewer's session ends (logout, expiry, a change to the account): it is
/// looked at before each item, whenever a session of this server ends, and every
/// [`SESSION_RECHECK`] against the stored account.
pub fn while_session_lives<T, S>(
    app: Arc<App>,
    viewer: &Viewer,
    stream: S,
) -> impl tokio_stream::Stream<Item = T> + Send + use<T, S>
where
    T: Send + 'static,
    S: tokio_stream::Stream<Item = T> + Send + 'static,
{
    use tokio_stream::StreamExt;
    use tokio_stream::wrappers::{IntervalStream, WatchStream};
    enum Wake<T> {
        Item(T),
        SessionEnded,
        Recheck,
    }
    let ended =
        WatchStream::from_changes(app.sessions.ended.subscribe()).map(|_| Wake::SessionEnded);
    let mut every = tokio::time::interval_at(
        tokio::time::Instant::now() + SESSION_RECHECK,
        SESSION_RECHECK,
    );
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let recheck = IntervalStream::new(every).map(|_| Wake::Recheck);
    let study = Arc::clone(&viewer.study);
    let token = viewer.token.clone();
    stream
        .map(Wake::Item)
        .merge(ended)
        .merge(recheck)
        .then(move |wake| {
            let (app, study, token) = (Arc::clone(&app), Arc::clone(&study), token.clone());
            async move {
                let alive = match wake {
                    Wake::Recheck => current_session(&app, &study, &token, false).await.is_ok(),
                    _ => app.sessions.get(&token, false).is_some(),
                };
                (alive, wake)
            }
        })
        .take_while(|(alive, _)| *alive)
        .filter_map(|(_, wake)| match wake {
            Wake::Item(item) => Some(item),
            Wake::SessionEnded | Wake::Recheck => None,
        })
}

impl App {
    fn cookie_name(&self) -> &'static str {
        if self.tls_proxy {
            SECURE_COOKIE
        } else {
            COOKIE
        }
    }

    pub fn token_from(&self, headers: &HeaderMap) -> Option<String> {
        let name = self.cookie_name();
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, value)| value.to_string())
    }

    /// The cookie that holds a session; `Secure` when browsers reach the server over HTTPS.
    pub fn set_cookie(&self, token: &str) -> String {
        self.cookie(token, IDLE)
    }

    pub fn clear_cookie(&self) -> String {
        self.cookie("", Duration::ZERO)
    }

    fn cookie(&self, token: &str, lasts: Duration) -> String {
        let secure = if self.tls_proxy { "; Secure" } else { "" };
        format!(
            "{}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
            self.cookie_name(),
            lasts.as_secs()
        )
    }
}

/// The study slug of a `/s/{slug}/…` or `/api/v1/studies/{slug}/…` path.
fn slug_of_path(path: &str) -> Option<&str> {
    let rest = path
        .strip_prefix("/api/v1/studies/")
        .or_else(|| path.strip_prefix("/s/"))?;
    rest.split('/').next().filter(|s| !s.is_empty())
}

/// The client's address, when the server knows it (not in in-process tests). Behind a TLS
/// proxy (`--tls-proxy`) every connection comes from the proxy, so the address is the last
/// one in `X-Forwarded-For`: the one the proxy itself appended.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<Arc<App>> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        if !app.tls_proxy {
            return Ok(Self(peer));
        }
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|last| last.trim().parse().ok());
        Ok(Self(forwarded.or(peer)))
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
        let writes = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        let sent_csrf = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok());
        Viewer::of(app, study, &parts.headers, writes.then_some(sent_csrf)).await
    }
}

impl Viewer {
    /// The viewer behind a request's session cookie. `csrf` is `None` for a read, which needs
    /// no token, and `Some(sent)` for a write, with the token it sent if any.
    pub async fn of(
        app: &App,
        study: Arc<StudyHandle>,
        headers: &HeaderMap,
        csrf: Option<Option<&str>>,
    ) -> Result<Self, ApiError> {
        let token = app
            .token_from(headers)
            .ok_or_else(|| ApiError::unauthenticated("log in first"))?;
        let session = current_session(app, &study, &token, true).await?;
        if let Some(sent) = csrf
            && sent != Some(session.csrf.as_str())
        {
            return Err(ApiError::forbidden(
                "missing or wrong CSRF token (X-CSRF-Token); reload the page",
            ));
        }
        Ok(Viewer {
            study,
            account: session.account,
            csrf: session.csrf,
            token,
        })
    }
}

/// The login check, rate-limited (see [`LoginLimiter`]). A wrong name and a wrong password
/// get one message.
pub async fn login(
    app: &Arc<App>,
    study: &Arc<StudyHandle>,
    addr: ClientAddr,
    name: &str,
    password: &str,
) -> Result<(Account, String, String), ApiError> {
    let name = name.trim();
    let longest = between_study::MAX_ACCOUNT_NAME_CHARS;
    if name.chars().count() > longest {
        return Err(ApiError::bad_request(format!(
            "an account name has at most {longest} characters"
        )));
    }
    let address = addr.0.map_or_else(|| "-".to_string(), |ip| ip.to_string());
    let reservation = app
        .sessions
        .limiter
        .reserve(format!("{}\n{}", study.slug, name.to_lowercase()), &address)
        .ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "too many failed logins; wait a few minutes and try again",
            )
        })?;
    let n = name.to_string();
    let record = study
        .read(&between_study::policy::bystander("login"), move |bench| {
            bench.login_record(&n)
        })
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
    match account.filter(|_| matches) {
        Some(account) => {
            app.sessions.limiter.succeeded(reservation);
            let (token, csrf) = app.sessions.start(&study.slug, account.clone());
            Ok((account, token, csrf))
        }
        // The attempt keeps its slot: that is the failure counted.
        None => Err(ApiError::unauthenticated("wrong name or password")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_names_failures_leave_another_name_at_the_same_address_alone() {
        let limiter = LoginLimiter::default();
        for _ in 0..PAIR_ATTEMPTS {
            assert!(limiter.reserve("s\nmaria".into(), "10.0.0.1").is_some());
        }
        assert!(limiter.reserve("s\nmaria".into(), "10.0.0.1").is_none());
        let sam = limiter.reserve("s\nsam".into(), "10.0.0.1");
        assert!(sam.is_some(), "another name at the same address may try");
        assert!(
            limiter.reserve("s\nmaria".into(), "10.0.0.2").is_some(),
            "the same name elsewhere may try until its own limit"
        );
    }

    #[test]
    fn a_name_is_limited_across_addresses_and_a_success_gives_its_slot_back() {
        let limiter = LoginLimiter::default();
        for i in 0..NAME_ATTEMPTS - 1 {
            assert!(
                limiter
                    .reserve("s\nada".into(), &format!("10.0.0.{i}"))
                    .is_some()
            );
        }
        let right = limiter.reserve("s\nada".into(), "10.9.9.9").unwrap();
        limiter.succeeded(right);
        assert!(limiter.reserve("s\nada".into(), "10.9.9.9").is_some());
        assert!(
            limiter.reserve("s\nada".into(), "10.9.9.8").is_none(),
            "{NAME_ATTEMPTS} failures from anywhere"
        );
    }

    #[test]
    fn unique_names_do_not_grow_the_limiter_past_its_bound() {
        let limiter = LoginLimiter::default();
        for i in 0..3 * MAX_TRACKED {
            limiter.reserve(format!("s\nname {i}"), "10.0.0.1");
            assert!(limiter.tracked() <= MAX_TRACKED);
        }
        assert!(
            limiter
                .reserve(format!("s\nname {}", 3 * MAX_TRACKED - 1), "10.0.0.1")
                .is_some(),
            "the newest names are the ones kept"
        );
    }
}
