//! [`NewTrace`]: the headers of a trace that starts here, without the general `tracestate`
//! machinery (what the browser SDK ships).

use super::inject::inject_ids;
use crate::carrier::{self, Injector};
use crate::datadog::tracecontext;
use crate::error::InjectError;
use crate::headers::{TRACEPARENT, TRACESTATE};
use crate::ids::{SpanId, TraceFlags, TraceId};
use crate::propagator_type::PropagatorType;
use crate::w3c::Traceparent;

/// A trace that starts here, with no incoming context: what a browser sends with a request.
///
/// [`inject`](Self::inject) writes exactly what [`inject`](crate::inject) writes for the
/// equivalent [`SpanContext`](crate::SpanContext): these ids and flags, the Datadog sampling priority `1` or `0`
/// from the sampled flag, this origin, no source and no `tracestate` to carry on. It skips the
/// generic `tracestate` machinery (parsing, inserting, keeping `t.*` tags, `p:`), which such a
/// trace never needs: in the browser SDK, where every byte of WebAssembly is downloaded by every
/// visitor, that is code no request runs.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{NewTrace, PropagatorType, SpanId, TraceFlags, TraceId};
///
/// let trace_id = TraceId::from_u64_pair(0, 992357060732163540).unwrap();
/// let span_id = SpanId::new(458454585432244812).unwrap();
/// let trace = NewTrace::new(trace_id, span_id, TraceFlags::SAMPLED).with_origin("rum");
/// let mut headers: Vec<(String, String)> = Vec::new();
/// trace.inject(&[PropagatorType::TraceContext, PropagatorType::Datadog], &mut headers)?;
/// assert_eq!(headers[0].1, "00-00000000000000000dc58f7d2f4a95d4-065cc2043656824c-01");
/// assert_eq!(headers[1].1, "dd=s:1;o:rum");
/// assert_eq!(headers[2], ("x-datadog-trace-id".to_string(), "992357060732163540".to_string()));
///
/// let bad = NewTrace::new(trace_id, span_id, TraceFlags::SAMPLED).with_origin("rum\r\nx: 1");
/// assert!(bad.inject(&[PropagatorType::Datadog], &mut headers).is_err());
/// # Ok::<(), usertrail_propagator::InjectError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewTrace<'a> {
    trace_id: TraceId,
    span_id: SpanId,
    flags: TraceFlags,
    origin: Option<&'a str>,
}

impl<'a> NewTrace<'a> {
    /// A new trace without origin; flags are reduced to the bits Level 2 defines, as in
    /// [`SpanContext::new`](crate::SpanContext::new).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{NewTrace, PropagatorType, SpanId, TraceFlags, TraceId};
    ///
    /// let trace = NewTrace::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap(), TraceFlags::new(0xff));
    /// let mut headers: Vec<(String, String)> = Vec::new();
    /// trace.inject(&[PropagatorType::B3], &mut headers)?;
    /// assert_eq!(headers[0].1, "00000000000000000000000000000001-0000000000000002-1");
    /// assert!(TraceId::new(0).is_none()); // ids are never zero
    /// # Ok::<(), usertrail_propagator::InjectError>(())
    /// ```
    #[inline]
    pub const fn new(trace_id: TraceId, span_id: SpanId, flags: TraceFlags) -> Self {
        NewTrace {
            trace_id,
            span_id,
            flags: flags.known(),
            origin: None,
        }
    }

    /// This trace with a Datadog origin (`rum` for a browser), checked at injection like
    /// [`SpanContext::with_origin`](crate::SpanContext::with_origin).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{NewTrace, PropagatorType, SpanId, TraceFlags, TraceId};
    ///
    /// let trace = NewTrace::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap(), TraceFlags::NONE);
    /// let mut headers: Vec<(String, String)> = Vec::new();
    /// trace.with_origin("rum").inject(&[PropagatorType::TraceContext], &mut headers)?;
    /// assert_eq!(headers[1].1, "dd=s:0;o:rum");
    /// assert!(trace.with_origin("\0").inject(&[PropagatorType::Datadog], &mut headers).is_err());
    /// # Ok::<(), usertrail_propagator::InjectError>(())
    /// ```
    #[inline]
    pub const fn with_origin(mut self, origin: &'a str) -> Self {
        self.origin = Some(origin);
        self
    }

    /// Writes the headers of each format in `propagators`, in that order (see
    /// [`inject`](crate::inject) for what each one writes).
    ///
    /// # Errors
    ///
    /// An origin that is not a valid HTTP field value: `x-datadog-origin` is not written, the
    /// other headers are, and the first refusal is returned.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{NewTrace, PropagatorType, SpanId, TraceFlags, TraceId};
    ///
    /// let trace = NewTrace::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap(), TraceFlags::NONE);
    /// let mut headers: Vec<(String, String)> = Vec::new();
    /// trace.inject(&[PropagatorType::B3Multi], &mut headers)?;
    /// assert_eq!(headers[2], ("x-b3-sampled".to_string(), "0".to_string()));
    /// assert!(trace.with_origin("\n").inject(&[PropagatorType::Datadog], &mut headers).is_err());
    /// # Ok::<(), usertrail_propagator::InjectError>(())
    /// ```
    pub fn inject<I: Injector + ?Sized>(
        &self,
        propagators: &[PropagatorType],
        carrier: &mut I,
    ) -> Result<(), InjectError> {
        let mut result = Ok(());
        let sampled = self.flags.is_sampled();
        let priority = tracecontext::priority_from_sampled(sampled);
        for &propagator in propagators {
            if propagator == PropagatorType::TraceContext {
                let traceparent = Traceparent::new(self.trace_id, self.span_id, self.flags);
                carrier::set_checked(
                    carrier,
                    TRACEPARENT,
                    traceparent.to_header_value(),
                    &mut result,
                );
                let value = tracecontext::new_trace_tracestate(priority, self.origin);
                carrier::set_checked(carrier, TRACESTATE, value, &mut result);
            } else {
                let ids = (self.trace_id, self.span_id, sampled);
                inject_ids(propagator, ids, priority, self.origin, carrier, &mut result);
            }
        }
        result
    }
}
