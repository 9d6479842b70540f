//! Error types: opaque structs around a private kind, each with a fixed lowercase message.
//!
//! Formatting an error goes through `core::fmt`; the non-error paths never do.

use core::fmt;

/// The part of a header an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    Version,
    TraceId,
    ParentId,
    SpanId,
    ParentSpanId,
    Flags,
    SamplingPriority,
    Tid,
    LastParentId,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Version => "version",
            Field::TraceId => "trace-id",
            Field::ParentId => "parent-id",
            Field::SpanId => "span-id",
            Field::ParentSpanId => "parent span-id",
            Field::Flags => "trace-flags",
            Field::SamplingPriority => "sampling priority",
            Field::Tid => "_dd.p.tid",
            Field::LastParentId => "last parent id",
        }
    }
}

/// What went wrong. Private: match on behaviour (`is_err`), not on kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    Empty,
    Missing(Field),
    UpperHex(Field),
    NotHex(Field),
    Length(Field),
    Zero(Field),
    NotDecimal(Field),
    Overflow(Field),
    VersionFf,
    TrailingData,
    // tracestate
    TooManyMembers,
    MissingEquals,
    KeyInvalid,
    KeyTooLong,
    ValueEmpty,
    ValueInvalid,
    ValueTooLong,
    // baggage
    KeyNotToken,
    ValueNotBaggageOctets,
    PropertyInvalid,
    OverMemberLimit,
    OverByteLimit,
    // datadog
    TagsTooLong,
    TagInvalid,
    OriginInvalid,
    DdItemInvalid,
    // b3
    TooManyFields,
    B3SamplingInvalid,
    B3SampledInvalid,
    B3FlagsInvalid,
    // propagation
    MultipleHeaders,
    TraceIdMismatch,
    InvalidHeaderValue,
    UnknownPropagator,
    TooManyProblems,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fixed = match *self {
            ErrorKind::Empty => "empty value",
            ErrorKind::Missing(field) => return write!(f, "{} is missing", field.name()),
            ErrorKind::UpperHex(field) => return write!(f, "upper-case hex in {}", field.name()),
            ErrorKind::NotHex(field) => {
                return write!(f, "{} is not lower-case hex", field.name());
            }
            ErrorKind::Length(field) => return write!(f, "{} has the wrong length", field.name()),
            ErrorKind::Zero(field) => return write!(f, "{} is all zeros", field.name()),
            ErrorKind::NotDecimal(field) => {
                return write!(f, "{} is not a decimal number", field.name());
            }
            ErrorKind::Overflow(field) => return write!(f, "{} is out of range", field.name()),
            ErrorKind::VersionFf => "version ff is invalid",
            ErrorKind::TrailingData => "version 00 has data after trace-flags",
            ErrorKind::TooManyMembers => "more than 32 list members",
            ErrorKind::MissingEquals => "list member has no '='",
            ErrorKind::KeyInvalid => "key has an invalid character or shape",
            ErrorKind::KeyTooLong => "key is longer than allowed",
            ErrorKind::ValueEmpty => "value is empty",
            ErrorKind::ValueInvalid => "value has an invalid character",
            ErrorKind::ValueTooLong => "value is longer than 256 characters",
            ErrorKind::KeyNotToken => "key is not a token",
            ErrorKind::ValueNotBaggageOctets => "value has a character outside baggage-octet",
            ErrorKind::PropertyInvalid => "property is not `key` or `key=value`",
            ErrorKind::OverMemberLimit => "over the 64-member limit",
            ErrorKind::OverByteLimit => "over the 8192-byte limit",
            ErrorKind::TagsTooLong => "longer than 512 characters",
            ErrorKind::TagInvalid => "tag is not `key=value` of printable ascii",
            ErrorKind::OriginInvalid => "origin is not printable ascii",
            ErrorKind::DdItemInvalid => "dd member item is not `key:value`",
            ErrorKind::TooManyFields => "more than four fields",
            ErrorKind::B3SamplingInvalid => "sampling state is not 0, 1 or d",
            ErrorKind::B3SampledInvalid => "sampled is not 0, 1, true or false",
            ErrorKind::B3FlagsInvalid => "flags is neither 0 nor 1",
            ErrorKind::MultipleHeaders => "more than one header",
            ErrorKind::TraceIdMismatch => "trace-id differs from traceparent; traceparent wins",
            ErrorKind::InvalidHeaderValue => "value is not a valid http header value",
            ErrorKind::UnknownPropagator => {
                "unknown propagator (expected tracecontext, datadog, b3 or b3multi)"
            }
            ErrorKind::TooManyProblems => "more problems not listed",
        };
        f.write_str(fixed)
    }
}

/// A header value, or part of one, that does not follow its format.
///
/// Returned by every `parse`, `FromStr` and `TryFrom<&str>` of this crate. The message is fixed
/// and lowercase, e.g. `upper-case hex in trace-id`.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::Traceparent;
///
/// let err = Traceparent::parse("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").unwrap_err();
/// assert_eq!(err.to_string(), "upper-case hex in trace-id");
/// assert!(Traceparent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_ok());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseError {
    kind: ErrorKind,
}

impl ParseError {
    #[inline]
    pub(crate) const fn new(kind: ErrorKind) -> Self {
        ParseError { kind }
    }

    #[inline]
    pub(crate) const fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl From<ErrorKind> for ParseError {
    #[inline]
    fn from(kind: ErrorKind) -> Self {
        ParseError { kind }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl core::error::Error for ParseError {}

/// One problem found while extracting: a rejected header, a dropped baggage member, or a
/// disagreement between two formats.
///
/// Extraction never fails; it reports these so callers can log or count them. The text names
/// the header first: `traceparent: upper-case hex in trace-id`,
/// `baggage: member 3 dropped: key is not a token`.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::extract;
///
/// let headers = [
///     ("traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"),
///     ("baggage", "user.id=u1,bad key=1"),
/// ];
/// let extracted = extract(&headers[..]);
/// assert!(extracted.span_context().is_none());
/// let messages: Vec<String> = extracted.errors().iter().map(|e| e.to_string()).collect();
/// assert_eq!(messages, [
///     "traceparent: upper-case hex in trace-id",
///     "baggage: member 2 dropped: key is not a token",
/// ]);
/// assert_eq!(extracted.errors()[1].header(), "baggage");
/// assert_eq!(extracted.errors()[1].member(), Some(2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExtractError {
    header: &'static str,
    kind: ErrorKind,
    /// 1-based list-member position, for members dropped from a list header.
    member: Option<u32>,
    /// How many members (from `member` on) or problems this entry stands for, when more than one.
    count: u32,
}

impl ExtractError {
    pub(crate) const fn new(header: &'static str, kind: ErrorKind) -> Self {
        ExtractError {
            header,
            kind,
            member: None,
            count: 1,
        }
    }

    pub(crate) const fn member_dropped(
        header: &'static str,
        member: u32,
        count: u32,
        kind: ErrorKind,
    ) -> Self {
        ExtractError {
            header,
            kind,
            member: Some(member),
            count,
        }
    }

    pub(crate) const fn too_many(header: &'static str, count: u32) -> Self {
        ExtractError {
            header,
            kind: ErrorKind::TooManyProblems,
            member: None,
            count,
        }
    }

    /// The header the problem is about (lowercase), e.g. `"traceparent"`, or `"*"` for the
    /// entry that counts problems not listed.
    ///
    /// # Examples
    ///
    /// ```
    /// let extracted = usertrail_propagator::extract(&[("x-datadog-trace-id", "0"), ("x-datadog-parent-id", "1")][..]);
    /// assert_eq!(extracted.errors()[0].header(), "x-datadog-trace-id");
    /// assert!(usertrail_propagator::extract(&[("x-datadog-trace-id", "1"), ("x-datadog-parent-id", "1")][..]).errors().is_empty());
    /// ```
    #[inline]
    pub fn header(&self) -> &'static str {
        self.header
    }

    /// The 1-based position of the dropped list member, for baggage members.
    ///
    /// # Examples
    ///
    /// ```
    /// let extracted = usertrail_propagator::extract(&[("baggage", "a=1,=2")][..]);
    /// assert_eq!(extracted.errors()[0].member(), Some(2));
    /// let extracted = usertrail_propagator::extract(&[("traceparent", "junk")][..]);
    /// assert_eq!(extracted.errors()[0].member(), None);
    /// ```
    #[inline]
    pub fn member(&self) -> Option<usize> {
        self.member.map(|m| m as usize)
    }

    /// How many members or problems this one entry stands for (1 unless a limit was hit).
    ///
    /// # Examples
    ///
    /// ```
    /// let header = "k=v,".repeat(70);
    /// let headers = [("baggage", header.as_str())];
    /// let extracted = usertrail_propagator::extract(&headers[..]);
    /// assert_eq!(extracted.baggage().len(), 64);
    /// assert_eq!(extracted.errors()[0].count(), 6);
    /// assert_eq!(extracted.errors()[0].to_string(), "baggage: 6 members from member 65 on dropped: over the 64-member limit");
    /// ```
    #[inline]
    pub fn count(&self) -> usize {
        self.count as usize
    }
}

impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, self.member) {
            (ErrorKind::TooManyProblems, _) => write!(f, "{} more problems not listed", self.count),
            (kind, Some(member)) if self.count > 1 => write!(
                f,
                "{}: {} members from member {} on dropped: {}",
                self.header, self.count, member, kind
            ),
            (kind, Some(member)) => {
                write!(f, "{}: member {} dropped: {}", self.header, member, kind)
            }
            (kind, None) => write!(f, "{}: {}", self.header, kind),
        }
    }
}

impl core::error::Error for ExtractError {}

/// A header that [`inject`](crate::inject) refused to write.
///
/// Values are checked before they reach the carrier: a value with CR, LF, NUL or any other
/// byte that is not allowed in an HTTP field value is not written.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{inject, Context, PropagatorType, SpanContext, SpanId, TraceFlags, TraceId};
///
/// let trace_id = TraceId::new(1).unwrap();
/// let span_id = SpanId::new(2).unwrap();
/// let bad = SpanContext::new(trace_id, span_id, TraceFlags::SAMPLED).with_origin("rum\r\nx-evil: 1");
/// let mut headers: Vec<(String, String)> = Vec::new();
/// let err = inject(&Context::new().with_span_context(bad), &[PropagatorType::Datadog], &mut headers).unwrap_err();
/// assert_eq!(err.to_string(), "x-datadog-origin: value is not a valid http header value");
/// assert!(headers.iter().all(|(name, _)| name != "x-datadog-origin"));
///
/// let good = SpanContext::new(trace_id, span_id, TraceFlags::SAMPLED).with_origin("rum");
/// assert!(inject(&Context::new().with_span_context(good), &[PropagatorType::Datadog], &mut headers).is_ok());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InjectError {
    header: &'static str,
    kind: ErrorKind,
}

impl InjectError {
    pub(crate) const fn new(header: &'static str, kind: ErrorKind) -> Self {
        InjectError { header, kind }
    }

    /// The header that was not written.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{inject, Context, PropagatorType, SpanContext, SpanId, TraceFlags, TraceId};
    ///
    /// let cx = SpanContext::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap(), TraceFlags::SAMPLED)
    ///     .with_origin("a\0b");
    /// let mut headers: Vec<(String, String)> = Vec::new();
    /// let err = inject(&Context::new().with_span_context(cx), &[PropagatorType::Datadog], &mut headers).unwrap_err();
    /// assert_eq!(err.header(), "x-datadog-origin");
    /// ```
    #[inline]
    pub fn header(&self) -> &'static str {
        self.header
    }
}

impl fmt::Display for InjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.header, self.kind)
    }
}

impl core::error::Error for InjectError {}

/// `FromStr` (an owned value) and `TryFrom<&str>` (one borrowing the text), both through the
/// type's own `parse` and `into_owned`, for the header types that borrow their text.
macro_rules! parse_impls {
    ($ty:ident) => {
        impl core::str::FromStr for $ty<'static> {
            type Err = $crate::error::ParseError;
            #[inline]
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::parse(s).map($ty::into_owned)
            }
        }

        impl<'a> TryFrom<&'a str> for $ty<'a> {
            type Error = $crate::error::ParseError;
            #[inline]
            fn try_from(s: &'a str) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }
    };
}
pub(crate) use parse_impls;
