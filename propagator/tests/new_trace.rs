//! `NewTrace::inject` (the browser's lean path) writes byte for byte what the generic `inject`
//! writes for the equivalent span context, and `Baggage::inject` what `inject` writes for a
//! context that has only baggage.

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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

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
