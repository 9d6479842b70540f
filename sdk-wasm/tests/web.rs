//! The WebAssembly core in headless Chromium (`wasm-bindgen-test-runner`): the header values of
//! one request, read back with the propagator the servers use.
#![cfg(target_family = "wasm")]

use usertrail_propagator::{Baggage, Traceparent};
use usertrail_wasm::{Identity, Request, headers_for};
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

fn request(propagators: u32) -> Request<'static> {
    Request {
        propagators,
        sampled: true,
        trace: true,
        baggage: true,
        app_baggage: None,
    }
}

/// The lines as `(name, value)` pairs.
fn pairs(lines: &str) -> Vec<(String, String)> {
    let parts: Vec<&str> = lines.split('\n').collect();
    assert_eq!(parts.len() % 2, 0, "{lines:?}");
    parts
        .chunks(2)
        .map(|p| (p[0].to_string(), p[1].to_string()))
        .collect()
}

fn value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[wasm_bindgen_test]
fn tracecontext_and_datadog_carry_one_random_sampled_trace_and_the_identity() {
    let headers = pairs(&headers_for(&request(0b11), &who(Some("user 123"), Some("456"))).unwrap());
    let traceparent: Traceparent = value(&headers, "traceparent").unwrap().parse().unwrap();
    assert!(traceparent.flags().is_sampled());
    assert!(traceparent.flags().is_random());
    assert_eq!(value(&headers, "tracestate"), Some("dd=s:1;o:rum"));
    let low = u64::from_str_radix(&traceparent.trace_id().to_string()[16..], 16).unwrap();
    assert_eq!(
        value(&headers, "x-datadog-trace-id"),
        Some(low.to_string().as_str())
    );
    assert_eq!(
        value(&headers, "x-datadog-parent-id"),
        Some(traceparent.parent_id().to_u64().to_string().as_str())
    );
    assert_eq!(value(&headers, "x-datadog-origin"), Some("rum"));
    assert_eq!(
        value(&headers, "baggage"),
        Some(format!("session.id={SESSION},user.id=user%20123,account.id=456").as_str())
    );
    assert_eq!(value(&headers, "b3"), None, "b3 was not asked for");
}

#[wasm_bindgen_test]
fn each_request_gets_fresh_ids_from_the_browser_rng() {
    let ids: Vec<String> = (0..50)
        .map(|_| {
            let headers = pairs(&headers_for(&request(0b1), &who(None, None)).unwrap());
            value(&headers, "traceparent").unwrap()[3..52].to_string()
        })
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
}

#[wasm_bindgen_test]
fn unsampled_app_traceparent_and_app_baggage() {
    let user = who(Some("user_123"), None);
    let unsampled = Request {
        sampled: false,
        ..request(0b1111)
    };
    let headers = pairs(&headers_for(&unsampled, &user).unwrap());
    assert!(value(&headers, "traceparent").unwrap().ends_with("-02"));
    assert_eq!(value(&headers, "x-datadog-sampling-priority"), Some("0"));
    assert_eq!(value(&headers, "x-b3-sampled"), Some("0"));
    assert!(value(&headers, "b3").unwrap().ends_with("-0"));

    // The app set its own traceparent and baggage: only the baggage, merged, app first.
    let kept = Request {
        trace: false,
        app_baggage: Some("tenant=acme, user.id=app"),
        ..request(0b11)
    };
    let headers = pairs(&headers_for(&kept, &user).unwrap());
    assert_eq!(headers.len(), 1, "{headers:?}");
    let baggage: Baggage = value(&headers, "baggage").unwrap().parse().unwrap();
    assert_eq!(baggage.get("user.id").as_deref(), Some("app"));
    assert_eq!(baggage.get("session.id").as_deref(), Some(SESSION));
    assert_eq!(
        value(&headers, "baggage"),
        Some(format!("tenant=acme,user.id=app,session.id={SESSION}").as_str())
    );

    let nothing = Request {
        trace: false,
        baggage: false,
        ..request(0b11)
    };
    assert_eq!(headers_for(&nothing, &user), None);
}
