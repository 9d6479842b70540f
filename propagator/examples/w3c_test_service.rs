//! The service under test of the W3C Trace Context conformance suite
//! (`w3c/trace-context`, `test/test.py`).
//!
//! ```text
//! cargo run -p usertrail-propagator --features axum,reqwest --example w3c_test_service
//! # in a checkout of w3c/trace-context:
//! python test/test.py http://127.0.0.1:5000/test
//! ```
//!
//! The harness POSTs a JSON array `[{"url": …, "arguments": […]}, …]` to `/test` with trace
//! headers. For each element, in order, this service POSTs `arguments` as JSON to `url` as a
//! participant that continues the incoming trace: same trace id, a new parent id per outgoing
//! request, the `sampled` and `random` flags kept, `tracestate` passed on; an invalid
//! `traceparent` restarts the trace (new random trace id, flags `03`), and an invalid
//! `tracestate` (strict: one bad member invalidates it) is not sent. It answers once every
//! callback has completed.
//!
//! `PORT` (default 5000) sets the port on 127.0.0.1. `tests/w3c.rs` plays the harness
//! against [`serve`].

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use http::StatusCode;
use http::header::CONTENT_TYPE;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use serde_json::Value;
use usertrail_propagator::PropagatorType;
use usertrail_propagator::reqwest::PropagateContextMiddleware;
use usertrail_propagator::tower::PropagateContextLayer;

/// Only W3C Trace Context in and out: the suite checks `traceparent` and `tracestate`
/// exactly, so no Datadog `dd` member is added.
const W3C: &[PropagatorType] = &[PropagatorType::TraceContext];

/// The `/test` route behind usertrail's layer.
pub(crate) fn app() -> Router {
    let client = ClientBuilder::new(reqwest::Client::new())
        .with(PropagateContextMiddleware::new())
        .build();
    Router::new()
        .route(
            "/test",
            post(move |body: Bytes| run_cases(client.clone(), body)),
        )
        .layer(
            PropagateContextLayer::new()
                .with_extract(W3C)
                .with_inject(W3C),
        )
}

async fn run_cases(client: ClientWithMiddleware, body: Bytes) -> StatusCode {
    // Whatever the content type: the harness's body is JSON.
    let Ok(Value::Array(cases)) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    for case in &cases {
        let Some(url) = case.get("url").and_then(Value::as_str) else {
            continue;
        };
        let arguments = case
            .get("arguments")
            .cloned()
            .unwrap_or(Value::Array(Vec::new()));
        // Each callback gets its own parent id (the middleware's client span).
        let sent = client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .body(arguments.to_string())
            .send()
            .await;
        if let Err(e) = sent {
            eprintln!("callback to {url} failed: {e}");
        }
    }
    StatusCode::OK
}

/// Serves [`app`] on `listener` until the process ends.
pub(crate) async fn serve(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, app()).await
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "5000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!(
        "W3C Trace Context test service on http://{}/test",
        listener.local_addr()?
    );
    serve(listener).await
}
