//! The usertrail browser SDK, compiled to WebAssembly.
//!
//! The npm package `usertrail` wraps this crate: its JavaScript entry point loads the module,
//! and every header the SDK writes is produced here.

mod random;
mod session;

use wasm_bindgen::prelude::*;

/// The current session id: a random UUID v4, created on first use.
///
/// # Examples
///
/// ```no_run
/// let id = usertrail_wasm::get_session_id();
/// assert_eq!(id.len(), 36);
/// ```
#[wasm_bindgen(js_name = getSessionId)]
pub fn get_session_id() -> String {
    session::current_id()
}
