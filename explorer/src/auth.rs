//! Who may see the explorer and who may send it spans.
//!
//! The store holds user and account ids, so on anything but loopback the service refuses to
//! start without two tokens ([`Tokens`]): one for the page and the JSON API, one for OTLP
//! senders. A browser gives the read token as HTTP Basic auth (any user name, the token as the
//! password: the browser asks once); a program gives either as `Authorization: Bearer <token>`
//! (OTLP exporters: `OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20<token>`). Tokens are
//! compared in constant time and never printed.

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use subtle::ConstantTimeEq;

/// The two tokens; `None`: that side is open (allowed on loopback only).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Tokens {
    /// For the page and the JSON API.
    pub read: Option<String>,
    /// For `POST /v1/traces`.
    pub ingest: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |t: &Option<String>| if t.is_some() { "set" } else { "none" };
        write!(
            f,
            "Tokens {{ read: {}, ingest: {} }}",
            set(&self.read),
            set(&self.ingest)
        )
    }
}

impl Tokens {
    /// Whether listening on `addr` is allowed with these tokens: always on loopback, and
    /// elsewhere only with both.
    ///
    /// # Errors
    ///
    /// What is missing, for the operator.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_explorer::auth::Tokens;
    ///
    /// let none = Tokens::default();
    /// assert!(none.check_bind("127.0.0.1:4318".parse().unwrap()).is_ok());
    /// assert!(none.check_bind("0.0.0.0:4318".parse().unwrap()).is_err());
    /// let both = Tokens { read: Some("r".into()), ingest: Some("i".into()) };
    /// assert!(both.check_bind("0.0.0.0:4318".parse().unwrap()).is_ok());
    /// ```
    pub fn check_bind(&self, addr: SocketAddr) -> Result<(), String> {
        if addr.ip().is_loopback() || (self.read.is_some() && self.ingest.is_some()) {
            return Ok(());
        }
        Err(format!(
            "listening on {addr}, beyond loopback, needs --read-token and --ingest-token \
             (or USERTRAIL_READ_TOKEN and USERTRAIL_INGEST_TOKEN): the store holds user ids"
        ))
    }
}

/// The token a request carries: `Bearer <token>`, or Basic auth's password.
fn presented(headers: &HeaderMap) -> Option<Vec<u8>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().as_bytes().to_vec());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let colon = decoded.iter().position(|&b| b == b':')?;
        return Some(decoded[colon + 1..].to_vec());
    }
    None
}

fn allowed(expected: &str, headers: &HeaderMap) -> bool {
    presented(headers).is_some_and(|given| bool::from(given.ct_eq(expected.as_bytes())))
}

/// Middleware for the page and the API: the read token, or a 401 that makes a browser ask.
pub async fn require_read(
    State(token): State<Option<String>>,
    request: Request,
    next: Next,
) -> Response {
    match token {
        Some(token) if !allowed(&token, request.headers()) => {
            let mut response = (
                StatusCode::UNAUTHORIZED,
                "usertrail explorer: sign in with the read token\n",
            )
                .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"usertrail explorer\", charset=\"UTF-8\""),
            );
            response
        }
        _ => next.run(request).await,
    }
}

/// Middleware for OTLP ingest: the ingest token, or a 401 (which OTLP exporters do not retry).
pub async fn require_ingest(
    State(token): State<Option<String>>,
    request: Request,
    next: Next,
) -> Response {
    match token {
        Some(token) if !allowed(&token, request.headers()) => (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"usertrail ingest\""),
            )],
        )
            .into_response(),
        _ => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn bearer_and_basic_passwords_are_read() {
        assert!(allowed("s3cret", &with("Bearer s3cret")));
        assert!(allowed("s3cret", &with("bearer  s3cret ")));
        // "anyone:s3cret"
        assert!(allowed("s3cret", &with("Basic YW55b25lOnMzY3JldA==")));
        assert!(!allowed("s3cret", &with("Bearer s3cre")));
        assert!(!allowed("s3cret", &with("Bearer s3cret2")));
        assert!(!allowed("s3cret", &with("Basic !!!")));
        assert!(!allowed("s3cret", &with("Token s3cret")));
        assert!(!allowed("s3cret", &HeaderMap::new()));
    }

    #[test]
    fn tokens_are_never_in_debug_output() {
        let t = Tokens {
            read: Some("r-secret".into()),
            ingest: None,
        };
        assert_eq!(format!("{t:?}"), "Tokens { read: set, ingest: none }");
    }
}
