//! The explorer's query language, the span search syntax of the seed documents:
//!
//! | form | example | matches |
//! |---|---|---|
//! | tag | `@usr.id:user_123` | spans whose tag `usr.id` is `user_123` |
//! | wildcard | `@account.id:premium_*` | `*` stands for any run of characters |
//! | reserved field | `service:checkout`, `resource:"POST /api/checkout"`, `name:fraud.check`, `kind:server`, `trace_id:4bf9…` | the span's own fields |
//! | status | `status:error`, `status:ok` | failed spans (an entry span answered 5xx), or not |
//! | comparison | `@duration:>5s`, `@duration:<=250ms`, `@http.response.status_code:>=500` | `>`, `>=`, `<`, `<=`; durations take `ns`, `us`, `ms`, `s`, `m` (a bare number is ns) |
//! | quotes | `resource:"POST /api/checkout"` | exact text, spaces allowed, `*` is literal; `\"` and `\\` escape |
//! | AND | `service:payments status:error` | both (AND is implied between terms; writing it is fine) |
//! | OR | `@usr.id:user_123 OR @usr.id:vip_user_1` | either (binds looser than AND) |
//! | negation | `-status:error`, `NOT status:error` | the opposite; a span without the tag matches `-@tag:x` |
//! | parentheses | `service:checkout (status:error OR @duration:>1s)` | grouping |
//! | trace | `@usr.id:user_123 trace(status:error OR @duration:>1s)` | spans whose trace has at least one span (in the time range) matching the inner query: identity sits on entry spans, errors often deeper |
//!
//! `trace(…)` takes any query except another `trace(…)`, and can be negated
//! (`-trace(status:error)`: traces in which nothing failed). Parentheses and `trace(…)` nest at
//! most [`MAX_DEPTH`] deep.
//!
//! [`parse`] never panics; a query that does not parse gives a [`ParseError`] with the
//! character position of the problem, for the explorer to point at. The language knows no
//! storage: each store (see [`crate::store`]) compiles a [`Query`] into its own language.
//!
//! ```
//! use usertrail_explorer::query::parse;
//!
//! let q = parse("@usr.id:user_123 service:checkout status:error").unwrap();
//! assert_eq!(q.to_string(), "@usr.id:user_123 service:checkout status:error");
//!
//! let err = parse("service:checkout (status:error").unwrap_err();
//! assert_eq!(err.position(), 17);
//! assert_eq!(err.message(), "this `(` is never closed: add a `)`");
//! ```

#[cfg(test)]
mod tests;

use std::fmt;

/// A parsed query: a tree of terms joined by AND, OR and NOT. [`Query::all`] (the empty
/// query) matches every span.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    expr: Option<Expr>,
}

/// A node of the query tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// Every one of these.
    And(Vec<Expr>),
    /// At least one of these.
    Or(Vec<Expr>),
    /// Not this.
    Not(Box<Expr>),
    /// One `field:value` term.
    Term(Term),
    /// `trace(…)`: the span's trace has a span matching this (which holds no `Trace`).
    Trace(Box<Expr>),
}

/// One `field:value` term.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    /// What is compared.
    pub field: Field,
    /// How.
    pub matcher: Matcher,
}

/// The left-hand side of a term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    /// `service:`
    Service,
    /// `status:` (`error` or `ok`).
    Status,
    /// `resource:` (`POST /api/checkout` for an entry span, the span name otherwise).
    Resource,
    /// `name:` (`operation_name:`), the span name.
    Name,
    /// `kind:` (`server` for service entry spans, `client`, `internal`).
    Kind,
    /// `trace_id:`
    TraceId,
    /// `span_id:`
    SpanId,
    /// `@duration:`, in nanoseconds.
    Duration,
    /// `@<key>:`, a tag.
    Tag(String),
}

impl Field {
    /// The field a reserved name (`service`, `resource_name`, `span.kind`, …) stands for, as
    /// in `service:checkout`; `None` for any other name, which is a tag.
    ///
    /// ```
    /// use usertrail_explorer::query::Field;
    ///
    /// assert_eq!(Field::reserved("resource_name"), Some(Field::Resource));
    /// assert_eq!(Field::reserved("usr.id"), None);
    /// ```
    pub fn reserved(name: &str) -> Option<Field> {
        RESERVED
            .iter()
            .find(|(reserved, _)| *reserved == name)
            .map(|(_, field)| field.clone())
    }
}

/// The right-hand side of a term.
#[derive(Clone, Debug, PartialEq)]
pub enum Matcher {
    /// Exactly this text.
    Exact(String),
    /// A pattern where `*` is any run of characters (the parts between stars are literal).
    Wildcard(Vec<String>),
    /// A comparison with a number (nanoseconds for durations).
    Compare(Cmp, f64),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

impl Cmp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
        }
    }
}

/// Why a query does not parse, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    position: usize,
    message: String,
}

impl ParseError {
    fn new(position: usize, message: impl Into<String>) -> Self {
        ParseError {
            position,
            message: message.into(),
        }
    }

    /// The character (not byte) offset of the problem, from 0; the query's length when the
    /// query ends too early.
    pub fn position(&self) -> usize {
        self.position
    }

    /// What is wrong, for a person.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.position + 1)
    }
}

impl std::error::Error for ParseError {}

/// Parses a query; see the [module docs](self) for the syntax.
///
/// # Errors
///
/// A [`ParseError`] with the position of the first problem.
pub fn parse(input: &str) -> Result<Query, ParseError> {
    let mut p = Parser {
        chars: input.chars().collect(),
        pos: 0,
        depth: 0,
        in_trace: false,
    };
    p.skip_ws();
    if p.at_end() {
        return Ok(Query { expr: None });
    }
    let expr = p.or()?;
    p.skip_ws();
    if !p.at_end() {
        // `or` stops only at `)` or the end.
        return Err(ParseError::new(
            p.pos,
            "this `)` has no matching `(`: remove it",
        ));
    }
    Ok(Query { expr: Some(expr) })
}

impl Query {
    /// The empty query: every span.
    pub fn all() -> Self {
        Query { expr: None }
    }

    /// The query of one term: `field` matched by `matcher`.
    ///
    /// ```
    /// use usertrail_explorer::query::{Field, Matcher, Query};
    ///
    /// let q = Query::term(Field::Tag("usr.id".into()), Matcher::Exact("o'brien x".into()));
    /// assert_eq!(q.to_string(), "@usr.id:\"o'brien x\"");
    /// ```
    pub fn term(field: Field, matcher: Matcher) -> Self {
        Query {
            expr: Some(Expr::Term(Term { field, matcher })),
        }
    }

    /// The root of the tree (`None` for the empty query).
    pub fn expr(&self) -> Option<&Expr> {
        self.expr.as_ref()
    }

    /// This query AND `other`.
    pub fn and(self, other: Query) -> Query {
        match (self.expr, other.expr) {
            (None, e) | (e, None) => Query { expr: e },
            (Some(a), Some(b)) => Query {
                expr: Some(Expr::And(vec![a, b])),
            },
        }
    }
}

impl std::str::FromStr for Query {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

/// Reserved field names (without `@`), and what they mean.
const RESERVED: &[(&str, Field)] = &[
    ("service", Field::Service),
    ("status", Field::Status),
    ("resource", Field::Resource),
    ("resource_name", Field::Resource),
    ("name", Field::Name),
    ("operation_name", Field::Name),
    ("kind", Field::Kind),
    ("span.kind", Field::Kind),
    ("trace_id", Field::TraceId),
    ("span_id", Field::SpanId),
];

/// How deep parentheses, negations and `trace(…)` may nest: the parser and the stores'
/// compilers recurse once per level.
pub const MAX_DEPTH: usize = 32;

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    /// Inside `trace(…)`.
    in_trace: bool,
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')
}

impl Parser {
    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Whether the keyword `word` (upper case) stands at the position, as a whole word.
    fn at_keyword(&self, word: &str) -> bool {
        let n = word.chars().count();
        let matches = word
            .chars()
            .enumerate()
            .all(|(i, c)| self.chars.get(self.pos + i) == Some(&c));
        matches
            && self
                .chars
                .get(self.pos + n)
                .is_none_or(|c| c.is_whitespace() || *c == '(' || *c == ')')
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut items = vec![self.and()?];
        loop {
            self.skip_ws();
            if self.at_keyword("OR") {
                let at = self.pos;
                self.pos += 2;
                self.skip_ws();
                if self.at_end() || self.peek() == Some(')') || self.at_keyword("OR") {
                    return Err(ParseError::new(
                        at,
                        "`OR` needs a search term on both sides",
                    ));
                }
                items.push(self.and()?);
            } else {
                break;
            }
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut items = vec![self.unary()?];
        loop {
            self.skip_ws();
            if self.at_end() || self.peek() == Some(')') || self.at_keyword("OR") {
                break;
            }
            if self.at_keyword("AND") {
                let at = self.pos;
                self.pos += 3;
                self.skip_ws();
                if self.at_end() || self.peek() == Some(')') || self.at_keyword("OR") {
                    return Err(ParseError::new(
                        at,
                        "`AND` needs a search term on both sides",
                    ));
                }
            }
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        self.skip_ws();
        let at = self.pos;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::new(
                at,
                format!("the query nests more than {MAX_DEPTH} deep: simplify it"),
            ));
        }
        let expr = self.unary_inner(at);
        self.depth -= 1;
        expr
    }

    fn unary_inner(&mut self, at: usize) -> Result<Expr, ParseError> {
        if self.at_keyword("NOT") {
            self.pos += 3;
            self.skip_ws();
            if self.at_end() || self.peek() == Some(')') {
                return Err(ParseError::new(at, "`NOT` needs a search term after it"));
            }
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some('-') {
            self.pos += 1;
            if self.at_end() || self.peek().is_some_and(char::is_whitespace) {
                return Err(ParseError::new(
                    at,
                    "`-` negates the term right after it: write `-status:error`, without a space",
                ));
            }
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let at = self.pos;
        match self.peek() {
            Some('(') => {
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(')') {
                    return Err(ParseError::new(
                        at,
                        "empty parentheses: put a search term inside",
                    ));
                }
                if self.at_end() {
                    return Err(ParseError::new(at, "this `(` is never closed: add a `)`"));
                }
                let inner = self.or()?;
                self.skip_ws();
                if self.peek() != Some(')') {
                    return Err(ParseError::new(at, "this `(` is never closed: add a `)`"));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(')') => Err(ParseError::new(
                at,
                "this `)` has no matching `(`: remove it",
            )),
            Some(_) if self.at_trace() => self.trace(at),
            Some(_) if self.at_keyword("OR") => Err(ParseError::new(
                at,
                "`OR` needs a search term on both sides",
            )),
            Some(_) if self.at_keyword("AND") => Err(ParseError::new(
                at,
                "`AND` needs a search term on both sides",
            )),
            Some(_) => self.term().map(Expr::Term),
            None => Err(ParseError::new(
                at,
                "the query ends where a search term was expected",
            )),
        }
    }

    /// Whether `trace(` stands at the position.
    fn at_trace(&self) -> bool {
        "trace("
            .chars()
            .enumerate()
            .all(|(i, c)| self.chars.get(self.pos + i) == Some(&c))
    }

    /// `trace(…)`, at `at`.
    fn trace(&mut self, at: usize) -> Result<Expr, ParseError> {
        if self.in_trace {
            return Err(ParseError::new(
                at,
                "`trace(…)` inside `trace(…)` means the same trace: drop the inner one",
            ));
        }
        self.pos += "trace(".len();
        self.skip_ws();
        if self.peek() == Some(')') {
            return Err(ParseError::new(
                at,
                "empty `trace()`: put what a span of the trace must match inside, e.g. trace(status:error)",
            ));
        }
        if self.at_end() {
            return Err(ParseError::new(
                at,
                "this `trace(` is never closed: add a `)`",
            ));
        }
        self.in_trace = true;
        let inner = self.or();
        self.in_trace = false;
        let inner = inner?;
        self.skip_ws();
        if self.peek() != Some(')') {
            return Err(ParseError::new(
                at,
                "this `trace(` is never closed: add a `)`",
            ));
        }
        self.pos += 1;
        Ok(Expr::Trace(Box::new(inner)))
    }

    fn term(&mut self) -> Result<Term, ParseError> {
        let start = self.pos;
        let tag = self.peek() == Some('@');
        if tag {
            self.pos += 1;
        }
        let key_start = self.pos;
        while self.peek().is_some_and(is_key_char) {
            self.pos += 1;
        }
        let key: String = self.chars[key_start..self.pos].iter().collect();
        if self.peek() != Some(':') {
            // Not `key:`: say what the word is missing.
            if self.pos > key_start
                && self
                    .peek()
                    .is_some_and(|c| !c.is_whitespace() && c != '(' && c != ')')
            {
                return Err(ParseError::new(
                    self.pos,
                    format!(
                        "unexpected `{}` in a field name: field names are letters, digits and `_ . - /`",
                        self.chars[self.pos]
                    ),
                ));
            }
            let mut end = self.pos;
            while self
                .chars
                .get(end)
                .is_some_and(|c| !c.is_whitespace() && *c != '(' && *c != ')')
            {
                end += 1;
            }
            let word: String = self.chars[start..end].iter().collect();
            return Err(ParseError::new(
                start,
                format!(
                    "`{word}` is not a search term: write field:value, e.g. service:checkout or @usr.id:user_123"
                ),
            ));
        }
        if key.is_empty() {
            return Err(ParseError::new(start, "a field name is missing before `:`"));
        }
        let field = if tag {
            if key == "duration" {
                Field::Duration
            } else {
                Field::Tag(key.clone())
            }
        } else {
            match Field::reserved(&key) {
                Some(field) => field,
                None if key == "duration" => Field::Duration,
                None => {
                    return Err(ParseError::new(
                        start,
                        format!(
                            "unknown field `{key}`: tags start with `@` (e.g. @{key}:value); the fields are service, status, resource, name, kind, trace_id, span_id"
                        ),
                    ));
                }
            }
        };
        self.pos += 1; // ':'
        let value_at = self.pos;
        let matcher = self.value(&field, &key, tag)?;
        let matcher = check_field(&field, matcher, value_at)?;
        Ok(Term { field, matcher })
    }

    fn value(&mut self, field: &Field, key: &str, tag: bool) -> Result<Matcher, ParseError> {
        let at = self.pos;
        let written = if tag {
            format!("@{key}:")
        } else {
            format!("{key}:")
        };
        match self.peek() {
            None => Err(ParseError::new(
                at,
                format!("`{written}` needs a value after the colon"),
            )),
            Some(c) if c.is_whitespace() || c == ')' => Err(ParseError::new(
                at,
                format!("`{written}` needs a value right after the colon (no space)"),
            )),
            Some('"') => {
                self.pos += 1;
                let mut out = String::new();
                loop {
                    match self.peek() {
                        None => {
                            return Err(ParseError::new(
                                at,
                                "this quote is never closed: add a `\"`",
                            ));
                        }
                        Some('"') => {
                            self.pos += 1;
                            break;
                        }
                        Some('\\') => {
                            self.pos += 1;
                            match self.peek() {
                                Some(c) => {
                                    out.push(c);
                                    self.pos += 1;
                                }
                                None => {
                                    return Err(ParseError::new(
                                        at,
                                        "this quote is never closed: add a `\"`",
                                    ));
                                }
                            }
                        }
                        Some(c) => {
                            out.push(c);
                            self.pos += 1;
                        }
                    }
                }
                if self.peek().is_some_and(|c| !c.is_whitespace() && c != ')') {
                    return Err(ParseError::new(
                        self.pos,
                        "put a space after a quoted value",
                    ));
                }
                if matches!(field, Field::Duration) {
                    return Err(ParseError::new(
                        at,
                        "compare durations without quotes, e.g. @duration:>5s",
                    ));
                }
                Ok(Matcher::Exact(out))
            }
            Some(c @ ('>' | '<')) => {
                self.pos += 1;
                let cmp = if self.peek() == Some('=') {
                    self.pos += 1;
                    if c == '>' { Cmp::Ge } else { Cmp::Le }
                } else if c == '>' {
                    Cmp::Gt
                } else {
                    Cmp::Lt
                };
                let num_at = self.pos;
                let text = self.bare_text()?;
                if text.is_empty() {
                    return Err(ParseError::new(
                        num_at,
                        format!("`{written}{}` needs a number after it", cmp.as_str()),
                    ));
                }
                let n = parse_number(&text, num_at, matches!(field, Field::Duration))?;
                Ok(Matcher::Compare(cmp, n))
            }
            Some(_) => {
                let text_at = self.pos;
                let (parts, wildcard) = self.bare_parts()?;
                if matches!(field, Field::Duration) {
                    let text: String = self.chars[text_at..self.pos].iter().collect();
                    return Err(ParseError::new(
                        text_at,
                        format!("compare durations with >, >=, < or <=, e.g. @duration:>{text}"),
                    ));
                }
                if wildcard {
                    Ok(Matcher::Wildcard(parts))
                } else {
                    Ok(Matcher::Exact(parts.concat()))
                }
            }
        }
    }

    /// A bare value up to whitespace or a parenthesis, with `\` escapes.
    fn bare_text(&mut self) -> Result<String, ParseError> {
        let (parts, wildcard) = self.bare_parts()?;
        if wildcard {
            return Err(ParseError::new(
                self.pos - 1,
                "a comparison takes a number, not a `*`",
            ));
        }
        Ok(parts.concat())
    }

    /// A bare value split at unescaped `*` (the parts are literal), and whether there was one.
    fn bare_parts(&mut self) -> Result<(Vec<String>, bool), ParseError> {
        let mut parts = vec![String::new()];
        let mut wildcard = false;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == ')' || c == '(' {
                break;
            }
            self.pos += 1;
            match c {
                '\\' => match self.peek() {
                    Some(next) => {
                        self.pos += 1;
                        parts.last_mut().expect("one part").push(next);
                    }
                    None => {
                        return Err(ParseError::new(
                            self.pos - 1,
                            "a `\\` at the end escapes nothing",
                        ));
                    }
                },
                '*' => {
                    wildcard = true;
                    parts.push(String::new());
                }
                '"' => {
                    return Err(ParseError::new(
                        self.pos - 1,
                        "a quote inside a value: quote the whole value (\"…\") or escape it (\\\")",
                    ));
                }
                c => parts.last_mut().expect("one part").push(c),
            }
        }
        Ok((parts, wildcard))
    }
}

/// Parses a number; for a duration, with an optional unit (ns by default), into nanoseconds.
fn parse_number(text: &str, at: usize, duration: bool) -> Result<f64, ParseError> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let value: f64 = num.parse().map_err(|_| {
        ParseError::new(
            at,
            if duration {
                format!(
                    "`{text}` is not a duration: write a number and a unit, e.g. 5s, 250ms, 1.5m"
                )
            } else {
                format!("`{text}` is not a number")
            },
        )
    })?;
    if !value.is_finite() {
        return Err(ParseError::new(at, format!("`{text}` is not a number")));
    }
    if !duration {
        if !unit.is_empty() {
            return Err(ParseError::new(
                at + split,
                format!("`{text}` is not a number (units are only for @duration)"),
            ));
        }
        return Ok(value);
    }
    let scale = match unit {
        "" | "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        other => {
            return Err(ParseError::new(
                at + num.chars().count(),
                format!("unknown duration unit `{other}`: use ns, us, ms, s or m"),
            ));
        }
    };
    Ok(value * scale)
}

/// Checks a value against what its field accepts.
fn check_field(field: &Field, matcher: Matcher, at: usize) -> Result<Matcher, ParseError> {
    match (field, &matcher) {
        (Field::Status, Matcher::Exact(v)) => {
            let v = v.to_ascii_lowercase();
            if v == "error" || v == "ok" {
                Ok(Matcher::Exact(v))
            } else {
                Err(ParseError::new(
                    at,
                    format!("status is `error` or `ok`, not `{v}`"),
                ))
            }
        }
        (Field::Status, _) => Err(ParseError::new(at, "status is `error` or `ok`")),
        (Field::Kind, Matcher::Exact(v))
            if !matches!(v.as_str(), "server" | "client" | "internal") =>
        {
            Err(ParseError::new(
                at,
                format!(
                    "kind is `server` (service entry spans), `client` or `internal`, not `{v}`"
                ),
            ))
        }
        (
            Field::Service
            | Field::Resource
            | Field::Name
            | Field::Kind
            | Field::TraceId
            | Field::SpanId,
            Matcher::Compare(..),
        ) => Err(ParseError::new(
            at,
            "only @duration and numeric @tags take `>`, `>=`, `<`, `<=`",
        )),
        _ => Ok(matcher),
    }
}

fn write_value(f: &mut fmt::Formatter<'_>, v: &str) -> fmt::Result {
    if v.is_empty()
        || v.chars()
            .any(|c| c.is_whitespace() || matches!(c, '(' | ')' | '"' | '*' | '\\'))
    {
        f.write_str("\"")?;
        for c in v.chars() {
            if c == '"' || c == '\\' {
                f.write_str("\\")?;
            }
            write!(f, "{c}")?;
        }
        f.write_str("\"")
    } else {
        f.write_str(v)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Service => f.write_str("service"),
            Field::Status => f.write_str("status"),
            Field::Resource => f.write_str("resource"),
            Field::Name => f.write_str("name"),
            Field::Kind => f.write_str("kind"),
            Field::TraceId => f.write_str("trace_id"),
            Field::SpanId => f.write_str("span_id"),
            Field::Duration => f.write_str("@duration"),
            Field::Tag(key) => write!(f, "@{key}"),
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.field)?;
        match &self.matcher {
            Matcher::Exact(v) => write_value(f, v),
            Matcher::Wildcard(parts) => {
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str("*")?;
                    }
                    for c in part.chars() {
                        if c.is_whitespace() || matches!(c, '(' | ')' | '"' | '*' | '\\') {
                            f.write_str("\\")?;
                        }
                        write!(f, "{c}")?;
                    }
                }
                Ok(())
            }
            Matcher::Compare(cmp, n) if self.field == Field::Duration => {
                write!(f, "{}{}", cmp.as_str(), format_ns(*n))
            }
            Matcher::Compare(cmp, n) => write!(f, "{}{n}", cmp.as_str()),
        }
    }
}

/// Nanoseconds in the largest unit that keeps them whole (`5s`, `250ms`, `1500ns`).
fn format_ns(n: f64) -> String {
    for (unit, scale) in [("m", 60e9), ("s", 1e9), ("ms", 1e6), ("us", 1e3)] {
        let v = n / scale;
        if v >= 1.0 && (v - v.round()).abs() < 1e-9 {
            return format!("{}{unit}", v.round());
        }
    }
    format!("{n}ns")
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Term(t) => t.fmt(f),
            Expr::Trace(e) => write!(f, "trace({e})"),
            Expr::Not(e) => match **e {
                Expr::Term(_) | Expr::Not(_) | Expr::Trace(_) => write!(f, "-{e}"),
                _ => write!(f, "-({e})"),
            },
            Expr::And(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    if matches!(e, Expr::Or(_)) {
                        write!(f, "({e})")?;
                    } else {
                        e.fmt(f)?;
                    }
                }
                Ok(())
            }
            Expr::Or(items) => {
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" OR ")?;
                    }
                    e.fmt(f)?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.expr {
            Some(e) => e.fmt(f),
            None => Ok(()),
        }
    }
}
