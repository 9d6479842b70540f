//! OpenTelemetry's HTTP semantic conventions (stable, v1.2x+), the parts the entry span and
//! the client span need: span names, method normalization, the redaction of `url.query` and
//! `url.full`. <https://opentelemetry.io/docs/specs/semconv/http/http-spans/>

use alloc::borrow::Cow;
use alloc::string::{String, ToString};

/// The methods the conventions know (RFC 9110 and PATCH); any other is reported as
/// [`OTHER_METHOD`], with the original in `http.request.method_original`.
const KNOWN_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// `http.request.method` for a method outside [`KNOWN_METHODS`].
pub(crate) const OTHER_METHOD: &str = "_OTHER";

/// `error.type` when the service failed without a status code to say how.
pub(crate) const OTHER_ERROR: &str = "_OTHER";

/// What replaces a redacted value.
const REDACTED: &str = "REDACTED";

/// Query parameters whose values the conventions ask to redact by default (signed-URL
/// credentials).
const SENSITIVE_QUERY_KEYS: &[&str] = &["AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature"];

/// `http.request.method`: the method if the conventions know it, else `_OTHER`; and
/// whether it was replaced (then the original goes in `http.request.method_original`).
pub(crate) fn normalize_method(method: &str) -> (&'static str, bool) {
    match KNOWN_METHODS.iter().find(|m| **m == method) {
        Some(m) => (m, false),
        None => (OTHER_METHOD, true),
    }
}

/// `{method} {route}`, `{method}` without a route, and `HTTP` for the method when it is
/// `_OTHER`: the span name of an HTTP server (with `http.route`) or client span.
pub(crate) fn http_span_name(method: &str, route: Option<&str>) -> String {
    HttpSpanName { method, route }.to_string()
}

/// [`http_span_name`] as a `Display` value: written when a subscriber reads it (the
/// `UsertrailLayer` does not), not built for every request.
pub(crate) struct HttpSpanName<'a> {
    pub(crate) method: &'a str,
    pub(crate) route: Option<&'a str>,
}

impl core::fmt::Display for HttpSpanName<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let method = if self.method == OTHER_METHOD {
            "HTTP"
        } else {
            self.method
        };
        match self.route {
            Some(route) if !route.is_empty() => write!(f, "{method} {route}"),
            _ => f.write_str(method),
        }
    }
}

/// `url.query` with the values of [`SENSITIVE_QUERY_KEYS`] replaced by `REDACTED`.
pub(crate) fn redact_query(query: &str) -> Cow<'_, str> {
    let sensitive = |pair: &str| {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        pair.contains('=') && SENSITIVE_QUERY_KEYS.contains(&key)
    };
    if !query.split('&').any(sensitive) {
        return Cow::Borrowed(query);
    }
    let mut out = String::with_capacity(query.len());
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        if sensitive(pair) {
            let key = pair.split_once('=').map_or(pair, |(k, _)| k);
            out.push_str(key);
            out.push('=');
            out.push_str(REDACTED);
        } else {
            out.push_str(pair);
        }
    }
    Cow::Owned(out)
}

/// `url.full` as the conventions want it: credentials in the authority replaced by
/// `REDACTED:REDACTED` (never exported), sensitive query values redacted, no fragment.
#[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
pub(crate) fn redact_url(url: &str) -> Cow<'_, str> {
    let url = url.split_once('#').map_or(url, |(u, _)| u);
    let (before_query, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let with_credentials = before_query.split_once("://").and_then(|(scheme, rest)| {
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        authority
            .rsplit_once('@')
            .map(|(_, host)| (scheme, host, path))
    });
    let redacted_query = query.map(redact_query);
    let query_changed = matches!(redacted_query, Some(Cow::Owned(_)));
    if with_credentials.is_none() && !query_changed {
        return Cow::Borrowed(url);
    }
    let mut out = String::with_capacity(url.len() + 20);
    match with_credentials {
        Some((scheme, host, path)) => {
            out.push_str(scheme);
            out.push_str("://REDACTED:REDACTED@");
            out.push_str(host);
            out.push_str(path);
        }
        None => out.push_str(before_query),
    }
    if let Some(query) = redacted_query {
        out.push('?');
        out.push_str(&query);
    }
    Cow::Owned(out)
}

/// `network.protocol.version` of an HTTP version.
#[cfg(feature = "http")]
pub(crate) fn protocol_version(version: http::Version) -> Option<&'static str> {
    Some(match version {
        http::Version::HTTP_09 => "0.9",
        http::Version::HTTP_10 => "1.0",
        http::Version::HTTP_11 => "1.1",
        http::Version::HTTP_2 => "2",
        http::Version::HTTP_3 => "3",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_names_use_the_route_never_the_path() {
        assert_eq!(
            http_span_name("GET", Some("/orders/{id}")),
            "GET /orders/{id}"
        );
        assert_eq!(http_span_name("GET", None), "GET");
        assert_eq!(http_span_name(OTHER_METHOD, Some("/x")), "HTTP /x");
        assert_eq!(normalize_method("PATCH"), ("PATCH", false));
        assert_eq!(normalize_method("get"), (OTHER_METHOD, true));
        assert_eq!(normalize_method("PURGE"), (OTHER_METHOD, true));
    }

    #[rustfmt::skip]
    #[test]
    fn credentials_and_signatures_are_redacted() {
        let cases: &[(&str, &str, &str)] = &[
            ("http://a:8080/p?q=1", "http://a:8080/p?q=1", "nothing to redact"),
            ("https://u:pw@h/p", "https://REDACTED:REDACTED@h/p", "user info"),
            ("https://h/p?sig=abc&x=1", "https://h/p?sig=REDACTED&x=1", "signed URL"),
            ("https://h/p?X-Goog-Signature=s#frag", "https://h/p?X-Goog-Signature=REDACTED", "fragment dropped"),
            ("https://h/p?signature=s", "https://h/p?signature=s", "keys are case-sensitive"),
        ];
        for (url, want, why) in cases {
            assert_eq!(redact_url(url), *want, "{why}");
        }
        assert_eq!(redact_query("Signature=x&AWSAccessKeyId=y"), "Signature=REDACTED&AWSAccessKeyId=REDACTED");
    }
}
