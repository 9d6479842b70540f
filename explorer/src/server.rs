//! The `usertrail-explorer` service: the OTLP/HTTP receiver, the explorer page and its JSON
//! API on one port, over the embedded store or ClickHouse.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Router, middleware};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::api::{self, Backend};
use crate::auth::{self, Tokens};
use crate::ingest::Ingest;
use crate::monitor::{registry::Monitors, routes as monitor_routes, webhook::Retry};
use crate::otlp::{self, Receiver};
use crate::store::{Retention, SpanStore, SpanWriter, clickhouse, sqlite, synth};

/// The store's file inside the data folder.
pub const STORE_FILE: &str = "spans.sqlite";

/// How to run the service; [`Options::default`] is what `usertrail-explorer` runs with no
/// options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Where to listen (`127.0.0.1:4318`, OTLP/HTTP's port).
    pub listen: String,
    /// The folder of the embedded store (`usertrail-data`).
    pub data_dir: PathBuf,
    /// `clickhouse://host:8123/database`: ClickHouse instead of the embedded store.
    pub store: Option<String>,
    /// Who may read and who may send (required beyond loopback).
    pub tokens: Tokens,
    /// The largest OTLP body taken, compressed and decompressed (16 MiB).
    pub max_body: usize,
    /// Spans waiting for the store at most, past which senders get a 429 (100,000).
    pub queue_spans: usize,
    /// What the store keeps (7 days, 10 GiB).
    pub retention: Retention,
    /// Synthetic demo spans ([`crate::store::synth`]) written over the last 24 hours before
    /// serving, to try the explorer without services (0: none).
    pub synthetic: usize,
    /// How often monitors are evaluated (60 s).
    pub monitor_interval: Duration,
    /// How failed webhook deliveries are retried (5 attempts, 1 s, 2 s, 4 s, 8 s apart).
    pub webhook_retry: Retry,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            listen: "127.0.0.1:4318".into(),
            data_dir: PathBuf::from("usertrail-data"),
            store: None,
            tokens: Tokens::default(),
            max_body: 16 << 20,
            queue_spans: 100_000,
            retention: Retention {
                max_age: Some(Duration::from_secs(7 * 24 * 3600)),
                max_bytes: Some(10 << 30),
            },
            synthetic: 0,
            monitor_interval: Duration::from_secs(60),
            webhook_retry: Retry::default(),
        }
    }
}

#[derive(Clone, Debug)]
struct Status {
    store: Arc<dyn SpanStore>,
    ingest: Ingest,
    /// The file of the embedded store, or ClickHouse's URL.
    location: String,
}

async fn status(State(s): State<Status>) -> axum::Json<Value> {
    let store = Arc::clone(&s.store);
    let spans = tokio::task::spawn_blocking(move || store.count())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(0);
    axum::Json(json!({
        "mode": "store",
        "store": s.location,
        "spans": spans,
        "queued": s.ingest.queued(),
    }))
}

/// Opens the store, starts the writer and binds `options.listen`; then calls `ready` with
/// the address and serves until `shutdown` completes.
///
/// # Examples
///
/// ```no_run
/// use usertrail_explorer::server::{self, Options};
///
/// # async fn run() -> std::io::Result<()> {
/// let options = Options { listen: "127.0.0.1:0".into(), ..Options::default() };
/// server::run(options, |addr| println!("OTLP to http://{addr}/v1/traces"), async {
///     let _ = tokio::signal::ctrl_c().await;
/// })
/// .await
/// # }
/// ```
///
/// # Errors
///
/// When the data folder or the store cannot be opened or the address cannot be bound.
pub async fn run(
    options: Options,
    ready: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let OpenStore {
        mut writer,
        store,
        location,
    } = open_store(&options)?;
    if options.synthetic > 0 {
        let now_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        let mut failed = None;
        synth::generate(
            options.synthetic,
            now_ns.unsigned_abs(),
            now_ns,
            10_000,
            |chunk| {
                if failed.is_none() {
                    failed = writer.insert(chunk).err();
                }
            },
        );
        if let Some(e) = failed {
            return Err(io::Error::other(e));
        }
    }
    let ingest = Ingest::start(writer, options.queue_spans, options.retention)?;
    // Kept in the data folder whichever store holds the spans.
    std::fs::create_dir_all(&options.data_dir)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", options.data_dir.display())))?;
    let monitors = Monitors::open(&options.data_dir, options.webhook_retry)?;
    let listener = TcpListener::bind(&options.listen).await.map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot listen on {}: {e}", options.listen),
        )
    })?;
    let bound = listener.local_addr()?;
    options
        .tokens
        .check_bind(bound)
        .map_err(|e| io::Error::new(io::ErrorKind::PermissionDenied, e))?;
    let ingest_routes = Router::new()
        .route(
            otlp::TRACES_PATH,
            post(otlp::export).with_state(Receiver::new(ingest.clone(), options.max_body)),
        )
        .route_layer(middleware::from_fn_with_state(
            options.tokens.ingest.clone(),
            auth::require_ingest,
        ));
    let read_routes = Router::new()
        .route(
            "/api/status",
            get(status).with_state(Status {
                store: Arc::clone(&store),
                ingest,
                location,
            }),
        )
        .route(
            "/",
            get(|| std::future::ready(axum::response::Redirect::temporary("/explorer"))),
        )
        .merge(monitor_routes::router(monitors.clone()))
        .merge(api::router(Backend::Store(Arc::clone(&store))))
        .layer(middleware::from_fn_with_state(
            options.tokens.read.clone(),
            auth::require_read,
        ));
    let router = ingest_routes.merge(read_routes);
    tokio::spawn(monitors.run(store, options.monitor_interval));
    ready(listener.local_addr()?);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// A store as the service uses it: its one writer, its reader, and where it is.
struct OpenStore {
    writer: Box<dyn SpanWriter>,
    store: Arc<dyn SpanStore>,
    location: String,
}

/// The store `options` choose.
fn open_store(options: &Options) -> io::Result<OpenStore> {
    if let Some(url) = &options.store {
        let writer = clickhouse::Writer::connect(url).map_err(io::Error::other)?;
        let store = clickhouse::Store::connect(url).map_err(io::Error::other)?;
        return Ok(OpenStore {
            writer: Box::new(writer),
            store: Arc::new(store),
            location: url.clone(),
        });
    }
    std::fs::create_dir_all(&options.data_dir)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", options.data_dir.display())))?;
    let path = options.data_dir.join(STORE_FILE);
    let writer = sqlite::Writer::open(&path).map_err(io::Error::other)?;
    let store = sqlite::Store::open(&path).map_err(io::Error::other)?;
    Ok(OpenStore {
        writer: Box::new(writer),
        store: Arc::new(store),
        location: path.display().to_string(),
    })
}
