//! The shop page, the explorer page, the built SDK under `/pkg/`, and the explorer's JSON API:
//!
//! | route | answers |
//! |---|---|
//! | `GET /config.json` | the URLs of checkout and the third party, the users, the cards |
//! | `GET /api/search?q=…&entry=1&limit=50` | `{ total, spans, took_ms }`, newest first |
//! | `GET /api/trace/{trace_id}` | `{ spans }`, in start order |
//! | `GET /api/groupby?q=…&by=usr.id&entry=1` | `{ key, total, group_count, groups: [{ value, count, errors, error_rate, p50_ns, p95_ns, p99_ns }] }` |
//! | `GET /api/impact?q=…&entry=0` | `{ spans, traces, anonymous_traces, user_count, account_count, users, accounts }` |
//! | `GET /api/endpoints` | every endpoint of the recent requests with its errors and latency |
//! | `GET /api/third-party` | what the third party received |
//! | `GET /api/status` | where spans go (store or OTLP), how many are stored |
//!
//! `entry=1` (the default) keeps service entry spans only; a query that does not parse gets
//! a 400 with `{ "error": { "message", "position" } }`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path as UrlPath, Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_http::services::{ServeDir, ServeFile};

use super::third_party::Recorder;
use crate::catalog::{CARDS, USERS};
use crate::query::parse;
use crate::store::{Scope, Store, StoreSink};

/// Where spans go: the local store, or an OTLP endpoint.
#[derive(Clone, Debug)]
pub enum SpanDestination {
    /// The SQLite store at this path, written by this sink.
    Store(PathBuf, Arc<StoreSink>),
    /// An OTLP endpoint.
    Otlp(String),
}

/// What the web server needs.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// The span store, when spans go there.
    pub store: Option<Arc<Store>>,
    /// Where spans go.
    pub destination: SpanDestination,
    /// What the third party saw.
    pub recorder: Recorder,
    /// Port of checkout.
    pub checkout_port: u16,
    /// Port of the third party.
    pub third_party_port: u16,
    /// The host the servers listen on.
    pub host: String,
    /// The page files (`index.html`, `explorer.html`, …).
    pub static_dir: PathBuf,
    /// The built SDK (`dist/`).
    pub pkg_dir: PathBuf,
}

/// The shop and explorer router.
pub fn router(config: WebConfig) -> Router {
    let statics = config.static_dir.clone();
    let pkg = config.pkg_dir.clone();
    Router::new()
        .route("/config.json", get(page_config))
        .route("/api/status", get(status))
        .route("/api/search", get(search))
        .route("/api/trace/{trace_id}", get(trace))
        .route("/api/groupby", get(group_by))
        .route("/api/impact", get(impact))
        .route("/api/endpoints", get(endpoints))
        .route("/api/third-party", get(third_party))
        .route_service("/", ServeFile::new(statics.join("index.html")))
        .route_service("/explorer", ServeFile::new(statics.join("explorer.html")))
        .nest_service("/pkg", ServeDir::new(pkg))
        .fallback_service(ServeDir::new(statics))
        .with_state(Arc::new(config))
}

type Shared = Arc<WebConfig>;

/// The host name the page was loaded with (`localhost` or `127.0.0.1`), so that the URLs it
/// gets are on the same host and cookies, CORS and the SDK's URL matching line up.
fn page_host(headers: &HeaderMap, fallback: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or(fallback);
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    match name {
        "localhost" | "127.0.0.1" => name.to_owned(),
        _ => fallback.to_owned(),
    }
}

async fn page_config(State(cfg): State<Shared>, headers: HeaderMap) -> Json<Value> {
    let host = page_host(&headers, &cfg.host);
    Json(json!({
        "checkout": format!("http://{host}:{}", cfg.checkout_port),
        "thirdParty": format!("http://{host}:{}", cfg.third_party_port),
        "explorer": "/explorer",
        "users": USERS,
        "cards": CARDS,
    }))
}

async fn status(State(cfg): State<Shared>) -> Json<Value> {
    match &cfg.destination {
        SpanDestination::Store(path, sink) => {
            let store = cfg.store.clone();
            let spans = tokio::task::spawn_blocking(move || store.map(|s| s.count()))
                .await
                .ok()
                .flatten()
                .and_then(Result::ok)
                .unwrap_or(0);
            Json(json!({
                "mode": "store",
                "store": path.display().to_string(),
                "spans": spans,
                "written": sink.written(),
                "dropped": sink.dropped(),
            }))
        }
        SpanDestination::Otlp(endpoint) => Json(json!({ "mode": "otlp", "endpoint": endpoint })),
    }
}

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
    (status, Json(json!({ "error": body }))).into_response()
}

/// Runs `f` on the store on a blocking thread; the JSON it returns gets `took_ms`.
async fn with_store<T, F>(cfg: &Shared, q: &str, f: F) -> Response
where
    T: serde::Serialize + Send + 'static,
    F: FnOnce(&Store, crate::query::Query) -> crate::store::Result<T> + Send + 'static,
{
    let query = match parse(q) {
        Ok(query) => query,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                json!({ "message": e.message(), "position": e.position(), "query": q }),
            );
        }
    };
    let Some(store) = cfg.store.clone() else {
        let message = match &cfg.destination {
            SpanDestination::Otlp(endpoint) => format!(
                "spans are exported over OTLP to {endpoint} (OTEL_EXPORTER_OTLP_ENDPOINT is set); this explorer reads the local store only"
            ),
            SpanDestination::Store(..) => "no span store".into(),
        };
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "message": message }),
        );
    };
    let started = Instant::now();
    let result = tokio::task::spawn_blocking(move || f(&store, query)).await;
    match result {
        Ok(Ok(value)) => {
            let mut body = serde_json::to_value(value).unwrap_or(Value::Null);
            if let Value::Object(map) = &mut body {
                #[allow(clippy::cast_possible_truncation)]
                map.insert(
                    "took_ms".into(),
                    json!((started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0),
                );
            }
            Json(body).into_response()
        }
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, json!({ "message": e.to_string() })),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "message": e.to_string() }),
        ),
    }
}

async fn search(State(cfg): State<Shared>, UrlQuery(p): UrlQuery<Params>) -> Response {
    let scope = p.scope(true, 50);
    with_store(&cfg, &p.q, move |store, query| store.search(&query, scope)).await
}

async fn trace(State(cfg): State<Shared>, UrlPath(trace_id): UrlPath<String>) -> Response {
    if trace_id.len() != 32 || !trace_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return error(
            StatusCode::BAD_REQUEST,
            json!({ "message": "a trace id is 32 hex digits" }),
        );
    }
    let id = trace_id.to_ascii_lowercase();
    with_store(&cfg, "", move |store, _| {
        store
            .trace(&id)
            .map(|spans| json!({ "trace_id": id, "spans": spans }))
    })
    .await
}

async fn group_by(State(cfg): State<Shared>, UrlQuery(p): UrlQuery<Params>) -> Response {
    let scope = p.scope(true, 50);
    let by = p.by.clone().unwrap_or_else(|| "usr.id".into());
    with_store(&cfg, &p.q, move |store, query| {
        store.group_by(&query, &by, scope)
    })
    .await
}

async fn impact(State(cfg): State<Shared>, UrlQuery(p): UrlQuery<Params>) -> Response {
    // All spans by default: an error in a child span still names its trace's users.
    let scope = p.scope(false, 100);
    with_store(&cfg, &p.q, move |store, query| store.impact(&query, scope)).await
}

async fn endpoints(State(cfg): State<Shared>) -> Response {
    with_store(&cfg, "", |store, _| {
        store
            .endpoints(20_000)
            .map(|endpoints| json!({ "window": 20_000, "endpoints": endpoints }))
    })
    .await
}

async fn third_party(State(cfg): State<Shared>) -> Json<Value> {
    let seen = cfg.recorder.seen();
    let leaks = seen.iter().filter(|s| !s.trace_headers.is_empty()).count();
    Json(json!({ "requests": seen, "with_trace_headers": leaks }))
}
