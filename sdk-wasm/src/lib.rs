//! The usertrail browser SDK's WebAssembly core: the header values of one request.
//!
//! The npm package `usertrail` wraps this crate. Its JavaScript (`sdk-wasm/js/`) holds what
//! lives among JavaScript values and browser APIs: the options, the user and account objects,
//! the `allowedTracingUrls` matchers, the session and its sampling decision, and the `fetch` /
//! `XMLHttpRequest` patches. For a request that an entry matched it asks for the headers
//! ([`headers_for`]), and every header value comes from `usertrail-propagator`, the crate the
//! servers read them with: each wire format is written once, in Rust, for the browser and the
//! servers alike.
//!
//! Why the split: a JavaScript value crossing into WebAssembly costs glue on both sides, and the
//! JavaScript that reads an options object, calls a `RegExp` or keeps a `localStorage` entry is
//! smaller than the WebAssembly doing the same through imports; every byte is downloaded by
//! every visitor of the host app. A request to a URL no entry matches never enters WebAssembly.
//!
//! # The JavaScript interface
//!
//! Numbers and bytes only, no JavaScript values: wasm-bindgen's glue for strings and `JsValue`s
//! costs more than a kilobyte of gzip, in JavaScript and in WebAssembly, which is as much as the
//! header formats themselves. Text goes in as UTF-8 that `js/core.js` writes into the buffer
//! [`input`] returns, back to back, the call saying each part's length; the header lines come
//! out as ASCII in the buffer [`output`] points to. The Rust functions of the same names
//! ([`identify`], [`headers_for`]) take and return Rust strings, for Rust callers and tests.
//!
//! Every export is guarded on the JavaScript side: a failure here (a trap included) leaves the
//! request untouched, and the app never sees an exception.

mod headers;
mod random;

use core::cell::RefCell;

use usertrail_propagator::PropagatorType;
use wasm_bindgen::prelude::*;

pub use crate::headers::Request;

// lol_alloc's free list instead of Rust's default dlmalloc: about 2 KB gzip less to download.
// It frees and coalesces what is freed, so memory stays bounded on a page that runs for hours
// and allocates per request. The spin lock costs next to nothing on one thread and, unlike
// `AssumeSingleThreaded` (about 50 B gzip smaller), needs no `unsafe`, which the workspace
// forbids.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

/// Who the requests are made for: the `baggage` members. Set by [`identify`] whenever the
/// session, the user or the account changes, so that a request passes only numbers in.
#[derive(Debug, Default)]
struct Identity {
    session_id: String,
    user_id: Option<String>,
    account_id: Option<String>,
}

thread_local! {
    static IDENTITY: RefCell<Identity> = const {
        RefCell::new(Identity { session_id: String::new(), user_id: None, account_id: None })
    };
    /// Where `js/core.js` writes a call's text, as UTF-8.
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// The header lines of the last [`headers_js`] call.
    static OUTPUT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Sets the ids that `baggage` carries: `session.id`, and `user.id` and `account.id` when
/// they are set.
///
/// # Examples
///
/// ```no_run
/// usertrail_wasm::identify("5afb433c-40c3-4974-a7c2-8d5933cc67f6", Some("user_123"), None);
/// ```
pub fn identify(session_id: &str, user_id: Option<&str>, account_id: Option<&str>) {
    IDENTITY.with(|identity| {
        // Only a trap inside `headers_for` could leave it borrowed; the ids then stay as they were.
        if let Ok(mut identity) = identity.try_borrow_mut() {
            *identity = Identity {
                session_id: session_id.into(),
                user_id: user_id.map(Into::into),
                account_id: account_id.map(Into::into),
            };
        }
    });
}

/// The propagator types of an `allowedTracingUrls` entry, one bit each: bit `i` is
/// `PROPAGATOR_BITS[i]`, the numbering `js/options.js` uses.
pub const PROPAGATOR_BITS: [PropagatorType; 4] = [
    PropagatorType::TraceContext,
    PropagatorType::Datadog,
    PropagatorType::B3,
    PropagatorType::B3Multi,
];

/// The headers for one request that an `allowedTracingUrls` entry matched, as
/// `name\nvalue\n…` pairs, or `None` when there is nothing to add.
///
/// The ids are the last ones given to [`identify`].
///
/// # Examples
///
/// ```no_run
/// use usertrail_wasm::Request;
///
/// let request = Request { propagators: 0b11, sampled: true, trace: true, baggage: false, app_baggage: None };
/// let lines = usertrail_wasm::headers_for(&request).unwrap();
/// assert!(lines.starts_with("traceparent\n00-"));
/// ```
pub fn headers_for(request: &Request<'_>) -> Option<String> {
    IDENTITY.with(|identity| headers::for_request(request, &*identity.try_borrow().ok()?))
}

/// The input buffer, at least `len` bytes long: where the JavaScript side writes the text of
/// its next call. Returns its address in the module's memory.
#[doc(hidden)]
#[wasm_bindgen]
pub fn input(len: usize) -> usize {
    INPUT.with(|input| {
        let mut input = input.borrow_mut();
        input.resize(len, 0);
        input.as_ptr() as usize
    })
}

/// The address of the header lines the last [`headers_js`] call wrote.
#[doc(hidden)]
#[wasm_bindgen]
pub fn output() -> usize {
    OUTPUT.with(|output| output.borrow().as_ptr() as usize)
}

/// Runs `f` on the input buffer.
fn with_input<R>(f: impl FnOnce(&[u8]) -> R) -> R {
    INPUT.with(|input| f(&input.borrow()))
}

/// The `len` bytes of `input` from `*start` on, as text, moving `*start` past them; `None` when
/// they are not UTF-8 (the JavaScript side writes only UTF-8) or lie outside the buffer.
fn take_str<'a>(input: &'a [u8], start: &mut usize, len: usize) -> Option<&'a str> {
    let part = input.get(*start..*start + len)?;
    *start += len;
    core::str::from_utf8(part).ok()
}

/// [`identify`] for `js/core.js`: the session id, the user id and the account id are the input's
/// first `session`, next `user` and next `account` bytes; a length of 0 means not set (an id is
/// never empty).
#[doc(hidden)]
#[wasm_bindgen(js_name = identify)]
pub fn identify_js(session: usize, user: usize, account: usize) {
    with_input(|input| {
        let mut start = 0;
        let session_id = take_str(input, &mut start, session).unwrap_or_default();
        let user_id = take_str(input, &mut start, user).filter(|id| !id.is_empty());
        let account_id = take_str(input, &mut start, account).filter(|id| !id.is_empty());
        identify(session_id, user_id, account_id);
    });
}

/// [`headers_for`] for `js/core.js`: `app_baggage` is the length of the app's `baggage` header
/// at the start of the input, or -1 when it set none. Returns the length of the header lines at
/// [`output`], 0 when there is nothing to add.
#[doc(hidden)]
#[wasm_bindgen(js_name = headersFor)]
pub fn headers_js(
    propagators: u32,
    sampled: bool,
    trace: bool,
    baggage: bool,
    app_baggage: i32,
) -> usize {
    let lines = with_input(|input| {
        let app_baggage = usize::try_from(app_baggage)
            .ok()
            .and_then(|len| take_str(input, &mut 0, len));
        headers_for(&Request {
            propagators,
            sampled,
            trace,
            baggage,
            app_baggage,
        })
    });
    OUTPUT.with(|output| {
        let mut output = output.borrow_mut();
        *output = lines.unwrap_or_default();
        output.len()
    })
}
