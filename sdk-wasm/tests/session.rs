//! The session in headless Chromium: a UUID v4 from the browser RNG, kept in localStorage.
#![cfg(target_family = "wasm")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn session_id_is_a_stable_uuid_v4_stored_for_other_tabs_and_renewed_by_stop() {
    let first = usertrail_wasm::get_session_id().unwrap();
    assert_eq!(first.len(), 36);
    assert_eq!(&first[14..15], "4", "version nibble: {first}");
    assert!(
        matches!(&first[19..20], "8" | "9" | "a" | "b"),
        "variant: {first}"
    );
    assert_eq!(
        usertrail_wasm::get_session_id().unwrap(),
        first,
        "one id per session"
    );

    let storage = web_storage();
    let stored = storage.get_item("_usertrail_s").unwrap().unwrap();
    assert!(
        stored.starts_with(&format!("id={first}&created=")),
        "{stored}"
    );

    usertrail_wasm::stop_session();
    assert_eq!(storage.get_item("_usertrail_s").unwrap(), None);
    let second = usertrail_wasm::get_session_id().unwrap();
    assert_ne!(second, first, "stopSession starts a new session");
}

fn web_storage() -> web_sys::Storage {
    web_sys::window().unwrap().local_storage().unwrap().unwrap()
}
