#![no_main]
//! `B3Single::parse` → `write_to` → `parse`: the same value.

use libfuzzer_sys::fuzz_target;
use usertrail_propagator::B3Single;

fuzz_target!(|input: &str| {
    let Ok(b3) = B3Single::parse(input) else {
        return;
    };
    let written = b3.to_header_value();
    assert_eq!(written, b3.to_string());
    let again = B3Single::parse(&written).expect("what we write parses");
    assert_eq!(again, b3);
});
