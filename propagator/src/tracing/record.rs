//! Finished spans, and where they go.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::{SpanId, TraceId};

/// The instrumentation scope name of the spans this crate records: give it, with
/// [`INSTRUMENTATION_VERSION`], to the exporter that turns [`SpanRecord`]s into
/// OpenTelemetry spans (`InstrumentationScope::builder(INSTRUMENTATION_NAME)`).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::tracing::{INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION};
///
/// assert_eq!(INSTRUMENTATION_NAME, "usertrail-propagator");
/// assert!(!INSTRUMENTATION_VERSION.is_empty());
/// ```
pub const INSTRUMENTATION_NAME: &str = env!("CARGO_PKG_NAME");
/// The version of this crate, the instrumentation scope's version.
pub const INSTRUMENTATION_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What part a span plays in the trace.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::tracing::SpanKind;
///
/// assert_eq!(SpanKind::Server.as_str(), "server");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum SpanKind {
    /// The service entry span: the first span of this service for a request.
    Server,
    /// An outgoing request (`http.client.request`, opened by the `reqwest` middleware).
    Client,
    /// Any other span inside a request.
    Internal,
}

impl SpanKind {
    /// `server`, `client` or `internal`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::tracing::SpanKind::Internal.as_str(), "internal");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            SpanKind::Server => "server",
            SpanKind::Client => "client",
            SpanKind::Internal => "internal",
        }
    }
}

impl fmt::Display for SpanKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tag's value: text, or a number or boolean kept as such, so that an exporter sends
/// `items=3` as an integer, not as the text `"3"`.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::tracing::TagValue;
///
/// assert_eq!(TagValue::from(3_i64).to_string(), "3");
/// assert_eq!(TagValue::from("user_123").as_str(), Some("user_123"));
/// assert_eq!(TagValue::from(true).as_str(), None);
/// assert_eq!(TagValue::from(true), true);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(untagged))]
#[non_exhaustive]
pub enum TagValue {
    /// Text.
    Str(Cow<'static, str>),
    /// A boolean.
    Bool(bool),
    /// An integer (a `u64` field above `i64::MAX` is kept as text, as OTLP has no `u64`).
    I64(i64),
    /// A floating-point number.
    F64(f64),
}

impl TagValue {
    /// The text, when the value is text.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::tracing::TagValue;
    ///
    /// assert_eq!(TagValue::from(String::from("GET")).as_str(), Some("GET"));
    /// assert_eq!(TagValue::from(200_i64).as_str(), None);
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            TagValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for TagValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TagValue::Str(s) => f.write_str(s),
            TagValue::Bool(b) => fmt::Display::fmt(b, f),
            TagValue::I64(n) => fmt::Display::fmt(n, f),
            TagValue::F64(n) => fmt::Display::fmt(n, f),
        }
    }
}

impl From<&'static str> for TagValue {
    #[inline]
    fn from(s: &'static str) -> Self {
        TagValue::Str(Cow::Borrowed(s))
    }
}

impl From<String> for TagValue {
    #[inline]
    fn from(s: String) -> Self {
        TagValue::Str(Cow::Owned(s))
    }
}

impl From<Cow<'static, str>> for TagValue {
    #[inline]
    fn from(s: Cow<'static, str>) -> Self {
        TagValue::Str(s)
    }
}

impl From<bool> for TagValue {
    #[inline]
    fn from(b: bool) -> Self {
        TagValue::Bool(b)
    }
}

impl From<i64> for TagValue {
    #[inline]
    fn from(n: i64) -> Self {
        TagValue::I64(n)
    }
}

impl From<f64> for TagValue {
    #[inline]
    fn from(n: f64) -> Self {
        TagValue::F64(n)
    }
}

impl PartialEq<bool> for TagValue {
    fn eq(&self, other: &bool) -> bool {
        *self == TagValue::Bool(*other)
    }
}

impl PartialEq<i64> for TagValue {
    fn eq(&self, other: &i64) -> bool {
        *self == TagValue::I64(*other)
    }
}

impl PartialEq<&str> for TagValue {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == Some(*other)
    }
}

/// At most this many events are kept per span (OpenTelemetry's default span limit);
/// later ones are counted in [`SpanRecord::dropped_events`].
pub const MAX_EVENTS_PER_SPAN: usize = 128;

/// A `tracing` event emitted inside a span (`tracing::warn!("reservation failed")`), kept
/// on the span as OpenTelemetry keeps span events.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::tracing::MemorySink;
///
/// # let sink = MemorySink::new();
/// for record in sink.records() {
///     for event in &record.events {
///         println!("{} {} {:?}", event.level, event.name, event.attributes);
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct SpanEvent {
    /// The event's message (`tracing`'s `message` field); without one, its `error` field, or
    /// else its callsite name.
    pub name: Cow<'static, str>,
    /// When it happened (wall clock).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "time_unix_nanos", serialize_with = "ser::unix_nanos")
    )]
    pub time: SystemTime,
    /// Its level.
    #[cfg_attr(feature = "serde", serde(serialize_with = "ser::display"))]
    pub level: ::tracing::Level,
    /// Its target (the module path by default).
    pub target: Cow<'static, str>,
    /// Its other fields, with their types, each key once.
    #[cfg_attr(feature = "serde", serde(serialize_with = "ser::map"))]
    pub attributes: Tags,
}

/// A span's tags or an event's attributes: each key once, in the order they were set (a
/// span has a dozen, so a list beats a map to build, read and drop on every request).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::tracing::{TagValue, Tags};
///
/// let tags: Tags = vec![("http.request.method".into(), TagValue::from("GET"))];
/// assert_eq!(tags[0].1.as_str(), Some("GET"));
/// ```
pub type Tags = Vec<(Cow<'static, str>, TagValue)>;

/// Sets `key` in `tags`: replaces its value when present, else appends it.
pub(crate) fn put_tag(tags: &mut Tags, key: Cow<'static, str>, value: TagValue) {
    match tags.iter_mut().find(|(k, _)| *k == key) {
        Some((_, v)) => *v = value,
        None => tags.push((key, value)),
    }
}

/// Values that come up on every request, kept as static strings.
pub(crate) fn intern(value: &str) -> Cow<'static, str> {
    const COMMON: &[&str] = &[
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "/", "http", "https", "1.1",
        "2",
    ];
    // The length first: most values match none, and most lengths rule every one out.
    match COMMON
        .iter()
        .find(|c| c.len() == value.len() && **c == value)
    {
        Some(c) => Cow::Borrowed(c),
        None => Cow::Owned(String::from(value)),
    }
}

/// A finished span, as [`UsertrailLayer`](super::UsertrailLayer) hands it to a [`SpanSink`].
///
/// Entry spans ([`SpanKind::Server`]) carry the request's tags: the HTTP fields
/// (`http.request.method`, `url.scheme`, `url.path`, `http.route`, `server.address`,
/// `server.port`, `http.response.status_code`, `error`, `error.type`…),
/// the identity (`usr.id`, `account.id`, `session.id`, and whatever `set_user` /
/// `set_account` / `RequestContext::set_tag` wrote) and `baggage.<key>` tags. Other spans
/// carry only their own fields. All spans of a request share its `trace_id`; `parent_id`
/// links each span to its parent, the entry span to the caller's span.
///
/// With the `serde` feature it serializes with ids as lower-case hex, `start` as nanoseconds
/// since the Unix epoch (`start_unix_nanos`) and `duration` as nanoseconds
/// (`duration_nanos`).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::tracing::{MemorySink, SpanKind, SpanSink};
///
/// let sink = MemorySink::new();
/// assert!(sink.records().is_empty());
/// // Records come from `UsertrailLayer`; see its example.
/// let entries = sink.records().into_iter().filter(|r| r.kind == SpanKind::Server).count();
/// assert_eq!(entries, 0);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct SpanRecord {
    /// The trace.
    #[cfg_attr(feature = "serde", serde(serialize_with = "ser::display"))]
    pub trace_id: TraceId,
    /// This span.
    #[cfg_attr(feature = "serde", serde(serialize_with = "ser::display"))]
    pub span_id: SpanId,
    /// The parent span: the caller's span for an entry span (`None` when the trace started
    /// here), the enclosing span otherwise.
    #[cfg_attr(feature = "serde", serde(serialize_with = "ser::display_opt"))]
    pub parent_id: Option<SpanId>,
    /// The span's name (`http.request` for entry spans).
    pub name: Cow<'static, str>,
    /// The service name given to the layer.
    pub service: Cow<'static, str>,
    /// Entry, client or internal span.
    pub kind: SpanKind,
    /// When the span was opened (wall clock).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "start_unix_nanos", serialize_with = "ser::unix_nanos")
    )]
    pub start: SystemTime,
    /// How long it was open (monotonic clock).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "duration_nanos", serialize_with = "ser::nanos")
    )]
    pub duration: Duration,
    /// Tags: the span's fields, with their types (`items = 3` stays an integer), and for an
    /// entry span the request's tags, each key once. Keys and common values (`GET`, `/`)
    /// borrow static strings, so recording costs fewer allocations; read text with
    /// [`tag`](Self::tag), any value with [`value`](Self::value).
    #[cfg_attr(feature = "serde", serde(serialize_with = "ser::map"))]
    pub tags: Tags,
    /// For an entry span: the response was a 5xx or the service failed. For a client span:
    /// the response was a 4xx or 5xx, or the request failed. For another span: an `error`
    /// field set to `true`, or an `ERROR` event inside it.
    pub error: bool,
    /// Why it failed: the message of the first `ERROR` event inside the span, or the
    /// `otel.status_message` field (the client span's transport error).
    pub status_message: Option<Cow<'static, str>>,
    /// The `tracing` events emitted inside the span, in order, at most
    /// [`MAX_EVENTS_PER_SPAN`].
    pub events: Vec<SpanEvent>,
    /// Events left out past [`MAX_EVENTS_PER_SPAN`].
    pub dropped_events: u32,
}

impl SpanRecord {
    /// `start` as nanoseconds since the Unix epoch (0 before it).
    ///
    /// # Examples
    ///
    /// ```
    /// # let sink = usertrail_propagator::tracing::MemorySink::new();
    /// for record in sink.records() {
    ///     assert!(record.start_unix_nanos() > 0);
    /// }
    /// ```
    pub fn start_unix_nanos(&self) -> u64 {
        self.start
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    /// A tag's value.
    ///
    /// # Examples
    ///
    /// ```
    /// # let sink = usertrail_propagator::tracing::MemorySink::new();
    /// for record in sink.records() {
    ///     println!("{:?}", record.tag("usr.id"));
    /// }
    /// ```
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.value(key).and_then(TagValue::as_str)
    }

    /// A tag's value, whatever its type.
    ///
    /// # Examples
    ///
    /// ```
    /// # let sink = usertrail_propagator::tracing::MemorySink::new();
    /// for record in sink.records() {
    ///     if let Some(status) = record.value("http.response.status_code") {
    ///         assert!(*status == 200_i64 || *status != 200_i64);
    ///     }
    /// }
    /// ```
    pub fn value(&self, key: &str) -> Option<&TagValue> {
        self.tags.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The span's name as OpenTelemetry's HTTP conventions name it: `GET /orders/{id}` for
    /// an entry span (method and `http.route`; the method alone without a route, never the
    /// raw path, whose ids would make a name per order), `GET` for a client span, the
    /// `tracing` span name otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// # let sink = usertrail_propagator::tracing::MemorySink::new();
    /// for record in sink.records() {
    ///     println!("{}", record.otel_name());
    /// }
    /// ```
    pub fn otel_name(&self) -> Cow<'static, str> {
        let method = self.tag("http.request.method");
        match (self.kind, method) {
            (SpanKind::Server, Some(method)) => {
                Cow::Owned(super::http_span_name(method, self.tag("http.route")))
            }
            (SpanKind::Client, Some(method)) => Cow::Owned(super::http_span_name(method, None)),
            _ => self.name.clone(),
        }
    }
}

#[cfg(feature = "serde")]
mod ser {
    use core::fmt::Display;
    use core::time::Duration;
    use std::time::SystemTime;

    use serde::Serializer;

    pub(super) fn display<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub(super) fn display_opt<T: Display, S: Serializer>(
        v: &Option<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    pub(super) fn unix_nanos<S: Serializer>(v: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        let nanos = v
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        s.serialize_u64(nanos)
    }

    pub(super) fn map<S: Serializer>(tags: &super::Tags, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(tags.iter().map(|(k, v)| (k, v)))
    }

    pub(super) fn nanos<S: Serializer>(v: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(v.as_nanos()).unwrap_or(u64::MAX))
    }
}

/// Where [`UsertrailLayer`](super::UsertrailLayer) puts finished spans: a store, an exporter,
/// a test's memory.
///
/// Called on the thread that closes the span, inside the request's path: keep it quick (hand
/// the record to a channel or a buffer), and don't panic.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::tracing::{SpanRecord, SpanSink};
///
/// struct Stderr;
/// impl SpanSink for Stderr {
///     fn record(&self, span: SpanRecord) {
///         eprintln!("{} {} {:?}", span.trace_id, span.name, span.tags);
///     }
/// }
/// ```
pub trait SpanSink: Send + Sync + 'static {
    /// Takes one finished span.
    fn record(&self, span: SpanRecord);
}

impl<T: SpanSink + ?Sized> SpanSink for Arc<T> {
    fn record(&self, span: SpanRecord) {
        (**self).record(span);
    }
}

impl<T: SpanSink + ?Sized> SpanSink for alloc::boxed::Box<T> {
    fn record(&self, span: SpanRecord) {
        (**self).record(span);
    }
}

/// Drops every record (the layer still builds them: useful to measure the cost).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::tracing::{NoopSink, UsertrailLayer};
///
/// let layer = UsertrailLayer::new(NoopSink);
/// # let _ = layer;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopSink;

impl SpanSink for NoopSink {
    #[inline]
    fn record(&self, span: SpanRecord) {
        drop(span);
    }
}

/// Keeps every record in memory (tests, demos). Clones share the same records.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::tracing::{MemorySink, UsertrailLayer};
///
/// let sink = MemorySink::new();
/// let layer = UsertrailLayer::new(sink.clone());
/// # let _ = layer;
/// assert_eq!(sink.take().len(), 0);
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemorySink {
    records: Arc<Mutex<Vec<SpanRecord>>>,
}

impl MemorySink {
    /// An empty sink.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(usertrail_propagator::tracing::MemorySink::new().records().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the records so far, in the order spans closed.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::tracing::MemorySink::new().records().len(), 0);
    /// ```
    pub fn records(&self) -> Vec<SpanRecord> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Takes the records so far, leaving the sink empty.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(usertrail_propagator::tracing::MemorySink::new().take().is_empty());
    /// ```
    pub fn take(&self) -> Vec<SpanRecord> {
        core::mem::take(&mut *self.records.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl SpanSink for MemorySink {
    fn record(&self, span: SpanRecord) {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(span);
    }
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn serializes_ids_as_hex_and_times_as_nanos() {
        let tags = vec![
            (Cow::Borrowed("usr.id"), TagValue::from("user_123")),
            (Cow::Borrowed("items"), TagValue::from(3_i64)),
        ];
        let record = SpanRecord {
            trace_id: TraceId::new(0xab).unwrap(),
            span_id: SpanId::new(0xcd).unwrap(),
            parent_id: None,
            name: Cow::Borrowed("http.request"),
            service: Cow::Borrowed("checkout"),
            kind: SpanKind::Server,
            start: SystemTime::UNIX_EPOCH + Duration::from_nanos(1_500),
            duration: Duration::from_micros(2),
            tags,
            error: false,
            status_message: None,
            events: Vec::new(),
            dropped_events: 0,
        };
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "trace_id": "000000000000000000000000000000ab",
                "span_id": "00000000000000cd",
                "parent_id": null,
                "name": "http.request",
                "service": "checkout",
                "kind": "server",
                "start_unix_nanos": 1500,
                "duration_nanos": 2000,
                "tags": {"items": 3, "usr.id": "user_123"},
                "error": false,
                "status_message": null,
                "events": [],
                "dropped_events": 0,
            })
        );
        assert_eq!(record.start_unix_nanos(), 1500);
    }
}
