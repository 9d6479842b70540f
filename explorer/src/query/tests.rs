use super::*;

fn term(field: Field, matcher: Matcher) -> Expr {
    Expr::Term(Term { field, matcher })
}

fn exact(field: Field, v: &str) -> Expr {
    term(field, Matcher::Exact(v.into()))
}

fn tag(key: &str) -> Field {
    Field::Tag(key.into())
}

fn expr(q: &str) -> Expr {
    match parse(q) {
        Ok(query) => query.expr().cloned().expect("not empty"),
        Err(e) => panic!("{q:?} should parse: {e}"),
    }
}

#[test]
fn empty_queries_match_everything() {
    assert_eq!(parse("").unwrap(), Query::all());
    assert_eq!(parse("   \t").unwrap(), Query::all());
}

#[test]
fn tag_terms() {
    assert_eq!(expr("@usr.id:user_123"), exact(tag("usr.id"), "user_123"));
    assert_eq!(
        expr("@account.id:account_456"),
        exact(tag("account.id"), "account_456")
    );
    assert_eq!(
        expr("@http.url_details.path:/api/v1"),
        exact(tag("http.url_details.path"), "/api/v1")
    );
}

#[test]
fn reserved_fields() {
    assert_eq!(expr("service:checkout"), exact(Field::Service, "checkout"));
    assert_eq!(expr("resource:GET"), exact(Field::Resource, "GET"));
    assert_eq!(expr("resource_name:GET"), exact(Field::Resource, "GET"));
    assert_eq!(expr("name:fraud.check"), exact(Field::Name, "fraud.check"));
    assert_eq!(expr("operation_name:x"), exact(Field::Name, "x"));
    assert_eq!(expr("kind:server"), exact(Field::Kind, "server"));
    assert_eq!(expr("trace_id:abc"), exact(Field::TraceId, "abc"));
    assert_eq!(expr("span_id:abc"), exact(Field::SpanId, "abc"));
}

#[test]
fn status() {
    assert_eq!(expr("status:error"), exact(Field::Status, "error"));
    assert_eq!(expr("status:ok"), exact(Field::Status, "ok"));
    assert_eq!(expr("status:ERROR"), exact(Field::Status, "error"));
}

#[test]
fn wildcards() {
    assert_eq!(
        expr("@account.id:premium_*"),
        term(
            tag("account.id"),
            Matcher::Wildcard(vec!["premium_".into(), String::new()])
        )
    );
    assert_eq!(
        expr("service:*out"),
        term(
            Field::Service,
            Matcher::Wildcard(vec![String::new(), "out".into()])
        )
    );
    assert_eq!(
        expr("@usr.id:a*b*c"),
        term(
            tag("usr.id"),
            Matcher::Wildcard(vec!["a".into(), "b".into(), "c".into()])
        )
    );
    // An escaped star is literal.
    assert_eq!(expr(r"@usr.id:a\*b"), exact(tag("usr.id"), "a*b"));
}

#[test]
fn durations_with_every_unit_and_operator() {
    let cases: &[(&str, Cmp, f64)] = &[
        ("@duration:>5s", Cmp::Gt, 5e9),
        ("@duration:>=5s", Cmp::Ge, 5e9),
        ("@duration:<250ms", Cmp::Lt, 250e6),
        ("@duration:<=250ms", Cmp::Le, 250e6),
        ("@duration:>100us", Cmp::Gt, 100e3),
        ("@duration:>100µs", Cmp::Gt, 100e3),
        ("@duration:>1500ns", Cmp::Gt, 1500.0),
        ("@duration:>1500", Cmp::Gt, 1500.0),
        ("@duration:>1.5m", Cmp::Gt, 90e9),
        ("@duration:>0.5s", Cmp::Gt, 5e8),
        ("duration:>2s", Cmp::Gt, 2e9),
    ];
    for (q, cmp, n) in cases {
        assert_eq!(
            expr(q),
            term(Field::Duration, Matcher::Compare(*cmp, *n)),
            "{q}"
        );
    }
}

#[test]
fn numeric_tags_compare() {
    assert_eq!(
        expr("@http.response.status_code:>=500"),
        term(
            tag("http.response.status_code"),
            Matcher::Compare(Cmp::Ge, 500.0)
        )
    );
}

#[test]
fn and_is_implied_and_may_be_written() {
    let want = Expr::And(vec![
        exact(tag("usr.id"), "user_123"),
        exact(Field::Service, "checkout"),
        exact(Field::Status, "error"),
    ]);
    assert_eq!(expr("@usr.id:user_123 service:checkout status:error"), want);
    assert_eq!(
        expr("@usr.id:user_123 AND service:checkout AND status:error"),
        want
    );
    assert_eq!(
        expr("  @usr.id:user_123   service:checkout\tstatus:error  "),
        want
    );
}

#[test]
fn or_binds_looser_than_and() {
    assert_eq!(
        expr("service:a status:error OR service:b"),
        Expr::Or(vec![
            Expr::And(vec![
                exact(Field::Service, "a"),
                exact(Field::Status, "error")
            ]),
            exact(Field::Service, "b"),
        ])
    );
}

#[test]
fn negation() {
    let not_error = Expr::Not(Box::new(exact(Field::Status, "error")));
    assert_eq!(expr("-status:error"), not_error);
    assert_eq!(expr("NOT status:error"), not_error);
    assert_eq!(
        expr("service:checkout -@usr.id:user_123"),
        Expr::And(vec![
            exact(Field::Service, "checkout"),
            Expr::Not(Box::new(exact(tag("usr.id"), "user_123"))),
        ])
    );
    // A dash inside a value is part of it.
    assert_eq!(expr("@usr.id:a-b"), exact(tag("usr.id"), "a-b"));
}

#[test]
fn quotes() {
    assert_eq!(
        expr(r#"resource:"POST /api/checkout""#),
        exact(Field::Resource, "POST /api/checkout")
    );
    assert_eq!(
        expr(r#"@usr.name:"Ada \"the\" Countess""#),
        exact(tag("usr.name"), r#"Ada "the" Countess"#)
    );
    // A star in quotes is literal.
    assert_eq!(expr(r#"@usr.id:"a*""#), exact(tag("usr.id"), "a*"));
    assert_eq!(expr(r#"@usr.id:"""#), exact(tag("usr.id"), ""));
}

#[test]
fn parentheses() {
    assert_eq!(
        expr("service:checkout (status:error OR @duration:>1s)"),
        Expr::And(vec![
            exact(Field::Service, "checkout"),
            Expr::Or(vec![
                exact(Field::Status, "error"),
                term(Field::Duration, Matcher::Compare(Cmp::Gt, 1e9)),
            ]),
        ])
    );
    assert_eq!(
        expr("-(service:a OR service:b)"),
        Expr::Not(Box::new(Expr::Or(vec![
            exact(Field::Service, "a"),
            exact(Field::Service, "b")
        ])))
    );
    assert_eq!(expr("((service:a))"), exact(Field::Service, "a"));
}

#[test]
fn display_round_trips() {
    for q in [
        "@usr.id:user_123 service:checkout status:error",
        "@account.id:premium_*",
        "@duration:>5s",
        "@duration:<=250ms",
        "resource:\"POST /api/checkout\"",
        "service:a (status:error OR @duration:>1s) -@usr.id:x",
        "-(service:a OR service:b)",
        "@usr.id:user_123 trace(status:error OR @duration:>1s)",
        "-trace(status:error) service:a",
    ] {
        let parsed = parse(q).unwrap();
        assert_eq!(parsed.to_string(), q);
        assert_eq!(parse(&parsed.to_string()).unwrap(), parsed);
    }
}

/// Each malformed query, where the error points, and a word its message must contain.
#[rustfmt::skip]
const MALFORMED: &[(&str, usize, &str, &str)] = &[
    // query, position, in the message, why
    ("checkout", 0, "not a search term", "a bare word has no field"),
    ("service:checkout user_123", 17, "not a search term", "the second word has no field"),
    ("service:", 8, "needs a value", "nothing after the colon"),
    ("service: checkout", 8, "no space", "a space after the colon"),
    ("@usr.id:\"user_123", 8, "never closed", "unterminated quote"),
    ("(service:a", 0, "never closed", "unclosed parenthesis"),
    ("service:a (status:error", 10, "never closed", "unclosed parenthesis after a term"),
    ("service:a)", 9, "no matching", "stray closing parenthesis"),
    (")", 0, "no matching", "only a closing parenthesis"),
    ("()", 0, "empty parentheses", "nothing inside"),
    ("OR service:a", 0, "both sides", "OR at the start"),
    ("AND service:a", 0, "both sides", "AND at the start"),
    ("service:a OR", 10, "both sides", "OR at the end"),
    ("service:a OR OR service:b", 10, "both sides", "OR twice"),
    ("service:a AND", 10, "both sides", "AND at the end"),
    ("- status:error", 0, "without a space", "a dash then a space"),
    ("service:a -", 10, "without a space", "a dash at the end"),
    ("NOT", 0, "needs a search term", "NOT alone"),
    ("service:a NOT )", 10, "needs a search term", "NOT before a parenthesis"),
    ("@duration:>5x", 12, "unknown duration unit", "bad unit"),
    ("@duration:>", 11, "needs a number", "comparison without a number"),
    ("@duration:>abc", 11, "not a duration", "not a number"),
    ("@duration:5s", 10, "compare durations", "a duration without an operator"),
    ("@duration:\"5s\"", 10, "compare durations", "a quoted duration"),
    ("@duration:>5*", 12, "not a `*`", "a wildcard in a comparison"),
    ("status:broken", 7, "`error` or `ok`", "bad status"),
    ("kind:weird", 5, "server", "bad kind"),
    ("service:>3", 8, "only @duration", "comparison on a text field"),
    ("@http.response.status_code:>5xx", 29, "not a number", "unit on a plain number"),
    ("foo:bar", 0, "unknown field", "unknown reserved field"),
    ("@:x", 0, "field name is missing", "empty tag key"),
    (":x", 0, "field name is missing", "no key at all"),
    ("@usr.id:a\"b", 9, "quote inside a value", "stray quote"),
    ("@usr.id:\"a\"b", 11, "space after a quoted value", "text glued to a quote"),
    ("@usr.id:a\\", 9, "escapes nothing", "trailing backslash"),
    ("@usr$id:x", 4, "field name", "bad character in a key"),
    ("service:a @usr.id:", 18, "needs a value", "error position after other terms"),
    ("é service:a", 0, "not a search term", "positions count characters, not bytes"),
    ("service:é @usr.id:", 18, "needs a value", "positions count characters, not bytes"),
    ("@usr.id:u trace(status:error", 10, "never closed", "unclosed trace("),
    ("trace()", 0, "empty `trace()`", "nothing inside trace()"),
    ("trace( )", 0, "empty `trace()`", "only space inside trace()"),
    ("trace(", 0, "never closed", "trace( at the end"),
    ("trace(status:error trace(kind:server))", 19, "inside `trace(…)`", "nested trace()"),
    ("trace(status:bad)", 13, "`error` or `ok`", "errors inside trace() point into it"),
    ("trace status:error", 0, "not a search term", "trace without parentheses"),
];

#[test]
fn malformed_queries_get_positioned_errors() {
    for &(q, position, message, why) in MALFORMED {
        match parse(q) {
            Ok(parsed) => panic!("{q:?} ({why}) parsed as {parsed:?}"),
            Err(e) => {
                assert_eq!(e.position(), position, "{q:?} ({why}): {e}");
                assert!(e.message().contains(message), "{q:?} ({why}): {e}");
                assert!(
                    e.to_string()
                        .contains(&format!("at character {}", position + 1))
                );
            }
        }
    }
}

#[test]
fn parsing_never_panics_on_odd_input() {
    let pieces = [
        "@", ":", "\"", "\\", "(", ")", "-", "OR", "AND", "NOT", "*", ">", ">=", "<", "5s", "x",
        " ", "é", "service", "@usr.id", "\t",
    ];
    // Every sequence of up to three pieces.
    for a in pieces {
        for b in pieces {
            for c in pieces {
                let q = format!("{a}{b}{c}");
                if let Err(e) = parse(&q) {
                    assert!(e.position() <= q.chars().count(), "{q:?}: {e}");
                }
            }
        }
    }
}

#[test]
fn trace_queries() {
    assert_eq!(
        expr("@usr.id:user_123 trace(status:error OR @duration:>1s)"),
        Expr::And(vec![
            exact(tag("usr.id"), "user_123"),
            Expr::Trace(Box::new(Expr::Or(vec![
                exact(Field::Status, "error"),
                term(Field::Duration, Matcher::Compare(Cmp::Gt, 1e9)),
            ]))),
        ])
    );
    assert_eq!(
        expr("-trace(status:error)"),
        Expr::Not(Box::new(Expr::Trace(Box::new(exact(
            Field::Status,
            "error"
        )))))
    );
    // A tag named `trace` is still a tag.
    assert_eq!(expr("@trace:x"), exact(tag("trace"), "x"));
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("{}service:a{}", "(".repeat(10_000), ")".repeat(10_000));
    let e = parse(&deep).unwrap_err();
    assert!(e.message().contains("nests more than"), "{e}");
    let negations = format!("{}service:a", "-".repeat(100_000));
    assert!(parse(&negations).is_err());
    let fine = format!(
        "{}service:a{}",
        "(".repeat(MAX_DEPTH - 1),
        ")".repeat(MAX_DEPTH - 1)
    );
    assert!(parse(&fine).is_ok());
}
