//! Hand-written hex, decimal and percent codecs, and splitting and trimming at ASCII bytes.
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

/// Appends ASCII bytes to `out`, which is all this crate writes; any other byte is skipped.
///
/// Outside WebAssembly, all-ASCII bytes (the usual case) go in with one `push_str`: a word-at-a-
/// time ASCII check and one copy, where pushing byte by byte costs a capacity check per byte
/// (most of a `traceparent`'s formatting). In WebAssembly, byte by byte rather than through
/// `core::str::from_utf8`, whose validator costs more code in the browser SDK than all of this
/// crate's writers together.
#[inline]
pub(crate) fn push_ascii(out: &mut String, bytes: &[u8]) {
    #[cfg(not(target_family = "wasm"))]
    if bytes.is_ascii() {
        if let Ok(text) = core::str::from_utf8(bytes) {
            out.push_str(text);
            return;
        }
    }
    for &b in bytes {
        if b.is_ascii() {
            out.push(char::from(b));
        }
    }
}

/// Trims OWS (RFC 7230 §3.2.3: SP / HTAB) on both sides.
///
/// Byte loops rather than `str::trim_matches`, whose char-pattern machinery costs several
/// times more on the short pieces headers are made of.
#[inline]
pub(crate) fn trim_ows(s: &str) -> &str {
    let b = s.as_bytes();
    let is_ows = |c: &u8| matches!(c, b' ' | b'\t');
    let start = b.iter().position(|c| !is_ows(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !is_ows(c)).map_or(start, |i| i + 1);
    // Cut next to ASCII bytes: always char boundaries, so `get` never fails (and no index
    // can panic: no panic message, with its `core::fmt`, in the wasm).
    s.get(start..end).unwrap_or_default()
}

/// [`trim_ows`] of bytes.
#[inline]
pub(crate) fn trim_ows_bytes(b: &[u8]) -> &[u8] {
    let is_ows = |c: &u8| matches!(c, b' ' | b'\t');
    let start = b.iter().position(|c| !is_ows(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !is_ows(c)).map_or(start, |i| i + 1);
    b.get(start..end).unwrap_or_default()
}

/// `s.split_once(sep)` for an ASCII `sep`, as a plain byte loop: `str::split_once` goes
/// through `CharSearcher` and `memchr`, whose set-up costs more than the search on pieces of
/// a few dozen bytes.
#[inline]
pub(crate) fn split_once_byte(s: &str, sep: u8) -> Option<(&str, &str)> {
    debug_assert!(sep.is_ascii());
    let i = s.bytes().position(|b| b == sep)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// `s.split(sep)` for an ASCII `sep` (same pieces, same order), built on [`split_once_byte`].
#[inline]
pub(crate) fn split_byte(s: &str, sep: u8) -> SplitByte<'_> {
    SplitByte { rest: Some(s), sep }
}

/// Iterator of [`split_byte`].
#[derive(Clone, Debug)]
pub(crate) struct SplitByte<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for SplitByte<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match split_once_byte(rest, self.sep) {
            Some((piece, tail)) => {
                self.rest = Some(tail);
                Some(piece)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// Parses lower-case hex digits (at most 32) into an integer. Upper-case is reported apart,
/// since the W3C formats forbid it explicitly.
pub(crate) fn parse_hex(s: &[u8], field: Field) -> Result<u128, ErrorKind> {
    // Ids are 16 or 32 digits: eight at a time, falling back to the loop below (which names
    // the problem) if a chunk is not lower-case hex.
    if !s.is_empty() && s.len() % 8 == 0 {
        let mut value: u128 = 0;
        let mut all_hex = true;
        for chunk in s.chunks_exact(8) {
            match <[u8; 8]>::try_from(chunk)
                .ok()
                .and_then(|c| hex8(u64::from_be_bytes(c)))
            {
                Some(digits) => value = (value << 32) | u128::from(digits),
                None => {
                    all_hex = false;
                    break;
                }
            }
        }
        if all_hex {
            return Ok(value);
        }
    }
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

/// Eight lower-case hex digits (the bytes of `word`, first digit in the high byte) as a 32-bit
/// value, or `None` if a byte is not `0-9a-f`. Checks and converts all eight bytes at once
/// (SWAR), about three times fewer instructions than a loop over bytes.
#[inline]
fn hex8(word: u64) -> Option<u32> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    if word & HIGH != 0 {
        return None;
    }
    // Every byte is below 0x80, so adding at most 0x7f to each cannot carry into the next;
    // the high bit of each byte then tells whether it reached the bound.
    let ge_0 = word + ONES * u64::from(0x80 - b'0');
    let gt_9 = word + ONES * u64::from(0x7f - b'9');
    let ge_a = word + ONES * u64::from(0x80 - b'a');
    let gt_f = word + ONES * u64::from(0x7f - b'f');
    let digit = ge_0 & !gt_9 & HIGH;
    let letter = ge_a & !gt_f & HIGH;
    if digit | letter != HIGH {
        return None;
    }
    // `0`-`9` & 0xf is 0-9; `a`-`f` & 0xf is 1-6, plus 9.
    let nibbles = (word & (ONES * 0x0f)) + (letter >> 7) * 9;
    // Pack the eight nibbles, one per byte, into 32 bits.
    let v = (nibbles | (nibbles >> 4)) & 0x00ff_00ff_00ff_00ff;
    let v = (v | (v >> 8)) & 0x0000_ffff_0000_ffff;
    let v = (v | (v >> 16)) & 0x0000_0000_ffff_ffff;
    Some(v as u32)
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
    let buf = buf.get_mut(..digits).unwrap_or_default();
    fill_hex(buf, value);
    push_ascii(out, buf);
}

/// Fills `out` with the low `out.len()` nibbles of `value` as lower-case hex, zero-padded
/// (`out.len()` ≤ 32): for writers that lay out a whole header value on the stack and push it
/// once.
pub(crate) fn fill_hex(out: &mut [u8], value: u128) {
    let mut v = value;
    let mut end = out.len();
    // Ids (16 and 32 digits): eight at a time, from the right.
    while end >= 8 {
        if let Some(slot) = out.get_mut(end - 8..end) {
            slot.copy_from_slice(&hex8_encode(v as u32));
        }
        v >>= 32;
        end -= 8;
    }
    // `get` rather than indexing, here and below: no panic path (and its `core::fmt`
    // message) on the browser's inject path.
    for slot in out.get_mut(..end).unwrap_or_default().iter_mut().rev() {
        *slot = HEX_LOWER[(v & 0xf) as usize];
        v >>= 4;
    }
}

/// The eight lower-case hex digits of `x`, most significant first (SWAR: all at once).
#[inline]
fn hex8_encode(x: u32) -> [u8; 8] {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Spread the nibbles one per byte, the first digit in the high byte.
    let v = u64::from(x);
    let v = (v | (v << 16)) & 0x0000_ffff_0000_ffff;
    let v = (v | (v << 8)) & 0x00ff_00ff_00ff_00ff;
    let v = (v | (v << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    // 1 in each byte holding 10-15 (n + 6 reaches 16), which then gets `a` - `0` - 10 more.
    let letters = ((v + ONES * 6) >> 4) & ONES;
    (v + ONES * u64::from(b'0') + letters * u64::from(b'a' - b'0' - 10)).to_be_bytes()
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
    // At most 20 digits: `start` never goes below 0.
    while let Some(slot) = start.checked_sub(1).and_then(|i| buf.get_mut(i)) {
        *slot = b'0' + (v % 10) as u8;
        start -= 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    push_ascii(out, buf.get(start..).unwrap_or_default());
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
const fn baggage_octet_rule(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e)
}

/// `tchar` of RFC 7230 §3.2.6 (baggage keys are tokens).
const fn tchar_rule(b: u8) -> bool {
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

const TCHAR: u8 = 1;
const BAGGAGE_OCTET: u8 = 2;
/// `baggage-octet` but not `%`.
const PLAIN_BAGGAGE_OCTET: u8 = 4;

/// The two classes above for every byte, computed at compile time: one load per byte in the
/// baggage scanner instead of a chain of range compares.
static BYTE_CLASS: [u8; 256] = {
    let mut table = [0; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        if tchar_rule(b) {
            table[i] |= TCHAR;
        }
        if baggage_octet_rule(b) {
            table[i] |= BAGGAGE_OCTET;
            if b != b'%' {
                table[i] |= PLAIN_BAGGAGE_OCTET;
            }
        }
        i += 1;
    }
    table
};

/// `baggage-octet` of W3C Baggage §Definition: US-ASCII without CTLs, whitespace, DQUOTE,
/// comma, semicolon and backslash.
#[inline]
pub(crate) fn is_baggage_octet(b: u8) -> bool {
    BYTE_CLASS[usize::from(b)] & BAGGAGE_OCTET != 0
}

/// A `baggage-octet` other than `%`: what a value that needs no percent-decoding is made of.
#[inline]
pub(crate) fn is_plain_baggage_octet(b: u8) -> bool {
    BYTE_CLASS[usize::from(b)] & PLAIN_BAGGAGE_OCTET != 0
}

/// `tchar` of RFC 7230 §3.2.6 (baggage keys are tokens).
#[inline]
pub(crate) fn is_tchar(b: u8) -> bool {
    BYTE_CLASS[usize::from(b)] & TCHAR != 0
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
    // Most values hold no `%` at all: one cheap scan for them.
    if !bytes.contains(&b'%') {
        return Cow::Borrowed(raw);
    }
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
    fn hex8_encode_agrees_with_the_byte_loop() {
        let mut x: u32 = 0x1234_5678;
        for _ in 0..100_000 {
            // xorshift32
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let slow: Vec<u8> = (0..8)
                .rev()
                .map(|i| HEX_LOWER[(x >> (4 * i)) as usize & 0xf])
                .collect();
            assert_eq!(hex8_encode(x).as_slice(), slow.as_slice(), "{x:#x}");
        }
        for x in [0, u32::MAX, 0x0123_4567, 0x89ab_cdef, 0xa0b0_c0d0] {
            let mut s = String::new();
            push_hex(&mut s, u128::from(x), 8);
            assert_eq!(s, alloc::format!("{x:08x}"));
        }
        let mut s = String::new();
        push_hex(&mut s, u128::MAX - 1, 32);
        push_hex(&mut s, 0xabc, 3);
        push_hex(&mut s, 0xfedc_ba98_7654_3210, 16);
        assert_eq!(s, "fffffffffffffffffffffffffffffffeabcfedcba9876543210");
    }

    #[test]
    fn hex8_agrees_with_the_byte_loop() {
        // Every byte value in every position, next to valid digits.
        for position in 0..8 {
            for b in 0..=255u8 {
                let mut digits = *b"0f9a1b2c";
                digits[position] = b;
                let slow = digits.iter().try_fold(0u32, |v, &d| match d {
                    b'0'..=b'9' => Some(v << 4 | u32::from(d - b'0')),
                    b'a'..=b'f' => Some(v << 4 | u32::from(d - b'a' + 10)),
                    _ => None,
                });
                assert_eq!(hex8(u64::from_be_bytes(digits)), slow, "{digits:?}");
            }
        }
        assert_eq!(
            parse_hex(b"4bf92f3577b34da6a3ce929d0e0e4736", Field::TraceId),
            Ok(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736)
        );
        assert_eq!(
            parse_hex(b"4bf92f3577b34da6a3ce929d0e0e473G", Field::TraceId),
            Err(ErrorKind::NotHex(Field::TraceId))
        );
        assert_eq!(
            parse_hex(b"4Bf92f3577b34da6", Field::SpanId),
            Err(ErrorKind::UpperHex(Field::SpanId))
        );
    }

    #[test]
    fn byte_classes() {
        for b in 0..=255u8 {
            assert_eq!(is_tchar(b), tchar_rule(b), "{b}");
            assert_eq!(is_baggage_octet(b), baggage_octet_rule(b), "{b}");
        }
        let tchars = (0..=255u8).filter(|&b| is_tchar(b)).count();
        assert_eq!(tchars, 26 * 2 + 10 + 15);
        assert!(!is_baggage_octet(b',') && !is_baggage_octet(b';') && !is_baggage_octet(b' '));
        assert!(is_baggage_octet(b'%') && is_baggage_octet(b'='));
    }

    #[test]
    fn byte_splitting_matches_str() {
        for s in ["", ",", "a", "a,b", ",a,,b,", "é,ü=,", " a , b "] {
            assert_eq!(
                split_byte(s, b',').collect::<Vec<_>>(),
                s.split(',').collect::<Vec<_>>()
            );
            assert_eq!(split_once_byte(s, b','), s.split_once(','));
            assert_eq!(trim_ows(s), s.trim_matches([' ', '\t']));
        }
        assert_eq!(trim_ows(" \t\t "), "");
        assert_eq!(trim_ows("\t a b\t"), "a b");
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
