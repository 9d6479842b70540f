//! Starts the whole demo in one process: the shop and explorer, checkout, payments and the
//! third party, each on its own port, and the span store (or the OTLP exporter).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::HeaderValue;
use tokio::net::TcpListener;
use tracing_subscriber::layer::SubscriberExt;
use usertrail_propagator::tracing::{SpanSink, UsertrailLayer};

use crate::flush::Flushed;
use crate::services::third_party::Recorder;
use crate::services::web::{SpanDestination, WebConfig};
use crate::services::{checkout, payments, third_party, web};
use crate::sink::StoreSink;
use crate::store::sqlite::{Store, Writer};
use crate::store::{SpanWriter, synth};

/// How to run the demo.
#[derive(Clone, Debug)]
pub struct Options {
    /// The address every server listens on (`127.0.0.1`).
    pub host: String,
    /// The shop and the explorer (0: any free port).
    pub shop_port: u16,
    /// checkout.
    pub checkout_port: u16,
    /// payments.
    pub payments_port: u16,
    /// The third party.
    pub third_party_port: u16,
    /// Where the span store lives (`spans.sqlite` inside).
    pub data_dir: PathBuf,
    /// The page files.
    pub static_dir: PathBuf,
    /// The built SDK.
    pub pkg_dir: PathBuf,
    /// Synthetic spans to add to the store at start (history for the explorer).
    pub synthetic: usize,
    /// On shutdown: how long requests in flight may take to finish, and then how long the
    /// spans still queued may take to be stored or exported.
    pub shutdown_timeout: Duration,
    /// The shipping service (`www/shipping`, Python) that checkout asks for a quote after a
    /// payment; `None`: orders have no shipping quote.
    pub shipping_url: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        let www = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        Options {
            host: "127.0.0.1".into(),
            shop_port: 8080,
            checkout_port: 8081,
            payments_port: 8082,
            third_party_port: 8083,
            data_dir: PathBuf::from(".demo-data"),
            static_dir: www.join("static"),
            pkg_dir: www.join("../dist"),
            synthetic: 0,
            shutdown_timeout: Duration::from_secs(5),
            shipping_url: None,
        }
    }
}

/// Where everything listens, once started.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Addresses {
    /// The shop and the explorer.
    pub shop: SocketAddr,
    /// checkout.
    pub checkout: SocketAddr,
    /// payments.
    pub payments: SocketAddr,
    /// The third party.
    pub third_party: SocketAddr,
}

async fn bind(host: &str, port: u16, what: &str) -> io::Result<TcpListener> {
    TcpListener::bind((host, port)).await.map_err(|e| {
        let hint = if e.kind() == io::ErrorKind::AddrInUse {
            " (is another demo running? stop it, or pick other ports: usertrail-demo --help)"
        } else {
            ""
        };
        io::Error::new(
            e.kind(),
            format!("{what}: cannot listen on {host}:{port}: {e}{hint}"),
        )
    })
}

fn subscriber(sink: Arc<dyn SpanSink>, service: &'static str) -> tracing::Dispatch {
    let registry =
        tracing_subscriber::registry().with(UsertrailLayer::new(sink).with_service(service));
    tracing::Dispatch::new(registry)
}

/// The span sinks of checkout and payments, and what the explorer is told.
struct Sinks {
    checkout: Arc<dyn SpanSink>,
    payments: Arc<dyn SpanSink>,
    destination: SpanDestination,
    store: Option<Arc<Store>>,
    flush: Flush,
}

/// The sinks to flush on shutdown.
enum Flush {
    Store(Arc<StoreSink>),
    #[cfg(feature = "otlp")]
    Otlp(Vec<Arc<crate::otlp::OtlpSink>>),
}

impl Flush {
    async fn flush(&self, timeout: Duration) -> Flushed {
        match self {
            Flush::Store(sink) => sink.flush(timeout).await,
            #[cfg(feature = "otlp")]
            Flush::Otlp(sinks) => {
                // Concurrently: each service's exporter has the whole timeout.
                let flushes: Vec<_> = sinks
                    .iter()
                    .map(|sink| {
                        let sink = Arc::clone(sink);
                        tokio::spawn(async move { sink.flush(timeout).await })
                    })
                    .collect();
                let mut total = Flushed::default();
                for flush in flushes {
                    total += flush.await.unwrap_or_default();
                }
                total
            }
        }
    }
}

fn sinks(options: &Options) -> io::Result<Sinks> {
    #[cfg(feature = "otlp")]
    if let Some(endpoint) = crate::otlp::endpoint_from_env() {
        if std::env::var_os("OTEL_SERVICE_NAME").is_some() {
            eprintln!(
                "usertrail-demo: OTEL_SERVICE_NAME is not used: the demo's two services are `checkout` and `payments`"
            );
        }
        let checkout =
            Arc::new(crate::otlp::OtlpSink::start("checkout").map_err(io::Error::other)?);
        let payments =
            Arc::new(crate::otlp::OtlpSink::start("payments").map_err(io::Error::other)?);
        return Ok(Sinks {
            checkout: Arc::clone(&checkout) as Arc<dyn SpanSink>,
            payments: Arc::clone(&payments) as Arc<dyn SpanSink>,
            destination: SpanDestination::Otlp(endpoint),
            store: None,
            flush: Flush::Otlp(vec![checkout, payments]),
        });
    }
    #[cfg(not(feature = "otlp"))]
    if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() {
        eprintln!(
            "usertrail-demo: OTEL_EXPORTER_OTLP_ENDPOINT is set, but this build has no `otlp` feature: spans go to the local store"
        );
    }
    std::fs::create_dir_all(&options.data_dir)?;
    let path = options.data_dir.join("spans.sqlite");
    let sink = Arc::new(StoreSink::start(&path).map_err(io::Error::other)?);
    let store = Arc::new(Store::open(&path).map_err(io::Error::other)?);
    if options.synthetic > 0 {
        let n = options.synthetic;
        let path = path.clone();
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
                Ok(()) => println!("usertrail-demo: {n} synthetic spans added to the store"),
                Err(e) => eprintln!("usertrail-demo: synthetic spans: {e}"),
            }
        });
    }
    Ok(Sinks {
        checkout: Arc::clone(&sink) as Arc<dyn SpanSink>,
        payments: Arc::clone(&sink) as Arc<dyn SpanSink>,
        destination: SpanDestination::Store(path, Arc::clone(&sink)),
        store: Some(store),
        flush: Flush::Store(sink),
    })
}

/// Starts every server and calls `ready` with their addresses and where spans go; serves
/// until `shutdown` completes. Then stops accepting connections, gives the requests in
/// flight [`Options::shutdown_timeout`] to finish, stores or exports every span still queued
/// (within the same timeout again), prints how many were flushed or dropped, and returns
/// that.
///
/// # Errors
///
/// When a port cannot be bound or the store cannot be opened.
pub async fn run(
    options: Options,
    ready: impl FnOnce(&Addresses, &str),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<Flushed> {
    let host = options.host.as_str();
    let shop = bind(host, options.shop_port, "shop").await?;
    let checkout_listener = bind(host, options.checkout_port, "checkout").await?;
    let payments_listener = bind(host, options.payments_port, "payments").await?;
    let third_party_listener = bind(host, options.third_party_port, "third party").await?;
    let addresses = Addresses {
        shop: shop.local_addr()?,
        checkout: checkout_listener.local_addr()?,
        payments: payments_listener.local_addr()?,
        third_party: third_party_listener.local_addr()?,
    };

    let Sinks {
        checkout: checkout_sink,
        payments: payments_sink,
        destination,
        store,
        flush,
    } = sinks(&options)?;
    let recorder = Recorder::default();
    let shop_port = addresses.shop.port();
    let shop_origins = ["127.0.0.1", "localhost"]
        .iter()
        .filter_map(|h| HeaderValue::from_str(&format!("http://{h}:{shop_port}")).ok())
        .collect();
    let payments_url = format!("http://{}", addresses.payments);

    let where_spans = match &destination {
        SpanDestination::Store(path, _) => format!("stored in {}", path.display()),
        SpanDestination::Otlp(endpoint) => format!("exported over OTLP to {endpoint}"),
    };
    let routers: Vec<(TcpListener, Router)> = vec![
        (
            shop,
            web::router(WebConfig {
                store,
                destination,
                recorder: recorder.clone(),
                checkout_port: addresses.checkout.port(),
                third_party_port: addresses.third_party.port(),
                host: options.host.clone(),
                static_dir: options.static_dir.clone(),
                pkg_dir: options.pkg_dir.clone(),
            }),
        ),
        (
            checkout_listener,
            checkout::router(
                payments_url,
                options.shipping_url.clone(),
                shop_origins,
                subscriber(checkout_sink, "checkout"),
            ),
        ),
        (
            payments_listener,
            payments::router(subscriber(payments_sink, "payments")),
        ),
        (third_party_listener, third_party::router(recorder)),
    ];

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut servers = tokio::task::JoinSet::new();
    for (listener, router) in routers {
        let mut stop = stop_rx.clone();
        servers.spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await
        });
    }
    ready(&addresses, &where_spans);
    let (stopping_tx, stopping) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
        let _ = stopping_tx.send(());
    });
    // Serve until told to stop (or a server fails); then requests in flight get a bounded
    // time to finish. A request cut short still closes its spans.
    {
        let served = async {
            while let Some(result) = servers.join_next().await {
                result.map_err(io::Error::other)??;
            }
            Ok::<(), io::Error>(())
        };
        tokio::pin!(served);
        tokio::select! {
            result = &mut served => result?,
            _ = stopping => {
                if tokio::time::timeout(options.shutdown_timeout, &mut served).await.is_err() {
                    println!(
                        "usertrail-demo: requests still running after {:?}: cut short",
                        options.shutdown_timeout
                    );
                }
            }
        }
    }
    servers.shutdown().await;
    let flushed = flush.flush(options.shutdown_timeout).await;
    println!("usertrail-demo: stopped: {flushed}");
    Ok(flushed)
}
