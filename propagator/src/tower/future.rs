use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, ready};

use http::Response;

use crate::server::EntrySpan;

pin_project_lite::pin_project! {
    /// The response future of [`PropagateContext`](super::PropagateContext): polls the inner
    /// future inside the entry span, with the request marked current, and finishes the entry
    /// span with the status when the response is ready.
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
        // `None` once finished; dropped unfinished, it records what it can.
        entry: Option<EntrySpan>,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, entry: EntrySpan) -> Self {
        ResponseFuture {
            inner,
            entry: Some(entry),
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("entry", &self.entry)
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
        let output = match this.entry.as_ref() {
            Some(entry) => {
                let _entered = entry.enter();
                ready!(this.inner.poll(cx))
            }
            None => ready!(this.inner.poll(cx)),
        };
        if let Some(entry) = this.entry.take() {
            match &output {
                Ok(response) => entry.finish(response.status().as_u16()),
                Err(_) => entry.finish_failed(),
            }
        }
        Poll::Ready(output)
    }
}
