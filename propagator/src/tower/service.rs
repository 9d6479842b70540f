use core::task::{Context, Poll};
use std::sync::Arc;

use http::{Request, Response};
use tower_service::Service;

use super::{PropagateContextLayer, ResponseFuture};
use crate::tracing::{
    DEFAULT_CONFIG, RequestContext, RequestInfo, SharedConfig, enter_scope, semconv, start_request,
};

/// Continues the caller's trace and runs the inner service inside the service entry span
/// (see the [module docs](crate::tower)).
///
/// # Examples
///
/// ```
/// use usertrail_propagator::tower::PropagateContext;
///
/// # let handler = || ();
/// let service = PropagateContext::new(handler); // default configuration
/// assert!(std::ptr::eq(service.get_ref(), service.get_ref()));
/// let handler = service.into_inner();
/// # let _ = handler;
/// ```
#[derive(Clone, Debug)]
pub struct PropagateContext<S> {
    inner: S,
    config: SharedConfig,
}

impl<S> PropagateContext<S> {
    /// Wraps `inner` with the default configuration of [`PropagateContextLayer::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// const SERVICE: usertrail_propagator::tower::PropagateContext<()> = usertrail_propagator::tower::PropagateContext::new(());
    /// # let _ = SERVICE;
    /// ```
    pub const fn new(inner: S) -> Self {
        PropagateContext {
            inner,
            config: SharedConfig::Static(&DEFAULT_CONFIG),
        }
    }

    pub(crate) fn with_config(inner: S, config: SharedConfig) -> Self {
        PropagateContext { inner, config }
    }

    /// The layer (`PropagateContext::layer()` reads as tower-http's `Trace::layer`).
    ///
    /// # Examples
    ///
    /// ```
    /// let layer = usertrail_propagator::tower::PropagateContext::<()>::layer();
    /// # let _ = layer;
    /// ```
    pub const fn layer() -> PropagateContextLayer {
        PropagateContextLayer::new()
    }

    /// The inner service.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(*usertrail_propagator::tower::PropagateContext::new(7).get_ref(), 7);
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut service = usertrail_propagator::tower::PropagateContext::new(7);
    /// *service.get_mut() += 1;
    /// assert_eq!(service.into_inner(), 8);
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(usertrail_propagator::tower::PropagateContext::new("inner").into_inner(), "inner");
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for PropagateContext<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let (state, span) = start_request(&self.config, req.headers(), &request_info(&req));
        #[cfg(feature = "opentelemetry")]
        if self.config.opentelemetry {
            crate::otel::bridge_entry_span(&span, &state);
        }
        req.extensions_mut()
            .insert(RequestContext::new(Arc::clone(&state)));
        let inner = {
            let _scope = enter_scope(&state);
            let _span = span.enter();
            self.inner.call(req)
        };
        ResponseFuture::new(inner, span, state)
    }
}

/// The route template the router matched, when it says: axum's `MatchedPath` (the layer
/// added with `Router::layer` runs after routing, so the route is known).
fn route<B>(req: &Request<B>) -> Option<&str> {
    #[cfg(feature = "axum")]
    if let Some(matched) = req.extensions().get::<axum::extract::MatchedPath>() {
        return Some(matched.as_str());
    }
    let _ = req;
    None
}

/// The HTTP server conventions' view of `req`: `server.address` / `server.port` from the
/// `Host` header (or the URI's authority, as HTTP/2 sends it), the port defaulting to the
/// scheme's; `url.scheme` from the URI when absolute, else `http` (the server side of a
/// TLS-terminating proxy speaks plain HTTP; `X-Forwarded-Proto` is the client's word).
fn request_info<B>(req: &Request<B>) -> RequestInfo<'_> {
    let uri = req.uri();
    let scheme = match uri.scheme_str() {
        Some("https") => "https",
        _ => "http",
    };
    let authority = uri
        .authority()
        .map(http::uri::Authority::as_str)
        .or_else(|| {
            req.headers()
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
        });
    let (server_address, port) = authority.map_or((None, None), split_authority);
    let server_port =
        server_address.map(|_| port.unwrap_or(if scheme == "https" { 443 } else { 80 }));
    RequestInfo {
        method: req.method().as_str(),
        path: uri.path(),
        query: uri.query(),
        scheme,
        route: route(req),
        server_address,
        server_port,
        protocol_version: semconv::protocol_version(req.version()),
        user_agent: req
            .headers()
            .get(http::header::USER_AGENT)
            .and_then(|h| h.to_str().ok()),
    }
}

/// Host and port of an authority (`example.com:8080`, `[::1]:80`, `example.com`); the
/// host is `None` when empty.
fn split_authority(authority: &str) -> (Option<&str>, Option<u16>) {
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = match authority.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((host, after)) => (host, after.strip_prefix(':')),
            None => return (None, None),
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port = port.and_then(|p| p.parse().ok());
    ((!host.is_empty()).then_some(host), port)
}

#[cfg(test)]
mod tests {
    use super::split_authority;

    #[rustfmt::skip]
    #[test]
    fn authorities_split_into_host_and_port() {
        let cases: &[(&str, Option<&str>, Option<u16>, &str)] = &[
            ("example.com:8080", Some("example.com"), Some(8080), "name and port"),
            ("example.com", Some("example.com"), None, "no port"),
            ("[::1]:80", Some("::1"), Some(80), "IPv6 in brackets"),
            ("[::1]", Some("::1"), None, "IPv6 without a port"),
            ("u@h:1", Some("h"), Some(1), "user info is not the host"),
            (":80", None, Some(80), "no host"),
            ("[::1", None, None, "unclosed bracket"),
        ];
        for (authority, host, port, why) in cases {
            assert_eq!(split_authority(authority), (*host, *port), "{why}");
        }
    }
}
