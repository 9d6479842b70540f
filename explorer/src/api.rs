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
//! | `GET /api/analysis?q=status:error&baseline=&keys=account.id,usr.id` | tag analysis: `{ selection_total, baseline_total, top, keys: [{ key, values }] }`, each value with `selection_share` beside `baseline_share` |
//! | `GET /api/errors?q=service:payments&entry=0` | error groups: `{ errors, group_count, groups: [{ service, resource, error, typed, entry, message, count, first_seen_ns, last_seen_ns, traces, users, accounts }] }`, the most users hit first |
//! | `GET /api/activity?key=usr.id&value=user_123&limit=200` | `{ key, value, requests, errors, spans (oldest first), session_count, sessions, failing_endpoints, users }` |
//! | `GET /api/monitors` | `{ monitors: [{ id, name, query, metric, comparator, threshold, window, group_by, groups, webhook, muted, state, states, alerting, evaluated_ms, error, failure_count, transition_count }] }` ([`crate::monitor::routes`]) |
//! | `POST /api/monitors` | creates one from `{ name, query, metric, comparator, threshold, window, group_by, groups, entry, webhook, notify_no_data }`: 201 with it, or a 400 with `{ "error": { "message", "field", "position" } }` |
//! | `GET /api/monitors/{id}` | the monitor with its `states` per group, `history` (transitions) and `failures` (deliveries) |
//! | `PATCH /api/monitors/{id}` | `{ "muted": true }` mutes it (still evaluated, no notification), `false` unmutes |
//! | `DELETE /api/monitors/{id}` | 204 |
//!
//! Every data route takes a time range: `range=15m` (`1h`, `24h`, `7d`: that long before
//! now), or `from=…&to=…` in milliseconds since the Unix epoch (either may be left out);
//! without one it reads every stored span (the monitors' routes take none: each monitor has its
//! window). `entry=1` (the default) keeps service entry spans only; a query that does not parse gets
//! a 400 with `{ "error": { "message", "position" } }`.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::extract::{Path as UrlPath, Query as UrlQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::query::{Query, parse};
use crate::store::{Scope, SpanStore, TimeRange};

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
        .route("/api/activity", get(activity))
        .route("/api/analysis", get(analysis))
        .route("/api/errors", get(errors))
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
    /// For `/api/activity`: `usr.id`, `account.id` or `session.id`.
    key: Option<String>,
    /// For `/api/activity`: whose.
    value: Option<String>,
    /// For `/api/analysis`: what the selection is compared with (every span by default).
    #[serde(default)]
    baseline: String,
    /// For `/api/analysis`: the tags to rank, comma-separated.
    keys: Option<String>,
    /// `15m`, `1h`, `24h`, `7d`: the span of time before now.
    range: Option<String>,
    /// Milliseconds since the Unix epoch.
    from: Option<String>,
    /// Milliseconds since the Unix epoch.
    to: Option<String>,
}

/// A bad parameter, answered with a 400.
struct BadParam(String);

impl Params {
    fn scope(&self, entry_default: bool, limit_default: usize) -> Result<Scope, BadParam> {
        let entry_only = match self.entry.as_deref() {
            Some("0" | "false" | "no") => false,
            Some(_) => true,
            None => entry_default,
        };
        Ok(Scope {
            entry_only,
            limit: self.limit.unwrap_or(limit_default).clamp(1, 1_000),
            range: self.range()?,
        })
    }

    /// `range=` (before now), or `from=`/`to=` (either may be left out); every span when
    /// none is given.
    fn range(&self) -> Result<TimeRange, BadParam> {
        let now_ns = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        if let Some(range) = self.range.as_deref().filter(|r| !r.is_empty()) {
            return parse_length(range)
                .map(|length| TimeRange::last(length, now_ns))
                .ok_or_else(|| {
                    BadParam(format!(
                        "range `{range}`: write a length such as 15m, 1h, 24h or 7d"
                    ))
                });
        }
        let millis = |name: &str, value: &Option<String>| -> Result<Option<i64>, BadParam> {
            match value.as_deref().filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => v
                    .parse::<i64>()
                    .ok()
                    .and_then(|ms| ms.checked_mul(1_000_000))
                    .map(Some)
                    .ok_or_else(|| {
                        BadParam(format!(
                            "{name} `{v}`: write milliseconds since 1970-01-01 UTC"
                        ))
                    }),
            }
        };
        let range = TimeRange {
            from_ns: millis("from", &self.from)?,
            to_ns: millis("to", &self.to)?,
        };
        if let (Some(f), Some(t)) = (range.from_ns, range.to_ns) {
            if f >= t {
                return Err(BadParam("`from` must come before `to`".into()));
            }
        }
        Ok(range)
    }
}

/// `90s`, `15m`, `1h`, `7d` as a duration (at most a year): time ranges and monitor windows.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use usertrail_explorer::api::parse_length;
///
/// assert_eq!(parse_length("5m"), Some(Duration::from_secs(300)));
/// assert_eq!(parse_length("5 minutes"), None);
/// ```
pub fn parse_length(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let n: u64 = n.parse().ok().filter(|n| *n > 0)?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    let total = n.checked_mul(seconds).filter(|s| *s <= 366 * 86_400)?;
    Some(Duration::from_secs(total))
}

impl IntoResponse for BadParam {
    fn into_response(self) -> Response {
        error(StatusCode::BAD_REQUEST, json!({ "message": self.0 }))
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
    let scope = match p.scope(true, 50) {
        Ok(scope) => scope,
        Err(e) => return e.into_response(),
    };
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
    let scope = match p.scope(true, 50) {
        Ok(scope) => scope,
        Err(e) => return e.into_response(),
    };
    let by = p.by.clone().unwrap_or_else(|| "usr.id".into());
    with_store(&backend, &p.q, move |store, query| {
        store.group_by(&query, &by, scope)
    })
    .await
}

async fn impact(State(backend): State<Shared>, UrlQuery(p): UrlQuery<Params>) -> Response {
    // All spans by default: an error in a child span still names its trace's users.
    let scope = match p.scope(false, 100) {
        Ok(scope) => scope,
        Err(e) => return e.into_response(),
    };
    with_store(&backend, &p.q, move |store, query| {
        store.impact(&query, scope)
    })
    .await
}

async fn endpoints(State(backend): State<Shared>, UrlQuery(p): UrlQuery<Params>) -> Response {
    let range = match p.range() {
        Ok(range) => range,
        Err(e) => return e.into_response(),
    };
    with_store(&backend, "", move |store, _| {
        store
            .endpoints(20_000, range)
            .map(|endpoints| json!({ "window": 20_000, "endpoints": endpoints }))
    })
    .await
}

async fn activity(State(backend): State<Shared>, UrlQuery(p): UrlQuery<Params>) -> Response {
    let scope = match p.scope(true, 200) {
        Ok(scope) => scope,
        Err(e) => return e.into_response(),
    };
    let key = p.key.clone().unwrap_or_else(|| "usr.id".into());
    let Some(value) = p.value.clone().filter(|v| !v.is_empty()) else {
        return BadParam("whose activity? add value=, e.g. value=user_123".into()).into_response();
    };
    with_store(&backend, "", move |store, _| {
        store.activity(&key, &value, scope)
    })
    .await
}

async fn analysis(State(backend): State<Shared>, UrlQuery(p): UrlQuery<Params>) -> Response {
    let scope = match p.scope(true, 20) {
        Ok(scope) => scope,
        Err(e) => return e.into_response(),
    };
    let baseline = match parse(&p.baseline) {
        Ok(query) => query,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                json!({ "message": e.message(), "position": e.position(), "query": p.baseline, "in": "baseline" }),
            );
        }
    };
    let keys: Vec<String> = match p.keys.as_deref().filter(|k| !k.trim().is_empty()) {
        Some(keys) => keys
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .take(20)
            .map(String::from)
            .collect(),
        None => crate::store::ANALYSIS_KEYS
            .iter()
            .map(|k| (*k).to_string())
            .collect(),
    };
    with_store(&backend, &p.q, move |store, selection| {
        store.tag_analysis(&selection, &baseline, &keys, scope)
    })
    .await
}

async fn errors(State(backend): State<Shared>, UrlQuery(p): UrlQuery<Params>) -> Response {
    // All spans by default: the error is often deep in a child span.
    let scope = match p.scope(false, 50) {
        Ok(scope) => scope,
        Err(e) => return e.into_response(),
    };
    with_store(&backend, &p.q, move |store, query| {
        store.error_groups(&query, scope)
    })
    .await
}
