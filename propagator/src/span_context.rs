//! The trace a request belongs to and the span it comes from or is: what every format reads
//! into and writes from.

use alloc::borrow::Cow;

use crate::ids::{SpanId, TraceFlags, TraceId};
use crate::propagator_type::PropagatorType;
use crate::sampling_priority::SamplingPriority;

/// The trace a request belongs to and the span it comes from (remote) or is (local).
///
/// Built by [`extract`](crate::extract) (with a [`source`](Self::source)) or with [`new`](Self::new) for a
/// span to propagate. `flags` only ever holds the bits Level 2 defines.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{extract, PropagatorType, SamplingPriority, SpanId};
///
/// let headers = [
///     ("traceparent", "00-00000000000000000dc58f7d2f4a95d4-065cc2043656824c-01"),
///     ("tracestate", "dd=s:1;o:rum"),
/// ];
/// let extracted = extract(&headers[..]);
/// let remote = extracted.span_context().unwrap();
/// assert_eq!(remote.source(), Some(PropagatorType::TraceContext));
/// assert_eq!(remote.sampling_priority(), Some(SamplingPriority::AUTO_KEEP));
/// assert_eq!(remote.origin(), Some("rum"));
///
/// // The server's own span: same trace, new span id.
/// let local = remote.clone().with_span_id(SpanId::new(0x1234).unwrap());
/// assert_eq!(local.trace_id(), remote.trace_id());
///
/// assert!(extract(&[("traceparent", "00-0-0-0")][..]).span_context().is_none());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpanContext<'a> {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    /// Only the bits Level 2 defines.
    pub(crate) flags: TraceFlags,
    pub(crate) source: Option<PropagatorType>,
    pub(crate) sampling_priority: Option<SamplingPriority>,
    pub(crate) origin: Option<Cow<'a, str>>,
}

impl<'a> SpanContext<'a> {
    /// A local span context (no source, no Datadog priority or origin); flags are reduced to
    /// the bits Level 2 defines.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{SpanContext, SpanId, TraceFlags, TraceId};
    ///
    /// let cx = SpanContext::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap(), TraceFlags::new(0xff));
    /// assert_eq!(cx.flags().bits(), 0x03);
    /// assert_eq!(cx.source(), None);
    /// ```
    #[inline]
    pub const fn new(trace_id: TraceId, span_id: SpanId, flags: TraceFlags) -> Self {
        SpanContext {
            trace_id,
            span_id,
            flags: flags.known(),
            source: None,
            sampling_priority: None,
            origin: None,
        }
    }

    /// A remote span context read from `source`'s headers.
    #[inline]
    pub(crate) const fn extracted(
        trace_id: TraceId,
        span_id: SpanId,
        flags: TraceFlags,
        source: PropagatorType,
    ) -> Self {
        let mut span_context = SpanContext::new(trace_id, span_id, flags);
        span_context.source = Some(source);
        span_context
    }

    /// The same trace with another span id: the server's own span, to propagate downstream.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{SpanContext, SpanId, TraceFlags, TraceId};
    ///
    /// let cx = SpanContext::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap(), TraceFlags::SAMPLED);
    /// assert_eq!(cx.with_span_id(SpanId::new(3).unwrap()).span_id().to_u64(), 3);
    /// ```
    #[inline]
    pub fn with_span_id(mut self, span_id: SpanId) -> Self {
        self.span_id = span_id;
        self
    }

    /// These flags (reduced to the bits Level 2 defines).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{SpanContext, SpanId, TraceFlags, TraceId};
    ///
    /// let cx = SpanContext::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap(), TraceFlags::NONE);
    /// assert!(cx.with_flags(TraceFlags::SAMPLED).is_sampled());
    /// ```
    #[inline]
    pub fn with_flags(mut self, flags: TraceFlags) -> Self {
        self.flags = flags.known();
        self
    }

    /// A Datadog sampling priority. When set, injecting `tracecontext` also writes a `dd`
    /// member in `tracestate`, and injecting `datadog` sends it.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{SamplingPriority, SpanContext, SpanId, TraceFlags, TraceId};
    ///
    /// let cx = SpanContext::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap(), TraceFlags::SAMPLED)
    ///     .with_sampling_priority(Some(SamplingPriority::USER_KEEP));
    /// assert_eq!(cx.sampling_priority(), Some(SamplingPriority::USER_KEEP));
    /// ```
    #[inline]
    pub fn with_sampling_priority(mut self, priority: Option<SamplingPriority>) -> Self {
        self.sampling_priority = priority;
        self
    }

    /// A Datadog origin (`rum`, `synthetics`, …). It is checked at injection: a value that is
    /// not a valid HTTP header value is refused there.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{SpanContext, SpanId, TraceFlags, TraceId};
    ///
    /// let cx = SpanContext::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap(), TraceFlags::SAMPLED).with_origin("rum");
    /// assert_eq!(cx.origin(), Some("rum"));
    /// ```
    #[inline]
    pub fn with_origin(mut self, origin: impl Into<Cow<'a, str>>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// The 128-bit trace id.
    ///
    /// # Examples
    ///
    /// ```
    /// let extracted = usertrail_propagator::extract(&[("x-datadog-trace-id", "5"), ("x-datadog-parent-id", "6")][..]);
    /// assert_eq!(extracted.span_context().unwrap().trace_id().to_u128(), 5);
    /// ```
    #[inline]
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The span id: the caller's for an extracted context.
    ///
    /// # Examples
    ///
    /// ```
    /// let extracted = usertrail_propagator::extract(&[("x-datadog-trace-id", "5"), ("x-datadog-parent-id", "6")][..]);
    /// assert_eq!(extracted.span_context().unwrap().span_id().to_u64(), 6);
    /// ```
    #[inline]
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// The trace flags (`sampled`, `random-trace-id`).
    ///
    /// # Examples
    ///
    /// ```
    /// let extracted = usertrail_propagator::extract(&[("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff")][..]);
    /// assert_eq!(extracted.span_context().unwrap().flags().bits(), 0x03);
    /// ```
    #[inline]
    pub fn flags(&self) -> TraceFlags {
        self.flags
    }

    /// Was the caller sampling this trace?
    ///
    /// # Examples
    ///
    /// ```
    /// let extracted = usertrail_propagator::extract(&[("b3", "a3ce929d0e0e4736-00f067aa0ba902b7-d")][..]);
    /// assert!(extracted.span_context().unwrap().is_sampled());
    /// ```
    #[inline]
    pub fn is_sampled(&self) -> bool {
        self.flags.is_sampled()
    }

    /// Which header format the context came from; `None` for one built with
    /// [`new`](Self::new).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{extract, PropagatorType};
    ///
    /// let extracted = extract(&[("x-b3-traceid", "a3ce929d0e0e4736"), ("x-b3-spanid", "00f067aa0ba902b7")][..]);
    /// assert_eq!(extracted.span_context().unwrap().source(), Some(PropagatorType::B3Multi));
    /// ```
    #[inline]
    pub fn source(&self) -> Option<PropagatorType> {
        self.source
    }

    /// The Datadog sampling priority, when known: from `x-datadog-sampling-priority`, or from
    /// the `s` of the `dd` member of `tracestate` when it agrees with the `sampled` flag (else
    /// 1 or 0 from the flag, as Datadog's tracers do).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{extract, SamplingPriority};
    ///
    /// let headers = [("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"), ("tracestate", "dd=s:2")];
    /// // s:2 says keep, the flag says not sampled: the flag wins.
    /// assert_eq!(extract(&headers[..]).span_context().unwrap().sampling_priority(), Some(SamplingPriority::AUTO_REJECT));
    /// ```
    #[inline]
    pub fn sampling_priority(&self) -> Option<SamplingPriority> {
        self.sampling_priority
    }

    /// The Datadog origin, when known (`x-datadog-origin`, or `o` of the `dd` member).
    ///
    /// # Examples
    ///
    /// ```
    /// let headers = [("x-datadog-trace-id", "5"), ("x-datadog-parent-id", "6"), ("x-datadog-origin", "rum")];
    /// assert_eq!(usertrail_propagator::extract(&headers[..]).span_context().unwrap().origin(), Some("rum"));
    /// ```
    #[inline]
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    /// A copy that owns its data.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{extract, SpanContext};
    ///
    /// let kept: SpanContext<'static> = {
    ///     let headers = vec![("x-datadog-trace-id".to_string(), "5".to_string()), ("x-datadog-parent-id".to_string(), "6".to_string())];
    ///     extract(&headers).span_context().unwrap().clone().into_owned()
    /// };
    /// assert_eq!(kept.span_id().to_u64(), 6);
    /// ```
    pub fn into_owned(self) -> SpanContext<'static> {
        SpanContext {
            trace_id: self.trace_id,
            span_id: self.span_id,
            flags: self.flags,
            source: self.source,
            sampling_priority: self.sampling_priority,
            origin: self.origin.map(|o| Cow::Owned(o.into_owned())),
        }
    }
}
