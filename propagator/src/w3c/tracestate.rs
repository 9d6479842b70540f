//! `tracestate` (W3C Trace Context Level 2 §3.3, <https://www.w3.org/TR/trace-context-2/#tracestate-header>).
//!
//! Zero-allocation design: a parsed `Tracestate` is the validated header text itself
//! (`Cow::Borrowed` from the carrier when it came in one header line) plus a member count.
//! Members are found again by splitting on `,` when asked for; with at most 32 members of at
//! most 513 bytes each that is cheap, and it means parsing never builds a `Vec`. Mutation
//! (`insert`, `remove`) writes a new canonical string.

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt;

use crate::codec;
use crate::error::{ErrorKind, ParseError};

/// At most 32 list members (Level 2 §3.3.1.1 "list").
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{Tracestate, TRACESTATE_MAX_MEMBERS};
///
/// let fits: String = (0..TRACESTATE_MAX_MEMBERS).map(|i| format!("k{i}=v,")).collect();
/// assert!(Tracestate::parse(&fits).is_ok());
/// assert!(Tracestate::parse(&format!("{fits}one=more")).is_err());
/// ```
pub const TRACESTATE_MAX_MEMBERS: usize = 32;

/// Keys and values are at most 256 characters (Level 2 §3.3.2.2.1 "Key", §3.3.2.2.2 "Value").
const MAX_KEY_LEN: usize = 256;
const MAX_VALUE_LEN: usize = 256;

/// A validated W3C `tracestate`: up to 32 `key=value` members.
///
/// Parsing is strict, as the W3C test harness expects: one bad member (bad key, bad value,
/// missing `=`) or a 33rd member makes the whole header invalid. Empty and whitespace-only
/// members and OWS around members are allowed and skipped (§3.3.2.1 "list").
///
/// Keys follow Level 2 §3.3.2.2.1: `key = ( lcalpha / DIGIT ) 0*255 ( keychar )` with
/// `keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"`, so `@` may appear anywhere but
/// first, any number of times. Values: 1 to 256 printable ASCII characters (0x20–0x7e) except
/// `,` and `=`, not ending in a space; leading spaces belong to the value.
///
/// A key that appears twice is kept as received, in place: Level 2 §3.5 only forbids a
/// participant to *add* a duplicate ("Adding a key/value pair MUST NOT result in the same key
/// being present multiple times"), lets it keep or discard duplicates someone upstream added
/// (w3c/trace-context#477, #552), and asks it not to delete keys it did not generate.
/// [`get`](Self::get) returns the left-most value, the most recent position.
///
/// [`insert`](Self::insert) puts the key at the left, removing every older entry with that
/// key, and drops members from the right beyond 32 (§3.5 "Mutating the tracestate Field").
///
/// Writing produces the canonical form (members joined by `,`, no OWS).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::Tracestate;
///
/// let mut ts = Tracestate::parse("rojo=00f067aa0ba902b7, congo=t61rcWkgMzE")?;
/// assert_eq!(ts.get("congo"), Some("t61rcWkgMzE"));
/// ts.insert("congo", "ucfJifl5GOE")?;
/// assert_eq!(ts.to_string(), "congo=ucfJifl5GOE,rojo=00f067aa0ba902b7");
///
/// // A duplicate from upstream is passed on; the left-most value is the current one.
/// assert_eq!(Tracestate::parse("foo=1,foo=2")?.get("foo"), Some("1"));
/// assert!(Tracestate::parse("FOO=1").is_err());
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone)]
pub struct Tracestate<'a> {
    /// Validated text: every non-empty OWS-trimmed `,`-segment is a valid member.
    text: Cow<'a, str>,
    len: u8,
    /// `text` is already the canonical header value (members joined with `,`, no OWS around
    /// them, no empty ones): the usual case, written with one copy.
    canonical: bool,
}

/// Iterates the OWS-trimmed, non-empty `,`-segments of `text`.
fn segments(text: &str) -> impl Iterator<Item = &str> {
    codec::split_byte(text, b',')
        .map(codec::trim_ows)
        .filter(|member| !member.is_empty())
}

/// Splits a validated member at its first `=`.
#[inline]
fn split_member(member: &str) -> (&str, &str) {
    codec::split_once_byte(member, b'=').unwrap_or((member, ""))
}

#[inline]
fn is_keychar(b: u8) -> bool {
    matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/' | b'@')
}

/// Key grammar of Level 2 §3.3.2.2.1: `( lcalpha / DIGIT ) 0*255 ( keychar )`.
pub(crate) fn check_key(key: &str) -> Result<(), ErrorKind> {
    let b = key.as_bytes();
    if b.len() > MAX_KEY_LEN {
        return Err(ErrorKind::KeyTooLong);
    }
    let starts_ok = matches!(b.first(), Some(b'a'..=b'z' | b'0'..=b'9'));
    if !starts_ok || !b.iter().all(|&c| is_keychar(c)) {
        return Err(ErrorKind::KeyInvalid);
    }
    Ok(())
}

/// Value grammar of Level 2 §3.3.2.2.2: `0*255(chr) nblk-chr`.
pub(crate) fn check_value(value: &str) -> Result<(), ErrorKind> {
    let b = value.as_bytes();
    match b.last() {
        None => return Err(ErrorKind::ValueEmpty),
        Some(b' ') => return Err(ErrorKind::ValueInvalid),
        Some(_) => {}
    }
    if b.len() > MAX_VALUE_LEN {
        return Err(ErrorKind::ValueTooLong);
    }
    if b.iter()
        .all(|&c| matches!(c, 0x20..=0x7e) && c != b',' && c != b'=')
    {
        Ok(())
    } else {
        Err(ErrorKind::ValueInvalid)
    }
}

/// The member count of a value in canonical form (members joined by single `,`s, no OWS
/// around them, none empty, at most 32, each valid), checked in one pass over its bytes:
/// what browsers and tracers send. `None` for anything else, which [`Tracestate::from_cow`]'s
/// general pass then accepts or names the problem of; the two agree on every value this one
/// accepts.
fn canonical_members(b: &[u8]) -> Option<usize> {
    let mut members = 0;
    let mut i = 0;
    loop {
        let key_start = i;
        if !matches!(b.get(i), Some(b'a'..=b'z' | b'0'..=b'9')) {
            return None;
        }
        i += 1;
        while b.get(i).is_some_and(|&c| is_keychar(c)) {
            i += 1;
        }
        if i - key_start > MAX_KEY_LEN || b.get(i) != Some(&b'=') {
            return None;
        }
        i += 1;
        let value_start = i;
        while let Some(&c) = b.get(i) {
            if c == b',' {
                break;
            }
            if !matches!(c, 0x20..=0x7e) || c == b'=' {
                return None;
            }
            i += 1;
        }
        let value_len = i - value_start;
        if value_len == 0 || value_len > MAX_VALUE_LEN || b.get(i - 1) == Some(&b' ') {
            return None;
        }
        members += 1;
        if members > TRACESTATE_MAX_MEMBERS {
            return None;
        }
        if i == b.len() {
            return Some(members);
        }
        // Past the `,`: a trailing one leaves no key, and the general pass takes over.
        i += 1;
    }
}

/// The value of the first member with `key` in a canonical value (see [`canonical_members`]),
/// whose members are exactly its `,`-pieces.
fn canonical_get<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    let mut rest = text;
    loop {
        let (member, tail) = match codec::split_once_byte(rest, b',') {
            Some((member, tail)) => (member, Some(tail)),
            None => (rest, None),
        };
        if let Some(value) = member.strip_prefix(key).and_then(|v| v.strip_prefix('=')) {
            return Some(value);
        }
        rest = tail?;
    }
}

fn check_member(member: &str) -> Result<(), ErrorKind> {
    let (key, value) = codec::split_once_byte(member, b'=').ok_or(ErrorKind::MissingEquals)?;
    check_key(key)?;
    check_value(value)
}

impl<'a> Tracestate<'a> {
    /// An empty `tracestate`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut ts = usertrail_propagator::Tracestate::new();
    /// assert!(ts.is_empty());
    /// ts.insert("dd", "s:1;o:rum")?;
    /// assert_eq!(ts.to_string(), "dd=s:1;o:rum");
    /// assert!(ts.insert("DD", "x").is_err());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub const fn new() -> Self {
        Tracestate {
            text: Cow::Borrowed(""),
            len: 0,
            canonical: true,
        }
    }
}

impl Default for Tracestate<'_> {
    #[inline]
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Tracestate<'a> {
    /// Validates a `tracestate` value and borrows it (no allocation).
    ///
    /// To combine several `tracestate` header lines, join them with `,` first (RFC 7230
    /// §3.2.2); [`extract`](crate::extract) does this.
    ///
    /// # Errors
    ///
    /// Any invalid member, or more than 32 members (a repeated key is not an error).
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::Tracestate;
    ///
    /// let ts = Tracestate::parse("foo=1 \t , \t bar=2,,")?;
    /// assert_eq!(ts.len(), 2);
    /// assert_eq!(Tracestate::parse("foo=").unwrap_err().to_string(), "value is empty");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn parse(s: &'a str) -> Result<Self, ParseError> {
        Self::from_cow(Cow::Borrowed(s))
    }

    pub(crate) fn from_cow(text: Cow<'a, str>) -> Result<Self, ParseError> {
        if let Some(len) = canonical_members(text.as_bytes()) {
            return Ok(Tracestate {
                len: len as u8,
                text,
                canonical: true,
            });
        }
        Self::from_cow_general(text)
    }

    /// [`from_cow`](Self::from_cow) for any text: member by member, OWS trimmed, empty
    /// members skipped.
    fn from_cow_general(text: Cow<'a, str>) -> Result<Self, ParseError> {
        let mut len = 0;
        let mut member_bytes = 0;
        // Stops at the 33rd member: the work is bounded by the input length, never more.
        for member in segments(&text) {
            if len == TRACESTATE_MAX_MEMBERS {
                return Err(ErrorKind::TooManyMembers.into());
            }
            check_member(member)?;
            len += 1;
            member_bytes += member.len();
        }
        // Trimming and empty members only ever make the text longer than the members and
        // their separators.
        let canonical = member_bytes + len.saturating_sub(1) == text.len();
        Ok(Tracestate {
            len: len as u8,
            text,
            canonical,
        })
    }

    /// Number of members (a repeated key counts each time).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::Tracestate::parse("a=1,b=2")?.len(), 2);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// `true` when there is no member (an empty header is valid).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(usertrail_propagator::Tracestate::parse(" , ")?.is_empty());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value of `key`, if present; the left-most one if the key is repeated.
    ///
    /// # Examples
    ///
    /// ```
    /// let ts = usertrail_propagator::Tracestate::parse("dd=s:1;o:rum,foo=1")?;
    /// assert_eq!(ts.get("dd"), Some("s:1;o:rum"));
    /// assert_eq!(ts.get("bar"), None);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        if self.canonical {
            return canonical_get(&self.text, key);
        }
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The text when it is already the header value [`write_to`](Self::write_to) writes.
    pub(crate) fn canonical_text(&self) -> Option<&str> {
        self.canonical.then_some(&*self.text)
    }

    /// The value of `key`, borrowed for `'a` when the text is borrowed.
    pub(crate) fn get_cow(&self, key: &str) -> Option<Cow<'a, str>> {
        match &self.text {
            Cow::Borrowed(text) if self.canonical => canonical_get(text, key).map(Cow::Borrowed),
            Cow::Borrowed(text) => segments(text)
                .map(split_member)
                .find(|(k, _)| *k == key)
                .map(|(_, v)| Cow::Borrowed(v)),
            Cow::Owned(_) => self.get(key).map(|v| Cow::Owned(String::from(v))),
        }
    }

    /// The members in order, as `(key, value)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let ts = usertrail_propagator::Tracestate::parse("a=1, b= 2")?;
    /// let members: Vec<_> = ts.iter().collect();
    /// assert_eq!(members, [("a", "1"), ("b", " 2")]);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        segments(&self.text).map(split_member)
    }

    /// Sets `key` to `value` and moves it to the left; drops members beyond 32 from the right.
    ///
    /// # Errors
    ///
    /// `key` or `value` do not follow the grammar; the `tracestate` is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut ts = usertrail_propagator::Tracestate::parse("a=1,b=2,c=3")?;
    /// ts.insert("b", "9")?;
    /// assert_eq!(ts.to_string(), "b=9,a=1,c=3");
    /// assert!(ts.insert("b", "x,y").is_err());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn insert(&mut self, key: &str, value: &str) -> Result<(), ParseError> {
        check_key(key)?;
        check_value(value)?;
        let mut out = String::with_capacity(key.len() + 1 + value.len() + 1 + self.text.len());
        out.push_str(key);
        out.push('=');
        out.push_str(value);
        let mut len = 1;
        for (k, v) in self.iter().filter(|(k, _)| *k != key) {
            if len == TRACESTATE_MAX_MEMBERS {
                break;
            }
            out.push(',');
            out.push_str(k);
            out.push('=');
            out.push_str(v);
            len += 1;
        }
        self.text = Cow::Owned(out);
        self.len = len as u8;
        self.canonical = true;
        Ok(())
    }

    /// Removes every member with `key`; returns whether there was one.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut ts = usertrail_propagator::Tracestate::parse("a=1,b=2")?;
    /// assert!(ts.remove("a"));
    /// assert!(!ts.remove("z"));
    /// assert_eq!(ts.to_string(), "b=2");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn remove(&mut self, key: &str) -> bool {
        if self.get(key).is_none() {
            return false;
        }
        let mut out = String::with_capacity(self.text.len());
        let mut len = 0;
        for (k, v) in self.iter().filter(|(k, _)| *k != key) {
            if len > 0 {
                out.push(',');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
            len += 1;
        }
        self.text = Cow::Owned(out);
        self.len = len;
        self.canonical = true;
        true
    }

    /// Appends the canonical header value to `out`, without going through `core::fmt`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut out = String::new();
    /// usertrail_propagator::Tracestate::parse(" a=1 ,, b=2 ")?.write_to(&mut out);
    /// assert_eq!(out, "a=1,b=2");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn write_to(&self, out: &mut String) {
        if self.canonical {
            out.push_str(&self.text);
            return;
        }
        for (i, member) in segments(&self.text).enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(member);
        }
    }

    /// The canonical header value as a new string.
    ///
    /// # Examples
    ///
    /// ```
    /// let ts = usertrail_propagator::Tracestate::parse("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")?;
    /// assert_eq!(ts.to_header_value(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn to_header_value(&self) -> String {
        let mut out = String::with_capacity(self.text.len());
        self.write_to(&mut out);
        out
    }

    /// A copy that owns its text, to keep beyond the request.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::Tracestate;
    ///
    /// let kept: Tracestate<'static> = {
    ///     let header = String::from("a=1");
    ///     Tracestate::parse(&header)?.into_owned()
    /// };
    /// assert_eq!(kept.get("a"), Some("1"));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn into_owned(self) -> Tracestate<'static> {
        Tracestate {
            text: Cow::Owned(self.text.into_owned()),
            len: self.len,
            canonical: self.canonical,
        }
    }
}

impl PartialEq for Tracestate<'_> {
    fn eq(&self, other: &Tracestate<'_>) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl Eq for Tracestate<'_> {}

impl fmt::Debug for Tracestate<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl fmt::Display for Tracestate<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_header_value())
    }
}

crate::error::parse_impls!(Tracestate);

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;

    /// Every value of up to three members built from tricky pieces: where the one-pass
    /// reading of canonical text takes a value, the general pass reads it the same way.
    #[test]
    fn the_canonical_pass_agrees_with_the_general_one() {
        let members = [
            "",
            " ",
            "dd=s:1;o:rum",
            "a=1",
            "a= 1",
            "a=1 ",
            " a=1",
            "a=",
            "a",
            "=1",
            "a=1=2",
            "A=1",
            "@a=1",
            "a@b=1",
            "a/b*c_d-e=1",
            "a=\t1",
            "a=é",
            "0=x",
            "k=,",
        ];
        let mut checked = 0;
        for a in members {
            for b in members {
                for c in members {
                    for text in [
                        a.to_string(),
                        format!("{a},{b}"),
                        format!("{a},{b},{c}"),
                        format!("{a},{b},{c},"),
                    ] {
                        let Some(len) = canonical_members(text.as_bytes()) else {
                            continue;
                        };
                        checked += 1;
                        let general = Tracestate::from_cow_general(Cow::Borrowed(&text))
                            .unwrap_or_else(|e| panic!("{text:?}: {e}"));
                        assert_eq!(general.len(), len, "{text:?}");
                        assert!(general.canonical, "{text:?}");
                        for key in ["a", "dd", "k"] {
                            let first = general.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
                            assert_eq!(first, canonical_get(&text, key), "{text:?}");
                        }
                    }
                }
            }
        }
        assert!(checked > 100, "{checked}");
        let long = format!("a={}", "v".repeat(MAX_VALUE_LEN + 1));
        assert_eq!(canonical_members(long.as_bytes()), None);
        let many = "a=1,".repeat(TRACESTATE_MAX_MEMBERS + 1);
        assert_eq!(
            canonical_members(many.trim_end_matches(',').as_bytes()),
            None
        );
    }

    #[test]
    fn insert_truncates_from_the_right() {
        let header: String = (0..32).map(|i| format!("k{i}=v,")).collect();
        let mut ts = Tracestate::parse(&header).unwrap();
        assert_eq!(ts.len(), 32);
        ts.insert("new", "1").unwrap();
        assert_eq!(ts.len(), 32);
        assert_eq!(ts.iter().next(), Some(("new", "1")));
        assert_eq!(ts.get("k31"), None);
        assert_eq!(ts.get("k30"), Some("v"));
    }

    #[test]
    fn value_leading_space_is_kept() {
        let ts = Tracestate::parse("a= x").unwrap();
        assert_eq!(ts.get("a"), Some(" x"));
        assert_eq!(Tracestate::parse(&ts.to_string()).unwrap(), ts);
    }
}
