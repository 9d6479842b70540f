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
//! [`PropagateContext`] is the framework-neutral entry point of [`server`](crate::server) on
//! an `http::Request`: for each request it starts the entry span with
//! [`EntryConfig::start`](crate::server::EntryConfig::start) (the caller's context from the
//! headers; method, path, query, scheme, `Host`, `User-Agent`, HTTP version, and
//! `http.route` from axum's `MatchedPath`), puts a
//! [`RequestContext`](crate::tracing::RequestContext) in the request's extensions, calls the
//! inner service and polls its future inside the entry span with the request marked current
//! (for [`set_user`](crate::tracing::set_user) and
//! [`inject_current`](crate::tracing::inject_current)), and finishes the entry span with the
//! status when the response is ready (not when its body has been sent). The fields and tags
//! are listed in the [`server`](crate::server) module docs.
//!
//! Datadog's reserved `usr.id` is used for the user, so `@usr.id:user_123 service:checkout
//! status:error` finds the request's traces.

mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::PropagateContextLayer;
pub use service::PropagateContext;
