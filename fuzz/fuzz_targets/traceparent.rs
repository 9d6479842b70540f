#![no_main]
//! `Traceparent::parse` → `write_to` → `parse`: the same ids and flags, and for version 00 the
//! same value.

use libfuzzer_sys::fuzz_target;
use usertrail_propagator::Traceparent;

fuzz_target!(|input: &str| {
    let Ok(tp) = Traceparent::parse(input) else {
        return;
    };
    let written = tp.to_header_value();
    assert_eq!(written.len(), 55);
    assert_eq!(written, tp.to_string());
    let again = Traceparent::parse(&written).expect("what we write parses");
    assert_eq!(again.trace_id(), tp.trace_id());
    assert_eq!(again.parent_id(), tp.parent_id());
    assert_eq!(again.flags(), tp.flags());
    if tp.version() == 0 {
        assert_eq!(again, tp);
    }
});
