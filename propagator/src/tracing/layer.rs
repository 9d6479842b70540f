//! `UsertrailLayer`: a `tracing_subscriber::Layer` that turns spans into `SpanRecord`s.

use alloc::borrow::Cow;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use ::tracing::field::{Field, Visit};
use ::tracing::span::{Attributes, Id, Record};
use ::tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, Registry};

use super::record::{NoopSink, SpanKind, SpanRecord, SpanSink};
use super::scope;
use super::state::{CLIENT_SPAN_NAME, ENTRY_SPAN_NAME, RequestState, TARGET, TagList};
use crate::{SpanId, TraceId};

/// A `tracing_subscriber::Layer` that records the spans of each request served behind
/// `PropagateContextLayer` and hands them, finished, to a [`SpanSink`].
///
/// * The **service entry span** (`http.request`, target `usertrail`, opened by
///   `PropagateContext`) becomes a [`SpanKind::Server`] record with the request's trace id,
///   its own span id (the one propagated downstream), the caller's span id as `parent_id`,
///   and the request's tags, including those `set_user` / `set_account` wrote after it
///   opened and the `baggage.<key>` tags, which are not span fields.
/// * Every span opened inside it (with the layer's default
///   [`with_child_spans(true)`](Self::with_child_spans)) becomes a record with the same trace
///   id, a new span id, its parent's span id, and its own fields only: identity tags are
///   never copied onto children.
/// * Spans outside any request are ignored.
///
/// Needs a subscriber with span storage (`tracing_subscriber::registry()`). Attaching the
/// request state to the entry span also lets [`RequestContext::current`](super::RequestContext::current)
/// find the request from tasks spawned with `.in_current_span()`.
///
/// # Examples
///
/// ```
/// use tracing_subscriber::prelude::*;
/// use usertrail_propagator::tracing::{MemorySink, UsertrailLayer};
///
/// let sink = MemorySink::new();
/// let subscriber = tracing_subscriber::registry()
///     .with(UsertrailLayer::new(sink.clone()).with_service("checkout"));
/// tracing::subscriber::with_default(subscriber, || {
///     // Not inside a request: not recorded.
///     tracing::info_span!("startup").in_scope(|| {});
/// });
/// assert!(sink.records().is_empty());
/// ```
pub struct UsertrailLayer<K = NoopSink> {
    sink: K,
    service: Cow<'static, str>,
    children: bool,
}

impl<K: fmt::Debug> fmt::Debug for UsertrailLayer<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsertrailLayer")
            .field("sink", &self.sink)
            .field("service", &self.service)
            .field("children", &self.children)
            .finish()
    }
}

impl<K: SpanSink> UsertrailLayer<K> {
    /// A layer recording into `sink`, for a service named `unnamed-rust-service` (change it
    /// with [`with_service`](Self::with_service)).
    ///
    /// # Examples
    ///
    /// ```
    /// let layer = usertrail_propagator::tracing::UsertrailLayer::new(usertrail_propagator::tracing::NoopSink);
    /// # let _ = layer;
    /// ```
    pub const fn new(sink: K) -> Self {
        UsertrailLayer {
            sink,
            service: Cow::Borrowed("unnamed-rust-service"),
            children: true,
        }
    }

    /// The `service` of every record (what users filter on: `service:checkout`).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::tracing::{NoopSink, UsertrailLayer};
    ///
    /// let layer = UsertrailLayer::new(NoopSink).with_service(String::from("checkout"));
    /// # let _ = layer;
    /// ```
    pub fn with_service(mut self, service: impl Into<Cow<'static, str>>) -> Self {
        self.service = service.into();
        self
    }

    /// Whether spans inside a request other than its entry span are recorded (default
    /// `true`). They never get identity tags either way.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::tracing::{NoopSink, UsertrailLayer};
    ///
    /// let entry_spans_only = UsertrailLayer::new(NoopSink).with_child_spans(false);
    /// # let _ = entry_spans_only;
    /// ```
    pub fn with_child_spans(mut self, children: bool) -> Self {
        self.children = children;
        self
    }

    /// The sink.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::tracing::{MemorySink, UsertrailLayer};
    ///
    /// let layer = UsertrailLayer::new(MemorySink::new());
    /// assert!(layer.sink().records().is_empty());
    /// ```
    pub fn sink(&self) -> &K {
        &self.sink
    }
}

enum Ids {
    /// The entry span: ids live in the request state (the OpenTelemetry bridge may replace
    /// them right after the span opens).
    Entry(Arc<RequestState>),
    Child {
        trace_id: TraceId,
        span_id: SpanId,
        parent_id: SpanId,
    },
}

/// What the layer keeps in a span's extensions.
struct SpanData {
    ids: Ids,
    kind: SpanKind,
    start: SystemTime,
    started: Instant,
    fields: Vec<(&'static str, Cow<'static, str>)>,
    error_event: bool,
}

impl SpanData {
    /// (trace id, span id) for a span opened inside this one.
    fn ids(&self) -> (TraceId, SpanId) {
        match &self.ids {
            Ids::Entry(state) => {
                let inner = state.lock();
                (inner.span_context.trace_id(), inner.span_context.span_id())
            }
            Ids::Child {
                trace_id, span_id, ..
            } => (*trace_id, *span_id),
        }
    }
}

/// Collects field values as text; the ids of entry spans, their duration and `otel.*` fields
/// are columns or hints, not tags.
struct FieldVisitor<'a> {
    fields: &'a mut Vec<(&'static str, Cow<'static, str>)>,
    /// Which field names to leave out.
    skip: Skip,
    /// For `http.client.request` spans: the `span_id` field is the propagated id.
    span_id: Option<&'a mut Option<SpanId>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Skip {
    /// `otel.*`.
    Hints,
    /// Also the entry span's id and duration fields (columns of the record).
    EntryColumns,
}

/// Values that come up on every request, kept as static strings.
fn intern(value: &str) -> Cow<'static, str> {
    const COMMON: &[&str] = &[
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "/", "true", "false",
    ];
    match COMMON.iter().find(|c| **c == value) {
        Some(c) => Cow::Borrowed(c),
        None => Cow::Owned(String::from(value)),
    }
}

fn number(value: u64) -> Cow<'static, str> {
    const STATUS: &[(u64, &str)] = &[
        (200, "200"),
        (201, "201"),
        (202, "202"),
        (204, "204"),
        (301, "301"),
        (302, "302"),
        (304, "304"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (409, "409"),
        (422, "422"),
        (429, "429"),
        (500, "500"),
        (502, "502"),
        (503, "503"),
        (504, "504"),
    ];
    match STATUS.iter().find(|(n, _)| *n == value) {
        Some((_, s)) => Cow::Borrowed(s),
        None => Cow::Owned(value.to_string()),
    }
}

impl FieldVisitor<'_> {
    fn put(&mut self, name: &'static str, value: Cow<'static, str>) {
        match self.fields.iter_mut().find(|(k, _)| *k == name) {
            Some((_, v)) => *v = value,
            None => self.fields.push((name, value)),
        }
    }

    #[inline]
    fn skip(&mut self, field: &Field, value: impl FnOnce() -> Cow<'static, str>) {
        let name = field.name();
        if let Some(slot) = self.span_id.as_deref_mut() {
            if name == "span_id" {
                *slot = SpanId::parse(&value()).ok();
                return;
            }
        }
        let skipped = name.starts_with("otel.")
            || (self.skip == Skip::EntryColumns
                && matches!(name, "trace_id" | "span_id" | "parent_id" | "duration_ms"));
        if !skipped {
            self.put(name, value());
        }
    }
}

impl Visit for FieldVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.skip(field, || Cow::Owned(alloc::format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.skip(field, || intern(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.skip(field, || {
            Cow::Borrowed(if value { "true" } else { "false" })
        });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.skip(field, || number(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.skip(field, || match u64::try_from(value) {
            Ok(v) => number(v),
            Err(_) => Cow::Owned(value.to_string()),
        });
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.skip(field, || Cow::Owned(value.to_string()));
    }
}

#[inline]
fn is_ours(metadata: &Metadata<'_>, name: &str) -> bool {
    metadata.target() == TARGET && metadata.name() == name
}

impl<S, K> Layer<S> for UsertrailLayer<K>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    K: SpanSink,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let metadata = attrs.metadata();
        if is_ours(metadata, ENTRY_SPAN_NAME) {
            if let Some(state) = scope::pending() {
                // Its fields at this point (method, path, ids, identity) are in the request
                // state, which `on_close` reads: nothing to copy now.
                span.extensions_mut().insert(SpanData {
                    ids: Ids::Entry(state),
                    kind: SpanKind::Server,
                    start: SystemTime::now(),
                    started: Instant::now(),
                    fields: Vec::new(),
                    error_event: false,
                });
                return;
            }
        }
        if !self.children {
            return;
        }
        let Some(parent) = span.parent() else {
            return;
        };
        let (trace_id, parent_id) = match parent.extensions().get::<SpanData>() {
            Some(data) => data.ids(),
            None => return,
        };
        let client = is_ours(metadata, CLIENT_SPAN_NAME);
        let mut fields = Vec::with_capacity(metadata.fields().len());
        let mut given = None;
        attrs.record(&mut FieldVisitor {
            fields: &mut fields,
            skip: Skip::Hints,
            span_id: client.then_some(&mut given),
        });
        span.extensions_mut().insert(SpanData {
            ids: Ids::Child {
                trace_id,
                span_id: given.unwrap_or_else(super::state::new_span_id),
                parent_id,
            },
            kind: if client {
                SpanKind::Client
            } else {
                SpanKind::Internal
            },
            start: SystemTime::now(),
            started: Instant::now(),
            fields,
            error_event: false,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(data) = extensions.get_mut::<SpanData>() {
            let skip = if data.kind == SpanKind::Server {
                Skip::EntryColumns
            } else {
                Skip::Hints
            };
            let client = data.kind == SpanKind::Client;
            let mut given = None;
            values.record(&mut FieldVisitor {
                fields: &mut data.fields,
                skip,
                span_id: client.then_some(&mut given),
            });
            // The OpenTelemetry bridge re-records a client span's id with OpenTelemetry's.
            if let (Some(id), Ids::Child { span_id, .. }) = (given, &mut data.ids) {
                *span_id = id;
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if *event.metadata().level() != Level::ERROR {
            return;
        }
        if let Some(span) = ctx.event_span(event) {
            if let Some(data) = span.extensions_mut().get_mut::<SpanData>() {
                data.error_event = true;
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let Some(data) = span.extensions_mut().remove::<SpanData>() else {
            return;
        };
        let duration = data.started.elapsed();
        let field_error = data
            .fields
            .iter()
            .any(|(k, v)| *k == "error" && v == "true");
        let mut list: TagList = Vec::with_capacity(data.fields.len() + 4);
        list.extend(data.fields.into_iter().map(|(k, v)| (Cow::Borrowed(k), v)));
        let (trace_id, span_id, parent_id, error) = match data.ids {
            Ids::Entry(state) => {
                let inner = state.lock();
                // After the fields: the request's tags win (collecting keeps the last value).
                inner.push_tags(&state.config, &mut list);
                (
                    inner.span_context.trace_id(),
                    inner.span_context.span_id(),
                    inner.parent_id,
                    field_error,
                )
            }
            Ids::Child {
                trace_id,
                span_id,
                parent_id,
            } => (
                trace_id,
                span_id,
                Some(parent_id),
                field_error || data.error_event,
            ),
        };
        let tags: BTreeMap<Cow<'static, str>, Cow<'static, str>> = list.into_iter().collect();
        let mut record = SpanRecord {
            trace_id,
            span_id,
            parent_id,
            name: Cow::Borrowed(span.metadata().name()),
            service: self.service.clone(),
            kind: data.kind,
            start: data.start,
            duration,
            tags,
            error,
        };
        if record.name.is_empty() {
            record.name = Cow::Borrowed("span");
        }
        self.sink.record(record);
    }
}

/// The request state attached to the nearest entry span above the current span, when the
/// default subscriber is built on a `Registry` with a `UsertrailLayer`.
pub(crate) fn state_from_span_tree() -> Option<Arc<RequestState>> {
    ::tracing::dispatcher::get_default(|dispatch| {
        let current = dispatch.current_span();
        let id = current.id()?;
        let registry = dispatch.downcast_ref::<Registry>()?;
        let span = registry.span(id)?;
        span.scope()
            .find_map(|s| match s.extensions().get::<SpanData>() {
                Some(SpanData {
                    ids: Ids::Entry(state),
                    ..
                }) => Some(Arc::clone(state)),
                _ => None,
            })
    })
}
