//! The usertrail browser SDK, compiled to WebAssembly.
//!
//! The npm package `usertrail` wraps this crate: its JavaScript entry (`sdk-wasm/js/index.js`)
//! loads the module and, after [`init`], patches `fetch` and `XMLHttpRequest`
//! (`sdk-wasm/js/patch.js`), which ask [`headers_for`] which headers each request gets. Every
//! header value is produced by `usertrail-propagator`.
//!
//! Every export is also guarded on the JavaScript side: a failure here (a trap included)
//! leaves the request untouched, and the app never sees an exception.

mod console;
mod context;
mod headers;
mod matcher;
mod options;
mod random;
mod session;

use core::cell::RefCell;

use wasm_bindgen::prelude::*;

use crate::context::Context;
use crate::options::Config;
use crate::session::{Persistence, SessionStore};

// lol_alloc's free list instead of Rust's default dlmalloc: about 2 KB gzip less to download.
// It frees and coalesces what is freed, so memory stays bounded on a page that runs for hours
// and allocates per request. The spin lock costs next to nothing on one thread and, unlike
// `AssumeSingleThreaded` (about 50 B gzip smaller), needs no `unsafe`, which the workspace
// forbids.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

/// Everything the SDK remembers. One per page: wasm in the browser is single-threaded.
#[derive(Debug)]
struct Sdk {
    /// Set once, by the first `init`, and kept for the life of the page: leaked rather than
    /// reference-counted, so a request can test its URL against the entries without holding
    /// the SDK state, and no code for dropping it is shipped.
    config: Option<&'static Config>,
    session: SessionStore,
    user: Context,
    account: Context,
    /// A throwing `allowedTracingUrls` function is reported once, not per request.
    warned_matcher_threw: bool,
}

thread_local! {
    static SDK: RefCell<Sdk> = const {
        RefCell::new(Sdk {
            config: None,
            session: SessionStore::new(Persistence::LocalStorage),
            user: Context::new("user"),
            account: Context::new("account"),
            warned_matcher_threw: false,
        })
    };
}

/// Runs `f` on the SDK state; `None` if the state is in use (a user callback called back
/// into the SDK) or was left borrowed by an earlier trap. Never panics.
fn with_sdk<R>(f: impl FnOnce(&mut Sdk) -> R) -> Option<R> {
    SDK.with(|cell| cell.try_borrow_mut().ok().map(|mut sdk| f(&mut sdk)))
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// Configures the SDK. Returns `true` on the first call, after which the caller installs the
/// `fetch` / `XMLHttpRequest` patches of `js/patch.js` with [`headers_for`] and
/// [`touch_session`]; a second call warns and keeps the first configuration.
///
/// # Examples
///
/// ```no_run
/// use wasm_bindgen::JsValue;
/// let options = js_sys::JSON::parse(r#"{"allowedTracingUrls":["https://api.example.com"]}"#).unwrap();
/// assert!(usertrail_wasm::init(&options));
/// assert!(!usertrail_wasm::init(&JsValue::UNDEFINED));
/// ```
#[wasm_bindgen]
pub fn init(options: &JsValue) -> bool {
    with_sdk(|sdk| {
        if sdk.config.is_some() {
            console::warn(
                &["init() was already called; the first configuration is kept"],
                None,
            );
            return false;
        }
        let config = Config::from_js(options);
        sdk.session.set_persistence(config.persistence);
        sdk.config = Some(Box::leak(Box::new(config)));
        true
    })
    .unwrap_or(false)
}

/// Sets the user: an object with a required `id` (a string, or a number that is converted)
/// and optional `name`, `email` and free-form fields.
///
/// # Examples
///
/// ```no_run
/// let user = js_sys::JSON::parse(r#"{"id":"user_123","name":"Ada"}"#).unwrap();
/// usertrail_wasm::set_user(&user);
/// ```
#[wasm_bindgen(js_name = setUser)]
pub fn set_user(user: &JsValue) {
    with_sdk(|sdk| sdk.user.set(user));
}

/// A copy of the user; `{}` when none is set.
///
/// # Examples
///
/// ```no_run
/// let user = usertrail_wasm::get_user();
/// assert!(user.is_object());
/// ```
#[wasm_bindgen(js_name = getUser)]
pub fn get_user() -> JsValue {
    with_sdk(|sdk| sdk.user.get()).unwrap_or_default()
}

/// Sets one property of the user (`id` is validated as in [`set_user`]).
///
/// # Examples
///
/// ```no_run
/// usertrail_wasm::set_user_property(&"plan".into(), &"pro".into());
/// ```
#[wasm_bindgen(js_name = setUserProperty)]
pub fn set_user_property(key: &JsValue, value: &JsValue) {
    with_sdk(|sdk| sdk.user.set_property(key, value));
}

/// Removes one property of the user; removing `id` clears the user.
///
/// # Examples
///
/// ```no_run
/// usertrail_wasm::remove_user_property(&"plan".into());
/// ```
#[wasm_bindgen(js_name = removeUserProperty)]
pub fn remove_user_property(key: &JsValue) {
    with_sdk(|sdk| sdk.user.remove_property(key));
}

/// Forgets the user: later requests carry no `user.id`.
///
/// # Examples
///
/// ```no_run
/// usertrail_wasm::clear_user();
/// ```
#[wasm_bindgen(js_name = clearUser)]
pub fn clear_user() {
    with_sdk(|sdk| sdk.user.clear());
}

/// Sets the account: an object with a required `id` and optional `name` and free-form fields.
///
/// # Examples
///
/// ```no_run
/// let account = js_sys::JSON::parse(r#"{"id":"account_456"}"#).unwrap();
/// usertrail_wasm::set_account(&account);
/// ```
#[wasm_bindgen(js_name = setAccount)]
pub fn set_account(account: &JsValue) {
    with_sdk(|sdk| sdk.account.set(account));
}

/// A copy of the account; `{}` when none is set.
///
/// # Examples
///
/// ```no_run
/// assert!(usertrail_wasm::get_account().is_object());
/// ```
#[wasm_bindgen(js_name = getAccount)]
pub fn get_account() -> JsValue {
    with_sdk(|sdk| sdk.account.get()).unwrap_or_default()
}

/// Sets one property of the account (`id` is validated as in [`set_account`]).
///
/// # Examples
///
/// ```no_run
/// usertrail_wasm::set_account_property(&"tier".into(), &"gold".into());
/// ```
#[wasm_bindgen(js_name = setAccountProperty)]
pub fn set_account_property(key: &JsValue, value: &JsValue) {
    with_sdk(|sdk| sdk.account.set_property(key, value));
}

/// Removes one property of the account; removing `id` clears the account.
///
/// # Examples
///
/// ```no_run
/// usertrail_wasm::remove_account_property(&"tier".into());
/// ```
#[wasm_bindgen(js_name = removeAccountProperty)]
pub fn remove_account_property(key: &JsValue) {
    with_sdk(|sdk| sdk.account.remove_property(key));
}

/// Forgets the account: later requests carry no `account.id`.
///
/// # Examples
///
/// ```no_run
/// usertrail_wasm::clear_account();
/// ```
#[wasm_bindgen(js_name = clearAccount)]
pub fn clear_account() {
    with_sdk(|sdk| sdk.account.clear());
}

/// The current session id (a UUID v4), starting a session if none is live.
///
/// # Examples
///
/// ```no_run
/// let id = usertrail_wasm::get_session_id().unwrap();
/// assert_eq!(id.len(), 36);
/// ```
pub fn get_session_id() -> Option<String> {
    with_sdk(|sdk| sdk.session.touch(now()).to_owned())
}

/// [`get_session_id`] as the JavaScript export `getSessionId`: `undefined` or a string.
///
/// The exports return JavaScript strings made in place (`JsValue::from_str`) rather than Rust
/// `String`s: handing a `String` over to JavaScript costs more glue, in WebAssembly and in
/// JavaScript, than the whole function.
#[doc(hidden)]
#[wasm_bindgen(js_name = getSessionId)]
pub fn get_session_id_js() -> JsValue {
    with_sdk(|sdk| JsValue::from_str(sdk.session.touch(now()))).unwrap_or_default()
}

/// Ends the session; the next request or activity starts a new one with a new id.
///
/// # Examples
///
/// ```no_run
/// let before = usertrail_wasm::get_session_id();
/// usertrail_wasm::stop_session();
/// assert_ne!(usertrail_wasm::get_session_id(), before);
/// ```
#[wasm_bindgen(js_name = stopSession)]
pub fn stop_session() {
    with_sdk(|sdk| sdk.session.stop());
}

/// Records user activity (a click, a key press, a scroll), which keeps the session alive.
///
/// # Examples
///
/// ```no_run
/// usertrail_wasm::touch_session();
/// ```
#[wasm_bindgen(js_name = touchSession)]
pub fn touch_session() {
    with_sdk(|sdk| {
        sdk.session.touch(now());
    });
}

/// The headers for one request, as `name\nvalue\n…` pairs, or `None` for no change.
///
/// `url` is absolute. `app_has_traceparent`: the app set its own `traceparent`, so no trace
/// headers are added. `app_baggage`: the app's own `baggage` header, which ours is merged into.
///
/// # Examples
///
/// ```no_run
/// let headers = usertrail_wasm::headers_for("https://api.example.com/orders", false, None);
/// ```
pub fn headers_for(
    url: &str,
    app_has_traceparent: bool,
    app_baggage: Option<String>,
) -> Option<String> {
    // Matchers may call user functions, which may call back into the SDK: decide which entry
    // matches without holding the state.
    let config = with_sdk(|sdk| sdk.config)??;
    let matched = headers::match_url(&config.tracing_urls, url)?;
    with_sdk(|sdk| {
        headers::for_request(headers::Request {
            config,
            propagators: &matched.propagators,
            session_id: sdk.session.touch(now()),
            user_id: sdk.user.id(),
            account_id: sdk.account.id(),
            app_has_traceparent,
            app_baggage: app_baggage.as_deref(),
        })
    })
    .flatten()
}

/// [`headers_for`] as the JavaScript export `headersFor`: `undefined` or the header lines (see
/// [`get_session_id_js`] for why a `JsValue`). The strings come in as `JsValue`s too, read
/// with `as_string`, which is glue the SDK has anyway.
#[doc(hidden)]
#[wasm_bindgen(js_name = headersFor)]
pub fn headers_for_js(url: &JsValue, app_has_traceparent: bool, app_baggage: &JsValue) -> JsValue {
    // js/patch.js always passes a string (an absolute URL); anything else matches nothing.
    let url = url.as_string().unwrap_or_default();
    headers_for(&url, app_has_traceparent, app_baggage.as_string())
        .map_or(JsValue::UNDEFINED, |lines| JsValue::from_str(&lines))
}
