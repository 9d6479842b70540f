//! `baggage` (W3C Baggage, <https://www.w3.org/TR/baggage/>).
//!
//! Zero-allocation design: a parsed `Baggage` is the header text (`Cow::Borrowed` from the
//! carrier when it came in one line) in which every member is known to be valid, plus a member
//! count and the canonical length. Members are split out again on demand, and values are
//! percent-decoded on access, borrowing unless they hold an escape. Parsing a header whose
//! members are all valid and within the limits therefore allocates nothing, whatever the number
//! of members. Only bad input (a member to drop from the middle: the kept members are copied
//! into a new string) and mutation (`set`, `remove`, `merge_missing`: a new canonical string)
//! allocate.

use alloc::borrow::Cow;
use alloc::string::String;
use core::fmt;

use crate::carrier::{self, Injector};
use crate::codec::{self, is_baggage_octet, is_token, split_byte, split_once_byte, trim_ows};
use crate::error::{ErrorKind, InjectError, ParseError};
use crate::headers::BAGGAGE;

/// Members kept: a platform MUST propagate at least 64 (W3C Baggage §Limits,
/// <https://www.w3.org/TR/baggage/#limits>); this is also Datadog's `DD_TRACE_BAGGAGE_MAX_ITEMS`.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{Baggage, BAGGAGE_MAX_MEMBERS};
///
/// let fits: String = (0..BAGGAGE_MAX_MEMBERS).map(|i| format!("k{i}=v,")).collect();
/// assert!(Baggage::parse(&fits).is_ok());
/// assert!(Baggage::parse(&format!("{fits}one=more")).is_err());
/// ```
pub const BAGGAGE_MAX_MEMBERS: usize = 64;

/// Bytes kept: a platform MUST propagate a baggage-string of at least 8192 bytes (W3C Baggage
/// §Limits); this is also Datadog's `DD_TRACE_BAGGAGE_MAX_BYTES`. Measured on the canonical
/// form this crate writes (no OWS).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::{Baggage, BAGGAGE_MAX_BYTES};
///
/// let fits = format!("k={}", "v".repeat(BAGGAGE_MAX_BYTES - 2));
/// assert!(Baggage::parse(&fits).is_ok());
/// assert!(Baggage::parse(&format!("{fits}v")).is_err());
/// ```
pub const BAGGAGE_MAX_BYTES: usize = 8192;

/// A list of W3C baggage members: `key=value;property;key=value`, order kept, duplicate keys
/// allowed.
///
/// * Keys are RFC 7230 tokens and are not percent-decoded.
/// * Values are `*baggage-octet`; [`BaggageMember::value`] and [`BaggageMember::properties`]
///   percent-decode them (invalid UTF-8 becomes U+FFFD). A `%` not followed by two hex digits is kept literally: it is itself a
///   `baggage-octet`, so the ABNF allows the member, and dropping user data would be worse.
/// * [`set`](Self::set) and [`set_with_properties`](Self::set_with_properties) percent-encode
///   everything outside `baggage-octet`, and `%` (a space is `%20`), in values and property
///   values. Received values are passed on as received.
/// * [`get`](Self::get) returns the **last** value of a repeated key, as OpenTelemetry and the
///   Datadog tracers do (they fill a map in header order).
/// * Limits: up to [`BAGGAGE_MAX_MEMBERS`] members and [`BAGGAGE_MAX_BYTES`] bytes are kept;
///   [`parse_lossy`](Self::parse_lossy) drops whole members beyond (and every member after the
///   first one that does not fit), and drops invalid members without losing the valid ones,
///   reporting each drop.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::Baggage;
///
/// let baggage = Baggage::parse("userId=alice,serverNode=DF%2028,isProduction=false")?;
/// assert_eq!(baggage.get("serverNode").as_deref(), Some("DF 28"));
/// assert_eq!(baggage.len(), 3);
///
/// // The lenient parser keeps what it can and says what it dropped.
/// let mut dropped = Vec::new();
/// let baggage = Baggage::parse_lossy("a=1,not a token=2,b=3", |d| dropped.push(d.to_string()));
/// assert_eq!(baggage.to_string(), "a=1,b=3");
/// assert_eq!(dropped, ["member 2 dropped: key is not a token"]);
///
/// // The strict one refuses.
/// assert!(Baggage::parse("a=1,not a token=2").is_err());
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone)]
pub struct Baggage<'a> {
    /// Every non-empty OWS-trimmed `,`-segment is a valid member, within the limits.
    text: Cow<'a, str>,
    len: u32,
    /// Length of the canonical form (`write_to`).
    bytes: u32,
    /// The keys named at parse time (the identity keys, for [`extract`](crate::extract)) and
    /// where the value of the last member with each sits in `text`, found in the parsing
    /// pass: reading them then costs no second pass. `None` when not asked for, when the
    /// text was rebuilt around a dropped member, and after any change.
    index: Option<KeyIndex>,
}

/// Keys, and where the last value of each is in the text (`None`: no such member).
type KeyIndex = (&'static [&'static str; 3], [Option<ValueAt>; 3]);

/// Where a value sits in the text, and whether it holds a `%` (only then can it need
/// percent-decoding: the others are handed out borrowed without a second look).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ValueAt {
    start: u32,
    end: u32,
    has_percent: bool,
}

/// What [`scan`] found in a valid member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Scanned {
    /// Where the member stopped: its `,`, or the end of the text.
    end: usize,
    /// The member's canonical length.
    size: usize,
    /// The bounds of its key.
    key: (usize, usize),
    /// The bounds of its value, not decoded.
    value: (usize, usize),
    /// Whether the value holds a `%`.
    has_percent: bool,
}

/// One member dropped by [`Baggage::parse_lossy`] (or several: everything from a member that
/// went over a limit to the end of the header).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::Baggage;
///
/// let mut drops = Vec::new();
/// Baggage::parse_lossy("ok=1,bad=\"quoted\"", |d| drops.push(d));
/// assert_eq!(drops[0].member(), 2);
/// assert_eq!(drops[0].count(), 1);
/// assert_eq!(drops[0].to_string(), "member 2 dropped: value has a character outside baggage-octet");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dropped {
    member: u32,
    count: u32,
    kind: ErrorKind,
}

impl Dropped {
    /// 1-based position of the (first) dropped member among the header's non-empty members.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut drops = Vec::new();
    /// usertrail_propagator::Baggage::parse_lossy(", ,x,a=1", |d| drops.push(d.member()));
    /// assert_eq!(drops, [1]);
    /// ```
    #[inline]
    pub fn member(&self) -> usize {
        self.member as usize
    }

    /// How many members were dropped at once: 1, or, past a limit, all those left.
    ///
    /// # Examples
    ///
    /// ```
    /// let header = "k=v,".repeat(66);
    /// let mut drops = Vec::new();
    /// usertrail_propagator::Baggage::parse_lossy(&header, |d| drops.push((d.member(), d.count())));
    /// assert_eq!(drops, [(65, 2)]);
    /// ```
    #[inline]
    pub fn count(&self) -> usize {
        self.count as usize
    }

    #[inline]
    pub(crate) fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.count > 1 {
            write!(
                f,
                "{} members from member {} on dropped: {}",
                self.count, self.member, self.kind
            )
        } else {
            write!(f, "member {} dropped: {}", self.member, self.kind)
        }
    }
}

/// One `key=value;properties` member, borrowed from a [`Baggage`].
///
/// # Examples
///
/// ```
/// let baggage = usertrail_propagator::Baggage::parse("key3=value%203; propertyKey=propertyValue;flag")?;
/// let member = baggage.iter().next().unwrap();
/// assert_eq!(member.key(), "key3");
/// assert_eq!(member.value(), "value 3");
/// assert_eq!(member.raw_value(), "value%203");
/// let props: Vec<_> = member.properties().collect();
/// assert_eq!(props, [("propertyKey", Some("propertyValue".into())), ("flag", None)]);
/// # Ok::<(), usertrail_propagator::ParseError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct BaggageMember<'b> {
    key: &'b str,
    raw_value: &'b str,
    /// Everything after the first `;`, OWS intact (validated).
    properties: Option<&'b str>,
}

impl<'b> BaggageMember<'b> {
    /// Splits a validated member (already OWS-trimmed).
    fn split(member: &'b str) -> Self {
        let (kv, properties) = match split_once_byte(member, b';') {
            Some((kv, props)) => (kv, Some(props)),
            None => (member, None),
        };
        let (key, raw_value) = split_once_byte(kv, b'=').unwrap_or((kv, ""));
        BaggageMember {
            key: trim_ows(key),
            raw_value: trim_ows(raw_value),
            properties,
        }
    }

    /// Validates a member (already OWS-trimmed) piece by piece; returns its canonical length
    /// or the first problem. [`scan`] accepts exactly the same members in one pass; this one
    /// runs only to name what is wrong with a member `scan` rejected.
    fn check_slow(member: &str) -> Result<usize, ErrorKind> {
        let (kv, properties) = match split_once_byte(member, b';') {
            Some((kv, props)) => (kv, Some(props)),
            None => (member, None),
        };
        let (key, value) = split_once_byte(kv, b'=').ok_or(ErrorKind::MissingEquals)?;
        let (key, value) = (trim_ows(key), trim_ows(value));
        if !is_token(key) {
            return Err(ErrorKind::KeyNotToken);
        }
        if !value.bytes().all(is_baggage_octet) {
            return Err(ErrorKind::ValueNotBaggageOctets);
        }
        let mut size = key.len() + 1 + value.len();
        for property in properties.into_iter().flat_map(|p| split_byte(p, b';')) {
            let (pkey, pvalue) = split_property(property);
            if !is_token(pkey) || !pvalue.is_none_or(|v| v.bytes().all(is_baggage_octet)) {
                return Err(ErrorKind::PropertyInvalid);
            }
            size += 1 + pkey.len() + pvalue.map_or(0, |v| 1 + v.len());
        }
        Ok(size)
    }

    /// The key (a token, not decoded).
    ///
    /// # Examples
    ///
    /// ```
    /// let baggage = usertrail_propagator::Baggage::parse(" user.id = u1 ")?;
    /// assert_eq!(baggage.iter().next().unwrap().key(), "user.id");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn key(&self) -> &'b str {
        self.key
    }

    /// The percent-decoded value; borrows unless the value holds an escape.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::borrow::Cow;
    ///
    /// let baggage = usertrail_propagator::Baggage::parse("a=plain,b=caf%C3%A9,c=%FF")?;
    /// let values: Vec<Cow<str>> = baggage.iter().map(|m| m.value()).collect();
    /// assert!(matches!(values[0], Cow::Borrowed("plain")));
    /// assert_eq!(values[1], "café");
    /// assert_eq!(values[2], "\u{FFFD}");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn value(&self) -> Cow<'b, str> {
        codec::percent_decode(self.raw_value)
    }

    /// The value as it appears in the header (still percent-encoded).
    ///
    /// # Examples
    ///
    /// ```
    /// let baggage = usertrail_propagator::Baggage::parse("a=DF%2028")?;
    /// assert_eq!(baggage.iter().next().unwrap().raw_value(), "DF%2028");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn raw_value(&self) -> &'b str {
        self.raw_value
    }

    /// The properties, OWS-trimmed: `(key, Some(value))` for `;k=v`, `(key, None)` for `;k`.
    /// Property values are percent-decoded like member values (W3C Baggage §property: a
    /// property's `value` is the same `value` rule as a member's), borrowing unless they hold an
    /// escape; keys are tokens and are not decoded. Their meaning is opaque to the spec.
    ///
    /// # Examples
    ///
    /// ```
    /// let baggage = usertrail_propagator::Baggage::parse("key1=value1;property1;p=%09%20%22")?;
    /// let props: Vec<_> = baggage.iter().next().unwrap().properties().collect();
    /// assert_eq!(props, [("property1", None), ("p", Some("\t \"".into()))]);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn properties(&self) -> impl Iterator<Item = (&'b str, Option<Cow<'b, str>>)> + use<'b> {
        self.raw_properties()
            .map(|(key, value)| (key, value.map(codec::percent_decode)))
    }

    /// The properties as they appear in the header (OWS-trimmed, values still
    /// percent-encoded): what is passed on downstream.
    ///
    /// # Examples
    ///
    /// ```
    /// let baggage = usertrail_propagator::Baggage::parse("k=v;p=%09%20%22")?;
    /// let props: Vec<_> = baggage.iter().next().unwrap().raw_properties().collect();
    /// assert_eq!(props, [("p", Some("%09%20%22"))]);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn raw_properties(&self) -> impl Iterator<Item = (&'b str, Option<&'b str>)> + use<'b> {
        self.properties
            .into_iter()
            .flat_map(|p| split_byte(p, b';'))
            .map(split_property)
    }

    fn write_to(&self, out: &mut String) {
        out.push_str(self.key);
        out.push('=');
        out.push_str(self.raw_value);
        for (key, value) in self.raw_properties() {
            out.push(';');
            out.push_str(key);
            if let Some(value) = value {
                out.push('=');
                out.push_str(value);
            }
        }
    }

    fn canonical_len(&self) -> usize {
        self.key.len()
            + 1
            + self.raw_value.len()
            + self
                .raw_properties()
                .map(|(k, v)| 1 + k.len() + v.map_or(0, |v| 1 + v.len()))
                .sum::<usize>()
    }
}

/// Equal when keys, decoded values and decoded properties are equal.
impl PartialEq for BaggageMember<'_> {
    fn eq(&self, other: &BaggageMember<'_>) -> bool {
        self.key == other.key
            && self.value() == other.value()
            && self.properties().eq(other.properties())
    }
}

impl Eq for BaggageMember<'_> {}

/// The index of the first byte of `b[i..]` that is not `class`, or `b.len()`.
#[inline(always)]
fn skip(b: &[u8], i: usize, class: impl Fn(u8) -> bool) -> usize {
    // An iterator loop: one pointer to advance, no bounds check per byte.
    match b.get(i..) {
        Some(rest) => i + rest.iter().position(|&c| !class(c)).unwrap_or(rest.len()),
        None => i,
    }
}

#[inline(always)]
fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// One pass over the member starting at `b[start]` (after any OWS): `token OWS "=" OWS
/// *baggage-octet OWS`, then any number of `";" OWS token OWS [ "=" OWS *baggage-octet OWS ]`,
/// up to a `,` or the end. Returns where it stopped (the `,` or `b.len()`), the member's
/// canonical length and where its key and value are, or `None` when the member is invalid
/// (or empty).
fn scan(b: &[u8], start: usize) -> Option<Scanned> {
    let key_end = skip(b, start, codec::is_tchar);
    if key_end == start {
        return None;
    }
    let mut i = skip(b, key_end, is_ows);
    if b.get(i) != Some(&b'=') {
        return None;
    }
    let value_start = skip(b, i + 1, is_ows);
    // Up to a `%` first, so that noting whether the value holds one costs no test per byte.
    let mut value_end = skip(b, value_start, codec::is_plain_baggage_octet);
    let has_percent = b.get(value_end) == Some(&b'%');
    if has_percent {
        value_end = skip(b, value_end, is_baggage_octet);
    }
    let value = (value_start, value_end);
    let mut size = (key_end - start) + 1 + (value_end - value_start);
    i = skip(b, value_end, is_ows);
    while let Some(&c) = b.get(i) {
        if c == b',' {
            break;
        }
        if c != b';' {
            return None;
        }
        let key_start = skip(b, i + 1, is_ows);
        let key_end = skip(b, key_start, codec::is_tchar);
        if key_end == key_start {
            return None;
        }
        size += 1 + (key_end - key_start);
        i = skip(b, key_end, is_ows);
        if b.get(i) == Some(&b'=') {
            let value_start = skip(b, i + 1, is_ows);
            let value_end = skip(b, value_start, is_baggage_octet);
            size += 1 + (value_end - value_start);
            i = skip(b, value_end, is_ows);
        }
    }
    Some(Scanned {
        end: i,
        size,
        key: (start, key_end),
        value,
        has_percent,
    })
}

/// What [`scan_canonical`] found: the member count and where the values of the keys asked
/// for are.
type Canonical = (u32, [Option<ValueAt>; 3]);

/// One pass over a baggage in canonical form (`key=value` members joined by single `,`s: no
/// OWS, no properties, no empty member; every member valid; within the limits), noting where
/// the last value of each of `keys` is: what browsers send. `None` for anything else, which
/// [`Baggage::from_cow_indexed`]'s general pass then reads (it reads every value this one
/// accepts the same way).
fn scan_canonical(b: &[u8], keys: Option<&[&str; 3]>) -> Option<Canonical> {
    if b.is_empty() || b.len() > BAGGAGE_MAX_BYTES {
        return None;
    }
    let mut found: [Option<ValueAt>; 3] = [None; 3];
    let mut members: u32 = 0;
    let mut i = 0;
    loop {
        let key_start = i;
        i = skip(b, i, codec::is_tchar);
        if i == key_start || b.get(i) != Some(&b'=') {
            return None;
        }
        let key_end = i;
        let value_start = i + 1;
        i = skip(b, value_start, codec::is_plain_baggage_octet);
        let has_percent = b.get(i) == Some(&b'%');
        if has_percent {
            i = skip(b, i, is_baggage_octet);
        }
        members += 1;
        if members as usize > BAGGAGE_MAX_MEMBERS {
            return None;
        }
        if let Some(keys) = keys {
            let key = b.get(key_start..key_end).unwrap_or_default();
            for (wanted, slot) in keys.iter().zip(found.iter_mut()) {
                // The first byte before the whole: most keys differ there, and it saves a
                // call to `memcmp`.
                if key.first() == wanted.as_bytes().first() && key == wanted.as_bytes() {
                    // Bounds below `BAGGAGE_MAX_BYTES`: they fit.
                    *slot = Some(ValueAt {
                        start: value_start as u32,
                        end: i as u32,
                        has_percent,
                    });
                }
            }
        }
        match b.get(i) {
            None => return Some((members, found)),
            // A `,` that ends the text leaves an empty member: the general pass's.
            Some(b',') if i + 1 < b.len() => i += 1,
            _ => return None,
        }
    }
}

/// The `,`-separated piece of `text` that starts at `start`: where it ends (at the `,` or the
/// end of the text), its member (OWS-trimmed, empty for an empty piece), and the member's
/// canonical length or what is wrong with it, and for a member read in one pass (any valid
/// one, in practice), where its key and value are in `text`.
fn piece_at(text: &str, start: usize) -> (usize, &str, Result<usize, ErrorKind>, Option<Scanned>) {
    let b = text.as_bytes();
    let member_start = skip(b, start, is_ows);
    if let Some(scanned) = scan(b, member_start) {
        let member = trim_ows(text.get(member_start..scanned.end).unwrap_or_default());
        return (scanned.end, member, Ok(scanned.size), Some(scanned));
    }
    let end = b
        .get(member_start..)
        .and_then(|rest| rest.iter().position(|&c| c == b','))
        .map_or(b.len(), |i| member_start + i);
    let member = trim_ows(text.get(member_start..end).unwrap_or_default());
    let checked = if member.is_empty() {
        Ok(0)
    } else {
        BaggageMember::check_slow(member)
    };
    (end, member, checked, None)
}

fn split_property(property: &str) -> (&str, Option<&str>) {
    match split_once_byte(property, b'=') {
        Some((key, value)) => (trim_ows(key), Some(trim_ows(value))),
        None => (trim_ows(property), None),
    }
}

fn segments(text: &str) -> impl Iterator<Item = &str> {
    split_byte(text, b',')
        .map(trim_ows)
        .filter(|member| !member.is_empty())
}

impl<'a> Baggage<'a> {
    /// An empty baggage.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut baggage = usertrail_propagator::Baggage::new();
    /// baggage.set("session.id", "5afb433c-40c3-4974-a7c2-8d5933cc67f6")?;
    /// assert_eq!(baggage.to_string(), "session.id=5afb433c-40c3-4974-a7c2-8d5933cc67f6");
    /// assert!(baggage.set("session id", "x").is_err());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub const fn new() -> Self {
        Baggage {
            text: Cow::Borrowed(""),
            len: 0,
            bytes: 0,
            index: None,
        }
    }
}

impl Default for Baggage<'_> {
    #[inline]
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Baggage<'a> {
    /// Strict parse: every member must be valid and the header within the limits.
    ///
    /// # Errors
    ///
    /// The first invalid member, or going over [`BAGGAGE_MAX_MEMBERS`] / [`BAGGAGE_MAX_BYTES`].
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::Baggage;
    ///
    /// let baggage = Baggage::parse("key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue")?;
    /// assert_eq!(baggage.len(), 3);
    /// assert_eq!(Baggage::parse("key1").unwrap_err().to_string(), "list member has no '='");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn parse(s: &'a str) -> Result<Self, ParseError> {
        let mut first = None;
        let baggage = Self::from_cow_lossy(Cow::Borrowed(s), &mut |d: Dropped| {
            first.get_or_insert(d.kind);
        });
        match first {
            Some(kind) => Err(kind.into()),
            None => Ok(baggage),
        }
    }

    /// Lenient parse, for incoming headers: never fails. Invalid members are dropped, the valid
    /// ones kept; past the limits, the member that does not fit and all after it are dropped.
    /// `on_drop` hears about each drop (at most once per invalid member, once for everything
    /// past a limit).
    ///
    /// Allocates only when an invalid member sits before a valid one.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::Baggage;
    ///
    /// let mut drops = 0;
    /// let baggage = Baggage::parse_lossy("session.id=s1,user.id=u 1,account.id=a1", |_| drops += 1);
    /// assert_eq!(baggage.to_string(), "session.id=s1,account.id=a1");
    /// assert_eq!(drops, 1);
    /// ```
    pub fn parse_lossy(s: &'a str, mut on_drop: impl FnMut(Dropped)) -> Self {
        Self::from_cow_lossy(Cow::Borrowed(s), &mut on_drop)
    }

    pub(crate) fn from_cow_lossy(text: Cow<'a, str>, on_drop: &mut dyn FnMut(Dropped)) -> Self {
        Self::from_cow_indexed(text, on_drop, None)
    }

    /// [`from_cow_lossy`](Self::from_cow_lossy), noting on the way where the values of `keys`
    /// are, for [`get_indexed`](Self::get_indexed).
    pub(crate) fn from_cow_indexed(
        text: Cow<'a, str>,
        on_drop: &mut dyn FnMut(Dropped),
        keys: Option<&'static [&'static str; 3]>,
    ) -> Self {
        if let Some((len, found)) = scan_canonical(text.as_bytes(), keys) {
            // Canonical: the text is its own canonical form.
            let bytes = text.len() as u32;
            return Baggage {
                text,
                len,
                bytes,
                index: keys.map(|keys| (keys, found)),
            };
        }
        Self::from_cow_general(text, on_drop, keys)
    }

    /// [`from_cow_indexed`](Self::from_cow_indexed) for any text: member by member, each
    /// read by [`scan`] or, failing that, checked piece by piece to name its problem.
    fn from_cow_general(
        text: Cow<'a, str>,
        on_drop: &mut dyn FnMut(Dropped),
        keys: Option<&'static [&'static str; 3]>,
    ) -> Self {
        let mut found: [Option<ValueAt>; 3] = [None; 3];
        // Cleared when a bound would not fit in a `u32`, or a kept member was not read by
        // `scan`: `get_indexed` falls back to a pass over the text then.
        let mut indexable = keys.is_some();
        let mut len: u32 = 0;
        let mut bytes: usize = 0;
        let mut index: u32 = 0;
        // Set at the first invalid member: from there on, kept members are copied here.
        let mut rebuilt: Option<String> = None;
        // Set when a limit is hit: the kept members are `text[..cut]`.
        let mut cut: Option<usize> = None;
        let mut next_piece = Some(0);
        while let Some(piece_start) = next_piece {
            let (piece_end, member, checked, scanned) = piece_at(&text, piece_start);
            next_piece = (piece_end < text.len()).then_some(piece_end + 1);
            if member.is_empty() {
                continue;
            }
            index = index.saturating_add(1);
            let size = match checked {
                Ok(size) => size,
                Err(kind) => {
                    on_drop(Dropped {
                        member: index,
                        count: 1,
                        kind,
                    });
                    if rebuilt.is_none() {
                        rebuilt = Some(String::from(text.get(..piece_start).unwrap_or("")));
                    }
                    continue;
                }
            };
            let separator = usize::from(len > 0);
            let over = if len as usize == BAGGAGE_MAX_MEMBERS {
                Some(ErrorKind::OverMemberLimit)
            } else if bytes + separator + size > BAGGAGE_MAX_BYTES {
                Some(ErrorKind::OverByteLimit)
            } else {
                None
            };
            if let Some(kind) = over {
                // One linear pass over the rest to count it; nothing is kept or allocated.
                let rest = next_piece
                    .and_then(|next| text.get(next..))
                    .map_or(0, |rest| {
                        split_byte(rest, b',')
                            .filter(|p| !trim_ows(p).is_empty())
                            .count()
                    });
                on_drop(Dropped {
                    member: index,
                    count: u32::try_from(rest).unwrap_or(u32::MAX).saturating_add(1),
                    kind,
                });
                cut = Some(piece_start);
                break;
            }
            len += 1;
            bytes += separator + size;
            if let Some(out) = rebuilt.as_mut() {
                out.push(',');
                out.push_str(member);
            } else if let (true, Some(keys), Some(scanned)) = (indexable, keys, scanned) {
                let key = text.get(scanned.key.0..scanned.key.1).unwrap_or_default();
                for (wanted, slot) in keys.iter().zip(found.iter_mut()) {
                    if key.len() == wanted.len() && key == *wanted {
                        let (start, end) = scanned.value;
                        match (u32::try_from(start), u32::try_from(end)) {
                            (Ok(start), Ok(end)) => {
                                *slot = Some(ValueAt {
                                    start,
                                    end,
                                    has_percent: scanned.has_percent,
                                });
                            }
                            _ => indexable = false,
                        }
                    }
                }
            } else {
                indexable = false;
            }
        }
        let index = match (keys, indexable && rebuilt.is_none()) {
            (Some(keys), true) => Some((keys, found)),
            _ => None,
        };
        let text = match (rebuilt, cut) {
            (Some(out), _) => Cow::Owned(out),
            (None, Some(cut)) => match text {
                Cow::Borrowed(s) => Cow::Borrowed(s.get(..cut).unwrap_or("")),
                Cow::Owned(mut s) => {
                    if s.is_char_boundary(cut) {
                        s.truncate(cut);
                    }
                    Cow::Owned(s)
                }
            },
            (None, None) => text,
        };
        Baggage {
            text,
            len,
            bytes: bytes as u32,
            index,
        }
    }

    /// Number of members.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::Baggage::parse("a=1,a=2")?.len(), 2);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// `true` when there is no member.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(usertrail_propagator::Baggage::parse("")?.is_empty());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Length in bytes of the header value [`write_to`](Self::write_to) produces.
    ///
    /// # Examples
    ///
    /// ```
    /// let baggage = usertrail_propagator::Baggage::parse("key2 = value2, a=1")?;
    /// assert_eq!(baggage.encoded_len(), "key2=value2,a=1".len());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn encoded_len(&self) -> usize {
        self.bytes as usize
    }

    /// The members in header order.
    ///
    /// # Examples
    ///
    /// ```
    /// let baggage = usertrail_propagator::Baggage::parse("a=1,b=2")?;
    /// let keys: Vec<&str> = baggage.iter().map(|m| m.key()).collect();
    /// assert_eq!(keys, ["a", "b"]);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = BaggageMember<'_>> + '_ {
        segments(&self.text).map(BaggageMember::split)
    }

    /// The decoded value of the **last** member with `key` (OpenTelemetry/Datadog semantics).
    ///
    /// # Examples
    ///
    /// ```
    /// let baggage = usertrail_propagator::Baggage::parse("user.id=first,user.id=last")?;
    /// assert_eq!(baggage.get("user.id").as_deref(), Some("last"));
    /// assert_eq!(baggage.get("account.id"), None);
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn get(&self, key: &str) -> Option<Cow<'_, str>> {
        let [value] = self.get_each([key]);
        value
    }

    /// [`get`](Self::get) for several keys in one pass over the members (the identity reads
    /// three).
    pub(crate) fn get_each<const N: usize>(&self, keys: [&str; N]) -> [Option<Cow<'_, str>>; N] {
        // The text is valid: each member is `token OWS "=" OWS value OWS [";" …]`. One pass:
        // the key of each member, the bounds of its value, then on to the next `,`.
        let text: &str = &self.text;
        let b = text.as_bytes();
        let mut values: [Option<(usize, usize)>; N] = [None; N];
        let mut i = 0;
        while i < b.len() {
            let key_start = skip(b, i, is_ows);
            let key_end = skip(b, key_start, codec::is_tchar);
            if key_end == key_start {
                // An empty list member.
                i = key_end + 1;
                continue;
            }
            let value_start = skip(b, skip(b, key_end, is_ows) + 1, is_ows);
            let value_end = skip(b, value_start, is_baggage_octet);
            let key = text.get(key_start..key_end).unwrap_or_default();
            for (wanted, slot) in keys.iter().zip(values.iter_mut()) {
                if key == *wanted {
                    *slot = Some((value_start, value_end));
                }
            }
            i = skip(b, value_end, |c| c != b',') + 1;
        }
        values.map(|bounds| {
            let (start, end) = bounds?;
            Some(codec::percent_decode(text.get(start..end)?))
        })
    }

    /// [`get_each`](Self::get_each) for `keys`, from the bounds noted while parsing when
    /// they were asked for with the same keys (no pass over the text), else by a pass.
    pub(crate) fn get_indexed(
        &self,
        keys: &'static [&'static str; 3],
    ) -> [Option<Cow<'_, str>>; 3] {
        match &self.index {
            Some((indexed, found)) if core::ptr::eq(*indexed, keys) || *indexed == keys => {
                let text: &str = &self.text;
                let value = |at: &Option<ValueAt>| {
                    let at = (*at)?;
                    let raw = text.get(at.start as usize..at.end as usize)?;
                    Some(if at.has_percent {
                        codec::percent_decode(raw)
                    } else {
                        Cow::Borrowed(raw)
                    })
                };
                // Element by element rather than `array::map`, which goes through a
                // `try_map` of its own and moves each value once more.
                let [a, b, c] = found;
                [value(a), value(b), value(c)]
            }
            _ => self.get_each(*keys),
        }
    }

    /// Whether some member has `key`.
    ///
    /// # Examples
    ///
    /// ```
    /// let baggage = usertrail_propagator::Baggage::parse("a=1")?;
    /// assert!(baggage.contains_key("a"));
    /// assert!(!baggage.contains_key("A"));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn contains_key(&self, key: &str) -> bool {
        self.iter().any(|m| m.key == key)
    }

    /// Sets `key` to `value` (percent-encoded): removes every member with `key`, then appends
    /// the new one at the end.
    ///
    /// # Errors
    ///
    /// `key` is not a token, or the result would go over the limits; the baggage is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut baggage = usertrail_propagator::Baggage::parse("user.id=old,a=1")?;
    /// baggage.set("user.id", "jean dupont, 100%")?;
    /// assert_eq!(baggage.to_string(), "a=1,user.id=jean%20dupont%2C%20100%25");
    /// assert_eq!(baggage.get("user.id").as_deref(), Some("jean dupont, 100%"));
    /// assert!(baggage.set("", "x").is_err());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    #[inline]
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ParseError> {
        self.set_with_properties(key, value, &[])
    }

    /// [`set`](Self::set), with properties: `;key` for `(key, None)`, `;key=value` for
    /// `(key, Some(value))`. Property values are percent-encoded like the member's value, so
    /// [`BaggageMember::properties`] gives them back as they were passed here.
    ///
    /// # Errors
    ///
    /// `key` or a property key is not a token, or the result would go over the limits; the
    /// baggage is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut baggage = usertrail_propagator::Baggage::new();
    /// baggage.set_with_properties("k", "v", &[("p", Some("\t \"")), ("flag", None)])?;
    /// assert_eq!(baggage.to_string(), "k=v;p=%09%20%22;flag");
    /// let member = baggage.iter().next().unwrap();
    /// assert_eq!(member.properties().next(), Some(("p", Some("\t \"".into()))));
    /// assert!(baggage.set_with_properties("k", "v", &[("bad key", None)]).is_err());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn set_with_properties(
        &mut self,
        key: &str,
        value: &str,
        properties: &[(&str, Option<&str>)],
    ) -> Result<(), ParseError> {
        if !is_token(key) {
            return Err(ErrorKind::KeyNotToken.into());
        }
        if properties.iter().any(|(pkey, _)| !is_token(pkey)) {
            return Err(ErrorKind::PropertyInvalid.into());
        }
        let properties_len: usize = properties
            .iter()
            .map(|(pkey, pvalue)| {
                1 + pkey.len() + pvalue.map_or(0, |v| 1 + codec::percent_encoded_len(v))
            })
            .sum();
        let size = key.len() + 1 + codec::percent_encoded_len(value) + properties_len;
        let (mut len, mut bytes) = (0usize, 0usize);
        for member in self.iter().filter(|m| m.key != key) {
            bytes += usize::from(len > 0) + member.canonical_len();
            len += 1;
        }
        let bytes = bytes + usize::from(len > 0) + size;
        if len >= BAGGAGE_MAX_MEMBERS {
            return Err(ErrorKind::OverMemberLimit.into());
        }
        if bytes > BAGGAGE_MAX_BYTES {
            return Err(ErrorKind::OverByteLimit.into());
        }
        let mut out = String::with_capacity(bytes);
        for member in self.iter().filter(|m| m.key != key) {
            member.write_to(&mut out);
            out.push(',');
        }
        out.push_str(key);
        out.push('=');
        codec::percent_encode_into(value, &mut out);
        for (pkey, pvalue) in properties {
            out.push(';');
            out.push_str(pkey);
            if let Some(pvalue) = pvalue {
                out.push('=');
                codec::percent_encode_into(pvalue, &mut out);
            }
        }
        self.text = Cow::Owned(out);
        self.len = len as u32 + 1;
        self.bytes = bytes as u32;
        self.index = None;
        Ok(())
    }

    /// Removes every member with `key`; returns whether there was one.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut baggage = usertrail_propagator::Baggage::parse("a=1,b=2,a=3")?;
    /// assert!(baggage.remove("a"));
    /// assert!(!baggage.remove("a"));
    /// assert_eq!(baggage.to_string(), "b=2");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn remove(&mut self, key: &str) -> bool {
        if !self.contains_key(key) {
            return false;
        }
        let mut out = String::with_capacity(self.bytes as usize);
        let mut len = 0;
        for member in self.iter().filter(|m| m.key != key) {
            if len > 0 {
                out.push(',');
            }
            member.write_to(&mut out);
            len += 1;
        }
        self.bytes = out.len() as u32;
        self.text = Cow::Owned(out);
        self.len = len;
        self.index = None;
        true
    }

    /// Appends each `(key, value)` whose key is not in the baggage yet, in order, while the
    /// result stays within [`BAGGAGE_MAX_MEMBERS`] and [`BAGGAGE_MAX_BYTES`]. Values are
    /// percent-encoded. Existing members, and so an application's own value for a key, win.
    ///
    /// This is what the browser SDK does with an application's `baggage` header and the
    /// `session.id` / `user.id` / `account.id` members (see also
    /// [`Identity::merge_into`](crate::Identity::merge_into)).
    ///
    /// Returns how many pairs were left out because of the limits.
    ///
    /// # Errors
    ///
    /// A key is not a token; nothing is changed.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut baggage = usertrail_propagator::Baggage::parse("user.id=set-by-app,theme=dark")?;
    /// let left_out = baggage.merge_missing(&[("session.id", "s 1"), ("user.id", "u1")])?;
    /// assert_eq!(left_out, 0);
    /// assert_eq!(baggage.to_string(), "user.id=set-by-app,theme=dark,session.id=s%201");
    /// assert!(baggage.merge_missing(&[("bad key", "x")]).is_err());
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn merge_missing(&mut self, pairs: &[(&str, &str)]) -> Result<usize, ParseError> {
        if pairs.iter().any(|(key, _)| !is_token(key)) {
            return Err(ErrorKind::KeyNotToken.into());
        }
        let mut out: Option<String> = None;
        let mut len = self.len as usize;
        let mut bytes = self.bytes as usize;
        let mut left_out = 0;
        for (i, &(key, value)) in pairs.iter().enumerate() {
            let earlier = pairs.iter().take(i).any(|(k, _)| *k == key);
            if earlier || self.contains_key(key) {
                continue;
            }
            let separator = usize::from(len > 0);
            let size = key.len() + 1 + codec::percent_encoded_len(value);
            if len >= BAGGAGE_MAX_MEMBERS || bytes + separator + size > BAGGAGE_MAX_BYTES {
                left_out += 1;
                continue;
            }
            let out = out.get_or_insert_with(|| {
                let mut s = String::with_capacity(bytes + 64);
                self.write_to(&mut s);
                s
            });
            if separator == 1 {
                out.push(',');
            }
            out.push_str(key);
            out.push('=');
            codec::percent_encode_into(value, out);
            len += 1;
            bytes += separator + size;
        }
        if let Some(out) = out {
            self.text = Cow::Owned(out);
            self.len = len as u32;
            self.bytes = bytes as u32;
            self.index = None;
        }
        Ok(left_out)
    }

    /// An application's `baggage` header with `pairs` added as members, for a browser that
    /// merges its own members into the header the application set: each valid member of
    /// `header` stays, in its order and as written (outer OWS trimmed), invalid ones are
    /// dropped, and each pair whose key no member has is appended, its value percent-encoded.
    /// Within [`BAGGAGE_MAX_MEMBERS`] and [`BAGGAGE_MAX_BYTES`] (counted on the result), the
    /// application's members come first and the pairs are the ones left out. A pair whose key
    /// is not a token, or that repeats an earlier pair's key, is left out too.
    ///
    /// The same members as [`parse_lossy`](Self::parse_lossy) then
    /// [`merge_missing`](Self::merge_missing), for a fraction of the code: the browser SDK
    /// ships this, and every visitor of the host app downloads it.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::Baggage;
    ///
    /// let pairs = [("session.id", "s1"), ("user.id", "jean dupont")];
    /// assert_eq!(Baggage::extend_header("", &pairs), "session.id=s1,user.id=jean%20dupont");
    /// // The application's value wins for a key it has; its invalid member is dropped.
    /// assert_eq!(
    ///     Baggage::extend_header("user.id=app, bad key=1 ,theme=dark;p", &pairs),
    ///     "user.id=app,theme=dark;p,session.id=s1",
    /// );
    /// ```
    pub fn extend_header(header: &str, pairs: &[(&str, &str)]) -> String {
        let b = header.as_bytes();
        let mut out = String::with_capacity(header.len() + 128);
        let mut members = 0;
        // Bit `j`: a member of the header has `pairs[j]`'s key (pairs past 64 are left out).
        let mut present: u64 = 0;
        let mut next_piece = Some(0);
        while let Some(piece_start) = next_piece {
            let member_start = skip(b, piece_start, is_ows);
            let scanned = scan(b, member_start);
            let piece_end = match scanned {
                Some(scanned) => scanned.end,
                None => skip(b, member_start, |c| c != b','),
            };
            next_piece = (piece_end < b.len()).then_some(piece_end + 1);
            let Some(member) = scanned.and_then(|_| header.get(member_start..piece_end)) else {
                continue; // empty or invalid: dropped
            };
            let member = trim_ows(member);
            let separator = usize::from(members > 0);
            if members == BAGGAGE_MAX_MEMBERS
                || out.len() + separator + member.len() > BAGGAGE_MAX_BYTES
            {
                break; // the rest is dropped, as `parse_lossy` does
            }
            if separator == 1 {
                out.push(',');
            }
            out.push_str(member);
            members += 1;
            let key = member.get(..skip(member.as_bytes(), 0, codec::is_tchar));
            for (j, (wanted, _)) in pairs.iter().enumerate().take(64) {
                if key == Some(*wanted) {
                    present |= 1 << j;
                }
            }
        }
        for (j, &(key, value)) in pairs.iter().enumerate().take(64) {
            let earlier = pairs.iter().take(j).any(|(k, _)| *k == key);
            if earlier || present & (1 << j) != 0 || !is_token(key) {
                continue;
            }
            let separator = usize::from(members > 0);
            let size = key.len() + 1 + codec::percent_encoded_len(value);
            if members == BAGGAGE_MAX_MEMBERS || out.len() + separator + size > BAGGAGE_MAX_BYTES {
                continue;
            }
            if separator == 1 {
                out.push(',');
            }
            out.push_str(key);
            out.push('=');
            codec::percent_encode_into(value, &mut out);
            members += 1;
        }
        out
    }

    /// Appends the canonical header value (no OWS) to `out`, without going through
    /// `core::fmt`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut out = String::new();
    /// usertrail_propagator::Baggage::parse("userId =   alice, serverNode = DF%2028")?.write_to(&mut out);
    /// assert_eq!(out, "userId=alice,serverNode=DF%2028");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn write_to(&self, out: &mut String) {
        if let Some(text) = self.canonical_text() {
            out.push_str(text);
            return;
        }
        for (i, member) in self.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            member.write_to(out);
        }
    }

    /// The text when it is already the header value [`write_to`](Self::write_to) writes.
    pub(crate) fn canonical_text(&self) -> Option<&str> {
        // Every OWS byte and empty list member makes the text longer than the canonical form,
        // and nothing else differs: equal lengths mean the text is already canonical (the
        // usual case, for headers this crate wrote or parsed from a well-behaved peer).
        (self.text.len() == self.bytes as usize).then_some(&*self.text)
    }

    /// The canonical header value as a new string.
    ///
    /// # Examples
    ///
    /// ```
    /// let baggage = usertrail_propagator::Baggage::parse("a=1; p = v")?;
    /// assert_eq!(baggage.to_header_value(), "a=1;p=v");
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn to_header_value(&self) -> String {
        let mut out = String::with_capacity(self.bytes as usize);
        self.write_to(&mut out);
        out
    }

    /// Sets the `baggage` header to the canonical value, unless there is no member: what
    /// [`inject`](crate::inject) does with a context's baggage, for callers that have only a
    /// baggage to send.
    ///
    /// # Errors
    ///
    /// None today: a parsed or built baggage holds only tokens, `baggage-octet`s and the
    /// separators, always a valid HTTP field value, so it is written without a second scan
    /// (checked in debug builds and by the fuzz targets). The `Result` stays for carriers
    /// that may refuse a value in the future.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::Baggage;
    ///
    /// let mut headers: Vec<(String, String)> = Vec::new();
    /// Baggage::parse("a = 1, b=2")?.inject(&mut headers)?;
    /// assert_eq!(headers, [("baggage".to_string(), "a=1,b=2".to_string())]);
    ///
    /// let mut none: Vec<(String, String)> = Vec::new();
    /// Baggage::new().inject(&mut none)?;
    /// assert!(none.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn inject<I: Injector + ?Sized>(&self, carrier: &mut I) -> Result<(), InjectError> {
        if !self.is_empty() {
            carrier::set_valid(carrier, BAGGAGE, self.to_header_value());
        }
        Ok(())
    }

    /// A copy that owns its text, to keep beyond the request.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::Baggage;
    ///
    /// let kept: Baggage<'static> = Baggage::parse(&String::from("a=1"))?.into_owned();
    /// assert_eq!(kept.get("a").as_deref(), Some("1"));
    /// # Ok::<(), usertrail_propagator::ParseError>(())
    /// ```
    pub fn into_owned(self) -> Baggage<'static> {
        Baggage {
            text: Cow::Owned(self.text.into_owned()),
            len: self.len,
            bytes: self.bytes,
            // The same text: the same bounds.
            index: self.index,
        }
    }
}

impl PartialEq for Baggage<'_> {
    fn eq(&self, other: &Baggage<'_>) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl Eq for Baggage<'_> {}

impl fmt::Debug for Baggage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|m| (m.key, m.value())))
            .finish()
    }
}

impl fmt::Display for Baggage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_header_value())
    }
}

crate::error::parse_impls!(Baggage);

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    /// Every header of up to three members built from tricky pieces: where the one-pass
    /// reading of canonical text takes a header, the general pass reads it the same way.
    #[test]
    fn the_canonical_pass_agrees_with_the_general_one() {
        const KEYS: [&str; 3] = ["session.id", "user.id", "account.id"];
        let members = [
            "",
            " ",
            "user.id=u1",
            "user.id=",
            "session.id=s%201",
            "account.id=a%",
            "k=v;p",
            "k=v;p=1",
            "k = v",
            "k=v ",
            " k=v",
            "k=\tv",
            "k=\"v\"",
            "k=v\\",
            "k",
            "=v",
            "k=v=w",
            "ké=v",
            "k=é",
            "k@=v",
            "k=a%zz",
            "user.id=%41",
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
                        let Some((len, found)) = scan_canonical(text.as_bytes(), Some(&KEYS))
                        else {
                            continue;
                        };
                        checked += 1;
                        let mut drops = 0;
                        let general = Baggage::from_cow_general(
                            Cow::Borrowed(&text),
                            &mut |_| drops += 1,
                            Some(&KEYS),
                        );
                        assert_eq!(drops, 0, "{text:?}");
                        assert_eq!(general.len, len, "{text:?}");
                        assert_eq!(general.bytes as usize, text.len(), "{text:?}");
                        assert_eq!(general.text, text.as_str(), "{text:?}");
                        assert_eq!(general.index, Some((&KEYS, found)), "{text:?}");
                    }
                }
            }
        }
        assert!(checked > 1000, "{checked}");
        let many = "k=v,".repeat(BAGGAGE_MAX_MEMBERS + 1);
        assert_eq!(
            scan_canonical(many.trim_end_matches(',').as_bytes(), None),
            None
        );
    }

    #[test]
    fn borrowed_when_clean() {
        let b = Baggage::parse("a=1, b = 2 ;p").unwrap();
        assert!(matches!(b.text, Cow::Borrowed(_)));
        assert_eq!(b.encoded_len(), b.to_string().len());
    }

    #[test]
    fn limit_cut_borrows_prefix() {
        let header: String = (0..100).map(|i| format!("k{i}=v,")).collect();
        let mut drops = Vec::new();
        let b = Baggage::parse_lossy(&header, |d| drops.push(d));
        assert!(matches!(b.text, Cow::Borrowed(_)));
        assert_eq!(b.len(), 64);
        assert_eq!(drops.len(), 1);
        assert_eq!(drops[0].member(), 65);
        assert_eq!(drops[0].count(), 36);
        assert_eq!(b.encoded_len(), b.to_string().len());
    }

    #[test]
    fn byte_limit() {
        let big = "x".repeat(5000);
        let header = format!("a={big},b={big},c=1");
        let mut drops = Vec::new();
        let b = Baggage::parse_lossy(&header, |d| drops.push(d.to_string()));
        assert_eq!(b.len(), 1);
        assert_eq!(
            drops,
            ["2 members from member 2 on dropped: over the 8192-byte limit"]
        );
    }

    #[test]
    fn invalid_in_the_middle_keeps_order() {
        let mut drops = Vec::new();
        let b = Baggage::parse_lossy(" a=1 ,b=\"x\", c = 3;p=1 ,=4, d=5", |d| {
            drops.push(d.member())
        });
        assert_eq!(drops, [2, 4]);
        assert_eq!(b.to_string(), "a=1,c=3;p=1,d=5");
        assert_eq!(b.len(), 3);
        assert_eq!(b.encoded_len(), b.to_string().len());
    }

    #[test]
    fn merge_respects_limits() {
        let header: String = (0..63).map(|i| format!("k{i}=v,")).collect();
        let mut b = Baggage::parse(&header).unwrap();
        let left_out = b
            .merge_missing(&[("session.id", "s"), ("user.id", "u"), ("account.id", "a")])
            .unwrap();
        assert_eq!(left_out, 2);
        assert_eq!(b.len(), 64);
        assert_eq!(b.get("session.id").as_deref(), Some("s"));
        assert_eq!(b.encoded_len(), b.to_string().len());
    }

    /// The bounds noted while parsing give what a pass over the parsed text gives: with OWS,
    /// repeated keys, escapes, properties, dropped members and a cut at the limit.
    #[test]
    fn indexed_values_agree_with_a_pass() {
        static KEYS: [&str; 3] = ["session.id", "user.id", "account.id"];
        let over_limit = format!(
            "user.id=a,{}user.id=late",
            "k=v,".repeat(BAGGAGE_MAX_MEMBERS)
        );
        let inputs = [
            "",
            "session.id=s1,user.id=u1,account.id=a1",
            " user.id = u%201 ;p=1 , session.id=\t,account.id=",
            "user.id=first,user.id=last",
            "a=1,user.id=u,bad key=2,account.id=a",
            "user.id=u;prop,,,account.id=a%2",
            "user.idx=1,user.i=2",
            over_limit.as_str(),
        ];
        for input in inputs {
            let text = Cow::Borrowed(input);
            let indexed = Baggage::from_cow_indexed(text, &mut |_| {}, Some(&KEYS));
            assert_eq!(
                indexed.get_indexed(&KEYS),
                indexed.get_each(KEYS),
                "{input:?}"
            );
            let mut changed = indexed.clone();
            changed.set("user.id", "new").unwrap();
            assert_eq!(changed.get_indexed(&KEYS), changed.get_each(KEYS));
            assert_eq!(changed.get_indexed(&KEYS)[1].as_deref(), Some("new"));
        }
    }

    /// The one-pass scanner and the piece-by-piece checker agree on every member of up to 6
    /// bytes over the characters that matter to the grammar.
    #[test]
    fn scan_agrees_with_check() {
        const ALPHABET: &[u8] = b"a=; \t\"%";
        let mut member = Vec::new();
        for len in 0..=6u32 {
            for mut n in 0..ALPHABET.len().pow(len) {
                member.clear();
                for _ in 0..len {
                    member.push(ALPHABET[n % ALPHABET.len()]);
                    n /= ALPHABET.len();
                }
                let member = core::str::from_utf8(&member).unwrap();
                let member = trim_ows(member);
                if member.is_empty() {
                    continue;
                }
                assert_eq!(
                    scan(member.as_bytes(), 0).map(|s| (s.end, s.size)),
                    BaggageMember::check_slow(member)
                        .ok()
                        .map(|size| (member.len(), size)),
                    "{member:?}"
                );
            }
        }
    }
}
