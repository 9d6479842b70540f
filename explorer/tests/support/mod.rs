//! What more than one test file needs: the explorer service on a free port, OTLP/HTTP
//! protobuf bodies, and the ingest benchmark's clients. `mod support;` in each test file.

// Each test file is a crate of its own and uses only some of these.
#![allow(dead_code)]

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};
use prost::Message;
use usertrail_explorer::server::{self, Options};

/// The content type of OTLP/HTTP protobuf bodies.
pub(crate) const PROTOBUF: &str = "application/x-protobuf";

/// The flags of a span whose parent is remote (an entry span).
const REMOTE_PARENT: u32 = 0x100 | 0x200;

/// Runs the explorer service with `options` (its `listen` should be `127.0.0.1:0`) until
/// `shutdown` completes; its base URL, `http://127.0.0.1:port`, once it listens.
pub(crate) async fn serve(
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> String {
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        server::run(
            options,
            move |addr| {
                let _ = addr_tx.send(addr);
            },
            shutdown,
        )
        .await
        .unwrap();
    });
    format!("http://{}", addr_rx.await.expect("the service starts"))
}

/// Now, in nanoseconds since the Unix epoch.
pub(crate) fn now_ns() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    )
    .unwrap()
}

/// A string attribute.
pub(crate) fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

/// A span of trace `[trace; 16]` with id `[id; 8]`, started a millisecond ago and lasting
/// 250 µs; a server span's parent is remote.
pub(crate) fn otlp_span(
    trace: u8,
    id: u8,
    parent: Option<u8>,
    kind: span::SpanKind,
    name: &str,
    attributes: &[(&str, &str)],
) -> Span {
    let start = now_ns() - 1_000_000;
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        flags: if kind == span::SpanKind::Server {
            REMOTE_PARENT
        } else {
            0x100
        },
        name: name.into(),
        kind: kind as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: start + 250_000,
        attributes: attributes.iter().map(|(k, v)| kv(k, v)).collect(),
        ..Default::default()
    }
}

/// An export of `spans` from a Python service named `service`, in the instrumentation scope
/// `scope`.
pub(crate) fn request(service: &str, scope: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", service),
                    kv("telemetry.sdk.language", "python"),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: scope.into(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// The ingest benchmark's load: for each of `clients` clients, `requests` protobuf bodies
/// of `spans` spans each, every span of its own number (a quarter of them entry spans with
/// the identity, four spans a trace).
pub(crate) fn ingest_bodies(clients: u64, requests: u64, spans: u64) -> Vec<Vec<Vec<u8>>> {
    (0..clients)
        .map(|c| {
            (0..requests)
                .map(|r| {
                    let batch = (0..spans)
                        .map(|i| {
                            let n = (c * requests + r) * spans + i;
                            let entry = i % 4 == 0;
                            let mut s = otlp_span(
                                1,
                                1,
                                (!entry).then_some(2),
                                if entry {
                                    span::SpanKind::Server
                                } else {
                                    span::SpanKind::Internal
                                },
                                "POST /api/checkout",
                                &[
                                    ("user.id", &format!("user_{}", n % 5_000)),
                                    ("account.id", &format!("account_{}", n % 800)),
                                    ("session.id", "5afb433c-40c3-4974-a7c2-8d5933cc67f6"),
                                    ("http.request.method", "POST"),
                                    ("url.path", "/api/checkout"),
                                ],
                            );
                            s.trace_id = [[0x42; 8], (n / 4 + 1).to_be_bytes()].concat();
                            s.span_id = (n + 1).to_be_bytes().to_vec();
                            s
                        })
                        .collect();
                    request("checkout", "x", batch).encode_to_vec()
                })
                .collect()
        })
        .collect()
}

/// Posts each client's bodies to `{base}/v1/traces`, the clients at once and each one's
/// bodies in turn, retrying a body answered 429 or 503 until it is answered 200; the
/// seconds it all took.
pub(crate) async fn post_all(base: &str, bodies: Vec<Vec<Vec<u8>>>) -> f64 {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client_bodies in bodies {
        let url = format!("{base}/v1/traces");
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for body in client_bodies {
                loop {
                    let res = client
                        .post(&url)
                        .header("content-type", PROTOBUF)
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    match res.status().as_u16() {
                        200 => break,
                        429 | 503 => tokio::time::sleep(Duration::from_millis(50)).await,
                        other => panic!("status {other}"),
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    started.elapsed().as_secs_f64()
}

/// The machine's 1, 5 and 15 minute load averages, printed beside the numbers (other work on
/// the machine slows them).
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// CPU time so far, in ns, of this process's live threads named `name` (`/proc/self/task/*/comm`;
/// their `schedstat`), for CPU per span beside the wall clock, which other work on the machine
/// slows. 0 where `/proc` is not there.
pub(crate) fn thread_cpu_ns(name: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm")).is_ok_and(|c| c.trim_end() == name)
        })
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// User and system CPU time so far, in ns, of every thread of process `pid` (`self` for this
/// one; `/proc/PID/stat`, in `USER_HZ` ticks, 100 a second on Linux whatever the kernel's own
/// tick); 0 where `/proc` is not there.
pub(crate) fn process_cpu_ns(pid: &str) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // The fields after the command name (which may hold spaces, in parentheses): utime is
    // the 14th field of the line, stime the 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) * 10_000_000
}
