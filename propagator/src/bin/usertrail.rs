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

use std::borrow::Cow;
use std::io::{self, Read, Write};
use std::process::ExitCode;

use serde::Serialize;
use usertrail_propagator::{Extracted, Identity, PropagatorType, SamplingPriority, extract};

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
    let identity = extracted.identity();
    let report = Report::new(&extracted, &identity, &errors);
    let written = if compact {
        serde_json::to_string(&report)
    } else {
        serde_json::to_string_pretty(&report)
    };
    // Only strings, numbers, booleans and nulls: serializing cannot fail.
    let Ok(mut out) = written else {
        eprintln!("usertrail: cannot write the report as JSON");
        return ExitCode::from(2);
    };
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

/// The JSON object `decode` prints, fields in this order (serde_json keeps struct order).
#[derive(Serialize)]
struct Report<'a> {
    trace: Option<Trace<'a>>,
    tracestate: Option<String>,
    baggage: Vec<Member<'a>>,
    span_tags: SpanTags<'a>,
    errors: &'a [String],
}

#[derive(Serialize)]
struct Trace<'a> {
    trace_id: String,
    parent_id: String,
    sampled: bool,
    flags: String,
    source: Option<&'static str>,
    sampling_priority: Option<i32>,
    origin: Option<&'a str>,
}

#[derive(Serialize)]
struct Member<'a> {
    key: &'a str,
    value: Cow<'a, str>,
    properties: Vec<Property<'a>>,
}

#[derive(Serialize)]
struct Property<'a> {
    key: &'a str,
    /// `null` for a bare `;key`.
    value: Option<Cow<'a, str>>,
}

/// The entry span's tags as one JSON object, in the order the identity mapping gives them.
struct SpanTags<'a>(Vec<(&'a str, &'a str)>);

impl Serialize for SpanTags<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().copied())
    }
}

impl<'a> Report<'a> {
    fn new(extracted: &'a Extracted<'a>, identity: &'a Identity<'a>, errors: &'a [String]) -> Self {
        let trace = extracted.span_context().map(|sc| Trace {
            trace_id: sc.trace_id().to_string(),
            parent_id: sc.span_id().to_string(),
            sampled: sc.is_sampled(),
            flags: sc.flags().to_string(),
            source: sc.source().map(PropagatorType::as_str),
            sampling_priority: sc.sampling_priority().map(SamplingPriority::get),
            origin: sc.origin(),
        });
        let baggage = extracted
            .baggage()
            .iter()
            .map(|member| Member {
                key: member.key(),
                value: member.value(),
                properties: member
                    .properties()
                    .map(|(key, value)| Property { key, value })
                    .collect(),
            })
            .collect();
        Report {
            trace,
            tracestate: extracted.tracestate().map(|ts| ts.to_header_value()),
            baggage,
            span_tags: SpanTags(identity.attributes().collect()),
            errors,
        }
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
}
