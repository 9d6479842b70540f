//! Real HTTP on 127.0.0.1: a browser-shaped request reaches service A, which calls service B
//! through the reqwest middleware; the entry spans are captured with `UsertrailLayer`.
#![cfg(all(feature = "axum", feature = "reqwest"))]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use http::HeaderMap;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use tracing::Instrument;
use usertrail_propagator::TraceId;
use usertrail_propagator::axum::{Baggage, Identity, TraceContext};
use usertrail_propagator::reqwest::PropagateContextMiddleware;
use usertrail_propagator::tower::PropagateContextLayer;
use usertrail_propagator::tracing::{
    Account, BaggageTagKeys, IdentityAttributes, RequestContext, SpanKind, SpanRecord, TagValue,
    User, inject_current, set_account, set_user,
};

use support::{
    BROWSER_BAGGAGE, BROWSER_TRACE, BrowserToAToB, SESSION, browser_request, header, one, serve,
    sink, spans_of,
};

fn client() -> ClientWithMiddleware {
    ClientBuilder::new(reqwest::Client::new())
        .with(PropagateContextMiddleware::new())
        .build()
}

const IDENTITY_TAGS: [&str; 3] = ["usr.id", "account.id", "session.id"];

/// What service B received.
#[derive(Clone, Debug, Default)]
struct Received {
    traceparent: Option<String>,
    tracestate: Option<String>,
    baggage: Option<String>,
}

type Seen = Arc<Mutex<Vec<Received>>>;

/// B's handler: a child span, and `set_user` from a nested function.
async fn orders(
    State(seen): State<Seen>,
    headers: HeaderMap,
    Identity(identity): Identity,
) -> String {
    seen.lock().unwrap().push(Received {
        traceparent: header(&headers, "traceparent"),
        tracestate: header(&headers, "tracestate"),
        baggage: header(&headers, "baggage"),
    });
    async {
        tracing::info!("querying");
        authorize();
    }
    .instrument(tracing::info_span!("db.query", db.system = "sqlite"))
    .await;
    format!("orders for {:?}", identity.user_id())
}

fn authorize() {
    // Deep inside a child span: still tags B's entry span.
    assert!(set_user(
        User::new("svc-user-b")
            .with_role("admin")
            .with_extra("plan", "pro")
    ));
}

fn service_b(seen: Seen) -> Router {
    Router::new()
        .route("/b/orders", get(orders))
        .with_state(seen)
        .layer(PropagateContextLayer::new())
}

/// A's handler: a child span, then a call to B.
async fn checkout(
    State(b_url): State<String>,
    TraceContext(cx): TraceContext,
) -> (http::StatusCode, String) {
    let response = async {
        tracing::info!("pricing");
        client()
            .get(format!("{b_url}/b/orders"))
            .send()
            .await
            .unwrap()
    }
    .instrument(tracing::info_span!("compute"))
    .await;
    let status = http::StatusCode::from_u16(response.status().as_u16()).unwrap();
    (status, cx.trace_id().to_string())
}

fn service_a(b_url: String) -> Router {
    Router::new()
        .route("/a/checkout", get(checkout))
        .with_state(b_url)
        .layer(PropagateContextLayer::new())
}

#[tokio::test]
async fn browser_to_a_to_b_is_one_trace_with_both_entry_spans_tagged() {
    sink();
    let seen: Seen = Arc::default();
    let b_url = serve(service_b(Arc::clone(&seen))).await;
    let a_url = serve(service_a(b_url)).await;

    let body = browser_request(&format!("{a_url}/a/checkout")).await;
    assert_eq!(body, BROWSER_TRACE);
    let BrowserToAToB {
        a,
        compute,
        client: client_span,
        b,
        db,
    } = BrowserToAToB::find("/a/checkout").await;

    // Parented browser -> A -> (compute -> client) -> B -> db.query (checked by `find`).
    assert_eq!(a.kind, SpanKind::Server);
    assert_eq!(b.kind, SpanKind::Server);
    assert_eq!(a.name, "http.request");
    assert_eq!(a.service, "test");
    assert_ne!(a.span_id, b.span_id);

    // What A injected is what B recorded as its parent.
    let received = seen.lock().unwrap()[0].clone();
    let traceparent = received.traceparent.unwrap();
    assert_eq!(
        traceparent,
        format!("00-{BROWSER_TRACE}-{}-03", client_span.span_id),
        "same trace, A's client span as parent, sampled + random kept"
    );
    let tracestate = received.tracestate.unwrap();
    assert_eq!(
        tracestate,
        format!("dd=s:1;o:rum;p:{}", client_span.span_id),
        "our dd member in front"
    );
    assert_eq!(received.baggage.as_deref(), Some(BROWSER_BAGGAGE));

    // A: the browser's identity.
    assert_eq!(a.tag("usr.id"), Some("user_123"));
    assert_eq!(a.tag("account.id"), Some("account_456"));
    assert_eq!(a.tag("session.id"), Some(SESSION));
    assert_eq!(a.tag("http.request.method"), Some("GET"));
    assert_eq!(
        a.value("http.response.status_code"),
        Some(&TagValue::I64(200))
    );
    assert_eq!(a.tag("error"), None, "recorded only when true");
    assert_eq!(a.tag("error.type"), None, "recorded only on errors");
    // OpenTelemetry's HTTP server conventions.
    assert_eq!(a.tag("url.scheme"), Some("http"));
    assert_eq!(a.tag("url.path"), Some("/a/checkout"));
    assert_eq!(a.tag("http.route"), Some("/a/checkout"));
    assert_eq!(a.otel_name(), "GET /a/checkout");
    assert_eq!(a.tag("server.address"), Some("127.0.0.1"));
    assert!(matches!(a.value("server.port"), Some(TagValue::I64(p)) if *p > 0));
    assert_eq!(a.tag("network.protocol.version"), Some("1.1"));
    assert_eq!(client_span.otel_name(), "GET");
    assert_eq!(client_span.tag("server.address"), Some("127.0.0.1"));
    assert!(matches!(client_span.value("server.port"), Some(TagValue::I64(p)) if *p > 0));
    assert!(!a.error);
    assert!(a.duration > Duration::ZERO, "a column, not a tag");
    assert!(
        a.tags
            .iter()
            .map(|(k, _)| k)
            .all(|k| !k.starts_with("otel.")),
        "{:?}",
        a.tags
    );

    // B: set_user in a nested fn wins over the baggage's user.id.
    assert_eq!(b.tag("usr.id"), Some("svc-user-b"));
    assert_eq!(b.tag("usr.role"), Some("admin"));
    assert_eq!(b.tag("usr.plan"), Some("pro"));
    assert_eq!(b.tag("account.id"), Some("account_456"));
    assert_eq!(b.tag("session.id"), Some(SESSION));

    // Children: same trace, no identity tags.
    for child in [&compute, &client_span, &db] {
        for tag in IDENTITY_TAGS.iter().chain(&["usr.role", "usr.plan"]) {
            assert_eq!(child.tag(tag), None, "{tag} on {child:#?}");
        }
    }
    assert_eq!(db.tag("db.system"), Some("sqlite"));
    assert_eq!(
        client_span.value("http.response.status_code"),
        Some(&TagValue::I64(200))
    );
    assert!(
        client_span
            .tag("url.full")
            .is_some_and(|u| u.starts_with("http://127.0.0.1:") && u.ends_with("/b/orders")),
        "{client_span:#?}"
    );
    assert_eq!(client_span.value("error"), None, "only when true");
    assert_eq!(client_span.value("error.type"), None, "only on errors");
    assert!(b.start >= a.start);
    assert!(a.duration >= b.duration);
}

#[tokio::test]
async fn identity_in_baggage_reaches_the_downstream_entry_span() {
    sink();
    let b_url = serve(
        Router::new()
            .route("/b/plain", get(|| async { "ok" }))
            .layer(PropagateContextLayer::new()),
    )
    .await;
    let a = Router::new()
        .route(
            "/a/login",
            get(|State(b_url): State<String>| async move {
                set_user(User::new("svc-a-user"));
                set_account(
                    Account::new("acct-from-a")
                        .with_name("ACME")
                        .with_extra("tier", "gold"),
                );
                let response = client()
                    .get(format!("{b_url}/b/plain"))
                    .send()
                    .await
                    .unwrap();
                response.text().await.unwrap()
            }),
        )
        .with_state(b_url)
        .layer(PropagateContextLayer::new().with_identity_in_baggage(true));
    let a_url = serve(a).await;

    let trace = "4bf92f3577b34da6a3ce929d0e0e4737";
    let response = reqwest::Client::new()
        .get(format!("{a_url}/a/login"))
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .header("baggage", "user.id=browser-user,theme=dark")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let spans = spans_of(TraceId::parse(trace).unwrap(), 3).await;
    let a = one(&spans, "A entry", |r| {
        r.kind == SpanKind::Server && r.tag("url.path") == Some("/a/login")
    });
    let b = one(&spans, "B entry", |r| {
        r.kind == SpanKind::Server && r.tag("url.path") == Some("/b/plain")
    });
    assert_eq!(a.tag("usr.id"), Some("svc-a-user"));
    assert_eq!(a.tag("account.id"), Some("acct-from-a"));
    assert_eq!(a.tag("account.name"), Some("ACME"));
    assert_eq!(a.tag("account.tier"), Some("gold"));
    // B trusts what A put in the baggage.
    assert_eq!(b.tag("usr.id"), Some("svc-a-user"));
    assert_eq!(b.tag("account.id"), Some("acct-from-a"));
    assert_eq!(b.tag("account.name"), None, "only ids travel");
}

#[tokio::test]
async fn baggage_tag_keys_caps_and_service_precedence() {
    sink();
    let app = Router::new()
        .route(
            "/tags",
            get(
                |TraceContext(cx): TraceContext, Baggage(baggage): Baggage| async move {
                    assert_eq!(baggage.get("tenant").as_deref(), Some("acme"));
                    cx.set_tag("baggage.tenant", "set-by-service");
                    cx.trace_id().to_string()
                },
            ),
        )
        .layer(
            PropagateContextLayer::new()
                .with_baggage_tag_keys(BaggageTagKeys::ALL)
                .with_max_baggage_tags(3)
                .with_max_tag_value_len(16),
        );
    let url = serve(app).await;
    let baggage = format!(
        "tenant=acme,plan=pro,too.long={},user.id=u1,extra1=x,extra2=y,plan=enterprise",
        "x".repeat(17)
    );
    let trace_id = reqwest::Client::new()
        .get(format!("{url}/tags"))
        .header("baggage", baggage)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let spans = spans_of(TraceId::parse(&trace_id).unwrap(), 1).await;
    let entry = &spans[0];
    assert_eq!(entry.parent_id, None, "the trace started here");
    assert_eq!(
        entry.tag("baggage.tenant"),
        Some("set-by-service"),
        "the service wins"
    );
    assert_eq!(
        entry.tag("baggage.plan"),
        Some("enterprise"),
        "last value of a repeated key"
    );
    assert_eq!(
        entry.tag("baggage.too.long"),
        None,
        "over the value cap: dropped, not cut"
    );
    assert_eq!(entry.tag("baggage.user.id"), Some("u1"));
    assert_eq!(entry.tag("usr.id"), Some("u1"));
    assert_eq!(entry.tag("baggage.extra1"), None, "over the tag cap");
    assert_eq!(entry.tag("baggage.extra2"), None, "over the tag cap");
}

#[tokio::test]
async fn spawned_work_finds_the_request() {
    sink();
    let app = Router::new()
        .route(
            "/spawn",
            get(|| async {
                let cx = RequestContext::current().unwrap();
                // Through the span tree (in_current_span + UsertrailLayer on a Registry).
                tokio::spawn(
                    async { assert!(set_user(User::new("from-span-tree").with_scope("a"))) }
                        .in_current_span(),
                )
                .await
                .unwrap();
                // Through an explicit scope.
                tokio::spawn(cx.scope(async {
                    let mut headers = HeaderMap::new();
                    assert!(inject_current(&mut headers).is_some());
                    assert!(usertrail_propagator::tracing::set_tag("job", "resize"));
                }))
                .await
                .unwrap();
                // Without either: nothing to find.
                tokio::spawn(async { assert!(!set_user(User::new("lost"))) })
                    .await
                    .unwrap();
                cx.trace_id().to_string()
            }),
        )
        .layer(PropagateContextLayer::new());
    let url = serve(app).await;
    let trace_id = reqwest::get(format!("{url}/spawn"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let spans = spans_of(TraceId::parse(&trace_id).unwrap(), 1).await;
    assert_eq!(spans[0].tag("usr.id"), Some("from-span-tree"));
    assert_eq!(spans[0].tag("usr.scope"), Some("a"));
    assert_eq!(spans[0].tag("job"), Some("resize"));
}

#[tokio::test]
async fn server_errors_are_flagged() {
    sink();
    let app = Router::new()
        .route(
            "/boom",
            get(|TraceContext(cx): TraceContext| async move {
                (
                    http::StatusCode::SERVICE_UNAVAILABLE,
                    cx.trace_id().to_string(),
                )
            }),
        )
        .route(
            "/missing",
            get(|TraceContext(cx): TraceContext| async move {
                (http::StatusCode::NOT_FOUND, cx.trace_id().to_string())
            }),
        )
        .layer(PropagateContextLayer::new());
    let url = serve(app).await;
    for (path, status, error) in [("/boom", 503, true), ("/missing", 404, false)] {
        let trace_id = reqwest::get(format!("{url}{path}"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let spans = spans_of(TraceId::parse(&trace_id).unwrap(), 1).await;
        assert_eq!(
            spans[0].value("http.response.status_code"),
            Some(&TagValue::I64(status))
        );
        assert_eq!(spans[0].error, error, "{path}");
        assert_eq!(
            spans[0].value("error"),
            error.then_some(&TagValue::Bool(true))
        );
        // OpenTelemetry's: the status code names the error; a 404 is the client's.
        let error_type = status.to_string();
        assert_eq!(
            spans[0].tag("error.type"),
            error.then_some(error_type.as_str())
        );
    }
}

#[tokio::test]
async fn extractors_reject_without_the_layer() {
    let app = Router::new().route("/", get(|_: Identity| async { "unreachable" }));
    let url = serve(app).await;
    let response = reqwest::get(format!("{url}/")).await.unwrap();
    assert_eq!(response.status(), 500);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("PropagateContextLayer")
    );
}

/// Hostile inputs: the handler still answers 200, nothing panics, and over-cap values stay
/// out of the tags.
#[tokio::test]
async fn hostile_inputs() {
    sink();
    let app = Router::new()
        .route(
            "/h",
            get(|TraceContext(cx): TraceContext| async move { cx.trace_id().to_string() }),
        )
        .layer(PropagateContextLayer::new().with_baggage_tag_keys(BaggageTagKeys::ALL));
    let url = serve(app).await;
    let client = reqwest::Client::new();
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    let big_baggage = format!(
        "user.id=ok_user,{}",
        (0..900)
            .map(|i| format!("k{i}=v{i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let thousand = (0..1000)
        .map(|i| format!("m{i}=1"))
        .collect::<Vec<_>>()
        .join(",");
    let over_8k = format!("account.id=a1,pad={}", "p".repeat(9000));
    let huge_user = format!("user.id={}", "u".repeat(100 * 1024));
    let long_user = format!("user.id={},session.id=s1", "u".repeat(300));
    type Check = Box<dyn Fn(&SpanRecord)>;
    type Case = (&'static str, Vec<(&'static str, String)>, Check);
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("8 KB+ baggage, 900 members", vec![("baggage", big_baggage)], Box::new(|r: &SpanRecord| {
            assert_eq!(r.tag("usr.id"), Some("ok_user"));
            let baggage_tags = r.tags.iter().map(|(k, _)| k).filter(|k| k.starts_with("baggage.")).count();
            assert!(baggage_tags <= 16, "{baggage_tags} baggage tags");
        })),
        ("1,000 members", vec![("baggage", thousand)], Box::new(|r: &SpanRecord| {
            assert!(r.tags.iter().map(|(k, _)| k).filter(|k| k.starts_with("baggage.")).count() <= 16);
        })),
        ("one member over 8 KB", vec![("baggage", over_8k)], Box::new(|r: &SpanRecord| {
            assert_eq!(r.tag("account.id"), Some("a1"));
            assert_eq!(r.tag("baggage.pad"), None);
        })),
        ("100 KB user id", vec![("baggage", huge_user)], Box::new(|r: &SpanRecord| {
            assert_eq!(r.tag("usr.id"), None);
        })),
        ("300-byte user id (over the tag cap)", vec![("baggage", long_user)], Box::new(|r: &SpanRecord| {
            assert_eq!(r.tag("usr.id"), None, "dropped, not cut");
            assert_eq!(r.tag("baggage.user.id"), None);
            assert_eq!(r.tag("session.id"), Some("s1"));
        })),
        ("bad percent-encoding", vec![("baggage", "user.id=%zz%4,session.id=%E2%28%A1,account.id=%".into())], Box::new(|r: &SpanRecord| {
            assert_eq!(r.tag("usr.id"), Some("%zz%4"), "kept literally");
            assert_eq!(r.tag("session.id"), Some("\u{FFFD}(\u{FFFD}"));
            assert_eq!(r.tag("account.id"), Some("%"));
        })),
        ("CR/LF attempt", vec![("baggage", "user.id=evil%0D%0Aset-cookie:%20x,account.id=a%09b".into())], Box::new(|r: &SpanRecord| {
            assert_eq!(r.tag("usr.id"), None);
            assert_eq!(r.tag("account.id"), None);
            assert!(r.tags.iter().map(|(_, v)| v).all(|v| !v.to_string().contains(['\r', '\n'])));
        })),
        ("duplicate keys", vec![("baggage", "user.id=first,user.id=second".into()), ("baggage", "user.id=third".into())], Box::new(|r: &SpanRecord| {
            assert_eq!(r.tag("usr.id"), Some("third"), "last wins");
        })),
        ("conflicting Datadog and W3C ids", vec![
            ("traceparent", tp.into()),
            ("x-datadog-trace-id", "1234".into()),
            ("x-datadog-parent-id", "5678".into()),
            ("x-datadog-sampling-priority", "2".into()),
        ], Box::new(|r: &SpanRecord| {
            assert_eq!(r.trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736", "traceparent wins");
            assert_eq!(r.parent_id.unwrap().to_string(), "00f067aa0ba902b7");
        })),
        ("Datadog only", vec![("x-datadog-trace-id", "1234".into()), ("x-datadog-parent-id", "5678".into())], Box::new(|r: &SpanRecord| {
            assert_eq!(r.trace_id.to_u128(), 1234);
            assert_eq!(r.parent_id.unwrap().to_u64(), 5678);
        })),
        ("garbage everywhere", vec![
            ("traceparent", "00-zzzz".into()),
            ("tracestate", "===,,,".into()),
            ("b3", "1-2-3-4-5-6".into()),
            ("baggage", ";;;,=,=x,k=\"q\"".into()),
            ("x-datadog-trace-id", "-1".into()),
        ], Box::new(|r: &SpanRecord| {
            assert_eq!(r.parent_id, None, "a new trace");
            assert!(IDENTITY_TAGS.iter().all(|t| r.tag(t).is_none()));
        })),
    ];
    for (what, headers, check) in cases {
        let mut request = client.get(format!("{url}/h"));
        for (name, value) in &headers {
            request = request.header(*name, value.as_str());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{what}");
        let trace_id = response.text().await.unwrap();
        let spans = spans_of(TraceId::parse(&trace_id).unwrap(), 1).await;
        assert_eq!(spans.len(), 1, "{what}");
        check(&spans[0]);
        for value in spans[0].tags.iter().map(|(_, v)| v) {
            let len = value.to_string().len();
            assert!(len <= 256, "{what}: a tag of {len} bytes");
        }
    }
}

/// The route, not the path, names the span; the query is kept with signatures redacted;
/// child fields keep their types; events inside spans are kept, an error's message goes on
/// the status.
#[tokio::test]
async fn spans_follow_the_http_conventions_and_keep_events() {
    sink();
    let app = Router::new()
        .route(
            "/orders/{id}",
            get(|TraceContext(cx): TraceContext| async move {
                async {
                    tracing::warn!(attempt = 2_u64, "reservation retried");
                    tracing::error!(code = 503_i64, "gift card service unavailable");
                    tracing::error!(error = "a second error");
                }
                .instrument(tracing::info_span!(
                    "inventory.reserve",
                    items = 3_u64,
                    ratio = 0.5_f64,
                    partial = false,
                    delta = -2_i64,
                    sku = "gc-50",
                ))
                .await;
                (
                    http::StatusCode::INTERNAL_SERVER_ERROR,
                    cx.trace_id().to_string(),
                )
            }),
        )
        .layer(PropagateContextLayer::new());
    let url = serve(app).await;
    let response = reqwest::Client::new()
        .post(format!("{url}/orders/42?sig=secret&page=2"))
        .header("user-agent", "usertrail-test/1.0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405, "the route takes GET only");
    let trace_id = reqwest::Client::new()
        .get(format!("{url}/orders/42?sig=secret&page=2"))
        .header("user-agent", "usertrail-test/1.0")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let spans = spans_of(TraceId::parse(&trace_id).unwrap(), 2).await;
    let entry = one(&spans, "entry span", |r| r.kind == SpanKind::Server);
    assert_eq!(entry.otel_name(), "GET /orders/{id}");
    assert_eq!(entry.tag("http.route"), Some("/orders/{id}"));
    assert_eq!(entry.tag("url.path"), Some("/orders/42"));
    assert_eq!(entry.tag("url.query"), Some("sig=REDACTED&page=2"));
    assert_eq!(entry.tag("user_agent.original"), Some("usertrail-test/1.0"));
    assert_eq!(entry.tag("error.type"), Some("500"));
    assert!(entry.error);
    assert_eq!(
        entry.status_message, None,
        "no error event in the entry span itself"
    );

    let child = one(&spans, "child span", |r| r.name == "inventory.reserve");
    assert_eq!(child.value("items"), Some(&TagValue::I64(3)));
    assert_eq!(child.value("ratio"), Some(&TagValue::F64(0.5)));
    assert_eq!(child.value("partial"), Some(&TagValue::Bool(false)));
    assert_eq!(child.value("delta"), Some(&TagValue::I64(-2)));
    assert_eq!(child.tag("sku"), Some("gc-50"));
    assert!(child.error);
    assert_eq!(
        child.status_message.as_deref(),
        Some("gift card service unavailable"),
        "the first error's message"
    );
    let events: Vec<(&str, tracing::Level)> =
        child.events.iter().map(|e| (&*e.name, e.level)).collect();
    assert_eq!(
        events,
        [
            ("reservation retried", tracing::Level::WARN),
            ("gift card service unavailable", tracing::Level::ERROR),
            ("a second error", tracing::Level::ERROR),
        ]
    );
    assert_eq!(
        child.events[0].attributes,
        [("attempt".into(), TagValue::I64(2))]
    );
    assert_eq!(child.events[0].target, module_path!());
    assert!(child.events[0].time >= child.start);
}

#[tokio::test]
async fn a_span_keeps_at_most_128_events() {
    sink();
    let app = Router::new()
        .route(
            "/chatty",
            get(|TraceContext(cx): TraceContext| async move {
                for i in 0..200_u64 {
                    tracing::info!(i, "tick");
                }
                cx.trace_id().to_string()
            }),
        )
        .layer(PropagateContextLayer::new());
    let url = serve(app).await;
    let trace_id = reqwest::get(format!("{url}/chatty"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let spans = spans_of(TraceId::parse(&trace_id).unwrap(), 1).await;
    assert_eq!(spans[0].events.len(), 128);
    assert_eq!(spans[0].dropped_events, 72);
    assert_eq!(spans[0].otel_name(), "GET /chatty");
}

/// One builder option switches the entry span to OpenTelemetry's `user.*` names.
#[tokio::test]
async fn opentelemetry_identity_attribute_names() {
    sink();
    let app = Router::new()
        .route(
            "/me",
            get(|TraceContext(cx): TraceContext| async move {
                set_user(
                    User::new("svc-user")
                        .with_email("ada@example.com")
                        .with_role("admin")
                        .with_extra("plan", "pro"),
                );
                set_account(Account::new("acct-1").with_name("ACME"));
                cx.trace_id().to_string()
            }),
        )
        .route(
            "/anonymous",
            get(|TraceContext(cx): TraceContext| async move { cx.trace_id().to_string() }),
        )
        .layer(
            PropagateContextLayer::new()
                .with_identity_attributes(IdentityAttributes::OpenTelemetry),
        );
    let url = serve(app).await;
    for (path, user_id, account_id) in [
        ("/me", "svc-user", "acct-1"),
        ("/anonymous", "user_123", "account_456"),
    ] {
        let trace_id = reqwest::Client::new()
            .get(format!("{url}{path}"))
            .header("baggage", BROWSER_BAGGAGE)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let spans = spans_of(TraceId::parse(&trace_id).unwrap(), 1).await;
        let entry = &spans[0];
        assert_eq!(entry.tag("user.id"), Some(user_id), "{path}");
        assert_eq!(entry.tag("account.id"), Some(account_id), "{path}");
        assert_eq!(entry.tag("session.id"), Some(SESSION), "{path}");
        assert!(
            entry
                .tags
                .iter()
                .map(|(k, _)| k)
                .all(|k| !k.starts_with("usr.")),
            "no Datadog names: {entry:#?}"
        );
        if path == "/me" {
            assert_eq!(entry.tag("user.email"), Some("ada@example.com"));
            assert_eq!(entry.tag("user.roles"), Some("admin"));
            assert_eq!(entry.tag("user.plan"), Some("pro"));
            assert_eq!(entry.tag("account.name"), Some("ACME"));
        }
    }
}
