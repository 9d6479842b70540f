//! The browser's lean paths against the generic ones: `NewTrace::inject` writes byte for byte
//! what the generic `inject` writes for the equivalent span context, `Baggage::inject` what
//! `inject` writes for a context that has only baggage, and `Baggage::extend_header` the members
//! that `parse_lossy` then `merge_missing` keep.

use proptest::prelude::*;
use usertrail_propagator::{
    Baggage, Context, InjectError, NewTrace, PropagatorType, SamplingPriority, SpanContext, SpanId,
    TraceFlags, TraceId, inject,
};

type Headers = Vec<(String, String)>;
/// What one inject path wrote, and what it returned.
type Injected = (Headers, Result<(), InjectError>);

const ALL: [PropagatorType; 4] = [
    PropagatorType::TraceContext,
    PropagatorType::Datadog,
    PropagatorType::B3,
    PropagatorType::B3Multi,
];

/// Both paths for one trace: `(generic, lean)` headers and results.
fn both(
    trace_id: TraceId,
    span_id: SpanId,
    flags: TraceFlags,
    origin: Option<&str>,
    propagators: &[PropagatorType],
) -> (Injected, Injected) {
    let priority = if flags.is_sampled() {
        SamplingPriority::AUTO_KEEP
    } else {
        SamplingPriority::AUTO_REJECT
    };
    let mut sc = SpanContext::new(trace_id, span_id, flags).with_sampling_priority(Some(priority));
    let mut trace = NewTrace::new(trace_id, span_id, flags);
    if let Some(origin) = origin {
        sc = sc.with_origin(origin);
        trace = trace.with_origin(origin);
    }
    let mut generic = Headers::new();
    let generic_result = inject(
        &Context::new().with_span_context(sc),
        propagators,
        &mut generic,
    );
    let mut lean = Headers::new();
    let lean_result = trace.inject(propagators, &mut lean);
    ((generic, generic_result), (lean, lean_result))
}

#[rustfmt::skip]
const ORIGINS: &[(Option<&str>, &str)] = &[
    (None, "no origin"),
    (Some("rum"), "the browser SDK's origin"),
    (Some(""), "empty origin"),
    (Some("a=b;c,d~e f"), "characters the dd member encodes"),
    (Some("é"), "non-ASCII: refused as x-datadog-origin, encoded in tracestate"),
    (Some("rum\r\nx-evil: 1"), "header injection attempt"),
];

#[test]
fn same_headers_as_generic_inject_for_every_format_and_origin() {
    let long = "o".repeat(250);
    let too_long = "o".repeat(251);
    let mut origins: Vec<(Option<&str>, &str)> = ORIGINS.to_vec();
    origins.push((
        Some(&long),
        "longest origin that fits the 256-character dd member",
    ));
    origins.push((
        Some(&too_long),
        "origin left out of tracestate: over 256 characters",
    ));
    let ids = [
        (
            TraceId::from_u64_pair(0, 992357060732163540).unwrap(),
            "64-bit trace id",
        ),
        (
            TraceId::new(u128::MAX).unwrap(),
            "128-bit trace id: _dd.p.tid",
        ),
    ];
    let orders: [&[PropagatorType]; 4] = [&ALL, &[ALL[3], ALL[2], ALL[1], ALL[0]], &ALL[..2], &[]];
    for (origin, why) in &origins {
        for (trace_id, id_why) in ids {
            for flags in [0x00, 0x01, 0x02, 0x03, 0xff].map(TraceFlags::new) {
                for propagators in orders {
                    let span_id = SpanId::new(458454585432244812).unwrap();
                    let (generic, lean) = both(trace_id, span_id, flags, *origin, propagators);
                    assert_eq!(lean, generic, "{why}, {id_why}, {flags:?}, {propagators:?}");
                }
            }
        }
    }
}

#[test]
fn the_browser_request_headers() {
    let trace = NewTrace::new(
        TraceId::from_u64_pair(0x6630_5cd5_0000_0000, 992357060732163540).unwrap(),
        SpanId::new(458454585432244812).unwrap(),
        TraceFlags::RANDOM.with_sampled(false),
    )
    .with_origin("rum");
    let mut headers = Headers::new();
    trace.inject(&ALL, &mut headers).unwrap();
    let names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "traceparent",
            "tracestate",
            "x-datadog-trace-id",
            "x-datadog-parent-id",
            "x-datadog-sampling-priority",
            "x-datadog-origin",
            "x-datadog-tags",
            "b3",
            "x-b3-traceid",
            "x-b3-spanid",
            "x-b3-sampled",
        ]
    );
    assert_eq!(
        headers[0].1,
        "00-66305cd5000000000dc58f7d2f4a95d4-065cc2043656824c-02"
    );
    assert_eq!(headers[1].1, "dd=s:0;o:rum");
    assert_eq!(headers[4].1, "0");
    assert_eq!(headers[6].1, "_dd.p.tid=66305cd500000000");
}

#[test]
fn baggage_inject_is_what_inject_writes_for_the_baggage() {
    for header in [
        "",
        "a=1",
        " a = 1 ; p , b=%20x ",
        "user.id=u%2C1,session.id=s",
    ] {
        let baggage = Baggage::parse(header).unwrap();
        let mut generic = Headers::new();
        inject(
            &Context::new().with_baggage(baggage.clone()),
            &ALL,
            &mut generic,
        )
        .unwrap();
        let mut lean = Headers::new();
        baggage.inject(&mut lean).unwrap();
        assert_eq!(lean, generic, "{header:?}");
    }
}

/// The generic path `Baggage::extend_header` stands in for, as canonical text.
fn merged_generically(header: &str, pairs: &[(&str, &str)]) -> String {
    let mut baggage = Baggage::parse_lossy(header, |_| {});
    baggage.merge_missing(pairs).unwrap();
    baggage.to_header_value()
}

const IDENTITY: [(&str, &str); 3] = [
    ("session.id", "5afb433c-40c3-4974-a7c2-8d5933cc67f6"),
    ("user.id", "jean dupont, 100%"),
    ("account.id", "acc\u{e9};1"),
];

#[rustfmt::skip]
const APP_HEADERS: &[(&str, &str)] = &[
    ("", "no app header"),
    ("tenant=acme", "one member"),
    ("tenant=acme,user.id=app-user", "the app's user.id wins"),
    ("  tenant = acme ,, user.id=app ;p", "OWS and empty members (written canonically by both)"),
    ("bad key=1,tenant=acme", "an invalid member is dropped"),
    ("a=\"quoted\",b=2", "a value outside baggage-octet is dropped"),
    ("session.id=s1,session.id=s2", "a duplicate key of ours, both kept"),
    ("k=%,k2=%zz", "a lone percent is a baggage-octet"),
    (",,,", "nothing but separators"),
];

#[test]
fn extend_header_keeps_what_parse_lossy_and_merge_missing_keep() {
    for &(header, why) in APP_HEADERS {
        let lean = Baggage::extend_header(header, &IDENTITY);
        // Both keep the same members; the lean path keeps a member's inner OWS as written.
        let reparsed = Baggage::parse(&lean).unwrap_or_else(|e| panic!("{why}: {lean:?}: {e}"));
        assert_eq!(
            reparsed.to_header_value(),
            merged_generically(header, &IDENTITY),
            "{why}"
        );
    }
    assert_eq!(
        Baggage::extend_header("tenant=acme,user.id=app-user", &IDENTITY),
        "tenant=acme,user.id=app-user,session.id=5afb433c-40c3-4974-a7c2-8d5933cc67f6,\
         account.id=acc%C3%A9%3B1",
    );
}

#[test]
fn extend_header_leaves_our_members_out_at_the_limits_and_the_app_members_in() {
    // 64 members: the app fills the limit, so none of ours fit.
    let full: String = (0..64)
        .map(|i| format!("k{i}=v"))
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(Baggage::extend_header(&full, &IDENTITY), full);
    // 8,192 bytes: the app's member fits exactly, ours do not.
    let big = format!("k={}", "v".repeat(8190));
    assert_eq!(Baggage::extend_header(&big, &IDENTITY), big);
    // One short of the member limit: only the first of ours fits.
    let almost: String = (0..63)
        .map(|i| format!("k{i}=v"))
        .collect::<Vec<_>>()
        .join(",");
    let extended = Baggage::extend_header(&almost, &IDENTITY);
    assert_eq!(extended, format!("{almost},session.id={}", IDENTITY[0].1));
    // Over the limits the app's own members beyond are dropped, as parse_lossy drops them.
    let over: String = (0..70)
        .map(|i| format!("k{i}=v"))
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(Baggage::extend_header(&over, &[]), full);
    // Keys that are not tokens, and repeated keys, are left out.
    assert_eq!(
        Baggage::extend_header("", &[("bad key", "1"), ("a", "1"), ("a", "2")]),
        "a=1"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn extend_header_agrees_with_the_generic_merge_on_canonical_headers(
        members in prop::collection::vec(("[a-z.]{1,6}", "[!#-+\\--:<-\\[\\]-~]{0,8}"), 0..80),
        values in prop::collection::vec(any::<String>(), 3),
    ) {
        let header: String = members.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
        let pairs = [("session.id", values[0].as_str()), ("user.id", values[1].as_str()), ("account.id", values[2].as_str())];
        prop_assert_eq!(Baggage::extend_header(&header, &pairs), merged_generically(&header, &pairs));
    }

    #[test]
    fn extend_header_never_panics_and_always_writes_valid_baggage(header in any::<String>(), value in any::<String>()) {
        let out = Baggage::extend_header(&header, &[("user.id", value.as_str())]);
        prop_assert!(out.is_empty() || Baggage::parse(&out).is_ok(), "{:?}", out);
    }

    #[test]
    fn same_headers_for_any_ids_flags_and_origin(
        t in 1..=u128::MAX,
        s in 1..=u64::MAX,
        f in any::<u8>(),
        origin in proptest::option::of(any::<String>()),
        propagators in prop::collection::vec(prop::sample::select(ALL.to_vec()), 0..6),
    ) {
        let (generic, lean) = both(
            TraceId::new(t).unwrap(),
            SpanId::new(s).unwrap(),
            TraceFlags::new(f),
            origin.as_deref(),
            &propagators,
        );
        prop_assert_eq!(lean, generic);
    }
}
