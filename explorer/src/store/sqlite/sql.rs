//! Queries to SQL conditions over the store's schema (see [`super`]), with every
//! value bound as a parameter.

use rusqlite::types::Value;

use crate::query::{Expr, Field, Matcher, Query, Term};
use crate::store::TimeRange;

/// A SQL condition on the `spans` table (aliased `s`) and its bound parameters, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Sql {
    /// The condition, with `?` placeholders.
    pub(super) text: String,
    /// The values of the placeholders, in order.
    pub(super) params: Vec<Value>,
    /// The time range `trace(…)` looks for spans in.
    range: TimeRange,
}

/// Where a tag lives: a dedicated column of `spans`, the span's JSON only, or (`None` from
/// [`tag_column`]) a row of `tags`.
enum TagColumn {
    Text(&'static str),
    Integer(&'static str),
    Bool(&'static str),
    /// Read from `s.tags` (every value there is text, as in the `tags` rows).
    Json,
}

/// Tags with a column of their own (indexed, or cheap to filter on), and those kept in the
/// JSON only. The other tags are rows of the `tags` table, indexed on `(key, value)`.
fn tag_column(key: &str) -> Option<TagColumn> {
    if let Some(column) = super::identity_column(key) {
        return Some(TagColumn::Text(column));
    }
    if super::json_only_tag(key) {
        return Some(TagColumn::Json);
    }
    Some(match key {
        "http.response.status_code" | "http.status_code" => TagColumn::Integer("s.status_code"),
        "error" => TagColumn::Bool("s.error"),
        _ => return None,
    })
}

/// What a condition reads a value from.
#[derive(Clone, Copy)]
enum Column<'a> {
    /// A column of `spans s` (or of `tags t`).
    Named(&'a str),
    /// The value at this JSON path (`$."key"`) of the span's tags.
    Json(&'a str),
}

impl<'a> From<&'a str> for Column<'a> {
    fn from(name: &'a str) -> Self {
        Column::Named(name)
    }
}

/// `*`, `?` and `[` are GLOB syntax; each is matched literally inside brackets.
fn glob_escape(part: &str, out: &mut String) {
    for c in part.chars() {
        match c {
            '*' => out.push_str("[*]"),
            '?' => out.push_str("[?]"),
            '[' => out.push_str("[[]"),
            c => out.push(c),
        }
    }
}

fn glob_pattern(parts: &[String]) -> String {
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push('*');
        }
        glob_escape(part, &mut out);
    }
    out
}

/// The smallest string above every string that starts with `prefix` (in SQLite's BINARY
/// order, which is UTF-8 byte order).
fn prefix_upper_bound(prefix: &str) -> String {
    let mut s = String::from(prefix);
    s.push(char::MAX);
    s
}

impl Sql {
    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    fn param(&mut self, value: impl Into<Value>) {
        self.text.push('?');
        self.params.push(value.into());
    }

    /// A column's value: its name, or the JSON value at a path (bound).
    fn column(&mut self, column: Column<'_>) {
        match column {
            Column::Named(name) => self.push(name),
            Column::Json(path) => {
                self.push("json_extract(s.tags, ");
                self.param(path.to_owned());
                self.push(")");
            }
        }
    }

    /// `column <matcher>` for a text column.
    fn text_match<'c>(&mut self, column: impl Into<Column<'c>>, matcher: &Matcher) {
        let column = column.into();
        match matcher {
            Matcher::Exact(v) => {
                self.column(column);
                self.push(" = ");
                self.param(v.clone());
            }
            Matcher::Wildcard(parts) if parts.iter().all(String::is_empty) => {
                self.column(column);
                self.push(" IS NOT NULL");
            }
            Matcher::Wildcard(parts) => {
                self.push("(");
                if !parts[0].is_empty() {
                    // A literal prefix: a range the index can seek to (GLOB alone may not).
                    self.column(column);
                    self.push(" >= ");
                    self.param(parts[0].clone());
                    self.push(" AND ");
                    self.column(column);
                    self.push(" < ");
                    self.param(prefix_upper_bound(&parts[0]));
                    self.push(" AND ");
                }
                self.column(column);
                self.push(" GLOB ");
                self.param(glob_pattern(parts));
                self.push(")");
            }
            Matcher::Compare(cmp, n) => {
                self.push("CAST(");
                self.column(column);
                self.push(" AS REAL) ");
                self.push(cmp.as_str());
                self.push(" ");
                self.param(*n);
            }
        }
    }

    fn term(&mut self, term: &Term) {
        let m = &term.matcher;
        match &term.field {
            Field::Service => self.text_match("s.service", m),
            Field::Resource => self.text_match("s.resource", m),
            Field::Name => self.text_match("s.name", m),
            Field::Kind => self.text_match("s.kind", m),
            Field::TraceId => self.text_match("s.trace_id", m),
            Field::SpanId => self.text_match("s.span_id", m),
            Field::Status => match m {
                Matcher::Exact(v) if v == "error" => self.push("s.error = 1"),
                _ => self.push("s.error = 0"),
            },
            Field::Duration => match m {
                Matcher::Compare(cmp, n) => {
                    self.push("s.duration_ns ");
                    self.push(cmp.as_str());
                    self.push(" ");
                    // Whole nanoseconds: `>` 1.5 ns is `>` 1 ns for integer durations only
                    // after rounding up; compare as REAL to keep the exact meaning.
                    if n.fract() == 0.0 && n.abs() < 9.0e18 {
                        #[allow(clippy::cast_possible_truncation)]
                        self.param(*n as i64);
                    } else {
                        self.param(*n);
                    }
                }
                // The parser only makes comparisons for durations.
                _ => self.push("0"),
            },
            Field::Tag(key) => match tag_column(key) {
                Some(TagColumn::Text(column)) => self.text_match(column, m),
                Some(TagColumn::Json) => {
                    let path = format!("$.\"{key}\"");
                    self.text_match(Column::Json(&path), m);
                }
                Some(TagColumn::Integer(column)) => match m {
                    Matcher::Exact(v) => match v.parse::<i64>() {
                        Ok(n) => {
                            self.push(column);
                            self.push(" = ");
                            self.param(n);
                        }
                        Err(_) => self.push("0"),
                    },
                    Matcher::Wildcard(parts) if parts.iter().all(String::is_empty) => {
                        self.push(column);
                        self.push(" IS NOT NULL");
                    }
                    Matcher::Wildcard(parts) => {
                        self.push("CAST(");
                        self.push(column);
                        self.push(" AS TEXT) GLOB ");
                        self.param(glob_pattern(parts));
                    }
                    Matcher::Compare(cmp, n) => {
                        self.push(column);
                        self.push(" ");
                        self.push(cmp.as_str());
                        self.push(" ");
                        self.param(*n);
                    }
                },
                Some(TagColumn::Bool(column)) => match m {
                    Matcher::Exact(v) if v == "true" => {
                        self.push(column);
                        self.push(" = 1");
                    }
                    Matcher::Exact(v) if v == "false" => {
                        self.push(column);
                        self.push(" = 0");
                    }
                    Matcher::Wildcard(parts) if parts.iter().all(String::is_empty) => {
                        self.push("1");
                    }
                    _ => self.push("0"),
                },
                None => {
                    self.push("s.id IN (SELECT t.span FROM tags t WHERE t.key = ");
                    self.param(key.clone());
                    match m {
                        Matcher::Wildcard(parts) if parts.iter().all(String::is_empty) => {}
                        _ => {
                            self.push(" AND ");
                            self.text_match("t.value", m);
                        }
                    }
                    self.push(")");
                }
            },
        }
    }

    fn expr(&mut self, expr: &Expr) {
        match expr {
            Expr::Term(t) => self.term(t),
            // The trace ids of the spans matching the inner query (in the range: a trace's
            // spans start within moments of each other), materialized once by SQLite.
            // When an index holds every column the inner query reads, its matches are found
            // in the index and only their rows are read (for the trace id), not every row.
            Expr::Trace(inner) => {
                let indexed = index_only(inner);
                if indexed {
                    self.push("s.trace_id IN (SELECT m.trace_id FROM spans m WHERE m.id IN (");
                } else {
                    self.push("s.trace_id IN (");
                }
                self.push("SELECT s.");
                self.push(if indexed { "id" } else { "trace_id" });
                self.push(" FROM spans s WHERE ");
                let range = self.range.condition("s.start_ns");
                self.push(&range);
                self.push(" AND ");
                self.expr(inner);
                self.push(if indexed { "))" } else { ")" });
            }
            // `IS NOT 1`: a term on a missing column is NULL, and NOT NULL would drop the span;
            // `-@usr.id:x` must keep spans that have no `usr.id`.
            Expr::Not(e) => {
                self.push("((");
                self.expr(e);
                self.push(") IS NOT 1)");
            }
            Expr::And(items) | Expr::Or(items) => {
                let sep = if matches!(expr, Expr::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                self.push("(");
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        self.push(sep);
                    }
                    self.expr(e);
                }
                self.push(")");
            }
        }
    }
}

/// Whether the condition of `expr` reads only columns that an index of `spans` holds beside
/// `kind` and `start_ns` (`spans_by_service`: service, error, duration, usr.id, account.id;
/// the identity indexes; the `tags` rows, by `s.id`), so that SQLite can find its matches
/// without reading the rows.
pub(super) fn index_only(expr: &Expr) -> bool {
    match expr {
        Expr::Term(term) => match &term.field {
            Field::Service | Field::Kind | Field::Status | Field::Duration => true,
            Field::Resource | Field::Name | Field::TraceId | Field::SpanId => false,
            Field::Tag(key) => match tag_column(key) {
                Some(TagColumn::Text(_) | TagColumn::Bool(_)) | None => true,
                Some(TagColumn::Integer(_) | TagColumn::Json) => false,
            },
        },
        Expr::Trace(_) => false,
        Expr::Not(e) => index_only(e),
        Expr::And(items) | Expr::Or(items) => items.iter().all(index_only),
    }
}

/// `query` as a condition on `spans s` (`1` for the empty query); `trace(…)` looks at the
/// spans in `range`.
pub(super) fn compile(query: &Query, range: TimeRange) -> Sql {
    let mut sql = Sql {
        range,
        ..Sql::default()
    };
    match query.expr() {
        Some(e) => sql.expr(e),
        None => sql.push("1"),
    }
    sql
}

/// What a group-by groups on: a SQL expression over `spans s` and its parameters.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct GroupKey {
    /// The expression (its value is the group's name; NULL for spans without it).
    pub(super) text: String,
    /// Its parameters.
    pub(super) params: Vec<Value>,
    /// The tag it reads from the span's JSON, for a key without a column of its own.
    pub(super) tag: Option<String>,
}

/// The group-by expression for `key`: `usr.id`, `account.id`, `session.id`, `service`,
/// `resource`, `name`, `kind`, `status`, `http.response.status_code`, or any tag (with or
/// without a leading `@`).
///
/// # Errors
///
/// A message when the key is empty or has characters that cannot name a tag.
pub(super) fn group_key(key: &str) -> Result<GroupKey, String> {
    let key = crate::store::aggregate::group_key_name(key)?;
    let fixed = |text: &str| GroupKey {
        text: text.into(),
        params: Vec::new(),
        tag: None,
    };
    if let Some(column) = super::identity_column(key) {
        return Ok(fixed(column));
    }
    Ok(match key {
        "service" => fixed("s.service"),
        "resource" | "resource_name" => fixed("s.resource"),
        "name" | "operation_name" => fixed("s.name"),
        "kind" | "span.kind" => fixed("s.kind"),
        "status" => fixed("CASE s.error WHEN 1 THEN 'error' ELSE 'ok' END"),
        "error" => fixed("CASE s.error WHEN 1 THEN 'true' ELSE 'false' END"),
        "http.response.status_code" | "http.status_code" => fixed("s.status_code"),
        other => GroupKey {
            text: "json_extract(s.tags, ?)".into(),
            params: vec![Value::Text(format!("$.\"{other}\""))],
            tag: Some(other.into()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;

    fn compile_all(query: &Query) -> Sql {
        compile(query, TimeRange::ALL)
    }

    #[test]
    fn trace_queries_are_a_subquery_in_the_range() {
        let range = TimeRange {
            from_ns: Some(5),
            to_ns: Some(9),
        };
        let sql = compile(&parse("@usr.id:u trace(status:error)").unwrap(), range);
        assert_eq!(
            sql.text,
            "(s.usr_id = ? AND s.trace_id IN (SELECT m.trace_id FROM spans m WHERE m.id IN (SELECT s.id FROM spans s WHERE s.start_ns >= 5 AND s.start_ns < 9 AND s.error = 1)))"
        );
        // A column no index has: the rows are read anyway, for their trace ids at once.
        let sql = compile(&parse("trace(resource:a)").unwrap(), range);
        assert_eq!(
            sql.text,
            "s.trace_id IN (SELECT s.trace_id FROM spans s WHERE s.start_ns >= 5 AND s.start_ns < 9 AND s.resource = ?)"
        );
    }

    #[test]
    fn wildcards_become_a_range_and_a_glob() {
        let sql = compile_all(&parse("@account.id:premium_*").unwrap());
        assert_eq!(
            sql.text,
            "(s.account_id >= ? AND s.account_id < ? AND s.account_id GLOB ?)"
        );
        assert_eq!(sql.params[0], Value::Text("premium_".into()));
        assert_eq!(sql.params[2], Value::Text("premium_*".into()));
    }

    #[test]
    fn glob_syntax_in_values_is_literal() {
        let sql = compile_all(&parse(r"@url.path:/a?b[c]*").unwrap());
        assert!(
            sql.params.contains(&Value::Text("/a[?]b[[]c]*".into())),
            "{sql:?}"
        );
    }

    #[test]
    fn a_lone_star_means_the_tag_is_there() {
        assert_eq!(
            compile_all(&parse("@usr.id:*").unwrap()).text,
            "s.usr_id IS NOT NULL"
        );
        assert_eq!(
            compile_all(&parse("@usr.role:*").unwrap()).text,
            "s.id IN (SELECT t.span FROM tags t WHERE t.key = ?)"
        );
    }

    #[test]
    fn the_empty_query_is_true() {
        assert_eq!(compile_all(&Query::all()).text, "1");
    }

    #[test]
    fn durations_are_nanoseconds() {
        let sql = compile_all(&parse("@duration:>5s").unwrap());
        assert_eq!(sql.text, "s.duration_ns > ?");
        assert_eq!(sql.params, vec![Value::Integer(5_000_000_000)]);
    }

    #[test]
    fn negation_keeps_spans_without_the_tag() {
        let sql = compile_all(&parse("-@usr.id:user_123").unwrap());
        assert_eq!(sql.text, "((s.usr_id = ?) IS NOT 1)");
    }

    #[test]
    fn other_tags_use_the_tag_table() {
        let sql = compile_all(&parse("@usr.role:vip").unwrap());
        assert_eq!(
            sql.text,
            "s.id IN (SELECT t.span FROM tags t WHERE t.key = ? AND t.value = ?)"
        );
        assert_eq!(
            sql.params,
            vec![Value::Text("usr.role".into()), Value::Text("vip".into())]
        );
    }

    #[test]
    fn opentelemetry_bookkeeping_is_read_from_the_json() {
        let sql = compile_all(&parse("@otel.kind:server").unwrap());
        assert_eq!(sql.text, "json_extract(s.tags, ?) = ?");
        assert_eq!(
            sql.params,
            vec![
                Value::Text("$.\"otel.kind\"".into()),
                Value::Text("server".into())
            ]
        );
        // Each use of the value binds its path, in order.
        let sql = compile_all(&parse("@telemetry.sdk.name:open*").unwrap());
        assert_eq!(sql.text.matches("json_extract(s.tags, ?)").count(), 3);
        assert_eq!(sql.params.len(), 6);
        assert_eq!(sql.params[1], Value::Text("open".into()));
    }

    #[test]
    fn user_text_never_reaches_the_sql_text() {
        let evil = r#"@usr.id:"x' OR 1=1; DROP TABLE spans; --" service:"a'b""#;
        let sql = compile_all(&parse(evil).unwrap());
        assert!(!sql.text.contains('\''), "{}", sql.text);
        assert!(!sql.text.contains("DROP"));
    }

    #[test]
    fn group_keys() {
        assert_eq!(group_key("@usr.id").unwrap().text, "s.usr_id");
        assert_eq!(group_key("service").unwrap().text, "s.service");
        let role = group_key("usr.role").unwrap();
        assert_eq!(role.text, "json_extract(s.tags, ?)");
        assert_eq!(role.params, vec![Value::Text("$.\"usr.role\"".into())]);
        assert!(group_key("").is_err());
        assert!(group_key("a\"b").is_err());
    }
}
