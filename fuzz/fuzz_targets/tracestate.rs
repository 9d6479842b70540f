#![no_main]
//! `Tracestate::parse` → `write_to` → `parse`: equal values, canonical text stable, every
//! member readable, and `insert` leaving its key once.

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
    for (key, _) in ts.iter() {
        // A repeated key is kept as received; `get` reads its left-most value.
        let first = ts.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
        assert_eq!(ts.get(key), first);
    }
    // Mutation keeps it valid and leaves the key once (Level 2 §3.5).
    let mut changed = ts.clone().into_owned();
    if changed.insert("fuzz", "1").is_ok() {
        assert_eq!(changed.get("fuzz"), Some("1"));
        assert_eq!(changed.iter().filter(|(k, _)| *k == "fuzz").count(), 1);
        assert!(Tracestate::parse(&changed.to_header_value()).is_ok());
    }
});
