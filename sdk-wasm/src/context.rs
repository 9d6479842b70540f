//! The user and the account: what `setUser` / `setAccount` stored.
//!
//! The object is kept as a deep copy made with `JSON.parse(JSON.stringify(x))`, and getters
//! hand out another copy, so neither side can change the other's object. Only the `id` is
//! needed in Rust (it goes into `baggage`); reading the whole object into a serde type with
//! serde-wasm-bindgen would cost about 13 KB gzip in the payload, more than the rest of the SDK
//! (see shared/REFERENCE.md), for fields the SDK never reads.

use js_sys::{JSON, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::console;

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
            console::warn_with(
                &self.message("must be an object with an id, ignored:"),
                value,
            );
            return;
        }
        let Some(copy) = deep_copy(value).and_then(|copy| copy.dyn_into::<Object>().ok()) else {
            console::warn_with(
                &self.message("cannot be copied (a cycle or a BigInt?), ignored:"),
                value,
            );
            return;
        };
        let Some(id) = self.valid_id(&Reflect::get(&copy, &"id".into()).unwrap_or_default()) else {
            return;
        };
        let _ = Reflect::set(&copy, &"id".into(), &JsValue::from_str(&id));
        self.value = Some((copy, id));
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
        let Some(key) = key.as_string() else {
            console::warn_with(
                &self.message("property name must be a string, ignored:"),
                key,
            );
            return;
        };
        let Some(value) = deep_copy(value) else {
            console::warn_with(
                &self.message("property value cannot be copied, ignored:"),
                value,
            );
            return;
        };
        if key == "id" {
            let Some(id) = self.valid_id(&value) else {
                return;
            };
            let object = match self.value.take() {
                Some((object, _)) => object,
                None => Object::new(),
            };
            let _ = Reflect::set(&object, &"id".into(), &JsValue::from_str(&id));
            self.value = Some((object, id));
        } else if let Some((object, _)) = &self.value {
            let _ = Reflect::set(object, &key.into(), &value);
        } else {
            console::warn(&self.message("has no id yet: set one first, property ignored"));
        }
    }

    /// Removes one property; removing `id` clears the whole context, since an id is required.
    pub(crate) fn remove_property(&mut self, key: &JsValue) {
        match key.as_string().as_deref() {
            Some("id") => self.value = None,
            Some(key) => {
                if let Some((object, _)) = &self.value {
                    let _ = Reflect::delete_property(object, &key.into());
                }
            }
            None => console::warn_with(&self.message("property name must be a string:"), key),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.value = None;
    }

    /// A string id as it is, a finite number as its decimal text; anything else warns.
    fn valid_id(&self, id: &JsValue) -> Option<String> {
        let text = match id.as_f64() {
            Some(number) if number.is_finite() => js_sys::Number::from(number)
                .to_string_with_radix(10)
                .ok()
                .map(String::from),
            _ => id.as_string(),
        };
        match text {
            Some(text) if !text.is_empty() => Some(text),
            _ => {
                console::warn_with(
                    &self.message(
                        "id must be a non-empty string or a number; kept the previous value. Got:",
                    ),
                    id,
                );
                None
            }
        }
    }

    fn message(&self, rest: &str) -> String {
        let mut out = String::from(self.kind);
        out.push(' ');
        out.push_str(rest);
        out
    }
}

fn is_plain_object(value: &JsValue) -> bool {
    value.is_object() && !js_sys::Array::is_array(value) && !value.is_function()
}

/// `JSON.parse(JSON.stringify(value))`; `None` when that throws (a cycle, a BigInt) or the
/// value has no JSON form (`undefined`, a function).
fn deep_copy(value: &JsValue) -> Option<JsValue> {
    let text = JSON::stringify(value).ok()?.as_string()?;
    JSON::parse(&text).ok()
}
