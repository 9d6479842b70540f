//! Inputs shared by the fuzz targets: header lists whose names come mostly from the ones the
//! propagator reads, so the fuzzer spends its time on values.

use libfuzzer_sys::arbitrary::{self, Arbitrary};

/// Every header name the propagator reads, in varied case, plus one it ignores.
pub const NAMES: [&str; 16] = [
    "traceparent",
    "tracestate",
    "baggage",
    "x-datadog-trace-id",
    "x-datadog-parent-id",
    "x-datadog-sampling-priority",
    "x-datadog-origin",
    "x-datadog-tags",
    "b3",
    "x-b3-traceid",
    "x-b3-spanid",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "x-b3-flags",
    "TraceParent",
    "x-other",
];

/// One header line.
#[derive(Arbitrary, Debug)]
pub struct Header {
    name: u8,
    /// A name of the fuzzer's own, used when `name` is past the known ones.
    other_name: String,
    value: String,
}

impl Header {
    /// The header name: a known one most of the time.
    pub fn name(&self) -> &str {
        NAMES
            .get(usize::from(self.name) % 20)
            .copied()
            .unwrap_or(&self.other_name)
    }
}

/// A header list as `extract` takes it.
pub fn pairs(headers: &[Header]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|h| (h.name(), h.value.as_str()))
        .collect()
}
