//! `tower` middleware: continue the caller's trace and open the service entry span.
//!
//! Add [`PropagateContextLayer`] once, outermost (so that everything the service does runs
//! inside the entry span):
//!
//! ```
//! use tower_layer::Layer;
//! use usertrail_propagator::tower::PropagateContextLayer;
//!
//! # let handler = tower_service_fn();
//! let service = PropagateContextLayer::new().layer(handler);
//! # fn tower_service_fn() -> impl Clone { || () }
//! # let _ = service;
//! ```
//!
//! For each request, [`PropagateContext`]:
//!
//! 1. extracts the caller's context with the core [`extract_with`](crate::extract_with)
//!    (`traceparent`, then Datadog, then B3 by default); when none is valid, starts a trace
//!    with random ids and the `sampled` and Level 2 `random` flags;
//! 2. opens the entry span `http.request` (target `usertrail`) with a new span id, recording
//!    `trace_id` (32 hex digits), `span_id` (16), `parent_id` (the caller's span), the
//!    OpenTelemetry HTTP server attributes (`http.request.method`, `url.scheme`, `url.path`,
//!    `url.query`, `http.route` from axum's `MatchedPath`, `server.address`, `server.port`,
//!    `network.protocol.version`, `user_agent.original`), `otel.name` (`GET /orders/{id}`),
//!    and `session.id`, `usr.id`, `account.id` from the baggage (or `user.id`, see
//!    [`PropagateContextLayer::with_identity_attributes`]); the other fields
//!    (`http.response.status_code`, `error`, `error.type`, `duration_ms`, `usr.*`…) are
//!    declared with `tracing::field::Empty` and recorded later;
//! 3. puts a [`RequestContext`](crate::tracing::RequestContext) in the request's extensions
//!    and calls the inner service inside the span, marking the request current for
//!    [`set_user`](crate::tracing::set_user) and [`inject_current`](crate::tracing::inject_current);
//! 4. when the response is ready (not when its body has been sent), records the status code,
//!    `error` and `error.type` (for a 5xx or a service error; absent otherwise), the duration
//!    and the tags the service set.
//!
//! The entry span is an `INFO` span with target `usertrail`: a filter that drops it (e.g.
//! `EnvFilter` with `usertrail=warn`) disables it, and then nothing is recorded, while the
//! trace is still continued and `set_user` / `inject_current` still work. The span closes
//! when the response head is ready, not when a streamed body has been sent.
//!
//! Datadog's reserved `usr.id` is used for the user, so `@usr.id:user_123 service:checkout
//! status:error` finds the request's traces.

mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::PropagateContextLayer;
pub use service::PropagateContext;
