//! Datadog's sampling priority: a signed integer, kept above zero, dropped at or below.
//!
//! A value type like the ids: a [`SpanContext`](crate::SpanContext) carries one whatever
//! format it came from, so it sits below the formats rather than inside `datadog/`.

use alloc::string::String;
use core::fmt;
use core::str::FromStr;

use crate::codec;
use crate::error::{Field, ParseError};

/// A Datadog sampling priority: negative or zero drops the trace, positive keeps it.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::SamplingPriority;
///
/// let p: SamplingPriority = "-1".parse()?;
/// assert_eq!(p, SamplingPriority::USER_REJECT);
/// assert!(!p.is_keep());
/// assert!(SamplingPriority::USER_KEEP.is_keep());
/// assert!("1.0".parse::<SamplingPriority>().is_err());
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SamplingPriority(i32);

impl SamplingPriority {
    /// `-1`: the user asked to drop the trace.
    pub const USER_REJECT: SamplingPriority = SamplingPriority(-1);
    /// `0`: the sampler dropped the trace.
    pub const AUTO_REJECT: SamplingPriority = SamplingPriority(0);
    /// `1`: the sampler kept the trace.
    pub const AUTO_KEEP: SamplingPriority = SamplingPriority(1);
    /// `2`: the user asked to keep the trace.
    pub const USER_KEEP: SamplingPriority = SamplingPriority(2);

    /// A priority from its value.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::SamplingPriority;
    ///
    /// assert_eq!(SamplingPriority::new(2), SamplingPriority::USER_KEEP);
    /// assert!(!SamplingPriority::new(0).is_keep());
    /// ```
    #[inline]
    pub const fn new(value: i32) -> Self {
        SamplingPriority(value)
    }

    /// The value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::SamplingPriority::USER_REJECT.get(), -1);
    /// ```
    #[inline]
    pub const fn get(self) -> i32 {
        self.0
    }

    /// Is the trace kept (priority above zero)?
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::SamplingPriority;
    ///
    /// assert!(SamplingPriority::AUTO_KEEP.is_keep());
    /// assert!(!SamplingPriority::AUTO_REJECT.is_keep());
    /// ```
    #[inline]
    pub const fn is_keep(self) -> bool {
        self.0 > 0
    }

    /// Parses a decimal integer with an optional `-`.
    ///
    /// # Errors
    ///
    /// Anything else, or a value outside `i32`.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::SamplingPriority;
    ///
    /// assert_eq!(SamplingPriority::parse("2").map(SamplingPriority::get), Ok(2));
    /// assert!(SamplingPriority::parse("+2").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let value = codec::parse_i32_dec(s.as_bytes(), Field::SamplingPriority)?;
        Ok(SamplingPriority(value))
    }

    /// Appends the decimal value to `out`, without going through `core::fmt`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut out = String::new();
    /// usertrail_propagator::SamplingPriority::USER_REJECT.write_to(&mut out);
    /// assert_eq!(out, "-1");
    /// ```
    #[inline]
    pub fn write_to(&self, out: &mut String) {
        codec::push_i32_dec(out, self.0);
    }
}

impl fmt::Display for SamplingPriority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write_to(&mut s);
        f.write_str(&s)
    }
}

impl FromStr for SamplingPriority {
    type Err = ParseError;
    #[inline]
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for SamplingPriority {
    type Error = ParseError;
    #[inline]
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}
