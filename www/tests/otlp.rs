//! The demo binary with `OTEL_EXPORTER_OTLP_ENDPOINT` set, against a collector on 127.0.0.1
//! that decodes every request with OpenTelemetry's own protobuf definitions
//! (`opentelemetry-proto`): what a Jaeger, Tempo or Datadog Agent would receive.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode as OtlpStatus;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, Span};
use prost::Message;

/// A collector that answers each export after `delay`, keeping what it decoded.
#[derive(Clone)]
struct Collector {
    received: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
    delay: Duration,
}

async fn export(State(collector): State<Collector>, body: Bytes) -> impl IntoResponse {
    tokio::time::sleep(collector.delay).await;
    match ExportTraceServiceRequest::decode(body) {
        Ok(request) => {
            collector.received.lock().unwrap().push(request);
            (
                StatusCode::OK,
                [("content-type", "application/x-protobuf")],
                ExportTraceServiceResponse::default().encode_to_vec(),
            )
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            [("content-type", "text/plain")],
            e.to_string().into_bytes(),
        ),
    }
}

impl Collector {
    /// Listens on 127.0.0.1; returns the collector and its endpoint.
    async fn start(delay: Duration) -> (Collector, String) {
        let collector = Collector {
            received: Arc::default(),
            delay,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/v1/traces", post(export))
            .with_state(collector.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (collector, endpoint)
    }

    fn resource_spans(&self) -> Vec<ResourceSpans> {
        let received = self.received.lock().unwrap();
        received
            .iter()
            .flat_map(|r| r.resource_spans.iter().cloned())
            .collect()
    }

    /// Every span received, with its service name.
    fn spans(&self) -> Vec<(String, Span)> {
        let mut out = Vec::new();
        for rs in self.resource_spans() {
            let resource = rs.resource.unwrap_or_default();
            let service = string(&resource.attributes, "service.name").unwrap_or_default();
            for ss in rs.scope_spans {
                for span in ss.spans {
                    out.push((service.clone(), span));
                }
            }
        }
        out
    }

    fn trace(&self, trace_id: &str) -> Vec<(String, Span)> {
        let id = hex(trace_id);
        self.spans()
            .into_iter()
            .filter(|(_, s)| s.trace_id == id)
            .collect()
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn value<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn string(attributes: &[KeyValue], key: &str) -> Option<String> {
    match value(attributes, key) {
        Some(Value::StringValue(s)) => Some(s.clone()),
        _ => None,
    }
}

fn int(attributes: &[KeyValue], key: &str) -> Option<i64> {
    match value(attributes, key) {
        Some(Value::IntValue(n)) => Some(*n),
        _ => None,
    }
}

fn status(span: &Span) -> (OtlpStatus, String) {
    let status = span.status.clone().unwrap_or_default();
    (
        OtlpStatus::try_from(status.code).unwrap_or(OtlpStatus::Unset),
        status.message,
    )
}

/// The one span of `service` named `name`.
fn find<'a>(spans: &'a [(String, Span)], service: &str, name: &str) -> &'a Span {
    let found: Vec<&Span> = spans
        .iter()
        .filter(|(s, span)| s == service && span.name == name)
        .map(|(_, span)| span)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {service} span named {name} in {:#?}",
        spans
            .iter()
            .map(|(s, span)| (s, &span.name))
            .collect::<Vec<_>>()
    );
    found[0]
}

/// The demo, started as a user starts it.
struct Demo {
    child: Child,
    checkout: String,
    output: Arc<Mutex<String>>,
    dir: PathBuf,
}

impl Demo {
    fn start(name: &str, endpoint: &str) -> Demo {
        let dir =
            std::env::temp_dir().join(format!("usertrail-otlp-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("pkg")).unwrap();
        // The demo refuses to start without a built SDK; the page is not used here.
        std::fs::write(dir.join("pkg/index.js"), "").unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_usertrail-demo"))
            .args(["--any-ports", "--shutdown-timeout", "5", "--data-dir"])
            .arg(dir.join("data"))
            .arg("--pkg-dir")
            .arg(dir.join("pkg"))
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
            .env(
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment.name=otlp-test,service.namespace=shop",
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let out = Arc::clone(&output);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(json) = line.strip_prefix("usertrail-demo ready ") {
                    let _ = ready_tx.send(json.to_owned());
                }
                let mut out = out.lock().unwrap();
                out.push_str(&line);
                out.push('\n');
            }
        });
        let stderr = child.stderr.take().unwrap();
        let out = Arc::clone(&output);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut out = out.lock().unwrap();
                out.push_str(&line);
                out.push('\n');
            }
        });
        let ready = ready_rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the demo did not start:\n{}", output.lock().unwrap()));
        let ready: serde_json::Value = serde_json::from_str(&ready).unwrap();
        Demo {
            child,
            checkout: ready["checkout"].as_str().unwrap().to_owned(),
            output,
            dir,
        }
    }

    /// SIGTERM, as a terminal's Ctrl-C or an orchestrator would send, then waits for the exit.
    fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < end,
                "the demo did not exit:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn order(demo: &Demo, trace_id: &str, items: &str, card: &str) -> u16 {
    client()
        .post(format!("{}/api/checkout", demo.checkout))
        .header("content-type", "application/json")
        .header("traceparent", format!("00-{trace_id}-b7ad6b7169203331-01"))
        .header(
            "baggage",
            "session.id=s-otlp,user.id=user_123,account.id=account_456",
        )
        .body(format!(r#"{{"items":{items},"card":"{card}"}}"#))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_answered_just_before_sigterm_reaches_a_slow_collector() {
    // Slower to answer than the batch wait and the old two-second grace together.
    let (collector, endpoint) = Collector::start(Duration::from_millis(2_500)).await;
    let mut demo = Demo::start("sigterm", &endpoint);
    let trace_id = "5bf92f3577b34da6a3ce929d0e0e4736";
    let status = order(&demo, trace_id, r#"[{"id":"beans","qty":1}]"#, "visa").await;
    assert_eq!(status, 200, "{}", demo.output());
    let started = Instant::now();
    let exit = demo.terminate();
    assert!(exit.success(), "{exit:?}\n{}", demo.output());
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "bounded by the shutdown timeout"
    );

    let spans = collector.trace(trace_id);
    let entries: Vec<&str> = spans
        .iter()
        .filter(|(_, s)| s.kind == SpanKind::Server as i32)
        .map(|(service, _)| service.as_str())
        .collect();
    assert!(
        entries.contains(&"checkout"),
        "{spans:#?}\n{}",
        demo.output()
    );
    assert!(
        entries.contains(&"payments"),
        "{spans:#?}\n{}",
        demo.output()
    );
    let output = demo.output();
    let line = output
        .lines()
        .find(|l| l.starts_with("usertrail-demo: stopped: "))
        .unwrap_or_else(|| panic!("no shutdown line in:\n{output}"));
    let flushed: u64 = line["usertrail-demo: stopped: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(flushed as usize >= spans.len(), "{line}");
    assert!(line.contains(" 0 dropped"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_carries_the_resource_and_the_instrumentation_scope() {
    let (collector, endpoint) = Collector::start(Duration::ZERO).await;
    let mut demo = Demo::start("resource", &endpoint);
    let trace_id = "6bf92f3577b34da6a3ce929d0e0e4736";
    let status = order(&demo, trace_id, r#"[{"id":"beans","qty":2}]"#, "visa").await;
    assert_eq!(status, 200, "{}", demo.output());
    assert!(demo.terminate().success());

    let all = collector.resource_spans();
    assert!(!all.is_empty(), "{}", demo.output());
    let mut services = Vec::new();
    for rs in &all {
        let attributes = &rs.resource.as_ref().unwrap().attributes;
        services.push(string(attributes, "service.name").unwrap());
        assert_eq!(
            string(attributes, "service.version").as_deref(),
            Some(env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(
            string(attributes, "telemetry.sdk.name").as_deref(),
            Some("opentelemetry")
        );
        assert_eq!(
            string(attributes, "telemetry.sdk.language").as_deref(),
            Some("rust")
        );
        assert!(string(attributes, "telemetry.sdk.version").is_some());
        assert_eq!(
            string(attributes, "deployment.environment.name").as_deref(),
            Some("otlp-test")
        );
        assert_eq!(
            string(attributes, "service.namespace").as_deref(),
            Some("shop")
        );
        for ss in &rs.scope_spans {
            let scope = ss.scope.as_ref().unwrap();
            assert_eq!(scope.name, "usertrail-propagator");
            assert!(!scope.version.is_empty(), "{scope:?}");
        }
    }
    services.sort_unstable();
    services.dedup();
    assert_eq!(services, ["checkout", "payments"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_follow_the_http_conventions_with_typed_fields_and_events() {
    let (collector, endpoint) = Collector::start(Duration::ZERO).await;
    let mut demo = Demo::start("conventions", &endpoint);
    let ok = "7bf92f3577b34da6a3ce929d0e0e4736";
    assert_eq!(
        order(&demo, ok, r#"[{"id":"beans","qty":2}]"#, "visa").await,
        200
    );
    let gift = "8bf92f3577b34da6a3ce929d0e0e4736";
    assert_eq!(
        order(&demo, gift, r#"[{"id":"gift-card","qty":1}]"#, "visa").await,
        500
    );
    let lookup = "9bf92f3577b34da6a3ce929d0e0e4736";
    let found = client()
        .get(format!("{}/api/orders/ord_42?sig=secret", demo.checkout))
        .header("traceparent", format!("00-{lookup}-b7ad6b7169203331-01"))
        .header("user-agent", "otlp-test/1.0")
        .send()
        .await
        .unwrap();
    assert_eq!(found.status(), 200);
    assert!(demo.terminate().success(), "{}", demo.output());

    // The entry span of checkout: named after the route, the stable server attributes.
    let spans = collector.trace(ok);
    let entry = find(&spans, "checkout", "POST /api/checkout");
    assert_eq!(entry.kind, SpanKind::Server as i32);
    let a = &entry.attributes;
    assert_eq!(string(a, "http.request.method").as_deref(), Some("POST"));
    assert_eq!(string(a, "url.scheme").as_deref(), Some("http"));
    assert_eq!(string(a, "url.path").as_deref(), Some("/api/checkout"));
    assert_eq!(string(a, "http.route").as_deref(), Some("/api/checkout"));
    assert_eq!(int(a, "http.response.status_code"), Some(200));
    assert_eq!(string(a, "server.address").as_deref(), Some("127.0.0.1"));
    let checkout_port: i64 = demo.checkout.rsplit(':').next().unwrap().parse().unwrap();
    assert_eq!(int(a, "server.port"), Some(checkout_port));
    assert_eq!(
        string(a, "network.protocol.version").as_deref(),
        Some("1.1")
    );
    assert_eq!(string(a, "usr.id").as_deref(), Some("user_123"));
    assert_eq!(string(a, "account.id").as_deref(), Some("account_456"));
    assert_eq!(string(a, "session.id").as_deref(), Some("s-otlp"));
    for absent in ["error", "error.type", "duration_ms", "trace_id"] {
        assert!(
            value(a, absent).is_none(),
            "{absent} on a successful entry span"
        );
    }
    assert_eq!(status(entry).0, OtlpStatus::Unset);

    // The client span to payments: `url.full`, `server.port`, no `error` at all.
    let client_span = find(&spans, "checkout", "POST");
    assert_eq!(client_span.kind, SpanKind::Client as i32);
    let a = &client_span.attributes;
    let url_full = string(a, "url.full").unwrap();
    assert!(
        url_full.starts_with("http://127.0.0.1:") && url_full.ends_with("/charge"),
        "{url_full}"
    );
    let payments_port: i64 = url_full["http://127.0.0.1:".len()..url_full.len() - "/charge".len()]
        .parse()
        .unwrap();
    assert_eq!(int(a, "server.port"), Some(payments_port));
    assert_eq!(string(a, "server.address").as_deref(), Some("127.0.0.1"));
    assert_eq!(int(a, "http.response.status_code"), Some(200));
    assert!(value(a, "error").is_none(), "never `error=false`");
    assert!(value(a, "error.type").is_none());
    let payments_entry = find(&spans, "payments", "POST /charge");
    assert_eq!(payments_entry.parent_span_id, client_span.span_id);

    // Child spans keep their fields' types.
    let validate = find(&spans, "checkout", "cart.validate");
    assert_eq!(int(&validate.attributes, "items"), Some(2));

    // The failed reservation: its event exported, its message on the status.
    let spans = collector.trace(gift);
    let reserve = find(&spans, "checkout", "inventory.reserve");
    assert_eq!(
        status(reserve),
        (
            OtlpStatus::Error,
            "gift card service unavailable".to_owned()
        )
    );
    let event = reserve
        .events
        .iter()
        .find(|e| e.name == "gift card service unavailable")
        .unwrap_or_else(|| panic!("{reserve:#?}"));
    assert_eq!(string(&event.attributes, "level").as_deref(), Some("ERROR"));
    assert!(event.time_unix_nano >= reserve.start_time_unix_nano);
    let entry = find(&spans, "checkout", "POST /api/checkout");
    assert_eq!(status(entry).0, OtlpStatus::Error);
    assert_eq!(
        string(&entry.attributes, "error.type").as_deref(),
        Some("500")
    );

    // A route with a parameter: one span name for every order.
    let spans = collector.trace(lookup);
    let entry = find(&spans, "checkout", "GET /api/orders/{id}");
    let a = &entry.attributes;
    assert_eq!(string(a, "http.route").as_deref(), Some("/api/orders/{id}"));
    assert_eq!(string(a, "url.path").as_deref(), Some("/api/orders/ord_42"));
    assert_eq!(string(a, "url.query").as_deref(), Some("sig=REDACTED"));
    assert_eq!(
        string(a, "user_agent.original").as_deref(),
        Some("otlp-test/1.0")
    );
    let child = find(&spans, "checkout", "order.lookup");
    assert!(matches!(
        value(&child.attributes, "found"),
        Some(Value::BoolValue(true))
    ));
}
