//! What the server tests share (`tests/server.rs` with axum for both services,
//! `tests/actix.rs` with actix-web for the first): one `UsertrailLayer` per test binary, the
//! browser's request, and the five spans of a browser -> A -> B trace with their parenting.

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use http::HeaderMap;
use tracing_subscriber::prelude::*;
use usertrail_propagator::tracing::{MemorySink, SpanKind, SpanRecord, UsertrailLayer};
use usertrail_propagator::{SpanId, TraceId};

/// The session id in [`BROWSER_BAGGAGE`].
pub(crate) const SESSION: &str = "5afb433c-40c3-4974-a7c2-8d5933cc67f6";
/// The `baggage` header the browser SDK sends with a user and an account set.
pub(crate) const BROWSER_BAGGAGE: &str =
    "session.id=5afb433c-40c3-4974-a7c2-8d5933cc67f6,user.id=user_123,account.id=account_456";
/// The trace the browser started, as in [`browser_request`].
pub(crate) const BROWSER_TRACE: &str = "00000000000000000dc58f7d2f4a95d4";
/// The browser's span, the parent of service A's entry span.
pub(crate) const BROWSER_SPAN: &str = "065cc2043656824c";

/// One subscriber for the whole test binary; tests tell their spans apart by trace id.
pub(crate) fn sink() -> &'static MemorySink {
    static SINK: OnceLock<MemorySink> = OnceLock::new();
    SINK.get_or_init(|| {
        let sink = MemorySink::new();
        tracing_subscriber::registry()
            .with(UsertrailLayer::new(sink.clone()).with_service("test"))
            .init();
        sink
    })
}

/// The spans of `trace_id`, once `count` of them have closed (spans close just after the
/// response is handed to the server, so the client may see the response first).
pub(crate) async fn spans_of(trace_id: TraceId, count: usize) -> Vec<SpanRecord> {
    let of_trace = || -> Vec<SpanRecord> {
        sink()
            .records()
            .into_iter()
            .filter(|r| r.trace_id == trace_id)
            .collect()
    };
    for _ in 0..200 {
        let spans = of_trace();
        if spans.len() >= count {
            return spans;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "expected {count} spans for {trace_id}, got {:#?}",
        of_trace()
    );
}

/// The one span of `spans` that `pred` picks.
pub(crate) fn one<'a>(
    spans: &'a [SpanRecord],
    what: &str,
    pred: impl Fn(&SpanRecord) -> bool,
) -> &'a SpanRecord {
    let found: Vec<_> = spans.iter().filter(|r| pred(r)).collect();
    assert_eq!(found.len(), 1, "one {what} in {spans:#?}");
    found[0]
}

/// Serves `app` on a free port of 127.0.0.1; its base URL.
pub(crate) async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// A request header as text.
pub(crate) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).map(|v| v.to_str().unwrap().to_owned())
}

/// GET `url` as the browser SDK sends it: [`BROWSER_TRACE`] sampled, Datadog's RUM
/// `tracestate`, and [`BROWSER_BAGGAGE`]; asserts a 200 and returns the body.
pub(crate) async fn browser_request(url: &str) -> String {
    let response = reqwest::Client::new()
        .get(url)
        .header(
            "traceparent",
            format!("00-{BROWSER_TRACE}-{BROWSER_SPAN}-03"),
        )
        .header("tracestate", "dd=s:1;o:rum")
        .header("baggage", BROWSER_BAGGAGE)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The spans of a browser -> A -> B request: A's entry span, its `compute` child span, the
/// client span of the call to B inside it, B's entry span and its `db.query` child span.
pub(crate) struct BrowserToAToB {
    pub(crate) a: SpanRecord,
    pub(crate) compute: SpanRecord,
    pub(crate) client: SpanRecord,
    pub(crate) b: SpanRecord,
    pub(crate) db: SpanRecord,
}

impl BrowserToAToB {
    /// The five spans of [`BROWSER_TRACE`], A's entry span found by `a_path`, B's by
    /// `/b/orders`; asserts there are five, each parented as browser -> A -> compute ->
    /// client -> B -> db.query.
    pub(crate) async fn find(a_path: &str) -> Self {
        let spans = spans_of(TraceId::parse(BROWSER_TRACE).unwrap(), 5).await;
        assert_eq!(spans.len(), 5, "{spans:#?}");
        let entry = |path: &str| {
            one(&spans, path, |r| {
                r.kind == SpanKind::Server && r.tag("url.path") == Some(path)
            })
            .clone()
        };
        let found = BrowserToAToB {
            a: entry(a_path),
            b: entry("/b/orders"),
            compute: one(&spans, "compute", |r| r.name == "compute").clone(),
            client: one(&spans, "client span", |r| r.kind == SpanKind::Client).clone(),
            db: one(&spans, "db.query", |r| r.name == "db.query").clone(),
        };
        assert_eq!(
            found.a.parent_id,
            Some(SpanId::parse(BROWSER_SPAN).unwrap())
        );
        assert_eq!(found.compute.parent_id, Some(found.a.span_id));
        assert_eq!(found.client.parent_id, Some(found.compute.span_id));
        assert_eq!(found.b.parent_id, Some(found.client.span_id));
        assert_eq!(found.db.parent_id, Some(found.b.span_id));
        found
    }
}
