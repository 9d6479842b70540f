//! One `tracing` subscriber per service in one process.
//!
//! The demo runs checkout and payments in one process, but each must record its spans under
//! its own service name, and `UsertrailLayer` has one name. [`WithDispatchLayer`] makes a
//! service's own subscriber the default while the request is created (that is when
//! `PropagateContext` opens the entry span) and while its future is polled (the handler's
//! child spans and the `reqwest` middleware's client span). In two processes, each would
//! simply install its subscriber globally.

use std::task::{Context, Poll};

use tower::{Layer, Service};
use tracing::Dispatch;
use tracing::instrument::{WithDispatch, WithSubscriber};

/// Runs the wrapped service with `dispatch` as the default subscriber; add it outside
/// `PropagateContextLayer`.
#[derive(Clone, Debug)]
pub struct WithDispatchLayer {
    dispatch: Dispatch,
}

impl WithDispatchLayer {
    /// A layer for this subscriber.
    pub fn new(dispatch: Dispatch) -> Self {
        WithDispatchLayer { dispatch }
    }
}

impl<S> Layer<S> for WithDispatchLayer {
    type Service = WithDispatchService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        WithDispatchService {
            inner,
            dispatch: self.dispatch.clone(),
        }
    }
}

/// The service of [`WithDispatchLayer`].
#[derive(Clone, Debug)]
pub struct WithDispatchService<S> {
    inner: S,
    dispatch: Dispatch,
}

impl<S, R> Service<R> for WithDispatchService<S>
where
    S: Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = WithDispatch<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let inner = &mut self.inner;
        let future = tracing::dispatcher::with_default(&self.dispatch, || inner.call(req));
        future.with_subscriber(self.dispatch.clone())
    }
}
