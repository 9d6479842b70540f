//! Server side with the `tracing` crate: who the request is for, on the span that matters.
//!
//! * [`RequestContext`]: one request's trace context, baggage and entry-span tags, made by
//!   the entry point in [`server`](crate::server) (which the `tower` and `actix` middlewares
//!   call) and put in the request's extensions.
//! * [`set_user`], [`set_account`], [`set_tag`]: tag the **service entry span** from anywhere
//!   inside the request.
//! * [`inject_current`]: continue the trace on an outgoing request (the `reqwest` feature
//!   wraps it in a middleware).
//! * [`UsertrailLayer`]: a `tracing_subscriber::Layer` that turns the entry span, and the
//!   spans inside it, into [`SpanRecord`]s for a [`SpanSink`].
//!
//! # How the pieces find each other
//!
//! **Entry span.** [`EntryConfig::start`](crate::server::EntryConfig::start) opens one span per request, `http.request` with target
//! `usertrail`, with every field it will ever fill declared up front
//! (`tracing::field::Empty`), and polls the inner service inside it. Only that span is the
//! entry span: [`UsertrailLayer`] recognizes it by name and target *and* by the request state
//! that the entry point makes pending on the thread while creating it, so a span of the
//! same name opened elsewhere is an ordinary span. Children are found through the
//! `tracing_subscriber` registry's parent links.
//!
//! **`set_user`.** The request state is an `Arc<Mutex<…>>` that the entry span marks as
//! *current* in a thread-local around each poll of the handler's future (and around the
//! inner `call`), restoring the previous value afterwards: the executor-agnostic equivalent
//! of a `tokio::task_local!`. So a handler, anything it calls, and any child span it opens
//! in the same task reach the same state. Work spawned onto another task does not inherit
//! it: wrap it with [`RequestContext::scope`] (e.g. `tokio::spawn(cx.scope(fut).in_current_span())`),
//! or spawn it with `.in_current_span()` alone and let the fallback walk up the span tree to
//! the entry span (that needs [`UsertrailLayer`] in the subscriber). `set_user` changes the
//! state, not the span: the declared `usr.*` / `account.*` fields are written on the span
//! when the response is ready, and [`UsertrailLayer`] reads the state when the span closes.
//!
//! **Dynamic tags.** `tracing` spans can only record fields declared at the callsite, but
//! `baggage.<key>` (for [`BaggageTagKeys`]) and `usr.<key>` (for [`User::extra`]) are only
//! known at run time. They live in the request state, which the entry span carries in its
//! registry extensions; [`UsertrailLayer`] merges them into the record's tags on close, and
//! the OpenTelemetry bridge (feature `opentelemetry`) sets them as span attributes.
//!
//! **Untrusted baggage.** Baggage comes from the browser. Within the W3C limits the core
//! enforces (64 members, 8192 bytes), at most [`DEFAULT_MAX_BAGGAGE_TAGS`] keys become
//! `baggage.<key>` tags, and a value longer than [`DEFAULT_MAX_TAG_VALUE_LEN`] bytes or
//! holding control characters is left out whole (never cut), with a `debug` event. Baggage is
//! applied when the request starts and the service's own tags are written over it, so
//! nothing from baggage overrides a tag the service set.

mod context;
mod layer;
mod names;
mod record;
mod scope;
pub(crate) mod semconv;
mod span_tree;
mod state;
mod user;

pub use context::RequestContext;
pub use layer::UsertrailLayer;
pub use names::IdentityAttributes;
pub use record::{
    INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION, MAX_EVENTS_PER_SPAN, MemorySink, NoopSink,
    SpanEvent, SpanKind, SpanRecord, SpanSink, TagValue, Tags,
};
pub use scope::Scoped;
pub use state::{
    BaggageTagKeys, CLIENT_SPAN_NAME, DEFAULT_MAX_BAGGAGE_TAGS, DEFAULT_MAX_TAG_VALUE_LEN,
    ENTRY_SPAN_NAME, TARGET,
};
pub use user::{Account, User, set_account, set_user};

pub(crate) use record::intern as intern_tag_value;
pub(crate) use scope::{
    Entered as ScopeGuard, creating as creating_entry_span, enter as enter_scope,
};
pub(crate) use semconv::http_span_name;
pub(crate) use span_tree::any_registered as usertrail_layer_installed;
#[cfg(feature = "reqwest")]
pub(crate) use state::new_span_id;
pub(crate) use state::{Config, DEFAULT_CONFIG, RequestState, SharedConfig};
#[cfg(feature = "opentelemetry")]
pub(crate) use state::{DEFAULT_INJECT, TagList};

use alloc::borrow::Cow;
use alloc::string::String;

use crate::{Injector, SpanId};

/// Sets a tag on the current service entry span (see [`RequestContext::set_tag`]); `false`
/// outside a request.
///
/// # Examples
///
/// ```
/// assert!(!usertrail_propagator::tracing::set_tag("cart.items", "3"));
/// ```
pub fn set_tag(key: impl Into<Cow<'static, str>>, value: impl Into<String>) -> bool {
    match RequestContext::current() {
        Some(cx) => {
            cx.set_tag(key, value);
            true
        }
        None => false,
    }
}

/// Writes the current request's trace context and baggage into `carrier` for an outgoing
/// request, with a new span id as its parent (returned); `None`, and nothing written,
/// outside a request. See [`RequestContext::inject`].
///
/// # Examples
///
/// ```
/// let mut headers: Vec<(String, String)> = Vec::new(); // or an `http::HeaderMap`
/// assert!(usertrail_propagator::tracing::inject_current(&mut headers).is_none());
/// assert!(headers.is_empty());
/// ```
pub fn inject_current<I: Injector + ?Sized>(carrier: &mut I) -> Option<SpanId> {
    RequestContext::current().map(|cx| cx.inject(carrier))
}
