//! `usertrail decode`: what a server would extract from a set of request headers.
//!
//! Reads `Name: value` lines on stdin (as copied from browser dev tools or `curl -v`) and
//! prints one JSON object: the trace context picked, the normalized `tracestate`, the baggage
//! members (percent-decoded), the span tags the identity mapping gives, and every header or
//! member that was rejected. Built with the `cli` feature:
//!
//! ```text
//! cargo install --path propagator --features cli
//! printf 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n' | usertrail decode
//! ```

use std::io::{self, Read, Write};
use std::process::ExitCode;

use usertrail_propagator::{Extracted, extract};

const USAGE: &str = "\
usage: usertrail decode [--compact]
       usertrail --help | --version

Commands:
  decode    Read HTTP request header lines from stdin and print, as one JSON object,
            what a usertrail server extracts from them.

Run `usertrail decode --help` for the input and output formats.
";

const DECODE_HELP: &str = "\
usage: usertrail decode [--compact]

Reads HTTP header lines from stdin, one `Name: value` per line (names in any case, repeated
names allowed, CRLF line ends tolerated, blank lines ignored; lines starting with `> ` or
`< `, as `curl -v` prints them, are taken without that prefix). Extracts them the way a
usertrail server does (traceparent, then Datadog, then B3 multi, then B3 single; tracestate;
baggage) and prints one JSON object:

  trace       {trace_id, parent_id, sampled, flags, source, sampling_priority, origin}, or
              null when no format gave a valid trace context. trace_id is 32 and parent_id
              16 lower-case hex digits, flags 2; source is tracecontext, datadog, b3 or
              b3multi; sampling_priority and origin are Datadog's (null when unknown).
  tracestate  the normalized tracestate header, or null (absent, invalid, or no valid
              traceparent).
  baggage     [{key, value, properties: [{key, value}]}], values and property values
              percent-decoded; property values are null for a bare `;key`.
  span_tags   the tags a server puts on its entry span: usr.id, account.id, session.id.
  errors      one message per rejected header, dropped baggage member or unreadable line.

Options:
  --compact   print the object on one line instead of indented.
  -h, --help  print this help.

Exits 0 whatever the headers hold (problems go in `errors`); 2 for bad arguments or when
stdin cannot be read.

Example:
  printf 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\\nbaggage: user.id=u1\\n' \\
    | usertrail decode
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["-h" | "--help" | "help"] => print_stdout(USAGE),
        ["-V" | "--version"] => {
            print_stdout(concat!("usertrail ", env!("CARGO_PKG_VERSION"), "\n"))
        }
        ["help", "decode"] => print_stdout(DECODE_HELP),
        ["decode", options @ ..] => {
            if options.iter().any(|o| matches!(*o, "-h" | "--help")) {
                return print_stdout(DECODE_HELP);
            }
            let mut compact = false;
            for option in options {
                match *option {
                    "--compact" => compact = true,
                    other => return usage_error(&format!("unknown option for decode: {other}")),
                }
            }
            decode(compact)
        }
        [] => usage_error("missing command"),
        [other, ..] => usage_error(&format!("unknown command: {other}")),
    }
}

fn print_stdout(text: &str) -> ExitCode {
    // A closed pipe (`usertrail --help | head -1`) is not worth a panic.
    let _ = io::stdout().write_all(text.as_bytes());
    ExitCode::SUCCESS
}

fn usage_error(message: &str) -> ExitCode {
    eprint!("usertrail: {message}\n\n{USAGE}");
    ExitCode::from(2)
}

fn decode(compact: bool) -> ExitCode {
    let mut input = Vec::new();
    if let Err(e) = io::stdin().lock().read_to_end(&mut input) {
        eprintln!("usertrail: cannot read stdin: {e}");
        return ExitCode::from(2);
    }
    let (headers, mut errors) = parse_header_lines(&input);
    let extracted = extract(&headers[..]);
    errors.extend(extracted.errors().iter().map(ToString::to_string));
    let mut json = Json::new(!compact);
    write_report(&mut json, &extracted, &errors);
    let mut out = json.finish();
    out.push('\n');
    if let Err(e) = io::stdout().write_all(out.as_bytes()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("usertrail: cannot write stdout: {e}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

/// Splits stdin into `(name, value)` pairs; lines that are not headers become errors.
fn parse_header_lines(input: &[u8]) -> (Vec<(String, String)>, Vec<String>) {
    let mut headers = Vec::new();
    let mut errors = Vec::new();
    for (index, raw) in input.split(|&b| b == b'\n').enumerate() {
        let number = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = String::from_utf8_lossy(raw);
        if matches!(line, std::borrow::Cow::Owned(_)) {
            errors.push(format!(
                "line {number}: not valid UTF-8 (bad bytes replaced with U+FFFD)"
            ));
        }
        // `curl -v` prefixes request headers with `> `.
        let line = line
            .strip_prefix("> ")
            .or_else(|| line.strip_prefix("< "))
            .unwrap_or(&line);
        let line = line.trim_matches([' ', '\t']);
        if line.is_empty() {
            continue;
        }
        // An HTTP/2 pseudo-header copied from dev tools (`:authority: …`) starts with `:`.
        let colon = line
            .get(1..)
            .and_then(|rest| rest.find(':'))
            .map(|i| i + 1)
            .filter(|_| line.starts_with(':'))
            .or_else(|| line.find(':'));
        let Some(colon) = colon else {
            errors.push(format!("line {number}: not a header (no colon): {line:?}"));
            continue;
        };
        let name = line[..colon].trim_end_matches([' ', '\t']);
        let value = line[colon + 1..].trim_matches([' ', '\t']);
        if name.is_empty() {
            errors.push(format!("line {number}: empty header name"));
            continue;
        }
        headers.push((name.to_owned(), value.to_owned()));
    }
    (headers, errors)
}

fn write_report(json: &mut Json, extracted: &Extracted<'_>, errors: &[String]) {
    json.begin_object();
    json.key("trace");
    match extracted.span_context() {
        Some(sc) => {
            json.begin_object();
            json.key("trace_id");
            let mut hex = String::new();
            sc.trace_id().write_to(&mut hex);
            json.string(&hex);
            json.key("parent_id");
            hex.clear();
            sc.span_id().write_to(&mut hex);
            json.string(&hex);
            json.key("sampled");
            json.raw(if sc.is_sampled() { "true" } else { "false" });
            json.key("flags");
            hex.clear();
            sc.flags().write_to(&mut hex);
            json.string(&hex);
            json.key("source");
            match sc.source() {
                Some(source) => json.string(source.as_str()),
                None => json.raw("null"),
            }
            json.key("sampling_priority");
            match sc.sampling_priority() {
                Some(priority) => json.raw(&priority.get().to_string()),
                None => json.raw("null"),
            }
            json.key("origin");
            json.optional_string(sc.origin());
            json.end_object();
        }
        None => json.raw("null"),
    }
    json.key("tracestate");
    json.optional_string(
        extracted
            .tracestate()
            .map(|ts| ts.to_header_value())
            .as_deref(),
    );
    json.key("baggage");
    json.begin_array();
    for member in extracted.baggage().iter() {
        json.begin_object();
        json.key("key");
        json.string(member.key());
        json.key("value");
        json.string(&member.value());
        json.key("properties");
        json.begin_array();
        for (key, value) in member.properties() {
            json.begin_object();
            json.key("key");
            json.string(key);
            json.key("value");
            json.optional_string(value.as_deref());
            json.end_object();
        }
        json.end_array();
        json.end_object();
    }
    json.end_array();
    json.key("span_tags");
    json.begin_object();
    for (tag, value) in extracted.identity().attributes() {
        json.key(tag);
        json.string(value);
    }
    json.end_object();
    json.key("errors");
    json.begin_array();
    for error in errors {
        json.string(error);
    }
    json.end_array();
    json.end_object();
}

/// A minimal JSON writer (objects, arrays, strings, literals), indented or compact; keeps
/// the binary free of dependencies and the fields in a fixed order.
struct Json {
    out: String,
    pretty: bool,
    /// One entry per open object/array: has it had a member yet?
    stack: Vec<bool>,
    /// The next value follows a key on the same line.
    after_key: bool,
}

impl Json {
    fn new(pretty: bool) -> Self {
        Json {
            out: String::new(),
            pretty,
            stack: Vec::new(),
            after_key: false,
        }
    }

    fn newline(&mut self) {
        if self.pretty {
            self.out.push('\n');
            for _ in 0..self.stack.len() {
                self.out.push_str("  ");
            }
        }
    }

    /// Separator and indentation before a value or key.
    fn before_item(&mut self) {
        if std::mem::take(&mut self.after_key) {
            return;
        }
        if let Some(has_items) = self.stack.last_mut() {
            if std::mem::replace(has_items, true) {
                self.out.push(',');
            }
            self.newline();
        }
    }

    fn begin(&mut self, open: char) {
        self.before_item();
        self.out.push(open);
        self.stack.push(false);
    }

    fn end(&mut self, close: char) {
        if self.stack.pop() == Some(true) {
            self.newline();
        }
        self.out.push(close);
    }

    fn begin_object(&mut self) {
        self.begin('{');
    }

    fn end_object(&mut self) {
        self.end('}');
    }

    fn begin_array(&mut self) {
        self.begin('[');
    }

    fn end_array(&mut self) {
        self.end(']');
    }

    fn key(&mut self, key: &str) {
        self.before_item();
        self.push_string(key);
        self.out.push_str(if self.pretty { ": " } else { ":" });
        self.after_key = true;
    }

    fn raw(&mut self, literal: &str) {
        self.before_item();
        self.out.push_str(literal);
    }

    fn string(&mut self, s: &str) {
        self.before_item();
        self.push_string(s);
    }

    fn optional_string(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.string(s),
            None => self.raw("null"),
        }
    }

    fn push_string(&mut self, s: &str) {
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                '\t' => self.out.push_str("\\t"),
                c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                    self.out.push_str(&format!("\\u{:04x}", u32::from(c)));
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines() {
        let input = b"Traceparent: a\r\n\r\n  \nno colon here\n> baggage:b=1\n:authority: example.com\n: x\n\xff: y\n";
        let (headers, errors) = parse_header_lines(input);
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("Traceparent", "a"),
                ("baggage", "b=1"),
                (":authority", "example.com"),
                ("\u{FFFD}", "y"),
            ]
        );
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].starts_with("line 4: not a header"));
        assert_eq!(errors[1], "line 7: empty header name");
        assert!(errors[2].starts_with("line 8: not valid UTF-8"));
    }

    #[test]
    fn json_writer() {
        let mut json = Json::new(false);
        json.begin_object();
        json.key("a");
        json.begin_array();
        json.string("x\"\\\u{1}é");
        json.raw("null");
        json.end_array();
        json.key("b");
        json.begin_object();
        json.end_object();
        json.end_object();
        assert_eq!(json.finish(), r#"{"a":["x\"\\\u0001é",null],"b":{}}"#);

        let mut json = Json::new(true);
        json.begin_object();
        json.key("a");
        json.begin_array();
        json.raw("1");
        json.end_array();
        json.key("b");
        json.begin_array();
        json.end_array();
        json.end_object();
        assert_eq!(json.finish(), "{\n  \"a\": [\n    1\n  ],\n  \"b\": []\n}");
    }
}
