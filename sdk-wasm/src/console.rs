//! Console output: every message the SDK prints starts with `usertrail:`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(message: &str);
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn_value(message: &str, value: &JsValue);
}

/// Prints `usertrail: {message}` as a console warning.
pub(crate) fn warn(message: &str) {
    console_warn(&prefixed(message));
}

/// Prints `usertrail: {message}` followed by the offending value, as the browser shows it.
pub(crate) fn warn_with(message: &str, value: &JsValue) {
    console_warn_value(&prefixed(message), value);
}

fn prefixed(message: &str) -> String {
    let mut out = String::with_capacity(11 + message.len());
    out.push_str("usertrail: ");
    out.push_str(message);
    out
}
