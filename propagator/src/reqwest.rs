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

use crate::tracing::{
    CLIENT_SPAN_NAME, RequestContext, TARGET, http_span_name, new_span_id, semconv,
};

/// A `reqwest_middleware::Middleware` that injects the current request's context (see
/// [`RequestContext::current`]) into each outgoing request: a client span
/// `http.client.request` (target `usertrail`) is opened around it, and its new span id is
/// the parent id sent downstream (same trace id, `sampled`/`random` flags kept,
/// `tracestate` with the `dd` member in front when Datadog propagation is on, baggage
/// passed on). Outside a request, requests go out untouched.
///
/// The client span follows OpenTelemetry's HTTP client conventions: named after the method
/// (`POST`), with `http.request.method`, `url.full` (credentials and signatures redacted),
/// `server.address`, `server.port`, `http.response.status_code` and
/// `network.protocol.version`; on a 4xx, a 5xx or no response, `error` = `true`,
/// `error.type` (the status code, or `timeout`, `connect`…) and an `ERROR` status, which are
/// absent otherwise.
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
        let url = req.url();
        let (method, method_replaced) = semconv::normalize_method(req.method().as_str());
        let span = ::tracing::info_span!(
            target: TARGET,
            CLIENT_SPAN_NAME,
            otel.kind = "client",
            otel.name = http_span_name(method, None).as_str(),
            otel.status_code = Empty,
            otel.status_message = Empty,
            span_id = %span_id,
            http.request.method = method,
            http.request.method_original = method_replaced.then_some(req.method().as_str()),
            server.address = url.host_str(),
            // As `i64`: tracing-opentelemetry exports unsigned fields as text.
            server.port = url.port_or_known_default().map(i64::from),
            url.full = semconv::redact_url(url.as_str()).as_ref(),
            http.response.status_code = Empty,
            network.protocol.version = Empty,
            error = Empty,
            error.type = Empty,
        );
        #[cfg(feature = "opentelemetry")]
        let span_id = if cx.state.config.opentelemetry {
            crate::otel::span_id_of(&span).unwrap_or(span_id)
        } else {
            span_id
        };
        cx.inject_with_span_id(req.headers_mut(), span_id);
        let result = next.run(req, extensions).instrument(span.clone()).await;
        // Only failures are recorded: `error` and `error.type` are absent when all went
        // well. A client's 4xx is an error (OpenTelemetry's and Datadog's default).
        match &result {
            Ok(response) => {
                let status = response.status().as_u16();
                span.record("http.response.status_code", i64::from(status));
                if let Some(version) = semconv::protocol_version(response.version()) {
                    span.record("network.protocol.version", version);
                }
                if status >= 400 {
                    span.record("error", true);
                    span.record("error.type", ::tracing::field::display(status));
                    span.record("otel.status_code", "ERROR");
                }
            }
            Err(e) => {
                span.record("error", true);
                span.record("error.type", error_type(e));
                span.record("otel.status_code", "ERROR");
                span.record("otel.status_message", ::tracing::field::display(e));
            }
        }
        result
    }
}

/// `error.type` of a request that got no response: a short, low-cardinality class.
fn error_type(error: &reqwest_middleware::Error) -> &'static str {
    match error {
        reqwest_middleware::Error::Reqwest(e) if e.is_timeout() => "timeout",
        reqwest_middleware::Error::Reqwest(e) if e.is_connect() => "connect",
        reqwest_middleware::Error::Reqwest(e) if e.is_redirect() => "redirect",
        reqwest_middleware::Error::Reqwest(e) if e.is_body() => "body",
        reqwest_middleware::Error::Reqwest(e) if e.is_builder() => "builder",
        reqwest_middleware::Error::Middleware(_) => "middleware",
        _ => semconv::OTHER_ERROR,
    }
}
