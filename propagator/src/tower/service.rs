use core::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::{PropagateContextLayer, ResponseFuture};
use crate::server::{EntryConfig, ServerRequest};
use crate::tracing::semconv;

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
    config: EntryConfig,
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
            config: EntryConfig::new(),
        }
    }

    pub(crate) fn with_config(inner: S, config: EntryConfig) -> Self {
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
        let entry = self.config.start(req.headers(), &server_request(&req));
        req.extensions_mut().insert(entry.context());
        let inner = {
            let _entered = entry.enter();
            self.inner.call(req)
        };
        ResponseFuture::new(inner, entry)
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
/// `Host` header (or the URI's authority, as HTTP/2 sends it); `url.scheme` from the URI
/// when absolute, else `http` (the server side of a TLS-terminating proxy speaks plain HTTP;
/// `X-Forwarded-Proto` is the client's word).
fn server_request<B>(req: &Request<B>) -> ServerRequest<'_> {
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
    let user_agent = req
        .headers()
        .get(http::header::USER_AGENT)
        .and_then(|h| h.to_str().ok());
    ServerRequest::new(req.method().as_str(), uri.path())
        .with_query(uri.query())
        .with_scheme(scheme)
        .with_route(route(req))
        .with_host(authority)
        .with_protocol_version(semconv::protocol_version(req.version()))
        .with_user_agent(user_agent)
}
