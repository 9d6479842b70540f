//! `baggage` vectors from the W3C Baggage spec (HTTP_HEADER_FORMAT.md) and
//! opentelemetry-rust's baggage propagator tables.

use std::borrow::Cow;

use usertrail_propagator::{BAGGAGE_MAX_BYTES, BAGGAGE_MAX_MEMBERS, Baggage, extract};

type Props<'a> = Vec<(&'a str, Option<&'a str>)>;
type DecodedProps<'a> = Vec<(&'a str, Option<Cow<'a, str>>)>;

/// (input, members as (key, decoded value, properties), reason)
type ValidRow = (
    &'static str,
    Vec<(&'static str, &'static str, Props<'static>)>,
    &'static str,
);

#[rustfmt::skip]
fn valid() -> Vec<ValidRow> {
    vec![
        ("key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue",
            vec![("key1", "value1", vec![("property1", None), ("property2", None)]), ("key2", "value2", vec![]), ("key3", "value3", vec![("propertyKey", Some("propertyValue"))])],
            "§Example: 3 list-members"),
        ("userId=alice,serverNode=DF%2028,isProduction=false",
            vec![("userId", "alice", vec![]), ("serverNode", "DF 28", vec![]), ("isProduction", "false", vec![])],
            "§Examples of HTTP headers: single header"),
        ("userId =   alice",
            vec![("userId", "alice", vec![])],
            "§Examples: values and names might begin and end with spaces"),
        ("key1=val1,key2=val2", vec![("key1", "val1", vec![]), ("key2", "val2", vec![])], "otel: valid w3cHeader"),
        ("key1 =   val1,  key2 =val2   ", vec![("key1", "val1", vec![]), ("key2", "val2", vec![])], "otel: valid w3cHeader with spaces"),
        ("key1=val1,key2=val2%2Cval3", vec![("key1", "val1", vec![]), ("key2", "val2,val3", vec![])], "otel: url-escaped comma"),
        ("key1=,key2=val2", vec![("key1", "", vec![]), ("key2", "val2", vec![])], "otel: empty value (value = *baggage-octet)"),
        ("key1=val1,key2=val2;prop=1", vec![("key1", "val1", vec![]), ("key2", "val2", vec![("prop", Some("1"))])], "otel: property"),
        ("a=b=c", vec![("a", "b=c", vec![])], "§value: MAY contain any number of '='"),
        ("a=1,a=2", vec![("a", "1", vec![]), ("a", "2", vec![])], "§baggage-string: duplicate keys allowed, order kept"),
        ("a=100%", vec![("a", "100%", vec![])], "a lone % is a baggage-octet; kept literally"),
        ("a=%zz%4", vec![("a", "%zz%4", vec![])], "a % without two hex digits is kept literally"),
        ("a=%E2%82%AC", vec![("a", "€", vec![])], "§value: URL-encoded UTF-8"),
        ("a=%e2%82%ac", vec![("a", "€", vec![])], "lower-case escapes decode too"),
        ("a=%FF%FE", vec![("a", "\u{FFFD}\u{FFFD}", vec![])], "§value: invalid UTF-8 MUST become U+FFFD"),
        ("a=+", vec![("a", "+", vec![])], "'+' is a baggage-octet meaning '+', not space"),
        ("!#$%&'*+-.^_`|~09AZaz=v", vec![("!#$%&'*+-.^_`|~09AZaz", "v", vec![])], "RFC 7230 §3.2.6 every tchar"),
        ("k=v;p=%09%20%22", vec![("k", "v", vec![("p", Some("\t \""))])], "§property: a property value is a `value`, URL-encoded like a member's"),
        ("k=v; p = caf%C3%A9 ;flag", vec![("k", "v", vec![("p", Some("café")), ("flag", None)])], "§property: OWS around a property is not part of it; UTF-8 decoded"),
        ("k=v;p=%FF;q=100%", vec![("k", "v", vec![("p", Some("\u{FFFD}")), ("q", Some("100%"))])], "property values: invalid UTF-8 becomes U+FFFD, a lone % is kept"),
        ("", vec![], "empty header"),
        (" , ,", vec![], "only empty members"),
    ]
}

#[test]
fn spec_valid_vectors() {
    for (input, members, reason) in valid() {
        let baggage = Baggage::parse(input).unwrap_or_else(|e| panic!("{reason}: {e}"));
        let got: Vec<(&str, Cow<str>, DecodedProps<'_>)> = baggage
            .iter()
            .map(|m| (m.key(), m.value(), m.properties().collect()))
            .collect();
        let want: Vec<(&str, Cow<str>, DecodedProps<'_>)> = members
            .into_iter()
            .map(|(k, v, p)| {
                let p = p.into_iter().map(|(pk, pv)| (pk, pv.map(Cow::Borrowed)));
                (k, Cow::Borrowed(v), p.collect())
            })
            .collect();
        assert_eq!(got, want, "{reason}");
        let written = baggage.to_string();
        assert_eq!(written.len(), baggage.encoded_len(), "{reason}");
        assert_eq!(Baggage::parse(&written).unwrap(), baggage, "{reason}");
    }
}

/// (input, reason, message)
#[rustfmt::skip]
fn invalid() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        ("key1", "otel: no '='", "list member has no '='"),
        ("=v", "key = token: empty key", "key is not a token"),
        ("bad key=v", "key = token: space inside", "key is not a token"),
        ("k\"=v", "key = token: DQUOTE", "key is not a token"),
        ("k(=v", "key = token: '('", "key is not a token"),
        ("k@=v", "key = token: '@'", "key is not a token"),
        ("ké=v", "key = token: non-ASCII", "key is not a token"),
        ("k=a b", "baggage-octet excludes whitespace", "value has a character outside baggage-octet"),
        ("k=\"v\"", "baggage-octet excludes DQUOTE", "value has a character outside baggage-octet"),
        ("k=a\\b", "baggage-octet excludes backslash", "value has a character outside baggage-octet"),
        ("k=a\tb", "baggage-octet excludes HTAB inside a value", "value has a character outside baggage-octet"),
        ("k=a\r\nb", "baggage-octet excludes CTLs (CR LF)", "value has a character outside baggage-octet"),
        ("k=a\0b", "baggage-octet excludes CTLs (NUL)", "value has a character outside baggage-octet"),
        ("k=é", "baggage-octet is ASCII", "value has a character outside baggage-octet"),
        ("k=v;", "property = key …: empty property", "property is not `key` or `key=value`"),
        ("k=v;p q", "property key must be a token", "property is not `key` or `key=value`"),
        ("k=v;p=a b", "property value must be baggage-octets", "property is not `key` or `key=value`"),
        ("k=v;=x", "property with empty key", "property is not `key` or `key=value`"),
    ]
}

#[test]
fn spec_invalid_members_are_rejected_by_the_strict_parser() {
    for (input, reason, message) in invalid() {
        let err = Baggage::parse(input).expect_err(reason);
        assert_eq!(err.to_string(), message, "{reason}");
    }
}

#[test]
fn invalid_members_are_dropped_without_losing_valid_ones() {
    for (input, reason, message) in invalid() {
        let header = format!("before=1,{input},after=2");
        let mut drops = Vec::new();
        let baggage = Baggage::parse_lossy(&header, |d| drops.push(d.to_string()));
        assert_eq!(baggage.to_string(), "before=1,after=2", "{reason}");
        assert_eq!(drops, [format!("member 2 dropped: {message}")], "{reason}");
    }
}

#[test]
fn spec_examples_multiple_headers_are_combined() {
    // §Examples of HTTP headers: "Context might be split into multiple headers".
    let headers = [
        ("baggage", "userId=alice"),
        ("baggage", "serverNode=DF%2028,isProduction=false"),
    ];
    let extracted = extract(&headers[..]);
    assert_eq!(
        extracted.baggage().to_string(),
        "userId=alice,serverNode=DF%2028,isProduction=false"
    );
    // "Values and names might begin and end with spaces".
    let headers = [
        ("baggage", "userId =   alice"),
        ("baggage", "serverNode = DF%2028, isProduction = false"),
    ];
    let extracted = extract(&headers[..]);
    assert_eq!(
        extracted.baggage().get("serverNode").as_deref(),
        Some("DF 28")
    );
    assert_eq!(extracted.baggage().len(), 3);
}

#[test]
fn limits_1_at_least_64_members_are_kept() {
    let header: String = (0..BAGGAGE_MAX_MEMBERS)
        .map(|i| format!("k{i}=v{i},"))
        .collect();
    let baggage = Baggage::parse(&header).unwrap();
    assert_eq!(baggage.len(), 64);
    let over = format!("{header}k64=v");
    assert_eq!(
        Baggage::parse(&over).unwrap_err().to_string(),
        "over the 64-member limit"
    );
    let mut drops = Vec::new();
    let kept = Baggage::parse_lossy(&over, |d| drops.push(d.to_string()));
    assert_eq!(kept, baggage);
    assert_eq!(drops, ["member 65 dropped: over the 64-member limit"]);
}

#[test]
fn limits_2_at_least_8192_bytes_are_kept() {
    // One member of exactly 8192 bytes.
    let header = format!("k={}", "v".repeat(BAGGAGE_MAX_BYTES - 2));
    let baggage = Baggage::parse(&header).unwrap();
    assert_eq!(baggage.encoded_len(), 8192);
    // One byte more is dropped whole (never truncated), the header is not failed.
    let header = format!("a=1,k={}", "v".repeat(BAGGAGE_MAX_BYTES - 2));
    let mut drops = Vec::new();
    let baggage = Baggage::parse_lossy(&header, |d| drops.push(d.to_string()));
    assert_eq!(baggage.to_string(), "a=1");
    assert_eq!(drops, ["member 2 dropped: over the 8192-byte limit"]);
}

#[test]
fn encoding_set_encodes_everything_outside_baggage_octet_and_percent() {
    let all: String = (0u8..=0x7f).map(char::from).chain("é€😀".chars()).collect();
    let mut baggage = Baggage::new();
    baggage.set("k", &all).unwrap();
    let written = baggage.to_string();
    let value = written.strip_prefix("k=").unwrap();
    for (i, b) in value.bytes().enumerate() {
        let octet = matches!(b, 0x21 | 0x23..=0x2b | 0x2d..=0x3a | 0x3c..=0x5b | 0x5d..=0x7e);
        assert!(octet, "byte {b:#x} at {i} is not a baggage-octet");
    }
    assert!(value.contains("%20"), "space is %20");
    assert!(value.contains("%25"), "% is encoded");
    assert!(
        value.contains("%2C")
            && value.contains("%3B")
            && value.contains("%5C")
            && value.contains("%22")
    );
    assert_eq!(baggage.get("k").as_deref(), Some(all.as_str()));
}

#[test]
fn get_returns_the_last_duplicate() {
    let baggage = Baggage::parse("user.id=first,other=x,user.id=second").unwrap();
    assert_eq!(baggage.get("user.id").as_deref(), Some("second"));
    let all: Vec<_> = baggage
        .iter()
        .filter(|m| m.key() == "user.id")
        .map(|m| m.value())
        .collect();
    assert_eq!(all, ["first", "second"]);
}

#[test]
fn set_replaces_every_duplicate_and_appends() {
    let mut baggage = Baggage::parse("a=1,b=2,a=3").unwrap();
    baggage.set("a", "4").unwrap();
    assert_eq!(baggage.to_string(), "b=2,a=4");
}

#[test]
fn set_refuses_to_go_over_the_limits() {
    let header: String = (0..64).map(|i| format!("k{i}=v,")).collect();
    let mut baggage = Baggage::parse(&header).unwrap();
    assert!(baggage.set("new", "x").is_err());
    assert!(
        baggage.set("k0", "replaced").is_ok(),
        "replacing keeps the count"
    );
    let mut baggage = Baggage::new();
    assert!(baggage.set("k", &"x".repeat(BAGGAGE_MAX_BYTES)).is_err());
    assert!(baggage.is_empty());
}

#[test]
fn merge_for_the_browser_app_value_wins() {
    let mut baggage = Baggage::parse_lossy("theme=dark,user.id=app-user", |_| {});
    let left_out = baggage
        .merge_missing(&[
            ("session.id", "5afb433c-40c3-4974-a7c2-8d5933cc67f6"),
            ("user.id", "user_123"),
            ("account.id", "account 456"),
        ])
        .unwrap();
    assert_eq!(left_out, 0);
    assert_eq!(
        baggage.to_string(),
        "theme=dark,user.id=app-user,session.id=5afb433c-40c3-4974-a7c2-8d5933cc67f6,account.id=account%20456"
    );
}

#[test]
fn merge_for_the_browser_stays_within_8192_bytes() {
    let app = format!("big={}", "x".repeat(8150));
    let mut baggage = Baggage::parse(&app).unwrap();
    let left_out = baggage
        .merge_missing(&[("session.id", "s".repeat(30).as_str()), ("user.id", "u")])
        .unwrap();
    assert_eq!(left_out, 1);
    assert!(baggage.encoded_len() <= BAGGAGE_MAX_BYTES);
    assert_eq!(baggage.to_string().len(), baggage.encoded_len());
    assert_eq!(baggage.get("user.id").as_deref(), Some("u"));
}

#[test]
fn huge_inputs_are_bounded_and_reported_once() {
    let commas = ",".repeat(1_000_000);
    assert!(Baggage::parse(&commas).unwrap().is_empty());
    let many = "k=v,".repeat(1_000_000);
    let mut drops = Vec::new();
    let baggage = Baggage::parse_lossy(&many, |d| drops.push((d.member(), d.count())));
    assert_eq!(baggage.len(), 64);
    assert_eq!(drops, [(65, 1_000_000 - 64)]);
    let percent_at_end = format!("k={}%", "v".repeat(1000));
    assert!(Baggage::parse(&percent_at_end).is_ok());
}

#[test]
fn property_values_are_encoded_on_write_and_passed_on_as_received() {
    // W3C Baggage §property: `property = key OWS "=" OWS value`, the same `value` as a
    // member's, so what is outside baggage-octet is percent-encoded both ways.
    let mut baggage = Baggage::new();
    baggage
        .set_with_properties(
            "k",
            "v",
            &[("p", Some("\t \"")), ("ttl", Some("1")), ("flag", None)],
        )
        .unwrap();
    assert_eq!(baggage.to_string(), "k=v;p=%09%20%22;ttl=1;flag");
    let member = baggage.iter().next().unwrap();
    assert_eq!(
        member.properties().collect::<Vec<_>>(),
        [
            ("p", Some(Cow::Borrowed("\t \""))),
            ("ttl", Some("1".into())),
            ("flag", None)
        ]
    );

    // Received properties go out as they came, and decode the same.
    let received = Baggage::parse("k=v;p=%09%20%22").unwrap();
    assert_eq!(received.to_string(), "k=v;p=%09%20%22");
    assert_eq!(
        received
            .iter()
            .next()
            .unwrap()
            .raw_properties()
            .collect::<Vec<_>>(),
        [("p", Some("%09%20%22"))]
    );
    assert_eq!(received, baggage_with("k", "v", &[("p", Some("\t \""))]));

    // A property key must be a token; nothing changes on error.
    let before = baggage.to_string();
    assert!(
        baggage
            .set_with_properties("k", "w", &[("bad key", None)])
            .is_err()
    );
    assert_eq!(baggage.to_string(), before);
}

fn baggage_with(key: &str, value: &str, properties: &[(&str, Option<&str>)]) -> Baggage<'static> {
    let mut baggage = Baggage::new();
    baggage.set_with_properties(key, value, properties).unwrap();
    baggage
}

#[test]
fn extract_decodes_property_values() {
    let extracted = extract(&[("baggage", "account.id=a1;note=caf%C3%A9%20au%20lait")][..]);
    let member = extracted.baggage().iter().next().unwrap();
    assert_eq!(
        member.properties().next(),
        Some(("note", Some(Cow::Owned("café au lait".to_owned()))))
    );
}
