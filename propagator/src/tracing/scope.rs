//! Which request the running code belongs to: a thread-local set around every poll.
//!
//! `PropagateContext` (and [`Scoped`]) put the request's state in [`CURRENT`] for the duration
//! of each poll of the inner future, and of the inner service's `call`, then restore what was
//! there before; this is what `tokio::task_local!` does, without depending on an executor.
//! [`PENDING`] holds the state only while the entry span is being created, so that
//! `UsertrailLayer::on_new_span` can take it for that span (and no other can), with the
//! span's typed fields.

use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;
use std::time::Instant;

use super::record::Tags;
use super::state::RequestState;

std::thread_local! {
    static CURRENT: Cell<Option<Arc<RequestState>>> = const { Cell::new(None) };
    static PENDING: Cell<Option<Pending>> = const { Cell::new(None) };
}

/// The entry span being created: its request, and its HTTP and identity fields typed for
/// `UsertrailLayer`'s record (empty when no `UsertrailLayer` records it).
pub(crate) struct Pending {
    pub(crate) state: Arc<RequestState>,
    pub(crate) fields: Tags,
    /// When the entry point started the span.
    pub(crate) started: Instant,
}

/// Restores the previous current request when dropped.
pub(crate) struct Entered {
    previous: Option<Arc<RequestState>>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|c| c.set(previous));
    }
}

/// Makes `state` the current request until the guard drops.
#[inline]
pub(crate) fn enter(state: &Arc<RequestState>) -> Entered {
    let previous = CURRENT
        .try_with(|c| c.replace(Some(Arc::clone(state))))
        .ok()
        .flatten();
    Entered { previous }
}

/// The request whose future is being polled on this thread, if any.
#[inline]
pub(crate) fn current() -> Option<Arc<RequestState>> {
    CURRENT
        .try_with(|c| {
            let value = c.take();
            let out = value.clone();
            c.set(value);
            out
        })
        .ok()
        .flatten()
}

/// Runs `f` (which creates the entry span) with `state` and the span's `fields` pending.
pub(crate) fn creating<R>(
    state: &Arc<RequestState>,
    fields: Tags,
    started: Instant,
    f: impl FnOnce() -> R,
) -> R {
    struct Clear(Option<Pending>);
    impl Drop for Clear {
        fn drop(&mut self) {
            let previous = self.0.take();
            let _ = PENDING.try_with(|c| c.set(previous));
        }
    }
    let pending = Pending {
        state: Arc::clone(state),
        fields,
        started,
    };
    let previous = PENDING
        .try_with(|c| c.replace(Some(pending)))
        .ok()
        .flatten();
    let _clear = Clear(previous);
    f()
}

/// Takes the entry span being created on this thread, if any: the first span to take it
/// is that span.
#[inline]
pub(crate) fn take_pending() -> Option<Pending> {
    PENDING.try_with(Cell::take).ok().flatten()
}

pin_project_lite::pin_project! {
    /// A future that runs inside a request: [`set_user`](super::set_user),
    /// [`inject_current`](super::inject_current) and the other request-scoped functions see
    /// that request while it is polled. Made by [`RequestContext::scope`](super::RequestContext::scope),
    /// for work spawned onto other tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// use usertrail_propagator::tracing::RequestContext;
    ///
    /// fn spawn_with_request<F: std::future::Future + Send + 'static>(cx: &RequestContext, work: F) -> impl std::future::Future<Output = F::Output> {
    ///     // e.g. tokio::spawn(cx.scope(work).in_current_span())
    ///     cx.scope(work)
    /// }
    /// # let _ = spawn_with_request::<std::future::Ready<()>>;
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Scoped<F> {
        #[pin]
        inner: F,
        state: Arc<RequestState>,
    }
}

impl<F> Scoped<F> {
    pub(crate) fn new(inner: F, state: Arc<RequestState>) -> Self {
        Scoped { inner, state }
    }
}

impl<F: core::fmt::Debug> core::fmt::Debug for Scoped<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Scoped")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = enter(this.state);
        this.inner.poll(cx)
    }
}
