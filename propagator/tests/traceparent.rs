//! `traceparent` vectors from W3C Trace Context Level 2 §3.2 and from the W3C test harness
//! (`w3c/trace-context` `test/test.py`), plus opentelemetry-rust's invalid table.

use usertrail_propagator::{TraceFlags, TraceId, Traceparent};

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

/// (input, version, trace id, parent id, flags, written back as)
#[rustfmt::skip]
fn valid() -> Vec<(&'static str, u8, u128, u64, u8, &'static str)> {
    vec![
        // §3.2.2.6 "Examples of HTTP traceparent Headers": sampled and not sampled.
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", 0, 0x4bf92f3577b34da6a3ce929d0e0e4736, 0x00f067aa0ba902b7, 0x01, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", 0, 0x4bf92f3577b34da6a3ce929d0e0e4736, 0x00f067aa0ba902b7, 0x00, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
        // §3.1 "Relationship Between the Headers" example.
        ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 0, 0x0af7651916cd43dd8448eb211c80319c, 0xb7ad6b7169203331, 0x01, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        // Level 2 §3.2.2.5.2: the random-trace-id flag.
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02", 0, 0x4bf92f3577b34da6a3ce929d0e0e4736, 0x00f067aa0ba902b7, 0x02, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02"),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03", 0, 0x4bf92f3577b34da6a3ce929d0e0e4736, 0x00f067aa0ba902b7, 0x03, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"),
        // §3.2.2.5 "As this is a bit field …": a flag `09` is sampled; version 00 keeps all bits.
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09", 0, 0x4bf92f3577b34da6a3ce929d0e0e4736, 0x00f067aa0ba902b7, 0x09, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09"),
        // Harness test_traceparent_ows_handling: leading/trailing SP and HTAB.
        (" 00-12345678901234567890123456789012-1234567890123456-01", 0, 0x12345678901234567890123456789012, 0x1234567890123456, 0x01, "00-12345678901234567890123456789012-1234567890123456-01"),
        ("\t00-12345678901234567890123456789012-1234567890123456-01", 0, 0x12345678901234567890123456789012, 0x1234567890123456, 0x01, "00-12345678901234567890123456789012-1234567890123456-01"),
        ("00-12345678901234567890123456789012-1234567890123456-01 ", 0, 0x12345678901234567890123456789012, 0x1234567890123456, 0x01, "00-12345678901234567890123456789012-1234567890123456-01"),
        ("\t 00-12345678901234567890123456789012-1234567890123456-01 \t", 0, 0x12345678901234567890123456789012, 0x1234567890123456, 0x01, "00-12345678901234567890123456789012-1234567890123456-01"),
        // §3.2.4 "Versioning of traceparent" / harness test_traceparent_version_0xcc: a higher
        // version is parsed by the 00 layout, unknown fields ignored, written back as 00.
        ("cc-12345678901234567890123456789012-1234567890123456-01", 0xcc, 0x12345678901234567890123456789012, 0x1234567890123456, 0x01, "00-12345678901234567890123456789012-1234567890123456-01"),
        ("cc-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be-like", 0xcc, 0x12345678901234567890123456789012, 0x1234567890123456, 0x01, "00-12345678901234567890123456789012-1234567890123456-01"),
        // Processing model: "will only parse flags values supported by the current version".
        ("02-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09", 0x02, 0x4bf92f3577b34da6a3ce929d0e0e4736, 0x00f067aa0ba902b7, 0x01, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff-", 0x01, 0x4bf92f3577b34da6a3ce929d0e0e4736, 0x00f067aa0ba902b7, 0x03, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"),
        // Largest ids.
        ("00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-ff", 0, u128::MAX, u64::MAX, 0xff, "00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-ff"),
    ]
}

#[test]
fn spec_valid_vectors_parse_and_write_back() {
    for (input, version, trace_id, parent_id, flags, written) in valid() {
        let tp = Traceparent::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(tp.version(), version, "{input:?}");
        assert_eq!(tp.trace_id().to_u128(), trace_id, "{input:?}");
        assert_eq!(tp.parent_id().to_u64(), parent_id, "{input:?}");
        assert_eq!(tp.flags().bits(), flags, "{input:?}");
        assert_eq!(tp.to_string(), written, "{input:?}");
        assert_eq!(Traceparent::parse(written).unwrap().to_string(), written);
    }
}

/// (input, reason, expected message)
#[rustfmt::skip]
fn invalid() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        // W3C harness (test/test.py), one row per case.
        ("00-12345678901234567890123456789012-1234567890123456-01.", "harness version_0x00: extra trailing characters", "trace-flags has the wrong length"),
        ("00-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be-like", "harness version_0x00: version 00 with extra fields", "version 00 has data after trace-flags"),
        ("cc-12345678901234567890123456789012-1234567890123456-01.what-the-future-will-be-like", "harness version_0xcc: flags not followed by a dash", "trace-flags has the wrong length"),
        ("ff-12345678901234567890123456789012-1234567890123456-01", "harness version_0xff: §3.2.2.1 version ff is invalid", "version ff is invalid"),
        (".0-12345678901234567890123456789012-1234567890123456-01", "harness version_illegal_characters", "version is not lower-case hex"),
        ("0.-12345678901234567890123456789012-1234567890123456-01", "harness version_illegal_characters", "version is not lower-case hex"),
        ("000-12345678901234567890123456789012-1234567890123456-01", "harness version_too_long", "version has the wrong length"),
        ("0000-12345678901234567890123456789012-1234567890123456-01", "harness version_too_long", "version has the wrong length"),
        ("0-12345678901234567890123456789012-1234567890123456-01", "harness version_too_short", "version has the wrong length"),
        ("00-00000000000000000000000000000000-1234567890123456-01", "harness trace_id_all_zero: §3.2.2.3 all zeroes forbidden", "trace-id is all zeros"),
        ("00-.2345678901234567890123456789012-1234567890123456-01", "harness trace_id_illegal_characters", "trace-id is not lower-case hex"),
        ("00-1234567890123456789012345678901.-1234567890123456-01", "harness trace_id_illegal_characters", "trace-id is not lower-case hex"),
        ("00-123456789012345678901234567890123-1234567890123456-01", "harness trace_id_too_long", "trace-id has the wrong length"),
        ("00-1234567890123456789012345678901-1234567890123456-01", "harness trace_id_too_short", "trace-id has the wrong length"),
        ("00-12345678901234567890123456789012-0000000000000000-01", "harness parent_id_all_zero: §3.2.2.4 all zeroes forbidden", "parent-id is all zeros"),
        ("00-12345678901234567890123456789012-.234567890123456-01", "harness parent_id_illegal_characters", "parent-id is not lower-case hex"),
        ("00-12345678901234567890123456789012-123456789012345.-01", "harness parent_id_illegal_characters", "parent-id is not lower-case hex"),
        ("00-12345678901234567890123456789012-12345678901234567-01", "harness parent_id_too_long", "parent-id has the wrong length"),
        ("00-12345678901234567890123456789012-123456789012345-01", "harness parent_id_too_short", "parent-id has the wrong length"),
        ("00-12345678901234567890123456789012-1234567890123456-.0", "harness trace_flags_illegal_characters", "trace-flags is not lower-case hex"),
        ("00-12345678901234567890123456789012-1234567890123456-0.", "harness trace_flags_illegal_characters", "trace-flags is not lower-case hex"),
        ("00-12345678901234567890123456789012-1234567890123456-001", "harness trace_flags_too_long", "trace-flags has the wrong length"),
        ("00-12345678901234567890123456789012-1234567890123456-1", "harness trace_flags_too_short", "trace-flags has the wrong length"),
        // §3.2.2 HEXDIGLC: lower-case only (opentelemetry-rust extract_data_invalid).
        ("A0-00000000000000000000000000000000-0000000000000000-01", "upper case version", "upper-case hex in version"),
        ("00-AB000000000000000000000000000000-cd00000000000000-01", "upper case trace ID", "upper-case hex in trace-id"),
        ("00-ab000000000000000000000000000000-CD00000000000000-01", "upper case span ID", "upper-case hex in parent-id"),
        ("00-ab000000000000000000000000000000-cd00000000000000-A1", "upper case trace flag", "upper-case hex in trace-flags"),
        ("0000-00000000000000000000000000000000-0000000000000000-01", "wrong version length", "version has the wrong length"),
        ("00-ab00000000000000000000000000000000-cd00000000000000-01", "wrong trace ID length", "trace-id has the wrong length"),
        ("00-ab000000000000000000000000000000-cd0000000000000000-01", "wrong span ID length", "parent-id has the wrong length"),
        ("00-ab000000000000000000000000000000-cd00000000000000-0100", "wrong trace flag length", "trace-flags has the wrong length"),
        ("qw-00000000000000000000000000000000-0000000000000000-01", "bogus version", "version is not lower-case hex"),
        ("00-qw000000000000000000000000000000-cd00000000000000-01", "bogus trace ID", "trace-id is not lower-case hex"),
        ("00-ab000000000000000000000000000000-qw00000000000000-01", "bogus span ID", "parent-id is not lower-case hex"),
        ("00-ab000000000000000000000000000000-cd00000000000000-qw", "bogus trace flag", "trace-flags is not lower-case hex"),
        ("00-00000000000000000000000000000000-0000000000000000-01", "zero trace ID and span ID", "trace-id is all zeros"),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "missing options", "trace-flags is missing"),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-", "empty options", "trace-flags has the wrong length"),
        // §3.2.4: "If the size of the header is shorter than 55 characters … restart the trace."
        ("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1", "future version shorter than 55", "trace-flags has the wrong length"),
        ("", "empty", "empty value"),
        (" \t ", "only OWS", "empty value"),
        ("00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01", "wrong delimiter", "version has the wrong length"),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n", "CR LF inside the value", "trace-flags has the wrong length"),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736\0-00f067aa0ba902b7-01", "NUL inside the value", "trace-id has the wrong length"),
        ("00-4bf92f3577b34da6a3ce929d0e0e473é-00f067aa0ba902b7-01", "non-ASCII in trace-id", "trace-id has the wrong length"),
    ]
}

#[test]
fn spec_invalid_vectors_are_rejected_with_reason() {
    for (input, reason, message) in invalid() {
        let err = Traceparent::parse(input).expect_err(reason);
        assert_eq!(err.to_string(), message, "{reason}: {input:?}");
    }
}

#[test]
fn level2_3_2_4_version_00_writes_55_characters() {
    let tp = Traceparent::parse(&format!("00-{TRACE_ID}-{PARENT_ID}-01")).unwrap();
    assert_eq!(tp.to_header_value().len(), 55);
}

#[test]
fn level2_3_2_4_constructing_uses_version_00() {
    let tp = Traceparent::new(
        TRACE_ID.parse::<TraceId>().unwrap(),
        PARENT_ID.parse().unwrap(),
        TraceFlags::SAMPLED | TraceFlags::RANDOM,
    );
    assert_eq!(tp.version(), 0);
    assert_eq!(tp.to_string(), format!("00-{TRACE_ID}-{PARENT_ID}-03"));
}

#[test]
fn from_str_and_try_from_agree_with_parse() {
    let s = format!("00-{TRACE_ID}-{PARENT_ID}-01");
    let a: Traceparent = s.parse().unwrap();
    let b = Traceparent::try_from(s.as_str()).unwrap();
    assert_eq!(a, b);
    assert!(Traceparent::try_from("x").is_err());
}
