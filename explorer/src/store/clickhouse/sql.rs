//! Queries to ClickHouse conditions over the `spans` table (see [`super`]).
//!
//! ClickHouse 18.16, the oldest server this store supports, has no bound query parameters,
//! so every value the user typed goes into the text as a string literal that [`literal`]
//! escapes completely; no other user text reaches the SQL. Every condition is a non-null
//! `UInt8`, so `NOT` keeps the spans a term cannot apply to (`-@usr.id:x` keeps anonymous
//! spans), as on the embedded store.

use std::fmt::Write;

use crate::query::{Expr, Field, Matcher, Query, Term};
use crate::store::TimeRange;

/// `text` as a ClickHouse string literal: quoted, with `\`, `'` and every control character
/// escaped.
pub(super) fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A `match` pattern (RE2) for a wildcard: the parts literally, `.*` between them.
fn wildcard_regex(parts: &[String]) -> String {
    let mut re = String::from("(?s)^");
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            re.push_str(".*");
        }
        for c in part.chars() {
            if c.is_ascii_punctuation() {
                re.push('\\');
            }
            re.push(c);
        }
    }
    re.push('$');
    re
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.0e18 {
        #[allow(clippy::cast_possible_truncation)]
        let whole = n as i64;
        whole.to_string()
    } else {
        // `{:?}` keeps a float a float (`1.5`, `1e300`), never `inf` for finite input.
        format!("{n:?}")
    }
}

/// `matcher` applied to the non-null `String` expression `value`.
fn text_match(value: &str, matcher: &Matcher) -> String {
    match matcher {
        Matcher::Exact(v) => format!("{value} = {}", literal(v)),
        Matcher::Wildcard(parts) if parts.iter().all(String::is_empty) => "1".into(),
        // A prefix (`premium_*`), the usual wildcard: a byte comparison, not a regex.
        Matcher::Wildcard(parts) if parts.len() == 2 && parts[1].is_empty() => {
            format!("startsWith({value}, {})", literal(&parts[0]))
        }
        Matcher::Wildcard(parts) => format!("match({value}, {})", literal(&wildcard_regex(parts))),
        Matcher::Compare(cmp, n) => format!(
            "ifNull(toFloat64OrNull({value}) {} {}, 0)",
            cmp.as_str(),
            number(*n)
        ),
    }
}

/// `matcher` applied to a `Nullable(String)` column: false where it is NULL.
/// `assumeNotNull` reads the column's values as they are stored (whatever a NULL row holds
/// is masked by `isNotNull`), where `ifNull` copied every string first: a third of the
/// CPU of `@account.id:premium_*` over 3.1M entry spans.
fn nullable_text_match(column: &str, matcher: &Matcher) -> String {
    match matcher {
        Matcher::Wildcard(parts) if parts.iter().all(String::is_empty) => {
            format!("isNotNull({column})")
        }
        m => format!(
            "(isNotNull({column}) AND {})",
            text_match(&format!("assumeNotNull({column})"), m)
        ),
    }
}

fn term(term: &Term) -> String {
    let m = &term.matcher;
    match &term.field {
        Field::Service => text_match("service", m),
        Field::Resource => text_match("resource", m),
        Field::Name => text_match("name", m),
        Field::Kind => text_match("kind", m),
        Field::TraceId => text_match("trace_id", m),
        Field::SpanId => text_match("span_id", m),
        Field::Status => match m {
            Matcher::Exact(v) if v == "error" => "error = 1".into(),
            _ => "error = 0".into(),
        },
        Field::Duration => match m {
            Matcher::Compare(cmp, n) => format!("duration_ns {} {}", cmp.as_str(), number(*n)),
            // The parser only makes comparisons for durations.
            _ => "0".into(),
        },
        Field::Tag(key) => {
            if let Some(column) = super::identity_column(key) {
                return nullable_text_match(column, m);
            }
            match key.as_str() {
                "http.response.status_code" | "http.status_code" => match m {
                    Matcher::Exact(v) => match v.parse::<i64>() {
                        Ok(n) => format!("ifNull(status_code = {n}, 0)"),
                        Err(_) => "0".into(),
                    },
                    Matcher::Compare(cmp, n) => {
                        format!("ifNull(status_code {} {}, 0)", cmp.as_str(), number(*n))
                    }
                    Matcher::Wildcard(parts) if parts.iter().all(String::is_empty) => {
                        "isNotNull(status_code)".into()
                    }
                    Matcher::Wildcard(_) => format!(
                        "(isNotNull(status_code) AND {})",
                        text_match("toString(ifNull(status_code, 0))", m)
                    ),
                },
                "error" => match m {
                    Matcher::Exact(v) if v == "true" => "error = 1".into(),
                    Matcher::Exact(v) if v == "false" => "error = 0".into(),
                    Matcher::Wildcard(parts) if parts.iter().all(String::is_empty) => "1".into(),
                    _ => "0".into(),
                },
                _ => match m {
                    Matcher::Wildcard(parts) if parts.iter().all(String::is_empty) => {
                        format!("has(tags.key, {})", literal(key))
                    }
                    m => format!(
                        "arrayExists((k, v) -> k = {} AND {}, tags.key, tags.value)",
                        literal(key),
                        text_match("v", m)
                    ),
                },
            }
        }
    }
}

fn expr(e: &Expr, range: TimeRange, out: &mut String) {
    match e {
        Expr::Term(t) => out.push_str(&term(t)),
        // As on the embedded store: the trace ids of the matching spans in the range.
        Expr::Trace(inner) => {
            out.push_str("trace_id IN (SELECT trace_id FROM spans WHERE ");
            out.push_str(&range.condition("start_ns"));
            out.push_str(" AND ");
            expr(inner, range, out);
            out.push(')');
        }
        Expr::Not(e) => {
            out.push_str("NOT (");
            expr(e, range, out);
            out.push(')');
        }
        Expr::And(items) | Expr::Or(items) => {
            let sep = if matches!(e, Expr::And(_)) {
                " AND "
            } else {
                " OR "
            };
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                expr(item, range, out);
            }
            out.push(')');
        }
    }
}

/// `query` as a condition on `spans` (`1` for the empty query); `trace(…)` looks at the
/// spans in `range`.
pub(super) fn compile(query: &Query, range: TimeRange) -> String {
    let mut out = String::new();
    match query.expr() {
        Some(e) => expr(e, range, &mut out),
        None => out.push('1'),
    }
    out
}

/// Whether `query` has a `trace(…)`, which compiles to a subquery over the whole range: a
/// query that is run twice runs that twice.
pub(super) fn has_subquery(query: &Query) -> bool {
    fn walk(e: &Expr) -> bool {
        match e {
            Expr::Trace(_) => true,
            Expr::Term(_) => false,
            Expr::Not(e) => walk(e),
            Expr::And(items) | Expr::Or(items) => items.iter().any(walk),
        }
    }
    query.expr().is_some_and(walk)
}

/// The group-by expression for `key` (a `Nullable(String)`: NULL for spans without it), the
/// same keys as the embedded store takes.
///
/// # Errors
///
/// A message when the key is empty or has characters that cannot name a tag.
pub(super) fn group_key(key: &str) -> Result<String, String> {
    let key = super::super::aggregate::group_key_name(key)?;
    if let Some(column) = super::identity_column(key) {
        return Ok(column.into());
    }
    Ok(match key {
        "service" => "service".into(),
        "resource" | "resource_name" => "resource".into(),
        "name" | "operation_name" => "name".into(),
        "kind" | "span.kind" => "kind".into(),
        "status" => "if(error = 1, 'error', 'ok')".into(),
        "error" => "if(error = 1, 'true', 'false')".into(),
        "http.response.status_code" | "http.status_code" => {
            "if(isNull(status_code), NULL, toString(assumeNotNull(status_code)))".into()
        }
        other => tag_value(other),
    })
}

/// The value of the tag `key` (NULL where the span has none).
pub(super) fn tag_value(key: &str) -> String {
    let key = literal(key);
    format!("if(has(tags.key, {key}), tags.value[indexOf(tags.key, {key})], NULL)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;

    #[test]
    fn literals_escape_everything_that_could_end_them() {
        assert_eq!(literal(r"a'b\c"), r"'a\'b\\c'");
        assert_eq!(literal("a\nb\0"), r"'a\x0Ab\x00'");
    }

    #[test]
    fn user_text_never_reaches_the_sql_unquoted() {
        let evil = r#"@usr.id:"x' OR 1=1; DROP TABLE spans; --" service:"a\'b""#;
        let sql = compile(&parse(evil).unwrap(), TimeRange::ALL);
        assert_eq!(
            sql,
            r"((isNotNull(usr_id) AND assumeNotNull(usr_id) = 'x\' OR 1=1; DROP TABLE spans; --') AND service = 'a\'b')"
        );
    }

    #[test]
    fn wildcards_are_literal_apart_from_the_stars() {
        assert_eq!(
            compile(&parse("@account.id:premium_*").unwrap(), TimeRange::ALL),
            r"(isNotNull(account_id) AND startsWith(assumeNotNull(account_id), 'premium_'))"
        );
        assert_eq!(
            compile(&parse("@account.id:*_4*").unwrap(), TimeRange::ALL),
            r"(isNotNull(account_id) AND match(assumeNotNull(account_id), '(?s)^.*\\_4.*$'))"
        );
        assert_eq!(
            compile(&parse("@usr.id:*").unwrap(), TimeRange::ALL),
            "isNotNull(usr_id)"
        );
        assert_eq!(
            compile(&parse("@usr.role:*").unwrap(), TimeRange::ALL),
            "has(tags.key, 'usr.role')"
        );
    }

    #[test]
    fn durations_are_whole_nanoseconds() {
        assert_eq!(
            compile(&parse("@duration:>5s").unwrap(), TimeRange::ALL),
            "duration_ns > 5000000000"
        );
    }
}
