//! OTLP spans to stored [`Span`]s: ids to hex, the resource's `service.name`, attributes to
//! text tags (capped), the kind and entry-span decision, and the identity [remap](crate::remap).

use std::collections::{BTreeMap, HashSet};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{Span as OtlpSpan, SpanFlags, span, status};
use usertrail_propagator::tracing::INSTRUMENTATION_NAME;

use crate::remap::{self, Origin};
use crate::store::Span;

/// Attributes kept per span (resource attributes included); the rest are dropped.
pub const MAX_ATTRIBUTES: usize = 128;
/// Characters kept of an attribute value or span name.
pub const MAX_VALUE_CHARS: usize = 4_096;
/// How deep array and key-value list attribute values are written out.
const MAX_VALUE_DEPTH: usize = 4;
/// The resource attribute that names the service.
const SERVICE_NAME: &str = "service.name";
/// The service of spans whose resource names none (OpenTelemetry's default).
const UNKNOWN_SERVICE: &str = "unknown_service";
/// Where the sender's span kind is kept (tracing-opentelemetry's field name for it).
const OTEL_KIND_TAG: &str = "otel.kind";

/// The spans of one export request, and what was rejected.
#[derive(Debug, Default)]
pub struct Converted {
    /// The spans to store.
    pub spans: Vec<Span>,
    /// Spans that could not be stored (no valid trace or span id).
    pub rejected: u64,
    /// Why, for the first rejected span.
    pub first_error: Option<String>,
}

/// Hex through a table: `write!("{b:02x}")` goes through `fmt` for every byte.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 0xf)]);
    }
    // Only ASCII digits were pushed.
    String::from_utf8(out).unwrap_or_default()
}

fn truncate(mut s: String) -> String {
    if let Some((at, _)) = s.char_indices().nth(MAX_VALUE_CHARS) {
        s.truncate(at);
    }
    s
}

/// An attribute value as text: strings as they are, arrays and maps as JSON (to a depth).
fn value_text(value: &AnyValue, depth: usize) -> serde_json::Value {
    use any_value::Value as V;
    match &value.value {
        None | Some(V::StringValueStrindex(_)) => serde_json::Value::Null,
        Some(V::StringValue(s)) => serde_json::Value::String(s.clone()),
        Some(V::BoolValue(b)) => (*b).into(),
        Some(V::IntValue(i)) => (*i).into(),
        Some(V::DoubleValue(f)) => serde_json::Number::from_f64(*f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Some(V::BytesValue(b)) => serde_json::Value::String(hex(b)),
        Some(_) if depth >= MAX_VALUE_DEPTH => serde_json::Value::String("…".into()),
        Some(V::ArrayValue(a)) => a
            .values
            .iter()
            .take(MAX_ATTRIBUTES)
            .map(|v| value_text(v, depth + 1))
            .collect(),
        Some(V::KvlistValue(kv)) => kv
            .values
            .iter()
            .take(MAX_ATTRIBUTES)
            .map(|kv| {
                let v = kv
                    .value
                    .as_ref()
                    .map_or(serde_json::Value::Null, |v| value_text(v, depth + 1));
                (kv.key.clone(), v)
            })
            .collect::<serde_json::Map<_, _>>()
            .into(),
    }
}

fn attribute(kv: &KeyValue) -> Option<(String, String)> {
    let value = kv.value.as_ref()?;
    let text = match value_text(value, 0) {
        serde_json::Value::Null => return None,
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    };
    if kv.key.is_empty() {
        return None;
    }
    Some((truncate(kv.key.clone()), truncate(text)))
}

/// An attribute taken apart: a string value is moved, not copied.
fn owned_attribute(kv: KeyValue) -> Option<(String, String)> {
    match kv.value {
        Some(AnyValue {
            value: Some(any_value::Value::StringValue(text)),
        }) if !kv.key.is_empty() => Some((truncate(kv.key), truncate(text))),
        _ => attribute(&kv),
    }
}

/// Adds the span's `attributes` to `tags` up to the cap; earlier keys win.
fn add_attributes(tags: &mut BTreeMap<String, String>, attributes: Vec<KeyValue>) {
    for kv in attributes {
        if tags.len() >= MAX_ATTRIBUTES {
            break;
        }
        if tags.contains_key(&kv.key) {
            continue;
        }
        if let Some((k, v)) = owned_attribute(kv) {
            tags.insert(k, v);
        }
    }
}

/// A resource's attributes, converted once for all its spans: each is the sent key, and the
/// tag's key and value.
type ResourceTags<'a> = Vec<(&'a str, String, String)>;

/// Adds `resource` to `tags` up to the cap; the span's keys win.
fn add_resource(tags: &mut BTreeMap<String, String>, resource: &ResourceTags<'_>) {
    for (sent, k, v) in resource {
        if tags.len() >= MAX_ATTRIBUTES {
            break;
        }
        if !tags.contains_key(*sent) {
            tags.insert(k.clone(), v.clone());
        }
    }
}

fn id(bytes: &[u8], len: usize) -> Option<String> {
    (bytes.len() == len && bytes.iter().any(|b| *b != 0)).then(|| hex(bytes))
}

/// Whether a span is its service's entry span: a server or consumer span whose parent is
/// remote or absent. Without the remote flag (older SDKs), a parent among this request's
/// spans of the same service counts as local.
fn is_entry(span: &OtlpSpan, local_ids: &HashSet<&[u8]>) -> bool {
    let kind = span::SpanKind::try_from(span.kind).unwrap_or(span::SpanKind::Unspecified);
    if !matches!(kind, span::SpanKind::Server | span::SpanKind::Consumer) {
        return false;
    }
    if span.parent_span_id.iter().all(|b| *b == 0) {
        return true;
    }
    if span.flags & SpanFlags::ContextHasIsRemoteMask as u32 != 0 {
        return span.flags & SpanFlags::ContextIsRemoteMask as u32 != 0;
    }
    !local_ids.contains(span.parent_span_id.as_slice())
}

fn kind_name(kind: i32) -> &'static str {
    match span::SpanKind::try_from(kind).unwrap_or(span::SpanKind::Unspecified) {
        span::SpanKind::Server => "server",
        span::SpanKind::Client => "client",
        span::SpanKind::Producer => "producer",
        span::SpanKind::Consumer => "consumer",
        span::SpanKind::Internal | span::SpanKind::Unspecified => "internal",
    }
}

/// The spans of `request`, ready for the store.
///
/// The store's `kind` is the explorer's: `server` for service entry spans (a consumer entry
/// span too), `client` for client and producer spans, `internal` otherwise (a server span
/// with a local parent too); the sender's kind stays in the `otel.kind` tag.
///
/// # Examples
///
/// ```
/// use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
/// use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
///
/// let span = |trace_id: Vec<u8>| Span { trace_id, span_id: vec![1; 8], kind: 2, ..Default::default() };
/// let request = ExportTraceServiceRequest {
///     resource_spans: vec![ResourceSpans {
///         scope_spans: vec![ScopeSpans { spans: vec![span(vec![7; 16]), span(vec![0; 16])], ..Default::default() }],
///         ..Default::default()
///     }],
/// };
/// let converted = usertrail_explorer::otlp::spans(request);
/// assert_eq!(converted.spans[0].kind, "server"); // no parent: an entry span
/// assert_eq!(converted.spans[0].service, "unknown_service");
/// assert_eq!(converted.rejected, 1); // an all-zero trace id
/// ```
pub fn spans(request: ExportTraceServiceRequest) -> Converted {
    let mut out = Converted::default();
    for resource_spans in request.resource_spans {
        let resource_attributes = resource_spans
            .resource
            .map(|r| r.attributes)
            .unwrap_or_default();
        let service = resource_attributes
            .iter()
            .find(|kv| kv.key == SERVICE_NAME)
            .and_then(attribute)
            .map_or_else(|| UNKNOWN_SERVICE.to_owned(), |(_, v)| v);
        let resource_tags: ResourceTags<'_> = resource_attributes
            .iter()
            .filter_map(|kv| attribute(kv).map(|(k, v)| (kv.key.as_str(), k, v)))
            .collect();
        for scope_spans in resource_spans.scope_spans {
            let origin = match &scope_spans.scope {
                // The scope usertrail's propagator exports under.
                Some(scope) if scope.name == INSTRUMENTATION_NAME => Origin::Usertrail,
                _ => Origin::Other,
            };
            let entries: Vec<bool> = {
                let local_ids: HashSet<&[u8]> = scope_spans
                    .spans
                    .iter()
                    .map(|s| s.span_id.as_slice())
                    .collect();
                scope_spans
                    .spans
                    .iter()
                    .map(|s| is_entry(s, &local_ids))
                    .collect()
            };
            // Owned from here: strings move into the stored spans.
            for (span, entry) in scope_spans.spans.into_iter().zip(entries) {
                let (Some(trace_id), Some(span_id)) =
                    (id(&span.trace_id, 16), id(&span.span_id, 8))
                else {
                    out.rejected += 1;
                    out.first_error.get_or_insert_with(|| {
                        "a span needs a 16-byte trace id and an 8-byte span id, neither all zeros"
                            .into()
                    });
                    continue;
                };
                let mut tags = BTreeMap::new();
                add_attributes(&mut tags, span.attributes);
                add_resource(&mut tags, &resource_tags);
                // It is the span's `service` already.
                tags.remove(SERVICE_NAME);
                tags.insert(OTEL_KIND_TAG.into(), kind_name(span.kind).into());
                remap::apply(&mut tags, entry, origin);
                let kind = match (entry, kind_name(span.kind)) {
                    (true, _) => "server",
                    (false, "client" | "producer") => "client",
                    _ => "internal",
                };
                let error = span
                    .status
                    .as_ref()
                    .is_some_and(|s| s.code == status::StatusCode::Error as i32);
                let duration = span
                    .end_time_unix_nano
                    .saturating_sub(span.start_time_unix_nano);
                out.spans.push(Span::new(
                    trace_id,
                    span_id,
                    id(&span.parent_span_id, 8),
                    service.clone(),
                    truncate(span.name),
                    kind,
                    i64::try_from(span.start_time_unix_nano).unwrap_or(i64::MAX),
                    i64::try_from(duration).unwrap_or(i64::MAX),
                    error,
                    tags,
                ));
            }
        }
    }
    out
}
