//! CORS for the browser SDK: a backend on another origin must allow the trace headers, or the
//! browser fails the preflight and the whole request.
//!
//! ```text
//! cargo run -p usertrail-propagator --features axum --example cors
//! curl -si -X OPTIONS http://127.0.0.1:3000/api/checkout \
//!   -H 'origin: http://localhost:8080' -H 'access-control-request-method: POST' \
//!   -H 'access-control-request-headers: traceparent,tracestate,baggage'
//! ```

use axum::Router;
use axum::routing::post;
use http::{HeaderValue, Method, header};
use tower_http::cors::CorsLayer;
use usertrail_propagator::PropagatorType;
use usertrail_propagator::cors::{allow_header_names, cors_allow_headers};
use usertrail_propagator::tower::PropagateContextLayer;

/// What the browser SDK is configured to send (`propagatorTypes` there).
const PROPAGATORS: &[PropagatorType] = &[PropagatorType::TraceContext, PropagatorType::Datadog];

fn app() -> Router {
    // The trace headers, plus the application's own.
    let mut allow = allow_header_names(PROPAGATORS);
    allow.push(header::CONTENT_TYPE);
    let cors = CorsLayer::new()
        .allow_origin(HeaderValue::from_static("http://localhost:8080"))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(allow);
    Router::new()
        .route("/api/checkout", post(|| async { "ok" }))
        // CORS outermost: a preflight is answered before it becomes a traced request.
        .layer(PropagateContextLayer::new())
        .layer(cors)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    println!(
        "listening on http://{}; allowed request headers: {}",
        listener.local_addr()?,
        cors_allow_headers(PROPAGATORS).join(", ")
    );
    axum::serve(listener, app()).await
}
