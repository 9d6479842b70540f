//! The `x-datadog-*` headers: a [`SpanContext`] plus the `x-datadog-tags` it came with.

use alloc::borrow::Cow;
use alloc::string::String;

use super::tags::{DatadogTags, TID_TAG};
use crate::carrier::{self, Extractor, Injector, Source};
use crate::codec::{self, trim_ows};
use crate::error::{ErrorKind, Field, InjectError, ParseError};
use crate::headers::{
    X_DATADOG_ORIGIN, X_DATADOG_PARENT_ID, X_DATADOG_SAMPLING_PRIORITY, X_DATADOG_TAGS,
    X_DATADOG_TRACE_ID,
};
use crate::ids::{SpanId, TraceFlags, TraceId};
use crate::propagator_type::PropagatorType;
use crate::sampling_priority::SamplingPriority;
use crate::span_context::SpanContext;

/// A Datadog trace context carried by the `x-datadog-*` headers.
///
/// Extraction needs `x-datadog-trace-id` and `x-datadog-parent-id` (unsigned 64-bit decimal,
/// not zero); `x-datadog-sampling-priority`, `x-datadog-origin` (printable ASCII) and
/// `x-datadog-tags` are optional. A valid `_dd.p.tid` tag supplies the high 64 bits of the
/// trace id. Injection writes the low 64 bits, the parent id, the priority and origin if any,
/// and `x-datadog-tags` with `_dd.p.tid` when the trace id has high bits.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{DatadogContext, SamplingPriority};
///
/// // What Datadog's browser SDK sends.
/// let headers = [
///     ("x-datadog-origin", "rum"),
///     ("x-datadog-trace-id", "992357060732163540"),
///     ("x-datadog-parent-id", "458454585432244812"),
///     ("x-datadog-sampling-priority", "1"),
/// ];
/// let dd = DatadogContext::extract(&headers[..])?.unwrap();
/// assert_eq!(dd.trace_id().to_string(), "00000000000000000dc58f7d2f4a95d4");
/// assert_eq!(dd.parent_id().to_string(), "065cc2043656824c");
/// assert_eq!(dd.sampling_priority(), Some(SamplingPriority::AUTO_KEEP));
/// assert_eq!(dd.origin(), Some("rum"));
///
/// assert!(DatadogContext::extract(&[("x-datadog-trace-id", "0x1")][..]).is_err());
/// assert!(DatadogContext::extract(&[("other", "1")][..])?.is_none());
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatadogContext<'a> {
    /// Trace id, parent id, priority and origin; source `datadog`, sampled when the priority
    /// keeps the trace.
    span_context: SpanContext<'a>,
    tags: Option<DatadogTags<'a>>,
}

fn is_origin_valid(origin: &str) -> bool {
    !origin.is_empty() && origin.bytes().all(|b| matches!(b, 0x20..=0x7e))
}

fn parse_dd_id(value: &str, field: Field) -> Result<u64, ErrorKind> {
    match codec::parse_u64_dec(trim_ows(value).as_bytes(), field)? {
        0 => Err(ErrorKind::Zero(field)),
        id => Ok(id),
    }
}

impl<'a> DatadogContext<'a> {
    /// A context to inject.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{DatadogContext, SamplingPriority, SpanId, TraceId};
    ///
    /// let dd = DatadogContext::new(TraceId::new(5).unwrap(), SpanId::new(6).unwrap())
    ///     .with_sampling_priority(Some(SamplingPriority::AUTO_KEEP));
    /// let mut headers: Vec<(String, String)> = Vec::new();
    /// dd.inject(&mut headers)?;
    /// assert_eq!(headers[0], ("x-datadog-trace-id".to_string(), "5".to_string()));
    /// # Ok::<(), usertrail_propagator::InjectError>(())
    /// ```
    #[inline]
    pub const fn new(trace_id: TraceId, parent_id: SpanId) -> Self {
        DatadogContext {
            span_context: SpanContext::extracted(
                trace_id,
                parent_id,
                TraceFlags::NONE,
                PropagatorType::Datadog,
            ),
            tags: None,
        }
    }
}

impl<'a> DatadogContext<'a> {
    /// Strict extraction: `Ok(None)` without `x-datadog-trace-id`; an error for any present
    /// header that is malformed. [`extract`](crate::extract) is lenient instead: it keeps the
    /// context when only an optional header is bad, and reports the problem.
    ///
    /// # Errors
    ///
    /// The first malformed `x-datadog-*` header.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::DatadogContext;
    ///
    /// let ok = [("x-datadog-trace-id", "1"), ("x-datadog-parent-id", "2")];
    /// assert!(DatadogContext::extract(&ok[..])?.is_some());
    /// let bad = [("x-datadog-trace-id", "1"), ("x-datadog-parent-id", "2"), ("x-datadog-sampling-priority", "keep")];
    /// assert!(DatadogContext::extract(&bad[..]).is_err());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn extract<E: Extractor + ?Sized>(carrier: &'a E) -> Result<Option<Self>, ParseError> {
        let mut first = None;
        let context = Self::extract_reporting(&carrier, &mut |_, kind| {
            first.get_or_insert(kind);
        });
        match first {
            Some(kind) => Err(kind.into()),
            None => Ok(context),
        }
    }

    /// Lenient extraction: a bad id drops the context; a bad optional header is only reported.
    pub(crate) fn extract_reporting<S: Source<'a> + ?Sized>(
        carrier: &S,
        report: &mut dyn FnMut(&'static str, ErrorKind),
    ) -> Option<Self> {
        let trace_id = carrier.first(X_DATADOG_TRACE_ID)?;
        let low = match parse_dd_id(trace_id, Field::TraceId) {
            Ok(low) => low,
            Err(kind) => {
                report(X_DATADOG_TRACE_ID, kind);
                return None;
            }
        };
        let parent_id = carrier.first(X_DATADOG_PARENT_ID).unwrap_or("");
        let parent_id = match parse_dd_id(parent_id, Field::ParentId) {
            Ok(id) => SpanId::new(id)?,
            Err(kind) => {
                report(X_DATADOG_PARENT_ID, kind);
                return None;
            }
        };
        let sampling_priority =
            carrier
                .first(X_DATADOG_SAMPLING_PRIORITY)
                .and_then(|p| match SamplingPriority::parse(trim_ows(p)) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        report(X_DATADOG_SAMPLING_PRIORITY, e.kind());
                        None
                    }
                });
        let origin = carrier.first(X_DATADOG_ORIGIN).map(trim_ows).and_then(|o| {
            if is_origin_valid(o) {
                Some(Cow::Borrowed(o))
            } else {
                report(X_DATADOG_ORIGIN, ErrorKind::OriginInvalid);
                None
            }
        });
        let tags = carrier
            .first(X_DATADOG_TAGS)
            .and_then(|t| match DatadogTags::parse(t) {
                Ok(tags) => Some(tags),
                Err(e) => {
                    report(X_DATADOG_TAGS, e.kind());
                    None
                }
            });
        let high = match tags.as_ref().map(DatadogTags::tid) {
            Some(Ok(Some(high))) => high,
            Some(Err(e)) => {
                report(X_DATADOG_TAGS, e.kind());
                0
            }
            _ => 0,
        };
        let trace_id = TraceId::from_u64_pair(high, low)?;
        let context =
            DatadogContext::new(trace_id, parent_id).with_sampling_priority(sampling_priority);
        Some(DatadogContext {
            span_context: SpanContext {
                origin,
                ..context.span_context
            },
            tags,
        })
    }

    /// The trace context these headers carry: trace and parent id, priority and origin,
    /// sampled when the priority keeps the trace, source [`PropagatorType::Datadog`].
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{DatadogContext, PropagatorType};
    ///
    /// let headers = [("x-datadog-trace-id", "1"), ("x-datadog-parent-id", "2"), ("x-datadog-sampling-priority", "2")];
    /// let sc = DatadogContext::extract(&headers[..])?.unwrap().into_span_context();
    /// assert!(sc.is_sampled());
    /// assert_eq!(sc.source(), Some(PropagatorType::Datadog));
    /// let dropped = [("x-datadog-trace-id", "1"), ("x-datadog-parent-id", "2"), ("x-datadog-sampling-priority", "-1")];
    /// assert!(!DatadogContext::extract(&dropped[..])?.unwrap().into_span_context().is_sampled());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn into_span_context(self) -> SpanContext<'a> {
        self.span_context
    }

    /// This context with a sampling priority.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{DatadogContext, SamplingPriority, SpanId, TraceId};
    ///
    /// let dd = DatadogContext::new(TraceId::new(1).unwrap(), SpanId::new(1).unwrap());
    /// assert_eq!(dd.sampling_priority(), None);
    /// let dd = dd.with_sampling_priority(Some(SamplingPriority::USER_KEEP));
    /// assert_eq!(dd.sampling_priority(), Some(SamplingPriority::USER_KEEP));
    /// ```
    #[inline]
    pub fn with_sampling_priority(mut self, priority: Option<SamplingPriority>) -> Self {
        let sampled = priority.is_some_and(SamplingPriority::is_keep);
        self.span_context = self
            .span_context
            .with_sampling_priority(priority)
            .with_flags(TraceFlags::NONE.with_sampled(sampled));
        self
    }

    /// This context with an origin (checked at injection).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{DatadogContext, SpanId, TraceId};
    ///
    /// let dd = DatadogContext::new(TraceId::new(1).unwrap(), SpanId::new(1).unwrap()).with_origin("rum");
    /// assert_eq!(dd.origin(), Some("rum"));
    /// let bad = DatadogContext::new(TraceId::new(1).unwrap(), SpanId::new(1).unwrap()).with_origin("a\nb");
    /// assert!(bad.inject(&mut Vec::<(String, String)>::new()).is_err());
    /// ```
    #[inline]
    pub fn with_origin(mut self, origin: impl Into<Cow<'a, str>>) -> Self {
        self.span_context = self.span_context.with_origin(origin);
        self
    }

    /// The 128-bit trace id (high bits from `_dd.p.tid`, else zero).
    ///
    /// # Examples
    ///
    /// ```
    /// let headers = [("x-datadog-trace-id", "1234"), ("x-datadog-parent-id", "5678"), ("x-datadog-tags", "_dd.p.tid=0000000000004321")];
    /// let dd = usertrail_propagator::DatadogContext::extract(&headers[..])?.unwrap();
    /// assert_eq!(dd.trace_id().high(), 0x4321);
    /// assert_eq!(dd.trace_id().low(), 1234);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn trace_id(&self) -> TraceId {
        self.span_context.trace_id()
    }

    /// The caller's span id.
    ///
    /// # Examples
    ///
    /// ```
    /// let headers = [("x-datadog-trace-id", "1"), ("x-datadog-parent-id", "5678")];
    /// let dd = usertrail_propagator::DatadogContext::extract(&headers[..])?.unwrap();
    /// assert_eq!(dd.parent_id().to_u64(), 5678);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn parent_id(&self) -> SpanId {
        self.span_context.span_id()
    }

    /// `x-datadog-sampling-priority`, if present.
    ///
    /// # Examples
    ///
    /// ```
    /// let headers = [("x-datadog-trace-id", "1"), ("x-datadog-parent-id", "2"), ("x-datadog-sampling-priority", "-1")];
    /// let dd = usertrail_propagator::DatadogContext::extract(&headers[..])?.unwrap();
    /// assert_eq!(dd.sampling_priority().map(|p| p.get()), Some(-1));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn sampling_priority(&self) -> Option<SamplingPriority> {
        self.span_context.sampling_priority()
    }

    /// `x-datadog-origin`, if present.
    ///
    /// # Examples
    ///
    /// ```
    /// let headers = [("x-datadog-trace-id", "1"), ("x-datadog-parent-id", "2"), ("x-datadog-origin", "synthetics")];
    /// let dd = usertrail_propagator::DatadogContext::extract(&headers[..])?.unwrap();
    /// assert_eq!(dd.origin(), Some("synthetics"));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn origin(&self) -> Option<&str> {
        self.span_context.origin()
    }

    /// `x-datadog-tags`, if present and valid.
    ///
    /// # Examples
    ///
    /// ```
    /// let headers = [("x-datadog-trace-id", "1"), ("x-datadog-parent-id", "2"), ("x-datadog-tags", "_dd.p.dm=-4")];
    /// let dd = usertrail_propagator::DatadogContext::extract(&headers[..])?.unwrap();
    /// assert_eq!(dd.tags().and_then(|t| t.decision_maker()), Some("-4"));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn tags(&self) -> Option<&DatadogTags<'a>> {
        self.tags.as_ref()
    }

    /// Writes the `x-datadog-*` headers. The tags written are the extracted ones (without
    /// `_dd.p.tid`) plus `_dd.p.tid` when the trace id has high bits.
    ///
    /// # Errors
    ///
    /// A value that is not a valid HTTP header value (a bad origin); that header is not
    /// written, the others are.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{DatadogContext, SpanId, TraceId};
    ///
    /// let dd = DatadogContext::new(TraceId::from_u64_pair(0x66305cd5_00000000, 1234).unwrap(), SpanId::new(5678).unwrap());
    /// let mut headers: Vec<(String, String)> = Vec::new();
    /// dd.inject(&mut headers)?;
    /// assert_eq!(headers, [
    ///     ("x-datadog-trace-id".to_string(), "1234".to_string()),
    ///     ("x-datadog-parent-id".to_string(), "5678".to_string()),
    ///     ("x-datadog-tags".to_string(), "_dd.p.tid=66305cd500000000".to_string()),
    /// ]);
    /// # Ok::<(), usertrail_propagator::InjectError>(())
    /// ```
    pub fn inject<I: Injector + ?Sized>(&self, carrier: &mut I) -> Result<(), InjectError> {
        inject_headers(
            (self.trace_id(), self.parent_id()),
            self.sampling_priority(),
            self.origin(),
            self.tags.as_ref(),
            carrier,
        )
    }

    /// A copy that owns its data.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::DatadogContext;
    ///
    /// let headers = vec![("x-datadog-trace-id".to_string(), "1".to_string()), ("x-datadog-parent-id".to_string(), "2".to_string())];
    /// let kept: DatadogContext<'static> = DatadogContext::extract(&headers)?.unwrap().into_owned();
    /// drop(headers);
    /// assert_eq!(kept.trace_id().low(), 1);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn into_owned(self) -> DatadogContext<'static> {
        DatadogContext {
            span_context: self.span_context.into_owned(),
            tags: self.tags.map(DatadogTags::into_owned),
        }
    }
}

/// [`DatadogContext::inject`], on its parts: the inject paths that never carry extracted tags
/// (`crate::inject`, `NewTrace::inject`) pass `None`, so the browser SDK's WebAssembly has no
/// tag-copying code.
pub(crate) fn inject_headers<I: Injector + ?Sized>(
    (trace_id, parent_id): (TraceId, SpanId),
    sampling_priority: Option<SamplingPriority>,
    origin: Option<&str>,
    extracted_tags: Option<&DatadogTags<'_>>,
    carrier: &mut I,
) -> Result<(), InjectError> {
    let mut result = Ok(());
    let mut value = String::with_capacity(20);
    codec::push_u64_dec(&mut value, trace_id.low());
    carrier::set_checked(carrier, X_DATADOG_TRACE_ID, value, &mut result);
    let mut value = String::with_capacity(20);
    codec::push_u64_dec(&mut value, parent_id.to_u64());
    carrier::set_checked(carrier, X_DATADOG_PARENT_ID, value, &mut result);
    if let Some(priority) = sampling_priority {
        let mut value = String::with_capacity(2);
        priority.write_to(&mut value);
        carrier::set_checked(carrier, X_DATADOG_SAMPLING_PRIORITY, value, &mut result);
    }
    if let Some(origin) = origin {
        carrier::set_checked(carrier, X_DATADOG_ORIGIN, String::from(origin), &mut result);
    }
    let mut tags = String::new();
    if let Some(extracted) = extracted_tags {
        for (k, v) in extracted.iter().filter(|(k, _)| *k != TID_TAG) {
            if !tags.is_empty() {
                tags.push(',');
            }
            tags.push_str(k);
            tags.push('=');
            tags.push_str(v);
        }
    }
    if trace_id.high() != 0 {
        if !tags.is_empty() {
            tags.push(',');
        }
        tags.push_str(TID_TAG);
        tags.push('=');
        codec::push_hex(&mut tags, u128::from(trace_id.high()), 16);
    }
    if !tags.is_empty() {
        carrier::set_checked(carrier, X_DATADOG_TAGS, tags, &mut result);
    }
    result
}
