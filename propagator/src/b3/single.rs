//! The single `b3` header: `{trace_id}-{span_id}[-{sampling}[-{parent_span_id}]]` or just
//! `{sampling}`.

use alloc::string::String;
use core::fmt;
use core::str::FromStr;

use super::{B3Sampling, parse_trace_id, push_trace_id};
use crate::codec;
use crate::error::{ErrorKind, Field, ParseError};
use crate::ids::{self, SpanId, TraceId};

/// A single `b3` header value.
///
/// Either ids (`{trace_id}-{span_id}`, trace id 16 or 32 hex digits, optionally followed by
/// `-{sampling}` and then `-{parent_span_id}`) or only a sampling decision (`0`, `1`, `d`),
/// which carries no trace context. A 16-digit trace id is written back with 16 digits.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{B3Sampling, B3Single};
///
/// let b3: B3Single = "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90".parse()?;
/// assert_eq!(b3.sampling(), Some(B3Sampling::Accept));
/// assert_eq!(b3.parent_span_id().map(|id| id.to_string()).as_deref(), Some("05e3ac9a4f6e3b90"));
/// assert_eq!(b3.to_string(), "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90");
///
/// let deny = B3Single::parse("0")?;
/// assert_eq!(deny.trace_id(), None);
///
/// assert!(B3Single::parse("80f198ee56343ba864fe8b2a57d3eff7").is_err());
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct B3Single {
    /// `Some` together with `span_id`.
    trace_id: Option<TraceId>,
    wide: bool,
    span_id: Option<SpanId>,
    /// Only written when there are ids and a sampling decision.
    parent_span_id: Option<SpanId>,
    sampling: Option<B3Sampling>,
}

fn parse_sampling(s: &str) -> Result<B3Sampling, ErrorKind> {
    match s {
        "0" => Ok(B3Sampling::Deny),
        "1" => Ok(B3Sampling::Accept),
        "d" => Ok(B3Sampling::Debug),
        _ => Err(ErrorKind::B3SamplingInvalid),
    }
}

fn sampling_char(sampling: B3Sampling) -> char {
    match sampling {
        B3Sampling::Deny => '0',
        B3Sampling::Accept => '1',
        B3Sampling::Debug => 'd',
    }
}

impl B3Single {
    /// Ids with a 32-digit trace id, no sampling decision, no parent.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{B3Sampling, B3Single, SpanId, TraceId};
    ///
    /// let b3 = B3Single::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap()).with_sampling(Some(B3Sampling::Accept));
    /// assert_eq!(b3.to_string(), "00000000000000000000000000000001-0000000000000002-1");
    /// ```
    #[inline]
    pub const fn new(trace_id: TraceId, span_id: SpanId) -> Self {
        B3Single {
            trace_id: Some(trace_id),
            wide: true,
            span_id: Some(span_id),
            parent_span_id: None,
            sampling: None,
        }
    }

    /// Only a sampling decision (`b3: 0`, `b3: 1`, `b3: d`).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{B3Sampling, B3Single};
    ///
    /// assert_eq!(B3Single::sampling_only(B3Sampling::Deny).to_string(), "0");
    /// ```
    #[inline]
    pub const fn sampling_only(sampling: B3Sampling) -> Self {
        B3Single {
            trace_id: None,
            wide: true,
            span_id: None,
            parent_span_id: None,
            sampling: Some(sampling),
        }
    }

    /// This value with a sampling decision.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{B3Sampling, B3Single, SpanId, TraceId};
    ///
    /// let b3 = B3Single::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap()).with_sampling(Some(B3Sampling::Debug));
    /// assert!(b3.to_string().ends_with("-d"));
    /// ```
    #[inline]
    pub const fn with_sampling(mut self, sampling: Option<B3Sampling>) -> Self {
        self.sampling = sampling;
        self
    }

    /// This value with a parent span id (written only with ids and a sampling decision, which
    /// the format requires before it).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{B3Sampling, B3Single, SpanId, TraceId};
    ///
    /// let b3 = B3Single::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap())
    ///     .with_sampling(Some(B3Sampling::Accept))
    ///     .with_parent_span_id(SpanId::new(3));
    /// assert!(b3.to_string().ends_with("-1-0000000000000003"));
    /// ```
    #[inline]
    pub const fn with_parent_span_id(mut self, parent: Option<SpanId>) -> Self {
        self.parent_span_id = parent;
        self
    }

    /// Parses a `b3` value (OWS around it is ignored).
    ///
    /// # Errors
    ///
    /// A trace id that is not 16 or 32 lower-case hex digits, a span or parent id that is not
    /// 16, an all-zero id, a sampling state other than `0`, `1`, `d`, or more than four fields.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::B3Single;
    ///
    /// assert!(B3Single::parse("a3ce929d0e0e4736-00f067aa0ba902b7").is_ok());
    /// assert!(B3Single::parse("a3ce929d0e0e4736-00f067aa0ba902b7-true").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::parse_inner(codec::trim_ows(s)).map_err(ParseError::new)
    }

    fn parse_inner(s: &str) -> Result<Self, ErrorKind> {
        if s.is_empty() {
            return Err(ErrorKind::Empty);
        }
        if s.len() == 1 {
            return Ok(Self::sampling_only(parse_sampling(s)?));
        }
        let mut fields = codec::split_byte(s, b'-');
        let (trace_id, wide) = parse_trace_id(fields.next().unwrap_or("").as_bytes())?;
        let span_id = fields.next().ok_or(ErrorKind::Missing(Field::SpanId))?;
        let span_id = ids::parse_span_id(span_id.as_bytes(), Field::SpanId)?;
        let sampling = fields.next().map(parse_sampling).transpose()?;
        let parent_span_id = fields
            .next()
            .map(|p| ids::parse_span_id(p.as_bytes(), Field::ParentSpanId))
            .transpose()?;
        if fields.next().is_some() {
            return Err(ErrorKind::TooManyFields);
        }
        Ok(B3Single {
            trace_id: Some(trace_id),
            wide,
            span_id: Some(span_id),
            parent_span_id,
            sampling,
        })
    }

    /// The trace id; `None` for a sampling-only value.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::B3Single;
    ///
    /// assert_eq!(B3Single::parse("a3ce929d0e0e4736-00f067aa0ba902b7")?.trace_id().map(|t| t.to_u128()), Some(0xa3ce929d0e0e4736));
    /// assert_eq!(B3Single::parse("1")?.trace_id(), None);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub const fn trace_id(&self) -> Option<TraceId> {
        self.trace_id
    }

    /// The span id; `None` for a sampling-only value.
    ///
    /// # Examples
    ///
    /// ```
    /// let b3 = usertrail_propagator::B3Single::parse("a3ce929d0e0e4736-00f067aa0ba902b7")?;
    /// assert_eq!(b3.span_id().map(|s| s.to_u64()), Some(0x00f067aa0ba902b7));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub const fn span_id(&self) -> Option<SpanId> {
        self.span_id
    }

    /// The parent span id, if sent.
    ///
    /// # Examples
    ///
    /// ```
    /// let b3 = usertrail_propagator::B3Single::parse("a3ce929d0e0e4736-00f067aa0ba902b7-0")?;
    /// assert_eq!(b3.parent_span_id(), None);
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
    /// use usertrail_propagator::{B3Sampling, B3Single};
    ///
    /// assert_eq!(B3Single::parse("a3ce929d0e0e4736-00f067aa0ba902b7-0")?.sampling(), Some(B3Sampling::Deny));
    /// assert_eq!(B3Single::parse("a3ce929d0e0e4736-00f067aa0ba902b7")?.sampling(), None);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub const fn sampling(&self) -> Option<B3Sampling> {
        self.sampling
    }

    /// Appends the header value to `out`, without going through `core::fmt`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut out = String::new();
    /// usertrail_propagator::B3Single::parse("a3ce929d0e0e4736-00f067aa0ba902b7")?.write_to(&mut out);
    /// assert_eq!(out, "a3ce929d0e0e4736-00f067aa0ba902b7");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn write_to(&self, out: &mut String) {
        match (self.trace_id, self.span_id) {
            (Some(trace_id), Some(span_id)) => {
                push_trace_id(out, trace_id, self.wide);
                out.push('-');
                span_id.write_to(out);
                if let Some(sampling) = self.sampling {
                    out.push('-');
                    out.push(sampling_char(sampling));
                    if let Some(parent) = self.parent_span_id {
                        out.push('-');
                        parent.write_to(out);
                    }
                }
            }
            _ => {
                if let Some(sampling) = self.sampling {
                    out.push(sampling_char(sampling));
                }
            }
        }
    }

    /// The header value as a new string.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{B3Sampling, B3Single};
    ///
    /// assert_eq!(B3Single::sampling_only(B3Sampling::Accept).to_header_value(), "1");
    /// ```
    pub fn to_header_value(&self) -> String {
        let mut out = String::with_capacity(68);
        self.write_to(&mut out);
        out
    }
}

impl fmt::Display for B3Single {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_header_value())
    }
}

impl FromStr for B3Single {
    type Err = ParseError;
    #[inline]
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for B3Single {
    type Error = ParseError;
    #[inline]
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}
