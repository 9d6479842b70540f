//! The multi-header B3 form: `x-b3-traceid`, `x-b3-spanid`, `x-b3-parentspanid`,
//! `x-b3-sampled`, `x-b3-flags`.

use alloc::string::String;

use super::{B3Sampling, parse_trace_id, push_trace_id};
use crate::carrier::{self, Extractor, Injector};
use crate::codec::trim_ows;
use crate::error::{ErrorKind, Field, InjectError, ParseError};
use crate::headers::{X_B3_FLAGS, X_B3_PARENTSPANID, X_B3_SAMPLED, X_B3_SPANID, X_B3_TRACEID};
use crate::ids::{self, SpanId, TraceId};

/// A B3 context carried by the `x-b3-*` headers.
///
/// Extraction needs `x-b3-traceid` and `x-b3-spanid`; without `x-b3-traceid` there is no
/// context (a lone `x-b3-sampled` is a sampling decision only). `x-b3-sampled` accepts `1`,
/// `0` and, leniently, `true`/`false` (any case); `x-b3-flags: 1` means debug and wins over
/// `x-b3-sampled`. Injection writes `x-b3-flags: 1` for debug and `x-b3-sampled` otherwise, as
/// the spec asks ("Debug implies an accept decision, so don't also send the X-B3-Sampled
/// header").
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{B3Multi, B3Sampling};
///
/// let headers = [
///     ("X-B3-TraceId", "80f198ee56343ba864fe8b2a57d3eff7"),
///     ("X-B3-SpanId", "e457b5a2e4d86bd1"),
///     ("X-B3-ParentSpanId", "05e3ac9a4f6e3b90"),
///     ("X-B3-Sampled", "1"),
/// ];
/// let b3 = B3Multi::extract(&headers[..])?.unwrap();
/// assert_eq!(b3.sampling(), Some(B3Sampling::Accept));
/// assert_eq!(b3.span_id().to_string(), "e457b5a2e4d86bd1");
///
/// assert!(B3Multi::extract(&[("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7")][..]).is_err());
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct B3Multi {
    trace_id: TraceId,
    wide: bool,
    span_id: SpanId,
    parent_span_id: Option<SpanId>,
    sampling: Option<B3Sampling>,
}

fn parse_sampled(s: &str) -> Result<B3Sampling, ErrorKind> {
    match s {
        "1" => Ok(B3Sampling::Accept),
        "0" => Ok(B3Sampling::Deny),
        _ if s.eq_ignore_ascii_case("true") => Ok(B3Sampling::Accept),
        _ if s.eq_ignore_ascii_case("false") => Ok(B3Sampling::Deny),
        _ => Err(ErrorKind::B3SampledInvalid),
    }
}

impl B3Multi {
    /// A context with a 32-digit trace id, no parent, no sampling decision.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{B3Multi, SpanId, TraceId};
    ///
    /// let b3 = B3Multi::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap());
    /// assert_eq!(b3.sampling(), None);
    /// assert_eq!(b3.parent_span_id(), None);
    /// ```
    #[inline]
    pub const fn new(trace_id: TraceId, span_id: SpanId) -> Self {
        B3Multi {
            trace_id,
            wide: true,
            span_id,
            parent_span_id: None,
            sampling: None,
        }
    }

    /// This context with a sampling decision.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{B3Multi, B3Sampling, SpanId, TraceId};
    ///
    /// let b3 = B3Multi::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap()).with_sampling(Some(B3Sampling::Debug));
    /// assert_eq!(b3.sampling(), Some(B3Sampling::Debug));
    /// ```
    #[inline]
    pub const fn with_sampling(mut self, sampling: Option<B3Sampling>) -> Self {
        self.sampling = sampling;
        self
    }

    /// This context with a parent span id.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{B3Multi, SpanId, TraceId};
    ///
    /// let b3 = B3Multi::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap()).with_parent_span_id(SpanId::new(3));
    /// assert_eq!(b3.parent_span_id(), SpanId::new(3));
    /// ```
    #[inline]
    pub const fn with_parent_span_id(mut self, parent: Option<SpanId>) -> Self {
        self.parent_span_id = parent;
        self
    }

    /// Strict extraction: `Ok(None)` without `x-b3-traceid`; an error for any present header
    /// that is malformed, or a missing `x-b3-spanid`.
    ///
    /// # Errors
    ///
    /// The first malformed `x-b3-*` header.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::B3Multi;
    ///
    /// let ok = [("x-b3-traceid", "a3ce929d0e0e4736"), ("x-b3-spanid", "00f067aa0ba902b7"), ("x-b3-sampled", "true")];
    /// assert!(B3Multi::extract(&ok[..])?.unwrap().sampling().unwrap().is_sampled());
    /// let bad = [("x-b3-traceid", "a3ce929d0e0e4736"), ("x-b3-spanid", "00f067aa0ba902b7"), ("x-b3-flags", "2")];
    /// assert!(B3Multi::extract(&bad[..]).is_err());
    /// assert!(B3Multi::extract(&[("x-b3-sampled", "0")][..])?.is_none());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn extract<E: Extractor + ?Sized>(carrier: &E) -> Result<Option<Self>, ParseError> {
        let mut first = None;
        let context = Self::extract_reporting(carrier, &mut |_, kind| {
            first.get_or_insert(kind);
        });
        match first {
            Some(kind) => Err(kind.into()),
            None => Ok(context),
        }
    }

    /// Lenient extraction: bad ids drop the context; a bad parent or sampling header is only
    /// reported.
    pub(crate) fn extract_reporting<E: Extractor + ?Sized>(
        carrier: &E,
        report: &mut dyn FnMut(&'static str, ErrorKind),
    ) -> Option<Self> {
        let trace_id = trim_ows(carrier.get(X_B3_TRACEID)?);
        let (trace_id, wide) = match parse_trace_id(trace_id.as_bytes()) {
            Ok(id) => id,
            Err(kind) => {
                report(X_B3_TRACEID, kind);
                return None;
            }
        };
        let span_id = trim_ows(carrier.get(X_B3_SPANID).unwrap_or(""));
        let span_id = match ids::parse_span_id(span_id.as_bytes(), Field::SpanId) {
            Ok(id) => id,
            Err(ErrorKind::Length(_)) if span_id.is_empty() => {
                report(X_B3_SPANID, ErrorKind::Missing(Field::SpanId));
                return None;
            }
            Err(kind) => {
                report(X_B3_SPANID, kind);
                return None;
            }
        };
        let parent_span_id =
            carrier.get(X_B3_PARENTSPANID).and_then(|p| {
                match ids::parse_span_id(trim_ows(p).as_bytes(), Field::ParentSpanId) {
                    Ok(id) => Some(id),
                    Err(kind) => {
                        report(X_B3_PARENTSPANID, kind);
                        None
                    }
                }
            });
        let debug = match carrier.get(X_B3_FLAGS).map(trim_ows) {
            None | Some("0") => false,
            Some("1") => true,
            Some(_) => {
                report(X_B3_FLAGS, ErrorKind::B3FlagsInvalid);
                false
            }
        };
        let sampling = if debug {
            Some(B3Sampling::Debug)
        } else {
            carrier
                .get(X_B3_SAMPLED)
                .and_then(|s| match parse_sampled(trim_ows(s)) {
                    Ok(sampling) => Some(sampling),
                    Err(kind) => {
                        report(X_B3_SAMPLED, kind);
                        None
                    }
                })
        };
        Some(B3Multi {
            trace_id,
            wide,
            span_id,
            parent_span_id,
            sampling,
        })
    }

    /// The trace id.
    ///
    /// # Examples
    ///
    /// ```
    /// let headers = [("x-b3-traceid", "a3ce929d0e0e4736"), ("x-b3-spanid", "00f067aa0ba902b7")];
    /// let b3 = usertrail_propagator::B3Multi::extract(&headers[..])?.unwrap();
    /// assert_eq!(b3.trace_id().to_string(), "0000000000000000a3ce929d0e0e4736");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub const fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The span id.
    ///
    /// # Examples
    ///
    /// ```
    /// let headers = [("x-b3-traceid", "a3ce929d0e0e4736"), ("x-b3-spanid", "00f067aa0ba902b7")];
    /// let b3 = usertrail_propagator::B3Multi::extract(&headers[..])?.unwrap();
    /// assert_eq!(b3.span_id().to_u64(), 0x00f067aa0ba902b7);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub const fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// The parent span id, if sent.
    ///
    /// # Examples
    ///
    /// ```
    /// let headers = [("x-b3-traceid", "a3ce929d0e0e4736"), ("x-b3-spanid", "00f067aa0ba902b7")];
    /// assert_eq!(usertrail_propagator::B3Multi::extract(&headers[..])?.unwrap().parent_span_id(), None);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub const fn parent_span_id(&self) -> Option<SpanId> {
        self.parent_span_id
    }

    /// The sampling decision, if sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{B3Multi, B3Sampling};
    ///
    /// let headers = [("x-b3-traceid", "a3ce929d0e0e4736"), ("x-b3-spanid", "00f067aa0ba902b7"), ("x-b3-flags", "1"), ("x-b3-sampled", "0")];
    /// assert_eq!(B3Multi::extract(&headers[..])?.unwrap().sampling(), Some(B3Sampling::Debug));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub const fn sampling(&self) -> Option<B3Sampling> {
        self.sampling
    }

    /// Writes the `x-b3-*` headers.
    ///
    /// # Errors
    ///
    /// Never in practice (every value is hex or a digit); the `Result` is that of all
    /// injection.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{B3Multi, B3Sampling, SpanId, TraceId};
    ///
    /// let b3 = B3Multi::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap()).with_sampling(Some(B3Sampling::Accept));
    /// let mut headers: Vec<(String, String)> = Vec::new();
    /// b3.inject(&mut headers)?;
    /// assert_eq!(headers, [
    ///     ("x-b3-traceid".to_string(), "00000000000000000000000000000001".to_string()),
    ///     ("x-b3-spanid".to_string(), "0000000000000002".to_string()),
    ///     ("x-b3-sampled".to_string(), "1".to_string()),
    /// ]);
    /// # Ok::<(), usertrail_propagator::InjectError>(())
    /// ```
    pub fn inject<I: Injector + ?Sized>(&self, carrier: &mut I) -> Result<(), InjectError> {
        let mut result = Ok(());
        let mut value = String::with_capacity(32);
        push_trace_id(&mut value, self.trace_id, self.wide);
        carrier::set_checked(carrier, X_B3_TRACEID, value, &mut result);
        let mut value = String::with_capacity(16);
        self.span_id.write_to(&mut value);
        carrier::set_checked(carrier, X_B3_SPANID, value, &mut result);
        if let Some(parent) = self.parent_span_id {
            let mut value = String::with_capacity(16);
            parent.write_to(&mut value);
            carrier::set_checked(carrier, X_B3_PARENTSPANID, value, &mut result);
        }
        match self.sampling {
            Some(B3Sampling::Debug) => {
                carrier::set_checked(carrier, X_B3_FLAGS, String::from("1"), &mut result);
            }
            Some(B3Sampling::Accept) => {
                carrier::set_checked(carrier, X_B3_SAMPLED, String::from("1"), &mut result);
            }
            Some(B3Sampling::Deny) => {
                carrier::set_checked(carrier, X_B3_SAMPLED, String::from("0"), &mut result);
            }
            None => {}
        }
        result
    }
}
