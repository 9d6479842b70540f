//! Every header name this crate reads or writes, in one table.
//!
//! The table (the private `header_table!` macro) is the only place a name is spelled out, as http keeps its
//! standard headers in one `standard_headers!` list. From it come the name constants (re-exported
//! at the crate root: [`TRACEPARENT`], [`X_DATADOG_TRACE_ID`], …), the names of each
//! [`PropagatorType`] ([`PropagatorType::header_names`], which the CORS lists and the
//! OpenTelemetry propagator's `fields()` read), [`ALL`] (the fuzz crate and the tests), and,
//! with the `http` feature, the prebuilt `http::HeaderName`s of the `http::HeaderMap` carrier.
//!
//! # Examples
//!
//! ```
//! use usertrail_propagator::{headers, PropagatorType};
//!
//! assert_eq!(headers::TRACEPARENT, "traceparent");
//! assert_eq!(PropagatorType::TraceContext.header_names(), ["traceparent", "tracestate"]);
//! assert_eq!(headers::ALL.len(), 14);
//! assert!(headers::ALL.contains(&headers::BAGGAGE));
//! assert!(!headers::ALL.contains(&"x-request-id"));
//! ```

use crate::propagator_type::PropagatorType;

/// The table: groups of names, each with the [`PropagatorType`] that sends it (`baggage` goes
/// with any of them). `$callback` is a macro that receives the whole table; this module
/// expands it into constants, and the `http` carrier into `HeaderName`s.
macro_rules! header_table {
    ($callback:ident) => {
        $callback! {
            /// `tracecontext`: `traceparent`, `tracestate`.
            TRACECONTEXT_HEADERS for TraceContext => [
                /// Header name `traceparent` (W3C Trace Context Level 2 §3.2).
                TRACEPARENT = "traceparent";
                /// Header name `tracestate` (W3C Trace Context Level 2 §3.3).
                TRACESTATE = "tracestate";
            ]
            /// `datadog`: the `x-datadog-*` headers Datadog's browser SDK and this crate write.
            DATADOG_HEADERS for Datadog => [
                /// Header name `x-datadog-trace-id`: the low 64 bits of the trace id, in decimal.
                X_DATADOG_TRACE_ID = "x-datadog-trace-id";
                /// Header name `x-datadog-parent-id`: the caller's span id, in decimal.
                X_DATADOG_PARENT_ID = "x-datadog-parent-id";
                /// Header name `x-datadog-sampling-priority`: a signed integer (-1, 0, 1, 2).
                X_DATADOG_SAMPLING_PRIORITY = "x-datadog-sampling-priority";
                /// Header name `x-datadog-origin`, e.g. `rum`, `synthetics`.
                X_DATADOG_ORIGIN = "x-datadog-origin";
                /// Header name `x-datadog-tags`: comma-separated `_dd.p.*=value` propagation tags.
                X_DATADOG_TAGS = "x-datadog-tags";
            ]
            /// `b3` (single header): `b3`.
            B3_HEADERS for B3 => [
                /// Header name `b3` (openzipkin/b3-propagation, single header).
                B3 = "b3";
            ]
            /// `b3multi`: the `x-b3-*` headers.
            B3MULTI_HEADERS for B3Multi => [
                /// Header name `x-b3-traceid` (16 or 32 lower-case hex digits).
                X_B3_TRACEID = "x-b3-traceid";
                /// Header name `x-b3-spanid` (16 lower-case hex digits).
                X_B3_SPANID = "x-b3-spanid";
                /// Header name `x-b3-parentspanid` (16 lower-case hex digits).
                X_B3_PARENTSPANID = "x-b3-parentspanid";
                /// Header name `x-b3-sampled` (`1` or `0`; `true`/`false` accepted on read).
                X_B3_SAMPLED = "x-b3-sampled";
                /// Header name `x-b3-flags` (`1` means debug, which implies sampled).
                X_B3_FLAGS = "x-b3-flags";
            ]
            /// `baggage` (W3C Baggage): sent with every propagator type once an id is known.
            BAGGAGE_HEADERS => [
                /// Header name `baggage` (W3C Baggage).
                BAGGAGE = "baggage";
            ]
        }
    };
}
pub(crate) use header_table;

macro_rules! define_names {
    ($(
        $(#[$group_doc:meta])*
        $group:ident $(for $propagator:ident)? => [
            $( $(#[$doc:meta])* $name:ident = $text:literal; )+
        ]
    )+) => {
        $( $( $(#[$doc])* pub const $name: &str = $text; )+ )+

        $(
            $(#[$group_doc])*
            pub const $group: &[&str] = &[$($name),+];
        )+

        /// Every name in the table, lower case, each once: the names of
        /// [`PropagatorType::EXTRACT_ORDER`]'s types in table order, then `baggage`.
        pub const ALL: &[&str] = &[$($($name),+),+];

        impl PropagatorType {
            /// The headers this type writes (and reads), without `baggage`, from the one
            /// table of names in [`headers`](crate::headers).
            ///
            /// # Examples
            ///
            /// ```
            /// use usertrail_propagator::PropagatorType;
            ///
            /// assert_eq!(PropagatorType::B3.header_names(), ["b3"]);
            /// assert_eq!(PropagatorType::Datadog.header_names().len(), 5);
            /// assert!(!PropagatorType::B3Multi.header_names().contains(&"b3"));
            /// ```
            pub const fn header_names(self) -> &'static [&'static str] {
                match self {
                    $( $(PropagatorType::$propagator => $group,)? )+
                }
            }
        }
    };
}

header_table!(define_names);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_case_tokens_and_unique() {
        for (i, name) in ALL.iter().enumerate() {
            assert!(
                !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{name}"
            );
            assert!(!ALL[..i].contains(name), "{name} twice");
        }
    }

    #[test]
    fn every_name_belongs_to_one_group() {
        let groups = [
            TRACECONTEXT_HEADERS,
            DATADOG_HEADERS,
            B3_HEADERS,
            B3MULTI_HEADERS,
            BAGGAGE_HEADERS,
        ];
        assert_eq!(groups.iter().map(|g| g.len()).sum::<usize>(), ALL.len());
        for p in PropagatorType::EXTRACT_ORDER {
            assert!(p.header_names().iter().all(|n| ALL.contains(n)));
            assert!(!p.header_names().contains(&BAGGAGE));
        }
    }
}
