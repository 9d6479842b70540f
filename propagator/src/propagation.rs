//! Picking one trace context out of incoming headers, and writing outgoing ones.
//!
//! Two layers of tolerance, as in OpenTelemetry's `trace_context.rs`: the format parsers are
//! strict and return `Result`; [`extract`] never fails or panics, it falls back to "no
//! context" and reports what it rejected.

use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use crate::b3::{B3Multi, B3Sampling, B3Single};
use crate::carrier::{self, Extractor, Injector};
use crate::datadog::{
    self, DD_TRACESTATE_KEY, DatadogContext, DatadogTracestate, SamplingPriority,
};
use crate::error::{ErrorKind, ExtractError, InjectError, ParseError};
use crate::headers::{B3, BAGGAGE, TRACEPARENT, TRACESTATE, X_DATADOG_TRACE_ID};
use crate::identity::Identity;
use crate::ids::{SpanId, TraceFlags, TraceId};
use crate::w3c::{Baggage, Traceparent, Tracestate};

/// Problems listed one by one in [`Extracted::errors`]; the rest are counted in one last
/// entry, so hostile input cannot make the list grow without bound.
const MAX_LISTED_PROBLEMS: usize = 16;

/// A trace-context header format.
///
/// Parses from (and displays as) the names Datadog's and OpenTelemetry's configuration use:
/// `tracecontext`, `datadog`, `b3` (single header), `b3multi`; ASCII case-insensitive.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::PropagatorType;
///
/// let types: Result<Vec<PropagatorType>, _> = "tracecontext,datadog".split(',').map(str::parse).collect();
/// assert_eq!(types?, [PropagatorType::TraceContext, PropagatorType::Datadog]);
/// assert_eq!(PropagatorType::B3Multi.to_string(), "b3multi");
/// assert!("jaeger".parse::<PropagatorType>().is_err());
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PropagatorType {
    /// W3C `traceparent` + `tracestate`.
    TraceContext,
    /// `x-datadog-*` (and, when injecting `tracecontext`, the `dd` member of `tracestate`).
    Datadog,
    /// The single `b3` header.
    B3,
    /// The `x-b3-*` headers.
    B3Multi,
}

impl PropagatorType {
    /// The order [`extract`] tries: `traceparent` first, then Datadog, then B3 multi, then B3
    /// single.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::PropagatorType;
    ///
    /// assert_eq!(PropagatorType::EXTRACT_ORDER[0], PropagatorType::TraceContext);
    /// assert_eq!(PropagatorType::EXTRACT_ORDER.len(), 4);
    /// ```
    pub const EXTRACT_ORDER: [PropagatorType; 4] = [
        PropagatorType::TraceContext,
        PropagatorType::Datadog,
        PropagatorType::B3Multi,
        PropagatorType::B3,
    ];

    /// The configuration name.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::PropagatorType::TraceContext.as_str(), "tracecontext");
    /// ```
    #[inline]
    pub const fn as_str(self) -> &'static str {
        match self {
            PropagatorType::TraceContext => "tracecontext",
            PropagatorType::Datadog => "datadog",
            PropagatorType::B3 => "b3",
            PropagatorType::B3Multi => "b3multi",
        }
    }

    /// Parses a configuration name (OWS around it ignored, any ASCII case).
    ///
    /// # Errors
    ///
    /// Not one of `tracecontext`, `datadog`, `b3`, `b3multi`.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::PropagatorType;
    ///
    /// assert_eq!(PropagatorType::parse(" Datadog "), Ok(PropagatorType::Datadog));
    /// assert!(PropagatorType::parse("b3 multi").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = crate::codec::trim_ows(s);
        Self::EXTRACT_ORDER
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or(ErrorKind::UnknownPropagator.into())
    }
}

impl fmt::Display for PropagatorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PropagatorType {
    type Err = ParseError;
    #[inline]
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for PropagatorType {
    type Error = ParseError;
    #[inline]
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

/// The trace a request belongs to and the span it comes from (remote) or is (local).
///
/// Built by [`extract`] (with a [`source`](Self::source)) or with [`new`](Self::new) for a
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
    trace_id: TraceId,
    span_id: SpanId,
    flags: TraceFlags,
    source: Option<PropagatorType>,
    sampling_priority: Option<SamplingPriority>,
    origin: Option<Cow<'a, str>>,
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

/// Everything that propagates with a request: the trace context, `tracestate`, and baggage.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{inject, Baggage, Context, PropagatorType, SpanContext, SpanId, TraceFlags, TraceId};
///
/// let mut baggage = Baggage::new();
/// baggage.set("session.id", "s1")?;
/// let cx = Context::new()
///     .with_span_context(SpanContext::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap(), TraceFlags::SAMPLED))
///     .with_baggage(baggage);
/// let mut headers: Vec<(String, String)> = Vec::new();
/// inject(&cx, &[PropagatorType::TraceContext], &mut headers).unwrap();
/// assert_eq!(headers.len(), 2);
/// assert!(Context::new().span_context().is_none());
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context<'a> {
    span_context: Option<SpanContext<'a>>,
    tracestate: Option<Tracestate<'a>>,
    baggage: Baggage<'a>,
}

impl<'a> Context<'a> {
    /// Nothing to propagate.
    ///
    /// # Examples
    ///
    /// ```
    /// let cx = usertrail_propagator::Context::new();
    /// assert!(cx.span_context().is_none() && cx.tracestate().is_none() && cx.baggage().is_empty());
    /// ```
    #[inline]
    pub const fn new() -> Self {
        Context {
            span_context: None,
            tracestate: None,
            baggage: Baggage::new(),
        }
    }

    /// This context with a span context.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{Context, SpanContext, SpanId, TraceFlags, TraceId};
    ///
    /// let cx = Context::new().with_span_context(SpanContext::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap(), TraceFlags::NONE));
    /// assert!(cx.span_context().is_some());
    /// ```
    #[inline]
    pub fn with_span_context(mut self, span_context: SpanContext<'a>) -> Self {
        self.span_context = Some(span_context);
        self
    }

    /// This context with a `tracestate` (or none).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{Context, Tracestate};
    ///
    /// let cx = Context::new().with_tracestate(Some(Tracestate::parse("a=1")?));
    /// assert_eq!(cx.tracestate().and_then(|t| t.get("a")), Some("1"));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn with_tracestate(mut self, tracestate: Option<Tracestate<'a>>) -> Self {
        self.tracestate = tracestate;
        self
    }

    /// This context with a baggage.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{Baggage, Context};
    ///
    /// let cx = Context::new().with_baggage(Baggage::parse("a=1")?);
    /// assert_eq!(cx.baggage().len(), 1);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn with_baggage(mut self, baggage: Baggage<'a>) -> Self {
        self.baggage = baggage;
        self
    }

    /// The span context, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(usertrail_propagator::Context::new().span_context().is_none());
    /// ```
    #[inline]
    pub fn span_context(&self) -> Option<&SpanContext<'a>> {
        self.span_context.as_ref()
    }

    /// The span context, to change it (e.g. [`SpanContext::with_span_id`] for the server's span).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{extract, SpanId};
    ///
    /// let mut cx = extract(&[("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")][..]).into_context();
    /// if let Some(sc) = cx.span_context_mut() {
    ///     *sc = sc.clone().with_span_id(SpanId::new(7).unwrap());
    /// }
    /// assert_eq!(cx.span_context().unwrap().span_id().to_u64(), 7);
    /// ```
    #[inline]
    pub fn span_context_mut(&mut self) -> Option<&mut SpanContext<'a>> {
        self.span_context.as_mut()
    }

    /// The `tracestate`, if one came with a valid `traceparent` (or was set).
    ///
    /// # Examples
    ///
    /// ```
    /// let headers = [("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), ("tracestate", "congo=t61rcWkgMzE")];
    /// let cx = usertrail_propagator::extract(&headers[..]).into_context();
    /// assert_eq!(cx.tracestate().unwrap().get("congo"), Some("t61rcWkgMzE"));
    /// ```
    #[inline]
    pub fn tracestate(&self) -> Option<&Tracestate<'a>> {
        self.tracestate.as_ref()
    }

    /// The `tracestate`, to change it.
    ///
    /// # Examples
    ///
    /// ```
    /// let headers = [("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), ("tracestate", "congo=t61rcWkgMzE")];
    /// let mut cx = usertrail_propagator::extract(&headers[..]).into_context();
    /// cx.tracestate_mut().unwrap().insert("rojo", "00f067aa0ba902b7")?;
    /// assert_eq!(cx.tracestate().unwrap().to_string(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn tracestate_mut(&mut self) -> Option<&mut Tracestate<'a>> {
        self.tracestate.as_mut()
    }

    /// The baggage (possibly empty).
    ///
    /// # Examples
    ///
    /// ```
    /// let cx = usertrail_propagator::extract(&[("baggage", "user.id=u1")][..]).into_context();
    /// assert_eq!(cx.baggage().get("user.id").as_deref(), Some("u1"));
    /// ```
    #[inline]
    pub fn baggage(&self) -> &Baggage<'a> {
        &self.baggage
    }

    /// The baggage, to change it.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut cx = usertrail_propagator::Context::new();
    /// cx.baggage_mut().set("k", "v")?;
    /// assert_eq!(cx.baggage().to_string(), "k=v");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn baggage_mut(&mut self) -> &mut Baggage<'a> {
        &mut self.baggage
    }

    /// The session, user and account ids in the baggage.
    ///
    /// # Examples
    ///
    /// ```
    /// let cx = usertrail_propagator::extract(&[("baggage", "user.id=u1")][..]).into_context();
    /// assert_eq!(cx.identity().user_id(), Some("u1"));
    /// ```
    #[inline]
    pub fn identity(&self) -> Identity<'_> {
        Identity::from_baggage(&self.baggage)
    }

    /// A copy that owns its data.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{extract, Context};
    ///
    /// let kept: Context<'static> = {
    ///     let headers = vec![("baggage".to_string(), "a=1".to_string())];
    ///     extract(&headers).into_context().into_owned()
    /// };
    /// assert_eq!(kept.baggage().len(), 1);
    /// ```
    pub fn into_owned(self) -> Context<'static> {
        Context {
            span_context: self.span_context.map(SpanContext::into_owned),
            tracestate: self.tracestate.map(Tracestate::into_owned),
            baggage: self.baggage.into_owned(),
        }
    }
}

/// What [`extract`] found: a [`Context`] and the problems met on the way.
///
/// # Examples
///
/// ```
/// let extracted = usertrail_propagator::extract(&[("traceparent", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")][..]);
/// assert!(extracted.span_context().is_none());
/// assert_eq!(extracted.errors()[0].to_string(), "traceparent: version ff is invalid");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extracted<'a> {
    context: Context<'a>,
    errors: Vec<ExtractError>,
}

impl<'a> Extracted<'a> {
    /// The chosen span context, if a format gave a valid one.
    ///
    /// # Examples
    ///
    /// ```
    /// let extracted = usertrail_propagator::extract(&[("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")][..]);
    /// assert!(extracted.span_context().is_some());
    /// assert!(usertrail_propagator::extract(&[("b3", "0")][..]).span_context().is_none());
    /// ```
    #[inline]
    pub fn span_context(&self) -> Option<&SpanContext<'a>> {
        self.context.span_context()
    }

    /// The `tracestate`: `None` when absent, invalid (reported), or when the context did not
    /// come from a valid `traceparent` (the spec forbids parsing it then).
    ///
    /// # Examples
    ///
    /// ```
    /// let headers = [("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), ("tracestate", "foo=1,Foo=2")];
    /// let extracted = usertrail_propagator::extract(&headers[..]);
    /// assert!(extracted.tracestate().is_none());
    /// assert_eq!(extracted.errors()[0].to_string(), "tracestate: key has an invalid character or shape");
    /// ```
    #[inline]
    pub fn tracestate(&self) -> Option<&Tracestate<'a>> {
        self.context.tracestate()
    }

    /// The valid baggage members.
    ///
    /// # Examples
    ///
    /// ```
    /// let extracted = usertrail_propagator::extract(&[("baggage", "a=1"), ("baggage", "b=2")][..]);
    /// assert_eq!(extracted.baggage().to_string(), "a=1,b=2");
    /// ```
    #[inline]
    pub fn baggage(&self) -> &Baggage<'a> {
        self.context.baggage()
    }

    /// The session, user and account ids in the baggage.
    ///
    /// # Examples
    ///
    /// ```
    /// let extracted = usertrail_propagator::extract(&[("baggage", "session.id=s1,account.id=a1")][..]);
    /// assert_eq!(extracted.identity().attributes().collect::<Vec<_>>(), [("session.id", "s1"), ("account.id", "a1")]);
    /// ```
    #[inline]
    pub fn identity(&self) -> Identity<'_> {
        self.context.identity()
    }

    /// One entry per rejected header or dropped member (at most 16, then one entry counting
    /// the rest).
    ///
    /// # Examples
    ///
    /// ```
    /// let header = "x,".repeat(100);
    /// let headers = [("baggage", header.as_str())];
    /// let extracted = usertrail_propagator::extract(&headers[..]);
    /// assert_eq!(extracted.errors().len(), 17);
    /// assert_eq!(extracted.errors()[16].to_string(), "84 more problems not listed");
    /// ```
    #[inline]
    pub fn errors(&self) -> &[ExtractError] {
        &self.errors
    }

    /// The context found.
    ///
    /// # Examples
    ///
    /// ```
    /// let extracted = usertrail_propagator::extract(&[("baggage", "a=1")][..]);
    /// assert_eq!(extracted.context().baggage().len(), 1);
    /// ```
    #[inline]
    pub fn context(&self) -> &Context<'a> {
        &self.context
    }

    /// The context found, dropping the problem list.
    ///
    /// # Examples
    ///
    /// ```
    /// let cx = usertrail_propagator::extract(&[("baggage", "a=1")][..]).into_context();
    /// assert_eq!(cx.baggage().len(), 1);
    /// ```
    #[inline]
    pub fn into_context(self) -> Context<'a> {
        self.context
    }

    /// The context and the problems.
    ///
    /// # Examples
    ///
    /// ```
    /// let (cx, errors) = usertrail_propagator::extract(&[("baggage", "a=1,b")][..]).into_parts();
    /// assert_eq!((cx.baggage().len(), errors.len()), (1, 1));
    /// ```
    #[inline]
    pub fn into_parts(self) -> (Context<'a>, Vec<ExtractError>) {
        (self.context, self.errors)
    }
}

/// Collects problems, listing the first [`MAX_LISTED_PROBLEMS`].
struct Problems {
    listed: Vec<ExtractError>,
    unlisted: u32,
}

impl Problems {
    fn push(&mut self, error: ExtractError) {
        if self.listed.len() < MAX_LISTED_PROBLEMS {
            self.listed.push(error);
        } else {
            self.unlisted = self.unlisted.saturating_add(1);
        }
    }

    fn header(&mut self, header: &'static str, kind: ErrorKind) {
        self.push(ExtractError::new(header, kind));
    }

    fn finish(mut self) -> Vec<ExtractError> {
        if self.unlisted > 0 {
            self.listed.push(ExtractError::too_many("*", self.unlisted));
        }
        self.listed
    }
}

/// Datadog's rule for a `traceparent` with a `dd` member: keep `s` when it agrees with the
/// `sampled` flag, else take 1 or 0 from the flag.
fn reconcile(sampled: bool, priority: Option<SamplingPriority>) -> Option<SamplingPriority> {
    let priority = priority?;
    Some(if priority.is_keep() == sampled {
        priority
    } else if sampled {
        SamplingPriority::AUTO_KEEP
    } else {
        SamplingPriority::AUTO_REJECT
    })
}

fn extract_tracecontext<'a, E: Extractor + ?Sized>(
    carrier: &'a E,
    problems: &mut Problems,
) -> Option<(SpanContext<'a>, Option<Tracestate<'a>>)> {
    let (value, count) = carrier::first_and_count(carrier, TRACEPARENT);
    let value = value?;
    if count > 1 {
        // The W3C test harness expects a repeated traceparent to restart the trace.
        problems.header(TRACEPARENT, ErrorKind::MultipleHeaders);
        return None;
    }
    let traceparent = match Traceparent::parse(value) {
        Ok(tp) => tp,
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
    let flags = traceparent.flags().known();
    let mut span_context = SpanContext::new(traceparent.trace_id(), traceparent.parent_id(), flags);
    span_context.source = Some(PropagatorType::TraceContext);
    if let Some(dd) = tracestate
        .as_ref()
        .and_then(|ts| ts.get_cow(DD_TRACESTATE_KEY))
    {
        let parsed = match dd {
            Cow::Borrowed(dd) => {
                DatadogTracestate::parse(dd).map(|dd| (dd.sampling_priority(), dd.into_origin()))
            }
            Cow::Owned(dd) => DatadogTracestate::parse(&dd).map(|dd| {
                let origin = dd.origin().map(|o| Cow::Owned(o.into_owned()));
                (dd.sampling_priority(), origin)
            }),
        };
        match parsed {
            Ok((priority, origin)) => {
                span_context.sampling_priority = reconcile(flags.is_sampled(), priority);
                span_context.origin = origin;
            }
            Err(e) => problems.header(TRACESTATE, e.kind()),
        }
    }
    Some((span_context, tracestate))
}

fn extract_datadog<'a, E: Extractor + ?Sized>(
    carrier: &'a E,
    problems: &mut Problems,
) -> Option<SpanContext<'a>> {
    let dd = DatadogContext::extract_reporting(carrier, &mut |h, k| problems.header(h, k))?;
    let (trace_id, parent_id, sampling_priority, origin) = dd.into_parts();
    let sampled = sampling_priority.is_some_and(SamplingPriority::is_keep);
    Some(SpanContext {
        trace_id,
        span_id: parent_id,
        flags: TraceFlags::NONE.with_sampled(sampled),
        source: Some(PropagatorType::Datadog),
        sampling_priority,
        origin,
    })
}

fn b3_span_context<'a>(
    trace_id: TraceId,
    span_id: SpanId,
    sampling: Option<B3Sampling>,
    source: PropagatorType,
) -> SpanContext<'a> {
    let sampled = sampling.is_some_and(B3Sampling::is_sampled);
    SpanContext {
        trace_id,
        span_id,
        flags: TraceFlags::NONE.with_sampled(sampled),
        source: Some(source),
        sampling_priority: None,
        origin: None,
    }
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
    let mut problems = Problems {
        listed: Vec::new(),
        unlisted: 0,
    };
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
        if sc.source == Some(PropagatorType::TraceContext)
            && order.contains(&PropagatorType::Datadog)
        {
            if let Some(dd) = extract_datadog(carrier, &mut problems) {
                let agree = if dd.trace_id.high() == 0 {
                    dd.trace_id.low() == sc.trace_id.low()
                } else {
                    dd.trace_id == sc.trace_id
                };
                if !agree {
                    problems.header(X_DATADOG_TRACE_ID, ErrorKind::TraceIdMismatch);
                } else {
                    if sc.sampling_priority.is_none() {
                        sc.sampling_priority = reconcile(sc.is_sampled(), dd.sampling_priority);
                    }
                    if sc.origin.is_none() {
                        sc.origin = dd.origin;
                    }
                }
            }
        }
    }
    let baggage = match carrier::combined(carrier, BAGGAGE) {
        Some(text) => Baggage::from_cow_lossy(text, &mut |dropped| {
            problems.push(ExtractError::member_dropped(
                BAGGAGE,
                dropped.member() as u32,
                dropped.count() as u32,
                dropped.kind(),
            ));
        }),
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

fn keep_first_error(result: &mut Result<(), InjectError>, other: Result<(), InjectError>) {
    if result.is_ok() {
        *result = other;
    }
}

/// The priority Datadog's samplers give: keep (1) or reject (0) from the sampled flag.
fn auto_priority(sampled: bool) -> SamplingPriority {
    if sampled {
        SamplingPriority::AUTO_KEEP
    } else {
        SamplingPriority::AUTO_REJECT
    }
}

/// The headers of `datadog`, `b3` and `b3multi` for a trace id, span id and sampled flag:
/// shared by [`inject`] and [`NewTrace::inject`]. `tracecontext` is the callers' own, since
/// its `tracestate` depends on the context.
fn inject_ids<I: Injector + ?Sized>(
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

fn inject_tracecontext<I: Injector + ?Sized>(
    sc: &SpanContext<'_>,
    tracestate: Option<&Tracestate<'_>>,
    carrier: &mut I,
) {
    let traceparent = Traceparent::new(sc.trace_id, sc.span_id, sc.flags.known());
    carrier::set_valid(carrier, TRACEPARENT, traceparent.to_header_value());
    let mut updated;
    let tracestate = match sc.sampling_priority {
        // Datadog-aware context: refresh the `dd` member (moved to the left, as a modified key
        // must be), keeping its `t.*` tags.
        Some(priority) => {
            updated = tracestate.cloned().unwrap_or_default();
            let previous = updated
                .get(DD_TRACESTATE_KEY)
                .and_then(|v| DatadogTracestate::parse(v).ok());
            // `p:` names the last Datadog span before a hop through other tracers. A trace
            // that starts here (the browser's: no incoming context, no tracestate) has had no
            // such hop, so it is left out, as Datadog's browser SDK sends `dd=s:1;o:rum`.
            let starts_here = sc.source.is_none() && tracestate.is_none();
            let last_parent = (!starts_here).then_some(sc.span_id);
            let mut dd = DatadogTracestate::new(Some(priority), sc.origin(), last_parent);
            if let Some(previous) = &previous {
                dd = dd.with_tags_from(previous);
            }
            let dd = dd.to_header_value();
            if updated.insert(DD_TRACESTATE_KEY, &dd).is_err() {
                // The origin made the member invalid (e.g. too long): send it without origin.
                let dd = DatadogTracestate::new(Some(priority), None, last_parent);
                let _ = updated.insert(DD_TRACESTATE_KEY, &dd.to_header_value());
            }
            Some(&updated)
        }
        None => tracestate,
    };
    if let Some(tracestate) = tracestate.filter(|ts| !ts.is_empty()) {
        carrier::set_valid(carrier, TRACESTATE, tracestate.to_header_value());
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
    if let Some(sc) = &cx.span_context {
        let priority = sc
            .sampling_priority
            .unwrap_or(auto_priority(sc.is_sampled()));
        for &propagator in propagators {
            if propagator == PropagatorType::TraceContext {
                inject_tracecontext(sc, cx.tracestate.as_ref(), carrier);
            } else {
                let ids = (sc.trace_id, sc.span_id, sc.is_sampled());
                inject_ids(propagator, ids, priority, sc.origin(), carrier, &mut result);
            }
        }
    }
    keep_first_error(&mut result, cx.baggage.inject(carrier));
    result
}

/// A trace that starts here, with no incoming context: what a browser sends with a request.
///
/// [`inject`](Self::inject) writes exactly what [`inject`](crate::inject) writes for the
/// equivalent [`SpanContext`]: these ids and flags, the Datadog sampling priority `1` or `0`
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
    /// [`SpanContext::new`].
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
    /// [`SpanContext::with_origin`].
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
        let priority = auto_priority(sampled);
        for &propagator in propagators {
            if propagator == PropagatorType::TraceContext {
                let traceparent = Traceparent::new(self.trace_id, self.span_id, self.flags);
                carrier::set_checked(
                    carrier,
                    TRACEPARENT,
                    traceparent.to_header_value(),
                    &mut result,
                );
                let value = datadog::new_trace_tracestate(priority, self.origin);
                carrier::set_checked(carrier, TRACESTATE, value, &mut result);
            } else {
                let ids = (self.trace_id, self.span_id, sampled);
                inject_ids(propagator, ids, priority, self.origin, carrier, &mut result);
            }
        }
        result
    }
}
