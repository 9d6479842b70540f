//! The service entry span for any server framework: start it from a request's headers, run
//! the handler inside it, finish it with the status.
//!
//! The `tower` layer and the `actix` middleware are built on this; a server built on
//! neither calls it directly:
//!
//! ```
//! use usertrail_propagator::server::{EntryConfig, ServerRequest};
//! use usertrail_propagator::tracing::{User, set_user};
//!
//! static CONFIG: EntryConfig = EntryConfig::new();
//!
//! // The request's headers (anything that implements `Extractor`) and what it asks for.
//! let headers = vec![
//!     ("traceparent".to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string()),
//!     ("baggage".to_string(), "user.id=user_123,session.id=s1".to_string()),
//! ];
//! let entry = CONFIG.start(&headers, &ServerRequest::new("GET", "/orders/7").with_route("/orders/{id}"));
//! let status = entry.in_scope(|| {
//!     // The handler: `set_user`, `inject_current`, child spans all see the request.
//!     assert!(set_user(User::new("user_123")));
//!     200
//! });
//! assert_eq!(entry.context().trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
//! entry.finish(status);
//!
//! // A `traceparent` that does not parse starts a new trace.
//! let bad = vec![("traceparent".to_string(), "00-bad".to_string())];
//! let entry = CONFIG.start(&bad, &ServerRequest::new("GET", "/"));
//! assert_eq!(entry.context().parent_id(), None);
//! ```
//!
//! [`EntryConfig::start`]:
//!
//! 1. extracts the caller's context with the core [`extract_with`](crate::extract_with)
//!    (`traceparent`, then Datadog, then B3 by default); when none is valid, starts a trace
//!    with random ids and the `sampled` and Level 2 `random` flags;
//! 2. opens the entry span `http.request` (target `usertrail`) with a new span id, recording
//!    `trace_id` (32 hex digits), `span_id` (16), `parent_id` (the caller's span), the
//!    OpenTelemetry HTTP server attributes (`http.request.method`, `url.scheme`, `url.path`,
//!    `url.query`, `http.route`, `server.address`, `server.port`,
//!    `network.protocol.version`, `user_agent.original`), `otel.name` (`GET /orders/{id}`),
//!    and `session.id`, `usr.id`, `account.id` from the baggage (or `user.id`, see
//!    [`EntryConfig::with_identity_attributes`]); the other fields
//!    (`http.response.status_code`, `error`, `error.type`, `duration_ms`, `usr.*`…) are
//!    declared with `tracing::field::Empty` and recorded later.
//!
//! While the [`EntrySpan`] is [entered](EntrySpan::enter), the request is current for
//! [`set_user`](crate::tracing::set_user) and [`inject_current`](crate::tracing::inject_current).
//! [`EntrySpan::finish`] records the status code, `error` and `error.type` (for a 5xx or a
//! service error; absent otherwise), the duration and the tags the service set; an entry
//! span dropped unfinished (the client went away, a timeout fired) records its duration only.
//!
//! The entry span is an `INFO` span with target `usertrail`: a filter that drops it (e.g.
//! `EnvFilter` with `usertrail=warn`) disables it, and then nothing is recorded, while the
//! trace is still continued and `set_user` / `inject_current` still work.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;
use std::sync::Arc;
use std::time::Instant;

use ::tracing::Span;
use ::tracing::field::{Empty, Value};

use crate::tracing::semconv::{self, HttpSpanName};
use crate::tracing::{
    BaggageTagKeys, Config, DEFAULT_CONFIG, ENTRY_SPAN_NAME, IdentityAttributes, RequestContext,
    RequestState, ScopeGuard, SharedConfig, TARGET, creating_entry_span, enter_scope,
};
use crate::tracing::{TagValue, Tags, intern_tag_value as intern, usertrail_layer_installed};
use crate::{
    ACCOUNT_ID_ATTRIBUTE, Extractor, Identity, PropagatorType, SESSION_ID_ATTRIBUTE,
    USER_ID_ATTRIBUTE,
};

/// `url.query`, `user_agent.original` and `server.address` longer than this (or than the tag
/// value cap, if larger) are left out: a browser's user agent is about 150 bytes.
const MIN_HTTP_VALUE_CAP: usize = 1024;

/// How requests are continued and their entry spans tagged; [`start`](Self::start) opens
/// one request's entry span. Cheap to clone.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::server::EntryConfig;
/// use usertrail_propagator::{tracing::BaggageTagKeys, PropagatorType};
///
/// // The defaults: extract tracecontext, Datadog, B3; inject tracecontext + Datadog;
/// // tag `usr.id`, `account.id`, `session.id` from baggage.
/// static DEFAULTS: EntryConfig = EntryConfig::new();
///
/// let config = EntryConfig::new()
///     .with_inject(&[PropagatorType::TraceContext])
///     .with_baggage_tag_keys(BaggageTagKeys::parse("tenant,plan"))
///     .with_identity_in_baggage(true);
/// # let _ = (&DEFAULTS, config);
/// ```
#[derive(Clone, Debug)]
pub struct EntryConfig {
    config: SharedConfig,
}

impl Default for EntryConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl EntryConfig {
    /// The default configuration (see the type's example).
    ///
    /// # Examples
    ///
    /// ```
    /// const CONFIG: usertrail_propagator::server::EntryConfig = usertrail_propagator::server::EntryConfig::new();
    /// # let _ = CONFIG;
    /// ```
    pub const fn new() -> Self {
        EntryConfig {
            config: SharedConfig::Static(&DEFAULT_CONFIG),
        }
    }

    fn config_mut(&mut self) -> &mut Config {
        if let SharedConfig::Static(config) = self.config {
            self.config = SharedConfig::Shared(Arc::new(config.clone()));
        }
        match &mut self.config {
            SharedConfig::Shared(config) => Arc::make_mut(config),
            SharedConfig::Static(_) => unreachable!("made shared above"),
        }
    }

    /// Formats to extract, in order; the first valid one wins (default:
    /// [`PropagatorType::EXTRACT_ORDER`]). Baggage is always read.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{server::EntryConfig, PropagatorType};
    ///
    /// let w3c_only = EntryConfig::new().with_extract(&[PropagatorType::TraceContext]);
    /// # let _ = w3c_only;
    /// ```
    pub fn with_extract(mut self, order: &'static [PropagatorType]) -> Self {
        self.config_mut().extract = order;
        self
    }

    /// Formats written on outgoing requests by [`inject_current`](crate::tracing::inject_current)
    /// and the `reqwest` middleware (default: `tracecontext` and `datadog`). With `datadog`,
    /// the `dd` member of `tracestate` is refreshed and moved to the front, and a Datadog
    /// sampling priority is derived from the `sampled` flag when none came in.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{server::EntryConfig, PropagatorType};
    ///
    /// let config = EntryConfig::new().with_inject(&[PropagatorType::TraceContext, PropagatorType::B3Multi]);
    /// # let _ = config;
    /// ```
    pub fn with_inject(mut self, types: &'static [PropagatorType]) -> Self {
        self.config_mut().inject = types;
        self
    }

    /// Baggage keys tagged as `baggage.<key>` on the entry span, or `*` for all (Datadog's
    /// `DD_TRACE_BAGGAGE_TAG_KEYS`); default none. `user.id`, `account.id` and `session.id`
    /// become `usr.id`, `account.id` and `session.id` regardless.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{server::EntryConfig, tracing::BaggageTagKeys};
    ///
    /// let config = EntryConfig::new().with_baggage_tag_keys(BaggageTagKeys::ALL);
    /// # let _ = config;
    /// ```
    pub fn with_baggage_tag_keys(mut self, keys: BaggageTagKeys) -> Self {
        self.config_mut().tag_keys = keys;
        self
    }

    /// At most this many `baggage.<key>` tags per request (default
    /// [`DEFAULT_MAX_BAGGAGE_TAGS`](crate::tracing::DEFAULT_MAX_BAGGAGE_TAGS)); further keys
    /// are left out with a `debug` event.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = usertrail_propagator::server::EntryConfig::new().with_max_baggage_tags(4);
    /// # let _ = config;
    /// ```
    pub fn with_max_baggage_tags(mut self, max: usize) -> Self {
        self.config_mut().max_baggage_tags = max;
        self
    }

    /// Baggage values longer than `max` bytes are not tagged at all (not cut), with a `debug`
    /// event (default [`DEFAULT_MAX_TAG_VALUE_LEN`](crate::tracing::DEFAULT_MAX_TAG_VALUE_LEN)).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = usertrail_propagator::server::EntryConfig::new().with_max_tag_value_len(64);
    /// # let _ = config;
    /// ```
    pub fn with_max_tag_value_len(mut self, max: usize) -> Self {
        self.config_mut().max_tag_value_len = max;
        self
    }

    /// Whether [`set_user`](crate::tracing::set_user) / [`set_account`](crate::tracing::set_account)
    /// also put `user.id` / `account.id` into the outgoing baggage, so downstream services tag
    /// their entry spans with the service's ids (default `false`).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = usertrail_propagator::server::EntryConfig::new().with_identity_in_baggage(true);
    /// # let _ = config;
    /// ```
    pub fn with_identity_in_baggage(mut self, on: bool) -> Self {
        self.config_mut().identity_in_baggage = on;
        self
    }

    /// The names of the identity attributes on entry spans: Datadog's `usr.id`, `usr.*`,
    /// `account.id`, `session.id` (the default) or OpenTelemetry's `user.id`, `user.*`,
    /// `session.id`, plus `account.id` (see [`IdentityAttributes`] for the whole table).
    /// What travels in baggage (`user.id`, `account.id`, `session.id`) is the same either way.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{server::EntryConfig, tracing::IdentityAttributes};
    ///
    /// let config = EntryConfig::new().with_identity_attributes(IdentityAttributes::OpenTelemetry);
    /// # let _ = config;
    /// ```
    pub fn with_identity_attributes(mut self, names: IdentityAttributes) -> Self {
        self.config_mut().identity_attributes = names;
        self
    }

    /// Bridges to `tracing-opentelemetry` (feature `opentelemetry`): the entry span's
    /// OpenTelemetry parent is set to the extracted context, this crate adopts the
    /// OpenTelemetry span's ids (so what it propagates matches what is exported), and tags
    /// that are not span fields (`baggage.<key>`, `usr.<key>`, the service's own) are set as
    /// attributes. Needs `tracing_opentelemetry::OpenTelemetryLayer` in the subscriber.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = usertrail_propagator::server::EntryConfig::new().with_opentelemetry(true);
    /// # let _ = config;
    /// ```
    #[cfg(feature = "opentelemetry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
    pub fn with_opentelemetry(mut self, on: bool) -> Self {
        self.config_mut().opentelemetry = on;
        self
    }

    /// Starts serving a request: extracts the caller's context from `headers` and opens the
    /// entry span (see the [module docs](self)).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::server::{EntryConfig, ServerRequest};
    ///
    /// let headers: Vec<(String, String)> = Vec::new(); // or an `http::HeaderMap`
    /// let entry = EntryConfig::new().start(&headers, &ServerRequest::new("POST", "/checkout"));
    /// assert_eq!(entry.context().parent_id(), None); // nothing came in: a new trace
    /// entry.finish(201);
    /// ```
    pub fn start<E: Extractor + ?Sized>(
        &self,
        headers: &E,
        request: &ServerRequest<'_>,
    ) -> EntrySpan {
        let (state, span, start) = start_request(&self.config, headers, request);
        #[cfg(feature = "opentelemetry")]
        if self.config.opentelemetry {
            crate::otel::bridge_entry_span(&span, &state);
        }
        EntrySpan {
            span,
            state,
            start,
            finished: false,
        }
    }
}

/// What the entry span says about a request, following OpenTelemetry's HTTP server
/// conventions: a method and a path, and what else the server knows.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::server::ServerRequest;
///
/// let request = ServerRequest::new("GET", "/orders/7")
///     .with_query("page=2")
///     .with_route("/orders/{id}")
///     .with_host("shop.example:8443")
///     .with_scheme("https")
///     .with_protocol_version("1.1")
///     .with_user_agent(None); // absent headers can be passed as `None`
/// # let _ = request;
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ServerRequest<'a> {
    method: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    scheme: &'a str,
    route: Option<&'a str>,
    host: Option<&'a str>,
    protocol_version: Option<&'a str>,
    user_agent: Option<&'a str>,
}

impl<'a> ServerRequest<'a> {
    /// A request for `path` (without the query) with `method`, over `http`.
    ///
    /// # Examples
    ///
    /// ```
    /// let request = usertrail_propagator::server::ServerRequest::new("GET", "/");
    /// # let _ = request;
    /// ```
    pub const fn new(method: &'a str, path: &'a str) -> Self {
        ServerRequest {
            method,
            path,
            query: None,
            scheme: "http",
            route: None,
            host: None,
            protocol_version: None,
            user_agent: None,
        }
    }

    /// `url.query`: the query without the `?` (signed-URL credentials are redacted).
    ///
    /// # Examples
    ///
    /// ```
    /// let request = usertrail_propagator::server::ServerRequest::new("GET", "/").with_query("q=1");
    /// # let _ = request;
    /// ```
    pub fn with_query(mut self, query: impl Into<Option<&'a str>>) -> Self {
        self.query = query.into();
        self
    }

    /// `url.scheme` (default `http`; the server side of a TLS-terminating proxy speaks
    /// plain HTTP, and `X-Forwarded-Proto` is the client's word).
    ///
    /// # Examples
    ///
    /// ```
    /// let request = usertrail_propagator::server::ServerRequest::new("GET", "/").with_scheme("https");
    /// # let _ = request;
    /// ```
    pub fn with_scheme(mut self, scheme: &'a str) -> Self {
        self.scheme = scheme;
        self
    }

    /// `http.route`: the route template that matched (`/orders/{id}`), which also names the
    /// span (`GET /orders/{id}`).
    ///
    /// # Examples
    ///
    /// ```
    /// let request = usertrail_propagator::server::ServerRequest::new("GET", "/orders/7").with_route("/orders/{id}");
    /// # let _ = request;
    /// ```
    pub fn with_route(mut self, route: impl Into<Option<&'a str>>) -> Self {
        self.route = route.into();
        self
    }

    /// `server.address` and `server.port` from the `Host` header (or the URI's authority):
    /// `example.com:8080`, `[::1]:80`, `example.com` (the port then is the scheme's).
    ///
    /// # Examples
    ///
    /// ```
    /// let request = usertrail_propagator::server::ServerRequest::new("GET", "/").with_host("localhost:3000");
    /// # let _ = request;
    /// ```
    pub fn with_host(mut self, host: impl Into<Option<&'a str>>) -> Self {
        self.host = host.into();
        self
    }

    /// `network.protocol.version` (`1.1`, `2`).
    ///
    /// # Examples
    ///
    /// ```
    /// let request = usertrail_propagator::server::ServerRequest::new("GET", "/").with_protocol_version("2");
    /// # let _ = request;
    /// ```
    pub fn with_protocol_version(mut self, version: impl Into<Option<&'a str>>) -> Self {
        self.protocol_version = version.into();
        self
    }

    /// `user_agent.original`.
    ///
    /// # Examples
    ///
    /// ```
    /// let request = usertrail_propagator::server::ServerRequest::new("GET", "/").with_user_agent("curl/8.5.0");
    /// # let _ = request;
    /// ```
    pub fn with_user_agent(mut self, user_agent: impl Into<Option<&'a str>>) -> Self {
        self.user_agent = user_agent.into();
        self
    }
}

/// Host and port of an authority (`example.com:8080`, `[::1]:80`, `example.com`); the
/// host is `None` when empty.
fn split_authority(authority: &str) -> (Option<&str>, Option<u16>) {
    // Byte searches: `str::rsplit_once(char)` sets up a `memrchr` search, which costs more
    // than a walk over a dozen bytes (this runs on every request). `@`, `[`, `]` and `:` are
    // ASCII, so the splits fall on character boundaries.
    let last = |s: &str, b: u8| s.bytes().rposition(|c| c == b);
    let authority = last(authority, b'@').map_or(authority, |i| &authority[i + 1..]);
    let (host, port) = match authority.strip_prefix('[') {
        Some(rest) => match rest.bytes().position(|c| c == b']') {
            Some(i) => (&rest[..i], rest[i + 1..].strip_prefix(':')),
            None => return (None, None),
        },
        None => match last(authority, b':') {
            Some(i) => (&authority[..i], Some(&authority[i + 1..])),
            None => (authority, None),
        },
    };
    let port = port.and_then(|p| p.parse().ok());
    ((!host.is_empty()).then_some(host), port)
}

/// One request's service entry span, from [`EntryConfig::start`] until
/// [`finish`](Self::finish).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::server::{EntryConfig, ServerRequest};
///
/// let headers: Vec<(String, String)> = Vec::new();
/// let entry = EntryConfig::new().start(&headers, &ServerRequest::new("GET", "/"));
/// {
///     let _entered = entry.enter(); // around each poll of the handler's future
///     assert!(usertrail_propagator::tracing::RequestContext::current().is_some());
/// }
/// assert!(usertrail_propagator::tracing::RequestContext::current().is_none());
/// entry.finish_failed(); // the service failed without a response
/// ```
pub struct EntrySpan {
    span: Span,
    state: Arc<RequestState>,
    start: Instant,
    finished: bool,
}

impl fmt::Debug for EntrySpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntrySpan")
            .field("span", &self.span)
            .field("request", &self.state)
            .finish_non_exhaustive()
    }
}

/// While alive, the request is current on this thread and its entry span is entered; made
/// by [`EntrySpan::enter`].
///
/// # Examples
///
/// ```
/// use usertrail_propagator::server::{EntryConfig, ServerRequest};
///
/// let entry = EntryConfig::new().start(&Vec::<(String, String)>::new(), &ServerRequest::new("GET", "/"));
/// let entered = entry.enter();
/// drop(entered);
/// ```
#[must_use = "the request stops being current when the guard drops"]
pub struct Entered<'a> {
    // Declared in the order they are left: the span first, then the request.
    _span: ::tracing::span::Entered<'a>,
    _scope: ScopeGuard,
}

impl fmt::Debug for Entered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entered").finish_non_exhaustive()
    }
}

impl EntrySpan {
    /// The `tracing` span (to instrument work with, or to pass to other layers).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::server::{EntryConfig, ServerRequest};
    ///
    /// let entry = EntryConfig::new().start(&Vec::<(String, String)>::new(), &ServerRequest::new("GET", "/"));
    /// let _span = entry.span().clone();
    /// ```
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// The request, for the handler (put it in the framework's request extensions).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::server::{EntryConfig, ServerRequest};
    ///
    /// let entry = EntryConfig::new().start(&Vec::<(String, String)>::new(), &ServerRequest::new("GET", "/"));
    /// assert_eq!(entry.context().span_id(), entry.context().span_id());
    /// ```
    pub fn context(&self) -> RequestContext {
        RequestContext::new(Arc::clone(&self.state))
    }

    /// Makes the request current and enters the entry span until the guard drops: hold it
    /// around each poll of the handler's future (and around the call that makes it).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::server::{EntryConfig, ServerRequest};
    ///
    /// let entry = EntryConfig::new().start(&Vec::<(String, String)>::new(), &ServerRequest::new("GET", "/"));
    /// let _entered = entry.enter();
    /// assert!(usertrail_propagator::tracing::set_tag("cart.items", "3"));
    /// ```
    #[inline]
    pub fn enter(&self) -> Entered<'_> {
        let scope = enter_scope(&self.state);
        Entered {
            _span: self.span.enter(),
            _scope: scope,
        }
    }

    /// Runs `f` [entered](Self::enter).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::server::{EntryConfig, ServerRequest};
    ///
    /// let entry = EntryConfig::new().start(&Vec::<(String, String)>::new(), &ServerRequest::new("GET", "/"));
    /// assert!(entry.in_scope(|| usertrail_propagator::tracing::set_tag("k", "v")));
    /// ```
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let _entered = self.enter();
        f()
    }

    /// Finishes the entry span with the response's status: `http.response.status_code`,
    /// `error` and `error.type` for a 5xx (a 4xx is the client's error, not the
    /// service's), the duration, and the tags the service set. Call it when the response
    /// head is ready.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::server::{EntryConfig, ServerRequest};
    ///
    /// let entry = EntryConfig::new().start(&Vec::<(String, String)>::new(), &ServerRequest::new("GET", "/"));
    /// entry.finish(503);
    /// ```
    pub fn finish(mut self, status: u16) {
        self.record(Some(status), false);
    }

    /// Finishes the entry span of a request the service failed without a response:
    /// `error`, `error.type` = `_OTHER`, the duration and the tags the service set.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::server::{EntryConfig, ServerRequest};
    ///
    /// let entry = EntryConfig::new().start(&Vec::<(String, String)>::new(), &ServerRequest::new("GET", "/"));
    /// entry.finish_failed();
    /// ```
    pub fn finish_failed(mut self) {
        self.record(None, true);
    }

    /// Records the outcome, and the tags the service set, on the entry span.
    fn record(&mut self, status: Option<u16>, failed: bool) {
        self.finished = true;
        let span = &self.span;
        if span.is_disabled() {
            return;
        }
        record_outcome(span, status, failed, self.start.elapsed());
        let state = &self.state;
        let service_tags: Vec<(Cow<'static, str>, String)> = {
            let inner = state.lock();
            if inner.tags.is_empty() {
                return;
            }
            inner
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        // The declared fields, for the other layers (`fmt`, tracing-opentelemetry); the
        // `UsertrailLayer` reads the request state instead.
        for (key, value) in &service_tags {
            if state
                .config
                .identity_attributes
                .declared()
                .contains(&key.as_ref())
            {
                span.record(key.as_ref(), value.as_str());
            } else {
                #[cfg(feature = "opentelemetry")]
                if state.config.opentelemetry {
                    crate::otel::set_attribute(span, key, value);
                }
            }
        }
    }
}

/// Records the status code, `error`, `error.type` and the duration on the entry span in one
/// `record_all`: each record is a trip through every layer (a span lookup and its extensions
/// locked), so one for the outcome rather than one per field.
fn record_outcome(span: &Span, status: Option<u16>, failed: bool, elapsed: Duration) {
    let Some(metadata) = span.metadata() else {
        return;
    };
    let fields = metadata.fields();
    // Declared at both of the entry span's callsites.
    let (Some(status_field), Some(duration_field)) = (
        fields.field("http.response.status_code"),
        fields.field("duration_ms"),
    ) else {
        return;
    };
    let status_code = status.map(i64::from);
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    let status_value = status_code.as_ref().map(|v| v as &dyn Value);
    // `error` is recorded only when true (Datadog's convention: absent means no error);
    // `error.type` is the status code, or `_OTHER` when the service failed without one
    // (OpenTelemetry's: a server's 4xx is the client's error, not the server's).
    if !(failed || status.is_some_and(|s| s >= 500)) {
        span.record_all(&fields.value_set(&[
            (&status_field, status_value),
            (&duration_field, Some(&duration_ms as &dyn Value)),
        ]));
        return;
    }
    let (Some(error_field), Some(otel_status_field), Some(error_type_field)) = (
        fields.field("error"),
        fields.field("otel.status_code"),
        fields.field("error.type"),
    ) else {
        return;
    };
    let code = status.map(::tracing::field::display);
    let error_type: &dyn Value = match &code {
        Some(code) => code,
        None => &semconv::OTHER_ERROR,
    };
    span.record_all(&fields.value_set(&[
        (&status_field, status_value),
        (&error_field, Some(&true as &dyn Value)),
        (&otel_status_field, Some(&"ERROR" as &dyn Value)),
        (&error_type_field, Some(error_type)),
        (&duration_field, Some(&duration_ms as &dyn Value)),
    ]));
}

impl Drop for EntrySpan {
    fn drop(&mut self) {
        if !self.finished {
            // Dropped before the response: the client went away, or a timeout fired.
            self.record(None, false);
        }
    }
}

/// Extracts the caller's context from `headers`, opens the entry span and returns both.
fn start_request<E: Extractor + ?Sized>(
    config: &SharedConfig,
    headers: &E,
    info: &ServerRequest<'_>,
) -> (Arc<RequestState>, Span, Instant) {
    let path = info.path;
    let (method, method_replaced) = semconv::normalize_method(info.method);
    // Request text the client chose: left out whole when long (never cut).
    let fits = |v: &&str| v.len() <= config.max_tag_value_len.max(MIN_HTTP_VALUE_CAP);
    let query = info.query.filter(fits).map(semconv::redact_query);
    let user_agent = info.user_agent.filter(fits);
    let (server_address, port) = info.host.map_or((None, None), split_authority);
    let server_address = server_address.filter(fits);
    let server_port =
        server_address.map(|_| port.unwrap_or(if info.scheme == "https" { 443 } else { 80 }));
    let extracted = crate::extract_with(headers, config.extract);
    for problem in extracted.errors() {
        ::tracing::debug!(target: TARGET, %problem, "trace context header rejected");
    }
    // The values the entry span is tagged with; the rejects are reported here, once. When no
    // subscriber wants the entry span, none of this is needed now.
    let recorded = ::tracing::span_enabled!(target: TARGET, ::tracing::Level::INFO);
    let identity = if recorded {
        extracted.identity()
    } else {
        Identity::new()
    };
    fn ok<'v>(config: &Config, attribute: &str, value: Option<&'v str>) -> Option<&'v str> {
        value.filter(|v| config.tag_value_ok(attribute, v))
    }
    let session_id = ok(config, SESSION_ID_ATTRIBUTE, identity.session_id());
    let user_id = ok(config, USER_ID_ATTRIBUTE, identity.user_id());
    let account_id = ok(config, ACCOUNT_ID_ATTRIBUTE, identity.account_id());
    // The same values as the span's HTTP and identity fields below, typed as
    // `UsertrailLayer` records them: it takes these rather than visiting the span's thirty
    // fields. Without one (only `fmt`, or tracing-opentelemetry), nobody would.
    let mut entry_fields = Tags::new();
    if recorded && usertrail_layer_installed() {
        let text = |v: &str| TagValue::Str(Cow::Owned(String::from(v)));
        // Pushed one by one (no array of options to build and copy first).
        entry_fields.reserve(13 + 4);
        let mut push = |key: &'static str, value: Option<TagValue>| {
            if let Some(value) = value {
                entry_fields.push((Cow::Borrowed(key), value));
            }
        };
        push("http.request.method", Some(TagValue::from(method)));
        push(
            "http.request.method_original",
            method_replaced.then(|| text(info.method)),
        );
        push("url.path", Some(TagValue::Str(intern(path))));
        push("url.query", query.as_deref().map(text));
        push("url.scheme", Some(TagValue::Str(intern(info.scheme))));
        push("http.route", info.route.map(text));
        push("server.address", server_address.map(text));
        push(
            "server.port",
            server_port.map(|p| TagValue::I64(i64::from(p))),
        );
        push(
            "network.protocol.version",
            info.protocol_version.map(|v| TagValue::Str(intern(v))),
        );
        push("user_agent.original", user_agent.map(text));
        let names = config.identity_attributes;
        push(names.rename(SESSION_ID_ATTRIBUTE), session_id.map(text));
        push(names.rename(USER_ID_ATTRIBUTE), user_id.map(text));
        push(names.rename(ACCOUNT_ID_ATTRIBUTE), account_id.map(text));
    }
    let mut state = RequestState::start(config.clone(), &extracted);
    let (trace_id, span_id, parent_id) = state.ids();
    let state = Arc::new(state);
    // One callsite per naming: `tracing` field names are fixed at the callsite.
    macro_rules! entry_span {
        ($($identity:tt)*) => {
            ::tracing::info_span!(
                target: TARGET,
                ENTRY_SPAN_NAME,
                // First, the fields `record_outcome` looks up by name on every request (a
                // linear search of the callsite's names). Empty until then, where they stand
                // changes nothing in what `fmt` prints or what is exported.
                http.response.status_code = Empty,
                duration_ms = Empty,
                error = Empty,
                error.type = Empty,
                otel.status_code = Empty,
                otel.kind = "server",
                otel.name = %HttpSpanName { method, route: info.route },
                trace_id = %trace_id,
                span_id = %span_id,
                parent_id = parent_id.map(::tracing::field::display),
                http.request.method = method,
                http.request.method_original = method_replaced.then_some(info.method),
                url.path = path,
                url.query = query.as_deref(),
                url.scheme = info.scheme,
                http.route = info.route,
                server.address = server_address,
                // As `i64`: tracing-opentelemetry exports unsigned fields as text.
                server.port = server_port.map(i64::from),
                network.protocol.version = info.protocol_version,
                user_agent.original = user_agent,
                session.id = session_id,
                account.id = account_id,
                account.name = Empty,
                $($identity)*
            )
        };
    }
    // One clock read for the span's start in the record and for its `duration_ms`.
    let started = Instant::now();
    let span = creating_entry_span(&state, entry_fields, started, || {
        match config.identity_attributes {
            IdentityAttributes::Datadog => entry_span!(
                usr.id = user_id,
                usr.name = Empty,
                usr.email = Empty,
                usr.session_id = Empty,
                usr.role = Empty,
                usr.scope = Empty,
            ),
            IdentityAttributes::OpenTelemetry => entry_span!(
                user.id = user_id,
                user.name = Empty,
                user.email = Empty,
                user.roles = Empty,
                user.scope = Empty,
            ),
        }
    });
    (state, span, started)
}

#[cfg(test)]
mod tests {
    use super::split_authority;

    #[rustfmt::skip]
    #[test]
    fn authorities_split_into_host_and_port() {
        let cases: &[(&str, Option<&str>, Option<u16>, &str)] = &[
            ("example.com:8080", Some("example.com"), Some(8080), "name and port"),
            ("example.com", Some("example.com"), None, "no port"),
            ("[::1]:80", Some("::1"), Some(80), "IPv6 in brackets"),
            ("[::1]", Some("::1"), None, "IPv6 without a port"),
            ("u@h:1", Some("h"), Some(1), "user info is not the host"),
            (":80", None, Some(80), "no host"),
            ("[::1", None, None, "unclosed bracket"),
        ];
        for (authority, host, port, why) in cases {
            assert_eq!(split_authority(authority), (*host, *port), "{why}");
        }
    }
}
