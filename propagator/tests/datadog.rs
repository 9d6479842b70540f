//! Datadog vectors: what Datadog's browser SDK 7.16.2 sends (shared/REFERENCE.md) and what
//! Datadog's tracers (dd-trace-rs tests) send and accept.

use usertrail_propagator::{
    DatadogContext, DatadogTags, DatadogTracestate, SamplingPriority, SpanId, TraceId, extract,
};

#[test]
fn browser_sdk_headers() {
    // Observed from browser RUM 7.16.2 in headless Chromium.
    let headers = [
        ("x-datadog-origin", "rum"),
        ("x-datadog-trace-id", "992357060732163540"),
        ("x-datadog-parent-id", "458454585432244812"),
        ("x-datadog-sampling-priority", "1"),
    ];
    let dd = DatadogContext::extract(&headers[..]).unwrap().unwrap();
    assert_eq!(dd.trace_id().to_u128(), 0x0dc58f7d2f4a95d4);
    assert_eq!(dd.parent_id().to_u64(), 0x065cc2043656824c);
    assert_eq!(dd.sampling_priority(), Some(SamplingPriority::AUTO_KEEP));
    assert_eq!(dd.origin(), Some("rum"));
}

#[test]
fn dd_trace_rs_128_bit_trace_id_from_tid() {
    // dd-trace-rs test_extract_datadog_propagator.
    let headers = [
        ("x-datadog-trace-id", "1234"),
        ("x-datadog-parent-id", "5678"),
        ("x-datadog-sampling-priority", "1"),
        ("x-datadog-origin", "synthetics"),
        (
            "x-datadog-tags",
            "_dd.p.test=value,_dd.p.tid=0000000000004321,any=tag",
        ),
    ];
    let dd = DatadogContext::extract(&headers[..]).unwrap().unwrap();
    assert_eq!(dd.trace_id().to_u128(), 317_007_296_906_698_644_522_194);
    assert_eq!(dd.trace_id().high(), 0x4321);
    assert_eq!(dd.trace_id().low(), 1234);
    assert_eq!(dd.tags().unwrap().get("_dd.p.test"), Some("value"));
}

#[test]
fn dd_trace_rs_malformed_tid_keeps_64_bits_and_reports() {
    let headers = [
        ("x-datadog-trace-id", "1234"),
        ("x-datadog-parent-id", "5678"),
        ("x-datadog-tags", "_dd.p.test=value,_dd.p.tid=4321,any=tag"),
    ];
    assert!(DatadogContext::extract(&headers[..]).is_err());
    let extracted = extract(&headers[..]);
    let sc = extracted.span_context().unwrap();
    assert_eq!(sc.trace_id().to_u128(), 1234);
    assert_eq!(
        extracted.errors()[0].to_string(),
        "x-datadog-tags: _dd.p.tid has the wrong length"
    );
}

/// (headers, reason, first error)
type InvalidRow = (
    Vec<(&'static str, &'static str)>,
    &'static str,
    &'static str,
);

#[rustfmt::skip]
fn invalid() -> Vec<InvalidRow> {
    vec![
        (vec![("x-datadog-trace-id", "0"), ("x-datadog-parent-id", "1")], "trace id 0 is invalid", "x-datadog-trace-id: trace-id is all zeros"),
        (vec![("x-datadog-trace-id", "1"), ("x-datadog-parent-id", "0")], "parent id 0 is invalid", "x-datadog-parent-id: parent-id is all zeros"),
        (vec![("x-datadog-trace-id", "1")], "parent id is required", "x-datadog-parent-id: parent-id is missing"),
        (vec![("x-datadog-trace-id", ""), ("x-datadog-parent-id", "1")], "empty trace id", "x-datadog-trace-id: trace-id is missing"),
        (vec![("x-datadog-trace-id", "-1"), ("x-datadog-parent-id", "1")], "unsigned only", "x-datadog-trace-id: trace-id is not a decimal number"),
        (vec![("x-datadog-trace-id", "+1"), ("x-datadog-parent-id", "1")], "no sign", "x-datadog-trace-id: trace-id is not a decimal number"),
        (vec![("x-datadog-trace-id", "0x1f"), ("x-datadog-parent-id", "1")], "decimal only", "x-datadog-trace-id: trace-id is not a decimal number"),
        (vec![("x-datadog-trace-id", "18446744073709551616"), ("x-datadog-parent-id", "1")], "2^64 does not fit", "x-datadog-trace-id: trace-id is out of range"),
        (vec![("x-datadog-trace-id", "1"), ("x-datadog-parent-id", "1 2")], "space inside", "x-datadog-parent-id: parent-id is not a decimal number"),
    ]
}

#[test]
fn invalid_ids_drop_the_context() {
    for (headers, reason, message) in invalid() {
        let extracted = extract(&headers[..]);
        assert!(extracted.span_context().is_none(), "{reason}");
        assert_eq!(extracted.errors()[0].to_string(), message, "{reason}");
        assert!(DatadogContext::extract(&headers[..]).is_err(), "{reason}");
    }
}

#[test]
fn largest_ids_are_fine() {
    let headers = [
        ("x-datadog-trace-id", "18446744073709551615"),
        ("x-datadog-parent-id", "00018446744073709551615"),
    ];
    let dd = DatadogContext::extract(&headers[..]).unwrap().unwrap();
    assert_eq!(dd.trace_id().low(), u64::MAX);
    assert_eq!(dd.parent_id().to_u64(), u64::MAX);
}

#[test]
fn sampling_priorities_may_be_negative() {
    for (value, priority) in [("-1", -1), ("0", 0), ("1", 1), ("2", 2)] {
        let headers = [
            ("x-datadog-trace-id", "1"),
            ("x-datadog-parent-id", "2"),
            ("x-datadog-sampling-priority", value),
        ];
        let extracted = extract(&headers[..]);
        let sc = extracted.span_context().unwrap();
        assert_eq!(
            sc.sampling_priority().map(SamplingPriority::get),
            Some(priority)
        );
        assert_eq!(sc.is_sampled(), priority > 0);
    }
}

#[test]
fn bad_optional_headers_are_reported_not_fatal() {
    let headers = [
        ("x-datadog-trace-id", "1"),
        ("x-datadog-parent-id", "2"),
        ("x-datadog-sampling-priority", "keep"),
        ("x-datadog-origin", "r\u{7f}um"),
        ("x-datadog-tags", "no-equals"),
    ];
    let extracted = extract(&headers[..]);
    let sc = extracted.span_context().unwrap();
    assert_eq!(sc.sampling_priority(), None);
    assert_eq!(sc.origin(), None);
    let errors: Vec<String> = extracted.errors().iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "x-datadog-sampling-priority: sampling priority is not a decimal number",
            "x-datadog-origin: origin is not printable ascii",
            "x-datadog-tags: tag is not `key=value` of printable ascii",
        ]
    );
}

#[test]
fn tags_round_trip_and_limits() {
    let tags = DatadogTags::parse("_dd.p.dm=-4,_dd.p.tid=66305cd500000000").unwrap();
    assert_eq!(tags.tid().unwrap(), Some(0x66305cd500000000));
    assert_eq!(tags.to_string().parse::<DatadogTags>().unwrap(), tags);
    assert!(DatadogTags::parse(&format!("_dd.p.x={}", "y".repeat(600))).is_err());
    assert!(DatadogTags::parse("_dd.p.x=a,b").is_err());
    assert!(
        DatadogTags::parse("_dd.p.tid=66305CD500000000")
            .unwrap()
            .tid()
            .is_err()
    );
}

/// Found by fuzzing (`fuzz/fuzz_targets/datadog.rs`): a value ending in spaces, followed by
/// empty pairs, was written last, where its spaces read as whitespace around the header (and
/// made the header value invalid). Whitespace around `,` is now not part of the pairs, and a
/// value cannot end in a space.
#[test]
fn tags_whitespace_around_commas_is_not_part_of_the_pairs() {
    let tags = DatadogTags::parse("a=1   ,,, b=x y ,").unwrap();
    assert_eq!(tags.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "x y")]);
    let written = tags.to_header_value();
    assert_eq!(written, "a=1,b=x y");
    assert_eq!(DatadogTags::parse(&written).unwrap(), tags);
    let mut tags = DatadogTags::parse("a= 1").unwrap();
    assert_eq!(
        tags.get("a"),
        Some(" 1"),
        "leading spaces of a value are kept"
    );
    assert!(tags.insert("b", "2 ").is_err());
    assert_eq!(tags.to_header_value(), "a= 1");
}

#[test]
fn dd_tracestate_member_from_the_browser_sdk() {
    let dd = DatadogTracestate::parse("s:1;o:rum").unwrap();
    assert_eq!(dd.sampling_priority(), Some(SamplingPriority::AUTO_KEEP));
    assert_eq!(dd.origin().as_deref(), Some("rum"));
    assert_eq!(dd.last_parent_id(), None);
}

#[test]
fn dd_tracestate_member_from_dd_trace() {
    // dd-trace-rs test_extract_traceparent_propagator.
    let dd = DatadogTracestate::parse("p:00f067aa0ba902b7;s:2;o:rum").unwrap();
    assert_eq!(dd.sampling_priority(), Some(SamplingPriority::USER_KEEP));
    assert_eq!(dd.last_parent_id(), SpanId::new(0x00f067aa0ba902b7));
    let dd = DatadogTracestate::parse("s:2;o:synthetics~web;t.dm:-4;t.usr.id:baz64~~").unwrap();
    assert_eq!(dd.origin().as_deref(), Some("synthetics=web"));
    let tags: Vec<_> = dd.tags().map(|(k, v)| (k, v.into_owned())).collect();
    assert_eq!(
        tags,
        [("dm", "-4".to_string()), ("usr.id", "baz64==".to_string())]
    );
}

#[rustfmt::skip]
#[test]
fn dd_tracestate_member_invalid() {
    for (input, reason) in [
        ("s:one", "s must be an integer"),
        ("p:00f067aa0ba902b", "p must be 16 hex digits"),
        ("p:00F067AA0BA902B7", "p must be lower-case"),
        ("s1", "item without ':'"),
        (":1", "empty item key"),
        ("s:1;o:a=b", "'=' is not allowed in a tracestate value"),
        ("s:1;o:a,b", "',' is not allowed in a tracestate value"),
        ("", "empty"),
    ] {
        assert!(DatadogTracestate::parse(input).is_err(), "{reason}");
    }
}

#[test]
fn dd_tracestate_new_encodes_origin() {
    let dd = DatadogTracestate::new(
        Some(SamplingPriority::USER_REJECT),
        Some("o=x,y;z~ é"),
        SpanId::new(0xab),
    );
    assert_eq!(dd.to_string(), "s:-1;o:o~x_y_z___;p:00000000000000ab");
    let written = dd.to_string();
    let back = DatadogTracestate::parse(&written).unwrap();
    assert_eq!(back.origin().as_deref(), Some("o=x_y_z___"));
}

#[test]
fn inject_writes_decimal_ids_and_tid() {
    let dd = DatadogContext::new(
        TraceId::from_u64_pair(0x6630_5cd5_0000_0000, 992357060732163540).unwrap(),
        SpanId::new(458454585432244812).unwrap(),
    )
    .with_sampling_priority(Some(SamplingPriority::USER_REJECT))
    .with_origin("rum");
    let mut headers: Vec<(String, String)> = Vec::new();
    dd.inject(&mut headers).unwrap();
    let back = DatadogContext::extract(&headers).unwrap().unwrap();
    assert_eq!(back.trace_id(), dd.trace_id());
    assert_eq!(back.parent_id(), dd.parent_id());
    assert_eq!(
        back.sampling_priority(),
        Some(SamplingPriority::USER_REJECT)
    );
    assert_eq!(back.origin(), Some("rum"));
    assert_eq!(
        headers
            .iter()
            .find(|(k, _)| k == "x-datadog-tags")
            .map(|(_, v)| v.as_str()),
        Some("_dd.p.tid=66305cd500000000")
    );
}
