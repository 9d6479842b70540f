//! The shop page, the built SDK under `/pkg/`, and the explorer (its page and JSON API are
//! `usertrail_explorer::api`'s), plus the demo's own routes:
//!
//! | route | answers |
//! |---|---|
//! | `GET /config.json` | the URLs of checkout and the third party, the users, the cards |
//! | `GET /api/third-party` | what the third party received |
//! | `GET /api/status` | where spans go (store or OTLP), how many are stored |

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::Redirect;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tower_http::services::{ServeDir, ServeFile};
use usertrail_explorer::api::{self, Backend};

use super::third_party::Recorder;
use crate::catalog::{CARDS, USERS};
use crate::sink::StoreSink;
use crate::store::SpanStore;
use crate::store::sqlite::Store;

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
    let explorer = match (&config.store, &config.destination) {
        (Some(store), _) => api::router(Backend::Store(Arc::clone(store) as Arc<dyn SpanStore>)),
        // The spans are with the service they were exported to: usertrail-explorer serves its
        // page at `/explorer` beside `/v1/traces`, so the shop's link leads there.
        (None, SpanDestination::Otlp(endpoint)) => {
            let page = format!("{}/explorer", endpoint.trim_end_matches('/'));
            let message = format!(
                "spans are exported over OTLP to {endpoint} (OTEL_EXPORTER_OTLP_ENDPOINT is set); this explorer reads the local store only: open {page}"
            );
            Router::new()
                .route(
                    "/explorer",
                    get(move |uri: axum::http::Uri| {
                        let to = match uri.query() {
                            Some(q) => format!("{page}?{q}"),
                            None => page.clone(),
                        };
                        std::future::ready(Redirect::temporary(&to))
                    }),
                )
                .merge(api::assets())
                .merge(api::data(Backend::Unavailable(message)))
        }
        (None, SpanDestination::Store(..)) => {
            api::router(Backend::Unavailable("no span store".into()))
        }
    };
    Router::new()
        .route("/config.json", get(page_config))
        .route("/api/status", get(status))
        .route("/api/third-party", get(third_party))
        .route_service("/", ServeFile::new(statics.join("index.html")))
        .nest_service("/pkg", ServeDir::new(pkg))
        .with_state(Arc::new(config))
        .merge(explorer)
        .fallback_service(ServeDir::new(statics))
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

async fn third_party(State(cfg): State<Shared>) -> Json<Value> {
    let seen = cfg.recorder.seen();
    let leaks = seen.iter().filter(|s| !s.trace_headers.is_empty()).count();
    Json(json!({ "requests": seen, "with_trace_headers": leaks }))
}
