//! The extract path allocates nothing for well-formed single-line headers without
//! percent-escapes (the design point of `Tracestate` and `Baggage` borrowing their text).
//!
//! Counted with a wrapping global allocator. Only this test binary has it, and it holds a
//! single `#[test]` so that no other test (or the harness reporting one) allocates meanwhile.

use std::alloc::System;

use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use usertrail_propagator::{Identity, Traceparent, extract};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Runs `f` and returns how many allocations it made: the fewest of a few runs, since the
/// counter is process-wide and the test harness's own thread may allocate during one of them
/// (seen: 4 allocations in one run of an allocation-free parse). A path that allocates does so
/// on every run, so the fewest still counts it.
fn allocations<R>(f: impl Fn() -> R) -> (R, usize) {
    let mut fewest: Option<(R, usize)> = None;
    for _ in 0..5 {
        let region = Region::new(GLOBAL);
        let result = f();
        let stats = region.change();
        let count = stats.allocations + stats.reallocations;
        if fewest.as_ref().is_none_or(|(_, least)| count < *least) {
            fewest = Some((result, count));
        }
    }
    fewest.expect("five runs")
}

const HEADERS: [(&str, &str); 3] = [
    (
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ),
    ("tracestate", "dd=s:1;o:rum,congo=t61rcWkgMzE"),
    (
        "baggage",
        "session.id=5afb433c-40c3-4974-a7c2-8d5933cc67f6,user.id=user_123,account.id=account_456",
    ),
];

fn extract_allocates_nothing_for_clean_headers() {
    let (checked, count) = allocations(|| {
        let extracted = extract(&HEADERS[..]);
        let sc = extracted.span_context().unwrap();
        let identity = extracted.identity();
        let ok = extracted.errors().is_empty()
            && sc.is_sampled()
            && sc.origin() == Some("rum")
            && extracted.tracestate().unwrap().get("congo") == Some("t61rcWkgMzE")
            && identity.session_id() == Some("5afb433c-40c3-4974-a7c2-8d5933cc67f6")
            && identity.user_id() == Some("user_123")
            && identity.account_id() == Some("account_456")
            && identity.attributes().count() == 3;
        drop(identity);
        drop(extracted);
        ok
    });
    assert!(checked);
    assert_eq!(count, 0, "extract allocated {count} times");
}

fn extract_allocates_nothing_with_many_baggage_members() {
    let baggage: String = (0..64).map(|i| format!("key{i}=value{i},")).collect();
    let headers = [("baggage", baggage.as_str())];
    let (len, count) = allocations(|| extract(&headers[..]).baggage().len());
    assert_eq!(len, 64);
    assert_eq!(count, 0);
}

fn identity_from_escaped_values_allocates_only_for_them() {
    let headers = [("baggage", "session.id=s1,user.id=jean%20dupont")];
    let (user, count) = allocations(|| {
        let extracted = extract(&headers[..]);
        let identity = Identity::from_baggage(extracted.baggage());
        identity.user_id().map(str::len)
    });
    assert_eq!(user, Some("jean dupont".len()));
    assert_eq!(count, 1, "one String for the decoded user id");
}

fn traceparent_parse_allocates_nothing() {
    let (tp, count) = allocations(|| Traceparent::parse(HEADERS[0].1));
    assert!(tp.is_ok());
    assert_eq!(count, 0);
}

#[test]
fn allocation_counts() {
    traceparent_parse_allocates_nothing();
    extract_allocates_nothing_for_clean_headers();
    extract_allocates_nothing_with_many_baggage_members();
    identity_from_escaped_values_allocates_only_for_them();
}
