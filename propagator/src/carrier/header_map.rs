//! The seam for `http::HeaderMap` (feature `http`), beside the traits it implements, with the
//! header names prebuilt from the table in [`headers`](crate::headers).

use super::{Extractor, Injector};
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
}

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
        let bytes = Bytes::from(values.into_bytes());
        let mut start = 0;
        for &(name, end) in headers {
            let piece = start..end;
            start = end;
            if piece.start > piece.end || piece.end > bytes.len() {
                continue;
            }
            if let Ok(value) = HeaderValue::from_maybe_shared(bytes.slice(piece)) {
                insert(self, name, value);
            }
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
