//! Extraction priority, conflict reporting, and injection.

use usertrail_propagator::{
    Baggage, Context, Identity, PropagatorType, SamplingPriority, SpanContext, SpanId, TraceFlags,
    TraceId, Tracestate, cors, extract, extract_with, headers, inject,
};

const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn get<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn datadog_browser_sdk_request_end_to_end() {
    // shared/REFERENCE.md: browser RUM 7.16.2 with setUser / setAccount.
    let headers = [
        (
            "traceparent",
            "00-00000000000000000dc58f7d2f4a95d4-065cc2043656824c-01",
        ),
        ("tracestate", "dd=s:1;o:rum"),
        ("x-datadog-origin", "rum"),
        ("x-datadog-trace-id", "992357060732163540"),
        ("x-datadog-parent-id", "458454585432244812"),
        ("x-datadog-sampling-priority", "1"),
        (
            "baggage",
            "session.id=5afb433c-40c3-4974-a7c2-8d5933cc67f6,user.id=user_123,account.id=account_456",
        ),
    ];
    let extracted = extract(&headers[..]);
    assert_eq!(extracted.errors(), []);
    let sc = extracted.span_context().unwrap();
    assert_eq!(sc.source(), Some(PropagatorType::TraceContext));
    assert_eq!(sc.trace_id().low(), 992357060732163540);
    assert_eq!(sc.span_id().to_u64(), 458454585432244812);
    assert_eq!(sc.sampling_priority(), Some(SamplingPriority::AUTO_KEEP));
    assert_eq!(sc.origin(), Some("rum"));
    let identity = extracted.identity();
    let attributes: Vec<_> = identity.attributes().collect();
    assert_eq!(
        attributes,
        [
            ("session.id", "5afb433c-40c3-4974-a7c2-8d5933cc67f6"),
            ("usr.id", "user_123"),
            ("account.id", "account_456"),
        ]
    );
}

#[test]
fn priority_traceparent_then_datadog_then_b3multi_then_b3() {
    let tp = ("traceparent", TP);
    let dd = [("x-datadog-trace-id", "1"), ("x-datadog-parent-id", "2")];
    let b3m = [
        ("x-b3-traceid", "0000000000000003"),
        ("x-b3-spanid", "0000000000000004"),
    ];
    let b3 = ("b3", "0000000000000005-0000000000000006-1");

    let all: Vec<_> = [tp].into_iter().chain(dd).chain(b3m).chain([b3]).collect();
    let source =
        |headers: &[(&str, &str)]| extract(headers).span_context().and_then(|s| s.source());
    assert_eq!(source(&all), Some(PropagatorType::TraceContext));
    let no_tp: Vec<_> = dd.into_iter().chain(b3m).chain([b3]).collect();
    assert_eq!(source(&no_tp), Some(PropagatorType::Datadog));
    let only_b3: Vec<_> = b3m.into_iter().chain([b3]).collect();
    assert_eq!(source(&only_b3), Some(PropagatorType::B3Multi));
    assert_eq!(source(&[b3]), Some(PropagatorType::B3));
    assert_eq!(source(&[]), None);
}

#[test]
fn an_invalid_traceparent_falls_through_to_datadog_and_is_reported() {
    let headers = [
        (
            "traceparent",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        ),
        ("tracestate", "a=1"),
        ("x-datadog-trace-id", "1"),
        ("x-datadog-parent-id", "2"),
    ];
    let extracted = extract(&headers[..]);
    assert_eq!(
        extracted.span_context().unwrap().source(),
        Some(PropagatorType::Datadog)
    );
    assert!(extracted.tracestate().is_none());
    assert_eq!(
        extracted.errors()[0].to_string(),
        "traceparent: upper-case hex in trace-id"
    );
}

#[test]
fn traceparent_and_datadog_disagree_traceparent_wins() {
    let headers = [
        ("traceparent", TP),
        ("x-datadog-trace-id", "1"),
        ("x-datadog-parent-id", "2"),
        ("x-datadog-origin", "rum"),
    ];
    let extracted = extract(&headers[..]);
    let sc = extracted.span_context().unwrap();
    assert_eq!(sc.source(), Some(PropagatorType::TraceContext));
    assert_eq!(
        sc.origin(),
        None,
        "nothing taken from the disagreeing headers"
    );
    assert_eq!(
        extracted
            .errors()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["x-datadog-trace-id: trace-id differs from traceparent; traceparent wins"]
    );
}

#[test]
fn traceparent_and_datadog_agree_on_low_bits_and_fill_in() {
    let low = 0xa3ce929d0e0e4736u64;
    let low_decimal = low.to_string();
    let headers = [
        ("traceparent", TP),
        ("x-datadog-trace-id", low_decimal.as_str()),
        ("x-datadog-parent-id", "2"),
        ("x-datadog-sampling-priority", "2"),
        ("x-datadog-origin", "synthetics"),
    ];
    let extracted = extract(&headers[..]);
    assert_eq!(extracted.errors(), []);
    let sc = extracted.span_context().unwrap();
    assert_eq!(sc.sampling_priority(), Some(SamplingPriority::USER_KEEP));
    assert_eq!(sc.origin(), Some("synthetics"));
    assert_eq!(
        sc.span_id().to_u64(),
        0x00f067aa0ba902b7,
        "parent from traceparent"
    );
}

#[test]
fn datadog_with_tid_must_match_all_128_bits() {
    let headers = [
        ("traceparent", TP),
        ("x-datadog-trace-id", "11803532876627986230"), // 0xa3ce929d0e0e4736
        ("x-datadog-parent-id", "2"),
        ("x-datadog-tags", "_dd.p.tid=0000000000000001"),
    ];
    let extracted = extract(&headers[..]);
    assert_eq!(extracted.errors().len(), 1);
    let headers = [
        ("traceparent", TP),
        ("x-datadog-trace-id", "11803532876627986230"),
        ("x-datadog-parent-id", "2"),
        ("x-datadog-tags", "_dd.p.tid=4bf92f3577b34da6"),
    ];
    assert_eq!(extract(&headers[..]).errors(), []);
}

#[test]
fn dd_member_priority_is_reconciled_with_the_sampled_flag() {
    for (flags, s, expected) in [
        ("01", "2", 2),
        ("01", "-1", 1),
        ("00", "-1", -1),
        ("00", "1", 0),
    ] {
        let tp = format!("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-{flags}");
        let ts = format!("dd=s:{s};o:rum");
        let headers = [("traceparent", tp.as_str()), ("tracestate", ts.as_str())];
        let extracted = extract(&headers[..]);
        let sc = extracted.span_context().unwrap();
        assert_eq!(
            sc.sampling_priority().map(SamplingPriority::get),
            Some(expected),
            "{flags} {s}"
        );
    }
}

#[test]
fn a_bad_dd_member_is_reported_but_tracestate_kept() {
    let headers = [("traceparent", TP), ("tracestate", "dd=s:x,other=1")];
    let extracted = extract(&headers[..]);
    assert_eq!(extracted.tracestate().unwrap().len(), 2);
    assert_eq!(extracted.span_context().unwrap().sampling_priority(), None);
    assert_eq!(
        extracted.errors()[0].to_string(),
        "tracestate: sampling priority is not a decimal number"
    );
}

#[test]
fn harness_duplicated_traceparent_restarts() {
    let headers = [
        (
            "traceparent",
            "00-12345678901234567890123456789011-1234567890123456-01",
        ),
        (
            "traceparent",
            "00-12345678901234567890123456789012-1234567890123456-01",
        ),
    ];
    let extracted = extract(&headers[..]);
    assert!(extracted.span_context().is_none());
    assert_eq!(
        extracted.errors()[0].to_string(),
        "traceparent: more than one header"
    );
}

#[test]
fn harness_header_names_are_case_insensitive() {
    for name in ["TraceParent", "TrAcEpArEnT", "TRACEPARENT"] {
        assert!(
            extract(&[(name, TP)][..]).span_context().is_some(),
            "{name}"
        );
    }
    for name in ["trace-parent", "trace.parent"] {
        assert!(
            extract(&[(name, TP)][..]).span_context().is_none(),
            "{name}"
        );
    }
}

#[test]
fn extract_with_an_order_and_a_subset() {
    let headers = [
        ("traceparent", TP),
        ("b3", "0000000000000005-0000000000000006-1"),
    ];
    let only_b3 = extract_with(&headers[..], &[PropagatorType::B3]);
    assert_eq!(
        only_b3.span_context().unwrap().source(),
        Some(PropagatorType::B3)
    );
    // Without datadog in the list, its headers are not looked at.
    let headers = [
        ("traceparent", TP),
        ("x-datadog-trace-id", "1"),
        ("x-datadog-parent-id", "2"),
    ];
    assert_eq!(
        extract_with(&headers[..], &[PropagatorType::TraceContext]).errors(),
        []
    );
}

#[test]
fn never_panics_on_junk_everywhere() {
    let junk = [
        "", " ", ",", "=", "-", "%", "\0", "\r\n", "é", "ffff", "0", "-1", "d", ";;;", "a=b=c",
    ];
    for value in junk {
        let headers: Vec<(&str, &str)> = headers::ALL.iter().map(|n| (*n, value)).collect();
        let extracted = extract(&headers);
        assert!(extracted.errors().len() <= 17);
    }
}

#[test]
fn problem_list_is_capped() {
    let junk = "x,".repeat(10_000);
    let headers = [("baggage", junk.as_str())];
    let extracted = extract(&headers[..]);
    assert_eq!(extracted.errors().len(), 17);
    assert_eq!(
        extracted.errors()[16].to_string(),
        "9984 more problems not listed"
    );
}

fn local() -> SpanContext<'static> {
    SpanContext::new(
        TraceId::from_u64_pair(0x4bf92f3577b34da6, 0xa3ce929d0e0e4736).unwrap(),
        SpanId::new(0x00f067aa0ba902b7).unwrap(),
        TraceFlags::SAMPLED,
    )
}

#[test]
fn inject_every_format_and_read_it_back() {
    let mut baggage = Baggage::new();
    Identity::new()
        .with_session_id("s1")
        .with_user_id("jean dupont")
        .merge_into(&mut baggage)
        .unwrap();
    let cx = Context::new()
        .with_span_context(local())
        .with_baggage(baggage);
    for propagator in PropagatorType::EXTRACT_ORDER {
        let mut headers: Vec<(String, String)> = Vec::new();
        inject(&cx, &[propagator], &mut headers).unwrap();
        let extracted = extract(&headers);
        assert_eq!(extracted.errors(), [], "{propagator}");
        let sc = extracted.span_context().unwrap();
        assert_eq!(sc.source(), Some(propagator));
        assert_eq!(sc.trace_id(), local().trace_id(), "{propagator}");
        assert_eq!(sc.span_id(), local().span_id(), "{propagator}");
        assert!(sc.is_sampled(), "{propagator}");
        assert_eq!(extracted.identity().user_id(), Some("jean dupont"));
        assert_eq!(
            get(&headers, "baggage"),
            Some("session.id=s1,user.id=jean%20dupont")
        );
    }
}

#[test]
fn inject_tracecontext_writes_version_00_and_known_flags_only() {
    let sc = local().with_flags(TraceFlags::new(0xff));
    let mut headers = Vec::new();
    inject(
        &Context::new().with_span_context(sc),
        &[PropagatorType::TraceContext],
        &mut headers,
    )
    .unwrap();
    assert_eq!(
        get(&headers, "traceparent"),
        Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03")
    );
    assert_eq!(
        get(&headers, "tracestate"),
        None,
        "no empty tracestate is sent"
    );
}

#[test]
fn inject_keeps_tracestate_and_moves_dd_left() {
    let ts = Tracestate::parse("congo=t61rcWkgMzE,dd=s:1;o:rum;t.dm:-4").unwrap();
    let sc = local()
        .with_sampling_priority(Some(SamplingPriority::USER_KEEP))
        .with_origin("rum");
    let cx = Context::new()
        .with_span_context(sc)
        .with_tracestate(Some(ts.clone()));
    let mut headers = Vec::new();
    inject(&cx, &[PropagatorType::TraceContext], &mut headers).unwrap();
    assert_eq!(
        get(&headers, "tracestate"),
        Some("dd=s:2;o:rum;p:00f067aa0ba902b7;t.dm:-4,congo=t61rcWkgMzE")
    );
    // Without a Datadog priority the tracestate is passed on unchanged.
    let cx = Context::new()
        .with_span_context(local())
        .with_tracestate(Some(ts));
    let mut headers = Vec::new();
    inject(&cx, &[PropagatorType::TraceContext], &mut headers).unwrap();
    assert_eq!(
        get(&headers, "tracestate"),
        Some("congo=t61rcWkgMzE,dd=s:1;o:rum;t.dm:-4")
    );
}

#[test]
fn inject_datadog_and_b3_values() {
    let sc = local().with_flags(TraceFlags::NONE);
    let cx = Context::new().with_span_context(sc);
    let mut headers = Vec::new();
    inject(
        &cx,
        &[
            PropagatorType::Datadog,
            PropagatorType::B3,
            PropagatorType::B3Multi,
        ],
        &mut headers,
    )
    .unwrap();
    assert_eq!(
        get(&headers, "x-datadog-trace-id"),
        Some("11803532876627986230")
    );
    assert_eq!(
        get(&headers, "x-datadog-parent-id"),
        Some("67667974448284343")
    );
    assert_eq!(get(&headers, "x-datadog-sampling-priority"), Some("0"));
    assert_eq!(
        get(&headers, "x-datadog-tags"),
        Some("_dd.p.tid=4bf92f3577b34da6")
    );
    assert_eq!(
        get(&headers, "b3"),
        Some("4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0")
    );
    assert_eq!(
        get(&headers, "x-b3-traceid"),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(get(&headers, "x-b3-sampled"), Some("0"));
}

#[test]
fn inject_refuses_cr_lf_nul_and_writes_the_rest() {
    for origin in [
        "rum\r\nx-injected: 1",
        "a\0b",
        "a\nb",
        "caf\u{e9}",
        " leading",
    ] {
        let sc = local().with_origin(origin);
        let mut headers = Vec::new();
        let err = inject(
            &Context::new().with_span_context(sc),
            &[PropagatorType::Datadog],
            &mut headers,
        )
        .unwrap_err();
        assert_eq!(err.header(), "x-datadog-origin", "{origin:?}");
        assert_eq!(get(&headers, "x-datadog-origin"), None, "{origin:?}");
        assert!(get(&headers, "x-datadog-trace-id").is_some());
    }
}

#[test]
fn injected_dd_member_never_breaks_tracestate() {
    // An origin that cannot fit in the dd member is left out of it (and refused as a header).
    // No incoming context: the trace starts here, so no `p:` either.
    let long_origin = "o".repeat(300);
    let sc = local()
        .with_sampling_priority(Some(SamplingPriority::AUTO_KEEP))
        .with_origin(long_origin);
    let mut headers = Vec::new();
    inject(
        &Context::new().with_span_context(sc),
        &[PropagatorType::TraceContext],
        &mut headers,
    )
    .unwrap();
    assert_eq!(get(&headers, "tracestate"), Some("dd=s:1"));
}

#[test]
fn into_owned_outlives_the_headers() {
    let kept = {
        let headers = vec![
            ("traceparent".to_string(), TP.to_string()),
            ("tracestate".to_string(), "dd=s:1;o:rum".to_string()),
            ("baggage".to_string(), "user.id=u1".to_string()),
        ];
        extract(&headers).into_context().into_owned()
    };
    assert_eq!(kept.span_context().unwrap().origin(), Some("rum"));
    assert_eq!(kept.identity().user_id(), Some("u1"));
}

#[cfg(feature = "std")]
#[test]
fn hash_map_carrier() {
    use std::collections::HashMap;
    let mut map: HashMap<String, String> = HashMap::new();
    inject(
        &Context::new().with_span_context(local()),
        &[PropagatorType::TraceContext],
        &mut map,
    )
    .unwrap();
    assert!(extract(&map).span_context().is_some());
}

#[cfg(feature = "http")]
#[test]
fn http_header_map_carrier() {
    use http::HeaderMap;
    let mut map = HeaderMap::new();
    let cx = Context::new()
        .with_span_context(local())
        .with_baggage(Baggage::parse("a=1").unwrap());
    inject(&cx, &PropagatorType::EXTRACT_ORDER, &mut map).unwrap();
    assert_eq!(map.len(), 10);
    map.append("baggage", http::HeaderValue::from_static("b=2"));
    map.append(
        "traceparent",
        http::HeaderValue::from_bytes(b"\xff").unwrap(),
    );
    let extracted = extract(&map);
    assert_eq!(extracted.baggage().to_string(), "a=1,b=2");
    // The non-UTF-8 second traceparent is skipped by the carrier, so the first one is alone.
    assert!(extracted.span_context().is_some());
}

#[test]
fn a_trace_started_here_sends_dd_like_datadogs_browser_sdk() {
    // REFERENCE: Datadog's browser SDK sends `tracestate: dd=s:1;o:rum` (no `p:`).
    let sc = local()
        .with_sampling_priority(Some(SamplingPriority::AUTO_KEEP))
        .with_origin("rum");
    let mut headers = Vec::new();
    inject(
        &Context::new().with_span_context(sc),
        &[PropagatorType::TraceContext],
        &mut headers,
    )
    .unwrap();
    assert_eq!(get(&headers, "tracestate"), Some("dd=s:1;o:rum"));
}

#[test]
fn every_written_header_is_in_the_table_of_its_type() {
    // One table of names: what `inject` writes for a type is among that type's names, and the
    // CORS list for every type is the whole table.
    let trace_id = TraceId::from_u64_pair(1, 2).unwrap();
    let sc = SpanContext::new(trace_id, SpanId::new(3).unwrap(), TraceFlags::SAMPLED)
        .with_sampling_priority(Some(SamplingPriority::USER_KEEP))
        .with_origin("rum");
    let mut baggage = Baggage::new();
    baggage.set("user.id", "u1").unwrap();
    let cx = Context::new()
        .with_span_context(sc)
        .with_tracestate(Some(Tracestate::parse("other=1").unwrap()))
        .with_baggage(baggage);
    for p in PropagatorType::EXTRACT_ORDER {
        let mut out: Vec<(String, String)> = Vec::new();
        inject(&cx, &[p], &mut out).unwrap();
        for (name, _) in &out {
            assert!(
                p.header_names().contains(&name.as_str()) || name == headers::BAGGAGE,
                "{p}: {name}"
            );
        }
        let extracted = extract_with(&out, &[p]);
        assert_eq!(extracted.span_context().unwrap().source(), Some(p));
    }
    let mut all = cors::cors_allow_headers(&PropagatorType::EXTRACT_ORDER);
    let mut table = headers::ALL.to_vec();
    all.sort_unstable();
    table.sort_unstable();
    assert_eq!(all, table);
}
