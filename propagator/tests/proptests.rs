//! Property tests: `parse(write(x)) == x` for every type, and no parser panics on any input.

use proptest::prelude::*;
use usertrail_propagator::{
    B3Sampling, B3Single, Baggage, DatadogTags, DatadogTracestate, PropagatorType,
    SamplingPriority, SpanId, TraceFlags, TraceId, Traceparent, Tracestate, extract,
};

fn trace_id() -> impl Strategy<Value = TraceId> {
    (1..=u128::MAX).prop_map(|v| TraceId::new(v).unwrap())
}

fn span_id() -> impl Strategy<Value = SpanId> {
    (1..=u64::MAX).prop_map(|v| SpanId::new(v).unwrap())
}

fn b3_sampling() -> impl Strategy<Value = B3Sampling> {
    prop_oneof![
        Just(B3Sampling::Deny),
        Just(B3Sampling::Accept),
        Just(B3Sampling::Debug)
    ]
}

/// A tracestate key (Level 2 §3.3.2.2.1): `@` anywhere after the first character.
fn tracestate_key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9][a-z0-9_*/@-]{0,20}",
        "[a-z0-9][a-z0-9_*/@-]{250,255}",
    ]
}

/// A tracestate value: printable ASCII without `,` `=`, not ending in a space.
fn tracestate_value() -> impl Strategy<Value = String> {
    "[ -+--<>-~]{0,30}[!-+--<>-~]"
}

fn tracestate_header() -> impl Strategy<Value = String> {
    prop::collection::btree_map(tracestate_key(), tracestate_value(), 0..=32).prop_map(|members| {
        members
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// Any string, with a bias to the characters the formats care about.
fn junk() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[-0-9a-fA-F=,;:%~@ \t\r\n\0.dx]{0,120}",
        "(00|cc|ff|0)-[0-9a-f]{0,33}-[0-9a-f]{0,17}-[0-9a-f]{0,3}(-.{0,5})?",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn ids_round_trip(t in trace_id(), s in span_id(), f in any::<u8>()) {
        prop_assert_eq!(TraceId::parse(&t.to_string()), Ok(t));
        prop_assert_eq!(TraceId::from_bytes(t.to_bytes()), Some(t));
        prop_assert_eq!(TraceId::from_u64_pair(t.high(), t.low()), Some(t));
        prop_assert_eq!(SpanId::parse(&s.to_string()), Ok(s));
        prop_assert_eq!(SpanId::from_bytes(s.to_bytes()), Some(s));
        let flags = TraceFlags::new(f);
        prop_assert_eq!(TraceFlags::parse(&flags.to_string()), Ok(flags));
    }

    #[test]
    fn traceparent_round_trips(t in trace_id(), s in span_id(), f in any::<u8>()) {
        let tp = Traceparent::new(t, s, TraceFlags::new(f));
        let written = tp.to_header_value();
        prop_assert_eq!(written.len(), 55);
        prop_assert_eq!(Traceparent::parse(&written), Ok(tp));
    }

    #[test]
    fn tracestate_round_trips(header in tracestate_header()) {
        let ts = Tracestate::parse(&header).unwrap();
        let written = ts.to_string();
        prop_assert_eq!(&written, &header);
        prop_assert_eq!(Tracestate::parse(&written).unwrap(), ts);
    }

    #[test]
    fn tracestate_insert_keeps_it_valid(header in tracestate_header(), k in tracestate_key(), v in tracestate_value()) {
        let mut ts = Tracestate::parse(&header).unwrap();
        ts.insert(&k, &v).unwrap();
        prop_assert!(ts.len() <= 32);
        prop_assert_eq!(ts.iter().next(), Some((k.as_str(), v.as_str())));
        let written = ts.to_string();
        prop_assert_eq!(Tracestate::parse(&written).unwrap(), ts);
    }

    #[test]
    fn baggage_set_round_trips_any_value(pairs in prop::collection::vec(("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}", any::<String>()), 0..10)) {
        let mut baggage = Baggage::new();
        for (k, v) in &pairs {
            baggage.set(k, v).unwrap();
        }
        let written = baggage.to_string();
        prop_assert_eq!(written.len(), baggage.encoded_len());
        let back = Baggage::parse(&written).unwrap();
        prop_assert_eq!(&back, &baggage);
        for (k, _) in &pairs {
            // `set` replaced earlier values of the key; the last one set wins.
            let last = pairs.iter().rev().find(|(pk, _)| pk == k).map(|(_, v)| v.as_str());
            let got = back.get(k);
            prop_assert_eq!(got.as_deref(), last);
        }
    }

    #[test]
    fn baggage_lossy_output_is_always_valid_and_within_limits(s in junk()) {
        let baggage = Baggage::parse_lossy(&s, |_| {});
        prop_assert!(baggage.len() <= 64);
        prop_assert!(baggage.encoded_len() <= 8192);
        let written = baggage.to_string();
        prop_assert_eq!(written.len(), baggage.encoded_len());
        prop_assert_eq!(Baggage::parse(&written).unwrap(), baggage);
    }

    #[test]
    fn baggage_merge_stays_within_limits(s in junk(), session in any::<String>(), user in any::<String>()) {
        let mut baggage = Baggage::parse_lossy(&s, |_| {});
        baggage.merge_missing(&[("session.id", &session), ("user.id", &user)]).unwrap();
        prop_assert!(baggage.len() <= 64 && baggage.encoded_len() <= 8192);
        let written = baggage.to_string();
        prop_assert_eq!(Baggage::parse(&written).unwrap(), baggage);
    }

    #[test]
    fn datadog_tags_round_trip(pairs in prop::collection::btree_map("_dd\\.p\\.[a-z]{1,8}", "[ -+--~]{0,12}", 0..6)) {
        let header = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
        let tags = DatadogTags::parse(&header).unwrap();
        let written = tags.to_string();
        prop_assert_eq!(DatadogTags::parse(&written).unwrap(), tags);
    }

    #[test]
    fn dd_tracestate_round_trips(p in any::<i32>(), origin in proptest::option::of(any::<String>()), parent in proptest::option::of(span_id())) {
        let dd = DatadogTracestate::new(Some(SamplingPriority::new(p)), origin.as_deref(), parent);
        let written = dd.to_string();
        let back = DatadogTracestate::parse(&written).unwrap();
        prop_assert_eq!(back.sampling_priority(), Some(SamplingPriority::new(p)));
        prop_assert_eq!(back.last_parent_id(), parent);
        prop_assert_eq!(&back, &dd);
    }

    #[test]
    fn sampling_priority_round_trips(p in any::<i32>()) {
        let priority = SamplingPriority::new(p);
        prop_assert_eq!(SamplingPriority::parse(&priority.to_string()), Ok(priority));
    }

    #[test]
    fn b3_single_round_trips(t in trace_id(), s in span_id(), sampling in proptest::option::of(b3_sampling()), parent in proptest::option::of(span_id())) {
        let parent = sampling.and(parent);
        let b3 = B3Single::new(t, s).with_sampling(sampling).with_parent_span_id(parent);
        prop_assert_eq!(B3Single::parse(&b3.to_string()), Ok(b3));
        let only = B3Single::sampling_only(sampling.unwrap_or(B3Sampling::Accept));
        prop_assert_eq!(B3Single::parse(&only.to_string()), Ok(only));
    }

    #[test]
    fn propagator_type_round_trips(i in 0usize..4) {
        let p = PropagatorType::EXTRACT_ORDER[i];
        prop_assert_eq!(p.to_string().parse::<PropagatorType>(), Ok(p));
    }

    #[test]
    fn no_parser_panics(s in junk()) {
        let _ = TraceId::parse(&s);
        let _ = SpanId::parse(&s);
        let _ = TraceFlags::parse(&s);
        let _ = Traceparent::parse(&s);
        let _ = Tracestate::parse(&s);
        let _ = Baggage::parse(&s);
        let _ = DatadogTags::parse(&s);
        let _ = DatadogTracestate::parse(&s);
        let _ = SamplingPriority::parse(&s);
        let _ = B3Single::parse(&s);
        let _ = PropagatorType::parse(&s);
    }

    #[test]
    fn extract_never_panics(values in prop::collection::vec(junk(), 14)) {
        let names = [
            "traceparent", "tracestate", "baggage", "x-datadog-trace-id", "x-datadog-parent-id",
            "x-datadog-sampling-priority", "x-datadog-origin", "x-datadog-tags", "b3",
            "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags",
        ];
        let headers: Vec<(&str, &str)> = names.iter().copied().zip(values.iter().map(String::as_str)).collect();
        let extracted = extract(&headers);
        prop_assert!(extracted.errors().len() <= 17);
        if let Some(ts) = extracted.tracestate() {
            prop_assert!(Tracestate::parse(&ts.to_string()).is_ok());
        }
    }

    #[test]
    fn parsers_never_panic_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let s = String::from_utf8_lossy(&bytes);
        let _ = Traceparent::parse(&s);
        let _ = Tracestate::parse(&s);
        let _ = Baggage::parse_lossy(&s, |_| {});
        let _ = B3Single::parse(&s);
    }
}

/// A header value as `http` may hold it: text of every kind, a browser's own headers, or
/// bytes that are not UTF-8.
#[cfg(feature = "http")]
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        junk().prop_map(String::into_bytes),
        Just(b"00-00000000000000000dc58f7d2f4a95d4-065cc2043656824c-01".to_vec()),
        Just(b"cc-00000000000000000dc58f7d2f4a95d4-065cc2043656824c-01-\xff".to_vec()),
        Just(b"00-00000000000000000dc58f7d2f4a95d4-065cc2043656824c-\xff".to_vec()),
        Just(b"dd=s:1;o:rum".to_vec()),
        Just(b"session.id=s1,user.id=user_123,account.id=account_456".to_vec()),
        Just(b"992357060732163540".to_vec()),
        prop::collection::vec(any::<u8>(), 0..20),
    ]
}

#[cfg(feature = "http")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Reading an `http::HeaderMap` in one walk finds what looking each name up finds,
    /// repeated, missing and non-UTF-8 values included.
    #[test]
    fn a_header_map_read_in_one_walk_reads_as_by_lookups(
        headers in prop::collection::vec((0usize..18, header_value()), 0..12),
    ) {
        use usertrail_propagator::{headers::ALL, Extractor};

        /// The same map, through lookups only (the trait's default `for_each_header`).
        struct Lookups<'a>(&'a http::HeaderMap);
        impl Extractor for Lookups<'_> {
            fn get(&self, name: &str) -> Option<&str> {
                Extractor::get(self.0, name)
            }
            fn get_all<'b>(&'b self, name: &str, each: &mut dyn FnMut(&'b str)) {
                Extractor::get_all(self.0, name, each);
            }
        }

        let mut map = http::HeaderMap::new();
        for (name, value) in &headers {
            let name = ALL.get(*name).copied().unwrap_or(["host", "x-request-id", "te", "b3x"][*name % 4]);
            if let Ok(value) = http::HeaderValue::from_bytes(value) {
                map.append(name, value);
            }
        }
        let lookups = Lookups(&map);
        prop_assert_eq!(extract(&map), extract(&lookups));
    }
}
