//! `UsertrailLayer`: a `tracing_subscriber::Layer` that turns spans into `SpanRecord`s.

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use ::tracing::field::{Field, Visit};
use ::tracing::span::{Attributes, Id, Record};
use ::tracing::{Dispatch, Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{Extensions, LookupSpan};

use super::record::{
    MAX_EVENTS_PER_SPAN, NoopSink, SpanEvent, SpanKind, SpanRecord, SpanSink, TagValue, Tags,
    intern, put_tag,
};
use super::scope;
use super::span_tree;
use super::state::{CLIENT_SPAN_NAME, ENTRY_SPAN_NAME, RequestState, TARGET, new_span_id};
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
/// Needs a subscriber with span storage (`tracing_subscriber::registry()`, or any other
/// `LookupSpan`). Attaching the request state to the entry span also lets [`RequestContext::current`](super::RequestContext::current)
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
    /// `None`: the service the environment names (see [`UsertrailLayer::new`]).
    service: Option<Cow<'static, str>>,
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
    /// A layer recording into `sink`, for the service the environment names, as
    /// OpenTelemetry SDKs read it: `OTEL_SERVICE_NAME`, else `service.name` in
    /// `OTEL_RESOURCE_ATTRIBUTES`, else `unnamed-rust-service` (read when the first span is
    /// recorded). [`with_service`](Self::with_service) names it in code instead.
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
            service: None,
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
        self.service = Some(service.into());
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

    /// Which layer this is, for the spans it records: its address, fixed once the
    /// subscriber holding it is built.
    fn key(&self) -> usize {
        core::ptr::from_ref(self).addr()
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
    /// The entry span of this request: ids live in its state (the OpenTelemetry bridge may
    /// replace them right after the span opens). Held here, in the one value the layer
    /// keeps per span, so that opening and closing an entry span costs one extension.
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
    fields: Tags,
    error_event: bool,
    /// The first `ERROR` event's message, or `otel.status_message`.
    status_message: Option<Cow<'static, str>>,
    events: Vec<SpanEvent>,
    dropped_events: u32,
    /// The [`UsertrailLayer::key`] of the layer recording the span.
    layer: usize,
}

impl SpanData {
    fn new(ids: Ids, kind: SpanKind, fields: Tags, layer: usize, started: Instant) -> Self {
        SpanData {
            layer,
            ids,
            kind,
            start: SystemTime::now(),
            started,
            fields,
            error_event: false,
            status_message: None,
            events: Vec::new(),
            dropped_events: 0,
        }
    }
}

/// (trace id, span id) for a span opened inside the span of `extensions`, if that span is
/// recorded.
fn parent_ids(extensions: &Extensions<'_>) -> Option<(TraceId, SpanId)> {
    match &extensions.get::<SpanData>()?.ids {
        Ids::Entry(state) => {
            let inner = state.lock();
            Some((inner.span_context.trace_id(), inner.span_context.span_id()))
        }
        Ids::Child {
            trace_id, span_id, ..
        } => Some((*trace_id, *span_id)),
    }
}

/// Collects field values with their types; the ids of entry spans, their duration and
/// `otel.*` fields are columns or hints, not tags.
struct FieldVisitor<'a> {
    fields: &'a mut Tags,
    /// `false` for a new span's attributes, each recorded once: no need to look for an
    /// earlier value.
    replace: bool,
    /// Which field names to leave out.
    skip: Skip,
    /// For `http.client.request` spans: the `span_id` field is the propagated id.
    span_id: Option<&'a mut Option<SpanId>>,
    /// Where `otel.status_message` goes.
    status_message: Option<&'a mut Option<Cow<'static, str>>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Skip {
    /// `otel.*`.
    Hints,
    /// Also the entry span's id and duration fields (columns of the record), and its
    /// identity fields: the request state is the one source of those tags.
    Entry { identity: &'static [&'static str] },
}

/// A `u64` as OTLP can carry it: an integer up to `i64::MAX`, text above.
fn unsigned(value: u64) -> TagValue {
    match i64::try_from(value) {
        Ok(n) => TagValue::I64(n),
        Err(_) => TagValue::Str(Cow::Owned(value.to_string())),
    }
}

impl FieldVisitor<'_> {
    #[inline]
    fn skip(&mut self, field: &Field, value: impl FnOnce() -> TagValue) {
        let name = field.name();
        if let Some(slot) = self.span_id.as_deref_mut() {
            if name == "span_id" {
                *slot = SpanId::parse(&value().to_string()).ok();
                return;
            }
        }
        if name == "otel.status_message" {
            if let Some(slot) = self.status_message.as_deref_mut() {
                *slot = Some(Cow::Owned(value().to_string()));
            }
            return;
        }
        let skipped = name.starts_with("otel.")
            || match self.skip {
                Skip::Hints => false,
                Skip::Entry { identity } => {
                    matches!(name, "trace_id" | "span_id" | "parent_id" | "duration_ms")
                        || identity.contains(&name)
                }
            };
        if !skipped {
            if self.replace {
                put_tag(self.fields, Cow::Borrowed(name), value());
            } else {
                self.fields.push((Cow::Borrowed(name), value()));
            }
        }
    }
}

impl Visit for FieldVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.skip(field, || {
            TagValue::Str(Cow::Owned(alloc::format!("{value:?}")))
        });
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.skip(field, || TagValue::Str(intern(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.skip(field, || TagValue::Bool(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.skip(field, || unsigned(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.skip(field, || TagValue::I64(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.skip(field, || TagValue::F64(value));
    }
}

/// An event's message and fields.
struct EventVisitor {
    message: Option<Cow<'static, str>>,
    fields: Tags,
}

impl EventVisitor {
    fn put(&mut self, field: &Field, value: TagValue) {
        if field.name() == "message" {
            self.message = Some(Cow::Owned(value.to_string()));
        } else {
            put_tag(&mut self.fields, Cow::Borrowed(field.name()), value);
        }
    }
}

impl Visit for EventVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(
            field,
            TagValue::Str(Cow::Owned(alloc::format!("{value:?}"))),
        );
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, TagValue::Str(Cow::Owned(String::from(value))));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, TagValue::Bool(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, unsigned(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, TagValue::I64(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, TagValue::F64(value));
    }
}

#[inline]
fn is_ours(metadata: &Metadata<'_>, name: &str) -> bool {
    metadata.target() == TARGET && metadata.name() == name
}

impl<S, K> Layer<S> for UsertrailLayer<K>
where
    S: Subscriber + for<'a> LookupSpan<'a> + 'static,
    K: SpanSink,
{
    fn on_layer(&mut self, _subscriber: &mut S) {
        span_tree::register(request_of::<S>);
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        // A second `UsertrailLayer` in the same subscriber: the first records the span (the
        // registry's extensions hold one value of a type, and inserting another panics).
        let metadata = attrs.metadata();
        if is_ours(metadata, ENTRY_SPAN_NAME) {
            // One lock of the extensions for the check and the insert (every request).
            let mut extensions = span.extensions_mut();
            if extensions.get_mut::<SpanData>().is_some() {
                return;
            }
            if let Some(pending) = scope::take_pending() {
                // The HTTP and identity fields the entry point gave the span, already typed
                // (cheaper than visiting its thirty declared fields).
                extensions.insert(SpanData::new(
                    Ids::Entry(pending.state),
                    SpanKind::Server,
                    pending.fields,
                    self.key(),
                    pending.started,
                ));
                return;
            }
        } else if span.extensions().get::<SpanData>().is_some() {
            return;
        }
        if !self.children {
            return;
        }
        let Some(parent) = span.parent() else {
            return;
        };
        let Some((trace_id, parent_id)) = parent_ids(&parent.extensions()) else {
            return;
        };
        let client = is_ours(metadata, CLIENT_SPAN_NAME);
        let mut fields = Vec::with_capacity(metadata.fields().len());
        let mut given = None;
        let mut status_message = None;
        attrs.record(&mut FieldVisitor {
            replace: false,
            fields: &mut fields,
            skip: Skip::Hints,
            span_id: client.then_some(&mut given),
            status_message: Some(&mut status_message),
        });
        let mut data = SpanData::new(
            Ids::Child {
                trace_id,
                span_id: given.unwrap_or_else(new_span_id),
                parent_id,
            },
            if client {
                SpanKind::Client
            } else {
                SpanKind::Internal
            },
            fields,
            self.key(),
            Instant::now(),
        );
        data.status_message = status_message;
        span.extensions_mut().insert(data);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(data) = extensions
            .get_mut::<SpanData>()
            .filter(|d| d.layer == self.key())
        {
            let skip = match &data.ids {
                Ids::Entry(state) => Skip::Entry {
                    identity: state.config.identity_attributes.declared(),
                },
                Ids::Child { .. } => Skip::Hints,
            };
            let client = data.kind == SpanKind::Client;
            let mut given = None;
            values.record(&mut FieldVisitor {
                replace: true,
                fields: &mut data.fields,
                skip,
                span_id: client.then_some(&mut given),
                status_message: Some(&mut data.status_message),
            });
            // The OpenTelemetry bridge re-records a client span's id with OpenTelemetry's.
            if let (Some(id), Ids::Child { span_id, .. }) = (given, &mut data.ids) {
                *span_id = id;
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        let Some(data) = extensions
            .get_mut::<SpanData>()
            .filter(|d| d.layer == self.key())
        else {
            return;
        };
        let metadata = event.metadata();
        if data.events.len() == MAX_EVENTS_PER_SPAN {
            data.dropped_events = data.dropped_events.saturating_add(1);
            if *metadata.level() == Level::ERROR {
                data.error_event = true;
            }
            return;
        }
        let mut visitor = EventVisitor {
            message: None,
            fields: Vec::new(),
        };
        event.record(&mut visitor);
        // `error!(error = %e)` has no message: its error is what it says.
        let name = visitor
            .message
            .or_else(|| {
                visitor
                    .fields
                    .iter()
                    .find(|(k, _)| k == "error")
                    .map(|(_, v)| Cow::Owned(v.to_string()))
            })
            .unwrap_or(Cow::Borrowed(metadata.name()));
        if *metadata.level() == Level::ERROR {
            data.error_event = true;
            if data.status_message.is_none() {
                data.status_message = Some(name.clone());
            }
        }
        data.events.push(SpanEvent {
            name,
            time: SystemTime::now(),
            level: *metadata.level(),
            target: Cow::Borrowed(metadata.target()),
            attributes: visitor.fields,
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let data = {
            let mut extensions = span.extensions_mut();
            if extensions
                .get_mut::<SpanData>()
                .is_none_or(|d| d.layer != self.key())
            {
                return;
            }
            let Some(data) = extensions.remove::<SpanData>() else {
                return;
            };
            data
        };
        let duration = data.started.elapsed();
        let field_error = data.fields.iter().any(|(k, v)| k == "error" && *v == true);
        let mut tags = data.fields;
        let (trace_id, span_id, parent_id, error) = match data.ids {
            Ids::Entry(state) => {
                let inner = state.lock();
                // A tag the service set replaces a field of the same name.
                inner.each_tag_after_identity(&state.config, |key, value| {
                    put_tag(&mut tags, key, TagValue::Str(value));
                });
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
        let mut record = SpanRecord {
            trace_id,
            span_id,
            parent_id,
            name: Cow::Borrowed(span.metadata().name()),
            service: match &self.service {
                Some(service) => service.clone(),
                None => Cow::Borrowed(service_from_env()),
            },
            kind: data.kind,
            start: data.start,
            duration,
            tags,
            error,
            status_message: data.status_message.filter(|_| error),
            events: data.events,
            dropped_events: data.dropped_events,
        };
        if record.name.is_empty() {
            record.name = Cow::Borrowed("span");
        }
        self.sink.record(record);
    }
}

/// The request of the nearest entry span at or above `id` in `dispatch`, when it is a
/// subscriber of type `S` (registered by [`UsertrailLayer::on_layer`]).
fn request_of<S>(dispatch: &Dispatch, id: &Id) -> Option<Arc<RequestState>>
where
    S: Subscriber + for<'a> LookupSpan<'a> + 'static,
{
    let subscriber = dispatch.downcast_ref::<S>()?;
    let span = subscriber.span(id)?;
    span.scope()
        .find_map(|s| match &s.extensions().get::<SpanData>()?.ids {
            Ids::Entry(state) => Some(Arc::clone(state)),
            Ids::Child { .. } => None,
        })
}

/// The service name the environment gives, read once: `OTEL_SERVICE_NAME`, else
/// `service.name` in `OTEL_RESOURCE_ATTRIBUTES` (`key=value` pairs separated by commas,
/// values percent-encoded), else `unnamed-rust-service`.
fn service_from_env() -> &'static str {
    static SERVICE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SERVICE.get_or_init(|| {
        service_name(
            std::env::var("OTEL_SERVICE_NAME").ok(),
            std::env::var("OTEL_RESOURCE_ATTRIBUTES").ok(),
        )
    })
}

/// [`service_from_env`] given the two variables.
fn service_name(otel_service_name: Option<String>, resource_attributes: Option<String>) -> String {
    let named = |v: &str| {
        let v = v.trim();
        (!v.is_empty()).then(|| String::from(v))
    };
    otel_service_name
        .as_deref()
        .and_then(named)
        .or_else(|| {
            resource_attributes?.split(',').find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                (key.trim() == "service.name")
                    .then(|| percent_decode(value.trim()))
                    .and_then(|v| named(&v))
            })
        })
        .unwrap_or_else(|| String::from("unnamed-rust-service"))
}

/// `%XX` escapes decoded (a bad escape is kept as it is); invalid UTF-8 replaced.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_second_layer_in_the_same_subscriber_leaves_the_span_to_the_first() {
        use tracing_subscriber::prelude::*;

        use crate::server::{EntryConfig, ServerRequest};
        use crate::tracing::{MemorySink, UsertrailLayer};

        let (first, second) = (MemorySink::new(), MemorySink::new());
        let subscriber = tracing_subscriber::registry()
            .with(UsertrailLayer::new(first.clone()).with_service("a"))
            .with(UsertrailLayer::new(second.clone()).with_service("a"));
        let headers = alloc::vec![(
            alloc::string::String::from("baggage"),
            alloc::string::String::from("user.id=user_123"),
        )];
        ::tracing::subscriber::with_default(subscriber, || {
            let entry = EntryConfig::new().start(&headers, &ServerRequest::new("GET", "/orders"));
            entry.in_scope(|| ::tracing::info!("order listed"));
            entry.finish(200);
        });
        // Once, not twice, and without a panic in the host's request.
        let a = first.take();
        assert_eq!((a.len(), second.take().len()), (1, 0));
        assert_eq!(a[0].tag("usr.id"), Some("user_123"));
        assert_eq!(a[0].tag("url.path"), Some("/orders"));
        assert_eq!(a[0].events.len(), 1);
    }

    #[test]
    fn resource_attribute_values_are_percent_decoded() {
        assert_eq!(super::percent_decode("shop%20api"), "shop api");
        assert_eq!(super::percent_decode("100%"), "100%");
        assert_eq!(super::percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn the_service_is_named_as_opentelemetry_sdks_name_it() {
        use super::service_name;
        let s = |v: &str| Some(alloc::string::String::from(v));
        let attrs = s("deployment.environment.name=prod, service.name = shop%20api");
        assert_eq!(service_name(s("checkout"), attrs.clone()), "checkout");
        assert_eq!(service_name(s(" "), attrs.clone()), "shop api");
        assert_eq!(service_name(None, attrs), "shop api");
        assert_eq!(
            service_name(None, s("service.namespace=x")),
            "unnamed-rust-service"
        );
        assert_eq!(service_name(None, None), "unnamed-rust-service");
    }
}
