//! Real HTTP on 127.0.0.1: a browser-shaped request reaches service A, an actix-web app with
//! `actix::PropagateContext`, which calls service B, an axum app with `PropagateContextLayer`,
//! through the reqwest middleware; the entry spans are captured with `UsertrailLayer`.
#![cfg(all(feature = "actix", feature = "axum", feature = "reqwest"))]

mod support;

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpResponse, HttpServer, web};
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use http::HeaderMap;
use reqwest_middleware::ClientBuilder;
use tracing::Instrument;
use usertrail_propagator::TraceId;
use usertrail_propagator::actix::PropagateContext;
use usertrail_propagator::reqwest::PropagateContextMiddleware;
use usertrail_propagator::tower::PropagateContextLayer;
use usertrail_propagator::tracing::{RequestContext, SpanKind, TagValue, User, set_user};

use support::{
    BROWSER_BAGGAGE, BROWSER_TRACE, BrowserToAToB, SESSION, browser_request, header, one, serve,
    sink, spans_of,
};

/// The `traceparent` and `baggage` service B received.
type Seen = Arc<Mutex<Vec<(Option<String>, Option<String>)>>>;

/// B (axum): records what came in; `set_user` from inside a child span.
async fn orders(State(seen): State<Seen>, headers: HeaderMap) -> &'static str {
    seen.lock()
        .unwrap()
        .push((header(&headers, "traceparent"), header(&headers, "baggage")));
    async {
        assert!(set_user(User::new("svc-user-b").with_role("admin")));
    }
    .instrument(tracing::info_span!("db.query"))
    .await;
    "orders"
}

async fn serve_b(seen: Seen) -> String {
    let app = Router::new()
        .route("/b/orders", get(orders))
        .with_state(seen)
        .layer(PropagateContextLayer::new());
    serve(app).await
}

/// A (actix-web): the request from the extensions, a child span, then a call to B.
async fn checkout(b_url: web::Data<String>, cx: web::ReqData<RequestContext>) -> HttpResponse {
    cx.set_tag("cart.items", "3");
    let client = ClientBuilder::new(reqwest::Client::new())
        .with(PropagateContextMiddleware::new())
        .build();
    let status = async {
        client
            .get(format!("{}/b/orders", b_url.get_ref()))
            .send()
            .await
            .unwrap()
            .status()
    }
    .instrument(tracing::info_span!("compute"))
    .await;
    assert_eq!(status, 200);
    HttpResponse::Ok().body(cx.trace_id().to_string())
}

async fn fails() -> Result<HttpResponse, actix_web::Error> {
    Err(actix_web::error::ErrorServiceUnavailable("down"))
}

fn serve_a(b_url: String) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        App::new()
            .wrap(PropagateContext::new())
            .app_data(web::Data::new(b_url.clone()))
            .route("/a/checkout/{cart}", web::get().to(checkout))
            .route("/a/fails", web::get().to(fails))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    url
}

#[actix_web::test]
async fn browser_to_actix_a_to_axum_b_is_one_trace_with_both_entry_spans_tagged() {
    sink();
    let seen: Seen = Arc::default();
    let b_url = serve_b(Arc::clone(&seen)).await;
    let a_url = serve_a(b_url);

    let body = browser_request(&format!("{a_url}/a/checkout/7?step=pay")).await;
    assert_eq!(body, BROWSER_TRACE);
    let BrowserToAToB {
        a,
        compute,
        client: client_span,
        b,
        db,
    } = BrowserToAToB::find("/a/checkout/7").await;

    let (traceparent, baggage) = seen.lock().unwrap()[0].clone();
    assert_eq!(
        traceparent.unwrap(),
        format!("00-{BROWSER_TRACE}-{}-03", client_span.span_id),
        "same trace, A's client span as parent, flags kept"
    );
    assert_eq!(baggage.as_deref(), Some(BROWSER_BAGGAGE));

    // Both entry spans tagged; B's service-set user wins over the baggage's.
    assert_eq!(a.name, "http.request");
    assert_eq!(a.tag("usr.id"), Some("user_123"));
    assert_eq!(a.tag("account.id"), Some("account_456"));
    assert_eq!(a.tag("session.id"), Some(SESSION));
    assert_eq!(a.tag("cart.items"), Some("3"), "set through web::ReqData");
    assert_eq!(b.tag("usr.id"), Some("svc-user-b"));
    assert_eq!(b.tag("usr.role"), Some("admin"));
    assert_eq!(b.tag("account.id"), Some("account_456"));
    assert_eq!(b.tag("session.id"), Some(SESSION));
    for child in [&compute, &client_span, &db] {
        assert_eq!(child.tag("usr.id"), None, "{child:#?}");
    }

    // A's HTTP attributes, from actix-web's request.
    assert_eq!(a.tag("http.request.method"), Some("GET"));
    assert_eq!(a.tag("http.route"), Some("/a/checkout/{cart}"));
    assert_eq!(a.otel_name(), "GET /a/checkout/{cart}");
    assert_eq!(a.tag("url.query"), Some("step=pay"));
    assert_eq!(a.tag("url.scheme"), Some("http"));
    assert_eq!(a.tag("server.address"), Some("127.0.0.1"));
    assert!(matches!(a.value("server.port"), Some(TagValue::I64(p)) if *p > 0));
    assert_eq!(a.tag("network.protocol.version"), Some("1.1"));
    assert_eq!(
        a.value("http.response.status_code"),
        Some(&TagValue::I64(200))
    );
    assert!(!a.error);
    assert_eq!(a.tag("error"), None);
}

#[actix_web::test]
async fn an_actix_error_finishes_the_entry_span_with_its_status() {
    sink();
    let a_url = serve_a(String::from("http://127.0.0.1:9"));
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let response = reqwest::Client::new()
        .get(format!("{a_url}/a/fails"))
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let spans = spans_of(TraceId::parse(trace).unwrap(), 1).await;
    let a = one(&spans, "A entry", |r| r.kind == SpanKind::Server);
    assert_eq!(
        a.value("http.response.status_code"),
        Some(&TagValue::I64(503))
    );
    assert!(a.error);
    assert_eq!(a.tag("error.type"), Some("503"));
}
