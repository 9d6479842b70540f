//! Requests/s of an axum hello world on 127.0.0.1, three ways, printed side by side:
//!
//! * `bare`: no layer, no subscriber;
//! * `usertrail`: `PropagateContextLayer` + a registry with `UsertrailLayer` and a no-op sink
//!   (entry spans are opened, tagged and turned into `SpanRecord`s, then dropped);
//! * `usertrail-nosub` (for reference): the same layer without any subscriber: propagation
//!   and the request context only, the entry span disabled;
//! * `otel`: the OpenTelemetry equivalent: `TraceContextPropagator` + `BaggagePropagator`
//!   extraction in an `axum::middleware::from_fn`, a `tracing` span with `set_parent` and the
//!   identity from baggage as fields, `tracing-opentelemetry` with an `SdkTracerProvider`
//!   whose simple span processor exports to a discarding exporter.
//!
//! ```text
//! cargo bench -p usertrail-propagator --features axum,opentelemetry --bench server
//! BENCH_REQUESTS=100000 BENCH_CONCURRENCY=64 BENCH_ROUNDS=5 cargo bench … --bench server
//! ```
//!
//! Every request carries a browser's `traceparent`, `tracestate: dd=s:1;o:rum` and
//! `baggage: session.id=…,user.id=user_123,account.id=account_456`. The load generator is
//! in-process: `BENCH_CONCURRENCY` keep-alive HTTP/1.1 connections (hyper client), each
//! sending its next request when the previous response has been read, until
//! `BENCH_REQUESTS` responses have come back (after a warm-up of a tenth of that). Client and
//! server share one tokio runtime with 2 worker threads, so they compete for the same cores:
//! the numbers are lower than with an external generator, and the relative cost of a layer
//! is diluted by the client's share of the CPU in the same way for all three variants. Each
//! variant runs in its own process (a global subscriber each), rounds are interleaved to
//! spread machine noise, and the median round is reported.
//!
//! Then, so that the figure holds on a noisy machine, each variant runs under
//! `valgrind --tool=callgrind` twice, with `BENCH_CALLGRIND_REQUESTS` (default 2,000) and
//! twice as many requests after the same warm-up: the difference in instructions over the
//! difference in requests is the instructions per request (client and server together, as in
//! the requests/s figure), without the start-up. `BENCH_CALLGRIND=0` skips it (and it is
//! skipped when `valgrind` is not installed).

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use http_body_util::{BodyExt, Empty as EmptyBody};
use hyper_util::rt::TokioIo;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::HeaderExtractor;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing::Instrument;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::prelude::*;
use usertrail_propagator::tower::PropagateContextLayer;
use usertrail_propagator::tracing::{NoopSink, UsertrailLayer};

const MODES: [&str; 4] = ["bare", "usertrail", "otel", "usertrail-nosub"];
const CHILD_FLAG: &str = "--usertrail-bench-child";

const TRACEPARENT: &str = "00-00000000000000000dc58f7d2f4a95d4-065cc2043656824c-01";
const TRACESTATE: &str = "dd=s:1;o:rum";
const BAGGAGE: &str =
    "session.id=5afb433c-40c3-4974-a7c2-8d5933cc67f6,user.id=user_123,account.id=account_456";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == CHILD_FLAG) {
        let mode = args[i + 1].as_str();
        let requests: usize = args[i + 2].parse().unwrap();
        let concurrency: usize = args[i + 3].parse().unwrap();
        let warmup: usize = args[i + 4].parse().unwrap();
        let rps = child(mode, requests, concurrency, warmup);
        println!("RPS {rps:.0}");
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: run a short smoke.
    let smoke = !args.iter().any(|a| a == "--bench");
    let requests = env_usize("BENCH_REQUESTS", if smoke { 2_000 } else { 50_000 });
    let concurrency = env_usize("BENCH_CONCURRENCY", 32);
    let rounds = env_usize("BENCH_ROUNDS", if smoke { 1 } else { 3 });
    println!(
        "axum hello world, {requests} requests x {rounds} rounds, {concurrency} connections, in-process hyper client, 2 worker threads"
    );
    let exe = std::env::current_exe().unwrap();
    let mut results: Vec<Vec<f64>> = vec![Vec::new(); MODES.len()];
    for round in 1..=rounds {
        for (m, mode) in MODES.iter().enumerate() {
            let out = Command::new(&exe)
                .args([
                    CHILD_FLAG,
                    mode,
                    &requests.to_string(),
                    &concurrency.to_string(),
                    &(requests / 10).max(100).to_string(),
                ])
                .output()
                .expect("run child");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let rps: f64 = stdout
                .lines()
                .find_map(|l| l.strip_prefix("RPS "))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| {
                    panic!(
                        "{mode}: no result\n{stdout}\n{}",
                        String::from_utf8_lossy(&out.stderr)
                    )
                });
            println!("  round {round}: {mode:<16} {rps:>10.0} req/s");
            results[m].push(rps);
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let medians: Vec<f64> = results.iter_mut().map(median).collect();
    let bare = medians[0];
    println!();
    println!(
        "{:<34} {:>12} {:>9}",
        "variant (median)", "req/s", "of bare"
    );
    let labels = [
        "bare axum",
        "usertrail layer + UsertrailLayer",
        "OTel propagators + tracing-otel",
        "(usertrail layer, no subscriber)",
    ];
    for (label, rps) in labels.iter().zip(&medians) {
        println!("{label:<34} {rps:>12.0} {:>8.1}%", rps / bare * 100.0);
    }
    println!(
        "usertrail vs OTel stack: {:+.1}% req/s",
        (medians[1] / medians[2] - 1.0) * 100.0
    );
    if smoke || env_usize("BENCH_CALLGRIND", 1) == 0 {
        return;
    }
    let base = env_usize("BENCH_CALLGRIND_REQUESTS", 2_000);
    // Fewer connections: valgrind runs one thread at a time.
    let connections = concurrency.min(8);
    let Some(per_request) = MODES
        .iter()
        .map(|mode| {
            let small = instructions(&exe, mode, base, connections)?;
            let large = instructions(&exe, mode, 2 * base, connections)?;
            Some(large.saturating_sub(small) as f64 / base as f64)
        })
        .collect::<Option<Vec<f64>>>()
    else {
        println!("(valgrind not found: no instruction counts)");
        return;
    };
    println!();
    println!(
        "callgrind, instructions per request ({base} vs {} requests, {connections} connections)",
        2 * base
    );
    println!("{:<34} {:>12} {:>9}", "variant", "instr/req", "of bare");
    for (label, ir) in labels.iter().zip(&per_request) {
        println!(
            "{label:<34} {ir:>12.0} {:>8.1}%",
            ir / per_request[0] * 100.0
        );
    }
    println!(
        "usertrail layer's own cost: {:.0} instructions per request (OTel stack: {:.0})",
        per_request[1] - per_request[0],
        per_request[2] - per_request[0]
    );
}

/// Instructions callgrind counts for one child run of `requests` requests after a warm-up
/// of 200; `None` when valgrind cannot be run.
fn instructions(
    exe: &std::path::Path,
    mode: &str,
    requests: usize,
    connections: usize,
) -> Option<u64> {
    let out = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            exe.to_str()?,
            CHILD_FLAG,
            mode,
            &requests.to_string(),
            &connections.to_string(),
            "200",
        ])
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let collected = stderr.lines().find_map(|l| {
        l.split_once("Collected :")
            .map(|(_, n)| n.trim().to_owned())
    });
    match collected.and_then(|n| n.parse().ok()) {
        Some(n) => Some(n),
        None => panic!("{mode}: no callgrind count\n{stderr}"),
    }
}

/// Runs one variant in this process; returns requests/s.
fn child(mode: &str, requests: usize, concurrency: usize, warmup: usize) -> f64 {
    let hello = Router::new().route("/", get(|| async { "Hello, World!" }));
    let (app, provider) = match mode {
        "bare" => (hello, None),
        "usertrail" => {
            tracing_subscriber::registry()
                .with(UsertrailLayer::new(NoopSink).with_service("bench"))
                .init();
            (hello.layer(PropagateContextLayer::new()), None)
        }
        "usertrail-nosub" => (hello.layer(PropagateContextLayer::new()), None),
        "otel" => {
            let provider = SdkTracerProvider::builder()
                .with_simple_exporter(Discard)
                .build();
            tracing_subscriber::registry()
                .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")))
                .init();
            (
                hello.layer(axum::middleware::from_fn(otel_middleware)),
                Some(provider),
            )
        }
        other => panic!("unknown mode {other}"),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let rps = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        load(addr, warmup, concurrency).await;
        let start = Instant::now();
        load(addr, requests, concurrency).await;
        requests as f64 / start.elapsed().as_secs_f64()
    });
    if let Some(provider) = provider {
        let _ = provider.shutdown();
    }
    rps
}

/// `total` requests over `concurrency` keep-alive connections.
async fn load(addr: std::net::SocketAddr, total: usize, concurrency: usize) {
    let issued = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let issued = Arc::clone(&issued);
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .unwrap();
            tokio::spawn(conn);
            while issued.fetch_add(1, Ordering::Relaxed) < total {
                let request = http::Request::get("/")
                    .header(http::header::HOST, "127.0.0.1")
                    .header("traceparent", TRACEPARENT)
                    .header("tracestate", TRACESTATE)
                    .header("baggage", BAGGAGE)
                    .body(EmptyBody::<Bytes>::new())
                    .unwrap();
                sender.ready().await.unwrap();
                let response = sender.send_request(request).await.unwrap();
                assert!(response.status().is_success());
                let body = response.into_body().collect().await.unwrap().to_bytes();
                assert_eq!(body.len(), 13);
            }
        }));
    }
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(300), task)
            .await
            .expect("load timed out")
            .unwrap();
    }
}

/// The OpenTelemetry way: extract with OTel's propagators, parent a tracing span, tag it with
/// the baggage identity, run the handler inside it, record the status.
async fn otel_middleware(request: Request, next: Next) -> Response {
    let parent = otel_propagator().extract(&HeaderExtractor(request.headers()));
    let span = tracing::info_span!(
        "http.request",
        otel.kind = "server",
        http.request.method = request.method().as_str(),
        url.path = request.uri().path(),
        http.response.status_code = Empty,
        usr.id = Empty,
        account.id = Empty,
        session.id = Empty,
    );
    let baggage = parent.baggage();
    for (key, attribute) in [
        ("user.id", "usr.id"),
        ("account.id", "account.id"),
        ("session.id", "session.id"),
    ] {
        if let Some(value) = baggage.get(key) {
            span.record(attribute, value.as_str());
        }
    }
    let _ = span.set_parent(parent);
    let response = next.run(request).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    response
}

fn otel_propagator() -> &'static TextMapCompositePropagator {
    static PROPAGATOR: std::sync::OnceLock<TextMapCompositePropagator> = std::sync::OnceLock::new();
    PROPAGATOR.get_or_init(|| {
        TextMapCompositePropagator::new(vec![
            Box::new(TraceContextPropagator::new()),
            Box::new(BaggagePropagator::new()),
        ])
    })
}

/// Exports nowhere.
#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        drop(batch);
        std::future::ready(Ok(()))
    }
}
