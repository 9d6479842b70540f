#![no_main]
//! Datadog: `DatadogContext::extract` from arbitrary headers → `inject` → `extract` gives the
//! same context; the `dd` member of `tracestate` and `x-datadog-tags` round-trip on their own.

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use usertrail_propagator::{DatadogContext, DatadogTags, DatadogTracestate};
use usertrail_propagator_fuzz::{Header, pairs};

#[derive(Arbitrary, Debug)]
struct Input {
    headers: Vec<Header>,
    dd_member: String,
    tags: String,
}

fuzz_target!(|input: Input| {
    let headers = pairs(&input.headers);
    if let Ok(Some(dd)) = DatadogContext::extract(&headers[..]) {
        let mut out: Vec<(String, String)> = Vec::new();
        dd.inject(&mut out).expect("an extracted context injects");
        let again = DatadogContext::extract(&out)
            .expect("what we write parses")
            .expect("and is a context");
        assert_eq!(again.trace_id(), dd.trace_id());
        assert_eq!(again.parent_id(), dd.parent_id());
        assert_eq!(again.sampling_priority(), dd.sampling_priority());
        assert_eq!(again.origin(), dd.origin());
    }
    if let Ok(member) = DatadogTracestate::parse(&input.dd_member) {
        let written = member.to_header_value();
        assert_eq!(
            written, input.dd_member,
            "a parsed dd member is written back as received"
        );
        let again = DatadogTracestate::parse(&written).expect("what we write parses");
        assert!(again == member);
        assert_eq!(again.origin(), member.origin());
        let _ = member.tags().count();
    }
    if let Ok(tags) = DatadogTags::parse(&input.tags) {
        let written = tags.to_header_value();
        let again = DatadogTags::parse(&written).expect("what we write parses");
        assert_eq!(again, tags);
        let _ = tags.tid();
    }
});
