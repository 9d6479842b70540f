//! Console output: every message the SDK prints starts with `usertrail:`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(message: &str);
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn_value(message: &str, value: &JsValue);
}

/// Prints `usertrail: ` and the `parts` as one console warning, followed by the offending
/// `value`, if any, as the browser shows it.
///
/// Parts rather than a ready message: callers need not build their own string first.
pub(crate) fn warn(parts: &[&str], value: Option<&JsValue>) {
    let mut message = String::from("usertrail: ");
    for part in parts {
        message.push_str(part);
    }
    match value {
        Some(value) => console_warn_value(&message, value),
        None => console_warn(&message),
    }
}
