//! Datadog beside W3C Trace Context: how the `dd` member of `tracestate` and the
//! `x-datadog-*` headers are read with, checked against, and written from a `traceparent`, as
//! Datadog's tracers do. Each rule is here once; `crate::propagation` calls them when it
//! extracts and injects.

use alloc::borrow::Cow;
use alloc::string::String;

use super::member::{DD_TRACESTATE_KEY, DatadogTracestate, push_dd_value};
use crate::error::ErrorKind;
use crate::sampling_priority::SamplingPriority;
use crate::span_context::SpanContext;
use crate::w3c::{Tracestate, check_tracestate_value};

/// The priority Datadog's samplers give for a sampled flag: keep (1) or reject (0). What a
/// context without a priority sends in `x-datadog-sampling-priority` and `dd=s:`.
#[inline]
pub(crate) const fn priority_from_sampled(sampled: bool) -> SamplingPriority {
    if sampled {
        SamplingPriority::AUTO_KEEP
    } else {
        SamplingPriority::AUTO_REJECT
    }
}

/// Datadog's rule for a priority that comes with a `traceparent`: kept when it agrees with the
/// `sampled` flag, else 1 or 0 from the flag.
fn reconcile(sampled: bool, priority: Option<SamplingPriority>) -> Option<SamplingPriority> {
    let priority = priority?;
    Some(if priority.is_keep() == sampled {
        priority
    } else {
        priority_from_sampled(sampled)
    })
}

/// Reads the `dd` member of the `tracestate` that came with a `traceparent` into that
/// `traceparent`'s span context: its priority (reconciled with the sampled flag) and its
/// origin. No `dd` member changes nothing; a `dd` member that does not parse is the error, and
/// changes nothing either.
pub(crate) fn read_dd_member<'a>(
    span_context: &mut SpanContext<'a>,
    tracestate: &Tracestate<'a>,
) -> Result<(), ErrorKind> {
    let Some(dd) = tracestate.get_cow(DD_TRACESTATE_KEY) else {
        return Ok(());
    };
    let (priority, origin) = match dd {
        Cow::Borrowed(dd) => DatadogTracestate::priority_and_origin(dd).map_err(|e| e.kind())?,
        Cow::Owned(dd) => {
            let dd = DatadogTracestate::parse(&dd).map_err(|e| e.kind())?;
            let origin = dd.origin().map(|o| Cow::Owned(o.into_owned()));
            (dd.sampling_priority(), origin)
        }
    };
    span_context.sampling_priority = reconcile(span_context.is_sampled(), priority);
    span_context.origin = origin;
    Ok(())
}

/// The cross-check when a `traceparent` was chosen and `x-datadog-*` headers came too: a
/// different trace id is the error (the `traceparent` wins, unchanged); an equal one fills in
/// a priority (reconciled with the sampled flag) or an origin the `traceparent` side lacks.
/// Without `_dd.p.tid` only the low 64 bits are compared: Datadog's browser SDK sends 64-bit
/// ids.
pub(crate) fn cross_check<'a>(
    span_context: &mut SpanContext<'a>,
    datadog: SpanContext<'a>,
) -> Result<(), ErrorKind> {
    let agree = if datadog.trace_id.high() == 0 {
        datadog.trace_id.low() == span_context.trace_id.low()
    } else {
        datadog.trace_id == span_context.trace_id
    };
    if !agree {
        return Err(ErrorKind::TraceIdMismatch);
    }
    if span_context.sampling_priority.is_none() {
        span_context.sampling_priority =
            reconcile(span_context.is_sampled(), datadog.sampling_priority);
    }
    if span_context.origin.is_none() {
        span_context.origin = datadog.origin;
    }
    Ok(())
}

/// The `tracestate` to send for a span context with a Datadog priority: the `dd` member
/// rewritten as `s:<priority>;o:<origin>;p:<span id>`, keeping the earlier member's `t.*`
/// tags, and moved to the left (Level 2 §3.5: a modified key moves to the left). `p:` names
/// the last Datadog span before a hop through other tracers; a trace that starts here (no
/// source, no `tracestate`: the browser's) has had no such hop and gets none, as Datadog's
/// browser SDK sends `dd=s:1;o:rum`. An origin that makes the member invalid (too long) is
/// left out.
pub(crate) fn with_dd_member<'t>(
    span_context: &SpanContext<'_>,
    priority: SamplingPriority,
    tracestate: Option<&Tracestate<'t>>,
) -> Tracestate<'t> {
    let mut updated = tracestate.cloned().unwrap_or_default();
    let previous = updated
        .get(DD_TRACESTATE_KEY)
        .and_then(|v| DatadogTracestate::parse(v).ok());
    let starts_here = span_context.source.is_none() && tracestate.is_none();
    let last_parent = (!starts_here).then_some(span_context.span_id);
    let mut dd = DatadogTracestate::new(Some(priority), span_context.origin(), last_parent);
    if let Some(previous) = &previous {
        dd = dd.with_tags_from(previous);
    }
    if updated
        .insert(DD_TRACESTATE_KEY, &dd.to_header_value())
        .is_err()
    {
        let dd = DatadogTracestate::new(Some(priority), None, last_parent);
        let _ = updated.insert(DD_TRACESTATE_KEY, &dd.to_header_value());
    }
    updated
}

/// The `tracestate` of a trace that starts here: `dd=s:<priority>;o:<origin>`, which is what
/// `Tracestate::insert` of `DatadogTracestate::new(Some(priority), origin, None)` into an empty
/// tracestate writes, without building either. An origin that makes the member invalid (too
/// long) is left out, as [`with_dd_member`] does.
pub(crate) fn new_trace_tracestate(priority: SamplingPriority, origin: Option<&str>) -> String {
    let mut tracestate = String::from("dd=s:");
    priority.write_to(&mut tracestate);
    if let Some(origin) = origin {
        let without_origin = tracestate.len();
        tracestate.push_str(";o:");
        push_dd_value(&mut tracestate, origin);
        if check_tracestate_value(tracestate.get(3..).unwrap_or("")).is_err() {
            tracestate.truncate(without_origin);
        }
    }
    tracestate
}
