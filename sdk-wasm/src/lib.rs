//! The usertrail browser SDK's WebAssembly core: the `baggage` header of a request.
//!
//! The npm package `usertrail` wraps this crate. Its JavaScript (`sdk-wasm/js/`) holds what
//! lives among JavaScript values and browser APIs: the options, the user and account objects,
//! the `allowedTracingUrls` matchers, the session and its sampling decision, the `fetch` /
//! `XMLHttpRequest` patches, and the trace headers of a new trace (`js/trace.js`: random ids in
//! hex and decimal around fixed text, cheaper made there than brought out of WebAssembly as
//! text on every request). The `baggage` value, the identity merged into whatever header the app
//! set under the W3C rules, comes from `usertrail-propagator`, the crate the servers read it
//! with ([`baggage_for`]): that format is written once, in Rust, for the browser and the
//! servers alike. JavaScript asks again only when the identity changes or the app sets its own
//! `baggage`.
//!
//! Why the split: a JavaScript value crossing into WebAssembly costs glue on both sides, and the
//! JavaScript that reads an options object, calls a `RegExp` or keeps a `localStorage` entry is
//! smaller than the WebAssembly doing the same through imports; every byte is downloaded by
//! every visitor of the host app. A request to a URL no entry matches never enters WebAssembly.
//!
//! # The JavaScript interface
//!
//! Numbers and bytes only, no JavaScript values: wasm-bindgen's glue for strings and `JsValue`s
//! costs more than a kilobyte of gzip, in JavaScript and in WebAssembly. Text goes in as UTF-8
//! that `js/core.js` writes into the buffer [`input`] points to, back to back, the call saying
//! each part's length; the value comes out as ASCII in the buffer [`output`] points to. The Rust
//! function [`baggage_for`] takes and returns Rust strings, for Rust callers and tests.
//!
//! Every export is guarded on the JavaScript side: a failure here (a trap included) leaves the
//! request untouched, and the app never sees an exception.

mod baggage;

use core::cell::{Cell, RefCell};

use wasm_bindgen::prelude::*;

// lol_alloc's free list instead of Rust's default dlmalloc: about 2 KB gzip less to download.
// It frees and coalesces what is freed, so memory stays bounded on a page that runs for hours
// and allocates per request. The spin lock costs next to nothing on one thread and, unlike
// `AssumeSingleThreaded` (about 50 B gzip smaller), needs no `unsafe`, which the workspace
// forbids.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

/// The identity the `baggage` header carries: `session.id`, and `user.id` and `account.id` when
/// they are set.
#[derive(Clone, Copy, Debug)]
pub struct Identity<'a> {
    /// The session id (never empty: a UUID v4).
    pub session_id: &'a str,
    /// The user id, when a user is set.
    pub user_id: Option<&'a str>,
    /// The account id, when an account is set.
    pub account_id: Option<&'a str>,
}

/// Bytes of text the JavaScript side can pass in: the three ids and a request's app `baggage`
/// header, as UTF-8. An app header that does not fit is left as the app set it, without our
/// members (over the 8,192 bytes of the W3C limit they would be left out anyway).
pub const INPUT_BYTES: usize = 16 * 1024;

thread_local! {
    /// Where `js/core.js` writes text: the session, user and account ids (rewritten only when
    /// they change), then a request's app `baggage` header. In the module's zeroed memory, so no
    /// code grows it.
    static INPUT: RefCell<[u8; INPUT_BYTES]> = const { RefCell::new([0; INPUT_BYTES]) };
    /// The lengths of the three ids at the start of [`INPUT`], set by [`identify_js`].
    static IDS: Cell<[usize; 3]> = const { Cell::new([0; 3]) };
    /// The value of the last [`baggage_js`] call, for `js/core.js` to read.
    static OUTPUT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The `baggage` value for a request: `identity` merged into the app's own header
/// (`app_baggage`, `None` when it set none), or `None` when there is nothing to send.
///
/// # Examples
///
/// ```no_run
/// use usertrail_wasm::Identity;
///
/// let who = Identity { session_id: "5afb433c-40c3-4974-a7c2-8d5933cc67f6", user_id: Some("user 123"), account_id: None };
/// let value = usertrail_wasm::baggage_for(&who, Some("theme=dark")).unwrap();
/// assert_eq!(value, "theme=dark,session.id=5afb433c-40c3-4974-a7c2-8d5933cc67f6,user.id=user%20123");
/// ```
pub fn baggage_for(identity: &Identity<'_>, app_baggage: Option<&str>) -> Option<String> {
    let value = baggage::value(identity, app_baggage.unwrap_or(""));
    (!value.is_empty()).then_some(value)
}

/// The address of the input buffer ([`INPUT_BYTES`] long), where the JavaScript side writes the
/// text of its next call.
#[doc(hidden)]
#[wasm_bindgen]
pub fn input() -> usize {
    INPUT.with(|input| input.as_ptr() as usize)
}

/// [`INPUT_BYTES`], for `js/core.js`.
#[doc(hidden)]
#[wasm_bindgen(js_name = inputBytes)]
pub fn input_bytes() -> usize {
    INPUT_BYTES
}

/// The address of the value the last [`baggage_js`] call wrote.
#[doc(hidden)]
#[wasm_bindgen]
pub fn output() -> usize {
    OUTPUT.with(|output| output.borrow().as_ptr() as usize)
}

/// For `js/core.js`: the ids at the start of the input are `session`, `user` and `account`
/// bytes long (0 for an id not set: an id is never empty).
#[doc(hidden)]
#[wasm_bindgen(js_name = identify)]
pub fn identify_js(session: usize, user: usize, account: usize) {
    IDS.set([session, user, account]);
}

/// [`baggage_for`] for `js/core.js`: `app_baggage` is the length of the app's `baggage`
/// header, right after the ids in the input, or -1 when it set none. Returns the length of the
/// value at [`output`], 0 when there is nothing to send.
#[doc(hidden)]
#[wasm_bindgen(js_name = baggageFor)]
pub fn baggage_js(app_baggage: i32) -> usize {
    OUTPUT.with(|output| {
        let Ok(mut output) = output.try_borrow_mut() else {
            return 0;
        };
        output.clear();
        INPUT.with(|input| {
            let Ok(input) = input.try_borrow() else {
                return;
            };
            let [session, user, account] = IDS.get();
            let ids_end = session + user + account;
            let header_len = usize::try_from(app_baggage).unwrap_or(0);
            // One UTF-8 check for all the text; a part that does not end on a character
            // boundary is absent (the JavaScript side writes each as whole UTF-8).
            let Some(text) = input
                .get(..ids_end + header_len)
                .and_then(|bytes| core::str::from_utf8(bytes).ok())
            else {
                return;
            };
            let part = |start: usize, len: usize| text.get(start..start + len);
            let Some(session_id) = part(0, session).filter(|id| !id.is_empty()) else {
                return;
            };
            let identity = Identity {
                session_id,
                user_id: part(session, user).filter(|id| !id.is_empty()),
                account_id: part(session + user, account).filter(|id| !id.is_empty()),
            };
            let app = part(ids_end, header_len).unwrap_or("");
            *output = baggage::value(&identity, app);
        });
        output.len()
    })
}
