//! The explorer's page and JSON API over a [`SpanStore`]:
//!
//! | route | answers |
//! |---|---|
//! | `GET /explorer` | the page (`/explorer.js`, `/style.css`), built into the binary |
//! | `GET /api/search?q=…&entry=1&limit=50` | `{ total, spans, took_ms }`, newest first |
//! | `GET /api/trace/{trace_id}` | `{ spans }`, in start order |
//! | `GET /api/groupby?q=…&by=usr.id&entry=1` | `{ key, total, group_count, groups: [{ value, count, errors, error_rate, p50_ns, p95_ns, p99_ns }] }` |
//! | `GET /api/impact?q=…&entry=0` | `{ spans, traces, anonymous_traces, user_count, account_count, users, accounts }` |
//! | `GET /api/endpoints` | every endpoint of the recent requests with its errors and latency |
//!
//! `entry=1` (the default) keeps service entry spans only; a query that does not parse gets
//! a 400 with `{ "error": { "message", "position" } }`.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{Path as UrlPath, Query as UrlQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::query::{Query, parse};
use crate::store::{Scope, SpanStore};

/// What the API reads: a store, or nothing (with the reason, which every data route answers
/// with a 503).
#[derive(Clone, Debug)]
pub enum Backend {
    /// Spans are read from this store.
    Store(Arc<dyn SpanStore>),
    /// No store to read; the message says why (and where the spans went).
    Unavailable(String),
}

/// The explorer page and JSON API, to merge into a server's router: [`page`], [`assets`] and
/// [`data`] together.
///
/// # Examples
///
/// ```
/// let router: axum::Router = usertrail_explorer::api::router(
///     usertrail_explorer::api::Backend::Unavailable("no store".into()),
/// );
/// # let _ = router;
/// ```
pub fn router(backend: Backend) -> Router {
    page().merge(assets()).merge(data(backend))
}

/// `GET /explorer`, the page.
///
/// # Examples
///
/// ```
/// let page: axum::Router = usertrail_explorer::api::page();
/// # let _ = page;
/// ```
pub fn page() -> Router {
    Router::new().route(
        "/explorer",
        get(static_file(PAGE_HTML, "text/html; charset=utf-8")),
    )
}

/// `GET /explorer.js` and `GET /style.css`, what the page loads.
///
/// # Examples
///
/// ```
/// let assets: axum::Router = usertrail_explorer::api::assets();
/// # let _ = assets;
/// ```
pub fn assets() -> Router {
    Router::new()
        .route(
            "/explorer.js",
            get(static_file(PAGE_JS, "text/javascript; charset=utf-8")),
        )
        .route(
            "/style.css",
            get(static_file(PAGE_CSS, "text/css; charset=utf-8")),
        )
}

/// The JSON API (`/api/search`, `/api/trace/{id}`, `/api/groupby`, `/api/impact`,
/// `/api/endpoints`) over `backend`.
///
/// # Examples
///
/// ```
/// use usertrail_explorer::api::{Backend, data};
/// let api: axum::Router = data(Backend::Unavailable("spans go elsewhere".into()));
/// # let _ = api;
/// ```
pub fn data(backend: Backend) -> Router {
    Router::new()
        .route("/api/search", get(search))
        .route("/api/trace/{trace_id}", get(trace))
        .route("/api/groupby", get(group_by))
        .route("/api/impact", get(impact))
        .route("/api/endpoints", get(endpoints))
        .with_state(Arc::new(backend))
}

// Built in, so that the binary runs from anywhere with nothing beside it.
const PAGE_HTML: &str = include_str!("../static/explorer.html");
const PAGE_JS: &str = include_str!("../static/explorer.js");
const PAGE_CSS: &str = include_str!("../static/style.css");

fn static_file(
    body: &'static str,
    content_type: &'static str,
) -> impl Fn() -> std::future::Ready<Response> + Clone + Send + 'static {
    move || std::future::ready(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

type Shared = Arc<Backend>;

#[derive(Deserialize)]
struct Params {
    #[serde(default)]
    q: String,
    entry: Option<String>,
    limit: Option<usize>,
    by: Option<String>,
}

impl Params {
    fn scope(&self, entry_default: bool, limit_default: usize) -> Scope {
        let entry_only = match self.entry.as_deref() {
            Some("0" | "false" | "no") => false,
            Some(_) => true,
            None => entry_default,
        };
        Scope {
            entry_only,
            limit: self.limit.unwrap_or(limit_default).clamp(1, 1_000),
        }
    }
}

fn error(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(json!({ "error": body }))).into_response()
}

/// The longest query taken, in bytes: queries come from anyone who can reach the API.
pub const MAX_QUERY_BYTES: usize = 4_096;

/// Runs `f` on the store on a blocking thread; the JSON it returns gets `took_ms`.
async fn with_store<T, F>(backend: &Shared, q: &str, f: F) -> Response
where
    T: serde::Serialize + Send + 'static,
    F: FnOnce(&dyn SpanStore, Query) -> crate::store::Result<T> + Send + 'static,
{
    if q.len() > MAX_QUERY_BYTES {
        return error(
            StatusCode::BAD_REQUEST,
            json!({ "message": format!("the query is over {MAX_QUERY_BYTES} bytes"), "position": 0 }),
        );
    }
    let query = match parse(q) {
        Ok(query) => query,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                json!({ "message": e.message(), "position": e.position(), "query": q }),
            );
        }
    };
    let store = match &**backend {
        Backend::Store(store) => Arc::clone(store),
        Backend::Unavailable(message) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "message": message }),
            );
        }
    };
    let started = Instant::now();
    let result = tokio::task::spawn_blocking(move || f(&*store, query)).await;
    match result {
        Ok(Ok(value)) => {
            let mut body = serde_json::to_value(value).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut body {
                map.insert(
                    "took_ms".into(),
                    json!((started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0),
                );
            }
            axum::Json(body).into_response()
        }
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, json!({ "message": e.to_string() })),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "message": e.to_string() }),
        ),
    }
}

async fn search(State(backend): State<Shared>, UrlQuery(p): UrlQuery<Params>) -> Response {
    let scope = p.scope(true, 50);
    with_store(&backend, &p.q, move |store, query| {
        store.search(&query, scope)
    })
    .await
}

async fn trace(State(backend): State<Shared>, UrlPath(trace_id): UrlPath<String>) -> Response {
    if trace_id.len() != 32 || !trace_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return error(
            StatusCode::BAD_REQUEST,
            json!({ "message": "a trace id is 32 hex digits" }),
        );
    }
    let id = trace_id.to_ascii_lowercase();
    with_store(&backend, "", move |store, _| {
        store
            .trace(&id)
            .map(|spans| json!({ "trace_id": id, "spans": spans }))
    })
    .await
}

async fn group_by(State(backend): State<Shared>, UrlQuery(p): UrlQuery<Params>) -> Response {
    let scope = p.scope(true, 50);
    let by = p.by.clone().unwrap_or_else(|| "usr.id".into());
    with_store(&backend, &p.q, move |store, query| {
        store.group_by(&query, &by, scope)
    })
    .await
}

async fn impact(State(backend): State<Shared>, UrlQuery(p): UrlQuery<Params>) -> Response {
    // All spans by default: an error in a child span still names its trace's users.
    let scope = p.scope(false, 100);
    with_store(&backend, &p.q, move |store, query| {
        store.impact(&query, scope)
    })
    .await
}

async fn endpoints(State(backend): State<Shared>) -> Response {
    with_store(&backend, "", |store, _| {
        store
            .endpoints(20_000)
            .map(|endpoints| json!({ "window": 20_000, "endpoints": endpoints }))
    })
    .await
}
