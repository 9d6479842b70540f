//! `tracestate` vectors from W3C Trace Context Level 2 §3.3 and §3.5
//! (<https://www.w3.org/TR/trace-context-2/#tracestate-header>), and from the W3C test harness
//! (`w3c/trace-context` `test/test.py`, STRICT_LEVEL 2). Section numbers are Level 2's:
//! §3.3.2.1 list, §3.3.2.2.1 Key, §3.3.2.2.2 Value, §3.3.3 Combined Header Value, §3.5
//! Mutating the tracestate Field.

use usertrail_propagator::{Tracestate, extract};

const TRACEPARENT: &str = "00-12345678901234567890123456789012-1234567890123456-00";

/// Members 1..=n as `barNN=NN`.
fn bars(range: std::ops::RangeInclusive<usize>) -> String {
    range
        .map(|i| format!("bar{i:02}={i:02}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// (input, members as key=value, reason)
type ValidRow = (String, Vec<(&'static str, &'static str)>, &'static str);

#[rustfmt::skip]
fn valid() -> Vec<ValidRow> {
    vec![
        ("rojo=00f067aa0ba902b7".into(), vec![("rojo", "00f067aa0ba902b7")], "§3.3.4 single tracing system"),
        ("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE".into(), vec![("rojo", "00f067aa0ba902b7"), ("congo", "t61rcWkgMzE")], "§3.3.4 multiple tracing systems"),
        ("".into(), vec![], "§3.3.2 vendors MUST accept empty tracestate headers"),
        (" , \t,".into(), vec![], "§3.3.2 empty and whitespace-only members are allowed"),
        ("foo=1 \t , \t bar=2, \t baz=3".into(), vec![("foo", "1"), ("bar", "2"), ("baz", "3")], "harness ows_handling"),
        ("foo=1\t \t,\t \tbar=2,\t \tbaz=3".into(), vec![("foo", "1"), ("bar", "2"), ("baz", "3")], "harness ows_handling"),
        (" foo=1".into(), vec![("foo", "1")], "harness ows_handling leading space"),
        ("\tfoo=1".into(), vec![("foo", "1")], "harness ows_handling leading tab"),
        ("foo=1 ".into(), vec![("foo", "1")], "harness ows_handling: trailing spaces are OWS"),
        ("foo=1\t".into(), vec![("foo", "1")], "harness ows_handling trailing tab"),
        ("foo=1,".into(), vec![("foo", "1")], "harness empty_header: 'foo=1' then ''"),
        (",foo=1".into(), vec![("foo", "1")], "harness empty_header: '' then 'foo=1'"),
        ("foo= 1".into(), vec![("foo", " 1")], "§3.3.2.2.2 leading spaces MUST be preserved"),
        ("0key=v".into(), vec![("0key", "v")], "§3.3.2.2.1 a key may start with a digit"),
        ("tenant@vendor=v".into(), vec![("tenant@vendor", "v")], "§3.3.2.2.1 '@' is a keychar"),
        ("foo@=1,bar=2".into(), vec![("foo@", "1"), ("bar", "2")], "§3.3.2.2.1 '@' may be last"),
        ("foo@@bar=1,bar=2".into(), vec![("foo@@bar", "1"), ("bar", "2")], "§3.3.2.2.1 '@' may repeat"),
        ("foo@bar@baz=1,bar=2".into(), vec![("foo@bar@baz", "1"), ("bar", "2")], "§3.3.2.2.1 no tenant/system split"),
        (format!("foo=1,t@{}=1", "v".repeat(15)), vec![("foo", "1"), ("t@vvvvvvvvvvvvvvv", "1")], "§3.3.2.2.1 no 14-character system limit"),
        ("1@vendor=x,t@1vendor=y".into(), vec![("1@vendor", "x"), ("t@1vendor", "y")], "§3.3.2.2.1 digits anywhere"),
        ("foo=1,foo=1".into(), vec![("foo", "1"), ("foo", "1")], "§3.5 a duplicate from upstream is kept as it came"),
        ("foo=1,foo=2".into(), vec![("foo", "1"), ("foo", "2")], "§3.5 a duplicate from upstream is kept as it came"),
        ("dd=s:1;o:rum".into(), vec![("dd", "s:1;o:rum")], "what Datadog's browser SDK sends"),
    ]
}

#[test]
fn spec_valid_vectors() {
    for (input, members, reason) in valid() {
        let ts = Tracestate::parse(&input).unwrap_or_else(|e| panic!("{reason}: {e}"));
        assert_eq!(ts.iter().collect::<Vec<_>>(), members, "{reason}");
        assert_eq!(ts.len(), members.len(), "{reason}");
        let written = ts.to_string();
        assert_eq!(Tracestate::parse(&written).unwrap(), ts, "{reason}");
    }
}

#[test]
fn harness_all_allowed_characters() {
    let key_without_vendor: String = ('a'..='z').chain('0'..='9').chain("_-*/".chars()).collect();
    let key_with_vendor = format!("{key_without_vendor}@a-z0-9_-*/");
    let value: String = (0x20u8..=0x2b)
        .chain(0x2d..=0x3c)
        .chain(0x3e..=0x7e)
        .map(char::from)
        .collect();
    for key in [&key_without_vendor, &key_with_vendor] {
        let header = format!("{key}={value}");
        let ts = Tracestate::parse(&header).unwrap();
        assert_eq!(ts.get(key), Some(value.as_str()));
    }
}

/// (input, reason, message)
#[rustfmt::skip]
fn invalid() -> Vec<(String, &'static str, &'static str)> {
    vec![
        ("foo =1".into(), "harness key_illegal_characters: space in key", "key has an invalid character or shape"),
        ("FOO=1".into(), "harness key_illegal_characters: upper case", "key has an invalid character or shape"),
        ("foo.bar=1".into(), "harness key_illegal_characters: dot", "key has an invalid character or shape"),
        ("@foo=1,bar=2".into(), "§3.3.2.2.1 a key starts with lcalpha or DIGIT, not '@'", "key has an invalid character or shape"),
        ("_foo=1".into(), "§3.3.2.2.1 a key starts with lcalpha or DIGIT, not '_'", "key has an invalid character or shape"),
        ("foo@bar.baz=1".into(), "§3.3.2.2.1 '.' is not a keychar", "key has an invalid character or shape"),
        (format!("foo=1,{}", bars(1..=33)), "harness member_count_limit: §3.3.2.1 at most 32 members", "more than 32 list members"),
        (format!("foo=1,{}=1", "z".repeat(257)), "harness key_length_limit: 257 characters", "key is longer than allowed"),
        (format!("foo=1,t@{}=1", "v".repeat(255)), "§3.3.2.2.1 257 characters with an '@'", "key is longer than allowed"),
        ("foo=bar=baz".into(), "harness value_illegal_characters: '='", "value has an invalid character"),
        ("foo=,bar=3".into(), "harness value_illegal_characters: empty value", "value is empty"),
        ("foo".into(), "no '='", "list member has no '='"),
        ("=1".into(), "empty key", "key has an invalid character or shape"),
        (format!("foo={}", "v".repeat(257)), "§3.3.2.2.2 value over 256 characters", "value is longer than 256 characters"),
        ("foo=a\tb".into(), "§3.3.2.2.2 tab inside a value", "value has an invalid character"),
        ("foo=a\r\nb".into(), "CR LF inside a value", "value has an invalid character"),
        ("foo=a\0b".into(), "NUL inside a value", "value has an invalid character"),
        ("foo=é".into(), "non-ASCII value", "value has an invalid character"),
    ]
}

#[test]
fn spec_invalid_vectors() {
    for (input, reason, message) in invalid() {
        let err = Tracestate::parse(&input).expect_err(reason);
        assert_eq!(err.to_string(), message, "{reason}");
    }
}

#[test]
fn harness_member_count_limit_32_is_fine() {
    let header = bars(1..=32);
    let ts = Tracestate::parse(&header).unwrap();
    assert_eq!(ts.len(), 32);
    assert_eq!(ts.get("bar01"), Some("01"));
}

#[test]
fn level2_3_3_2_2_1_key_length_limits_at_the_edge() {
    // 256 characters, with or without '@' anywhere: the Level 1 tenant (241) and system (14)
    // limits are gone.
    for key in [
        "z".repeat(256),
        format!("{}@{}", "t".repeat(241), "v".repeat(14)),
        format!("{}@v", "t".repeat(242)),
        format!("t@{}", "v".repeat(254)),
        format!("{}@", "t".repeat(255)),
    ] {
        assert!(key.len() <= 256, "{key}");
        let header = format!("foo=1,{key}=1");
        let ts = Tracestate::parse(&header).unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(ts.get(&key), Some("1"));
    }
}

#[test]
fn level2_3_3_multiple_headers_are_combined_in_order() {
    // Harness multiple_headers_different_keys, through extract (which joins lines with ',').
    let headers = [
        ("traceparent", TRACEPARENT),
        ("tracestate", "foo=1,bar=2"),
        ("tracestate", "rojo=1,congo=2"),
        ("tracestate", "baz=3"),
    ];
    let extracted = extract(&headers[..]);
    assert_eq!(
        extracted.tracestate().unwrap().to_string(),
        "foo=1,bar=2,rojo=1,congo=2,baz=3"
    );
}

#[test]
fn harness_member_count_across_lines() {
    let lines = [bars(1..=10), bars(11..=20), bars(21..=30), bars(31..=33)];
    let mut headers = vec![("traceparent", TRACEPARENT.to_string())];
    headers.extend(lines.iter().map(|l| ("tracestate", l.clone())));
    let extracted = extract(&headers);
    assert!(extracted.tracestate().is_none());
    assert_eq!(
        extracted.errors()[0].to_string(),
        "tracestate: more than 32 list members"
    );
    // The traceparent is unaffected (§3.3: failure to parse tracestate MUST NOT affect it).
    assert!(extracted.span_context().is_some());
}

#[test]
fn level2_3_5_duplicated_keys_across_lines_are_inherited() {
    // Harness duplicated_keys, on two header lines: the combined `foo=1,foo=2` is inherited as
    // it came (Level 2 §3.5 forbids adding a duplicate, not passing one on), and the traceparent
    // is continued.
    for second in ["foo=1", "foo=2"] {
        let headers = [
            ("traceparent", TRACEPARENT),
            ("tracestate", "foo=1"),
            ("tracestate", second),
        ];
        let extracted = extract(&headers[..]);
        assert!(extracted.errors().is_empty(), "{:?}", extracted.errors());
        let ts = extracted.tracestate().expect("inherited");
        assert_eq!(ts.to_string(), format!("foo=1,{second}"));
        assert_eq!(ts.get("foo"), Some("1"));
        assert!(extracted.span_context().is_some());
    }
}

#[test]
fn level2_3_5_adding_a_key_leaves_no_duplicate() {
    // "Adding a key/value pair MUST NOT result in the same key being present multiple times."
    let mut ts = Tracestate::parse("foo=1,bar=2,foo=3").unwrap();
    ts.insert("foo", "4").unwrap();
    assert_eq!(ts.to_string(), "foo=4,bar=2");
    assert_eq!(ts.len(), 2);
    let mut ts = Tracestate::parse("foo=1,bar=2,foo=3").unwrap();
    assert!(ts.remove("foo"));
    assert_eq!((ts.to_string().as_str(), ts.len()), ("bar=2", 1));
}

#[test]
fn harness_tracestate_without_traceparent_is_discarded() {
    // §3.3: "If the vendor failed to parse traceparent, it MUST NOT attempt to parse tracestate."
    let headers = [("tracestate", "foo=1,bar=2")];
    let extracted = extract(&headers[..]);
    assert!(extracted.tracestate().is_none());
    assert!(extracted.errors().is_empty());
    let headers = [("traceparent", "00-00"), ("tracestate", "foo=1,bar=2")];
    assert!(extract(&headers[..]).tracestate().is_none());
}

#[test]
fn level2_3_5_modified_key_moves_left() {
    // §3.1 example: Rojo adds its entry to the left, then Congo updates its own.
    let mut ts = Tracestate::parse("congo=t61rcWkgMzE").unwrap();
    ts.insert("rojo", "00f067aa0ba902b7").unwrap();
    assert_eq!(ts.to_string(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    ts.insert("congo", "ucfJifl5GOE").unwrap();
    assert_eq!(ts.to_string(), "congo=ucfJifl5GOE,rojo=00f067aa0ba902b7");
}

#[test]
fn level2_3_3_1_5_reentry_overwrites() {
    // "congo=congosSecondPosition,rojo=rojosFirstPosition"
    let mut ts = Tracestate::parse("rojo=rojosFirstPosition,congo=congosFirstPosition").unwrap();
    ts.insert("congo", "congosSecondPosition").unwrap();
    assert_eq!(
        ts.to_string(),
        "congo=congosSecondPosition,rojo=rojosFirstPosition"
    );
}

#[test]
fn level2_3_5_truncation_removes_from_the_right() {
    let header = bars(1..=32);
    let mut ts = Tracestate::parse(&header).unwrap();
    ts.insert("new", "x").unwrap();
    assert_eq!(ts.len(), 32);
    assert_eq!(ts.get("bar32"), None);
    assert_eq!(ts.get("bar31"), Some("31"));
    assert_eq!(ts.iter().next(), Some(("new", "x")));
}

#[test]
fn insert_rejects_bad_input_and_keeps_state() {
    let mut ts = Tracestate::parse("a=1").unwrap();
    assert!(ts.insert("A", "1").is_err());
    assert!(ts.insert("a", "").is_err());
    assert!(ts.insert("a", "x ").is_err());
    assert!(ts.insert("a", "x=y").is_err());
    assert_eq!(ts.to_string(), "a=1");
}

#[test]
fn huge_headers_are_bounded() {
    // A million commas and a multi-megabyte value: linear scan, no allocation beyond input.
    let commas = ",".repeat(1_000_000);
    assert!(Tracestate::parse(&commas).unwrap().is_empty());
    let long = format!("a={}", "v".repeat(4_000_000));
    assert!(Tracestate::parse(&long).is_err());
    let many = "a=1,".repeat(1_000_000);
    assert!(Tracestate::parse(&many).is_err());
}
