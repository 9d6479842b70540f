//! The README's server quick start, compiled by `cargo test` and checked against the README by
//! `tests/readme.rs`: `cargo run -p usertrail-propagator --features axum --example axum_quickstart`.
//! Every request's entry span is printed when it closes, with `usr.id`, `account.id`,
//! `session.id` from the browser's baggage.

use axum::{Router, routing::get};
use tokio::net::TcpListener;
use tracing_subscriber::fmt::format::FmtSpan;
use usertrail_propagator::tower::PropagateContextLayer;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let spans = FmtSpan::CLOSE; // print each entry span, with its tags, when it closes
    tracing_subscriber::fmt().with_span_events(spans).init();
    let app = Router::new()
        .route("/checkout", get(|| async { "ok" }))
        .layer(PropagateContextLayer::new()); // continues the trace, tags the entry span
    axum::serve(TcpListener::bind("127.0.0.1:3000").await?, app).await
}
