#![no_main]
//! Strict `Baggage::parse` → `write_to` → `parse`: equal values, `encoded_len` exact, `get`
//! agreeing with `iter` (last value of a key), and the identity readable.

use libfuzzer_sys::fuzz_target;
use usertrail_propagator::{Baggage, Identity};

fuzz_target!(|input: &str| {
    let Ok(baggage) = Baggage::parse(input) else {
        return;
    };
    check(&baggage);
});

fn check(baggage: &Baggage<'_>) {
    let written = baggage.to_header_value();
    assert_eq!(written.len(), baggage.encoded_len());
    assert_eq!(written, baggage.to_string());
    let again = Baggage::parse(&written).expect("what we write parses");
    assert_eq!(&again, baggage);
    assert_eq!(again.to_header_value(), written);
    assert_eq!(baggage.iter().count(), baggage.len());
    for member in baggage.iter().take(16) {
        let last = baggage.iter().filter(|m| m.key() == member.key()).last();
        assert_eq!(baggage.get(member.key()), last.map(|m| m.value()));
        assert!(baggage.contains_key(member.key()));
        // Decoded property values, like member values, are what `set_with_properties` encodes.
        let properties: Vec<_> = member.properties().collect();
        assert_eq!(properties.len(), member.raw_properties().count());
        let as_str: Vec<(&str, Option<&str>)> =
            properties.iter().map(|(k, v)| (*k, v.as_deref())).collect();
        let mut rebuilt = Baggage::new();
        if rebuilt
            .set_with_properties(member.key(), &member.value(), &as_str)
            .is_ok()
        {
            let again = rebuilt.iter().next().expect("one member");
            assert!(again.properties().eq(properties.iter().cloned()));
        }
    }
    let identity = Identity::from_baggage(baggage);
    for (key, value) in identity.baggage_members() {
        assert_eq!(baggage.get(key).as_deref(), Some(value));
    }
    // Setting a value keeps it valid and readable.
    let mut changed = baggage.clone().into_owned();
    if changed.set("user.id", "fuzz %,;\u{e9}").is_ok() {
        assert_eq!(changed.get("user.id").as_deref(), Some("fuzz %,;\u{e9}"));
        assert_eq!(
            Baggage::parse(&changed.to_header_value()).as_ref(),
            Ok(&changed)
        );
    }
}
