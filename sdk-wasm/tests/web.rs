//! The SDK inside a Rust/wasm app, in headless Chromium (`wasm-bindgen-test-runner`).
//!
//! `init` configures the SDK once per page, so this file is one page with one configuration.
//! The test installs the package's own `fetch` patch (`js/patch.js`) over a recording stub,
//! with Rust closures where the npm entry passes the wasm exports, and requests made with
//! `gloo-net` from Rust go through the SDK like the app's JavaScript requests do.
#![cfg(target_family = "wasm")]

use gloo_net::http::Request;
use js_sys::{Array, JSON, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function installRecordingFetch() {
  const seen = [];
  globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    seen.push({ url: request.url, headers: Object.fromEntries(request.headers) });
    return new Response('recorded');
  };
  return seen;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = installRecordingFetch)]
    fn install_recording_fetch() -> Array;
}

#[wasm_bindgen(module = "/js/patch.js")]
extern "C" {
    fn install(headers_for: &JsValue, touch_session: &JsValue);
}

/// What the npm entry does after the first `init`: patch fetch and XHR.
fn install_sdk_patches() {
    let headers_for = Closure::<dyn Fn(String, bool, Option<String>) -> Option<String>>::new(
        |url: String, has_traceparent, baggage: Option<String>| {
            usertrail_wasm::headers_for(&url, has_traceparent, baggage)
        },
    );
    let touch_session = Closure::<dyn Fn()>::new(usertrail_wasm::touch_session);
    install(headers_for.as_ref(), touch_session.as_ref());
    // The patch lives as long as the page.
    headers_for.forget();
    touch_session.forget();
}

fn header(record: &JsValue, name: &str) -> Option<String> {
    let headers = Reflect::get(record, &"headers".into()).unwrap();
    Reflect::get(&headers, &name.into()).unwrap().as_string()
}

fn json(text: &str) -> JsValue {
    JSON::parse(text).unwrap()
}

#[wasm_bindgen_test]
async fn gloo_net_requests_from_rust_carry_trace_headers_and_identity() {
    let seen = install_recording_fetch();
    assert!(usertrail_wasm::init(&json(
        r#"{"allowedTracingUrls":["https://api.example.com"],"propagateTraceBaggage":true}"#
    )));
    install_sdk_patches();
    assert!(
        !usertrail_wasm::init(&JsValue::UNDEFINED),
        "a second init keeps the first configuration"
    );
    usertrail_wasm::set_user(&json(r#"{"id":"user 123","name":"Ada"}"#));
    usertrail_wasm::set_account(&json(r#"{"id":456}"#));

    let response = Request::get("https://api.example.com/orders?page=2")
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "recorded");
    Request::get("https://api.example.com.evil.net/steal")
        .send()
        .await
        .unwrap();

    assert_eq!(seen.length(), 2);
    let allowed = seen.get(0);
    let traceparent = header(&allowed, "traceparent").expect("traceparent");
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!((parts[0], parts[3]), ("00", "03"), "sampled + random flags");
    assert_eq!(parts[1].len(), 32);
    assert_eq!(parts[2].len(), 16);
    assert_eq!(
        header(&allowed, "tracestate").as_deref(),
        Some("dd=s:1;o:rum")
    );
    let low_64 = u64::from_str_radix(&parts[1][16..], 16).unwrap();
    assert_eq!(
        header(&allowed, "x-datadog-trace-id"),
        Some(low_64.to_string())
    );
    let session = usertrail_wasm::get_session_id().unwrap();
    assert_eq!(
        header(&allowed, "baggage"),
        Some(format!(
            "session.id={session},user.id=user%20123,account.id=456"
        ))
    );

    let evil = seen.get(1);
    let evil_headers = Reflect::get(&evil, &"headers".into()).unwrap();
    assert_eq!(
        js_sys::Object::keys(&evil_headers.into()).length(),
        0,
        "a host that merely extends the allowed one gets nothing"
    );
}

#[wasm_bindgen_test]
fn getters_return_copies_and_ids_are_validated() {
    usertrail_wasm::set_user(&json(r#"{"id":"u1","plan":{"tier":"pro"}}"#));
    let copy = usertrail_wasm::get_user();
    let plan = Reflect::get(&copy, &"plan".into()).unwrap();
    Reflect::set(&plan, &"tier".into(), &"free".into()).unwrap();
    let again = usertrail_wasm::get_user();
    let tier = Reflect::get(
        &Reflect::get(&again, &"plan".into()).unwrap(),
        &"tier".into(),
    );
    assert_eq!(tier.unwrap().as_string().as_deref(), Some("pro"));

    usertrail_wasm::set_user(&json(r#"{"id":{"nested":true}}"#));
    let id = Reflect::get(&usertrail_wasm::get_user(), &"id".into()).unwrap();
    assert_eq!(
        id.as_string().as_deref(),
        Some("u1"),
        "bad id keeps the previous user"
    );

    usertrail_wasm::clear_user();
    let empty = usertrail_wasm::get_user();
    assert_eq!(js_sys::Object::keys(&empty.into()).length(), 0);
}
