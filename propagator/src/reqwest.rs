//! `reqwest-middleware`: every outgoing request continues the current request's trace.
//!
//! ```
//! use reqwest_middleware::ClientBuilder;
//! use usertrail_propagator::reqwest::PropagateContextMiddleware;
//!
//! let client = ClientBuilder::new(reqwest::Client::new())
//!     .with(PropagateContextMiddleware::new())
//!     .build();
//! # let _ = client;
//! ```

use alloc::boxed::Box;

use ::tracing::Instrument;
use ::tracing::field::Empty;
use http::Extensions;
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next, Result};

use crate::tracing::{CLIENT_SPAN_NAME, RequestContext, TARGET, new_span_id};

/// A `reqwest_middleware::Middleware` that injects the current request's context (see
/// [`RequestContext::current`]) into each outgoing request: a client span
/// `http.client.request` (target `usertrail`) is opened around it, and its new span id is
/// the parent id sent downstream (same trace id, `sampled`/`random` flags kept,
/// `tracestate` with the `dd` member in front when Datadog propagation is on, baggage
/// passed on). Outside a request, requests go out untouched.
///
/// # Examples
///
/// ```
/// let middleware = usertrail_propagator::reqwest::PropagateContextMiddleware::new();
/// # let _ = middleware;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct PropagateContextMiddleware {
    _private: (),
}

impl PropagateContextMiddleware {
    /// The middleware.
    ///
    /// # Examples
    ///
    /// ```
    /// const M: usertrail_propagator::reqwest::PropagateContextMiddleware =
    ///     usertrail_propagator::reqwest::PropagateContextMiddleware::new();
    /// # let _ = M;
    /// ```
    pub const fn new() -> Self {
        PropagateContextMiddleware { _private: () }
    }
}

#[async_trait::async_trait]
impl Middleware for PropagateContextMiddleware {
    async fn handle(
        &self,
        mut req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Result<Response> {
        let Some(cx) = RequestContext::current() else {
            return next.run(req, extensions).await;
        };
        let span_id = new_span_id();
        let span = ::tracing::info_span!(
            target: TARGET,
            CLIENT_SPAN_NAME,
            otel.kind = "client",
            otel.status_code = Empty,
            span_id = %span_id,
            http.request.method = req.method().as_str(),
            server.address = req.url().host_str(),
            url.path = req.url().path(),
            http.response.status_code = Empty,
            error = Empty,
        );
        #[cfg(feature = "opentelemetry")]
        let span_id = if cx.state.config.opentelemetry {
            crate::otel::span_id_of(&span).unwrap_or(span_id)
        } else {
            span_id
        };
        cx.inject_with_span_id(req.headers_mut(), span_id);
        let result = next.run(req, extensions).instrument(span.clone()).await;
        match &result {
            Ok(response) => {
                let status = response.status().as_u16();
                span.record("http.response.status_code", status);
                span.record("error", status >= 500);
                if status >= 500 {
                    span.record("otel.status_code", "ERROR");
                }
            }
            Err(_) => {
                span.record("error", true);
                span.record("otel.status_code", "ERROR");
            }
        }
        result
    }
}
