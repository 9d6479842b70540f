//! The user and the account: what `setUser` / `setAccount` stored.
//!
//! The object is kept as a deep copy made with `JSON.parse(JSON.stringify(x))`, and getters
//! hand out another copy, so neither side can change the other's object. Only the `id` is
//! needed in Rust (it goes into `baggage`); reading the whole object into a serde type with
//! serde-wasm-bindgen would cost about 13 KB gzip in the payload, more than the rest of the SDK
//! (see shared/REFERENCE.md), for fields the SDK never reads.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::console;

#[wasm_bindgen]
extern "C" {
    // `JSON` bound with `JsValue`s rather than through js-sys's `&str`/`JsString`: the text of
    // a copy never needs to cross into WebAssembly and back.
    #[wasm_bindgen(catch, js_namespace = JSON, js_name = stringify)]
    fn json_stringify(value: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_namespace = JSON, js_name = parse)]
    fn json_parse(text: &JsValue) -> Result<JsValue, JsValue>;
    /// `String(value)`: for a finite number, the same text as `Number.prototype.toString(10)`,
    /// without js-sys's `Number` cast and `toString` glue.
    #[wasm_bindgen(js_name = String)]
    fn js_string(value: &JsValue) -> String;
}

/// A user or an account.
#[derive(Debug)]
pub(crate) struct Context {
    /// `"user"` or `"account"`, for warnings.
    kind: &'static str,
    /// The stored copy and its id; `None` when cleared.
    value: Option<(Object, String)>,
}

impl Context {
    pub(crate) const fn new(kind: &'static str) -> Self {
        Context { kind, value: None }
    }

    /// The id, for baggage.
    pub(crate) fn id(&self) -> Option<&str> {
        self.value.as_ref().map(|(_, id)| id.as_str())
    }

    /// Replaces the whole object. A value without a usable `id` warns and changes nothing.
    pub(crate) fn set(&mut self, value: &JsValue) {
        if !is_plain_object(value) {
            console::warn(
                &[self.kind, " must be an object with an id, ignored:"],
                Some(value),
            );
            return;
        }
        let Some(copy) = deep_copy(value).and_then(|copy| copy.dyn_into::<Object>().ok()) else {
            console::warn(
                &[
                    self.kind,
                    " cannot be copied (a cycle or a BigInt?), ignored:",
                ],
                Some(value),
            );
            return;
        };
        if let Some(id) = self.valid_id(&Reflect::get(&copy, &"id".into()).unwrap_or_default()) {
            self.store(copy, id);
        }
    }

    /// Keeps `object` with `id` written into it as a string.
    fn store(&mut self, object: Object, id: String) {
        let _ = Reflect::set(&object, &"id".into(), &JsValue::from_str(&id));
        self.value = Some((object, id));
    }

    /// A copy of the stored object, `{}` when there is none.
    pub(crate) fn get(&self) -> JsValue {
        match &self.value {
            Some((object, _)) => deep_copy(object).unwrap_or_else(|| Object::new().into()),
            None => Object::new().into(),
        }
    }

    /// Sets one property; `id` is validated like in [`set`](Self::set).
    pub(crate) fn set_property(&mut self, key: &JsValue, value: &JsValue) {
        let Some(name) = key.as_string() else {
            console::warn(
                &[self.kind, " property name must be a string, ignored:"],
                Some(key),
            );
            return;
        };
        let Some(value) = deep_copy(value) else {
            console::warn(
                &[self.kind, " property value cannot be copied, ignored:"],
                Some(value),
            );
            return;
        };
        if name == "id" {
            let Some(id) = self.valid_id(&value) else {
                return;
            };
            let object = match self.value.take() {
                Some((object, _)) => object,
                None => Object::new(),
            };
            self.store(object, id);
        } else if let Some((object, _)) = &self.value {
            let _ = Reflect::set(object, key, &value);
        } else {
            console::warn(
                &[self.kind, " has no id yet: set one first, property ignored"],
                None,
            );
        }
    }

    /// Removes one property; removing `id` clears the whole context, since an id is required.
    pub(crate) fn remove_property(&mut self, key: &JsValue) {
        match key.as_string().as_deref() {
            Some("id") => self.value = None,
            Some(_) => {
                if let Some((object, _)) = &self.value {
                    let _ = Reflect::delete_property(object, key);
                }
            }
            None => console::warn(&[self.kind, " property name must be a string:"], Some(key)),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.value = None;
    }

    /// A string id as it is, a finite number as its decimal text; anything else warns.
    fn valid_id(&self, id: &JsValue) -> Option<String> {
        let text = match id.as_f64() {
            Some(number) if number.is_finite() => Some(js_string(id)),
            _ => id.as_string(),
        };
        match text {
            Some(text) if !text.is_empty() => Some(text),
            _ => {
                console::warn(
                    &[
                        self.kind,
                        " id must be a non-empty string or a number; kept the previous value. Got:",
                    ],
                    Some(id),
                );
                None
            }
        }
    }
}

fn is_plain_object(value: &JsValue) -> bool {
    value.is_object() && !js_sys::Array::is_array(value) && !value.is_function()
}

/// `JSON.parse(JSON.stringify(value))`; `None` when that throws (a cycle, a BigInt) or the
/// value has no JSON form (`undefined`, a function).
fn deep_copy(value: &JsValue) -> Option<JsValue> {
    // `JSON.stringify` answers a string, or `undefined` for a value without a JSON form.
    let text = json_stringify(value)
        .ok()
        .filter(|text| !text.is_undefined())?;
    json_parse(&text).ok()
}
