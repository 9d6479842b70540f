//! [`RequestContext`]: the request being served, as the service's code sees it.

use alloc::borrow::Cow;
use alloc::collections::BTreeMap;
use alloc::string::String;
use core::fmt;
use std::sync::Arc;

use super::scope::{self, Scoped};
use super::span_tree;
use super::state::{RequestState, TagList, new_span_id};
use crate::{Baggage, Identity, Injector, SpanContext, SpanId, TraceId};

/// The request being served: its trace context, baggage and entry-span tags.
///
/// Put in the request's extensions by `PropagateContext` (an axum extractor with the `axum`
/// feature), and found from anywhere inside the request with [`current`](Self::current).
/// Cheap to clone (an `Arc`).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::tracing::{RequestContext, User};
///
/// fn handler_helper() {
///     // Outside a request there is nothing to find.
///     assert!(RequestContext::current().is_none());
///     if let Some(cx) = RequestContext::current() {
///         cx.set_user(User::new("user_123").with_role("admin"));
///     }
/// }
/// handler_helper();
/// ```
#[derive(Clone)]
pub struct RequestContext {
    pub(crate) state: Arc<RequestState>,
}

impl fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.state.fmt(f)
    }
}

impl RequestContext {
    pub(crate) fn new(state: Arc<RequestState>) -> Self {
        RequestContext { state }
    }

    /// The request the calling code runs in.
    ///
    /// Found, in this order:
    /// 1. the request whose future is being polled on this thread (`PropagateContext` marks
    ///    it around every poll, so a handler, the functions it calls and the child spans it
    ///    opens all see it), or a [`scope`](Self::scope)d future;
    /// 2. else, walking up from the current `tracing` span to the nearest entry span (work
    ///    spawned with `.in_current_span()`); this needs [`UsertrailLayer`](super::UsertrailLayer)
    ///    in the subscriber (any subscriber with span storage, e.g. `tracing_subscriber::registry()`).
    ///
    /// `None` outside a request, e.g. in a task spawned without either.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(usertrail_propagator::tracing::RequestContext::current().is_none());
    /// ```
    pub fn current() -> Option<RequestContext> {
        scope::current()
            .or_else(span_tree::current_request)
            .map(RequestContext::new)
    }

    /// The trace id (the caller's, or a new one when nothing valid came in).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// println!("trace {}", cx.trace_id());
    /// ```
    pub fn trace_id(&self) -> TraceId {
        self.state.lock().span_context.trace_id()
    }

    /// The entry span's id (what this service reports as its span).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// assert_ne!(Some(cx.span_id()), cx.parent_id());
    /// ```
    pub fn span_id(&self) -> SpanId {
        self.state.lock().span_context.span_id()
    }

    /// The caller's span id; `None` when this service started the trace.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// if cx.parent_id().is_none() { println!("trace started here"); }
    /// ```
    pub fn parent_id(&self) -> Option<SpanId> {
        self.state.lock().parent_id
    }

    /// The entry span's context (trace id, span id, flags, Datadog priority and origin).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// assert!(cx.span_context().is_sampled());
    /// ```
    pub fn span_context(&self) -> SpanContext<'static> {
        self.state.lock().span_context.clone()
    }

    /// The baggage sent downstream: the incoming one (invalid members dropped, within the
    /// W3C limits), plus what `set_user` / `set_account` added when configured to.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// let theme = cx.baggage().get("theme").map(|v| v.into_owned());
    /// # let _ = theme;
    /// ```
    pub fn baggage(&self) -> Baggage<'static> {
        self.state.lock().baggage.clone()
    }

    /// The session, user and account ids in [`baggage`](Self::baggage) (untrusted: they come
    /// from the browser).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// println!("{:?}", cx.identity().user_id());
    /// ```
    pub fn identity(&self) -> Identity<'static> {
        let inner = self.state.lock();
        Identity::from_baggage(&inner.baggage).into_owned()
    }

    /// One tag of the entry span, as it stands (`usr.id`, `baggage.tenant`, …).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// println!("{:?}", cx.tag("usr.id"));
    /// ```
    pub fn tag(&self, key: &str) -> Option<String> {
        let mut tags = TagList::new();
        self.state.lock().push_tags(&self.state.config, &mut tags);
        tags.into_iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }

    /// The tags this crate holds for the entry span: identity, `baggage.<key>` and the
    /// service's (the HTTP fields are on the span itself).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// for (k, v) in cx.tags() { println!("{k}={v}"); }
    /// ```
    pub fn tags(&self) -> BTreeMap<String, String> {
        let mut tags = TagList::new();
        self.state.lock().push_tags(&self.state.config, &mut tags);
        tags.into_iter()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// Sets a tag on the entry span. The service's tags win over baggage-derived ones; an
    /// empty key is ignored.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// cx.set_tag("cart.items", "3");
    /// ```
    pub fn set_tag(&self, key: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        let key = key.into();
        if key.is_empty() {
            return;
        }
        let mut inner = self.state.lock();
        RequestState::set_service_tag(&mut inner, key, value.into());
    }

    /// Writes this request's context into outgoing headers, with a new span id as the
    /// parent of the outgoing request (returned): same trace id, `sampled`/`random` flags
    /// kept, `tracestate` passed on (with the `dd` member refreshed and moved to the front
    /// when Datadog propagation is on), baggage passed on.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// let mut headers: Vec<(String, String)> = Vec::new(); // or an `http::HeaderMap`
    /// let parent = cx.inject(&mut headers);
    /// assert!(headers[0].1.contains(&parent.to_string()));
    /// ```
    pub fn inject<I: Injector + ?Sized>(&self, carrier: &mut I) -> SpanId {
        let span_id = new_span_id();
        self.state.inject_into(carrier, span_id);
        span_id
    }

    /// [`inject`](Self::inject) with a given span id (a client span's).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use usertrail_propagator::SpanId;
    ///
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// let mut headers: Vec<(String, String)> = Vec::new();
    /// cx.inject_with_span_id(&mut headers, SpanId::new(7).unwrap());
    /// ```
    pub fn inject_with_span_id<I: Injector + ?Sized>(&self, carrier: &mut I, span_id: SpanId) {
        self.state.inject_into(carrier, span_id);
    }

    /// Runs `future` inside this request (for work spawned onto another task, which does not
    /// inherit the thread-local marker): `set_user`, `inject_current`… see the request.
    /// Combine with `.in_current_span()` for the span tree.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f() {
    /// let cx = usertrail_propagator::tracing::RequestContext::current().unwrap();
    /// let work = cx.scope(async { usertrail_propagator::tracing::set_tag("job", "resize") });
    /// work.await;
    /// # }
    /// ```
    pub fn scope<F>(&self, future: F) -> Scoped<F> {
        Scoped::new(future, Arc::clone(&self.state))
    }
}
