//! [`extract`] and [`extract_with`]: the formats tried in order, the first valid trace context
//! kept, `tracestate` and baggage read beside it.

use super::extracted::Problems;
use super::{Context, Extracted};
use crate::b3::{B3Multi, B3Sampling, B3Single};
use crate::carrier::{self, Extractor, Snapshot, Source};
use crate::datadog::{DatadogContext, tracecontext};
use crate::error::{ErrorKind, ExtractError};
use crate::headers::{B3, BAGGAGE, TRACEPARENT, TRACESTATE, X_DATADOG_TRACE_ID};
use crate::identity::IDENTITY_KEYS;
use crate::ids::{SpanId, TraceFlags, TraceId};
use crate::propagator_type::PropagatorType;
use crate::span_context::SpanContext;
use crate::w3c::{Baggage, Dropped, Traceparent, Tracestate};

fn extract_tracecontext<'a, S: Source<'a> + ?Sized>(
    carrier: &S,
    problems: &mut Problems,
) -> Option<(SpanContext<'a>, Option<Tracestate<'a>>)> {
    // As bytes: a version-00 value the parser takes is ASCII, and needs no UTF-8 check.
    let (value, count) = carrier.first_bytes(TRACEPARENT);
    let value = value?;
    if count > 1 {
        // The W3C test harness expects a repeated traceparent to restart the trace.
        problems.header(TRACEPARENT, ErrorKind::MultipleHeaders);
        return None;
    }
    let traceparent = match Traceparent::parse_ascii(value) {
        // A higher version's ignored fields may hold anything.
        Ok(tp) if tp.version() != 0 && core::str::from_utf8(value).is_err() => return None,
        Ok(tp) => tp,
        // Not UTF-8: the carrier does not hand it out; there is no traceparent.
        Err(_) if core::str::from_utf8(value).is_err() => return None,
        Err(e) => {
            problems.header(TRACEPARENT, e.kind());
            return None;
        }
    };
    let tracestate =
        carrier::combined(carrier, TRACESTATE).and_then(|text| match Tracestate::from_cow(text) {
            Ok(ts) => Some(ts),
            Err(e) => {
                problems.header(TRACESTATE, e.kind());
                None
            }
        });
    let mut span_context = SpanContext::extracted(
        traceparent.trace_id(),
        traceparent.parent_id(),
        traceparent.flags().known(),
        PropagatorType::TraceContext,
    );
    if let Some(tracestate) = &tracestate {
        if let Err(kind) = tracecontext::read_dd_member(&mut span_context, tracestate) {
            problems.header(TRACESTATE, kind);
        }
    }
    Some((span_context, tracestate))
}

fn extract_datadog<'a, S: Source<'a> + ?Sized>(
    carrier: &S,
    problems: &mut Problems,
) -> Option<SpanContext<'a>> {
    DatadogContext::extract_reporting(carrier, &mut |h, k| problems.header(h, k))
        .map(DatadogContext::into_span_context)
}

fn b3_span_context<'a>(
    trace_id: TraceId,
    span_id: SpanId,
    sampling: Option<B3Sampling>,
    source: PropagatorType,
) -> SpanContext<'a> {
    let sampled = sampling.is_some_and(B3Sampling::is_sampled);
    SpanContext::extracted(
        trace_id,
        span_id,
        TraceFlags::NONE.with_sampled(sampled),
        source,
    )
}

fn extract_b3<E: Extractor + ?Sized>(
    carrier: &E,
    problems: &mut Problems,
) -> Option<SpanContext<'static>> {
    let value = carrier.get(B3)?;
    match B3Single::parse(value) {
        Ok(b3) => Some(b3_span_context(
            b3.trace_id()?,
            b3.span_id()?,
            b3.sampling(),
            PropagatorType::B3,
        )),
        Err(e) => {
            problems.header(B3, e.kind());
            None
        }
    }
}

/// Extracts from `carrier` with [`PropagatorType::EXTRACT_ORDER`]: a valid `traceparent`
/// first, then Datadog, then B3 multi, then B3 single. See [`extract_with`].
///
/// Never fails and never panics; allocates nothing for well-formed single-line headers whose
/// baggage values need no percent-decoding (the result borrows from `carrier`).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::extract;
///
/// // What Datadog's browser SDK sends, with our baggage.
/// let headers = [
///     ("traceparent", "00-00000000000000000dc58f7d2f4a95d4-065cc2043656824c-01"),
///     ("tracestate", "dd=s:1;o:rum"),
///     ("x-datadog-origin", "rum"),
///     ("x-datadog-trace-id", "992357060732163540"),
///     ("x-datadog-parent-id", "458454585432244812"),
///     ("x-datadog-sampling-priority", "1"),
///     ("baggage", "session.id=5afb433c-40c3-4974-a7c2-8d5933cc67f6,user.id=user_123,account.id=account_456"),
/// ];
/// let extracted = extract(&headers[..]);
/// assert!(extracted.errors().is_empty());
/// assert_eq!(extracted.span_context().unwrap().trace_id().low(), 992357060732163540);
/// assert_eq!(extracted.identity().user_id(), Some("user_123"));
///
/// let nothing = extract(&[("traceparent", "garbage")][..]);
/// assert!(nothing.span_context().is_none());
/// assert_eq!(nothing.errors().len(), 1);
/// ```
pub fn extract<E: Extractor + ?Sized>(carrier: &E) -> Extracted<'_> {
    extract_with(carrier, &PropagatorType::EXTRACT_ORDER)
}

/// Extracts from `carrier`, trying the formats in `order` and keeping the first valid trace
/// context; `baggage` is always read.
///
/// * Formats after the one chosen are not looked at, except that when `tracecontext` wins and
///   `datadog` is in `order`, the Datadog headers are read too: a different trace id is
///   reported (`x-datadog-trace-id: trace-id differs from traceparent; traceparent wins`),
///   an equal one fills in a missing sampling priority or origin. Without `_dd.p.tid`, only
///   the low 64 bits are compared (Datadog's browser SDK sends 64-bit ids).
/// * `tracestate` is read only with a valid `traceparent`; an invalid one is reported and
///   left out, without affecting the `traceparent`.
/// * A repeated `traceparent` is invalid; repeated `tracestate` and `baggage` lines are joined
///   with `,`.
/// * Each rejected header and each dropped baggage member is reported, up to 16 entries and
///   one more counting the rest.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{extract_with, PropagatorType};
///
/// let headers = [
///     ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
///     ("x-b3-traceid", "a3ce929d0e0e4736"),
///     ("x-b3-spanid", "00f067aa0ba902b7"),
/// ];
/// let extracted = extract_with(&headers[..], &[PropagatorType::B3Multi, PropagatorType::TraceContext]);
/// assert_eq!(extracted.span_context().unwrap().source(), Some(PropagatorType::B3Multi));
///
/// let none = extract_with(&headers[..], &[]);
/// assert!(none.span_context().is_none());
/// ```
pub fn extract_with<'a, E: Extractor + ?Sized>(
    carrier: &'a E,
    order: &[PropagatorType],
) -> Extracted<'a> {
    // A carrier that lists its headers is read once; the others (the default) are asked
    // name by name, and this branch is gone from their code.
    match Snapshot::take(carrier) {
        Some(snapshot) => extract_from(&snapshot, order),
        None => extract_from(&carrier, order),
    }
}

fn extract_from<'a, S: Source<'a> + Extractor + ?Sized>(
    carrier: &S,
    order: &[PropagatorType],
) -> Extracted<'a> {
    let mut problems = Problems::new();
    let mut span_context = None;
    let mut tracestate = None;
    for &propagator in order {
        let found = match propagator {
            PropagatorType::TraceContext => {
                extract_tracecontext(carrier, &mut problems).map(|(sc, ts)| {
                    tracestate = ts;
                    sc
                })
            }
            PropagatorType::Datadog => extract_datadog(carrier, &mut problems),
            PropagatorType::B3Multi => B3Multi::extract_reporting(carrier, &mut |h, k| {
                problems.header(h, k);
            })
            .map(|b3| {
                b3_span_context(
                    b3.trace_id(),
                    b3.span_id(),
                    b3.sampling(),
                    PropagatorType::B3Multi,
                )
            }),
            PropagatorType::B3 => extract_b3(carrier, &mut problems),
        };
        if found.is_some() {
            span_context = found;
            break;
        }
    }
    if let Some(sc) = span_context.as_mut() {
        if sc.source() == Some(PropagatorType::TraceContext)
            && order.contains(&PropagatorType::Datadog)
        {
            if let Some(datadog) = extract_datadog(carrier, &mut problems) {
                if let Err(kind) = tracecontext::cross_check(sc, datadog) {
                    problems.header(X_DATADOG_TRACE_ID, kind);
                }
            }
        }
    }
    let baggage = match carrier::combined(carrier, BAGGAGE) {
        Some(text) => {
            let mut on_drop = |dropped: Dropped| {
                problems.push(ExtractError::member_dropped(
                    BAGGAGE,
                    dropped.member() as u32,
                    dropped.count() as u32,
                    dropped.kind(),
                ));
            };
            Baggage::from_cow_indexed(text, &mut on_drop, Some(&IDENTITY_KEYS))
        }
        None => Baggage::new(),
    };
    Extracted {
        context: Context {
            span_context,
            tracestate,
            baggage,
        },
        errors: problems.finish(),
    }
}
