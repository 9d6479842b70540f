//! `traceparent` (W3C Trace Context Level 2 §3.2).

use alloc::string::String;
use core::fmt;
use core::str::FromStr;

use crate::codec;
use crate::error::{ErrorKind, Field, ParseError};
use crate::ids::{self, SpanId, TraceFlags, TraceId};

/// The version this crate writes (Level 2 §3.2.4: "construct the new `traceparent` field
/// according to the highest version of the specification known to the implementation").
const VERSION_00: u8 = 0x00;

/// A W3C `traceparent` header value: `version-trace_id-parent_id-trace_flags`.
///
/// Parsing follows Trace Context Level 2 §3.2: lower-case hex only, version `ff` invalid,
/// all-zero ids invalid, version `00` exactly 55 characters. A higher version is parsed by the
/// version-00 layout when the flags are followed by the end or a `-` (§3.2.4 "Versioning of
/// traceparent"); its unknown trailing fields are ignored and its unknown flag bits dropped.
/// Leading and trailing OWS is ignored.
///
/// Writing always produces version `00`, so `parse` then [`write_to`](Self::write_to) is exact
/// for version `00` input. Flags of version `00` are kept as received, all 8 bits.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::Traceparent;
///
/// let tp: Traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse()?;
/// assert!(tp.flags().is_sampled());
/// assert_eq!(tp.parent_id().to_string(), "00f067aa0ba902b7");
/// assert_eq!(tp.to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
///
/// // A future version is read by the 00 layout and written back as 00.
/// let future = Traceparent::parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds")?;
/// assert_eq!(future.version(), 0xcc);
/// assert_eq!(future.to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
///
/// assert!(Traceparent::parse("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_err());
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Traceparent {
    version: u8,
    trace_id: TraceId,
    parent_id: SpanId,
    flags: TraceFlags,
}

/// Splits `s` at the next `-`, looking at no more than `max + 1` bytes: a field longer than
/// `max` is reported as wrong length without scanning a multi-megabyte input.
fn field(s: &[u8], max: usize) -> (&[u8], Option<&[u8]>) {
    let window = &s[..s.len().min(max + 1)];
    match window.iter().position(|&b| b == b'-') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (window, None),
    }
}

impl Traceparent {
    /// A version-00 `traceparent`.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{SpanId, TraceFlags, TraceId, Traceparent};
    ///
    /// let tp = Traceparent::new(TraceId::new(1).unwrap(), SpanId::new(2).unwrap(), TraceFlags::SAMPLED);
    /// assert_eq!(tp.to_string(), "00-00000000000000000000000000000001-0000000000000002-01");
    /// assert!(Traceparent::parse("00-00000000000000000000000000000000-0000000000000002-01").is_err());
    /// ```
    #[inline]
    pub const fn new(trace_id: TraceId, parent_id: SpanId, flags: TraceFlags) -> Self {
        Traceparent {
            version: VERSION_00,
            trace_id,
            parent_id,
            flags,
        }
    }

    /// Parses a `traceparent` value.
    ///
    /// # Errors
    ///
    /// Any deviation from Level 2 §3.2 (see the type docs); the message names the field, e.g.
    /// `upper-case hex in trace-id`.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::Traceparent;
    ///
    /// assert!(Traceparent::parse(" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\t").is_ok());
    /// let err = Traceparent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra").unwrap_err();
    /// assert_eq!(err.to_string(), "version 00 has data after trace-flags");
    /// ```
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::parse_ascii(s.as_bytes())
    }

    /// [`parse`](Self::parse) of the bytes of a value, which need not be UTF-8: only ASCII
    /// is ever accepted.
    pub(crate) fn parse_ascii(s: &[u8]) -> Result<Self, ParseError> {
        Self::parse_bytes(codec::trim_ows_bytes(s)).map_err(ParseError::new)
    }

    fn parse_bytes(s: &[u8]) -> Result<Self, ErrorKind> {
        if let Some(tp) = Self::parse_version_00(s) {
            return Ok(tp);
        }
        if s.is_empty() {
            return Err(ErrorKind::Empty);
        }
        let (version, rest) = field(s, 2);
        let version = codec::parse_hex_exact(version, 2, Field::Version)? as u8;
        if version == 0xff {
            return Err(ErrorKind::VersionFf);
        }
        let rest = rest.ok_or(ErrorKind::Missing(Field::TraceId))?;
        let (trace_id, rest) = field(rest, 32);
        let trace_id = codec::parse_hex_exact(trace_id, 32, Field::TraceId)?;
        let trace_id = TraceId::new(trace_id).ok_or(ErrorKind::Zero(Field::TraceId))?;
        let rest = rest.ok_or(ErrorKind::Missing(Field::ParentId))?;
        let (parent_id, rest) = field(rest, 16);
        let parent_id = ids::parse_span_id(parent_id, Field::ParentId)?;
        let rest = rest.ok_or(ErrorKind::Missing(Field::Flags))?;
        let (flags, tail) = field(rest, 2);
        let flags = TraceFlags::new(codec::parse_hex_exact(flags, 2, Field::Flags)? as u8);
        let flags = match (version, tail) {
            (VERSION_00, None) => flags,
            (VERSION_00, Some(_)) => return Err(ErrorKind::TrailingData),
            // A higher version: "MUST NOT parse or assume anything about unknown fields", and
            // only the flags this version defines are parsed.
            (_, _) => flags.known(),
        };
        Ok(Traceparent {
            version,
            trace_id,
            parent_id,
            flags,
        })
    }

    /// The common case in one go: a valid version-00 value is exactly 55 bytes with its dashes
    /// at fixed places. `None` sends everything else to the field-by-field parser, which
    /// accepts the same values and names the problem with the others.
    fn parse_version_00(s: &[u8]) -> Option<Self> {
        let s: &[u8; 55] = s.try_into().ok()?;
        if s[..3] != *b"00-" || s[35] != b'-' || s[52] != b'-' {
            return None;
        }
        let trace_id = codec::parse_hex(&s[3..35], Field::TraceId).ok()?;
        let parent_id = codec::parse_hex(&s[36..52], Field::ParentId).ok()?;
        let flags = codec::parse_hex(&s[53..], Field::Flags).ok()?;
        Some(Traceparent {
            version: VERSION_00,
            trace_id: TraceId::new(trace_id)?,
            parent_id: SpanId::new(parent_id as u64)?,
            flags: TraceFlags::new(flags as u8),
        })
    }

    /// The version received (`0` for values built with [`new`](Self::new)).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::Traceparent;
    ///
    /// let tp = Traceparent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")?;
    /// assert_eq!(tp.version(), 1);
    /// assert!(Traceparent::parse("0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_err());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub const fn version(&self) -> u8 {
        self.version
    }

    /// The trace id.
    ///
    /// # Examples
    ///
    /// ```
    /// let tp = usertrail_propagator::Traceparent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")?;
    /// assert_eq!(tp.trace_id().high(), 0x4bf92f3577b34da6);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub const fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The parent id: the caller's span id.
    ///
    /// # Examples
    ///
    /// ```
    /// let tp = usertrail_propagator::Traceparent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")?;
    /// assert_eq!(tp.parent_id().to_u64(), 0x00f067aa0ba902b7);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub const fn parent_id(&self) -> SpanId {
        self.parent_id
    }

    /// The trace flags.
    ///
    /// # Examples
    ///
    /// ```
    /// let tp = usertrail_propagator::Traceparent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02")?;
    /// assert!(tp.flags().is_random() && !tp.flags().is_sampled());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub const fn flags(&self) -> TraceFlags {
        self.flags
    }

    /// Appends the version-00 header value to `out`, without going through `core::fmt`.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{SpanId, TraceFlags, TraceId, Traceparent};
    ///
    /// let mut out = String::new();
    /// Traceparent::new(TraceId::new(0xab).unwrap(), SpanId::new(0xcd).unwrap(), TraceFlags::NONE).write_to(&mut out);
    /// assert_eq!(out, "00-000000000000000000000000000000ab-00000000000000cd-00");
    /// ```
    pub fn write_to(&self, out: &mut String) {
        // Laid out on the stack and pushed once: one copy, rather than a capacity check per
        // piece.
        codec::push_ascii(out, &self.header_bytes());
    }

    /// The version-00 header value's bytes.
    pub(crate) fn header_bytes(&self) -> [u8; 55] {
        let mut buf = *b"00-00000000000000000000000000000000-0000000000000000-00";
        let pieces = [
            (3..35, self.trace_id.to_u128()),
            (36..52, u128::from(self.parent_id.to_u64())),
            (53..55, u128::from(self.flags.bits())),
        ];
        for (range, value) in pieces {
            if let Some(digits) = buf.get_mut(range) {
                codec::fill_hex(digits, value);
            }
        }
        buf
    }

    /// The version-00 header value as a new string (55 characters).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{SpanId, TraceFlags, TraceId, Traceparent};
    ///
    /// let tp = Traceparent::new(TraceId::new(1).unwrap(), SpanId::new(1).unwrap(), TraceFlags::SAMPLED);
    /// assert_eq!(tp.to_header_value().len(), 55);
    /// ```
    pub fn to_header_value(&self) -> String {
        let mut out = String::with_capacity(55);
        self.write_to(&mut out);
        out
    }
}

impl fmt::Display for Traceparent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_header_value())
    }
}

impl FromStr for Traceparent {
    type Err = ParseError;
    #[inline]
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for Traceparent {
    type Error = ParseError;
    #[inline]
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn messages_name_the_field() {
        let cases = [
            ("", "empty value"),
            ("0", "version has the wrong length"),
            ("000-", "version has the wrong length"),
            ("00", "trace-id is missing"),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e47",
                "trace-id has the wrong length",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736",
                "parent-id is missing",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                "trace-flags is missing",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
                "trace-flags has the wrong length",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                "parent-id is all zeros",
            ),
        ];
        for (input, message) in cases {
            assert_eq!(
                Traceparent::parse(input).unwrap_err().to_string(),
                message,
                "{input}"
            );
        }
    }

    #[test]
    fn huge_input_is_rejected_without_scanning_it() {
        let mut s = "00-".to_string();
        s.push_str(&"a".repeat(1 << 20));
        assert_eq!(
            Traceparent::parse(&s).unwrap_err().to_string(),
            "trace-id has the wrong length"
        );
    }
}
