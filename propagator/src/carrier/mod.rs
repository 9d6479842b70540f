//! The seam between header formats and whatever holds headers: two small traits.
//!
//! No `http` types in this file: the core stays dependency-free. `http::HeaderMap` gets its
//! impls in `carrier/header_map.rs` behind the `http` feature, `std::collections::HashMap` in
//! `carrier/hash_map.rs` behind `std`.

use alloc::borrow::Cow;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::borrow::Borrow;

use crate::error::{ErrorKind, InjectError};

/// Read access to incoming headers.
///
/// Names passed in are the lowercase constants of this crate ([`TRACEPARENT`](crate::TRACEPARENT),
/// …). Implementations should match names ASCII case-insensitively (HTTP field names are), or
/// store them lowercase.
///
/// Implemented for slices, arrays and `Vec`s of `(name, value)` pairs (case-insensitive scan),
/// `BTreeMap` (and `HashMap` with `std`) keyed by lowercase names, references to any
/// extractor, and `http::HeaderMap` with the `http` feature.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::Extractor;
///
/// let headers = [("TraceParent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), ("baggage", "a=1"), ("baggage", "b=2")];
/// // Slices have an inherent `get`, so call the trait's by path.
/// assert!(Extractor::get(&headers, "traceparent").is_some());
/// assert_eq!(Extractor::get(&headers, "tracestate"), None);
///
/// let mut all = Vec::new();
/// headers.get_all("baggage", &mut |v| all.push(v));
/// assert_eq!(all, ["a=1", "b=2"]);
/// ```
pub trait Extractor {
    /// The first value of header `name`, if any.
    fn get(&self, name: &str) -> Option<&str>;

    /// Calls `each` with every value of header `name`, in order (for headers that may be
    /// repeated: `tracestate`, `baggage`, and `traceparent`, whose repetition is an error).
    ///
    /// The default calls `each` once with [`get`](Self::get)'s value; override it when the
    /// carrier can hold repeated headers.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::Extractor;
    ///
    /// struct One(&'static str);
    /// impl Extractor for One {
    ///     fn get(&self, name: &str) -> Option<&str> {
    ///         (name == "baggage").then_some(self.0)
    ///     }
    /// }
    /// let mut seen = Vec::new();
    /// One("a=1").get_all("baggage", &mut |v| seen.push(v));
    /// One("a=1").get_all("tracestate", &mut |v| seen.push(v));
    /// assert_eq!(seen, ["a=1"]);
    /// ```
    fn get_all<'a>(&'a self, name: &str, each: &mut dyn FnMut(&'a str)) {
        if let Some(value) = self.get(name) {
            each(value);
        }
    }

    /// Calls `each` with the name (lower case) and the value of every header the carrier
    /// holds whose name may be one of [`headers::ALL`](crate::headers::ALL) (others may be
    /// passed too, or skipped), a repeated header once per value, and returns `true`; or
    /// returns `false` without calling it, which the default does. Values are passed as
    /// bytes: only those of the headers wanted are then checked to be UTF-8.
    ///
    /// [`extract`](crate::extract) then reads the headers it needs in this one pass instead
    /// of one [`get`](Self::get) or [`get_all`](Self::get_all) per name: worth it where a
    /// lookup costs more than a step of the walk (a hashed map with a few dozen entries).
    /// Implementations must agree with `get` (the first value listed for a name, if UTF-8)
    /// and `get_all` (every UTF-8 value listed for it). `http::HeaderMap` implements it.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::{extract, Extractor};
    ///
    /// struct Two;
    /// impl Extractor for Two {
    ///     fn get(&self, name: &str) -> Option<&str> {
    ///         (name == "baggage").then_some("user.id=u1")
    ///     }
    ///     fn for_each_header<'a>(&'a self, each: &mut dyn FnMut(&str, &'a [u8])) -> bool {
    ///         each("host", b"example.com");
    ///         each("baggage", b"user.id=u1");
    ///         true
    ///     }
    /// }
    /// assert_eq!(extract(&Two).identity().user_id(), Some("u1"));
    ///
    /// let mut names = Vec::new();
    /// assert!(!Extractor::for_each_header(&[("baggage", "a=1")][..], &mut |name, _| names.push(name.to_owned())));
    /// assert!(names.is_empty());
    /// ```
    fn for_each_header<'a>(&'a self, each: &mut dyn FnMut(&str, &'a [u8])) -> bool {
        let _ = each;
        false
    }
}

/// Write access to outgoing headers.
///
/// `name` is always one of the lowercase header-name constants of this crate, hence
/// `&'static str` (lets `http::HeaderMap` use `HeaderName::from_static`, no allocation).
/// `set` replaces any previous value of the same header. Values handed to `set` have already
/// been checked to be valid HTTP field values.
///
/// # Examples
///
/// ```
/// use usertrail_propagator::Injector;
///
/// let mut headers: Vec<(String, String)> = vec![("Baggage".into(), "old=1".into())];
/// headers.set("baggage", "new=2".into());
/// assert_eq!(headers, [("baggage".to_string(), "new=2".to_string())]);
/// ```
pub trait Injector {
    /// Sets header `name` to `value`, replacing earlier values.
    fn set(&mut self, name: &'static str, value: String);

    /// Sets several headers whose values lie end to end in `values`: each `(name, end)` gets
    /// the text from the previous `end` (0 for the first) to its own, replacing earlier
    /// values, as [`set`](Self::set) one by one would. A piece whose bounds are out of order,
    /// past the end or not on a char boundary is skipped.
    ///
    /// [`inject`](crate::inject) hands `traceparent`, `tracestate` and `baggage` over this
    /// way. The default makes a `String` per header (the last one reuses `values`), as many
    /// allocations as separate `set`s; `http::HeaderMap` overrides it to share one buffer
    /// among the values.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::Injector;
    ///
    /// let mut headers: Vec<(String, String)> = Vec::new();
    /// headers.set_joined(&[("tracestate", 3), ("baggage", 6)], "a=1b=2".into());
    /// assert_eq!(headers, [("tracestate".into(), "a=1".into()), ("baggage".into(), "b=2".into())]);
    ///
    /// let mut none: Vec<(String, String)> = Vec::new();
    /// none.set_joined(&[("baggage", 99)], "b=2".into()); // past the end: skipped
    /// assert!(none.is_empty());
    /// ```
    fn set_joined(&mut self, headers: &[(&'static str, usize)], mut values: String) {
        let mut start = 0;
        let last = headers.len().saturating_sub(1);
        for (i, &(name, end)) in headers.iter().enumerate() {
            let piece_start = start;
            start = end;
            if values.get(piece_start..end).is_none() {
                continue;
            }
            if i < last {
                self.set(
                    name,
                    String::from(values.get(piece_start..end).unwrap_or_default()),
                );
            } else {
                values.truncate(end);
                values.drain(..piece_start);
                self.set(name, values);
                return;
            }
        }
    }

    /// [`set_joined`](Self::set_joined) with the values as bytes of ASCII text (what
    /// [`inject`](crate::inject) writes), for a carrier that stores bytes and needs no
    /// `String`. The default checks that they are UTF-8 (nothing is set otherwise) and calls
    /// `set_joined`; `http::HeaderMap` overrides it to put the values in one shared
    /// allocation.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::Injector;
    ///
    /// let mut headers: Vec<(String, String)> = Vec::new();
    /// headers.set_joined_ascii(&[("tracestate", 3), ("baggage", 6)], b"a=1b=2");
    /// assert_eq!(headers, [("tracestate".into(), "a=1".into()), ("baggage".into(), "b=2".into())]);
    ///
    /// let mut none: Vec<(String, String)> = Vec::new();
    /// none.set_joined_ascii(&[("baggage", 3)], b"b=\xff"); // not UTF-8: nothing set
    /// assert!(none.is_empty());
    /// ```
    fn set_joined_ascii(&mut self, headers: &[(&'static str, usize)], values: &[u8]) {
        if let Ok(values) = core::str::from_utf8(values) {
            self.set_joined(headers, String::from(values));
        }
    }
}

/// Bytes of header values [`Joined`] keeps on the stack (and `http::HeaderMap` in one
/// allocation with their reference count): a browser's `traceparent`, `tracestate` and
/// `baggage` fit.
pub(crate) const JOINED_INLINE: usize = 256;

/// Header values this crate wrote (valid HTTP field values, checked in debug builds), laid
/// end to end for one [`Injector::set_joined_ascii`]: up to three. On the stack up to
/// [`JOINED_INLINE`] bytes, in a `Vec` beyond.
pub(crate) struct Joined {
    inline: [u8; JOINED_INLINE],
    len: usize,
    /// Everything pushed, once it no longer fits `inline`.
    spilled: Vec<u8>,
    headers: [(&'static str, usize); 3],
    count: usize,
}

impl Joined {
    pub(crate) fn new() -> Self {
        Joined {
            inline: [0; JOINED_INLINE],
            len: 0,
            spilled: Vec::new(),
            headers: [("", 0); 3],
            count: 0,
        }
    }

    fn text(&self) -> &[u8] {
        if self.spilled.is_empty() {
            self.inline.get(..self.len).unwrap_or_default()
        } else {
            &self.spilled
        }
    }

    /// Appends `value`, the value of `name` (ASCII). A fourth value is not kept (the callers
    /// push at most three).
    pub(crate) fn push(&mut self, name: &'static str, value: &[u8]) {
        let Some(slot) = self.headers.get_mut(self.count) else {
            debug_assert!(false, "more than three joined header values");
            return;
        };
        debug_assert!(
            core::str::from_utf8(value).is_ok_and(is_valid_header_value),
            "{name}: {value:?}"
        );
        let end = self.len + value.len();
        if self.spilled.is_empty() {
            if let Some(room) = self.inline.get_mut(self.len..end) {
                room.copy_from_slice(value);
            } else {
                self.spilled.reserve(end);
                self.spilled
                    .extend_from_slice(self.inline.get(..self.len).unwrap_or_default());
                self.spilled.extend_from_slice(value);
            }
        } else {
            self.spilled.extend_from_slice(value);
        }
        self.len = end;
        *slot = (name, end);
        self.count += 1;
    }

    /// Sets what was pushed, and starts over.
    pub(crate) fn set_on<I: Injector + ?Sized>(&mut self, carrier: &mut I) {
        let headers = self.headers.get(..self.count).unwrap_or_default();
        if !headers.is_empty() {
            carrier.set_joined_ascii(headers, self.text());
        }
        self.len = 0;
        self.count = 0;
        self.spilled.clear();
    }
}

/// What extraction reads headers from, handing out values borrowed for `'a`: a carrier
/// (`&'a E`), or a [`Snapshot`] of one (whose values borrow from the carrier, not from the
/// snapshot, which [`Extractor`]'s signatures cannot say).
pub(crate) trait Source<'a> {
    /// [`Extractor::get`].
    fn first(&self, name: &str) -> Option<&'a str>;
    /// [`Extractor::get_all`].
    fn each(&self, name: &str, each: &mut dyn FnMut(&'a str));

    /// [`first_and_count`] as bytes, for a reader that checks every byte itself: it may
    /// also give a single value that is not UTF-8 (and counts it), which a reader must then
    /// take as missing, as the carrier skips it.
    fn first_bytes(&self, name: &str) -> (Option<&'a [u8]>, usize) {
        let (first, count) = first_and_count(self, name);
        (first.map(str::as_bytes), count)
    }
}

impl<'a, E: Extractor + ?Sized> Source<'a> for &'a E {
    #[inline]
    fn first(&self, name: &str) -> Option<&'a str> {
        Extractor::get(*self, name)
    }

    #[inline]
    fn each(&self, name: &str, each: &mut dyn FnMut(&'a str)) {
        Extractor::get_all(*self, name, each);
    }
}

/// Joins every value of `name` with `,` (RFC 7230 §3.2.2). Borrows when there is one line:
/// the common case allocates nothing.
pub(crate) fn combined<'a, S: Source<'a> + ?Sized>(
    carrier: &S,
    name: &str,
) -> Option<Cow<'a, str>> {
    let mut out: Option<Cow<'a, str>> = None;
    carrier.each(name, &mut |value| match &mut out {
        None => out = Some(Cow::Borrowed(value)),
        Some(joined) => {
            let joined = joined.to_mut();
            joined.push(',');
            joined.push_str(value);
        }
    });
    out
}

/// An HTTP field value (RFC 7230 §3.2): visible ASCII, with spaces and tabs only inside. CR,
/// LF, NUL, other controls and non-ASCII bytes are refused.
pub(crate) fn is_valid_header_value(value: &str) -> bool {
    let b = value.as_bytes();
    let edges_ok =
        !matches!(b.first(), Some(b' ' | b'\t')) && !matches!(b.last(), Some(b' ' | b'\t'));
    // An OR over all bytes without early exit, so the compiler checks 16 or 32 at a time.
    let bad = b.iter().fold(0u8, |bad, &c| {
        bad | u8::from(c != b'\t' && c.wrapping_sub(0x20) > 0x7e - 0x20)
    });
    edges_ok && bad == 0
}

/// Sets a value this crate wrote and knows to be a valid HTTP field value (ids, flags, and
/// `tracestate`/`baggage` text, which only holds what their parsers and setters let in):
/// no second scan of it. Checked in debug builds, and by the fuzz targets.
#[inline]
pub(crate) fn set_valid<I: Injector + ?Sized>(carrier: &mut I, name: &'static str, value: String) {
    debug_assert!(is_valid_header_value(&value), "{name}: {value:?}");
    carrier.set(name, value);
}

/// Sets `name` if `value` is a valid HTTP field value; otherwise leaves the carrier alone and
/// records the first refusal in `result`.
pub(crate) fn set_checked<I: Injector + ?Sized>(
    carrier: &mut I,
    name: &'static str,
    value: String,
    result: &mut Result<(), InjectError>,
) {
    if is_valid_header_value(&value) {
        carrier.set(name, value);
    } else if result.is_ok() {
        *result = Err(InjectError::new(name, ErrorKind::InvalidHeaderValue));
    }
}

/// The first value of `name` and how many values there are.
pub(crate) fn first_and_count<'a, S: Source<'a> + ?Sized>(
    carrier: &S,
    name: &str,
) -> (Option<&'a str>, usize) {
    let mut first = None;
    let mut count = 0;
    carrier.each(name, &mut |value| {
        count += 1;
        if first.is_none() {
            first = Some(value);
        }
    });
    (first, count)
}

impl<T: Extractor + ?Sized> Extractor for &T {
    #[inline]
    fn get(&self, name: &str) -> Option<&str> {
        (**self).get(name)
    }

    #[inline]
    fn get_all<'a>(&'a self, name: &str, each: &mut dyn FnMut(&'a str)) {
        (**self).get_all(name, each);
    }

    #[inline]
    fn for_each_header<'a>(&'a self, each: &mut dyn FnMut(&str, &'a [u8])) -> bool {
        (**self).for_each_header(each)
    }
}

impl<T: Extractor + ?Sized> Extractor for &mut T {
    #[inline]
    fn get(&self, name: &str) -> Option<&str> {
        (**self).get(name)
    }

    #[inline]
    fn get_all<'a>(&'a self, name: &str, each: &mut dyn FnMut(&'a str)) {
        (**self).get_all(name, each);
    }

    #[inline]
    fn for_each_header<'a>(&'a self, each: &mut dyn FnMut(&str, &'a [u8])) -> bool {
        (**self).for_each_header(each)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Extractor for [(K, V)] {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.as_ref().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    fn get_all<'a>(&'a self, name: &str, each: &mut dyn FnMut(&'a str)) {
        for (k, v) in self {
            if k.as_ref().eq_ignore_ascii_case(name) {
                each(v.as_ref());
            }
        }
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> Extractor for [(K, V); N] {
    #[inline]
    fn get(&self, name: &str) -> Option<&str> {
        Extractor::get(self.as_slice(), name)
    }

    #[inline]
    fn get_all<'a>(&'a self, name: &str, each: &mut dyn FnMut(&'a str)) {
        self.as_slice().get_all(name, each);
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Extractor for Vec<(K, V)> {
    #[inline]
    fn get(&self, name: &str) -> Option<&str> {
        Extractor::get(self.as_slice(), name)
    }

    #[inline]
    fn get_all<'a>(&'a self, name: &str, each: &mut dyn FnMut(&'a str)) {
        self.as_slice().get_all(name, each);
    }
}

/// Keys must be stored lowercase.
impl<K: Borrow<str> + Ord, V: AsRef<str>> Extractor for BTreeMap<K, V> {
    #[inline]
    fn get(&self, name: &str) -> Option<&str> {
        BTreeMap::get(self, name).map(AsRef::as_ref)
    }
}

impl Injector for Vec<(String, String)> {
    fn set(&mut self, name: &'static str, value: String) {
        self.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.push((String::from(name), value));
    }
}

impl Injector for BTreeMap<String, String> {
    #[inline]
    fn set(&mut self, name: &'static str, value: String) {
        self.insert(String::from(name), value);
    }
}

impl<T: Injector + ?Sized> Injector for &mut T {
    #[inline]
    fn set(&mut self, name: &'static str, value: String) {
        (**self).set(name, value);
    }

    #[inline]
    fn set_joined(&mut self, headers: &[(&'static str, usize)], values: String) {
        (**self).set_joined(headers, values);
    }

    #[inline]
    fn set_joined_ascii(&mut self, headers: &[(&'static str, usize)], values: &[u8]) {
        (**self).set_joined_ascii(headers, values);
    }
}

#[cfg(feature = "std")]
mod hash_map;

#[cfg(feature = "http")]
mod header_map;

mod snapshot;
pub(crate) use snapshot::Snapshot;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_borrows_one_line_and_joins_more() {
        let one = [("baggage", "a=1")];
        assert!(matches!(
            combined(&&one[..], "baggage"),
            Some(Cow::Borrowed("a=1"))
        ));
        let two = [("baggage", "a=1"), ("other", "x"), ("BAGGAGE", "b=2")];
        assert_eq!(combined(&&two[..], "baggage").as_deref(), Some("a=1,b=2"));
        assert_eq!(combined(&&two[..], "tracestate"), None);
        assert_eq!(first_and_count(&&two[..], "baggage"), (Some("a=1"), 2));
    }

    #[test]
    fn btree_map_carrier() {
        let mut map = BTreeMap::new();
        map.set("traceparent", String::from("x"));
        assert_eq!(Extractor::get(&map, "traceparent"), Some("x"));
    }
}
