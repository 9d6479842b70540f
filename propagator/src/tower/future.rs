use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::sync::Arc;
use std::time::Instant;

use ::tracing::Span;
use http::Response;

use crate::tracing::{RequestState, enter_scope, semconv};

pin_project_lite::pin_project! {
    /// The response future of [`PropagateContext`](super::PropagateContext): polls the inner
    /// future inside the entry span, with the request marked current, and records the status,
    /// `error`, the duration and the service's tags when the response is ready.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::tower::ResponseFuture;
    ///
    /// fn assert_future<F: std::future::Future>() {}
    /// assert_future::<ResponseFuture<std::future::Ready<Result<http::Response<()>, ()>>>>();
    /// ```
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        span: Span,
        state: Arc<RequestState>,
        start: Instant,
        done: bool,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if !*this.done {
                // Dropped before the response: the client went away, or a timeout fired.
                finish(this.span, this.state, *this.start, None, false);
            }
        }
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, span: Span, state: Arc<RequestState>) -> Self {
        ResponseFuture {
            inner,
            span,
            state,
            start: Instant::now(),
            done: false,
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("span", &self.span)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = {
            let _scope = enter_scope(this.state);
            let _span = this.span.enter();
            ready!(this.inner.poll(cx))
        };
        *this.done = true;
        match &output {
            Ok(response) => finish(
                this.span,
                this.state,
                *this.start,
                Some(response.status().as_u16()),
                false,
            ),
            Err(_) => finish(this.span, this.state, *this.start, None, true),
        }
        Poll::Ready(output)
    }
}

/// Records the outcome, and the tags the service set, on the entry span.
fn finish(span: &Span, state: &RequestState, start: Instant, status: Option<u16>, failed: bool) {
    if span.is_disabled() {
        return;
    }
    if let Some(status) = status {
        span.record("http.response.status_code", i64::from(status));
    }
    // `error` is recorded only when true (Datadog's convention: absent means no error);
    // `error.type` is the status code, or `_OTHER` when the service failed without one
    // (OpenTelemetry's: a server's 4xx is the client's error, not the server's).
    if failed || status.is_some_and(|s| s >= 500) {
        span.record("error", true);
        span.record("otel.status_code", "ERROR");
        match status {
            Some(code) => span.record("error.type", ::tracing::field::display(code)),
            None => span.record("error.type", semconv::OTHER_ERROR),
        };
    }
    span.record("duration_ms", start.elapsed().as_secs_f64() * 1000.0);
    let service_tags: Vec<_> = {
        let inner = state.lock();
        if inner.tags.is_empty() {
            return;
        }
        inner
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    for (key, value) in &service_tags {
        if state
            .config
            .identity_attributes
            .declared()
            .contains(&key.as_ref())
        {
            span.record(key.as_ref(), value.as_str());
        } else {
            #[cfg(feature = "opentelemetry")]
            if state.config.opentelemetry {
                crate::otel::set_attribute(span, key, value);
            }
        }
    }
}
