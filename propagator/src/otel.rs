//! OpenTelemetry: a `TextMapPropagator` built on this crate's parsers, and the bridge that
//! gets the identity tags onto spans exported by `tracing-opentelemetry`.
//!
//! # The propagator
//!
//! [`UsertrailPropagator`] reads and writes `traceparent` / `tracestate`, the `x-datadog-*`
//! headers (and B3 when asked) and `baggage` with this crate's core, so OpenTelemetry users
//! get the same strictness, limits and Datadog interplay (`dd` member of `tracestate`,
//! sampling priority, origin) as the rest of usertrail:
//!
//! ```
//! use opentelemetry::propagation::TextMapPropagator;
//! use usertrail_propagator::otel::UsertrailPropagator;
//!
//! opentelemetry::global::set_text_map_propagator(UsertrailPropagator::new());
//! assert!(UsertrailPropagator::new().fields().any(|f| f == "baggage"));
//! ```
//!
//! A Datadog sampling priority and origin travel in the OpenTelemetry `TraceState` as the
//! `dd` member (`dd=s:1;o:rum`), which is where Datadog's own tracers keep them.
//!
//! # The tracing-opentelemetry bridge
//!
//! With `PropagateContextLayer::with_opentelemetry(true)` and
//! `tracing_opentelemetry::OpenTelemetryLayer` in the subscriber, the exported entry span
//! continues the browser's trace and carries `usr.id`, `account.id`, `session.id` and the
//! `usr.*` / `account.*` fields as attributes (tracing-opentelemetry turns the span's
//! declared fields into attributes), plus `baggage.<key>`, `usr.<key>` and the service's own
//! tags through `OpenTelemetrySpanExt::set_attribute`. Without the tower layer,
//! [`identity_attributes`] gives the same attributes from an OpenTelemetry `Baggage`.

use alloc::string::String;
use alloc::vec::Vec;
use core::str::FromStr;

use opentelemetry::baggage::{BaggageExt, KeyValueMetadata};
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{
    Extractor as OtelExtractor, Injector as OtelInjector, TextMapPropagator,
};
use opentelemetry::trace::{TraceContextExt, TraceState};
use opentelemetry::{Context as OtelContext, KeyValue};

use crate::datadog::DD_TRACESTATE_KEY as DD;
use crate::datadog::tracecontext::read_dd_member;
use crate::{
    ACCOUNT_ID_ATTRIBUTE, ACCOUNT_ID_KEY, Baggage, Context, DatadogTracestate, Extractor, Injector,
    PropagatorType, SESSION_ID_ATTRIBUTE, SESSION_ID_KEY, SpanContext, SpanId, TraceFlags, TraceId,
    Tracestate, USER_ID_ATTRIBUTE, USER_ID_KEY,
};

/// Our [`Extractor`] over an OpenTelemetry one.
struct ExtractorAdapter<'a>(&'a dyn OtelExtractor);

impl Extractor for ExtractorAdapter<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name)
    }

    fn get_all<'a>(&'a self, name: &str, each: &mut dyn FnMut(&'a str)) {
        if let Some(values) = self.0.get_all(name) {
            for value in values {
                each(value);
            }
        }
    }
}

/// Our [`Injector`] over an OpenTelemetry one.
struct InjectorAdapter<'a>(&'a mut dyn OtelInjector);

impl Injector for InjectorAdapter<'_> {
    fn set(&mut self, name: &'static str, value: String) {
        self.0.set(name, value);
    }
}

/// An OpenTelemetry `SpanContext` for ours; a Datadog priority or origin that is not in
/// `tracestate` yet (it came in `x-datadog-*` headers) is added as the `dd` member.
fn to_otel(
    sc: &SpanContext<'_>,
    tracestate: Option<&Tracestate<'_>>,
    remote: bool,
) -> opentelemetry::trace::SpanContext {
    let mut trace_state = match tracestate {
        Some(ts) => TraceState::from_str(&ts.to_header_value()).unwrap_or_default(),
        None => TraceState::default(),
    };
    if trace_state.get(DD).is_none() && (sc.sampling_priority().is_some() || sc.origin().is_some())
    {
        let dd = DatadogTracestate::new(sc.sampling_priority(), sc.origin(), None);
        if let Ok(updated) = trace_state.insert(DD, dd.to_header_value()) {
            trace_state = updated;
        }
    }
    opentelemetry::trace::SpanContext::new(
        opentelemetry::trace::TraceId::from_bytes(sc.trace_id().to_bytes()),
        opentelemetry::trace::SpanId::from_bytes(sc.span_id().to_bytes()),
        opentelemetry::trace::TraceFlags::new(sc.flags().bits()),
        remote,
        trace_state,
    )
}

/// Ours for an OpenTelemetry `SpanContext` (`None` when it is not valid); the `dd` member of
/// its `TraceState`, if any, gives the Datadog priority (reconciled with the sampled flag, as
/// extraction does) and origin.
fn from_otel(
    sc: &opentelemetry::trace::SpanContext,
) -> Option<(SpanContext<'static>, Option<Tracestate<'static>>)> {
    if !sc.is_valid() {
        return None;
    }
    let trace_id = TraceId::from_bytes(sc.trace_id().to_bytes())?;
    let span_id = SpanId::from_bytes(sc.span_id().to_bytes())?;
    let mut ours = SpanContext::new(trace_id, span_id, TraceFlags::new(sc.trace_flags().to_u8()));
    let header = sc.trace_state().header();
    let tracestate = Tracestate::parse(&header)
        .ok()
        .filter(|ts| !ts.is_empty())
        .map(Tracestate::into_owned);
    if let Some(tracestate) = &tracestate {
        // A `dd` member that does not parse is left as it is and read as absent.
        let _ = read_dd_member(&mut ours, tracestate);
    }
    Some((ours, tracestate))
}

/// An OpenTelemetry [`TextMapPropagator`] that reads and writes W3C Trace Context, Datadog
/// (and B3, when configured) and W3C Baggage with this crate's core.
///
/// * `extract`: tries the formats in order (default [`PropagatorType::EXTRACT_ORDER`]);
///   the first valid one gives the remote span context; `baggage` is always read (members
///   percent-decoded, properties kept as metadata). Bad input never fails: the incoming
///   context is returned unchanged (with the valid baggage members).
/// * `inject`: writes the formats configured (default `tracecontext` + `datadog`) for a
///   valid span context, then `baggage` (percent-encoded) when not empty.
///
/// # Examples
///
/// ```
/// use std::collections::HashMap;
/// use opentelemetry::baggage::BaggageExt;
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::trace::TraceContextExt;
/// use usertrail_propagator::otel::UsertrailPropagator;
///
/// let propagator = UsertrailPropagator::new();
/// let mut incoming = HashMap::new();
/// incoming.insert("traceparent".to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_string());
/// incoming.insert("baggage".to_string(), "user.id=user_123".to_string());
/// let cx = propagator.extract(&incoming);
/// assert_eq!(cx.span().span_context().trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert_eq!(cx.baggage().get("user.id").map(|v| v.as_str()), Some("user_123"));
///
/// let mut outgoing = HashMap::new();
/// propagator.inject_context(&cx, &mut outgoing);
/// assert_eq!(outgoing["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
/// assert_eq!(outgoing["x-datadog-trace-id"], "11803532876627986230");
///
/// let nothing = propagator.extract(&HashMap::from([("traceparent".to_string(), "00-bad".to_string())]));
/// assert!(!nothing.span().span_context().is_valid());
/// ```
#[derive(Clone, Debug)]
pub struct UsertrailPropagator {
    extract: &'static [PropagatorType],
    inject: &'static [PropagatorType],
    fields: Vec<String>,
}

impl Default for UsertrailPropagator {
    fn default() -> Self {
        Self::new()
    }
}

impl UsertrailPropagator {
    /// Extracts tracecontext, Datadog, B3 multi, B3; injects tracecontext and Datadog.
    ///
    /// # Examples
    ///
    /// ```
    /// use opentelemetry::propagation::TextMapPropagator;
    ///
    /// let propagator = usertrail_propagator::otel::UsertrailPropagator::new();
    /// let fields: Vec<&str> = propagator.fields().collect();
    /// assert!(fields.contains(&"traceparent") && fields.contains(&"x-datadog-parent-id"));
    /// ```
    pub fn new() -> Self {
        Self::with_formats(
            &PropagatorType::EXTRACT_ORDER,
            crate::tracing::DEFAULT_INJECT,
        )
    }

    /// Extracts `extract` (in order) and injects `inject`.
    ///
    /// # Examples
    ///
    /// ```
    /// use opentelemetry::propagation::TextMapPropagator;
    /// use usertrail_propagator::{otel::UsertrailPropagator, PropagatorType};
    ///
    /// let w3c = UsertrailPropagator::with_formats(&[PropagatorType::TraceContext], &[PropagatorType::TraceContext]);
    /// assert_eq!(w3c.fields().collect::<Vec<_>>(), ["traceparent", "tracestate", "baggage"]);
    /// ```
    pub fn with_formats(
        extract: &'static [PropagatorType],
        inject: &'static [PropagatorType],
    ) -> Self {
        let mut types: Vec<PropagatorType> = extract.to_vec();
        types.extend_from_slice(inject);
        let fields = crate::cors::cors_allow_headers(&types)
            .into_iter()
            .map(String::from)
            .collect();
        UsertrailPropagator {
            extract,
            inject,
            fields,
        }
    }
}

impl TextMapPropagator for UsertrailPropagator {
    fn inject_context(&self, cx: &OtelContext, injector: &mut dyn OtelInjector) {
        let mut ours = Context::new();
        if let Some((sc, tracestate)) = from_otel(cx.span().span_context()) {
            ours = ours.with_span_context(sc).with_tracestate(tracestate);
        }
        let otel_baggage = cx.baggage();
        if !otel_baggage.is_empty() {
            let mut baggage = Baggage::new();
            for (key, (value, _metadata)) in otel_baggage {
                // Keys OpenTelemetry accepted but W3C would not, or over the limits: skipped.
                let _ = baggage.set(key.as_str(), value.as_str());
            }
            ours = ours.with_baggage(baggage);
        }
        // Only a caller-supplied origin can be an invalid header value; it is skipped.
        let _ = crate::inject(&ours, self.inject, &mut InjectorAdapter(injector));
    }

    fn extract_with_context(&self, cx: &OtelContext, extractor: &dyn OtelExtractor) -> OtelContext {
        let carrier = ExtractorAdapter(extractor);
        let extracted = crate::extract_with(&carrier, self.extract);
        let mut out = match extracted.span_context() {
            Some(sc) => cx.with_remote_span_context(to_otel(sc, extracted.tracestate(), true)),
            None => cx.clone(),
        };
        let baggage = extracted.baggage();
        if !baggage.is_empty() {
            let members: Vec<KeyValueMetadata> = baggage
                .iter()
                .map(|member| {
                    let mut metadata = String::new();
                    for (i, (key, value)) in member.raw_properties().enumerate() {
                        if i > 0 {
                            metadata.push(';');
                        }
                        metadata.push_str(key);
                        if let Some(value) = value {
                            metadata.push('=');
                            metadata.push_str(value);
                        }
                    }
                    KeyValueMetadata::new(
                        String::from(member.key()),
                        member.value().into_owned(),
                        metadata,
                    )
                })
                .collect();
            out = out.with_baggage(members);
        }
        out
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

/// The identity attributes for an OpenTelemetry baggage: `usr.id` from `user.id`,
/// `account.id`, `session.id` (empty values skipped). For OpenTelemetry users who do not
/// use `PropagateContextLayer`: set them on the server span.
///
/// # Examples
///
/// ```
/// use opentelemetry::baggage::Baggage;
///
/// let mut baggage = Baggage::new();
/// baggage.insert("user.id", "user_123");
/// baggage.insert("theme", "dark");
/// let attributes = usertrail_propagator::otel::identity_attributes(&baggage);
/// assert_eq!(attributes.len(), 1);
/// assert_eq!(attributes[0].key.as_str(), "usr.id");
/// ```
pub fn identity_attributes(baggage: &opentelemetry::baggage::Baggage) -> Vec<KeyValue> {
    identity_attributes_named(baggage, crate::tracing::IdentityAttributes::Datadog)
}

/// [`identity_attributes`] with the names of `names`: `user.id` instead of `usr.id` for
/// [`IdentityAttributes::OpenTelemetry`](crate::tracing::IdentityAttributes::OpenTelemetry).
///
/// # Examples
///
/// ```
/// use opentelemetry::baggage::Baggage;
/// use usertrail_propagator::tracing::IdentityAttributes;
///
/// let mut baggage = Baggage::new();
/// baggage.insert("user.id", "user_123");
/// let attributes = usertrail_propagator::otel::identity_attributes_named(&baggage, IdentityAttributes::OpenTelemetry);
/// assert_eq!(attributes[0].key.as_str(), "user.id");
/// ```
pub fn identity_attributes_named(
    baggage: &opentelemetry::baggage::Baggage,
    names: crate::tracing::IdentityAttributes,
) -> Vec<KeyValue> {
    [
        (SESSION_ID_KEY, SESSION_ID_ATTRIBUTE),
        (USER_ID_KEY, names.rename(USER_ID_ATTRIBUTE)),
        (ACCOUNT_ID_KEY, ACCOUNT_ID_ATTRIBUTE),
    ]
    .into_iter()
    .filter_map(|(key, attribute)| {
        let value = baggage.get(key)?.as_str();
        (!value.is_empty()).then(|| KeyValue::new(attribute, String::from(value)))
    })
    .collect()
}

mod bridge {
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;

    use ::tracing::Span;
    use opentelemetry::Context as OtelContext;
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    use super::to_otel;
    use crate::tracing::{RequestState, TagList};
    use crate::{SpanContext, SpanId, TraceId};

    /// Sets the entry span's OpenTelemetry parent to the caller's context, adopts the
    /// OpenTelemetry span's ids, and sets the tags that are not span fields as attributes.
    pub(crate) fn bridge_entry_span(span: &Span, state: &RequestState) {
        let (parent, dynamic) = {
            let inner = state.lock();
            let parent = inner.parent_id.map(|parent| {
                let remote = inner.span_context.clone().with_span_id(parent);
                OtelContext::new().with_remote_span_context(to_otel(
                    &remote,
                    inner.tracestate.as_ref(),
                    true,
                ))
            });
            let mut tags = TagList::new();
            inner.push_tags(&state.config, &mut tags);
            let dynamic: Vec<(String, String)> = tags
                .into_iter()
                .filter(|(k, _)| {
                    !state
                        .config
                        .identity_attributes
                        .declared()
                        .contains(&k.as_ref())
                })
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            (parent, dynamic)
        };
        if let Some(parent) = parent {
            if span.set_parent(parent).is_err() {
                return; // no OpenTelemetryLayer, or the span is disabled
            }
        }
        for (key, value) in dynamic {
            span.set_attribute(key, value);
        }
        let cx = span.context();
        let otel = cx.span().span_context().clone();
        if !otel.is_valid() {
            return;
        }
        let (Some(trace_id), Some(span_id)) = (
            TraceId::from_bytes(otel.trace_id().to_bytes()),
            SpanId::from_bytes(otel.span_id().to_bytes()),
        ) else {
            return;
        };
        {
            let mut inner = state.lock();
            let old = &inner.span_context;
            inner.span_context = if old.trace_id() == trace_id {
                old.clone().with_span_id(span_id)
            } else {
                // A trace that starts here: OpenTelemetry chose the trace id.
                SpanContext::new(trace_id, span_id, old.flags())
                    .with_sampling_priority(old.sampling_priority())
            };
        }
        span.record("trace_id", ::tracing::field::display(trace_id));
        span.record("span_id", ::tracing::field::display(span_id));
    }

    /// `set_attribute` on the span's OpenTelemetry span.
    pub(crate) fn set_attribute(span: &Span, key: &str, value: &str) {
        span.set_attribute(key.to_string(), value.to_string());
    }
}

pub(crate) use bridge::{bridge_entry_span, set_attribute};

/// The OpenTelemetry span id of `span` (starting its OpenTelemetry span), if
/// tracing-opentelemetry is in the subscriber.
#[cfg(feature = "reqwest")]
pub(crate) fn span_id_of(span: &::tracing::Span) -> Option<SpanId> {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let cx = span.context();
    let sc = cx.span().span_context().clone();
    if !sc.is_valid() {
        return None;
    }
    let id = SpanId::from_bytes(sc.span_id().to_bytes())?;
    span.record("span_id", ::tracing::field::display(id));
    Some(id)
}
