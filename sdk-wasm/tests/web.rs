//! The WebAssembly core in headless Chromium (`wasm-bindgen-test-runner`): the `baggage` value
//! of one request, read back with the propagator the servers use.
#![cfg(target_family = "wasm")]

use usertrail_propagator::Baggage;
use usertrail_wasm::{Identity, baggage_for};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SESSION: &str = "5afb433c-40c3-4974-a7c2-8d5933cc67f6";

fn who(user_id: Option<&'static str>, account_id: Option<&'static str>) -> Identity<'static> {
    Identity {
        session_id: SESSION,
        user_id,
        account_id,
    }
}

#[wasm_bindgen_test]
fn the_identity_alone_percent_encoded() {
    assert_eq!(
        baggage_for(&who(Some("user 123"), Some("456")), None).as_deref(),
        Some(format!("session.id={SESSION},user.id=user%20123,account.id=456").as_str())
    );
    assert_eq!(
        baggage_for(&who(None, None), None).as_deref(),
        Some(format!("session.id={SESSION}").as_str())
    );
}

#[wasm_bindgen_test]
fn merged_into_the_app_baggage_app_first_and_its_values_win() {
    let value = baggage_for(
        &who(Some("user_123"), None),
        Some("tenant=acme, user.id=app"),
    )
    .unwrap();
    let baggage: Baggage = value.parse().unwrap();
    assert_eq!(baggage.get("user.id").as_deref(), Some("app"));
    assert_eq!(baggage.get("session.id").as_deref(), Some(SESSION));
    assert_eq!(
        value,
        format!("tenant=acme,user.id=app,session.id={SESSION}")
    );
}
