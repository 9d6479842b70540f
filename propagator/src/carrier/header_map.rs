//! The seam for `http::HeaderMap` (feature `http`), beside the traits it implements, with the
//! header names prebuilt from the table in [`headers`](crate::headers).

use super::{Extractor, Injector, JOINED_INLINE};
use alloc::string::String;
use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};

/// The prebuilt `HeaderName` for one of this crate's names (each built at compile time
/// from the table in [`headers`](crate::headers)). Looking up a `&str` makes `http` parse
/// and lower-case it first (about half the cost of a lookup); a string `match` is a length
/// switch and one comparison.
macro_rules! known_header_names {
    ($(
        $(#[$group_doc:meta])*
        $group:ident $(for $propagator:ident)? => [
            $( $(#[$doc:meta])* $name:ident = $text:literal; )+
        ]
    )+) => {
        fn known(name: &str) -> Option<&'static HeaderName> {
            match name {
                $($(
                    crate::headers::$name => {
                        static NAME: HeaderName = HeaderName::from_static(crate::headers::$name);
                        Some(&NAME)
                    }
                )+)+
                _ => None,
            }
        }
    };
}
crate::headers::header_table!(known_header_names);

#[inline]
fn as_str(value: &HeaderValue) -> Option<&str> {
    core::str::from_utf8(value.as_bytes()).ok()
}

/// Values that are not UTF-8 are skipped; values with non-ASCII UTF-8 are passed on and
/// rejected (and reported) by the parsers.
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
impl Extractor for HeaderMap {
    #[inline]
    fn get(&self, name: &str) -> Option<&str> {
        match known(name) {
            Some(known) => HeaderMap::get(self, known),
            None => HeaderMap::get(self, name),
        }
        .and_then(as_str)
    }

    fn get_all<'a>(&'a self, name: &str, each: &mut dyn FnMut(&'a str)) {
        let values = match known(name) {
            Some(known) => HeaderMap::get_all(self, known),
            None => HeaderMap::get_all(self, name),
        };
        for value in values.iter().filter_map(as_str) {
            each(value);
        }
    }

    /// Lists the headers when there are at most [`WALKED_HEADERS`] names: beyond, the
    /// lookups [`extract`](crate::extract) makes cost less than the walk.
    fn for_each_header<'a>(&'a self, each: &mut dyn FnMut(&str, &'a [u8])) -> bool {
        if self.keys_len() > WALKED_HEADERS {
            return false;
        }
        for (name, value) in self {
            // Skipping here what cannot be wanted saves a call through `each` for most of a
            // request's headers.
            let name = name.as_str();
            if super::snapshot::may_be_in_table(name) {
                each(name, value.as_bytes());
            }
        }
        true
    }
}

/// Header names up to which [`Extractor::for_each_header`] walks a `HeaderMap`.
const WALKED_HEADERS: usize = 32;

/// Skips (does not panic on) names or values `http` rejects.
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
impl Injector for HeaderMap {
    fn set(&mut self, name: &'static str, value: String) {
        if let Ok(value) = HeaderValue::try_from(value) {
            insert(self, name, value);
        }
    }

    /// The values share `values`' buffer (`Bytes` slices): one allocation for the buffer and
    /// one for its reference count, rather than one per value.
    fn set_joined(&mut self, headers: &[(&'static str, usize)], values: String) {
        if let [(name, end)] = headers {
            let mut values = values;
            if values.is_char_boundary(*end) && *end <= values.len() {
                values.truncate(*end);
                self.set(name, values);
            }
            return;
        }
        insert_joined(self, headers, Bytes::from(values.into_bytes()));
    }

    /// The values share one allocation, which holds their reference count too when they fit
    /// in [`JOINED_INLINE`] bytes (a `Bytes` of a `Vec` takes a second one for it).
    fn set_joined_ascii(&mut self, headers: &[(&'static str, usize)], values: &[u8]) {
        let bytes = match Inline::new(values) {
            Some(inline) => Bytes::from_owner(inline),
            None => Bytes::copy_from_slice(values),
        };
        insert_joined(self, headers, bytes);
    }
}

/// Up to [`JOINED_INLINE`] bytes, as the owner of a `Bytes`: boxed with the reference count.
struct Inline {
    bytes: [u8; JOINED_INLINE],
    len: usize,
}

impl Inline {
    fn new(values: &[u8]) -> Option<Self> {
        let mut bytes = [0; JOINED_INLINE];
        bytes.get_mut(..values.len())?.copy_from_slice(values);
        Some(Inline {
            bytes,
            len: values.len(),
        })
    }
}

impl AsRef<[u8]> for Inline {
    fn as_ref(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

/// Inserts each `(name, end)` with its piece of `bytes` (from the previous `end`); skips
/// pieces out of bounds or that `http` refuses.
fn insert_joined(map: &mut HeaderMap, headers: &[(&'static str, usize)], bytes: Bytes) {
    let mut start = 0;
    for &(name, end) in headers {
        let piece = start..end;
        start = end;
        if piece.start > piece.end || piece.end > bytes.len() {
            continue;
        }
        if let Ok(value) = HeaderValue::from_maybe_shared(bytes.slice(piece)) {
            insert(map, name, value);
        }
    }
}

/// Inserts under one of this crate's names (prebuilt) or any valid name; skips others.
fn insert(map: &mut HeaderMap, name: &'static str, value: HeaderValue) {
    let name = match known(name) {
        Some(known) => known.clone(),
        None => match HeaderName::from_bytes(name.as_bytes()) {
            Ok(name) => name,
            Err(_) => return,
        },
    };
    map.insert(name, value);
}
