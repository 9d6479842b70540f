//! Runs in headless Chromium through `wasm-bindgen-test-runner`.
#![cfg(target_family = "wasm")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn session_id_is_a_stable_uuid_v4_from_the_browser_rng() {
    let first = usertrail_wasm::get_session_id();
    assert_eq!(first.len(), 36);
    assert_eq!(&first[14..15], "4", "version nibble: {first}");
    assert!(
        matches!(&first[19..20], "8" | "9" | "a" | "b"),
        "variant: {first}"
    );
    assert_eq!(
        usertrail_wasm::get_session_id(),
        first,
        "one id per session"
    );
}
