use core::task::{Context, Poll};
use std::sync::Arc;

use http::{Request, Response};
use tower_service::Service;

use super::{PropagateContextLayer, ResponseFuture};
use crate::tracing::{DEFAULT_CONFIG, RequestContext, SharedConfig, enter_scope, start_request};

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
        let (state, span) = start_request(
            &self.config,
            req.headers(),
            req.method().as_str(),
            req.uri().path(),
        );
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
