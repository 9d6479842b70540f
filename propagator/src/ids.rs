//! Trace and span identifiers, and the W3C trace-flags byte.
//!
//! Ids are non-zero by construction (every format this crate speaks forbids all-zero ids), so
//! `Option<TraceId>` costs no extra space. Random generation is not here: the core has no RNG
//! dependency. Callers fill ids from their own source, e.g. `crypto.getRandomValues` in the
//! browser via [`TraceId::from_bytes`].

use alloc::string::String;
use core::fmt;
use core::num::{NonZeroU64, NonZeroU128};
use core::str::FromStr;

use crate::codec;
use crate::error::{ErrorKind, Field, ParseError};

/// A 128-bit trace id, never zero.
///
/// Written as 32 lower-case hex digits (W3C Trace Context §trace-id). Datadog carries the low
/// 64 bits in `x-datadog-trace-id` and the high 64 bits in the `_dd.p.tid` tag; see
/// [`from_u64_pair`](Self::from_u64_pair), [`high`](Self::high) and [`low`](Self::low).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::TraceId;
///
/// let id: TraceId = "4bf92f3577b34da6a3ce929d0e0e4736".parse()?;
/// assert_eq!(id.to_u128(), 0x4bf92f3577b34da6a3ce929d0e0e4736);
/// assert_eq!(id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert!("00000000000000000000000000000000".parse::<TraceId>().is_err());
/// assert!("4BF92F3577B34DA6A3CE929D0E0E4736".parse::<TraceId>().is_err());
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TraceId(NonZeroU128);

impl TraceId {
    /// A trace id from its integer value; `None` for zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::TraceId;
    ///
    /// assert_eq!(TraceId::new(42).map(TraceId::to_u128), Some(42));
    /// assert_eq!(TraceId::new(0), None);
    /// ```
    #[inline]
    pub const fn new(value: u128) -> Option<Self> {
        match NonZeroU128::new(value) {
            Some(v) => Some(TraceId(v)),
            None => None,
        }
    }

    /// A trace id from 16 big-endian bytes (e.g. from `crypto.getRandomValues`); `None` if all
    /// bytes are zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::TraceId;
    ///
    /// let id = TraceId::from_bytes([0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36]).unwrap();
    /// assert_eq!(id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    /// assert_eq!(TraceId::from_bytes([0; 16]), None);
    /// ```
    #[inline]
    pub const fn from_bytes(bytes: [u8; 16]) -> Option<Self> {
        Self::new(u128::from_be_bytes(bytes))
    }

    /// A trace id from its high and low 64 bits; `None` if both are zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::TraceId;
    ///
    /// let id = TraceId::from_u64_pair(0, 992357060732163540).unwrap();
    /// assert_eq!(id.to_string(), "00000000000000000dc58f7d2f4a95d4");
    /// assert_eq!(TraceId::from_u64_pair(0, 0), None);
    /// ```
    #[inline]
    pub const fn from_u64_pair(high: u64, low: u64) -> Option<Self> {
        Self::new(((high as u128) << 64) | low as u128)
    }

    /// The integer value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::TraceId::new(7).unwrap().to_u128(), 7);
    /// ```
    #[inline]
    pub const fn to_u128(self) -> u128 {
        self.0.get()
    }

    /// The 16 big-endian bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let id = usertrail_propagator::TraceId::new(1).unwrap();
    /// assert_eq!(id.to_bytes()[15], 1);
    /// assert_eq!(id.to_bytes()[..15], [0; 15]);
    /// ```
    #[inline]
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0.get().to_be_bytes()
    }

    /// The high 64 bits (Datadog's `_dd.p.tid`; zero for a 64-bit id).
    ///
    /// # Examples
    ///
    /// ```
    /// let id = usertrail_propagator::TraceId::from_u64_pair(0x6630_5cd5_0000_0000, 5).unwrap();
    /// assert_eq!(id.high(), 0x6630_5cd5_0000_0000);
    /// assert_eq!(id.low(), 5);
    /// ```
    #[inline]
    pub const fn high(self) -> u64 {
        (self.0.get() >> 64) as u64
    }

    /// The low 64 bits (Datadog's `x-datadog-trace-id`).
    ///
    /// # Examples
    ///
    /// ```
    /// let id = usertrail_propagator::TraceId::from_u64_pair(1, 0).unwrap();
    /// assert_eq!(id.low(), 0);
    /// assert_eq!(id.high(), 1);
    /// ```
    #[inline]
    pub const fn low(self) -> u64 {
        self.0.get() as u64
    }

    /// Parses exactly 32 lower-case hex digits that are not all zero.
    ///
    /// # Errors
    ///
    /// Wrong length, upper-case or non-hex digits, or all zeros.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::TraceId;
    ///
    /// assert!(TraceId::parse("4bf92f3577b34da6a3ce929d0e0e4736").is_ok());
    /// assert!(TraceId::parse("4bf92f3577b34da6").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let value = codec::parse_hex_exact(s.as_bytes(), 32, Field::TraceId)?;
        Self::new(value).ok_or(ParseError::new(ErrorKind::Zero(Field::TraceId)))
    }

    /// Appends the 32 lower-case hex digits to `out`, without going through `core::fmt`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut out = String::from("id=");
    /// usertrail_propagator::TraceId::new(0xab).unwrap().write_to(&mut out);
    /// assert_eq!(out, "id=000000000000000000000000000000ab");
    /// ```
    #[inline]
    pub fn write_to(&self, out: &mut String) {
        codec::push_hex(out, self.to_u128(), 32);
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(32);
        self.write_to(&mut s);
        f.write_str(&s)
    }
}

impl FromStr for TraceId {
    type Err = ParseError;
    #[inline]
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for TraceId {
    type Error = ParseError;
    #[inline]
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<TraceId> for u128 {
    #[inline]
    fn from(id: TraceId) -> u128 {
        id.to_u128()
    }
}

/// A 64-bit span id (W3C `parent-id`, Datadog `x-datadog-parent-id`, B3 span ids), never zero.
///
/// Written as 16 lower-case hex digits.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::SpanId;
///
/// let id: SpanId = "00f067aa0ba902b7".parse()?;
/// assert_eq!(id.to_u64(), 0x00f067aa0ba902b7);
/// assert_eq!(id.to_string(), "00f067aa0ba902b7");
/// assert!("0000000000000000".parse::<SpanId>().is_err());
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpanId(NonZeroU64);

impl SpanId {
    /// A span id from its integer value; `None` for zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::SpanId;
    ///
    /// assert_eq!(SpanId::new(42).map(SpanId::to_u64), Some(42));
    /// assert_eq!(SpanId::new(0), None);
    /// ```
    #[inline]
    pub const fn new(value: u64) -> Option<Self> {
        match NonZeroU64::new(value) {
            Some(v) => Some(SpanId(v)),
            None => None,
        }
    }

    /// A span id from 8 big-endian bytes; `None` if all are zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::SpanId;
    ///
    /// let id = SpanId::from_bytes([0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]).unwrap();
    /// assert_eq!(id.to_string(), "00f067aa0ba902b7");
    /// assert_eq!(SpanId::from_bytes([0; 8]), None);
    /// ```
    #[inline]
    pub const fn from_bytes(bytes: [u8; 8]) -> Option<Self> {
        Self::new(u64::from_be_bytes(bytes))
    }

    /// The integer value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::SpanId::new(9).unwrap().to_u64(), 9);
    /// ```
    #[inline]
    pub const fn to_u64(self) -> u64 {
        self.0.get()
    }

    /// The 8 big-endian bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::SpanId::new(1).unwrap().to_bytes(), [0, 0, 0, 0, 0, 0, 0, 1]);
    /// ```
    #[inline]
    pub const fn to_bytes(self) -> [u8; 8] {
        self.0.get().to_be_bytes()
    }

    /// Parses exactly 16 lower-case hex digits that are not all zero.
    ///
    /// # Errors
    ///
    /// Wrong length, upper-case or non-hex digits, or all zeros.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::SpanId;
    ///
    /// assert!(SpanId::parse("00f067aa0ba902b7").is_ok());
    /// assert!(SpanId::parse("00F067AA0BA902B7").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        parse_span_id(s.as_bytes(), Field::SpanId).map_err(ParseError::new)
    }

    /// Appends the 16 lower-case hex digits to `out`, without going through `core::fmt`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut out = String::new();
    /// usertrail_propagator::SpanId::new(0xab).unwrap().write_to(&mut out);
    /// assert_eq!(out, "00000000000000ab");
    /// ```
    #[inline]
    pub fn write_to(&self, out: &mut String) {
        codec::push_hex(out, u128::from(self.to_u64()), 16);
    }
}

/// 16 lower-case hex digits, not all zero, reported against `field`.
pub(crate) fn parse_span_id(s: &[u8], field: Field) -> Result<SpanId, ErrorKind> {
    let value = codec::parse_hex_exact(s, 16, field)? as u64;
    SpanId::new(value).ok_or(ErrorKind::Zero(field))
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(16);
        self.write_to(&mut s);
        f.write_str(&s)
    }
}

impl FromStr for SpanId {
    type Err = ParseError;
    #[inline]
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for SpanId {
    type Error = ParseError;
    #[inline]
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<SpanId> for u64 {
    #[inline]
    fn from(id: SpanId) -> u64 {
        id.to_u64()
    }
}

/// The W3C `trace-flags` byte (Trace Context Level 2 §trace-flags).
///
/// Two flags are defined: [`SAMPLED`](Self::SAMPLED) (`0x01`) and, new in Level 2,
/// [`RANDOM`](Self::RANDOM) (`0x02`, "at least the right-most 7 bytes of the trace-id are
/// random"). Other bits are kept as received by [`Traceparent`](crate::Traceparent) but
/// dropped ([`known`](Self::known)) when a span context is built or injected, since the spec
/// says vendors MUST set them to zero.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::TraceFlags;
///
/// let flags: TraceFlags = "03".parse()?;
/// assert!(flags.is_sampled() && flags.is_random());
/// assert_eq!(flags.with_sampled(false).to_string(), "02");
/// assert!("3".parse::<TraceFlags>().is_err());
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TraceFlags(u8);

impl TraceFlags {
    /// No flag set.
    pub const NONE: TraceFlags = TraceFlags(0);
    /// `sampled`: the caller may have recorded trace data.
    pub const SAMPLED: TraceFlags = TraceFlags(0x01);
    /// `random-trace-id` (Level 2): the right-most 7 bytes of the trace id are random.
    pub const RANDOM: TraceFlags = TraceFlags(0x02);

    /// Flags from the raw byte.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::TraceFlags;
    ///
    /// assert_eq!(TraceFlags::new(1), TraceFlags::SAMPLED);
    /// assert!(!TraceFlags::new(2).is_sampled());
    /// ```
    #[inline]
    pub const fn new(bits: u8) -> Self {
        TraceFlags(bits)
    }

    /// The raw byte.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::TraceFlags::RANDOM.bits(), 2);
    /// ```
    #[inline]
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Is the `sampled` bit set?
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::TraceFlags;
    ///
    /// assert!(TraceFlags::new(0x09).is_sampled());
    /// assert!(!TraceFlags::new(0x08).is_sampled());
    /// ```
    #[inline]
    pub const fn is_sampled(self) -> bool {
        self.0 & Self::SAMPLED.0 != 0
    }

    /// Is the Level 2 `random-trace-id` bit set?
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::TraceFlags;
    ///
    /// assert!(TraceFlags::new(0x03).is_random());
    /// assert!(!TraceFlags::SAMPLED.is_random());
    /// ```
    #[inline]
    pub const fn is_random(self) -> bool {
        self.0 & Self::RANDOM.0 != 0
    }

    /// These flags with `sampled` set or cleared.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::TraceFlags;
    ///
    /// assert_eq!(TraceFlags::RANDOM.with_sampled(true).bits(), 3);
    /// assert_eq!(TraceFlags::SAMPLED.with_sampled(false), TraceFlags::NONE);
    /// ```
    #[inline]
    pub const fn with_sampled(self, sampled: bool) -> Self {
        if sampled {
            TraceFlags(self.0 | Self::SAMPLED.0)
        } else {
            TraceFlags(self.0 & !Self::SAMPLED.0)
        }
    }

    /// These flags with `random-trace-id` set or cleared.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::TraceFlags;
    ///
    /// assert_eq!(TraceFlags::SAMPLED.with_random(true).bits(), 3);
    /// assert_eq!(TraceFlags::RANDOM.with_random(false), TraceFlags::NONE);
    /// ```
    #[inline]
    pub const fn with_random(self, random: bool) -> Self {
        if random {
            TraceFlags(self.0 | Self::RANDOM.0)
        } else {
            TraceFlags(self.0 & !Self::RANDOM.0)
        }
    }

    /// Only the flags Level 2 defines (`sampled`, `random-trace-id`); the others MUST be zero
    /// when sending.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::TraceFlags;
    ///
    /// assert_eq!(TraceFlags::new(0xff).known().bits(), 0x03);
    /// assert_eq!(TraceFlags::new(0x08).known(), TraceFlags::NONE);
    /// ```
    #[inline]
    pub const fn known(self) -> Self {
        TraceFlags(self.0 & (Self::SAMPLED.0 | Self::RANDOM.0))
    }

    /// Parses exactly two lower-case hex digits.
    ///
    /// # Errors
    ///
    /// Wrong length, upper-case or non-hex digits.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::TraceFlags;
    ///
    /// assert_eq!(TraceFlags::parse("ff").map(TraceFlags::bits), Ok(0xff));
    /// assert!(TraceFlags::parse("FF").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let bits = codec::parse_hex_exact(s.as_bytes(), 2, Field::Flags)?;
        Ok(TraceFlags(bits as u8))
    }

    /// Appends the two lower-case hex digits to `out`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut out = String::new();
    /// usertrail_propagator::TraceFlags::SAMPLED.write_to(&mut out);
    /// assert_eq!(out, "01");
    /// ```
    #[inline]
    pub fn write_to(&self, out: &mut String) {
        codec::push_hex(out, u128::from(self.0), 2);
    }
}

impl core::ops::BitOr for TraceFlags {
    type Output = TraceFlags;
    #[inline]
    fn bitor(self, rhs: TraceFlags) -> TraceFlags {
        TraceFlags(self.0 | rhs.0)
    }
}

impl fmt::Display for TraceFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(2);
        self.write_to(&mut s);
        f.write_str(&s)
    }
}

impl FromStr for TraceFlags {
    type Err = ParseError;
    #[inline]
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for TraceFlags {
    type Error = ParseError;
    #[inline]
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn trace_id_halves() {
        let id = TraceId::from_u64_pair(0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210).unwrap();
        assert_eq!(id.high(), 0x0123_4567_89ab_cdef);
        assert_eq!(id.low(), 0xfedc_ba98_7654_3210);
        assert_eq!(TraceId::from_bytes(id.to_bytes()), Some(id));
        assert_eq!(
            format!("{id:?}"),
            "TraceId(0123456789abcdeffedcba9876543210)"
        );
    }

    #[test]
    fn span_id_rejects() {
        assert!(SpanId::parse("").is_err());
        assert!(SpanId::parse("00f067aa0ba902b").is_err());
        assert!(SpanId::parse("00f067aa0ba902b77").is_err());
        assert!(SpanId::parse("00f067aa0ba902bx").is_err());
        assert_eq!(
            SpanId::parse("ffffffffffffffff").unwrap().to_u64(),
            u64::MAX
        );
    }
}
