//! [`inject`]: each format's headers written from a [`Context`], then `baggage`.

use super::Context;
use crate::b3::{B3Multi, B3Sampling, B3Single};
use crate::carrier::{self, Injector, Joined};
use crate::datadog::{self, tracecontext};
use crate::error::InjectError;
use crate::headers::{B3, BAGGAGE, TRACEPARENT, TRACESTATE};
use crate::ids::{SpanId, TraceId};
use crate::propagator_type::PropagatorType;
use crate::sampling_priority::SamplingPriority;
use crate::span_context::SpanContext;
use crate::w3c::{Traceparent, Tracestate};

pub(super) fn keep_first_error(
    result: &mut Result<(), InjectError>,
    other: Result<(), InjectError>,
) {
    if result.is_ok() {
        *result = other;
    }
}

/// The headers of `datadog`, `b3` and `b3multi` for a trace id, span id and sampled flag:
/// shared by [`inject`] and [`NewTrace::inject`](super::NewTrace::inject). `tracecontext` is the callers' own, since
/// its `tracestate` depends on the context.
pub(super) fn inject_ids<I: Injector + ?Sized>(
    propagator: PropagatorType,
    (trace_id, span_id, sampled): (TraceId, SpanId, bool),
    priority: SamplingPriority,
    origin: Option<&str>,
    carrier: &mut I,
    result: &mut Result<(), InjectError>,
) {
    match propagator {
        PropagatorType::TraceContext => {}
        PropagatorType::Datadog => {
            let ids = (trace_id, span_id);
            let written = datadog::inject_headers(ids, Some(priority), origin, None, carrier);
            keep_first_error(result, written);
        }
        PropagatorType::B3 => {
            let b3 = B3Single::new(trace_id, span_id)
                .with_sampling(Some(B3Sampling::from_sampled(sampled)));
            carrier::set_checked(carrier, B3, b3.to_header_value(), result);
        }
        PropagatorType::B3Multi => {
            let b3 = B3Multi::new(trace_id, span_id)
                .with_sampling(Some(B3Sampling::from_sampled(sampled)));
            keep_first_error(result, b3.inject(carrier));
        }
    }
}

fn inject_tracecontext(
    sc: &SpanContext<'_>,
    tracestate: Option<&Tracestate<'_>>,
    joined: &mut Joined,
) {
    let traceparent = Traceparent::new(sc.trace_id(), sc.span_id(), sc.flags());
    joined.push(TRACEPARENT, &traceparent.header_bytes());
    let updated;
    let tracestate = match sc.sampling_priority() {
        Some(priority) => {
            updated = tracecontext::with_dd_member(sc, priority, tracestate);
            Some(&updated)
        }
        None => tracestate,
    };
    if let Some(tracestate) = tracestate.filter(|ts| !ts.is_empty()) {
        match tracestate.canonical_text() {
            Some(text) => joined.push(TRACESTATE, text.as_bytes()),
            None => joined.push(TRACESTATE, tracestate.to_header_value().as_bytes()),
        }
    }
}

/// Writes outgoing headers: for each format in `propagators` (when `cx` has a span context),
/// then `baggage` (when not empty).
///
/// * `tracecontext`: `traceparent` version 00 with the Level 2 flags only, and `tracestate`
///   if any. When the span context has a Datadog sampling priority, the `dd` member is
///   rewritten as `s:<priority>;o:<origin>;p:<span id>` (plus earlier `t.*` tags) and moved to
///   the left, as Datadog's tracers do; `p:` is left out for a trace that starts here (no
///   source, no tracestate), as Datadog's browser SDK does.
/// * `datadog`: `x-datadog-trace-id` (low 64 bits), `x-datadog-parent-id`,
///   `x-datadog-sampling-priority` (the context's, else 1 or 0 from the `sampled` flag),
///   `x-datadog-origin`, and `x-datadog-tags: _dd.p.tid=…` for a 128-bit id.
/// * `b3`: `{trace_id}-{span_id}-{1|0}`, 32-digit trace id.
/// * `b3multi`: `x-b3-traceid` (32 digits), `x-b3-spanid`, `x-b3-sampled`.
///
/// # Errors
///
/// A value that is not a valid HTTP field value (CR, LF, NUL, other controls, non-ASCII —
/// only a caller-supplied origin can be one) is not written; the other headers are, and the
/// first refusal is returned.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{inject, Context, PropagatorType, SamplingPriority, SpanContext, SpanId, TraceFlags, TraceId};
///
/// let sc = SpanContext::new(
///     TraceId::from_u64_pair(0, 992357060732163540).unwrap(),
///     SpanId::new(458454585432244812).unwrap(),
///     TraceFlags::SAMPLED,
/// )
/// .with_sampling_priority(Some(SamplingPriority::AUTO_KEEP))
/// .with_origin("rum");
/// let mut headers: Vec<(String, String)> = Vec::new();
/// inject(&Context::new().with_span_context(sc), &[PropagatorType::TraceContext, PropagatorType::Datadog], &mut headers).unwrap();
/// let get = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
/// assert_eq!(get("traceparent"), Some("00-00000000000000000dc58f7d2f4a95d4-065cc2043656824c-01"));
/// assert_eq!(get("tracestate"), Some("dd=s:1;o:rum")); // a trace that starts here: no `p:`
/// assert_eq!(get("x-datadog-trace-id"), Some("992357060732163540"));
/// assert_eq!(get("x-datadog-origin"), Some("rum"));
///
/// let bad = SpanContext::new(TraceId::new(1).unwrap(), SpanId::new(1).unwrap(), TraceFlags::SAMPLED).with_origin("\n");
/// assert!(inject(&Context::new().with_span_context(bad), &[PropagatorType::Datadog], &mut headers).is_err());
/// ```
pub fn inject<I: Injector + ?Sized>(
    cx: &Context<'_>,
    propagators: &[PropagatorType],
    carrier: &mut I,
) -> Result<(), InjectError> {
    let mut result = Ok(());
    // `traceparent`, `tracestate` and `baggage` are written end to end into one buffer and
    // handed over together (one allocation for an `http::HeaderMap`), in the order of
    // separate `set`s.
    let mut joined = Joined::new();
    if let Some(sc) = &cx.span_context {
        let priority = sc
            .sampling_priority()
            .unwrap_or(tracecontext::priority_from_sampled(sc.is_sampled()));
        for &propagator in propagators {
            // What is pending is handed over before each format's headers: at most
            // `traceparent`, `tracestate` and `baggage` are joined (`tracecontext` may be
            // listed twice).
            joined.set_on(carrier);
            if propagator == PropagatorType::TraceContext {
                inject_tracecontext(sc, cx.tracestate.as_ref(), &mut joined);
            } else {
                let ids = (sc.trace_id(), sc.span_id(), sc.is_sampled());
                inject_ids(propagator, ids, priority, sc.origin(), carrier, &mut result);
            }
        }
    }
    if !cx.baggage.is_empty() {
        match cx.baggage.canonical_text() {
            Some(text) => joined.push(BAGGAGE, text.as_bytes()),
            None => joined.push(BAGGAGE, cx.baggage.to_header_value().as_bytes()),
        }
    }
    joined.set_on(carrier);
    result
}
