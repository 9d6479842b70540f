#![no_main]
//! `Tracestate::parse` → `write_to` → `parse`: equal values, canonical text stable, and every
//! member readable.

use libfuzzer_sys::fuzz_target;
use usertrail_propagator::Tracestate;

fuzz_target!(|input: &str| {
    let Ok(ts) = Tracestate::parse(input) else {
        return;
    };
    let written = ts.to_header_value();
    assert_eq!(written, ts.to_string());
    let again = Tracestate::parse(&written).expect("what we write parses");
    assert_eq!(again, ts);
    assert_eq!(again.to_header_value(), written);
    assert_eq!(ts.iter().count(), ts.len());
    for (key, value) in ts.iter() {
        assert_eq!(ts.get(key), Some(value));
    }
    // Mutation keeps it valid.
    let mut changed = ts.clone().into_owned();
    if changed.insert("fuzz", "1").is_ok() {
        assert_eq!(changed.get("fuzz"), Some("1"));
        assert!(Tracestate::parse(&changed.to_header_value()).is_ok());
    }
});
