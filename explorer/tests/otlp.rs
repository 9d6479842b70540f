//! The `usertrail-explorer` server on a free port of 127.0.0.1 with a fresh store: real
//! OTLP/HTTP requests (protobuf from opentelemetry-proto's types, JSON as the OTLP spec
//! writes it, gzip), then the spans are looked for through the explorer's JSON API.

mod support;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1::span;
use prost::Message;
use serde_json::Value;
use support::{PROTOBUF, kv, now_ns, otlp_span, request};
use usertrail_explorer::server::{self, Options};
use usertrail_explorer::store::Retention;
use usertrail_propagator::tracing::INSTRUMENTATION_NAME;

/// `google.rpc.Status`, as an OTLP exporter decodes an error body.
#[derive(Clone, PartialEq, Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

struct Explorer {
    url: String,
    dir: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    client: reqwest::Client,
}

impl Drop for Explorer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn start(configure: impl FnOnce(&mut Options)) -> Explorer {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("usertrail-otlp-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut options = Options {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.clone(),
        retention: Retention::default(),
        ..Options::default()
    };
    configure(&mut options);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let url = support::serve(options, async move {
        let _ = stopped.await;
    })
    .await;
    Explorer {
        url,
        dir,
        stop: Some(stop),
        client: reqwest::Client::new(),
    }
}

impl Explorer {
    async fn post(
        &self,
        content_type: &str,
        encoding: Option<&str>,
        body: Vec<u8>,
    ) -> reqwest::Response {
        let mut r = self
            .client
            .post(format!("{}/v1/traces", self.url))
            .header("content-type", content_type)
            .body(body);
        if let Some(e) = encoding {
            r = r.header("content-encoding", e);
        }
        r.send().await.unwrap()
    }

    async fn export(&self, req: &ExportTraceServiceRequest) -> ExportTraceServiceResponse {
        let res = self.post(PROTOBUF, None, req.encode_to_vec()).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], PROTOBUF);
        ExportTraceServiceResponse::decode(res.bytes().await.unwrap()).unwrap()
    }

    async fn get(&self, path_and_query: &str) -> Value {
        let res = self
            .client
            .get(format!("{}{path_and_query}", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path_and_query}");
        serde_json::from_slice(&res.bytes().await.unwrap()).unwrap()
    }

    async fn search(&self, q: &str, entry: bool) -> Value {
        let q: String = q
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        self.get(&format!("/api/search?q={q}&entry={}", u8::from(entry)))
            .await
    }
}

fn services(found: &Value) -> Vec<String> {
    let mut s: Vec<String> = found["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service"].as_str().unwrap().to_owned())
        .collect();
    s.sort();
    s
}

/// A checkout (OpenTelemetry Python with `BaggageSpanProcessor`, called by the browser) and
/// payments (which sets its own user), one trace.
fn checkout_and_payments(trace: u8) -> (ExportTraceServiceRequest, ExportTraceServiceRequest) {
    let baggage = [
        ("user.id", "user_123"),
        ("account.id", "account_456"),
        ("session.id", "sess_1"),
    ];
    let mut entry_attributes = baggage.to_vec();
    entry_attributes.extend([
        ("http.request.method", "POST"),
        ("url.path", "/api/checkout"),
    ]);
    let checkout = request(
        "checkout",
        "opentelemetry.instrumentation.flask",
        vec![
            otlp_span(
                trace,
                1,
                Some(9),
                span::SpanKind::Server,
                "POST /api/checkout",
                &entry_attributes,
            ),
            otlp_span(
                trace,
                2,
                Some(1),
                span::SpanKind::Internal,
                "cart.validate",
                &baggage,
            ),
            otlp_span(
                trace,
                3,
                Some(1),
                span::SpanKind::Client,
                "POST /charge",
                &baggage,
            ),
        ],
    );
    let payments = request(
        "payments",
        "io.opentelemetry.java",
        vec![otlp_span(
            trace,
            4,
            Some(3),
            span::SpanKind::Server,
            "POST /charge",
            &[
                ("usr.id", "user_123"),
                ("user.id", "user_123"),
                ("usr.role", "admin"),
            ],
        )],
    );
    (checkout, payments)
}

#[tokio::test]
async fn protobuf_spans_are_found_by_user_with_the_identity_on_entry_spans_only() {
    let explorer = start(|_| {}).await;
    let (checkout, payments) = checkout_and_payments(0xab);
    let response = explorer.export(&checkout).await;
    assert_eq!(response.partial_success, None);
    explorer.export(&payments).await;

    let found = explorer.search("@usr.id:user_123", true).await;
    assert_eq!(found["total"], 2, "{found}");
    assert_eq!(services(&found), ["checkout", "payments"]);

    // Where each value came from, and the filter on it.
    let baggage = explorer
        .search("@usr.id:user_123 @usr.id.source:baggage", true)
        .await;
    assert_eq!(services(&baggage), ["checkout"]);
    let own = explorer.search("@usr.id.source:service", true).await;
    assert_eq!(services(&own), ["payments"]);
    let entry = &baggage["spans"][0];
    assert_eq!(entry["tags"]["account.id"], "account_456");
    assert_eq!(entry["tags"]["account.id.source"], "baggage");
    assert_eq!(entry["tags"]["session.id"], "sess_1");
    assert_eq!(entry["resource"], "POST /api/checkout");
    assert_eq!(entry["tags"]["telemetry.sdk.language"], "python");

    // The whole trace: children keep no identity.
    let trace = explorer
        .get(&format!("/api/trace/{}", "ab".repeat(16)))
        .await;
    let spans = trace["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 4);
    for s in spans {
        let identity = ["usr.id", "user.id", "account.id", "session.id"]
            .iter()
            .filter(|k| s["tags"].get(**k).is_some())
            .count();
        if s["kind"] == "server" {
            assert!(identity > 0, "{s}");
        } else {
            assert_eq!(identity, 0, "a child span keeps no identity: {s}");
        }
    }
    let kinds: Vec<&str> = spans.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "server").count(),
        2,
        "{kinds:?}"
    );

    // Impact: who did the errors hurt (here: every span of the trace).
    let impact = explorer
        .get("/api/impact?q=service%3Acheckout&entry=0")
        .await;
    assert_eq!(impact["users"][0]["usr_id"], "user_123", "{impact}");
}

#[tokio::test]
async fn json_bodies_as_the_otlp_spec_writes_them() {
    let explorer = start(|_| {}).await;
    let start_ns = now_ns();
    let body = serde_json::json!({
        "resourceSpans": [{
            "resource": { "attributes": [{ "key": "service.name", "value": { "stringValue": "orders-node" } }] },
            "scopeSpans": [{
                "scope": { "name": "@opentelemetry/instrumentation-http" },
                "spans": [{
                    "traceId": "5b8efff798038103d269b633813fc60c",
                    "spanId": "eee19b7ec3c1b174",
                    "parentSpanId": "eee19b7ec3c1b173",
                    "flags": 768,
                    "name": "GET /orders",
                    "kind": 2,
                    "startTimeUnixNano": start_ns.to_string(),
                    "endTimeUnixNano": (start_ns + 6_000_000_000).to_string(),
                    "attributes": [
                        { "key": "enduser.id", "value": { "stringValue": "user_789" } },
                        { "key": "http.response.status_code", "value": { "intValue": "502" } }
                    ],
                    "status": { "code": 2 }
                }]
            }]
        }]
    });
    let res = explorer
        .post("application/json", None, serde_json::to_vec(&body).unwrap())
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let ack: Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    assert!(
        ack.get("partialSuccess").is_none_or(Value::is_null),
        "{ack}"
    );

    let found = explorer
        .search(
            "@usr.id:user_789 status:error @duration:>5s @http.response.status_code:>=500",
            true,
        )
        .await;
    assert_eq!(found["total"], 1, "{found}");
    let span = &found["spans"][0];
    assert_eq!(span["service"], "orders-node");
    assert_eq!(span["trace_id"], "5b8efff798038103d269b633813fc60c");
    assert_eq!(span["tags"]["usr.id.source"], "service");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[tokio::test]
async fn gzip_bodies_are_decompressed() {
    let explorer = start(|_| {}).await;
    let (checkout, _) = checkout_and_payments(0x11);
    let res = explorer
        .post(PROTOBUF, Some("gzip"), gzip(&checkout.encode_to_vec()))
        .await;
    assert_eq!(res.status(), 200);
    let found = explorer.search("service:checkout", false).await;
    assert_eq!(found["total"], 3, "{found}");
}

#[tokio::test]
async fn bad_bodies_get_a_400_with_a_status_in_the_request_encoding() {
    let explorer = start(|_| {}).await;
    // Field 1 (resource_spans) says 100 bytes follow; 3 do.
    let res = explorer
        .post(PROTOBUF, None, vec![0x0a, 100, 1, 2, 3])
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["content-type"], PROTOBUF);
    let status = RpcStatus::decode(res.bytes().await.unwrap()).unwrap();
    assert_eq!(status.code, 3);
    assert!(
        status.message.contains("ExportTraceServiceRequest"),
        "{}",
        status.message
    );

    let res = explorer
        .post("application/json", None, b"{\"resourceSpans\": [".to_vec())
        .await;
    assert_eq!(res.status(), 400);
    let status: Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    assert_eq!(status["code"], 3);

    let res = explorer
        .post(PROTOBUF, Some("gzip"), b"not gzip at all".to_vec())
        .await;
    assert_eq!(res.status(), 400);
    let status = RpcStatus::decode(res.bytes().await.unwrap()).unwrap();
    assert!(status.message.contains("gzip"), "{}", status.message);

    // Nothing was stored.
    assert_eq!(explorer.search("", false).await["total"], 0);
}

#[tokio::test]
async fn other_content_types_get_a_415() {
    let explorer = start(|_| {}).await;
    let (checkout, _) = checkout_and_payments(0x22);
    for content_type in ["text/plain", "application/grpc", "application/protobuf-ish"] {
        let res = explorer
            .post(content_type, None, checkout.encode_to_vec())
            .await;
        assert_eq!(res.status(), 415, "{content_type}");
    }
    let res = explorer
        .post(PROTOBUF, Some("br"), checkout.encode_to_vec())
        .await;
    assert_eq!(res.status(), 415);
    // With parameters, the media type still counts.
    let res = explorer
        .post(
            "application/x-protobuf; charset=binary",
            None,
            checkout.encode_to_vec(),
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn bodies_over_the_limit_get_a_413_compressed_or_not() {
    let explorer = start(|o| o.max_body = 4096).await;
    let big = request(
        "checkout",
        "x",
        (1..=60u8)
            .map(|i| {
                otlp_span(
                    0x33,
                    i,
                    None,
                    span::SpanKind::Server,
                    "GET /big",
                    &[("pad", &"x".repeat(100))],
                )
            })
            .collect(),
    )
    .encode_to_vec();
    assert!(big.len() > 4096);
    let res = explorer.post(PROTOBUF, None, big.clone()).await;
    assert_eq!(res.status(), 413);
    let status = RpcStatus::decode(res.bytes().await.unwrap()).unwrap();
    assert!(status.message.contains("--max-body"), "{}", status.message);

    // Small on the wire, over the limit once decompressed.
    let compressed = gzip(&big);
    assert!(compressed.len() < 4096, "{}", compressed.len());
    let res = explorer.post(PROTOBUF, Some("gzip"), compressed).await;
    assert_eq!(res.status(), 413);
    assert_eq!(explorer.search("", false).await["total"], 0);
}

#[tokio::test]
async fn spans_without_valid_ids_are_a_partial_success() {
    let explorer = start(|_| {}).await;
    let mut bad = otlp_span(0x44, 1, None, span::SpanKind::Server, "bad", &[]);
    bad.trace_id = vec![1, 2, 3];
    let zero = otlp_span(0, 2, None, span::SpanKind::Server, "zero trace id", &[]);
    let good = otlp_span(0x44, 3, None, span::SpanKind::Server, "good", &[]);
    let response = explorer
        .export(&request("checkout", "x", vec![bad, zero, good]))
        .await;
    let partial = response.partial_success.expect("a partial success");
    assert_eq!(partial.rejected_spans, 2);
    assert!(
        partial.error_message.contains("trace id"),
        "{}",
        partial.error_message
    );
    let found = explorer.search("", false).await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["spans"][0]["name"], "good");
}

#[tokio::test]
async fn a_full_queue_answers_429_with_retry_after_and_the_queued_spans_still_land() {
    let explorer = start(|o| o.queue_spans = 1).await;
    // Hold the store's write lock, as a slow disk would: the writer waits, the queue fills.
    let lock = rusqlite::Connection::open(explorer.dir.join(server::STORE_FILE)).unwrap();
    lock.execute_batch("BEGIN EXCLUSIVE").unwrap();

    let first = {
        let url = format!("{}/v1/traces", explorer.url);
        let body = request(
            "checkout",
            "x",
            vec![otlp_span(
                0x55,
                1,
                None,
                span::SpanKind::Server,
                "first",
                &[],
            )],
        )
        .encode_to_vec();
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .header("content-type", PROTOBUF)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while explorer.get("/api/status").await["queued"] != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the first request never queued"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = request(
        "checkout",
        "x",
        vec![otlp_span(
            0x55,
            2,
            None,
            span::SpanKind::Server,
            "second",
            &[],
        )],
    );
    let res = explorer.post(PROTOBUF, None, second.encode_to_vec()).await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "1");
    let status = RpcStatus::decode(res.bytes().await.unwrap()).unwrap();
    assert!(status.message.contains("full"), "{}", status.message);

    lock.execute_batch("COMMIT").unwrap();
    assert_eq!(first.await.unwrap(), 200);
    let found = explorer.search("", false).await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["spans"][0]["name"], "first");
    // Room again.
    assert_eq!(explorer.export(&second).await.partial_success, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_many_connections_gets_back_pressure_and_every_200_is_stored() {
    const SENDERS: u64 = 200;
    const SPANS: u64 = 50;
    let explorer = start(|o| o.queue_spans = 500).await;
    // A slow disk (the store's write lock held): the queue fills, and what does not fit must
    // be refused at once rather than held in memory.
    let lock = rusqlite::Connection::open(explorer.dir.join(server::STORE_FILE)).unwrap();
    lock.execute_batch("BEGIN EXCLUSIVE").unwrap();

    let answered = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let url = format!("{}/v1/traces", explorer.url);
    let senders: Vec<_> = support::ingest_bodies(SENDERS, 1, SPANS)
        .into_iter()
        .map(|mut bodies| {
            let (url, answered) = (url.clone(), std::sync::Arc::clone(&answered));
            tokio::spawn(async move {
                // A client each: a connection each.
                let res = reqwest::Client::new()
                    .post(url)
                    .header("content-type", PROTOBUF)
                    .body(bodies.remove(0))
                    .send()
                    .await
                    .unwrap();
                answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let retry_after = res.headers().get("retry-after").cloned();
                (res.status().as_u16(), retry_after)
            })
        })
        .collect();

    // Most are refused while the queue is full; the explorer still answers its API meanwhile.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while answered.load(std::sync::atomic::Ordering::Relaxed) < SENDERS / 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the flood was held, not refused"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = explorer.get("/api/status").await;
    assert!(status["queued"].as_u64().unwrap() <= 500, "{status}");

    lock.execute_batch("COMMIT").unwrap();
    let mut accepted = 0;
    let mut refused = 0;
    for sender in senders {
        match sender.await.unwrap() {
            (200, _) => accepted += 1,
            (429 | 503, retry_after) => {
                assert!(retry_after.is_some(), "back-pressure says when to retry");
                refused += 1;
            }
            (other, _) => panic!("status {other}"),
        }
    }
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
    let found = wait_for(&explorer, "every acknowledged span", |found| {
        found["total"] == accepted * SPANS
    })
    .await;
    assert_eq!(
        found["total"],
        accepted * SPANS,
        "exactly the acknowledged spans"
    );
}

async fn wait_for(explorer: &Explorer, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let found = explorer.search("", false).await;
        if ok(&found) {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: {} spans stored",
            found["total"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn retention_drops_spans_older_than_the_age() {
    let explorer = start(|o| o.retention.max_age = Some(Duration::from_secs(3600))).await;
    let mut old = otlp_span(0x66, 1, None, span::SpanKind::Server, "two hours ago", &[]);
    old.start_time_unix_nano -= 2 * 3600 * 1_000_000_000;
    old.end_time_unix_nano -= 2 * 3600 * 1_000_000_000;
    let new = otlp_span(0x66, 2, None, span::SpanKind::Server, "just now", &[]);
    explorer
        .export(&request("checkout", "x", vec![old, new]))
        .await;
    let found = wait_for(&explorer, "the old span is dropped", |f| f["total"] == 1).await;
    assert_eq!(found["spans"][0]["name"], "just now");
}

#[tokio::test]
async fn retention_keeps_the_store_under_its_size_oldest_spans_first() {
    const LIMIT: u64 = 1 << 20;
    let explorer = start(|o| o.retention.max_bytes = Some(LIMIT)).await;
    let pad = "p".repeat(400);
    let mut sent = 0u64;
    for batch in 0..20u64 {
        let spans = (0..250u64)
            .map(|i| {
                let n = batch * 250 + i;
                let mut s = otlp_span(
                    0x77,
                    1,
                    None,
                    span::SpanKind::Server,
                    "GET /x",
                    &[("pad", &pad)],
                );
                s.span_id = (n + 1).to_be_bytes().to_vec();
                s.trace_id = [[0x77; 8], (n + 1).to_be_bytes()].concat();
                s.start_time_unix_nano = now_ns() - 1_000_000_000_000 + n * 1_000_000;
                s.attributes.push(kv("n", &n.to_string()));
                s
            })
            .collect();
        explorer.export(&request("checkout", "x", spans)).await;
        sent += 250;
    }
    let path = explorer.dir.join(server::STORE_FILE);
    let file_size = || std::fs::metadata(&path).unwrap().len();
    let found = wait_for(&explorer, "the store shrinks under its size", |f| {
        f["total"].as_u64().unwrap() < sent && file_size() <= 2 * LIMIT
    })
    .await;
    assert!(found["total"].as_u64().unwrap() > 0, "{found}");
    // The newest is kept, the oldest went.
    assert_eq!(found["spans"][0]["tags"]["n"], (sent - 1).to_string());
    assert_eq!(explorer.search("@n:0", false).await["total"], 0);
}

#[test]
fn help_explains_every_option() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_usertrail-explorer"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for option in [
        "--listen",
        "--data-dir",
        "--max-body",
        "--queue-spans",
        "--retention-age",
        "--retention-size",
        "--synthetic",
        "default 127.0.0.1:4318",
    ] {
        assert!(help.contains(option), "{option} missing from --help");
    }
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_usertrail-explorer"))
        .arg("--max-body=lots")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[tokio::test]
async fn usertrail_propagator_spans_count_as_baggage_unless_set_user_left_proof() {
    let explorer = start(|_| {}).await;
    let from_baggage = otlp_span(
        0x88,
        1,
        Some(9),
        span::SpanKind::Server,
        "POST /api/checkout",
        &[("usr.id", "user_123")],
    );
    let after_set_user = otlp_span(
        0x88,
        2,
        Some(8),
        span::SpanKind::Server,
        "POST /charge",
        &[("usr.id", "user_123"), ("usr.role", "admin")],
    );
    explorer
        .export(&request(
            "checkout",
            INSTRUMENTATION_NAME,
            vec![from_baggage],
        ))
        .await;
    explorer
        .export(&request(
            "payments",
            INSTRUMENTATION_NAME,
            vec![after_set_user],
        ))
        .await;
    let baggage = explorer
        .search("@usr.id:user_123 @usr.id.source:baggage", true)
        .await;
    assert_eq!(services(&baggage), ["checkout"]);
    let own = explorer
        .search("@usr.id:user_123 -@usr.id.source:baggage", true)
        .await;
    assert_eq!(services(&own), ["payments"]);
}

#[tokio::test]
async fn queries_over_the_cap_or_too_deep_get_a_400() {
    let explorer = start(|_| {}).await;
    for q in ["(".repeat(5_000), "(".repeat(100)] {
        let res = explorer
            .client
            .get(format!(
                "{}/api/search?q={}",
                explorer.url,
                q.replace('(', "%28")
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let body: Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
        assert!(body["error"]["message"].is_string(), "{body}");
    }
}

/// Starts the binary on a free port; its URL.
fn spawn_binary(dir: &std::path::Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_usertrail-explorer"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(json) = line.strip_prefix("usertrail-explorer ready ") {
            let ready: Value = serde_json::from_str(json).unwrap();
            return (child, ready["url"].as_str().unwrap().to_owned());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the explorer did not start");
}

#[tokio::test]
async fn spans_acknowledged_with_200_survive_the_process_being_killed() {
    let dir = std::env::temp_dir().join(format!("usertrail-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (mut child, url) = spawn_binary(&dir);
    let (checkout, payments) = checkout_and_payments(0x99);
    let client = reqwest::Client::new();
    for req in [&checkout, &payments] {
        let res = client
            .post(format!("{url}/v1/traces"))
            .header("content-type", PROTOBUF)
            .body(req.encode_to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    child.kill().unwrap(); // SIGKILL: no shutdown, no flush
    child.wait().unwrap();

    let (mut again, url) = spawn_binary(&dir);
    let found: Value = serde_json::from_slice(
        &client
            .get(format!("{url}/api/trace/{}", "99".repeat(16)))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(found["spans"].as_array().unwrap().len(), 4, "{found}");
    again.kill().unwrap();
    again.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `cargo test -p usertrail-explorer --release --test otlp -- --ignored --nocapture ingest_throughput`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --release -- --ignored --nocapture ingest_throughput"]
async fn ingest_throughput() {
    const CLIENTS: u64 = 4;
    const SPANS: u64 = 2_000;
    // INGEST_REQUESTS=5: a tenth of the load, for a run under callgrind.
    let requests: u64 = std::env::var("INGEST_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let explorer = start(|_| {}).await;
    let bodies = support::ingest_bodies(CLIENTS, requests, SPANS);
    let (writer, process) = (
        support::thread_cpu_ns("ingest"),
        support::process_cpu_ns("self"),
    );
    let secs = support::post_all(&explorer.url, bodies).await;
    let writer = support::thread_cpu_ns("ingest") - writer;
    let process = support::process_cpu_ns("self") - process;
    let total = CLIENTS * requests * SPANS;
    let per_span = |ns: u64| ns as f64 / 1_000.0 / total as f64;
    println!(
        "ingest_throughput: {total} spans over OTLP/HTTP protobuf ({CLIENTS} clients, {SPANS} spans a request) stored in {secs:.1} s: {:.0} spans/s; CPU a span: writer thread {:.2} µs, whole process {:.2} µs; load average {}",
        total as f64 / secs,
        per_span(writer),
        per_span(process),
        support::load_average()
    );
    assert_eq!(explorer.search("", false).await["total"], total);
}
