//! Lists a page at a time. Every list endpoint takes `?offset=N&limit=M` (rows skipped, rows
//! wanted: [`DEFAULT_PAGE_ROWS`] unless asked, never more than [`MAX_PAGE_ROWS`]). A list
//! answered as a JSON array says how many rows there are in all in `X-Total-Count` and, when
//! more follow, where the next page is in `Link: <URL>; rel="next"`; a result that is an object
//! says so in its fields `total`, `offset` and `more`.

use std::ops::Range;

use axum::Json;
use axum::extract::{FromRequestParts, OriginalUri, Query};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::ApiError;

/// Rows a list answers with when the request does not say.
pub const DEFAULT_PAGE_ROWS: usize = 500;
/// Most rows one answer holds, whatever the request says.
pub const MAX_PAGE_ROWS: usize = 1_000;

/// The total a paged list sends in this header.
pub const TOTAL_HEADER: &str = "x-total-count";

#[derive(Deserialize)]
struct PageQuery {
    offset: Option<usize>,
    limit: Option<usize>,
}

/// Which rows of a list the request wants, and where it was asked (for the next page's link).
#[derive(Clone, Debug)]
pub struct Page {
    pub offset: usize,
    pub limit: usize,
    path_and_query: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Page {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(q) = Query::<PageQuery>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        // Nested routers see their own part of the path; the link needs the whole of it.
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map_or(&parts.uri, |o| &o.0);
        Ok(Page {
            offset: q.offset.unwrap_or(0),
            limit: q.limit.unwrap_or(DEFAULT_PAGE_ROWS).min(MAX_PAGE_ROWS),
            path_and_query: uri
                .path_and_query()
                .map_or_else(|| uri.path().to_string(), ToString::to_string),
        })
    }
}

impl Page {
    /// The positions of the rows this page holds.
    pub fn rows(&self) -> Range<usize> {
        self.offset..self.offset.saturating_add(self.limit)
    }

    /// Whether rows follow this page in a list of `total`.
    pub fn more(&self, total: usize) -> bool {
        self.rows().end < total
    }

    /// This page of `rows` (the whole list) as a JSON array, with the total and the next page.
    pub fn of<T: serde::Serialize + Send + 'static>(&self, rows: Vec<T>) -> Response {
        let total = rows.len();
        let page: Vec<T> = rows
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect();
        self.answer(page, total)
    }

    /// `page` (the rows at this page's positions of a list of `total`) as a JSON array, with the
    /// total and the next page.
    pub fn answer<T: serde::Serialize + Send + 'static>(
        &self,
        page: Vec<T>,
        total: usize,
    ) -> Response {
        let mut response = json_array(page);
        let headers = response.headers_mut();
        headers.insert(TOTAL_HEADER, HeaderValue::from(total));
        if self.more(total)
            && let Ok(link) = HeaderValue::from_str(&format!("<{}>; rel=\"next\"", self.next()))
        {
            headers.insert(header::LINK, link);
        }
        response
    }

    /// A result object with the page's place in it: `offset`, and `more` when rows follow
    /// (the object says its `total` itself).
    pub fn place(&self, mut result: serde_json::Value, total: usize) -> Response {
        result["offset"] = self.offset.into();
        result["more"] = self.more(total).into();
        Json(result).into_response()
    }

    /// The request's own address, at the next page.
    fn next(&self) -> String {
        let (path, query) = self
            .path_and_query
            .split_once('?')
            .unwrap_or((&self.path_and_query, ""));
        let mut pairs: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("offset=") && !p.starts_with("limit="))
            .collect();
        let offset = format!("offset={}", self.rows().end);
        let limit = format!("limit={}", self.limit);
        pairs.push(&offset);
        pairs.push(&limit);
        format!("{path}?{}", pairs.join("&"))
    }
}

/// Bytes of JSON sent at a time by [`json_array`].
const JSON_CHUNK_BYTES: usize = 64 * 1024;

/// A JSON array serialised as it is sent, [`JSON_CHUNK_BYTES`] at a time, each item freed once
/// written: a long list is never in memory twice, as values and as one body (a coder's 13,419
/// codings are 8.5 MB of JSON, which grew into a 16 MiB buffer).
pub fn json_array<T: serde::Serialize + Send + 'static>(items: Vec<T>) -> Response {
    let mut items = items.into_iter();
    let mut first = true;
    let mut done = false;
    let chunks = std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut chunk = Vec::with_capacity(JSON_CHUNK_BYTES + 4096);
        if first {
            chunk.push(b'[');
        }
        while chunk.len() < JSON_CHUNK_BYTES {
            let Some(item) = items.next() else {
                chunk.push(b']');
                done = true;
                break;
            };
            if !first {
                chunk.push(b',');
            }
            first = false;
            if let Err(e) = serde_json::to_writer(&mut chunk, &item) {
                done = true;
                return Some(Err(e));
            }
        }
        Some(Ok(axum::body::Bytes::from(chunk)))
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(tokio_stream::iter(chunks)),
    )
        .into_response()
}
