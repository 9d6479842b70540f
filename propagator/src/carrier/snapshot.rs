//! [`Snapshot`]: the headers of the table in [`headers`](crate::headers) read off a carrier in
//! one pass ([`Extractor::for_each_header`]), for [`extract`](crate::extract) to look up by
//! name without going back to the carrier.
//!
//! An `http::HeaderMap` lookup hashes the name and probes its table (a few hundred
//! instructions each); `extract` makes four of them for a browser's request (`traceparent`,
//! `tracestate`, `x-datadog-trace-id`, `baggage`). One walk over a request's dozen headers,
//! most turned away by their first byte or their length, costs less than that.

use super::{Extractor, Source};

/// One slot per name of the table, in table order.
macro_rules! define_slots {
    ($(
        $(#[$group_doc:meta])*
        $group:ident $(for $propagator:ident)? => [
            $( $(#[$doc:meta])* $name:ident = $text:literal; )+
        ]
    )+) => {
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Clone, Copy)]
        enum Slot {
            $($($name,)+)+
        }

        const SLOTS: usize = [$($(Slot::$name),+),+].len();

        /// The slot of `name` (lower case), if it is one of the table's.
        #[inline]
        fn slot(name: &str) -> Option<usize> {
            if !may_be_in_table(name) {
                return None;
            }
            match name {
                $($(crate::headers::$name => Some(Slot::$name as usize),)+)+
                _ => None,
            }
        }
    };
}
crate::headers::header_table!(define_slots);

/// `false` when `name` is surely not in the table: its first byte or its length is no
/// name's. Most of a request's headers are turned away here, before any comparison.
#[inline]
pub(crate) fn may_be_in_table(name: &str) -> bool {
    let b = name.as_bytes();
    b.first()
        .is_some_and(|&first| FIRST_BYTES[usize::from(first)])
        && b.len() < 64
        && LENGTHS & (1u64 << b.len()) != 0
}

/// Whether a name of the table starts with each byte.
static FIRST_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < crate::headers::ALL.len() {
        table[crate::headers::ALL[i].as_bytes()[0] as usize] = true;
        i += 1;
    }
    table
};

/// Bit `n` set for each length `n` of a name in the table (all shorter than 64).
const LENGTHS: u64 = {
    let mut bits = 0u64;
    let mut i = 0;
    while i < crate::headers::ALL.len() {
        assert!(crate::headers::ALL[i].len() < 64);
        bits |= 1 << crate::headers::ALL[i].len();
        i += 1;
    }
    bits
};

/// The table's headers of a carrier: for each name, its first value and how many values it
/// has. A name with more than one value is read from the carrier again, as are names outside
/// the table. Values are checked to be UTF-8 when read, so that one read as bytes
/// ([`Source::first_bytes`]) is not checked at all.
pub(crate) struct Snapshot<'a, E: ?Sized> {
    carrier: &'a E,
    first: [&'a [u8]; SLOTS],
    values: [u8; SLOTS],
}

impl<'a, E: Extractor + ?Sized> Snapshot<'a, E> {
    /// Reads `carrier` in one pass, or `None` when it cannot list its headers.
    #[inline]
    pub(crate) fn take(carrier: &'a E) -> Option<Self> {
        let mut first: [&'a [u8]; SLOTS] = [&[]; SLOTS];
        let mut values = [0u8; SLOTS];
        let listed = carrier.for_each_header(&mut |name, value| {
            let Some(i) = slot(name) else {
                return;
            };
            if let (Some(count), Some(slot)) = (values.get_mut(i), first.get_mut(i)) {
                if *count == 0 {
                    *slot = value;
                }
                *count = count.saturating_add(1);
            }
        });
        listed.then_some(Snapshot {
            carrier,
            first,
            values,
        })
    }
}

impl<'a, E: Extractor + ?Sized> Source<'a> for Snapshot<'a, E> {
    #[inline]
    fn first(&self, name: &str) -> Option<&'a str> {
        match slot(name).and_then(|i| Some((self.values.get(i)?, self.first.get(i)?))) {
            Some((0, _)) => None,
            Some((_, first)) => core::str::from_utf8(first).ok(),
            None => self.carrier.get(name),
        }
    }

    #[inline]
    fn each(&self, name: &str, each: &mut dyn FnMut(&'a str)) {
        match slot(name).and_then(|i| Some((self.values.get(i)?, self.first.get(i)?))) {
            Some((0, _)) => {}
            Some((1, first)) => {
                if let Ok(value) = core::str::from_utf8(first) {
                    each(value);
                }
            }
            _ => self.carrier.get_all(name, each),
        }
    }

    #[inline]
    fn first_bytes(&self, name: &str) -> (Option<&'a [u8]>, usize) {
        match slot(name).and_then(|i| Some((self.values.get(i)?, self.first.get(i)?))) {
            Some((0, _)) => (None, 0),
            Some((1, first)) => (Some(first), 1),
            _ => {
                let (first, count) = super::first_and_count(self, name);
                (first.map(str::as_bytes), count)
            }
        }
    }
}

/// For the readers whose results borrow nothing (B3).
impl<E: Extractor + ?Sized> Extractor for Snapshot<'_, E> {
    #[inline]
    fn get(&self, name: &str) -> Option<&str> {
        Source::first(self, name)
    }

    #[inline]
    fn get_all<'b>(&'b self, name: &str, each: &mut dyn FnMut(&'b str)) {
        Source::each(self, name, each);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_of_the_table_has_its_slot() {
        for (i, name) in crate::headers::ALL.iter().enumerate() {
            assert_eq!(slot(name), Some(i), "{name}");
        }
        for other in [
            "",
            "host",
            "x-request-id",
            "trace",
            "Traceparent",
            "tracestatE",
        ] {
            assert_eq!(slot(other), None, "{other}");
        }
    }
}
