//! B3 vectors from openzipkin/b3-propagation (README: "Single Header", "Multiple Headers").

use usertrail_propagator::{B3Multi, B3Sampling, B3Single, PropagatorType, extract};

/// (input, trace id, span id, sampling, parent, reason)
type SingleRow = (
    &'static str,
    Option<u128>,
    Option<u64>,
    Option<B3Sampling>,
    Option<u64>,
    &'static str,
);

#[rustfmt::skip]
fn single_valid() -> Vec<SingleRow> {
    vec![
        ("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90", Some(0x80f198ee56343ba864fe8b2a57d3eff7), Some(0xe457b5a2e4d86bd1), Some(B3Sampling::Accept), Some(0x05e3ac9a4f6e3b90), "README: all four fields"),
        ("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1", Some(0x80f198ee56343ba864fe8b2a57d3eff7), Some(0xe457b5a2e4d86bd1), Some(B3Sampling::Accept), None, "README: parent omitted"),
        ("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1", Some(0x80f198ee56343ba864fe8b2a57d3eff7), Some(0xe457b5a2e4d86bd1), None, None, "README: sampling omitted (deferred)"),
        ("a3ce929d0e0e4736-00f067aa0ba902b7-d", Some(0xa3ce929d0e0e4736), Some(0x00f067aa0ba902b7), Some(B3Sampling::Debug), None, "README: 64-bit trace id, debug"),
        ("a3ce929d0e0e4736-00f067aa0ba902b7-0", Some(0xa3ce929d0e0e4736), Some(0x00f067aa0ba902b7), Some(B3Sampling::Deny), None, "deny"),
        ("0", None, None, Some(B3Sampling::Deny), None, "README: only the sampling state, deny"),
        ("1", None, None, Some(B3Sampling::Accept), None, "only the sampling state, accept"),
        ("d", None, None, Some(B3Sampling::Debug), None, "only the sampling state, debug"),
    ]
}

#[test]
fn single_valid_vectors_round_trip() {
    for (input, trace, span, sampling, parent, reason) in single_valid() {
        let b3 = B3Single::parse(input).unwrap_or_else(|e| panic!("{reason}: {e}"));
        assert_eq!(b3.trace_id().map(|t| t.to_u128()), trace, "{reason}");
        assert_eq!(b3.span_id().map(|s| s.to_u64()), span, "{reason}");
        assert_eq!(b3.sampling(), sampling, "{reason}");
        assert_eq!(b3.parent_span_id().map(|p| p.to_u64()), parent, "{reason}");
        assert_eq!(b3.to_string(), input, "{reason}: written back exactly");
    }
}

#[rustfmt::skip]
fn single_invalid() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        ("", "empty", "empty value"),
        ("2", "unknown sampling state", "sampling state is not 0, 1 or d"),
        ("true", "single header sampling is 0/1/d", "trace-id has the wrong length"),
        ("80f198ee56343ba864fe8b2a57d3eff7", "span id required", "span-id is missing"),
        ("80f198ee56343ba864fe8b2a57d3eff-e457b5a2e4d86bd1", "31-digit trace id", "trace-id has the wrong length"),
        ("80F198EE56343BA864FE8B2A57D3EFF7-e457b5a2e4d86bd1", "lower-hex only", "upper-case hex in trace-id"),
        ("00000000000000000000000000000000-e457b5a2e4d86bd1", "zero trace id", "trace-id is all zeros"),
        ("80f198ee56343ba864fe8b2a57d3eff7-0000000000000000", "zero span id", "span-id is all zeros"),
        ("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-x", "bad sampling state", "sampling state is not 0, 1 or d"),
        ("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b9", "short parent", "parent span-id has the wrong length"),
        ("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90-1", "five fields", "more than four fields"),
        ("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1--05e3ac9a4f6e3b90", "empty sampling before a parent", "sampling state is not 0, 1 or d"),
    ]
}

#[test]
fn single_invalid_vectors() {
    for (input, reason, message) in single_invalid() {
        let err = B3Single::parse(input).expect_err(reason);
        assert_eq!(err.to_string(), message, "{reason}");
    }
}

#[test]
fn multi_readme_example() {
    let headers = [
        ("X-B3-TraceId", "80f198ee56343ba864fe8b2a57d3eff7"),
        ("X-B3-ParentSpanId", "05e3ac9a4f6e3b90"),
        ("X-B3-SpanId", "e457b5a2e4d86bd1"),
        ("X-B3-Sampled", "1"),
    ];
    let b3 = B3Multi::extract(&headers[..]).unwrap().unwrap();
    assert_eq!(b3.trace_id().to_u128(), 0x80f198ee56343ba864fe8b2a57d3eff7);
    assert_eq!(
        b3.parent_span_id().map(|p| p.to_u64()),
        Some(0x05e3ac9a4f6e3b90)
    );
    let mut out: Vec<(String, String)> = Vec::new();
    b3.inject(&mut out).unwrap();
    let back = B3Multi::extract(&out).unwrap().unwrap();
    assert_eq!(back, b3);
}

#[rustfmt::skip]
#[test]
fn multi_sampled_values() {
    for (sampled, flags, expected) in [
        (Some("1"), None, Some(B3Sampling::Accept)),
        (Some("0"), None, Some(B3Sampling::Deny)),
        (Some("true"), None, Some(B3Sampling::Accept)),
        (Some("False"), None, Some(B3Sampling::Deny)),
        (None, Some("1"), Some(B3Sampling::Debug)),
        (Some("0"), Some("1"), Some(B3Sampling::Debug)),
        (Some("1"), Some("0"), Some(B3Sampling::Accept)),
        (None, None, None),
    ] {
        let mut headers = vec![("x-b3-traceid", "a3ce929d0e0e4736"), ("x-b3-spanid", "00f067aa0ba902b7")];
        if let Some(s) = sampled { headers.push(("x-b3-sampled", s)); }
        if let Some(f) = flags { headers.push(("x-b3-flags", f)); }
        let b3 = B3Multi::extract(&headers).unwrap().unwrap();
        assert_eq!(b3.sampling(), expected, "{sampled:?} {flags:?}");
    }
}

#[test]
fn multi_debug_injects_flags_not_sampled() {
    // README: "Debug implies an accept decision, so don't also send the X-B3-Sampled header."
    let headers = [
        ("x-b3-traceid", "a3ce929d0e0e4736"),
        ("x-b3-spanid", "00f067aa0ba902b7"),
        ("x-b3-flags", "1"),
    ];
    let b3 = B3Multi::extract(&headers[..]).unwrap().unwrap();
    let mut out: Vec<(String, String)> = Vec::new();
    b3.inject(&mut out).unwrap();
    assert!(out.iter().any(|(k, v)| k == "x-b3-flags" && v == "1"));
    assert!(!out.iter().any(|(k, _)| k == "x-b3-sampled"));
    assert!(
        out.iter()
            .any(|(k, v)| k == "x-b3-traceid" && v == "a3ce929d0e0e4736")
    );
}

#[test]
fn multi_lenient_extraction_reports() {
    let headers = [
        ("x-b3-traceid", "a3ce929d0e0e4736"),
        ("x-b3-spanid", "00f067aa0ba902b7"),
        ("x-b3-parentspanid", "nope"),
        ("x-b3-sampled", "yes"),
        ("x-b3-flags", "3"),
    ];
    assert!(B3Multi::extract(&headers[..]).is_err());
    let extracted = extract(&headers[..]);
    let sc = extracted.span_context().unwrap();
    assert_eq!(sc.source(), Some(PropagatorType::B3Multi));
    assert!(!sc.is_sampled());
    let errors: Vec<String> = extracted.errors().iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "x-b3-parentspanid: parent span-id has the wrong length",
            "x-b3-flags: flags is neither 0 nor 1",
            "x-b3-sampled: sampled is not 0, 1, true or false",
        ]
    );
}

#[test]
fn multi_without_span_id_is_no_context() {
    let extracted = extract(&[("x-b3-traceid", "a3ce929d0e0e4736")][..]);
    assert!(extracted.span_context().is_none());
    assert_eq!(
        extracted.errors()[0].to_string(),
        "x-b3-spanid: span-id is missing"
    );
    let extracted = extract(&[("x-b3-sampled", "1")][..]);
    assert!(extracted.span_context().is_none());
    assert!(extracted.errors().is_empty());
}
