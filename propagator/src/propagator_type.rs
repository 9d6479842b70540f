//! The names of the trace-context header formats, as Datadog's and OpenTelemetry's
//! configuration spell them. Which headers each one uses is in [`headers`](crate::headers).

use core::fmt;
use core::str::FromStr;

use crate::error::{ErrorKind, ParseError};

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
    /// The order [`extract`](crate::extract) tries: `traceparent` first, then Datadog, then B3 multi, then B3
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
