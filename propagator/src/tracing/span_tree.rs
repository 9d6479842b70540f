//! The request a span belongs to, found from outside a layer callback.
//!
//! The entry span carries its request state in its extensions, in the data `UsertrailLayer`
//! keeps there (tracing-subscriber's registry docs ask layers to share data that way), and
//! the spans below it reach it through their parent links. Code that is not a layer callback
//! holds only a `Dispatch`, so each `UsertrailLayer` registers, for the subscriber type it is
//! layered on (bound on `LookupSpan`, whatever that type is), a lookup that downcasts the
//! dispatch to it and walks up from a span.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use ::tracing::Dispatch;
use ::tracing::span::Id;

use super::state::RequestState;

/// The request of the nearest entry span at or above a span, for one subscriber type.
pub(crate) type Lookup = fn(&Dispatch, &Id) -> Option<Arc<RequestState>>;

/// One lookup per subscriber type a `UsertrailLayer` was layered on: a program has a fixed
/// number of those, so this stays small.
static LOOKUPS: Mutex<Vec<Lookup>> = Mutex::new(Vec::new());

/// Set when the first `UsertrailLayer` is layered on a subscriber: before, no layer takes the
/// entry span's fields that the entry point would prepare for it.
static REGISTERED: AtomicBool = AtomicBool::new(false);

/// Whether any `UsertrailLayer` has been layered on a subscriber in this process (a read of
/// one atomic, on every request).
#[inline]
pub(crate) fn any_registered() -> bool {
    REGISTERED.load(Ordering::Relaxed)
}

/// Makes [`current_request`] able to walk the spans of one subscriber type with `lookup`.
pub(crate) fn register(lookup: Lookup) {
    let mut lookups = LOOKUPS.lock().unwrap_or_else(|e| e.into_inner());
    if !lookups.iter().any(|l| core::ptr::fn_addr_eq(*l, lookup)) {
        lookups.push(lookup);
    }
    REGISTERED.store(true, Ordering::Relaxed);
}

/// The request of the nearest entry span above the current span of the default
/// subscriber, when that subscriber has a `UsertrailLayer`.
pub(crate) fn current_request() -> Option<Arc<RequestState>> {
    ::tracing::dispatcher::get_default(|dispatch| {
        let current = dispatch.current_span();
        let id = current.id()?;
        let lookups = LOOKUPS.lock().unwrap_or_else(|e| e.into_inner());
        lookups.iter().find_map(|lookup| lookup(dispatch, id))
    })
}
