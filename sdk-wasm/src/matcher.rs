//! `allowedTracingUrls`: which request URLs get tracing headers and identity.

use js_sys::{Function, RegExp};
use wasm_bindgen::JsValue;

/// One way to match a URL.
#[derive(Debug)]
pub(crate) enum UrlMatch {
    /// A URL prefix that must end at a URL boundary (see [`prefix_matches`]).
    Prefix(String),
    /// A `RegExp`, tested against the absolute URL.
    Regex(RegExp),
    /// A function `(url) => boolean`.
    Function(Function),
}

/// The outcome of testing one matcher.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Match,
    NoMatch,
    /// A user function threw: treated as no match, and warned about once.
    Threw,
}

impl UrlMatch {
    pub(crate) fn test(&self, url: &str) -> Outcome {
        let matched = match self {
            UrlMatch::Prefix(prefix) => prefix_matches(prefix, url),
            UrlMatch::Regex(regex) => {
                // A `g` or `y` RegExp keeps `lastIndex` between calls, so the same URL would
                // match only every other time (Datadog has this bug).
                regex.set_last_index(0);
                regex.test(url)
            }
            UrlMatch::Function(function) => {
                match function.call1(&JsValue::UNDEFINED, &JsValue::from_str(url)) {
                    Ok(value) => value.is_truthy(),
                    Err(_) => return Outcome::Threw,
                }
            }
        };
        if matched {
            Outcome::Match
        } else {
            Outcome::NoMatch
        }
    }
}

/// Whether `url` starts with `prefix` and the prefix ends at a URL boundary.
///
/// Datadog's plain `startsWith` lets `https://api.example.com` match
/// `https://api.example.com.evil.net/` and `https://api.example.community/`, sending user ids
/// to hosts the app never allowed. Here the character after the prefix must start the port,
/// path, query or fragment, or the prefix must itself end with one of those delimiters.
pub(crate) fn prefix_matches(prefix: &str, url: &str) -> bool {
    let Some(rest) = url.strip_prefix(prefix) else {
        return false;
    };
    if prefix.is_empty() {
        return false;
    }
    let prefix_ends_at_boundary =
        matches!(prefix.as_bytes().last(), Some(b'/' | b'?' | b'#' | b'&'));
    let next_is_boundary = match rest.as_bytes().first() {
        None => true,
        Some(b'/' | b'?' | b'#') => true,
        // A port can follow only the host: `https://api.example.com` allows `:8443`, but a
        // prefix that already has a path (`…/v1`) does not continue with `:`.
        Some(b':') => !has_path(prefix),
        Some(_) => false,
    };
    prefix_ends_at_boundary || next_is_boundary
}

/// Whether `prefix` goes past the authority (`scheme://host[:port]`) into the path.
///
/// On bytes rather than with `str::split_once("//")` and `contains`: the substring searcher and
/// `memchr` behind those cost more than a kilobyte of WebAssembly, downloaded by every visitor.
#[allow(
    clippy::manual_contains,
    reason = "`contains` on bytes calls `memchr`, which is larger in WebAssembly"
)]
fn has_path(prefix: &str) -> bool {
    let bytes = prefix.as_bytes();
    let after_scheme = bytes
        .windows(2)
        .position(|w| w == b"//")
        .map_or(0, |i| i + 2);
    bytes[after_scheme..].iter().any(|&b| b == b'/')
}

#[cfg(test)]
mod tests {
    use super::prefix_matches;

    #[rustfmt::skip]
    const CASES: &[(&str, &str, bool, &str)] = &[
        ("https://api.example.com", "https://api.example.com", true, "the prefix itself"),
        ("https://api.example.com", "https://api.example.com/orders", true, "a path"),
        ("https://api.example.com", "https://api.example.com?x", true, "a query"),
        ("https://api.example.com", "https://api.example.com#x", true, "a fragment"),
        ("https://api.example.com", "https://api.example.com:8443/x", true, "a port on the same host"),
        ("https://api.example.com/", "https://api.example.com/orders", true, "prefix ends with /"),
        ("https://api.example.com/v1", "https://api.example.com/v1/orders", true, "a path prefix"),
        ("https://api.example.com/v1?", "https://api.example.com/v1?a=1", true, "prefix ends with ?"),
        ("https://api.example.com", "https://api.example.com.evil.net/", false, "a longer host (Datadog matches it)"),
        ("https://api.example.com", "https://api.example.community/", false, "a host that extends the name"),
        ("https://api.example.com", "https://api.example.com@evil.net/", false, "userinfo trick"),
        ("https://api.example.com/v1", "https://api.example.com/v12", false, "a longer path segment"),
        ("https://api.example.com/v1", "https://api.example.com/v1:x", false, "no port after a path"),
        ("https://api.example.com", "http://api.example.com/", false, "another scheme"),
        ("https://api.example.com", "https://other.example.com/", false, "another host"),
        ("", "https://api.example.com/", false, "an empty prefix matches nothing"),
    ];

    #[test]
    fn string_entries_match_only_at_a_url_boundary() {
        for &(prefix, url, expected, why) in CASES {
            assert_eq!(
                prefix_matches(prefix, url),
                expected,
                "{why}: {prefix} vs {url}"
            );
        }
    }
}
