//! The `usertrail-explorer` service: the OTLP/HTTP receiver, the explorer page and its JSON
//! API on one port, over the embedded store.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::api::{self, Backend};
use crate::ingest::Ingest;
use crate::otlp::{self, Receiver};
use crate::store::sqlite::{Store, Writer};
use crate::store::{Retention, SpanStore, SpanWriter, synth};

/// The store's file inside the data folder.
pub const STORE_FILE: &str = "spans.sqlite";

/// How to run the service; [`Options::default`] is what `usertrail-explorer` runs with no
/// options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Where to listen (`127.0.0.1:4318`, OTLP/HTTP's port).
    pub listen: String,
    /// The folder of the store (`usertrail-data`).
    pub data_dir: PathBuf,
    /// The largest OTLP body taken, compressed and decompressed (16 MiB).
    pub max_body: usize,
    /// Spans waiting for the store at most, past which senders get a 429 (100,000).
    pub queue_spans: usize,
    /// What the store keeps (7 days, 10 GiB).
    pub retention: Retention,
    /// Spans of synthetic history to add at start, to try the explorer at scale (0).
    pub synthetic: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            listen: "127.0.0.1:4318".into(),
            data_dir: PathBuf::from("usertrail-data"),
            max_body: 16 << 20,
            queue_spans: 100_000,
            retention: Retention {
                max_age: Some(Duration::from_secs(7 * 24 * 3600)),
                max_bytes: Some(10 << 30),
            },
            synthetic: 0,
        }
    }
}

#[derive(Clone, Debug)]
struct Status {
    store: Arc<Store>,
    ingest: Ingest,
    path: PathBuf,
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
        "store": s.path.display().to_string(),
        "spans": spans,
        "queued": s.ingest.queued(),
    }))
}

/// Writes `n` synthetic spans (the last 24 hours) on a thread of their own.
fn add_synthetic(path: PathBuf, n: usize) {
    std::thread::spawn(move || {
        let result = Writer::open(&path).and_then(|mut writer| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(0));
            let mut failed = None;
            synth::generate(n, now.unsigned_abs(), now, 10_000, |chunk| {
                if failed.is_none() {
                    failed = writer.insert(chunk).err();
                }
            });
            match failed {
                Some(e) => Err(e),
                None => writer.analyze(),
            }
        });
        match result {
            Ok(()) => println!("usertrail-explorer: {n} synthetic spans added to the store"),
            Err(e) => eprintln!("usertrail-explorer: synthetic spans: {e}"),
        }
    });
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
    std::fs::create_dir_all(&options.data_dir)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", options.data_dir.display())))?;
    let path = options.data_dir.join(STORE_FILE);
    let writer = Writer::open(&path).map_err(io::Error::other)?;
    let store = Arc::new(Store::open(&path).map_err(io::Error::other)?);
    let ingest = Ingest::start(Box::new(writer), options.queue_spans, options.retention)?;
    if options.synthetic > 0 {
        add_synthetic(path.clone(), options.synthetic);
    }
    let listener = TcpListener::bind(&options.listen).await.map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot listen on {}: {e}", options.listen),
        )
    })?;
    let router = Router::new()
        .route(
            otlp::TRACES_PATH,
            post(otlp::export).with_state(Receiver::new(ingest.clone(), options.max_body)),
        )
        .route(
            "/api/status",
            get(status).with_state(Status {
                store: Arc::clone(&store),
                ingest,
                path,
            }),
        )
        .route(
            "/",
            get(|| std::future::ready(axum::response::Redirect::temporary("/explorer"))),
        )
        .merge(api::router(Backend::Store(store as Arc<dyn SpanStore>)));
    ready(listener.local_addr()?);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
