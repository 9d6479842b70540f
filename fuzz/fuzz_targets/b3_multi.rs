#![no_main]
//! `B3Multi::extract` from arbitrary headers → `inject` → `extract`: the same value.

use libfuzzer_sys::fuzz_target;
use usertrail_propagator::B3Multi;
use usertrail_propagator_fuzz::{Header, pairs};

fuzz_target!(|headers: Vec<Header>| {
    let headers = pairs(&headers);
    let Ok(Some(b3)) = B3Multi::extract(&headers[..]) else {
        return;
    };
    let mut out: Vec<(String, String)> = Vec::new();
    b3.inject(&mut out).expect("an extracted context injects");
    let again = B3Multi::extract(&out)
        .expect("what we write parses")
        .expect("and is a context");
    assert_eq!(again, b3);
});
