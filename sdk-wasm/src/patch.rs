//! Installs the `fetch` / `XMLHttpRequest` interception (`js/patch.js`, a wasm-bindgen snippet).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/patch.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = install)]
    fn install_patches(headers_for: &JsValue, touch_session: &JsValue) -> Result<(), JsValue>;
}

/// Patches `fetch` and `XMLHttpRequest` so that each request asks [`crate::headers_for`].
pub(crate) fn install() {
    let headers_for = Closure::<dyn Fn(String, bool, Option<String>) -> Option<String>>::new(
        |url: String, has_traceparent, baggage: Option<String>| {
            crate::headers_for(&url, has_traceparent, baggage)
        },
    );
    let touch_session = Closure::<dyn Fn()>::new(crate::touch_session);
    if let Err(error) = install_patches(headers_for.as_ref(), touch_session.as_ref()) {
        crate::console::warn_with("could not patch fetch / XMLHttpRequest:", &error);
    }
    // The patches stay for the life of the page, and so must the callbacks they call.
    headers_for.forget();
    touch_session.forget();
}
