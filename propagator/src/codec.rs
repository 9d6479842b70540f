//! Hand-written hex, decimal and percent codecs.
//!
//! These are written out by hand on purpose: the browser SDK downloads this code, and
//! `u128::from_str_radix`, `format!("{:032x}")` and friends pull in `core::fmt` and generic
//! integer-parsing machinery that cost kilobytes of wasm. Everything here is a small loop over
//! bytes that cannot panic on any input (slice accesses are bounds-checked by construction, and
//! every caller passes fixed widths).

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{ErrorKind, Field};

const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Appends ASCII bytes to `out`. Never fails for ASCII, which is all this crate writes.
#[inline]
pub(crate) fn push_ascii(out: &mut String, bytes: &[u8]) {
    if let Ok(s) = core::str::from_utf8(bytes) {
        out.push_str(s);
    }
}

/// Trims OWS (RFC 7230 §3.2.3: SP / HTAB) on both sides.
#[inline]
pub(crate) fn trim_ows(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
}

/// Parses lower-case hex digits (at most 32) into an integer. Upper-case is reported apart,
/// since the W3C formats forbid it explicitly.
pub(crate) fn parse_hex(s: &[u8], field: Field) -> Result<u128, ErrorKind> {
    let mut value: u128 = 0;
    for &b in s {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => return Err(ErrorKind::UpperHex(field)),
            _ => return Err(ErrorKind::NotHex(field)),
        };
        value = (value << 4) | u128::from(digit);
    }
    Ok(value)
}

/// Parses exactly `len` lower-case hex digits.
#[inline]
pub(crate) fn parse_hex_exact(s: &[u8], len: usize, field: Field) -> Result<u128, ErrorKind> {
    if s.len() != len {
        return Err(ErrorKind::Length(field));
    }
    parse_hex(s, field)
}

/// Writes the low `digits` nibbles of `value` as lower-case hex, zero-padded (`digits` ≤ 32).
pub(crate) fn push_hex(out: &mut String, value: u128, digits: usize) {
    let mut buf = [0u8; 32];
    let digits = digits.min(32);
    let mut v = value;
    for slot in buf[..digits].iter_mut().rev() {
        *slot = HEX_LOWER[(v & 0xf) as usize];
        v >>= 4;
    }
    push_ascii(out, &buf[..digits]);
}

/// Parses an unsigned decimal `u64` (digits only, no sign, no spaces).
pub(crate) fn parse_u64_dec(s: &[u8], field: Field) -> Result<u64, ErrorKind> {
    if s.is_empty() {
        return Err(ErrorKind::Missing(field));
    }
    let mut value: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return Err(ErrorKind::NotDecimal(field));
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(ErrorKind::Overflow(field))?;
    }
    Ok(value)
}

/// Parses a decimal `i32` with an optional leading `-`.
pub(crate) fn parse_i32_dec(s: &[u8], field: Field) -> Result<i32, ErrorKind> {
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(ErrorKind::NotDecimal(field));
    }
    let magnitude = parse_u64_dec(digits, field)?;
    let value = if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    };
    value
        .and_then(|v| i32::try_from(v).ok())
        .ok_or(ErrorKind::Overflow(field))
}

/// Writes a `u64` in decimal.
pub(crate) fn push_u64_dec(out: &mut String, value: u64) {
    let mut buf = [0u8; 20];
    let mut start = buf.len();
    let mut v = value;
    loop {
        start -= 1;
        buf[start] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    push_ascii(out, &buf[start..]);
}

/// Writes an `i32` in decimal.
pub(crate) fn push_i32_dec(out: &mut String, value: i32) {
    if value < 0 {
        out.push('-');
    }
    push_u64_dec(out, u64::from(value.unsigned_abs()));
}

/// `baggage-octet` of W3C Baggage §Definition: US-ASCII without CTLs, whitespace, DQUOTE,
/// comma, semicolon and backslash.
#[inline]
pub(crate) fn is_baggage_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e)
}

/// `tchar` of RFC 7230 §3.2.6 (baggage keys are tokens).
#[inline]
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// Is `s` a non-empty RFC 7230 token?
#[inline]
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

#[inline]
fn hex_any_case(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The byte encoded by `%XY` at `s[i..i + 3]`, if that is a valid escape.
#[inline]
fn escape_at(s: &[u8], i: usize) -> Option<u8> {
    match s.get(i..i + 3) {
        Some([b'%', hi, lo]) => Some(hex_any_case(*hi)? << 4 | hex_any_case(*lo)?),
        _ => None,
    }
}

/// Percent-decodes a baggage value (W3C Baggage §value).
///
/// Borrows when there is no valid `%XY` escape. A `%` not followed by two hex digits is kept
/// literally (it is a `baggage-octet`, so the member is valid per the ABNF). Octet sequences
/// that are not UTF-8 become U+FFFD, as the spec requires.
pub(crate) fn percent_decode(raw: &str) -> Cow<'_, str> {
    let bytes = raw.as_bytes();
    let Some(first) = (0..bytes.len()).find(|&i| escape_at(bytes, i).is_some()) else {
        return Cow::Borrowed(raw);
    };
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..first]);
    let mut i = first;
    while i < bytes.len() {
        if let Some(b) = escape_at(bytes, i) {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Cow::Owned(match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Should this byte be percent-encoded in a baggage value? Everything outside baggage-octet,
/// and `%` itself (W3C Baggage §value).
#[inline]
fn needs_escape(b: u8) -> bool {
    !is_baggage_octet(b) || b == b'%'
}

/// Percent-encodes `value` into `out` (upper-case hex, as RFC 3986 §2.1 recommends).
pub(crate) fn percent_encode_into(value: &str, out: &mut String) {
    let bytes = value.as_bytes();
    let mut run_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if needs_escape(b) {
            // `run_start..i` holds only ASCII baggage-octets: always a char boundary.
            if let Some(run) = value.get(run_start..i) {
                out.push_str(run);
            }
            push_ascii(
                out,
                &[
                    b'%',
                    HEX_UPPER[usize::from(b >> 4)],
                    HEX_UPPER[usize::from(b & 0xf)],
                ],
            );
            run_start = i + 1;
        }
    }
    if let Some(run) = value.get(run_start..) {
        out.push_str(run);
    }
}

/// The length `percent_encode_into` would produce.
pub(crate) fn percent_encoded_len(value: &str) -> usize {
    value
        .bytes()
        .map(|b| if needs_escape(b) { 3 } else { 1 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let mut s = String::new();
        push_hex(&mut s, 0x00f0_67aa_0ba9_02b7, 16);
        assert_eq!(s, "00f067aa0ba902b7");
        assert_eq!(
            parse_hex(s.as_bytes(), Field::SpanId),
            Ok(0x00f0_67aa_0ba9_02b7)
        );
        assert_eq!(
            parse_hex(b"00F0", Field::SpanId),
            Err(ErrorKind::UpperHex(Field::SpanId))
        );
        assert_eq!(
            parse_hex(b"00g0", Field::SpanId),
            Err(ErrorKind::NotHex(Field::SpanId))
        );
    }

    #[test]
    fn decimal() {
        let mut s = String::new();
        push_u64_dec(&mut s, u64::MAX);
        assert_eq!(s, "18446744073709551615");
        assert_eq!(parse_u64_dec(s.as_bytes(), Field::TraceId), Ok(u64::MAX));
        assert_eq!(
            parse_u64_dec(b"18446744073709551616", Field::TraceId),
            Err(ErrorKind::Overflow(Field::TraceId))
        );
        assert!(parse_u64_dec(b"+1", Field::TraceId).is_err());
        assert!(parse_u64_dec(b"", Field::TraceId).is_err());
        for v in [i32::MIN, -1, 0, 1, 2, i32::MAX] {
            let mut s = String::new();
            push_i32_dec(&mut s, v);
            assert_eq!(parse_i32_dec(s.as_bytes(), Field::SamplingPriority), Ok(v));
        }
        assert!(parse_i32_dec(b"-", Field::SamplingPriority).is_err());
        assert!(parse_i32_dec(b"2147483648", Field::SamplingPriority).is_err());
    }

    #[test]
    fn percent() {
        assert!(matches!(percent_decode("abc"), Cow::Borrowed("abc")));
        assert!(matches!(percent_decode("100%"), Cow::Borrowed("100%")));
        assert_eq!(percent_decode("DF%2028"), "DF 28");
        assert_eq!(percent_decode("%e2%82%ac%zz%"), "€%zz%");
        assert_eq!(percent_decode("a%FFb"), "a\u{FFFD}b");
        let mut s = String::new();
        percent_encode_into("a b,c;d\\e\"f%g€", &mut s);
        assert_eq!(s, "a%20b%2Cc%3Bd%5Ce%22f%25g%E2%82%AC");
        assert_eq!(percent_encoded_len("a b,c;d\\e\"f%g€"), s.len());
        assert_eq!(percent_decode(&s), "a b,c;d\\e\"f%g€");
    }
}
