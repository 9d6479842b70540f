#![no_main]
//! `Baggage::parse_lossy` on anything: what it keeps is a valid baggage within the limits,
//! which the strict parser reads back equal; strict and lossy agree when nothing is dropped.

use libfuzzer_sys::fuzz_target;
use usertrail_propagator::{BAGGAGE_MAX_BYTES, BAGGAGE_MAX_MEMBERS, Baggage};

fuzz_target!(|input: &str| {
    let mut dropped = 0usize;
    let lossy = Baggage::parse_lossy(input, |d| {
        assert!(d.member() >= 1 && d.count() >= 1);
        dropped += d.count();
    });
    assert!(lossy.len() <= BAGGAGE_MAX_MEMBERS);
    assert!(lossy.encoded_len() <= BAGGAGE_MAX_BYTES);
    let written = lossy.to_header_value();
    assert_eq!(written.len(), lossy.encoded_len());
    let again = Baggage::parse(&written).expect("what lossy keeps is valid");
    assert_eq!(again, lossy);
    for member in lossy.iter().take(16) {
        let last = lossy.iter().filter(|m| m.key() == member.key()).last();
        assert_eq!(lossy.get(member.key()), last.map(|m| m.value()));
    }
    match Baggage::parse(input) {
        Ok(strict) => {
            assert_eq!(dropped, 0);
            assert_eq!(strict, lossy);
        }
        Err(_) => assert!(dropped > 0),
    }
});
