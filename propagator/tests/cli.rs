//! `usertrail decode`, run as a process. Needs the `cli` feature (which builds the binary):
//! `cargo test -p usertrail-propagator --all-features`.
#![cfg(feature = "cli")]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_usertrail"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn usertrail");
    // The process may exit (usage error) before reading: a broken pipe is fine.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().expect("wait for usertrail")
}

/// `usertrail decode --compact` on `stdin`: exit code 0 and the JSON line.
fn decode(stdin: &str) -> String {
    let out = run(&["decode", "--compact"], stdin.as_bytes());
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.ends_with('\n') && stdout.lines().count() == 1);
    stdout.trim_end().to_owned()
}

#[test]
fn browser_headers() {
    // What the browser SDK sends (REFERENCE.md), as copied from dev tools: mixed case, CRLF.
    let stdin = "Traceparent: 00-00000000000000000dc58f7d2f4a95d4-065cc2043656824c-01\r\n\
                 tracestate: dd=s:1;o:rum\r\n\
                 BAGGAGE: session.id=5afb433c-40c3-4974-a7c2-8d5933cc67f6,user.id=user_123,account.id=account_456\r\n\
                 \r\n";
    assert_eq!(
        decode(stdin),
        concat!(
            r#"{"trace":{"trace_id":"00000000000000000dc58f7d2f4a95d4","parent_id":"065cc2043656824c","#,
            r#""sampled":true,"flags":"01","source":"tracecontext","sampling_priority":1,"origin":"rum"},"#,
            r#""tracestate":"dd=s:1;o:rum","#,
            r#""baggage":[{"key":"session.id","value":"5afb433c-40c3-4974-a7c2-8d5933cc67f6","properties":[]},"#,
            r#"{"key":"user.id","value":"user_123","properties":[]},"#,
            r#"{"key":"account.id","value":"account_456","properties":[]}],"#,
            r#""span_tags":{"session.id":"5afb433c-40c3-4974-a7c2-8d5933cc67f6","usr.id":"user_123","account.id":"account_456"},"#,
            r#""errors":[]}"#,
        )
    );
}

#[test]
fn indented_by_default() {
    let out = run(&["decode"], b"baggage: user.id=u1\n");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "{\n  \"trace\": null,\n  \"tracestate\": null,\n  \"baggage\": [\n    {\n      \"key\": \"user.id\",\n      \
         \"value\": \"u1\",\n      \"properties\": []\n    }\n  ],\n  \"span_tags\": {\n    \"usr.id\": \"u1\"\n  },\n  \
         \"errors\": []\n}\n"
    );
}

#[test]
fn datadog_b3_and_decoded_baggage() {
    let json = decode(
        "x-datadog-trace-id: 992357060732163540\n\
         x-datadog-parent-id: 458454585432244812\n\
         x-datadog-sampling-priority: 2\n\
         baggage: user.id=jean%20dupont;source=sso;verified,note=%22q%22\n",
    );
    assert!(json.starts_with(
        r#"{"trace":{"trace_id":"00000000000000000dc58f7d2f4a95d4","parent_id":"065cc2043656824c","sampled":true,"flags":"01","source":"datadog","sampling_priority":2,"origin":null},"tracestate":null,"#
    ), "{json}");
    assert!(json.contains(
        r#""baggage":[{"key":"user.id","value":"jean dupont","properties":[{"key":"source","value":"sso"},{"key":"verified","value":null}]},{"key":"note","value":"\"q\"","properties":[]}]"#
    ), "{json}");
    assert!(
        json.ends_with(r#""span_tags":{"usr.id":"jean dupont"},"errors":[]}"#),
        "{json}"
    );

    let json =
        decode("x-b3-traceid: a3ce929d0e0e4736\nx-b3-spanid: 00f067aa0ba902b7\nx-b3-sampled: 0\n");
    assert!(json.starts_with(
        r#"{"trace":{"trace_id":"0000000000000000a3ce929d0e0e4736","parent_id":"00f067aa0ba902b7","sampled":false,"flags":"00","source":"b3multi","#
    ), "{json}");
    let json = decode("b3: a3ce929d0e0e4736-00f067aa0ba902b7-1\n");
    assert!(
        json.contains(r#""sampled":true,"flags":"01","source":"b3","#),
        "{json}"
    );
}

#[test]
fn invalid_headers_are_reported_not_fatal() {
    let json = decode(
        "GET / HTTP/1.1\n\
         traceparent: 00-00000000000000000000000000000000-065cc2043656824c-01\n\
         tracestate: dd=s:1\n\
         baggage: user.id=u1,bad key=1,session.id=s1\n",
    );
    assert_eq!(
        json,
        concat!(
            r#"{"trace":null,"tracestate":null,"#,
            r#""baggage":[{"key":"user.id","value":"u1","properties":[]},{"key":"session.id","value":"s1","properties":[]}],"#,
            r#""span_tags":{"session.id":"s1","usr.id":"u1"},"#,
            r#""errors":["line 1: not a header (no colon): \"GET / HTTP/1.1\"","traceparent: trace-id is all zeros","baggage: member 2 dropped: key is not a token"]}"#,
        )
    );
}

#[test]
fn invalid_tracestate_keeps_the_trace() {
    let json = decode(
        "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00\n\
         tracestate: a=1,A=2\n",
    );
    assert!(json.contains(r#""source":"tracecontext""#), "{json}");
    assert!(json.contains(r#""tracestate":null"#), "{json}");
    assert!(
        json.ends_with(r#""errors":["tracestate: key has an invalid character or shape"]}"#),
        "{json}"
    );
}

#[test]
fn level2_tracestate_keys_and_duplicates_are_inherited() {
    // Level 2 §3.3.2.2.1 ('@' is a keychar) and §3.5 (a duplicate from upstream is kept).
    let json = decode(
        "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00\n\
         tracestate: foo@@bar=1,foo=1\n\
         tracestate: foo=2\n",
    );
    assert!(
        json.contains(r#""tracestate":"foo@@bar=1,foo=1,foo=2""#),
        "{json}"
    );
    assert!(json.ends_with(r#""errors":[]}"#), "{json}");
}

#[test]
fn baggage_property_values_are_decoded() {
    let json = decode("baggage: k=v;p=%09%20%22\n");
    assert!(
        json.contains(r#""properties":[{"key":"p","value":"\t \""}]"#),
        "{json}"
    );
}

#[test]
fn empty_and_non_utf8_input() {
    assert_eq!(
        decode(""),
        r#"{"trace":null,"tracestate":null,"baggage":[],"span_tags":{},"errors":[]}"#
    );
    let out = run(&["decode", "--compact"], b"baggage: user.id=caf\xe9\n");
    assert_eq!(out.status.code(), Some(0));
    let json = String::from_utf8(out.stdout).unwrap();
    assert!(json.contains("\"line 1: not valid UTF-8"), "{json}");
    assert!(json.contains("\"baggage: member 1 dropped: "), "{json}");
}

#[test]
fn help_and_usage() {
    for args in [&["--help"][..], &["-h"], &["help"]] {
        let out = run(args, b"");
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.starts_with("usage: usertrail decode"), "{text}");
    }
    for args in [
        &["decode", "--help"][..],
        &["help", "decode"],
        &["decode", "-h"],
    ] {
        let out = run(args, b"");
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("span_tags"), "{text}");
        assert!(text.contains("errors"), "{text}");
    }
    for args in [
        &[][..],
        &["decod"],
        &["decode", "--pretty"],
        &["decode", "extra"],
    ] {
        let out = run(args, b"traceparent: x\n");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        let text = String::from_utf8(out.stderr).unwrap();
        assert!(text.contains("usage: usertrail decode"), "{text}");
    }
}

#[test]
fn output_is_json_that_reads_back_to_the_decoded_values() {
    // Control characters, quotes, backslashes and non-ASCII in values: whatever the bytes,
    // a JSON reader gets the decoded strings back.
    let json = decode(
        "baggage: k=%01%08%0C%22%5C%C3%A9%7F;p=%0A\nx-datadog-trace-id: 1\nx-datadog-parent-id: 2\nx-datadog-origin: a\"b\\c\n",
    );
    let value: serde_json::Value = serde_json::from_str(&json).expect(&json);
    assert_eq!(value["baggage"][0]["value"], "\u{1}\u{8}\u{c}\"\\é\u{7f}");
    assert_eq!(value["baggage"][0]["properties"][0]["value"], "\n");
    assert_eq!(value["trace"]["origin"], "a\"b\\c");
    assert_eq!(value["trace"]["sampling_priority"], serde_json::Value::Null);
    assert_eq!(value["span_tags"], serde_json::json!({}));
}
