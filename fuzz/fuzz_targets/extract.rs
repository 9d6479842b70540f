#![no_main]
//! `extract` over an arbitrary header list never panics; what it finds, injected with every
//! format and extracted again, gives the same trace, span, sampling decision and baggage.

use libfuzzer_sys::fuzz_target;
use usertrail_propagator::{PropagatorType, extract, extract_with, inject};
use usertrail_propagator_fuzz::{Header, pairs};

fuzz_target!(|headers: Vec<Header>| {
    let headers = pairs(&headers);
    let extracted = extract(&headers[..]);
    assert!(extracted.errors().len() <= 17);
    for error in extracted.errors() {
        let _ = error.to_string();
    }
    let identity = extracted.identity();
    let _ = identity.attributes().count();
    let cx = extracted.context();
    for propagator in PropagatorType::EXTRACT_ORDER {
        let mut out: Vec<(String, String)> = Vec::new();
        // Only a caller-supplied origin can be refused, and an extracted one is valid.
        inject(cx, &[propagator], &mut out).expect("an extracted context injects");
        let again = extract_with(&out, &[propagator]);
        assert!(
            again.errors().is_empty(),
            "{:?} from {out:?}",
            again.errors()
        );
        assert_eq!(again.baggage(), extracted.baggage());
        match (extracted.span_context(), again.span_context()) {
            (None, None) => {}
            (Some(sc), Some(back)) => {
                // Datadog's headers carry the high 64 bits in `_dd.p.tid`: all four keep 128.
                assert_eq!(back.trace_id(), sc.trace_id());
                assert_eq!(back.span_id(), sc.span_id());
                assert_eq!(back.is_sampled(), sc.is_sampled(), "{propagator}: {out:?}");
            }
            (sc, back) => panic!("{propagator}: {sc:?} came back as {back:?} via {out:?}"),
        }
    }
});
