//! [`Context`]: the span context, `tracestate` and baggage that propagate with a request.

use crate::identity::Identity;
use crate::span_context::SpanContext;
use crate::w3c::{Baggage, Tracestate};

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
    pub(super) span_context: Option<SpanContext<'a>>,
    pub(super) tracestate: Option<Tracestate<'a>>,
    pub(super) baggage: Baggage<'a>,
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
